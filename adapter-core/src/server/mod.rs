//! A server that mounts WebSocket and SockJS endpoints on one listener,
//! over any [`Runtime`](crate::Runtime). The adapters name it for their runtime
//! (`adapter_tokio::server::Server` is `Server<Tokio>`); with tokio:
//!
//! ```ignore
//! use adapter_tokio::server::{Server, SockJsEndpoint, WebSocketEndpoint};
//! use futures_util::StreamExt;
//!
//! # async fn run() -> std::io::Result<()> {
//! let echo = |mut session: adapter_tokio::server::Session| async move {
//!     while let Some(message) = session.next().await {
//!         if session.send(message).is_err() {
//!             break;
//!         }
//!     }
//! };
//! let server = Server::builder()
//!     .sockjs("/echo", SockJsEndpoint::new(echo))
//!     .websocket("/ws", WebSocketEndpoint::new(echo))
//!     .bind("127.0.0.1:8081")
//!     .await?;
//! let handle = server.handle();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     handle.shutdown();
//! });
//! server.serve().await
//! # }
//! ```

use std::future::{poll_fn, Future as _};
use std::io;
use std::marker::PhantomData;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rand::SeedableRng as _;
use server_proto::{EndpointId, ServerConfig, ServerOptions};

use crate::runtime::Executor;
use crate::sync::{Connections, Stop};
use crate::tls::TlsAcceptor;

mod conn;
mod endpoint;
mod mount;

pub use endpoint::{Handler, HandshakeInterceptor, SockJsEndpoint, WebSocketEndpoint};
pub use mount::Mounted;
pub use server_proto::{
    Attributes, CloseStatus, Delivery, Group, HandshakeOutcome, HandshakeRequest, Rejection, Reply,
    ResponseStream, SendError, Session, SessionSender, SessionTransport, Upgrade,
};
pub use ws_proto::OverflowStrategy;

use endpoint::App;

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) server: Arc<server_proto::Server>,
    /// The application's part of each endpoint, by [`EndpointId`].
    apps: Vec<App>,
    /// Stops the accept loop.
    stop: Stop,
    /// The server's timer saw the shutdown finish.
    finished: Stop,
    now: fn() -> Instant,
}

impl Shared {
    pub(crate) fn app(&self, endpoint: EndpointId) -> &App {
        &self.apps[endpoint.0]
    }
}

/// The server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Binding the listener failed.
    #[error("cannot listen: {0}")]
    Io(#[from] io::Error),
    /// The endpoints cannot work (a SockJS endpoint's options, two
    /// endpoints at one path).
    #[error(transparent)]
    Server(#[from] server_proto::BuildError),
}

impl From<BuildError> for io::Error {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Io(e) => e,
            other => io::Error::new(io::ErrorKind::InvalidInput, other),
        }
    }
}

/// Builds a [`Server`]: endpoints at paths, and the HTTP options.
#[must_use]
pub struct ServerBuilder<R> {
    config: ServerConfig,
    apps: Vec<App>,
    tls: Option<TlsAcceptor>,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Default for ServerBuilder<R> {
    fn default() -> Self {
        Self {
            config: ServerConfig::new(ServerOptions::default()),
            apps: Vec::new(),
            tls: None,
            runtime: PhantomData,
        }
    }
}

impl<R: Executor> ServerBuilder<R> {
    /// Mounts a SockJS endpoint at `prefix` (e.g. `/echo`): the prefix and
    /// every SockJS URL under it.
    pub fn sockjs(mut self, prefix: &str, endpoint: SockJsEndpoint) -> Self {
        let id = self.config.sockjs(prefix, endpoint.options);
        debug_assert_eq!(id.0, self.apps.len());
        self.apps.push(endpoint.app);
        self
    }

    /// Mounts a plain WebSocket endpoint at exactly `path` (e.g. `/ws`).
    pub fn websocket(mut self, path: &str, endpoint: WebSocketEndpoint) -> Self {
        let id = self.config.websocket(path, endpoint.options);
        debug_assert_eq!(id.0, self.apps.len());
        self.apps.push(endpoint.app);
        self
    }

    /// Serves a static page at exactly `path` (e.g. `/`).
    pub fn page(mut self, path: &str, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.config.page(path, content_type, body);
        self
    }

