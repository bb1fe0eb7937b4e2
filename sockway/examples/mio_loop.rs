//! A SockJS server on one thread: a `mio` poll loop drives every
//! connection and every session. `server_proto` does the whole protocol
//! (HTTP, SockJS, WebSocket, every time limit) without I/O or a clock;
//! this file is only the sockets and the loop.
//!
//! ```text
//! cargo run -p sockway --no-default-features --example mio_loop -- 127.0.0.1:8082 --heartbeat-ms 25000
//! ```
//!
//! It serves what `std_blocking` serves: `/echo` echoes every message;
//! `/close` closes each session with `c[3000,"Go away!"]` as soon as it
//! opens; every SockJS transport.
//!
//! The whole server is one [`Host`]: the shared `Server`, its connections
//! by [`ConnId`], the queue of what woke (a connection, or an echo session
//! polled with a [`Host::task_waker`]) and one deadline over all of them.
//! The poll's token of a connection is its `ConnId` plus 2; the host's
//! notify wakes the poll through a [`mio::Waker`].

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{self, ErrorKind, IoSlice, Read as _, Write as _};
use std::net::Shutdown;
use std::sync::Arc;
use std::task::{Context, Poll as TaskPoll, Waker};
use std::time::{Duration, Instant, SystemTime};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockway::http_proto::Limits;
use sockway::server_proto::{
    Attributes, ConnId, Connection, EndpointId, Host, Output, Server, ServerConfig, ServerOptions,
    Session, SockJsOptions, Woken, READ_CHUNK,
};
use sockway::sockjs_proto::{AllowedOrigins, SockJsConfig};
use sockway::ws_proto::CloseCode;

/// The largest request body: room for a 1 MiB message, JSON-escaped.
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// Open connections at most.
const MAX_CONNECTIONS: usize = 10_000;
const LISTENER: Token = Token(0);
/// The [`mio::Waker`]'s token; in the set of woken tokens, the server's timer.
const WAKER: Token = Token(1);
/// How many rounds of reading and writing one connection gets before the
/// others have their turn.
const ROUNDS: usize = 64;
/// How many times the loop takes what woke (and drives it) before it
/// polls the sockets again.
const WAKE_ROUNDS: usize = 16;

/// The monotonic clock: the protocol crates take the time as an argument,
/// the embedder reads it.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// A connection's socket.
struct Socket {
    sock: TcpStream,
    /// The write side was shut.
    shut: bool,
}

struct Loop {
    host: Host,
    close: EndpointId,
    sockets: HashMap<ConnId, Socket>,
    /// The echo sessions, by the number of their task waker.
    echoes: HashMap<usize, (Session, Waker)>,
    /// Connections whose turn ended with more to do.
    again: Vec<ConnId>,
    next: usize,
    buf: Vec<u8>,
}

/// A connection's token in the poll.
fn token(id: ConnId) -> Token {
    Token(id.0 + 2)
}

impl Loop {
    fn accept(&mut self, listener: &TcpListener, poll: &Poll) {
        loop {
            let (mut sock, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return, // out of file descriptors, say: the next event retries
            };
            let server = self.host.server();
            if server.connections() >= server.options().connection_limit() {
                continue; // dropped: closed at once
            }
            let id = self.host.connect(peer, now());
            let interest = Interest::READABLE | Interest::WRITABLE;
            if poll
                .registry()
                .register(&mut sock, token(id), interest)
                .is_err()
            {
                self.host.remove(id);
                continue;
            }
            let _ = sock.set_nodelay(true);
            self.sockets.insert(id, Socket { sock, shut: false });
            self.drive(id);
        }
    }

    /// Does what a connection can do now; closes it once it is done.
    fn drive(&mut self, id: ConnId) {
        let (Some(conn), Some(socket)) = (self.host.connection(id), self.sockets.get_mut(&id))
        else {
            return; // gone: a late wake
        };
        let mut opened = Vec::new();
        match drive_conn(conn, socket, &mut self.buf, &mut opened) {
            Turn::Idle => {}
            Turn::More => self.again.push(id),
            Turn::Done => {
                let _ = socket.sock.shutdown(Shutdown::Both);
                self.sockets.remove(&id);
                self.host.remove(id);
            }
        }
        for session in opened {
            self.open(session);
        }
    }

    /// The application: `/close` closes its sessions at once, `/echo`
    /// sessions get a task of the host.
    fn open(&mut self, session: Session) {
        if session.endpoint() == self.close {
            let _ = session.close(CloseCode::GO_AWAY, "Go away!");
            return;
        }
        let task = self.next;
        self.next += 1;
        let waker = self.host.task_waker(task);
        // Polled once now, so that its waker is registered.
        waker.wake_by_ref();
        self.echoes.insert(task, (session, waker));
    }

    /// Runs an echo session's task; drops it once the session ended.
    fn echo(&mut self, task: usize) {
        let Some((session, waker)) = self.echoes.get_mut(&task) else {
            return;
        };
        if !echo(session, waker) {
            self.echoes.remove(&task);
        }
    }
}

