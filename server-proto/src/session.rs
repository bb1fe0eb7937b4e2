//! The application's side of a session: [`Session`] (incoming messages as a
//! [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html)) and [`SessionSender`] (cloneable, for sending from many tasks
//! at once), with what the handshake brought along.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use ws_proto::{CloseCode, CloseFrame, Message};

use crate::hub::Hub;
use crate::mailbox::{Inbox, WsItem, WsOutbox};

/// The transport a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionTransport {
    /// A plain WebSocket endpoint.
    WebSocket,
    /// A SockJS endpoint, over this SockJS transport.
    SockJs(sockjs_proto::Transport),
}

impl SessionTransport {
    /// The transport's name, as logs give it (the session span's
    /// `transport`): a SockJS transport's name in its URLs (`websocket`,
    /// `xhr_streaming`, `xhr`, `eventsource`, `htmlfile`, `jsonp`),
    /// `raw_websocket` for SockJS's `/websocket` at the endpoint's root,
    /// and `plain_websocket` for a plain WebSocket endpoint.
    pub fn name(self) -> &'static str {
        match self {
            Self::WebSocket => "plain_websocket",
            Self::SockJs(sockjs_proto::Transport::RawWebSocket) => "raw_websocket",
            Self::SockJs(transport) => transport.name(),
        }
    }
}

impl fmt::Display for SessionTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a session closed, or is to be closed: a close code (the named ones
/// are [`CloseCode`]'s, WebSocket's and SockJS's) and a reason. It is the
/// close frame the client got, where one could be sent (1005 and 1006 mark
/// the cases where none was: a client's close without a code, a connection
/// that ended or a client that stopped answering).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseStatus {
    /// The close code.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: String,
}

impl CloseStatus {
    /// A status with a code (a [`CloseCode`], or its number) and a reason.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            reason: reason.into(),
        }
    }
}

impl From<CloseFrame> for CloseStatus {
    fn from(frame: CloseFrame) -> Self {
        Self::new(frame.code, frame.reason)
    }
}

impl fmt::Display for CloseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "{}", self.code)
        } else {
            write!(f, "{} {}", self.code, self.reason)
        }
    }
}

/// A send or close on a session could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is closed (or closing); it takes no more messages.
    #[error("the session is closed")]
    Closed,
    /// The message would have taken the session's send buffer over its
    /// limit (with [`OverflowStrategy::Terminate`](ws_proto::OverflowStrategy::Terminate)): the session is now
    /// closed with 4500, and this message was not taken.
    #[error("the session's send buffer overflowed; the session is closed")]
    Overflow,
    /// SockJS carries text only.
    #[error("SockJS sessions carry text messages only")]
    Binary,
}

/// Values a handshake interceptor copied from the request (headers,
/// cookies, the user it authenticated...), for the session's handler.
///
/// Two kinds of entries: strings by name, as Spring's attribute map is
/// mostly used, and values of any type by their type.
#[derive(Default)]
pub struct Attributes {
    /// Boxed, and only once something is set: most sessions have none,
    /// and every session keeps its attributes for its whole life.
    entries: Option<Box<Entries>>,
}

#[derive(Default)]
struct Entries {
    strings: HashMap<String, String>,
    typed: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let typed = self.entries.as_ref().map_or(0, |e| e.typed.len());
        f.debug_struct("Attributes")
            .field("strings", &self.iter().collect::<HashMap<_, _>>())
            .field("typed", &typed)
            .finish()
    }
}

impl Attributes {
    fn entries(&mut self) -> &mut Entries {
        self.entries.get_or_insert_with(Box::default)
    }

    /// Sets a string attribute.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries().strings.insert(name.into(), value.into());
    }

    /// A string attribute.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries.as_ref()?.strings.get(name).map(String::as_str)
    }

    /// Every string attribute.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.entries
            .iter()
            .flat_map(|e| e.strings.iter())
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets the attribute of type `T`.
    pub fn insert_typed<T: Any + Send + Sync>(&mut self, value: T) {
        self.entries()
            .typed
            .insert(TypeId::of::<T>(), Box::new(value));
    }

    /// The attribute of type `T`.
    pub fn get_typed<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.entries
            .as_ref()?
            .typed
            .get(&TypeId::of::<T>())?
            .downcast_ref()
    }
}

