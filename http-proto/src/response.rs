//! Response encoding: the head with its framing headers, and chunks.

use std::fmt::Write as _;

use bytes::{BufMut as _, BytesMut};

use crate::EncodeError;

/// The interim response to write when [`ServerConn::poll_continue`]
/// says so.
///
/// [`ServerConn::poll_continue`]: crate::ServerConn::poll_continue
pub const CONTINUE_100: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`: write the body with [`encode_chunk`]
    /// and end it with [`encode_last_chunk`]. HTTP/1.0 gets
    /// [`CloseDelimited`](Self::CloseDelimited) instead.
    Chunked,
    /// The body ends when the connection closes: adds `Connection: close`.
    CloseDelimited,
    /// No body and no length header: for 1xx (101), 204 and 304.
    None,
}

/// Writes a response head to `out`, with the headers `framing` needs, and
/// gives the framing actually used: [`Framing::Chunked`] becomes
/// [`Framing::CloseDelimited`] for HTTP/1.0 (`version` is the request's
/// minor version).
///
/// The status line always reads `HTTP/1.1` (the server's version, RFC 9110
/// §6.2). `Connection: close` is added when `keep_alive` is false or the
/// body is close-delimited; `Connection: keep-alive` for a kept-alive
/// HTTP/1.0 connection. `Content-Length` and `Transfer-Encoding` may not be
/// passed in `headers`. Nothing is written on error.
pub fn encode_head(
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    framing: Framing,
    version: u8,
    keep_alive: bool,
    out: &mut BytesMut,
) -> Result<Framing, EncodeError> {
    if !(100..=999).contains(&status) {
        return Err(EncodeError::Status(status));
    }
    if reason.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        return Err(EncodeError::Reason);
    }
    for &(name, value) in headers {
        if !is_token(name) {
            return Err(EncodeError::HeaderName(name.to_owned()));
        }
        if value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(EncodeError::HeaderValue(name.to_owned()));
        }
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            return Err(EncodeError::FramingHeader(name.to_owned()));
        }
    }
    let framing = match framing {
        Framing::Chunked if version == 0 => Framing::CloseDelimited,
        f => f,
    };
    let mut head = String::with_capacity(64);
    let _ = write!(head, "HTTP/1.1 {status} {reason}\r\n");
    for &(name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    match framing {
        Framing::Length(n) => {
            let _ = write!(head, "Content-Length: {n}\r\n");
        }
        Framing::Chunked => head.push_str("Transfer-Encoding: chunked\r\n"),
        Framing::CloseDelimited | Framing::None => {}
    }
    if !keep_alive || framing == Framing::CloseDelimited {
        head.push_str("Connection: close\r\n");
    } else if version == 0 {
        head.push_str("Connection: keep-alive\r\n");
    }
    head.push_str("\r\n");
    out.put_slice(head.as_bytes());
    Ok(framing)
}

/// Writes `data` as one chunk; nothing for empty data (an empty chunk
/// would end the body).
pub fn encode_chunk(data: &[u8], out: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    let size = format!("{:X}\r\n", data.len());
    out.reserve(size.len() + data.len() + 2);
    out.put_slice(size.as_bytes());
    out.put_slice(data);
    out.put_slice(b"\r\n");
}

/// Writes the last chunk, ending a chunked body with no trailers.
pub fn encode_last_chunk(out: &mut BytesMut) {
    out.put_slice(b"0\r\n\r\n");
}

/// Whether `s` is an RFC 9110 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
