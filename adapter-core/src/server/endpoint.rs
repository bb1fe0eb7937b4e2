//! Endpoints: what serves a path, with its handler, interceptors and options.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use server_proto::{
    Attributes, CloseStatus, HandshakeOutcome, HandshakeRequest, Rejection, Session, SessionSender,
    SockJsOptions, WebSocketOptions,
};
use sockjs_proto::AllowedOrigins;
use ws_proto::{Message, OverflowStrategy};

pub(crate) type HandlerFn =
    Arc<dyn Fn(Session) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

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

/// Runs around the request that opens a session (Spring's
/// `HandshakeInterceptor`): before, to refuse it or copy request data
/// (headers, cookies, query, remote address) into the session's
/// [`Attributes`]; after, to observe the outcome.
///
/// A closure or function `Fn(&HandshakeRequest, &mut Attributes) ->
/// Result<(), Rejection>` is an interceptor with only the `before` part.
/// Give a closure to the endpoint's `before_handshake` (e.g.
/// [`SockJsEndpoint::before_handshake`]), whose bound names its parameter
/// types, so that `|req, attrs| ...` needs no annotations; `interceptor`
/// takes any `impl HandshakeInterceptor` (a type of yours with both parts,
/// a named function), but a closure given to it must spell its parameter
/// types out, since a trait bound tells the compiler nothing of them.
///
/// A refusal (`Err`) is the answer the client gets. On a SockJS endpoint
/// it carries the CORS headers the endpoint's own answer to that request
/// would carry (unless the [`Rejection`] sets `Access-Control-Allow-Origin`
/// itself), so that a page on an allowed origin can read its status; see
/// [the server's module doc](super#refusals-and-what-sockjs-client-sees)
/// for what sockjs-client reports.
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

/// Runs the `after` parts in order.
pub(crate) fn run_after(
    interceptors: &[Arc<dyn HandshakeInterceptor>],
    request: &HandshakeRequest,
    outcome: HandshakeOutcome,
) {
    for interceptor in interceptors {
        interceptor.after_handshake(request, outcome);
    }
}

/// What the server keeps of an endpoint besides its options: the
/// application's handler and interceptors.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) handler: HandlerFn,
    pub(crate) interceptors: Vec<Arc<dyn HandshakeInterceptor>>,
}

/// What `before_handshake` adds: a closure as an interceptor's `before`
/// part.
struct Before<F>(F);

impl<F> HandshakeInterceptor for Before<F>
where
    F: Fn(&HandshakeRequest, &mut Attributes) -> Result<(), Rejection> + Send + Sync + 'static,
{
    fn before_handshake(
        &self,
        request: &HandshakeRequest,
        attributes: &mut Attributes,
    ) -> Result<(), Rejection> {
        (self.0)(request, attributes)
    }
}

