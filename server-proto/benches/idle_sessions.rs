//! Idle SockJS sessions held by one thread: `N` sessions (100,000 by
//! default) on the `websocket` transport and `N` on `xhr_streaming`, each
//! on a [`Connection`] of its own, kept open through three heartbeat
//! periods on simulated time.
//!
//! ```text
//! cargo bench -p server-proto --bench idle_sessions
//! cargo bench -p server-proto --bench idle_sessions -- --sessions 10000 --transport websocket
//! ```
//!
//! `--transport` is `websocket`, `xhr-streaming` or `both` (the default).
//! Without `--bench` (`cargo test --benches` runs the binary so) the
//! default is 2,000 sessions, to check the run quickly.
//!
//! Each transport has a [`Server`] of its own, one SockJS endpoint with
//! sockjs-node's heartbeat (25 s) and the default `disconnect_delay`. The
//! sessions open in 25 groups one second apart, so that their heartbeats
//! fall due over the whole period as they would on a real server, not all
//! at one instant. Each opens as a client would open it (the upgrade, or
//! the `POST`), on a connection made with [`Server::connection`]; every
//! `Incoming` is accepted, every `Session` kept as an application would
//! keep it, and every byte the connection has to write is taken and
//! checked: the `101` or `200` head, the `o` frame, the xhr-streaming
//! prelude (2,048 `h` and a newline).
//!
//! Time then moves from deadline to deadline, as an event loop's would:
//! the server's timer (the SockJS heartbeats), and the connections' own
//! deadlines in a min-heap (an idle SockJS connection arms none). What
//! wakes is drained through its waker, never by a scan of the
//! connections. Each session must get exactly one heartbeat per period,
//! at its time (a WebSocket text frame `h`; the chunk `h\n` of the
//! stream); none may close. Any difference ends the run with an error.
//!
//! The figures, per transport:
//!
//! - heap bytes and blocks per session, from a counting allocator: what
//!   the allocator holds once every session is open and its bytes are
//!   written, against before, over `N` (the sessions, the connections,
//!   the `Vec`s holding them as an embedder would, and each connection's
//!   waker; the allocator's own overhead is not in it, the process's RSS
//!   growth, on the first transport run, is shown beside it); and the
//!   allocations made per session;
//! - the time to open the `N` sessions;
//! - the time of each heartbeat round (one period: every session's
//!   heartbeat, written and checked), in all and per session;
//! - for comparison, one scan of every connection's `poll_timeout`, which
//!   a loop that gathers deadlines by a scan would pay on every wake.
//!
//! CPU times are the thread's CPU clock (`CLOCK_THREAD_CPUTIME_ID`): time
//! spent waiting for a core on a shared machine is not counted. Everything
//! runs on the one thread. No socket is opened: the kernel's costs (accept,
//! epoll, socket buffers, the read and write calls) are not in the figures.

#[path = "common/cpu_clock.rs"]
mod cpu_clock;
#[path = "idle_sessions/measure.rs"]
mod measure;
#[path = "idle_sessions/table.rs"]
mod table;
#[path = "idle_sessions/wire.rs"]
mod wire;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Wake, Waker};
use std::time::{Duration, Instant, SystemTime};

use server_proto::sockjs_proto::SockJsConfig;
use server_proto::{
    Attributes, Connection, HandshakeOutcome, Output, Server, ServerConfig, ServerOptions, Session,
    SockJsOptions,
};

use measure::{rss_bytes, timed, Heap};
use table::Figures;
use wire::Transport;

/// sockjs-node's heartbeat period.
const PERIOD: Duration = Duration::from_secs(25);
/// The sessions open in this many groups, spread over one period.
const GROUPS: u32 = 25;
/// Heartbeat rounds after the sessions opened.
const ROUNDS: u32 = 3;

// ---- the wakers ------------------------------------------------------------

/// The connections woken, by index: what an event loop's wake queue holds.
#[derive(Default)]
struct Woken(Mutex<Vec<u32>>);

impl Woken {
    fn push(&self, index: u32) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(index);
    }
}

/// One connection's waker.
struct ConnWaker {
    woken: Arc<Woken>,
    index: u32,
}

impl Wake for ConnWaker {
    fn wake(self: Arc<Self>) {
        self.woken.push(self.index);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.push(self.index);
    }
}

