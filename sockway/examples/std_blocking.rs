//! A SockJS server on nothing but `std`: blocking sockets and threads, no
//! async runtime. `server_proto` does the whole protocol (HTTP, SockJS,
//! WebSocket, every time limit) without I/O or a clock; this file is only
//! the sockets and the threads that drive it.
//!
//! ```text
//! cargo run -p sockway --no-default-features --example std_blocking -- 127.0.0.1:8082 --heartbeat-ms 25000
//! ```
//!
//! `/echo` echoes every message; `/close` closes each session with
//! `c[3000,"Go away!"]` as soon as it opens. Every SockJS transport is
//! served (websocket, xhr, xhr-streaming, eventsource, htmlfile, jsonp, raw
//! `/echo/websocket`).
//!
//! The threads:
//!
//! - per TCP connection, a thread that owns its [`Connection`]: it writes
//!   what the connection holds and waits on a condition variable for input,
//!   a wake (the connection's waker) or the connection's deadline;
//! - per TCP connection, a reader that hands it the socket's bytes, one
//!   chunk at a time;
//! - per echo session, a thread that reads the session and sends back;
//! - one timer thread for the server's deadline (SockJS heartbeats and
//!   session expiry).

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{self, ErrorKind, IoSlice, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::pin::pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant, SystemTime};

use sockway::http_proto::Limits;
use sockway::server_proto::{
    Attributes, Connection, EndpointId, Output, Server, ServerConfig, ServerOptions, Session,
    SockJsOptions, READ_CHUNK,
};
use sockway::sockjs_proto::{AllowedOrigins, SockJsConfig};
use sockway::ws_proto::CloseCode;

/// The largest request body: room for a 1 MiB message, JSON-escaped.
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// Open connections at most (two threads each).
const MAX_CONNECTIONS: usize = 1000;

/// The monotonic clock: the protocol crates take the time as an argument,
/// the embedder reads it.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A waker that unparks a thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future on this thread, parked while it is pending.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        thread::park();
    }
}

/// What the reader thread and the waker hand to a connection's thread.
#[derive(Default)]
struct Mail {
    /// Bytes read, at most one chunk: the reader waits until they are taken.
    data: Vec<u8>,
    eof: bool,
    woken: bool,
    /// The connection is over: the reader stops.
    closed: bool,
}

/// The mailbox of a connection's thread; as a waker, it rings the thread.
#[derive(Default)]
struct Doorbell {
    mail: Mutex<Mail>,
    bell: Condvar,
}

impl Doorbell {
    fn wait<'a>(&self, mail: MutexGuard<'a, Mail>, until: Option<Instant>) -> MutexGuard<'a, Mail> {
        match until {
            Some(at) => {
                let timeout = at.saturating_duration_since(now());
                let waited = self.bell.wait_timeout(mail, timeout);
                waited.unwrap_or_else(PoisonError::into_inner).0
            }
            None => self.bell.wait(mail).unwrap_or_else(PoisonError::into_inner),
        }
    }
}

impl Wake for Doorbell {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        lock(&self.mail).woken = true;
        self.bell.notify_all();
    }
}

/// Reads the socket into the doorbell until end of file (or an error).
fn read_socket(mut sock: TcpStream, door: &Doorbell) {
    let mut buf = vec![0; READ_CHUNK];
    loop {
        let mut mail = lock(&door.mail);
        while !mail.data.is_empty() && !mail.closed {
            mail = door.wait(mail, None);
        }
        if mail.closed {
            return;
        }
        drop(mail);
        let n = match sock.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        let mut mail = lock(&door.mail);
        mail.data.extend_from_slice(&buf[..n]);
        mail.eof = n == 0;
        door.bell.notify_all();
        if n == 0 {
            return;
        }
    }
}

/// Drives one connection until it is done.
fn serve(mut conn: Connection, mut sock: TcpStream, door: &Arc<Doorbell>, close: EndpointId) {
    let _ = sock.set_nodelay(true);
    let reader = sock.try_clone().and_then(|read_half| {
        let door = Arc::clone(door);
        thread::Builder::new().spawn(move || read_socket(read_half, &door))
    });
    if reader.is_err() {
        conn.abort(now());
    }
    // Bytes the reader gave that the connection has not taken yet.
    let mut input = Vec::new();
    let mut eof = false;
    let mut shut = false;
    loop {
        while let Some(output) = conn.poll_output(now()) {
            on_output(&mut conn, output, close);
        }
        if conn.is_done() {
            break;
        }
        if write_out(&mut sock, &mut conn).is_err() {
            conn.abort(now());
        }
        if conn.transmit_len() > 0 {
            continue; // the write timed out: the deadline was handled
        }
        if conn.transmit_len() == 0 && conn.wants_shutdown_write() && !shut {
            shut = true;
            let _ = sock.shutdown(Shutdown::Write);
        }
        if conn.wants_read() && !input.is_empty() {
            let n = conn.read_capacity().min(input.len());
            conn.handle_input(&input[..n], now());
            input.drain(..n);
            continue;
        }
        if conn.wants_read() && eof {
            conn.handle_eof(now());
            continue;
        }
        // Wait for bytes (if the connection reads), a wake or the deadline.
        // (Nothing that locks the mail is called with the mail locked: the
        // connection's calls may wake its own waker.)
        let (reads, deadline) = (conn.wants_read(), conn.poll_timeout());
        let mut mail = lock(&door.mail);
        while !mail.woken
            && !(reads && (!mail.data.is_empty() || mail.eof))
            && deadline.is_none_or(|at| now() < at)
        {
            mail = door.wait(mail, deadline);
        }
        mail.woken = false;
        if reads {
            input = std::mem::take(&mut mail.data);
            eof = mail.eof;
            door.bell.notify_all();
        }
        drop(mail);
        if deadline.is_some_and(|at| at <= now()) {
            conn.handle_timeout(now());
        }
    }
    let _ = sock.shutdown(Shutdown::Both);
    lock(&door.mail).closed = true;
    door.bell.notify_all();
    if let Ok(reader) = reader {
        let _ = reader.join();
    }
}

