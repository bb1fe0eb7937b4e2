//! One TCP connection: HTTP/1.1 requests read through `http-proto`, routed
//! to an endpoint, answered; responses that stream, long polls and
//! upgraded WebSockets; every time limit of a connection. See
//! [`Connection`] for the driving loop.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_proto::ServerConn;
use sockjs_proto::ReceiverId;
use ws_proto::Fifo;

use crate::handshake::{HandshakeOutcome, HandshakeRequest, Incoming, Rejection};
use crate::hub::Hub;
use crate::logging::{self, Part};
use crate::server::{EndpointId, Server};
use crate::session::{Attributes, Session};

mod requests;
pub(crate) mod sockjs;
mod wake;
pub(crate) mod websocket;

pub(crate) use requests::page;
use sockjs::Exchange;
pub(crate) use sockjs::Pending;
pub(crate) use wake::Noted;
use websocket::WsExchange;

/// The most bytes the connection asks for in one read while it reads HTTP.
pub const READ_CHUNK: usize = 16 * 1024;

/// What a [`Connection`] hands to the embedder, besides bytes to write.
#[derive(Debug)]
#[non_exhaustive]
pub enum Output {
    /// A request would open a session (or is a SockJS `/info` with
    /// [`SockJsOptions::intercept_info`](crate::SockJsOptions::intercept_info)):
    /// run the endpoint's handshake interceptors on it, then
    /// [`Connection::accept`] or [`Connection::refuse`] it.
    Incoming(Incoming),
    /// A handshake ended (a session opened, or the request was refused,
    /// by an interceptor, the origin check or the protocol): for the
    /// interceptors' `after` part. Not for an intercepted `/info`.
    Handshake {
        /// The endpoint.
        endpoint: EndpointId,
        /// The request.
        request: HandshakeRequest,
        /// How it ended.
        outcome: HandshakeOutcome,
    },
    /// A session opened: hand it to the endpoint's application.
    Opened(Session),
}

/// Whether a connection has something to do that no wake or deadline
/// will announce.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rest {
    /// A call since the last step changed something (or the last step
    /// stopped at its bound): step at the next poll.
    Unsettled,
    /// The last step found nothing to do, and nothing changed since: the
    /// next step is for a wake, a deadline or a call.
    Settled,
}

/// What the connection does once the response being written is out.
pub(crate) enum After {
    /// Read the next request, if the connection can be kept.
    KeepAlive,
    /// Close.
    Close,
    /// The SockJS receiver the response carried is done; then as
    /// `KeepAlive`.
    Receiver(Arc<Hub>, ReceiverId),
}

pub(crate) enum State {
    /// Reading a request: since its first byte, or idle since.
    Head {
        started: Option<Instant>,
        idle_since: Instant,
    },
    /// An [`Incoming`] waits for the embedder.
    Staged(Staged),
    /// A whole response is being written.
    Respond(After),
    /// A SockJS exchange: a stream, a long poll, a held answer, a websocket.
    SockJs(Exchange),
    /// A plain WebSocket session.
    WebSocket(Box<WsExchange>),
    /// The write side is to be shut once what is queued is written; then
    /// reading until the client's end of file, or the deadline (`None`
    /// while writing).
    Linger {
        until: Option<Instant>,
        receiver: Option<(Arc<Hub>, ReceiverId)>,
    },
    /// Over: close the socket.
    Done,
}

/// What a staged request goes on with once accepted.
pub(crate) enum Staged {
    WebSocket {
        endpoint: EndpointId,
        upgrade: Box<ws_proto::handshake::UpgradeRequest>,
    },
    SockJs(Box<Pending>),
}

impl Staged {
    /// The kind of endpoint the request is for (the target of its logs).
    pub(crate) fn part(&self) -> Part {
        match self {
            Self::WebSocket { .. } => Part::WebSocket,
            Self::SockJs(_) => Part::SockJs,
        }
    }
}

