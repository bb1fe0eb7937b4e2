//! Sessions, receivers, and what the application sees of them.

use std::collections::VecDeque;
use std::fmt;
use std::net::IpAddr;

use ws_proto::{CloseCode, CloseFrame, ProtocolError, SendQueue, Timeout, Utf8Bytes};

use crate::config::SockJsConfig;

use crate::frame::HEARTBEAT;
use crate::json::PayloadError;
use crate::prepared::Pending;
use crate::slab::Key;
use crate::timers::Deadline;
use crate::transport::{Delivery, Transport};

/// A session, as the application and the adapter name it.
///
/// Unique for the life of the server: two WebSocket connections that use the
/// same SockJS session id are two sessions with two `SessionId`s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub(crate) Key);

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({}.{})", self.0.slot, self.0.generation)
    }
}

impl SessionId {
    /// A number that identifies the session (for logs and maps).
    pub fn as_u64(self) -> u64 {
        self.0.to_u64()
    }
}

/// A receiving request or WebSocket connection: what the adapter writes to.
///
/// Valid from the [`Answer`](crate::Answer) that hands it out until the
/// adapter reports it gone with
/// [`Server::receiver_closed`](crate::Server::receiver_closed), which the
/// adapter must do for every receiver, whether the core ended it or not.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReceiverId(pub(crate) Key);

impl fmt::Debug for ReceiverId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiverId({}.{})", self.0.slot, self.0.generation)
    }
}

impl ReceiverId {
    /// A number that identifies the receiver (for logs and maps).
    pub fn as_u64(self) -> u64 {
        self.0.to_u64()
    }
}

/// Why a session closed: the typed cause, and with [`frame`](Self::frame)
/// the close frame it puts on the wire.
///
/// One frame per cause, so that what the client was told and what the
/// application is told are the same code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application closed it with this frame.
    Application(CloseFrame),
    /// The client closed its WebSocket with this code (`None`: a close
    /// frame without one); the server echoed its close frame.
    ClientClosed(Option<CloseCode>),
    /// A receiving request or WebSocket went away before the server ended
    /// it: `c[1002,"Connection interrupted"]`.
    Interrupted,
    /// No receiving request came for `disconnectDelay`.
    Expired,
    /// More than `httpMessageCacheSize` messages waited for a receiver: the
    /// session closed with 4500 rather than grow or drop messages.
    CacheOverflow,
    /// A send would have taken the session's buffered bytes over
    /// `send_buffer_size_limit` (with the `Terminate` strategy): closed
    /// with 4500.
    BufferOverflow,
    /// The client sent a message that is not JSON on a `websocket`
    /// transport: the WebSocket closed with 1007 (Spring's `BAD_DATA`) and
    /// the error's text.
    BrokenJson(PayloadError),
    /// The client sent a binary message on a websocket transport: the
    /// WebSocket closed with 1003.
    BinaryMessage,
    /// The client broke RFC 6455 (the WebSocket closed with the error's
    /// code), or did not answer a liveness ping
    /// ([`ProtocolError::Timeout`]: the connection was dropped).
    WebSocket(ProtocolError),
    /// The server shut down: `c[1001,"Server shutting down"]`.
    Shutdown,
}

impl CloseReason {
    /// The close frame this cause puts on the wire, which is also what the
    /// application is told: the SockJS `c[code,"reason"]` frame on HTTP
    /// transports, the `c` frame and the WebSocket close frame (the same
    /// code and reason, or 1000 where the code may not go in a WebSocket
    /// close frame) on the `websocket` transport, the WebSocket close
    /// frame on the raw one.
    ///
    /// Where nothing can be sent, it is what the application is told:
    /// [`Interrupted`](Self::Interrupted) on a WebSocket that went away,
    /// [`Expired`](Self::Expired) (1001 "Session expired", no receiver to
    /// send to), a client's close without a code (1005), and a dead client
    /// (1006 "No answer to ping"); 1005 and 1006 never go on the wire.
    pub fn frame(&self) -> CloseFrame {
        match self {
            Self::Application(frame) => frame.clone(),
            // The code the client sent and got back (its reason is not
            // kept).
            Self::ClientClosed(code) => CloseFrame::new(code.unwrap_or(CloseCode::NO_STATUS), ""),
            Self::Interrupted => {
                CloseFrame::new(CloseCode::PROTOCOL_ERROR, "Connection interrupted")
            }
            Self::Expired => CloseFrame::new(CloseCode::GOING_AWAY, "Session expired"),
            Self::CacheOverflow => {
                CloseFrame::new(CloseCode::NOT_RELIABLE, "Session message cache overflow")
            }
            Self::BufferOverflow => {
                CloseFrame::new(CloseCode::NOT_RELIABLE, "Send buffer overflow")
            }
            Self::BrokenJson(e) => CloseFrame::new(CloseCode::INVALID_PAYLOAD, e.as_str()),
            Self::BinaryMessage => CloseFrame::new(
                CloseCode::UNSUPPORTED_DATA,
                "Binary messages are not supported",
            ),
            Self::WebSocket(ProtocolError::Timeout(Timeout::Pong)) => {
                CloseFrame::new(CloseCode::ABNORMAL, "No answer to ping")
            }
            Self::WebSocket(ProtocolError::Timeout(_)) => {
                CloseFrame::new(CloseCode::ABNORMAL, "No answer to the close frame")
            }
            // The connection's close frame carries the code alone.
            Self::WebSocket(e) => CloseFrame::new(e.close_code(), ""),
            Self::Shutdown => CloseFrame::new(CloseCode::GOING_AWAY, "Server shutting down"),
        }
    }
}

