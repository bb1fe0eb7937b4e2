//! Helpers shared by the scenario tests: requests, answers, the application
//! side (an echo service), receivers' output, and a WebSocket client built
//! on `ws_proto`.
//!
//! Every test file uses a part of them only.
#![allow(dead_code, unreachable_pub)]

use std::time::{Duration, Instant, SystemTime};

use std::net::IpAddr;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderName, HeaderValue};
use sockjs_proto::{
    Answer, CloseReason, Event, Output, ReceiverId, RequestContext, RequestSession, Server,
    SessionId, SockJsConfig, Transport,
};

/// A response of the core.
pub type Response = http::Response<Bytes>;

/// A request as the tests build it: the HTTP request and what is not HTTP.
#[derive(Debug, Clone)]
pub struct Request {
    /// The HTTP request.
    pub http: http::Request<Bytes>,
    /// Its date, principal and client address.
    pub ctx: RequestContext,
}

impl Request {
    /// `method target`, HTTP/1.1, no headers, no body, dated at the epoch.
    pub fn new(method: &str, target: impl AsRef<str>) -> Self {
        let http = http::Request::builder()
            .method(method)
            .uri(target.as_ref())
            .body(Bytes::new())
            .expect("a valid method and target");
        Self {
            http,
            ctx: RequestContext::default(),
        }
    }

    /// Adds a header.
    #[must_use]
    #[track_caller]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.http.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            HeaderValue::from_bytes(value.as_bytes()).expect("a header value"),
        );
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        *self.http.body_mut() = body.into();
        self
    }

    /// Sets the HTTP version.
    #[must_use]
    pub fn version(mut self, version: http::Version) -> Self {
        *self.http.version_mut() = version;
        self
    }

    /// Sets the arrival date.
    #[must_use]
    pub fn date(mut self, date: SystemTime) -> Self {
        self.ctx.date = date;
        self
    }

    /// Sets the principal.
    #[must_use]
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.ctx = self.ctx.principal(principal);
        self
    }

    /// Sets the client's address.
    #[must_use]
    pub fn remote_ip(mut self, ip: IpAddr) -> Self {
        self.ctx = self.ctx.client_ip(ip);
        self
    }
}

/// The server's entry points, with the tests' requests.
pub trait Handle {
    /// `handle_request`.
    fn handle(&mut self, req: &Request, now: Instant) -> Answer;
    /// `request_session`.
    fn session_of(&self, req: &Request) -> RequestSession;
}

impl Handle for Server {
    fn handle(&mut self, req: &Request, now: Instant) -> Answer {
        self.handle_request(&req.http, &req.ctx, now)
    }

    fn session_of(&self, req: &Request) -> RequestSession {
        self.request_session(&req.http, &req.ctx)
    }
}

/// What is compared of an answer: its kind, receiver, status, headers and
/// body.
pub fn summary(answer: &Answer) -> (&'static str, Option<ReceiverId>, u16, String, Bytes) {
    let (kind, receiver, res) = match answer {
        Answer::Response(res) => ("response", None, res),
        Answer::Stream { receiver, response } => ("stream", Some(*receiver), response),
        Answer::Poll { receiver, response } => ("poll", Some(*receiver), response),
        Answer::Upgrade { receiver, response } => ("upgrade", Some(*receiver), response),
    };
    (
        kind,
        receiver,
        res.status().as_u16(),
        format!("{:?}", res.headers()),
        res.body().clone(),
    )
}

/// The endpoint's prefix in every test.
pub const PREFIX: &str = "/echo";

/// The `Cache-Control` of a dynamic response.
pub const NO_CACHE: &str = "no-store, no-cache, no-transform, must-revalidate, max-age=0";
/// The `Cache-Control` of a response cached for a year.
pub const ONE_YEAR: &str = "public, max-age=31536000";
/// `application/javascript; charset=UTF-8`.
pub const JAVASCRIPT: &str = "application/javascript; charset=UTF-8";
/// `text/plain; charset=UTF-8`.
pub const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";
/// `text/html; charset=UTF-8`.
pub const TEXT_HTML: &str = "text/html; charset=UTF-8";

