//! The client side of the opening handshake (RFC 6455 §4.1).

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_EXTENSIONS, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use http::{HeaderMap, Method, StatusCode, Version};
use http_proto::headers::{has_token, list, values};
use http_proto::{HeadError, HeadReader};

use super::request::is_reserved;
use super::{accept_key, is_header, is_token, Limits};

/// What a client asks for when it opens a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientRequest {
    /// The `Host` header: host, and port if not the default.
    pub host: String,
    /// The request target: path and query, e.g. `/chat?room=1`.
    pub target: String,
    /// Subprotocols to offer, most preferred first.
    pub protocols: Vec<String>,
    /// Further headers (`Origin`, `Cookie`, `Authorization`, ...).
    pub headers: Vec<(String, String)>,
}

impl ClientRequest {
    /// A request for `target` on `host`.
    pub fn new(host: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            host: host.into(),
            target: target.into(),
            ..Self::default()
        }
    }

    /// Offers a subprotocol.
    #[must_use]
    pub fn protocol(mut self, name: impl Into<String>) -> Self {
        self.protocols.push(name.into());
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Whether the request can be sent as it is: what
    /// [`ClientHandshake::new`] checks, for a caller that wants to know
    /// before it opens a connection.
    pub fn validate(&self) -> Result<(), InvalidRequest> {
        let plain = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic());
        if !plain(&self.host) || !plain(&self.target) {
            return Err(InvalidRequest::Target);
        }
        if let Some(p) = self.protocols.iter().find(|p| !is_token(p)) {
            return Err(InvalidRequest::Protocol(p.clone()));
        }
        if let Some((n, _)) = self.headers.iter().find(|(n, v)| !is_header(n, v)) {
            return Err(InvalidRequest::Header(n.clone()));
        }
        if let Some((n, _)) = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host") || is_reserved(n))
        {
            return Err(InvalidRequest::ReservedHeader(n.clone()));
        }
        Ok(())
    }
}

/// A server's answer is not a valid acceptance of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP response head")]
    Malformed,
    /// The head is larger than [`Limits::max_head_size`].
    #[error("response head larger than {0} bytes")]
    HeadTooLarge(usize),
    /// The head has more than [`Limits::max_headers`] fields.
    #[error("too many header fields")]
    TooManyHeaders,
    /// The status is not 101.
    #[error("status {0} instead of 101 Switching Protocols")]
    Status(u16),
    /// `Upgrade` does not list `websocket`.
    #[error("Upgrade header must list \"websocket\"")]
    Upgrade,
    /// `Connection` does not list `upgrade`.
    #[error("Connection header must list \"upgrade\"")]
    Connection,
    /// `Sec-WebSocket-Accept` is missing or wrong.
    #[error("Sec-WebSocket-Accept is missing or does not match the key")]
    Accept,
    /// The server selected a subprotocol that was not offered, or several.
    #[error("the server selected a subprotocol that was not offered")]
    Protocol,
    /// The server selected an extension, and none was offered.
    #[error("the server selected an extension that was not offered")]
    Extension,
}

/// A server's acceptance of the upgrade. (`Debug` writes header values as
/// text: see [`http_proto::debug`].)
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The header fields.
    pub headers: HeaderMap,
    /// The subprotocol the server selected, if any.
    pub protocol: Option<String>,
    /// Bytes that followed the head: the server's first frames. Hand them to
    /// the [`Connection`](crate::Connection) before anything read later.
    pub trailing: Bytes,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("headers", &http_proto::debug::Headers(&self.headers))
            .field("protocol", &self.protocol)
            .field("trailing", &self.trailing)
            .finish()
    }
}

/// A client's opening handshake: the request to send, then the validation of
/// the answer from partial input.
#[derive(Debug)]
pub struct ClientHandshake {
    /// The request head, as text (so that `Debug` shows it as such).
    request: String,
    accept: String,
    protocols: Vec<String>,
    limits: Limits,
    buf: BytesMut,
    head: HeadReader,
}

