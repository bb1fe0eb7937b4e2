//! The SockJS client core against this crate's server, both sans-IO, on
//! simulated time: every transport opens and echoes, streams cut at
//! `streamBytesLimit` lose nothing, fallback when a transport is off,
//! blocked or silent, `/info` failures, sends batched while one is in
//! flight, heartbeats, cookies, and closes from either side.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use server_proto::sockjs_proto::client::{
    Client, ClientConfig, ClientError, ClientEvent, ConnId, Entropy, Failure, Output,
    DEFAULT_TRANSPORTS,
};
use server_proto::sockjs_proto::{SockJsConfig, Transport};
use server_proto::ws_proto::{CloseCode, Message};
use server_proto::{ServerConfig, ServerOptions, Session, SockJsOptions};
use support::{poll_recv, Sim};

/// Deterministic "randomness" for ids, keys and masks.
fn entropy() -> Entropy {
    let n = Arc::new(AtomicU64::new(1));
    Arc::new(move |buf: &mut [u8]| {
        for b in buf {
            *b = (n.fetch_add(1, Ordering::Relaxed).wrapping_mul(37) % 251) as u8;
        }
    })
}

/// What the harness does to a connection's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Passed both ways.
    Pass,
    /// The client's bytes go nowhere: a server that never answers.
    Silent,
    /// The server's answer is held until the server ends the connection
    /// (a proxy that buffers responses).
    Buffered,
}

/// One connection: the server's end, and the bytes in flight.
struct Link {
    server: support::Client,
    fate: Fate,
    /// The client's bytes the server has not taken yet.
    to_server: Vec<u8>,
    /// The server's bytes the client has not read yet.
    to_client: Vec<u8>,
    eof_given: bool,
}

/// A client and a server exchanging bytes in memory.
struct World {
    sim: Sim,
    client: Client,
    links: BTreeMap<ConnId, Link>,
    now: Instant,
    events: Vec<ClientEvent>,
    sessions: Vec<Session>,
    /// Request lines the client wrote, in order.
    requests: Vec<String>,
    /// Request heads the client wrote, whole.
    heads: Vec<String>,
    /// The messages the server's application received.
    server_got: Vec<String>,
    rule: Rule,
    echo: bool,
}

/// Which connections get which [`Fate`], by their first request line.
#[derive(Debug, Clone, Copy)]
struct Rule {
    /// A request line containing this (or, with `inverted`, not containing
    /// it) gives the connection `fate`; the others pass.
    fragment: &'static str,
    inverted: bool,
    fate: Fate,
}

/// Every connection passes.
const PASS: Rule = Rule::when("", Fate::Pass);

impl Rule {
    /// Connections whose request line contains `fragment` get `fate`.
    const fn when(fragment: &'static str, fate: Fate) -> Self {
        Self {
            fragment,
            inverted: false,
            fate,
        }
    }

    /// Connections whose request line does not contain `fragment` get
    /// `fate`.
    const fn unless(fragment: &'static str, fate: Fate) -> Self {
        Self {
            fragment,
            inverted: true,
            fate,
        }
    }

    fn fate(self, line: &str) -> Fate {
        if line.contains(self.fragment) == self.inverted {
            Fate::Pass
        } else {
            self.fate
        }
    }
}

impl World {
    fn new(options: SockJsOptions, config: ClientConfig) -> Self {
        Self::with(options, config, PASS)
    }

    fn with(options: SockJsOptions, config: ClientConfig, rule: Rule) -> Self {
        Self::at("http://127.0.0.1:8081/echo", options, config, rule)
    }

    fn at(url: &str, options: SockJsOptions, config: ClientConfig, rule: Rule) -> Self {
        let mut server = ServerConfig::new(ServerOptions::default());
        server.sockjs("/echo", options);
        let sim = Sim::new(server);
        let now = sim.at(0);
        let url = url.parse().unwrap();
        let client = Client::new(&url, config, entropy(), now).expect("a valid client");
        let mut world = Self {
            sim,
            client,
            links: BTreeMap::new(),
            now,
            events: Vec::new(),
            sessions: Vec::new(),
            requests: Vec::new(),
            heads: Vec::new(),
            server_got: Vec::new(),
            rule,
            echo: true,
        };
        world.pump();
        world
    }