/// The base instant of a test: time then moves by hand, `t0 + Duration`.
#[allow(clippy::disallowed_methods)] // a base instant; no test reads the clock again
pub fn t0() -> Instant {
    Instant::now()
}

/// `n` seconds.
pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// `n` milliseconds.
pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One nanosecond: the smallest step before a deadline.
pub const NS: Duration = Duration::from_nanos(1);

/// `at - d`.
#[track_caller]
pub fn before(at: Instant, d: Duration) -> Instant {
    at.checked_sub(d)
        .expect("an instant after the clock's start")
}

/// A server at [`PREFIX`] with `config`, seeded with 7.
pub fn server_with(config: SockJsConfig) -> Server {
    Server::new(PREFIX, config, 7).expect("a valid configuration")
}

/// A server at [`PREFIX`] with the default configuration.
pub fn server() -> Server {
    server_with(SockJsConfig::default())
}

/// A request for `PREFIX + path`.
pub fn req(method: &str, path: &str) -> Request {
    Request::new(method, format!("{PREFIX}{path}"))
}

/// `GET PREFIX + path`.
pub fn get(path: &str) -> Request {
    req("GET", path)
}

/// `POST PREFIX + path`.
pub fn post(path: &str) -> Request {
    req("POST", path)
}

/// `OPTIONS PREFIX + path`.
pub fn options(path: &str) -> Request {
    req("OPTIONS", path)
}

/// `/000/<session>/<transport>`.
pub fn url(session: &str, transport: &str) -> String {
    format!("/000/{session}/{transport}")
}

/// The whole response of an answer that must be one.
#[track_caller]
pub fn response(answer: Answer) -> Response {
    match answer {
        Answer::Response(res) => res,
        other => panic!("expected a whole response, got {other:?}"),
    }
}

/// The receiver and first part of a streaming answer.
#[track_caller]
pub fn stream(answer: Answer) -> (ReceiverId, Response) {
    match answer {
        Answer::Stream { receiver, response } => (receiver, response),
        other => panic!("expected a stream, got {other:?}"),
    }
}

/// The receiver and head of a long poll.
#[track_caller]
pub fn poll(answer: Answer) -> (ReceiverId, Response) {
    match answer {
        Answer::Poll { receiver, response } => (receiver, response),
        other => panic!("expected a long poll, got {other:?}"),
    }
}

/// The receiver and 101 head of an upgrade, as `http-proto` writes it.
#[track_caller]
pub fn upgrade(answer: Answer) -> (ReceiverId, Bytes) {
    match answer {
        Answer::Upgrade { receiver, response } => {
            assert!(response.body().is_empty(), "a body on a 101");
            let mut head = BytesMut::new();
            http_proto::encode_response(
                &response,
                http_proto::BodyKind::None,
                http_proto::Exchange::default(),
                &mut head,
            )
            .expect("a 101 head without framing headers");
            (receiver, head.freeze())
        }
        other => panic!("expected an upgrade, got {other:?}"),
    }
}

/// The body as text.
#[track_caller]
pub fn body(res: &Response) -> &str {
    std::str::from_utf8(res.body()).expect("a UTF-8 body")
}

/// Every value of header `name` (case-insensitive).
#[track_caller]
pub fn header_values<'a>(res: &'a Response, name: &str) -> Vec<&'a str> {
    res.headers()
        .get_all(name)
        .iter()
        .map(|v| std::str::from_utf8(v.as_bytes()).expect("a UTF-8 value"))
        .collect()
}

/// The one value of header `name`: panics if it is missing or repeated.
#[track_caller]
pub fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    match header_values(res, name)[..] {
        [v] => v,
        ref vs => panic!(
            "expected one {name} header, got {vs:?} in {:?}",
            res.headers()
        ),
    }
}

