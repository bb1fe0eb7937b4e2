//! [`HeadReader`]: one HTTP head (request or response) from partial input,
//! parsed with `httparse` into the `http` crate's types.

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri, Version};

use crate::{HeadError, Limits, RequestError};

/// Finds the end of a head in partial input and parses it, with the size
/// and count [`Limits`]; each byte is looked at once however the input is
/// cut.
///
/// [`ServerConn`](crate::ServerConn) reads request heads with it; a peer
/// that sends one head and then another protocol (a WebSocket handshake)
/// can use it alone. The caller keeps the bytes: `read_*` is called with
/// everything received so far, and gives the head with how many bytes it
/// took (empty lines before a request line included, RFC 9112 §2.2).
///
/// A head is too large when `max_head_size` bytes are buffered without its
/// end among them: it cannot be complete within the limit.
#[derive(Debug, Clone)]
pub struct HeadReader {
    limits: Limits,
    /// How far the buffer was searched for the end of the head, from its
    /// start (after the empty lines before a request line).
    scanned: usize,
}

impl HeadReader {
    /// A reader with these limits (`max_head_size` and `max_headers`).
    pub fn new(limits: Limits) -> Self {
        Self { limits, scanned: 0 }
    }

    /// The request head at the start of `buf` once it is complete:
    /// `Ok(None)` until then. Empty lines before it count toward the size
    /// limit.
    pub fn read_request(
        &mut self,
        buf: &[u8],
    ) -> Result<Option<(Request<()>, usize)>, RequestError> {
        // The empty lines before the request line: once it starts, their
        // count no longer changes.
        let start = leading_blank_lines(buf);
        let end = match self.find_end(buf, start) {
            Ok(Some(end)) => end,
            // A request that cannot become valid is refused at once, not
            // when its head is whole (which bytes with no line end, such as
            // a TLS hello on a plain port, never make) or too large: its
            // method so far must be a token.
            Ok(None) | Err(_) if !method_may_start(self.head_window(buf, start)) => {
                return Err(RequestError::Malformed)
            }
            Ok(None) => return Ok(None),
            Err(max) => return Err(RequestError::HeadTooLarge(max)),
        };
        let parsed = parse_request(&buf[start..end], self.limits.max_headers)?;
        Ok(Some((parsed, end)))
    }

    /// The response head at the start of `buf` once it is complete:
    /// `Ok(None)` until then.
    pub fn read_response(
        &mut self,
        buf: &[u8],
    ) -> Result<Option<(Response<()>, usize)>, HeadError> {
        let Some(end) = self.find_end(buf, 0).map_err(HeadError::TooLarge)? else {
            return Ok(None);
        };
        Ok(Some((
            parse_response(&buf[..end], self.limits.max_headers)?,
            end,
        )))
    }

    /// The bytes of the head that starts at `start` that count: at most
    /// `max_head_size` of them.
    fn head_window<'b>(&self, buf: &'b [u8], start: usize) -> &'b [u8] {
        &buf[start
            ..buf
                .len()
                .min(start.saturating_add(self.limits.max_head_size))]
    }

    /// Whether nothing of a head has been looked at yet.
    pub(crate) fn is_fresh(&self) -> bool {
        self.scanned == 0
    }

    /// Where the head that starts at `start` ends in `buf`, if its end is
    /// there; `Err(max)` when it cannot be within the limit. Once it gives
    /// a head, the search starts anew.
    fn find_end(&mut self, buf: &[u8], start: usize) -> Result<Option<usize>, usize> {
        let max = self.limits.max_head_size;
        let window = &buf[start.min(max)..buf.len().min(max)];
        match find_head_end(window, &mut self.scanned) {
            Some(end) => {
                self.scanned = 0;
                Ok(Some(start + end))
            }
            None if buf.len() >= max => Err(max),
            None => Ok(None),
        }
    }
}