    /// Moves bytes, outputs and events until nothing moves.
    fn pump(&mut self) {
        let now = self.now;
        for _ in 0..100_000 {
            let mut progress = false;
            while let Some(output) = self.client.poll_output() {
                progress = true;
                match output {
                    Output::Connect(c) => {
                        assert_eq!((c.host.as_str(), c.port, c.tls), ("127.0.0.1", 8081, false));
                        let link = Link {
                            server: self.sim.connect(now),
                            fate: Fate::Pass,
                            to_server: Vec::new(),
                            to_client: Vec::new(),
                            eof_given: false,
                        };
                        self.links.insert(c.id, link);
                        self.client.connected(c.id, now);
                    }
                    Output::Close(id) => {
                        let mut link = self.links.remove(&id).expect("a known connection");
                        link.server.conn.abort(now);
                        link.server.drain(now);
                        self.sessions.extend(link.server.opened.drain(..));
                    }
                    other => panic!("unexpected output {other:?}"),
                }
            }
            let ids: Vec<ConnId> = self.links.keys().copied().collect();
            for id in ids {
                progress |= self.move_bytes(id);
            }
            for link in self.links.values_mut() {
                self.sessions.extend(link.server.opened.drain(..));
            }
            let waker = futures_util::task::noop_waker();
            for session in &mut self.sessions {
                while let Poll::Ready(Some(Message::Text(text))) = poll_recv(session, &waker) {
                    progress = true;
                    self.server_got.push(text.as_str().to_owned());
                    if self.echo {
                        let _ = session.send(text.as_str().to_owned());
                    }
                }
            }
            while let Some(event) = self.client.poll_event() {
                progress = true;
                self.events.push(event);
            }
            if !progress {
                return;
            }
        }
        panic!("the exchange does not settle");
    }

    /// Moves what can move on one connection.
    fn move_bytes(&mut self, id: ConnId) -> bool {
        let now = self.now;
        let mut progress = false;
        let link = self.links.get_mut(&id).expect("a link");
        while let Some(bytes) = self.client.poll_transmit(id) {
            progress = true;
            let text = String::from_utf8_lossy(&bytes);
            if let Some(line) = ["GET /", "POST /"]
                .iter()
                .find(|m| text.starts_with(*m))
                .and_then(|_| text.lines().next())
            {
                self.requests.push(line.to_owned());
                let head = text.split("\r\n\r\n").next().unwrap_or_default();
                self.heads.push(head.to_owned());
                if link.fate == Fate::Pass {
                    link.fate = self.rule.fate(line);
                }
            }
            if link.fate != Fate::Silent {
                link.to_server.extend_from_slice(&bytes);
            }
        }
        if !link.to_server.is_empty() && link.server.conn.wants_read() {
            let bytes = std::mem::take(&mut link.to_server);
            link.server.send(&bytes, now);
            progress = true;
        }
        let got = link.server.read(now);
        if !got.is_empty() {
            link.to_client.extend_from_slice(&got);
        }
        let held = link.fate == Fate::Buffered && !link.server.is_done();
        let capacity = self.client.read_capacity(id);
        if !held && capacity > 0 && !link.to_client.is_empty() {
            let n = capacity.min(link.to_client.len());
            let chunk: Vec<u8> = link.to_client.drain(..n).collect();
            self.client.receive(id, &chunk, now);
            progress = true;
        } else if !held
            && capacity > 0
            && link.to_client.is_empty()
            && link.server.is_done()
            && !link.eof_given
        {
            link.eof_given = true;
            self.client.receive_eof(id, now);
            progress = true;
        }
        progress
    }