/// Asserts that the response has no header `name`.
#[track_caller]
pub fn assert_no_header(res: &Response, name: &str) {
    assert_eq!(
        header_values(res, name),
        Vec::<&str>::new(),
        "unexpected {name} in {:?}",
        res.headers()
    );
}

/// A dynamic response: never cached, no `Expires`, no `Last-Modified`.
#[track_caller]
pub fn assert_not_cached(res: &Response) {
    assert_eq!(header(res, "Cache-Control"), NO_CACHE);
    assert_no_header(res, "Expires");
    assert_no_header(res, "Last-Modified");
}

/// A response cached for a year after `date`.
#[track_caller]
pub fn assert_cached_for_a_year(res: &Response, date: SystemTime) {
    assert_eq!(header(res, "Cache-Control"), ONE_YEAR);
    assert_eq!(
        header(res, "Expires"),
        httpdate::fmt_http_date(date + Duration::from_secs(31_536_000))
    );
    assert_no_header(res, "Last-Modified");
}

/// The CORS headers for a request with `origin` (or none).
#[track_caller]
pub fn assert_cors(res: &Response, origin: Option<&str>) {
    if let Some(origin) = origin {
        assert_eq!(header(res, "Access-Control-Allow-Origin"), origin);
        assert_eq!(header(res, "Access-Control-Allow-Credentials"), "true");
    } else {
        assert_eq!(header(res, "Access-Control-Allow-Origin"), "*");
        assert_no_header(res, "Access-Control-Allow-Credentials");
    }
}

/// No CORS header at all.
#[track_caller]
pub fn assert_no_cors(res: &Response) {
    for name in [
        "Access-Control-Allow-Origin",
        "Access-Control-Allow-Credentials",
        "Access-Control-Allow-Headers",
        "Access-Control-Allow-Methods",
        "Access-Control-Max-Age",
    ] {
        assert_no_header(res, name);
    }
}

/// The `JSESSIONID` cookie set to `value`.
#[track_caller]
pub fn assert_cookie(res: &Response, value: &str) {
    assert_eq!(
        header(res, "Set-Cookie"),
        format!("JSESSIONID={value}; path=/")
    );
}

/// A 405 with `Allow: allow`, no `Content-Type` and no body.
#[track_caller]
pub fn assert_405(res: &Response, allow: &str) {
    assert_eq!(res.status(), 405);
    assert_eq!(header(res, "Allow"), allow);
    assert_no_header(res, "Content-Type");
    assert!(res.body().is_empty(), "{:?}", res.body());
}

/// A plain-text answer with `status` and `text`.
#[track_caller]
pub fn assert_text(res: &Response, status: u16, text: &str) {
    assert_eq!(res.status(), status, "{res:?}");
    assert_eq!(header(res, "Content-Type"), TEXT_PLAIN);
    assert_eq!(body(res), text);
}

/// Every pending event.
pub fn events(server: &mut Server) -> Vec<Event> {
    std::iter::from_fn(|| server.poll_event()).collect()
}

/// The application of the protocol tests' `echo` service: drains the
/// events, sends every message back on its session, returns the events.
pub fn echo(server: &mut Server) -> Vec<Event> {
    let events = events(server);
    for event in &events {
        if let Event::Message { session, text } = event {
            server.send(*session, text.clone()).expect("echo");
        }
    }
    events
}

