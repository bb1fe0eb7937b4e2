//! Helpers of the robustness tests (bad input over real sockets:
//! `bad_http.rs`, `idle_connections.rs`, `slow_readers.rs`,
//! `endless_message.rs`): a server in a child process, whose memory (`VmRSS`) and descriptors are read from
//! `/proc`, flooding endpoints that report what happened to their sessions,
//! and raw HTTP/1.1 and WebSocket clients that send what a real client would
//! not.
//!
//! # The child server
//!
//! A test file that measures a server's memory declares an ignored test that
//! calls [`child_main`]:
//!
//! ```ignore
//! #[test]
//! #[ignore = "the server child of the other tests"]
//! fn child_server() {
//!     sockway_tests::stress::child_main();
//! }
//! ```
//!
//! [`ChildServer::spawn`] runs that test binary again with only this test,
//! [`CHILD_ENV`] naming the server to build ([`READY`] or [`FLOOD`]) and
//! [`RUNTIME_ENV`] how to serve it (a [`ServerMode::MODE`]: sockway's own
//! listener on a runtime, or the endpoints mounted in axum, [`Axum`]: the
//! tests that use a child run once per mode). The child binds
//! `127.0.0.1:0` and reports on its standard output, one line each, `EVENT listening <addr>` and whatever its handlers see (`EVENT
//! <endpoint> <what>`); it exits when its standard input closes (the parent
//! is done or gone), after [`CHILD_LIFETIME`] at the latest. Without
//! [`CHILD_ENV`] the test returns at once, so `cargo test -- --ignored` does
//! not hang on it. A line `sessions` on its standard input is answered with
//! `EVENT sessions <n>` ([`ChildServer::sockjs_sessions`]).

use std::fmt;
use std::io::{BufRead as _, Write as _};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use adapter_core::server::{
    ServerBuilder, ServerHandle, Session, SockJsEndpoint, WebSocketEndpoint,
};
use adapter_core::sockjs_proto::SockJsConfig;
use adapter_core::ws_proto::OverflowStrategy;
use adapter_core::{Executor, Message, WebSocketConfig};
use adapter_tokio::service::Endpoints;
use bytes::{Buf as _, Bytes, BytesMut};
use futures_util::StreamExt as _;
use sockway_cli::ServeOptions;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

use crate::runtime::{AsyncStd, Axum, ServerMode, ServerRuntime, Smol, Tokio};

/// The environment variable that makes [`child_main`] serve: its value names
/// the server ([`READY`] or [`FLOOD`]).
pub const CHILD_ENV: &str = "SOCKWAY_STRESS_CHILD";
/// The environment variable that names how the child serves: a runtime
/// ([`ServerRuntime::NAME`]) or a mounted stack ([`Axum`]); see
/// [`ServerMode`].
pub const RUNTIME_ENV: &str = "SOCKWAY_STRESS_RUNTIME";
/// The ready server of `sockway serve` (`sockway_cli::endpoints`), with a
/// disconnect delay of 1 s so that dropped SockJS sessions go quickly.
pub const READY: &str = "ready";
/// The ready server plus the flooding endpoints (see [`flood_server`]).
pub const FLOOD: &str = "flood";
/// The longest a child server lives, whatever its parent does.
pub const CHILD_LIFETIME: Duration = Duration::from_secs(120);
/// One MiB.
pub const MIB: usize = 1024 * 1024;
/// The size of every message the flooding endpoints send.
pub const FLOOD_MESSAGE: usize = 64 * 1024;
/// The send buffer limit of the flooding endpoints.
pub const FLOOD_BUFFER: usize = MIB;
/// Messages the flooding endpoints send between two 1 ms pauses: a quarter
/// of [`FLOOD_BUFFER`].
pub const FLOOD_BURST: u64 = (FLOOD_BUFFER / FLOOD_MESSAGE / 4) as u64;
/// The short send time limit of `/flood/stall` and `/flood-sockjs`.
pub const FLOOD_SEND_TIME_LIMIT: Duration = Duration::from_millis(500);
/// How long `/flood/drop-oldest` floods before it says `done`.
pub const FLOOD_WINDOW: Duration = Duration::from_millis(1500);
/// The frame and message limits of `/small`.
pub const SMALL_FRAME: usize = 64 * 1024;
/// See [`SMALL_FRAME`].
pub const SMALL_MESSAGE: usize = MIB;

// ---- the child's side -------------------------------------------------------