    /// Jumps to the next deadline (the client's, the server's or a
    /// connection's) no later than `limit`, fires it, and pumps; false when
    /// nothing is due by then.
    fn advance(&mut self, limit: Instant) -> bool {
        let next = [self.client.poll_timeout(), self.sim.server_timeout()]
            .into_iter()
            .chain(self.links.values().map(|l| l.server.deadline()))
            .flatten()
            .filter(|&t| t <= limit)
            .min();
        let Some(next) = next else {
            return false;
        };
        self.now = self.now.max(next);
        let now = self.now;
        self.client.handle_timeout(now);
        self.sim.server_fire(now);
        for link in self.links.values_mut() {
            if link.server.deadline().is_some_and(|d| d <= now) {
                link.server.fire(now);
            }
        }
        self.pump();
        true
    }

    /// Runs simulated time until `done` holds, for at most `limit`.
    fn run_until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) {
        let end = self.now + limit;
        self.pump();
        while !done(self) {
            assert!(
                self.advance(end),
                "nothing left to happen by {:?} (now {:?}, next {:?}): {:?}",
                end - self.sim.t0,
                self.now - self.sim.t0,
                self.client.poll_timeout().map(|t| t - self.sim.t0),
                self.events
            );
        }
    }

    /// A world whose client opened on `transport` alone.
    fn opened(transport: Transport) -> Self {
        let mut w = Self::new(SockJsOptions::default(), only(transport));
        w.open();
        w
    }

    /// Runs until the session opened (or failed).
    fn open(&mut self) -> Transport {
        self.run_until(Duration::from_secs(60), |w| {
            w.events
                .iter()
                .any(|e| matches!(e, ClientEvent::Open(_) | ClientEvent::Closed(_)))
        });
        match self
            .events
            .iter()
            .find(|e| matches!(e, ClientEvent::Open(_)))
        {
            Some(ClientEvent::Open(t)) => *t,
            _ => panic!("did not open: {:?}", self.events),
        }
    }

    fn messages(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message(m) => Some(m.as_str()),
                _ => None,
            })
            .collect()
    }

    fn closed(&self) -> Option<&server_proto::sockjs_proto::client::Closed> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::Closed(c) => Some(c),
            _ => None,
        })
    }

    fn count_requests(&self, fragment: &str) -> usize {
        self.requests
            .iter()
            .filter(|r| r.contains(fragment))
            .count()
    }

    /// Sends `n` messages, pumping after each.
    fn send_all(&mut self, texts: &[String]) {
        for text in texts {
            self.client.send(text).expect("taken");
            self.pump();
        }
    }

    /// Runs until `n` messages came back.
    fn until_messages(&mut self, n: usize) {
        self.run_until(Duration::from_secs(60), |w| w.messages().len() >= n);
    }
}

fn only(transport: Transport) -> ClientConfig {
    ClientConfig::default().transports([transport])
}

fn numbered(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("message {i} \u{e9}\"\\\n"))
        .collect()
}

#[test]
fn each_transport_opens_and_echoes() {
    for transport in DEFAULT_TRANSPORTS {
        let mut w = World::new(SockJsOptions::default(), only(transport));
        assert_eq!(w.open(), transport);
        assert_eq!(w.requests[0], "GET /echo/info HTTP/1.1");
        let texts = numbered(20);
        w.send_all(&texts);
        w.until_messages(20);
        assert_eq!(
            w.messages(),
            texts.iter().map(String::as_str).collect::<Vec<_>>(),
            "{transport:?}"
        );
        assert!(w.client.is_open());
        assert_eq!(w.client.buffered_amount(), 0);
    }
}

#[test]
fn the_default_order_opens_the_websocket() {
    let mut w = World::new(SockJsOptions::default(), ClientConfig::default());
    assert_eq!(w.open(), Transport::WebSocket);
    let (transport, path) = w.client.session().unwrap();
    assert_eq!(transport, Transport::WebSocket);
    assert!(w.requests[1].starts_with(&format!("GET /echo{path}/websocket ")));
    assert_eq!(path.len(), 1 + 3 + 1 + 8);
    // The /info connection was given back: the WebSocket is the only one.
    assert_eq!(w.links.len(), 1);
}