/// The messages among `events`.
pub fn messages(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Message { text, .. } => Some(text.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

/// The session of the only `Opened` event among `events`.
#[track_caller]
pub fn opened(events: &[Event]) -> SessionId {
    let ids: Vec<SessionId> = events
        .iter()
        .filter_map(|e| match e {
            Event::Opened { session, .. } => Some(*session),
            _ => None,
        })
        .collect();
    match ids[..] {
        [id] => id,
        _ => panic!("expected one Opened event, got {events:?}"),
    }
}

/// The reasons of the `Closed` events among `events`.
pub fn closed(events: &[Event]) -> Vec<CloseReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Closed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

/// Every pending wake-up.
pub fn wakeups(server: &mut Server) -> Vec<ReceiverId> {
    std::iter::from_fn(|| server.poll_wakeup()).collect()
}

/// The next output of `receiver`, which must have one.
#[track_caller]
pub fn output(server: &mut Server, receiver: ReceiverId, now: Instant) -> Output {
    server
        .poll_output(receiver, now)
        .unwrap_or_else(|| panic!("no output for {receiver:?}"))
}

/// The next output of `receiver` as text, and whether it ends the receiver.
#[track_caller]
pub fn output_text(server: &mut Server, receiver: ReceiverId, now: Instant) -> (String, bool) {
    let out = output(server, receiver, now);
    (
        String::from_utf8(out.data.to_vec()).expect("UTF-8 output"),
        out.end,
    )
}

/// Asserts that `receiver` is the only wake-up, and returns its output.
#[track_caller]
pub fn woken_output(server: &mut Server, receiver: ReceiverId, now: Instant) -> (String, bool) {
    assert_eq!(wakeups(server), vec![receiver]);
    output_text(server, receiver, now)
}

/// Opens a session with an `xhr` poll: `o\n`. Returns its id.
#[track_caller]
pub fn open_xhr(server: &mut Server, session: &str, now: Instant) -> SessionId {
    let res = response(server.handle(&post(&url(session, "xhr")), now));
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), "o\n");
    opened(&events(server))
}

/// Starts a stream that opens or reaches a session: the answer's first part
/// is `transport`'s prelude alone (every frame comes as an output), and its
/// receiver is the only wake-up when it has frames waiting (`woken`).
/// Returns the receiver.
#[track_caller]
pub fn start_stream(
    server: &mut Server,
    req: &Request,
    transport: Transport,
    woken: bool,
    now: Instant,
) -> ReceiverId {
    let (receiver, res) = stream(server.handle(req, now));
    assert_eq!(res.status(), 200);
    assert_eq!(
        frames(transport, body(&res), true),
        Vec::<String>::new(),
        "the first part is the prelude alone"
    );
    assert_eq!(header(&res, "X-Accel-Buffering"), "no");
    let expected = if woken { vec![receiver] } else { vec![] };
    assert_eq!(wakeups(server), expected);
    receiver
}

/// Opens session `session` with a streaming `transport`: the prelude, then
/// `o` as the receiver's first output, alone. Returns the receiver and the
/// session.
#[track_caller]
pub fn open_stream(
    server: &mut Server,
    transport: Transport,
    session: &str,
    now: Instant,
) -> (ReceiverId, SessionId) {
    let (target, method) = receiving_target(session, transport);
    let r = start_stream(server, &req(method, &target), transport, true, now);
    let (data, end) = output_text(server, r, now);
    assert_eq!(frames(transport, &data, false), ["o"]);
    assert!(!end);
    assert_eq!(server.poll_output(r, now), None);
    (r, opened(&events(server)))
}

/// [`open_stream`] with `xhr_streaming`.
#[track_caller]
pub fn open_xhr_streaming(
    server: &mut Server,
    session: &str,
    now: Instant,
) -> (ReceiverId, SessionId) {
    open_stream(server, Transport::XhrStreaming, session, now)
}

/// `xhr_send` with `payload`.
pub fn xhr_send(server: &mut Server, session: &str, payload: &str, now: Instant) -> Response {
    response(server.handle(
        &post(&url(session, "xhr_send")).body(payload.to_owned()),
        now,
    ))
}

/// An `xhr` poll that must answer at once; returns the body.
#[track_caller]
pub fn xhr_now(server: &mut Server, session: &str, now: Instant) -> String {
    let res = response(server.handle(&post(&url(session, "xhr")), now));
    assert_eq!(res.status(), 200);
    body(&res).to_owned()
}

