//! A SockJS endpoint's requests: staged when they open a session, then run
//! through the core; the answer is a whole response (perhaps held until
//! the application took the messages a send carried), a stream, a long
//! poll, or a websocket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{Method, Request, Response};
use http_proto::{encode_chunk, encode_last_chunk, is_upgrade, BodyKind, Framing, ServerConn};
use sockjs_proto::{Answer, ReceiverId, RequestContext, RequestSession};
use ws_proto::Fifo;

use super::{After, Connection, Output, Staged, State, READ_CHUNK};
use crate::contest::GRACE;
use crate::handshake::{HandshakeOutcome, HandshakeRequest, Incoming, Rejection};
use crate::hub::{Hub, OpenContext};
use crate::logging::{self, Part};
use crate::mailbox::Inbox;
use crate::server::Server;
use crate::session::Attributes;

/// A request on its way through the core.
pub(crate) struct Pending {
    hub: Arc<Hub>,
    req: Request<Bytes>,
    ctx: RequestContext,
    pub(crate) request: HandshakeRequest,
    which: RequestSession,
    inbox: Option<Arc<Inbox>>,
    /// The wait of a receiving request for the receiver attached to its
    /// session (see [`waits`](Self::waits)).
    contender: Option<Contender>,
    opens: bool,
    /// A `GET /info` staged for the interceptors
    /// ([`SockJsOptions::intercept_info`](crate::SockJsOptions::intercept_info)).
    info: bool,
    pub(crate) upgrade: bool,
}

pub(crate) enum Exchange {
    /// The request waits before it is handled (see [`Pending::waits`]).
    Waits(Box<(Pending, Attributes)>),
    /// A send's answer waits for the application to take the messages.
    HandlerWait {
        response: Box<Response<Bytes>>,
        inbox: Arc<Inbox>,
        until: Instant,
    },
    /// A streaming response.
    Stream {
        hub: Arc<Hub>,
        receiver: ReceiverId,
        chunked: bool,
        ended: bool,
    },
    /// A long poll, until its frame is complete.
    LongPoll {
        hub: Arc<Hub>,
        receiver: ReceiverId,
        /// The response, and its body as the frames come.
        response: Box<(Response<Bytes>, BytesMut)>,
    },
    /// An upgraded websocket.
    WebSocket {
        hub: Arc<Hub>,
        receiver: ReceiverId,
        inbox: Option<Arc<Inbox>>,
        /// Reading stopped because the application is behind: the core is
        /// told, so that the client's unread bytes do not make it look dead.
        paused: bool,
        eof: bool,
    },
}

/// What the core needs besides the request: the wall clock (for
/// `Expires`), the principal and the client's address.
fn context(request: &HandshakeRequest, date: std::time::SystemTime) -> RequestContext {
    let ctx = RequestContext::new(date).client_ip(request.client_ip);
    match &request.principal {
        Some(principal) => ctx.principal(principal.clone()),
        None => ctx,
    }
}

impl Pending {
    /// A request for `hub`, with the session it concerns and whether it
    /// would open one.
    pub(crate) fn new(
        server: &Server,
        req: Request<Bytes>,
        hub: &Arc<Hub>,
        remote: SocketAddr,
        now: Instant,
    ) -> Box<Self> {
        let trusted = &server.options.trusted_proxies;
        let principal = hub.options.common.principal.as_ref();
        // The request as interceptors and a new session see it: made at
        // once when the principal resolver needs it, otherwise only for a
        // request that opens a session or is staged (not for every send
        // and poll of a session already open: that would copy its headers).
        let mut request =
            principal.map(|resolve| HandshakeRequest::new(&req, remote, trusted, Some(resolve)));
        let ctx = match &request {
            Some(request) => context(request, server.date(now)),
            None => RequestContext::new(server.date(now)).client_ip(http_proto::client_ip(
                req.headers(),
                remote.ip(),
                trusted,
            )),
        };
        let client_ip = ctx.client_ip.unwrap_or_else(|| remote.ip());
        let (which, inbox) = hub.request_session(&req, &ctx);
        // A CORS preflight opens nothing, and carries no credentials: an
        // interceptor that checks them would refuse it.
        let opens = matches!(which, RequestSession::Opens(_)) && req.method() != Method::OPTIONS;
        let info = hub.options.intercept_info
            && req.method() == Method::GET
            && hub.is_info(req.uri().path());
        let request = match request.take() {
            Some(request) => request,
            None if matches!(which, RequestSession::Opens(_)) || info => {
                HandshakeRequest::new(&req, remote, trusted, None)
            }
            // Its target and addresses without the headers (were a
            // session to open all the same, its info would have them).
            None => HandshakeRequest {
                method: req.method().clone(),
                uri: req.uri().clone(),
                remote_addr: remote,
                client_ip,
                ..HandshakeRequest::placeholder()
            },
        };
        let upgrade = is_upgrade(&req);
        Box::new(Self {
            hub: Arc::clone(hub),
            req,
            ctx,
            request,
            which,
            inbox,
            contender: None,
            opens,
            info,
            upgrade,
        })
    }

