//! `ws-load`: a WebSocket echo load generator.
//!
//! Opens N connections to a `ws://` URL on the loopback interface and keeps
//! K messages of S bytes in flight on each (throughput mode), or sends a
//! fixed total rate (rate mode, `--rate`). Every echo is checked: its kind,
//! its length and its content, which carries the message's sequence number,
//! so a lost, reordered or altered echo fails the run. After a warm-up W it
//! measures for D: verified echoes per second, MB/s, the server's CPU time
//! per message (`/proc/<pid>/stat`, `--server-pid`), its own CPU use (a
//! generator near 100 % of its core is flagged as saturated) and the
//! round-trip times.
//!
//! It prints one JSON line on stdout and one line for people on stderr.
//!
//! The client is the repository's own sans-IO core (`ws-proto`), driven
//! directly over a tokio `TcpStream` on a single-threaded runtime: every
//! read hands all its bytes to the core, every echo it completes queues the
//! next message, and everything queued goes out in one vectored write. No
//! locks, no split halves, no per-message flush.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use sockway_bench::{RttSummary, RunInfo, RunReport, Snapshot, WindowArgs};
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::time::{Interval, MissedTickBehavior};
use ws_proto::{CloseCode, Connection, Event, Message, MessageKind, WebSocketConfig};

/// How long connecting and the opening handshakes may take, all together.
const CONNECT_WAIT: Duration = Duration::from_secs(20);
/// How long each connection's close handshake may take at the end.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// How long the connections may take to stop after the window.
const STOP_WAIT: Duration = Duration::from_secs(5);
/// Reads in a row that found data before a connection lets the others run.
const READS_BEFORE_YIELD: u32 = 16;

#[derive(Debug, Parser)]
#[command(name = "ws-load", about = "WebSocket echo load generator")]
struct Args {
    /// The echo endpoint: ws://127.0.0.1:PORT/PATH (loopback only).
    #[arg(long)]
    url: String,
    /// Connections.
    #[arg(long, default_value_t = 1)]
    conns: usize,
    /// Messages kept in flight per connection (1: ping-pong). With --rate,
    /// the most that may be outstanding before sends wait.
    #[arg(long, default_value_t = 1)]
    inflight: usize,
    /// Message size in bytes.
    #[arg(long, default_value_t = 32)]
    size: usize,
    /// Send binary messages instead of text.
    #[arg(long)]
    binary: bool,
    /// Fixed-rate mode: messages per second over all connections.
    #[arg(long)]
    rate: Option<f64>,
    /// Idle mode: each connection sends its first messages (checked as
    /// ever) and then nothing, and the run reports what the connections
    /// cost the server in resident memory (`--server-pid`), measured
    /// before the first connection and at the end of the window.
    #[arg(long, conflicts_with = "rate")]
    idle: bool,
    #[command(flatten)]
    window: WindowArgs,
}

/// Where to connect: a loopback address, and the Host header and target.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    host: String,
    path: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("ws://")
        .ok_or_else(|| format!("{url}: only ws:// URLs"))?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let addr = sockway_bench::loopback_addr(url, authority)?;
    Ok(Target {
        addr,
        host: authority.to_owned(),
        path: path.to_owned(),
    })
}

/// The messages: a fixed filler whose first (up to) 16 bytes carry the
/// sequence number in hex.
struct Payloads {
    size: usize,
    head: usize,
    binary: bool,
    filler: Vec<u8>,
}

impl Payloads {
    fn new(size: usize, binary: bool) -> Self {
        let filler = (0..size).map(|i| b'a' + (i % 26) as u8).collect();
        Self {
            size,
            head: size.min(16),
            binary,
            filler,
        }
    }

    fn hex(seq: u64) -> [u8; 16] {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().rev().enumerate() {
            *b = DIGITS[((seq >> (4 * i)) & 15) as usize];
        }
        out
    }

    /// Whether `data` is message `seq`.
    fn check(&self, data: &[u8], seq: u64) -> bool {
        data.len() == self.size
            && data[..self.head] == Self::hex(seq)[16 - self.head..]
            && data[self.head..] == self.filler[self.head..]
    }
}

/// The scratch message a connection rewrites before each send.
enum Scratch {
    Text(String),
    Binary(Vec<u8>),
}