/// How a connection's turn ended.
enum Turn {
    /// The socket would block: the next event, wake or deadline drives it.
    Idle,
    /// Its rounds were used up with more to do.
    More,
    Done,
}

/// Reads and writes until the socket would block, handing out the
/// sessions that open.
fn drive_conn(
    conn: &mut Connection,
    socket: &mut Socket,
    buf: &mut [u8],
    opened: &mut Vec<Session>,
) -> Turn {
    let Socket { sock, shut } = socket;
    for _ in 0..ROUNDS {
        while let Some(output) = conn.poll_output(now()) {
            match output {
                // No interceptor: every session is accepted.
                Output::Incoming(incoming) => {
                    conn.accept(incoming, Attributes::default(), now());
                }
                Output::Opened(session) => opened.push(session),
                _ => {}
            }
        }
        if conn.is_done() {
            return Turn::Done;
        }
        let mut progress = false;
        while conn.transmit_len() > 0 {
            let written = {
                let mut slices = [IoSlice::new(&[]); 16];
                let n = conn.transmit_slices(&mut slices);
                sock.write_vectored(&slices[..n])
            };
            match written {
                Ok(n) if n > 0 => conn.consume(n, now()),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                _ => conn.abort(now()),
            }
            progress = true;
        }
        if conn.transmit_len() == 0 && conn.wants_shutdown_write() && !*shut {
            *shut = true;
            let _ = sock.shutdown(Shutdown::Write);
        }
        if conn.wants_read() {
            let n = conn.read_capacity().min(buf.len());
            let read = sock.read(&mut buf[..n]);
            match &read {
                Ok(0) => conn.handle_eof(now()),
                Ok(n) => conn.handle_input(&buf[..*n], now()),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(_) => conn.abort(now()),
            }
            progress |= !matches!(&read, Err(e) if e.kind() == ErrorKind::WouldBlock);
        }
        if !progress {
            return Turn::Idle;
        }
    }
    Turn::More
}

/// Echoes what the session received; `false` once it ended.
fn echo(session: &mut Session, waker: &Waker) -> bool {
    let mut cx = Context::from_waker(waker);
    loop {
        match session.poll_recv(&mut cx) {
            TaskPoll::Ready(Some(message)) => {
                // A send never waits: over the send buffer's limit, the
                // session closes (the loop has no producer to slow down).
                let _ = session.send(message);
            }
            TaskPoll::Ready(None) => return false,
            TaskPoll::Pending => return true,
        }
    }
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> io::Result<()> {
    let usage = || -> ! {
        eprintln!("usage: mio_loop [ADDR (127.0.0.1:8082)] [--heartbeat-ms N (25000)]");
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
    let addr = addr.as_deref().unwrap_or("127.0.0.1:8082");
    let addr = std::net::ToSocketAddrs::to_socket_addrs(addr)?
        .next()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address"))?;
    serve(addr, heartbeat_ms)
}

/// Serves on `addr` until the process is stopped.
#[allow(clippy::print_stdout)]
fn serve(addr: std::net::SocketAddr, heartbeat_ms: u64) -> io::Result<()> {
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

    let mut poll = Poll::new()?;
    let mut listener = TcpListener::bind(addr)?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let notify = Arc::new(mio::Waker::new(poll.registry(), WAKER)?);
    let mut lp = Loop {
        host: Host::new(server, move || {
            let _ = notify.wake();
        }),
        close,
        sockets: HashMap::new(),
        echoes: HashMap::new(),
        again: Vec::new(),
        next: 0,
        buf: vec![0; READ_CHUNK],
    };
    println!("listening on http://{}", listener.local_addr()?);

    let mut events = Events::with_capacity(1024);
    loop {
        // Waits only with nothing queued; from then on, a wake-up
        // notifies (wakes made while the loop runs call no notify).
        let timeout = if lp.again.is_empty() && lp.host.prepare_wait() {
            lp.host
                .poll_timeout()
                .map(|at| at.saturating_duration_since(now()))
        } else {
            Some(Duration::ZERO)
        };
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let mut ready = std::mem::take(&mut lp.again);
        for event in &events {
            match event.token() {
                LISTENER => lp.accept(&listener, &poll),
                WAKER => {}
                Token(t) => ready.push(ConnId(t - 2)),
            }
        }
        // Deadlines: the server's, and those of connections (queued).
        lp.host.handle_timeout(now());
        // What woke, and what that wakes in turn (a connection's input
        // wakes its echo, whose send wakes the connection), before the
        // next poll; a bounded number of rounds, so sockets get their turn.
        for _ in 0..WAKE_ROUNDS {
            while let Some(woken) = lp.host.poll_woken() {
                match woken {
                    Woken::Connection(id) => ready.push(id),
                    Woken::Task(task) => lp.echo(task),
                    _ => {}
                }
            }
            if ready.is_empty() {
                break;
            }
            ready.sort_unstable();
            ready.dedup();
            for id in ready.drain(..) {
                lp.drive(id);
            }
        }
        lp.again.append(&mut ready);
    }
}
