//! What a client session's driver task and its application handles share:
//! received messages one way, sends and the close the other, and the
//! wakers that cross between them.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use sockjs_proto::client::{Closed, SendError};
use sockjs_proto::Transport;
use ws_proto::{CloseCode, Message};

/// The most bytes of messages waiting for the application here; the core
/// holds the rest, up to its own limit, before the reading stops.
pub(crate) const INBOX_LIMIT: usize = 64 * 1024;

/// What the application asks of the driver.
#[derive(Debug)]
pub(crate) enum Command {
    Send(String),
    Close(CloseCode, String),
}

#[derive(Debug, Default)]
struct State {
    inbox: VecDeque<Message>,
    inbox_bytes: usize,
    opened: Option<Transport>,
    closed: Option<Closed>,
    heartbeats: u64,
    /// The session's reader, waiting for a message.
    reader: Option<Waker>,
    /// `connect`, waiting for the open.
    opener: Option<Waker>,
    commands: VecDeque<Command>,
    /// Bytes of the sends in `commands`.
    command_bytes: usize,
    /// The core's buffered amount, as the driver last saw it.
    core_buffered: usize,
    /// A close was asked: no more sends are taken.
    closing: bool,
    /// Senders waiting for room, flushes and closes waiting for the end.
    waiters: Vec<Waker>,
    driver: Option<Waker>,
    /// Live application handles ([`ClientSession`](super::ClientSession)
    /// and [`ClientSender`](super::ClientSender)s).
    handles: usize,
}

/// The shared half of one client session.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    /// The send buffer limit.
    limit: usize,
}

impl Shared {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            state: Mutex::new(State {
                handles: 1,
                ..State::default()
            }),
            limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn wake_driver(st: &mut State) {
        if let Some(w) = st.driver.take() {
            w.wake();
        }
    }

    fn wake_waiters(st: &mut State) {
        for w in st.waiters.drain(..) {
            w.wake();
        }
    }

    // ---- the application's side ----------------------------------------

    pub(crate) fn add_handle(&self) {
        self.lock().handles += 1;
    }

    /// A handle was dropped; the last one closes the session.
    pub(crate) fn drop_handle(&self) {
        let mut st = self.lock();
        st.handles -= 1;
        if st.handles == 0 && !st.closing && st.closed.is_none() {
            st.closing = true;
            st.commands
                .push_back(Command::Close(CloseCode::NORMAL, String::new()));
            Self::wake_driver(&mut st);
        }
    }

    /// Ready with the transport once the session is open, or with why it
    /// closed first.
    pub(crate) fn poll_opened(&self, cx: &mut Context<'_>) -> Poll<Result<Transport, Closed>> {
        let mut st = self.lock();
        if let Some(transport) = st.opened {
            return Poll::Ready(Ok(transport));
        }
        if let Some(closed) = &st.closed {
            return Poll::Ready(Err(closed.clone()));
        }
        st.opener = Some(cx.waker().clone());
        Poll::Pending
    }

    pub(crate) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let mut st = self.lock();
        if let Some(message) = st.inbox.pop_front() {
            let full = st.inbox_bytes >= INBOX_LIMIT;
            st.inbox_bytes -= message.len();
            if full {
                Self::wake_driver(&mut st);
            }
            return Poll::Ready(Some(message));
        }
        if st.closed.is_some() {
            return Poll::Ready(None);
        }
        st.reader = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Takes a send, if there is room (a message larger than the whole
    /// buffer is taken when the buffer is empty).
    pub(crate) fn try_send(&self, text: String) -> Result<(), SendError> {
        let mut st = self.lock();
        if st.closing || st.closed.is_some() {
            return Err(SendError::Closed);
        }
        let buffered = st.command_bytes + st.core_buffered;
        if buffered > 0 && buffered + text.len() > self.limit {
            return Err(SendError::Full);
        }
        st.command_bytes += text.len();
        st.commands.push_back(Command::Send(text));
        Self::wake_driver(&mut st);
        Ok(())
    }

    /// Ready when a send would find room (or can never be taken).
    pub(crate) fn poll_room(&self, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        let mut st = self.lock();
        if st.closing || st.closed.is_some() {
            return Poll::Ready(Err(SendError::Closed));
        }
        if st.command_bytes + st.core_buffered < self.limit {
            return Poll::Ready(Ok(()));
        }
        st.waiters.push(cx.waker().clone());
        Poll::Pending
    }

    /// Ready when everything sent is out of the client (or the session is
    /// over).
    pub(crate) fn poll_flushed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.lock();
        if st.closed.is_some() || st.command_bytes + st.core_buffered == 0 {
            return Poll::Ready(());
        }
        st.waiters.push(cx.waker().clone());
        Poll::Pending
    }

