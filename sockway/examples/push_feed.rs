//! A server push feed: a ticker makes a price every interval and sends it
//! to every subscribed session at once, through one [`Group`] (each tick
//! encoded once, whatever the number of subscribers). A subscriber gets
//! the latest tick as soon as it connects, then every tick after it, in
//! order.
//!
//! ```text
//! cargo run -p sockway --example push_feed -- 127.0.0.1:8080 1000
//! ```
//!
//! (the address, and the interval in milliseconds: 1000 when absent)
//!
//! | path | what |
//! | --- | --- |
//! | `/feed` | SockJS |
//! | `/feed-ws` | a plain WebSocket |
//!
//! Each tick is a JSON text: `{"seq":7,"symbol":"SWAY","price":"101.25"}`;
//! `seq` counts from 1 and goes up by one a tick. What subscribers send
//! is ignored. A subscriber that reads slower than the ticks come loses
//! the oldest ticks waiting for it, past 16 KiB of them, rather than its
//! session (old prices are worth nothing once a newer one is out), and
//! sees it as a gap in `seq`. In a browser:
//!
//! ```text
//! const feed = new SockJS("http://127.0.0.1:8080/feed");
//! feed.onmessage = (e) => console.log(JSON.parse(e.data).price);
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::StreamExt as _;
use sockway::sockjs_proto::SockJsConfig;
use sockway::tokio::server::{
    Group, OverflowStrategy, Server, Session, SockJsEndpoint, WebSocketEndpoint,
};
use sockway::Message;

/// What a subscriber may have waiting to be written before its oldest
/// ticks are dropped.
const SEND_BUFFER: usize = 16 * 1024;

/// The subscribers, and the latest tick for those that join.
#[derive(Clone, Default)]
struct Feed {
    subscribers: Group,
    /// Locked while a tick is published and while a subscriber joins, so
    /// that a subscriber gets the latest tick then every later one: none
    /// twice, none missed, never out of order.
    latest: Arc<Mutex<Option<Message>>>,
}

impl Feed {
    /// Sends `tick` to every subscriber, and keeps it for those to come.
    fn publish(&self, tick: String) {
        // Its clones share the text.
        let tick = Message::text(tick);
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        // Never waits for a subscriber: each one's send buffer takes it
        // (or drops its oldest ticks for it) at once.
        let _ = self.subscribers.send(tick.clone());
        *latest = Some(tick);
    }

    /// Subscribes the session, and sends it the latest tick.
    fn subscribe(&self, session: &Session) {
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        self.subscribers.join(session);
        if let Some(tick) = latest.clone() {
            // A session that closed already ends at the handler's next read.
            let _ = session.send(tick);
        }
    }
}

/// One subscriber: in the feed until its session ends (then it leaves the
/// group by itself).
async fn subscriber(feed: Feed, mut session: Session) {
    feed.subscribe(&session);
    // Reading is how the handler learns that the session ended.
    while session.next().await.is_some() {}
}

/// Makes a tick every `interval`: a price that moves by up to 50 cents.
async fn ticker(feed: Feed, interval: Duration) {
    let mut clock = tokio::time::interval(interval);
    // A late tick is published late, not followed by a burst.
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cents: i64 = 10_000;
    for seq in 1_u64.. {
        clock.tick().await;
        cents = (cents + fastrand::i64(-50..=50)).max(1);
        let tick = format!(
            r#"{{"seq":{seq},"symbol":"SWAY","price":"{}.{:02}"}}"#,
            cents / 100,
            cents % 100
        );
        feed.publish(tick);
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let interval = match args.next() {
        None => Duration::from_secs(1),
        Some(ms) => match ms.parse() {
            Ok(ms) if ms > 0 => Duration::from_millis(ms),
            _ => {
                eprintln!("usage: push_feed [ADDRESS] [INTERVAL_MS]: not an interval: {ms}");
                std::process::exit(2);
            }
        },
    };
    let feed = Feed::default();
    let (sockjs_feed, ws_feed) = (feed.clone(), feed.clone());
    let server = Server::builder()
        .sockjs(
            "/feed",
            SockJsEndpoint::new(move |session| subscriber(sockjs_feed.clone(), session)).config(
                SockJsConfig::default()
                    .send_buffer_size_limit(SEND_BUFFER)
                    .overflow_strategy(OverflowStrategy::DropOldest),
            ),
        )
        .websocket(
            "/feed-ws",
            WebSocketEndpoint::new(move |session| subscriber(ws_feed.clone(), session))
                .send_buffer_size_limit(SEND_BUFFER)
                .overflow_strategy(OverflowStrategy::DropOldest),
        )
        .shutdown_on_signals()
        .bind(addr)
        .await?;
    println!("listening on http://{}", server.local_addr()?);
    tokio::spawn(ticker(feed, interval));
    server.serve().await
}
