//! Time: heartbeats, expiry, removal of closed sessions, and a driver that
//! jumps from deadline to deadline checking `poll_timeout` against a model.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use sockjs_proto::{
    CloseReason, Event, ReceiverId, SendError, Server, SessionId, SockJsConfig, Transport,
};

const HB: Duration = Duration::from_secs(25);
const DD: Duration = Duration::from_secs(5);

/// Asserts that `handle_timeout(at)` has nothing to do: no wake-up, no
/// event, the same next deadline.
#[track_caller]
fn assert_nothing_at(s: &mut Server, at: Instant) {
    let before = s.poll_timeout();
    let count = s.session_count();
    s.handle_timeout(at);
    assert_eq!(wakeups(s), vec![], "wake-ups at {at:?}");
    assert_eq!(events(s), vec![], "events at {at:?}");
    assert_eq!(s.poll_timeout(), before);
    assert_eq!(s.session_count(), count);
}

#[test]
fn timer_entries_count_one_per_session_deadline() {
    let mut s = server();
    let now = t0();
    assert_eq!(s.timer_entries(), 0);
    open_xhr(&mut s, "a", now);
    assert_eq!(s.timer_entries(), 1);
    open_xhr(&mut s, "b", now);
    assert_eq!(s.timer_entries(), 2);
}

#[test]
fn a_stream_that_never_takes_its_close_frame_gets_the_end_alone_at_its_deadline() {
    let mut s = server();
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    s.close(id, go_away()).unwrap();
    assert_eq!(wakeups(&mut s), vec![r]);
    // The connection takes no bytes: its output is never pulled.
    assert_eq!(s.poll_timeout(), Some(now + HB));
    s.handle_timeout(now + HB);
    assert_eq!(wakeups(&mut s), vec![r]);
    let out = output(&mut s, r, now + HB);
    assert_eq!((&out.data[..], out.end), (&b""[..], true));
    assert_eq!(s.poll_output(r, now + HB), None);
}

// ---- heartbeats ----------------------------------------------------------------

#[test]
fn streaming_heartbeat_is_h_exactly_at_heartbeat_time() {
    let mut s = server();
    let now = t0();
    let (r, _) = open_xhr_streaming(&mut s, "s", now);
    assert_eq!(s.poll_timeout(), Some(now + HB));
    assert_nothing_at(&mut s, before(now + HB, NS));
    assert_eq!(s.poll_output(r, before(now + HB, NS)), None);
    s.handle_timeout(now + HB);
    assert_eq!(woken_output(&mut s, r, now + HB), ("h\n".to_owned(), false));
    assert_eq!(s.poll_timeout(), Some(now + HB * 2));
    // A repeated call does nothing.
    assert_nothing_at(&mut s, now + HB);
    s.handle_timeout(now + HB * 2);
    assert_eq!(
        woken_output(&mut s, r, now + HB * 2),
        ("h\n".to_owned(), false)
    );
}

#[test]
fn heartbeat_counts_from_the_last_frame_written() {
    let mut s = server();
    let now = t0();
    let (r, id) = open_stream(&mut s, Transport::EventSource, "s", now);
    s.send(id, "x").unwrap();
    // Pulled ten seconds later: the frame is written then.
    let at = now + secs(10);
    assert_eq!(
        woken_output(&mut s, r, at),
        ("data: a[\"x\"]\r\n\r\n".to_owned(), false)
    );
    assert_eq!(s.poll_timeout(), Some(at + HB));
    assert_nothing_at(&mut s, now + HB);
    assert_nothing_at(&mut s, before(at + HB, NS));
    s.handle_timeout(at + HB);
    assert_eq!(
        woken_output(&mut s, r, at + HB),
        ("data: h\r\n\r\n".to_owned(), false)
    );
}

