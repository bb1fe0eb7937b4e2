//! Dead-peer detection on a plain WebSocket endpoint (and on SockJS's
//! WebSockets): a ping after an idle
//! interval, the connection dropped when nothing at all comes back within
//! the pong timeout; any byte received counts as a sign of life, so a slow
//! but busy transfer is never cut; and a handler that falls behind (the
//! client's bytes wait unread) never makes a live client look dead. The
//! timers themselves are pinned on simulated time by ws-proto's tests
//! (`ws-proto/tests/timers.rs`); these check that the endpoint runs them.

use std::time::Duration;

use adapter_core::server::{CloseStatus, Server, Session, SockJsEndpoint, WebSocketEndpoint};
use adapter_core::sockjs_proto::{self, AllowedOrigins};
use adapter_tokio::{CloseCode, Message, MessageKind};
use bytes::Bytes;
use futures_util::StreamExt as _;
use sockway_tests::loopback::{within, TestServer, WAIT};
use sockway_tests::runtime::ServerRuntime;
use tokio::sync::mpsc;
use tokio::time::Instant;

const INTERVAL: Duration = Duration::from_millis(200);
const PONG_TIMEOUT: Duration = Duration::from_millis(300);

/// An echo at `/live` with liveness pings; reports each session's close
/// status.
fn server<R: ServerRuntime>() -> (TestServer, mpsc::UnboundedReceiver<Option<CloseStatus>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let echo = move |mut session: Session| {
        let tx = tx.clone();
        async move {
            while let Some(message) = session.next().await {
                if session.send(message).is_err() {
                    break;
                }
            }
            let _ = tx.send(session.close_status());
        }
    };
    let endpoint = WebSocketEndpoint::new(echo)
        .allowed_origins(AllowedOrigins::Any)
        .ping_interval(INTERVAL)
        .pong_timeout(PONG_TIMEOUT);
    let server = TestServer::start(Server::<R>::builder().websocket("/live", endpoint));
    (server, rx)
}

async fn a_silent_peer_is_dropped_after_the_ping_goes_unanswered<R: ServerRuntime>() {
    let (server, mut closed) = server::<R>();
    let started = Instant::now();
    // Connected, then never read again: the pings go unanswered.
    let (_ws, _) = adapter_tokio::connect_url(&server.ws_url("/live"))
        .await
        .unwrap();
    let status = within(WAIT, "the dead peer to be dropped", closed.recv())
        .await
        .expect("a report");
    let elapsed = started.elapsed();
    assert_eq!(
        status,
        Some(CloseStatus::new(CloseCode::ABNORMAL, "No answer to ping"))
    );
    let least = INTERVAL + PONG_TIMEOUT;
    assert!(
        elapsed >= least && elapsed < least * 4,
        "dropped after {elapsed:?} (interval {INTERVAL:?} + pong timeout {PONG_TIMEOUT:?})"
    );
}

async fn a_peer_that_answers_pings_stays<R: ServerRuntime>() {
    let (server, mut closed) = server::<R>();
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/live"))
        .await
        .unwrap();
    // Reading answers the pings (the client's core pongs); nothing else is
    // sent for many intervals.
    let idle = INTERVAL * 8;
    let read = tokio::time::timeout(idle, ws.recv()).await;
    assert!(read.is_err(), "nothing but pings should come: {read:?}");
    assert!(closed.try_recv().is_err(), "the session must still be open");
    ws.send("still here").await.unwrap();
    let echo = within(WAIT, "the echo", ws.recv()).await;
    assert_eq!(echo.unwrap().unwrap(), Message::from("still here"));
}