    /// Limits of request heads and bodies.
    pub fn http_limits(mut self, limits: http_proto::Limits) -> Self {
        let options = std::mem::take(self.config.options_mut());
        *self.config.options_mut() = options.http_limits(limits);
        self
    }

    /// How long a request may take from its first byte to its last (a
    /// client that trickles a head or body slower gets 408 and is
    /// disconnected). Also bounds the writing of whole responses, and,
    /// with [`tls`](Self::tls), each connection's TLS handshake.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        let options = std::mem::take(self.config.options_mut());
        *self.config.options_mut() = options.request_timeout(timeout);
        self
    }

    /// How long a connection may stay idle between requests.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        let options = std::mem::take(self.config.options_mut());
        *self.config.options_mut() = options.keep_alive_timeout(timeout);
        self
    }

    /// The most connections at once; the listener waits (the kernel's
    /// backlog holds new clients) while there are this many.
    pub fn max_connections(mut self, connections: usize) -> Self {
        let options = std::mem::take(self.config.options_mut());
        *self.config.options_mut() = options.max_connections(connections);
        self
    }

    /// How long a graceful shutdown waits for connections to finish.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        let options = std::mem::take(self.config.options_mut());
        *self.config.options_mut() = options.shutdown_timeout(timeout);
        self
    }

    /// The reverse proxies (addresses or CIDR blocks, e.g.
    /// `"10.0.0.0/8".parse()?`) whose `Forwarded` or `X-Forwarded-For`
    /// headers are believed: a request from one of them is taken to come
    /// from the client those headers name (see [`http_proto::client_ip`]),
    /// for [`HandshakeRequest::client_ip`], `Session::client_ip` and the
    /// binding of SockJS sessions to their client. None by default: the
    /// client is the connection's peer, whatever the headers say.
    pub fn trusted_proxies<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<http_proto::IpRange>,
    {
        let options = std::mem::take(self.config.options_mut());
        *self.config.options_mut() = options.trusted_proxies(proxies);
        self
    }

    /// Serves over TLS (feature `tls`): every accepted connection runs the
    /// TLS handshake with `acceptor`'s certificate, then is served as a
    /// plain one is (`https://` and `wss://` URLs). The handshake must end
    /// within the [`request_timeout`](Self::request_timeout) from the
    /// accept (a client that sends no ClientHello is dropped then); a
    /// failed one is logged at debug level and the connection dropped.
    ///
    /// Not used by [`mounted`](Self::mounted) endpoints: there TLS is the
    /// application's HTTP server's.
    pub fn tls(mut self, acceptor: TlsAcceptor) -> Self {
        self.tls = Some(acceptor);
        self
    }

    /// Binds a listener (to the first of `addr`'s addresses that can be
    /// bound) and builds the server.
    pub async fn bind(self, addr: impl ToSocketAddrs) -> Result<Server<R>, BuildError> {
        let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address to bind");
        for addr in addr.to_socket_addrs()? {
            match R::bind(addr).await {
                Ok(listener) => return self.listener(listener),
                Err(e) => last = e,
            }
        }
        Err(BuildError::Io(last))
    }

    /// Builds the server on a bound listener.
    pub fn listener(mut self, listener: R::Listener) -> Result<Server<R>, BuildError> {
        let tls = self.tls.take();
        Ok(Server {
            listener,
            tls,
            shared: self.shared()?,
        })
    }

    /// The sans-IO server and the endpoints' applications, for the tasks
    /// that serve them.
    fn shared(self) -> Result<Arc<Shared>, BuildError> {
        let seed = rand::Rng::random(&mut rand::rngs::StdRng::from_os_rng());
        // The adapter is where the wall clock is read (to date responses).
        #[allow(clippy::disallowed_methods)]
        let date = SystemTime::now();
        let server = server_proto::Server::new(self.config, seed, R::now(), date)?;
        Ok(Arc::new(Shared {
            server,
            apps: self.apps,
            stop: Stop::default(),
            finished: Stop::default(),
            now: R::now,
        }))
    }
}

/// A WebSocket and SockJS server on one listener. Run it with
/// [`serve`](Self::serve); stop it with a [`ServerHandle`].
pub struct Server<R: Executor> {
    listener: R::Listener,
    /// Every connection's TLS, if any.
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
}

impl<R: Executor> std::fmt::Debug for Server<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &R::local_addr(&self.listener).ok())
            .field("tls", &self.tls.is_some())
            .finish_non_exhaustive()
    }
}