    /// Asks for the close; false when one was asked already.
    pub(crate) fn close(&self, code: CloseCode, reason: &str) -> bool {
        let mut st = self.lock();
        if st.closing || st.closed.is_some() {
            return false;
        }
        st.closing = true;
        st.commands
            .push_back(Command::Close(code, reason.to_owned()));
        Self::wake_driver(&mut st);
        Self::wake_waiters(&mut st);
        true
    }

    /// Ready with how the session ended, once it has.
    pub(crate) fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<Closed> {
        let mut st = self.lock();
        if let Some(closed) = &st.closed {
            return Poll::Ready(closed.clone());
        }
        st.waiters.push(cx.waker().clone());
        Poll::Pending
    }

    pub(crate) fn is_open(&self) -> bool {
        let st = self.lock();
        !st.closing && st.closed.is_none()
    }

    pub(crate) fn close_status(&self) -> Option<Closed> {
        self.lock().closed.clone()
    }

    /// The transport the session opened on (websocket before it opens).
    pub(crate) fn transport(&self) -> Transport {
        self.lock().opened.unwrap_or(Transport::WebSocket)
    }

    pub(crate) fn heartbeats(&self) -> u64 {
        self.lock().heartbeats
    }

    // ---- the driver's side -----------------------------------------------

    /// Registers the driver's waker and takes the application's commands.
    pub(crate) fn take_commands(&self, cx: &Context<'_>) -> Vec<Command> {
        let mut st = self.lock();
        st.driver = Some(cx.waker().clone());
        st.command_bytes = 0;
        st.commands.drain(..).collect()
    }

    /// Whether the inbox takes another message (always, once nobody reads:
    /// then messages are dropped).
    pub(crate) fn has_room(&self) -> bool {
        let st = self.lock();
        st.handles == 0 || st.inbox_bytes < INBOX_LIMIT
    }

    pub(crate) fn deliver(&self, message: String) {
        let mut st = self.lock();
        if st.handles == 0 {
            return;
        }
        st.inbox_bytes += message.len();
        st.inbox.push_back(Message::from(message));
        if let Some(w) = st.reader.take() {
            w.wake();
        }
    }

    pub(crate) fn heartbeat(&self) {
        self.lock().heartbeats += 1;
    }

    pub(crate) fn opened(&self, transport: Transport) {
        let mut st = self.lock();
        st.opened = Some(transport);
        if let Some(w) = st.opener.take() {
            w.wake();
        }
    }

    pub(crate) fn closed(&self, closed: Closed) {
        let mut st = self.lock();
        st.closed = Some(closed);
        st.commands.clear();
        st.command_bytes = 0;
        if let Some(w) = st.opener.take() {
            w.wake();
        }
        if let Some(w) = st.reader.take() {
            w.wake();
        }
        Self::wake_waiters(&mut st);
    }

    /// The core's buffered amount changed to `bytes`.
    pub(crate) fn set_core_buffered(&self, bytes: usize) {
        let mut st = self.lock();
        if bytes < st.core_buffered {
            Self::wake_waiters(&mut st);
        }
        st.core_buffered = bytes;
    }
}
