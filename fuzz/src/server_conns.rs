//! `server_conns`: one `server_proto::Server` (a SockJS endpoint, a plain
//! WebSocket endpoint and a page, with small limits) and up to four
//! connections, driven by an arbitrary sequence of [`Op`]s decoded with
//! `arbitrary`: connections opened, fed (well-formed requests and frames
//! from a small vocabulary, or arbitrary bytes), read in part or in full,
//! ended, aborted and dropped; staged requests accepted or refused; the
//! application receiving, sending (with `send`), closing and dropping its
//! sessions; time moving; the server shutting down.
//!
//! Input layout: `[ops...]`. Connections are driven as the `Connection`
//! docs say: fed only while `wants_read()`, at most `read_capacity()` bytes
//! (or into `read_buffer()`), drained with `poll_output`, dropped once
//! `is_done()`. After every op these must hold:
//!
//! - nothing panics;
//! - `transmit_slices` covers exactly `transmit_len()` bytes, and
//!   `transmit()` is their first slice;
//! - `read_capacity() >= 1` whenever `wants_read()`;
//! - a connection that `is_done()` has nothing to write;
//! - no connection holds more than [`MAX_PENDING`] bytes to write (the
//!   stream and WebSocket write limits, one message and a close frame, with
//!   room to spare);
//! - after `handle_timeout(now)`, a connection's `poll_timeout()` is `None`
//!   or later than `now`, and so is the server's after its own
//!   `handle_timeout(now)`: nothing is left due, so no driver spins;
//! - the bytes a connection wrote, on connections fed only from the
//!   vocabulary, read as HTTP/1.1 responses one after another (see
//!   `http_wire`): heads that parse, bodies framed as they say, nothing
//!   after a response that closes, until a `101`; a response may be cut
//!   short only on a connection that ended;
//! - nothing accepted is lost: every message a plain WebSocket session's
//!   `send` took, on a session still open at the end, reaches the client
//!   in order once the connection is read out.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use arbitrary::{Arbitrary, Unstructured};
use server_proto::sockjs_proto::{AllowedOrigins, SockJsConfig};
use server_proto::ws_proto::{self, CloseCode, Message};
use server_proto::{
    Attributes, Connection, Output, Rejection, Server, ServerConfig, ServerOptions, Session,
    SockJsOptions, WebSocketOptions,
};

use crate::http_wire;

/// The most bytes a connection may hold to write.
pub const MAX_PENDING: usize = 512 * 1024;
const SLOTS: usize = 4;
const PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40_000);

#[derive(Debug, Arbitrary)]
enum Op {
    Open,
    /// A request from the vocabulary, for session `s<session % 4>`.
    Request {
        conn: u8,
        which: u8,
        session: u8,
    },
    /// A masked client frame: text (or binary) of `len` bytes, or a close.
    Frame {
        conn: u8,
        kind: u8,
        len: u8,
    },
    /// Arbitrary bytes.
    Bytes {
        conn: u8,
        data: Vec<u8>,
    },
    Eof {
        conn: u8,
    },
    Abort {
        conn: u8,
    },
    Drop {
        conn: u8,
    },
    /// Reads `n` bytes of what the connection has to write (0: all).
    Read {
        conn: u8,
        n: u16,
    },
    Advance {
        ms: u16,
    },
    /// Staged requests from now on: accepted, or refused.
    Policy {
        refuse: bool,
    },
    Recv,
    Send {
        session: u8,
        len: u8,
    },
    Close {
        session: u8,
        code: u16,
    },
    DropSession {
        session: u8,
    },
    Shutdown,
}

/// A request of the vocabulary.
fn request(which: u8, session: u8) -> Vec<u8> {
    let s = format!("/echo/000/s{}", session % 4);
    let host = "Host: localhost\r\n";
    let up = "Upgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\n{host}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let get = |path: &str| format!("GET {path} HTTP/1.1\r\n{host}\r\n");
    match which % 16 {
        0 => get("/echo/info"),
        1 => post(&format!("{s}/xhr"), ""),
        2 => post(&format!("{s}/xhr_send"), "[\"x\",\"y\"]"),
        3 => post(&format!("{s}/xhr_streaming"), ""),
        4 => get(&format!("{s}/eventsource")),
        5 => format!("GET {s}/websocket HTTP/1.1\r\n{host}{up}\r\n"),
        6 => format!("GET /ws HTTP/1.1\r\n{host}{up}\r\n"),
        7 => format!(
            "OPTIONS {s}/xhr HTTP/1.1\r\n{host}Origin: http://a.example\r\n\
             Access-Control-Request-Method: POST\r\n\r\n"
        ),
        8 => get("/"),
        9 => get(&format!("{s}/htmlfile?c=cb")),
        10 => get(&format!("{s}/jsonp?c=cb")),
        11 => format!(
            "POST {s}/jsonp_send HTTP/1.1\r\n{host}\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nd=%5B%22z%22"
        ),
        12 => "GET / HTTP/1.0\r\n\r\n".to_owned(),
        13 => format!("GET /echo/websocket HTTP/1.1\r\n{host}{up}\r\n"),
        14 => format!(
            "POST {s}/xhr_send HTTP/1.1\r\n{host}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n[\"e\"]"
        ),
        _ => get("/echo/iframe.html"),
    }
    .into_bytes()
}