/// `c[2010,"Another connection still open"]`: the answer to a second
/// receiving request while one is attached (the session stays open).
pub(crate) fn another_connection() -> CloseFrame {
    CloseFrame::new(
        CloseCode::ANOTHER_CONNECTION,
        "Another connection still open",
    )
}

/// What happened, for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub enum Event {
    /// A session opened.
    Opened {
        /// The session.
        session: SessionId,
        /// The transport that opened it.
        transport: Transport,
    },
    /// The client sent a message.
    Message {
        /// The session.
        session: SessionId,
        /// The message (its bytes shared, not copied, on their way to the
        /// application).
        text: Utf8Bytes,
    },
    /// A session whose sender waited for room (see
    /// [`Server::poll_room`](crate::Server::poll_room)) has room again: its
    /// waiting messages were taken by a receiver.
    Room {
        /// The session.
        session: SessionId,
    },
    /// A session closed; it takes no more sends.
    Closed {
        /// The session.
        session: SessionId,
        /// Why.
        reason: CloseReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    Closed(CloseFrame),
}

// The flags are independent of each other (owed frames, the id map, a
// waiting sender): no state machine hides among them.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) sockjs_id: String,
    pub(crate) transport: Transport,
    pub(crate) state: State,
    /// Messages the application sent that no receiver has taken yet.
    pub(crate) pending: SendQueue<Pending>,
    /// The attached receiver, if any.
    pub(crate) receiver: Option<Key>,
    pub(crate) deadline: Deadline,
    /// A heartbeat is owed to the receiver.
    pub(crate) heartbeat_due: bool,
    /// The open frame is owed to the receiver (WebSocket transports).
    pub(crate) open_due: bool,
    /// Whether the session is in the id map (HTTP transports).
    pub(crate) mapped: bool,
    /// A sender found no room ([`Server::poll_room`](crate::Server::poll_room))
    /// and waits for [`Event::Room`].
    pub(crate) wants_room: bool,
    /// The client that opened the session; later requests must come from
    /// it (see
    /// [`SockJsConfig::bind_sessions_to_client`](crate::SockJsConfig::bind_sessions_to_client)).
    pub(crate) owner: Owner,
}

/// Who a session belongs to: the principal of the request that opened it,
/// or, for an anonymous session, the IP address it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Owner {
    pub(crate) principal: Option<String>,
    pub(crate) address: Option<IpAddr>,
}

impl Owner {
    /// Whether a request from `principal` at `address` comes from this
    /// owner: the same principal when the session has one (Spring's rule),
    /// else the same IP address (never the port, which changes with every
    /// connection of a polling client).
    pub(crate) fn admits(&self, principal: Option<&str>, address: Option<IpAddr>) -> bool {
        match (&self.principal, self.address) {
            (Some(owner), _) => principal == Some(owner.as_str()),
            (None, Some(owner)) => address.map(|a| a.to_canonical()) == Some(owner),
            (None, None) => true,
        }
    }
}

impl Session {
    pub(crate) fn new(
        sockjs_id: String,
        transport: Transport,
        mapped: bool,
        owner: Owner,
        config: &SockJsConfig,
    ) -> Self {
        Self {
            sockjs_id,
            transport,
            state: State::Open,
            pending: SendQueue::new(config.send_buffer_size_limit, config.overflow_strategy),
            receiver: None,
            deadline: Deadline::default(),
            heartbeat_due: false,
            open_due: false,
            mapped,
            wants_room: false,
            owner,
        }
    }

    /// Whether a waiting sender may add a message: fewer than `cache_size`
    /// messages and fewer bytes than the send buffer's limit wait.
    pub(crate) fn has_room(&self, cache_size: usize) -> bool {
        self.pending.len() < cache_size && self.pending.has_room()
    }

    pub(crate) fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// The receiver in the way of another receiving request, which is
    /// answered `c[2010,"Another connection still open"]`: the attached
    /// one, while the session is open (a closed session answers its close
    /// frame to every request).
    pub(crate) fn holder(&self) -> Option<Key> {
        self.receiver.filter(|_| self.is_open())
    }

