//! `sockjs_client`: the sans-IO SockJS client (`sockjs_proto::client::
//! Client`) against a server played by the input: a [`Setup`] (the
//! client's configuration) and a sequence of [`Op`]s, both decoded with
//! `arbitrary` (the types, and the bytes a server writes for them, are in
//! `sockjs_client_input.rs`).
//!
//! The harness is the embedder and the server. It connects what the client
//! asks for (at once, or when an op says so), reads what the client writes
//! with a server's parsers (`http_proto::ServerConn` for requests, a
//! server-role `ws_proto::Connection` after a 101), and writes what the ops
//! say: raw bytes, or answers built from what the client asked (an `/info`
//! body, a streaming head and prelude, frames as chunks, as a polling
//! response or as WebSocket messages, the 101 with the `Sec-WebSocket-Accept`
//! of the key the client sent, a 204 to `xhr_send`, WebSocket control
//! frames). The server's bytes wait in a queue per connection and are read
//! as an adapter would: at most `read_capacity` at a time (and at most the
//! current piece size), the end of file after them. The clock moves by
//! jumps, deadline to deadline or past several at once. Events wait in the
//! client until a `DrainEvents` op (or a close) takes them, so the client
//! stops reading when the application is behind.
//!
//! After every op, and at the end, these must hold (a panic is a finding):
//!
//! - nothing panics, and every drain (`poll_output`, `poll_transmit`,
//!   `poll_event`, the moving of bytes, the deadline jumps) ends within a
//!   bound: a few outputs per op, events no more than the bytes read and
//!   the calls made since the last drain, a few thousand deadlines;
//! - memory stays bounded: the bytes of the messages drained at once
//!   (those the client held) are at most `max_buffered_messages` + the
//!   largest read handed in since the previous drain + `max_frame_size`;
//!   what the client writes on a connection is at most, per request it
//!   could have been asked for (one, plus one per 12 bytes the server sent
//!   on it), a head of 2 KiB plus every byte the server sent (the cookies
//!   it may echo), plus 6 bytes per byte and 24 per message the
//!   application sent, plus 3 per byte the server sent on it (pongs), plus
//!   256 (a close frame);
//! - `read_capacity` is 0 for a connection not connected, given back,
//!   failed or never asked for, and at most 16 KiB otherwise;
//! - `poll_timeout()` is never before the `now` of the last call, and
//!   after `handle_timeout(now)` it is `None` or later than `now`; a
//!   `handle_timeout` before the deadline changes nothing (the same
//!   deadline, no output, nothing to write, the same getters);
//! - `Closed` comes once and last; `Open` at most once and before any
//!   `Message` or `Heartbeat`; `Fallback` only before `Open`; `was_clean`
//!   follows the code; a session closed by the application ends with its
//!   code and reason; `is_open()` agrees with the events taken;
//! - `send` answers as the events say: `NotOpen` before `Open` (exactly,
//!   when the events were drained), never `NotOpen` after it, `Closed`
//!   after `Closed` or the application's close, `Full` exactly when
//!   `buffered_amount` is not zero and the message would take it past the
//!   limit; a send taken means an `Open` event; on the xhr transports a
//!   send taken leaves `buffered_amount` within the limit (or at the one
//!   message over it, taken when nothing was buffered);
//! - every `Output::Close` names a connection it asked for, given back at
//!   most once and never after the harness reported it failed; `Connect`
//!   ids are new and increasing, to the URL's host, port and TLS;
//! - the client writes nothing on a connection before it is connected or
//!   after it is given back; its requests parse as HTTP/1.1 (`GET
//!   <prefix>/info`, `POST <prefix>/<server>/<session>/<transport>`, a
//!   WebSocket upgrade to `<prefix>/<server>/<session>/websocket`); after
//!   a 101 its WebSocket frames decode without error; the messages that
//!   reach the server (`xhr_send` bodies, WebSocket messages) are, in
//!   order, a prefix of those the application's `send` took; after the
//!   application's close of an open WebSocket session the server gets a
//!   close frame with the application's code (1000 for one not valid on
//!   the wire);
//! - input or a failure on a connection the client forgot changes nothing;
//! - once `is_finished()`, every connection was given back or failed, and
//!   no output, bytes, events or deadline follow;
//! - at the end, the application closes and time runs with a silent
//!   server: within a few deadlines the client is finished, with exactly
//!   one `Closed`.
//!
//! `SOCKJS_CLIENT_DEBUG=1` prints the setup, the ops, and at the end the
//! events and what the server got, of a replayed input.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use http_proto::http;
use http_proto::{Limits, ServerConn};
use sockjs_proto::client::{
    is_clean, Client, ClientConfig, ClientEvent, Closed, ConnId, Entropy, Output, SendError,
};
use sockjs_proto::json::parse_messages;
use sockjs_proto::Transport;
use ws_proto::{CloseCode, Connection, Event, Message};

use crate::sockjs_client_input::{
    chunk, config, info_response, json_string, messages_frame, ws_frame, Frame, InfoBody, Op,
    Reply, Setup, Status, Text, WsFrame,
};