// ---- one transport's run -----------------------------------------------------

/// One transport's sessions on a server of their own, driven as an event
/// loop would drive them.
struct Run {
    transport: Transport,
    n: usize,
    server: Arc<Server>,
    t0: Instant,
    now: Instant,
    conns: Vec<Connection>,
    sessions: Vec<Session>,
    woken: Arc<Woken>,
    /// The woken connections being driven (swapped with `woken`'s).
    batch: Vec<u32>,
    /// The connections' own deadlines (stale entries skipped).
    deadlines: BinaryHeap<Reverse<(Instant, u32)>>,
    /// Heartbeats each session got.
    beats: Vec<u8>,
    /// Connections whose own deadline fired.
    conn_timeouts: usize,
    /// Wakes after which a connection had nothing to write.
    idle_wakes: usize,
    /// Scratch: a request, bytes read, a decoded body.
    request: String,
    read: Vec<u8>,
    body: Vec<u8>,
}

impl Run {
    #[allow(
        clippy::disallowed_methods,
        reason = "the one base instant; time then moves by hand"
    )]
    fn new(transport: Transport, n: usize) -> Result<Self, String> {
        let sockjs = SockJsConfig::default()
            .heartbeat_time(PERIOD)
            .max_sessions(n);
        let mut config = ServerConfig::new(ServerOptions::default().max_connections(n));
        config.sockjs("/echo", SockJsOptions::default().config(sockjs));
        let t0 = Instant::now();
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let server = Server::new(config, 7, t0, date).map_err(|e| e.to_string())?;
        Ok(Self {
            transport,
            n,
            server,
            t0,
            now: t0,
            conns: Vec::new(),
            sessions: Vec::new(),
            woken: Arc::new(Woken(Mutex::new(Vec::with_capacity(n)))),
            batch: Vec::with_capacity(n),
            deadlines: BinaryHeap::with_capacity(n),
            beats: vec![0; n],
            conn_timeouts: 0,
            idle_wakes: 0,
            request: String::with_capacity(256),
            read: Vec::with_capacity(8192),
            body: Vec::with_capacity(8192),
        })
    }

    /// When session `i` opens: groups of sessions one period / `GROUPS`
    /// apart.
    fn opened_at(&self, i: usize) -> Instant {
        let group = (i as u64 * u64::from(GROUPS) / self.n as u64) as u32;
        self.t0 + PERIOD / GROUPS * group
    }

    /// Heartbeats session `i` is due to have had at `now`.
    fn due(&self, i: usize, now: Instant) -> u128 {
        now.saturating_duration_since(self.opened_at(i)).as_nanos() / PERIOD.as_nanos()
    }

    fn open_all(&mut self) -> Result<(), String> {
        self.conns.reserve_exact(self.n);
        self.sessions.reserve_exact(self.n);
        for i in 0..self.n {
            self.advance_to(self.opened_at(i))?;
            self.open(i)?;
        }
        Ok(())
    }

    /// Opens session `i` at `now`, as a client and an embedder would.
    fn open(&mut self, i: usize) -> Result<(), String> {
        let now = self.now;
        let index = i as u32;
        let waker = Waker::from(Arc::new(ConnWaker {
            woken: Arc::clone(&self.woken),
            index,
        }));
        let peer = SocketAddr::from(([127, 0, 0, 1], 1024 + (i % 60_000) as u16));
        let mut conn = self.server.connection(peer, now, waker);
        self.transport.request(i, &mut self.request);
        conn.handle_input(self.request.as_bytes(), now);
        let mut opened = None;
        self.read.clear();
        loop {
            while let Some(output) = conn.poll_output(now) {
                match output {
                    Output::Incoming(incoming) => {
                        conn.accept(incoming, Attributes::default(), now);
                    }
                    Output::Opened(session) => {
                        if opened.replace(session).is_some() {
                            return Err(format!("session {i}: two sessions opened"));
                        }
                    }
                    // The interceptors' after part: none here.
                    Output::Handshake {
                        outcome: HandshakeOutcome::Opened(_),
                        ..
                    } => {}
                    other => return Err(format!("session {i}: unexpected {other:?}")),
                }
            }
            let chunk = conn.transmit();
            if chunk.is_empty() {
                break;
            }
            let n = chunk.len();
            self.read.extend_from_slice(chunk);
            conn.consume(n, now);
        }
        self.transport
            .check_open(&self.read, &mut self.body)
            .map_err(|e| format!("session {i}: {e}"))?;
        let session = opened.ok_or_else(|| format!("session {i}: no session opened"))?;
        if conn.is_done() {
            return Err(format!("session {i}: the connection ended"));
        }
        if let Some(at) = conn.poll_timeout() {
            self.deadlines.push(Reverse((at, index)));
        }
        self.conns.push(conn);
        self.sessions.push(session);
        Ok(())
    }

    /// Moves time to `until`, from deadline to deadline: the server's
    /// timer, the connections' own; then drains what woke.
    fn advance_to(&mut self, until: Instant) -> Result<(), String> {
        // Each pass handles one deadline; more than this is a timer that
        // does not move.
        let bound = 4 * self.n + 1000;
        for _ in 0..bound {
            let server = self.server.poll_timeout(None);
            let conn = self.deadlines.peek().map(|Reverse((at, _))| *at);
            let next = match (server, conn) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let Some(at) = next.filter(|&at| at <= until) else {
                self.now = self.now.max(until);
                return self.drive_woken();
            };
            self.now = self.now.max(at);
            let now = self.now;
            if server.is_some_and(|at| at <= now) {
                self.server.handle_timeout(now);
            }
            while let Some(&Reverse((at, index))) = self.deadlines.peek() {
                if at > now {
                    break;
                }
                self.deadlines.pop();
                let conn = &mut self.conns[index as usize];
                // An entry whose deadline moved since is stale.
                if conn.poll_timeout().is_some_and(|at| at <= now) {
                    conn.handle_timeout(now);
                    self.conn_timeouts += 1;
                    self.woken.push(index);
                }
            }
            self.drive_woken()?;
        }
        Err(format!(
            "the timers did not move past {:?}",
            self.now - self.t0
        ))
    }

    /// Drains every woken connection: each must write whole heartbeats
    /// only, the one due now.
    fn drive_woken(&mut self) -> Result<(), String> {
        std::mem::swap(
            &mut *self.woken.0.lock().unwrap_or_else(PoisonError::into_inner),
            &mut self.batch,
        );
        self.batch.sort_unstable();
        self.batch.dedup();
        let now = self.now;
        let heartbeat = self.transport.heartbeat();
        for &index in &self.batch {
            let i = index as usize;
            let conn = &mut self.conns[i];
            let (mut beats, mut at) = (0u8, 0);
            loop {
                if let Some(output) = conn.poll_output(now) {
                    return Err(format!("session {i}: unexpected {output:?}"));
                }
                let chunk = conn.transmit();
                if chunk.is_empty() {
                    break;
                }
                for &b in chunk {
                    if b != heartbeat[at] {
                        return Err(format!("session {i}: {chunk:?} is not a heartbeat"));
                    }
                    at += 1;
                    if at == heartbeat.len() {
                        (beats, at) = (beats + 1, 0);
                    }
                }
                let n = chunk.len();
                conn.consume(n, now);
            }
            if at != 0 {
                return Err(format!("session {i}: part of a heartbeat"));
            }
            if conn.is_done() {
                return Err(format!("session {i}: the connection ended"));
            }
            if let Some(at) = conn.poll_timeout() {
                self.deadlines.push(Reverse((at, index)));
            }
            if beats == 0 {
                self.idle_wakes += 1;
            }
            self.beats[i] += beats;
            let due = self.due(i, now);
            if beats > 1 || u128::from(self.beats[i]) != due {
                return Err(format!(
                    "session {i}: {} heartbeats ({beats} now) at {:?}, {due} due",
                    self.beats[i],
                    now - self.t0
                ));
            }
        }
        self.batch.clear();
        Ok(())
    }

    /// Every session has had `round` heartbeats, and is open.
    fn check_round(&self, round: u32) -> Result<(), String> {
        for (i, (beats, session)) in self.beats.iter().zip(&self.sessions).enumerate() {
            if u32::from(*beats) != round {
                return Err(format!(
                    "session {i}: {beats} heartbeats after round {round}"
                ));
            }
            if !session.is_open() {
                return Err(format!("session {i} closed: {:?}", session.close_status()));
            }
        }
        let open = self.server.sockjs_sessions();
        if open != self.n || self.conns.len() != self.n {
            return Err(format!("{open} sessions left of {}", self.n));
        }
        Ok(())
    }
}

