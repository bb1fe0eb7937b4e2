//! The session API over loopback, with servers built for the purpose: what
//! a session knows of the request that opened it, handshake interceptors
//! (attributes, refusals, when they run), the `Handler` trait's event
//! order, concurrent senders, closing from the server, and the close
//! status after the client closes or goes away.

#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapter_core::http_proto::http::StatusCode;
use adapter_core::server::{
    Attributes, CloseStatus, Handler, HandshakeInterceptor, HandshakeOutcome, HandshakeRequest,
    Rejection, SendError, Server, Session, SessionSender, SessionTransport, SockJsEndpoint,
    WebSocketEndpoint,
};
use adapter_core::sockjs_proto::{AllowedOrigins, SockJsConfig, Transport};
use adapter_tokio::{ClientRequest, CloseCode, Message, WebSocketStream};
use futures_util::StreamExt as _;
use sockway_tests::loopback::{frame_messages, within, xhr_streaming_prelude, TestServer, WAIT};
use sockway_tests::runtime::{self as rt, ServerRuntime};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

const DISCONNECT_DELAY: Duration = Duration::from_millis(300);

// ---- a recording server ------------------------------------------------------------

/// What a handler saw of its session when it opened.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Opened {
    id: u64,
    sockjs_id: Option<String>,
    transport: SessionTransport,
    path: String,
    query: Option<String>,
    /// The decoded query parameter `room`.
    room: Option<String>,
    remote: SocketAddr,
    user_agent: Option<String>,
    user: Option<String>,
    token: Option<String>,
    typed: Option<u32>,
    protocol: Option<String>,
}

/// What the handlers report.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Report {
    /// Boxed: it is much larger than the others.
    Opened(Box<Opened>),
    Message(u64, String),
    /// The session's stream ended; its close status, and what a send and
    /// `is_open` said then.
    Closed(u64, Option<CloseStatus>, Result<(), SendError>, bool),
}

/// An echo that reports; the message `close` closes the session with
/// `4000 bye`.
fn recording_handler(
    tx: mpsc::UnboundedSender<Report>,
) -> impl Fn(Session) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
       + Send
       + Sync
       + Clone
       + 'static {
    move |mut session: Session| {
        let tx = tx.clone();
        Box::pin(async move {
            let opened = Opened {
                id: session.id(),
                sockjs_id: session.sockjs_id().map(str::to_owned),
                transport: session.transport(),
                path: session.path().to_owned(),
                query: session.query().map(str::to_owned),
                room: session.query_param("room").map(String::from),
                remote: session.remote_addr(),
                user_agent: session.header("user-agent").map(str::to_owned),
                user: session.attributes().get("user").map(str::to_owned),
                token: session.attributes().get("token").map(str::to_owned),
                typed: session.attributes().get_typed::<u32>().copied(),
                protocol: session.protocol().map(str::to_owned),
            };
            let _ = tx.send(Report::Opened(Box::new(opened)));
            while let Some(message) = session.next().await {
                let text = String::from_utf8_lossy(message.as_bytes()).into_owned();
                let _ = tx.send(Report::Message(session.id(), text.clone()));
                if text == "close" {
                    session.close(4000, "bye").expect("an open session closes");
                } else {
                    let _ = session.send(message);
                }
            }
            let sent = session.send("after the end");
            let _ = tx.send(Report::Closed(
                session.id(),
                session.close_status(),
                sent,
                session.is_open(),
            ));
        })
    }
}

/// Copies the `user` cookie and the `X-Token` header into the attributes,
/// refuses requests with `X-Deny` (403 `nope`), and counts and reports.
struct Interceptor {
    before: Arc<AtomicUsize>,
    outcomes: mpsc::UnboundedSender<(String, HandshakeOutcome)>,
}

impl HandshakeInterceptor for Interceptor {
    fn before_handshake(
        &self,
        request: &HandshakeRequest,
        attributes: &mut Attributes,
    ) -> Result<(), Rejection> {
        self.before.fetch_add(1, Ordering::SeqCst);
        if request.header("x-deny").is_some() {
            return Err(Rejection::new(StatusCode::FORBIDDEN).body("nope"));
        }
        if let Some(user) = request.cookie("user") {
            attributes.insert("user", user);
        }
        if let Some(token) = request.header("x-token") {
            attributes.insert("token", token);
        }
        attributes.insert_typed(42u32);
        Ok(())
    }

