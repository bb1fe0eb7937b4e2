//! The server side of the opening handshake (RFC 6455 §4.2).

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::header::{
    HeaderValue, ALLOW, CONNECTION, CONTENT_TYPE, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY,
    SEC_WEBSOCKET_PROTOCOL, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use http_proto::headers::{has_token, list, values};
use http_proto::{BodyKind, Exchange, HeadReader, RequestError};

use super::{accept_key, is_token, Limits};

/// Why an upgrade request was refused, and what to answer.
///
/// [`status`](Self::status) is the HTTP status to answer with,
/// [`to_response`](Self::to_response) the answer and
/// [`response`](Self::response) its bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The head is not valid HTTP/1.x.
    #[error("malformed HTTP request head")]
    Malformed,
    /// The head is larger than [`Limits::max_head_size`].
    #[error("request head larger than {0} bytes")]
    HeadTooLarge(usize),
    /// The head has more than [`Limits::max_headers`] fields.
    #[error("too many header fields")]
    TooManyHeaders,
    /// The method is not GET.
    #[error("method {0} is not GET")]
    MethodNotGet(String),
    /// The request is not HTTP/1.1.
    #[error("HTTP/1.1 or later is required")]
    HttpVersion,
    /// No `Host` header, or more than one.
    #[error("exactly one Host header is required")]
    Host,
    /// `Upgrade` does not list `websocket`.
    #[error("Upgrade header must list \"websocket\"")]
    Upgrade,
    /// `Connection` does not list `upgrade`.
    #[error("Connection header must list \"upgrade\"")]
    Connection,
    /// `Sec-WebSocket-Version` is missing or not 13.
    #[error("Sec-WebSocket-Version must be 13")]
    Version,
    /// `Sec-WebSocket-Key` is missing, repeated, or not 16 bytes in base64.
    #[error("Sec-WebSocket-Key must be 16 bytes in base64")]
    Key,
    /// `Sec-WebSocket-Protocol` holds something that is not a token.
    #[error("Sec-WebSocket-Protocol must be a list of tokens")]
    Protocol,
}

impl HandshakeError {
    /// The HTTP status to answer with: 400 for a bad request, 405 for a
    /// method other than GET, 426 for an unsupported version, 431 for a head
    /// over the limits.
    pub fn status(&self) -> u16 {
        match self {
            Self::HeadTooLarge(_) | Self::TooManyHeaders => 431,
            Self::MethodNotGet(_) => 405,
            Self::Version => 426,
            _ => 400,
        }
    }

    /// The HTTP response refusing the upgrade: 405 carries `Allow: GET`,
    /// 426 carries `Sec-WebSocket-Version: 13` and `Upgrade: websocket`;
    /// the body is the error's message, in plain text.
    pub fn to_response(&self) -> Response<Bytes> {
        let mut res = Response::new(Bytes::from(self.to_string()));
        *res.status_mut() = StatusCode::from_u16(self.status()).expect("a valid status");
        let headers = res.headers_mut();
        match self {
            Self::MethodNotGet(_) => {
                headers.insert(ALLOW, HeaderValue::from_static("GET"));
            }
            Self::Version => {
                headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
                headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            }
            _ => {}
        }
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        res
    }

    /// The complete HTTP response refusing the upgrade
    /// ([`to_response`](Self::to_response)), closing the connection.
    pub fn response(&self) -> Vec<u8> {
        let res = self.to_response();
        let mut out = BytesMut::new();
        let length = BodyKind::Length(res.body().len() as u64);
        http_proto::encode_response(&res, length, Exchange::default().closing(), &mut out)
            .expect("no framing header");
        out.extend_from_slice(res.body());
        out.to_vec()
    }
}

/// The application's answer to an upgrade cannot be sent as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The chosen subprotocol is not one the client offered.
    #[error("subprotocol {0:?} was not offered")]
    ProtocolNotOffered(String),
}

/// Reads an upgrade request from partial input.
///
/// Feed it with [`receive`](Self::receive) and call
/// [`poll_request`](Self::poll_request) after each piece until it returns a
/// request or an error.
#[derive(Debug)]
pub struct ServerHandshake {
    limits: Limits,
    buf: BytesMut,
    head: HeadReader,
}

impl ServerHandshake {
    /// A handshake with the given limits on the request head.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: BytesMut::new(),
            head: HeadReader::new(limits),
        }
    }

    /// Hands over bytes read from the transport.
    pub fn receive(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// How many bytes to read at most before the next
    /// [`poll_request`](Self::poll_request): the head limit, plus a little
    /// room for frames that follow it.
    pub fn receive_capacity(&self) -> usize {
        (self.limits.max_head_size + 4096).saturating_sub(self.buf.len())
    }

    /// Returns the request once its head is complete and valid.
    ///
    /// `Ok(None)`: the head is not complete yet. `Err`: answer with
    /// [`HandshakeError::response`] and close the connection.
    pub fn poll_request(&mut self) -> Result<Option<UpgradeRequest>, HandshakeError> {
        let (request, len) = match self.head.read_request(&self.buf) {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(None),
            Err(RequestError::HeadTooLarge(max)) => return Err(HandshakeError::HeadTooLarge(max)),
            Err(RequestError::TooManyHeaders) => return Err(HandshakeError::TooManyHeaders),
            Err(_) => return Err(HandshakeError::Malformed),
        };
        let mut upgrade = UpgradeRequest::validate(&request)?;
        let mut rest = std::mem::take(&mut self.buf);
        upgrade.trailing = rest.split_off(len).freeze();
        Ok(Some(upgrade))
    }
}