/// Whether the start of an incomplete request line can still begin a
/// valid one: the bytes before the first space are token characters (RFC
/// 9110 §5.6.2), the method's.
fn method_may_start(line: &[u8]) -> bool {
    line.iter()
        .take_while(|&&b| b != b' ')
        .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// How many CR and LF bytes `buf` starts with: empty lines before a request
/// line, which are ignored (RFC 9112 §2.2).
pub(crate) fn leading_blank_lines(buf: &[u8]) -> usize {
    buf.iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count()
}

/// The length of the head at the start of `buf` if it ends there (at an
/// empty line, CRLF or bare LF), searching from `*scanned` on.
fn find_head_end(buf: &[u8], scanned: &mut usize) -> Option<usize> {
    for i in *scanned..buf.len() {
        if buf[i] == b'\n'
            && ((i >= 1 && buf[i - 1] == b'\n') || (i >= 2 && &buf[i - 2..i] == b"\n\r"))
        {
            return Some(i + 1);
        }
    }
    *scanned = buf.len();
    None
}

/// Parses a complete request head (which ends with its empty line).
fn parse_request(head: &[u8], max_headers: usize) -> Result<Request<()>, RequestError> {
    let mut parsed = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut parsed);
    match req.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => return Err(RequestError::TooManyHeaders),
        // 505 only for a well-formed version we do not speak; anything
        // else where the version belongs is a malformed request line.
        Err(httparse::Error::Version) if names_a_version(head) => {
            return Err(RequestError::Version)
        }
        Ok(httparse::Status::Partial) | Err(_) => return Err(RequestError::Malformed),
    }
    let method = Method::from_bytes(req.method.unwrap_or_default().as_bytes())
        .map_err(|_| RequestError::Malformed)?;
    let uri = Uri::from_maybe_shared(Bytes::copy_from_slice(
        req.path.unwrap_or_default().as_bytes(),
    ))
    .map_err(|_| RequestError::Target)?;
    let mut out = Request::new(());
    *out.method_mut() = method;
    *out.uri_mut() = uri;
    *out.version_mut() = version(req.version);
    *out.headers_mut() = headers(req.headers).ok_or(RequestError::Malformed)?;
    Ok(out)
}

/// Parses a complete response head (which ends with its empty line).
fn parse_response(head: &[u8], max_headers: usize) -> Result<Response<()>, HeadError> {
    let mut parsed = vec![httparse::EMPTY_HEADER; max_headers];
    let mut res = httparse::Response::new(&mut parsed);
    match res.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => return Err(HeadError::TooManyHeaders),
        Ok(httparse::Status::Partial) | Err(_) => return Err(HeadError::Malformed),
    }
    let status =
        StatusCode::from_u16(res.code.unwrap_or_default()).map_err(|_| HeadError::Malformed)?;
    let mut out = Response::new(());
    *out.status_mut() = status;
    *out.version_mut() = version(res.version);
    *out.headers_mut() = headers(res.headers).ok_or(HeadError::Malformed)?;
    Ok(out)
}

/// HTTP/1.0 or HTTP/1.1 from httparse's minor version.
fn version(minor: Option<u8>) -> Version {
    if minor == Some(0) {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    }
}

