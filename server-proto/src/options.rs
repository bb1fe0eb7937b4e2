//! The options of the server and of its endpoints: what the protocol layer
//! needs to serve them (the application's handlers and interceptors stay
//! with the embedder, which the [`EndpointId`](crate::EndpointId)s link).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use sockjs_proto::AllowedOrigins;
use ws_proto::OverflowStrategy;

use crate::handshake::HandshakeRequest;

/// Who sent a request: see [`SockJsOptions::principal`].
pub type PrincipalFn = Arc<dyn Fn(&HandshakeRequest) -> Option<String> + Send + Sync>;

/// Options of the HTTP server itself (the endpoints have their own).
///
/// | option | default |
/// | --- | --- |
/// | [`http_limits`](Self::http_limits) | `http_proto::Limits::default()`: 16 KiB head, 64 headers, 1 MiB body |
/// | [`request_timeout`](Self::request_timeout) | 30 s from a request's first byte to its last |
/// | [`keep_alive_timeout`](Self::keep_alive_timeout) | 60 s of idle between requests |
/// | [`max_connections`](Self::max_connections) | 25 000 |
/// | [`shutdown_timeout`](Self::shutdown_timeout) | 10 s |
/// | [`trusted_proxies`](Self::trusted_proxies) | none |
/// | [`linger`](Self::linger) | 2 s |
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerOptions {
    pub(crate) limits: http_proto::Limits,
    pub(crate) request_timeout: Duration,
    pub(crate) keep_alive_timeout: Duration,
    pub(crate) max_connections: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) trusted_proxies: Vec<http_proto::IpRange>,
    pub(crate) linger: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            limits: http_proto::Limits::default(),
            request_timeout: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(60),
            max_connections: 25_000,
            shutdown_timeout: Duration::from_secs(10),
            trusted_proxies: Vec::new(),
            linger: Duration::from_secs(2),
        }
    }
}

impl ServerOptions {
    /// Limits of request heads and bodies.
    pub fn http_limits(mut self, limits: http_proto::Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How long a request may take from its first byte to its last (a
    /// client that trickles a head or body slower gets 408 and is
    /// disconnected). Also bounds the writing of whole responses.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long a connection may stay idle between requests.
    pub fn keep_alive_timeout(mut self, timeout: Duration) -> Self {
        self.keep_alive_timeout = timeout;
        self
    }

    /// The most connections at once, for the embedder's accept loop to
    /// honour (the layer counts them: [`Server::connections`](crate::Server::connections)).
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections.max(1);
        self
    }

    /// How long a graceful shutdown waits for connections to finish.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
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
        self.trusted_proxies = proxies.into_iter().map(Into::into).collect();
        self
    }

    /// How long a connection the server closes after an upgrade (SockJS's
    /// websocket transports) keeps reading, after it shut its write side,
    /// for the client's end of file: unread input would turn the close into
    /// a reset that loses the last frames. 2 s by default.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.linger = linger;
        self
    }

    /// [`max_connections`](Self::max_connections).
    pub fn connection_limit(&self) -> usize {
        self.max_connections
    }

    /// [`shutdown_timeout`](Self::shutdown_timeout).
    pub fn shutdown_limit(&self) -> Duration {
        self.shutdown_timeout
    }

    /// The most bytes of a request body ([`http_limits`](Self::http_limits)).
    pub fn body_limit(&self) -> u64 {
        self.limits.max_body_size
    }

    /// [`request_timeout`](Self::request_timeout).
    pub fn request_limit(&self) -> Duration {
        self.request_timeout
    }
}

/// Options both endpoint kinds share.
#[derive(Clone)]
pub(crate) struct Common {
    pub(crate) principal: Option<PrincipalFn>,
    pub(crate) inbox_limit: usize,
    pub(crate) send_time_limit: Duration,
}

impl Default for Common {
    fn default() -> Self {
        Self {
            principal: None,
            inbox_limit: 1024 * 1024,
            send_time_limit: Duration::from_secs(10),
        }
    }
}

macro_rules! common_options {
    () => {
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
        pub fn principal<F>(mut self, resolver: F) -> Self
        where
            F: Fn(&HandshakeRequest) -> Option<String> + Send + Sync + 'static,
        {
            self.common.principal = Some(Arc::new(resolver));
            self
        }

        /// The most bytes of received messages that wait for the
        /// application to read them before the client is held back (1 MiB
        /// by default): a SockJS client's sends wait, a SockJS websocket is
        /// no longer read. A plain WebSocket reads its socket only when the
        /// application has taken every message, and hands on at most what
        /// one read brought (up to this limit).
        pub fn inbox_limit(mut self, bytes: usize) -> Self {
            self.common.inbox_limit = bytes.max(1);
            self
        }

        /// How long one write to the client may take (Spring's
        /// `sendTimeLimit`, 10 s by default): a client that does not read
        /// for that long while the server has data for it loses its
        /// connection, and the session closes.
        pub fn send_time_limit(mut self, limit: Duration) -> Self {
            self.common.send_time_limit = limit;
            self
        }
    };
}

