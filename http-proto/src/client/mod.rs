//! [`ClientConn`]: requests encoded on one connection, and the responses to
//! them read from its bytes as events.

mod encode;
mod response;

use std::collections::VecDeque;

use bytes::{Buf as _, Bytes, BytesMut};
use http::{Method, Request, Response, StatusCode};

pub use encode::encode_request;
use response::{body_of, head_error, Body};

use crate::chunked::Decoded;
use crate::headers::has_token;
use crate::{is_upgrade, BodyKind, EncodeError, HeadReader, Limits, ResponseError};

/// One piece of a response, as [`ClientConn::poll_event`] gives it.
/// (`Debug` writes header values as text: see [`debug`](crate::debug).)
#[derive(Clone)]
#[non_exhaustive]
#[must_use]
pub enum ResponseEvent {
    /// A final response head, or a `101 Switching Protocols` (after which
    /// the connection leaves HTTP: see [`ClientConn::take_upgraded`]).
    /// Interim responses (`100 Continue`, `103 Early Hints`) are read and
    /// skipped.
    Head(Response<()>),
    /// Body bytes as they came, never empty: all that is buffered of the
    /// body. A chunked body gives a chunk's data in as many pieces as the
    /// reads cut it into, and never joins two chunks in one piece; chunk
    /// extensions and trailers are read and dropped.
    Data(Bytes),
    /// The response is complete: after its body, or right after its head
    /// when it has none (an answer to `HEAD`, 204, 304, `Content-Length:
    /// 0`).
    End,
}

impl std::fmt::Debug for ResponseEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Head(head) => f
                .debug_tuple("Head")
                .field(&crate::debug::ResponseHead(head))
                .finish(),
            Self::Data(data) => f.debug_tuple("Data").field(data).finish(),
            Self::End => f.write_str("End"),
        }
    }
}

/// A request sent whose response has not ended.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// It was `HEAD`: the response has no body, whatever it says.
    head: bool,
    /// It said `Connection: close`: the connection ends with its response.
    close: bool,
    /// It asked for an upgrade: no request may follow it until its
    /// response ends.
    upgrade: bool,
}

/// Where the connection is.
#[derive(Debug)]
enum State {
    /// Between responses, or reading a head (and the interim responses
    /// before it).
    Head,
    /// The head is given; reading its body.
    Body {
        body: Body,
        /// The response ends the connection.
        close: bool,
    },
    /// A 101 was given: the connection left HTTP.
    Upgraded,
    /// A response or the peer's end of file ended the connection: nothing
    /// more is read.
    Closed,
    /// The peer broke the protocol: nothing more is read.
    Failed(ResponseError),
}