    /// Whether the request waits for the interceptors: it would open a
    /// session, or it is an intercepted `/info`.
    pub(crate) fn staged(&self) -> bool {
        self.opens || self.info
    }

    /// Whether the request would open a session (the interceptors' `after`
    /// part sees how its handshake ended).
    pub(crate) fn opens(&self) -> bool {
        self.opens
    }

    /// The response of an interceptor's refusal of this request: with the
    /// CORS headers the endpoint's own answer would carry, unless the
    /// refusal sets `Access-Control-Allow-Origin` itself.
    pub(crate) fn refusal(&self, rejection: &Rejection) -> Response<Bytes> {
        let mut res = rejection.to_response();
        if !res
            .headers()
            .contains_key(http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
        {
            self.hub.refusal_cors(&self.req, res.headers_mut());
        }
        res
    }

    /// The request as interceptors see it, taken out while they run.
    pub(crate) fn take_request(&mut self) -> HandshakeRequest {
        std::mem::replace(&mut self.request, HandshakeRequest::placeholder())
    }

    /// Whether the request, of connection (or exchange) `conn`, waits
    /// before it is handled, until [`poll_ready`](Self::poll_ready): a send
    /// to a session whose application is behind waits for room in the
    /// session's inbox; a receiving request on a session whose receiver is
    /// still attached waits for that receiver to go, until
    /// [`deadline`](Self::deadline) at most (see [`crate::contest`]).
    pub(crate) fn waits(&mut self, conn: u64, now: Instant) -> bool {
        match self.which {
            RequestSession::Sends(_) => self.inbox.is_some(),
            // A CORS preflight asks nothing of the session.
            RequestSession::Receives(_) if self.req.method() == Method::OPTIONS => false,
            RequestSession::Receives(session) => {
                self.contender = self.hub.contend(session).map(|holder| Contender {
                    hub: Arc::clone(&self.hub),
                    holder,
                    conn,
                    until: now + GRACE,
                });
                self.contender.is_some()
            }
            RequestSession::None | RequestSession::Opens(_) => false,
        }
    }

    /// Whether the wait is over (else `cx` is woken when it may be, or the
    /// wait ends at [`deadline`](Self::deadline)).
    pub(crate) fn poll_ready(&self, cx: &mut std::task::Context<'_>, now: Instant) -> bool {
        match &self.contender {
            Some(c) => now >= c.until || !c.hub.contest_waits(c.holder, c.conn, cx.waker()),
            None => self
                .inbox
                .as_ref()
                .is_none_or(|inbox| inbox.poll_room(cx).is_ready()),
        }
    }

    /// When a wait for another receiver ends at the latest.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.contender.as_ref().map(|c| c.until)
    }
}

/// A receiving request's wait for the receiver attached to its session;
/// withdrawn from the contest when dropped (handled, or its connection
/// gone).
struct Contender {
    hub: Arc<Hub>,
    holder: ReceiverId,
    conn: u64,
    until: Instant,
}

impl Drop for Contender {
    fn drop(&mut self) {
        self.hub.contest_withdraw(self.holder, self.conn);
    }
}

/// What running a request through the core gave.
pub(crate) struct Ran {
    pub(crate) hub: Arc<Hub>,
    pub(crate) answer: Answer,
    /// The inbox of the session the request opened or reached.
    pub(crate) inbox: Option<Arc<Inbox>>,
    /// The request was a send.
    pub(crate) sends: bool,
}

