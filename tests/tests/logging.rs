//! What the server and the SockJS client log, captured by a `tracing`
//! layer over a loopback server on one runtime (tokio, one thread, so that
//! the test's subscriber sees every task): a SockJS session (opened by
//! sockway's SockJS client) and a plain WebSocket session, opened, used
//! and closed, and requests refused for each reason the server has.
//!
//! It pins the scheme the README's "Logging" documents: the targets
//! (`sockway::server`, `::sockjs`, `::websocket`, `sockway::client`, never
//! a module path), the session span's fields (`session`, `transport`,
//! `path`, `remote`, as Display values) on every event of a session and
//! on the handler's own events, the close code and reason on "session
//! closed", and each refusal's status, path and reason inside the
//! connection's span.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use adapter_core::client::{connect, ClientOptions};
use adapter_core::http::StatusCode;
use adapter_core::server::{
    Attributes, HandshakeRequest, Rejection, Server, Session, SockJsEndpoint, WebSocketEndpoint,
};
use adapter_core::sockjs_proto::Transport;
use adapter_tokio::{CloseCode, Tokio};
use futures_util::future::BoxFuture;
use futures_util::StreamExt as _;
use sockway_tests::loopback::{within, Client};
use tokio::sync::mpsc;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes as SpanAttributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The longest any one step may take.
const LIMIT: Duration = Duration::from_secs(10);

/// The targets sockway logs under.
const TARGETS: [&str; 4] = [
    "sockway::server",
    "sockway::server::sockjs",
    "sockway::server::websocket",
    "sockway::client",
];

/// A span as an event saw it: its name, target, level and fields.
#[derive(Debug, Clone)]
struct SpanSeen {
    name: &'static str,
    target: &'static str,
    level: Level,
    fields: BTreeMap<String, String>,
}

/// An event: its target, level, message and fields, and its spans from
/// the innermost out.
#[derive(Debug, Clone)]
struct EventSeen {
    target: &'static str,
    level: Level,
    message: String,
    fields: BTreeMap<String, String>,
    spans: Vec<SpanSeen>,
}

impl EventSeen {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// The innermost span named `name`.
    fn span(&self, name: &str) -> Option<&SpanSeen> {
        self.spans.iter().find(|s| s.name == name)
    }

    /// The session span's field `name`.
    fn session(&self, name: &str) -> Option<&str> {
        self.span("session")?.fields.get(name).map(String::as_str)
    }
}

/// Fields as strings: Display values as they display, strings as they
/// are (no quotes), numbers and booleans in decimal.
struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// A layer that keeps every event, with its spans.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<EventSeen>>>);

