//! [`ClientConfig`]: what a SockJS client may use and how long it waits.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::Transport;

/// The transports a client tries, in this order, by default: websocket,
/// xhr-streaming, xhr-polling (sockjs-client's order in Node, and Spring's
/// `SockJsClient`'s).
pub const DEFAULT_TRANSPORTS: [Transport; 3] = [
    Transport::WebSocket,
    Transport::XhrStreaming,
    Transport::Xhr,
];

/// How a SockJS client connects, with documented defaults. (`Debug`
/// writes header values as text: see [`http_proto::debug`].)
#[derive(Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The transports to try, in order: [`Transport::WebSocket`],
    /// [`Transport::XhrStreaming`] and [`Transport::Xhr`] (polling), each
    /// at most once. The websocket transport is skipped when `/info` says
    /// the server has it off. Default: [`DEFAULT_TRANSPORTS`].
    pub transports: Vec<Transport>,
    /// How long the session may take to open, `/info` and every transport
    /// tried included: 30 s by default; `None` for no bound beyond the
    /// others.
    pub connect_timeout: Option<Duration>,
    /// How long `/info` may take, connection included: 8 s by default
    /// (sockjs-client's).
    pub info_timeout: Duration,
    /// The least time a transport gets to open (to deliver `o`); it gets
    /// more when twice the retransmission timeout is longer (sockjs-client's
    /// `timeout` option). Default: zero, so `2 × rto`.
    pub transport_timeout: Duration,
    /// How long a close waits for what the application sent before it to
    /// go out (xhr transports) or for the server's close (websocket): 5 s
    /// by default.
    pub close_timeout: Duration,
    /// Headers sent with every request: `/info`, each transport's requests
    /// and the WebSocket handshake (`Authorization`, `Origin`, ...).
    /// `Host`, `Content-Length`, `Transfer-Encoding`, `Connection`,
    /// `Upgrade` and `Sec-WebSocket-*` are the client's own.
    pub headers: HeaderMap,
    /// Cookies sent with every request, before those the server sets.
    /// The client keeps the cookies the server sets (name and value; the
    /// `JSESSIONID` that sticky sessions route by) and sends them back.
    pub cookies: Vec<(String, String)>,
    /// The largest frame read: a WebSocket message or one line of an HTTP
    /// transport, JSON and framing included. 1 MiB by default; a larger
    /// one closes the session with 1009.
    pub max_frame_size: usize,
    /// The most bytes of received messages held for the application before
    /// the client stops reading: 1 MiB by default.
    pub max_buffered_messages: usize,
    /// The most bytes of messages the application may queue before they go
    /// out: 1 MiB by default ([`SendError::Full`](super::SendError)).
    pub send_buffer_limit: usize,
    /// HTTP head limits (`max_head_size`, `max_headers`).
    pub http: http_proto::Limits,
    /// The websocket transport's WebSocket settings (pings, close timeout,
    /// frame limits). Its `max_message_size` is replaced by
    /// `max_frame_size`.
    pub websocket: ws_proto::WebSocketConfig,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Every field named, so that a new one cannot be left out.
        let Self {
            transports,
            connect_timeout,
            info_timeout,
            transport_timeout,
            close_timeout,
            headers,
            cookies,
            max_frame_size,
            max_buffered_messages,
            send_buffer_limit,
            http,
            websocket,
        } = self;
        f.debug_struct("ClientConfig")
            .field("transports", transports)
            .field("connect_timeout", connect_timeout)
            .field("info_timeout", info_timeout)
            .field("transport_timeout", transport_timeout)
            .field("close_timeout", close_timeout)
            .field("headers", &http_proto::debug::Headers(headers))
            .field("cookies", cookies)
            .field("max_frame_size", max_frame_size)
            .field("max_buffered_messages", max_buffered_messages)
            .field("send_buffer_limit", send_buffer_limit)
            .field("http", http)
            .field("websocket", websocket)
            .finish()
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            transports: DEFAULT_TRANSPORTS.to_vec(),
            connect_timeout: Some(Duration::from_secs(30)),
            info_timeout: Duration::from_secs(8),
            transport_timeout: Duration::ZERO,
            close_timeout: Duration::from_secs(5),
            headers: HeaderMap::new(),
            cookies: Vec::new(),
            max_frame_size: 1024 * 1024,
            max_buffered_messages: 1024 * 1024,
            send_buffer_limit: 1024 * 1024,
            http: http_proto::Limits::default(),
            websocket: ws_proto::WebSocketConfig::default(),
        }
    }
}

/// A [`ClientConfig`] or URL a client cannot work with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientConfigError {
    /// The URL is not `http://` or `https://` with a host.
    #[error("the URL must be http:// or https:// with a host: {0}")]
    Url(String),
    /// No transport to try, a transport the client does not have, or one
    /// listed twice.
    #[error("transports must be websocket, xhr_streaming or xhr, each at most once")]
    Transports,
    /// A header the client sets itself.
    #[error("header {0} is the client's own")]
    ReservedHeader(HeaderName),
    /// A header value with bytes outside visible ASCII, space and tab.
    #[error("the value of header {0} is not visible ASCII")]
    HeaderValue(HeaderName),
    /// A cookie name or value that cannot be sent.
    #[error("invalid cookie {0:?}")]
    Cookie(String),
    /// `max_frame_size` is zero.
    #[error("max_frame_size must be positive")]
    MaxFrameSize,
}