macro_rules! common_options {
    ($endpoint:ident) => {
        /// Adds a handshake interceptor (a type of yours with a `before`
        /// and an `after` part, or a named function); they run in the
        /// order added, [`before_handshake`](Self::before_handshake)'s
        /// among them. For a closure, `before_handshake` infers its
        /// parameter types.
        #[must_use]
        pub fn interceptor(mut self, interceptor: impl HandshakeInterceptor) -> Self {
            self.app.interceptors.push(Arc::new(interceptor));
            self
        }

        /// Adds a closure as a handshake interceptor with only the
        /// `before` part (see [`HandshakeInterceptor`]): it copies what it
        /// needs of the request into the session's [`Attributes`], or
        /// refuses the request with a [`Rejection`]. Its parameter types
        /// are inferred. Interceptors run in the order added.
        ///
        /// ```
        #[doc = concat!("use adapter_core::server::{Rejection, ", stringify!($endpoint), "};")]
        /// use adapter_core::http::StatusCode;
        ///
        #[doc = concat!("let endpoint = ", stringify!($endpoint), "::new(|_session| async {})")]
        ///     .before_handshake(|req, attrs| match req.query_param("token") {
        ///         Some(token) if token == "let me in" => {
        ///             attrs.insert("user", "guest");
        ///             Ok(())
        ///         }
        ///         _ => Err(Rejection::new(StatusCode::UNAUTHORIZED)),
        ///     });
        /// ```
        #[must_use]
        pub fn before_handshake<F>(self, before: F) -> Self
        where
            F: Fn(&HandshakeRequest, &mut Attributes) -> Result<(), Rejection>
                + Send
                + Sync
                + 'static,
        {
            self.interceptor(Before(before))
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
        /// [`SockJsConfig::bind_sessions_to_client`](sockjs_proto::SockJsConfig::bind_sessions_to_client)).
        #[must_use]
        pub fn principal<F>(mut self, resolver: F) -> Self
        where
            F: Fn(&HandshakeRequest) -> Option<String> + Send + Sync + 'static,
        {
            self.options = self.options.principal(resolver);
            self
        }

        /// The most bytes of received SockJS messages that wait for the
        /// handler to read them before the client's sends are held back
        /// (1 MiB by default). A WebSocket reads its socket only when the
        /// handler has taken every message, and hands on at most what one
        /// read brought (up to this limit).
        #[must_use]
        pub fn inbox_limit(mut self, bytes: usize) -> Self {
            self.options = self.options.inbox_limit(bytes);
            self
        }

        /// How long one write to the client may take (Spring's
        /// `sendTimeLimit`, 10 s by default): a client that does not read
        /// for that long while the server has data for it loses its
        /// connection, and the session closes.
        #[must_use]
        pub fn send_time_limit(mut self, limit: Duration) -> Self {
            self.options = self.options.send_time_limit(limit);
            self
        }
    };
}

/// A SockJS endpoint: a handler and the endpoint's options.
///
/// ```
/// # use adapter_core as sockway; // the facade's paths
/// use sockway::server::SockJsEndpoint;
/// use sockway::sockjs_proto::SockJsConfig;
/// use futures_util::StreamExt;
///
/// let echo = SockJsEndpoint::new(|mut session| async move {
///     while let Some(message) = session.next().await {
///         if session.send(message).is_err() {
///             break;
///         }
///     }
/// })
/// .config(SockJsConfig::default().heartbeat_time(std::time::Duration::from_secs(10)));
/// ```
#[derive(Clone)]
pub struct SockJsEndpoint {
    pub(crate) options: SockJsOptions,
    pub(crate) app: App,
}

impl SockJsEndpoint {
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
            options: SockJsOptions::default(),
            app: App {
                handler,
                interceptors: Vec::new(),
            },
        }
    }

    /// The SockJS options (every one by Spring's name and default; allowed
    /// origins, the send buffer's limit and overflow strategy among them).
    #[must_use]
    pub fn config(mut self, config: sockjs_proto::SockJsConfig) -> Self {
        self.options = self.options.config(config);
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
        self.options = self.options.handler_wait(wait);
        self
    }

    /// Whether the handshake interceptors' `before` part runs on the
    /// endpoint's `GET /info` too (off by default: as in Spring, they see
    /// only the requests that open sessions, and a security filter in
    /// front, an axum middleware say, guards `/info`). With it, a refusal
    /// stops sockjs-client before it tries any transport (close 1002
    /// "Cannot connect to server" instead of 2000 "All transports failed"
    /// after each transport was refused), and a page can read the status
    /// from `/info`. The `after` part does not run for `/info`, and the
    /// attributes set there are dropped: no session opens. See
    /// [the module doc](super#refusals-and-what-sockjs-client-sees).
    #[must_use]
    pub fn intercept_info(mut self, intercept: bool) -> Self {
        self.options = self.options.intercept_info(intercept);
        self
    }

    common_options!(SockJsEndpoint);
}

/// A plain WebSocket endpoint: a handler and the endpoint's options.
#[derive(Clone)]
pub struct WebSocketEndpoint {
    pub(crate) options: WebSocketOptions,
    pub(crate) app: App,
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
            options: WebSocketOptions::default(),
            app: App {
                handler,
                interceptors: Vec::new(),
            },
        }
    }

    /// The WebSocket limits, behaviour and timers (frame and message sizes,
    /// the close timeout, the liveness pings). [`ping_interval`](Self::ping_interval)
    /// and [`pong_timeout`](Self::pong_timeout) set fields of it: call them
    /// after this.
    #[must_use]
    pub fn config(mut self, config: ws_proto::WebSocketConfig) -> Self {
        self.options = self.options.config(config);
        self
    }

    /// Subprotocols the endpoint speaks, in order of preference; the first
    /// one the client offers is selected.
    #[must_use]
    pub fn protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.options = self.options.protocols(protocols);
        self
    }

    /// Which `Origin`s may connect (same origin by default; requests with
    /// no `Origin`, from non-browser clients, are always allowed).
    #[must_use]
    pub fn allowed_origins(mut self, origins: AllowedOrigins) -> Self {
        self.options = self.options.allowed_origins(origins);
        self
    }

    /// The most bytes of messages waiting to be written to the client
    /// (512 KiB by default); see [`overflow_strategy`](Self::overflow_strategy).
    #[must_use]
    pub fn send_buffer_size_limit(mut self, bytes: usize) -> Self {
        self.options = self.options.send_buffer_size_limit(bytes);
        self
    }

    /// What a send over the send buffer's limit does: close the session
    /// with 4500 (the default) or drop the oldest waiting messages.
    #[must_use]
    pub fn overflow_strategy(mut self, strategy: OverflowStrategy) -> Self {
        self.options = self.options.overflow_strategy(strategy);
        self
    }

    /// Dead-peer detection: when nothing was received for `interval`, send
    /// a ping; when nothing (a pong or any data) comes back within the pong
    /// timeout, drop the connection, and the session closes with 1006 "No
    /// answer to ping". Any byte received counts, so a slow but busy
    /// transfer is never cut, and while the handler is behind (the client's
    /// bytes wait unread) no ping goes out. Off by default. Sets
    /// [`WebSocketConfig::ping_interval`](ws_proto::WebSocketConfig::ping_interval).
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.options.config_mut().ping_interval = Some(interval);
        self
    }

    /// How long to wait for an answer to a liveness ping (10 s by default).
    /// Sets [`WebSocketConfig::pong_timeout`](ws_proto::WebSocketConfig::pong_timeout).
    #[must_use]
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.options.config_mut().pong_timeout = timeout;
        self
    }

    common_options!(WebSocketEndpoint);
}