/// A SockJS endpoint's options: the core's
/// [`SockJsConfig`](sockjs_proto::SockJsConfig) and what the server adds
/// around it.
#[derive(Clone)]
#[must_use]
pub struct SockJsOptions {
    pub(crate) config: sockjs_proto::SockJsConfig,
    pub(crate) handler_wait: Duration,
    pub(crate) intercept_info: bool,
    pub(crate) common: Common,
}

impl Default for SockJsOptions {
    fn default() -> Self {
        Self {
            config: sockjs_proto::SockJsConfig::default(),
            handler_wait: Duration::from_secs(10),
            intercept_info: false,
            common: Common::default(),
        }
    }
}

impl fmt::Debug for SockJsOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SockJsOptions")
            .field("config", &self.config)
            .field("handler_wait", &self.handler_wait)
            .field("intercept_info", &self.intercept_info)
            .finish_non_exhaustive()
    }
}

impl SockJsOptions {
    /// The SockJS options (every one by Spring's name and default; allowed
    /// origins, the send buffer's limit and overflow strategy among them).
    pub fn config(mut self, config: sockjs_proto::SockJsConfig) -> Self {
        self.config = config;
        self
    }

    /// How long the answer to a client's send (`xhr_send`, `jsonp_send`)
    /// waits for the application to take the messages it carried and come
    /// back for more (10 s by default; zero answers at once). So a reply
    /// the application sends at once is in the session before the client's
    /// next poll, as when Spring runs the handler inside the request, and a
    /// client cannot send faster than the application reads. An
    /// application that stops reading its session (rather than dropping
    /// it) makes each send wait this long.
    pub fn handler_wait(mut self, wait: Duration) -> Self {
        self.handler_wait = wait;
        self
    }

    /// Whether the endpoint's `GET /info` is staged for the handshake
    /// interceptors too, as the requests that open sessions are (off by
    /// default, as in Spring, where a security filter guards `/info` and
    /// the interceptors see only handshakes). With it, an interceptor can
    /// refuse a client before it tries any transport: sockjs-client then
    /// closes at once with 1002 "Cannot connect to server", instead of
    /// trying every transport (each refused) and closing with 2000 "All
    /// transports failed", and a page can read the refusal's status from
    /// `/info` (the refusal carries the CORS headers `/info` carries).
    /// The interceptors' `after` part does not run for `/info` (no
    /// session opens), and the attributes of an accepted `/info` are
    /// dropped; a CORS preflight is never staged.
    pub fn intercept_info(mut self, intercept: bool) -> Self {
        self.intercept_info = intercept;
        self
    }

    common_options!();
}

/// A plain WebSocket endpoint's options.
#[derive(Clone)]
#[must_use]
pub struct WebSocketOptions {
    pub(crate) config: ws_proto::WebSocketConfig,
    pub(crate) protocols: Vec<String>,
    pub(crate) allowed_origins: AllowedOrigins,
    pub(crate) send_buffer_size_limit: usize,
    pub(crate) overflow_strategy: OverflowStrategy,
    pub(crate) common: Common,
}

impl Default for WebSocketOptions {
    fn default() -> Self {
        Self {
            config: ws_proto::WebSocketConfig::default(),
            protocols: Vec::new(),
            allowed_origins: AllowedOrigins::SameOrigin,
            send_buffer_size_limit: 512 * 1024,
            overflow_strategy: OverflowStrategy::Terminate,
            common: Common::default(),
        }
    }
}

impl fmt::Debug for WebSocketOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketOptions")
            .field("config", &self.config)
            .field("protocols", &self.protocols)
            .field("send_buffer_size_limit", &self.send_buffer_size_limit)
            .finish_non_exhaustive()
    }
}

impl WebSocketOptions {
    /// The WebSocket limits, behaviour and timers (frame and message sizes,
    /// the close timeout, the liveness pings).
    pub fn config(mut self, config: ws_proto::WebSocketConfig) -> Self {
        self.config = config;
        self
    }

    /// The WebSocket configuration, to change one field of it.
    pub fn config_mut(&mut self) -> &mut ws_proto::WebSocketConfig {
        &mut self.config
    }

    /// Subprotocols the endpoint speaks, in order of preference; the first
    /// one the client offers is selected.
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
    pub fn allowed_origins(mut self, origins: AllowedOrigins) -> Self {
        self.allowed_origins = origins;
        self
    }

    /// The most bytes of messages waiting to be written to the client
    /// (512 KiB by default); see [`overflow_strategy`](Self::overflow_strategy).
    pub fn send_buffer_size_limit(mut self, bytes: usize) -> Self {
        self.send_buffer_size_limit = bytes;
        self
    }

    /// What a send over the send buffer's limit does: close the session
    /// with 4500 (the default) or drop the oldest waiting messages.
    pub fn overflow_strategy(mut self, strategy: OverflowStrategy) -> Self {
        self.overflow_strategy = strategy;
        self
    }

    common_options!();
}