/// What a session knows of the request that opened it.
#[derive(Debug)]
pub(crate) struct SessionInfo {
    pub(crate) id: u64,
    pub(crate) endpoint: crate::EndpointId,
    pub(crate) sockjs_id: Option<Box<str>>,
    pub(crate) transport: SessionTransport,
    pub(crate) uri: http::Uri,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) client_ip: IpAddr,
    pub(crate) principal: Option<Box<str>>,
    pub(crate) headers: crate::stored_headers::StoredHeaders,
    pub(crate) attributes: Attributes,
    pub(crate) protocol: Option<Box<str>>,
    /// The session's span (see [`crate::logging`]).
    pub(crate) span: tracing::Span,
}

/// Accessors shared by [`Session`] and [`SessionSender`].
macro_rules! session_info {
    () => {
        /// The session's id, unique within the process (among every server's sessions).
        pub fn id(&self) -> u64 {
            self.info.id
        }

        /// The endpoint the session belongs to.
        pub fn endpoint(&self) -> crate::EndpointId {
            self.info.endpoint
        }

        /// The id the SockJS client chose (the URL's session part); `None`
        /// on a plain WebSocket endpoint and SockJS's raw `/websocket`.
        pub fn sockjs_id(&self) -> Option<&str> {
            self.info.sockjs_id.as_deref()
        }

        /// The transport the session opened on.
        pub fn transport(&self) -> SessionTransport {
            self.info.transport
        }

        /// The target of the request that opened the session.
        pub fn uri(&self) -> &http::Uri {
            &self.info.uri
        }

        /// The path of the request that opened the session.
        pub fn path(&self) -> &str {
            self.info.uri.path()
        }

        /// The query of the request that opened the session, as it came
        /// (not decoded; [`query_param`](Self::query_param) decodes).
        pub fn query(&self) -> Option<&str> {
            self.info.uri.query()
        }

        /// The value of the query parameter `name` in the request that
        /// opened the session, decoded as
        /// [`HandshakeRequest::query_param`](crate::HandshakeRequest::query_param)
        /// decodes it.
        pub fn query_param(&self, name: &str) -> Option<std::borrow::Cow<'_, str>> {
            http_proto::query::param(self.info.uri.query()?, name)
        }

        /// The peer's address (a proxy's, behind one).
        pub fn remote_addr(&self) -> SocketAddr {
            self.info.remote_addr
        }

        /// The client's IP address: the peer's, or the one a trusted proxy
        /// forwarded.
        pub fn client_ip(&self) -> IpAddr {
            self.info.client_ip
        }

        /// The principal (authenticated user) of the request that opened
        /// the session, as the endpoint's principal resolver found it.
        pub fn principal(&self) -> Option<&str> {
            self.info.principal.as_deref()
        }

        /// The headers of the request that opened the session.
        pub fn headers(&self) -> &http::HeaderMap {
            self.info.headers.map()
        }

        /// The first value of the header `name` (case-insensitive), if it
        /// is UTF-8.
        pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
            http_proto::headers::str_value(self.info.headers.map(), name)
        }

        /// What the handshake interceptors stored.
        pub fn attributes(&self) -> &Attributes {
            &self.info.attributes
        }

        /// The WebSocket subprotocol selected, if any.
        pub fn protocol(&self) -> Option<&str> {
            self.info.protocol.as_deref()
        }

        /// The session's `tracing` span: `session`, with the fields
        /// `session` ([`id`](Self::id)), `transport`
        /// ([`SessionTransport::name`]), `path` and `remote` (the client's
        /// IP address), under the target `sockway::server::sockjs` or
        /// `sockway::server::websocket`. The session's own events are
        /// logged in it, and the adapters run the handler in it; enter it
        /// (or instrument a future with a clone) to log from another task
        /// with the session's fields.
        pub fn span(&self) -> &tracing::Span {
            &self.info.span
        }
    };
}

