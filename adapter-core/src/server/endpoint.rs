//! Endpoints: what serves a path, with its handler, interceptors and options.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use std::borrow::Cow;

use bytes::Bytes;
use futures_core::Stream;
use http::header::AsHeaderName;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use sockjs_proto::AllowedOrigins;
use ws_proto::{Message, OverflowStrategy};

use super::session::{Attributes, CloseStatus, Session, SessionSender};

pub(crate) type HandlerFn =
    Arc<dyn Fn(Session) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Who sent a request: see [`SockJsEndpoint::principal`].
pub(crate) type PrincipalFn = Arc<dyn Fn(&HandshakeRequest) -> Option<String> + Send + Sync>;

/// The Spring-style way to handle sessions: one call per event.
///
/// Pass it to [`SockJsEndpoint::handler`] or [`WebSocketEndpoint::handler`].
/// Events of one session come in order, one at a time (the next
/// `on_message` waits for the previous one to finish); sessions run
/// concurrently.
pub trait Handler: Send + Sync + 'static {
    /// The session opened.
    fn on_open(&self, session: &SessionSender) -> impl Future<Output = ()> + Send {
        let _ = session;
        async {}
    }

    /// The client sent a message.
    fn on_message(
        &self,
        session: &SessionSender,
        message: Message,
    ) -> impl Future<Output = ()> + Send;

    /// The session closed.
    fn on_close(
        &self,
        session: &SessionSender,
        status: &CloseStatus,
    ) -> impl Future<Output = ()> + Send {
        let _ = (session, status);
        async {}
    }
}

fn handler_fn<F, Fut>(f: F) -> HandlerFn
where
    F: Fn(Session) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |session| Box::pin(f(session)))
}

fn from_handler<H: Handler>(handler: H) -> HandlerFn {
    let handler = Arc::new(handler);
    handler_fn(move |mut session: Session| {
        let handler = Arc::clone(&handler);
        async move {
            let sender = session.sender();
            handler.on_open(&sender).await;
            while let Some(message) =
                std::future::poll_fn(|cx| Pin::new(&mut session).poll_next(cx)).await
            {
                handler.on_message(&sender, message).await;
            }
            let status = session
                .close_status()
                .unwrap_or_else(|| CloseStatus::new(ws_proto::CloseCode::ABNORMAL, ""));
            handler.on_close(&sender, &status).await;
        }
    })
}

/// The request that opens a session, as handshake interceptors see it
/// (and as the principal resolver sees every request of an endpoint): the
/// `http` crate's method, URI and headers, and who sent it.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) client_ip: IpAddr,
    pub(crate) principal: Option<String>,
}

impl HandshakeRequest {
    /// The method (`GET` for WebSocket, `POST` for most SockJS transports).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The query, if any (not decoded).
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The value of the query parameter `name`, decoded as HTML forms and
    /// sockjs-node decode it (see `http_proto::query`: `+` is a space,
    /// `%XX` a byte, a bad escape stays as it is).
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        http_proto::query::param(self.query()?, name)
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name` (case-insensitive), if it is
    /// UTF-8.
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        http_proto::headers::str_value(&self.headers, name)
    }

    /// The value of the cookie `name` in the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        http_proto::headers::cookie(&self.headers, name)
    }

    /// The peer's address (a proxy's, behind one).
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The client's IP address: the peer's, or the one a trusted proxy
    /// forwarded (see
    /// [`ServerBuilder::trusted_proxies`](super::ServerBuilder::trusted_proxies)).
    pub fn client_ip(&self) -> IpAddr {
        self.client_ip
    }

    /// The authenticated user who sent the request, as the endpoint's
    /// principal resolver found it (`None` without a resolver).
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }
}

/// An interceptor's refusal: the HTTP response the client gets instead of a
/// session (its body in plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub(crate) status: StatusCode,
    /// Boxed: an interceptor's `Err` stays small (a refusal is rare).
    pub(crate) headers: Box<HeaderMap>,
    pub(crate) body: String,
}

impl Rejection {
    /// A refusal with this status (e.g. 401, 403) and its reason phrase as
    /// the body.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: Box::default(),
            body: status.canonical_reason().unwrap_or_default().to_owned(),
        }
    }

    /// Replaces the (text/plain) body.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// Adds a header (e.g. `WWW-Authenticate`). `Content-Length` and
    /// `Transfer-Encoding` are the HTTP layer's: a refusal that carries
    /// either is answered with a bare 500 instead.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response to write: the headers, `Content-Type: text/plain;
    /// charset=UTF-8` and the body.
    pub(crate) fn to_response(&self) -> http::Response<Bytes> {
        let mut res = http::Response::new(Bytes::from(self.body.clone()));
        *res.status_mut() = self.status;
        let headers = res.headers_mut();
        headers.clone_from(&*self.headers);
        headers.append(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        res
    }
}

/// How a handshake ended, for [`HandshakeInterceptor::after_handshake`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeOutcome {
    /// A session opened with this id.
    Opened(u64),
    /// The request was answered with this status and no session.
    Refused(StatusCode),
}

