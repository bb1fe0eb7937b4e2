//! A simulated-time harness for `server-proto`, after quinn-proto's `Pair`:
//! one [`Server`], scripted clients exchanging bytes with their
//! [`Connection`]s in memory, time moved by hand from a base `Instant`.
//! No socket, no thread, no sleep; the clock is read once, for the base.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant, SystemTime};

use server_proto::ws_proto::{self, Event, Message};
use server_proto::{
    Attributes, Connection, EndpointId, HandshakeOutcome, HandshakeRequest, Incoming, Output,
    Server, ServerConfig, Session,
};

/// A waker that counts its wakes.
#[derive(Debug, Default)]
pub struct WakeCounter(AtomicUsize);

impl Wake for WakeCounter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl WakeCounter {
    pub fn new() -> (Arc<Self>, Waker) {
        let counter = Arc::new(Self::default());
        let waker = Waker::from(Arc::clone(&counter));
        (counter, waker)
    }

    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The simulated world: a server and a base instant.
pub struct Sim {
    pub server: Arc<Server>,
    pub t0: Instant,
}

impl Sim {
    #[allow(clippy::disallowed_methods)] // the one base instant; time then moves by hand
    pub fn new(config: ServerConfig) -> Self {
        let t0 = Instant::now();
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let server = Server::new(config, 7, t0, date).expect("a valid configuration");
        Self { server, t0 }
    }

    /// The instant `ms` milliseconds after the base.
    pub fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    /// A new connection from a client, made at `now`.
    pub fn connect(&self, now: Instant) -> Client {
        let (wakes, waker) = WakeCounter::new();
        let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
        Client {
            conn: self.server.connection(peer, now, waker),
            wakes,
            auto_accept: true,
            incoming: VecDeque::new(),
            handshakes: Vec::new(),
            opened: VecDeque::new(),
        }
    }

    /// The server's timer: its deadline, and the work due at `now`.
    pub fn server_timeout(&self) -> Option<Instant> {
        self.server.poll_timeout(None)
    }

    pub fn server_fire(&self, now: Instant) {
        self.server.handle_timeout(now);
    }
}

/// One TCP connection, seen from the embedder (the driving loop) and the
/// client (what it writes, what it reads).
pub struct Client {
    pub conn: Connection,
    pub wakes: Arc<WakeCounter>,
    /// Accept every `Incoming` with `Attributes::default()`; otherwise they
    /// wait in `incoming`.
    pub auto_accept: bool,
    pub incoming: VecDeque<Incoming>,
    pub handshakes: Vec<(EndpointId, HandshakeRequest, HandshakeOutcome)>,
    pub opened: VecDeque<Session>,
}

impl Client {
    /// Drains `poll_output` at `now`.
    pub fn drain(&mut self, now: Instant) {
        while let Some(output) = self.conn.poll_output(now) {
            match output {
                Output::Incoming(incoming) if self.auto_accept => {
                    self.conn.accept(incoming, Attributes::default(), now);
                }
                Output::Incoming(incoming) => self.incoming.push_back(incoming),
                Output::Handshake {
                    endpoint,
                    request,
                    outcome,
                } => self.handshakes.push((endpoint, request, outcome)),
                Output::Opened(session) => self.opened.push_back(session),
                other => panic!("unexpected output {other:?}"),
            }
        }
    }

    /// The client writes `bytes`.
    pub fn send(&mut self, bytes: &[u8], now: Instant) {
        assert!(self.conn.wants_read(), "the connection does not read");
        self.conn.handle_input(bytes, now);
        self.drain(now);
    }

    /// The client reads everything the connection has (as the socket takes
    /// it), until nothing more comes at `now`.
    pub fn read(&mut self, now: Instant) -> Vec<u8> {
        let mut got = Vec::new();
        self.drain(now);
        while self.conn.transmit_len() > 0 {
            let chunk = self.conn.transmit().to_vec();
            got.extend_from_slice(&chunk);
            self.conn.consume(chunk.len(), now);
            self.drain(now);
        }
        got
    }

    /// The client reads at most `n` bytes.
    pub fn read_some(&mut self, n: usize, now: Instant) -> Vec<u8> {
        self.drain(now);
        let take = n.min(self.conn.transmit().len());
        let got = self.conn.transmit()[..take].to_vec();
        self.conn.consume(take, now);
        self.drain(now);
        got
    }

    /// The connection's deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    /// The deadline passed (`now`).
    pub fn fire(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        self.drain(now);
    }

    /// The client shut its write side.
    pub fn eof(&mut self, now: Instant) {
        self.conn.handle_eof(now);
        self.drain(now);
    }

    pub fn is_done(&self) -> bool {
        self.conn.is_done()
    }

    /// The session opened first and not taken yet.
    pub fn session(&mut self) -> Session {
        self.opened.pop_front().expect("a session opened")
    }

    pub fn take_incoming(&mut self) -> Incoming {
        self.incoming.pop_front().expect("an Incoming")
    }