/// Runs an accepted request through the core; the handshake's end and the
/// session it opened go to `push`.
pub(crate) fn run(
    pending: Pending,
    attributes: Attributes,
    now: Instant,
    push: &mut dyn FnMut(Output),
) -> Ran {
    let Pending {
        hub,
        req,
        ctx,
        request,
        which,
        inbox,
        contender: _,
        opens,
        info: _,
        upgrade: _,
    } = pending;
    let sends = matches!(which, RequestSession::Sends(_));
    let observed = opens.then(|| request.clone());
    let handled = hub.handle(
        &req,
        &ctx,
        OpenContext {
            request,
            attributes,
        },
        inbox,
        now,
    );
    if let Some(request) = observed {
        let outcome = match (&handled.opened, &handled.answer) {
            (Some(session), _) => HandshakeOutcome::Opened(session.id()),
            (None, Answer::Response(res)) => HandshakeOutcome::Refused(res.status()),
            (None, _) => HandshakeOutcome::Refused(http::StatusCode::INTERNAL_SERVER_ERROR),
        };
        push(Output::Handshake {
            endpoint: hub.id,
            request,
            outcome,
        });
    }
    if let Answer::Response(res) = &handled.answer {
        let status = res.status();
        if status.is_client_error() || status.is_server_error() {
            let reason = logging::sockjs_reason(status, res.body());
            let (method, path) = (req.method(), req.uri().path());
            logging::refused(Part::SockJs, status.as_u16(), method, path, &reason);
        }
    }
    if let Some(session) = handled.opened {
        logging::opened(session.span(), session.transport());
        push(Output::Opened(session));
    }
    Ran {
        hub,
        answer: handled.answer,
        inbox: handled.inbox,
        sends,
    }
}

/// A request for a SockJS endpoint: staged when it would open a session,
/// handled at once otherwise.
pub(super) fn start(conn: &mut Connection, req: Request<Bytes>, hub: &Arc<Hub>, now: Instant) {
    let mut pending = Pending::new(&conn.server, req, hub, conn.remote, now);
    if pending.staged() {
        let request = pending.take_request();
        conn.state = State::Staged(Staged::SockJs(pending));
        let id = conn.id;
        conn.push_output(Output::Incoming(Incoming {
            endpoint: hub.id,
            request,
            conn: id,
        }));
    } else {
        proceed(conn, pending, Attributes::default(), now);
    }
}

/// Accepted (or nothing to accept): handled, once it no longer waits (see
/// [`Pending::waits`]).
pub(super) fn proceed(
    conn: &mut Connection,
    mut pending: Box<Pending>,
    attributes: Attributes,
    now: Instant,
) {
    if pending.waits(conn.id, now) {
        conn.state = State::SockJs(Exchange::Waits(Box::new((*pending, attributes))));
    } else {
        handle(conn, *pending, attributes, now);
    }
}

fn handle(conn: &mut Connection, pending: Pending, attributes: Attributes, now: Instant) {
    let upgrade = pending.upgrade;
    let Ran {
        hub,
        answer,
        inbox,
        sends,
    } = run(pending, attributes, now, &mut |output| {
        conn.push_output(output);
    });
    if upgrade && !matches!(answer, Answer::Upgrade { .. }) {
        // Answered in HTTP: the connection goes on in HTTP.
        conn.http.decline_upgrade();
    }
    conn.write_limit = hub.options.common.send_time_limit;
    match answer {
        Answer::Response(res) => match inbox {
            // Answer once the application took the messages and came back
            // for more: its immediate replies then reach the next poll.
            Some(inbox) if sends && res.status().is_success() => {
                conn.state = State::SockJs(Exchange::HandlerWait {
                    response: Box::new(res),
                    inbox,
                    until: now + hub.handler_wait(),
                });
            }
            _ => conn.respond(&res, After::KeepAlive, now),
        },
        Answer::Stream { receiver, response } => stream(conn, hub, receiver, &response, now),
        Answer::Poll { receiver, response } => {
            conn.state = State::SockJs(Exchange::LongPoll {
                hub,
                receiver,
                response: Box::new((response, BytesMut::new())),
            });
        }
        Answer::Upgrade { receiver, response } => {
            let mut head = BytesMut::new();
            let _ = conn
                .http
                .encode_response(&response, BodyKind::None, &mut head);
            conn.push_out(head.freeze(), now);
            let trailing = std::mem::take(&mut conn.http).take_upgraded();
            if !trailing.is_empty() {
                hub.receive_websocket(receiver, &trailing, now);
            }
            conn.start_sockjs_websocket(hub, receiver, inbox);
        }
    }
}

