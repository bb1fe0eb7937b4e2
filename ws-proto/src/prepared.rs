//! A message encoded once, as the frame a server sends, for a broadcast.

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::{FrameHeader, OpCode};
use crate::message::{Message, MessageKind};
use crate::send_queue::QueueItem;

/// A whole message encoded once as the frame a server sends: one
/// unmasked, final frame (header and payload) in one [`Bytes`].
///
/// For sending one message on many connections: each server-role
/// [`Connection`](crate::Connection) takes it with
/// [`send_prepared`](crate::Connection::send_prepared) and queues the
/// same bytes (a reference count, no copy, no encoding), where
/// [`send`](crate::Connection::send) would encode the header again for
/// every connection. A client-role connection masks its own copy of the
/// payload (a client's frames each need a key of their own).
///
/// Cloning is cheap (a reference count). In a [`SendQueue`](crate::SendQueue)
/// it counts its payload's length, as the [`Message`] it was made from.
///
/// ```
/// use ws_proto::{Connection, Message, PreparedMessage, WebSocketConfig};
///
/// let prepared = PreparedMessage::new(&Message::from("Hello"));
/// assert_eq!(&prepared.frame()[..], [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
/// let mut a = Connection::server(WebSocketConfig::default());
/// let mut b = Connection::server(WebSocketConfig::default());
/// a.send_prepared(&prepared).expect("open");
/// b.send_prepared(&prepared).expect("open");
/// assert_eq!(a.poll_transmit().as_deref(), Some(&prepared.frame()[..]));
/// assert_eq!(b.poll_transmit().as_deref(), Some(&prepared.frame()[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedMessage {
    frame: Bytes,
    header_len: usize,
    kind: MessageKind,
}

impl PreparedMessage {
    /// Encodes `message` as a server's frame: the header, then a copy of
    /// the payload, in one buffer.
    pub fn new(message: &Message) -> Self {
        let kind = message.kind();
        let payload = message.as_bytes();
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: match kind {
                MessageKind::Text => OpCode::Text,
                MessageKind::Binary => OpCode::Binary,
            },
            mask: None,
            payload_len: payload.len() as u64,
        };
        let header_len = header.encoded_len();
        let mut frame = BytesMut::with_capacity(header_len + payload.len());
        header.encode(&mut frame);
        frame.put_slice(payload);
        Self {
            frame: frame.freeze(),
            header_len,
            kind,
        }
    }

    /// The whole frame, as a server writes it.
    pub fn frame(&self) -> &Bytes {
        &self.frame
    }

    /// The message's payload (the frame without its header).
    pub fn payload(&self) -> &[u8] {
        &self.frame[self.header_len..]
    }

    /// Text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        self.frame.len() - self.header_len
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The opcode of the frame.
    pub(crate) fn opcode(&self) -> OpCode {
        match self.kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        }
    }
}

impl From<&Message> for PreparedMessage {
    fn from(message: &Message) -> Self {
        Self::new(message)
    }
}

impl QueueItem for PreparedMessage {
    fn queued_size(&self) -> usize {
        self.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Connection, Event, SendError, WebSocketConfig};

    /// The frame `send` writes for `message` on a fresh server connection.
    fn sent(message: &Message) -> Vec<u8> {
        let mut conn = Connection::server(WebSocketConfig::default());
        conn.send(message.clone()).expect("open");
        let mut wire = Vec::new();
        while let Some(chunk) = conn.poll_transmit() {
            wire.extend_from_slice(&chunk);
        }
        wire
    }

    #[test]
    fn the_frame_is_the_one_send_writes_for_every_length_encoding() {
        for len in [0, 1, 125, 126, 65_535, 65_536, 70_000] {
            for message in [
                Message::from("x".repeat(len)),
                Message::from(vec![0xa5; len]),
            ] {
                let prepared = PreparedMessage::new(&message);
                assert_eq!(prepared.frame()[..], sent(&message)[..], "{len}");
                assert_eq!(prepared.payload(), message.as_bytes());
                assert_eq!(prepared.len(), len);
                assert_eq!(prepared.is_empty(), len == 0);
                assert_eq!(prepared.kind(), message.kind());
                assert_eq!(prepared.queued_size(), message.queued_size());
            }
        }
    }

    #[test]
    fn a_server_queues_the_same_bytes_without_a_copy() {
        for len in [10, 4096] {
            let prepared = PreparedMessage::from(&Message::from("y".repeat(len)));
            let mut conn = Connection::server(WebSocketConfig::default());
            conn.send_prepared(&prepared).expect("open");
            let chunk = conn.poll_transmit().expect("a frame");
            assert_eq!(chunk, prepared.frame());
            if len >= 1024 {
                // A large frame is queued as it is: the same buffer.
                assert_eq!(chunk.as_ptr(), prepared.frame().as_ptr());
            }
            assert_eq!(conn.poll_transmit(), None);
        }
    }

    #[test]
    fn frames_keep_their_order_around_a_prepared_one() {
        let big = PreparedMessage::new(&Message::from("b".repeat(2000)));
        let small = PreparedMessage::new(&Message::from("s"));
        let mut conn = Connection::server(WebSocketConfig::default());
        conn.send_text("first").expect("open");
        conn.send_prepared(&big).expect("open");
        conn.send_prepared(&small).expect("open");
        conn.send_binary(b"last").expect("open");
        let mut wire = Vec::new();
        while let Some(chunk) = conn.poll_transmit() {
            wire.extend_from_slice(&chunk);
        }
        let mut client = Connection::client(WebSocketConfig::default(), || [1, 2, 3, 4]);
        client.receive(&wire);
        let mut got = Vec::new();
        while let Some(event) = client.poll_event().expect("valid frames") {
            got.push(event);
        }
        assert_eq!(
            got,
            [
                Event::Message(Message::from("first")),
                Event::Message(Message::from("b".repeat(2000))),
                Event::Message(Message::from("s")),
                Event::Message(Message::from(b"last".to_vec())),
            ]
        );
        assert_eq!(conn.pending_transmit(), 0);
    }

    #[test]
    fn a_client_masks_a_copy_and_a_server_reads_it() {
        let prepared = PreparedMessage::new(&Message::from("masked"));
        let mut client = Connection::client(WebSocketConfig::default(), || [9, 8, 7, 6]);
        client.send_prepared(&prepared).expect("open");
        let wire = client.poll_transmit().expect("a frame");
        assert_ne!(wire, prepared.frame(), "masked");
        let mut server = Connection::server(WebSocketConfig::default());
        server.receive(&wire);
        assert_eq!(
            server.poll_event(),
            Ok(Some(Event::Message(Message::from("masked"))))
        );
    }

    #[test]
    fn it_is_refused_as_send_is() {
        let prepared = PreparedMessage::new(&Message::from("late"));
        let mut conn = Connection::server(WebSocketConfig::default());
        conn.send_fragment(MessageKind::Text, Bytes::from_static(b"a"), false)
            .expect("open");
        assert_eq!(
            conn.send_prepared(&prepared),
            Err(SendError::FragmentedMessageInProgress)
        );
        conn.send_fragment(MessageKind::Text, Bytes::from_static(b"b"), true)
            .expect("open");
        conn.close(None, "").expect("open");
        assert_eq!(conn.send_prepared(&prepared), Err(SendError::Closed));
    }
}