    fn after_handshake(&self, request: &HandshakeRequest, outcome: HandshakeOutcome) {
        let _ = self.outcomes.send((request.path().to_owned(), outcome));
    }
}

/// A server with a recording SockJS endpoint at `/app` (long timings),
/// one at `/fast` (short disconnect delay), and a recording WebSocket
/// endpoint at `/ws`, all behind one [`Interceptor`].
struct Recording {
    server: TestServer,
    reports: mpsc::UnboundedReceiver<Report>,
    outcomes: mpsc::UnboundedReceiver<(String, HandshakeOutcome)>,
    before: Arc<AtomicUsize>,
}

impl Recording {
    fn start<R: ServerRuntime>() -> Self {
        let (tx, reports) = mpsc::unbounded_channel();
        let (outcomes_tx, outcomes) = mpsc::unbounded_channel();
        let before = Arc::new(AtomicUsize::new(0));
        let interceptor = || Interceptor {
            before: Arc::clone(&before),
            outcomes: outcomes_tx.clone(),
        };
        let handler = recording_handler(tx);
        let config = SockJsConfig::default()
            .session_cookie_needed(false)
            .heartbeat_time(Duration::from_secs(30))
            .disconnect_delay(Duration::from_secs(10))
            // The burst of the concurrent senders fits.
            .http_message_cache_size(2000);
        let server = TestServer::start(
            Server::<R>::builder()
                .sockjs(
                    "/app",
                    SockJsEndpoint::new(handler.clone())
                        .config(config.clone())
                        .interceptor(interceptor()),
                )
                .sockjs(
                    "/fast",
                    SockJsEndpoint::new(handler.clone())
                        .config(config.disconnect_delay(DISCONNECT_DELAY))
                        .interceptor(interceptor()),
                )
                .websocket(
                    "/ws",
                    WebSocketEndpoint::new(handler)
                        .protocols(["chat"])
                        .interceptor(interceptor()),
                ),
        );
        Self {
            server,
            reports,
            outcomes,
            before,
        }
    }

    async fn report(&mut self) -> Report {
        within(WAIT, "a handler's report", self.reports.recv())
            .await
            .expect("the handlers live")
    }

    async fn opened(&mut self) -> Opened {
        match self.report().await {
            Report::Opened(o) => *o,
            other => panic!("expected an opening, got {other:?}"),
        }
    }

    async fn outcome(&mut self) -> (String, HandshakeOutcome) {
        within(WAIT, "an interceptor's outcome", self.outcomes.recv())
            .await
            .expect("the interceptors live")
    }

    /// Asserts that no handler reports anything for a short while.
    async fn no_report(&mut self) {
        let got = tokio::time::timeout(Duration::from_millis(100), self.reports.recv()).await;
        assert!(got.is_err(), "unexpected report {got:?}");
    }
}

