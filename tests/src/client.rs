//! The SockJS client's side of the client tests: a body run on a client
//! runtime, numbered echo runs checked in order, and the scenarios run
//! against both `sockway serve` and the reference server.

use std::future::Future;
use std::time::Duration;

use adapter_core::client::{connect, ClientOptions, ClientSession};
use adapter_core::sockjs_proto::Transport;
use adapter_core::{CloseCode, Message};

use crate::loopback::within;
use crate::runtime::ServerRuntime;

/// The longest a client body may take.
pub const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// Runs `body` on the runtime `R` (its own `block_on`, on a blocking thread
/// of the test's tokio runtime), bounded by [`CLIENT_LIMIT`].
pub async fn on<R: ServerRuntime, T: Send + 'static>(
    body: impl Future<Output = T> + Send + 'static,
) -> T {
    let task = tokio::task::spawn_blocking(move || R::block_on(body));
    within(CLIENT_LIMIT, "the client", task)
        .await
        .expect("the client ran")
}

/// The default options, with `transport` alone.
pub fn only(transport: Transport) -> ClientOptions {
    ClientOptions::default().transports([transport])
}

/// Message `i` of a run: a sequence number, then text that needs escaping
/// (quotes, a backslash, a newline, U+2028, a character outside the BMP),
/// of a length that varies.
pub fn numbered(i: usize) -> String {
    format!(
        "{i:05} \u{e9}\"\\\n\u{2028}\u{1f600} {}",
        "x".repeat(i % 97)
    )
}

/// Sends `n` numbered messages and reads the `n` echoes, in order.
pub async fn echo_run(session: &mut ClientSession, n: usize) {
    for i in 0..n {
        session.send_async(numbered(i)).await.expect("sent");
    }
    for i in 0..n {
        match session.recv().await {
            Some(Message::Text(text)) => assert_eq!(text.as_str(), numbered(i)),
            other => panic!("echo {i}: {other:?}"),
        }
    }
}

/// The transports of the client, in its default order.
pub const TRANSPORTS: [Transport; 3] = [
    Transport::WebSocket,
    Transport::XhrStreaming,
    Transport::Xhr,
];

// ---- scenarios, against any server with the standard test endpoints ----------
//
// `base` is `http://host:port`; the server has `/echo` (streams cut at 4096
// bytes), `/disabled_websocket_echo`, `/cookie_needed_echo` and `/close`:
// `sockway serve` and the reference server both do.

/// On every transport, the client of `R` opens `/echo`, gets 300 echoes in
/// order (a few streams: the server cuts them at 4096 bytes), and closes
/// with 1000.
pub async fn every_transport_echoes_in_order<R: ServerRuntime>(base: &str) {
    for transport in TRANSPORTS {
        let url = format!("{base}/echo");
        on::<R, _>(async move {
            let mut session = connect::<R>(&url, only(transport)).await.expect("open");
            assert_eq!(session.transport(), transport);
            echo_run(&mut session, 300).await;
            session.close(1000, "done").expect("open");
            let closed = session.closed().await;
            assert_eq!(
                (closed.code, closed.reason.as_str()),
                (CloseCode(1000), "done")
            );
            assert!(closed.was_clean && closed.error.is_none(), "{closed:?}");
            assert!(session.recv().await.is_none());
        })
        .await;
    }
}

/// With the default options, `path` opens on `expected` and echoes.
pub async fn the_default_order_opens<R: ServerRuntime>(
    base: &str,
    path: &str,
    expected: Transport,
) {
    let url = format!("{base}{path}");
    on::<R, _>(async move {
        let mut session = connect::<R>(&url, ClientOptions::default())
            .await
            .expect("open");
        assert_eq!(session.transport(), expected);
        echo_run(&mut session, 10).await;
    })
    .await;
}

/// `/cookie_needed_echo` (the session cookie set, and sent back) echoes on
/// the HTTP transports.
pub async fn the_cookie_endpoint_echoes<R: ServerRuntime>(base: &str) {
    for transport in [Transport::XhrStreaming, Transport::Xhr] {
        let url = format!("{base}/cookie_needed_echo");
        on::<R, _>(async move {
            let mut session = connect::<R>(&url, only(transport)).await.expect("open");
            echo_run(&mut session, 10).await;
        })
        .await;
    }
}

/// `/close` closes every session at once: the stream ends, with 3000 "Go
/// away!", a clean close.
pub async fn the_servers_close_ends_the_stream<R: ServerRuntime>(base: &str) {
    for transport in TRANSPORTS {
        let url = format!("{base}/close");
        on::<R, _>(async move {
            let mut session = connect::<R>(&url, only(transport)).await.expect("open");
            assert!(session.recv().await.is_none());
            let closed = session.close_status().expect("closed");
            assert_eq!(
                (closed.code, closed.reason.as_str()),
                (CloseCode(3000), "Go away!")
            );
            assert!(closed.was_clean, "{transport:?}");
        })
        .await;
    }
}