/// The client side of one HTTP/1.1 connection: encodes requests, and reads
/// the responses to them, head and body, from partial input as events,
/// keeping the connection's keep-alive state (h11's model).
///
/// Command: [`send_request`](Self::send_request) encodes a request head
/// (the caller then writes its body: exactly its length, or chunks with
/// [`encode_chunk`](crate::encode_chunk)). Input:
/// [`receive`](Self::receive) the bytes read from the socket,
/// [`receive_eof`](Self::receive_eof) when the server closed its side.
/// Output: drain [`poll_event`](Self::poll_event) until `Ok(None)` after
/// every input. Then ask [`keep_alive`](Self::keep_alive) and
/// [`is_idle`](Self::is_idle) whether the connection can carry the next
/// request.
///
/// - Each response comes as a [`ResponseEvent::Head`], its body as
///   [`ResponseEvent::Data`] pieces as they are read (not gathered: a
///   streaming response, such as SockJS xhr-streaming, may go on for
///   ever), then [`ResponseEvent::End`]. The body is delimited by
///   `Content-Length`, by chunking, or by the end of the connection (a
///   close-delimited body ends at [`receive_eof`](Self::receive_eof));
///   answers to `HEAD`, 204 and 304 have none. Interim responses give no
///   event: a request sent with `Expect: 100-continue` does not learn of
///   the `100`, so its body goes without waiting for it (which RFC 9110
///   §10.1.1 allows).
/// - Requests may be pipelined: each response answers the oldest
///   request [`outstanding`](Self::outstanding). A response that ends the
///   connection leaves the requests behind it unanswered (still counted
///   by `outstanding`): send them again on a new connection.
/// - The connection carries no more requests after a request or a
///   response with `Connection: close`, an HTTP/1.0 response without
///   `Connection: keep-alive`, a close-delimited body, an upgrade, an
///   error or the peer's end of file: `keep_alive` is false and
///   `send_request` refuses ([`EncodeError::ConnectionClosed`]). A server
///   that closes an idle connection is no error.
/// - After a `101 Switching Protocols` head, the connection leaves HTTP:
///   [`take_upgraded`](Self::take_upgraded) gives the bytes that followed
///   it, `poll_event` gives `Ok(None)` for ever and input is dropped.
///   (Any 101 switches, asked for or not; a `CONNECT` tunnel is not
///   supported.)
/// - After an error, every `poll_event` gives it again and input is
///   dropped: close the connection.
///
/// Buffering: [`Limits::max_head_size`] bounds a head (interim ones too)
/// and the trailers of a chunked body, [`Limits::max_headers`] a head's
/// fields, [`Limits::max_chunk_line`] a chunk-size line;
/// [`Limits::max_body_size`] applies to no response (the caller bounds
/// what it keeps of the data). Body bytes are handed on as they come:
/// once `poll_event` is drained, the connection holds fewer than
/// `max(max_head_size, max_chunk_line, 2)` bytes
/// ([`buffered`](Self::buffered): part of a head, of a chunk-size line, of
/// a trailer line, or one byte of a chunk's CRLF), and so never more than
/// that plus the bytes received since the last drain (within the sum of a
/// head, a chunk-size line and trailers, plus the last `receive`).
///
/// ```
/// use bytes::BytesMut;
/// use http::Request;
/// use http_proto::{BodyKind, ClientConn, Limits, ResponseEvent};
///
/// let mut conn = ClientConn::new(Limits::default());
/// let mut out = BytesMut::new();
/// let req = Request::head("http://example.com/").body(()).unwrap();
/// conn.send_request(&req, BodyKind::None, &mut out).unwrap();
/// assert_eq!(&out[..], b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n");
///
/// conn.receive(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
/// let Ok(Some(ResponseEvent::Head(res))) = conn.poll_event() else { panic!() };
/// assert_eq!(res.headers()["content-length"], "5"); // no body: HEAD
/// assert!(matches!(conn.poll_event(), Ok(Some(ResponseEvent::End))));
/// assert!(matches!(conn.poll_event(), Ok(None)));
/// assert!(conn.keep_alive() && conn.is_idle());
/// ```
#[derive(Debug)]
pub struct ClientConn {
    limits: Limits,
    buf: BytesMut,
    head: HeadReader,
    state: State,
    /// The requests sent whose responses have not ended, oldest first.
    queue: VecDeque<Pending>,
    /// A request said `Connection: close`: no more are sent.
    closing: bool,
    /// The peer closed its side.
    eof: bool,
}

impl Default for ClientConn {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

impl ClientConn {
    /// A connection with these limits (see the type doc for which apply).
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            buf: BytesMut::new(),
            head: HeadReader::new(limits),
            state: State::Head,
            queue: VecDeque::new(),
            closing: false,
            eof: false,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Encodes the head of `req` (see [`encode_request`]) and expects its
    /// response after those of the requests already outstanding. Refused,
    /// with nothing written, on a connection that carries no more requests
    /// ([`EncodeError::ConnectionClosed`]) or behind an upgrade request
    /// still outstanding ([`EncodeError::UpgradePending`]).
    pub fn send_request<B>(
        &mut self,
        req: &Request<B>,
        body: BodyKind,
        out: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        if !self.keep_alive() {
            return Err(EncodeError::ConnectionClosed);
        }
        if self.queue.iter().any(|p| p.upgrade) {
            return Err(EncodeError::UpgradePending);
        }
        encode_request(req, body, out)?;
        let close = has_token(req.headers(), http::header::CONNECTION, "close");
        self.closing |= close;
        self.queue.push_back(Pending {
            head: req.method() == Method::HEAD,
            close,
            upgrade: is_upgrade(req),
        });
        Ok(())
    }

    /// Buffers bytes read from the connection. Dropped once the connection
    /// ended, left HTTP or failed, and after [`receive_eof`](Self::receive_eof).
    pub fn receive(&mut self, data: &[u8]) {
        if matches!(self.state, State::Head | State::Body { .. }) && !self.eof {
            self.buf.extend_from_slice(data);
        }
    }

    /// The server closed its side of the connection: what is buffered is
    /// still read, then a close-delimited body ends, and a response owed or
    /// incomplete is [`ResponseError::Truncated`].
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// How many bytes are buffered and not yet given (see the type doc for
    /// the bound).
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next event of the response being read, `Ok(None)` if more input
    /// is needed (or nothing more will be read), or the error that ended
    /// the connection (again at every call).
    #[must_use = "an event, or an error that ends the connection"]
    pub fn poll_event(&mut self) -> Result<Option<ResponseEvent>, ResponseError> {
        self.advance().inspect_err(|e| {
            self.buf = BytesMut::new();
            self.state = State::Failed(e.clone());
        })
    }

