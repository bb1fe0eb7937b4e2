//! [`ServerConn`]: requests read from one connection's bytes, and the
//! responses to them encoded with the connection's keep-alive state.

use bytes::{Buf as _, Bytes, BytesMut};
use http::{Request, Response, Version};

use crate::chunked::{ChunkedDecoder, Decoded};
use crate::framing::{delimited, Delimited};
use crate::head::leading_blank_lines;
use crate::headers::values;
use crate::{
    encode_response, expects_continue, is_upgrade, BodyKind, EncodeError, Exchange, Framing,
    HeadReader, Limits, RequestError,
};

/// How the body of the request being read is delimited.
#[derive(Debug)]
enum Body {
    /// `Content-Length`: this many bytes.
    Length(usize),
    /// `Transfer-Encoding: chunked`: the data decoded so far.
    Chunked {
        decoder: ChunkedDecoder,
        data: BytesMut,
    },
}

/// Where the connection is.
#[derive(Debug)]
enum State {
    /// Reading a request head.
    Head,
    /// The head is read; reading its body.
    Body {
        request: Box<Request<()>>,
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
/// body, from partial input, and encodes the responses to them, keeping
/// the connection's keep-alive state (h11's model).
///
/// Input: [`receive`](Self::receive) the bytes read from the socket (no
/// more than [`receive_capacity`](Self::receive_capacity)). Output: drain
/// [`poll_request`](Self::poll_request) until `Ok(None)`, then ask
/// [`poll_continue`](Self::poll_continue) whether to write
/// [`CONTINUE_100`](crate::CONTINUE_100). Command: answer each request
/// with [`encode_response`](Self::encode_response) before polling the next
/// (a pipelining caller that polls ahead uses the free [`encode_response`]
/// with [`Exchange::of`] the request instead), and ask
/// [`keep_alive`](Self::keep_alive) whether to read on.
///
/// - Requests are `http::Request<Bytes>`: the body de-chunked, empty
///   without `Content-Length` or chunking. Whether one asks for an upgrade
///   or a `100 Continue`: [`is_upgrade`], [`expects_continue`].
/// - Pipelined requests stay buffered; each `poll_request` gives the next.
/// - The connection ends after a request that does not keep it open
///   ([`Exchange::keep_alive`]), or a response that ends it (`Connection:
///   close`, a close-delimited body): then nothing more is read.
/// - After an upgrade request, `poll_request` gives `Ok(None)`: answer 101
///   and [`take_upgraded`](Self::take_upgraded) the bytes that followed
///   it, or refuse and [`decline_upgrade`](Self::decline_upgrade).
/// - After an error, every `poll_request` gives it again and input is
///   dropped: write its [`response`](RequestError::response) and close.
#[derive(Debug)]
pub struct ServerConn {
    limits: Limits,
    buf: BytesMut,
    head: HeadReader,
    state: State,
    /// The request being answered, or the default one between requests.
    exchange: Exchange,
    /// Whether a response ended the connection.
    closed: bool,
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
            head: HeadReader::new(limits),
            state: State::Head,
            exchange: Exchange::default(),
            closed: false,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Buffers bytes read from the connection. Dropped after an error or
    /// once the connection ends.
    pub fn receive(&mut self, data: &[u8]) {
        match self.state {
            State::Failed(_) | State::Done => {}
            _ => self.buf.extend_from_slice(data),
        }
    }

    /// How many more bytes to read before draining `poll_request`: room up
    /// to one maximal head and body (head, body and chunk line limits
    /// together); 0 after an error, once the connection ends, or while an
    /// upgrade is pending.
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
    pub fn poll_request(&mut self) -> Result<Option<Request<Bytes>>, RequestError> {
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

    /// Encodes the response to the last request [`poll_request`] gave (see
    /// [`encode_response`] for the framing and headers), and says how to
    /// write its body.
    ///
    /// A final response that ends the connection (the request did not keep
    /// it open, the response says `Connection: close`, the body is
    /// close-delimited) ends reading: [`keep_alive`](Self::keep_alive) is
    /// then false. A 101 leaves the pending upgrade to
    /// [`take_upgraded`](Self::take_upgraded).
    ///
    /// [`poll_request`]: Self::poll_request
    pub fn encode_response<B>(
        &mut self,
        res: &Response<B>,
        body: BodyKind,
        out: &mut BytesMut,
    ) -> Result<Framing, EncodeError> {
        let encoded = encode_response(res, body, self.exchange, out)?;
        if res.status().is_informational() {
            return Ok(encoded.framing);
        }
        self.exchange = Exchange::default();
        if !encoded.keep_alive {
            self.end();
        }
        Ok(encoded.framing)
    }

    /// Ends the connection after the next response (a server that stops,
    /// or times a request out): it says `Connection: close`, and nothing
    /// more is read.
    pub fn close(&mut self) {
        self.exchange = self.exchange.closing();
        self.end();
    }

    /// Whether the connection may carry another request: false once a
    /// request or a response ended it, or the peer broke the protocol.
    pub fn keep_alive(&self) -> bool {
        !self.closed && !matches!(self.state, State::Failed(_) | State::Done)
    }

    /// Resumes reading requests after a refused upgrade (unless the
    /// request did not keep the connection open: then nothing more is
    /// read).
    pub fn decline_upgrade(&mut self) {
        if let State::Upgraded { keep_alive } = self.state {
            if keep_alive && !self.closed {
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

    /// Nothing more is read.
    fn end(&mut self) {
        self.closed = true;
        if !matches!(self.state, State::Upgraded { .. } | State::Failed(_)) {
            self.state = State::Done;
            self.buf.clear();
        }
    }

    fn advance(&mut self) -> Result<Option<Request<Bytes>>, RequestError> {
        loop {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Done | State::Upgraded { .. } => return Ok(None),
                State::Head => {
                    let Some((request, body)) = self.read_head()? else {
                        return Ok(None);
                    };
                    let continue_pending = expects_continue(&request);
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
                        Body::Chunked { decoder, data } => {
                            let max = Some(self.limits.max_body_size);
                            match decoder.next(&mut self.buf, &self.limits, max)? {
                                Some(Decoded::Data(piece)) => {
                                    data.extend_from_slice(&piece);
                                    continue;
                                }
                                Some(Decoded::End) => std::mem::take(data),
                                None => return Ok(None),
                            }
                        }
                    };
                    let State::Body { request, .. } =
                        std::mem::replace(&mut self.state, State::Head)
                    else {
                        unreachable!("in the body state")
                    };
                    let request = request.map(|()| data.freeze());
                    self.exchange = Exchange::of(&request);
                    let keep_alive = self.exchange.keep_alive;
                    if is_upgrade(&request) {
                        self.state = State::Upgraded { keep_alive };
                    } else if !keep_alive {
                        self.state = State::Done;
                        self.buf.clear();
                    }
                    return Ok(Some(request));
                }
            }
        }
    }

    /// Reads a head if a whole one is buffered, and decides its framing.
    fn read_head(&mut self) -> Result<Option<(Request<()>, Body)>, RequestError> {
        // Empty lines before a request line are dropped as they come, not
        // buffered (RFC 9112 §2.2).
        if self.head.is_fresh() {
            self.buf.advance(leading_blank_lines(&self.buf));
        }
        let Some((request, len)) = self.head.read_request(&self.buf)? else {
            return Ok(None);
        };
        self.buf.advance(len);
        let headers = request.headers();
        let hosts = values(headers, "host").count();
        if hosts > 1 || (request.version() == Version::HTTP_11 && hosts == 0) {
            return Err(RequestError::Host);
        }
        let body = framing(headers, self.limits.max_body_size)?;
        Ok(Some((request, body)))
    }
}

/// How the body is delimited (RFC 9112 §6.3, for requests: without
/// framing fields, there is none).
fn framing(headers: &http::HeaderMap, max_body: u64) -> Result<Body, RequestError> {
    match delimited(headers)? {
        Delimited::Chunked => Ok(Body::Chunked {
            decoder: ChunkedDecoder::new(),
            data: BytesMut::new(),
        }),
        Delimited::Length(n) if n > max_body => Err(RequestError::BodyTooLarge(max_body)),
        Delimited::Length(n) => Ok(Body::Length(
            usize::try_from(n).map_err(|_| RequestError::BodyTooLarge(max_body))?,
        )),
        Delimited::Unframed => Ok(Body::Length(0)),
    }
}
