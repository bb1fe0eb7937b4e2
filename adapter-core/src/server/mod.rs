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

use std::collections::HashMap;
use std::future::{poll_fn, Future as _};
use std::io;
use std::marker::PhantomData;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;

use crate::runtime::{timeout, Executor};
use crate::sync::{Connections, Stop};

mod conn;
mod endpoint;
mod session;
mod sockjs;
mod websocket;

pub use endpoint::{
    Handler, HandshakeInterceptor, HandshakeOutcome, HandshakeRequest, Rejection, SockJsEndpoint,
    WebSocketEndpoint,
};
pub use session::{Attributes, CloseStatus, SendError, Session, SessionSender, SessionTransport};
pub use ws_proto::OverflowStrategy;

use sockjs::SockJsHub;

/// Options of the HTTP server itself (the endpoints have their own).
///
/// | option | default |
/// | --- | --- |
/// | [`http_limits`](ServerBuilder::http_limits) | `http_proto::Limits::default()`: 16 KiB head, 64 headers, 1 MiB body |
/// | [`request_timeout`](ServerBuilder::request_timeout) | 30 s from a request's first byte to its last |
/// | [`keep_alive_timeout`](ServerBuilder::keep_alive_timeout) | 60 s of idle between requests |
/// | [`max_connections`](ServerBuilder::max_connections) | 25 000 |
/// | [`shutdown_timeout`](ServerBuilder::shutdown_timeout) | 10 s |
/// | [`trusted_proxies`](ServerBuilder::trusted_proxies) | none |
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) limits: http_proto::Limits,
    pub(crate) request_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) trusted_proxies: Vec<http_proto::IpRange>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: http_proto::Limits::default(),
            request_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(60),
            max_connections: 25_000,
            shutdown_timeout: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
        }
    }
}

/// A static page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) content_type: String,
    pub(crate) body: Bytes,
}

/// What every connection task shares.
pub(crate) struct Shared {
    pub(crate) options: Options,
    pub(crate) websockets: HashMap<String, Arc<WebSocketEndpoint>>,
    /// Longest prefix first.
    pub(crate) sockjs: Vec<Arc<SockJsHub>>,
    pub(crate) pages: HashMap<String, Page>,
    pub(crate) stop: Arc<Stop>,
    ids: Arc<AtomicU64>,
}

impl Shared {
    pub(crate) fn sockjs_for(&self, path: &str) -> Option<&Arc<SockJsHub>> {
        self.sockjs.iter().find(|hub| hub.matches(path))
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// The server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Binding the listener failed.
    #[error("cannot listen: {0}")]
    Io(#[from] io::Error),
    /// A SockJS endpoint's options cannot work.
    #[error("SockJS endpoint {prefix}: {error}")]
    Config {
        /// The endpoint's prefix.
        prefix: String,
        /// What is wrong.
        error: sockjs_proto::ConfigError,
    },
    /// Two endpoints are mounted at the same path.
    #[error("two endpoints at {0}")]
    Duplicate(String),
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
    sockjs: Vec<(String, SockJsEndpoint)>,
    websockets: Vec<(String, WebSocketEndpoint)>,
    pages: HashMap<String, Page>,
    options: Options,
    runtime: PhantomData<fn() -> R>,
}

impl<R> Default for ServerBuilder<R> {
    fn default() -> Self {
        Self {
            sockjs: Vec::new(),
            websockets: Vec::new(),
            pages: HashMap::new(),
            options: Options::default(),
            runtime: PhantomData,
        }
    }
}

impl<R: Executor> ServerBuilder<R> {
    /// Mounts a SockJS endpoint at `prefix` (e.g. `/echo`): the prefix and
    /// every SockJS URL under it.
    pub fn sockjs(mut self, prefix: &str, endpoint: SockJsEndpoint) -> Self {
        self.sockjs
            .push((prefix.trim_end_matches('/').to_owned(), endpoint));
        self
    }

    /// Mounts a plain WebSocket endpoint at exactly `path` (e.g. `/ws`).
    pub fn websocket(mut self, path: &str, endpoint: WebSocketEndpoint) -> Self {
        self.websockets.push((path.to_owned(), endpoint));
        self
    }

    /// Serves a static page at exactly `path` (e.g. `/`).
    pub fn page(mut self, path: &str, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.pages.insert(
            path.to_owned(),
            Page {
                content_type: content_type.to_owned(),
                body: body.into(),
            },
        );
        self
    }

    /// Limits of request heads and bodies.
    pub fn http_limits(mut self, limits: http_proto::Limits) -> Self {
        self.options.limits = limits;
        self
    }

    /// How long a request may take from its first byte to its last (a
    /// client that trickles a head or body slower gets 408 and is
    /// disconnected). Also bounds the writing of whole responses.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.options.request_timeout = timeout;
        self
    }

    /// How long a connection may stay idle between requests.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.options.keep_alive_timeout = timeout;
        self
    }

