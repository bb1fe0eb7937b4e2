//! An incremental decoder of chunked bodies (RFC 9112 §7.1).

use bytes::{Buf as _, BytesMut};

use crate::{Limits, RequestError};

/// Where the decoder is in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading a chunk-size line.
    Size,
    /// Reading chunk data: this many bytes remain.
    Data(u64),
    /// Reading the CRLF after a chunk's data.
    DataEnd,
    /// Reading trailer lines until the empty one.
    Trailers,
}

/// Decodes a chunked body from partial input, consuming what it has read.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    body: BytesMut,
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    pub(crate) fn new() -> Self {
        Self {
            state: State::Size,
            body: BytesMut::new(),
            trailer_bytes: 0,
        }
    }

    /// Consumes what it can of `buf`; gives the body once the last chunk and
    /// the trailers are read, leaving the bytes after them in `buf`.
    pub(crate) fn decode(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
    ) -> Result<Option<BytesMut>, RequestError> {
        loop {
            match self.state {
                State::Size => {
                    let Some(line) =
                        take_line(buf, limits.max_chunk_line).map_err(|e| match e {
                            LineError::TooLong => {
                                RequestError::ChunkLineTooLong(limits.max_chunk_line)
                            }
                            LineError::BareLf => RequestError::BadChunk,
                        })?
                    else {
                        return Ok(None);
                    };
                    let size = chunk_size(&line, limits.max_body_size)?;
                    if size == 0 {
                        self.state = State::Trailers;
                    } else {
                        if self.body.len() as u64 + size > limits.max_body_size {
                            return Err(RequestError::BodyTooLarge(limits.max_body_size));
                        }
                        self.state = State::Data(size);
                    }
                }
                State::Data(remaining) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
                    self.body.extend_from_slice(&buf[..n]);
                    buf.advance(n);
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        if buf.first().is_some_and(|&b| b != b'\r') {
                            return Err(RequestError::BadChunk);
                        }
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(RequestError::BadChunk);
                    }
                    buf.advance(2);
                    self.state = State::Size;
                }
                State::Trailers => {
                    let budget = limits.max_head_size.saturating_sub(self.trailer_bytes);
                    let Some(line) = take_line(buf, budget).map_err(|e| match e {
                        LineError::TooLong => RequestError::TrailersTooLarge(limits.max_head_size),
                        LineError::BareLf => RequestError::BadChunk,
                    })?
                    else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        self.state = State::Size;
                        return Ok(Some(std::mem::take(&mut self.body)));
                    }
                    self.trailer_bytes += line.len() + 2;
                    if line.iter().any(|&b| b == b'\r' || b == 0) || !line.contains(&b':') {
                        return Err(RequestError::BadChunk);
                    }
                }
            }
        }
    }
}

/// Why a line could not be taken.
enum LineError {
    /// No line ends within the limit.
    TooLong,
    /// The line ends with a bare LF, which lenient parsers read differently
    /// (a request smuggling vector): refused.
    BareLf,
}

/// Takes a CRLF-terminated line, at most `max` bytes with its CRLF, from the
/// front of `buf`; gives it without the CRLF, or `Ok(None)` if more input
/// is needed.
fn take_line(buf: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, LineError> {
    match buf.iter().take(max).position(|&b| b == b'\n') {
        Some(pos) => {
            if pos == 0 || buf[pos - 1] != b'\r' {
                return Err(LineError::BareLf);
            }
            let mut line = buf.split_to(pos + 1);
            line.truncate(pos - 1);
            Ok(Some(line))
        }
        None if buf.len() >= max => Err(LineError::TooLong),
        None => Ok(None),
    }
}

/// Parses a chunk-size line: hex digits, optional whitespace (SP or HTAB,
/// RFC 9112 §7.1.1's BWS), then extensions (ignored).
fn chunk_size(line: &[u8], max_body: u64) -> Result<u64, RequestError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(RequestError::BadChunk);
    }
    let mut size: u64 = 0;
    for &b in &line[..digits] {
        let d = u64::from((b as char).to_digit(16).unwrap_or(0));
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(d))
            .ok_or(RequestError::BodyTooLarge(max_body))?;
    }
    let rest = &line[digits..];
    let bws = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let ext = &rest[bws..];
    if !(ext.is_empty() || ext[0] == b';') || (ext.is_empty() && !rest.is_empty()) {
        return Err(RequestError::BadChunk);
    }
    if ext.iter().any(|&b| b == b'\r' || b == 0) {
        return Err(RequestError::BadChunk);
    }
    Ok(size)
}