/// The endpoint's path.
const PREFIX: &str = "/echo";
/// The most bytes `read_capacity` may ask for.
const MAX_READ: usize = 16 * 1024;
/// The most ops run from one input.
const MAX_OPS: usize = 256;
/// The most deadlines one time jump may pass through.
const MAX_DEADLINES: usize = 4096;

/// Where the harness's side of a connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// Asked for, not connected.
    Pending,
    Connected,
    /// Given back by the client (`Output::Close`).
    Closed,
    /// Reported failed by the harness.
    Failed,
}

/// A request the client wrote, as the server reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Info,
    /// `xhr` or `xhr_streaming` of the session at `path`.
    Receive {
        path: String,
        streaming: bool,
    },
    Send,
    /// The upgrade, with its key.
    WebSocket {
        path: String,
        key: String,
    },
}

/// How the server reads the client's bytes.
#[derive(Debug)]
enum Reader {
    Http(ServerConn),
    /// Upgrade requested: bytes after it wait for the 101.
    Upgrading(ServerConn),
    WebSocket(Box<Connection>),
    /// In place of a reader taken out for a moment.
    Off,
}

/// A connection the client asked for.
#[derive(Debug)]
#[allow(clippy::struct_excessive_bools)] // a harness's flags
struct Conn {
    id: ConnId,
    link: Link,
    /// Server bytes not yet read by the client.
    to_client: VecDeque<u8>,
    /// The server closed its side: `receive_eof` once the bytes are read.
    eof: bool,
    eof_given: bool,
    reader: Reader,
    /// Requests read and not answered, oldest first.
    requests: VecDeque<Req>,
    /// A chunked body is open.
    chunked: bool,
    /// The server wrote a 101 with the right key: replies are WebSocket
    /// frames.
    upgraded: bool,
    /// Bytes the client wrote, and bytes the server handed it.
    written: usize,
    received: usize,
}

/// The harness.
#[allow(clippy::struct_excessive_bools)] // a harness's flags
struct Harness {
    client: Client,
    setup: Setup,
    config: ClientConfig,
    tls: bool,
    host: &'static str,
    port: u16,
    t0: Instant,
    now: Instant,
    conns: Vec<Conn>,
    piece: usize,
    /// Every event drained, in order.
    events: Vec<ClientEvent>,
    /// The largest read since the last drain, and calls and bytes since.
    max_read: usize,
    read_since_drain: usize,
    calls_since_drain: usize,
    /// Messages `send` took, their bytes; messages the server got.
    app_sent: Vec<String>,
    app_sent_bytes: usize,
    server_got: Vec<String>,
    echoed: usize,
    /// Sessions the server sent `o` on.
    opened: HashSet<String>,
    /// The application's close: its code and reason, if no `Closed` was
    /// drained before it.
    app_close: Option<(CloseCode, String)>,
    app_closed: bool,
    /// The close frame the server must get from the client's WebSocket:
    /// the connection and the code.
    expect_ws_close: Option<(ConnId, u16)>,
    /// Close frames the server got, per connection.
    ws_closes: Vec<(ConnId, Option<u16>)>,
    /// A send was taken before an `Open` was drained.
    sent_before_open_seen: bool,
    finished: bool,
    /// The bytes the server wrote on every connection.
    received_total: usize,
    next_id: Option<u64>,
}

/// Deterministic entropy: a counter through a small hash.
fn entropy() -> Entropy {
    let n = Arc::new(AtomicU64::new(1));
    Arc::new(move |buf: &mut [u8]| {
        for b in buf {
            let x = n.fetch_add(1, Ordering::Relaxed);
            *b = (x.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as u8;
        }
    })
}

/// The session path (`/<server>/<session>`) and transport of a target.
fn session_of(target: &str) -> Option<(String, &str)> {
    let path = target.split('?').next()?;
    let rest = path.strip_prefix(PREFIX)?;
    let mut parts = rest.split('/');
    let (Some(""), Some(server), Some(session), Some(transport), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let server_ok = server.len() == 3 && server.bytes().all(|b| b.is_ascii_digit());
    let session_ok = session.len() == 8
        && session
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'0'..=b'5').contains(&b));
    assert!(server_ok && session_ok, "a session URL: {target}");
    Some((format!("/{server}/{session}"), transport))
}

impl Harness {
    fn new(setup: Setup) -> Option<Self> {
        let config = config(&setup);
        let (url, tls, host, port) = if setup.tls_and_query {
            ("https://h.example/echo?x=1", true, "h.example", 443)
        } else {
            ("http://127.0.0.1:8081/echo", false, "127.0.0.1", 8081)
        };
        #[allow(clippy::disallowed_methods)] // a base instant; time moves by hand
        let t0 = Instant::now();
        let url: http::Uri = url.parse().expect("a URL");
        let client = Client::new(&url, config.clone(), entropy(), t0).ok()?;
        let piece = usize::from(setup.piece);
        let mut h = Self {
            client,
            setup,
            config,
            tls,
            host,
            port,
            t0,
            now: t0,
            conns: Vec::new(),
            piece,
            events: Vec::new(),
            max_read: 0,
            read_since_drain: 0,
            calls_since_drain: 1,
            app_sent: Vec::new(),
            app_sent_bytes: 0,
            server_got: Vec::new(),
            echoed: 0,
            opened: HashSet::new(),
            app_close: None,
            app_closed: false,
            expect_ws_close: None,
            ws_closes: Vec::new(),
            sent_before_open_seen: false,
            finished: false,
            received_total: 0,
            next_id: None,
        };
        h.settle();
        h.check();
        Some(h)
    }