    /// The most connections at once; the listener waits (the kernel's
    /// backlog holds new clients) while there are this many.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.options.max_connections = connections.max(1);
        self
    }

    /// How long a graceful shutdown waits for connections to finish.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.options.shutdown_timeout = timeout;
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
        self.options.trusted_proxies = proxies.into_iter().map(Into::into).collect();
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
    pub fn listener(self, listener: R::Listener) -> Result<Server<R>, BuildError> {
        let ids = Arc::new(AtomicU64::new(1));
        let stop = Arc::new(Stop::default());
        let mut sockjs = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (prefix, endpoint) in self.sockjs {
            if !seen.insert(prefix.clone()) {
                return Err(BuildError::Duplicate(prefix));
            }
            let hub = SockJsHub::new::<R>(&prefix, endpoint, Arc::clone(&ids))
                .map_err(|error| BuildError::Config { prefix, error })?;
            sockjs.push(hub);
        }
        sockjs.sort_by_key(|hub| std::cmp::Reverse(hub.prefix_len()));
        let mut websockets = HashMap::new();
        for (path, endpoint) in self.websockets {
            if websockets
                .insert(path.clone(), Arc::new(endpoint))
                .is_some()
            {
                return Err(BuildError::Duplicate(path));
            }
        }
        Ok(Server {
            listener,
            shared: Arc::new(Shared {
                options: self.options,
                websockets,
                sockjs,
                pages: self.pages,
                stop,
                ids,
            }),
        })
    }
}

/// A WebSocket and SockJS server on one listener. Run it with
/// [`serve`](Self::serve); stop it with a [`ServerHandle`].
pub struct Server<R: Executor> {
    listener: R::Listener,
    shared: Arc<Shared>,
}

impl<R: Executor> std::fmt::Debug for Server<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &R::local_addr(&self.listener).ok())
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
        self.shared.stop.stop();
    }

    /// Sessions of the SockJS endpoints (open, or closed and not yet
    /// removed).
    pub fn sockjs_sessions(&self) -> usize {
        self.shared
            .sockjs
            .iter()
            .map(|hub| hub.session_count())
            .sum()
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
        let connections = Connections::new(shared.options.max_connections);
        for hub in &shared.sockjs {
            R::spawn(Box::pin(
                Arc::clone(hub).run_timer::<R>(Arc::clone(&shared.stop)),
            ));
        }
        tracing::info!(addr = ?R::local_addr(&self.listener).ok(), "listening");
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
                    R::spawn(Box::pin(async move {
                        conn::serve::<R>(io, remote, shared).await;
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
        shared.stop.stop();
        for hub in &shared.sockjs {
            hub.shutdown();
        }
        let drained = timeout::<R, _>(shared.options.shutdown_timeout, connections.drained()).await;
        if drained.is_err() {
            tracing::warn!("connections still open at the end of the shutdown timeout");
        }
        Ok(())
    }
}
