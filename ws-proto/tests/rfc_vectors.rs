//! The examples of RFC 6455, one test module per row: §1.3's accept key and
//! every frame of §5.7. Each frame is decoded fed whole, a byte at a time
//! and cut at random points (always the same events), and encoded by the
//! sending role to exactly the RFC's bytes.

mod common;

use bytes::Bytes;
use proptest::prelude::*;
use ws_proto::handshake::accept_key;
use ws_proto::{Connection, Event, Message, MessageKind, WebSocketConfig};

use common::{client, client_with, cut_at, feed, server, transmit, Outcome};

#[test]
fn section_1_3_accept_key() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

/// 256 bytes 0x00..=0xff.
fn bytes_256() -> Vec<u8> {
    (0..=255).collect()
}

/// 64 KiB of a pattern that is not periodic in 4 (so a masking phase error
/// would show).
fn bytes_64k() -> Vec<u8> {
    (0..65536u32).map(|i| (i * 7 + i / 251) as u8).collect()
}

fn with_header(header: &[u8], payload: &[u8]) -> Vec<u8> {
    [header, payload].concat()
}

fn text(s: &'static str) -> Event {
    Event::Message(Message::from(s))
}

fn binary(data: Vec<u8>) -> Event {
    Event::Message(Message::Binary(data.into()))
}

/// Checks that `receiver()` decodes `wire`, fed in `pieces`, to `events`
/// and answers with exactly `reply`.
fn decodes(
    mut receiver: Connection,
    pieces: Vec<&[u8]>,
    events: &[Event],
    reply: &[u8],
) -> Result<(), TestCaseError> {
    let outcome = feed(&mut receiver, pieces);
    prop_assert_eq!(outcome, Outcome::ok(events.to_vec()));
    prop_assert_eq!(transmit(&mut receiver), reply);
    Ok(())
}

/// One row: the receiving connection, the RFC's bytes, the events they
/// decode to, the bytes the receiver answers with, and the commands that
/// make the sending connection encode exactly those bytes.
macro_rules! vector {
    (
        $name:ident {
            receiver: $receiver:expr,
            wire: $wire:expr,
            events: $events:expr,
            reply: $reply:expr,
            sender: $sender:expr,
            send: |$conn:ident| $send:expr $(,)?
        }
    ) => {
        mod $name {
            use super::*;

            fn wire() -> Vec<u8> {
                $wire
            }

            fn events() -> Vec<Event> {
                $events
            }

            fn reply() -> Vec<u8> {
                $reply
            }

            #[test]
            fn decoded_whole() {
                decodes($receiver, vec![&wire()], &events(), &reply()).unwrap();
            }

            #[test]
            fn decoded_a_byte_at_a_time() {
                let wire = wire();
                decodes($receiver, wire.chunks(1).collect(), &events(), &reply()).unwrap();
            }

            #[test]
            fn encoded_exactly() {
                let mut $conn: Connection = $sender;
                $send;
                assert_eq!(transmit(&mut $conn), wire());
            }

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(64))]
                #[test]
                fn decoded_in_any_split(points in prop::collection::vec(any::<usize>(), 0..8)) {
                    let wire = wire();
                    let points: Vec<usize> = points.iter().map(|p| p % (wire.len() + 1)).collect();
                    decodes($receiver, cut_at(&wire, &points), &events(), &reply())?;
                }
            }
        }
    };
}