/// The state of one TCP connection of a [`Server`]: bytes in, bytes out,
/// one timer, no socket, no clock.
///
/// The embedder reads the socket into it, writes what it gives, and wakes
/// it when its deadline passes or its waker fires. One connection is owned
/// by one task or thread; many run in parallel, sharing the [`Server`].
///
/// # The driving loop
///
/// ```text
/// let mut conn = server.connection(peer, now, waker);
/// loop {
///     // 1. Drain: what the connection has for the embedder.
///     while let Some(output) = conn.poll_output(now) {
///         match output {
///             Output::Incoming(incoming) => {
///                 // run the endpoint's interceptors on incoming.request()
///                 match interceptors(incoming.request()) {
///                     Ok(attributes) => conn.accept(incoming, attributes, now),
///                     Err(rejection) => conn.refuse(incoming, &rejection, now),
///                 }
///             }
///             Output::Handshake { .. } => { /* interceptors' after part */ }
///             Output::Opened(session) => { /* hand it to the application */ }
///         }
///     }
///     if conn.is_done() { break }                  // close the socket
///     // 2. Write what it holds; tell it how much went out.
///     while conn.transmit_len() > 0 {
///         let n = socket.write_vectored(conn.transmit_slices(&mut slices))?;
///         conn.consume(n, now);                    // until the socket would block
///     }
///     if conn.transmit_len() == 0 && conn.wants_shutdown_write() {
///         socket.shutdown(Write);                  // once
///     }
///     // 3. Wait for: the socket readable (only if conn.wants_read()),
///     //    writable (if transmit_len() > 0), the waker, or
///     //    conn.poll_timeout(). Then feed what happened:
///     match event {
///         Readable => match socket.read(&mut buf[..conn.read_capacity()]) {
///             Ok(0) => conn.handle_eof(now),
///             Ok(n) => conn.handle_input(&buf[..n], now),
///             Err(_) => conn.abort(now),
///         },
///         Deadline => conn.handle_timeout(now),
///         Woken => {}                              // poll_output re-checks
///     }
/// }
/// ```
///
/// Every deadline of the connection comes through
/// [`poll_timeout`](Self::poll_timeout): a request's time limit, idle
/// keep-alive, a write stuck past the send time limit, the answer that
/// waits for the application, a poll's wait for its session's other
/// receiver to go, WebSocket pings and close timeout, the lingering close.
pub struct Connection {
    pub(crate) server: Arc<Server>,
    pub(crate) id: u64,
    pub(crate) remote: SocketAddr,
    /// The embedder's waker, which notes in `woken` that it fired: what
    /// the connection registers anywhere.
    pub(crate) waker: Waker,
    woken: Arc<Noted>,
    /// Whether [`poll_output`](Self::poll_output) is to step the
    /// connection even with no wake and no deadline passed.
    rest: Rest,
    /// A WebSocket session's last step left work that waits for the output
    /// to be written (see [`consume`](Self::consume)).
    pub(crate) drain_wait: bool,
    pub(crate) http: ServerConn,
    pub(crate) state: State,
    out: Fifo<Bytes>,
    out_len: usize,
    /// Since when output has waited to be written, and for how long it may.
    stall: Option<Instant>,
    pub(crate) write_limit: Duration,
    outputs: VecDeque<Output>,
    pub(crate) read_eof: bool,
    shutdown_write: bool,
    /// The latest time the embedder gave.
    now: Instant,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("remote", &self.remote)
            .field("pending", &self.out_len)
            .finish_non_exhaustive()
    }
}

impl Drop for Connection {
    /// A connection dropped before it was done ends what it carried, at
    /// the last time it saw.
    fn drop(&mut self) {
        let state = std::mem::replace(&mut self.state, State::Done);
        Self::end_state(state, self.now);
        self.server.connection_dropped(self.id);
    }
}

impl Connection {
    pub(crate) fn new(
        server: Arc<Server>,
        id: u64,
        remote: SocketAddr,
        now: Instant,
        (woken, waker): (Arc<Noted>, Waker),
    ) -> Self {
        let http = ServerConn::new(server.options.limits);
        let write_limit = server.request_timeout();
        Self {
            server,
            id,
            remote,
            waker,
            woken,
            rest: Rest::Unsettled,
            drain_wait: false,
            http,
            state: State::Head {
                started: None,
                idle_since: now,
            },
            out: Fifo::new(),
            out_len: 0,
            stall: None,
            write_limit,
            outputs: VecDeque::new(),
            read_eof: false,
            shutdown_write: false,
            now,
        }
    }

    // ---- the embedder's side --------------------------------------------

