//! The opening handshake (RFC 6455 §4): a server's validation of the
//! upgrade request and its 101 answer, and a client's request and its
//! validation of the answer.
//!
//! Both sides read the HTTP head from partial input with size and count
//! limits, and hand the bytes that follow the head on (`trailing`): they are
//! the first WebSocket frames and must reach the
//! [`Connection`](crate::Connection).

mod client;
mod server;

pub use client::{ClientHandshake, ClientRequest, InvalidRequest, Response, ResponseError};
pub use server::{AcceptError, HandshakeError, Request, ServerHandshake, UpgradeRequest};

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID that RFC 6455 §1.3 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
///
/// ```
/// assert_eq!(
///     ws_proto::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Limits on an HTTP head, with documented defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The longest head, request or status line and headers with the blank
    /// line: 16 KiB by default.
    pub max_head_size: usize,
    /// The most header fields: 64 by default.
    pub max_headers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head_size: 16 * 1024,
            max_headers: 64,
        }
    }
}

impl Limits {
    /// Sets [`max_head_size`](Self::max_head_size).
    #[must_use]
    pub fn max_head_size(mut self, bytes: usize) -> Self {
        self.max_head_size = bytes;
        self
    }

    /// Sets [`max_headers`](Self::max_headers).
    #[must_use]
    pub fn max_headers(mut self, count: usize) -> Self {
        self.max_headers = count;
        self
    }
}

/// One header field, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name, as sent (compare it case-insensitively).
    pub name: String,
    /// The value, with surrounding whitespace removed.
    pub value: Vec<u8>,
}

/// The values of every header called `name` (case-insensitive).
fn values<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_slice())
}

/// The comma-separated elements of every header called `name`, trimmed,
/// empty elements skipped (RFC 9110 §5.6.1).
fn list<'a>(headers: &'a [Header], name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
    values(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|e| !e.is_empty())
}

/// Whether a list header holds `token`, case-insensitively.
fn has_token(headers: &[Header], name: &str, token: &str) -> bool {
    list(headers, name).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// A token (RFC 9110 §5.6.2): what a subprotocol name must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a header can be written as given: the name a token, the value
/// free of CR, LF and NUL (which would let it inject headers).
fn is_header(name: &str, value: &str) -> bool {
    is_token(name) && !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Finds the end of an HTTP head (just past the blank line), scanning from
/// `*scanned` so that input arriving in pieces is looked at once.
///
/// The head ends at an empty line: a line feed followed by `\r\n` or by a
/// bare `\n` (which httparse accepts as a line ending too).
fn find_head_end(buf: &[u8], scanned: &mut usize) -> Option<usize> {
    let start = scanned.saturating_sub(2);
    let found = (start..buf.len()).find_map(|i| {
        if buf[i] != b'\n' {
            return None;
        }
        match buf.get(i + 1..) {
            Some([b'\n', ..]) => Some(i + 2),
            Some([b'\r', b'\n', ..]) => Some(i + 3),
            _ => None,
        }
    });
    *scanned = buf.len();
    found
}

/// Copies httparse's headers into owned ones.
fn own_headers(parsed: &[httparse::Header<'_>]) -> Vec<Header> {
    parsed
        .iter()
        .map(|h| Header {
            name: h.name.to_owned(),
            value: h.value.trim_ascii().to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_section_1_3_accept_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_head_with_bare_line_feeds_ends_at_its_empty_line() {
        let head = b"GET / HTTP/1.1\nHost: a\n\nrest";
        let mut scanned = 0;
        assert_eq!(find_head_end(head, &mut scanned), Some(head.len() - 4));
        let mixed = b"GET / HTTP/1.1\r\nHost: a\n\r\nrest";
        let mut scanned = 0;
        assert_eq!(find_head_end(mixed, &mut scanned), Some(mixed.len() - 4));
    }

    #[test]
    fn head_end_is_found_across_pieces() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nrest";
        for cut in 0..head.len() {
            let mut scanned = 0;
            let first = find_head_end(&head[..cut], &mut scanned);
            let found = first.or_else(|| find_head_end(head, &mut scanned));
            assert_eq!(found, Some(head.len() - 4), "cut {cut}");
        }
    }
}
