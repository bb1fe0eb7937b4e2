//! Property tests against a simple model: whatever one role sends (whole
//! messages, fragmented messages with control frames in between, pings,
//! pongs), the other role decodes identically and in order, for any cutting
//! of the wire, in both directions, assembled or streamed.

mod common;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use ws_proto::{Connection, Event, Fragment, Message, MessageKind, Utf8Bytes, WebSocketConfig};

use common::Pair;

/// A control frame sent between two fragments.
#[derive(Debug, Clone)]
enum Control {
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

/// One command on the sending side.
#[derive(Debug, Clone)]
enum Op {
    /// `send_text`.
    Text(String),
    /// `send_binary`, or `send` of a shared `Bytes` when `shared`.
    Binary {
        data: Vec<u8>,
        shared: bool,
    },
    /// `send_fragment` for each piece of `data` cut at `cuts` (text may be
    /// cut inside a character), with `controls[i]` sent after piece `i`.
    Fragmented {
        kind: MessageKind,
        data: Vec<u8>,
        cuts: Vec<usize>,
        controls: Vec<Option<Control>>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
}

fn control_payload() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..=125)
}

fn control() -> impl Strategy<Value = Control> {
    prop_oneof![
        control_payload().prop_map(Control::Ping),
        control_payload().prop_map(Control::Pong),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![4 => "\\PC{0,40}", 1 => "[a-zé€𝄞]{100,400}"]
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..200),
        1 => prop::collection::vec(any::<u8>(), 1000..1500),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let fragmented = (
        prop_oneof![
            text().prop_map(|s| (MessageKind::Text, s.into_bytes())),
            data().prop_map(|d| (MessageKind::Binary, d)),
        ],
        prop::collection::vec(any::<usize>(), 0..5),
        prop::collection::vec(prop::option::weighted(0.3, control()), 0..5),
    )
        .prop_map(|((kind, data), cuts, controls)| Op::Fragmented {
            kind,
            data,
            cuts,
            controls,
        });
    prop_oneof![
        3 => text().prop_map(Op::Text),
        3 => (data(), any::<bool>()).prop_map(|(data, shared)| Op::Binary { data, shared }),
        3 => fragmented,
        1 => control_payload().prop_map(Op::Ping),
        1 => control_payload().prop_map(Op::Pong),
    ]
}

/// Sizes of the pieces the wire is cut into; empty means whole.
fn chunking() -> impl Strategy<Value = Vec<usize>> {
    prop_oneof![
        Just(vec![]),
        Just(vec![1]),
        prop::collection::vec(1..64usize, 1..8),
    ]
}

fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    common::cut_at(data, &points)
}

fn message(kind: MessageKind, data: &[u8]) -> Message {
    match kind {
        MessageKind::Text => Message::Text(
            Utf8Bytes::try_from_bytes(Bytes::copy_from_slice(data)).expect("generated as text"),
        ),
        MessageKind::Binary => Message::Binary(Bytes::copy_from_slice(data)),
    }
}

fn control_event(c: &Control) -> Event {
    match c {
        Control::Ping(p) => Event::Ping(p.clone().into()),
        Control::Pong(p) => Event::Pong(p.clone().into()),
    }
}

fn fragment(kind: MessageKind, payload: &[u8], first: bool, fin: bool) -> Event {
    Event::Fragment(Fragment {
        kind,
        payload: Bytes::copy_from_slice(payload),
        first,
        fin,
    })
}