/// The fields in order, values trimmed; `None` if one is not a valid name
/// or value for the `http` crate.
fn headers(parsed: &[httparse::Header<'_>]) -> Option<HeaderMap> {
    let mut map = HeaderMap::with_capacity(parsed.len());
    for h in parsed {
        let name = HeaderName::from_bytes(h.name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(h.value.trim_ascii()).ok()?;
        map.append(name, value);
    }
    Some(map)
}

/// Whether the request line of `head` is `METHOD TARGET HTTP/<d>.<d>`.
fn names_a_version(head: &[u8]) -> bool {
    let line_end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
    let line = head[..line_end]
        .strip_suffix(b"\r")
        .unwrap_or(&head[..line_end]);
    let mut parts = line.split(|&b| b == b' ');
    let (Some(_), Some(_), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    matches!(version, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
        if major.is_ascii_digit() && minor.is_ascii_digit())
}

/// Whether the status line at the start of `head` starts with a
/// well-formed version other than HTTP/1.0 and HTTP/1.1: `HTTP/<d>.<d>`
/// or `HTTP/<d>`, then a space.
pub(crate) fn names_other_version(head: &[u8]) -> bool {
    let version = match head {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor, b' ', ..]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            &head[5..8]
        }
        [b'H', b'T', b'T', b'P', b'/', major, b' ', ..] if major.is_ascii_digit() => &head[5..6],
        _ => return false,
    };
    version != b"1.0" && version != b"1.1"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request whose method cannot become a token is refused with its
    /// first bad byte, not when its head is whole or too large.
    #[test]
    fn bytes_that_cannot_start_a_request_are_refused_at_once() {
        // A TLS hello on a plain port; NUL bytes; a control byte in the
        // method; after empty lines.
        for input in [
            &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
            b"\0\0\0\0",
            b"GE\x01T / HTTP/1.1",
            b"\r\n\r\n\x16\x03",
            b"G(ET",
        ] {
            let mut reader = HeadReader::new(Limits::default());
            assert!(
                matches!(reader.read_request(input), Err(RequestError::Malformed)),
                "{input:?}"
            );
        }
        // What may still become a request waits for more.
        for input in [&b"G"[..], b"GE", b"GET", b"M-SEARCH", b"GET /\x01", b"\r\n"] {
            let mut reader = HeadReader::new(Limits::default());
            assert!(matches!(reader.read_request(input), Ok(None)), "{input:?}");
        }
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

    /// Byte at a time, empty lines first: the head, and every byte taken.
    #[test]
    fn a_request_head_alone_after_empty_lines() {
        let input = b"\r\n\n\r\nGET /a?b HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\nrest";
        let mut reader = HeadReader::new(Limits::default());
        let mut got = None;
        for end in 1..=input.len() {
            if let Some(head) = reader.read_request(&input[..end]).unwrap() {
                got = Some((end, head));
                break;
            }
        }
        let (end, (req, len)) = got.expect("a head");
        assert_eq!((end, len), (input.len() - 4, input.len() - 4));
        assert_eq!(req.uri(), "/a?b");
        assert_eq!(req.headers()["x"], "1");
    }

    #[test]
    fn a_response_head_alone_and_its_limits() {
        let input = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81";
        let mut reader = HeadReader::new(Limits::default());
        for end in 1..input.len() - 1 {
            assert_eq!(
                reader.read_response(&input[..end]).map(|r| r.is_some()),
                Ok(false)
            );
        }
        let (res, len) = reader.read_response(input).unwrap().unwrap();
        assert_eq!(
            (res.status(), len),
            (StatusCode::SWITCHING_PROTOCOLS, input.len() - 1)
        );
        assert_eq!(res.headers()["upgrade"], "websocket");
        let small = Limits::default().max_head_size(10);
        let e = HeadReader::new(small)
            .read_response(&input[..10])
            .unwrap_err();
        assert_eq!(e, HeadError::TooLarge(10));
        let two = Limits::default().max_headers(0);
        let e = HeadReader::new(two).read_response(input).unwrap_err();
        assert_eq!(e, HeadError::TooManyHeaders);
        let e = HeadReader::new(Limits::default())
            .read_response(b"HTTP/1.1 abc\r\n\r\n")
            .unwrap_err();
        assert_eq!(e, HeadError::Malformed);
    }

    #[test]
    fn other_versions_are_named() {
        for yes in [
            &b"HTTP/2 200 OK\r\n"[..],
            b"HTTP/1.2 200",
            b"HTTP/0.9 200",
            b"HTTP/3 ",
        ] {
            assert!(names_other_version(yes), "{yes:?}");
        }
        for no in [
            &b"HTTP/1.1 200"[..],
            b"HTTP/1.0 200",
            b"HTTP/2",
            b"HTTP/x 200",
            b"HTTP/12 200",
            b"http/2 200",
        ] {
            assert!(!names_other_version(no), "{no:?}");
        }
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