/// Stops a running [`Server`]; cloneable.
#[derive(Debug, Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl ServerHandle {
    /// Starts a graceful shutdown: the server stops accepting, closes every
    /// session (`c[1001,"Server shutting down"]` on SockJS, close 1001 on
    /// WebSocket), lets responses in flight finish, and
    /// [`serve`](Server::serve) returns once every connection is done (or
    /// the shutdown timeout passed).
    pub fn shutdown(&self) {
        self.shared.server.shutdown((self.shared.now)());
        self.shared.stop.stop();
    }

    /// Sessions of the SockJS endpoints (open, or closed and not yet
    /// removed).
    pub fn sockjs_sessions(&self) -> usize {
        self.shared.server.sockjs_sessions()
    }

    /// Connections the server carries: on its own listener, every one; when
    /// [`Mounted`] in another HTTP server, the upgraded ones (WebSocket
    /// sessions), which that server no longer tracks.
    pub fn connections(&self) -> usize {
        self.shared.server.connections()
    }
}

impl<R: Executor> Server<R> {
    /// A builder.
    pub fn builder() -> ServerBuilder<R> {
        ServerBuilder::default()
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        R::local_addr(&self.listener)
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Accepts and serves connections until a [`ServerHandle`] stops it.
    pub async fn serve(self) -> io::Result<()> {
        let shared = self.shared;
        let connections = Connections::new(shared.server.options().connection_limit());
        R::spawn(Box::pin(run_timer::<R>(Arc::clone(&shared))));
        tracing::info!(
            addr = ?R::local_addr(&self.listener).ok(),
            tls = self.tls.is_some(),
            "listening"
        );
        loop {
            let permit = {
                let mut acquire = std::pin::pin!(connections.acquire());
                let mut stop = std::pin::pin!(shared.stop.wait());
                let permit = poll_fn(|cx| {
                    if stop.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    acquire.as_mut().poll(cx).map(Some)
                })
                .await;
                match permit {
                    Some(permit) => permit,
                    None => break,
                }
            };
            let accepted = {
                let mut stop = std::pin::pin!(shared.stop.wait());
                let mut accept = std::pin::pin!(R::accept(&self.listener));
                poll_fn(|cx| {
                    if stop.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(None);
                    }
                    accept.as_mut().poll(cx).map(Some)
                })
                .await
            };
            match accepted {
                None => break,
                Some(Ok((io, remote))) => {
                    let shared = Arc::clone(&shared);
                    let tls = self.tls.clone();
                    R::spawn(Box::pin(async move {
                        match tls {
                            None => conn::serve::<R>(io, remote, shared).await,
                            Some(tls) => conn::serve_tls::<R>(io, remote, &tls, shared).await,
                        }
                        drop(permit);
                    }));
                }
                Some(Err(e)) => {
                    // Out of descriptors and the like: wait a little rather
                    // than spin.
                    tracing::warn!(error = %e, "accept failed");
                    R::sleep_until(R::now() + Duration::from_millis(50)).await;
                }
            }
        }
        drop(self.listener);
        tracing::info!("shutting down");
        shared.server.shutdown(R::now());
        shared.stop.stop();
        shared.finished.wait().await;
        if shared.server.connections() > 0 {
            tracing::warn!("connections still open at the end of the shutdown timeout");
        }
        Ok(())
    }
}

/// The server's one timer: sleeps until its deadline (or until woken for
/// an earlier one), handles it, and again, until a shutdown is finished.
async fn run_timer<R: Executor>(shared: Arc<Shared>) {
    let server = &shared.server;
    let mut sleep: Option<(Instant, std::pin::Pin<Box<R::Sleep>>)> = None;
    loop {
        poll_fn(|cx| {
            let Some(at) = server.poll_timeout(Some(cx.waker())) else {
                sleep = None;
                return if server.is_finished(R::now()) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            };
            match &sleep {
                Some((armed, _)) if *armed == at => {}
                _ => sleep = Some((at, Box::pin(R::sleep_until(at)))),
            }
            let (_, timer) = sleep.as_mut().expect("armed above");
            if timer.as_mut().poll(cx).is_ready() || server.is_finished(R::now()) {
                sleep = None;
                return Poll::Ready(());
            }
            Poll::Pending
        })
        .await;
        let now = R::now();
        server.handle_timeout(now);
        if server.is_finished(now) {
            shared.finished.stop();
            return;
        }
    }
}
