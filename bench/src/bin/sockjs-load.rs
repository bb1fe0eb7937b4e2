//! `sockjs-load`: a SockJS echo load generator over the HTTP transports.
//!
//! Opens N sessions on a SockJS echo endpoint (`http://127.0.0.1:PORT/PREFIX`,
//! loopback only) over xhr-polling or xhr-streaming, each with two
//! keep-alive HTTP/1.1 connections as sockjs-client has: one receiving
//! (a poll always outstanding, or the streaming response, reopened where
//! the server ends it) and one sending (`xhr_send`). Each session keeps one
//! message of S bytes in flight: the next goes out once the echo of the
//! last is back. Every echo is checked (its content carries the session's
//! sequence number: a lost, repeated, reordered or altered echo fails the
//! run). After a warm-up W it measures for D, and prints the same report
//! as `ws-load` (one JSON line on stdout, one line for people on stderr),
//! so `ws-report` tabulates both.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use sockway_bench::{RttSummary, RunInfo, RunReport, Snapshot, WindowArgs};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// How long opening every session may take, all together.
const CONNECT_WAIT: Duration = Duration::from_secs(20);
/// The most bytes of one response head.
const MAX_HEAD: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Transport {
    XhrPolling,
    XhrStreaming,
}

#[derive(Debug, Parser)]
#[command(
    name = "sockjs-load",
    about = "SockJS echo load generator (xhr-polling, xhr-streaming)"
)]
struct Args {
    /// The echo endpoint: http://127.0.0.1:PORT/PREFIX (loopback only).
    #[arg(long)]
    url: String,
    /// The transport.
    #[arg(long, value_enum, default_value_t = Transport::XhrPolling)]
    transport: Transport,
    /// Sessions.
    #[arg(long, default_value_t = 16)]
    sessions: usize,
    /// Message size in bytes (ASCII).
    #[arg(long, default_value_t = 32)]
    size: usize,
    #[command(flatten)]
    window: WindowArgs,
}

/// The endpoint: its address and prefix.
struct Target {
    addr: SocketAddr,
    host: String,
    prefix: String,
}

fn parse_url(url: &str) -> Result<Target, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("the URL must be http://")?;
    let (authority, prefix) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
    let addr: SocketAddr = authority
        .parse()
        .map_err(|_| format!("{authority}: not an IP address and port"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr}: loopback only"));
    }
    Ok(Target {
        addr,
        host: authority.to_owned(),
        prefix: prefix.trim_end_matches('/').to_owned(),
    })
}

/// Counters every session adds to.
#[derive(Default)]
struct Shared {
    recording: Cell<bool>,
    received: Cell<u64>,
    bytes: Cell<u64>,
    /// Round trips in the window, in nanoseconds.
    rtts: RefCell<Vec<u64>>,
    stop: Cell<bool>,
}

/// A keep-alive HTTP/1.1 connection that sends a request and reads its
/// answer, whole or piece by piece.
struct Http {
    tcp: TcpStream,
    buf: Vec<u8>,
    host: String,
}

/// How a response's body is framed.
enum Framing {
    Length(usize),
    Chunked,
}

impl Http {
    async fn connect(target: &Target) -> Result<Self, String> {
        let tcp = TcpStream::connect(target.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self {
            tcp,
            buf: Vec::with_capacity(8 * 1024),
            host: target.host.clone(),
        })
    }

    async fn request(&mut self, path: &str, body: &str) -> Result<(), String> {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.tcp
            .write_all(req.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self
            .tcp
            .read(&mut chunk)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err("the server closed the connection".to_owned());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// Reads a response head: the status and the body's framing.
    async fn head(&mut self) -> Result<(u16, Framing), String> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if self.buf.len() > MAX_HEAD {
                return Err("a response head over 16 KiB".to_owned());
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("a bad status line: {head:?}"))?;
        let mut framing = Framing::Length(0);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                framing = Framing::Length(value.parse().map_err(|_| "a bad Content-Length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding")
                && value.eq_ignore_ascii_case("chunked")
            {
                framing = Framing::Chunked;
            }
        }
        Ok((status, framing))
    }

    /// Reads a body of `len` bytes.
    async fn body(&mut self, len: usize) -> Result<Vec<u8>, String> {
        while self.buf.len() < len {
            self.fill().await?;
        }
        Ok(self.buf.drain(..len).collect())
    }

    /// Reads a whole body, framed either way.
    async fn whole(&mut self, framing: Framing) -> Result<Vec<u8>, String> {
        match framing {
            Framing::Length(len) => self.body(len).await,
            Framing::Chunked => {
                let mut all = Vec::new();
                while let Some(chunk) = self.chunk().await? {
                    all.extend_from_slice(&chunk);
                }
                Ok(all)
            }
        }
    }

    /// Reads the next chunk of a chunked body; `None` at its end.
    async fn chunk(&mut self) -> Result<Option<Vec<u8>>, String> {
        let line_end = loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                break i;
            }
            self.fill().await?;
        };
        let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("a bad chunk size {size_text:?}"))?;
        self.buf.drain(..line_end + 2);
        let data = self.body(size + 2).await?;
        Ok((size > 0).then(|| data[..size].to_vec()))
    }
}