#[test]
fn a_poll_ends_with_h_at_heartbeat_time() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    assert_eq!(s.poll_timeout(), Some(now + DD));
    let at = now + secs(1);
    let (r, _) = poll(s.handle(&post(&url("s", "xhr")), at));
    // The expiry is off while the poll waits.
    assert_eq!(s.poll_timeout(), Some(at + HB));
    assert_nothing_at(&mut s, now + DD);
    assert_nothing_at(&mut s, before(at + HB, NS));
    s.handle_timeout(at + HB);
    assert_eq!(woken_output(&mut s, r, at + HB), ("h\n".to_owned(), true));
    s.receiver_closed(r, at + HB);
    assert!(events(&mut s).is_empty());
    // No receiver now: expiry disconnectDelay later.
    assert_eq!(s.poll_timeout(), Some(at + HB + DD));
}

#[test]
fn a_jsonp_poll_ends_with_h_at_heartbeat_time() {
    let mut s = server();
    let now = t0();
    response(s.handle(&get(&url("s", "jsonp?c=cb")), now));
    events(&mut s);
    let (r, _) = poll(s.handle(&get(&url("s", "jsonp?c=cb")), now));
    assert_nothing_at(&mut s, before(now + HB, NS));
    s.handle_timeout(now + HB);
    assert_eq!(
        woken_output(&mut s, r, now + HB),
        ("/**/cb(\"h\");\r\n".to_owned(), true)
    );
}

#[test]
fn websocket_heartbeat_is_h_exactly_at_heartbeat_time() {
    let mut s = server();
    let now = t0();
    let mut ws = WsClient::connect(&mut s, &url("s", "websocket"), now);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, now), [text("o")]);
    events(&mut s);
    assert_eq!(s.poll_timeout(), Some(now + HB));
    assert_nothing_at(&mut s, before(now + HB, NS));
    s.handle_timeout(now + HB);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, now + HB), [text("h")]);
    assert_eq!(s.poll_timeout(), Some(now + HB * 2));
}

#[test]
fn a_raw_websocket_has_no_deadline() {
    let mut s = server();
    let now = t0();
    let mut ws = WsClient::connect(&mut s, "/websocket", now);
    assert_eq!(ws.recv(&mut s, now), []);
    wakeups(&mut s);
    events(&mut s);
    assert_eq!(s.poll_timeout(), None);
    assert_nothing_at(&mut s, now + HB * 100);
}

#[test]
fn a_custom_heartbeat_time_is_used() {
    let mut s = server_with(SockJsConfig::default().heartbeat_time(ms(1500)));
    let now = t0();
    let (r, _) = open_xhr_streaming(&mut s, "s", now);
    assert_eq!(s.poll_timeout(), Some(now + ms(1500)));
    s.handle_timeout(now + ms(1500));
    assert_eq!(
        woken_output(&mut s, r, now + ms(1500)),
        ("h\n".to_owned(), false)
    );
}

// ---- expiry and removal --------------------------------------------------------

#[test]
fn a_session_without_receiver_expires_exactly_at_disconnect_delay() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    assert_eq!(s.poll_timeout(), Some(now + DD));
    assert_nothing_at(&mut s, before(now + DD, NS));
    s.handle_timeout(now + DD);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            session: id,
            reason: CloseReason::Expired
        }]
    );
    assert_eq!(s.session_count(), 0);
    assert!(s.session(id).is_none());
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(xhr_send(&mut s, "s", r#"["x"]"#, now + DD).status(), 404);
    assert_eq!(s.send(id, "x"), Err(SendError::UnknownSession));
    // The id is free again.
    assert_ne!(open_xhr(&mut s, "s", now + DD), id);
}

#[test]
fn expiry_counts_from_when_the_last_receiver_left() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    let (r, _) = poll(s.handle(&post(&url("s", "xhr")), now + secs(1)));
    s.send(id, "x").unwrap();
    let left = now + secs(3);
    assert_eq!(
        woken_output(&mut s, r, left),
        ("a[\"x\"]\n".to_owned(), true)
    );
    // The adapter reports the connection later: that changes nothing.
    s.receiver_closed(r, left + secs(1));
    assert_eq!(s.poll_timeout(), Some(left + DD));
    assert_nothing_at(&mut s, before(left + DD, NS));
    s.handle_timeout(left + DD);
    assert_eq!(closed(&events(&mut s)), [CloseReason::Expired]);
    assert_eq!(s.session_count(), 0);
}

