//! The two mailboxes between a connection and its application: the
//! [`Inbox`] of received messages and the [`WsOutbox`] of a WebSocket
//! session's sends. Both are shared (a mutex each) between the connection,
//! which [`Connection`](crate::Connection) drives, and the application's
//! tasks; wakers cross between them. The inbox also tells the groups a
//! session is in when it closes.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Waker};

use ws_proto::{CloseCode, Fifo, Message, OverflowStrategy, PreparedMessage, QueueItem, SendQueue};

use crate::session::{CloseStatus, SendError};

// ---- incoming ---------------------------------------------------------------

/// The messages a session received and the application has not read yet.
///
/// The bound is soft: producers (a WebSocket's reads, a SockJS client's
/// sends) wait for room before handing more, so the inbox holds at most its
/// limit plus one producer's batch (one WebSocket message, or one request
/// body, each limited by its own configuration).
#[derive(Debug)]
pub(crate) struct Inbox {
    state: Mutex<InboxState>,
    limit: usize,
}

#[derive(Debug, Default)]
struct InboxState {
    queue: Fifo<Message>,
    bytes: usize,
    closed: Option<CloseStatus>,
    reader: Option<Waker>,
    /// `reader` was woken since it last found the queue empty: the pushes
    /// that follow need not wake it again. (The waker is kept: the next
    /// wait registers the same one without a clone.)
    reader_woken: bool,
    writers: Fifo<Waker>,
    /// The reader found the queue empty and waits: it is done with what it
    /// took before.
    waiting: bool,
    /// The [`Session`](crate::Session) was dropped: nobody reads any more.
    dropped: bool,
    /// The groups to tell when the session closes.
    watchers: Vec<Watcher>,
}

/// The ids of a group's members whose sessions closed, for the group to
/// drop at its next call. A leaf lock: nothing is locked while it is held.
pub(crate) type Departures = Mutex<Vec<u64>>;

/// A group that has the session as a member.
#[derive(Debug)]
struct Watcher {
    departures: Weak<Departures>,
    id: u64,
}

impl Inbox {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            state: Mutex::default(),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, InboxState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a message for the reader. Returns whether the inbox takes
    /// more (see [`has_room`](Self::has_room)).
    pub(crate) fn push(&self, message: Message) -> bool {
        let mut st = self.lock();
        if st.closed.is_some() || st.dropped {
            return false;
        }
        st.waiting = false;
        st.bytes += message.len();
        st.queue.push_back(message);
        if !st.reader_woken {
            if let Some(w) = &st.reader {
                w.wake_by_ref();
                st.reader_woken = true;
            }
        }
        st.bytes < self.limit
    }

    /// The session closed: the stream ends after the messages already in,
    /// and the groups it is in are told.
    pub(crate) fn close(&self, status: CloseStatus) {
        let mut st = self.lock();
        if st.closed.is_none() {
            st.closed = Some(status);
        }
        if let Some(w) = st.reader.take() {
            w.wake();
        }
        for w in st.writers.drain() {
            w.wake();
        }
        let watchers = std::mem::take(&mut st.watchers);
        drop(st);
        for watcher in watchers {
            if let Some(departures) = watcher.departures.upgrade() {
                departures
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(watcher.id);
            }
        }
    }

    /// Tells `departures` that session `id` closed, when it does; `false`
    /// (and nothing registered) when it has already.
    pub(crate) fn watch(&self, departures: &Arc<Departures>, id: u64) -> bool {
        let mut st = self.lock();
        if st.closed.is_some() {
            return false;
        }
        // Groups dropped without their members leaving.
        st.watchers.retain(|w| w.departures.strong_count() > 0);
        st.watchers.push(Watcher {
            departures: Arc::downgrade(departures),
            id,
        });
        true
    }

    /// How many groups are told of the session's close.
    #[cfg(test)]
    pub(crate) fn watchers(&self) -> usize {
        self.lock().watchers.len()
    }

    /// Forgets `departures` (the session left that group).
    pub(crate) fn unwatch(&self, departures: &Arc<Departures>) {
        self.lock()
            .watchers
            .retain(|w| !std::ptr::eq(w.departures.as_ptr(), Arc::as_ptr(departures)));
    }

    pub(crate) fn close_status(&self) -> Option<CloseStatus> {
        self.lock().closed.clone()
    }

    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let mut st = self.lock();
        if let Some(message) = st.queue.pop_front() {
            st.bytes -= message.len();
            if st.bytes < self.limit && !st.writers.is_empty() {
                for w in st.writers.drain() {
                    w.wake();
                }
            }
            return Poll::Ready(Some(message));
        }
        if st.closed.is_some() {
            return Poll::Ready(None);
        }
        if !st.reader.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            st.reader = Some(cx.waker().clone());
        }
        st.reader_woken = false;
        if !st.waiting {
            st.waiting = true;
            for w in st.writers.drain() {
                w.wake();
            }
        }
        Poll::Pending
    }

    /// Ready when the reader waits for a message (it has finished with the
    /// ones it took), is gone, or the session closed. A WebSocket reads its
    /// socket, and decodes anything but whole data messages, only then, so
    /// that a handler's answers to the messages it took go out before
    /// whatever the next frames bring (a protocol error closes the
    /// connection, and must not overtake them).
    pub(crate) fn poll_demand(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.waiting || st.dropped || st.closed.is_some() {
            return Poll::Ready(());
        }
        if !st.writers.iter().any(|w| w.will_wake(cx.waker())) {
            st.writers.push_back(cx.waker().clone());
        }
        Poll::Pending
    }

    /// The reader is gone: what comes in is dropped from now on.
    pub(crate) fn reader_dropped(&self) {
        let mut st = self.lock();
        st.dropped = true;
        st.queue.clear();
        st.bytes = 0;
        for w in st.writers.drain() {
            w.wake();
        }
    }

    /// Whether the inbox takes more messages now (under its limit, the
    /// session open and its reader there).
    pub(crate) fn has_room(&self) -> bool {
        let st = self.lock();
        st.bytes < self.limit && st.closed.is_none() && !st.dropped
    }

    /// Ready when the inbox has room (or the session closed).
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.bytes < self.limit || st.closed.is_some() || st.dropped {
            return Poll::Ready(());
        }
        if !st.writers.iter().any(|w| w.will_wake(cx.waker())) {
            st.writers.push_back(cx.waker().clone());
        }
        Poll::Pending
    }
}