/// What a session expects back, and when it sent it.
struct Expect {
    seq: Cell<u64>,
    sent_at: Cell<Option<Instant>>,
    echoed: Notify,
}

fn payload(seq: u64, size: usize) -> String {
    let mut text = format!("{seq:016x}");
    while text.len() < size {
        text.push('x');
    }
    text.truncate(size.max(16));
    text
}

/// Checks the frames of a receiving response (`o`, `h`, the streaming
/// prelude, `a[...]`, one per line; `c[...]` is an error), counting the
/// echoes and waking the sender at each.
fn frames(
    data: &[u8],
    pending: &mut Vec<u8>,
    expect: &Expect,
    size: usize,
    shared: &Shared,
) -> Result<(), String> {
    pending.extend_from_slice(data);
    while let Some(i) = pending.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = pending.drain(..=i).collect();
        let line = &line[..line.len() - 1];
        match line.first() {
            Some(b'o' | b'h') if line.len() == 1 => {}
            Some(b'h') if line.iter().all(|&b| b == b'h') => {}
            Some(b'a') => {
                let messages: Vec<String> =
                    serde_json::from_slice(&line[1..]).map_err(|e| format!("a bad frame: {e}"))?;
                for message in messages {
                    let seq = expect.seq.get();
                    if message != payload(seq, size) {
                        return Err(format!("echo {seq}: got {:?}", truncate(&message)));
                    }
                    expect.seq.set(seq + 1);
                    if shared.recording.get() {
                        shared.received.set(shared.received.get() + 1);
                        shared.bytes.set(shared.bytes.get() + message.len() as u64);
                        if let Some(at) = expect.sent_at.take() {
                            shared
                                .rtts
                                .borrow_mut()
                                .push(at.elapsed().as_nanos() as u64);
                        }
                    }
                    expect.echoed.notify_one();
                }
            }
            Some(b'c') => {
                return Err(format!("closed: {}", String::from_utf8_lossy(line)));
            }
            _ => return Err(format!("a bad frame {:?}", String::from_utf8_lossy(line))),
        }
    }
    Ok(())
}

fn truncate(s: &str) -> &str {
    &s[..s.len().min(40)]
}

