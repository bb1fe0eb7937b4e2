//! [`ServerConn`]: requests read from one connection's bytes.

use bytes::{Buf as _, BytesMut};

use crate::chunked::ChunkedDecoder;
use crate::request::{has_token, list, values};
use crate::{Header, Limits, Request, RequestError};

/// How the body of the request being read is delimited.
#[derive(Debug)]
enum Body {
    /// `Content-Length`: this many bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked(ChunkedDecoder),
}

/// Where the connection is.
#[derive(Debug)]
enum State {
    /// Reading a request head.
    Head,
    /// The head is read; reading its body.
    Body {
        request: Box<Request>,
        body: Body,
        /// `Expect: 100-continue` not yet reported by `poll_continue`.
        continue_pending: bool,
    },
    /// An upgrade request was given: waiting for `take_upgraded` or
    /// `decline_upgrade`. `keep_alive` is the request's: without it, a
    /// declined upgrade ends the connection like any such request.
    Upgraded { keep_alive: bool },
    /// A request without keep-alive was given: nothing more is read.
    Done,
    /// The peer broke the protocol: nothing more is read.
    Failed(RequestError),
}

/// The server side of one HTTP/1.x connection: reads requests, head and
/// body, from partial input.
///
/// Input: [`receive`](Self::receive) the bytes read from the socket (no
/// more than [`receive_capacity`](Self::receive_capacity)). Output: drain
/// [`poll_request`](Self::poll_request) until `Ok(None)`, then ask
/// [`poll_continue`](Self::poll_continue) whether to write
/// [`CONTINUE_100`](crate::CONTINUE_100).
///
/// - Pipelined requests stay buffered; each `poll_request` gives the next.
/// - After a request without [`keep_alive`](Request::keep_alive), nothing
///   more is read.
/// - After an [`upgrade`](Request::upgrade) request, `poll_request` gives
///   `Ok(None)`: answer 101 and [`take_upgraded`](Self::take_upgraded) the
///   bytes that followed it, or refuse and
///   [`decline_upgrade`](Self::decline_upgrade).
/// - After an error, every `poll_request` gives it again and input is
///   dropped: write its [`response`](RequestError::response) and close.
#[derive(Debug)]
pub struct ServerConn {
    limits: Limits,
    buf: BytesMut,
    /// How far `buf` was searched for the end of the head.
    scanned: usize,
    state: State,
}

impl Default for ServerConn {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl ServerConn {
    /// A connection with these limits.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: BytesMut::new(),
            scanned: 0,
            state: State::Head,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Buffers bytes read from the connection. Dropped after an error or a
    /// request without keep-alive.
    pub fn receive(&mut self, data: &[u8]) {
        match self.state {
            State::Failed(_) | State::Done => {}
            _ => self.buf.extend_from_slice(data),
        }
    }

    /// How many more bytes to read before draining `poll_request`: room up
    /// to one maximal head and body (head, body and chunk line limits
    /// together); 0 after an error, a request without keep-alive, or while
    /// an upgrade is pending.
    pub fn receive_capacity(&self) -> usize {
        match self.state {
            State::Failed(_) | State::Done | State::Upgraded { .. } => 0,
            _ => {
                let body = usize::try_from(self.limits.max_body_size).unwrap_or(usize::MAX);
                self.limits
                    .max_head_size
                    .saturating_add(body)
                    .saturating_add(self.limits.max_chunk_line)
                    .saturating_sub(self.buf.len())
            }
        }
    }

    /// How many bytes are buffered and not yet consumed.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete request, `Ok(None)` if more input is needed (or
    /// nothing more will be read), or the error to answer.
    #[must_use = "a request or an error to answer"]
    pub fn poll_request(&mut self) -> Result<Option<Request>, RequestError> {
        match self.advance() {
            Ok(r) => Ok(r),
            Err(e) => {
                self.buf.clear();
                self.state = State::Failed(e.clone());
                Err(e)
            }
        }
    }

    /// Whether to write [`CONTINUE_100`](crate::CONTINUE_100) now: true
    /// once per request with `Expect: 100-continue`, after its head is
    /// read and while its body is incomplete.
    #[must_use]
    pub fn poll_continue(&mut self) -> bool {
        match &mut self.state {
            State::Body {
                continue_pending, ..
            } => std::mem::take(continue_pending),
            _ => false,
        }
    }

    /// Resumes reading requests after a refused upgrade (unless the
    /// request was without [`keep_alive`](Request::keep_alive): then
    /// nothing more is read).
    pub fn decline_upgrade(&mut self) {
        if let State::Upgraded { keep_alive } = self.state {
            if keep_alive {
                self.state = State::Head;
            } else {
                self.state = State::Done;
                self.buf.clear();
            }
        }
    }

    /// The bytes buffered after the last request (after an upgrade request,
    /// the first bytes of the new protocol).
    pub fn take_upgraded(self) -> BytesMut {
        self.buf
    }

