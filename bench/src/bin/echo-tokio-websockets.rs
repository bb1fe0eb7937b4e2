//! Peer: a WebSocket echo on tokio-websockets, as in its `echo_server`
//! example (text and binary echoed as received; pings, pongs and the close
//! handshake left to the library).

use clap::Parser as _;
use futures_util::{SinkExt as _, StreamExt as _};
use sockway_bench::{listen, PeerArgs};
use tokio_websockets::ServerBuilder;

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse();
    args.runtime.build()?.block_on(async move {
        let listener = listen(args.listen).await?;
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            tokio::spawn(tokio::task::unconstrained(async move {
                let Ok((_request, mut ws)) = ServerBuilder::new().accept(tcp).await else {
                    return;
                };
                while let Some(Ok(message)) = ws.next().await {
                    if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err()
                    {
                        break;
                    }
                }
            }));
        }
    })
}
