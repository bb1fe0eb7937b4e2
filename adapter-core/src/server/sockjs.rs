//! One SockJS endpoint: the core behind a lock, the wakers of the
//! connections that carry its receivers, the inboxes of its sessions, and
//! the one timer that the core's `poll_timeout` arms.

use std::collections::HashMap;
use std::future::Future as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use rand::SeedableRng as _;
use sockjs_proto::{
    Answer, CloseFrame, Event, Output, ReceiverId, RequestContext, RequestSession, SessionId,
};
use tracing::Instrument as _;

use super::endpoint::{Common, HandshakeRequest, SockJsEndpoint};
use crate::runtime::{Executor, Task};
use crate::sync::{Signal, Stop};

use super::session::{
    Attributes, CloseStatus, Inbox, Outlet, SendError, Session, SessionInfo, SessionSender,
    SessionTransport,
};

/// The context of the request being handled, for the session it may open.
pub(crate) struct OpenContext {
    pub(crate) request: HandshakeRequest,
    pub(crate) attributes: Attributes,
}

pub(crate) struct SockJsHub {
    state: Mutex<HubState>,
    /// Wakes the timer task when the core's next deadline moved earlier.
    timer: Signal,
    /// The runtime's clock and task spawner.
    now: fn() -> Instant,
    spawn: fn(Task),
    pub(crate) common: Common,
    /// How long the answer to a client's send waits for the handler.
    pub(crate) handler_wait: std::time::Duration,
    ids: Arc<AtomicU64>,
    me: Weak<Self>,
}

struct HubState {
    server: sockjs_proto::Server,
    /// The tasks waiting for a receiver's output.
    wakers: HashMap<ReceiverId, Waker>,
    inboxes: HashMap<SessionId, Arc<Inbox>>,
    /// The senders waiting for room in a session's cache.
    room_waiters: HashMap<SessionId, Vec<Waker>>,
    /// The context of the request being handled.
    opening: Option<OpenContext>,
    /// What the timer task sleeps until.
    armed: Option<Instant>,
}

/// What handling a request gave.
pub(crate) struct Handled {
    pub(crate) answer: Answer,
    /// The session the request opened, if any.
    pub(crate) opened: Option<u64>,
    /// The inbox of the session the request opened or reached.
    pub(crate) inbox: Option<Arc<Inbox>>,
}