/// A masked client frame.
fn frame(kind: u8, len: u8) -> Vec<u8> {
    let mut client =
        ws_proto::Connection::client(ws_proto::WebSocketConfig::default(), || [7, 1, 3, 5]);
    let _ = match kind % 4 {
        0 => client.send_text(&"a".repeat(usize::from(len))),
        1 => client.send_binary(&vec![0xAB; usize::from(len)]),
        2 => client.ping(&[1; 4]),
        _ => client.close(Some(CloseCode::NORMAL), "bye"),
    };
    std::iter::from_fn(|| client.poll_transmit())
        .flat_map(|b| b.to_vec())
        .collect()
}

struct Slot {
    conn: Connection,
    /// Everything it wrote that was read.
    wire: Vec<u8>,
    /// Fed bytes outside the vocabulary: its responses are not checked.
    raw: bool,
    /// Messages its plain WebSocket session's `send` took.
    accepted: Vec<String>,
    /// The plain WebSocket session it opened, by index in `sessions`.
    ws_session: Option<usize>,
}

struct App {
    session: Session,
    /// The connection slot of a plain WebSocket session.
    slot: Option<usize>,
    sent: usize,
}

struct Harness {
    server: std::sync::Arc<Server>,
    slots: Vec<Option<Slot>>,
    sessions: Vec<Option<App>>,
    now: Instant,
    refuse: bool,
}

fn server(now: Instant) -> std::sync::Arc<Server> {
    let mut config = ServerConfig::new(
        ServerOptions::default()
            .request_timeout(Duration::from_secs(3))
            .keep_alive_timeout(Duration::from_secs(5))
            .shutdown_timeout(Duration::from_secs(4))
            .linger(Duration::from_millis(500))
            .http_limits(server_proto::http_proto::Limits::default().max_body_size(4096)),
    );
    config.sockjs(
        "/echo",
        SockJsOptions::default()
            .config(
                SockJsConfig::default()
                    .session_cookie_needed(false)
                    .allowed_origins(AllowedOrigins::Any)
                    .heartbeat_time(Duration::from_millis(700))
                    .disconnect_delay(Duration::from_millis(1_500))
                    .stream_bytes_limit(2048)
                    .http_message_cache_size(4),
            )
            .inbox_limit(64)
            .handler_wait(Duration::from_millis(300))
            .send_time_limit(Duration::from_secs(2)),
    );
    config.websocket(
        "/ws",
        WebSocketOptions::default()
            .config(
                ws_proto::WebSocketConfig::default()
                    .max_message_size(1024)
                    .max_frame_size(1024)
                    .ping_interval(Duration::from_millis(900))
                    .pong_timeout(Duration::from_millis(600))
                    .close_timeout(Duration::from_millis(800)),
            )
            .send_buffer_size_limit(2048)
            .send_time_limit(Duration::from_secs(2)),
    );
    config.page("/", "text/plain", "hello");
    Server::new(config, 1, now, SystemTime::UNIX_EPOCH).expect("a server")
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < 200 {
        match Op::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    #[allow(clippy::disallowed_methods)] // a base instant; time moves by hand
    let now = Instant::now();
    let mut h = Harness {
        server: server(now),
        slots: Vec::new(),
        sessions: Vec::new(),
        now,
        refuse: false,
    };
    let debug = std::env::var_os("SERVER_CONNS_DEBUG").is_some();
    for op in &ops {
        if debug {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{op:?}");
            }
        }
        h.apply(op);
        h.drain();
    }
    h.finish();
}

impl Harness {
    fn slot(&mut self, conn: u8) -> Option<usize> {
        let live: Vec<usize> = (0..self.slots.len())
            .filter(|&i| self.slots[i].is_some())
            .collect();
        (!live.is_empty()).then(|| live[usize::from(conn) % live.len()])
    }

    fn feed(&mut self, i: usize, bytes: &[u8], raw: bool) {
        let now = self.now;
        let Some(slot) = self.slots[i].as_mut() else {
            return;
        };
        slot.raw |= raw;
        let mut rest = bytes;
        while !rest.is_empty() && slot.conn.wants_read() {
            let cap = slot.conn.read_capacity();
            assert!(cap >= 1, "wants_read with a read capacity of 0");
            if let Some((buf, want)) = slot.conn.read_buffer() {
                let n = rest.len().min(want);
                buf.extend_from_slice(&rest[..n]);
                slot.conn.handle_read(want, n, now);
                rest = &rest[n..];
            } else {
                let n = rest.len().min(cap);
                slot.conn.handle_input(&rest[..n], now);
                rest = &rest[n..];
            }
        }
    }