/// Runs around the request that opens a session (Spring's
/// `HandshakeInterceptor`): before, to refuse it or copy request data
/// (headers, cookies, query, remote address) into the session's
/// [`Attributes`]; after, to observe the outcome.
///
/// A closure `Fn(&HandshakeRequest, &mut Attributes) -> Result<(), Rejection>`
/// is an interceptor with only the `before` part.
pub trait HandshakeInterceptor: Send + Sync + 'static {
    /// Before the handshake: `Err` refuses it with that response.
    fn before_handshake(
        &self,
        request: &HandshakeRequest,
        attributes: &mut Attributes,
    ) -> Result<(), Rejection>;

    /// After the handshake (also after a refusal by a later interceptor or
    /// by the protocol).
    fn after_handshake(&self, request: &HandshakeRequest, outcome: HandshakeOutcome) {
        let _ = (request, outcome);
    }
}

impl<F> HandshakeInterceptor for F
where
    F: Fn(&HandshakeRequest, &mut Attributes) -> Result<(), Rejection> + Send + Sync + 'static,
{
    fn before_handshake(
        &self,
        request: &HandshakeRequest,
        attributes: &mut Attributes,
    ) -> Result<(), Rejection> {
        self(request, attributes)
    }
}

/// Runs the `before` parts in order; the first refusal wins.
pub(crate) fn run_before(
    interceptors: &[Arc<dyn HandshakeInterceptor>],
    request: &HandshakeRequest,
) -> Result<Attributes, Rejection> {
    let mut attributes = Attributes::default();
    for interceptor in interceptors {
        interceptor.before_handshake(request, &mut attributes)?;
    }
    Ok(attributes)
}

pub(crate) fn run_after(
    interceptors: &[Arc<dyn HandshakeInterceptor>],
    request: &HandshakeRequest,
    outcome: HandshakeOutcome,
) {
    for interceptor in interceptors {
        interceptor.after_handshake(request, outcome);
    }
}

/// Options both endpoint kinds share.
#[derive(Clone)]
pub(crate) struct Common {
    pub(crate) handler: HandlerFn,
    pub(crate) principal: Option<PrincipalFn>,
    pub(crate) interceptors: Vec<Arc<dyn HandshakeInterceptor>>,
    pub(crate) inbox_limit: usize,
    pub(crate) send_time_limit: Duration,
}

impl Common {
    fn new(handler: HandlerFn) -> Self {
        Self {
            handler,
            principal: None,
            interceptors: Vec::new(),
            inbox_limit: 1024 * 1024,
            send_time_limit: Duration::from_secs(10),
        }
    }
}

