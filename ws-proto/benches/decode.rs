//! Decoding one masked text frame on the server side, against `memcpy` of
//! the same payload (the ceiling) and `tungstenite` (a peer), in one group so
//! that every figure is read as a ratio within the same run.
//!
//! ```text
//! cargo bench -p ws-proto --bench decode -- --noplot
//! ```
//!
//! # What is timed
//!
//! - `ws-proto`: `Connection::poll_event` returning the message: header
//!   parse and checks, unmasking in place, UTF-8 validation, splitting the
//!   payload out of the input buffer. The frame is already in the
//!   connection's input buffer (`receive_buffer()`), as an adapter reading
//!   straight from a socket leaves it; that copy happens in the untimed
//!   `iter_batched_ref` setup, and so do building and dropping the
//!   connection and dropping the message.
//! - `tungstenite`: `WebSocket::read` returning the message, with the frame
//!   already in its read buffer (`WebSocket::from_partially_read`, in the
//!   untimed setup; the stream behind it is empty and never read). Same
//!   work: header, unmasking, UTF-8 validation, split.
//! - `memcpy`: `copy_from_slice` of the payload into a preallocated buffer,
//!   the two placed 2 KiB apart modulo 4 KiB (see `common::Placed`: on some
//!   CPU and libc pairs a copy between 4K-aliased buffers is 15 times
//!   slower, and heap placement would pick the case by chance).
//!
//! Throughput is payload bytes. Batches are sized so that the inputs of one
//! batch stay in L2: the frame a routine decodes was written by its setup a
//! moment before, as the bytes of a socket read would be, and is as warm
//! as memcpy's source.
//!
//! The `decode_from_read` group adds the copy out of the transport for
//! both implementations, with one long-lived connection each: ws-proto
//! `receive(&frame)` (copy into the input buffer) then `poll_event`;
//! tungstenite `read` from an in-memory `Cursor` over the frame. Those copies
//! run between heap buffers placed by chance, so they may hit the 4K-aliasing
//! slow path of `memcpy` described in `common::Placed`: compare that group's
//! figures across runs with care.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;
use std::io::Cursor;

use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use tungstenite::protocol::Role as TRole;
use tungstenite::WebSocket;
use ws_proto::{Connection, Event, Message, WebSocketConfig};

use common::{text_frame, text_payload, Placed, SIZES};

/// Iterations per batch: their inputs together stay well inside L2, and
/// the timer is read once per batch, so small frames are not drowned by it.
fn batch(len: usize) -> BatchSize {
    BatchSize::NumIterations(match len {
        0..=64 => 512,
        65..=4096 => 64,
        _ => 1,
    })
}

fn server_with(frame: &[u8]) -> Connection {
    let mut conn = Connection::server(WebSocketConfig::default());
    conn.receive_buffer().extend_from_slice(frame);
    conn
}

fn ws_proto_decode(conn: &mut Connection) -> Message {
    match conn.poll_event() {
        Ok(Some(Event::Message(message))) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

fn tungstenite_with(frame: &[u8]) -> WebSocket<Cursor<Vec<u8>>> {
    WebSocket::from_partially_read(Cursor::new(Vec::new()), frame.to_vec(), TRole::Server, None)
}

fn tungstenite_decode<S: std::io::Read + std::io::Write>(
    ws: &mut WebSocket<S>,
) -> tungstenite::Message {
    match ws.read() {
        Ok(message @ tungstenite::Message::Text(_)) => message,
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Both implementations decode `frame` to `payload` (checked once, untimed).
fn check(frame: &[u8], payload: &[u8]) {
    match ws_proto_decode(&mut server_with(frame)) {
        Message::Text(text) => assert_eq!(text.as_bytes().as_ref(), payload),
        Message::Binary(_) => panic!("ws-proto decoded a binary message"),
    }
    match tungstenite_decode(&mut tungstenite_with(frame)) {
        tungstenite::Message::Text(text) => assert_eq!(text.as_bytes(), payload),
        other => panic!("tungstenite decoded {other:?}"),
    }
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    for (len, label) in SIZES {
        let payload = text_payload(len);
        let frame = text_frame(&payload, true);
        check(&frame, &payload);
        group.throughput(Throughput::Bytes(len as u64));

        group.bench_with_input(BenchmarkId::new("memcpy", label), &payload, |b, payload| {
            let src = Placed::copy_of(payload, 0);
            let mut dst = Placed::new(payload.len(), 2048);
            b.iter(|| {
                dst.as_mut_slice()
                    .copy_from_slice(black_box(src.as_slice()));
                black_box(&mut dst);
            });
        });

        group.bench_with_input(BenchmarkId::new("ws-proto", label), &frame, |b, frame| {
            b.iter_batched_ref(|| server_with(frame), ws_proto_decode, batch(len));
        });

        group.bench_with_input(
            BenchmarkId::new("tungstenite", label),
            &frame,
            |b, frame| {
                b.iter_batched_ref(|| tungstenite_with(frame), tungstenite_decode, batch(len));
            },
        );
    }
    group.finish();
}

fn decode_from_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_from_read");
    for (len, label) in SIZES {
        let payload = text_payload(len);
        let frame = text_frame(&payload, true);
        group.throughput(Throughput::Bytes(len as u64));

        group.bench_with_input(BenchmarkId::new("ws-proto", label), &frame, |b, frame| {
            let mut conn = Connection::server(WebSocketConfig::default());
            b.iter(|| {
                conn.receive(black_box(frame));
                ws_proto_decode(&mut conn)
            });
        });

        group.bench_with_input(
            BenchmarkId::new("tungstenite", label),
            &frame,
            |b, frame| {
                let mut ws =
                    WebSocket::from_raw_socket(Cursor::new(frame.clone()), TRole::Server, None);
                b.iter(|| {
                    ws.get_mut().set_position(0);
                    tungstenite_decode(&mut ws)
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, decode, decode_from_read);
criterion_main!(benches);
