//! A broadcast to 10,000 sessions: a [`Group`]'s `send` (the message
//! encoded once, every member's send buffer holding a reference) against
//! the same message given to each member's `SessionSender::send` one by
//! one (each connection encoding it for itself: the WebSocket header, or
//! the SockJS text copied and JSON-escaped again).
//!
//! ```text
//! cargo bench -p server-proto --bench broadcast -- --noplot
//! ```
//!
//! The members are real sessions of a [`Server`], on simulated time:
//! 10,000 WebSocket connections, and 10,000 SockJS sessions on
//! xhr-streaming (whose `streamBytesLimit` is lifted so that the streams
//! never end). Two measures per case, each per delivered copy
//! (throughput: 10,000 elements):
//!
//! - `send`: the broadcast alone, into the members' send buffers (the
//!   connections then write it out, untimed);
//! - `delivered`: the broadcast and every member's connection writing it
//!   out (`poll_output`, the bytes taken as a socket would take them), the
//!   whole cost of a copy that reaches the wire.
//!
//! The messages: a 100-byte chat line, and 4 KiB of text with characters
//! that SockJS escapes (quotes, newlines).
//!
//! The times are the bench thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`),
//! not the wall clock's: on a machine shared with other work, time spent
//! waiting for a core is not counted (cache misses caused by the other work
//! still are). Everything runs on that one thread.
//!
//! Criterion's figures for the two ways come one after the other; after
//! them the bench prints the gain of each case as a ratio, from rounds of
//! the two ways taken in turn (a change in the machine's load over the run
//! weighs on both alike).

#[path = "common/cpu_clock.rs"]
mod cpu_clock;

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant, SystemTime};

use cpu_clock::cpu_clock;
use criterion::{BenchmarkId, Criterion, Throughput};
use server_proto::sockjs_proto::SockJsConfig;
use server_proto::ws_proto::Message;
use server_proto::{
    Attributes, Connection, Group, Output, Server, ServerConfig, ServerOptions, Session,
    SessionSender, SockJsOptions, WebSocketOptions,
};

const MEMBERS: usize = 10_000;

/// The members of one transport: their connections, senders and group.
struct Members {
    conns: Vec<Connection>,
    senders: Vec<SessionSender>,
    group: Group,
    /// Keeps the sessions open (a dropped `Session` still sends, but keep
    /// the application's side as a server would).
    _sessions: Vec<Session>,
}

#[allow(clippy::disallowed_methods)] // the one base instant; time then stands still
fn server() -> (Arc<Server>, Instant) {
    let mut config = ServerConfig::new(ServerOptions::default().max_connections(4 * MEMBERS));
    config.websocket("/ws", WebSocketOptions::default());
    config.sockjs(
        "/room",
        SockJsOptions::default().config(
            SockJsConfig::default()
                .max_sessions(2 * MEMBERS)
                .stream_bytes_limit(usize::MAX),
        ),
    );
    let now = Instant::now();
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let server = Server::new(config, 7, now, date).expect("a valid configuration");
    (server, now)
}

fn open(server: &Arc<Server>, request: &[u8], now: Instant) -> (Connection, Session) {
    let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
    let mut conn = server.connection(peer, now, Waker::noop().clone());
    conn.handle_input(request, now);
    let mut opened = None;
    while let Some(output) = conn.poll_output(now) {
        match output {
            Output::Incoming(incoming) => conn.accept(incoming, Attributes::default(), now),
            Output::Opened(session) => opened = Some(session),
            _ => {}
        }
    }
    write_out(&mut conn, now);
    (conn, opened.expect("a session opened"))
}

fn members(server: &Arc<Server>, now: Instant, request: impl Fn(usize) -> String) -> Members {
    let mut conns = Vec::with_capacity(MEMBERS);
    let mut sessions = Vec::with_capacity(MEMBERS);
    for i in 0..MEMBERS {
        let (conn, session) = open(server, request(i).as_bytes(), now);
        conns.push(conn);
        sessions.push(session);
    }
    let group = Group::new();
    for session in &sessions {
        assert!(group.join(session));
    }
    Members {
        conns,
        senders: sessions.iter().map(Session::sender).collect(),
        group,
        _sessions: sessions,
    }
}

/// What a connection's driver does when woken: drain its outputs, then
/// write everything (the socket takes it all).
fn write_out(conn: &mut Connection, now: Instant) -> usize {
    let mut written = 0;
    loop {
        while let Some(output) = conn.poll_output(now) {
            black_box(output);
        }
        let n = conn.transmit_len();
        if n == 0 {
            return written;
        }
        black_box(conn.transmit());
        conn.consume(n, now);
        written += n;
    }
}

fn write_all(members: &mut Members, now: Instant) {
    for conn in &mut members.conns {
        black_box(write_out(conn, now));
    }
}