    /// Takes the waiting messages as one `a[...]` frame.
    pub(crate) fn take_messages(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        // `frame::encode_messages`, with the messages prepared for many
        // sessions escaped already.
        let mut frame = String::with_capacity(self.pending.bytes() + 3 * self.pending.len() + 2);
        frame.push_str("a[");
        for (i, message) in self.pending.drain().enumerate() {
            if i > 0 {
                frame.push(',');
            }
            message.write_json(&mut frame);
        }
        frame.push(']');
        Some(frame)
    }

    /// Takes the frame the receiver is owed: the waiting messages, or else a
    /// heartbeat if one is due (a message frame counts as one).
    pub(crate) fn take_owed_frame(&mut self) -> Option<String> {
        let heartbeat = std::mem::take(&mut self.heartbeat_due);
        self.take_messages()
            .or_else(|| heartbeat.then(|| HEARTBEAT.to_owned()))
    }
}

#[derive(Debug)]
pub(crate) enum ReceiverKind {
    Http {
        delivery: Delivery,
        callback: String,
        /// Frame bytes written so far (streaming; the prelude not counted).
        sent: usize,
        /// Frames this receiver gets before anything its session owes: the
        /// open frame of a new session, or a refusal's frames.
        first: VecDeque<String>,
    },
    WebSocket(Box<ws_proto::Connection>),
}

#[derive(Debug)]
pub(crate) struct Receiver {
    pub(crate) session: Key,
    pub(crate) transport: Transport,
    pub(crate) kind: ReceiverKind,
    /// The core has ended this receiver: it gets its own `first` frames,
    /// if any are left, and nothing more from its session.
    pub(crate) ended: bool,
    /// The end has been handed to the adapter.
    pub(crate) end_taken: bool,
    /// The receiver is in the wake-up queue.
    pub(crate) woken: bool,
    /// A WebSocket receiver's next deadline: its connection's
    /// `poll_timeout` (liveness check, close timeout).
    pub(crate) deadline: Deadline,
}

/// What the adapter writes next for a receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Output {
    /// Bytes to write (may be empty when only `end` is news). On a streaming
    /// HTTP response they are one frame, framed for the transport: write
    /// them as one HTTP/1.1 chunk of their own.
    pub data: bytes::Bytes,
    /// After `data`, end the response (or close the WebSocket's TCP
    /// connection). Nothing more comes for this receiver.
    pub end: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One row per cause: the frame on the wire (or, where nothing can be
    /// sent, what the application is told).
    #[test]
    fn every_close_reason_has_its_frame() {
        let bye = CloseFrame::new(4000, "bye");
        for (reason, code, text) in [
            (CloseReason::Application(bye.clone()), 4000, "bye"),
            (CloseReason::ClientClosed(Some(bye.code)), 4000, ""),
            (CloseReason::ClientClosed(None), 1005, ""),
            (CloseReason::Interrupted, 1002, "Connection interrupted"),
            (CloseReason::Expired, 1001, "Session expired"),
            (
                CloseReason::CacheOverflow,
                4500,
                "Session message cache overflow",
            ),
            (CloseReason::BufferOverflow, 4500, "Send buffer overflow"),
            (
                CloseReason::BrokenJson(PayloadError::Broken),
                1007,
                "Broken JSON encoding.",
            ),
            (
                CloseReason::BinaryMessage,
                1003,
                "Binary messages are not supported",
            ),
            (CloseReason::WebSocket(ProtocolError::InvalidUtf8), 1007, ""),
            (
                CloseReason::WebSocket(ProtocolError::UnmaskedFrame),
                1002,
                "",
            ),
            (
                CloseReason::WebSocket(ProtocolError::Timeout(Timeout::Pong)),
                1006,
                "No answer to ping",
            ),
            (
                CloseReason::WebSocket(ProtocolError::Timeout(Timeout::Close)),
                1006,
                "No answer to the close frame",
            ),
            (CloseReason::Shutdown, 1001, "Server shutting down"),
        ] {
            assert_eq!(reason.frame(), CloseFrame::new(code, text), "{reason:?}");
        }
        assert_eq!(
            another_connection(),
            CloseFrame::new(2010, "Another connection still open")
        );
    }

    #[test]
    fn ids_show_their_slot_and_generation() {
        let key = Key {
            slot: 3,
            generation: 5,
        };
        assert_eq!(format!("{:?}", SessionId(key)), "SessionId(3.5)");
        assert_eq!(format!("{:?}", ReceiverId(key)), "ReceiverId(3.5)");
    }

    #[test]
    fn ids_as_numbers_are_slot_then_generation() {
        for (slot, generation, number) in [
            (0, 0, 0),
            (0, 7, 7),
            (3, 5, 0x0000_0003_0000_0005),
            (u32::MAX, 1, 0xffff_ffff_0000_0001),
        ] {
            let key = Key { slot, generation };
            assert_eq!(SessionId(key).as_u64(), number, "{key:?}");
            assert_eq!(ReceiverId(key).as_u64(), number, "{key:?}");
        }
    }
}