/// Starts a streaming response: the head, and the prelude in a chunk of
/// its own (clients read streams chunk by chunk).
fn stream(
    conn: &mut Connection,
    hub: Arc<Hub>,
    receiver: ReceiverId,
    response: &Response<Bytes>,
    now: Instant,
) {
    let mut out = BytesMut::new();
    let Ok(framing) = conn
        .http
        .encode_response(response, BodyKind::Stream, &mut out)
    else {
        hub.receiver_closed(receiver, now);
        conn.close();
        return;
    };
    if framing == Framing::None {
        // An answer to `HEAD`: the head alone.
        conn.respond_bytes(out.freeze(), After::Receiver(hub, receiver), now);
        return;
    }
    let chunked = framing == Framing::Chunked;
    body(chunked, response.body(), &mut out);
    conn.push_out(out.freeze(), now);
    conn.state = State::SockJs(Exchange::Stream {
        hub,
        receiver,
        chunked,
        ended: false,
    });
}

/// A piece of a streaming body: a chunk of its own, or as it is in a
/// close-delimited body (HTTP/1.0).
fn body(chunked: bool, data: &[u8], out: &mut BytesMut) {
    if chunked {
        encode_chunk(data, out);
    } else {
        out.extend_from_slice(data);
    }
}

impl Exchange {
    pub(super) fn receive(&mut self, http: &mut ServerConn, data: &[u8], now: Instant) {
        match self {
            Self::WebSocket { hub, receiver, .. } => hub.receive_websocket(*receiver, data, now),
            // Kept for the next request, as far as the request buffer takes
            // them.
            _ => http.receive(data),
        }
    }

    pub(super) fn receive_eof(&mut self, now: Instant) {
        if let Self::WebSocket {
            hub, receiver, eof, ..
        } = self
        {
            if !*eof {
                *eof = true;
                hub.receive_websocket_eof(*receiver, now);
            }
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Self::HandlerWait { until, .. } => Some(*until),
            Self::Waits(waiting) => waiting.0.deadline(),
            _ => None,
        }
    }

    pub(super) fn wants_read(&self, http: &ServerConn) -> bool {
        match self {
            // The client going away is seen while it waits for frames.
            Self::Stream { .. } | Self::LongPoll { .. } => http.receive_capacity() > 0,
            Self::WebSocket { paused, eof, .. } => !*paused && !*eof,
            Self::Waits(..) | Self::HandlerWait { .. } => false,
        }
    }

    pub(super) fn read_capacity(&self, http: &ServerConn) -> usize {
        match self {
            Self::WebSocket { hub, receiver, .. } => {
                hub.websocket_capacity(*receiver).clamp(1, READ_CHUNK)
            }
            _ => http.receive_capacity().clamp(1, READ_CHUNK),
        }
    }

    /// The connection is gone under the exchange.
    pub(super) fn end(self, now: Instant) {
        match self {
            Self::Stream { hub, receiver, .. }
            | Self::LongPoll { hub, receiver, .. }
            | Self::WebSocket { hub, receiver, .. } => hub.receiver_closed(receiver, now),
            Self::Waits(..) | Self::HandlerWait { .. } => {}
        }
    }
}

/// One step of a SockJS exchange.
pub(super) fn step(conn: &mut Connection, exchange: Exchange, now: Instant) -> bool {
    match exchange {
        Exchange::Waits(waiting) => {
            if waiting.0.poll_ready(&mut conn.context(), now) {
                let (pending, attributes) = *waiting;
                handle(conn, pending, attributes, now);
                return true;
            }
            conn.state = State::SockJs(Exchange::Waits(waiting));
            false
        }
        Exchange::HandlerWait {
            response,
            inbox,
            until,
        } => {
            if now >= until || inbox.poll_demand(&mut conn.context()).is_ready() {
                conn.respond(&response, After::KeepAlive, now);
                return true;
            }
            conn.state = State::SockJs(Exchange::HandlerWait {
                response,
                inbox,
                until,
            });
            false
        }
        Exchange::Stream {
            hub,
            receiver,
            chunked,
            ended,
        } => step_stream(conn, hub, receiver, chunked, ended, now),
        Exchange::LongPoll {
            hub,
            receiver,
            response,
        } => step_long_poll(conn, hub, receiver, response, now),
        Exchange::WebSocket {
            hub,
            receiver,
            inbox,
            paused,
            eof,
        } => step_websocket(conn, hub, receiver, inbox, paused, eof, now),
    }
}