    fn advance(&mut self) -> Result<Option<Request>, RequestError> {
        loop {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Done | State::Upgraded { .. } => return Ok(None),
                State::Head => {
                    let Some((request, body)) = self.read_head()? else {
                        return Ok(None);
                    };
                    let continue_pending = request.expects_continue;
                    self.state = State::Body {
                        request: Box::new(request),
                        body,
                        continue_pending,
                    };
                }
                State::Body { body, .. } => {
                    let data = match body {
                        Body::Length(n) => {
                            if self.buf.len() < *n {
                                return Ok(None);
                            }
                            self.buf.split_to(*n)
                        }
                        Body::Chunked(decoder) => {
                            match decoder.decode(&mut self.buf, &self.limits)? {
                                Some(data) => data,
                                None => return Ok(None),
                            }
                        }
                    };
                    let State::Body { mut request, .. } =
                        std::mem::replace(&mut self.state, State::Head)
                    else {
                        unreachable!("in the body state")
                    };
                    request.body = data.freeze();
                    if request.upgrade {
                        self.state = State::Upgraded {
                            keep_alive: request.keep_alive,
                        };
                    } else if !request.keep_alive {
                        self.state = State::Done;
                        self.buf.clear();
                    }
                    return Ok(Some(*request));
                }
            }
        }
    }

    /// Reads a head if a whole one is buffered, and decides its framing.
    fn read_head(&mut self) -> Result<Option<(Request, Body)>, RequestError> {
        if self.scanned == 0 {
            // RFC 9112 §2.2: ignore empty lines before a request line.
            let blank = self
                .buf
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            self.buf.advance(blank);
        }
        let max = self.limits.max_head_size;
        let Some(end) = find_head_end(&self.buf[..self.buf.len().min(max)], &mut self.scanned)
        else {
            if self.buf.len() >= max {
                return Err(RequestError::HeadTooLarge(max));
            }
            return Ok(None);
        };
        self.scanned = 0;
        let head = self.buf.split_to(end);
        let mut parsed = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        let mut req = httparse::Request::new(&mut parsed);
        match req.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(RequestError::TooManyHeaders),
            // 505 only for a well-formed version we do not speak; anything
            // else where the version belongs is a malformed request line.
            Err(httparse::Error::Version) if names_a_version(&head) => {
                return Err(RequestError::Version)
            }
            Ok(httparse::Status::Partial) | Err(_) => return Err(RequestError::Malformed),
        }
        let version = req.version.unwrap_or_default();
        let headers: Vec<Header> = req
            .headers
            .iter()
            .map(|h| Header {
                name: h.name.to_owned(),
                value: h.value.trim_ascii().to_vec(),
            })
            .collect();
        let hosts = values(&headers, "host").count();
        if hosts > 1 || (version == 1 && hosts == 0) {
            return Err(RequestError::Host);
        }
        let body = framing(&headers, self.limits.max_body_size)?;
        // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has
        // faulty framing; read it, then close.
        let te_on_http10 = version == 0 && values(&headers, "transfer-encoding").next().is_some();
        let keep_alive = if te_on_http10 {
            false
        } else if version == 1 {
            !has_token(&headers, "connection", "close")
        } else {
            has_token(&headers, "connection", "keep-alive")
                && !has_token(&headers, "connection", "close")
        };
        let expects_continue = version == 1
            && values(&headers, "expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"));
        let upgrade = values(&headers, "upgrade").next().is_some()
            && has_token(&headers, "connection", "upgrade");
        let request = Request {
            method: req.method.unwrap_or_default().to_owned(),
            target: req.path.unwrap_or_default().to_owned(),
            version,
            headers,
            body: bytes::Bytes::new(),
            keep_alive,
            expects_continue,
            upgrade,
        };
        Ok(Some((request, body)))
    }
}

/// How the body is delimited (RFC 9112 §6.3, for requests).
fn framing(headers: &[Header], max_body: u64) -> Result<Body, RequestError> {
    let has_te = values(headers, "transfer-encoding").next().is_some();
    let mut length: Option<u64> = None;
    for v in values(headers, "content-length") {
        for e in v.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
            if e.is_empty() || !e.iter().all(u8::is_ascii_digit) {
                return Err(RequestError::ContentLength);
            }
            let n = std::str::from_utf8(e)
                .ok()
                .and_then(|s| s.parse::<u64>().ok())
                .ok_or(RequestError::ContentLength)?;
            if length.is_some_and(|l| l != n) {
                return Err(RequestError::ContentLength);
            }
            length = Some(n);
        }
    }
    if values(headers, "content-length").next().is_some() && length.is_none() {
        return Err(RequestError::ContentLength);
    }
    if has_te {
        if length.is_some() {
            return Err(RequestError::ConflictingFraming);
        }
        let codings: Vec<&[u8]> = list(headers, "transfer-encoding").collect();
        let chunked = |c: &&[u8]| c.eq_ignore_ascii_case(b"chunked");
        if codings.iter().any(|c| !chunked(c)) {
            return Err(RequestError::UnsupportedTransferCoding);
        }
        if codings.len() != 1 {
            return Err(RequestError::ChunkedNotLast);
        }
        return Ok(Body::Chunked(ChunkedDecoder::new()));
    }
    match length {
        Some(n) if n > max_body => Err(RequestError::BodyTooLarge(max_body)),
        Some(n) => Ok(Body::Length(
            usize::try_from(n).map_err(|_| RequestError::BodyTooLarge(max_body))?,
        )),
        None => Ok(Body::Length(0)),
    }
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
