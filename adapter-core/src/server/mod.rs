//! A server that mounts WebSocket and SockJS endpoints on one listener,
//! over any [`Runtime`](crate::Runtime). The adapters name it for their runtime
//! (`sockway::server::Server`, or `sockway::tokio::server::Server`, is
//! `Server<Tokio>`); with tokio, through the `sockway` facade:
//!
//! ```ignore
//! use sockway::server::{Server, SockJsEndpoint, WebSocketEndpoint};
//! use futures_util::StreamExt;
//!
//! # async fn run() -> std::io::Result<()> {
//! let echo = |mut session: sockway::server::Session| async move {
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
//!
//! # Handshake interceptors
//!
//! An endpoint's interceptors ([`SockJsEndpoint::before_handshake`] for a
//! closure, [`SockJsEndpoint::interceptor`] for any
//! [`HandshakeInterceptor`]) run on the requests that open sessions: a
//! WebSocket handshake, and a SockJS transport request for a new session
//! (`xhr`, `xhr_streaming`, `eventsource`, `htmlfile`, `jsonp`, `websocket`,
//! the raw `/websocket`). Never on a CORS preflight (browsers send no
//! cookies with it), on the requests of a session that exists (its polls
//! and sends), on the greeting or the iframe page; on `/info` only with
//! [`SockJsEndpoint::intercept_info`]. What they see of the request
//! ([`HandshakeRequest`]): its method, URI, headers and cookies, the query
//! parameters decoded as forms decode them
//! ([`HandshakeRequest::query_param`]), the client's address, the
//! principal and the HTTP stack's extensions.
//!
//! # Refusals and what sockjs-client sees
//!
//! A refusal ([`Rejection`]) is the answer the client gets. On the paths of
//! a SockJS endpoint whose answers carry CORS headers (`/info`, `xhr`,
//! `xhr_streaming`, `xhr_send`, `eventsource`), it carries the same ones
//! (`Access-Control-Allow-Origin` with the page's origin,
//! `Access-Control-Allow-Credentials: true`, `Vary: Origin`), so that a
//! page on an allowed origin can read its status instead of a network
//! error; so do the endpoint's own refusals there (404 for an unknown
//! session's send, 405, 503). A page on an origin the endpoint does not
//! allow is granted nothing: its requests get a 403 (or the interceptor's
//! refusal) with `Vary: Origin` only. A WebSocket handshake's refusal
//! carries no CORS headers: browsers never show a page why a handshake
//! failed.
//!
//! sockjs-client 1.6.1 passes no HTTP status to the page. What its `close`
//! event says (read from its source, and checked in Node on every
//! transport by `tests/interop`), with no `error` event before it:
//!
//! | refused | `close` event |
//! | --- | --- |
//! | each transport (`/info` answered) | `2000` `"All transports failed"`, `wasClean` false: every transport it has was tried, each refused in turn (websocket: a failed handshake; xhr-streaming, xhr-polling: a status other than 200; eventsource: a browser's `EventSource` fails at once, Node's `eventsource` package retries until the transport's timeout) |
//! | `/info` ([`intercept_info`](SockJsEndpoint::intercept_info)) | `1002` `"Cannot connect to server"`, `wasClean` false, at once: no transport is tried |
//!
//! Both are also what a network failure gives, so a page that must tell
//! "not logged in" from "server down" asks for the status itself: with
//! `intercept_info`, `fetch(url + "/info", { credentials: "include" })`
//! reads the 401 (or 200) the interceptors give; without it `/info` always
//! answers 200, and only a request that would open a session (a `POST` to
//! `url + "/000/<id>/xhr"`) shows the refusal. Behind an axum or hyper
//! stack, a middleware that refuses `/info` does so before the endpoint,
//! with its own headers.

use std::future::{poll_fn, Future};
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
use crate::signal::StopSignals;
use crate::sync::{Connections, Stop};
use crate::tls::TlsAcceptor;

mod conn;
mod endpoint;
mod mount;
mod wake;

pub use endpoint::{Handler, HandshakeInterceptor, SockJsEndpoint, WebSocketEndpoint};
pub use mount::Mounted;
pub use server_proto::{
    Attributes, CloseStatus, Delivery, Group, HandshakeOutcome, HandshakeRequest, Rejection, Reply,
    ResponseStream, SendError, Session, SessionSender, SessionTransport, Upgrade,
};
pub use sockjs_proto::AllowedOrigins;
pub use ws_proto::OverflowStrategy;

use endpoint::App;

