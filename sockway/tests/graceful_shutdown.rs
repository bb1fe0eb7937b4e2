//! The graceful_shutdown examples (tokio; async-std and smol with their
//! features), each run as a child process: on SIGINT or SIGTERM a
//! WebSocket and SockJS sessions (over websocket and xhr-streaming) get
//! the going-away close (1001, `c[1001,"Server shutting down"]`) and the
//! process exits with status 0; a client that never answers the close
//! holds the shutdown no longer than its timeout; a second signal ends it
//! at once, with status 1. The clients are the library's own, on tokio.

#![cfg(all(unix, feature = "tokio"))]

mod common;

use std::time::Duration;

use common::{Example, LIMIT};
use futures_util::StreamExt as _;
use sockway::tokio::sockjs::{self, ClientOptions, ClientSession, Transport};
use sockway::tokio::{MaybeTlsStream, WebSocketStream};
use sockway::{CloseCode, Message};
use tokio::time::timeout;

/// The examples' shutdown timeout.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Sessions open on a server, each with one echo done.
struct Clients {
    ws: WebSocketStream<MaybeTlsStream>,
    sockjs: Vec<ClientSession>,
}

/// A WebSocket on `/ws`, and SockJS sessions on `/echo` over websocket and
/// xhr-streaming.
async fn open(addr: &str) -> Clients {
    let (mut ws, _) = timeout(
        LIMIT,
        sockway::tokio::connect_url(&format!("ws://{addr}/ws")),
    )
    .await
    .expect("the WebSocket opens in time")
    .expect("the WebSocket opens");
    ws.send("over ws").await.expect("a send");
    let echo = timeout(LIMIT, ws.recv()).await.expect("an echo in time");
    assert!(
        matches!(&echo, Some(Ok(Message::Text(t))) if t.as_str() == "over ws"),
        "{echo:?}"
    );
    let mut sessions = Vec::new();
    for transport in [Transport::WebSocket, Transport::XhrStreaming] {
        let options = ClientOptions::default().transports([transport]);
        let mut session = timeout(
            LIMIT,
            sockjs::connect_with(&format!("http://{addr}/echo"), options),
        )
        .await
        .expect("the session opens in time")
        .expect("the session opens");
        assert_eq!(session.transport(), transport);
        session.send_async("over sockjs").await.expect("a send");
        let echo = timeout(LIMIT, session.next())
            .await
            .expect("an echo in time");
        assert_eq!(
            echo.as_ref().map(Message::as_bytes),
            Some(&b"over sockjs"[..])
        );
        sessions.push(session);
    }
    Clients {
        ws,
        sockjs: sessions,
    }
}

/// Every session ends with the going-away close.
async fn assert_going_away(clients: Clients) {
    let mut ws = clients.ws;
    let next = timeout(LIMIT, ws.recv()).await.expect("the close in time");
    assert!(
        next.is_none(),
        "a message or error instead of the close: {next:?}"
    );
    let frame = ws.peer_close_frame().expect("the server's close frame");
    assert_eq!(frame.code, CloseCode::GOING_AWAY, "{frame:?}");
    for mut session in clients.sockjs {
        let transport = session.transport();
        let next = timeout(LIMIT, session.next())
            .await
            .expect("the close in time");
        assert!(next.is_none(), "{transport:?}: {next:?}");
        let closed = session.close_status().expect("closed");
        assert_eq!(
            (closed.code, closed.reason.as_str()),
            (CloseCode::GOING_AWAY, "Server shutting down"),
            "{transport:?}: {closed}"
        );
    }
}

/// On `signal`, every session gets 1001 and the process exits with 0.
async fn signal_closes_sessions_with_going_away(example: &str, signal: &str) {
    let (mut server, addr) = Example::serve(example);
    let clients = open(&addr).await;
    server.signal(signal);
    assert_going_away(clients).await;
    let status = server.wait_exit(SHUTDOWN_TIMEOUT + LIMIT);
    assert!(status.success(), "{example}, SIG{signal}: {status}");
    assert_eq!(server.next_line(), "stopped");
}

/// A WebSocket that is never read again: nothing answers the server's
/// close, so its connection holds a shutdown until the close times out.
async fn silent_websocket(addr: &str) -> WebSocketStream<MaybeTlsStream> {
    let (ws, _) = timeout(
        LIMIT,
        sockway::tokio::connect_url(&format!("ws://{addr}/ws")),
    )
    .await
    .expect("the WebSocket opens in time")
    .expect("the WebSocket opens");
    ws
}

/// A client that never answers the close holds the shutdown, yet the
/// process exits with 0 within the shutdown timeout.
async fn a_silent_client_holds_the_shutdown_up_to_its_timeout(example: &str) {
    let (mut server, addr) = Example::serve(example);
    let clients = open(&addr).await;
    let _silent = silent_websocket(&addr).await;
    server.signal("INT");
    assert_going_away(clients).await;
    let status = server.wait_exit(SHUTDOWN_TIMEOUT + LIMIT);
    assert!(status.success(), "{example}: {status}");
}

/// While a silent client holds the shutdown, a second signal ends the
/// process at once, with status 1.
async fn a_second_signal_ends_the_shutdown_at_once(example: &str) {
    let (mut server, addr) = Example::serve(example);
    let clients = open(&addr).await;
    let _silent = silent_websocket(&addr).await;
    server.signal("INT");
    // The sessions' close says the first signal was taken (two signals
    // sent at once could arrive as one).
    assert_going_away(clients).await;
    server.signal("INT");
    // Well within the shutdown timeout, which would have exited with 0.
    let status = server.wait_exit(LIMIT);
    assert_eq!(status.code(), Some(1), "{example}: {status}");
}

/// The tests, for the example of each runtime.
macro_rules! runtime_tests {
    ($runtime:ident, $example:literal) => {
        mod $runtime {
            #[tokio::test]
            async fn sigint_closes_sessions_with_going_away() {
                super::signal_closes_sessions_with_going_away($example, "INT").await;
            }

            #[tokio::test]
            async fn sigterm_closes_sessions_with_going_away() {
                super::signal_closes_sessions_with_going_away($example, "TERM").await;
            }

            #[tokio::test]
            async fn a_silent_client_holds_the_shutdown_up_to_its_timeout() {
                super::a_silent_client_holds_the_shutdown_up_to_its_timeout($example).await;
            }

            #[tokio::test]
            async fn a_second_signal_ends_the_shutdown_at_once() {
                super::a_second_signal_ends_the_shutdown_at_once($example).await;
            }
        }
    };
}

runtime_tests!(tokio_runtime, "graceful_shutdown");
#[cfg(feature = "async-std")]
runtime_tests!(async_std_runtime, "graceful_shutdown_async_std");
#[cfg(feature = "smol")]
runtime_tests!(smol_runtime, "graceful_shutdown_smol");