/// Issues `op` on `conn`.
fn send(conn: &mut Connection, op: &Op) {
    match op {
        Op::Text(s) => conn.send_text(s).unwrap(),
        Op::Binary {
            data,
            shared: false,
        } => conn.send_binary(data).unwrap(),
        Op::Binary { data, shared: true } => {
            conn.send(Message::Binary(data.clone().into())).unwrap();
        }
        Op::Fragmented {
            kind,
            data,
            cuts,
            controls,
        } => {
            let pieces = pieces(data, cuts);
            let last = pieces.len() - 1;
            for (i, piece) in pieces.iter().enumerate() {
                let payload = Bytes::copy_from_slice(piece);
                conn.send_fragment(*kind, payload, i == last).unwrap();
                match controls.get(i).filter(|_| i < last) {
                    Some(Some(Control::Ping(p))) => conn.ping(p).unwrap(),
                    Some(Some(Control::Pong(p))) => conn.pong(p).unwrap(),
                    _ => {}
                }
            }
        }
        Op::Ping(p) => conn.ping(p).unwrap(),
        Op::Pong(p) => conn.pong(p).unwrap(),
    }
}

/// The model: what the receiver reports for `ops`, assembled or streamed,
/// and the payloads of the pings among them (which auto-pong echoes).
fn expected(ops: &[Op], streaming: bool) -> (Vec<Event>, Vec<Vec<u8>>) {
    let mut events = Vec::new();
    let mut pings = Vec::new();
    for op in ops {
        match op {
            Op::Text(s) if streaming => {
                events.push(fragment(MessageKind::Text, s.as_bytes(), true, true));
            }
            Op::Text(s) => events.push(Event::Message(Message::from(s.clone()))),
            Op::Binary { data, .. } if streaming => {
                events.push(fragment(MessageKind::Binary, data, true, true));
            }
            Op::Binary { data, .. } => {
                events.push(Event::Message(message(MessageKind::Binary, data)));
            }
            Op::Fragmented {
                kind,
                data,
                cuts,
                controls,
            } => {
                let pieces = pieces(data, cuts);
                let last = pieces.len() - 1;
                for (i, piece) in pieces.iter().enumerate() {
                    if streaming {
                        events.push(fragment(*kind, piece, i == 0, i == last));
                    }
                    if let Some(Some(c)) = controls.get(i).filter(|_| i < last) {
                        events.push(control_event(c));
                        if let Control::Ping(p) = c {
                            pings.push(p.clone());
                        }
                    }
                }
                if !streaming {
                    events.push(Event::Message(message(*kind, data)));
                }
            }
            Op::Ping(p) => {
                events.push(Event::Ping(p.clone().into()));
                pings.push(p.clone());
            }
            Op::Pong(p) => events.push(Event::Pong(p.clone().into())),
        }
    }
    (events, pings)
}

/// The messages among `events`, with streamed fragments concatenated.
fn messages(events: &[Event]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut partial = BytesMut::new();
    for event in events {
        match event {
            Event::Message(m) => out.push(m.clone()),
            Event::Fragment(f) => {
                partial.extend_from_slice(&f.payload);
                if f.fin {
                    out.push(message(f.kind, &partial.split()));
                }
            }
            _ => {}
        }
    }
    out
}