vector!(single_frame_unmasked_text {
    receiver: client(),
    wire: vec![0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
    events: vec![text("Hello")],
    reply: vec![],
    sender: server(),
    send: |conn| conn.send_text("Hello").unwrap(),
});

vector!(single_frame_masked_text {
    receiver: server(),
    wire: vec![0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
    events: vec![text("Hello")],
    reply: vec![],
    sender: client(),
    send: |conn| conn.send_text("Hello").unwrap(),
});

vector!(fragmented_unmasked_text {
    receiver: client(),
    wire: vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
    events: vec![text("Hello")],
    reply: vec![],
    sender: server(),
    send: |conn| {
        conn.send_fragment(MessageKind::Text, Bytes::from_static(b"Hel"), false)
            .unwrap();
        conn.send_fragment(MessageKind::Text, Bytes::from_static(b"lo"), true)
            .unwrap();
    },
});

vector!(fragmented_unmasked_text_streamed {
    receiver: client_with(WebSocketConfig::default().streaming(true)),
    wire: vec![0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
    events: vec![
        Event::Fragment(ws_proto::Fragment {
            kind: MessageKind::Text,
            payload: Bytes::from_static(b"Hel"),
            first: true,
            fin: false,
        }),
        Event::Fragment(ws_proto::Fragment {
            kind: MessageKind::Text,
            payload: Bytes::from_static(b"lo"),
            first: false,
            fin: true,
        }),
    ],
    reply: vec![],
    sender: server(),
    send: |conn| {
        conn.send_fragment(MessageKind::Text, Bytes::from_static(b"Hel"), false)
            .unwrap();
        conn.send_fragment(MessageKind::Text, Bytes::from_static(b"lo"), true)
            .unwrap();
    },
});

// A client with the §5.7 key answers the unmasked ping with exactly the
// §5.7 masked pong.
vector!(unmasked_ping {
    receiver: client(),
    wire: vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
    events: vec![Event::Ping(Bytes::from_static(b"Hello"))],
    reply: vec![0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
    sender: server(),
    send: |conn| conn.ping(b"Hello").unwrap(),
});

vector!(unmasked_ping_without_auto_pong {
    receiver: client_with(WebSocketConfig::default().auto_pong(false)),
    wire: vec![0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
    events: vec![Event::Ping(Bytes::from_static(b"Hello"))],
    reply: vec![],
    sender: server(),
    send: |conn| conn.ping(b"Hello").unwrap(),
});

vector!(masked_pong {
    receiver: server(),
    wire: vec![0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58],
    events: vec![Event::Pong(Bytes::from_static(b"Hello"))],
    reply: vec![],
    sender: client(),
    send: |conn| conn.pong(b"Hello").unwrap(),
});

vector!(binary_256_bytes_unmasked {
    receiver: client(),
    wire: with_header(&[0x82, 0x7e, 0x01, 0x00], &bytes_256()),
    events: vec![binary(bytes_256())],
    reply: vec![],
    sender: server(),
    send: |conn| conn.send_binary(&bytes_256()).unwrap(),
});

vector!(binary_64k_unmasked {
    receiver: client(),
    wire: with_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00], &bytes_64k()),
    events: vec![binary(bytes_64k())],
    reply: vec![],
    sender: server(),
    send: |conn| conn.send_binary(&bytes_64k()).unwrap(),
});

// The same 64 KiB sent as a shared `Bytes` (queued without a copy).
vector!(binary_64k_unmasked_shared_payload {
    receiver: client(),
    wire: with_header(&[0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00], &bytes_64k()),
    events: vec![binary(bytes_64k())],
    reply: vec![],
    sender: server(),
    send: |conn| conn.send(Message::Binary(bytes_64k().into())).unwrap(),
});

// The masked counterparts of the two long frames, from a client.
vector!(binary_256_bytes_masked {
    receiver: server(),
    wire: common::masked(0x82, &bytes_256()),
    events: vec![binary(bytes_256())],
    reply: vec![],
    sender: client(),
    send: |conn| conn.send(Message::Binary(bytes_256().into())).unwrap(),
});

vector!(binary_64k_masked {
    receiver: server(),
    wire: common::masked(0x82, &bytes_64k()),
    events: vec![binary(bytes_64k())],
    reply: vec![],
    sender: client(),
    send: |conn| conn.send_binary(&bytes_64k()).unwrap(),
});