macro_rules! common_options {
    () => {
        /// Adds a handshake interceptor; they run in the order added.
        #[must_use]
        pub fn interceptor(mut self, interceptor: impl HandshakeInterceptor) -> Self {
            self.common.interceptors.push(Arc::new(interceptor));
            self
        }

        /// How to tell who sent a request (the authenticated user: a name
        /// or any stable id), from its headers, cookies, query or address:
        /// Spring's `request.getPrincipal()`. It runs for every request of
        /// the endpoint, before the interceptors, which see its answer in
        /// [`HandshakeRequest::principal`]; sessions keep the answer of the
        /// request that opened them (`Session::principal`). On a SockJS
        /// endpoint, a session opened by a principal then answers only
        /// requests of the same principal (other sessions: only requests
        /// from the same IP address; see
        /// [`Config::bind_sessions_to_client`](sockjs_proto::Config::bind_sessions_to_client)).
        #[must_use]
        pub fn principal<F>(mut self, resolver: F) -> Self
        where
            F: Fn(&HandshakeRequest) -> Option<String> + Send + Sync + 'static,
        {
            self.common.principal = Some(Arc::new(resolver));
            self
        }

        /// The most bytes of received SockJS messages that wait for the
        /// handler to read them before the client's sends are held back
        /// (1 MiB by default). A WebSocket decodes the next message only
        /// when the handler asks for it, so this does not apply there.
        #[must_use]
        pub fn inbox_limit(mut self, bytes: usize) -> Self {
            self.common.inbox_limit = bytes.max(1);
            self
        }

        /// How long one write to the client may take (Spring's
        /// `sendTimeLimit`, 10 s by default): a client that does not read
        /// for that long while the server has data for it loses its
        /// connection, and the session closes.
        #[must_use]
        pub fn send_time_limit(mut self, limit: Duration) -> Self {
            self.common.send_time_limit = limit;
            self
        }
    };
}

/// A SockJS endpoint: a handler and the endpoint's options.
///
/// ```
/// use adapter_core::server::SockJsEndpoint;
/// use adapter_core::sockjs_proto::Config;
/// use futures_util::StreamExt;
///
/// let echo = SockJsEndpoint::new(|mut session| async move {
///     while let Some(message) = session.next().await {
///         if session.send(message).is_err() {
///             break;
///         }
///     }
/// })
/// .config(Config::default().heartbeat_time(std::time::Duration::from_secs(10)));
/// ```
#[derive(Clone)]
pub struct SockJsEndpoint {
    pub(crate) config: sockjs_proto::Config,
    pub(crate) handler_wait: Duration,
    pub(crate) common: Common,
}

impl SockJsEndpoint {
    /// An endpoint whose sessions are each handed to `handler`, in a task
    /// of their own.
    pub fn new<F, Fut>(handler: F) -> Self
    where
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            config: sockjs_proto::Config::default(),
            handler_wait: DEFAULT_HANDLER_WAIT,
            common: Common::new(handler_fn(handler)),
        }
    }

    /// An endpoint with a [`Handler`].
    pub fn handler<H: Handler>(handler: H) -> Self {
        Self {
            config: sockjs_proto::Config::default(),
            handler_wait: DEFAULT_HANDLER_WAIT,
            common: Common::new(from_handler(handler)),
        }
    }

    /// The SockJS options (every one by Spring's name and default; allowed
    /// origins, the send buffer's limit and overflow strategy among them).
    #[must_use]
    pub fn config(mut self, config: sockjs_proto::Config) -> Self {
        self.config = config;
        self
    }

    /// How long the answer to a client's send (`xhr_send`, `jsonp_send`)
    /// waits for the handler to take the messages it carried and come back
    /// for more (10 s by default; zero answers at once). So a reply the
    /// handler sends at once is in the session before the client's next
    /// poll, as when Spring runs the handler inside the request, and a
    /// client cannot send faster than its handler reads. A handler that
    /// stops reading its session (rather than dropping it) makes each send
    /// wait this long.
    #[must_use]
    pub fn handler_wait(mut self, wait: Duration) -> Self {
        self.handler_wait = wait;
        self
    }

    common_options!();
}