// ---- one transport, measured ---------------------------------------------------

/// Opens `n` sessions on `transport`, runs the heartbeat rounds, checks
/// everything. The process's RSS growth is measured on the `first` run
/// only: later ones reuse the memory the first freed.
#[allow(
    clippy::cast_precision_loss,
    reason = "counts far below 2^52 as f64, for the figures"
)]
fn run(transport: Transport, n: usize, first: bool) -> Result<Figures, String> {
    let mut run = Run::new(transport, n)?;
    let rss = rss_bytes().filter(|_| first);
    let before = Heap::now();
    let (all_opened, open) = timed(|| run.open_all());
    all_opened?;
    let opened = Heap::now();
    let rss = rss
        .zip(rss_bytes())
        .map(|(a, b)| b.saturating_sub(a) as f64 / n as f64);
    let per = |x: usize, y: usize| x.saturating_sub(y) as f64 / n as f64;
    let heap = [
        per(opened.bytes, before.bytes),
        per(opened.blocks, before.blocks),
        per(opened.allocations, before.allocations),
    ];
    let mut rounds = Vec::new();
    for round in 1..=ROUNDS {
        // Round `round` ends with the last group's heartbeat.
        let last_group = PERIOD / GROUPS * (GROUPS - 1);
        let end = run.t0 + PERIOD * round + last_group;
        let (advanced, took) = timed(|| run.advance_to(end));
        advanced?;
        run.check_round(round)?;
        rounds.push(took);
    }
    let after = Heap::now();
    let mut scans: Vec<Duration> = (0..5)
        .map(|_| {
            let (earliest, took) =
                timed(|| run.conns.iter().filter_map(Connection::poll_timeout).min());
            black_box(earliest);
            took.cpu
        })
        .collect();
    scans.sort_unstable();
    Ok(Figures {
        transport,
        open,
        heap,
        rss,
        rounds,
        allocations_per_beat: per(after.allocations, opened.allocations) / f64::from(ROUNDS),
        heap_after_rounds: per(after.bytes, before.bytes),
        conn_timeouts: run.conn_timeouts,
        idle_wakes: run.idle_wakes,
        scan: scans[scans.len() / 2],
    })
}