#[test]
fn a_stream_cut_at_the_limit_reopens_without_losing_or_repeating() {
    let options = SockJsOptions::default().config(SockJsConfig::default().stream_bytes_limit(256));
    let mut w = World::new(options, only(Transport::XhrStreaming));
    w.open();
    let texts = numbered(300);
    w.send_all(&texts);
    w.until_messages(300);
    assert_eq!(
        w.messages(),
        texts.iter().map(String::as_str).collect::<Vec<_>>()
    );
    let streams = w.count_requests("/xhr_streaming ");
    assert!(streams > 20, "{streams} streaming requests");
}

#[test]
fn sends_while_one_is_in_flight_go_in_one_batch() {
    let mut w = World::new(SockJsOptions::default(), only(Transport::Xhr));
    w.open();
    // Five sends before anything moves: the first goes alone, the other
    // four wait for its answer and go together.
    let texts = numbered(5);
    for text in &texts {
        w.client.send(text).unwrap();
    }
    assert_eq!(
        w.client.buffered_amount(),
        texts.iter().map(String::len).sum::<usize>()
    );
    w.pump();
    w.until_messages(5);
    assert_eq!(w.count_requests("/xhr_send "), 2);
    assert_eq!(
        w.messages(),
        texts.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

#[test]
fn websocket_off_on_the_server_is_skipped_without_a_try() {
    let options =
        SockJsOptions::default().config(SockJsConfig::default().web_socket_enabled(false));
    let mut w = World::new(options, ClientConfig::default());
    assert_eq!(w.open(), Transport::XhrStreaming);
    assert_eq!(w.client.info().map(|i| i.websocket), Some(false));
    assert_eq!(w.count_requests("/websocket "), 0);
    assert!(!w
        .events
        .iter()
        .any(|e| matches!(e, ClientEvent::Fallback { .. })));
}

#[test]
fn a_silent_websocket_falls_back_after_twice_the_rto() {
    let rule = Rule::when("/websocket ", Fate::Silent);
    let mut w = World::with(SockJsOptions::default(), ClientConfig::default(), rule);
    let start = w.now;
    assert_eq!(w.open(), Transport::XhrStreaming);
    // The /info round trip took no simulated time: rto = 300 ms.
    assert_eq!(w.client.rto(), Duration::from_millis(300));
    assert_eq!(w.now - start, Duration::from_millis(600));
    assert_eq!(
        w.events[0],
        ClientEvent::Fallback {
            transport: Transport::WebSocket,
            failure: Failure::Timeout
        }
    );
    // Each try has its own session id.
    let ws = w
        .requests
        .iter()
        .find(|r| r.contains("/websocket "))
        .unwrap();
    let (_, path) = w.client.session().unwrap();
    assert!(!ws.contains(path));
}

#[test]
fn a_buffering_proxy_makes_streaming_fall_back_to_polling() {
    let rule = Rule::when("/xhr_streaming ", Fate::Buffered);
    let config = ClientConfig::default()
        .transports([Transport::XhrStreaming, Transport::Xhr])
        .transport_timeout(Duration::from_secs(2));
    let mut w = World::with(SockJsOptions::default(), config, rule);
    let start = w.now;
    assert_eq!(w.open(), Transport::Xhr);
    assert_eq!(w.now - start, Duration::from_secs(2));
    let texts = numbered(3);
    w.send_all(&texts);
    w.until_messages(3);
}

#[test]
fn when_every_transport_fails_the_close_says_why() {
    let rule = Rule::unless("/info", Fate::Silent);
    let mut w = World::with(SockJsOptions::default(), ClientConfig::default(), rule);
    w.run_until(Duration::from_secs(60), |w| w.closed().is_some());
    let closed = w.closed().unwrap();
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (CloseCode(2000), "All transports failed")
    );
    assert!(!closed.was_clean);
    let Some(ClientError::AllTransportsFailed(failures)) = &closed.error else {
        panic!("{closed:?}");
    };
    let tried: Vec<Transport> = failures.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        tried,
        [
            Transport::WebSocket,
            Transport::XhrStreaming,
            Transport::Xhr
        ]
    );
    assert!(failures.iter().all(|(_, f)| *f == Failure::Timeout));
    w.pump();
    assert!(w.client.is_finished());
    assert!(w.links.is_empty());
}

