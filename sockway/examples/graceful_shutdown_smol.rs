//! `graceful_shutdown.rs` on smol: a SockJS echo and a WebSocket echo that
//! shut down gracefully on Ctrl-C (SIGINT) or SIGTERM.
//!
//! ```text
//! cargo run -p sockway --features smol --example graceful_shutdown_smol -- 127.0.0.1:8080
//! ```
//!
//! In an application of your own, with `default-features = false,
//! features = ["smol"]`, `sockway::server` is this same server.

#![allow(clippy::print_stdout)]

use std::time::Duration;

use futures_util::StreamExt as _;
use sockway::smol::server::{Server, Session, SockJsEndpoint, WebSocketEndpoint};

/// How long the shutdown waits for the connections.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Sends every message back, until the session closes.
async fn echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send(message).is_err() {
            break;
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    // The sessions' tasks run on smol's global executor; `block_on` runs
    // the accept loop on this thread.
    smol::block_on(async {
        let server = Server::builder()
            .sockjs("/echo", SockJsEndpoint::new(echo))
            .websocket("/ws", WebSocketEndpoint::new(echo))
            .shutdown_timeout(SHUTDOWN_TIMEOUT)
            // smol has no signal handling of its own: the server catches
            // SIGINT and SIGTERM itself, from `bind` on.
            .shutdown_on_signals()
            .bind(addr)
            .await?;
        let addr = server.local_addr()?;
        println!("listening on http://{addr} (SockJS /echo, WebSocket /ws)");
        server.serve().await?;
        println!("stopped");
        Ok(())
    })
}