/// Sends `ops` from one side of a pair and checks the other side against
/// the model, and the pongs that come back.
fn one_way(
    ops: &[Op],
    client_sends: bool,
    chunks: Vec<usize>,
    flushes: &[bool],
    streaming: bool,
) -> Result<(), TestCaseError> {
    let receiving = WebSocketConfig::default().streaming(streaming);
    let mut pair = if client_sends {
        Pair::with_configs(WebSocketConfig::default(), receiving)
    } else {
        Pair::with_configs(receiving, WebSocketConfig::default())
    }
    .chunked(chunks);
    for (i, op) in ops.iter().enumerate() {
        let sender = if client_sends {
            &mut pair.client
        } else {
            &mut pair.server
        };
        send(sender, op);
        if flushes.get(i).copied().unwrap_or(false) {
            pair.drive();
        }
    }
    pair.drive();
    let (received, sent_back) = if client_sends {
        (&pair.server_got, &pair.client_got)
    } else {
        (&pair.client_got, &pair.server_got)
    };
    let (events, pings) = expected(ops, streaming);
    prop_assert_eq!(&received.error, &None);
    prop_assert_eq!(&sent_back.error, &None);
    prop_assert_eq!(messages(&received.events), messages(&events));
    prop_assert_eq!(&received.events, &events);
    // Pings answered while an earlier pong still waited unsent collapse into
    // one pong for the latest (RFC 6455 §5.5.3): the pongs are a subsequence
    // of the pings that always ends with the last one.
    let mut pongs = Vec::new();
    for event in &sent_back.events {
        let Event::Pong(p) = event else {
            return Err(TestCaseError::fail(format!(
                "only pongs come back, got {event:?}"
            )));
        };
        pongs.push(p.to_vec());
    }
    let mut expected_pongs = pings.iter();
    for p in &pongs {
        prop_assert!(
            expected_pongs.any(|ping| ping == p),
            "pong {p:?} is not a ping's, in order"
        );
    }
    let last_pong = pongs.last().cloned();
    prop_assert_eq!(last_pong, pings.last().cloned());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn client_to_server_assembled(
        ops in prop::collection::vec(op(), 0..12),
        chunks in chunking(),
        flushes in prop::collection::vec(any::<bool>(), 0..12),
    ) {
        one_way(&ops, true, chunks, &flushes, false)?;
    }

    #[test]
    fn server_to_client_assembled(
        ops in prop::collection::vec(op(), 0..12),
        chunks in chunking(),
        flushes in prop::collection::vec(any::<bool>(), 0..12),
    ) {
        one_way(&ops, false, chunks, &flushes, false)?;
    }

    #[test]
    fn client_to_server_streamed(
        ops in prop::collection::vec(op(), 0..12),
        chunks in chunking(),
        flushes in prop::collection::vec(any::<bool>(), 0..12),
    ) {
        one_way(&ops, true, chunks, &flushes, true)?;
    }

    #[test]
    fn server_to_client_streamed(
        ops in prop::collection::vec(op(), 0..12),
        chunks in chunking(),
        flushes in prop::collection::vec(any::<bool>(), 0..12),
    ) {
        one_way(&ops, false, chunks, &flushes, true)?;
    }

    /// Both sides send at once (no auto-pong, so each side's events are
    /// exactly the peer's operations).
    #[test]
    fn both_ways_at_once(
        client_ops in prop::collection::vec(op(), 0..8),
        server_ops in prop::collection::vec(op(), 0..8),
        chunks in chunking(),
    ) {
        let config = WebSocketConfig::default().auto_pong(false);
        let mut pair = Pair::with_configs(config.clone(), config).chunked(chunks);
        for i in 0..client_ops.len().max(server_ops.len()) {
            if let Some(op) = client_ops.get(i) {
                send(&mut pair.client, op);
            }
            if let Some(op) = server_ops.get(i) {
                send(&mut pair.server, op);
            }
            pair.flush_client();
        }
        pair.drive();
        prop_assert_eq!(&pair.server_got.events, &expected(&client_ops, false).0);
        prop_assert_eq!(&pair.client_got.events, &expected(&server_ops, false).0);
        prop_assert_eq!(&pair.server_got.error, &None);
        prop_assert_eq!(&pair.client_got.error, &None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// Every length class (7-bit, 16-bit, 64-bit), at its edges, either way.
    #[test]
    fn lengths_at_the_encoding_edges(
        chunks in prop::collection::vec(1..4096usize, 1..4),
        client_sends in any::<bool>(),
        shared in any::<bool>(),
    ) {
        let ops: Vec<Op> = [0, 1, 125, 126, 127, 0xffff, 0x1_0000, 100_000]
            .into_iter()
            .map(|len| Op::Binary {
                data: (0..len).map(|i: u32| (i % 251) as u8).collect(),
                shared,
            })
            .collect();
        one_way(&ops, client_sends, chunks, &[], false)?;
    }
}
