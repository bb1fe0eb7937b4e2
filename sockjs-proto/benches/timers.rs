//! Timer cost against the number of sessions: `poll_timeout` and
//! `handle_timeout` per due heartbeat, with 1k, 10k and 100k sessions whose
//! heartbeats are all armed. Both must stay flat (O(log n)), not grow with
//! the session count.

#![allow(missing_docs)] // criterion_group! generates an undocumented public function

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use sockjs_proto::{Answer, RequestContext, Server, SockJsConfig};

/// A server with `n` sessions, each with an attached streaming receiver
/// opened one microsecond after the previous one, so heartbeats fall due one
/// at a time.
#[allow(clippy::disallowed_methods)] // a base instant; time then moves by hand
fn server_with(n: usize) -> (Server, Instant) {
    let config = SockJsConfig::default().max_sessions(n + 1);
    let mut server = Server::new("/echo", config, 1).expect("valid config");
    let t0 = Instant::now();
    for i in 0..n {
        let now = t0 + Duration::from_micros(i as u64);
        let req = http::Request::post(format!("/echo/000/s{i}/xhr_streaming"))
            .body(Bytes::new())
            .expect("a valid request");
        let answer = server.handle_request(&req, &RequestContext::default(), now);
        assert!(matches!(answer, Answer::Stream { .. }));
    }
    while server.poll_event().is_some() {}
    (server, t0)
}

fn timers(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers");
    for n in [1_000, 10_000, 100_000] {
        let (mut server, _) = server_with(n);
        group.bench_function(BenchmarkId::new("poll_timeout", n), |b| {
            b.iter(|| std::hint::black_box(server.poll_timeout()));
        });
        group.bench_function(
            BenchmarkId::new("handle_timeout_per_due_heartbeat", n),
            |b| {
                b.iter(|| {
                    let due = server.poll_timeout().expect("heartbeats are armed");
                    server.handle_timeout(due);
                    let woken = server.poll_wakeup();
                    assert!(woken.is_some());
                    std::hint::black_box(woken)
                });
            },
        );
        assert_eq!(server.session_count(), n);
    }
    group.finish();
}

criterion_group!(benches, timers);
criterion_main!(benches);
