//! What a request says beyond its method, target and headers: whether it
//! asks for an upgrade or a `100 Continue`, and the facts of it that decide
//! how a response to it is framed ([`Exchange`]).

use http::{HeaderMap, Method, Request, Version};

use crate::headers::{has_token, values};

/// Whether `req` asks to switch protocols: an `Upgrade` header with
/// `Connection: upgrade`.
pub fn is_upgrade<B>(req: &Request<B>) -> bool {
    let headers = req.headers();
    values(headers, "upgrade").next().is_some() && has_token(headers, "connection", "upgrade")
}

/// Whether `req` is an HTTP/1.1 request with `Expect: 100-continue`.
pub fn expects_continue<B>(req: &Request<B>) -> bool {
    req.version() == Version::HTTP_11
        && values(req.headers(), "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"))
}

/// What the framing of a response depends on in the request it answers:
/// the request's version, whether it was `HEAD`, and whether its sender
/// keeps the connection open.
///
/// [`ServerConn`](crate::ServerConn) records the exchange of each request
/// it gives; [`encode_response`](crate::encode_response) takes one for
/// responses written without a connection (or to pipelined requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exchange {
    /// The request's version: HTTP/1.0 gets close-delimited streams and
    /// `Connection: keep-alive`. Anything but HTTP/1.0 counts as HTTP/1.1.
    pub version: Version,
    /// The request was `HEAD`: the response has its headers and no body.
    pub head: bool,
    /// The request leaves the connection open: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`
    /// (and never with `Transfer-Encoding`, RFC 9112 §6.1).
    pub keep_alive: bool,
}

impl Default for Exchange {
    /// An HTTP/1.1 `GET` that keeps the connection open.
    fn default() -> Self {
        Self {
            version: Version::HTTP_11,
            head: false,
            keep_alive: true,
        }
    }
}

impl Exchange {
    /// The exchange of `req`.
    pub fn of<B>(req: &Request<B>) -> Self {
        Self {
            version: req.version(),
            head: req.method() == Method::HEAD,
            keep_alive: keep_alive(req.version(), req.headers()),
        }
    }

    /// The same exchange, ending the connection after its response.
    #[must_use]
    pub fn closing(mut self) -> Self {
        self.keep_alive = false;
        self
    }
}

/// Whether a request of `version` with `headers` keeps the connection open.
pub(crate) fn keep_alive(version: Version, headers: &HeaderMap) -> bool {
    if version == Version::HTTP_10 {
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has
        // faulty framing; read it, then close.
        values(headers, "transfer-encoding").next().is_none()
            && has_token(headers, "connection", "keep-alive")
            && !has_token(headers, "connection", "close")
    } else {
        !has_token(headers, "connection", "close")
    }
}