#[test]
fn an_info_that_never_comes_fails_after_the_info_timeout() {
    let rule = Rule::when("", Fate::Silent);
    let config = ClientConfig::default().info_timeout(Duration::from_secs(3));
    let mut w = World::with(SockJsOptions::default(), config, rule);
    let start = w.now;
    w.run_until(Duration::from_secs(60), |w| w.closed().is_some());
    assert_eq!(w.now - start, Duration::from_secs(3));
    let closed = w.closed().unwrap();
    assert_eq!(closed.code, CloseCode(1002));
    assert_eq!(closed.error, Some(ClientError::Info(Failure::Timeout)));
    assert!(w.client.is_finished());
}

#[test]
fn an_info_on_a_path_without_an_endpoint_fails_with_its_status() {
    let url = "http://127.0.0.1:8081/missing";
    let mut w = World::at(url, SockJsOptions::default(), ClientConfig::default(), PASS);
    w.run_until(Duration::from_secs(10), |w| w.client.is_finished());
    let closed = w.closed().unwrap();
    assert_eq!(closed.code, CloseCode(1002));
    assert_eq!(closed.error, Some(ClientError::Info(Failure::Status(404))));
}

#[test]
fn heartbeats_reach_the_application() {
    for transport in DEFAULT_TRANSPORTS {
        let mut w = World::opened(transport);
        let opened = w.now;
        w.run_until(Duration::from_secs(60), |w| {
            w.events.contains(&ClientEvent::Heartbeat)
        });
        assert_eq!(w.now - opened, Duration::from_secs(25), "{transport:?}");
    }
}

#[test]
fn the_servers_close_ends_the_session_cleanly() {
    for transport in DEFAULT_TRANSPORTS {
        let mut w = World::opened(transport);
        for s in &w.sessions {
            s.close(3000, "Go away!").unwrap();
        }
        w.run_until(Duration::from_secs(10), |w| w.closed().is_some());
        let closed = w.closed().unwrap();
        assert_eq!(
            (closed.code, closed.reason.as_str()),
            (CloseCode(3000), "Go away!")
        );
        assert!(closed.was_clean && closed.error.is_none(), "{transport:?}");
        w.run_until(Duration::from_secs(10), |w| w.client.is_finished());
    }
}

#[test]
fn the_applications_close_sends_what_was_sent_before() {
    for transport in DEFAULT_TRANSPORTS {
        let mut w = World::opened(transport);
        w.echo = false;
        let texts = numbered(3);
        for text in &texts {
            w.client.send(text).unwrap();
        }
        w.client.close(CloseCode(3001), "bye", w.now);
        assert_eq!(
            w.client.send("late"),
            Err(server_proto::sockjs_proto::client::SendError::Closed)
        );
        w.pump();
        w.run_until(Duration::from_secs(10), |w| w.client.is_finished());
        let closed = w.closed().unwrap();
        assert_eq!(
            (closed.code, closed.reason.as_str()),
            (CloseCode(3001), "bye")
        );
        assert!(
            closed.was_clean && closed.error.is_none(),
            "{transport:?}: {closed:?}"
        );
        // The server got all three, then nothing more.
        assert_eq!(w.server_got, texts, "{transport:?}");
    }
}

#[test]
fn the_session_cookie_goes_back_on_every_request() {
    let mut w = World::new(SockJsOptions::default(), only(Transport::Xhr));
    w.open();
    w.send_all(&numbered(2));
    w.until_messages(2);
    // /info sets no cookie; the first transport response sets
    // JSESSIONID=dummy, and every later request carries it.
    let transport_heads: Vec<&String> = w.heads.iter().skip(2).collect();
    assert!(!transport_heads.is_empty());
    for head in transport_heads {
        assert!(head.contains("\r\nCookie: JSESSIONID=dummy"), "{head}");
    }
}