impl ClientConfig {
    /// Checks that the options can work.
    pub fn validate(&self) -> Result<(), ClientConfigError> {
        let supported = |t: &Transport| DEFAULT_TRANSPORTS.contains(t);
        let unique = self
            .transports
            .iter()
            .enumerate()
            .all(|(i, t)| !self.transports[..i].contains(t));
        if self.transports.is_empty() || !self.transports.iter().all(supported) || !unique {
            return Err(ClientConfigError::Transports);
        }
        if let Some(name) = self.headers.keys().find(|n| is_reserved(n)) {
            return Err(ClientConfigError::ReservedHeader(name.clone()));
        }
        if let Some((name, _)) = self.headers.iter().find(|(_, v)| v.to_str().is_err()) {
            return Err(ClientConfigError::HeaderValue(name.clone()));
        }
        if let Some((name, _)) = self
            .cookies
            .iter()
            .find(|(n, v)| !is_cookie_name(n) || !is_cookie_value(v))
        {
            return Err(ClientConfigError::Cookie(name.clone()));
        }
        if self.max_frame_size == 0 {
            return Err(ClientConfigError::MaxFrameSize);
        }
        Ok(())
    }

    /// Sets [`transports`](Self::transports).
    #[must_use]
    pub fn transports(mut self, transports: impl IntoIterator<Item = Transport>) -> Self {
        self.transports = transports.into_iter().collect();
        self
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`info_timeout`](Self::info_timeout).
    #[must_use]
    pub fn info_timeout(mut self, timeout: Duration) -> Self {
        self.info_timeout = timeout;
        self
    }

    /// Sets [`transport_timeout`](Self::transport_timeout).
    #[must_use]
    pub fn transport_timeout(mut self, timeout: Duration) -> Self {
        self.transport_timeout = timeout;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Adds a header to [`headers`](Self::headers).
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Adds a cookie to [`cookies`](Self::cookies).
    #[must_use]
    pub fn cookie(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.cookies.push((name.into(), value.into()));
        self
    }

    /// Sets [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`max_buffered_messages`](Self::max_buffered_messages).
    #[must_use]
    pub fn max_buffered_messages(mut self, bytes: usize) -> Self {
        self.max_buffered_messages = bytes;
        self
    }

    /// Sets [`send_buffer_limit`](Self::send_buffer_limit).
    #[must_use]
    pub fn send_buffer_limit(mut self, bytes: usize) -> Self {
        self.send_buffer_limit = bytes;
        self
    }

    /// Sets [`websocket`](Self::websocket).
    #[must_use]
    pub fn websocket(mut self, config: ws_proto::WebSocketConfig) -> Self {
        self.websocket = config;
        self
    }
}

/// Headers that the client writes itself.
fn is_reserved(name: &HeaderName) -> bool {
    use http::header::{CONNECTION, CONTENT_LENGTH, COOKIE, HOST, TRANSFER_ENCODING, UPGRADE};
    [
        CONNECTION,
        CONTENT_LENGTH,
        HOST,
        TRANSFER_ENCODING,
        UPGRADE,
        COOKIE,
    ]
    .contains(name)
        || name.as_str().starts_with("sec-websocket-")
}

/// A cookie name: an RFC 6265 token.
pub(crate) fn is_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// A cookie value: RFC 6265 cookie-octets (no quotes, comma, semicolon,
/// backslash, space or control).
pub(crate) fn is_cookie_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_graphic() && !b"\",;\\".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_header_values_as_text() {
        let config = ClientConfig::default()
            .header(
                HeaderName::from_static("x-name"),
                HeaderValue::from_bytes("J\u{f6}rg".as_bytes()).unwrap(),
            )
            .header(
                HeaderName::from_static("x-raw"),
                HeaderValue::from_bytes(b"a\xffb").unwrap(),
            );
        let shown = format!("{config:?}");
        assert!(
            shown.contains(r#", headers: {"x-name": "Jörg", "x-raw": b"a\xffb"}, cookies: [], "#),
            "{shown}"
        );
        assert!(shown.starts_with("ClientConfig { transports: [WebSocket, XhrStreaming, Xhr], "));
        assert!(shown.ends_with(" }"), "{shown}");
    }

    #[test]
    fn defaults_validate() {
        assert_eq!(ClientConfig::default().validate(), Ok(()));
    }

    #[test]
    fn bad_configs() {
        let bad = |c: ClientConfig| c.validate().unwrap_err();
        assert_eq!(
            bad(ClientConfig::default().transports([])),
            ClientConfigError::Transports
        );
        assert_eq!(
            bad(ClientConfig::default().transports([Transport::EventSource])),
            ClientConfigError::Transports
        );
        assert_eq!(
            bad(ClientConfig::default().transports([Transport::Xhr, Transport::Xhr])),
            ClientConfigError::Transports
        );
        assert_eq!(
            bad(ClientConfig::default().header(http::header::HOST, HeaderValue::from_static("x"))),
            ClientConfigError::ReservedHeader(http::header::HOST)
        );
        assert_eq!(
            bad(ClientConfig::default().header(
                HeaderName::from_static("sec-websocket-key"),
                HeaderValue::from_static("x")
            )),
            ClientConfigError::ReservedHeader(HeaderName::from_static("sec-websocket-key"))
        );
        assert_eq!(
            bad(ClientConfig::default().cookie("a b", "1")),
            ClientConfigError::Cookie("a b".into())
        );
        assert_eq!(
            bad(ClientConfig::default().cookie("a", "1;2")),
            ClientConfigError::Cookie("a".into())
        );
        assert_eq!(
            bad(ClientConfig::default().max_frame_size(0)),
            ClientConfigError::MaxFrameSize
        );
    }
}
