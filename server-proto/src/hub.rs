//! One SockJS endpoint: the core behind a lock, the wakers of the
//! connections that carry its receivers, the inboxes of its sessions, and
//! the deadline the server's one timer waits for.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sockjs_proto::{
    Answer, CloseFrame, Event, Output, PreparedText, ReceiverId, RequestContext, RequestSession,
    SessionId, Utf8Bytes,
};
use ws_proto::Fifo;

use crate::contest::Contests;
use crate::handshake::HandshakeRequest;
use crate::id_hash::IdMap;
use crate::logging;
use crate::mailbox::Inbox;
use crate::options::SockJsOptions;
use crate::server::{EndpointId, TimerCell};
use crate::session::{
    Attributes, CloseStatus, Outlet, SendError, Session, SessionInfo, SessionSender,
    SessionTransport,
};

/// The context of the request being handled, for the session it may open.
pub(crate) struct OpenContext {
    pub(crate) request: HandshakeRequest,
    pub(crate) attributes: Attributes,
}

pub(crate) struct Hub {
    state: Mutex<HubState>,
    pub(crate) id: EndpointId,
    pub(crate) options: SockJsOptions,
    /// The core's prefix (without a trailing slash).
    prefix: String,
    timer: Arc<TimerCell>,
    me: Weak<Self>,
}

struct HubState {
    server: sockjs_proto::Server,
    /// The connections waiting for a receiver's output.
    wakers: IdMap<ReceiverId, Waker>,
    /// Receiving requests that wait a little for the receiver attached to
    /// their session to go (see [`crate::contest`]).
    contests: Contests,
    /// The open sessions' inboxes, and what they know (for the log of
    /// their close).
    inboxes: IdMap<SessionId, (Arc<Inbox>, Arc<SessionInfo>)>,
    /// The senders waiting for room in a session's cache.
    room_waiters: IdMap<SessionId, Vec<Waker>>,
    /// The context of the request being handled.
    opening: Option<OpenContext>,
}

/// What handling a request gave.
pub(crate) struct Handled {
    pub(crate) answer: Answer,
    /// The session the request opened, if any.
    pub(crate) opened: Option<Session>,
    /// The inbox of the session the request opened or reached.
    pub(crate) inbox: Option<Arc<Inbox>>,
}

