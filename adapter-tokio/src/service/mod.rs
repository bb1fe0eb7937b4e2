//! SockJS and WebSocket endpoints as a `tower` service, for axum 0.8 and
//! hyper 1 (feature `hyper`; `axum` adds the client's address from axum's
//! `ConnectInfo`).
//!
//! The same endpoints, handlers, interceptors and options as the server's
//! own listener; the application's HTTP server parses the requests and
//! writes the responses, streaming SockJS transports stream (with the
//! server's backpressure), and upgrades go through `hyper::upgrade::on`.
//!
//! ```
//! # #[cfg(feature = "axum")]
//! # fn app() -> Result<axum::Router, Box<dyn std::error::Error>> {
//! # use adapter_tokio as sockway; // the facade's paths
//! use sockway::server::{SockJsEndpoint, WebSocketEndpoint};
//! use sockway::service::Endpoints;
//! # async fn chat(_: sockway::server::Session) {}
//! # async fn echo(_: sockway::server::Session) {}
//!
//! let chat = Endpoints::sockjs(SockJsEndpoint::new(chat))?;
//! let ws = Endpoints::websocket(WebSocketEndpoint::new(echo))?;
//! let app = axum::Router::new()
//!     .route("/api/health", axum::routing::get(|| async { "ok" }))
//!     .nest_service("/chat", chat)
//!     .route_service("/ws", ws);
//! # Ok(app)
//! # }
//! ```
//!
//! # The client's address
//!
//! Interceptors, sessions and the binding of SockJS sessions to their
//! client see the peer's address from the request's extensions: axum's
//! `ConnectInfo<SocketAddr>` (with the `axum` feature, and
//! `into_make_service_with_connect_info::<SocketAddr>()`), or a plain
//! `SocketAddr` the application's server inserted. Without either it is
//! `0.0.0.0:0`.
//!
//! # Nested paths
//!
//! axum's `nest_service` hands a service the path under its prefix, taking
//! the `/` after the prefix as the separator: `/chat/` and `/chat//` both
//! arrive as `/`, `/chat/info` and `/chat//info` both as `/info`. With the
//! `axum` feature the endpoints read the path the client sent (axum's
//! `OriginalUri`) and route what is really under the prefix, so that
//! `/chat//` is the SockJS 404 it is, not the greeting.
//!
//! # Nagle's algorithm
//!
//! SockJS streams, long polls and WebSocket messages are small writes:
//! turn Nagle's algorithm off on the connections (axum:
//! `listener.tap_io(|tcp| { let _ = tcp.set_nodelay(true); })`; hyper:
//! `set_nodelay(true)` on each accepted stream), or a small write waits for
//! the client's delayed ACK (measured: xhr-streaming echoes held up to
//! 48 ms, at a third of the throughput).
//!
//! # Limits
//!
//! Request bodies are read whole, within the builder's
//! [`http_limits`](crate::server::ServerBuilder::http_limits) body size
//! (413 beyond) and [`request_timeout`](crate::server::ServerBuilder::request_timeout)
//! (408 after); the rest of HTTP (connections, heads, keep-alive) is the
//! HTTP server's, with its own limits.
//!
//! # HTTP/2
//!
//! Over HTTP/2 there is no `Upgrade`: the HTTP transports work, and a
//! WebSocket request is answered as the protocol answers a request that
//! is no upgrade (SockJS clients then fall back to another transport).

use std::convert::Infallible;
use std::future::{poll_fn, Future};
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::task::{Context, Poll};
use std::time::Duration;

use adapter_core::http::header::{HeaderValue, CONTENT_TYPE};
use adapter_core::http::{Request, Response, StatusCode};
use adapter_core::http_proto::is_upgrade;
use adapter_core::server::{
    BuildError, Mounted, Reply, ServerHandle, SockJsEndpoint, WebSocketEndpoint,
};
use adapter_core::Executor as _;
use bytes::{Bytes, BytesMut};

use crate::{Tokio, TokioIo};

/// The target of the service's events, the server's.
const LOG_TARGET: &str = "sockway::server";

mod body;

pub use body::Body;

/// A server's endpoints as one `tower` service (`Clone + Send + Sync`,
/// never failing): every request the router hands it is answered as the
/// server's own listener would answer it. Built from a
/// [`ServerBuilder`](crate::server::ServerBuilder) with
/// [`new`](Self::new), or from one endpoint with [`sockjs`](Self::sockjs)
/// or [`websocket`](Self::websocket).
///
/// The server's timer (SockJS heartbeats, session expiry) runs as a tokio
/// task spawned at the first request. When the last clone is dropped
/// (the HTTP server is gone), the endpoints shut down;
/// [`handle`](Self::handle) shuts them down before (every session closed
/// with 1001), for a graceful stop next to axum's.
#[derive(Clone, Debug)]
pub struct Endpoints {
    mounted: Mounted<Tokio>,
}

impl Endpoints {
    /// Every endpoint of `builder`, matched by the path the service sees:
    /// as the server's own listener matches them when the router passes
    /// the path on as it is (axum's `fallback_service`, plain hyper).
    pub fn new(builder: crate::server::ServerBuilder) -> Result<Self, BuildError> {
        Ok(Self {
            mounted: builder.mounted()?,
        })
    }

    /// One SockJS endpoint at the service's root, for a router that strips
    /// the mount point (axum's `nest_service("/chat", ..)`): the endpoint
    /// then answers `/chat`, `/chat/info`, `/chat/<server>/<session>/...`.
    pub fn sockjs(endpoint: SockJsEndpoint) -> Result<Self, BuildError> {
        Self::new(crate::server::Server::builder().sockjs("/", endpoint))
    }

