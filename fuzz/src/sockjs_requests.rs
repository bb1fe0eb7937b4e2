//! `sockjs_requests`: one [`Server`] with small limits, driven by an
//! arbitrary sequence of [`Op`]s decoded with `arbitrary`: HTTP requests
//! built from small vocabularies and arbitrary bytes, application sends and
//! closes, receivers pulled, blocked or gone, WebSocket bytes (arbitrary, or
//! well-formed masked client frames) and end of file, time moving, timeouts
//! and shutdown.
//!
//! Input layout: `[setup, ops...]`. `setup` picks the configuration: bits
//! 0-1 the allowed origins (same origin, `*`, a list with patterns and
//! `null`); bit 2 WebSocket disabled; bit 3 no session cookie; bit 4 CORS
//! suppressed; bit 5 the subprotocol `chat`; bit 6 a cache of 1 message
//! instead of 4; bit 7 at most 2 sessions instead of 16.
//!
//! After every op the server is drained as an adapter would (events, then
//! wakeups, pulling the output of every woken receiver that is not
//! blocked), and these must hold:
//!
//! - nothing panics;
//! - every response has a status with a reason phrase, header names and
//!   values without CR or LF (a long poll's head has no body), and every
//!   101 head (as `http-proto` writes it) is well-formed; every receiver
//!   handed out is new;
//! - `session_count() <= max_sessions`, and no session holds more than
//!   `sendBufferSizeLimit` bytes of pending messages (but for one message
//!   alone, which always fits);
//! - `Opened` comes once per session, `Message` only for a session opened
//!   and not yet closed, `Closed` once, and nothing after it;
//! - sending on a session that is open (by the events) never says it is
//!   unknown or closed; `CacheOverflow` and `BufferOverflow` come with
//!   their `Closed` event;
//! - after an output with `end`, `poll_output` for that receiver is `None`
//!   for good, and so it is for a receiver reported closed; such a receiver
//!   is never woken;
//! - `handle_timeout(now)` before `poll_timeout()` changes nothing: no
//!   event, no wakeup, the same `poll_timeout()`, the same sessions; after
//!   `handle_timeout(now)`, `poll_timeout()` is `None` or later than `now`;
//! - time only moves forward, by small steps, and the deadlines are short,
//!   so heartbeats, expiry and the close wait all happen.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use arbitrary::{Arbitrary, Unstructured};
use http_proto::http as h;
use sockjs_proto::frame::escape_json_string;
use sockjs_proto::{
    AllowedOrigins, Answer, CloseFrame, CloseReason, Event, ReceiverId, RequestContext, SendError,
    Server, SessionId, SockJsConfig,
};

const PREFIX: &str = "/echo";
const CACHE: usize = 4;
/// The send buffer's limit in bytes: small, so that fuzzing reaches it.
const SEND_BUFFER: usize = 64;
const MAX_SESSIONS: usize = 16;

#[derive(Debug, Arbitrary)]
enum Method {
    Get,
    Post,
    Options,
    Head,
    Put,
    Other(String),
}

