//! The SockJS client of each runtime against the reference server,
//! sockjs-node 0.3.24, over every transport: echoes in order (its `/echo`
//! cuts streams at 4096 bytes), websocket disabled, the session cookie it
//! sets, and its close.
//!
//! Ignored by `cargo test`: sockjs-node comes from npm.
//! `scripts/interop-client.sh` installs it and runs these with
//! `--ignored`.

use std::time::Duration;

use adapter_core::client::{connect, ClientOptions, ClientSession};
use adapter_core::sockjs_proto::Transport;
use adapter_core::{CloseCode, Message};
use sockway_tests::loopback::within;
use sockway_tests::reference::ReferenceServer;
use sockway_tests::runtime::ServerRuntime;

const LIMIT: Duration = Duration::from_secs(30);

/// Runs `body` on the client runtime `R`, bounded.
async fn on<R: ServerRuntime, T: Send + 'static>(
    body: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    let task = tokio::task::spawn_blocking(move || R::block_on(body));
    within(LIMIT, "the client", task)
        .await
        .expect("the client ran")
}

fn numbered(i: usize) -> String {
    format!(
        "{i:05} \u{e9}\"\\\n\u{2028}\u{1f600} {}",
        "x".repeat(i % 97)
    )
}

async fn echo_run(session: &mut ClientSession, n: usize) {
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

async fn every_transport_echoes_in_order<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let url = format!("{}/echo", server.base);
        on::<R, _>(async move {
            let options = ClientOptions::default().transports([transport]);
            let mut session = connect::<R>(&url, options).await.expect("open");
            assert_eq!(session.transport(), transport);
            echo_run(&mut session, 300).await;
            session.close(1000, "done").expect("open");
            let closed = session.closed().await;
            assert_eq!(closed.code, CloseCode(1000));
            assert!(closed.was_clean && closed.error.is_none(), "{closed:?}");
        })
        .await;
    }
}

async fn the_default_order_opens_the_websocket<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    let url = format!("{}/echo", server.base);
    on::<R, _>(async move {
        let mut session = connect::<R>(&url, ClientOptions::default())
            .await
            .expect("open");
        assert_eq!(session.transport(), Transport::WebSocket);
        echo_run(&mut session, 10).await;
    })
    .await;
}

async fn websocket_disabled_opens_xhr_streaming<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    let url = format!("{}/disabled_websocket_echo", server.base);
    on::<R, _>(async move {
        let mut session = connect::<R>(&url, ClientOptions::default())
            .await
            .expect("open");
        assert_eq!(session.transport(), Transport::XhrStreaming);
        echo_run(&mut session, 10).await;
    })
    .await;
}

async fn the_cookie_endpoint_echoes<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    for transport in [Transport::XhrStreaming, Transport::Xhr] {
        let url = format!("{}/cookie_needed_echo", server.base);
        on::<R, _>(async move {
            let options = ClientOptions::default().transports([transport]);
            let mut session = connect::<R>(&url, options).await.expect("open");
            echo_run(&mut session, 10).await;
        })
        .await;
    }
}

async fn the_servers_close_ends_the_stream<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let url = format!("{}/close", server.base);
        on::<R, _>(async move {
            let options = ClientOptions::default().transports([transport]);
            let mut session = connect::<R>(&url, options).await.expect("open");
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

sockway_tests::for_each_runtime! {
    #[ignore = "needs sockjs-node from npm: scripts/interop-client.sh"]
    every_transport_echoes_in_order: multi_thread,
    #[ignore = "needs sockjs-node from npm: scripts/interop-client.sh"]
    the_default_order_opens_the_websocket: multi_thread,
    #[ignore = "needs sockjs-node from npm: scripts/interop-client.sh"]
    websocket_disabled_opens_xhr_streaming: multi_thread,
    #[ignore = "needs sockjs-node from npm: scripts/interop-client.sh"]
    the_cookie_endpoint_echoes: multi_thread,
    #[ignore = "needs sockjs-node from npm: scripts/interop-client.sh"]
    the_servers_close_ends_the_stream: multi_thread,
}