#[test]
fn received_messages_stop_the_reading_at_the_limit() {
    let config = only(Transport::XhrStreaming).max_buffered_messages(100);
    let mut w = World::new(SockJsOptions::default(), config);
    w.open();
    let texts: Vec<String> = (0..10).map(|i| format!("{i:0>60}")).collect();
    // Nobody takes the events: the client reads until 100 bytes of
    // messages wait, then leaves the rest with the server.
    let ids: Vec<ConnId> = w.links.keys().copied().collect();
    for t in &texts {
        w.sessions[0].send(t.clone()).unwrap();
        for &id in &ids {
            w.move_bytes(id);
        }
    }
    let mut held = Vec::new();
    while let Some(e) = w.client.poll_event() {
        held.push(e);
    }
    let read = held
        .iter()
        .filter(|e| matches!(e, ClientEvent::Message(_)))
        .count();
    assert_eq!(read, 2, "60 bytes, then 120: over the limit");
    assert!(w.links.values().any(|l| !l.to_client.is_empty()));
    w.events.extend(held);
    w.pump();
    assert_eq!(
        w.messages(),
        texts.iter().map(String::as_str).collect::<Vec<_>>()
    );
}

impl World {
    /// The connection that carries the session's frames: the WebSocket,
    /// or the receiving request in flight.
    fn receiving_link(&self) -> ConnId {
        let (transport, path) = self.client.session().expect("a session");
        let fragment = format!("{path}/{}", transport.name());
        // The latest connection whose request went to the transport.
        *self
            .links
            .iter()
            .rev()
            .find(|(_, l)| l.server.conn.transmit_len() == 0 && !l.server.is_done())
            .map(|(id, _)| id)
            .filter(|_| self.requests.iter().any(|r| r.contains(&fragment)))
            .expect("a receiving connection")
    }

    /// The server's side of `id` dies: the client reads its end of file.
    fn kill(&mut self, id: ConnId) {
        let link = self.links.get_mut(&id).expect("a link");
        link.server.conn.abort(self.now);
        link.server.drain(self.now);
        self.pump();
    }
}

fn closed_after(w: &mut World) -> server_proto::sockjs_proto::client::Closed {
    w.run_until(Duration::from_secs(30), |w| w.closed().is_some());
    w.closed().unwrap().clone()
}

#[test]
fn a_frame_that_is_not_json_closes_with_1002() {
    let mut w = World::new(SockJsOptions::default(), only(Transport::XhrStreaming));
    w.open();
    let id = w.receiving_link();
    let chunk = b"8\r\na[nope]\n\r\n";
    w.links
        .get_mut(&id)
        .unwrap()
        .to_client
        .extend_from_slice(chunk);
    let closed = closed_after(&mut w);
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (CloseCode(1002), "Broken frame")
    );
    assert_eq!(
        closed.error,
        Some(ClientError::Transport {
            transport: Transport::XhrStreaming,
            failure: Failure::Frame(server_proto::sockjs_proto::client::FrameError::BrokenJson(
                'a'
            ))
        })
    );
}

#[test]
fn a_frame_over_the_limit_closes_with_1009() {
    for transport in DEFAULT_TRANSPORTS {
        let config = only(transport).max_frame_size(64);
        let mut w = World::new(SockJsOptions::default(), config);
        w.open();
        w.sessions[0].send("x".repeat(100)).unwrap();
        let closed = closed_after(&mut w);
        assert_eq!(closed.code, CloseCode(1009), "{transport:?}: {closed:?}");
        assert!(!closed.was_clean);
        w.run_until(Duration::from_secs(30), |w| w.client.is_finished());
    }
}

#[test]
fn a_server_that_dies_mid_stream_ends_the_session_with_1006() {
    for (transport, reason) in [
        (Transport::WebSocket, "WebSocket connection broken"),
        (Transport::XhrStreaming, "Connection lost"),
        (Transport::Xhr, "Connection lost"),
    ] {
        let mut w = World::opened(transport);
        let id = w.receiving_link();
        w.kill(id);
        let closed = closed_after(&mut w);
        assert_eq!(
            (closed.code, closed.reason.as_str()),
            (CloseCode(1006), reason)
        );
        assert!(
            matches!(closed.error, Some(ClientError::Transport { transport: t, .. }) if t == transport),
            "{closed:?}"
        );
        w.run_until(Duration::from_secs(30), |w| w.client.is_finished());
        assert!(w.links.is_empty());
    }
}