impl Method {
    fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Put => "PUT",
            Method::Other(s) => s,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum TransportName {
    WebSocket,
    Xhr,
    XhrStreaming,
    XhrSend,
    EventSource,
    HtmlFile,
    Jsonp,
    JsonpSend,
    Other(String),
}

impl TransportName {
    fn as_str(&self) -> &str {
        match self {
            TransportName::WebSocket => "websocket",
            TransportName::Xhr => "xhr",
            TransportName::XhrStreaming => "xhr_streaming",
            TransportName::XhrSend => "xhr_send",
            TransportName::EventSource => "eventsource",
            TransportName::HtmlFile => "htmlfile",
            TransportName::Jsonp => "jsonp",
            TransportName::JsonpSend => "jsonp_send",
            TransportName::Other(s) => s,
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Path {
    Greeting,
    GreetingSlash,
    Info,
    Iframe,
    IframeVersion,
    RawWebSocket,
    /// `/<server>/<session>/<transport>`: server `000`, `a`, empty or
    /// `x.y`; session `s0` to `s4`.
    Session {
        server: u8,
        session: u8,
        transport: TransportName,
    },
    /// A session id of its own.
    SessionNamed {
        session: String,
        transport: TransportName,
    },
    /// Anything under the prefix.
    Under(String),
    /// Anything at all.
    Raw(String),
}

impl Path {
    fn render(&self) -> String {
        match self {
            Path::Greeting => PREFIX.to_owned(),
            Path::GreetingSlash => format!("{PREFIX}/"),
            Path::Info => format!("{PREFIX}/info"),
            Path::Iframe => format!("{PREFIX}/iframe.html"),
            Path::IframeVersion => format!("{PREFIX}/iframe-1.6.1.html"),
            Path::RawWebSocket => format!("{PREFIX}/websocket"),
            Path::Session {
                server,
                session,
                transport,
            } => {
                let server = ["000", "a", "", "x.y"][usize::from(*server % 4)];
                format!("{PREFIX}/{server}/s{}/{}", session % 5, transport.as_str())
            }
            Path::SessionNamed { session, transport } => {
                format!("{PREFIX}/000/{session}/{}", transport.as_str())
            }
            Path::Under(s) => format!("{PREFIX}{s}"),
            Path::Raw(s) => s.clone(),
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Query {
    None,
    /// `c=` one of a few callbacks, good and bad.
    Callback(u8),
    /// `c=` anything.
    CallbackRaw(String),
    Raw(String),
}

const CALLBACKS: [&str; 6] = ["cb", "a.b_c1", "", "x%20y", "%3Cscript%3E", "%zz"];

#[derive(Debug, Arbitrary)]
enum HeaderName {
    Origin,
    Host,
    Cookie,
    ContentType,
    Upgrade,
    Connection,
    SecWebSocketKey,
    SecWebSocketVersion,
    SecWebSocketProtocol,
    IfNoneMatch,
    AccessControlRequestHeaders,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum HeaderValue {
    /// One of the usual values for the name (or the last ETag seen).
    Good(u8),
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct HeaderSpec {
    name: HeaderName,
    value: HeaderValue,
}

impl HeaderSpec {
    /// The header, or `None` where the `http` crate's types refuse it (an
    /// HTTP layer never hands such a request over).
    fn render(&self, etag: &str) -> Option<(h::HeaderName, h::HeaderValue)> {
        let (name, good): (&str, &[&str]) = match &self.name {
            HeaderName::Origin => (
                "Origin",
                &[
                    "http://localhost:8080",
                    "http://a.example",
                    "https://x.example.com",
                    "null",
                    "http://evil.example",
                    "*",
                ],
            ),
            HeaderName::Host => ("Host", &["localhost:8080", "a.example", "", "[::1]:80"]),
            HeaderName::Cookie => (
                "Cookie",
                &["JSESSIONID=abc", "a=b; JSESSIONID=x\ty", "JSESSIONID="],
            ),
            HeaderName::ContentType => (
                "Content-Type",
                &[
                    "application/x-www-form-urlencoded",
                    "text/plain",
                    "application/json; charset=UTF-8",
                    "APPLICATION/X-WWW-FORM-URLENCODED;charset=utf-8",
                ],
            ),
            HeaderName::Upgrade => ("Upgrade", &["websocket", "WebSocket", "h2c"]),
            HeaderName::Connection => ("Connection", &["Upgrade", "keep-alive, Upgrade", "close"]),
            HeaderName::SecWebSocketKey => (
                "Sec-WebSocket-Key",
                &[
                    "dGhlIHNhbXBsZSBub25jZQ==",
                    "short",
                    "dGhlIHNhbXBsZSBub25jZQ",
                ],
            ),
            HeaderName::SecWebSocketVersion => ("Sec-WebSocket-Version", &["13", "8", "7", "12"]),
            HeaderName::SecWebSocketProtocol => {
                ("Sec-WebSocket-Protocol", &["chat", "superchat, chat", ""])
            }
            HeaderName::IfNoneMatch => ("If-None-Match", &["", "\"x\"", "*"]),
            HeaderName::AccessControlRequestHeaders => (
                "Access-Control-Request-Headers",
                &["Content-Type", "x-a, x-b", "a\u{7f}b"],
            ),
            HeaderName::Other(name) => (name.as_str(), &["x"]),
        };
        let value = match &self.value {
            HeaderValue::Good(i) => {
                if matches!(self.name, HeaderName::IfNoneMatch) && i % 2 == 0 {
                    etag.as_bytes().to_vec()
                } else {
                    good[usize::from(*i) % good.len()].as_bytes().to_vec()
                }
            }
            HeaderValue::Raw(v) => v.clone(),
        };
        Some((
            h::HeaderName::from_bytes(name.as_bytes()).ok()?,
            h::HeaderValue::from_bytes(&value).ok()?,
        ))
    }
}

#[derive(Debug, Arbitrary)]
enum Body {
    Empty,
    Raw(Vec<u8>),
    /// A JSON array of these messages.
    Messages(Vec<String>),
    /// `d=` and the percent-encoded JSON array.
    Form(Vec<String>),
    /// A JSON string alone, or a broken array.
    Jsonish(u8, String),
}

impl Body {
    fn render(&self) -> Vec<u8> {
        match self {
            Body::Empty => Vec::new(),
            Body::Raw(v) => v.clone(),
            Body::Messages(m) => json_array(m).into_bytes(),
            Body::Form(m) => {
                let mut out = b"d=".to_vec();
                for b in json_array(m).bytes() {
                    if b.is_ascii_alphanumeric() {
                        out.push(b);
                    } else {
                        out.extend_from_slice(format!("%{b:02X}").as_bytes());
                    }
                }
                out
            }
            Body::Jsonish(kind, s) => {
                let mut one = String::new();
                escape_json_string(s, &mut one);
                match kind % 4 {
                    0 => one,
                    1 => format!("[{one},]"),
                    2 => format!(" [ {one} , {one} ] "),
                    _ => format!("[{one}"),
                }
                .into_bytes()
            }
        }
    }
}

fn json_array(messages: &[String]) -> String {
    let mut out = String::from("[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        escape_json_string(m, &mut out);
    }
    out.push(']');
    out
}

#[derive(Debug, Arbitrary)]
struct RequestSpec {
    method: Method,
    path: Path,
    query: Query,
    http10: bool,
    /// Add a complete, valid WebSocket upgrade (before `headers`).
    upgrade: bool,
    /// Add an `Origin` and `Host` of the same origin.
    same_origin: bool,
    headers: Vec<HeaderSpec>,
    body: Body,
}

impl RequestSpec {
    /// The request, or `None` where its target is no URI the `http` crate
    /// takes (an HTTP layer answers that with 400 itself).
    fn render(&self, etag: &str) -> Option<h::Request<bytes::Bytes>> {
        let mut target = self.path.render();
        match &self.query {
            Query::None => {}
            Query::Callback(i) => {
                target.push_str("?c=");
                target.push_str(CALLBACKS[usize::from(*i) % CALLBACKS.len()]);
            }
            Query::CallbackRaw(s) => {
                target.push_str("?c=");
                target.push_str(s);
            }
            Query::Raw(s) => {
                target.push('?');
                target.push_str(s);
            }
        }
        let mut req = h::Request::builder()
            .method(self.method.as_str())
            .uri(target)
            .body(bytes::Bytes::from(self.body.render()))
            .ok()?;
        if self.http10 {
            *req.version_mut() = h::Version::HTTP_10;
        }
        let mut fixed: Vec<(&str, &str)> = Vec::new();
        if self.same_origin {
            fixed.extend([
                ("host", "localhost:8080"),
                ("origin", "http://localhost:8080"),
            ]);
        }
        if self.upgrade {
            fixed.extend([
                ("upgrade", "websocket"),
                ("connection", "Upgrade"),
                ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("sec-websocket-version", "13"),
            ]);
        }
        let headers = req.headers_mut();
        for (name, value) in fixed {
            headers.append(
                h::HeaderName::from_static(name),
                h::HeaderValue::from_static(value),
            );
        }
        for (name, value) in self.headers.iter().take(8).filter_map(|h| h.render(etag)) {
            headers.append(name, value);
        }
        Some(req)
    }
}

#[derive(Debug, Arbitrary)]
enum Opcode {
    Text,
    Binary,
    Continuation,
    Ping,
    Pong,
    Close,
    Other(u8),
}

#[derive(Debug, Arbitrary)]
enum Payload {
    Messages(Vec<String>),
    Text(String),
    Raw(Vec<u8>),
    Close(u16, String),
}

#[derive(Debug, Arbitrary)]
struct ClientFrame {
    fin: bool,
    opcode: Opcode,
    payload: Payload,
}

impl ClientFrame {
    fn encode(&self, mask: [u8; 4], out: &mut Vec<u8>) {
        let opcode = match self.opcode {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
            Opcode::Other(o) => o & 0x0f,
        };
        let payload = match &self.payload {
            Payload::Messages(m) => json_array(m).into_bytes(),
            Payload::Text(s) => s.clone().into_bytes(),
            Payload::Raw(v) => v.clone(),
            Payload::Close(code, reason) => {
                let mut p = code.to_be_bytes().to_vec();
                p.extend_from_slice(reason.as_bytes());
                p
            }
        };
        out.push(u8::from(self.fin) << 7 | opcode);
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= 0xffff {
            out.push(0x80 | 0x7e);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 0x7f);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    }
}

#[derive(Debug, Arbitrary)]
enum Op {
    Request(RequestSpec),
    Send {
        session: u8,
        text: String,
    },
    SendMany {
        session: u8,
        count: u8,
    },
    Close {
        session: u8,
        code: u16,
        reason: String,
    },
    ReceiverClosed(u8),
    PollOutput(u8),
    /// Toggles whether the receiver's connection takes bytes (a blocked
    /// receiver is woken but not pulled).
    Block(u8),
    WsBytes {
        receiver: u8,
        data: Vec<u8>,
    },
    WsFrames {
        receiver: u8,
        mask: [u8; 4],
        frames: Vec<ClientFrame>,
    },
    WsEof(u8),
    /// Moves time by this many milliseconds.
    Advance(u8),
    HandleTimeout,
    /// Moves time to `poll_timeout()` (if later) and handles it.
    HandleTimeoutAtDeadline,
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SessionState {
    Open,
    Closed,
}

struct Harness {
    server: Server,
    t0: Instant,
    now: Instant,
    max_sessions: usize,
    /// Every session the events named, in order of opening.
    sessions: Vec<SessionId>,
    states: HashMap<SessionId, SessionState>,
    /// Every receiver handed out, in order.
    receivers: Vec<ReceiverId>,
    /// Receivers whose output said `end`.
    ended: HashSet<ReceiverId>,
    /// Receivers reported closed.
    gone: HashSet<ReceiverId>,
    blocked: HashSet<ReceiverId>,
    /// The last `ETag` of the iframe page.
    etag: String,
}

/// Runs one input.
pub fn run(data: &[u8]) {
    let Some((&setup, rest)) = data.split_first() else {
        return;
    };
    let u = Unstructured::new(rest);
    let Ok(ops) = Vec::<Op>::arbitrary_take_rest(u) else {
        return;
    };
    let mut h = Harness::new(setup);
    for op in ops.iter().take(256) {
        h.apply(op);
        h.drain();
        h.check();
    }
}

fn config(setup: u8) -> (SockJsConfig, usize) {
    let origins = match setup & 3 {
        0 => AllowedOrigins::SameOrigin,
        1 => AllowedOrigins::Any,
        _ => AllowedOrigins::from_list([
            "http://a.example",
            "https://*.example.com",
            "http://localhost:*",
            "null",
        ]),
    };
    let cache = if setup & 0x40 != 0 { 1 } else { CACHE };
    let max_sessions = if setup & 0x80 != 0 { 2 } else { MAX_SESSIONS };
    let mut config = SockJsConfig::default()
        .heartbeat_time(Duration::from_millis(40))
        .disconnect_delay(Duration::from_millis(100))
        .http_message_cache_size(cache)
        .send_buffer_size_limit(SEND_BUFFER)
        .stream_bytes_limit(256)
        .max_sessions(max_sessions)
        .allowed_origins(origins)
        .web_socket_enabled(setup & 4 == 0)
        .session_cookie_needed(setup & 8 == 0)
        .suppress_cors(setup & 0x10 != 0)
        .websocket(
            ws_proto::WebSocketConfig::default()
                .close_timeout(Duration::from_millis(100))
                .ping_interval(Duration::from_millis(60))
                .pong_timeout(Duration::from_millis(30)),
        );
    if setup & 0x20 != 0 {
        config = config.websocket_protocols(["chat"]);
    }
    (config, max_sessions)
}

fn check_response(res: &h::Response<bytes::Bytes>) {
    assert!(
        res.status()
            .canonical_reason()
            .is_some_and(|r| !r.is_empty()),
        "status {} without a reason phrase",
        res.status()
    );
    for (name, value) in res.headers() {
        assert!(
            !name.as_str().is_empty()
                && !name
                    .as_str()
                    .bytes()
                    .any(|b| b == b'\r' || b == b'\n' || b == b':'),
            "header name {name:?}"
        );
        assert!(
            !value
                .as_bytes()
                .iter()
                .any(|&b| b == b'\r' || b == b'\n' || b == 0),
            "header {name}: {value:?}"
        );
    }
}

fn check_upgrade_head(res: &h::Response<bytes::Bytes>) {
    assert!(res.body().is_empty(), "a body on a 101");
    let mut head = bytes::BytesMut::new();
    http_proto::encode_response(
        res,
        http_proto::BodyKind::None,
        http_proto::Exchange::default(),
        &mut head,
    )
    .expect("a 101 head without framing headers");
    assert!(head.starts_with(b"HTTP/1.1 101 "), "{head:?}");
    let lines = head
        .strip_suffix(b"\r\n\r\n")
        .expect("a 101 head ends with a blank line");
    let mut lines = lines.to_vec();
    lines.extend_from_slice(b"\r");
    for line in lines.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").expect("CRLF line endings");
        assert!(!line.is_empty() && !line.contains(&b'\r'), "{head:?}");
    }
}

impl Harness {
    fn new(setup: u8) -> Self {
        let (config, max_sessions) = config(setup);
        #[allow(clippy::disallowed_methods)] // a base instant; time then moves by hand
        let t0 = Instant::now();
        Self {
            server: Server::new(PREFIX, config, u64::from(setup)).expect("a valid config"),
            t0,
            now: t0,
            max_sessions,
            sessions: Vec::new(),
            states: HashMap::new(),
            receivers: Vec::new(),
            ended: HashSet::new(),
            gone: HashSet::new(),
            blocked: HashSet::new(),
            etag: String::new(),
        }
    }

    fn session(&self, i: u8) -> Option<SessionId> {
        (!self.sessions.is_empty()).then(|| self.sessions[usize::from(i) % self.sessions.len()])
    }

    fn receiver(&self, i: u8) -> Option<ReceiverId> {
        (!self.receivers.is_empty()).then(|| self.receivers[usize::from(i) % self.receivers.len()])
    }

    fn new_receiver(&mut self, r: ReceiverId) {
        assert!(
            !self.receivers.contains(&r),
            "receiver {r:?} handed out twice"
        );
        self.receivers.push(r);
    }

    #[allow(clippy::too_many_lines)] // one arm per op
    fn apply(&mut self, op: &Op) {
        let now = self.now;
        match op {
            Op::Request(spec) => {
                let Some(req) = spec.render(&self.etag) else {
                    return;
                };
                let ctx = RequestContext::new(SystemTime::UNIX_EPOCH);
                match self.server.handle_request(&req, &ctx, now) {
                    Answer::Response(res) => {
                        check_response(&res);
                        if let Some(etag) = res.headers().get(h::header::ETAG) {
                            let etag = String::from_utf8_lossy(etag.as_bytes());
                            etag.as_ref().clone_into(&mut self.etag);
                        }
                    }
                    Answer::Stream { receiver, response } => {
                        check_response(&response);
                        self.new_receiver(receiver);
                    }
                    Answer::Poll { receiver, response } => {
                        check_response(&response);
                        assert!(response.body().is_empty(), "a long poll's head has a body");
                        self.new_receiver(receiver);
                    }
                    Answer::Upgrade { receiver, response } => {
                        check_upgrade_head(&response);
                        self.new_receiver(receiver);
                    }
                }
            }
            Op::Send { session, text } => {
                if let Some(s) = self.session(*session) {
                    self.send(s, text);
                }
            }
            Op::SendMany { session, count } => {
                if let Some(s) = self.session(*session) {
                    for i in 0..(count % 8) {
                        self.send(s, &format!("m{i}"));
                    }
                }
            }
            Op::Close {
                session,
                code,
                reason,
            } => {
                if let Some(s) = self.session(*session) {
                    let result = self.server.close(s, CloseFrame::new(*code, reason.clone()));
                    if self.states.get(&s) == Some(&SessionState::Open) {
                        assert_eq!(result, Ok(()), "close of an open session");
                    } else {
                        assert!(result.is_err(), "close of a closed session: {result:?}");
                    }
                }
            }
            Op::ReceiverClosed(i) => {
                if let Some(r) = self.receiver(*i) {
                    self.server.receiver_closed(r, now);
                    self.gone.insert(r);
                }
            }
            Op::PollOutput(i) => {
                if let Some(r) = self.receiver(*i) {
                    self.pull(r);
                }
            }
            Op::Block(i) => {
                if let Some(r) = self.receiver(*i) {
                    if !self.blocked.remove(&r) {
                        self.blocked.insert(r);
                    }
                }
            }
            Op::WsBytes { receiver, data } => {
                if let Some(r) = self.receiver(*receiver) {
                    self.server.receive_websocket(r, data, now);
                }
            }
            Op::WsFrames {
                receiver,
                mask,
                frames,
            } => {
                if let Some(r) = self.receiver(*receiver) {
                    let mut bytes = Vec::new();
                    for f in frames.iter().take(8) {
                        f.encode(*mask, &mut bytes);
                    }
                    // As an adapter: never more than the capacity at once.
                    let mut rest = &bytes[..];
                    loop {
                        let cap = self.server.websocket_capacity(r);
                        let n = cap.min(rest.len());
                        if n == 0 {
                            break;
                        }
                        self.server.receive_websocket(r, &rest[..n], now);
                        rest = &rest[n..];
                        self.drain();
                    }
                }
            }
            Op::WsEof(i) => {
                if let Some(r) = self.receiver(*i) {
                    self.server.receive_websocket_eof(r, now);
                }
            }
            Op::Advance(ms) => self.now += Duration::from_millis(u64::from(*ms)),
            Op::HandleTimeout => self.handle_timeout(),
            Op::HandleTimeoutAtDeadline => {
                if let Some(at) = self.server.poll_timeout() {
                    // Never far: the deadlines are short.
                    assert!(
                        at <= self.now + Duration::from_secs(1),
                        "{:?}",
                        at - self.t0
                    );
                    self.now = self.now.max(at);
                }
                self.handle_timeout();
            }
            Op::Shutdown => self.server.shutdown(),
        }
    }

    fn send(&mut self, s: SessionId, text: &str) {
        let result = self.server.send(s, text);
        match self.states.get(&s) {
            Some(SessionState::Open) => match result {
                Ok(()) => {}
                Err(e @ (SendError::CacheOverflow | SendError::BufferOverflow)) => {
                    let closed = self.server.poll_event();
                    let want = if e == SendError::CacheOverflow {
                        CloseReason::CacheOverflow
                    } else {
                        CloseReason::BufferOverflow
                    };
                    assert!(
                        matches!(
                            &closed,
                            Some(Event::Closed { session, reason })
                                if *session == s && *reason == want
                        ),
                        "overflow without its Closed event: {closed:?}"
                    );
                    self.states.insert(s, SessionState::Closed);
                }
                Err(e) => panic!("send on an open session: {e:?}"),
            },
            _ => assert!(result.is_err(), "send on a closed session succeeded"),
        }
    }

    fn handle_timeout(&mut self) {
        let now = self.now;
        let before = self.server.poll_timeout();
        let count = self.server.session_count();
        self.server.handle_timeout(now);
        if before.is_none_or(|at| at > now) {
            assert_eq!(self.server.poll_event(), None, "event before the deadline");
            assert_eq!(
                self.server.poll_wakeup(),
                None,
                "wakeup before the deadline"
            );
            assert_eq!(self.server.poll_timeout(), before);
            assert_eq!(self.server.session_count(), count);
        }
        let after = self.server.poll_timeout();
        assert!(
            after.is_none_or(|at| at > now),
            "poll_timeout {:?} not after handle_timeout({:?})",
            after.map(|at| at.saturating_duration_since(self.t0)),
            now - self.t0
        );
    }

    /// Pulls output for `r` until nothing is left.
    fn pull(&mut self, r: ReceiverId) {
        for _ in 0..16 {
            let out = self.server.poll_output(r, self.now);
            if self.ended.contains(&r) || self.gone.contains(&r) {
                assert_eq!(out, None, "output for {r:?} after its end");
                return;
            }
            let Some(out) = out else { return };
            if out.end {
                self.ended.insert(r);
                return;
            }
            assert!(!out.data.is_empty(), "an empty output without end");
        }
    }

    fn drain(&mut self) {
        loop {
            if !self.drain_once() {
                return;
            }
        }
    }

    /// Drains events and wakeups once; whether there were any.
    fn drain_once(&mut self) -> bool {
        let mut any = false;
        while let Some(event) = self.server.poll_event() {
            any = true;
            match event {
                Event::Opened { session, .. } => {
                    assert!(
                        self.states.insert(session, SessionState::Open).is_none(),
                        "{session:?} opened twice"
                    );
                    self.sessions.push(session);
                }
                Event::Message { session, .. } => assert_eq!(
                    self.states.get(&session),
                    Some(&SessionState::Open),
                    "message for {session:?}"
                ),
                Event::Closed { session, .. } => assert_eq!(
                    self.states.insert(session, SessionState::Closed),
                    Some(SessionState::Open),
                    "Closed for {session:?}"
                ),
                _ => {}
            }
        }
        while let Some(r) = self.server.poll_wakeup() {
            any = true;
            assert!(!self.gone.contains(&r), "closed receiver {r:?} woken");
            assert!(!self.ended.contains(&r), "ended receiver {r:?} woken");
            if !self.blocked.contains(&r) {
                self.pull(r);
            }
        }
        any
    }

    fn check(&mut self) {
        assert!(self.server.session_count() <= self.max_sessions);
        for &s in &self.sessions {
            if let Some(view) = self.server.session(s) {
                assert!(
                    view.pending_bytes() <= SEND_BUFFER || view.pending() == 1,
                    "{s:?} holds {} bytes in {} messages",
                    view.pending_bytes(),
                    view.pending()
                );
                assert_eq!(view.is_open(), self.states[&s] == SessionState::Open);
            }
        }
    }
}