impl Capture {
    fn events(&self) -> Vec<EventSeen> {
        self.0.lock().unwrap().clone()
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &SpanAttributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let meta = attrs.metadata();
        let mut seen = SpanSeen {
            name: meta.name(),
            target: meta.target(),
            level: *meta.level(),
            fields: BTreeMap::new(),
        };
        attrs.record(&mut Fields(&mut seen.fields));
        let span = ctx.span(id).expect("a new span");
        span.extensions_mut().insert(seen);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("a recorded span");
        let mut extensions = span.extensions_mut();
        if let Some(seen) = extensions.get_mut::<SpanSeen>() {
            values.record(&mut Fields(&mut seen.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or_default();
        let spans = ctx.event_scope(event).map_or_else(Vec::new, |scope| {
            scope
                .filter_map(|span| span.extensions().get::<SpanSeen>().cloned())
                .collect()
        });
        self.0.lock().unwrap().push(EventSeen {
            target: meta.target(),
            level: *meta.level(),
            message,
            fields,
            spans,
        });
    }
}

/// Echoes; closes with 4001 "asked to" on the message `close`; logs each
/// message under the application's own target; reports its session's id
/// when the session is over.
fn echo(
    done: mpsc::UnboundedSender<u64>,
) -> impl Fn(Session) -> BoxFuture<'static, ()> + Clone + Send + Sync + 'static {
    move |mut session: Session| {
        let done = done.clone();
        Box::pin(async move {
            while let Some(message) = session.next().await {
                tracing::info!(target: "app", "message");
                if message.as_bytes() == b"close" {
                    let _ = session.close(4001, "asked to");
                } else if session.send(message).is_err() {
                    break;
                }
            }
            let _ = done.send(session.id());
        })
    }
}

/// A raw request and its status, from a client whose address is returned.
async fn status_of(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
) -> (u16, SocketAddr) {
    let mut client = Client::connect(addr).await;
    let response = client.roundtrip(method, target, headers, b"").await;
    (response.status(), client.local_addr())
}

/// What one run logged, and the addresses and ids to find it by.
struct Run {
    events: Vec<EventSeen>,
    /// The server's address.
    addr: SocketAddr,
    /// The session ids the handlers reported, sorted.
    ended: Vec<u64>,
    /// The client address of each refused request: a path with no
    /// endpoint, an interceptor's refusal, a send to no session, an origin
    /// the WebSocket endpoint does not allow.
    nope: SocketAddr,
    private: SocketAddr,
    send: SocketAddr,
    origin: SocketAddr,
}

/// Serves SockJS and WebSocket endpoints over loopback under a capturing
/// subscriber: a session on each, opened, used and closed, and four
/// requests refused.
async fn run() -> Run {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let guard = tracing::subscriber::set_default(subscriber);

    let (done_tx, mut done) = mpsc::unbounded_channel();
    let handler = echo(done_tx);
    let refuse = |_: &HandshakeRequest, _: &mut Attributes| -> Result<(), Rejection> {
        Err(Rejection::new(StatusCode::UNAUTHORIZED))
    };
    let server = Server::<Tokio>::builder()
        .sockjs("/echo", SockJsEndpoint::new(handler.clone()))
        .sockjs(
            "/private",
            SockJsEndpoint::new(handler.clone()).interceptor(refuse),
        )
        .websocket("/ws", WebSocketEndpoint::new(handler))
        .bind("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.handle();
    let serving = tokio::spawn(server.serve());

    // A SockJS session over the websocket transport, closed by the server.
    let options = ClientOptions::default().transports([Transport::WebSocket]);
    let mut sockjs = within(
        LIMIT,
        "the SockJS session to open",
        connect::<Tokio>(&format!("http://{addr}/echo"), options),
    )
    .await
    .unwrap();
    sockjs.send("hello").unwrap();
    let echoed = within(LIMIT, "the SockJS echo", sockjs.next())
        .await
        .unwrap();
    assert_eq!(echoed.as_bytes(), b"hello");
    sockjs.send("close").unwrap();
    let closed = within(LIMIT, "the SockJS close", sockjs.closed()).await;
    assert_eq!(closed.code, CloseCode::from(4001));

    // A plain WebSocket session, closed by the client.
    let (mut ws, _) = adapter_tokio::connect_url(&format!("ws://{addr}/ws"))
        .await
        .unwrap();
    ws.send("hi").await.unwrap();
    let echoed = within(LIMIT, "the WebSocket echo", ws.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(echoed.as_bytes(), b"hi");
    ws.close(CloseCode::from(4002), "over").await.unwrap();
    assert!(within(LIMIT, "the WebSocket's end", ws.recv())
        .await
        .is_none());

    // A WebSocket the server refuses: no endpoint there.
    let refused = adapter_tokio::connect_url(&format!("ws://{addr}/no-websocket")).await;
    assert!(refused.is_err());

    // Both handlers are done: their sessions' close is logged.
    let mut ended = Vec::new();
    for _ in 0..2 {
        ended.push(
            within(LIMIT, "a handler to end", done.recv())
                .await
                .unwrap(),
        );
    }

    // Refused: a path with no endpoint, an interceptor's refusal, a send to
    // no session, an origin the WebSocket endpoint does not allow.
    let (status, nope) = status_of(addr, "GET", "/nope", &[]).await;
    assert_eq!(status, 404);
    let (status, private) = status_of(addr, "POST", "/private/000/abc/xhr", &[]).await;
    assert_eq!(status, 401);
    let (status, send) = status_of(addr, "POST", "/echo/000/nosuch/xhr_send", &[]).await;
    assert_eq!(status, 404);
    let upgrade = [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ("Sec-WebSocket-Version", "13"),
        ("Origin", "http://elsewhere.example"),
    ];
    let (status, origin) = status_of(addr, "GET", "/ws", &upgrade).await;
    assert_eq!(status, 403);

    handle.shutdown();
    within(LIMIT, "the server to stop", serving)
        .await
        .unwrap()
        .unwrap();
    drop(guard);
    ended.sort_unstable();
    Run {
        events: capture.events(),
        addr,
        ended,
        nope,
        private,
        send,
        origin,
    }
}

#[tokio::test]
async fn sessions_and_refusals_are_logged_under_sockway_targets() {
    let run = run().await;
    every_target_is_documented(&run.events);
    let sockjs_path = sessions_are_logged_in_their_spans(&run);
    refusals_are_logged_at_debug(&run);
    the_client_logs_its_session(&run, &sockjs_path);
}

fn every_target_is_documented(events: &[EventSeen]) {
    // Every event and span under a documented target, none under a module
    // path of the crates.
    for event in events {
        for target in std::iter::once(event.target).chain(event.spans.iter().map(|s| s.target)) {
            assert!(
                TARGETS.contains(&target) || target == "app",
                "target {target} on {event:?}"
            );
        }
    }
}

/// The sessions' events: each in its session span, with the four fields,
/// Display values. Returns the SockJS session's path.
fn sessions_are_logged_in_their_spans(run: &Run) -> String {
    let events = &run.events;
    let session_events: Vec<&EventSeen> = events
        .iter()
        .filter(|e| e.target.starts_with("sockway::server::") && e.message != "refused")
        .collect();
    assert!(!session_events.is_empty());
    for event in &session_events {
        let span = event
            .span("session")
            .unwrap_or_else(|| panic!("no session span: {event:?}"));
        assert_eq!(span.target, event.target, "{event:?}");
        assert_eq!(span.level, Level::INFO);
        let names: Vec<&str> = span.fields.keys().map(String::as_str).collect();
        assert_eq!(
            names,
            ["path", "remote", "session", "transport"],
            "{event:?}"
        );
        assert_eq!(span.fields["remote"], "127.0.0.1");
    }
    let find = |target: &str, message: &str| -> &EventSeen {
        session_events
            .iter()
            .find(|e| e.target == target && e.message == message)
            .unwrap_or_else(|| panic!("no {message:?} under {target}: {events:#?}"))
    };

    let sockjs_open = find("sockway::server::sockjs", "session opened");
    let sockjs_closed = find("sockway::server::sockjs", "session closed");
    assert_eq!(sockjs_open.level, Level::DEBUG);
    assert_eq!(sockjs_open.session("transport"), Some("websocket"));
    let sockjs_id = sockjs_open.session("session").unwrap().to_owned();
    assert_eq!(sockjs_closed.session("session"), Some(sockjs_id.as_str()));
    assert_eq!(sockjs_closed.field("code"), Some("4001"));
    assert_eq!(sockjs_closed.field("reason"), Some("asked to"));
    let sockjs_path = sockjs_open.session("path").unwrap().to_owned();
    assert!(
        sockjs_path.starts_with("/echo/") && sockjs_path.ends_with("/websocket"),
        "{sockjs_path}"
    );

    let ws_open = find("sockway::server::websocket", "session opened");
    let ws_closed = find("sockway::server::websocket", "session closed");
    assert_eq!(ws_open.session("transport"), Some("plain_websocket"));
    assert_eq!(ws_open.session("path"), Some("/ws"));
    let ws_id = ws_open.session("session").unwrap().to_owned();
    assert_ne!(ws_id, sockjs_id);
    assert_eq!(ws_closed.session("session"), Some(ws_id.as_str()));
    assert_eq!(ws_closed.field("code"), Some("4002"));
    assert_eq!(ws_closed.field("reason"), Some("over"));

    // The ids the handlers saw; every event of those sessions has it.
    let mut ids = vec![
        sockjs_id.parse::<u64>().unwrap(),
        ws_id.parse::<u64>().unwrap(),
    ];
    ids.sort_unstable();
    assert_eq!(run.ended, ids);

    // The handlers' own events run in their session's span.
    let app: Vec<&EventSeen> = events.iter().filter(|e| e.target == "app").collect();
    assert_eq!(app.len(), 3, "{app:#?}");
    for id in [&sockjs_id, &ws_id] {
        assert!(
            app.iter()
                .any(|e| e.session("session") == Some(id.as_str())),
            "{app:#?}"
        );
    }
    assert!(app.iter().all(|e| e.span("session").is_some()));
    sockjs_path
}

/// Refusals: at debug, with status, method, path and reason, in the span
/// of the connection they came on.
fn refusals_are_logged_at_debug(run: &Run) {
    let events = &run.events;
    let refusal = |peer: SocketAddr| -> &EventSeen {
        events
            .iter()
            .find(|e| {
                e.message == "refused"
                    && e.span("conn").and_then(|c| c.fields.get("peer")) == Some(&peer.to_string())
            })
            .unwrap_or_else(|| panic!("no refusal from {peer}: {events:#?}"))
    };
    let expected = [
        (
            run.nope,
            "sockway::server",
            "404",
            "GET",
            "/nope",
            "no endpoint or page at this path",
        ),
        (
            run.private,
            "sockway::server::sockjs",
            "401",
            "POST",
            "/private/000/abc/xhr",
            "refused by a handshake interceptor",
        ),
        (
            run.send,
            "sockway::server::sockjs",
            "404",
            "POST",
            "/echo/000/nosuch/xhr_send",
            "no such SockJS URL or session, or the transport is off",
        ),
        (
            run.origin,
            "sockway::server::websocket",
            "403",
            "GET",
            "/ws",
            "origin not allowed",
        ),
    ];
    for (peer, target, status, method, path, reason) in expected {
        let event = refusal(peer);
        assert_eq!(event.target, target, "{event:?}");
        assert_eq!(event.level, Level::DEBUG);
        assert_eq!(event.field("status"), Some(status), "{event:?}");
        assert_eq!(event.field("method"), Some(method), "{event:?}");
        assert_eq!(event.field("path"), Some(path), "{event:?}");
        assert_eq!(event.field("reason"), Some(reason), "{event:?}");
        assert_eq!(event.span("conn").unwrap().level, Level::DEBUG);
        assert!(event.span("session").is_none());
    }
    // Requests at trace, in their connection's span.
    let nope_request = events
        .iter()
        .find(|e| e.message == "request" && e.field("uri") == Some("/nope"))
        .expect("the request of /nope at trace");
    assert_eq!(nope_request.level, Level::TRACE);
    assert_eq!(nope_request.target, "sockway::server");
    assert_eq!(
        nope_request.span("conn").unwrap().fields["peer"],
        run.nope.to_string()
    );
}

/// The client: its session span with the same fields, the transport and
/// the SockJS session id (which the server's path shows) recorded at the
/// open.
fn the_client_logs_its_session(run: &Run, sockjs_path: &str) {
    let events = &run.events;
    let client = |message: &str| -> &EventSeen {
        events
            .iter()
            .find(|e| e.target == "sockway::client" && e.message == message)
            .unwrap_or_else(|| panic!("no client {message:?}: {events:#?}"))
    };
    let opened = client("session opened");
    let span = opened.span("session").expect("the client's session span");
    assert_eq!(span.target, "sockway::client");
    let names: Vec<&str> = span.fields.keys().map(String::as_str).collect();
    assert_eq!(names, ["path", "remote", "session", "transport"]);
    assert_eq!(span.fields["transport"], "websocket");
    assert_eq!(span.fields["path"], "/echo");
    assert_eq!(span.fields["remote"], run.addr.to_string());
    let sockjs_session = &span.fields["session"];
    assert!(
        sockjs_path.contains(&format!("/{sockjs_session}/")),
        "{sockjs_path} {sockjs_session}"
    );
    let closed = client("session closed");
    assert_eq!(closed.field("code"), Some("4001"));
    assert_eq!(closed.field("reason"), Some("asked to"));
    assert_eq!(closed.session("session"), Some(sockjs_session.as_str()));

    // The plain WebSocket client: its connects, the refused one with why.
    let connected = client("websocket connected");
    let url = format!("ws://{}/ws", run.addr);
    assert_eq!(connected.field("url"), Some(url.as_str()));
    assert_eq!(connected.level, Level::DEBUG);
    let failed = client("websocket connect failed");
    let url = format!("ws://{}/no-websocket", run.addr);
    assert_eq!(failed.field("url"), Some(url.as_str()));
    let error = failed.field("error").expect("the error");
    assert!(error.contains("404"), "{error}");
}