/// A log-linear histogram of nanoseconds: exact below 128, then 64 buckets
/// per power of two (under 1.6 % error).
struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

impl Histogram {
    fn new() -> Self {
        Self {
            counts: vec![0; 128 + 57 * 64],
            total: 0,
            max: 0,
        }
    }

    fn index(v: u64) -> usize {
        if v < 128 {
            v as usize
        } else {
            let e = 63 - v.leading_zeros();
            let m = (v >> (e - 6)) & 63;
            128 + (e as usize - 7) * 64 + m as usize
        }
    }

    fn lower_bound(i: usize) -> u64 {
        if i < 128 {
            i as u64
        } else {
            let e = (i - 128) / 64 + 7;
            let m = ((i - 128) % 64) as u64;
            (1u64 << e) | (m << (e - 6))
        }
    }

    fn record(&mut self, nanos: u64) {
        self.counts[Self::index(nanos)] += 1;
        self.total += 1;
        self.max = self.max.max(nanos);
    }

    /// The value below which a share `p` of the samples fall, in µs.
    fn percentile_us(&self, p: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((p * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::lower_bound(i) as f64 / 1000.0;
            }
        }
        self.max as f64 / 1000.0
    }
}

/// Counters all connections add to; the main task reads them at the edges
/// of the window. One thread, so plain cells.
struct Shared {
    received: Cell<u64>,
    bytes: Cell<u64>,
    recording: Cell<bool>,
    rtt: RefCell<Histogram>,
}

/// What every connection is told.
struct Plan {
    payloads: Payloads,
    inflight: u64,
    /// Fixed-rate mode: messages per second on this connection.
    rate_per_conn: Option<f64>,
    /// When the schedule of the fixed-rate mode starts.
    start: Instant,
    /// When to stop sending and close.
    stop_at: Instant,
    /// Idle mode: no message after the first ones.
    idle: bool,
}

struct Client {
    tcp: TcpStream,
    conn: Connection,
    out: VecDeque<Bytes>,
    sent: u64,
    received: u64,
    sent_at: VecDeque<Instant>,
    scratch: Scratch,
}

impl Client {
    async fn connect(target: &Target, seed: u64, payloads: &Payloads) -> Result<Self, String> {
        let mut rng = seed | 1;
        let (tcp, response) =
            sockway_bench::ws_handshake(target.addr, &target.host, &target.path, &mut rng).await?;
        let config = WebSocketConfig::default()
            .max_message_size(payloads.size.max(1 << 20))
            .max_frame_size(payloads.size.max(1 << 20));
        let mut conn = Connection::client(config, move || {
            (sockway_bench::xorshift(&mut rng) as u32).to_le_bytes()
        });
        conn.receive(&response.trailing);
        let scratch = if payloads.binary {
            Scratch::Binary(payloads.filler.clone())
        } else {
            Scratch::Text(String::from_utf8(payloads.filler.clone()).expect("ASCII filler"))
        };
        Ok(Self {
            tcp,
            conn,
            out: VecDeque::new(),
            sent: 0,
            received: 0,
            sent_at: VecDeque::new(),
            scratch,
        })
    }

    /// Queues message number `self.sent`.
    fn send_next(&mut self, payloads: &Payloads, now: Instant) -> Result<(), String> {
        let hex = Payloads::hex(self.sent);
        let head = &hex[16 - payloads.head..];
        let sent = match &mut self.scratch {
            Scratch::Text(text) => {
                text.replace_range(..payloads.head, std::str::from_utf8(head).expect("hex"));
                self.conn.send_text(text)
            }
            Scratch::Binary(data) => {
                data[..payloads.head].copy_from_slice(head);
                self.conn.send_binary(data)
            }
        };
        sent.map_err(|e| format!("send: {e}"))?;
        self.sent += 1;
        self.sent_at.push_back(now);
        Ok(())
    }

    /// Moves what the core encoded into the write queue.
    fn queue_output(&mut self) {
        while let Some(chunk) = self.conn.poll_transmit() {
            self.out.push_back(chunk);
        }
    }

    /// Writes as much of the queue as the socket takes now.
    fn write_some(&mut self) -> io::Result<()> {
        sockway_bench::write_queued(&self.tcp, &mut self.out)
    }

