//! Peer: a WebSocket broadcast on tokio-tungstenite, written as its
//! `server.rs` example (a chat room) is: a shared map of every
//! connection's unbounded channel sender; each connection's reader sends
//! every message it receives into every channel, and its writer forwards
//! its own channel into the socket. Two changes: every connection, the
//! author's included, gets the message (as `sockway serve`'s broadcast
//! endpoints and sockjs-node's `/broadcast` do; the example skips the
//! author), and only text and binary messages are broadcast (pings, pongs
//! and the close handshake are left to the library). Any path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Parser as _;
use futures_channel::mpsc::{unbounded, UnboundedSender};
use futures_util::{future, StreamExt as _, TryStreamExt as _};
use sockway_bench::{listen, PeerArgs};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

type Tx = UnboundedSender<Message>;
type PeerMap = Arc<Mutex<HashMap<SocketAddr, Tx>>>;

async fn handle_connection(peer_map: PeerMap, tcp: TcpStream, addr: SocketAddr) {
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let (tx, rx) = unbounded();
    peer_map
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(addr, tx);
    let (outgoing, incoming) = ws.split();
    let broadcast_incoming = incoming.try_for_each(|message| {
        if message.is_text() || message.is_binary() {
            let peers = peer_map.lock().unwrap_or_else(PoisonError::into_inner);
            for recipient in peers.values() {
                // A connection that ended is removed just after.
                let _ = recipient.unbounded_send(message.clone());
            }
        }
        future::ok(())
    });
    let receive_from_others = rx.map(Ok).forward(outgoing);
    let broadcast_incoming = std::pin::pin!(broadcast_incoming);
    let receive_from_others = std::pin::pin!(receive_from_others);
    future::select(broadcast_incoming, receive_from_others).await;
    peer_map
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .remove(&addr);
}

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse();
    args.runtime.build()?.block_on(async move {
        let listener = listen(args.listen).await?;
        let peer_map = PeerMap::default();
        loop {
            let (tcp, addr) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            tokio::spawn(handle_connection(Arc::clone(&peer_map), tcp, addr));
        }
    })
}