async fn a_slow_busy_transfer_is_never_cut<R: ServerRuntime>() {
    let (server, mut closed) = server::<R>();
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/live"))
        .await
        .unwrap();
    // One message in fragments, a fragment every half interval, for many
    // intervals; the client reads nothing meanwhile, so no ping is
    // answered: the bytes themselves keep the session alive.
    let fragments = 16;
    let mut sent = Vec::new();
    for i in 0..fragments {
        let chunk = vec![u8::try_from(i).unwrap(); 1000];
        sent.extend_from_slice(&chunk);
        ws.send_fragment(MessageKind::Binary, Bytes::from(chunk), i == fragments - 1)
            .await
            .unwrap();
        tokio::time::sleep(INTERVAL / 2).await;
    }
    assert!(closed.try_recv().is_err(), "the busy session was cut");
    let echo = within(WAIT, "the echo", ws.recv()).await;
    assert_eq!(echo.unwrap().unwrap(), Message::Binary(Bytes::from(sent)));
}

async fn a_live_client_is_kept_while_its_handler_falls_behind<R: ServerRuntime>() {
    let (tx, mut closed) = mpsc::unbounded_channel();
    // An echo that takes six intervals over each message: meanwhile it asks
    // for nothing, and the client's bytes (its pongs) wait unread.
    let slow = move |mut session: Session| {
        let tx = tx.clone();
        async move {
            while let Some(message) = session.next().await {
                sockway_tests::runtime::sleep(INTERVAL * 6).await;
                if session.send(message).is_err() {
                    break;
                }
            }
            let _ = tx.send(session.close_status());
        }
    };
    let endpoint = WebSocketEndpoint::new(slow)
        .allowed_origins(AllowedOrigins::Any)
        .ping_interval(INTERVAL)
        .pong_timeout(PONG_TIMEOUT);
    let server = TestServer::start(Server::<R>::builder().websocket("/slow", endpoint));
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/slow"))
        .await
        .unwrap();
    ws.send("take your time").await.unwrap();
    // The client reads (its core answers any ping) until the echo comes.
    let echo = within(WAIT, "the echo", ws.recv()).await;
    assert_eq!(echo.unwrap().unwrap(), Message::from("take your time"));
    assert!(closed.try_recv().is_err(), "the live client was dropped");
}

async fn a_sockjs_websocket_client_is_kept_while_its_handler_falls_behind<R: ServerRuntime>() {
    let (tx, mut closed) = mpsc::unbounded_channel();
    let slow = move |mut session: Session| {
        let tx = tx.clone();
        async move {
            while let Some(message) = session.next().await {
                sockway_tests::runtime::sleep(INTERVAL * 6).await;
                if session.send(message).is_err() {
                    break;
                }
            }
            let _ = tx.send(session.close_status());
        }
    };
    // Pings on the SockJS WebSockets, and an inbox of one byte: the second
    // message fills it, and the adapter stops reading the connection.
    let config = sockjs_proto::SockJsConfig::default()
        .allowed_origins(AllowedOrigins::Any)
        .websocket(
            adapter_core::ws_proto::WebSocketConfig::default()
                .ping_interval(INTERVAL)
                .pong_timeout(PONG_TIMEOUT),
        );
    let endpoint = SockJsEndpoint::new(slow).config(config).inbox_limit(1);
    let server = TestServer::start(Server::<R>::builder().sockjs("/slow", endpoint));
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/slow/websocket"))
        .await
        .unwrap();
    ws.send("one").await.unwrap();
    ws.send("two").await.unwrap();
    // The client reads (its core answers any ping) until both echoes came.
    for text in ["one", "two"] {
        let echo = within(WAIT, "an echo", ws.recv()).await;
        assert_eq!(echo.unwrap().unwrap(), Message::from(text));
    }
    assert!(closed.try_recv().is_err(), "the live client was dropped");
}

sockway_tests::for_each_runtime! {
    a_silent_peer_is_dropped_after_the_ping_goes_unanswered,
    a_peer_that_answers_pings_stays,
    a_slow_busy_transfer_is_never_cut,
    a_live_client_is_kept_while_its_handler_falls_behind,
    a_sockjs_websocket_client_is_kept_while_its_handler_falls_behind,
}
