//! SockJS options, with Spring's names and defaults.

use std::time::Duration;

use ws_proto::OverflowStrategy;

use crate::origin::AllowedOrigins;

/// The sockjs-client 1.x build that the iframe page loads by default.
pub const DEFAULT_CLIENT_LIBRARY_URL: &str =
    "https://cdn.jsdelivr.net/npm/sockjs-client@1.6.1/dist/sockjs.min.js";

/// Options of one SockJS endpoint.
///
/// | option (Spring's name) | default |
/// | --- | --- |
/// | [`heartbeat_time`](Self::heartbeat_time) (`heartbeatTime`) | 25 s |
/// | [`disconnect_delay`](Self::disconnect_delay) (`disconnectDelay`) | 5 s |
/// | [`http_message_cache_size`](Self::http_message_cache_size) (`httpMessageCacheSize`) | 100 messages |
/// | [`stream_bytes_limit`](Self::stream_bytes_limit) (`streamBytesLimit`) | 128 KiB |
/// | [`session_cookie_needed`](Self::session_cookie_needed) (`sessionCookieNeeded`) | `true` |
/// | [`web_socket_enabled`](Self::web_socket_enabled) (`webSocketEnabled`) | `true` |
/// | [`suppress_cors`](Self::suppress_cors) (`suppressCors`) | `false` |
/// | [`client_library_url`](Self::client_library_url) (`clientLibraryUrl`) | [`DEFAULT_CLIENT_LIBRARY_URL`] |
/// | [`allowed_origins`](Self::allowed_origins) (`allowedOrigins`) | same origin only |
/// | [`websocket`](Self::websocket) | `ws_proto::WebSocketConfig::default()`: no liveness pings, a 5 s close timeout |
/// | [`websocket_protocols`](Self::websocket_protocols) | none |
/// | [`max_sessions`](Self::max_sessions) | 100 000 |
/// | [`send_buffer_size_limit`](Self::send_buffer_size_limit) (`sendBufferSizeLimit`) | 512 KiB |
/// | [`overflow_strategy`](Self::overflow_strategy) (`overflowStrategy`) | terminate |
/// | [`bind_sessions_to_client`](Self::bind_sessions_to_client) | `true` |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[allow(
    clippy::struct_excessive_bools,
    reason = "Spring's options, by their names: each is a switch of its own"
)]
pub struct SockJsConfig {
    /// With no frame written for this long, the server writes a heartbeat.
    pub heartbeat_time: Duration,
    /// With no receiving request for this long, a session is closed and
    /// removed; a closed session keeps answering with its close frame for
    /// this long.
    pub disconnect_delay: Duration,
    /// The most messages a session holds while no receiving request is
    /// attached (between polls); overflowing it closes the session (4500,
    /// not reliable) instead of growing. While a receiver is attached,
    /// `send_buffer_size_limit` bounds what waits for it.
    pub http_message_cache_size: usize,
    /// A streaming response ends once the frames written on it reach this
    /// many bytes (framing included, the prelude not counted).
    pub stream_bytes_limit: usize,
    /// Set or echo the `JSESSIONID` cookie on transport responses (for load
    /// balancers with sticky sessions); `/info` says so.
    pub session_cookie_needed: bool,
    /// Serve the websocket transports; when off they answer 404 and `/info`
    /// says `"websocket":false`.
    pub web_socket_enabled: bool,
    /// Leave out the CORS headers (when a proxy or filter adds its own).
    pub suppress_cors: bool,
    /// The sockjs-client script that the iframe page loads.
    pub client_library_url: String,
    /// Which `Origin`s may use the endpoint.
    pub allowed_origins: AllowedOrigins,
    /// Limits and timers of the WebSocket connections of both websocket
    /// transports (`websocket` and the raw `/websocket`).
    ///
    /// Liveness pings are off by default
    /// ([`ping_interval`](ws_proto::WebSocketConfig::ping_interval) `None`),
    /// as in Spring, which keeps a SockJS `websocket` session alive with the
    /// `h` heartbeat alone: the wire stays as sockjs-client and Spring's
    /// client expect it, and nothing closes a quiet client that a proxy keeps
    /// alive. Set a ping interval to drop dead clients (a client that
    /// answers nothing within the pong timeout after a ping is dropped with
    /// nothing more sent): the heartbeat only goes out, and on the raw
    /// `/websocket`, which has no heartbeat, a ping is the only way to find
    /// a dead client before its TCP connection times out. Browsers answer
    /// pings by themselves. The close timeout (5 s) bounds the wait for the
    /// client's close frame once the server sent its own.
    pub websocket: ws_proto::WebSocketConfig,
    /// Subprotocols the endpoint speaks over WebSocket (e.g. `v12.stomp`),
    /// in order of preference; the first one the client offers is selected.
    pub websocket_protocols: Vec<String>,
    /// The most sessions at once; a request that would open one more gets
    /// 503 instead.
    pub max_sessions: usize,
    /// The most bytes of messages a session holds for its client (Spring's
    /// `sendBufferSizeLimit` of the concurrent-send decorator). A send that
    /// would pass it is handled by `overflow_strategy`.
    pub send_buffer_size_limit: usize,
    /// What a send over `send_buffer_size_limit` does: close the session
    /// with 4500 (the default), or drop the oldest waiting messages.
    pub overflow_strategy: OverflowStrategy,
    /// Bind each session to the client that opened it: a later request on
    /// the session must carry the same principal
    /// ([`RequestContext::principal`](crate::RequestContext::principal)) or,
    /// when the session was opened without one, come from the same IP
    /// address ([`RequestContext::client_ip`](crate::RequestContext::client_ip));
    /// any other gets
    /// 404 and changes nothing. Session ids travel in URLs (logs, proxies,
    /// referrers): without this, whoever learns one can read or post into
    /// that session. Spring 7.0.8 applies the same rule.
    pub bind_sessions_to_client: bool,
}