    /// Reads what the socket has now: `Some(0)` at end of file, `None` if
    /// nothing is there yet.
    fn read_some(&mut self, chunk: usize) -> io::Result<Option<usize>> {
        let buf = self.conn.receive_buffer();
        buf.reserve(chunk);
        match self.tcp.try_read_buf(buf) {
            Ok(n) => {
                if n == 0 {
                    self.conn.receive_eof();
                }
                Ok(Some(n))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Checks every echo the core decoded; in throughput mode each one
    /// queues the next message.
    fn take_echoes(&mut self, plan: &Plan, shared: &Shared, now: Instant) -> Result<(), String> {
        loop {
            let event = self
                .conn
                .poll_event()
                .map_err(|e| format!("protocol error from the server: {e}"))?;
            let message = match event {
                Some(Event::Message(message)) => message,
                Some(Event::Close(frame)) => {
                    return Err(format!("the server closed the session: {frame:?}"))
                }
                Some(_) => continue,
                None => return Ok(()),
            };
            let kind = if plan.payloads.binary {
                MessageKind::Binary
            } else {
                MessageKind::Text
            };
            let data = match &message {
                Message::Text(t) => t.as_bytes().as_ref(),
                Message::Binary(b) => b.as_ref(),
            };
            if message.kind() != kind || !plan.payloads.check(data, self.received) {
                return Err(format!(
                    "echo {} is wrong: {:?} of {} bytes",
                    self.received,
                    message.kind(),
                    data.len()
                ));
            }
            self.received += 1;
            shared.received.set(shared.received.get() + 1);
            shared.bytes.set(shared.bytes.get() + data.len() as u64);
            let sent_at = self
                .sent_at
                .pop_front()
                .ok_or("an echo of a message never sent")?;
            if shared.recording.get() {
                let nanos = now.saturating_duration_since(sent_at).as_nanos();
                shared.rtt.borrow_mut().record(nanos as u64);
            }
            if plan.rate_per_conn.is_none() && !plan.idle && now < plan.stop_at {
                self.send_next(&plan.payloads, now)?;
            }
        }
    }

    /// Fixed-rate mode: sends what the schedule says is due, as far as the
    /// in-flight cap allows.
    fn send_due(&mut self, plan: &Plan, rate: f64, now: Instant) -> Result<(), String> {
        let due = (now.saturating_duration_since(plan.start).as_secs_f64() * rate) as u64;
        while self.sent < due && self.sent - self.received < plan.inflight && now < plan.stop_at {
            self.send_next(&plan.payloads, now)?;
        }
        Ok(())
    }

    async fn run(
        mut self,
        plan: Rc<Plan>,
        shared: Rc<Shared>,
        offset: Duration,
    ) -> Result<(), String> {
        let io = |e: io::Error| format!("socket: {e}");
        let chunk = if plan.payloads.size >= 64 * 1024 {
            1 << 20
        } else {
            64 * 1024
        };
        let stop = tokio::time::sleep_until(plan.stop_at.into());
        tokio::pin!(stop);
        let mut ticker = plan.rate_per_conn.map(|rate| {
            let period = Duration::from_secs_f64(1.0 / rate).max(Duration::from_millis(1));
            let mut ticker = tokio::time::interval_at((plan.start + offset).into(), period);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
            ticker
        });
        if plan.rate_per_conn.is_none() {
            let now = Instant::now();
            for _ in 0..plan.inflight {
                self.send_next(&plan.payloads, now)?;
            }
        }
        let mut reads_in_a_row = 0;
        loop {
            self.queue_output();
            self.write_some().map_err(io)?;
            match self.read_some(chunk).map_err(io)? {
                Some(0) => return Err("the server closed the connection".to_owned()),
                Some(_) => {
                    let now = Instant::now();
                    self.take_echoes(&plan, &shared, now)?;
                    if now >= plan.stop_at {
                        break;
                    }
                    if let Some(rate) = plan.rate_per_conn {
                        self.send_due(&plan, rate, now)?;
                    }
                    reads_in_a_row += 1;
                    if reads_in_a_row >= READS_BEFORE_YIELD {
                        reads_in_a_row = 0;
                        tokio::task::yield_now().await;
                    }
                    continue;
                }
                None => reads_in_a_row = 0,
            }
            let interest = if self.out.is_empty() {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            let woke = tokio::select! {
                biased;
                () = &mut stop => Wake::Stop,
                ready = self.tcp.ready(interest) => Wake::Ready(ready),
                () = tick(ticker.as_mut()) => Wake::Tick,
            };
            match woke {
                Wake::Stop => break,
                Wake::Ready(ready) => {
                    ready.map_err(io)?;
                }
                Wake::Tick => {
                    if let Some(rate) = plan.rate_per_conn {
                        self.send_due(&plan, rate, Instant::now())?;
                    }
                }
            }
        }
        self.close().await;
        Ok(())
    }

    /// The close handshake, bounded; whatever goes wrong here is ignored.
    async fn close(&mut self) {
        if self.conn.close(Some(CloseCode::NORMAL), "").is_ok() {
            let _ = tokio::time::timeout(CLOSE_WAIT, self.finish_close()).await;
        }
    }

    /// Sends the close frame and reads (dropping late echoes) until the
    /// server's close frame or the end of the stream.
    async fn finish_close(&mut self) -> io::Result<()> {
        loop {
            self.queue_output();
            self.write_some()?;
            match self.read_some(64 * 1024)? {
                Some(0) => return Ok(()),
                Some(_) => loop {
                    match self.conn.poll_event() {
                        Ok(Some(Event::Close(_))) | Err(_) => {
                            self.queue_output();
                            return self.write_some();
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                    }
                },
                None => {
                    let interest = if self.out.is_empty() {
                        Interest::READABLE
                    } else {
                        Interest::READABLE | Interest::WRITABLE
                    };
                    self.tcp.ready(interest).await?;
                }
            }
        }
    }
}

enum Wake {
    Stop,
    Ready(io::Result<tokio::io::Ready>),
    Tick,
}

async fn tick(ticker: Option<&mut Interval>) {
    match ticker {
        Some(ticker) => {
            ticker.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn bench(args: &Args) -> Result<RunReport, String> {
    if args.conns == 0 || args.inflight == 0 || args.size == 0 {
        return Err("--conns, --inflight and --size must be at least 1".to_owned());
    }
    if args.window.duration.is_zero() {
        return Err("--duration must be more than 0".to_owned());
    }
    if let Some(rate) = args.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err("--rate must be a positive number".to_owned());
        }
    }
    let target = parse_url(&args.url)?;
    let payloads = Payloads::new(args.size, args.binary);
    let rss = |pid: u32| {
        sockway_bench::cpu::rss_kib(pid).map_err(|e| format!("the server's memory: {e}"))
    };
    let rss_before = match args.window.server_pid {
        Some(pid) if args.idle => Some(rss(pid)?),
        _ => None,
    };
    let mut clients = Vec::with_capacity(args.conns);
    tokio::time::timeout(CONNECT_WAIT, async {
        for i in 0..args.conns {
            let seed = 0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1);
            clients.push(Client::connect(&target, seed, &payloads).await?);
        }
        Ok::<(), String>(())
    })
    .await
    .map_err(|_| {
        format!(
            "connecting {} clients took over {CONNECT_WAIT:?}",
            args.conns
        )
    })??;

    let shared = Rc::new(Shared {
        received: Cell::new(0),
        bytes: Cell::new(0),
        recording: Cell::new(false),
        rtt: RefCell::new(Histogram::new()),
    });
    let start = Instant::now();
    let window_start = start + args.window.warmup;
    let window_end = window_start + args.window.duration;
    let plan = Rc::new(Plan {
        payloads,
        inflight: args.inflight as u64,
        rate_per_conn: args.rate.map(|r| r / args.conns as f64),
        start,
        // A little after the window, so that the window's last echoes are
        // not cut short by connections closing.
        stop_at: window_end + Duration::from_millis(20),
        idle: args.idle,
    });
    let period = plan.rate_per_conn.map_or(Duration::ZERO, |r| {
        Duration::from_secs_f64(1.0 / r).max(Duration::from_millis(1))
    });
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(i, client)| {
            // Fixed-rate connections tick at staggered offsets.
            let offset = period.mul_f64(i as f64 / args.conns as f64);
            tokio::task::spawn_local(client.run(Rc::clone(&plan), Rc::clone(&shared), offset))
        })
        .collect();

    tokio::time::sleep_until(window_start.into()).await;
    let snapshot = || {
        Snapshot::take(
            shared.received.get(),
            shared.bytes.get(),
            args.window.server_pid,
        )
    };
    let first = snapshot()?;
    shared.recording.set(true);
    tokio::time::sleep_until(window_end.into()).await;
    let last = snapshot()?;
    shared.recording.set(false);
    let rss_after = match (rss_before, args.window.server_pid) {
        (Some(_), Some(pid)) => Some(rss(pid)?),
        _ => None,
    };

    let mut errors = 0;
    let mut error = None;
    let results = tokio::time::timeout(STOP_WAIT, futures_util::future::join_all(tasks))
        .await
        .map_err(|_| format!("the connections did not stop within {STOP_WAIT:?}"))?;
    for result in results {
        let failure = match result {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(e) => format!("connection task: {e}"),
        };
        errors += 1;
        error.get_or_insert(failure);
    }

    let rtt = shared.rtt.borrow();
    let rtt = RttSummary {
        p50_us: rtt.percentile_us(0.50),
        p99_us: rtt.percentile_us(0.99),
        max_us: rtt.max as f64 / 1000.0,
    };
    let info = RunInfo {
        server: args.window.label.clone(),
        workload: args.window.workload.clone(),
        round: args.window.round,
        mode: if args.idle {
            "idle"
        } else if args.rate.is_some() {
            "rate"
        } else {
            "throughput"
        }
        .to_owned(),
        conns: args.conns,
        inflight: args.inflight,
        size: args.size,
        binary: args.binary,
        target_rate: args.rate,
        warmup_s: args.window.warmup.as_secs_f64(),
        server_pid: args.window.server_pid,
        saturation: args.window.saturation,
    };
    let mut report = RunReport::from_window(info, &first, &last, rtt, errors, error);
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        report.server_rss_kib = Some(after as f64);
        report.server_kib_per_conn = Some((after as f64 - before as f64) / args.conns as f64);
    }
    if args.idle && report.server_kib_per_conn.is_none() {
        return Err("--idle measures the server's memory: give --server-pid".to_owned());
    }
    Ok(report)
}

fn main() -> ExitCode {
    let args = Args::parse();
    sockway_bench::run_generator("ws-load", bench(&args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_loopback() {
        let t = parse_url("ws://127.0.0.1:8081/ws").expect("loopback");
        assert_eq!(t.addr, "127.0.0.1:8081".parse().expect("addr"));
        assert_eq!(
            (t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:8081", "/ws")
        );
        assert_eq!(parse_url("ws://localhost:9").expect("localhost").path, "/");
        assert!(parse_url("ws://[::1]:9/x").is_ok());
        assert!(parse_url("ws://10.0.0.1:80/ws").is_err());
        assert!(parse_url("ws://example.com:80/ws").is_err());
        assert!(parse_url("wss://127.0.0.1:80/ws").is_err());
    }

    #[test]
    fn payloads_carry_their_sequence_number() {
        for size in [1, 5, 16, 17, 100] {
            let p = Payloads::new(size, false);
            let mut m = p.filler.clone();
            m[..p.head].copy_from_slice(&Payloads::hex(0x1234_5678_9abc_def0)[16 - p.head..]);
            assert!(p.check(&m, 0x1234_5678_9abc_def0));
            assert!(!p.check(&m, 0x1234_5678_9abc_def1));
            assert!(!p.check(&m[..size - 1], 0x1234_5678_9abc_def0));
        }
    }

    #[test]
    fn histogram_percentiles_are_close() {
        let mut h = Histogram::new();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        let p50 = h.percentile_us(0.5);
        assert!((p50 - 50_000.0).abs() / 50_000.0 < 0.02, "{p50}");
        assert!(Histogram::index(u64::MAX) < h.counts.len());
        for v in [0, 1, 127, 128, 129, 1000, 123_456_789] {
            let lb = Histogram::lower_bound(Histogram::index(v));
            assert!(lb <= v && v - lb <= v / 64 + 1, "{v} {lb}");
        }
    }
}
