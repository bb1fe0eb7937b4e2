//! Timing and lifecycle of the ready server over loopback: heartbeats on
//! every receiving transport, the expiry of sessions without a receiver,
//! the removal of closed sessions, and the graceful shutdown.
//!
//! The timers themselves are pinned on simulated time, to the nanosecond,
//! by the sans-IO core's tests (`sockjs-proto/tests/timing.rs`). What these
//! tests add is that each adapter arms a real timer from the core's
//! deadline and acts on it, on every runtime. So each effect must come
//! within a window that holds its own timer's value and no wrong one:
//!
//! - a timer never fires early, so a window starts at the timer's value,
//!   counted from an instant taken *before* the event that armed it (the
//!   request that opened the stream, the poll, the abort);
//! - it ends [`LATE`] after, which is far below any wrong value: below the
//!   other timer's value (heartbeat 400 ms, disconnect delay 2 s, so
//!   swapping them fails both windows) and below 2.25 times the value (a
//!   timer armed twice as long, or firing 2.9 times late, fails);
//! - [`LATE`] (450 ms) is what the effect may lag on a loaded 2-core machine
//!   running the tests in parallel: the most seen was 80 ms (the sixth beat
//!   of a stream, each beat counting from the one before, with a release
//!   build and other test runs sharing the two cores, load average 7.5);
//!   unloaded, 1 ms per beat.
//!
//! Where order tells more than time (the raw WebSocket gets no heartbeat
//! while the SockJS one beside it gets two), the test checks the order.

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

const HEARTBEAT_MS: u64 = 400;
const DISCONNECT_DELAY_MS: u64 = 2000;
const LATE_MS: u64 = 450;
const HEARTBEAT: Duration = Duration::from_millis(HEARTBEAT_MS);
const DISCONNECT_DELAY: Duration = Duration::from_millis(DISCONNECT_DELAY_MS);
/// How late after its timer's value an effect may be seen.
const LATE: Duration = Duration::from_millis(LATE_MS);

// No window holds a wrong value (see the module's documentation).
const _: () = {
    // A heartbeat armed with the disconnect delay misses the heartbeat's
    // window, and an expiry armed with the heartbeat time comes before the
    // disconnect delay's.
    assert!(HEARTBEAT_MS + LATE_MS < DISCONNECT_DELAY_MS);
    // A timer 2.25 times late (or later) misses its window.
    assert!(4 * (HEARTBEAT_MS + LATE_MS) < 9 * HEARTBEAT_MS);
    assert!(4 * (DISCONNECT_DELAY_MS + LATE_MS) < 9 * DISCONNECT_DELAY_MS);
};

fn fast<R: ServerRuntime>() -> TestServer {
    TestServer::ready::<R>(&serve_options(HEARTBEAT, DISCONNECT_DELAY))
}

/// Awaits `future`, which must complete between `timer` and `timer` +
/// [`LATE`] after `since` (an instant taken before the timer was armed).
async fn after<F: Future>(since: Instant, timer: Duration, what: &str, future: F) -> F::Output {
    let deadline = since + timer + LATE;
    let Ok(output) = tokio::time::timeout_at(deadline, future).await else {
        panic!(
            "{what}: not within {timer:?} + {LATE:?} (after {:?})",
            since.elapsed()
        );
    };
    let took = since.elapsed();
    assert!(took >= timer, "{what}: after {took:?}, before {timer:?}");
    output
}

/// The next message of `ws`, as text.
async fn next_text<S>(ws: &mut WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
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
    /// Beats past the disconnect delay: the streams keep their sessions.
    const BEATS: u32 = 6;
    const { assert!(BEATS as u64 * HEARTBEAT_MS > DISCONNECT_DELAY_MS) };
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
            // The heartbeat is armed when the server writes the opening
            // frame, after this instant; beat k is written k heartbeat
            // times after that frame (each counts from the one before).
            let since = Instant::now();
            c.request(method, path, &[], b"").await;
            c.read_head().await;
            c.read_chunk().await.expect("the prelude");
            c.read_chunk().await.expect("the open frame");
            for beat in 1..=BEATS {
                let frame = after(
                    since,
                    HEARTBEAT * beat,
                    &format!("{path}, beat {beat}"),
                    raw_chunk(&mut c),
                )
                .await;
                assert_eq!(frame, h, "{path}, beat {beat}");
            }
            c
        }
    });
    let [a, b, c] = runs;
    let (_a, _b, _c) = tokio::join!(a, b, c);
    // Past the disconnect delay, the streams kept their sessions.
    assert_eq!(server.handle.sockjs_sessions(), 3);
}

async fn heartbeat_on_a_sockjs_websocket_and_none_on_the_raw_one<R: ServerRuntime>() {
    let server = fast::<R>();
    // The raw WebSocket opens first: the SockJS one's heartbeats come
    // later than any the raw one could have had.
    let (mut raw, _) = adapter_tokio::connect_url(&server.ws_url("/echo/websocket"))
        .await
        .unwrap();
    let since = Instant::now();
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/echo/000/hw/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    for beat in 1..=2 {
        let h = after(since, HEARTBEAT * beat, "websocket h", next_text(&mut ws)).await;
        assert_eq!(h, "h", "beat {beat}");
    }
    // A message comes back as usual, in order with the heartbeats: the
    // echo, or a third beat then the echo.
    ws.send(r#"["x"]"#).await.unwrap();
    let mut seen = next_text(&mut ws).await;
    if seen == "h" {
        seen = next_text(&mut ws).await;
    }
    assert_eq!(seen, "a[\"x\"]");

    // The raw WebSocket has no heartbeat: two heartbeat times have passed
    // since it opened, and the first thing it gets is the echo of a
    // message sent now.
    raw.send("marker").await.unwrap();
    match within(WAIT, "the raw echo", raw.recv()).await {
        Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), "marker", "nothing before the echo"),
        other => panic!("expected the echo, got {other:?}"),
    }
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
    // The expiry is armed when the poll that opened the session ends.
    let since = Instant::now();
    assert_eq!(c.post("/echo/000/dd/xhr", "").await.text(), "o\n");
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
    // The removal is armed once the session is closed and its receiver has
    // left, after this instant; the requests after that do not move it.
    let since = Instant::now();
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
    // The removal is armed when the server sees the abort.
    let since = Instant::now();
    stream.abort();
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