/// Prints `EVENT <what>` on the standard output, for the parent.
#[allow(clippy::print_stdout)]
pub fn event(what: impl fmt::Display) {
    println!("EVENT {what}");
}

/// The body of the child server test: serves the server that [`CHILD_ENV`]
/// names, as [`RUNTIME_ENV`] says (a runtime, or axum), until the standard
/// input closes; returns at once without [`CHILD_ENV`].
pub fn child_main() {
    let Ok(kind) = std::env::var(CHILD_ENV) else {
        return;
    };
    std::thread::spawn(|| {
        std::thread::sleep(CHILD_LIFETIME);
        std::process::exit(3);
    });
    let runtime = std::env::var(RUNTIME_ENV).unwrap_or_else(|_| Tokio::NAME.to_owned());
    if runtime == Tokio::NAME {
        serve_child::<Tokio>(&kind);
    } else if runtime == AsyncStd::NAME {
        serve_child::<AsyncStd>(&kind);
    } else if runtime == Smol::NAME {
        serve_child::<Smol>(&kind);
    } else if runtime == Axum::MODE {
        serve_axum_child(&kind);
    } else {
        panic!("no runtime {runtime:?}");
    }
}

/// Serves the server `kind` on `R` until the standard input closes.
fn serve_child<R: ServerRuntime>(kind: &str) {
    R::block_on(async move {
        let builder = match kind {
            READY => ready_server::<R>(),
            FLOOD => flood_server::<R>(),
            other => panic!("no server {other:?}"),
        };
        let server = builder.bind("127.0.0.1:0").await.expect("a listener");
        let handle = server.handle();
        event(format_args!(
            "listening {}",
            server.local_addr().expect("an address")
        ));
        answer_the_parent(vec![handle]);
        server.serve().await.expect("serving");
    });
}