    /// Whether the connection can carry another request after the
    /// responses outstanding: false once a request or a response ended it,
    /// after an upgrade, an error or the peer's end of file.
    pub fn keep_alive(&self) -> bool {
        let open = match self.state {
            State::Head => true,
            State::Body { close, .. } => !close,
            State::Upgraded | State::Closed | State::Failed(_) => false,
        };
        open && !self.closing && !self.eof
    }

    /// Whether no request is outstanding (and so no response is in
    /// progress): with [`keep_alive`](Self::keep_alive), the connection
    /// can be reused, or pooled.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty()
    }

    /// How many requests were sent whose responses have not ended: after a
    /// response or an error that ended the connection, those that will
    /// have no answer on it.
    pub fn outstanding(&self) -> usize {
        self.queue.len()
    }

    /// After a 101 head, the bytes that followed it (the first bytes of the
    /// new protocol), once; empty otherwise.
    pub fn take_upgraded(&mut self) -> BytesMut {
        match self.state {
            State::Upgraded => std::mem::take(&mut self.buf),
            _ => BytesMut::new(),
        }
    }

    fn advance(&mut self) -> Result<Option<ResponseEvent>, ResponseError> {
        let (body, close) = match &mut self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Upgraded | State::Closed => return Ok(None),
            State::Head => return Ok(self.read_head()?.map(ResponseEvent::Head)),
            State::Body { body, close } => (body, *close),
        };
        let data = match body {
            Body::Length(0) => {
                self.end(close);
                return Ok(Some(ResponseEvent::End));
            }
            Body::Length(remaining) => {
                if self.buf.is_empty() {
                    return self.need_more();
                }
                let n =
                    usize::try_from(*remaining).map_or(self.buf.len(), |r| r.min(self.buf.len()));
                *remaining -= n as u64;
                self.buf.split_to(n)
            }
            Body::Chunked(decoder) => match decoder.next(&mut self.buf, &self.limits, None)? {
                Some(Decoded::Data(data)) => data,
                Some(Decoded::End) => {
                    self.end(close);
                    return Ok(Some(ResponseEvent::End));
                }
                None => return self.need_more(),
            },
            Body::CloseDelimited => {
                if !self.buf.is_empty() {
                    self.buf.split_to(self.buf.len())
                } else if self.eof {
                    self.end(true);
                    return Ok(Some(ResponseEvent::End));
                } else {
                    return Ok(None);
                }
            }
        };
        Ok(Some(ResponseEvent::Data(data.freeze())))
    }

    /// Reads the next final head (or a 101), skipping interim ones.
    fn read_head(&mut self) -> Result<Option<Response<()>>, ResponseError> {
        loop {
            if self.buf.is_empty() {
                if !self.eof {
                    return Ok(None);
                }
                self.state = State::Closed;
                return if self.queue.is_empty() {
                    Ok(None)
                } else {
                    Err(ResponseError::Truncated)
                };
            }
            let Some(&pending) = self.queue.front() else {
                return Err(ResponseError::Unsolicited);
            };
            let read = self.head.read_response(&self.buf);
            let Some((res, len)) = read.map_err(|e| head_error(e, &self.buf))? else {
                return self.need_more();
            };
            self.buf.advance(len);
            let status = res.status();
            if status == StatusCode::SWITCHING_PROTOCOLS {
                self.queue.pop_front();
                self.state = State::Upgraded;
                return Ok(Some(res));
            }
            if status.is_informational() {
                continue;
            }
            let (body, ends) = body_of(&res, pending.head)?;
            self.state = State::Body {
                body,
                close: ends || pending.close,
            };
            return Ok(Some(res));
        }
    }

    /// `Ok(None)` while more input may come; after the end of file, the
    /// response is truncated.
    fn need_more<T>(&self) -> Result<Option<T>, ResponseError> {
        if self.eof {
            Err(ResponseError::Truncated)
        } else {
            Ok(None)
        }
    }

    /// The response being read ended: on to the next, unless it ends the
    /// connection.
    fn end(&mut self, close: bool) {
        self.queue.pop_front();
        if close {
            self.state = State::Closed;
            self.buf = BytesMut::new();
        } else {
            self.state = State::Head;
        }
    }
}