/// Writes what the connection holds, blocking until it is out or the
/// connection's deadline (then handled: a client that does not read is
/// given up on).
fn write_out(sock: &mut TcpStream, conn: &mut Connection) -> io::Result<()> {
    while conn.transmit_len() > 0 {
        let limit = conn.poll_timeout().map_or(Duration::from_secs(1), |at| {
            at.saturating_duration_since(now())
        });
        sock.set_write_timeout(Some(limit.max(Duration::from_millis(1))))?;
        let written = {
            let mut slices = [IoSlice::new(&[]); 16];
            let n = conn.transmit_slices(&mut slices);
            sock.write_vectored(&slices[..n])
        };
        match written {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => conn.consume(n, now()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                conn.handle_timeout(now());
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The application: no interceptor (every session is accepted), `/close`
/// closes its sessions at once, `/echo` gets a thread per session.
fn on_output(conn: &mut Connection, output: Output, close: EndpointId) {
    match output {
        Output::Incoming(incoming) => conn.accept(incoming, Attributes::default(), now()),
        Output::Opened(session) if session.endpoint() == close => {
            let _ = session.close(CloseCode::GO_AWAY, "Go away!");
        }
        Output::Opened(session) => {
            // (Without a thread, the session is dropped: it still works,
            // and what its client sends is dropped.)
            let _ = thread::Builder::new().spawn(move || echo(session));
        }
        _ => {}
    }
}

/// Echoes every message, at the client's pace, until the session ends.
fn echo(mut session: Session) {
    while let Some(message) = block_on(session.recv()) {
        if block_on(session.send_async(message)).is_err() {
            break;
        }
    }
}

/// Sleeps until the server's deadline (heartbeats, expiry) and handles it,
/// for ever; woken early when an earlier deadline appears.
fn run_timer(server: &Server) {
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    loop {
        let now = now();
        match server.poll_timeout(Some(&waker)) {
            Some(at) if at <= now => server.handle_timeout(now),
            Some(at) => thread::park_timeout(at - now),
            None => thread::park(),
        }
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> io::Result<()> {
    let usage = || -> ! {
        eprintln!("usage: std_blocking [ADDR (127.0.0.1:8082)] [--heartbeat-ms N (25000)]");
        std::process::exit(2)
    };
    let (mut addr, mut heartbeat_ms) = (None, 25_000);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--heartbeat-ms" {
            heartbeat_ms = args
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage());
        } else if addr.is_none() && !arg.starts_with('-') {
            addr = Some(arg);
        } else {
            usage();
        }
    }
    let sockjs = SockJsOptions::default().config(
        SockJsConfig::default()
            .stream_bytes_limit(4096)
            .session_cookie_needed(false)
            .allowed_origins(AllowedOrigins::Any)
            .heartbeat_time(Duration::from_millis(heartbeat_ms)),
    );
    let mut config = ServerConfig::new(
        ServerOptions::default()
            .http_limits(Limits::default().max_body_size(MAX_BODY))
            .max_connections(MAX_CONNECTIONS),
    );
    config.sockjs("/echo", sockjs.clone());
    let close = config.sockjs("/close", sockjs);
    // The SockJS `/info` entropy, seeded from std's per-process random keys.
    let seed = RandomState::new().build_hasher().finish();
    #[allow(clippy::disallowed_methods)]
    let server = Server::new(config, seed, now(), SystemTime::now()).map_err(io::Error::other)?;
    let timer = Arc::clone(&server);
    thread::spawn(move || run_timer(&timer));

    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:8082"))?;
    println!("listening on http://{}", listener.local_addr()?);
    for sock in listener.incoming() {
        let sock = match sock {
            Ok(sock) => sock,
            Err(e) => {
                eprintln!("accept: {e}"); // out of file descriptors, say
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let Ok(peer) = sock.peer_addr() else {
            continue; // gone already
        };
        if server.connections() >= server.options().connection_limit() {
            continue; // dropped: closed at once
        }
        let door = Arc::new(Doorbell::default());
        let conn = server.connection(peer, now(), Waker::from(Arc::clone(&door)));
        let spawned = thread::Builder::new().spawn(move || serve(conn, sock, &door, close));
        if let Err(e) = spawned {
            eprintln!("spawn: {e}");
        }
    }
    Ok(())
}