/// One session: opens, then receives and sends until told to stop.
async fn session(
    target: Rc<Target>,
    args: Rc<Args>,
    shared: Rc<Shared>,
    id: usize,
) -> Result<(), String> {
    // Unique per run: a server keeps a closed session's id for its
    // disconnect delay.
    let base = format!("{}/000/load{}x{id}", target.prefix, std::process::id());
    let mut recv = Http::connect(&target).await?;
    let mut send = Http::connect(&target).await?;
    let expect = Rc::new(Expect {
        seq: Cell::new(0),
        sent_at: Cell::new(None),
        echoed: Notify::new(),
    });
    // The opening poll.
    recv.request(&format!("{base}/xhr"), "").await?;
    let (status, framing) = recv.head().await?;
    let body = recv.whole(framing).await?;
    if status != 200 || body != b"o\n" {
        return Err(format!(
            "open: {status} {:?}",
            String::from_utf8_lossy(&body)
        ));
    }
    let receiving = {
        let expect = Rc::clone(&expect);
        let shared = Rc::clone(&shared);
        let args = Rc::clone(&args);
        let base = base.clone();
        async move {
            let mut pending = Vec::new();
            while !shared.stop.get() {
                match args.transport {
                    Transport::XhrPolling => {
                        recv.request(&format!("{base}/xhr"), "").await?;
                        let (status, framing) = recv.head().await?;
                        let body = recv.whole(framing).await?;
                        if status != 200 {
                            return Err(format!("poll: {status}"));
                        }
                        frames(&body, &mut pending, &expect, args.size, &shared)?;
                    }
                    Transport::XhrStreaming => {
                        recv.request(&format!("{base}/xhr_streaming"), "").await?;
                        let (status, framing) = recv.head().await?;
                        if status != 200 {
                            return Err(format!("stream: {status}"));
                        }
                        match framing {
                            Framing::Chunked => {
                                while let Some(data) = recv.chunk().await? {
                                    frames(&data, &mut pending, &expect, args.size, &shared)?;
                                    if shared.stop.get() {
                                        return Ok(());
                                    }
                                }
                            }
                            Framing::Length(len) => {
                                let body = recv.body(len).await?;
                                frames(&body, &mut pending, &expect, args.size, &shared)?;
                            }
                        }
                    }
                }
            }
            Ok::<(), String>(())
        }
    };
    let sending = {
        let expect = Rc::clone(&expect);
        let shared = Rc::clone(&shared);
        async move {
            let mut next = 0u64;
            while !shared.stop.get() {
                let body = format!("[\"{}\"]", payload(next, args.size));
                expect.sent_at.set(Some(Instant::now()));
                send.request(&format!("{base}/xhr_send"), &body).await?;
                let (status, framing) = send.head().await?;
                send.whole(framing).await?;
                if status != 204 {
                    return Err(format!("send: {status}"));
                }
                next += 1;
                // One in flight: the next once this one is back.
                while expect.seq.get() < next && !shared.stop.get() {
                    let _ =
                        tokio::time::timeout(Duration::from_millis(200), expect.echoed.notified())
                            .await;
                }
            }
            Ok::<(), String>(())
        }
    };
    tokio::select! {
        r = receiving => r,
        r = sending => r,
    }
}

fn percentile_us(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

async fn bench(args: Args) -> Result<RunReport, String> {
    if args.sessions == 0 || args.size < 16 {
        return Err("--sessions must be at least 1 and --size at least 16".to_owned());
    }
    let target = Rc::new(parse_url(&args.url)?);
    let args = Rc::new(args);
    let shared = Rc::new(Shared::default());
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.sessions)
        .map(|id| {
            tokio::task::spawn_local(session(
                Rc::clone(&target),
                Rc::clone(&args),
                Rc::clone(&shared),
                id,
            ))
        })
        .collect();
    tokio::time::sleep(args.window.warmup).await;
    if started.elapsed() > CONNECT_WAIT {
        return Err("the sessions took too long to open".to_owned());
    }
    let snapshot = || {
        Snapshot::take(
            shared.received.get(),
            shared.bytes.get(),
            args.window.server_pid,
        )
    };
    let first = snapshot()?;
    shared.recording.set(true);
    tokio::time::sleep(args.window.duration).await;
    let last = snapshot()?;
    shared.recording.set(false);
    shared.stop.set(true);
    let mut errors = 0;
    let mut error = None;
    for task in tasks {
        // A session blocked on a poll that waits for frames is let go:
        // only failures before the stop count.
        if !task.is_finished() {
            task.abort();
            continue;
        }
        let failure = match task.await {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(e) => format!("session task: {e}"),
        };
        errors += 1;
        error.get_or_insert(failure);
    }
    let mut rtts = std::mem::take(&mut *shared.rtts.borrow_mut());
    rtts.sort_unstable();
    let rtt = RttSummary {
        p50_us: percentile_us(&rtts, 0.50),
        p99_us: percentile_us(&rtts, 0.99),
        max_us: rtts.last().map_or(0.0, |&n| n as f64 / 1000.0),
    };
    let info = RunInfo {
        server: args.window.label.clone(),
        workload: args.window.workload.clone(),
        round: args.window.round,
        mode: "throughput".to_owned(),
        conns: args.sessions,
        inflight: 1,
        size: args.size,
        binary: false,
        target_rate: None,
        warmup_s: args.window.warmup.as_secs_f64(),
        server_pid: args.window.server_pid,
        saturation: args.window.saturation,
    };
    Ok(RunReport::from_window(
        info, &first, &last, rtt, errors, error,
    ))
}

fn main() -> ExitCode {
    sockway_bench::run_generator("sockjs-load", bench(Args::parse()))
}