/// A valid upgrade request, waiting for the application's decision.
/// (`Debug` writes header values as text: see [`http_proto::debug`].)
#[derive(Clone)]
pub struct UpgradeRequest {
    request: Request<()>,
    accept: String,
    protocols: Vec<String>,
    trailing: Bytes,
}

impl std::fmt::Debug for UpgradeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeRequest")
            .field("request", &http_proto::debug::RequestHead(&self.request))
            .field("accept", &self.accept)
            .field("protocols", &self.protocols)
            .field("trailing", &self.trailing)
            .finish()
    }
}

impl PartialEq for UpgradeRequest {
    /// The same request head (extensions aside), key, protocols and
    /// trailing bytes.
    fn eq(&self, other: &Self) -> bool {
        let (a, b) = (&self.request, &other.request);
        a.method() == b.method()
            && a.uri() == b.uri()
            && a.version() == b.version()
            && a.headers() == b.headers()
            && self.accept == other.accept
            && self.protocols == other.protocols
            && self.trailing == other.trailing
    }
}

impl Eq for UpgradeRequest {}

impl UpgradeRequest {
    /// Checks a request against RFC 6455 §4.2.1: GET, HTTP/1.1, one `Host`,
    /// `Upgrade: websocket` and `Connection: upgrade` (case-insensitive token
    /// lists), `Sec-WebSocket-Version: 13`, and a `Sec-WebSocket-Key` that is
    /// 16 bytes in base64. The body is not looked at; the head is kept
    /// (without extensions).
    pub fn validate<B>(request: &Request<B>) -> Result<Self, HandshakeError> {
        if request.method() != Method::GET {
            return Err(HandshakeError::MethodNotGet(request.method().to_string()));
        }
        if request.version() < Version::HTTP_11 {
            return Err(HandshakeError::HttpVersion);
        }
        let headers = request.headers();
        if values(headers, "host").count() != 1 {
            return Err(HandshakeError::Host);
        }
        if !has_token(headers, UPGRADE, "websocket") {
            return Err(HandshakeError::Upgrade);
        }
        if !has_token(headers, CONNECTION, "upgrade") {
            return Err(HandshakeError::Connection);
        }
        let versions: Vec<&[u8]> = values(headers, SEC_WEBSOCKET_VERSION).collect();
        if versions != [b"13"] {
            return Err(HandshakeError::Version);
        }
        let keys: Vec<&[u8]> = values(headers, SEC_WEBSOCKET_KEY).collect();
        let [key] = keys[..] else {
            return Err(HandshakeError::Key);
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| HandshakeError::Key)?;
        if decoded.len() != 16 {
            return Err(HandshakeError::Key);
        }
        let protocols = list(headers, SEC_WEBSOCKET_PROTOCOL)
            .map(|p| match std::str::from_utf8(p) {
                Ok(p) if is_token(p) => Ok(p.to_owned()),
                _ => Err(HandshakeError::Protocol),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let accept = accept_key(key);
        let mut head = Request::new(());
        *head.method_mut() = request.method().clone();
        *head.uri_mut() = request.uri().clone();
        *head.version_mut() = request.version();
        *head.headers_mut() = headers.clone();
        Ok(Self {
            accept,
            protocols,
            request: head,
            trailing: Bytes::new(),
        })
    }

    /// The request head.
    pub fn request(&self) -> &Request<()> {
        &self.request
    }

    /// The subprotocols the client offered, in its order of preference.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The `Sec-WebSocket-Accept` value of the answer.
    pub fn accept_key(&self) -> &str {
        &self.accept
    }

    /// Bytes that followed the head: the client's first frames. Hand them to
    /// the [`Connection`](crate::Connection) before anything read later.
    pub fn trailing(&self) -> &Bytes {
        &self.trailing
    }

    /// The 101 answer's head: `Upgrade: websocket`, `Connection: Upgrade`,
    /// `Sec-WebSocket-Accept`, `Sec-WebSocket-Protocol` with `protocol`
    /// (which must be one the client offered), then `headers`. Encode it
    /// with `http-proto` (`ServerConn::encode_response` or
    /// `encode_response`, no body) and write it.
    ///
    /// A protocol that was not offered is the caller's mistake: nothing
    /// should be sent.
    pub fn accept(
        &self,
        protocol: Option<&str>,
        headers: HeaderMap,
    ) -> Result<Response<()>, AcceptError> {
        let protocol = match protocol {
            Some(p) => match self.protocols.iter().find(|o| *o == p) {
                // An offered protocol is a token: a valid value.
                Some(p) => Some(HeaderValue::from_str(p).expect("a token")),
                None => return Err(AcceptError::ProtocolNotOffered(p.to_owned())),
            },
            None => None,
        };
        let mut res = Response::new(());
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let out = res.headers_mut();
        out.insert(UPGRADE, HeaderValue::from_static("websocket"));
        out.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        // The accept key is base64: a valid value.
        let accept = HeaderValue::from_str(&self.accept).expect("base64");
        out.insert(SEC_WEBSOCKET_ACCEPT, accept);
        if let Some(p) = protocol {
            out.insert(SEC_WEBSOCKET_PROTOCOL, p);
        }
        // Appended, each after the fields above (an extension would
        // replace a field of the same name).
        let mut last = None;
        for (name, value) in headers {
            last = name.or(last);
            if let Some(name) = &last {
                out.append(name, value);
            }
        }
        Ok(res)
    }
}