    pub fn outcomes(&self) -> Vec<HandshakeOutcome> {
        self.handshakes.iter().map(|(_, _, o)| *o).collect()
    }
}

// ---- the application's side ----------------------------------------------

/// Polls a session's next message with a counting waker.
pub fn poll_recv(session: &mut Session, waker: &Waker) -> Poll<Option<Message>> {
    session.poll_recv(&mut Context::from_waker(waker))
}

/// The session's next message, which must be there.
pub fn recv_text(session: &mut Session) -> String {
    let waker = futures_util::task::noop_waker();
    match poll_recv(session, &waker) {
        Poll::Ready(Some(Message::Text(text))) => text.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The application waits for the next message (there is none yet).
pub fn recv_pending(session: &mut Session) {
    let waker = futures_util::task::noop_waker();
    let polled = poll_recv(session, &waker);
    assert!(polled.is_pending(), "expected no message, got {polled:?}");
}

/// The session's stream has ended.
pub fn recv_end(session: &mut Session) {
    let waker = futures_util::task::noop_waker();
    let polled = poll_recv(session, &waker);
    assert!(
        matches!(polled, Poll::Ready(None)),
        "expected the end, got {polled:?}"
    );
}

// ---- HTTP on the wire --------------------------------------------------------

/// A response as the client parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resp {
    pub status: u16,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The chunks of a chunked body (the last, empty one excluded).
    pub chunks: Vec<Vec<u8>>,
    /// A chunked body's last chunk came.
    pub complete: bool,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_str(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses one response head at the start of `bytes`: the response without
/// its body, and the rest.
fn parse_head(bytes: &[u8]) -> (Resp, &[u8]) {
    let end = find(bytes, b"\r\n\r\n").unwrap_or_else(|| {
        panic!(
            "no complete head in {:?}",
            String::from_utf8_lossy(bytes).as_ref()
        )
    });
    let head = std::str::from_utf8(&bytes[..end]).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().expect("a version").to_owned();
    let status = parts.next().and_then(|s| s.parse().ok()).expect("a status");
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').expect("a header line");
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    let resp = Resp {
        status,
        version,
        headers,
        body: Vec::new(),
        chunks: Vec::new(),
        complete: false,
    };
    (resp, &bytes[end + 4..])
}

/// Parses every response in `bytes`: bodies by `Content-Length`, chunked
/// (as far as they came), or to the end (close-delimited). A 101 ends the
/// parse (what follows is no longer HTTP).
pub fn parse_responses(mut bytes: &[u8]) -> Vec<Resp> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (mut resp, rest) = parse_head(bytes);
        bytes = rest;
        if resp.status == 101 || resp.status == 204 || resp.status == 304 {
            resp.complete = true;
            let upgrade = resp.status == 101;
            out.push(resp);
            if upgrade {
                break;
            }
            continue;
        }
        if resp
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            while let Some(line_end) = find(bytes, b"\r\n") {
                let size_str = std::str::from_utf8(&bytes[..line_end]).expect("a size line");
                let size = usize::from_str_radix(size_str.trim(), 16).expect("a hex size");
                if bytes.len() < line_end + 2 + size + 2 {
                    break;
                }
                let data = &bytes[line_end + 2..line_end + 2 + size];
                assert_eq!(&bytes[line_end + 2 + size..line_end + 4 + size], b"\r\n");
                bytes = &bytes[line_end + 4 + size..];
                if size == 0 {
                    resp.complete = true;
                    break;
                }
                resp.body.extend_from_slice(data);
                resp.chunks.push(data.to_vec());
            }
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().expect("a length");
            assert!(bytes.len() >= len, "a truncated body");
            resp.body = bytes[..len].to_vec();
            resp.complete = true;
            bytes = &bytes[len..];
        } else {
            resp.body = bytes.to_vec();
            bytes = &[];
        }
        out.push(resp);
    }
    out
}

/// The one response in `bytes`.
pub fn one_response(bytes: &[u8]) -> Resp {
    let mut all = parse_responses(bytes);
    assert_eq!(all.len(), 1, "expected one response, got {all:?}");
    all.pop().expect("one")
}

/// A GET request.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").into_bytes()
}

/// A POST request with a body.
pub fn post(path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A WebSocket upgrade request, with extra header lines (each ending in
/// `\r\n`).
pub fn upgrade(path: &str, extra: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
    .into_bytes()
}

/// The client side of a WebSocket: masks what it sends, decodes what the
/// server sends.
pub struct WsClient {
    pub ws: ws_proto::Connection,
}

impl Default for WsClient {
    fn default() -> Self {
        Self {
            ws: ws_proto::Connection::client(ws_proto::WebSocketConfig::default(), || [1, 2, 3, 4]),
        }
    }
}

impl WsClient {
    /// What the client's core has to send (a pong, a close echo).
    pub fn transmit(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = self.ws.poll_transmit() {
            out.extend_from_slice(&chunk);
        }
        out
    }

    /// The bytes of a text message.
    pub fn text(&mut self, text: &str) -> Vec<u8> {
        self.ws.send_text(text).expect("open");
        self.transmit()
    }

    /// The bytes of a close frame.
    pub fn close(&mut self, code: u16, reason: &str) -> Vec<u8> {
        self.ws.close(Some(code.into()), reason).expect("open");
        self.transmit()
    }

    /// The bytes of a pong.
    pub fn pong(&mut self, payload: &[u8]) -> Vec<u8> {
        self.ws.pong(payload).expect("open");
        self.transmit()
    }

    /// Decodes what the server sent (what the client's core answers, a
    /// pong or a close echo, waits in `ws.poll_transmit`).
    pub fn events(&mut self, bytes: &[u8]) -> Vec<Event> {
        self.ws.receive(bytes);
        let mut events = Vec::new();
        while let Some(event) = self.ws.poll_event().expect("valid frames from the server") {
            events.push(event);
        }
        events
    }
}

/// Milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Seconds.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
