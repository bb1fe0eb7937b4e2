//! Peer: a WebSocket echo on sockudo-ws, as in its `simple_echo` example
//! and its README's Tokio echo loop: the HTTP/1.1 upgrade by its own
//! `handshake::server_handshake` (the bytes read past the request handed to
//! the stream), a `WebSocketStream` over the `TcpStream`, then text and
//! binary messages queued back with `feed`, which `next` flushes once the
//! messages already read are handled; pings, pongs and the close handshake
//! left to the library.

use clap::Parser as _;
use futures_util::{SinkExt as _, StreamExt as _};
use sockudo_ws::handshake::server_handshake;
use sockudo_ws::{Config, Message, Role, WebSocketStream};
use sockway_bench::{listen, PeerArgs};
use tokio::net::TcpStream;

async fn echo(mut tcp: TcpStream) -> sockudo_ws::Result<()> {
    let handshake = server_handshake(&mut tcp).await?;
    let mut ws = WebSocketStream::from_raw_with_leftover(
        tcp,
        Role::Server,
        Config::default(),
        handshake.leftover,
    );
    while let Some(message) = ws.next().await {
        match message? {
            message @ (Message::Text(_) | Message::Binary(_)) => ws.feed(message).await?,
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args = PeerArgs::parse();
    // The connection clock calibrates on its first reading (up to 200 ms):
    // before the runtime, as its documentation asks.
    sockudo_ws::init_clock();
    args.runtime.build()?.block_on(async move {
        let listener = listen(args.listen).await?;
        loop {
            let (tcp, _) = listener.accept().await?;
            tcp.set_nodelay(true)?;
            tokio::spawn(async move {
                let _ = echo(tcp).await;
            });
        }
    })
}