const USAGE: &str =
    "usage: idle_sessions [--sessions N] [--transport websocket|xhr-streaming|both]";

struct Args {
    sessions: usize,
    transports: Vec<Transport>,
}

impl Args {
    fn parse() -> Result<Self, String> {
        let mut bench = false;
        let mut sessions = None;
        let mut transports = vec![Transport::WebSocket, Transport::XhrStreaming];
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                // `cargo bench` passes it; `cargo test --benches` does not.
                "--bench" => bench = true,
                "--sessions" => {
                    let n = args
                        .next()
                        .and_then(|v| v.replace('_', "").parse::<usize>().ok())
                        .filter(|&n| (1..=u32::MAX as usize).contains(&n))
                        .ok_or("--sessions takes a positive number")?;
                    sessions = Some(n);
                }
                "--transport" => {
                    transports = match args.next().as_deref() {
                        Some("websocket") => vec![Transport::WebSocket],
                        Some("xhr-streaming") => vec![Transport::XhrStreaming],
                        Some("both") => vec![Transport::WebSocket, Transport::XhrStreaming],
                        _ => {
                            return Err("--transport takes websocket, xhr-streaming or both".into())
                        }
                    };
                }
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        let default = if bench { 100_000 } else { 2_000 };
        Ok(Self {
            sessions: sessions.unwrap_or(default),
            transports,
        })
    }
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let args = match Args::parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("idle_sessions: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut figures = Vec::new();
    for &transport in &args.transports {
        match run(transport, args.sessions, figures.is_empty()) {
            Ok(f) => figures.push(f),
            Err(e) => {
                eprintln!("idle_sessions: {}: {e}", transport.name());
                return ExitCode::FAILURE;
            }
        }
    }
    table::print(args.sessions, ROUNDS, PERIOD, &figures);
    ExitCode::SUCCESS
}