    /// Bytes read from the socket.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) {
        if data.is_empty() {
            return;
        }
        match &mut self.state {
            State::Head { started, .. } => {
                started.get_or_insert(now);
                self.http.receive(data);
            }
            State::Staged(_) | State::Respond(_) => self.http.receive(data),
            State::SockJs(exchange) => exchange.receive(&mut self.http, data, now),
            State::WebSocket(ws) => ws.receive(data),
            State::Linger { .. } | State::Done => {}
        }
        self.advance(now);
    }

    /// A buffer to read the socket into without a copy, and how many bytes
    /// to read: `Some` while a WebSocket session reads (its input buffer,
    /// sized to what the transport has). Append at most that many bytes,
    /// then call [`handle_read`](Self::handle_read). `None`: read into a
    /// buffer of your own and call [`handle_input`](Self::handle_input).
    pub fn read_buffer(&mut self) -> Option<(&mut BytesMut, usize)> {
        match &mut self.state {
            State::WebSocket(ws) if !self.read_eof => ws.read_buffer(),
            _ => None,
        }
    }

    /// `n` bytes were read into [`read_buffer`](Self::read_buffer), which
    /// asked for `asked`; zero is the end of the stream.
    pub fn handle_read(&mut self, asked: usize, n: usize, now: Instant) {
        if n == 0 {
            self.handle_eof(now);
            return;
        }
        if let State::WebSocket(ws) = &mut self.state {
            ws.read_done(asked, n);
        }
        self.advance(now);
    }

    /// The client closed its side (or reading failed).
    pub fn handle_eof(&mut self, now: Instant) {
        if self.read_eof {
            return;
        }
        self.read_eof = true;
        match &mut self.state {
            State::SockJs(exchange) => exchange.receive_eof(now),
            State::WebSocket(ws) => ws.receive_eof(),
            _ => {}
        }
        self.advance(now);
    }

    /// The transport failed (a write error, a reset): nothing more can be
    /// read or written. Sessions end as when the client vanishes.
    pub fn abort(&mut self, now: Instant) {
        self.rest = Rest::Unsettled;
        self.abandon_output();
        self.read_eof = true;
        let state = std::mem::replace(&mut self.state, State::Done);
        Self::end_state(state, now);
    }

    /// The deadline of [`poll_timeout`](Self::poll_timeout) passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
    }

    /// The next thing for the embedder, after doing what is due at `now`
    /// (call it whenever the waker fired, too). `None`: nothing until more
    /// input, a wake or the deadline.
    pub fn poll_output(&mut self, now: Instant) -> Option<Output> {
        // Stepped only when something may have changed since the last
        // step: the waker fired, a deadline passed, or a call since left
        // the connection unsettled. (Each `handle_*` steps by itself: the
        // poll that follows it costs no second step.)
        if self.outputs.is_empty()
            && (self.woken.take()
                || self.rest == Rest::Unsettled
                || self.poll_timeout().is_some_and(|at| at <= now))
        {
            self.advance(now);
        }
        if self.outputs.is_empty() {
            // (Not `pop_front`'s `None`: an `Output` is a few hundred bytes,
            // copied out even when there is none.)
            return None;
        }
        let output = self.outputs.pop_front();
        if self.outputs.is_empty() && self.outputs.capacity() > 0 {
            // Outputs are rare after a request's start (an idle WebSocket
            // has none for the rest of its life): give the queue's buffer
            // (a few hundred bytes an output) back rather than keep it.
            self.outputs = VecDeque::new();
        }
        output
    }

    /// Accepts a staged request, with the session's attributes (what the
    /// interceptors stored).
    pub fn accept(&mut self, incoming: Incoming, attributes: Attributes, now: Instant) {
        if incoming.conn != self.id || !matches!(self.state, State::Staged(_)) {
            tracing::debug!(target: logging::SERVER, "an Incoming given back to a connection that did not stage it");
            return;
        }
        let State::Staged(staged) = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        match staged {
            Staged::WebSocket { endpoint, upgrade } => {
                websocket::open(self, endpoint, &upgrade, incoming.request, attributes, now);
            }
            Staged::SockJs(mut pending) => {
                pending.request = incoming.request;
                sockjs::proceed(self, pending, attributes, now);
            }
        }
        self.advance(now);
    }

    /// Refuses a staged request with `rejection`'s response (on a SockJS
    /// endpoint, with the CORS headers the endpoint's own answer would
    /// carry: see [`sockjs_proto::Server::refusal_cors`]).
    pub fn refuse(&mut self, incoming: Incoming, rejection: &Rejection, now: Instant) {
        if incoming.conn != self.id || !matches!(self.state, State::Staged(_)) {
            tracing::debug!(target: logging::SERVER, "an Incoming given back to a connection that did not stage it");
            return;
        }
        let State::Staged(staged) = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        logging::interceptor_refused(staged.part(), rejection, &incoming.request);
        let (response, after, handshake) = match staged {
            Staged::WebSocket { .. } => {
                self.http.close();
                (rejection.to_response(), After::Close, true)
            }
            Staged::SockJs(pending) => {
                if pending.upgrade {
                    self.http.decline_upgrade();
                }
                (
                    pending.refusal(rejection),
                    After::KeepAlive,
                    pending.opens(),
                )
            }
        };
        if handshake {
            self.handshake(
                incoming.endpoint,
                incoming.request,
                HandshakeOutcome::Refused(rejection.status()),
            );
        }
        self.respond(&response, after, now);
        self.advance(now);
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due; `None`
    /// when nothing waits for time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let stall = self.stall.map(|since| since + self.write_limit);
        let state = match &self.state {
            State::Head {
                started: Some(at), ..
            } => Some(*at + self.server.options.request_timeout),
            State::Head { idle_since, .. } => {
                Some(*idle_since + self.server.options.keep_alive_timeout)
            }
            State::SockJs(exchange) => exchange.poll_timeout(),
            State::WebSocket(ws) => ws.poll_timeout(),
            State::Linger { until, .. } => *until,
            State::Staged(_) | State::Respond(_) | State::Done => None,
        };
        match (stall, state) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Bytes waiting to be written.
    pub fn transmit_len(&self) -> usize {
        self.out_len
    }

    /// The bytes to write next (the first of [`transmit_slices`](Self::transmit_slices)).
    pub fn transmit(&self) -> &[u8] {
        self.out.front().map_or(&[], |b| b.as_ref())
    }

    /// The bytes to write, as slices for one gathering write; how many of
    /// `slices` were filled.
    pub fn transmit_slices<'a>(&'a self, slices: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in slices.iter_mut().zip(&self.out) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// `n` bytes of the [`transmit`](Self::transmit) bytes were written.
    pub fn consume(&mut self, mut n: usize, now: Instant) {
        n = n.min(self.out_len);
        self.out_len -= n;
        while n > 0 {
            let Some(front) = self.out.front_mut() else {
                break;
            };
            if n >= front.len() {
                n -= front.len();
                self.out.pop_front();
            } else {
                let _ = front.split_to(n);
                n = 0;
            }
        }
        if self.out_len == 0 {
            self.stall = None;
            // A WebSocket session whose last step left nothing waiting for
            // the output to drain has nothing to do now: the write alone
            // changes none of its state. Everything else (a response's
            // end, the next request, a lingering close) goes on here.
            if !matches!(
                self.state,
                State::WebSocket(_) | State::SockJs(sockjs::Exchange::WebSocket { .. })
            ) || self.drain_wait
            {
                self.advance(now);
            }
            // The response written, the next request (pipelined) may have
            // staged an `Incoming` or opened a session while the embedder
            // writes: wake it, so that it drains them before it waits.
            if !self.outputs.is_empty() {
                self.waker.wake_by_ref();
            }
        } else {
            // Room freed for what waits to be queued.
            self.rest = Rest::Unsettled;
        }
    }

    /// Whether to read the socket now. `false` while the application is
    /// behind (the client then waits in TCP), while an answer is being
    /// decided or written, or once nothing more is read.
    pub fn wants_read(&self) -> bool {
        if self.read_eof {
            return false;
        }
        match &self.state {
            State::Head { .. } | State::Linger { .. } => true,
            State::SockJs(exchange) => exchange.wants_read(&self.http),
            State::WebSocket(ws) => ws.wants_read(self.out_len),
            State::Staged(_) | State::Respond(_) | State::Done => false,
        }
    }

    /// The most bytes to read now (at least one while
    /// [`wants_read`](Self::wants_read): a full buffer is then the typed
    /// error of the protocol, not a stall).
    pub fn read_capacity(&self) -> usize {
        match &self.state {
            State::SockJs(exchange) => exchange.read_capacity(&self.http),
            State::WebSocket(ws) => ws.read_capacity(),
            State::Linger { .. } => READ_CHUNK,
            _ => self.http.receive_capacity().clamp(1, READ_CHUNK),
        }
    }

    /// Shut the socket's write side once everything is written (the
    /// connection still reads until the client's end of file).
    pub fn wants_shutdown_write(&self) -> bool {
        self.shutdown_write
    }

    /// The connection is over: shut the socket down and drop it (and this).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done) && self.out_len == 0
    }

    // ---- inside ---------------------------------------------------------

    pub(crate) fn context(&self) -> Context<'_> {
        Context::from_waker(&self.waker)
    }

    /// Queues bytes to write.
    pub(crate) fn push_out(&mut self, data: Bytes, now: Instant) {
        if data.is_empty() {
            return;
        }
        if self.out_len == 0 {
            self.stall = Some(now);
        }
        self.out_len += data.len();
        self.out.push_back(data);
    }

    /// Drops what waits to be written (the client is not taking it).
    pub(crate) fn abandon_output(&mut self) {
        self.out.clear();
        self.out_len = 0;
        self.stall = None;
    }

    pub(crate) fn stalled(&self, now: Instant) -> bool {
        self.stall
            .is_some_and(|since| now >= since + self.write_limit)
    }

    pub(crate) fn push_output(&mut self, output: Output) {
        self.outputs.push_back(output);
    }

    pub(crate) fn handshake(
        &mut self,
        endpoint: EndpointId,
        request: HandshakeRequest,
        outcome: HandshakeOutcome,
    ) {
        self.outputs.push_back(Output::Handshake {
            endpoint,
            request,
            outcome,
        });
    }

    /// Reads the socket no more: shut the write side, linger for the
    /// client's end of file.
    pub(crate) fn linger(&mut self, receiver: Option<(Arc<Hub>, ReceiverId)>) {
        self.shutdown_write = true;
        self.state = State::Linger {
            until: None,
            receiver,
        };
    }

    fn step_linger(
        &mut self,
        until: Option<Instant>,
        receiver: Option<(Arc<Hub>, ReceiverId)>,
        now: Instant,
    ) -> bool {
        let end = |conn: &mut Self, receiver: Option<(Arc<Hub>, ReceiverId)>| {
            if let Some((hub, receiver)) = receiver {
                hub.receiver_closed(receiver, now);
            }
            conn.state = State::Done;
            true
        };
        if self.out_len > 0 {
            // The last frames go out first (within the write limit).
            self.state = State::Linger { until, receiver };
            return false;
        }
        let until = until.unwrap_or(now + self.server.options.linger);
        if self.read_eof || now >= until {
            return end(self, receiver);
        }
        self.state = State::Linger {
            until: Some(until),
            receiver,
        };
        false
    }

    /// Carries a SockJS session's websocket from here on (its `101` is
    /// written).
    pub(crate) fn start_sockjs_websocket(
        &mut self,
        hub: Arc<Hub>,
        receiver: ReceiverId,
        inbox: Option<Arc<crate::mailbox::Inbox>>,
    ) {
        self.write_limit = hub.options.common.send_time_limit;
        self.state = State::SockJs(Exchange::WebSocket {
            inbox,
            hub,
            receiver,
            paused: false,
            eof: false,
        });
    }

    /// Closes the connection once what is queued is written.
    pub(crate) fn close(&mut self) {
        self.shutdown_write = true;
        self.state = State::Done;
    }

    /// Does what the connection can do at `now`.
    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        // Each step either changes something or says it cannot go on; a
        // bound keeps a mistake from becoming a spin.
        for _ in 0..64 {
            let state = std::mem::replace(&mut self.state, State::Done);
            let progressed = self.step(state, now);
            if !progressed {
                self.rest = Rest::Settled;
                return;
            }
        }
        self.rest = Rest::Unsettled;
        // A connection that still has work after that many steps is polled
        // again at once.
        self.waker.wake_by_ref();
    }

    /// One step of the state machine; puts the state back. `true` when it
    /// made progress (another step may make more).
    fn step(&mut self, state: State, now: Instant) -> bool {
        // A write stuck past the write limit ends whatever the connection
        // carries (a WebSocket session says so in its own close status).
        if self.stalled(now) && !matches!(state, State::WebSocket(_)) {
            tracing::debug!(target: logging::SERVER, "a write took longer than the write limit");
            self.abandon_output();
            Self::end_state(state, now);
            self.close();
            return true;
        }
        match state {
            State::Head {
                started,
                idle_since,
            } => self.step_head(started, idle_since, now),
            State::Respond(after) => self.step_respond(after, now),
            State::SockJs(exchange) => sockjs::step(self, exchange, now),
            State::WebSocket(ws) => websocket::step(self, ws, now),
            State::Linger { until, receiver } => self.step_linger(until, receiver, now),
            State::Done => false,
            state @ State::Staged(_) => {
                self.state = state;
                false
            }
        }
    }

    /// Ends whatever the state holds (the connection is dropped, or its
    /// transport failed).
    fn end_state(state: State, now: Instant) {
        match state {
            State::SockJs(exchange) => exchange.end(now),
            State::WebSocket(ws) => ws.end_abruptly(),
            State::Linger {
                receiver: Some((hub, receiver)),
                ..
            }
            | State::Respond(After::Receiver(hub, receiver)) => hub.receiver_closed(receiver, now),
            _ => {}
        }
    }
}