impl Default for SockJsConfig {
    fn default() -> Self {
        Self {
            heartbeat_time: Duration::from_secs(25),
            disconnect_delay: Duration::from_secs(5),
            http_message_cache_size: 100,
            stream_bytes_limit: 128 * 1024,
            session_cookie_needed: true,
            web_socket_enabled: true,
            suppress_cors: false,
            client_library_url: DEFAULT_CLIENT_LIBRARY_URL.to_owned(),
            allowed_origins: AllowedOrigins::SameOrigin,
            websocket: ws_proto::WebSocketConfig::default(),
            websocket_protocols: Vec::new(),
            max_sessions: 100_000,
            send_buffer_size_limit: 512 * 1024,
            overflow_strategy: OverflowStrategy::Terminate,
            bind_sessions_to_client: true,
        }
    }
}

/// A [`SockJsConfig`] value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SockJsConfigError {
    /// `heartbeat_time` is zero.
    #[error("heartbeatTime must be positive")]
    HeartbeatTime,
    /// `disconnect_delay` is zero.
    #[error("disconnectDelay must be positive")]
    DisconnectDelay,
    /// `http_message_cache_size` is zero.
    #[error("httpMessageCacheSize must be at least 1")]
    CacheSize,
    /// `stream_bytes_limit` is zero.
    #[error("streamBytesLimit must be at least 1")]
    StreamBytesLimit,
    /// `client_library_url` is empty or would break out of the page's
    /// `src="..."` attribute.
    #[error(
        "clientLibraryUrl must be a non-empty URL without quotes, angle brackets or whitespace"
    )]
    ClientLibraryUrl,
}