/// One broadcast, one way or the other.
fn send(members: &Members, message: &Message, encoded_once: bool) {
    if encoded_once {
        let delivery = members.group.send(message.clone());
        assert_eq!(delivery.delivered, MEMBERS);
    } else {
        for sender in &members.senders {
            sender.send(message.clone()).expect("open");
        }
    }
}

/// One broadcast and every connection writing it out; the CPU time of the
/// broadcast alone, or with the writes when `delivered`.
fn round(
    members: &mut Members,
    message: &Message,
    encoded_once: bool,
    delivered: bool,
    now: Instant,
) -> Duration {
    if delivered {
        stopwatch(|| {
            send(members, message, encoded_once);
            write_all(members, now);
        })
    } else {
        let timed = stopwatch(|| send(members, message, encoded_once));
        write_all(members, now);
        timed
    }
}

/// The CPU time `f` takes on this thread (on Unix; elsewhere the wall
/// clock's time): a figure that other processes on the machine inflate
/// far less than the wall clock's.
fn stopwatch(f: impl FnOnce()) -> Duration {
    let start = cpu_clock();
    f();
    cpu_clock().saturating_sub(start)
}

/// Everything the bench sends to.
struct Setup {
    /// Keeps the sessions' server alive.
    _server: Arc<Server>,
    now: Instant,
    websocket: Members,
    sockjs: Members,
    /// A 100-byte chat line.
    chat: Message,
    /// 4 KiB of text with characters that SockJS escapes.
    big: Message,
}

impl Setup {
    fn new() -> Self {
        let (server, now) = server();
        let websocket = members(&server, now, |_| {
            "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
                .to_owned()
        });
        let sockjs = members(&server, now, |i| {
            format!(
                "POST /room/000/s{i}/xhr_streaming HTTP/1.1\r\nHost: localhost\r\n\
                 Content-Length: 0\r\n\r\n"
            )
        });
        Setup {
            _server: server,
            now,
            websocket,
            sockjs,
            chat: Message::from(format!("alice: {}", "hello, room! ".repeat(7))),
            big: Message::from("a \"quoted\" line\n".repeat(256)),
        }
    }

    /// Calls `f` with every case: its name (transport and message), its
    /// members and its message.
    fn each_case(&mut self, mut f: impl FnMut(&str, &mut Members, &Message)) {
        for (transport, members) in [
            ("websocket", &mut self.websocket),
            ("sockjs", &mut self.sockjs),
        ] {
            for (size, message) in [("100B", &self.chat), ("4KiB", &self.big)] {
                f(&format!("{transport}/{size}"), members, message);
            }
        }
    }
}

fn broadcast(c: &mut Criterion, setup: &mut Setup) {
    let now = setup.now;
    let mut group = c.benchmark_group("broadcast_10k");
    group.throughput(Throughput::Elements(MEMBERS as u64));
    group.sample_size(20);
    setup.each_case(|case, members, message| {
        for (way, encoded_once) in [("group", true), ("each", false)] {
            for (measure, delivered) in [("send", false), ("delivered", true)] {
                let id = format!("{case}/{way}");
                group.bench_function(BenchmarkId::new(measure, &id), |b| {
                    b.iter_custom(|iters| {
                        (0..iters)
                            .map(|_| round(members, message, encoded_once, delivered, now))
                            .sum()
                    });
                });
            }
        }
    });
    group.finish();
}

/// Rounds of each case in [`ratios`], after one untimed round of each way.
const ROUNDS: usize = 15;

/// The gain as a ratio: the two ways of each case in alternate rounds (so
/// that a change in the machine's load over the run weighs on both alike),
/// and the median CPU time of each way.
#[allow(clippy::print_stdout)] // the bench's report, after criterion's
fn ratios(setup: &mut Setup) {
    let now = setup.now;
    println!(
        "\nbroadcast to {MEMBERS} members, {ROUNDS} alternate rounds each, median CPU time:\n\
         {:<26} {:>11} {:>11} {:>10}",
        "case", "group", "each", "each/group"
    );
    setup.each_case(|case, members, message| {
        for (measure, delivered) in [("send", false), ("delivered", true)] {
            let mut times = [Vec::new(), Vec::new()];
            for r in 0..=ROUNDS {
                for encoded_once in [r % 2 == 0, r % 2 != 0] {
                    let t = round(members, message, encoded_once, delivered, now);
                    if r > 0 {
                        times[usize::from(encoded_once)].push(t);
                    }
                }
            }
            let [each, once] = times.map(median);
            println!(
                "{:<26} {:>11.3?} {:>11.3?} {:>9.1}x",
                format!("{measure}/{case}"),
                once,
                each,
                each.as_secs_f64() / once.as_secs_f64()
            );
        }
    });
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn main() {
    let mut setup = Setup::new();
    let mut c = Criterion::default().configure_from_args();
    broadcast(&mut c, &mut setup);
    // `cargo bench` passes `--bench`; `cargo test --benches` runs each
    // case once, as a test, and needs no figures.
    if std::env::args().any(|arg| arg == "--bench") {
        ratios(&mut setup);
    }
    c.final_summary();
}