#[test]
fn the_connect_timeout_bounds_the_whole_opening() {
    let rule = Rule::unless("/info", Fate::Silent);
    let config = ClientConfig::default()
        .transport_timeout(Duration::from_secs(20))
        .connect_timeout(Some(Duration::from_secs(30)));
    let mut w = World::with(SockJsOptions::default(), config, rule);
    let start = w.now;
    let closed = closed_after(&mut w);
    assert_eq!(w.now - start, Duration::from_secs(30));
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (CloseCode(2007), "Connect timed out")
    );
    assert_eq!(closed.error, Some(ClientError::ConnectTimeout));
    // The websocket try timed out at 20 s; xhr-streaming was being tried.
    assert_eq!(
        w.events[0],
        ClientEvent::Fallback {
            transport: Transport::WebSocket,
            failure: Failure::Timeout
        }
    );
    w.run_until(Duration::from_secs(10), |w| w.client.is_finished());
}

/// Regression (found by the `sockjs_client` fuzz target): a close reason
/// longer than the 123 bytes of a close frame made the WebSocket refuse
/// the close, so nothing went to the server and the session waited out
/// `close_timeout`, to end with `CloseTimeout` and the server seeing 1000.
#[test]
fn a_close_reason_too_long_for_a_close_frame_still_closes_the_websocket() {
    let mut w = World::new(SockJsOptions::default(), only(Transport::WebSocket));
    w.open();
    let start = w.now;
    let reason = "\u{e9}".repeat(100);
    w.client.close(CloseCode(3001), &reason, w.now);
    w.pump();
    w.run_until(Duration::from_secs(10), |w| w.client.is_finished());
    let closed = w.closed().unwrap();
    assert_eq!(
        (closed.code, closed.reason.as_str()),
        (CloseCode(3001), reason.as_str())
    );
    assert_eq!(closed.error, None, "{closed:?}");
    assert!(
        w.now - start < Duration::from_secs(1),
        "{:?}",
        w.now - start
    );
}

/// Regression (found by the `sockjs_client` fuzz target): the WebSocket
/// handshake asked for reads of 20 KiB, and the open WebSocket for its
/// whole input buffer (over 16 MiB by default), so one read could put
/// megabytes of messages past `max_buffered_messages`; every connection
/// now reads at most 16 KiB at a time.
#[test]
fn websocket_reads_are_at_most_16_kib() {
    let rule = Rule::when("/websocket ", Fate::Silent);
    let w = World::with(SockJsOptions::default(), only(Transport::WebSocket), rule);
    // The handshake is out, its answer never comes.
    let id = *w.links.keys().last().unwrap();
    assert_eq!(w.client.read_capacity(id), 16 * 1024);

    let mut w = World::new(SockJsOptions::default(), only(Transport::WebSocket));
    w.open();
    let id = *w.links.keys().next().unwrap();
    assert_eq!(w.client.read_capacity(id), 16 * 1024);
}

/// Regression (found by the `sockjs_client` fuzz target): a WebSocket
/// close queued by a call other than `handle_timeout` (the application's
/// close, the server's close frame, a protocol error) left its timer to be
/// started at the WebSocket's last clock reading, so `poll_timeout` named
/// an instant before `now`, however long ago that was.
#[test]
fn a_websocket_close_never_leaves_a_deadline_in_the_past() {
    let mut w = World::new(SockJsOptions::default(), only(Transport::WebSocket));
    w.open();
    w.now += Duration::from_secs(10);
    w.client.close(CloseCode(3001), "bye", w.now);
    assert_eq!(
        w.client.poll_timeout(),
        Some(w.now + Duration::from_secs(5)),
        "the close timeout, from the close"
    );
    w.pump();
    w.run_until(Duration::from_secs(10), |w| w.client.is_finished());
    assert_eq!(w.closed().map(|c| c.code), Some(CloseCode(3001)));
}