/// Serves the server `kind` mounted in axum ([`Axum`]) until the standard
/// input closes: the ready server's endpoints in the `Router` of
/// `sockway_cli::stack::router`, and for [`FLOOD`] the flooding endpoints
/// as its fallback service (one [`Endpoints`] that sees the paths as they
/// are, so the tests' paths are the same as on the own listener); served
/// as `sockway_cli::stack::serve_axum` serves it.
fn serve_axum_child(kind: &str) {
    Tokio::block_on(async move {
        let options = child_serve_options();
        let (mut router, mut handles) = sockway_cli::stack::router(&options).expect("the router");
        match kind {
            READY => {}
            FLOOD => {
                let flood = Endpoints::new(flood_endpoints(sockway_cli::base::<Tokio>(&options)))
                    .expect("the flooding endpoints");
                handles.push(flood.handle());
                router = router.fallback_service(flood);
            }
            other => panic!("no server {other:?}"),
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a listener");
        event(format_args!(
            "listening {}",
            listener.local_addr().expect("an address")
        ));
        answer_the_parent(handles);
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serving");
    });
}

/// Answers the parent's `sessions` lines (the SockJS sessions of all of
/// `handles`) in a thread of its own; exits the process when the standard
/// input closes.
fn answer_the_parent(handles: Vec<ServerHandle>) {
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            match line {
                Ok(line) if line.trim() == "sessions" => {
                    let sessions: usize = handles.iter().map(ServerHandle::sockjs_sessions).sum();
                    event(format_args!("sessions {sessions}"));
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
        std::process::exit(0);
    });
}

/// The ready server's options in a child: the defaults but a disconnect
/// delay of 1 s.
pub fn child_serve_options() -> ServeOptions {
    ServeOptions {
        disconnect_delay: Duration::from_secs(1),
        ..ServeOptions::default()
    }
}

/// The ready server of `sockway serve`, as [`READY`] serves it.
pub fn ready_server<R: ServerRuntime>() -> ServerBuilder<R> {
    sockway_cli::endpoints(&child_serve_options())
}

/// The ready server plus endpoints whose handlers flood their clients with
/// [`FLOOD_MESSAGE`]-byte messages, each a fresh allocation (an unbounded
/// send buffer would show in the server's memory), and report what happens
/// as events named after the endpoint. The binary messages of the
/// WebSocket endpoints carry their index (see [`flood_index`]).
///
/// | path | what |
/// | --- | --- |
/// | `/flood/terminate` | WebSocket, [`FLOOD_BUFFER`] send buffer, `Terminate`: floods until a send fails |
/// | `/flood/drop-oldest` | WebSocket, [`FLOOD_BUFFER`], `DropOldest`: floods for [`FLOOD_WINDOW`], then sends `done` |
/// | `/flood/stall` | WebSocket, `DropOldest`, send time limit [`FLOOD_SEND_TIME_LIMIT`]: floods until a send fails |
/// | `/flood-sockjs` | SockJS, [`FLOOD_BUFFER`], `Terminate`, send time limit [`FLOOD_SEND_TIME_LIMIT`]: floods until a send fails |
/// | `/flood-sockjs-patient` | the same with the default send time limit (10 s) |
/// | `/small` | WebSocket echo with [`SMALL_FRAME`] frames and [`SMALL_MESSAGE`] messages at most |
///
/// Events: `<name> opened`; then `<name> send-error <error> sent=<n>
/// open=<bool>` when a send fails, or, with a flooding window, `<name>
/// failure <error>` for each failed send and `<name> flooded sent=<n>
/// failures=<n> open=<bool>` at its end; and `<name> closed <code>
/// <reason>` (the session's `close_status()`) once the session is over.
pub fn flood_server<R: ServerRuntime>() -> ServerBuilder<R> {
    flood_endpoints(ready_server())
}

/// The endpoints of [`flood_server`] but the ready server's, added to
/// `builder`: mounted on their own next to the ready server's (in axum,
/// [`Axum`]), or on the ready server's builder. Their handlers run on any
/// executor.
pub fn flood_endpoints<R: Executor>(builder: ServerBuilder<R>) -> ServerBuilder<R> {
    let binary = |i: u64| {
        let mut message = vec![i as u8; FLOOD_MESSAGE];
        message[..8].copy_from_slice(&i.to_be_bytes());
        Message::Binary(Bytes::from(message))
    };
    let text = |i: u64| {
        Message::from(
            char::from(b'a' + (i % 26) as u8)
                .to_string()
                .repeat(FLOOD_MESSAGE),
        )
    };
    builder
        .websocket(
            "/flood/terminate",
            WebSocketEndpoint::new(move |s| flood(s, "terminate", None, binary))
                .send_buffer_size_limit(FLOOD_BUFFER),
        )
        .websocket(
            "/flood/drop-oldest",
            WebSocketEndpoint::new(move |s| flood(s, "drop-oldest", Some(FLOOD_WINDOW), binary))
                .send_buffer_size_limit(FLOOD_BUFFER)
                .overflow_strategy(OverflowStrategy::DropOldest),
        )
        .websocket(
            "/flood/stall",
            WebSocketEndpoint::new(move |s| flood(s, "stall", None, binary))
                .send_buffer_size_limit(FLOOD_BUFFER)
                .overflow_strategy(OverflowStrategy::DropOldest)
                .send_time_limit(FLOOD_SEND_TIME_LIMIT),
        )
        .sockjs(
            "/flood-sockjs",
            SockJsEndpoint::new(move |s| flood(s, "sockjs", None, text))
                .config(
                    SockJsConfig::default()
                        .session_cookie_needed(false)
                        .disconnect_delay(Duration::from_secs(1))
                        .stream_bytes_limit(1 << 30)
                        .send_buffer_size_limit(FLOOD_BUFFER),
                )
                .send_time_limit(FLOOD_SEND_TIME_LIMIT),
        )
        .sockjs(
            "/flood-sockjs-patient",
            SockJsEndpoint::new(move |s| flood(s, "sockjs-patient", None, text)).config(
                SockJsConfig::default()
                    .session_cookie_needed(false)
                    .disconnect_delay(Duration::from_secs(1))
                    .stream_bytes_limit(1 << 30)
                    .send_buffer_size_limit(FLOOD_BUFFER),
            ),
        )
        .websocket(
            "/small",
            WebSocketEndpoint::new(small_echo).config(
                WebSocketConfig::default()
                    .max_frame_size(SMALL_FRAME)
                    .max_message_size(SMALL_MESSAGE)
                    .max_buffered_input(SMALL_FRAME + 64 * 1024),
            ),
        )
}

/// The index of a binary message of the flooding endpoints: its first 8
/// bytes, big-endian (the rest is its low byte, repeated).
#[track_caller]
pub fn flood_index(message: &[u8]) -> u64 {
    assert_eq!(message.len(), FLOOD_MESSAGE, "a flooding message");
    let index = u64::from_be_bytes(message[..8].try_into().expect("8 bytes"));
    assert!(
        message[8..].iter().all(|&b| b == index as u8),
        "message {index}: its filling is not its own"
    );
    index
}

/// Sends `make(i)` for i = 0, 1, ... in bursts of [`FLOOD_BURST`] with a
/// 1 ms timer between them (about 250 MB/s at most), for `window` or until
/// a send fails; then waits for the end of the session. See
/// [`flood_server`] for the events. Runs on any executor.
///
/// A burst is a quarter of the send buffer, and the timer lets the
/// connection's writer run whatever the executor's scheduling: the buffer
/// overflows only once the writer is stuck (the client's and the server's
/// socket buffers full), not because the flood outran a writer that had
/// not been polled yet (which made "the connection is closed at the send
/// time limit" depend on how an executor schedules a task that yields).
async fn flood(
    mut session: Session,
    name: &'static str,
    window: Option<Duration>,
    make: fn(u64) -> Message,
) {
    event(format_args!("{name} opened"));
    #[allow(
        clippy::disallowed_methods,
        reason = "the handler's own clock, on whatever runtime serves it"
    )]
    let start = std::time::Instant::now();
    let mut sent = 0u64;
    let mut failures = 0u64;
    loop {
        if window.is_some_and(|w| start.elapsed() >= w) {
            event(format_args!(
                "{name} flooded sent={sent} failures={failures} open={}",
                session.is_open()
            ));
            let _ = session.send("done");
            break;
        }
        match session.send(make(sent)) {
            Ok(()) => sent += 1,
            Err(e) if window.is_some() => {
                failures += 1;
                event(format_args!("{name} failure {e:?}"));
            }
            Err(e) => {
                event(format_args!(
                    "{name} send-error {e:?} sent={sent} open={}",
                    session.is_open()
                ));
                break;
            }
        }
        if sent % FLOOD_BURST == 0 {
            crate::runtime::sleep(Duration::from_millis(1)).await;
        } else {
            crate::runtime::yield_now().await;
        }
    }
    while session.next().await.is_some() {}
    report_closed(name, &session);
}

