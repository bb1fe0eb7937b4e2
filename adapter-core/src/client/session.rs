//! The application's side of a client session: [`ClientSession`] (the
//! server's messages as a [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html)) and [`ClientSender`] (cloneable, a
//! [`Sink`](https://docs.rs/futures-sink/0.3/futures_sink/trait.Sink.html)), shaped as the server's `Session` and `SessionSender`.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use sockjs_proto::client::{Closed, SendError};
use sockjs_proto::Transport;
use ws_proto::{CloseCode, Message};

use super::shared::Shared;

/// Sends on a client session, from any task: cloneable, and a [`Sink`](https://docs.rs/futures-sink/0.3/futures_sink/trait.Sink.html)
/// that waits for room.
///
/// What is sent waits in the session's send buffer
/// ([`ClientConfig::send_buffer_limit`](sockjs_proto::client::ClientConfig))
/// until it is out (on the xhr transports, until the server acknowledged
/// it). [`send`](Self::send) fails with [`SendError::Full`] when the
/// buffer has no room; [`send_async`](Self::send_async) and the sink wait
/// for room instead.
pub struct ClientSender {
    shared: Arc<Shared>,
}

impl fmt::Debug for ClientSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSender")
            .field("transport", &self.transport())
            .finish_non_exhaustive()
    }
}

impl Clone for ClientSender {
    fn clone(&self) -> Self {
        self.shared.add_handle();
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for ClientSender {
    fn drop(&mut self) {
        self.shared.drop_handle();
    }
}

/// The text of a message; SockJS carries text only.
fn text(message: impl Into<Message>) -> Result<String, SendError> {
    match message.into() {
        Message::Text(text) => Ok(text.as_str().to_owned()),
        Message::Binary(_) => Err(SendError::Binary),
    }
}

impl ClientSender {
    /// The transport the session runs on.
    pub fn transport(&self) -> Transport {
        self.shared.transport()
    }

    /// Sends a text message.
    ///
    /// # Errors
    ///
    /// [`SendError::Full`] when the send buffer has no room,
    /// [`SendError::Closed`] once the session is closing,
    /// [`SendError::Binary`] for a binary message.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.shared.try_send(text(message)?)
    }

    /// Sends a text message once the send buffer has room, so a producer
    /// goes at the pace of the server. Errors as [`send`](Self::send), but
    /// never [`SendError::Full`].
    pub async fn send_async(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let text = text(message)?;
        std::future::poll_fn(|cx| self.shared.poll_room(cx)).await?;
        self.shared.try_send(text)
    }

    /// Closes the session with `code` (1000, or 3000 to 4999) and
    /// `reason`: what was sent before goes out first. Wait for the end
    /// with [`ClientSession::closed`].
    ///
    /// # Errors
    ///
    /// [`SendError::Closed`] when the session is closing already.
    pub fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<(), SendError> {
        if self.shared.close(code.into(), reason) {
            Ok(())
        } else {
            Err(SendError::Closed)
        }
    }

    /// Whether the session still takes sends.
    pub fn is_open(&self) -> bool {
        self.shared.is_open()
    }
}

/// A sink that waits for room (see [`ClientSender::send_async`]);
/// `poll_flush` waits until what was sent is out, `poll_close` closes the
/// session with 1000 and waits for the end.
impl Sink<Message> for ClientSender {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        self.shared.poll_room(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), SendError> {
        self.shared.try_send(text(message)?)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        self.shared.poll_flushed(cx).map(Ok)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        self.shared.close(CloseCode::NORMAL, "");
        self.shared.poll_closed(cx).map(|_| Ok(()))
    }
}

/// A SockJS session opened by a client (see
/// [`connect`](super::connect)): a [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of the server's messages
/// (text), which ends when the session closes (then
/// [`close_status`](Self::close_status) says why), and the methods of a
/// [`ClientSender`], of which [`sender`](Self::sender) gives clones.
///
/// Keep reading it: messages wait for the application up to a limit, and
/// past it the client stops reading from the server. Dropping the session
/// and every sender closes the session with 1000.
pub struct ClientSession {
    sender: ClientSender,
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("transport", &self.transport())
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            sender: ClientSender { shared },
        }
    }

    /// The transport the session runs on.
    pub fn transport(&self) -> Transport {
        self.sender.transport()
    }

    /// The next message, or the waker of `cx` is woken when there is one;
    /// `None` once the session is closed (the [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) implementation).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.sender.shared.poll_recv(cx)
    }

    /// The next message; `None` once the session is closed.
    pub async fn recv(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.sender.shared.poll_recv(cx)).await
    }

    /// A sender for this session, for other tasks.
    pub fn sender(&self) -> ClientSender {
        self.sender.clone()
    }

    /// Sends a message; see [`ClientSender::send`].
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.sender.send(message)
    }

    /// Sends a message once the send buffer has room; see
    /// [`ClientSender::send_async`].
    pub async fn send_async(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.sender.send_async(message).await
    }

    /// Closes the session; see [`ClientSender::close`].
    pub fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<(), SendError> {
        self.sender.close(code, reason)
    }

    /// Waits for the end of the session, and says how it ended.
    pub async fn closed(&self) -> Closed {
        std::future::poll_fn(|cx| self.sender.shared.poll_closed(cx)).await
    }

    /// Whether the session still takes sends.
    pub fn is_open(&self) -> bool {
        self.sender.is_open()
    }

    /// How the session ended, once it has.
    pub fn close_status(&self) -> Option<Closed> {
        self.sender.shared.close_status()
    }

    /// The heartbeats the server sent so far.
    pub fn heartbeats(&self) -> u64 {
        self.sender.shared.heartbeats()
    }
}

impl Stream for ClientSession {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.get_mut().poll_recv(cx)
    }
}

/// The session's [`ClientSender`] as a sink.
impl Sink<Message> for ClientSession {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(&mut self.get_mut().sender).poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), SendError> {
        Pin::new(&mut self.get_mut().sender).start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(&mut self.get_mut().sender).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Pin::new(&mut self.get_mut().sender).poll_close(cx)
    }
}
