//! Peer: a WebSocket echo on tokio-tungstenite, as in its `echo-server`
//! example: the stream split, text and binary messages forwarded into the
//! sink (pings, pongs and the close handshake left to the library).

use clap::Parser as _;
use futures_util::{future, StreamExt as _, TryStreamExt as _};
use sockway_bench::{listen, PeerArgs};

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse();
    args.runtime.build()?.block_on(async move {
        let listener = listen(args.listen).await?;
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                    return;
                };
                let (write, read) = ws.split();
                let _ = read
                    .try_filter(|message| future::ready(message.is_text() || message.is_binary()))
                    .forward(write)
                    .await;
            });
        }
    })
}