/// The transports that receive, by URL name, with the query they need.
pub fn receiving_target(session: &str, transport: Transport) -> (String, &'static str) {
    let (name, method, query) = match transport {
        Transport::Xhr => ("xhr", "POST", ""),
        Transport::XhrStreaming => ("xhr_streaming", "POST", ""),
        Transport::EventSource => ("eventsource", "GET", ""),
        Transport::HtmlFile => ("htmlfile", "GET", "?c=callback"),
        Transport::Jsonp => ("jsonp", "GET", "?c=callback"),
        other => panic!("{other:?} does not receive over HTTP"),
    };
    (format!("{}{query}", url(session, name)), method)
}

/// The htmlfile page head for `callback`, as the protocol tests give it
/// (before the padding).
pub fn htmlfile_head(callback: &str) -> String {
    format!(
        "<!doctype html>\n<html><head>\n  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n</head><body><h2>Don't panic!</h2>\n  <script>\n    document.domain = document.domain;\n    var c = parent.{callback};\n    c.start();\n    function p(d) {{c.message(d);}};\n    window.onload = function() {{c.stop();}};\n  </script>"
    )
}

// ---- reading frames back out of each transport's framing ----------------

/// Splits the bytes a receiving transport wrote into SockJS frames.
/// `first` says whether `data` starts the response (and so the prelude).
#[track_caller]
pub fn frames(transport: Transport, data: &str, first: bool) -> Vec<String> {
    let mut rest = data;
    if first {
        match transport {
            Transport::XhrStreaming => {
                let prelude = format!("{}\n", "h".repeat(2048));
                rest = rest
                    .strip_prefix(prelude.as_str())
                    .expect("the xhr_streaming prelude");
            }
            Transport::EventSource => {
                rest = rest.strip_prefix("\r\n").expect("the eventsource prelude");
            }
            Transport::HtmlFile => {
                let head = htmlfile_head("callback");
                rest = rest.strip_prefix(head.as_str()).expect("the htmlfile head");
                let end = rest
                    .find("\r\n\r\n")
                    .expect("the end of the htmlfile prelude");
                assert!(rest[..end].bytes().all(|b| b == b' '), "htmlfile padding");
                assert!(
                    head.len() + end + 4 > 1024,
                    "the htmlfile prelude passes 1024 bytes"
                );
                rest = &rest[end + 4..];
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (frame, tail) = match transport {
            Transport::Xhr | Transport::XhrStreaming => {
                let (f, t) = rest.split_once('\n').expect("a frame ends with \\n");
                (f.to_owned(), t)
            }
            Transport::EventSource => {
                let r = rest.strip_prefix("data: ").expect("data: ");
                let (f, t) = r
                    .split_once("\r\n\r\n")
                    .expect("a frame ends with \\r\\n\\r\\n");
                (f.to_owned(), t)
            }
            Transport::HtmlFile => {
                let r = rest.strip_prefix("<script>\np(").expect("<script>\\np(");
                let (f, t) = r.split_once(");\n</script>\r\n").expect("the script's end");
                (js_string(f), t)
            }
            Transport::Jsonp => {
                let r = rest.strip_prefix("/**/callback(").expect("/**/callback(");
                let (f, t) = r.split_once(");\r\n").expect("the call's end");
                (js_string(f), t)
            }
            other => panic!("{other:?} has no HTTP framing"),
        };
        out.push(frame);
        rest = tail;
    }
    out
}

/// Pulls `receiver` until its output ends, checking that every output is
/// one frame (a chunk of its own on the wire), and reports it closed.
/// Returns the frames.
#[track_caller]
pub fn drain_stream(
    server: &mut Server,
    receiver: ReceiverId,
    transport: Transport,
    now: Instant,
) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let (data, end) = output_text(server, receiver, now);
        let mut frames = frames(transport, &data, false);
        assert_eq!(frames.len(), 1, "one frame per output: {data:?}");
        out.append(&mut frames);
        if end {
            assert_eq!(server.poll_output(receiver, now), None, "output after end");
            server.receiver_closed(receiver, now);
            return out;
        }
    }
    panic!("{receiver:?} did not end: {out:?}");
}