/// Where a session's sends go.
#[derive(Clone)]
pub(crate) enum Outlet {
    /// Into the SockJS core, under its lock.
    SockJs(Arc<Hub>, sockjs_proto::SessionId),
    /// Into a WebSocket connection's outbox.
    WebSocket(Arc<WsOutbox>),
}

/// Sends on a session; cloneable, so that many tasks can send at once.
///
/// [`send`](Self::send) never waits: a message goes into the session's
/// send buffer (for a SockJS session, the core's message cache), which the
/// connection drains at the pace of the client. The buffer is bounded
/// ([`send_buffer_size_limit`](crate::WebSocketOptions::send_buffer_size_limit)),
/// and a send over the bound is handled by the overflow strategy: close the
/// session with 4500 (the default) or drop the oldest waiting messages. A
/// write to the client that takes longer than the send time limit closes
/// the session too. These are Spring's concurrent-send decorator's rules.
///
/// [`send_async`](Self::send_async) and the [`Sink`](https://docs.rs/futures-sink/0.3/futures_sink/trait.Sink.html) implementation wait
/// instead while the buffer is over its bound: the producer goes at the
/// client's pace, and nothing overflows.
#[derive(Clone)]
pub struct SessionSender {
    pub(crate) info: Arc<SessionInfo>,
    pub(crate) outlet: Outlet,
    /// The session's inbox, which tells the groups the session is in when
    /// it closes.
    pub(crate) inbox: Arc<Inbox>,
}

impl fmt::Debug for SessionSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionSender")
            .field("id", &self.info.id)
            .field("transport", &self.info.transport)
            .finish_non_exhaustive()
    }
}

impl SessionSender {
    session_info!();

    /// Sends a message. SockJS sessions take text only.
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        match &self.outlet {
            Outlet::SockJs(hub, id) => match message.into() {
                Message::Text(text) => hub.send(*id, text),
                Message::Binary(_) => Err(SendError::Binary),
            },
            Outlet::WebSocket(outbox) => outbox.send(WsItem::Message(message.into())),
        }
    }

    /// Sends a message once the session's send buffer has room, waiting
    /// while it is over its limit: a producer that awaits this goes at the
    /// pace of the client, and the overflow strategy never applies (the
    /// buffer holds at most its limit plus this message). A WebSocket
    /// handler that awaits it before reading the next message also stops
    /// the reading of its socket meanwhile, so TCP holds a client that
    /// sends without reading back.
    ///
    /// Errors as [`send`](Self::send), but never [`SendError::Overflow`].
    pub async fn send_async(&self, message: impl Into<Message>) -> Result<(), SendError> {
        let message = message.into();
        if matches!(
            (&self.outlet, &message),
            (Outlet::SockJs(..), Message::Binary(_))
        ) {
            return Err(SendError::Binary);
        }
        std::future::poll_fn(|cx| self.poll_room(cx)).await?;
        self.send_waited(message)
    }

    /// Ready when the send buffer has room (an error once the session takes
    /// no more sends).
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        match &self.outlet {
            Outlet::SockJs(hub, id) => hub.poll_room(*id, cx),
            Outlet::WebSocket(outbox) => outbox.poll_room(cx),
        }
    }

    /// Sends a message after [`poll_room`](Self::poll_room) said there is
    /// room.
    fn send_waited(&self, message: Message) -> Result<(), SendError> {
        match &self.outlet {
            Outlet::SockJs(hub, id) => match message {
                Message::Text(text) => hub.send_waited(*id, text),
                Message::Binary(_) => Err(SendError::Binary),
            },
            Outlet::WebSocket(outbox) => outbox.send_waited(message),
        }
    }

    /// Closes the session: messages sent before are delivered first, then
    /// the close frame (`c[code,"reason"]` on SockJS, a WebSocket close
    /// frame otherwise).
    pub fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<(), SendError> {
        let status = CloseStatus::new(code, reason);
        match &self.outlet {
            Outlet::SockJs(hub, id) => hub.close(*id, status),
            Outlet::WebSocket(outbox) => outbox.close(status),
        }
    }

    /// Whether the session still takes sends.
    pub fn is_open(&self) -> bool {
        match &self.outlet {
            Outlet::SockJs(hub, id) => hub.is_open(*id),
            Outlet::WebSocket(outbox) => outbox.is_open(),
        }
    }
}

