//! The SockJS client of each runtime against the reference server,
//! sockjs-node 0.3.24, over every transport: echoes in order (its `/echo`
//! cuts streams at 4096 bytes), websocket disabled, the session cookie it
//! sets, and its close.
//!
//! Ignored by `cargo test`: sockjs-node comes from npm.
//! `scripts/interop-client.sh` installs it and runs these with
//! `--ignored`.

use adapter_core::sockjs_proto::Transport;
use sockway_tests::client;
use sockway_tests::reference::ReferenceServer;
use sockway_tests::runtime::ServerRuntime;

async fn every_transport_echoes_in_order<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    client::every_transport_echoes_in_order::<R>(&server.base).await;
}

async fn the_default_order_opens_the_websocket<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    client::the_default_order_opens::<R>(&server.base, "/echo", Transport::WebSocket).await;
}

async fn websocket_disabled_opens_xhr_streaming<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    let path = "/disabled_websocket_echo";
    client::the_default_order_opens::<R>(&server.base, path, Transport::XhrStreaming).await;
}

async fn the_cookie_endpoint_echoes<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    client::the_cookie_endpoint_echoes::<R>(&server.base).await;
}

async fn the_servers_close_ends_the_stream<R: ServerRuntime>() {
    let server = ReferenceServer::start();
    client::the_servers_close_ends_the_stream::<R>(&server.base).await;
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