impl SockJsHub {
    pub(crate) fn new<R: Executor>(
        prefix: &str,
        endpoint: SockJsEndpoint,
        ids: Arc<AtomicU64>,
    ) -> Result<Arc<Self>, sockjs_proto::ConfigError> {
        let seed = rand::Rng::random(&mut rand::rngs::StdRng::from_os_rng());
        let server = sockjs_proto::Server::new(prefix, endpoint.config, seed)?;
        Ok(Arc::new_cyclic(|me| Self {
            state: Mutex::new(HubState {
                server,
                wakers: HashMap::new(),
                inboxes: HashMap::new(),
                room_waiters: HashMap::new(),
                opening: None,
                armed: None,
            }),
            timer: Signal::default(),
            now: R::now,
            spawn: R::spawn,
            common: endpoint.common,
            handler_wait: endpoint.handler_wait,
            ids,
            me: me.clone(),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        self.lock().server.matches(path)
    }

    pub(crate) fn prefix_len(&self) -> usize {
        self.lock().server.prefix().len()
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
                st.inboxes.get(&id).cloned()
            }
            _ => None,
        };
        (which, inbox)
    }

    /// Runs a request through the core.
    pub(crate) fn handle(
        self: &Arc<Self>,
        req: &http::Request<Bytes>,
        ctx: &RequestContext,
        context: OpenContext,
    ) -> Handled {
        let (handled, spawned) = {
            let mut st = self.lock();
            let existing = match st.server.request_session(req, ctx) {
                RequestSession::Receives(id) | RequestSession::Sends(id) => {
                    st.inboxes.get(&id).cloned()
                }
                _ => None,
            };
            let answer = st.server.handle_request(req, ctx, (self.now)());
            st.opening = Some(context);
            let spawned = self.dispatch(&mut st);
            st.opening = None;
            let opened = spawned.first().map(|s| s.info.id);
            let inbox = spawned.first().map(|s| Arc::clone(&s.inbox)).or(existing);
            (
                Handled {
                    answer,
                    opened,
                    inbox,
                },
                spawned,
            )
        };
        self.spawn(spawned);
        handled
    }

    /// Every output `receiver` has now (up to and including one with `end`),
    /// or the task is woken when there is one.
    pub(crate) fn poll_outputs(
        &self,
        receiver: ReceiverId,
        cx: &mut Context<'_>,
    ) -> Poll<Vec<Output>> {
        let mut st = self.lock();
        let now = (self.now)();
        let mut outputs = Vec::new();
        while let Some(output) = st.server.poll_output(receiver, now) {
            let end = output.end;
            outputs.push(output);
            if end {
                break;
            }
        }
        if !outputs.is_empty() {
            let spawned = self.dispatch(&mut st);
            debug_assert!(spawned.is_empty());
            return Poll::Ready(outputs);
        }
        Self::wait_for_output(&mut st, receiver, cx);
        Poll::Pending
    }

    /// Registers the task to be woken when `receiver` has output.
    fn wait_for_output(st: &mut HubState, receiver: ReceiverId, cx: &mut Context<'_>) {
        match st.wakers.get_mut(&receiver) {
            Some(w) if w.will_wake(cx.waker()) => {}
            _ => {
                st.wakers.insert(receiver, cx.waker().clone());
            }
        }
    }

    /// The next output of `receiver` (an upgraded WebSocket: its frames, as
    /// they come), or the task is woken when there is.
    pub(crate) fn poll_output(&self, receiver: ReceiverId, cx: &mut Context<'_>) -> Poll<Output> {
        let mut st = self.lock();
        if let Some(output) = st.server.poll_output(receiver, (self.now)()) {
            let spawned = self.dispatch(&mut st);
            debug_assert!(spawned.is_empty());
            return Poll::Ready(output);
        }
        Self::wait_for_output(&mut st, receiver, cx);
        Poll::Pending
    }

    /// The connection carrying `receiver` is done (or gone).
    pub(crate) fn receiver_closed(&self, receiver: ReceiverId) {
        let mut st = self.lock();
        st.wakers.remove(&receiver);
        st.server.receiver_closed(receiver, (self.now)());
        let _ = self.dispatch(&mut st);
    }

    pub(crate) fn receive_websocket(&self, receiver: ReceiverId, data: &[u8]) {
        let mut st = self.lock();
        st.server.receive_websocket(receiver, data, (self.now)());
        let _ = self.dispatch(&mut st);
    }

    pub(crate) fn receive_websocket_eof(&self, receiver: ReceiverId) {
        let mut st = self.lock();
        st.server.receive_websocket_eof(receiver, (self.now)());
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

    pub(crate) fn send(&self, id: SessionId, text: &str) -> Result<(), SendError> {
        let mut st = self.lock();
        let sent = st.server.send(id, text);
        let _ = self.dispatch(&mut st);
        sent.map_err(|e| match e {
            sockjs_proto::SendError::CacheOverflow | sockjs_proto::SendError::BufferOverflow => {
                SendError::Overflow
            }
            _ => SendError::Closed,
        })
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
    pub(crate) fn send_waited(&self, id: SessionId, text: &str) -> Result<(), SendError> {
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

    /// Sleeps until the core's next deadline, handles it, and again, until
    /// `stop` says so.
    pub(crate) async fn run_timer<R: Executor>(self: Arc<Self>, stop: Arc<Stop>) {
        loop {
            let deadline = {
                let mut st = self.lock();
                let at = st.server.poll_timeout();
                st.armed = at;
                at
            };
            let mut sleep = std::pin::pin!(async {
                match deadline {
                    Some(at) => R::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            });
            let mut rearm = std::pin::pin!(self.timer.wait());
            let mut stopped = std::pin::pin!(stop.wait());
            let due = std::future::poll_fn(|cx| {
                if stopped.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                if sleep.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(Some(true));
                }
                rearm.as_mut().poll(cx).map(|()| Some(false))
            })
            .await;
            match due {
                None => return,
                Some(true) => {
                    let mut st = self.lock();
                    st.server.handle_timeout(R::now());
                    let _ = self.dispatch(&mut st);
                }
                Some(false) => {}
            }
        }
    }

    /// Hands the core's work out: wakes the connections whose receivers
    /// have output, delivers events to the sessions' inboxes, and re-arms
    /// the timer if its deadline moved earlier. Returns the sessions that
    /// opened, to spawn once the lock is released.
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
                    let session = self.open(st, session, transport);
                    opened.push(session);
                }
                Event::Message { session, text } => {
                    if let Some(inbox) = st.inboxes.get(&session) {
                        inbox.push(ws_proto::Message::from(text));
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
                    if let Some(inbox) = st.inboxes.remove(&session) {
                        let status = CloseStatus::from(reason.frame());
                        tracing::debug!(%status, ?reason, "session closed");
                        inbox.close(status);
                    }
                }
                _ => {}
            }
        }
        if let Some(at) = st.server.poll_timeout() {
            if st.armed.is_none_or(|armed| at < armed) {
                st.armed = Some(at);
                self.timer.notify();
            }
        }
        opened
    }

    fn open(
        &self,
        st: &mut HubState,
        id: SessionId,
        transport: sockjs_proto::Transport,
    ) -> Session {
        let context = st.opening.take();
        let sockjs_id = st
            .server
            .session(id)
            .map(|s| s.sockjs_id().to_owned())
            .filter(|s| !s.is_empty());
        // Sessions open only while a request is handled, which set the
        // context; an empty one keeps that an invariant, not a panic.
        let context = context.unwrap_or_else(|| OpenContext {
            request: HandshakeRequest {
                method: http::Method::GET,
                uri: http::Uri::default(),
                headers: http::HeaderMap::new(),
                remote_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
                client_ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
                principal: None,
            },
            attributes: Attributes::default(),
        });
        let request = context.request;
        let info = Arc::new(SessionInfo {
            id: self.ids.fetch_add(1, Ordering::Relaxed),
            sockjs_id,
            transport: SessionTransport::SockJs(transport),
            uri: request.uri,
            remote_addr: request.remote_addr,
            client_ip: request.client_ip,
            principal: request.principal,
            headers: request.headers,
            attributes: context.attributes,
            protocol: None,
        });
        let inbox = Arc::new(Inbox::new(self.common.inbox_limit));
        st.inboxes.insert(id, Arc::clone(&inbox));
        Session {
            sender: SessionSender {
                info: Arc::clone(&info),
                outlet: Outlet::SockJs(self.arc(), id),
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

    fn spawn(&self, sessions: Vec<Session>) {
        for session in sessions {
            let span = tracing::info_span!(
                "session",
                id = session.info.id,
                transport = ?session.info.transport,
                remote = %session.info.remote_addr,
            );
            tracing::debug!(parent: &span, "session opened");
            (self.spawn)(Box::pin((self.common.handler)(session).instrument(span)));
        }
    }
}
