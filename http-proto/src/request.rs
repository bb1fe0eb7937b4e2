//! A request as read from the connection.

use bytes::Bytes;

/// One header field, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name, as sent (compare it case-insensitively).
    pub name: String,
    /// The value, with surrounding whitespace removed.
    pub value: Vec<u8>,
}

/// A complete request: head and decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target, e.g. `/echo/000/abc/xhr_send`.
    pub target: String,
    /// The minor HTTP version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    /// The header fields in order.
    pub headers: Vec<Header>,
    /// The body, de-chunked; empty without `Content-Length` or chunking.
    pub body: Bytes,
    /// Whether the connection stays open after the response: HTTP/1.1
    /// unless `Connection: close`, HTTP/1.0 only with
    /// `Connection: keep-alive` (and never with `Transfer-Encoding`, RFC
    /// 9112 §6.1).
    pub keep_alive: bool,
    /// `Expect: 100-continue` on an HTTP/1.1 request.
    pub expects_continue: bool,
    /// An `Upgrade` header with `Connection: upgrade`.
    pub upgrade: bool,
}

impl Request {
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

/// Every value of the header `name`.
pub(crate) fn values<'a>(
    headers: &'a [Header],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_slice())
}

/// Every element of the comma-separated lists in the headers `name`, trimmed,
/// empty elements skipped.
pub(crate) fn list<'a>(
    headers: &'a [Header],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    values(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|e| !e.is_empty())
}

/// Whether the lists in the headers `name` hold `token` (case-insensitive).
pub(crate) fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    list(headers, name).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}
