//! Response encoding: the framing chosen from the response and its body,
//! the head with the framing headers, and chunks.
//!
//! | status, request | [`BodyKind::Length`]`(n)` | [`BodyKind::Stream`] | [`BodyKind::None`] |
//! | --- | --- | --- | --- |
//! | 1xx, 204, 304 | no framing header, no body | same | same |
//! | answer to `HEAD` | `Content-Length: n`, no body | no framing header, no body | `Content-Length: 0` |
//! | HTTP/1.1 request | `Content-Length: n` | `Transfer-Encoding: chunked` | `Content-Length: 0` |
//! | HTTP/1.0 request | `Content-Length: n` | close-delimited | `Content-Length: 0` |
//!
//! Then `Connection`: `close` when the connection ends after this response
//! (the request did not keep it open, the response says `Connection:
//! close`, or the body is close-delimited), `keep-alive` when an HTTP/1.0
//! connection stays open; neither on a 1xx response, nor when the
//! response's own `Connection` header already says it.

use bytes::{BufMut as _, BytesMut};
use http::header::{CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderName, Response, StatusCode, Version};

use crate::headers::has_token;
use crate::{EncodeError, Exchange};

/// The interim response to write when [`ServerConn::poll_continue`]
/// says so.
///
/// [`ServerConn::poll_continue`]: crate::ServerConn::poll_continue
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What follows a message head, as the caller knows it (for a response:
/// [`encode_response`]; for a request: [`encode_request`]).
///
/// [`encode_request`]: crate::encode_request
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body: `Content-Length: 0` where the status allows a body.
    None,
    /// A body of exactly this many bytes.
    Length(u64),
    /// A body of unknown length, written piece by piece as it comes.
    Stream,
}

/// How the body after an encoded head is delimited: how to write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`: write exactly `n` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`: write the body with [`encode_chunk`]
    /// and end it with [`encode_last_chunk`].
    Chunked,
    /// The body ends when the connection closes: write it as it is, then
    /// close.
    CloseDelimited,
    /// Write no body (1xx, 204, 304, an answer to `HEAD`, an empty body).
    None,
}

/// What [`encode_response`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Encoded {
    /// How to write the body.
    pub framing: Framing,
    /// Whether the connection carries another request after this response
    /// (never after a 101: the connection leaves HTTP).
    pub keep_alive: bool,
}