async fn next_text<S>(ws: &mut WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match within(WAIT, "a WebSocket message", ws.recv()).await {
        Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// A WebSocket to `target` on `addr` with extra headers (and protocols).
async fn ws_connect(
    addr: SocketAddr,
    target: &str,
    headers: &[(&str, &str)],
    protocols: &[&str],
) -> Result<WebSocketStream<TcpStream>, adapter_tokio::Error> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let mut request = ClientRequest::new(addr.to_string(), target);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    for p in protocols {
        request = request.protocol(*p);
    }
    within(WAIT, "the handshake", adapter_tokio::connect(tcp, request))
        .await
        .map(|(ws, _)| ws)
}

// ---- what a session knows ------------------------------------------------------------

async fn a_session_knows_the_request_that_opened_it<R: ServerRuntime>() {
    let mut rec = Recording::start::<R>();
    let addr = rec.server.addr;
    let headers = [
        ("User-Agent", "probe/1.0"),
        ("Cookie", "other=1; user=alice"),
        ("X-Token", "t0k"),
    ];

    // xhr, with a query (its parameters decoded on demand).
    let mut c = rec.server.client().await;
    let res = c
        .roundtrip(
            "POST",
            "/app/000/s1/xhr?t=1&room=caf%C3%A9+au+lait",
            &headers,
            b"",
        )
        .await;
    assert_eq!(res.text(), "o\n");
    let opened = rec.opened().await;
    assert_eq!(
        opened,
        Opened {
            id: opened.id,
            sockjs_id: Some("s1".to_owned()),
            transport: SessionTransport::SockJs(Transport::Xhr),
            path: "/app/000/s1/xhr".to_owned(),
            query: Some("t=1&room=caf%C3%A9+au+lait".to_owned()),
            room: Some("caf\u{e9} au lait".to_owned()),
            remote: c.local_addr(),
            user_agent: Some("probe/1.0".to_owned()),
            user: Some("alice".to_owned()),
            token: Some("t0k".to_owned()),
            typed: Some(42),
            protocol: None,
        }
    );
    assert_eq!(
        rec.outcome().await,
        (
            "/app/000/s1/xhr".to_owned(),
            HandshakeOutcome::Opened(opened.id)
        )
    );

    // eventsource, without the extras.
    let mut es = rec.server.client().await;
    es.request("GET", "/app/000/s2/eventsource", &[], b"").await;
    es.read_head().await;
    let o = rec.opened().await;
    assert_eq!(
        o.transport,
        SessionTransport::SockJs(Transport::EventSource)
    );
    assert_eq!(o.sockjs_id.as_deref(), Some("s2"));
    assert_eq!(
        (o.query, o.user_agent, o.user, o.token),
        (None, None, None, None)
    );
    assert_eq!(o.remote, es.local_addr());
    assert_ne!(o.id, opened.id);
    rec.outcome().await;

    // SockJS websocket.
    let mut ws = ws_connect(addr, "/app/000/s3/websocket?v=2", &headers, &[])
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    let o = rec.opened().await;
    assert_eq!(o.transport, SessionTransport::SockJs(Transport::WebSocket));
    assert_eq!(o.sockjs_id.as_deref(), Some("s3"));
    assert_eq!(o.query.as_deref(), Some("v=2"));
    assert_eq!(o.user.as_deref(), Some("alice"));
    assert_eq!(o.token.as_deref(), Some("t0k"));
    rec.outcome().await;

    // The raw WebSocket: no SockJS id.
    let _raw = ws_connect(addr, "/app/websocket", &headers, &[])
        .await
        .unwrap();
    let o = rec.opened().await;
    assert_eq!(
        o.transport,
        SessionTransport::SockJs(Transport::RawWebSocket)
    );
    assert_eq!(o.sockjs_id, None);
    assert_eq!(o.user_agent.as_deref(), Some("probe/1.0"));
    rec.outcome().await;

    // The plain WebSocket endpoint, with a subprotocol.
    let _plain = ws_connect(addr, "/ws?room=1%2B1%zz", &headers, &["other", "chat"])
        .await
        .unwrap();
    let o = rec.opened().await;
    assert_eq!(o.transport, SessionTransport::WebSocket);
    assert_eq!(o.sockjs_id, None);
    assert_eq!(o.path, "/ws");
    assert_eq!(o.query.as_deref(), Some("room=1%2B1%zz"));
    assert_eq!(o.room.as_deref(), Some("1+1%zz"));
    assert_eq!(o.protocol.as_deref(), Some("chat"));
    assert_eq!(o.user.as_deref(), Some("alice"));
    assert_eq!(o.typed, Some(42));
    rec.outcome().await;
}

// ---- interceptors ------------------------------------------------------------------------

async fn a_refusing_interceptor_answers_its_response_and_opens_nothing<R: ServerRuntime>() {
    let mut rec = Recording::start::<R>();
    let addr = rec.server.addr;
    let mut c = rec.server.client().await;
    let deny = [("X-Deny", "1")];
    c.request("POST", "/app/000/no/xhr", &deny, b"").await;
    // With the CORS headers of the endpoint's answers (no Origin: `*`).
    let expected = "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=UTF-8\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 4\r\n\r\nnope";
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );
    assert_eq!(
        rec.outcome().await,
        (
            "/app/000/no/xhr".to_owned(),
            HandshakeOutcome::Refused(StatusCode::FORBIDDEN)
        )
    );
    rec.no_report().await;
    assert_eq!(rec.server.handle.sockjs_sessions(), 0);
    // No session: sends are 404; the connection goes on.
    let res = c.post("/app/000/no/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 404);

    // The streaming transports and the WebSockets are refused alike.
    c.request("POST", "/app/000/no/xhr_streaming", &deny, b"")
        .await;
    let res = c.read_response().await;
    assert_eq!((res.status(), res.text()), (403, "nope"));
    rec.outcome().await;
    for target in ["/app/000/no/websocket", "/app/websocket", "/ws"] {
        let refused = ws_connect(addr, target, &deny, &[]).await;
        assert!(refused.is_err(), "{target}: {refused:?}");
        assert_eq!(
            rec.outcome().await,
            (
                target.to_owned(),
                HandshakeOutcome::Refused(StatusCode::FORBIDDEN)
            )
        );
    }
    // Seen on the wire: the 403, not a 101.
    let mut raw = rec.server.client().await;
    raw.send(format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nX-Deny: 1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ))
    .await;
    let res = raw.read_response().await;
    assert_eq!((res.status(), res.text()), (403, "nope"));
    rec.outcome().await;
    rec.no_report().await;
    assert_eq!(rec.server.handle.sockjs_sessions(), 0);
}

