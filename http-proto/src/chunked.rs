//! An incremental decoder of chunked bodies (RFC 9112 §7.1), for both
//! sides: [`ChunkedDecoder::next`] gives the data as it comes, which
//! [`ServerConn`](crate::ServerConn) gathers into a request body under its
//! limit and [`ClientConn`](crate::ClientConn) hands on as it is.

use bytes::{Buf as _, BytesMut};

use crate::{Limits, RequestError, ResponseError};

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

/// What [`ChunkedDecoder::next`] read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// Data of one chunk, as much as was buffered (never empty, never more
    /// than one chunk's).
    Data(BytesMut),
    /// The last chunk and the trailers (read and dropped) are read.
    End,
}

/// A malformed or oversized chunked body; each side gives it as its own
/// error type (`From`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChunkError {
    /// A chunk-size line, a chunk's CRLF or a trailer line is malformed.
    BadChunk,
    /// A chunk-size line is longer than this limit.
    LineTooLong(usize),
    /// The trailers are larger than this limit.
    TrailersTooLarge(usize),
    /// The chunk sizes add up to more than this limit (only with one), or
    /// one does not fit in a `u64`.
    BodyTooLarge(u64),
}

impl From<ChunkError> for RequestError {
    fn from(e: ChunkError) -> Self {
        match e {
            ChunkError::BadChunk => Self::BadChunk,
            ChunkError::LineTooLong(max) => Self::ChunkLineTooLong(max),
            ChunkError::TrailersTooLarge(max) => Self::TrailersTooLarge(max),
            ChunkError::BodyTooLarge(max) => Self::BodyTooLarge(max),
        }
    }
}

impl From<ChunkError> for ResponseError {
    fn from(e: ChunkError) -> Self {
        match e {
            // Without a body limit, only a size that does not fit in a u64.
            ChunkError::BadChunk | ChunkError::BodyTooLarge(_) => Self::BadChunk,
            ChunkError::LineTooLong(max) => Self::ChunkLineTooLong(max),
            ChunkError::TrailersTooLarge(max) => Self::TrailersTooLarge(max),
        }
    }
}

/// Decodes a chunked body from partial input, consuming what it has read;
/// it keeps no data, only where it is in the body.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    /// The sum of the chunk sizes read so far.
    announced: u64,
    trailer_bytes: usize,
}

impl ChunkedDecoder {
    pub(crate) fn new() -> Self {
        Self {
            state: State::Size,
            announced: 0,
            trailer_bytes: 0,
        }
    }

