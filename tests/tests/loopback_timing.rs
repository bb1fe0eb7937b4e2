//! Timing and lifecycle of the ready server over loopback, with a short
//! heartbeat (200 ms) and disconnect delay (300 ms): heartbeats on every
//! receiving transport, the expiry of sessions without a receiver, the
//! removal of closed sessions, and the graceful shutdown.
//!
//! Timers are awaited through bounded reads (or a bounded poll of the
//! session count); a timer's effect must come between half and three
//! times its configured value.

#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

use std::future::Future;
use std::time::Duration;

use adapter_tokio::{Message, WebSocketStream};
use sockway_tests::loopback::{
    eventually, serve_options, within, xhr_streaming_prelude, Client, TestServer, WAIT,
};
use sockway_tests::runtime::ServerRuntime;
use tokio::net::TcpStream;
use tokio::time::Instant;

const HEARTBEAT: Duration = Duration::from_millis(200);
const DISCONNECT_DELAY: Duration = Duration::from_millis(300);

fn fast<R: ServerRuntime>() -> TestServer {
    TestServer::ready::<R>(&serve_options(HEARTBEAT, DISCONNECT_DELAY))
}

/// Awaits `future`, which must complete between half and three times
/// `timer` after `since`.
async fn after<F: Future>(since: Instant, timer: Duration, what: &str, future: F) -> F::Output {
    let deadline = since + timer * 3;
    let Ok(output) = tokio::time::timeout_at(deadline, future).await else {
        panic!("{what}: not within 3 x {timer:?}");
    };
    let took = since.elapsed();
    assert!(
        took >= timer / 2,
        "{what}: after {took:?}, before half of {timer:?}"
    );
    output
}