impl SockJsConfig {
    /// Checks that the options can work together.
    pub fn validate(&self) -> Result<(), SockJsConfigError> {
        if self.heartbeat_time.is_zero() {
            return Err(SockJsConfigError::HeartbeatTime);
        }
        if self.disconnect_delay.is_zero() {
            return Err(SockJsConfigError::DisconnectDelay);
        }
        if self.http_message_cache_size == 0 {
            return Err(SockJsConfigError::CacheSize);
        }
        if self.stream_bytes_limit == 0 {
            return Err(SockJsConfigError::StreamBytesLimit);
        }
        let url = &self.client_library_url;
        if url.is_empty()
            || url
                .bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"\"'<>&".contains(&b))
        {
            return Err(SockJsConfigError::ClientLibraryUrl);
        }
        Ok(())
    }

    /// Sets `sendBufferSizeLimit`.
    #[must_use]
    pub fn send_buffer_size_limit(mut self, bytes: usize) -> Self {
        self.send_buffer_size_limit = bytes;
        self
    }

    /// Sets the overflow strategy of the send buffer.
    #[must_use]
    pub fn overflow_strategy(mut self, strategy: OverflowStrategy) -> Self {
        self.overflow_strategy = strategy;
        self
    }

    /// Sets `heartbeatTime`.
    #[must_use]
    pub fn heartbeat_time(mut self, value: Duration) -> Self {
        self.heartbeat_time = value;
        self
    }

    /// Sets `disconnectDelay`.
    #[must_use]
    pub fn disconnect_delay(mut self, value: Duration) -> Self {
        self.disconnect_delay = value;
        self
    }

    /// Sets `httpMessageCacheSize`.
    #[must_use]
    pub fn http_message_cache_size(mut self, value: usize) -> Self {
        self.http_message_cache_size = value;
        self
    }

    /// Sets `streamBytesLimit`.
    #[must_use]
    pub fn stream_bytes_limit(mut self, value: usize) -> Self {
        self.stream_bytes_limit = value;
        self
    }

    /// Sets `sessionCookieNeeded`.
    #[must_use]
    pub fn session_cookie_needed(mut self, value: bool) -> Self {
        self.session_cookie_needed = value;
        self
    }

    /// Sets `webSocketEnabled`.
    #[must_use]
    pub fn web_socket_enabled(mut self, value: bool) -> Self {
        self.web_socket_enabled = value;
        self
    }

    /// Sets `suppressCors`.
    #[must_use]
    pub fn suppress_cors(mut self, value: bool) -> Self {
        self.suppress_cors = value;
        self
    }

    /// Sets `clientLibraryUrl`.
    #[must_use]
    pub fn client_library_url(mut self, value: impl Into<String>) -> Self {
        self.client_library_url = value.into();
        self
    }

    /// Sets `allowedOrigins`.
    #[must_use]
    pub fn allowed_origins(mut self, value: AllowedOrigins) -> Self {
        self.allowed_origins = value;
        self
    }

    /// Sets the WebSocket subprotocols.
    #[must_use]
    pub fn websocket_protocols<I, S>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.websocket_protocols = protocols.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the session limit.
    #[must_use]
    pub fn max_sessions(mut self, value: usize) -> Self {
        self.max_sessions = value;
        self
    }

    /// Sets the WebSocket limits and timers (the field of the same name
    /// says why liveness pings are off by default).
    #[must_use]
    pub fn websocket(mut self, value: ws_proto::WebSocketConfig) -> Self {
        self.websocket = value;
        self
    }

    /// Sets whether sessions are bound to the client that opened them.
    #[must_use]
    pub fn bind_sessions_to_client(mut self, value: bool) -> Self {
        self.bind_sessions_to_client = value;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_springs() {
        let c = SockJsConfig::default();
        assert_eq!(c.heartbeat_time, Duration::from_secs(25));
        assert_eq!(c.disconnect_delay, Duration::from_secs(5));
        assert_eq!(c.http_message_cache_size, 100);
        assert_eq!(c.stream_bytes_limit, 131_072);
        assert!(c.session_cookie_needed);
        assert!(c.web_socket_enabled);
        assert!(!c.suppress_cors);
        assert_eq!(c.allowed_origins, AllowedOrigins::SameOrigin);
        assert!(c.bind_sessions_to_client);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn invalid_values_are_refused() {
        let c = SockJsConfig::default;
        assert_eq!(
            c().heartbeat_time(Duration::ZERO).validate(),
            Err(SockJsConfigError::HeartbeatTime)
        );
        assert_eq!(
            c().disconnect_delay(Duration::ZERO).validate(),
            Err(SockJsConfigError::DisconnectDelay)
        );
        assert_eq!(
            c().http_message_cache_size(0).validate(),
            Err(SockJsConfigError::CacheSize)
        );
        assert_eq!(
            c().stream_bytes_limit(0).validate(),
            Err(SockJsConfigError::StreamBytesLimit)
        );
        for url in ["", "a\"b", "x y", "<script>"] {
            assert_eq!(
                c().client_library_url(url).validate(),
                Err(SockJsConfigError::ClientLibraryUrl),
                "{url}"
            );
        }
    }
}