    /// Consumes `buf` up to the next piece of data or the end of the body,
    /// and gives it; `Ok(None)` when more input is needed (what `buf` holds
    /// then is less than a chunk-size line or a trailer line, within their
    /// limits, or one byte of a chunk's CRLF). After the end, the bytes
    /// that follow the body stay in `buf`, and the decoder starts anew.
    ///
    /// `max_body`, if any, bounds the sum of the chunk sizes: a chunk-size
    /// line that would pass it is refused before its data is read.
    pub(crate) fn next(
        &mut self,
        buf: &mut BytesMut,
        limits: &Limits,
        max_body: Option<u64>,
    ) -> Result<Option<Decoded>, ChunkError> {
        loop {
            match self.state {
                State::Size => {
                    let max = limits.max_chunk_line;
                    let Some(line) = take_line(buf, max).map_err(|e| match e {
                        LineError::TooLong => ChunkError::LineTooLong(max),
                        LineError::BareLf => ChunkError::BadChunk,
                    })?
                    else {
                        return Ok(None);
                    };
                    let too_large = ChunkError::BodyTooLarge(max_body.unwrap_or(u64::MAX));
                    let size = chunk_size(&line)?.ok_or_else(|| too_large.clone())?;
                    if size == 0 {
                        self.state = State::Trailers;
                    } else {
                        self.announced = self.announced.saturating_add(size);
                        if max_body.is_some_and(|max| self.announced > max) {
                            return Err(too_large);
                        }
                        self.state = State::Data(size);
                    }
                }
                State::Data(remaining) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let n = usize::try_from(remaining).map_or(buf.len(), |r| r.min(buf.len()));
                    let left = remaining - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    return Ok(Some(Decoded::Data(buf.split_to(n))));
                }
                State::DataEnd => {
                    if buf.len() < 2 {
                        if buf.first().is_some_and(|&b| b != b'\r') {
                            return Err(ChunkError::BadChunk);
                        }
                        return Ok(None);
                    }
                    if &buf[..2] != b"\r\n" {
                        return Err(ChunkError::BadChunk);
                    }
                    buf.advance(2);
                    self.state = State::Size;
                }
                State::Trailers => {
                    let max = limits.max_head_size;
                    let budget = max.saturating_sub(self.trailer_bytes);
                    let Some(line) = take_line(buf, budget).map_err(|e| match e {
                        LineError::TooLong => ChunkError::TrailersTooLarge(max),
                        LineError::BareLf => ChunkError::BadChunk,
                    })?
                    else {
                        return Ok(None);
                    };
                    if line.is_empty() {
                        *self = Self::new();
                        return Ok(Some(Decoded::End));
                    }
                    self.trailer_bytes += line.len() + 2;
                    if line.iter().any(|&b| b == b'\r' || b == 0) || !line.contains(&b':') {
                        return Err(ChunkError::BadChunk);
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
/// RFC 9112 §7.1.1's BWS), then extensions (ignored). `Ok(None)` for a
/// size that does not fit in a `u64`.
fn chunk_size(line: &[u8]) -> Result<Option<u64>, ChunkError> {
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(ChunkError::BadChunk);
    }
    let mut size: Option<u64> = Some(0);
    for &b in &line[..digits] {
        let d = u64::from((b as char).to_digit(16).unwrap_or(0));
        size = size
            .and_then(|s| s.checked_mul(16))
            .and_then(|s| s.checked_add(d));
    }
    let rest = &line[digits..];
    let bws = rest
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    let ext = &rest[bws..];
    if !(ext.is_empty() || ext[0] == b';') || (ext.is_empty() && !rest.is_empty()) {
        return Err(ChunkError::BadChunk);
    }
    if ext.iter().any(|&b| b == b'\r' || b == 0) {
        return Err(ChunkError::BadChunk);
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything `next` gives for `input` fed in pieces of `step` bytes:
    /// the data pieces, then whether the end came, and what was left.
    fn decode(
        input: &[u8],
        step: usize,
        max_body: Option<u64>,
    ) -> (Vec<Vec<u8>>, Result<bool, ChunkError>, Vec<u8>) {
        let limits = Limits::default().max_chunk_line(20).max_head_size(32);
        let mut decoder = ChunkedDecoder::new();
        let mut buf = BytesMut::new();
        let mut pieces = Vec::new();
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.next(&mut buf, &limits, max_body) {
                    Ok(Some(Decoded::Data(d))) => {
                        assert!(!d.is_empty(), "empty data");
                        pieces.push(d.to_vec());
                    }
                    Ok(Some(Decoded::End)) => return (pieces, Ok(true), buf.to_vec()),
                    Ok(None) => break,
                    Err(e) => return (pieces, Err(e), buf.to_vec()),
                }
            }
        }
        (pieces, Ok(false), buf.to_vec())
    }

    #[test]
    fn data_comes_as_it_is_buffered_and_never_joins_chunks() {
        let input = b"3;x=1\r\nabc\r\n5\r\ndefgh\r\n0\r\nT: 1\r\n\r\nnext";
        let (pieces, end, rest) = decode(input, input.len(), None);
        assert_eq!(pieces, [&b"abc"[..], b"defgh"]);
        assert_eq!((end, &rest[..]), (Ok(true), &b"next"[..]));
        let (pieces, end, rest) = decode(input, 1, None);
        assert_eq!(pieces.len(), 8, "one piece per byte");
        assert_eq!(pieces.concat(), b"abcdefgh");
        assert_eq!((end, &rest[..]), (Ok(true), &b""[..]));
        let (pieces, _, _) = decode(input, 9, None);
        assert_eq!(pieces, [&b"ab"[..], b"c", b"def", b"gh"]);
    }

    #[test]
    fn the_body_limit_is_checked_at_the_size_line() {
        let input = b"3\r\nabc\r\n4\r\n";
        let (pieces, end, _) = decode(input, 1, Some(6));
        assert_eq!(pieces.concat(), b"abc");
        assert_eq!(end, Err(ChunkError::BodyTooLarge(6)));
        let (_, end, _) = decode(input, 1, Some(7));
        assert_eq!(end, Ok(false));
        let (_, end, _) = decode(input, 1, None);
        assert_eq!(end, Ok(false));
    }

    /// The announced sizes used to be added without overflow check: a
    /// second chunk of `u64::MAX` bytes panicked in a debug build (and
    /// wrapped under the limit in release).
    #[test]
    fn sizes_that_overflow_are_too_large() {
        let input = b"1\r\na\r\nffffffffffffffff\r\n";
        let (_, end, _) = decode(input, input.len(), Some(100));
        assert_eq!(end, Err(ChunkError::BodyTooLarge(100)));
        let (pieces, end, _) = decode(input, input.len(), None);
        assert_eq!((pieces.concat(), end), (b"a".to_vec(), Ok(false)));
        let (_, end, _) = decode(b"10000000000000000\r\n", 32, None);
        assert_eq!(end, Err(ChunkError::BodyTooLarge(u64::MAX)));
        assert_eq!(
            ResponseError::from(ChunkError::BodyTooLarge(u64::MAX)),
            ResponseError::BadChunk
        );
    }

    #[test]
    fn lines_within_their_limits() {
        let (_, end, rest) = decode(b"00000000000000000003", 1, None);
        assert_eq!((end, rest.len()), (Err(ChunkError::LineTooLong(20)), 20));
        let (_, end, rest) = decode(b"0000000000000000003", 1, None);
        assert_eq!((end, rest.len()), (Ok(false), 19));
        // 17 + 15 bytes of trailer lines, and the empty line: 34 bytes.
        let trailers = b"0\r\nA: 0123456789ab\r\nB: 0123456789\r\n\r\n";
        let (_, end, _) = decode(trailers, 1, None);
        assert_eq!(end, Err(ChunkError::TrailersTooLarge(32)));
        let (_, end, _) = decode(&trailers[..25], 1, None);
        assert_eq!(end, Ok(false));
        let (_, end, _) = decode(b"0\r\nA: 0123456789ab\r\nB: 01234567\r\n\r\n", 1, None);
        assert_eq!(end, Ok(true));
    }
}
