//! The server side of the opening handshake (RFC 6455 §4.2).

use base64::Engine as _;
use bytes::{Bytes, BytesMut};

use super::{
    accept_key, find_head_end, has_token, is_header, is_token, list, own_headers, values, Header,
    Limits,
};

/// A parsed HTTP request head.
///
/// Any HTTP layer can build one to have an upgrade validated by
/// [`UpgradeRequest::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `GET`.
    pub method: String,
    /// The request target, e.g. `/chat?room=1`.
    pub target: String,
    /// The minor HTTP version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// The header fields in order.
    pub headers: Vec<Header>,
}

impl Request {
    /// Parses a complete head from the start of `buf` (which must end with
    /// the blank line); returns the request and the head's length.
    fn parse(buf: &[u8], limits: &Limits) -> Result<(Self, usize), HandshakeError> {
        let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(buf) {
            Ok(httparse::Status::Complete(n)) => Ok((
                Self {
                    method: req.method.unwrap_or_default().to_owned(),
                    target: req.path.unwrap_or_default().to_owned(),
                    version: req.version.unwrap_or_default(),
                    headers: own_headers(req.headers),
                },
                n,
            )),
            Err(httparse::Error::TooManyHeaders) => Err(HandshakeError::TooManyHeaders),
            // A head that ends with the blank line is never partial.
            Ok(httparse::Status::Partial) | Err(_) => Err(HandshakeError::Malformed),
        }
    }

    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// Every value of the header `name` (case-insensitive).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        values(&self.headers, name)
    }
}

/// Why an upgrade request was refused, and what to answer.
///
/// [`status`](Self::status) is the HTTP status to answer with, and
/// [`response`](Self::response) the whole answer.
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

    /// The complete HTTP response refusing the upgrade, closing the
    /// connection: 405 carries `Allow: GET`, 426 carries
    /// `Sec-WebSocket-Version: 13`.
    pub fn response(&self) -> Vec<u8> {
        let status = self.status();
        let reason = match status {
            405 => "Method Not Allowed",
            426 => "Upgrade Required",
            431 => "Request Header Fields Too Large",
            _ => "Bad Request",
        };
        let extra = match status {
            405 => "Allow: GET\r\n",
            426 => "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n",
            _ => "",
        };
        let body = self.to_string();
        format!(
            "HTTP/1.1 {status} {reason}\r\n{extra}Content-Type: text/plain; charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    }
}

/// The application's answer to an upgrade cannot be sent as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AcceptError {
    /// The chosen subprotocol is not one the client offered.
    #[error("subprotocol {0:?} was not offered")]
    ProtocolNotOffered(String),
    /// A header name is not a token, or its value holds CR, LF or NUL.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
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
    scanned: usize,
}

impl ServerHandshake {
    /// A handshake with the given limits on the request head.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: BytesMut::new(),
            scanned: 0,
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
        let max = self.limits.max_head_size;
        let Some(end) = find_head_end(&self.buf, &mut self.scanned) else {
            if self.buf.len() > max {
                return Err(HandshakeError::HeadTooLarge(max));
            }
            return Ok(None);
        };
        if end > max {
            return Err(HandshakeError::HeadTooLarge(max));
        }
        let (request, len) = Request::parse(&self.buf[..end], &self.limits)?;
        let mut upgrade = UpgradeRequest::validate(request)?;
        let mut rest = std::mem::take(&mut self.buf);
        // The buffer starts anew: so does the scan for the blank line.
        self.scanned = 0;
        upgrade.trailing = rest.split_off(len).freeze();
        Ok(Some(upgrade))
    }
}

/// A valid upgrade request, waiting for the application's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    request: Request,
    accept: String,
    protocols: Vec<String>,
    trailing: Bytes,
}

impl UpgradeRequest {
    /// Checks a request against RFC 6455 §4.2.1: GET, HTTP/1.1, one `Host`,
    /// `Upgrade: websocket` and `Connection: upgrade` (case-insensitive token
    /// lists), `Sec-WebSocket-Version: 13`, and a `Sec-WebSocket-Key` that is
    /// 16 bytes in base64.
    pub fn validate(request: Request) -> Result<Self, HandshakeError> {
        if request.method != "GET" {
            return Err(HandshakeError::MethodNotGet(request.method));
        }
        if request.version < 1 {
            return Err(HandshakeError::HttpVersion);
        }
        if values(&request.headers, "host").count() != 1 {
            return Err(HandshakeError::Host);
        }
        if !has_token(&request.headers, "upgrade", "websocket") {
            return Err(HandshakeError::Upgrade);
        }
        if !has_token(&request.headers, "connection", "upgrade") {
            return Err(HandshakeError::Connection);
        }
        let versions: Vec<&[u8]> = values(&request.headers, "sec-websocket-version").collect();
        if versions != [b"13"] {
            return Err(HandshakeError::Version);
        }
        let keys: Vec<&[u8]> = values(&request.headers, "sec-websocket-key").collect();
        let [key] = keys[..] else {
            return Err(HandshakeError::Key);
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(key)
            .map_err(|_| HandshakeError::Key)?;
        if decoded.len() != 16 {
            return Err(HandshakeError::Key);
        }
        let protocols = list(&request.headers, "sec-websocket-protocol")
            .map(|p| match std::str::from_utf8(p) {
                Ok(p) if is_token(p) => Ok(p.to_owned()),
                _ => Err(HandshakeError::Protocol),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let accept = accept_key(key);
        Ok(Self {
            accept,
            protocols,
            request,
            trailing: Bytes::new(),
        })
    }

    /// The request.
    pub fn request(&self) -> &Request {
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

    /// The 101 answer, selecting `protocol` (which must be one the client
    /// offered) and adding `headers` (names must be tokens, values free of
    /// CR, LF and NUL).
    ///
    /// A protocol that was not offered, or an invalid header, is the
    /// caller's mistake: nothing should be sent.
    pub fn accept(
        &self,
        protocol: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Vec<u8>, AcceptError> {
        if let Some(p) = protocol {
            if !self.protocols.iter().any(|o| o == p) {
                return Err(AcceptError::ProtocolNotOffered(p.to_owned()));
            }
        }
        if let Some((name, _)) = headers.iter().find(|(n, v)| !is_header(n, v)) {
            return Err(AcceptError::InvalidHeader((*name).to_owned()));
        }
        let mut out = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
            self.accept
        );
        if let Some(p) = protocol {
            out.push_str("Sec-WebSocket-Protocol: ");
            out.push_str(p);
            out.push_str("\r\n");
        }
        for (name, value) in headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        Ok(out.into_bytes())
    }
}
