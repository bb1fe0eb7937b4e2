//! The echo server that Autobahn|Testsuite's fuzzingclient tests
//! (`scripts/autobahn/run-server.sh`): every text and binary message is sent
//! back as it came. One task per connection on a multi-threaded runtime;
//! runs until killed.
//!
//! ```text
//! cargo run --release -p adapter-tokio --example autobahn-echo -- 127.0.0.1:9001
//! ```

use adapter_tokio::accept;
use tokio::net::{TcpListener, TcpStream};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".to_owned());
    let listener = TcpListener::bind(&addr).await?;
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            // Out of file descriptors and the like: try the next one.
            continue;
        };
        tokio::spawn(echo(tcp));
    }
}

async fn echo(tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let Ok(mut ws) = accept(tcp).await else {
        return;
    };
    // Ends with `None` after the close handshake, or with the protocol
    // error (whose close frame was already sent).
    while let Some(Ok(message)) = ws.recv().await {
        if ws.send(message).await.is_err() {
            break;
        }
    }
}