    fn read(&mut self, i: usize, n: usize) {
        let now = self.now;
        let Some(slot) = self.slots[i].as_mut() else {
            return;
        };
        let mut left = if n == 0 { usize::MAX } else { n };
        while left > 0 && slot.conn.transmit_len() > 0 {
            let chunk = slot.conn.transmit();
            let take = chunk.len().min(left);
            slot.wire.extend_from_slice(&chunk[..take]);
            slot.conn.consume(take, now);
            left -= take;
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Open => {
                if self.slots.iter().flatten().count() < SLOTS {
                    let conn = self.server.connection(PEER, self.now, futures_noop());
                    self.slots.push(Some(Slot {
                        conn,
                        wire: Vec::new(),
                        raw: false,
                        accepted: Vec::new(),
                        ws_session: None,
                    }));
                }
            }
            Op::Request {
                conn,
                which,
                session,
            } => {
                if let Some(i) = self.slot(conn) {
                    self.feed(i, &request(which, session), false);
                }
            }
            Op::Frame { conn, kind, len } => {
                if let Some(i) = self.slot(conn) {
                    self.feed(i, &frame(kind, len), false);
                }
            }
            Op::Bytes { conn, ref data } => {
                if let Some(i) = self.slot(conn) {
                    self.feed(i, data, true);
                }
            }
            Op::Eof { conn } => {
                if let Some(i) = self.slot(conn) {
                    let now = self.now;
                    if let Some(s) = self.slots[i].as_mut() {
                        s.conn.handle_eof(now);
                    }
                }
            }
            Op::Abort { conn } => {
                if let Some(i) = self.slot(conn) {
                    let now = self.now;
                    if let Some(s) = self.slots[i].as_mut() {
                        s.conn.abort(now);
                    }
                }
            }
            Op::Drop { conn } => {
                if let Some(i) = self.slot(conn) {
                    self.end(i);
                }
            }
            Op::Read { conn, n } => {
                if let Some(i) = self.slot(conn) {
                    self.read(i, usize::from(n));
                }
            }
            Op::Advance { ms } => self.advance(Duration::from_millis(u64::from(ms % 4000))),
            Op::Policy { refuse } => self.refuse = refuse,
            Op::Recv => self.recv(),
            Op::Send { session, len } => self.send(session, len),
            Op::Close { session, code } => {
                if let Some(Some(app)) = self.pick(session) {
                    let _ = app.session.close(code, "fuzz");
                }
            }
            Op::DropSession { session } => {
                let n = self.sessions.len();
                if n > 0 {
                    let i = usize::from(session) % n;
                    if let Some(app) = self.sessions[i].take() {
                        if let Some(slot) = app.slot.and_then(|s| self.slots[s].as_mut()) {
                            slot.ws_session = None;
                        }
                    }
                }
            }
            Op::Shutdown => self.server.shutdown(self.now),
        }
    }

    fn pick(&mut self, session: u8) -> Option<&mut Option<App>> {
        let n = self.sessions.len();
        (n > 0).then(|| &mut self.sessions[usize::from(session) % n])
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        let now = self.now;
        if self.server.poll_timeout(None).is_some_and(|at| at <= now) {
            self.server.handle_timeout(now);
            let next = self.server.poll_timeout(None);
            assert!(
                next.is_none_or(|at| at > now),
                "the server's deadline is still due after handle_timeout"
            );
        }
        for slot in self.slots.iter_mut().flatten() {
            if slot.conn.poll_timeout().is_some_and(|at| at <= now) {
                slot.conn.handle_timeout(now);
                let next = slot.conn.poll_timeout();
                assert!(
                    next.is_none_or(|at| at > now),
                    "a connection's deadline is still due after handle_timeout ({:?})",
                    slot.conn
                );
            }
        }
    }

    fn recv(&mut self) {
        let waker = futures_noop();
        let mut cx = std::task::Context::from_waker(&waker);
        for app in self.sessions.iter_mut().flatten() {
            while let std::task::Poll::Ready(Some(_)) = app.session.poll_recv(&mut cx) {}
        }
    }

    fn send(&mut self, session: u8, len: u8) {
        let Some(Some(app)) = self.pick(session) else {
            return;
        };
        let text = format!("m{}:{}", app.sent, "p".repeat(usize::from(len)));
        app.sent += 1;
        let slot = app.slot;
        if app.session.send(text.clone()).is_ok() {
            if let Some(slot) = slot.and_then(|s| self.slots[s].as_mut()) {
                slot.accepted.push(text);
            }
        }
    }