    /// A call that may change the client: events may wait.
    fn called(&mut self) {
        self.calls_since_drain += 1;
    }

    fn index(&self, conn: u8) -> Option<usize> {
        if self.conns.is_empty() {
            None
        } else {
            Some(usize::from(conn) % self.conns.len())
        }
    }

    fn live(&self, i: usize) -> bool {
        matches!(self.conns[i].link, Link::Pending | Link::Connected)
    }

    // ---- ops ---------------------------------------------------------------

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Connected { conn } => {
                if let Some(i) = self.index(*conn) {
                    if self.conns[i].link == Link::Pending {
                        self.connect(i);
                    }
                }
            }
            Op::Fail { conn } => {
                let Some(i) = self.index(*conn) else { return };
                let id = self.conns[i].id;
                let gone = !self.live(i);
                self.conns[i].link = Link::Failed;
                let before = self.snapshot();
                self.client.connection_failed(id, "fuzz", self.now);
                self.called();
                if gone {
                    // The client forgot it: nothing may happen.
                    assert!(
                        self.client.poll_output().is_none(),
                        "output for a gone connection"
                    );
                    assert_eq!(
                        before,
                        self.snapshot(),
                        "a gone connection's failure changed the client"
                    );
                }
            }
            Op::Receive { conn, bytes } => {
                let Some(i) = self.index(*conn) else { return };
                self.write(i, bytes);
            }
            Op::Reply { conn, reply } => {
                let Some(i) = self.index(*conn) else { return };
                self.reply(i, reply);
            }
            Op::AcceptUpgrade { conn } => {
                let Some(i) = self.index(*conn) else { return };
                self.accept_upgrade(i);
            }
            Op::Eof { conn } => {
                let Some(i) = self.index(*conn) else { return };
                self.conns[i].eof = true;
            }
            Op::Piece { size } => self.piece = usize::from(*size),
            Op::Advance { ms } => {
                let target = self.now + Duration::from_millis(u64::from(*ms));
                self.advance_to(target);
            }
            Op::Leap { ms } => {
                let target = self.now + Duration::from_millis(u64::from(*ms));
                self.check_deadline_not_past();
                self.now = target;
                self.fire();
            }
            Op::ToDeadline => {
                self.check_deadline_not_past();
                if let Some(t) = self.client.poll_timeout() {
                    self.now = t;
                    self.fire();
                }
            }
            Op::Send { text } => self.send(&text.render()),
            Op::Close { code, reason } => {
                self.close(CloseCode(*code), &reason.render());
            }
            Op::DrainEvents => self.drain_events(),
        }
    }

    fn connect(&mut self, i: usize) {
        self.conns[i].link = Link::Connected;
        let id = self.conns[i].id;
        self.client.connected(id, self.now);
        self.called();
    }

    /// Server bytes on connection `i`, read by the client when it reads.
    fn write(&mut self, i: usize, bytes: &[u8]) {
        if self.live(i) {
            self.conns[i].to_client.extend(bytes);
            return;
        }
        // A connection the client forgot: a stray `receive` changes nothing.
        let id = self.conns[i].id;
        let before = self.snapshot();
        self.client.receive(id, bytes, self.now);
        self.client.receive_eof(id, self.now);
        assert!(
            self.client.poll_output().is_none(),
            "output for a gone connection"
        );
        assert!(
            self.client.poll_transmit(id).is_none(),
            "bytes for a gone connection"
        );
        assert_eq!(
            before,
            self.snapshot(),
            "input on a gone connection changed the client"
        );
    }

    /// Time moves to `target`, stopping at each deadline on the way.
    fn advance_to(&mut self, target: Instant) {
        for _ in 0..MAX_DEADLINES {
            self.check_deadline_not_past();
            match self.client.poll_timeout() {
                Some(t) if t <= target => {
                    self.now = t;
                    self.fire();
                    self.settle();
                }
                _ => {
                    self.now = target;
                    self.early();
                    return;
                }
            }
        }
        panic!("more than {MAX_DEADLINES} deadlines in one jump");
    }

    /// `poll_timeout` is not before the time of the last call.
    fn check_deadline_not_past(&self) {
        if let Some(t) = self.client.poll_timeout() {
            assert!(
                t >= self.now,
                "a deadline in the past: {:?} < {:?}",
                t - self.t0,
                self.now - self.t0
            );
        }
    }

    /// `handle_timeout(now)`: after it, nothing is due at `now`.
    fn fire(&mut self) {
        self.client.handle_timeout(self.now);
        self.called();
        if let Some(t) = self.client.poll_timeout() {
            assert!(
                t > self.now,
                "due again after handle_timeout: {:?} at {:?}",
                t - self.t0,
                self.now - self.t0
            );
        }
    }

    /// `handle_timeout(now)` before the deadline changes nothing.
    fn early(&mut self) {
        self.settle();
        if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
            self.fire();
            return;
        }
        let before = self.snapshot();
        self.client.handle_timeout(self.now);
        assert!(
            self.client.poll_output().is_none(),
            "an early handle_timeout gave output"
        );
        for c in &self.conns {
            if c.link == Link::Connected {
                assert!(
                    self.client.poll_transmit(c.id).is_none(),
                    "an early handle_timeout wrote"
                );
            }
        }
        assert_eq!(
            before,
            self.snapshot(),
            "an early handle_timeout changed the client"
        );
    }

    /// What the getters say.
    fn snapshot(&self) -> String {
        let caps: Vec<usize> = self
            .conns
            .iter()
            .map(|c| self.client.read_capacity(c.id))
            .collect();
        format!(
            "{:?} {} {} {:?} {} {:?}",
            self.client.poll_timeout(),
            self.client.is_open(),
            self.client.is_finished(),
            self.client.session(),
            self.client.buffered_amount(),
            caps
        )
    }

    fn seen_open(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Open(_)))
    }

    fn seen_closed(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, ClientEvent::Closed(_)))
    }

    fn send(&mut self, text: &str) {
        let buffered = self.client.buffered_amount();
        // The events are known exactly when none can wait: drained, and
        // no call since.
        let exact = self.calls_since_drain == 0;
        let result = self.client.send(text);
        self.called();
        let (open, closed) = (self.seen_open(), self.seen_closed());
        match &result {
            Ok(()) | Err(SendError::Full) => {
                assert!(!closed && !self.app_closed, "{result:?} after Closed");
                if !open {
                    assert!(!exact, "{result:?} before Open");
                    self.sent_before_open_seen = true;
                }
                let limit = self.config.send_buffer_limit;
                let full = buffered > 0 && buffered + text.len() > limit;
                assert_eq!(
                    result.is_err(),
                    full,
                    "Full iff over the limit ({buffered} buffered)"
                );
                let xhr = self.client.session().map(|(t, _)| t) != Some(Transport::WebSocket);
                if xhr && result.is_ok() {
                    // Message bytes, not yet acknowledged (on the WebSocket,
                    // bytes of frames not yet written: none, once drained).
                    let now_buffered = self.client.buffered_amount();
                    assert!(
                        now_buffered <= limit.max(text.len()),
                        "{now_buffered} buffered"
                    );
                }
                if result.is_ok() {
                    self.app_sent.push(text.to_owned());
                    self.app_sent_bytes += text.len();
                }
            }
            Err(SendError::NotOpen) => {
                assert!(
                    !open && !closed && !self.app_closed,
                    "NotOpen after Open or Closed"
                );
            }
            Err(SendError::Closed) => {
                if exact {
                    assert!(closed || self.app_closed, "Closed before a Closed event");
                }
            }
            Err(e) => panic!("send: {e:?}"),
        }
    }

    fn close(&mut self, code: CloseCode, reason: &str) {
        // An application takes its events before it closes.
        self.drain_events();
        let ws = self.client.session().map(|(t, _)| t) == Some(Transport::WebSocket)
            && self.client.is_open();
        if !self.seen_closed() && !self.app_closed {
            self.app_close = Some((code, reason.to_owned()));
            if ws {
                let conn = self.conns.iter().find(|c| {
                    c.link == Link::Connected && matches!(c.reader, Reader::WebSocket(_))
                });
                if let Some(c) = conn {
                    if !self.ws_closes.iter().any(|(id, _)| *id == c.id) {
                        let expected = if code.is_valid_on_wire() {
                            code.0
                        } else {
                            1000
                        };
                        self.expect_ws_close = Some((c.id, expected));
                    }
                }
            }
        }
        self.app_closed = true;
        self.client.close(code, reason, self.now);
        self.called();
    }

    // ---- the server's answers -------------------------------------------------

    fn reply(&mut self, i: usize, reply: &Reply) {
        let mut out = Vec::new();
        match reply {
            Reply::Answer => self.answer(i, &mut out),
            Reply::Info {
                websocket,
                cookie,
                body,
            } => {
                self.conns[i].requests.pop_front();
                out = info_response(*websocket, *cookie, *body);
            }
            Reply::Head {
                status,
                chunked,
                set_cookie,
            } => {
                let mut head = format!("HTTP/1.1 {}\r\n", status.line());
                if *set_cookie {
                    head.push_str("Set-Cookie: JSESSIONID=fuzz; Path=/\r\n");
                }
                let body = *chunked && matches!(status, Status::Ok | Status::NotFound);
                if body {
                    head.push_str("Transfer-Encoding: chunked\r\n");
                } else if !matches!(
                    status,
                    Status::NoContent | Status::Continue | Status::Switching
                ) {
                    head.push_str("Content-Length: 0\r\n");
                }
                head.push_str("\r\n");
                out = head.into_bytes();
                if !matches!(status, Status::Continue) {
                    self.conns[i].requests.pop_front();
                    self.conns[i].chunked = body;
                }
            }
            Reply::Prelude => {
                let mut prelude = vec![b'h'; 2048];
                prelude.push(b'\n');
                out = self.body_piece(i, &prelude);
            }
            Reply::Frames(frames) => {
                let frames: Vec<Vec<u8>> = frames.iter().map(|f| self.frame(f)).collect();
                self.frames(i, &frames, &mut out);
            }
            Reply::End => {
                let c = &mut self.conns[i];
                if c.upgraded {
                    out = ws_frame(0x8, true, &1000u16.to_be_bytes(), false);
                } else if c.chunked {
                    c.chunked = false;
                    out = b"0\r\n\r\n".to_vec();
                }
            }
            Reply::Ws(frame) => out = self.ws_control(frame),
        }
        self.write(i, &out);
    }

    /// The proper answer to the oldest request on `i`.
    fn answer(&mut self, i: usize, out: &mut Vec<u8>) {
        let Some(req) = self.conns[i].requests.pop_front() else {
            return;
        };
        match req {
            Req::Info => *out = info_response(true, false, InfoBody::Json),
            Req::Send => out.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n"),
            Req::WebSocket { path, key } => {
                self.upgrade(i, &key, out);
                self.opened.insert(path);
                out.extend(ws_frame(0x1, true, b"o", false));
            }
            Req::Receive { path, streaming } => {
                let frame = if self.opened.insert(path) {
                    b"o".to_vec()
                } else if self.echoed < self.server_got.len() {
                    self.echo()
                } else {
                    b"h".to_vec()
                };
                let mut line = frame;
                line.push(b'\n');
                if streaming {
                    out.extend_from_slice(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/javascript;charset=UTF-8\r\n\
                          Transfer-Encoding: chunked\r\n\r\n",
                    );
                    let mut prelude = vec![b'h'; 2048];
                    prelude.push(b'\n');
                    out.extend(chunk(&prelude));
                    out.extend(chunk(&line));
                    self.conns[i].chunked = true;
                } else {
                    out.extend_from_slice(
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/javascript;charset=UTF-8\r\n\
                             Content-Length: {}\r\n\r\n",
                            line.len()
                        )
                        .as_bytes(),
                    );
                    out.extend(line);
                }
            }
        }
    }

    /// The 101 for `key`; the reader turns to WebSocket.
    fn upgrade(&mut self, i: usize, key: &str, out: &mut Vec<u8>) {
        let accept = ws_proto::handshake::accept_key(key.as_bytes());
        out.extend_from_slice(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .as_bytes(),
        );
        let c = &mut self.conns[i];
        c.upgraded = true;
        c.chunked = false;
        if let Reader::Upgrading(_) = c.reader {
            let Reader::Upgrading(http) = std::mem::replace(&mut c.reader, Reader::Off) else {
                unreachable!()
            };
            let rest = http.take_upgraded();
            let mut ws = ws_proto::Connection::server(
                ws_proto::WebSocketConfig::default().max_message_size(64 << 20),
            );
            ws.receive(&rest);
            c.reader = Reader::WebSocket(Box::new(ws));
        }
    }

    fn accept_upgrade(&mut self, i: usize) {
        let key = match self.conns[i].requests.front() {
            Some(Req::WebSocket { key, .. }) => key.clone(),
            _ => "dGhlIHNhbXBsZSBub25jZQ==".to_owned(),
        };
        if matches!(self.conns[i].requests.front(), Some(Req::WebSocket { .. })) {
            self.conns[i].requests.pop_front();
        }
        let mut out = Vec::new();
        self.upgrade(i, &key, &mut out);
        self.write(i, &out);
    }

    /// `a[...]` of the messages not echoed yet.
    fn echo(&mut self) -> Vec<u8> {
        let frame = messages_frame(self.server_got[self.echoed..].iter().map(String::as_str));
        self.echoed = self.server_got.len();
        frame
    }

    fn frame(&mut self, frame: &Frame) -> Vec<u8> {
        match frame {
            Frame::Open => b"o".to_vec(),
            Frame::Heartbeat => b"h".to_vec(),
            Frame::Messages(texts) => {
                let texts: Vec<String> = texts.iter().map(Text::render).collect();
                messages_frame(texts.iter().map(String::as_str))
            }
            Frame::Echo => self.echo(),
            Frame::Close { code, reason } => {
                format!("c[{code},{}]", json_string(&reason.render())).into_bytes()
            }
            Frame::Long { len } => {
                let long = "x".repeat(usize::from(*len));
                messages_frame([long.as_str()])
            }
            Frame::Raw(bytes) => bytes.clone(),
        }
    }

    /// `data` in the open body of `i` (a chunk), or as it is.
    fn body_piece(&self, i: usize, data: &[u8]) -> Vec<u8> {
        if self.conns[i].chunked {
            chunk(data)
        } else {
            data.to_vec()
        }
    }

    fn frames(&mut self, i: usize, frames: &[Vec<u8>], out: &mut Vec<u8>) {
        let c = &mut self.conns[i];
        if c.upgraded {
            for f in frames {
                out.extend(ws_frame(0x1, true, f, false));
            }
            return;
        }
        let mut lines = Vec::new();
        for f in frames {
            lines.extend_from_slice(f);
            lines.push(b'\n');
        }
        if c.chunked {
            out.extend(chunk(&lines));
        } else {
            c.requests.pop_front();
            out.extend_from_slice(
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", lines.len()).as_bytes(),
            );
            out.extend(lines);
        }
    }

    fn ws_control(&mut self, frame: &WsFrame) -> Vec<u8> {
        match frame {
            WsFrame::Ping(len) => ws_frame(0x9, true, &vec![b'p'; usize::from(*len) % 126], false),
            WsFrame::Pong => ws_frame(0xA, true, b"", false),
            WsFrame::Close { code, len } => {
                let mut payload = code.to_be_bytes().to_vec();
                payload.extend(std::iter::repeat_n(b'r', usize::from(*len) % 124));
                ws_frame(0x8, true, &payload, false)
            }
            WsFrame::CloseEmpty => ws_frame(0x8, true, b"", false),
            WsFrame::Binary(b) => ws_frame(0x2, true, b, false),
            WsFrame::Text(b) => ws_frame(0x1, true, b, false),
            WsFrame::Fragmented(f) => {
                let f = self.frame(f);
                let (a, b) = f.split_at(f.len() / 2);
                let mut out = ws_frame(0x1, false, a, false);
                out.extend(ws_frame(0x0, true, b, false));
                out
            }
            WsFrame::Masked => ws_frame(0x1, true, b"h", true),
        }
    }

    // ---- moving bytes -------------------------------------------------------------

    /// Outputs, writes and reads until nothing moves.
    fn settle(&mut self) {
        for _ in 0..1_000_000 {
            let mut progress = self.outputs();
            for i in 0..self.conns.len() {
                progress |= self.transmit(i);
                progress |= self.deliver(i);
            }
            if !progress {
                self.check();
                return;
            }
        }
        panic!("the exchange does not settle");
    }

    /// Drains `poll_output`.
    fn outputs(&mut self) -> bool {
        let mut n = 0;
        while let Some(output) = self.client.poll_output() {
            n += 1;
            assert!(n <= 64, "poll_output does not end");
            assert!(!self.finished, "output after is_finished: {output:?}");
            match output {
                Output::Connect(c) => {
                    assert!(
                        self.next_id.is_none_or(|next| c.id.0 >= next),
                        "a connection id reused: {:?}",
                        c.id
                    );
                    self.next_id = Some(c.id.0 + 1);
                    assert_eq!(
                        (c.host.as_str(), c.port, c.tls),
                        (self.host, self.port, self.tls),
                        "a connection elsewhere"
                    );
                    assert_eq!(
                        self.client.read_capacity(c.id),
                        0,
                        "capacity before connected"
                    );
                    assert!(
                        self.client.poll_transmit(c.id).is_none(),
                        "bytes before connected"
                    );
                    self.conns.push(Conn {
                        id: c.id,
                        link: Link::Pending,
                        to_client: VecDeque::new(),
                        eof: false,
                        eof_given: false,
                        reader: Reader::Http(ServerConn::new(
                            Limits::default()
                                .max_head_size(1 << 20)
                                .max_headers(64)
                                .max_body_size(64 << 20),
                        )),
                        requests: VecDeque::new(),
                        chunked: false,
                        upgraded: false,
                        written: 0,
                        received: 0,
                    });
                    if self.setup.auto_connect {
                        let i = self.conns.len() - 1;
                        self.connect(i);
                    }
                }
                Output::Close(id) => {
                    let c = self
                        .conns
                        .iter_mut()
                        .find(|c| c.id == id)
                        .unwrap_or_else(|| panic!("Close of {id:?}, never asked for"));
                    assert!(
                        matches!(c.link, Link::Pending | Link::Connected),
                        "Close of {id:?}, which is {:?}",
                        c.link
                    );
                    c.link = Link::Closed;
                }
                other => panic!("unexpected output {other:?}"),
            }
        }
        n > 0
    }

    /// Takes what the client writes on `i`, and reads it as the server.
    fn transmit(&mut self, i: usize) -> bool {
        let id = self.conns[i].id;
        if self.conns[i].link != Link::Connected {
            assert!(
                self.client.poll_transmit(id).is_none(),
                "bytes on {:?} ({:?})",
                id,
                self.conns[i].link
            );
            return false;
        }
        let mut progress = false;
        let mut n = 0;
        while let Some(bytes) = self.client.poll_transmit(id) {
            n += 1;
            assert!(n <= 100_000, "poll_transmit does not end");
            progress = true;
            self.conns[i].written += bytes.len();
            self.read_client(i, &bytes);
        }
        progress
    }

    /// The server reads the client's bytes on `i`.
    fn read_client(&mut self, i: usize, bytes: &Bytes) {
        let reader = std::mem::replace(&mut self.conns[i].reader, Reader::Off);
        self.conns[i].reader = match reader {
            Reader::Http(mut http) => {
                http.receive(bytes);
                self.read_requests(i, http)
            }
            Reader::Upgrading(mut http) => {
                http.receive(bytes);
                Reader::Upgrading(http)
            }
            Reader::WebSocket(mut ws) => {
                self.read_ws(i, &mut ws, bytes);
                Reader::WebSocket(ws)
            }
            Reader::Off => Reader::Off,
        };
    }

    fn read_requests(&mut self, i: usize, mut http: ServerConn) -> Reader {
        loop {
            let request = match http.poll_request() {
                Ok(Some(r)) => r,
                Ok(None) => return Reader::Http(http),
                Err(e) => panic!("the client wrote bad HTTP: {e:?}"),
            };
            let req = self.request(&request);
            self.conns[i].requests.push_back(req);
            if http_proto::is_upgrade(&request) {
                return Reader::Upgrading(http);
            }
        }
    }

    /// What a request of the client asks, checked.
    fn request(&mut self, request: &http::Request<Bytes>) -> Req {
        let target = request.uri().to_string();
        let method = request.method();
        if target.split('?').next() == Some(&format!("{PREFIX}/info")) {
            assert_eq!(method, http::Method::GET, "{target}");
            return Req::Info;
        }
        let (path, transport) =
            session_of(&target).unwrap_or_else(|| panic!("a request to {target}"));
        match transport {
            "websocket" => {
                assert_eq!(method, http::Method::GET, "{target}");
                let key = request
                    .headers()
                    .get("sec-websocket-key")
                    .and_then(|k| k.to_str().ok())
                    .expect("a key")
                    .to_owned();
                Req::WebSocket { path, key }
            }
            "xhr" | "xhr_streaming" => {
                assert_eq!(method, http::Method::POST, "{target}");
                Req::Receive {
                    path,
                    streaming: transport == "xhr_streaming",
                }
            }
            "xhr_send" => {
                assert_eq!(method, http::Method::POST, "{target}");
                let got = parse_messages(request.body())
                    .unwrap_or_else(|e| panic!("an xhr_send body: {e:?}"));
                self.server_got.extend(got);
                self.check_server_got();
                Req::Send
            }
            other => panic!("a request for {other}"),
        }
    }

    fn read_ws(&mut self, i: usize, ws: &mut Connection, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let cap = ws.receive_capacity();
            if cap == 0 {
                return;
            }
            let n = cap.min(bytes.len());
            ws.receive(&bytes[..n]);
            bytes = &bytes[n..];
            loop {
                match ws.poll_event() {
                    Ok(Some(Event::Message(Message::Text(text)))) => {
                        let got = parse_messages(text.as_str().as_bytes())
                            .unwrap_or_else(|e| panic!("a WebSocket message: {e:?}"));
                        self.server_got.extend(got);
                        self.check_server_got();
                    }
                    Ok(Some(Event::Message(Message::Binary(_)))) => panic!("a binary message"),
                    Ok(Some(Event::Close(frame))) => {
                        let id = self.conns[i].id;
                        self.ws_closes.push((id, frame.map(|f| f.code.0)));
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => break,
                    Err(e) => panic!("the client's WebSocket frames: {e:?}"),
                }
            }
        }
    }

    /// The server got, in order, a prefix of what the application sent.
    fn check_server_got(&self) {
        assert!(
            self.server_got.len() <= self.app_sent.len()
                && self.server_got[..] == self.app_sent[..self.server_got.len()],
            "the server got {:?}, the application sent {:?}",
            self.server_got,
            self.app_sent
        );
    }

    /// Hands the client what the server wrote on `i`, as much as it reads.
    fn deliver(&mut self, i: usize) -> bool {
        let id = self.conns[i].id;
        if self.conns[i].link != Link::Connected {
            return false;
        }
        let cap = self.client.read_capacity(id);
        assert!(cap <= MAX_READ, "read_capacity {cap} over {MAX_READ}");
        if cap == 0 {
            return false;
        }
        let c = &mut self.conns[i];
        if !c.to_client.is_empty() {
            let mut n = cap.min(c.to_client.len());
            if self.piece > 0 {
                n = n.min(self.piece);
            }
            let data: Vec<u8> = c.to_client.drain(..n).collect();
            c.received += n;
            self.received_total += n;
            self.read_since_drain += n;
            self.max_read = self.max_read.max(n);
            self.client.receive(id, &data, self.now);
            self.called();
            return true;
        }
        if c.eof && !c.eof_given {
            c.eof_given = true;
            self.client.receive_eof(id, self.now);
            self.called();
            return true;
        }
        false
    }

    // ---- checks -------------------------------------------------------------

    fn drain_events(&mut self) {
        let bound = 4 + self.read_since_drain + 4 * self.calls_since_drain;
        let mut held = 0;
        let mut n = 0;
        while let Some(event) = self.client.poll_event() {
            n += 1;
            assert!(n <= bound, "more than {bound} events");
            self.event(&event, &mut held);
            self.events.push(event);
        }
        let limit = self.config.max_buffered_messages + self.max_read + self.config.max_frame_size;
        assert!(held <= limit, "{held} bytes of messages held, over {limit}");
        if self.client.is_open() {
            assert!(
                self.seen_open() && !self.seen_closed(),
                "open without its events"
            );
        }
        if self.seen_closed() {
            assert!(
                !self.client.is_open() && self.client.session().is_none(),
                "closed, yet open"
            );
        }
        self.max_read = 0;
        self.read_since_drain = 0;
        self.calls_since_drain = 0;
    }

    /// Checks `event` against the events before it.
    fn event(&mut self, event: &ClientEvent, held: &mut usize) {
        assert!(!self.seen_closed(), "{event:?} after Closed");
        let open = self.seen_open();
        match event {
            ClientEvent::Open(t) => {
                assert!(!open, "a second Open");
                assert!(
                    self.config.transports.contains(t),
                    "opened on {t:?}, not allowed"
                );
            }
            ClientEvent::Message(m) => {
                assert!(open, "a message before Open");
                *held += m.len();
            }
            ClientEvent::Heartbeat => assert!(open, "a heartbeat before Open"),
            ClientEvent::Fallback { .. } => assert!(!open, "a fallback after Open"),
            ClientEvent::Closed(closed) => self.check_closed(closed),
            other => panic!("an unknown event {other:?}"),
        }
    }

    fn check_closed(&self, closed: &Closed) {
        assert_eq!(closed.was_clean, is_clean(closed.code), "{closed:?}");
        if let Some((code, reason)) = &self.app_close {
            assert_eq!(
                (closed.code, closed.reason.as_str()),
                (*code, reason.as_str()),
                "the application's close ended otherwise: {closed:?}"
            );
        }
        if self.sent_before_open_seen {
            assert!(self.seen_open(), "a send was taken, but no Open");
        }
    }

    /// The invariants that hold between ops.
    fn check(&mut self) {
        let now = self.now;
        if let Some(t) = self.client.poll_timeout() {
            assert!(
                t >= now,
                "a deadline in the past: {:?} < {:?}",
                t - self.t0,
                now - self.t0
            );
        }
        let app_msgs = self.app_sent.len();
        for c in &self.conns {
            let cap = self.client.read_capacity(c.id);
            match c.link {
                Link::Connected => assert!(cap <= MAX_READ, "read_capacity {cap}"),
                _ => assert_eq!(cap, 0, "read_capacity of {:?} ({:?})", c.id, c.link),
            }
            let requests = 1 + c.received / 12;
            let bound = requests * (2048 + self.received_total)
                + 6 * self.app_sent_bytes
                + 24 * app_msgs
                + 3 * c.received
                + 256;
            assert!(
                c.written <= bound,
                "{:?} wrote {} bytes, over {bound}",
                c.id,
                c.written
            );
        }
        let next = self.next_id.unwrap_or(0);
        for id in [ConnId(next), ConnId(next + 7), ConnId(u64::MAX)] {
            assert_eq!(
                self.client.read_capacity(id),
                0,
                "read_capacity of {id:?}, never asked for"
            );
        }
        if let Some((id, code)) = self.expect_ws_close {
            let conn = self
                .conns
                .iter()
                .find(|c| c.id == id)
                .expect("a connection");
            if conn.link == Link::Connected {
                let got = self.ws_closes.iter().find(|(c, _)| *c == id);
                assert!(
                    got.is_some_and(|(_, c)| *c == Some(code)),
                    "the application's close: the server got {got:?}, not {code}"
                );
            }
            self.expect_ws_close = None;
        }
        if self.finished {
            assert!(self.client.is_finished(), "finished, then not");
        }
        if self.client.is_finished() {
            self.finished = true;
            for c in &self.conns {
                assert!(
                    matches!(c.link, Link::Closed | Link::Failed),
                    "finished with {:?} {:?}",
                    c.id,
                    c.link
                );
            }
            assert_eq!(
                self.client.poll_timeout(),
                None,
                "a deadline after is_finished"
            );
            assert!(!self.client.is_open());
        }
    }

    /// The application closes, the server is silent, time runs: the client
    /// ends within a few deadlines, with exactly one `Closed`.
    fn finish(&mut self) {
        self.settle();
        self.close(CloseCode(4000), "the end");
        for _ in 0..64 {
            self.settle();
            self.drain_events();
            if self.client.is_finished() {
                break;
            }
            let t = self
                .client
                .poll_timeout()
                .expect("not finished after the close, and nothing to wait for");
            assert!(t >= self.now);
            self.now = t;
            self.fire();
        }
        self.settle();
        self.drain_events();
        assert!(self.client.is_finished(), "not finished after the close");
        let closed = self
            .events
            .iter()
            .filter(|e| matches!(e, ClientEvent::Closed(_)))
            .count();
        assert_eq!(closed, 1, "{closed} Closed events");
        assert!(matches!(self.events.last(), Some(ClientEvent::Closed(_))));
        assert!(self.client.poll_output().is_none());
        assert!(self.client.poll_event().is_none());
    }
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let Ok(ops) = Vec::<Op>::arbitrary_take_rest(u) else {
        return;
    };
    let debug = std::env::var_os("SOCKJS_CLIENT_DEBUG").is_some();
    if debug {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("{setup:?}");
        }
    }
    let Some(mut h) = Harness::new(setup) else {
        return;
    };
    for op in ops.iter().take(MAX_OPS) {
        if debug {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("{:?} {op:?}", h.now - h.t0);
            }
        }
        h.apply(op);
        h.settle();
    }
    h.finish();
    if debug {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("events: {:?}", h.events);
            eprintln!("the server got: {:?}", h.server_got);
        }
    }
}