/// Pulls `receiver` until it has nothing more for now (it must not end).
/// Returns each output's text.
#[track_caller]
pub fn drain_until_idle(server: &mut Server, receiver: ReceiverId, now: Instant) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(o) = server.poll_output(receiver, now) {
        assert!(!o.end, "{receiver:?} ended");
        out.push(String::from_utf8(o.data.to_vec()).expect("UTF-8 output"));
    }
    out
}

/// The frames of an answer that is complete at once: a whole response, or
/// a stream that ends after its first frames (a refusal on a streaming
/// transport), whose prelude must be the whole first part.
#[track_caller]
pub fn answer_frames(
    server: &mut Server,
    answer: Answer,
    transport: Transport,
    now: Instant,
) -> Vec<String> {
    match answer {
        Answer::Response(res) => frames(transport, body(&res), true),
        Answer::Stream { receiver, response } => {
            assert_eq!(
                frames(transport, body(&response), true),
                Vec::<String>::new(),
                "a stream's first part is its prelude alone"
            );
            drain_stream(server, receiver, transport, now)
        }
        other => panic!("expected an answer complete at once, got {other:?}"),
    }
}

/// Decodes a JSON string literal.
#[track_caller]
pub fn js_string(literal: &str) -> String {
    let mut decoded =
        sockjs_proto::json::parse_ws_messages(literal).expect("a JSON string literal");
    assert_eq!(decoded.len(), 1, "{literal}");
    decoded.remove(0)
}

/// The messages of an `a[...]` frame.
#[track_caller]
pub fn frame_messages(frame: &str) -> Vec<String> {
    let array = frame.strip_prefix('a').expect("an a frame");
    sockjs_proto::json::parse_messages(array.as_bytes()).expect("a JSON array of strings")
}

// ---- a WebSocket client --------------------------------------------------

/// The parts of an HTTP request head, as an adapter would hand them over.
#[track_caller]
pub fn parse_head(head: &[u8]) -> Request {
    let text = std::str::from_utf8(head).expect("an ASCII head");
    let text = text.strip_suffix("\r\n\r\n").expect("a complete head");
    let mut lines = text.split("\r\n");
    let mut start = lines.next().expect("a request line").split(' ');
    let (method, target) = (start.next().unwrap(), start.next().unwrap());
    assert_eq!(start.next(), Some("HTTP/1.1"));
    let mut req = Request::new(method, target);
    for line in lines {
        let (name, value) = line.split_once(':').expect("a header line");
        req = req.header(name, value.trim());
    }
    req
}

/// What a WebSocket client saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsSeen {
    /// A text message.
    Text(String),
    /// The server's close frame: code and reason (`None` without a code).
    Close(Option<(u16, String)>),
    /// A pong, with its payload.
    Pong(Vec<u8>),
    /// A ping, with its payload (the client's core queued the pong: see
    /// [`WsClient::flush`]).
    Ping(Vec<u8>),
}

/// A WebSocket client (ws-proto, masking with a fixed key) against a
/// server's receiver.
pub struct WsClient {
    /// The client's connection.
    pub conn: ws_proto::Connection,
    /// The server's receiver for this connection.
    pub receiver: ReceiverId,
    /// The server said `end`: the TCP connection is gone.
    pub ended: bool,
}