    /// Drains every connection as an embedder would, checks it, and drops
    /// those that are done.
    fn drain(&mut self) {
        let now = self.now;
        for i in 0..self.slots.len() {
            let Some(slot) = self.slots[i].as_mut() else {
                continue;
            };
            while let Some(output) = slot.conn.poll_output(now) {
                match output {
                    Output::Incoming(incoming) => {
                        if self.refuse {
                            let rejection = Rejection::new(http_status(401));
                            slot.conn.refuse(incoming, &rejection, now);
                        } else {
                            slot.conn.accept(incoming, Attributes::default(), now);
                        }
                    }
                    Output::Opened(session) => {
                        let plain =
                            session.transport() == server_proto::SessionTransport::WebSocket;
                        if plain {
                            slot.ws_session = Some(self.sessions.len());
                        }
                        self.sessions.push(Some(App {
                            session,
                            slot: plain.then_some(i),
                            sent: 0,
                        }));
                    }
                    _ => {}
                }
            }
            check(&slot.conn);
            if slot.conn.is_done() {
                self.end(i);
            }
        }
    }

    /// The connection ends (done, or dropped): what it wrote must read as
    /// HTTP, a response cut short being allowed.
    fn end(&mut self, i: usize) {
        let Some(slot) = self.slots[i].take() else {
            return;
        };
        if !slot.raw {
            if let Err(e) = http_wire::read(&slot.wire) {
                panic!("the responses do not read as HTTP/1.1: {e}");
            }
        }
        for app in self.sessions.iter_mut().flatten() {
            if app.slot == Some(i) {
                app.slot = None;
            }
        }
    }

    /// At the end: every live connection is read out; checks the HTTP
    /// stream and that no message a WebSocket session took is lost.
    fn finish(&mut self) {
        for _ in 0..64 {
            for i in 0..self.slots.len() {
                self.read(i, 0);
            }
            self.drain();
        }
        for i in 0..self.slots.len() {
            let Some(slot) = self.slots[i].as_ref() else {
                continue;
            };
            let wire = if slot.raw {
                None
            } else {
                Some(
                    http_wire::read(&slot.wire)
                        .unwrap_or_else(|e| panic!("the responses do not read as HTTP/1.1: {e}")),
                )
            };
            let open = slot
                .ws_session
                .and_then(|s| self.sessions[s].as_ref())
                .is_some_and(|app| app.session.is_open());
            if let (Some(wire), true) = (wire, open) {
                if let Some(at) = wire.upgraded {
                    let received = ws_messages(&slot.wire[at..]);
                    let missing: Vec<&String> = slot
                        .accepted
                        .iter()
                        .filter(|m| !received.contains(m))
                        .collect();
                    assert!(
                        missing.is_empty(),
                        "messages taken by send and never written: {missing:?}"
                    );
                    let order: Vec<&String> = received
                        .iter()
                        .filter(|m| slot.accepted.contains(m))
                        .collect();
                    assert!(
                        order.iter().copied().eq(slot.accepted.iter()),
                        "messages written out of order"
                    );
                }
            }
        }
    }
}

/// The invariants of a drained connection.
fn check(conn: &Connection) {
    let mut slices = vec![std::io::IoSlice::new(&[]); 4096];
    let n = conn.transmit_slices(&mut slices);
    let covered: usize = slices[..n].iter().map(|s| s.len()).sum();
    if n < slices.len() {
        assert_eq!(covered, conn.transmit_len(), "transmit_slices");
    }
    if n > 0 {
        assert_eq!(&*slices[0], conn.transmit(), "transmit is the first slice");
    }
    if conn.wants_read() {
        assert!(conn.read_capacity() >= 1, "wants_read with no capacity");
    }
    if conn.is_done() {
        assert_eq!(conn.transmit_len(), 0, "done with bytes to write");
    }
    assert!(
        conn.transmit_len() <= MAX_PENDING,
        "{} bytes to write",
        conn.transmit_len()
    );
}

/// The text messages a server wrote as WebSocket frames.
fn ws_messages(frames: &[u8]) -> Vec<String> {
    let mut client = ws_proto::Connection::client(
        ws_proto::WebSocketConfig::default().max_message_size(1 << 20),
        || [0; 4],
    );
    client.receive(frames);
    let mut out = Vec::new();
    while let Ok(Some(event)) = client.poll_event() {
        if let ws_proto::Event::Message(Message::Text(text)) = event {
            out.push(text.as_str().to_owned());
        }
    }
    out
}

fn http_status(code: u16) -> server_proto::http_proto::http::StatusCode {
    server_proto::http_proto::http::StatusCode::from_u16(code).expect("a status")
}

/// A waker that does nothing (the harness polls everything after each op).
fn futures_noop() -> std::task::Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    std::task::Waker::from(std::sync::Arc::new(Noop))
}
