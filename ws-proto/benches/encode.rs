//! Encoding: a server sending text (16 B, 64 KiB: header plus a copy of the
//! payload into the output buffer; 64 KiB shared: header only, the payload
//! `Bytes` queued without a copy), and a client sending 64 KiB (copy plus
//! masking), with `memcpy` of 64 KiB as the ceiling for the copying cases.
//!
//! ```text
//! cargo bench -p ws-proto --bench encode -- --noplot
//! ```
//!
//! Each iteration queues one message on a long-lived connection and drains
//! `poll_transmit`, so the output buffer is reused as it would be on a
//! connection that keeps up with its socket.
//!
//! `memcpy` copies between buffers placed 2 KiB apart modulo 4 KiB;
//! `memcpy_4k_aliased` 16 bytes apart, which on some CPU and libc pairs
//! (glibc 2.36 on AMD Zen 3) is 15 times slower. The copies inside
//! `server_text` and `client_binary` (the payload into the output buffer)
//! go between heap buffers placed by chance, so either figure may apply to
//! them in a given run.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ws_proto::{Connection, Message, Utf8Bytes, WebSocketConfig};

use common::{text_payload, Placed, KEY};

fn drain(conn: &mut Connection) -> usize {
    let mut written = 0;
    while let Some(chunk) = conn.poll_transmit() {
        written += black_box(chunk).len();
    }
    written
}

fn encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("encode");
    for (len, label) in [(16, "16B"), (64 * 1024, "64KiB")] {
        let text = String::from_utf8(text_payload(len)).expect("UTF-8");
        group.throughput(Throughput::Bytes(len as u64));

        if len >= 1024 {
            for (name, residue) in [("memcpy", 2048), ("memcpy_4k_aliased", 16)] {
                group.bench_with_input(BenchmarkId::new(name, label), &text, |b, text| {
                    let src = Placed::copy_of(text.as_bytes(), 0);
                    let mut dst = Placed::new(text.len(), residue);
                    b.iter(|| {
                        dst.as_mut_slice()
                            .copy_from_slice(black_box(src.as_slice()));
                        black_box(&mut dst);
                    });
                });
            }
        }

        group.bench_with_input(BenchmarkId::new("server_text", label), &text, |b, text| {
            let mut conn = Connection::server(WebSocketConfig::default());
            b.iter(|| {
                conn.send_text(black_box(text)).expect("open");
                drain(&mut conn)
            });
        });

        if len >= 1024 {
            let shared = Utf8Bytes::from(text.clone());
            group.bench_with_input(
                BenchmarkId::new("server_shared", label),
                &shared,
                |b, shared| {
                    let mut conn = Connection::server(WebSocketConfig::default());
                    b.iter(|| {
                        conn.send(Message::Text(black_box(shared).clone()))
                            .expect("open");
                        drain(&mut conn)
                    });
                },
            );

            let bytes = Bytes::from(text.clone().into_bytes());
            group.bench_with_input(
                BenchmarkId::new("client_binary", label),
                &bytes,
                |b, bytes| {
                    let mut conn = Connection::client(WebSocketConfig::default(), || KEY);
                    b.iter(|| {
                        conn.send_binary(black_box(bytes)).expect("open");
                        drain(&mut conn)
                    });
                },
            );
        }
    }
    group.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