/// A [`ClientRequest`] that cannot be sent as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidRequest {
    /// The host or target is empty or holds whitespace or control bytes;
    /// or an `http::Request` names no host (no `Host` header, and no
    /// authority in its URI or one with user information) or several.
    #[error("invalid host or request target")]
    Target,
    /// A subprotocol name is not a token.
    #[error("subprotocol {0:?} is not a token")]
    Protocol(String),
    /// A header name is not a token, or its value holds CR, LF or NUL (or,
    /// in an `http::Request`, is not UTF-8).
    #[error("invalid header {0:?}")]
    Header(String),
    /// A header that the handshake writes itself: `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version`,
    /// `Sec-WebSocket-Extensions` (no extension is offered),
    /// `Content-Length` and `Transfer-Encoding` (the request has no body);
    /// and, among [`ClientRequest::headers`], `Host` and
    /// `Sec-WebSocket-Protocol`, which come from
    /// [`host`](ClientRequest::host) and [`protocols`](ClientRequest::protocols).
    #[error("the handshake writes the {0:?} header itself")]
    ReservedHeader(String),
    /// An `http::Request` whose method is not GET.
    #[error("the opening handshake is a GET, not {0}")]
    Method(Method),
    /// An `http::Request` whose version is not HTTP/1.1.
    #[error("the opening handshake is HTTP/1.1, not {0:?}")]
    Version(Version),
}

impl ClientHandshake {
    /// Prepares the handshake. `key` must be 16 bytes from a random source
    /// (the core takes them as an argument so that it stays deterministic).
    pub fn new(
        request: &ClientRequest,
        key: [u8; 16],
        limits: Limits,
    ) -> Result<Self, InvalidRequest> {
        request.validate()?;
        let key = base64::engine::general_purpose::STANDARD.encode(key);
        let mut out = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
            request.target, request.host
        );
        if !request.protocols.is_empty() {
            out.push_str("Sec-WebSocket-Protocol: ");
            out.push_str(&request.protocols.join(", "));
            out.push_str("\r\n");
        }
        for (name, value) in &request.headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        Ok(Self {
            request: out,
            accept: accept_key(key.as_bytes()),
            protocols: request.protocols.clone(),
            limits,
            buf: BytesMut::new(),
            head: HeadReader::new(limits),
        })
    }

    /// The request to write.
    pub fn request(&self) -> &[u8] {
        self.request.as_bytes()
    }

    /// Hands over bytes read from the transport.
    pub fn receive(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// How many bytes to read at most before the next
    /// [`poll_response`](Self::poll_response).
    pub fn receive_capacity(&self) -> usize {
        (self.limits.max_head_size + 4096).saturating_sub(self.buf.len())
    }

    /// Returns the acceptance once the response head is complete and valid.
    pub fn poll_response(&mut self) -> Result<Option<Response>, ResponseError> {
        let (head, len) = match self.head.read_response(&self.buf) {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(None),
            Err(HeadError::TooLarge(max)) => return Err(ResponseError::HeadTooLarge(max)),
            Err(HeadError::TooManyHeaders) => return Err(ResponseError::TooManyHeaders),
            Err(_) => return Err(ResponseError::Malformed),
        };
        if head.version() != Version::HTTP_11 {
            return Err(ResponseError::Malformed);
        }
        if head.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(ResponseError::Status(head.status().as_u16()));
        }
        let headers = head.into_parts().0.headers;
        if !has_token(&headers, UPGRADE, "websocket") {
            return Err(ResponseError::Upgrade);
        }
        if !has_token(&headers, CONNECTION, "upgrade") {
            return Err(ResponseError::Connection);
        }
        let accepts: Vec<&[u8]> = values(&headers, SEC_WEBSOCKET_ACCEPT).collect();
        if accepts != [self.accept.as_bytes()] {
            return Err(ResponseError::Accept);
        }
        if list(&headers, SEC_WEBSOCKET_EXTENSIONS).next().is_some() {
            return Err(ResponseError::Extension);
        }
        let selected: Vec<&[u8]> = list(&headers, SEC_WEBSOCKET_PROTOCOL).collect();
        let protocol = match selected[..] {
            [] => None,
            [p] => match self.protocols.iter().find(|o| o.as_bytes() == p) {
                Some(p) => Some(p.clone()),
                None => return Err(ResponseError::Protocol),
            },
            _ => return Err(ResponseError::Protocol),
        };
        let mut rest = std::mem::take(&mut self.buf);
        let trailing = rest.split_off(len).freeze();
        Ok(Some(Response {
            headers,
            protocol,
            trailing,
        }))
    }
}