#[test]
fn a_closed_session_is_removed_exactly_at_disconnect_delay_after_its_receiver_left() {
    let mut s = server();
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    let left = now + secs(2);
    s.close(id, go_away()).unwrap();
    events(&mut s);
    assert!(woken_output(&mut s, r, left).1);
    s.receiver_closed(r, left);
    assert_eq!(s.poll_timeout(), Some(left + DD));
    // Requests in between get the close frame and do not move the removal.
    assert_eq!(
        xhr_now(&mut s, "s", left + secs(4)),
        "c[3000,\"Go away!\"]\n"
    );
    assert_eq!(s.poll_timeout(), Some(left + DD));
    assert_nothing_at(&mut s, before(left + DD, NS));
    s.handle_timeout(left + DD);
    assert_eq!(s.session_count(), 0);
    assert_eq!(events(&mut s), [], "no second Closed event");
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn an_interrupted_session_is_removed_at_disconnect_delay_after_the_interruption() {
    let mut s = server();
    let now = t0();
    let (r, _) = open_xhr_streaming(&mut s, "s", now);
    let gone = now + secs(3);
    s.receiver_closed(r, gone);
    assert_eq!(closed(&events(&mut s)), [CloseReason::Interrupted]);
    assert_eq!(s.poll_timeout(), Some(gone + DD));
    assert_nothing_at(&mut s, before(gone + DD, NS));
    s.handle_timeout(gone + DD);
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_streaming_receiver_keeps_its_session_alive() {
    let mut s = server();
    let now = t0();
    let (r, _) = open_xhr_streaming(&mut s, "s", now);
    for i in 1..=10 {
        let at = now + HB * i;
        assert_eq!(s.poll_timeout(), Some(at));
        s.handle_timeout(at);
        assert_eq!(woken_output(&mut s, r, at), ("h\n".to_owned(), false));
    }
    assert!(events(&mut s).is_empty());
    assert_eq!(s.session_count(), 1);
}

#[test]
fn a_custom_disconnect_delay_is_used() {
    let mut s = server_with(SockJsConfig::default().disconnect_delay(ms(250)));
    let now = t0();
    open_xhr(&mut s, "s", now);
    assert_eq!(s.poll_timeout(), Some(now + ms(250)));
    assert_nothing_at(&mut s, before(now + ms(250), NS));
    s.handle_timeout(now + ms(250));
    assert_eq!(closed(&events(&mut s)), [CloseReason::Expired]);
}

// ---- the deadline driver ---------------------------------------------------------

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// xhr_streaming, eventsource or htmlfile, attached for good.
    Stream,
    /// xhr or jsonp: the client polls again as soon as a poll ends.
    Poll,
    /// A SockJS WebSocket.
    WebSocket,
    /// Opened with one xhr, then left alone: it expires.
    Idle,
    /// A raw WebSocket: no deadline.
    Raw,
}

struct Sim {
    name: String,
    kind: Kind,
    target: String,
    method: &'static str,
    id: Option<SessionId>,
    receiver: Option<ReceiverId>,
    ws: Option<WsClient>,
    /// When the model says the session next needs `handle_timeout`.
    deadline: Option<Instant>,
}

struct Driver {
    s: Server,
    sims: BTreeMap<String, Sim>,
    rng: Rng,
    next_name: u32,
    /// Heartbeats written, sessions expired, messages sent.
    heartbeats: usize,
    expired: usize,
    sends: usize,
}

impl Driver {
    fn expected(&self) -> Option<Instant> {
        self.sims.values().filter_map(|sim| sim.deadline).min()
    }

    fn spawn(&mut self, now: Instant) {
        let name = format!("s{}", self.next_name);
        self.next_name += 1;
        let kind = match self.rng.below(9) {
            0 | 1 => Kind::Stream,
            2 | 3 => Kind::Poll,
            4 | 5 => Kind::WebSocket,
            6 | 7 => Kind::Idle,
            _ => Kind::Raw,
        };
        let (target, method) = match (kind, self.rng.below(3)) {
            (Kind::Stream, 0) => (url(&name, "xhr_streaming"), "POST"),
            (Kind::Stream, 1) => (url(&name, "eventsource"), "GET"),
            (Kind::Stream, _) => (url(&name, "htmlfile?c=cb"), "GET"),
            (Kind::Poll, 0) => (url(&name, "jsonp?c=cb"), "GET"),
            (Kind::Poll | Kind::Idle, _) => (url(&name, "xhr"), "POST"),
            (Kind::WebSocket, _) => (url(&name, "websocket"), "GET"),
            (Kind::Raw, _) => ("/websocket".to_owned(), "GET"),
        };
        let mut sim = Sim {
            name: name.clone(),
            kind,
            target,
            method,
            id: None,
            receiver: None,
            ws: None,
            deadline: None,
        };
        match kind {
            Kind::WebSocket | Kind::Raw => {
                let mut ws = WsClient::connect(&mut self.s, &sim.target, now);
                let seen = ws.recv(&mut self.s, now);
                if kind == Kind::WebSocket {
                    assert_eq!(seen, [text("o")]);
                    sim.deadline = Some(now + HB);
                } else {
                    assert_eq!(seen, []);
                }
                sim.receiver = Some(ws.receiver);
                sim.ws = Some(ws);
            }
            Kind::Stream => {
                let (r, _) = stream(self.s.handle(&req(method, &sim.target), now));
                // Its open frame, pulled at once.
                let out = output(&mut self.s, r, now);
                assert!(!out.end);
                sim.receiver = Some(r);
                sim.deadline = Some(now + HB);
            }
            Kind::Poll => {
                response(self.s.handle(&req(method, &sim.target), now));
                sim.repoll(&mut self.s, now);
            }
            Kind::Idle => {
                response(self.s.handle(&req(method, &sim.target), now));
                sim.deadline = Some(now + DD);
            }
        }
        sim.id = Some(opened(&events(&mut self.s)));
        // A WebSocket or a stream is woken for its open frame, already
        // pulled above.
        wakeups(&mut self.s);
        self.sims.insert(name, sim);
    }

    /// The application sends to a random session with a receiver, and its
    /// output is pulled at once.
    fn send_somewhere(&mut self, now: Instant) {
        let names: Vec<String> = self
            .sims
            .values()
            .filter(|sim| sim.kind != Kind::Idle)
            .map(|sim| sim.name.clone())
            .collect();
        if names.is_empty() {
            return;
        }
        let name = &names[self.rng.below(names.len() as u64) as usize];
        let sim = self.sims.get_mut(name).unwrap();
        let receiver = sim.receiver.unwrap();
        self.s.send(sim.id.unwrap(), "m").unwrap();
        self.sends += 1;
        assert_eq!(wakeups(&mut self.s), vec![receiver]);
        match sim.kind {
            Kind::Stream | Kind::Poll => {
                let out = output(&mut self.s, receiver, now);
                assert!(std::str::from_utf8(&out.data).unwrap().contains("a["));
                if sim.kind == Kind::Poll {
                    assert!(out.end);
                    sim.repoll(&mut self.s, now);
                } else {
                    assert!(!out.end);
                    sim.deadline = Some(now + HB);
                }
            }
            Kind::WebSocket | Kind::Raw => {
                let seen = sim.ws.as_mut().unwrap().recv(&mut self.s, now);
                if sim.kind == Kind::Raw {
                    assert_eq!(seen, [text("m")]);
                } else {
                    assert_eq!(seen, [text("a[\"m\"]")]);
                    sim.deadline = Some(now + HB);
                }
            }
            Kind::Idle => unreachable!(),
        }
    }

    /// `handle_timeout` at the expected deadline, and what the model says
    /// must come of it.
    fn fire(&mut self, at: Instant) {
        let due: Vec<String> = self
            .sims
            .values()
            .filter(|sim| sim.deadline == Some(at))
            .map(|sim| sim.name.clone())
            .collect();
        assert!(!due.is_empty());
        self.s.handle_timeout(at);
        let mut woken = wakeups(&mut self.s);
        let events = events(&mut self.s);
        let mut expired = 0;
        for name in due {
            let sim = self.sims.get_mut(&name).unwrap();
            match sim.kind {
                Kind::Idle => {
                    expired += 1;
                    self.expired += 1;
                    self.sims.remove(&name);
                }
                Kind::Stream | Kind::Poll | Kind::WebSocket => {
                    let r = sim.receiver.unwrap();
                    let i = woken.iter().position(|&w| w == r).expect("woken");
                    woken.remove(i);
                    self.heartbeats += 1;
                    if sim.kind == Kind::WebSocket {
                        let seen = sim.ws.as_mut().unwrap().recv(&mut self.s, at);
                        assert_eq!(seen, [text("h")]);
                        sim.deadline = Some(at + HB);
                    } else {
                        let out = output(&mut self.s, r, at);
                        let body = std::str::from_utf8(&out.data).unwrap();
                        assert!(body.contains('h'), "{body:?}");
                        assert_eq!(out.end, sim.kind == Kind::Poll);
                        if out.end {
                            sim.repoll(&mut self.s, at);
                        } else {
                            sim.deadline = Some(at + HB);
                        }
                    }
                }
                Kind::Raw => unreachable!("raw websockets have no deadline"),
            }
        }
        assert!(woken.is_empty(), "unexpected wake-ups {woken:?}");
        assert_eq!(events.len(), expired, "{events:?}");
        assert!(events.iter().all(|e| matches!(
            e,
            Event::Closed {
                reason: CloseReason::Expired,
                ..
            }
        )));
    }
}

impl Sim {
    /// The poll ended: the adapter reports it, the client polls again.
    fn repoll(&mut self, s: &mut Server, now: Instant) {
        if let Some(r) = self.receiver.take() {
            s.receiver_closed(r, now);
        }
        let (r, _) = poll(s.handle(&req(self.method, &self.target), now));
        self.receiver = Some(r);
        self.deadline = Some(now + HB);
    }
}

#[test]
fn poll_timeout_is_always_the_earliest_deadline_of_the_model() {
    let now = t0();
    let mut d = Driver {
        s: server(),
        sims: BTreeMap::new(),
        rng: Rng(0x9e37_79b9_7f4a_7c15),
        next_name: 0,
        heartbeats: 0,
        expired: 0,
        sends: 0,
    };
    for _ in 0..40 {
        d.spawn(now);
    }
    let mut clock = now;
    for _step in 0..600 {
        let expected = d.expected();
        assert_eq!(d.s.poll_timeout(), expected);
        let Some(at) = expected else { break };
        assert!(at >= clock);
        match d.rng.below(4) {
            // Something happens before the deadline.
            0 if at > clock + ms(2) => {
                let mid = clock + ms(1 + d.rng.below((at - clock).as_millis() as u64 - 1));
                clock = mid;
                if d.rng.below(2) == 0 {
                    d.send_somewhere(mid);
                } else {
                    d.spawn(mid);
                }
            }
            _ => {
                assert_nothing_at(&mut d.s, before(at, NS));
                d.fire(at);
                clock = at;
            }
        }
    }
    // The run went through every kind of deadline.
    assert!(d.heartbeats > 200, "{}", d.heartbeats);
    assert!(d.expired > 10, "{}", d.expired);
    assert!(d.sends > 50, "{}", d.sends);
    // Stale heap entries do not pile up.
    assert!(d.s.timer_entries() <= 2 * d.s.session_count() + 8);
}