/// The next message of `ws`, as text.
async fn next_text(ws: &mut WebSocketStream<TcpStream>) -> String {
    match within(WAIT, "a WebSocket message", ws.recv()).await {
        Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

async fn raw_chunk(c: &mut Client) -> String {
    String::from_utf8(c.read_raw_chunk().await).expect("UTF-8 frames")
}

// ---- heartbeats --------------------------------------------------------------------

async fn heartbeats_on_idle_streams_come_every_heartbeat_time<R: ServerRuntime>() {
    let server = fast::<R>();
    // (transport request, the `h` frame as the transport writes it)
    let cases = [
        ("POST", "/echo/000/hx/xhr_streaming", "2\r\nh\n\r\n"),
        (
            "GET",
            "/echo/000/he/eventsource",
            "B\r\ndata: h\r\n\r\n\r\n",
        ),
        (
            "GET",
            "/echo/000/hh/htmlfile?c=cb",
            "1C\r\n<script>\np(\"h\");\n</script>\r\n\r\n",
        ),
    ];
    let runs = cases.map(|(method, path, h)| {
        let server = &server;
        async move {
            let mut c = server.client().await;
            c.request(method, path, &[], b"").await;
            c.read_head().await;
            c.read_chunk().await.expect("the prelude");
            c.read_chunk().await.expect("the open frame");
            for beat in 0..2 {
                let since = Instant::now();
                let frame = after(since, HEARTBEAT, path, raw_chunk(&mut c)).await;
                assert_eq!(frame, h, "{path}, beat {beat}");
            }
            // The streams kept their sessions past the disconnect delay.
            c
        }
    });
    let [a, b, c] = runs;
    let (_a, _b, _c) = tokio::join!(a, b, c);
    assert_eq!(server.handle.sockjs_sessions(), 3);
}

async fn heartbeat_on_a_sockjs_websocket_and_none_on_the_raw_one<R: ServerRuntime>() {
    let server = fast::<R>();
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/echo/000/hw/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    for _ in 0..2 {
        let since = Instant::now();
        let h = after(since, HEARTBEAT, "websocket h", next_text(&mut ws)).await;
        assert_eq!(h, "h");
    }
    // A message resets nothing for the test, but comes back as usual.
    ws.send(r#"["x"]"#).await.unwrap();
    let mut seen = next_text(&mut ws).await;
    if seen == "h" {
        seen = next_text(&mut ws).await;
    }
    assert_eq!(seen, "a[\"x\"]");

    // The raw WebSocket has no heartbeat.
    let (mut raw, _) = adapter_tokio::connect_url(&server.ws_url("/echo/websocket"))
        .await
        .unwrap();
    let quiet = tokio::time::timeout(HEARTBEAT * 2, raw.recv()).await;
    assert!(quiet.is_err(), "nothing on the raw WebSocket: {quiet:?}");
}

async fn a_waiting_poll_ends_with_h_at_heartbeat_time<R: ServerRuntime>() {
    let server = fast::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/hp/xhr", "").await.text(), "o\n");
    let since = Instant::now();
    let res = after(since, HEARTBEAT, "xhr h", c.post("/echo/000/hp/xhr", "")).await;
    assert_eq!(res.text(), "h\n");
    assert_eq!(res.header("Content-Length"), "2");

    assert_eq!(
        c.get("/echo/000/hj/jsonp?c=cb").await.text(),
        "/**/cb(\"o\");\r\n"
    );
    let since = Instant::now();
    let res = after(
        since,
        HEARTBEAT,
        "jsonp h",
        c.get("/echo/000/hj/jsonp?c=cb"),
    )
    .await;
    assert_eq!(res.text(), "/**/cb(\"h\");\r\n");
}

// ---- disconnect delay ----------------------------------------------------------------

async fn a_session_without_receiver_is_gone_after_the_disconnect_delay<R: ServerRuntime>() {
    let server = fast::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/dd/xhr", "").await.text(), "o\n");
    let since = Instant::now();
    assert_eq!(server.handle.sockjs_sessions(), 1);
    let handle = server.handle.clone();
    after(
        since,
        DISCONNECT_DELAY,
        "the session's expiry",
        eventually(WAIT, "no session", || handle.sockjs_sessions() == 0),
    )
    .await;
    // Gone: a send is 404, a poll opens a new session.
    let res = c.post("/echo/000/dd/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 404);
    assert_eq!(c.post("/echo/000/dd/xhr", "").await.text(), "o\n");
}

async fn a_closed_session_answers_its_close_frame_until_removed<R: ServerRuntime>() {
    let server = fast::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/close/000/cs/xhr", "").await.text(), "o\n");
    for _ in 0..3 {
        assert_eq!(
            c.post("/close/000/cs/xhr", "").await.text(),
            "c[3000,\"Go away!\"]\n"
        );
    }
    c.request("POST", "/close/000/cs/xhr_streaming", &[], b"")
        .await;
    let res = c.read_response().await;
    assert_eq!(
        res.text(),
        format!("{}c[3000,\"Go away!\"]\n", xhr_streaming_prelude())
    );
    let since = Instant::now();
    let handle = server.handle.clone();
    after(
        since,
        DISCONNECT_DELAY,
        "the closed session's removal",
        eventually(WAIT, "no session", || handle.sockjs_sessions() == 0),
    )
    .await;
    // Removed: the id opens a new session (which /close closes again).
    assert_eq!(c.post("/close/000/cs/xhr", "").await.text(), "o\n");
}

async fn an_interrupted_session_is_removed_after_the_disconnect_delay<R: ServerRuntime>() {
    let server = fast::<R>();
    let mut stream = server.client().await;
    stream
        .request("POST", "/echo/000/ir/xhr_streaming", &[], b"")
        .await;
    stream.read_head().await;
    stream.read_chunk().await;
    stream.abort();
    let since = Instant::now();
    let handle = server.handle.clone();
    after(
        since,
        DISCONNECT_DELAY,
        "the interrupted session's removal",
        eventually(WAIT, "no session", || handle.sockjs_sessions() == 0),
    )
    .await;
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/ir/xhr", "").await.text(), "o\n");
}

// ---- graceful shutdown -------------------------------------------------------------------

async fn shutdown_closes_every_session_and_serve_returns<R: ServerRuntime>() {
    const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(4);
    let options = serve_options(Duration::from_secs(30), Duration::from_secs(10));
    let server =
        TestServer::start(sockway_cli::endpoints::<R>(&options).shutdown_timeout(SHUTDOWN_TIMEOUT));

    // An xhr_streaming receiver.
    let mut stream = server.client().await;
    stream
        .request("POST", "/echo/000/sd/xhr_streaming", &[], b"")
        .await;
    stream.read_head().await;
    stream.read_chunk().await.expect("the prelude");
    assert_eq!(raw_chunk(&mut stream).await, "2\r\no\n\r\n");
    // A waiting xhr poll.
    let mut poll = server.client().await;
    assert_eq!(poll.post("/echo/000/sp/xhr", "").await.text(), "o\n");
    poll.request("POST", "/echo/000/sp/xhr", &[], b"").await;
    // A SockJS WebSocket and a plain one.
    let (mut sockjs_ws, _) = adapter_tokio::connect_url(&server.ws_url("/echo/000/sw/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut sockjs_ws).await, "o");
    let (mut plain_ws, _) = adapter_tokio::connect_url(&server.ws_url("/ws"))
        .await
        .unwrap();
    plain_ws.send("hi").await.unwrap();
    assert_eq!(next_text(&mut plain_ws).await, "hi");
    // An idle kept-alive connection.
    let mut idle = server.client().await;
    assert_eq!(idle.get("/echo").await.status(), 200);
    assert_eq!(server.handle.sockjs_sessions(), 3);

    let clients = async {
        let stream = async {
            assert_eq!(
                raw_chunk(&mut stream).await,
                "1F\r\nc[1001,\"Server shutting down\"]\n\r\n"
            );
            assert_eq!(raw_chunk(&mut stream).await, "0\r\n\r\n");
            stream.expect_eof().await;
        };
        let poll = async {
            let res = poll.read_response().await;
            assert_eq!(res.text(), "c[1001,\"Server shutting down\"]\n");
            poll.expect_eof().await;
        };
        let sockjs_ws = async {
            assert_eq!(
                next_text(&mut sockjs_ws).await,
                "c[1001,\"Server shutting down\"]"
            );
            let end = within(WAIT, "the end", sockjs_ws.recv()).await;
            assert!(end.is_none(), "{end:?}");
            let frame = sockjs_ws.peer_close_frame().expect("a close frame");
            assert_eq!(
                (u16::from(frame.code), frame.reason.as_str()),
                (1001, "Server shutting down")
            );
        };
        let plain_ws = async {
            let end = within(WAIT, "the end", plain_ws.recv()).await;
            assert!(end.is_none(), "{end:?}");
            let frame = plain_ws.peer_close_frame().expect("a close frame");
            assert_eq!(
                (u16::from(frame.code), frame.reason.as_str()),
                (1001, "Server shutting down")
            );
        };
        let idle = idle.expect_eof();
        tokio::join!(stream, poll, sockjs_ws, plain_ws, idle);
    };
    let addr = server.addr;
    let (took, ()) = tokio::join!(server.shutdown(SHUTDOWN_TIMEOUT * 2), clients);
    assert!(
        took < SHUTDOWN_TIMEOUT,
        "serve() returned after {took:?}: connections were not drained"
    );
    // Nobody listens any more.
    let refused = within(WAIT, "connect", TcpStream::connect(addr)).await;
    assert!(refused.is_err(), "{refused:?}");
}

sockway_tests::for_each_runtime! {
    heartbeats_on_idle_streams_come_every_heartbeat_time,
    heartbeat_on_a_sockjs_websocket_and_none_on_the_raw_one,
    a_waiting_poll_ends_with_h_at_heartbeat_time,
    a_session_without_receiver_is_gone_after_the_disconnect_delay,
    a_closed_session_answers_its_close_frame_until_removed,
    an_interrupted_session_is_removed_after_the_disconnect_delay,
    shutdown_closes_every_session_and_serve_returns,
}