// ---- outgoing ---------------------------------------------------------------

/// A message waiting in a [`WsOutbox`]: the application's, or one encoded
/// once for a group and shared with its other members.
#[derive(Debug)]
pub(crate) enum WsItem {
    Message(Message),
    Prepared(PreparedMessage),
}

impl QueueItem for WsItem {
    fn queued_size(&self) -> usize {
        match self {
            Self::Message(message) => message.len(),
            Self::Prepared(prepared) => prepared.len(),
        }
    }
}

/// The outbox of a WebSocket session: the connection task drains it at the
/// pace of the peer.
#[derive(Debug)]
pub(crate) struct WsOutbox {
    state: Mutex<WsOutboxState>,
}

#[derive(Debug)]
pub(crate) struct WsOutboxState {
    pub(crate) queue: SendQueue<WsItem>,
    /// A close the application (or an overflow) asked for.
    pub(crate) close: Option<CloseStatus>,
    /// The connection is gone or closing: no more sends.
    pub(crate) done: bool,
    /// The connection, waiting for something to send.
    pub(crate) waker: Option<Waker>,
    /// `waker` was woken since the connection last took the queue: the
    /// sends that follow need not wake it again. (The waker is kept: the
    /// connection registers the same one again without a clone.)
    pub(crate) connection_woken: bool,
    /// Senders waiting for room in the queue.
    pub(crate) room_waiters: Vec<Waker>,
}

impl WsOutboxState {
    /// Wakes the connection for what was queued, once until it takes it.
    fn wake_connection(&mut self) {
        if !self.connection_woken {
            if let Some(w) = &self.waker {
                w.wake_by_ref();
                self.connection_woken = true;
            }
        }
    }

    /// Wakes the senders waiting for room if there is some, or if the
    /// session no longer takes sends.
    pub(crate) fn wake_room_waiters(&mut self) {
        if self.queue.has_room() || self.done || self.close.is_some() {
            for w in self.room_waiters.drain(..) {
                w.wake();
            }
        }
    }
}

impl WsOutbox {
    pub(crate) fn new(limit: usize, strategy: OverflowStrategy) -> Self {
        Self {
            state: Mutex::new(WsOutboxState {
                queue: SendQueue::new(limit, strategy),
                close: None,
                done: false,
                waker: None,
                connection_woken: false,
                room_waiters: Vec::new(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, WsOutboxState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues a message for a sender that does not wait: over the bound,
    /// the overflow strategy applies.
    pub(crate) fn send(&self, item: WsItem) -> Result<(), SendError> {
        let mut st = self.lock();
        if st.done || st.close.is_some() {
            return Err(SendError::Closed);
        }
        if st.queue.push(item).is_err() {
            st.close = Some(CloseStatus::new(
                CloseCode::NOT_RELIABLE,
                "Send buffer overflow",
            ));
            st.queue.clear();
            st.wake_connection();
            st.wake_room_waiters();
            return Err(SendError::Overflow);
        }
        st.wake_connection();
        Ok(())
    }

    pub(crate) fn close(&self, status: CloseStatus) -> Result<(), SendError> {
        let mut st = self.lock();
        if st.done || st.close.is_some() {
            return Err(SendError::Closed);
        }
        st.close = Some(status);
        st.wake_connection();
        st.wake_room_waiters();
        Ok(())
    }

    /// Ready when the queue has room for a waiting sender (or the session
    /// takes no more sends: an error).
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        let mut st = self.lock();
        if st.done || st.close.is_some() {
            return Poll::Ready(Err(SendError::Closed));
        }
        if st.queue.has_room() {
            return Poll::Ready(Ok(()));
        }
        if !st.room_waiters.iter().any(|w| w.will_wake(cx.waker())) {
            st.room_waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }

    /// Queues a message from a sender that waited for room: the overflow
    /// strategy does not apply.
    pub(crate) fn send_waited(&self, message: Message) -> Result<(), SendError> {
        let mut st = self.lock();
        if st.done || st.close.is_some() {
            return Err(SendError::Closed);
        }
        st.queue.push_waited(WsItem::Message(message));
        st.wake_connection();
        Ok(())
    }

    pub(crate) fn is_open(&self) -> bool {
        let st = self.lock();
        !st.done && st.close.is_none()
    }
}