impl AsRef<SessionSender> for SessionSender {
    fn as_ref(&self) -> &SessionSender {
        self
    }
}

/// A sink that waits for room: `poll_ready` is pending while the session's
/// send buffer is over its limit, so `sink.send(message).await` slows the
/// producer to the client's pace instead of failing (see
/// [`SessionSender::send_async`]). `poll_flush` does not wait for the
/// client.
impl Sink<Message> for SessionSender {
    type Error = SendError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        self.poll_room(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), SendError> {
        self.send_waited(message)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), SendError>> {
        Poll::Ready(match self.close(CloseCode::NORMAL, "") {
            Ok(()) | Err(SendError::Closed) => Ok(()),
            Err(e) => Err(e),
        })
    }
}

/// One client's session, as its handler gets it: a [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) of the
/// messages the client sent (it ends when the session closes; then
/// [`close_status`](Self::close_status) says why) and the methods of a
/// [`SessionSender`], of which [`sender`](Self::sender) gives clones.
///
/// A handler that stops reading makes the client wait rather than grow
/// memory: a WebSocket reads its socket only when the handler has taken
/// every message it has (so TCP holds the client back; the messages that
/// one read brought are handed on together, and the answers to them go out
/// together, always before anything the next frames cause), and a
/// SockJS session holds `xhr_send` requests while its inbox is over
/// [`inbox_limit`](crate::SockJsOptions::inbox_limit).
///
/// So keep reading the session until it ends, even when only sending (a
/// push feed): that is how the client's close is seen. Or drop the
/// `Session` and keep [`SessionSender`]s: from then on, what the client
/// sends is read and dropped, and its close still ends the session.
pub struct Session {
    pub(crate) info: Arc<SessionInfo>,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) sender: SessionSender,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.info.id)
            .field("transport", &self.info.transport)
            .field("remote_addr", &self.info.remote_addr)
            .finish_non_exhaustive()
    }
}

impl Session {
    session_info!();

    /// The next message, or the waker of `cx` is woken when there is one;
    /// `None` once the session is closed (the [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) implementation).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.inbox.poll_next(cx)
    }

    /// The next message; `None` once the session is closed.
    pub async fn recv(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| self.inbox.poll_next(cx)).await
    }

    /// A sender for this session, for other tasks.
    pub fn sender(&self) -> SessionSender {
        self.sender.clone()
    }

    /// Sends a message; see [`SessionSender::send`].
    pub fn send(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.sender.send(message)
    }

    /// Sends a message once the send buffer has room; see
    /// [`SessionSender::send_async`].
    pub async fn send_async(&self, message: impl Into<Message>) -> Result<(), SendError> {
        self.sender.send_async(message).await
    }

    /// Closes the session; see [`SessionSender::close`].
    pub fn close(&self, code: impl Into<CloseCode>, reason: &str) -> Result<(), SendError> {
        self.sender.close(code, reason)
    }

    /// Whether the session still takes sends.
    pub fn is_open(&self) -> bool {
        self.sender.is_open()
    }

    /// Why the session closed, once it has.
    pub fn close_status(&self) -> Option<CloseStatus> {
        self.inbox.close_status()
    }
}

impl AsRef<SessionSender> for Session {
    fn as_ref(&self) -> &SessionSender {
        &self.sender
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.inbox.reader_dropped();
    }
}

impl Stream for Session {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        self.inbox.poll_next(cx)
    }
}