impl Hub {
    pub(crate) fn new(
        prefix: &str,
        id: EndpointId,
        options: SockJsOptions,
        seed: u64,
        timer: Arc<TimerCell>,
    ) -> Result<Arc<Self>, sockjs_proto::SockJsConfigError> {
        let server = sockjs_proto::Server::new(prefix, options.config.clone(), seed)?;
        let prefix = server.prefix().to_owned();
        Ok(Arc::new_cyclic(|me| Self {
            state: Mutex::new(HubState {
                server,
                wakers: IdMap::default(),
                contests: Contests::default(),
                inboxes: IdMap::default(),
                room_waiters: IdMap::default(),
                opening: None,
            }),
            id,
            options,
            prefix,
            timer,
            me: me.clone(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `path` is one of this endpoint's (its core's
    /// [`matches`](sockjs_proto::Server::matches), without its lock).
    pub(crate) fn matches(&self, path: &str) -> bool {
        sockjs_proto::Route::parse(&self.prefix, path).is_some()
    }

    pub(crate) fn prefix_len(&self) -> usize {
        self.prefix.len()
    }

    pub(crate) fn handler_wait(&self) -> Duration {
        self.options.handler_wait
    }

    /// Whether `path` is this endpoint's `/info`.
    pub(crate) fn is_info(&self, path: &str) -> bool {
        sockjs_proto::Route::parse(&self.prefix, path) == Some(sockjs_proto::Route::Info)
    }

    /// Adds to `headers`, a refusal's, the CORS headers the endpoint's
    /// answer to `req` would carry (see
    /// [`sockjs_proto::Server::refusal_cors`]).
    pub(crate) fn refusal_cors(&self, req: &http::Request<Bytes>, headers: &mut http::HeaderMap) {
        self.lock().server.refusal_cors(req, headers);
    }

    /// Which session a request concerns, and its inbox.
    pub(crate) fn request_session(
        &self,
        req: &http::Request<Bytes>,
        ctx: &RequestContext,
    ) -> (RequestSession, Option<Arc<Inbox>>) {
        let st = self.lock();
        let which = st.server.request_session(req, ctx);
        let inbox = match which {
            RequestSession::Receives(id) | RequestSession::Sends(id) => {
                st.inboxes.get(&id).map(|(inbox, _)| Arc::clone(inbox))
            }
            _ => None,
        };
        (which, inbox)
    }

    /// A receiving request for `session` contends with the receiver
    /// attached to it, if any (see [`crate::contest`]): that receiver's
    /// connection is woken (to read its socket), and the request waits
    /// while [`contest_waits`](Self::contest_waits) says so, for at most
    /// [`GRACE`](crate::contest::GRACE).
    pub(crate) fn contend(&self, session: SessionId) -> Option<ReceiverId> {
        let mut st = self.lock();
        let holder = st.server.session(session)?.holder()?;
        st.contests.enter(holder);
        if let Some(waker) = st.wakers.remove(&holder) {
            waker.wake();
        }
        Some(holder)
    }

    /// Whether the contest for `holder`'s place is still open (the holder
    /// is there); contender `id`'s `waker` is woken when it is decided.
    pub(crate) fn contest_waits(&self, holder: ReceiverId, id: u64, waker: &Waker) -> bool {
        self.lock().contests.waits(holder, id, waker)
    }

    /// Contender `id` waits for `holder` no more.
    pub(crate) fn contest_withdraw(&self, holder: ReceiverId, id: u64) {
        self.lock().contests.withdraw(holder, id);
    }

    /// Runs a request through the core; `existing` is the inbox
    /// [`request_session`](Self::request_session) found.
    pub(crate) fn handle(
        &self,
        req: &http::Request<Bytes>,
        ctx: &RequestContext,
        context: OpenContext,
        existing: Option<Arc<Inbox>>,
        now: Instant,
    ) -> Handled {
        let mut st = self.lock();
        let answer = st.server.handle_request(req, ctx, now);
        st.opening = Some(context);
        let mut opened = self.dispatch(&mut st);
        st.opening = None;
        let opened = opened.pop();
        let inbox = opened.as_ref().map(|s| Arc::clone(&s.inbox)).or(existing);
        Handled {
            answer,
            opened,
            inbox,
        }
    }

    /// Every output `receiver` has now (up to and including one with
    /// `end`), appended to `outputs`; `false` when there was none. `waker`
    /// is registered, to be woken when more comes, when none came, or
    /// always with `keep_waiting` (a receiver that takes every output as it
    /// comes: the connection need not poll again before it has more).
    pub(crate) fn poll_outputs(
        &self,
        receiver: ReceiverId,
        now: Instant,
        waker: &Waker,
        outputs: &mut Fifo<Output>,
        keep_waiting: bool,
    ) -> bool {
        let mut st = self.lock();
        let before = outputs.len();
        let mut ended = false;
        while let Some(output) = st.server.poll_output(receiver, now) {
            ended = output.end;
            outputs.push_back(output);
            if ended {
                break;
            }
        }
        let came = outputs.len() > before;
        if came {
            let _ = self.dispatch(&mut st);
        }
        if !came || (keep_waiting && !ended) {
            Self::wait_for_output(&mut st, receiver, waker);
        }
        came
    }

    /// Appends the data of every output `receiver` has now to `body` (up to
    /// and including one with `end`): `Some(end)` when any came, `None`
    /// (and `waker` registered) when none did.
    pub(crate) fn poll_frames(
        &self,
        receiver: ReceiverId,
        now: Instant,
        waker: &Waker,
        body: &mut bytes::BytesMut,
    ) -> Option<bool> {
        let mut outputs = Fifo::new();
        if !self.poll_outputs(receiver, now, waker, &mut outputs, false) {
            return None;
        }
        let mut ended = false;
        for output in &outputs {
            body.extend_from_slice(&output.data);
            ended |= output.end;
        }
        Some(ended)
    }

    /// Whether `waker` is registered for `receiver`'s output: none came
    /// since it was.
    pub(crate) fn waits_for_output(&self, receiver: ReceiverId, waker: &Waker) -> bool {
        self.lock()
            .wakers
            .get(&receiver)
            .is_some_and(|w| w.will_wake(waker))
    }

    /// Registers `waker` to be woken when `receiver` has output.
    fn wait_for_output(st: &mut HubState, receiver: ReceiverId, waker: &Waker) {
        match st.wakers.get_mut(&receiver) {
            Some(w) if w.will_wake(waker) => {}
            _ => {
                st.wakers.insert(receiver, waker.clone());
            }
        }
    }

    /// The connection carrying `receiver` is done (or gone).
    pub(crate) fn receiver_closed(&self, receiver: ReceiverId, now: Instant) {
        let mut st = self.lock();
        st.wakers.remove(&receiver);
        st.server.receiver_closed(receiver, now);
        st.contests.decide(receiver);
        let _ = self.dispatch(&mut st);
    }

    pub(crate) fn receive_websocket(&self, receiver: ReceiverId, data: &[u8], now: Instant) {
        let mut st = self.lock();
        st.server.receive_websocket(receiver, data, now);
        let _ = self.dispatch(&mut st);
    }

    pub(crate) fn receive_websocket_eof(&self, receiver: ReceiverId, now: Instant) {
        let mut st = self.lock();
        st.server.receive_websocket_eof(receiver, now);
        let _ = self.dispatch(&mut st);
    }

    /// Reading the connection of `receiver` stopped (or resumed) because
    /// its session's inbox is full.
    pub(crate) fn set_websocket_paused(&self, receiver: ReceiverId, paused: bool) {
        self.lock().server.set_websocket_paused(receiver, paused);
    }

    pub(crate) fn websocket_capacity(&self, receiver: ReceiverId) -> usize {
        self.lock().server.websocket_capacity(receiver)
    }

    pub(crate) fn send(&self, id: SessionId, text: Utf8Bytes) -> Result<(), SendError> {
        let mut st = self.lock();
        let sent = st.server.send(id, text);
        let _ = self.dispatch(&mut st);
        sent.map_err(|e| send_error(&e))
    }

    /// Sends a message escaped once to several sessions, under one lock
    /// and with one dispatch (one wake-up for each receiver), as
    /// [`send`](Self::send) would to each; `sent` is told each session's
    /// result, in order.
    pub(crate) fn send_prepared(
        &self,
        ids: impl IntoIterator<Item = SessionId>,
        text: &PreparedText,
        mut sent: impl FnMut(Result<(), SendError>),
    ) {
        let mut st = self.lock();
        for id in ids {
            sent(
                st.server
                    .send_prepared(id, text)
                    .map_err(|e| send_error(&e)),
            );
        }
        let _ = self.dispatch(&mut st);
    }

    /// Ready when the session's cache has room for a sender that waits
    /// (an error once the session takes no more sends).
    pub(crate) fn poll_room(
        &self,
        id: SessionId,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), SendError>> {
        let mut st = self.lock();
        match st.server.poll_room(id) {
            Ok(true) => Poll::Ready(Ok(())),
            Ok(false) => {
                let waiters = st.room_waiters.entry(id).or_default();
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
                Poll::Pending
            }
            Err(_) => Poll::Ready(Err(SendError::Closed)),
        }
    }

    /// Sends a message from a sender that waited for room.
    pub(crate) fn send_waited(&self, id: SessionId, text: Utf8Bytes) -> Result<(), SendError> {
        let mut st = self.lock();
        let sent = st.server.send_waited(id, text);
        let _ = self.dispatch(&mut st);
        sent.map_err(|_| SendError::Closed)
    }

    pub(crate) fn close(&self, id: SessionId, status: CloseStatus) -> Result<(), SendError> {
        let mut st = self.lock();
        let closed = st
            .server
            .close(id, CloseFrame::new(status.code, status.reason));
        let _ = self.dispatch(&mut st);
        closed.map_err(|_| SendError::Closed)
    }

    pub(crate) fn is_open(&self, id: SessionId) -> bool {
        self.lock().server.session(id).is_some_and(|s| s.is_open())
    }

    pub(crate) fn session_count(&self) -> usize {
        self.lock().server.session_count()
    }

    /// Closes every session with `c[1001,"Server shutting down"]`.
    pub(crate) fn shutdown(&self) {
        let mut st = self.lock();
        st.server.shutdown();
        let _ = self.dispatch(&mut st);
    }

    /// The core's next deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.lock().server.poll_timeout()
    }

    /// Does the core's work due at `now` (heartbeats, expiry).
    pub(crate) fn handle_timeout(&self, now: Instant) {
        let mut st = self.lock();
        st.server.handle_timeout(now);
        let _ = self.dispatch(&mut st);
    }

    /// Hands the core's work out: wakes the connections whose receivers
    /// have output, delivers events to the sessions' inboxes, and wakes
    /// the timer if the deadline moved earlier. Returns the sessions that
    /// opened.
    fn dispatch(&self, st: &mut HubState) -> Vec<Session> {
        while let Some(receiver) = st.server.poll_wakeup() {
            if let Some(w) = st.wakers.remove(&receiver) {
                w.wake();
            }
        }
        let mut opened = Vec::new();
        while let Some(event) = st.server.poll_event() {
            match event {
                Event::Opened { session, transport } => {
                    opened.push(self.open(st, session, transport));
                }
                Event::Message { session, text } => {
                    if let Some((inbox, _)) = st.inboxes.get(&session) {
                        inbox.push(ws_proto::Message::Text(text));
                    }
                }
                Event::Room { session } => {
                    for w in st.room_waiters.remove(&session).into_iter().flatten() {
                        w.wake();
                    }
                }
                Event::Closed { session, reason } => {
                    for w in st.room_waiters.remove(&session).into_iter().flatten() {
                        w.wake();
                    }
                    if let Some((inbox, info)) = st.inboxes.remove(&session) {
                        let status = CloseStatus::from(reason.frame());
                        logging::closed(&info.span, info.transport, &status);
                        inbox.close(status);
                    }
                }
                _ => {}
            }
        }
        // Only a deadline added can be earlier than the one the timer waits
        // for; one moved later lets the timer fire at the old one, and the
        // server's `poll_timeout` then re-arms it at the real one.
        if let Some(at) = st.server.poll_new_deadline() {
            self.timer.rearm(at);
        }
        opened
    }

    fn open(
        &self,
        st: &mut HubState,
        key: SessionId,
        transport: sockjs_proto::Transport,
    ) -> Session {
        let context = st.opening.take();
        let sockjs_id = st
            .server
            .session(key)
            .map(|s| s.sockjs_id().to_owned())
            .filter(|s| !s.is_empty());
        // Sessions open only while a request is handled, which set the
        // context; an empty one keeps that an invariant, not a panic.
        let context = context.unwrap_or_else(|| OpenContext {
            request: HandshakeRequest::placeholder(),
            attributes: Attributes::default(),
        });
        let request = context.request;
        let id = crate::server::Server::next_session_id();
        let transport = SessionTransport::SockJs(transport);
        let span = logging::session_span(id, transport, request.uri.path(), request.client_ip);
        let info = Arc::new(SessionInfo {
            id,
            endpoint: self.id,
            sockjs_id: sockjs_id.map(String::into_boxed_str),
            transport,
            uri: request.uri,
            remote_addr: request.remote_addr,
            client_ip: request.client_ip,
            principal: request.principal.map(String::into_boxed_str),
            headers: crate::stored_headers::StoredHeaders::new(&request.headers),
            attributes: context.attributes,
            protocol: None,
            span,
        });
        let inbox = Arc::new(Inbox::new(self.options.common.inbox_limit));
        st.inboxes
            .insert(key, (Arc::clone(&inbox), Arc::clone(&info)));
        Session {
            sender: SessionSender {
                info: Arc::clone(&info),
                outlet: Outlet::SockJs(self.arc(), key),
                inbox: Arc::clone(&inbox),
            },
            info,
            inbox,
        }
    }

    fn arc(&self) -> Arc<Self> {
        self.me
            .upgrade()
            .expect("the hub lives while its sessions are opened")
    }
}

/// A send's error as the application sees it: both limits overflow.
fn send_error(e: &sockjs_proto::SendError) -> SendError {
    match e {
        sockjs_proto::SendError::CacheOverflow | sockjs_proto::SendError::BufferOverflow => {
            SendError::Overflow
        }
        _ => SendError::Closed,
    }
}