/// The WebSocket upgrade request for `target` (host `localhost:8081`), with
/// extra headers (`Sec-WebSocket-Protocol` as the subprotocols offered).
pub fn ws_request(
    target: &str,
    headers: &[(&str, &str)],
) -> (ws_proto::handshake::ClientHandshake, Request) {
    let mut client = ws_proto::handshake::ClientRequest::new("localhost:8081", target);
    for (n, v) in headers {
        if n.eq_ignore_ascii_case("sec-websocket-protocol") {
            for p in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                client = client.protocol(p);
            }
        } else {
            client = client.header(*n, *v);
        }
    }
    let handshake = ws_proto::handshake::ClientHandshake::new(
        &client,
        *b"0123456789abcdef",
        ws_proto::handshake::Limits::default(),
    )
    .expect("a valid client request");
    let req = parse_head(handshake.request());
    (handshake, req)
}

impl WsClient {
    /// Connects to `PREFIX + path` (`/000/<session>/websocket` or
    /// `/websocket`).
    #[track_caller]
    pub fn connect(server: &mut Server, path: &str, now: Instant) -> Self {
        Self::connect_with(server, path, &[], now)
    }

    /// Connects with extra request headers.
    #[track_caller]
    pub fn connect_with(
        server: &mut Server,
        path: &str,
        headers: &[(&str, &str)],
        now: Instant,
    ) -> Self {
        let (mut handshake, req) = ws_request(&format!("{PREFIX}{path}"), headers);
        let (receiver, head) = upgrade(server.handle(&req, now));
        handshake.receive(&head);
        let accepted = handshake
            .poll_response()
            .expect("a valid 101")
            .expect("a complete head");
        let mut key = 0u8;
        let mut conn =
            ws_proto::Connection::client(ws_proto::WebSocketConfig::default(), move || {
                key = key.wrapping_add(1);
                [key, 0x5a, 0xa5, 0x0f]
            });
        conn.receive(&accepted.trailing);
        Self {
            conn,
            receiver,
            ended: false,
        }
    }

    /// Sends a text message to the server.
    pub fn send(&mut self, server: &mut Server, text: &str, now: Instant) {
        self.conn.send_text(text).expect("the client can send");
        self.flush(server, now);
    }

    /// Writes what the client has queued (messages, close, pongs) to the
    /// server.
    pub fn flush(&mut self, server: &mut Server, now: Instant) {
        while let Some(bytes) = self.conn.poll_transmit() {
            server.receive_websocket(self.receiver, &bytes, now);
        }
    }

    /// Pulls the server's output for this connection (whether or not it
    /// was woken) and returns what the client saw.
    pub fn recv(&mut self, server: &mut Server, now: Instant) -> Vec<WsSeen> {
        while let Some(out) = server.poll_output(self.receiver, now) {
            self.conn.receive(&out.data);
            if out.end {
                self.ended = true;
                break;
            }
        }
        let mut seen = Vec::new();
        loop {
            match self.conn.poll_event() {
                Ok(Some(ws_proto::Event::Message(ws_proto::Message::Text(t)))) => {
                    seen.push(WsSeen::Text(t.as_str().to_owned()));
                }
                Ok(Some(ws_proto::Event::Close(frame))) => {
                    seen.push(WsSeen::Close(frame.map(|f| (f.code.0, f.reason))));
                }
                Ok(Some(ws_proto::Event::Pong(payload))) => {
                    seen.push(WsSeen::Pong(payload.to_vec()));
                }
                Ok(Some(ws_proto::Event::Ping(payload))) => {
                    seen.push(WsSeen::Ping(payload.to_vec()));
                }
                Ok(Some(other)) => panic!("unexpected {other:?}"),
                Ok(None) => break,
                Err(e) => panic!("the server broke the protocol: {e}"),
            }
        }
        seen
    }
}

/// `c[3000,"Go away!"]`: SockJS's customary application close.
pub fn go_away() -> sockjs_proto::CloseFrame {
    sockjs_proto::CloseFrame::new(sockjs_proto::CloseCode::GO_AWAY, "Go away!")
}

/// `WsSeen::Text`.
pub fn text(s: &str) -> WsSeen {
    WsSeen::Text(s.to_owned())
}