/// Writes the head of `res` (its body is not looked at) to `out`, with the
/// framing headers that `body` and `exchange` call for (see the table in
/// the module doc), and says how to write the body.
///
/// The status line always reads `HTTP/1.1` (the server's version, RFC 9110
/// §6.2) and the status's canonical reason phrase (none for a status
/// without one). Header names are written in title case (`Content-Type`),
/// with `WebSocket`, `ETag`, `WWW` and a few more as they are customarily
/// spelled; fields in the order of `res.headers()`. `Content-Length` and
/// `Transfer-Encoding` belong to the encoder: a response carrying either is
/// refused, and nothing is written. Names and values cannot hold CR, LF or
/// NUL: the `http` crate's types refuse them.
pub fn encode_response<B>(
    res: &Response<B>,
    body: BodyKind,
    exchange: Exchange,
    out: &mut BytesMut,
) -> Result<Encoded, EncodeError> {
    let headers = res.headers();
    for name in [CONTENT_LENGTH, TRANSFER_ENCODING] {
        if headers.contains_key(&name) {
            return Err(EncodeError::FramingHeader(name));
        }
    }
    let status = res.status();
    let http10 = exchange.version == Version::HTTP_10;
    let (length, framing) = if has_no_body(status) {
        (None, Framing::None)
    } else {
        match body {
            BodyKind::None => (Some(0), Framing::None),
            BodyKind::Length(n) if exchange.head => (Some(n), Framing::None),
            BodyKind::Length(n) => (Some(n), Framing::Length(n)),
            BodyKind::Stream if exchange.head => (None, Framing::None),
            BodyKind::Stream if http10 => (None, Framing::CloseDelimited),
            BodyKind::Stream => (None, Framing::Chunked),
        }
    };
    let says_close = has_token(headers, CONNECTION, "close");
    let keep_alive = exchange.keep_alive && !says_close && framing != Framing::CloseDelimited;

    out.reserve(64 + headers.len() * 32);
    out.put_slice(b"HTTP/1.1 ");
    out.put_slice(status.as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(status.canonical_reason().unwrap_or("").as_bytes());
    out.put_slice(b"\r\n");
    for (name, value) in headers {
        put_title_case(name, out);
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    if let Some(n) = length {
        out.put_slice(b"Content-Length: ");
        out.put_slice(n.to_string().as_bytes());
        out.put_slice(b"\r\n");
    }
    if framing == Framing::Chunked {
        out.put_slice(b"Transfer-Encoding: chunked\r\n");
    }
    if !status.is_informational() {
        if !keep_alive && !says_close {
            out.put_slice(b"Connection: close\r\n");
        } else if keep_alive && http10 && !has_token(headers, CONNECTION, "keep-alive") {
            out.put_slice(b"Connection: keep-alive\r\n");
        }
    }
    out.put_slice(b"\r\n");
    Ok(Encoded {
        framing,
        keep_alive: keep_alive && status != StatusCode::SWITCHING_PROTOCOLS,
    })
}

/// 1xx, 204 and 304 have no body and no length (RFC 9110 §6.4.1).
fn has_no_body(status: StatusCode) -> bool {
    status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// Words of header names not spelled in plain title case.
const SPELLED: &[&str] = &[
    "WebSocket",
    "ETag",
    "WWW",
    "MD5",
    "DNT",
    "XSS",
    "TE",
    "CSP",
    "UA",
];

/// Writes `name` in title case: each `-`-separated word capitalized,
/// except the words in [`SPELLED`], which are written as spelled there
/// (`sec-websocket-accept` is `Sec-WebSocket-Accept`, `etag` is `ETag`).
pub(crate) fn put_title_case(name: &HeaderName, out: &mut BytesMut) {
    if let Some(written) = common_title_case(name.as_str()) {
        out.put_slice(written.as_bytes());
        return;
    }
    for (i, word) in name.as_str().split('-').enumerate() {
        if i > 0 {
            out.put_u8(b'-');
        }
        if let Some(spelled) = SPELLED.iter().find(|s| s.eq_ignore_ascii_case(word)) {
            out.put_slice(spelled.as_bytes());
            continue;
        }
        if let Some((first, rest)) = word.as_bytes().split_first() {
            out.put_u8(first.to_ascii_uppercase());
            out.put_slice(rest);
        }
    }
}

/// The names of most responses' headers, written out (what
/// [`put_title_case`] makes of them, without the word by word work).
fn common_title_case(name: &str) -> Option<&'static str> {
    Some(match name {
        "content-type" => "Content-Type",
        "content-length" => "Content-Length",
        "cache-control" => "Cache-Control",
        "connection" => "Connection",
        "transfer-encoding" => "Transfer-Encoding",
        "date" => "Date",
        "vary" => "Vary",
        "access-control-allow-origin" => "Access-Control-Allow-Origin",
        "access-control-allow-credentials" => "Access-Control-Allow-Credentials",
        "set-cookie" => "Set-Cookie",
        "upgrade" => "Upgrade",
        "sec-websocket-accept" => "Sec-WebSocket-Accept",
        "sec-websocket-protocol" => "Sec-WebSocket-Protocol",
        "host" => "Host",
        "origin" => "Origin",
        _ => return None,
    })
}

/// Writes `data` as one chunk; nothing for empty data (an empty chunk
/// would end the body).
pub fn encode_chunk(data: &[u8], out: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    // The size in hex, then CRLF: at most 16 digits.
    let mut size = [0u8; 18];
    let mut at = 16;
    let mut n = data.len();
    loop {
        at -= 1;
        size[at] = b"0123456789ABCDEF"[n & 0xf];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    size[16..].copy_from_slice(b"\r\n");
    out.reserve(18 - at + data.len() + 2);
    out.put_slice(&size[at..]);
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// Writes the last chunk, ending a chunked body with no trailers.
pub fn encode_last_chunk(out: &mut BytesMut) {
    out.put_slice(b"0\r\n\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word by word title case, without the table of common names.
    fn word_by_word(name: &str) -> String {
        let mut out = String::new();
        for (i, word) in name.split('-').enumerate() {
            if i > 0 {
                out.push('-');
            }
            if let Some(spelled) = SPELLED.iter().find(|s| s.eq_ignore_ascii_case(word)) {
                out.push_str(spelled);
            } else {
                let mut chars = word.chars();
                out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
                out.push_str(chars.as_str());
            }
        }
        out
    }

    fn title_case(name: &str) -> String {
        let mut out = BytesMut::new();
        put_title_case(&HeaderName::from_bytes(name.as_bytes()).unwrap(), &mut out);
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn common_names_are_written_as_word_by_word_would() {
        for name in [
            "content-type",
            "content-length",
            "cache-control",
            "connection",
            "transfer-encoding",
            "date",
            "vary",
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "set-cookie",
            "upgrade",
            "sec-websocket-accept",
            "sec-websocket-protocol",
            "host",
            "origin",
        ] {
            assert!(common_title_case(name).is_some(), "{name} is in the table");
            assert_eq!(title_case(name), word_by_word(name));
        }
        assert_eq!(title_case("sec-websocket-accept"), "Sec-WebSocket-Accept");
        assert_eq!(
            title_case("x-dns-prefetch-control"),
            "X-Dns-Prefetch-Control"
        );
        assert_eq!(title_case("www-authenticate"), "WWW-Authenticate");
        assert_eq!(title_case("etag"), "ETag");
        assert_eq!(title_case("x--y"), "X--Y");
    }

    #[test]
    fn chunk_sizes_are_hex_without_leading_zeros() {
        for (len, head) in [
            (1, "1"),
            (15, "F"),
            (16, "10"),
            (255, "FF"),
            (4096, "1000"),
            (65_537, "10001"),
        ] {
            let data = vec![b'x'; len];
            let mut out = BytesMut::new();
            encode_chunk(&data, &mut out);
            let expected = [head.as_bytes(), b"\r\n", &data, b"\r\n"].concat();
            assert_eq!(&out[..], &expected[..], "{len}");
        }
        let mut out = BytesMut::new();
        encode_chunk(b"", &mut out);
        assert!(out.is_empty());
    }
}