    /// One WebSocket endpoint that takes every path the router hands it
    /// (axum's `route_service("/ws", ..)`).
    pub fn websocket(endpoint: WebSocketEndpoint) -> Result<Self, BuildError> {
        Self::new(crate::server::Server::builder().websocket("", endpoint))
    }

    /// A handle to shut the endpoints down gracefully.
    pub fn handle(&self) -> ServerHandle {
        self.mounted.handle()
    }

    async fn serve<B>(self, mut req: Request<B>) -> Response<Body>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: std::fmt::Display,
    {
        let on_upgrade = is_upgrade(&req).then(|| hyper::upgrade::on(&mut req));
        let remote = remote_addr(&req);
        #[cfg_attr(not(feature = "axum"), allow(unused_mut))]
        let (mut parts, body) = req.into_parts();
        #[cfg(feature = "axum")]
        restore_nested_path(&mut parts);
        let options = self.mounted.options();
        let body = match read_body(body, options.body_limit(), options.request_limit()).await {
            Ok(body) => body,
            Err((res, reason)) => {
                tracing::debug!(
                    target: LOG_TARGET,
                    status = res.status().as_u16(),
                    method = %parts.method,
                    path = %parts.uri.path(),
                    peer = %remote,
                    reason,
                    "refused"
                );
                return res;
            }
        };
        let req = Request::from_parts(parts, body);
        match self.mounted.handle_request(req, remote).await {
            Reply::Response(res) => res.map(Body::full),
            Reply::Stream(res) => res.map(Body::stream),
            Reply::Upgrade(head, upgrade) => {
                let Some(on_upgrade) = on_upgrade else {
                    tracing::debug!(
                        target: LOG_TARGET,
                        "an upgrade accepted on a request that cannot upgrade"
                    );
                    return plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
                };
                let mounted = self.mounted.clone();
                Tokio::spawn(async move {
                    match on_upgrade.await {
                        Ok(upgraded) => {
                            let io = TokioIo(hyper_util::rt::TokioIo::new(upgraded));
                            mounted.serve_upgraded(io, upgrade).await;
                        }
                        Err(e) => tracing::debug!(target: LOG_TARGET, error = %e, "upgrade failed"),
                    }
                });
                head.map(|()| Body::empty())
            }
            _ => plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
        }
    }
}

impl<B> tower_service::Service<Request<B>> for Endpoints
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.serve(req).await) })
    }
}

/// The peer's address, from what the HTTP server put in the extensions.
fn remote_addr<B>(req: &Request<B>) -> SocketAddr {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return *addr;
    }
    req.extensions()
        .get::<SocketAddr>()
        .copied()
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)))
}

/// Puts back the `/` that axum's `nest_service` took from the path under
/// the prefix (see the module's docs): when the path the client sent ends
/// in `/` and then the path given, that `/` was doubled after the prefix.
/// A request that axum did not strip (no `OriginalUri`, or the same path)
/// is left as it is.
#[cfg(feature = "axum")]
fn restore_nested_path(parts: &mut adapter_core::http::request::Parts) {
    let Some(axum::extract::OriginalUri(original)) = parts.extensions.get() else {
        return;
    };
    let given = parts.uri.path();
    let doubled = original
        .path()
        .strip_suffix(given)
        .is_some_and(|before| before.ends_with('/'));
    if !doubled {
        return;
    }
    let path_and_query = match parts.uri.query() {
        Some(query) => format!("/{given}?{query}"),
        None => format!("/{given}"),
    };
    let Ok(path_and_query) = path_and_query.parse() else {
        return;
    };
    let mut uri = parts.uri.clone().into_parts();
    uri.path_and_query = Some(path_and_query);
    if let Ok(uri) = adapter_core::http::Uri::from_parts(uri) {
        parts.uri = uri;
    }
}

/// A request refused before the endpoints saw it: the answer, and why.
type Refusal = (Response<Body>, &'static str);

/// Reads a request body whole: at most `limit` bytes (413 beyond), within
/// `timeout` (408 after).
async fn read_body<B>(body: B, limit: u64, timeout: Duration) -> Result<Bytes, Refusal>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    let too_large = || {
        let res = plain(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large");
        (res, "request body larger than the limit")
    };
    if body.size_hint().lower() > limit {
        return Err(too_large());
    }
    let mut body = pin!(body);
    let read = async {
        let mut first: Option<Bytes> = None;
        let mut more = BytesMut::new();
        let mut len: u64 = 0;
        while let Some(frame) = poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            let frame = frame.map_err(|e| {
                tracing::debug!(target: LOG_TARGET, error = %e, "request body failed");
                let res = plain(StatusCode::BAD_REQUEST, "Bad Request");
                (res, "the request body could not be read")
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            len += data.len() as u64;
            if len > limit {
                return Err(too_large());
            }
            match &first {
                None => first = Some(data),
                Some(head) => {
                    if more.is_empty() {
                        more.extend_from_slice(head);
                    }
                    more.extend_from_slice(&data);
                }
            }
        }
        Ok(if more.is_empty() {
            first.unwrap_or_default()
        } else {
            more.freeze()
        })
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(read) => read,
        Err(_) => Err((
            plain(StatusCode::REQUEST_TIMEOUT, "Request Timeout"),
            "request body not read within the time limit",
        )),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut res = Response::new(Body::full(Bytes::from_static(text.as_bytes())));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    res
}