fn step_stream(
    conn: &mut Connection,
    hub: Arc<Hub>,
    receiver: ReceiverId,
    chunked: bool,
    ended: bool,
    now: Instant,
) -> bool {
    if conn.read_eof {
        hub.receiver_closed(receiver, now);
        conn.abandon_output();
        conn.close();
        return true;
    }
    if conn.transmit_len() > 0 {
        conn.state = State::SockJs(Exchange::Stream {
            hub,
            receiver,
            chunked,
            ended,
        });
        return false;
    }
    if ended {
        hub.receiver_closed(receiver, now);
        conn.keep_alive(now);
        return true;
    }
    let mut outputs = Fifo::new();
    let mut ended = false;
    if hub.poll_outputs(receiver, now, &conn.waker, &mut outputs, false) {
        let mut out = BytesMut::new();
        for output in &outputs {
            body(chunked, &output.data, &mut out);
            ended |= output.end;
        }
        if ended && chunked {
            encode_last_chunk(&mut out);
        }
        conn.push_out(out.freeze(), now);
    }
    let progressed = !outputs.is_empty();
    conn.state = State::SockJs(Exchange::Stream {
        hub,
        receiver,
        chunked,
        ended,
    });
    progressed
}

fn step_long_poll(
    conn: &mut Connection,
    hub: Arc<Hub>,
    receiver: ReceiverId,
    mut response: Box<(Response<Bytes>, BytesMut)>,
    now: Instant,
) -> bool {
    if conn.read_eof {
        hub.receiver_closed(receiver, now);
        conn.close();
        return true;
    }
    let polled = hub.poll_frames(receiver, now, &conn.waker, &mut response.1);
    if polled == Some(true) {
        let (mut res, body) = *response;
        *res.body_mut() = body.freeze();
        conn.respond(&res, After::Receiver(hub, receiver), now);
        return true;
    }
    let progressed = polled.is_some();
    conn.state = State::SockJs(Exchange::LongPoll {
        hub,
        receiver,
        response,
    });
    progressed
}

fn step_websocket(
    conn: &mut Connection,
    hub: Arc<Hub>,
    receiver: ReceiverId,
    inbox: Option<Arc<Inbox>>,
    mut paused: bool,
    eof: bool,
    now: Instant,
) -> bool {
    let mut progressed = false;
    // What the hub has is taken only once the last of it is written. Taken,
    // the waker stays registered, so that the next output wakes the
    // connection. While a write is under way, the connection polls the hub
    // again when it drains (see `Connection::consume`) only if the hub no
    // longer holds the waker: output came (or it was never registered).
    if conn.transmit_len() > 0 {
        conn.drain_wait = !hub.waits_for_output(receiver, &conn.waker);
    } else {
        conn.drain_wait = false;
        let mut outputs = Fifo::new();
        if hub.poll_outputs(receiver, now, &conn.waker, &mut outputs, true) {
            progressed = true;
            let mut end = false;
            for output in outputs.drain() {
                end |= output.end;
                conn.push_out(output.data, now);
            }
            if end {
                // Written, then the write side shut and the
                // client's end of file awaited (bounded), so that
                // unread input does not turn the close into a reset.
                conn.linger(Some((hub, receiver)));
                return true;
            }
        }
    }
    if !eof {
        let room = inbox
            .as_ref()
            .is_none_or(|i| i.poll_room(&mut conn.context()).is_ready());
        if room == paused {
            paused = !room;
            hub.set_websocket_paused(receiver, paused);
        }
    }
    conn.state = State::SockJs(Exchange::WebSocket {
        hub,
        receiver,
        inbox,
        paused,
        eof,
    });
    progressed
}