/// The target of the server's own events (the listener, connections);
/// server-proto logs requests, refusals and sessions under it and its
/// children `sockway::server::sockjs` and `sockway::server::websocket`.
pub(crate) const LOG_TARGET: &str = "sockway::server";

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
    /// [`shutdown_on_signals`](Self::shutdown_on_signals).
    signals: bool,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Default for ServerBuilder<R> {
    fn default() -> Self {
        Self {
            config: ServerConfig::new(ServerOptions::default()),
            apps: Vec::new(),
            tls: None,
            signals: false,
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

    /// Shuts the server down gracefully on SIGINT (Ctrl-C) or SIGTERM
    /// (what `kill`, systemd and container runtimes send), on any runtime:
    /// [`serve`](Server::serve) then stops accepting, closes every session
    /// with 1001 (as [`ServerHandle::shutdown`] does) and returns `Ok` once
    /// the connections are done or the
    /// [`shutdown_timeout`](Self::shutdown_timeout) passed. A second signal
    /// during the shutdown gives up on it: `serve` returns at once with an
    /// [`io::ErrorKind::Interrupted`] error, the connections left to the
    /// end of the process.
    ///
    /// The signals are caught from [`bind`](Self::bind) (or
    /// [`listener`](Self::listener)) on, so a "listening on" line printed
    /// after it cannot race them; see [`StopSignals`]
    /// (once `serve` returns they stay caught and are ignored). Not used by
    /// [`mounted`](Self::mounted) endpoints, whose HTTP server stops them.
    pub fn shutdown_on_signals(mut self) -> Self {
        self.signals = true;
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

    /// Builds the server on a bound listener: the runtime's
    /// [`Runtime::Listener`](crate::Runtime::Listener), a
    /// `tokio::net::TcpListener` on tokio and an `async_net::TcpListener`
    /// on async-std and smol.
    pub fn listener(mut self, listener: R::Listener) -> Result<Server<R>, BuildError> {
        let tls = self.tls.take();
        let signals = if self.signals {
            Some(StopSignals::new()?)
        } else {
            None
        };
        Ok(Server {
            listener,
            tls,
            signals,
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
    /// [`ServerBuilder::shutdown_on_signals`].
    signals: Option<StopSignals>,
    shared: Arc<Shared>,
}

impl<R: Executor> std::fmt::Debug for Server<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &R::local_addr(&self.listener).ok())
            .field("tls", &self.tls.is_some())
            .field("shutdown_on_signals", &self.signals.is_some())
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

    /// Accepts and serves connections until a [`ServerHandle`] (or, with
    /// [`ServerBuilder::shutdown_on_signals`], a signal) stops it; returns
    /// once the graceful shutdown is over.
    pub async fn serve(mut self) -> io::Result<()> {
        match self.signals.take() {
            None => self.accept_loop().await,
            Some(signals) => {
                let handle = self.handle();
                until_signals(self.accept_loop(), signals, &handle).await
            }
        }
    }

    /// Accepts and serves connections until the server is stopped, then
    /// waits for its shutdown to finish.
    async fn accept_loop(self) -> io::Result<()> {
        let shared = self.shared;
        let connections = Connections::new(shared.server.options().connection_limit());
        R::spawn(run_timer::<R>(Arc::clone(&shared)));
        let tls = self.tls.is_some();
        if let Ok(addr) = R::local_addr(&self.listener) {
            tracing::info!(target: LOG_TARGET, %addr, tls, "listening");
        } else {
            tracing::info!(target: LOG_TARGET, tls, "listening");
        }
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
                    // Two tasks, not one that matches: a task's future is
                    // as big as its biggest state, and a TLS stream's is
                    // more than a kilobyte that a plain connection would
                    // hold for nothing.
                    match tls {
                        None => R::spawn(conn::serve::<R>(io, remote, shared, permit)),
                        Some(tls) => R::spawn(async move {
                            conn::serve_tls::<R>(io, remote, &tls, shared).await;
                            drop(permit);
                        }),
                    }
                }
                Some(Err(e)) => {
                    // Out of descriptors and the like: wait a little rather
                    // than spin.
                    tracing::warn!(target: LOG_TARGET, error = %e, "accept failed");
                    R::sleep_until(R::now() + Duration::from_millis(50)).await;
                }
            }
        }
        drop(self.listener);
        tracing::info!(target: LOG_TARGET, "shutting down");
        shared.server.shutdown(R::now());
        shared.stop.stop();
        shared.finished.wait().await;
        if shared.server.connections() > 0 {
            tracing::warn!(
                target: LOG_TARGET,
                "connections still open at the end of the shutdown timeout"
            );
        }
        Ok(())
    }
}

/// Runs `serving`: the first stop signal starts a graceful shutdown, a
/// second one gives up on it.
async fn until_signals(
    serving: impl Future<Output = io::Result<()>>,
    mut signals: StopSignals,
    handle: &ServerHandle,
) -> io::Result<()> {
    let mut serving = std::pin::pin!(serving);
    let mut reading = true;
    let mut stopping = false;
    poll_fn(|cx| {
        while reading {
            match signals.poll_recv(cx) {
                Poll::Pending => break,
                Poll::Ready(Err(e)) => {
                    tracing::warn!(target: LOG_TARGET, error = %e, "cannot read the stop signals");
                    reading = false;
                }
                Poll::Ready(Ok(signal)) if !stopping => {
                    tracing::info!(target: LOG_TARGET, %signal, "shutting down gracefully");
                    stopping = true;
                    handle.shutdown();
                }
                Poll::Ready(Ok(signal)) => {
                    tracing::warn!(
                        target: LOG_TARGET,
                        %signal,
                        "a second signal: not waiting for the connections"
                    );
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::Interrupted,
                        format!("{signal} during the graceful shutdown"),
                    )));
                }
            }
        }
        serving.as_mut().poll(cx)
    })
    .await
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
