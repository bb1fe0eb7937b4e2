//! The push feed example, run as a child process: subscribers on every
//! kind of connection (SockJS over websocket, xhr-streaming and xhr
//! polling, and a plain WebSocket) get every tick from the one
//! they joined at, in order and without gaps, and the same tick carries
//! the same price for all of them; one leaving does not disturb the
//! others; a new subscriber gets the latest tick at once.

#![cfg(all(unix, feature = "tokio"))]

mod common;

use std::time::Duration;

use common::client::Client;
use common::Example;
use sockway::tokio::sockjs::{ClientOptions, Transport};

/// One subscriber, over SockJS or a plain WebSocket.
struct Subscriber(Client);

/// A tick as the feed sends it.
#[derive(Debug, Clone, PartialEq)]
struct Tick {
    seq: u64,
    price: String,
}

impl Subscriber {
    async fn sockjs(addr: &str, transport: Transport) -> Self {
        let options = ClientOptions::default().transports([transport]);
        Self(Client::sockjs(&format!("http://{addr}/feed"), options).await)
    }

    async fn websocket(addr: &str) -> Self {
        Self(Client::websocket(addr, "/feed-ws").await)
    }

    /// The next tick, checked for its form.
    async fn tick(&mut self) -> Tick {
        let text = self.0.hear().await;
        let json: serde_json::Value = serde_json::from_str(&text).expect("a JSON tick");
        assert_eq!(json["symbol"], "SWAY", "{text}");
        let seq = json["seq"].as_u64().expect("a seq");
        let price = json["price"].as_str().expect("a price").to_owned();
        let (units, cents) = price.split_once('.').expect("units.cents");
        assert!(
            !units.is_empty()
                && cents.len() == 2
                && (units.bytes().chain(cents.bytes())).all(|b| b.is_ascii_digit()),
            "{text}"
        );
        Tick { seq, price }
    }

    /// Ticks up to and including seq `last`, checked to follow each other
    /// from `first` on (the tick before is `first`).
    async fn ticks_until(&mut self, first: &Tick, last: u64) -> Vec<Tick> {
        let mut ticks = vec![first.clone()];
        while ticks.last().expect("one").seq < last {
            let tick = self.tick().await;
            let before = ticks.last().expect("one").seq;
            assert_eq!(tick.seq, before + 1, "a gap or a repeat after {before}");
            ticks.push(tick);
        }
        ticks
    }

    async fn close(self) {
        self.0.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_subscriber_gets_every_tick_in_order() {
    // A tick every 20 ms.
    let (_server, addr) = Example::serve_with("push_feed", &["20"]);
    let mut subscribers = vec![
        Subscriber::sockjs(&addr, Transport::WebSocket).await,
        Subscriber::sockjs(&addr, Transport::XhrStreaming).await,
        Subscriber::sockjs(&addr, Transport::Xhr).await,
        Subscriber::websocket(&addr).await,
    ];
    let mut firsts = Vec::new();
    for subscriber in &mut subscribers {
        firsts.push(subscriber.tick().await);
    }
    // Ticks every subscriber gets: from the latest first one, ten of them.
    let common = firsts.iter().map(|t| t.seq).max().expect("subscribers");
    let last = common + 10;
    let mut seen = Vec::new();
    for (subscriber, first) in subscribers.iter_mut().zip(&firsts) {
        let ticks = subscriber.ticks_until(first, last).await;
        seen.push(
            ticks
                .into_iter()
                .filter(|t| t.seq >= common)
                .collect::<Vec<_>>(),
        );
    }
    // One tick, one price, for everyone.
    for ticks in &seen[1..] {
        assert_eq!(ticks, &seen[0]);
    }

    // One leaves; the others go on without a gap.
    let gone = subscribers.remove(1);
    gone.close().await;
    let last_seen = seen[0].last().expect("ticks").clone();
    for subscriber in &mut subscribers {
        subscriber.ticks_until(&last_seen, last + 5).await;
    }
    for subscriber in subscribers {
        subscriber.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_subscriber_gets_the_latest_tick_at_once() {
    // One tick at the start, the next in an hour.
    let (_server, addr) = Example::serve_with("push_feed", &["3600000"]);
    let mut first = Subscriber::websocket(&addr).await;
    let tick = first.tick().await;
    assert_eq!(tick.seq, 1);
    for transport in [Transport::WebSocket, Transport::Xhr] {
        let mut late = Subscriber::sockjs(&addr, transport).await;
        assert_eq!(late.tick().await, tick, "{transport:?}");
        late.close().await;
    }
    first.close().await;
}

#[test]
fn an_interval_that_is_not_one_is_refused() {
    for interval in ["soon", "0"] {
        let mut feed = Example::start("push_feed", &["127.0.0.1:0", interval]);
        let status = feed.wait_exit(Duration::from_secs(20));
        assert_eq!(status.code(), Some(2), "{interval}: {status}");
        assert!(feed.seen().is_empty(), "{interval}: {:?}", feed.seen());
    }
}
