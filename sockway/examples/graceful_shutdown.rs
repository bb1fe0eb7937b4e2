//! A SockJS echo and a WebSocket echo that shut down gracefully on Ctrl-C
//! (SIGINT) or SIGTERM, on tokio. The same on async-std and smol:
//! `graceful_shutdown_async_std.rs` and `graceful_shutdown_smol.rs`.
//!
//! ```text
//! cargo run -p sockway --example graceful_shutdown -- 127.0.0.1:8080
//! ```
//!
//! Then connect a SockJS client to `http://127.0.0.1:8080/echo` or a
//! WebSocket client to `ws://127.0.0.1:8080/ws`, and press Ctrl-C: the
//! server stops accepting connections, closes every session with 1001
//! "going away" (a SockJS client gets `c[1001,"Server shutting down"]`),
//! waits up to 5 s for the connections to finish, and exits with status
//! 0. A second Ctrl-C ends the wait at once (status 1).

// An example talks to its user on stdout.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use futures_util::StreamExt as _;
use sockway::tokio::server::{Server, Session, SockJsEndpoint, WebSocketEndpoint};

/// How long the shutdown waits for the connections (responses being
/// written, clients answering the close) before giving up on them.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends every message back. Each session runs in a task of its own; the
/// loop ends when the session closes, a shutdown's close included.
async fn echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send(message).is_err() {
            break;
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let server = Server::builder()
        .sockjs("/echo", SockJsEndpoint::new(echo))
        .websocket("/ws", WebSocketEndpoint::new(echo))
        .shutdown_timeout(SHUTDOWN_TIMEOUT)
        // Caught from `bind` on, so a Ctrl-C right after the line below
        // already shuts down gracefully.
        .shutdown_on_signals()
        .bind(addr)
        .await?;
    let addr = server.local_addr()?;
    println!("listening on http://{addr} (SockJS /echo, WebSocket /ws)");
    // Serves until the signal, then returns once the shutdown is over.
    server.serve().await?;
    println!("stopped");
    Ok(())
}
