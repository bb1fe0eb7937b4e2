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
//! Each connection and each echo session has a token. Their wakers (the
//! connection's, given to [`Server::connection`], and the one a session is
//! polled with) put the token in a shared set and wake the poll through a
//! [`mio::Waker`]; the loop then drives what is in the set, what the poll
//! reported, and what is past its deadline. The poll sleeps until the
//! earliest deadline: the server's (heartbeats, expiry) or a connection's.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{self, ErrorKind, IoSlice, Read as _, Write as _};
use std::net::Shutdown;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll as TaskPoll, Wake, Waker};
use std::time::{Duration, Instant, SystemTime};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use sockway::http_proto::Limits;
use sockway::server_proto::{
    Attributes, Connection, EndpointId, Output, Server, ServerConfig, ServerOptions, Session,
    SockJsOptions, READ_CHUNK,
};
use sockway::sockjs_proto::{AllowedOrigins, Config};
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

/// The monotonic clock: the protocol crates take the time as an argument,
/// the embedder reads it.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// The tokens woken since the loop last looked, and the poll's waker.
struct Woken {
    tokens: Mutex<HashSet<usize>>,
    poll: mio::Waker,
}

/// The waker of one token.
struct TokenWaker {
    token: usize,
    woken: Arc<Woken>,
}

impl Wake for TokenWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let fresh = (self.woken.tokens.lock())
            .unwrap_or_else(PoisonError::into_inner)
            .insert(self.token);
        if fresh {
            let _ = self.woken.poll.wake();
        }
    }
}

/// What a token stands for.
enum Entry {
    Conn {
        sock: TcpStream,
        /// Boxed: a connection's state is much bigger than an echo's.
        conn: Box<Connection>,
        shut: bool,
    },
    Echo(Session, Waker),
}

struct Loop {
    server: Arc<Server>,
    close: EndpointId,
    woken: Arc<Woken>,
    entries: HashMap<usize, Entry>,
    next: usize,
    buf: Vec<u8>,
}

impl Loop {
    fn waker(&self, token: usize) -> Waker {
        let woken = Arc::clone(&self.woken);
        Waker::from(Arc::new(TokenWaker { token, woken }))
    }

    fn accept(&mut self, listener: &TcpListener, poll: &Poll) {
        loop {
            let (mut sock, peer) = match listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return, // out of file descriptors, say: the next event retries
            };
            if self.server.connections() >= self.server.options().connection_limit() {
                continue; // dropped: closed at once
            }
            let token = self.next;
            self.next += 1;
            let interest = Interest::READABLE | Interest::WRITABLE;
            if poll
                .registry()
                .register(&mut sock, Token(token), interest)
                .is_err()
            {
                continue;
            }
            let _ = sock.set_nodelay(true);
            let conn = Box::new(self.server.connection(peer, now(), self.waker(token)));
            let shut = false;
            self.entries.insert(token, Entry::Conn { sock, conn, shut });
            self.drive(token);
        }
    }

    /// Does what `token`'s connection or session can do now.
    fn drive(&mut self, token: usize) {
        let Some(mut entry) = self.entries.remove(&token) else {
            return; // gone: a late wake
        };
        let alive = match &mut entry {
            Entry::Conn { sock, conn, shut } => self.drive_conn(token, sock, conn, shut),
            Entry::Echo(session, waker) => echo(session, waker),
        };
        if alive {
            self.entries.insert(token, entry);
        }
    }

    /// Reads and writes until the socket would block; `false` once the
    /// connection is done.
    fn drive_conn(
        &mut self,
        token: usize,
        sock: &mut TcpStream,
        conn: &mut Connection,
        shut: &mut bool,
    ) -> bool {
        for _ in 0..ROUNDS {
            while let Some(output) = conn.poll_output(now()) {
                self.on_output(conn, output);
            }
            if conn.is_done() {
                let _ = sock.shutdown(Shutdown::Both);
                return false;
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
                let n = conn.read_capacity().min(self.buf.len());
                let read = sock.read(&mut self.buf[..n]);
                match &read {
                    Ok(0) => conn.handle_eof(now()),
                    Ok(n) => conn.handle_input(&self.buf[..*n], now()),
                    Err(e)
                        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                    Err(_) => conn.abort(now()),
                }
                progress |= !matches!(&read, Err(e) if e.kind() == ErrorKind::WouldBlock);
            }
            if !progress {
                return true;
            }
        }
        // Its turn is over; it goes on at the next one.
        self.waker(token).wake();
        true
    }

    /// The application: no interceptor (every session is accepted),
    /// `/close` closes its sessions at once, `/echo` sessions get a token.
    fn on_output(&mut self, conn: &mut Connection, output: Output) {
        match output {
            Output::Incoming(incoming) => conn.accept(incoming, Attributes::default(), now()),
            Output::Opened(session) if session.endpoint() == self.close => {
                let _ = session.close(CloseCode::GO_AWAY, "Go away!");
            }
            Output::Opened(session) => {
                let token = self.next;
                self.next += 1;
                let waker = self.waker(token);
                self.entries.insert(token, Entry::Echo(session, waker));
                // Polled once now, so that its waker is registered.
                self.waker(token).wake();
            }
            _ => {}
        }
    }
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
        Config::default()
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
    let woken = Arc::new(Woken {
        tokens: Mutex::default(),
        poll: mio::Waker::new(poll.registry(), WAKER)?,
    });
    let mut lp = Loop {
        server,
        close,
        woken,
        entries: HashMap::new(),
        next: 2,
        buf: vec![0; READ_CHUNK],
    };
    let timer = lp.waker(WAKER.0);
    println!("listening on http://{}", listener.local_addr()?);

    let mut events = Events::with_capacity(1024);
    loop {
        let server_at = lp.server.poll_timeout(Some(&timer));
        let conns = lp.entries.values().filter_map(|entry| match entry {
            Entry::Conn { conn, .. } => conn.poll_timeout(),
            Entry::Echo(..) => None,
        });
        let deadline = conns.chain(server_at).min();
        let timeout = deadline.map(|at| at.saturating_duration_since(now()));
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let mut ready: Vec<usize> = {
            let mut tokens = lp
                .woken
                .tokens
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            tokens.drain().collect()
        };
        for event in &events {
            match event.token() {
                LISTENER => lp.accept(&listener, &poll),
                WAKER => {}
                Token(token) => ready.push(token),
            }
        }
        let now = now();
        if server_at.is_some_and(|at| at <= now) {
            lp.server.handle_timeout(now);
        }
        ready.extend(lp.entries.iter().filter_map(|(token, entry)| match entry {
            Entry::Conn { conn, .. } if conn.poll_timeout().is_some_and(|at| at <= now) => {
                Some(*token)
            }
            _ => None,
        }));
        ready.sort_unstable();
        ready.dedup();
        for token in ready {
            lp.drive(token);
        }
    }
}