/// The default of [`SockJsEndpoint::handler_wait`].
const DEFAULT_HANDLER_WAIT: Duration = Duration::from_secs(10);

/// A plain WebSocket endpoint: a handler and the endpoint's options.
#[derive(Clone)]
pub struct WebSocketEndpoint {
    pub(crate) config: ws_proto::Config,
    pub(crate) protocols: Vec<String>,
    pub(crate) allowed_origins: AllowedOrigins,
    pub(crate) send_buffer_size_limit: usize,
    pub(crate) overflow_strategy: OverflowStrategy,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) pong_timeout: Option<Duration>,
    pub(crate) common: Common,
}

impl WebSocketEndpoint {
    /// An endpoint whose sessions are each handed to `handler`, in a task
    /// of their own.
    pub fn new<F, Fut>(handler: F) -> Self
    where
        F: Fn(Session) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::with(handler_fn(handler))
    }

    /// An endpoint with a [`Handler`].
    pub fn handler<H: Handler>(handler: H) -> Self {
        Self::with(from_handler(handler))
    }

    fn with(handler: HandlerFn) -> Self {
        Self {
            config: ws_proto::Config::default(),
            protocols: Vec::new(),
            allowed_origins: AllowedOrigins::SameOrigin,
            send_buffer_size_limit: 512 * 1024,
            overflow_strategy: OverflowStrategy::Terminate,
            ping_interval: None,
            pong_timeout: None,
            common: Common::new(handler),
        }
    }

    /// The WebSocket limits, behaviour and timers (frame and message sizes,
    /// the close timeout...). [`ping_interval`](Self::ping_interval) and
    /// [`pong_timeout`](Self::pong_timeout), set before or after, fill it.
    #[must_use]
    pub fn config(mut self, config: ws_proto::Config) -> Self {
        self.config = config;
        self
    }

    /// The configuration of each connection: [`config`](Self::config)
    /// filled with the endpoint's timer options.
    pub(crate) fn connection_config(&self) -> ws_proto::Config {
        let mut config = self.config.clone();
        if let Some(interval) = self.ping_interval {
            config.ping_interval = Some(interval);
        }
        if let Some(timeout) = self.pong_timeout {
            config.pong_timeout = timeout;
        }
        config
    }

    /// Subprotocols the endpoint speaks, in order of preference; the first
    /// one the client offers is selected.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Which `Origin`s may connect (same origin by default; requests with
    /// no `Origin`, from non-browser clients, are always allowed).
    #[must_use]
    pub fn allowed_origins(mut self, origins: AllowedOrigins) -> Self {
        self.allowed_origins = origins;
        self
    }

    /// The most bytes of messages waiting to be written to the client
    /// (512 KiB by default); see [`overflow_strategy`](Self::overflow_strategy).
    #[must_use]
    pub fn send_buffer_size_limit(mut self, bytes: usize) -> Self {
        self.send_buffer_size_limit = bytes;
        self
    }

    /// What a send over the send buffer's limit does: close the session
    /// with 4500 (the default) or drop the oldest waiting messages.
    #[must_use]
    pub fn overflow_strategy(mut self, strategy: OverflowStrategy) -> Self {
        self.overflow_strategy = strategy;
        self
    }

    /// Dead-peer detection: when nothing was received for `interval`, send
    /// a ping; when nothing (a pong or any data) comes back within the pong
    /// timeout, drop the connection, and the session closes with 1006 "No
    /// answer to ping". Any byte received counts, so a slow but busy
    /// transfer is never cut, and while the handler is behind (the client's
    /// bytes wait unread) no ping goes out. Off by default. Sets
    /// [`Config::ping_interval`](ws_proto::Config::ping_interval).
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = Some(interval);
        self
    }

    /// How long to wait for an answer to a liveness ping (10 s by default).
    /// Sets [`Config::pong_timeout`](ws_proto::Config::pong_timeout).
    #[must_use]
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = Some(timeout);
        self
    }

    common_options!();
}