fn report_closed(name: &str, session: &Session) {
    match session.close_status() {
        Some(status) => event(format_args!(
            "{name} closed {} {}",
            status.code, status.reason
        )),
        None => event(format_args!("{name} closed none")),
    }
}

/// Echoes; reports `small closed <code> <reason>` at the end.
async fn small_echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send(message).is_err() {
            break;
        }
    }
    while session.next().await.is_some() {}
    report_closed("small", &session);
}

// ---- the parent's side ------------------------------------------------------

/// A server in a child process: see the [module](self) documentation.
/// Dropping it ends the child.
#[derive(Debug)]
pub struct ChildServer {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<String>,
    /// Events received and not asked for yet.
    backlog: Vec<String>,
}

impl ChildServer {
    /// Runs the test `test` (the one that calls [`child_main`]) of the
    /// current test binary in a child process, serving `kind` as `M` says
    /// (on a runtime's own listener, or mounted in axum); returns once it
    /// listens.
    pub async fn spawn<M: ServerMode>(test: &str, kind: &str) -> Self {
        let exe = std::env::current_exe().expect("the test binary");
        let mut child = Command::new(exe)
            .args([
                test,
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, kind)
            .env(RUNTIME_ENV, M::MODE)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the child server starts");
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take();
        let (tx, events) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // The harness may have begun the line (`test child_server ... `).
                if let Some(at) = line.find("EVENT ") {
                    if tx.send(line[at + "EVENT ".len()..].to_owned()).is_err() {
                        break;
                    }
                }
            }
        });
        let mut server = Self {
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            events,
            backlog: Vec::new(),
        };
        let listening = server.event("listening ", Duration::from_secs(30)).await;
        server.addr = listening
            .trim_start_matches("listening ")
            .parse()
            .expect("an address");
        server
    }

    /// Where the child listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child's resident set (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// The descriptors the child has open; panics if `/proc` cannot tell
    /// (a bound checked against a count of 0 would pass whatever the
    /// child holds).
    pub fn open_fds(&self) -> usize {
        let dir = format!("/proc/{}/fd", self.pid());
        let fds = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot count the child's descriptors in {dir}: {e}"))
            .count();
        // Standard input, output and error, and the listener at least.
        assert!(fds >= 4, "{dir} lists {fds} descriptors: not the child's");
        fds
    }

    /// The first event that starts with `prefix` (received earlier and not
    /// yet taken, or within `limit`); panics after `limit`.
    pub async fn event(&mut self, prefix: &str, limit: Duration) -> String {
        if let Some(i) = self.backlog.iter().position(|e| e.starts_with(prefix)) {
            return self.backlog.remove(i);
        }
        let deadline = Instant::now() + limit;
        loop {
            let received = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "the child server did not report {prefix:?} within {limit:?} \
                         (events: {:?})",
                        self.backlog
                    )
                });
            match received {
                Some(event) if event.starts_with(prefix) => return event,
                Some(event) => self.backlog.push(event),
                None => panic!(
                    "the child server ended before reporting {prefix:?} (events: {:?})",
                    self.backlog
                ),
            }
        }
    }

    /// The child's SockJS sessions (open, or closed and not yet removed).
    pub async fn sockjs_sessions(&mut self) -> usize {
        let stdin = self.stdin.as_mut().expect("the child's input");
        stdin.write_all(b"sessions\n").expect("the child reads");
        stdin.flush().expect("the child reads");
        let answer = self.event("sessions ", Duration::from_secs(5)).await;
        answer
            .trim_start_matches("sessions ")
            .parse()
            .expect("a count")
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The resident set (`VmRSS`) of process `pid`, in KiB. Panics if `/proc`
/// cannot tell, or tells 0: a memory bound checked against a reading of 0
/// (before, during and after) would pass whatever the process holds.
pub fn rss_kib(pid: u32) -> u64 {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the memory of process {pid} in {path}: {e}"));
    let rss: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no VmRSS in {path}:\n{status}"));
    assert!(rss > 0, "{path}: VmRSS 0 kB, not a running process");
    rss
}

/// Samples the RSS of process `pid` every 10 ms while `future` runs;
/// returns its output and the largest sample (KiB).
pub async fn peak_rss<F: std::future::Future>(pid: u32, future: F) -> (F::Output, u64) {
    let mut peak = rss_kib(pid);
    tokio::pin!(future);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tokio::select! {
            output = &mut future => {
                peak = peak.max(rss_kib(pid));
                return (output, peak);
            }
            _ = tick.tick() => peak = peak.max(rss_kib(pid)),
        }
    }
}

