//! How a message's body is delimited, from its `Content-Length` and
//! `Transfer-Encoding` fields (RFC 9112 §6.1-6.3), read the same way for
//! requests and responses; each side then applies what the message is
//! (a `HEAD` answer, a 204) and its own limits.

use http::HeaderMap;

use crate::headers::{list, values};
use crate::{RequestError, ResponseError};

/// What the framing fields say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delimited {
    /// `Content-Length: n`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither field: an empty request body, a close-delimited response.
    Unframed,
}

/// Framing fields refused; each side gives it as its own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FramingError {
    /// `Content-Length` is not a number, or its values differ.
    ContentLength,
    /// Both `Content-Length` and `Transfer-Encoding`.
    Conflicting,
    /// `chunked` other than once, last.
    ChunkedNotLast,
    /// A coding other than `chunked`.
    UnsupportedCoding,
}

impl From<FramingError> for RequestError {
    fn from(e: FramingError) -> Self {
        match e {
            FramingError::ContentLength => Self::ContentLength,
            FramingError::Conflicting => Self::ConflictingFraming,
            FramingError::ChunkedNotLast => Self::ChunkedNotLast,
            FramingError::UnsupportedCoding => Self::UnsupportedTransferCoding,
        }
    }
}

impl From<FramingError> for ResponseError {
    fn from(e: FramingError) -> Self {
        match e {
            FramingError::ContentLength => Self::ContentLength,
            FramingError::Conflicting => Self::ConflictingFraming,
            FramingError::ChunkedNotLast => Self::ChunkedNotLast,
            FramingError::UnsupportedCoding => Self::UnsupportedTransferCoding,
        }
    }
}

/// Reads the framing fields, stricter than RFC 9112 where leniency is a
/// request smuggling vector: every `Content-Length` value (lists
/// included) is digits and they agree; `Transfer-Encoding` with
/// `Content-Length` is refused (not "Transfer-Encoding wins"); the only
/// coding is `chunked`, once.
pub(crate) fn delimited(headers: &HeaderMap) -> Result<Delimited, FramingError> {
    let has_te = values(headers, "transfer-encoding").next().is_some();
    let mut length: Option<u64> = None;
    for v in values(headers, "content-length") {
        for e in v.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
                return Err(FramingError::ContentLength);
            }
            let n = std::str::from_utf8(e)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(FramingError::ContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(FramingError::ContentLength);
            }
            length = Some(n);
        }
    }
    if values(headers, "content-length").next().is_some() && length.is_none() {
        return Err(FramingError::ContentLength);
    }
    if has_te {
        if length.is_some() {
            return Err(FramingError::Conflicting);
        }
        let codings: Vec<&[u8]> = list(headers, "transfer-encoding").collect();
        let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
        if codings.iter().any(|c| !chunked(c)) {
            return Err(FramingError::UnsupportedCoding);
        }
        if codings.len() != 1 {
            return Err(FramingError::ChunkedNotLast);
        }
        return Ok(Delimited::Chunked);
    }
    Ok(length.map_or(Delimited::Unframed, Delimited::Length))
}