async fn interceptors_run_only_for_requests_that_open_a_session<R: ServerRuntime>() {
    let mut rec = Recording::start::<R>();
    let before = Arc::clone(&rec.before);
    let mut c = rec.server.client().await;
    assert_eq!(c.post("/app/000/once/xhr", "").await.text(), "o\n");
    rec.opened().await;
    rec.outcome().await;
    assert_eq!(before.load(Ordering::SeqCst), 1);
    // Requests that do not open a session.
    assert_eq!(
        c.post("/app/000/once/xhr_send", r#"["a"]"#).await.status(),
        204
    );
    assert_eq!(c.post("/app/000/once/xhr", "").await.text(), "a[\"a\"]\n");
    assert_eq!(c.get("/app/info").await.status(), 200);
    assert_eq!(c.get("/app").await.status(), 200);
    assert_eq!(c.get("/app/iframe.html").await.status(), 200);
    assert_eq!(
        c.roundtrip("OPTIONS", "/app/000/other/xhr", &[], b"")
            .await
            .status(),
        204
    );
    assert_eq!(
        c.roundtrip("POST", "/app/000/once/jsonp_send", &[], br#"["b"]"#)
            .await
            .text(),
        "ok"
    );
    assert_eq!(
        c.post("/app/000/nobody/xhr_send", r#"["c"]"#)
            .await
            .status(),
        404
    );
    assert_eq!(before.load(Ordering::SeqCst), 1);
    // A new session: once more.
    c.request("POST", "/app/000/twice/xhr_streaming", &[], b"")
        .await;
    c.read_head().await;
    assert_eq!(before.load(Ordering::SeqCst), 2);
    assert!(matches!(rec.outcome().await.1, HandshakeOutcome::Opened(_)));
    // No outcome for the others.
    let extra = tokio::time::timeout(Duration::from_millis(50), rec.outcomes.recv()).await;
    assert!(extra.is_err(), "{extra:?}");
}

async fn a_preflight_does_not_run_the_interceptors<R: ServerRuntime>() {
    // Browsers send no cookies on a CORS preflight: an interceptor that
    // wants one must not see the preflight, or cross-origin xhr breaks.
    let server = TestServer::start(
        Server::<R>::builder().sockjs(
            "/auth",
            SockJsEndpoint::new(|_session| async {})
                .config(SockJsConfig::default().allowed_origins(AllowedOrigins::Any))
                .before_handshake(|request, _| match request.cookie("user") {
                    Some(_) => Ok(()),
                    None => Err(Rejection::new(StatusCode::UNAUTHORIZED)),
                }),
        ),
    );
    let mut c = server.client().await;
    let origin = ("Origin", "http://app.test");
    for transport in ["xhr", "xhr_streaming"] {
        let res = c
            .roundtrip(
                "OPTIONS",
                &format!("/auth/000/pre/{transport}"),
                &[origin, ("Access-Control-Request-Method", "POST")],
                b"",
            )
            .await;
        assert_eq!(res.status(), 204, "{transport}: {}", res.head.raw);
        assert_eq!(res.header("Access-Control-Allow-Origin"), "http://app.test");
    }
    let res = c
        .roundtrip("POST", "/auth/000/pre/xhr", &[origin], b"")
        .await;
    // `Rejection::new(401)`: the reason phrase, in the status line and as
    // the body; with the CORS headers of the endpoint's answers, so that
    // the page can read it.
    assert_eq!(
        format!("{}{}", res.head.raw, res.text()),
        "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain; charset=UTF-8\r\n\
         Access-Control-Allow-Origin: http://app.test\r\nAccess-Control-Allow-Credentials: true\r\n\
         Vary: Origin\r\nContent-Length: 12\r\n\r\nUnauthorized"
    );
    let res = c
        .roundtrip(
            "POST",
            "/auth/000/pre/xhr",
            &[origin, ("Cookie", "user=alice")],
            b"",
        )
        .await;
    assert_eq!(res.text(), "o\n");
}

// ---- the Handler trait ---------------------------------------------------------------------

/// Records every event as a line.
struct Lines(mpsc::UnboundedSender<String>);

impl Handler for Lines {
    async fn on_open(&self, session: &SessionSender) {
        let _ = self.0.send(format!("open {:?}", session.sockjs_id()));
    }

    async fn on_message(&self, session: &SessionSender, message: Message) {
        let text = String::from_utf8_lossy(message.as_bytes()).into_owned();
        // A handler that takes its time: the next message waits for it.
        rt::yield_now().await;
        let _ = self.0.send(format!("message {text}"));
        let _ = session.send(message);
    }

    async fn on_close(&self, _session: &SessionSender, status: &CloseStatus) {
        let _ = self
            .0
            .send(format!("close {} {:?}", status.code, status.reason));
    }
}

async fn handler_events_come_in_order_with_the_close_status<R: ServerRuntime>() {
    let (tx, mut lines) = mpsc::unbounded_channel();
    let server = TestServer::start(
        Server::<R>::builder()
            .sockjs(
                "/h",
                SockJsEndpoint::handler(Lines(tx.clone())).config(
                    SockJsConfig::default()
                        .session_cookie_needed(false)
                        .heartbeat_time(Duration::from_secs(30)),
                ),
            )
            .websocket("/hw", WebSocketEndpoint::handler(Lines(tx))),
    );
    let mut next = async || {
        within(WAIT, "a handler event", lines.recv())
            .await
            .expect("the handlers live")
    };

    // SockJS over WebSocket: the client closes with 4001.
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/h/000/hs/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    ws.send(r#"["a","b"]"#).await.unwrap();
    ws.send(r#"["c"]"#).await.unwrap();
    let mut echoed = Vec::new();
    while echoed.len() < 3 {
        echoed.extend(frame_messages(&next_text(&mut ws).await));
    }
    assert_eq!(echoed, ["a", "b", "c"]);
    ws.close(CloseCode::from(4001), "done").await.unwrap();
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    assert_eq!(next().await, "open Some(\"hs\")");
    assert_eq!(next().await, "message a");
    assert_eq!(next().await, "message b");
    assert_eq!(next().await, "message c");
    // The SockJS core keeps the client's code (not its reason).
    assert_eq!(next().await, "close 4001 \"\"");

    // The plain WebSocket endpoint: code and reason.
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/hw"))
        .await
        .unwrap();
    ws.send("x").await.unwrap();
    assert_eq!(next_text(&mut ws).await, "x");
    ws.close(CloseCode::from(4002), "over").await.unwrap();
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    assert_eq!(next().await, "open None");
    assert_eq!(next().await, "message x");
    assert_eq!(next().await, "close 4002 \"over\"");

    // SockJS over xhr: the client goes away mid-stream.
    let mut stream = server.client().await;
    stream
        .request("POST", "/h/000/hx/xhr_streaming", &[], b"")
        .await;
    stream.read_head().await;
    stream.read_chunk().await;
    assert_eq!(next().await, "open Some(\"hx\")");
    stream.abort();
    assert_eq!(next().await, "close 1002 \"Connection interrupted\"");
}

// ---- sending ---------------------------------------------------------------------------------

/// 10 tasks (on the server's executor) each send 100 messages `task:seq`
/// through clones of the session's sender, at once; then `done`.
async fn burst_handler<R: ServerRuntime>(mut session: Session) {
    let tasks: Vec<_> = (0..10)
        .map(|task| {
            let sender = session.sender();
            rt::spawn::<R, _>(async move {
                for seq in 0..100 {
                    sender
                        .send(format!("{task}:{seq}"))
                        .expect("room for the burst");
                    if seq % 7 == 0 {
                        rt::yield_now().await;
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await;
    }
    session.send("done").expect("room for the marker");
    // Keep the session until the client is done.
    while session.next().await.is_some() {}
}

/// Checks that `messages` hold every `task:seq` once, in order per task,
/// then the marker `done` (and nothing else: the marker is the last thing
/// the handler sends).
#[track_caller]
fn assert_burst(messages: &[String]) {
    let (marker, messages) = messages.split_last().expect("messages");
    assert_eq!(marker, "done");
    assert_eq!(messages.len(), 1000);
    let mut next: HashMap<u32, u32> = HashMap::new();
    for m in messages {
        let (task, seq) = m.split_once(':').expect("task:seq");
        let (task, seq): (u32, u32) = (task.parse().unwrap(), seq.parse().unwrap());
        let expected = next.entry(task).or_insert(0);
        assert_eq!(seq, *expected, "task {task} out of order");
        *expected += 1;
    }
    assert_eq!(next.len(), 10);
    assert!(next.values().all(|&n| n == 100), "{next:?}");
}

async fn concurrent_senders_deliver_every_message_once_in_order_per_task<R: ServerRuntime>() {
    let server = TestServer::start(
        Server::<R>::builder().sockjs(
            "/burst",
            SockJsEndpoint::new(burst_handler::<R>).config(
                SockJsConfig::default()
                    .session_cookie_needed(false)
                    .heartbeat_time(Duration::from_secs(30))
                    .http_message_cache_size(2000),
            ),
        ),
    );
    // Over a WebSocket.
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/burst/000/bw/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    let mut messages = Vec::new();
    while !messages.contains(&"done".to_owned()) {
        messages.extend(frame_messages(&next_text(&mut ws).await));
    }
    assert_burst(&messages);

    // Over xhr_streaming.
    let mut stream = server.client().await;
    stream
        .request("POST", "/burst/000/bx/xhr_streaming", &[], b"")
        .await;
    stream.read_head().await;
    let mut data = String::new();
    let mut messages = Vec::new();
    while !messages.contains(&"done".to_owned()) {
        data.push_str(&String::from_utf8(stream.read_chunk().await.expect("a chunk")).unwrap());
        while let Some((frame, rest)) = data.split_once('\n') {
            if frame.starts_with('a') {
                messages.extend(frame_messages(frame));
            } else {
                assert!(
                    frame == "o" || frame == xhr_streaming_prelude().trim_end(),
                    "{frame:.40}"
                );
            }
            data = rest.to_owned();
        }
    }
    assert_burst(&messages);
    assert_eq!(data, "", "nothing after the marker");
    stream.expect_nothing_buffered();
}

// ---- closing -----------------------------------------------------------------------------------

async fn session_close_sends_its_close_frame_on_every_transport<R: ServerRuntime>() {
    let mut rec = Recording::start::<R>();
    // xhr: the close frame, to this poll and the next ones.
    let mut c = rec.server.client().await;
    assert_eq!(c.post("/app/000/cx/xhr", "").await.text(), "o\n");
    let id = rec.opened().await.id;
    rec.outcome().await;
    assert_eq!(
        c.post("/app/000/cx/xhr_send", r#"["close"]"#)
            .await
            .status(),
        204
    );
    assert_eq!(rec.report().await, Report::Message(id, "close".to_owned()));
    for _ in 0..2 {
        assert_eq!(
            c.post("/app/000/cx/xhr", "").await.text(),
            "c[4000,\"bye\"]\n"
        );
    }
    assert_eq!(
        rec.report().await,
        Report::Closed(
            id,
            Some(CloseStatus::new(4000, "bye")),
            Err(SendError::Closed),
            false
        )
    );
    // Sends to it now: refused.
    let res = c.post("/app/000/cx/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 404, "{}", res.text());

    // WebSocket: the close frame as a message, then a close with the code.
    let (mut ws, _) = adapter_tokio::connect_url(&rec.server.ws_url("/app/000/cw/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    let id = rec.opened().await.id;
    rec.outcome().await;
    ws.send(r#"["close"]"#).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "c[4000,\"bye\"]");
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    let frame = ws.peer_close_frame().expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (4000, "bye")
    );
    assert_eq!(rec.report().await, Report::Message(id, "close".to_owned()));
    assert_eq!(
        rec.report().await,
        Report::Closed(
            id,
            Some(CloseStatus::new(4000, "bye")),
            Err(SendError::Closed),
            false
        )
    );

    // The plain WebSocket endpoint: the close frame.
    let (mut ws, _) = adapter_tokio::connect_url(&rec.server.ws_url("/ws"))
        .await
        .unwrap();
    let id = rec.opened().await.id;
    rec.outcome().await;
    ws.send("close").await.unwrap();
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    let frame = ws.peer_close_frame().expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (4000, "bye")
    );
    assert_eq!(rec.report().await, Report::Message(id, "close".to_owned()));
    assert_eq!(
        rec.report().await,
        Report::Closed(
            id,
            Some(CloseStatus::new(4000, "bye")),
            Err(SendError::Closed),
            false
        )
    );
}

async fn the_close_status_says_how_the_client_left<R: ServerRuntime>() {
    let mut rec = Recording::start::<R>();
    // A SockJS WebSocket closed by the client.
    let (mut ws, _) = adapter_tokio::connect_url(&rec.server.ws_url("/app/000/cc/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    let id = rec.opened().await.id;
    ws.close(CloseCode::from(4001), "done").await.unwrap();
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    match rec.report().await {
        Report::Closed(i, Some(status), Err(SendError::Closed), false) if i == id => {
            assert_eq!(status.code, 4001);
        }
        other => panic!("{other:?}"),
    }

    // A WebSocket that drops without a close frame: interrupted.
    let ws = ws_connect(rec.server.addr, "/app/000/cd/websocket", &[], &[])
        .await
        .unwrap();
    let id = rec.opened().await.id;
    drop(ws);
    assert_eq!(
        rec.report().await,
        Report::Closed(
            id,
            Some(CloseStatus::new(1002, "Connection interrupted")),
            Err(SendError::Closed),
            false
        )
    );

    // An xhr client that goes away mid-poll: interrupted.
    let mut c = rec.server.client().await;
    assert_eq!(c.post("/app/000/ci/xhr", "").await.text(), "o\n");
    let id = rec.opened().await.id;
    rec.server.waiting_poll("/app/000/ci/xhr").await.abort();
    assert_eq!(
        rec.report().await,
        Report::Closed(
            id,
            Some(CloseStatus::new(1002, "Connection interrupted")),
            Err(SendError::Closed),
            false
        )
    );

    // An xhr client that stops polling: expired after the disconnect delay.
    let mut c = rec.server.client().await;
    assert_eq!(c.post("/fast/000/ce/xhr", "").await.text(), "o\n");
    let since = Instant::now();
    let id = rec.opened().await.id;
    let report = within(DISCONNECT_DELAY * 3, "the expiry", rec.reports.recv())
        .await
        .expect("a report");
    let took = since.elapsed();
    assert!(took >= DISCONNECT_DELAY / 2, "expired after {took:?}");
    assert_eq!(
        report,
        Report::Closed(
            id,
            Some(CloseStatus::new(1001, "Session expired")),
            Err(SendError::Closed),
            false
        )
    );
    // And gone: the id opens a new session.
    assert_eq!(c.post("/fast/000/ce/xhr", "").await.text(), "o\n");
    assert_ne!(rec.opened().await.id, id);
}

async fn the_close_status_is_the_close_frame_the_client_got<R: ServerRuntime>() {
    let mut rec = Recording::start::<R>();
    // Broken JSON (1007, Spring's BAD_DATA) and a binary message (1003) on
    // a SockJS WebSocket: the handler is told the code and reason the
    // client got.
    for (session, bad, code) in [
        ("bj", Message::from("[\"x"), 1007),
        ("bb", Message::from(vec![1u8]), 1003),
    ] {
        let target = format!("/app/000/{session}/websocket");
        let (mut ws, _) = adapter_tokio::connect_url(&rec.server.ws_url(&target))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "o");
        let id = rec.opened().await.id;
        ws.send(bad).await.unwrap();
        assert!(within(WAIT, "the end", ws.recv()).await.is_none());
        let frame = ws.peer_close_frame().expect("a close frame").clone();
        assert_eq!(frame.code, code);
        match rec.report().await {
            Report::Closed(i, Some(status), _, false) if i == id => {
                assert_eq!(status, CloseStatus::new(frame.code, frame.reason));
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A producer that waits for room (`send_async` and the `Sink`) goes at the
/// client's pace instead of overflowing: 300 messages into a SockJS session
/// whose cache holds 4 messages and 64 bytes, read by xhr polls, and into a
/// WebSocket whose send buffer holds 64 bytes. Every message arrives once,
/// in order, and the session stays open. With `send`, the first would close
/// on the 5th message (4500), the second on the 3rd.
async fn a_waiting_sender_never_overflows_a_small_buffer<R: ServerRuntime>() {
    use futures_util::SinkExt;
    const COUNT: usize = 300;
    let push = |mut session: Session| async move {
        let mut sender = session.sender();
        for i in 0..COUNT {
            if i % 2 == 0 {
                session.send_async(format!("m{i:03}")).await.expect("open");
            } else {
                // The `Sink` (the inherent `send` does not wait).
                SinkExt::send(&mut sender, Message::from(format!("m{i:03}")))
                    .await
                    .expect("open");
            }
        }
        session.send_async("done").await.expect("open");
        while session.next().await.is_some() {}
    };
    let server = TestServer::start(
        Server::<R>::builder()
            .sockjs(
                "/push",
                SockJsEndpoint::new(push).config(
                    SockJsConfig::default()
                        .session_cookie_needed(false)
                        .http_message_cache_size(4)
                        .send_buffer_size_limit(64),
                ),
            )
            .websocket(
                "/pushws",
                WebSocketEndpoint::new(push).send_buffer_size_limit(64),
            ),
    );
    let expected: Vec<String> = (0..COUNT)
        .map(|i| format!("m{i:03}"))
        .chain(["done".to_owned()])
        .collect();

    // xhr polling: each poll takes what waits, at most 4 messages.
    let mut client = server.client().await;
    assert_eq!(client.post("/push/000/p/xhr", "").await.text(), "o\n");
    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while received.len() < expected.len() && Instant::now() < deadline {
        let body = client.post("/push/000/p/xhr", "").await.text().to_owned();
        assert!(body.starts_with("a["), "only messages, no close: {body:?}");
        let messages = frame_messages(body.trim_end());
        assert!(messages.len() <= 5, "the cache's bound, plus one: {body:?}");
        received.extend(messages);
    }
    assert_eq!(received, expected);

    // WebSocket.
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/pushws"))
        .await
        .unwrap();
    let mut received = Vec::new();
    while received.len() < expected.len() {
        match within(WAIT, "an echo", ws.recv()).await {
            Some(Ok(Message::Text(text))) => received.push(text.as_str().to_owned()),
            other => panic!("a text message, not {other:?}"),
        }
    }
    assert_eq!(received, expected);
}

sockway_tests::for_each_runtime! {
    a_session_knows_the_request_that_opened_it,
    a_refusing_interceptor_answers_its_response_and_opens_nothing,
    interceptors_run_only_for_requests_that_open_a_session,
    a_preflight_does_not_run_the_interceptors,
    handler_events_come_in_order_with_the_close_status,
    concurrent_senders_deliver_every_message_once_in_order_per_task: multi_thread,
    session_close_sends_its_close_frame_on_every_transport,
    the_close_status_says_how_the_client_left,
    the_close_status_is_the_close_frame_the_client_got,
    a_waiting_sender_never_overflows_a_small_buffer: multi_thread,
}