/// Memory figures of a server, in KiB.
#[derive(Debug, Clone, Copy)]
pub struct Rss {
    /// Before the load.
    pub before: u64,
    /// The most during the load.
    pub peak: u64,
    /// After the load went.
    pub after: u64,
}

impl fmt::Display for Rss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RSS before {} KiB, peak {} KiB (+{} KiB), after {} KiB ({:+} KiB)",
            self.before,
            self.peak,
            self.peak.saturating_sub(self.before),
            self.after,
            i128::from(self.after) - i128::from(self.before),
        )
    }
}

/// Holds the lock of the heaviest tests (10,000 connections, which need
/// most of the test process's descriptors): they run one at a time, whatever
/// their runtime.
pub async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HEAVY.lock().await
}

/// Awaits `future` for at most `limit`; panics, naming `what`, when it takes
/// longer.
pub async fn within<F: std::future::Future>(limit: Duration, what: &str, future: F) -> F::Output {
    timeout(limit, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: not done within {limit:?}"))
}

/// Waits until `check` holds, polling every 5 ms; panics after `limit`.
pub async fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "{what}: not so within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---- raw HTTP ---------------------------------------------------------------

/// A response read off a raw connection.
#[derive(Debug, Clone)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The head, as sent.
    pub head: String,
    /// The body (by `Content-Length`; empty without).
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Reads one response head (and its `Content-Length` body) from `io`;
/// `buf` holds what was read past it. `None` if the connection ended (or
/// failed) first.
pub async fn read_response<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
) -> Option<RawResponse> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match io.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    buf.advance(end);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut response = RawResponse {
        status,
        head,
        body: Vec::new(),
    };
    let length: usize = response
        .header("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    while buf.len() < length {
        match io.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    response.body = buf.split_to(length).to_vec();
    Some(response)
}

/// How a connection ended, from the reading side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// End of file.
    Eof,
    /// Reset by the peer (or another read error).
    Reset,
}

/// Reads and drops everything until the connection ends; panics if it does
/// not within `limit`. Returns how it ended and how many bytes came first.
pub async fn read_until_closed<R: AsyncRead + Unpin>(io: &mut R, limit: Duration) -> (Ending, u64) {
    let mut total = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    let read = async {
        loop {
            match io.read(&mut buf).await {
                Ok(0) => return Ending::Eof,
                Ok(n) => total += n as u64,
                Err(_) => return Ending::Reset,
            }
        }
    };
    let ending = within(limit, "the connection to be closed", read).await;
    (ending, total)
}

/// `GET /echo/info` on a new connection: the server serves.
pub async fn get_info(addr: SocketAddr) -> RawResponse {
    within(Duration::from_secs(5), "GET /echo/info", async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("write");
        let mut buf = BytesMut::new();
        read_response(&mut tcp, &mut buf).await.expect("a response")
    })
    .await
}

/// A normal client is served: `/echo/info` answers 200 and a message sent
/// on `/ws` comes back.
pub async fn assert_serving(addr: SocketAddr) {
    let info = get_info(addr).await;
    assert_eq!(info.status, 200, "GET /echo/info: {}", info.head);
    assert!(
        String::from_utf8_lossy(&info.body).contains("\"websocket\""),
        "an /info body: {:?}",
        String::from_utf8_lossy(&info.body)
    );
    within(Duration::from_secs(5), "an echo over /ws", async {
        let (mut ws, _) = adapter_tokio::connect_url(&format!("ws://{addr}/ws"))
            .await
            .expect("a WebSocket to /ws");
        ws.send("still served").await.expect("send");
        let echo = ws.recv().await.expect("an echo").expect("an echo");
        assert_eq!(echo, Message::from("still served"));
        ws.close(adapter_core::CloseCode::NORMAL, "")
            .await
            .expect("close");
        while ws.recv().await.is_some() {}
    })
    .await;
}

// ---- raw WebSocket ----------------------------------------------------------

/// Opens a WebSocket to `path` by hand; returns the connection and what
/// came after the 101 head.
pub async fn ws_upgrade(addr: SocketAddr, path: &str) -> (TcpStream, BytesMut) {
    let mut tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut buf = BytesMut::new();
    let response = read_response(&mut tcp, &mut buf).await.expect("a 101");
    assert_eq!(response.status, 101, "upgrade to {path}: {}", response.head);
    (tcp, buf)
}

/// A client frame: `opcode`, FIN bit, masked with `mask` (an all-zero mask
/// is valid and leaves the payload as it is).
pub fn client_frame(opcode: u8, fin: bool, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut out = frame_header(opcode, fin, payload.len() as u64, Some(mask));
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    out
}

/// The header of a frame of `len` payload bytes (masked if `mask`).
pub fn frame_header(opcode: u8, fin: bool, len: u64, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    let m = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xffff {
        out.push(m | 0x7e);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 0x7f);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(mask) = mask {
        out.extend_from_slice(&mask);
    }
    out
}

/// A frame from the server.
#[derive(Debug, Clone)]
pub struct ServerFrame {
    /// FIN.
    pub fin: bool,
    /// The opcode.
    pub opcode: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

impl ServerFrame {
    /// The close code of a close frame.
    pub fn close_code(&self) -> Option<u16> {
        (self.opcode == 8 && self.payload.len() >= 2)
            .then(|| u16::from_be_bytes([self.payload[0], self.payload[1]]))
    }

    /// The close reason of a close frame.
    pub fn close_reason(&self) -> String {
        String::from_utf8_lossy(self.payload.get(2..).unwrap_or_default()).into_owned()
    }
}

/// Reads one (unmasked) server frame; `None` if the connection ended first.
pub async fn read_server_frame<R: AsyncRead + Unpin>(
    io: &mut R,
    buf: &mut BytesMut,
) -> Option<ServerFrame> {
    loop {
        if buf.len() >= 2 {
            let fin = buf[0] & 0x80 != 0;
            let opcode = buf[0] & 0x0f;
            let (len, at) = match buf[1] & 0x7f {
                126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
                127 if buf.len() >= 10 => (
                    u64::from_be_bytes(buf[2..10].try_into().expect("8 bytes")),
                    10,
                ),
                126 | 127 => (u64::MAX, 0),
                n => (u64::from(n), 2),
            };
            if at > 0 {
                let len = usize::try_from(len).expect("a frame that fits");
                if buf.len() >= at + len {
                    buf.advance(at);
                    let payload = buf.split_to(len).to_vec();
                    return Some(ServerFrame {
                        fin,
                        opcode,
                        payload,
                    });
                }
            }
        }
        match io.read_buf(buf).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_of_a_running_process_is_read() {
        // This test process: its binary and heap take megabytes.
        assert!(rss_kib(std::process::id()) > 1024);
    }

    #[test]
    #[should_panic(expected = "cannot read the memory of process")]
    fn the_memory_of_no_process_is_not_zero_but_a_failure() {
        // Above any pid_max (at most 2^22).
        rss_kib(u32::MAX);
    }
}
