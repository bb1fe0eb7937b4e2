//! Property: whatever the application sends, whichever receivers come and
//! go across the HTTP transports, and however time passes (less than
//! disconnectDelay without a receiver), the client gets every message
//! exactly once and in order, as long as the message cache never overflows.

mod common;

use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;
use sockjs_proto::{Answer, Event, ReceiverId, Server, SessionId, SockJsConfig, Transport};

const DD: Duration = Duration::from_secs(5);

/// Strings that each framing must carry intact.
const TRICKY: &[&str] = &[
    "",
    "\"",
    "\\",
    "\n\r\t",
    "\u{0}",
    "\u{2028}",
    "\u{200c}",
    "</script>",
    "\u{ffff}",
    "\u{1f600}",
    "data: x\r\n\r\n",
    "é",
];

#[derive(Debug, Clone)]
enum Op {
    /// The application sends this many messages (fewer if the cache is
    /// full).
    Send(usize),
    /// The client makes a receiving request on this transport.
    Receive(Transport),
    /// The adapter drains wake-ups and pulls output.
    Pull,
    /// Time passes by this many milliseconds (capped so that a session
    /// without a receiver never expires), with `handle_timeout` at every
    /// deadline on the way.
    Advance(u64),
}

fn transport() -> impl Strategy<Value = Transport> {
    prop_oneof![
        Just(Transport::Xhr),
        Just(Transport::XhrStreaming),
        Just(Transport::EventSource),
        Just(Transport::HtmlFile),
        Just(Transport::Jsonp),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (1usize..5).prop_map(Op::Send),
        3 => transport().prop_map(Op::Receive),
        3 => Just(Op::Pull),
        1 => prop_oneof![0u64..2_000, 20_000u64..60_000].prop_map(Op::Advance),
    ]
}

/// The client and the adapter, around one session.
struct Client {
    s: Server,
    id: SessionId,
    now: Instant,
    cache: usize,
    /// Messages the application sent, in order.
    sent: Vec<String>,
    /// Messages the client got, in order.
    got: Vec<String>,
    /// The attached receiver and its transport.
    receiver: Option<(ReceiverId, Transport)>,
    /// When the session last lost its receiver.
    detached_at: Option<Instant>,
}

impl Client {
    /// Reads frames written on `transport`; only `h` and `a` may come after
    /// the session opened.
    fn take(&mut self, transport: Transport, data: &[u8], first: bool) {
        let text = std::str::from_utf8(data).expect("UTF-8 on the wire");
        for frame in frames(transport, text, first) {
            match frame.as_bytes().first() {
                Some(b'h') => assert_eq!(frame, "h"),
                Some(b'a') => self.got.extend(frame_messages(&frame)),
                _ => panic!("unexpected frame {frame:?} on {transport:?}"),
            }
        }
    }

    fn send(&mut self, n: usize) {
        for _ in 0..n {
            let pending = self.s.session(self.id).expect("alive").pending();
            assert!(pending <= self.cache);
            if pending == self.cache {
                return;
            }
            let i = self.sent.len();
            let m = format!("m{i}{}", TRICKY[i % TRICKY.len()]);
            self.s.send(self.id, m.clone()).expect("the cache has room");
            self.sent.push(m);
        }
    }

    fn receive(&mut self, transport: Transport) {
        let (target, method) = receiving_target("s", transport);
        let answer = self.s.handle(&req(method, &target), self.now);
        if self.receiver.is_some() {
            // One receiver at a time: this one is refused, the first is not
            // disturbed.
            let now = self.now;
            assert_eq!(
                answer_frames(&mut self.s, answer, transport, now),
                ["c[2010,\"Another connection still open\"]"]
            );
            return;
        }
        match answer {
            Answer::Response(res) => {
                // Answered at once: a poll with waiting messages.
                assert_eq!(res.status(), 200);
                self.take(transport, res.body(), true);
                self.detached_at = Some(self.now);
            }
            Answer::Poll { receiver, response } => {
                assert!(response.body().is_empty());
                self.receiver = Some((receiver, transport));
            }
            Answer::Stream { receiver, response } => {
                // The prelude alone: the frames come as outputs.
                assert_eq!(
                    frames(transport, body(&response), true),
                    Vec::<String>::new()
                );
                self.receiver = Some((receiver, transport));
            }
            Answer::Upgrade { .. } => panic!("no upgrade over HTTP"),
        }
    }

    fn pull(&mut self) {
        let woken = wakeups(&mut self.s);
        let Some((r, transport)) = self.receiver else {
            assert!(woken.is_empty(), "{woken:?}");
            return;
        };
        if !woken.contains(&r) {
            // Never output without a wake-up.
            assert_eq!(self.s.poll_output(r, self.now), None);
            return;
        }
        while let Some(out) = self.s.poll_output(r, self.now) {
            self.take(transport, &out.data, false);
            if out.end {
                assert_eq!(self.s.poll_output(r, self.now), None);
                self.s.receiver_closed(r, self.now);
                self.receiver = None;
                self.detached_at = Some(self.now);
                break;
            }
        }
    }

    fn advance(&mut self, millis: u64) {
        let mut target = self.now + Duration::from_millis(millis);
        if self.receiver.is_none() {
            let last = before(
                self.detached_at.expect("detached at some point") + DD,
                ms(1),
            );
            target = target.min(last.max(self.now));
        }
        while let Some(at) = self.s.poll_timeout() {
            if at > target {
                break;
            }
            assert!(at >= self.now);
            self.now = at;
            self.s.handle_timeout(at);
            self.pull();
            if self.receiver.is_none() {
                // A poll ended with a heartbeat: keep clear of the expiry.
                let last = before(self.now + DD, ms(1));
                target = target.min(last);
            }
        }
        self.now = target;
    }

    fn check_events(&mut self) {
        let events = events(&mut self.s);
        assert!(
            events.iter().all(|e| !matches!(e, Event::Closed { .. })),
            "{events:?}"
        );
    }
}

/// Runs `ops`; returns how many messages went through.
fn run(ops: &[Op], limit: usize, cache: usize) -> usize {
    let mut s = server_with(
        SockJsConfig::default()
            .stream_bytes_limit(limit)
            .http_message_cache_size(cache),
    );
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    let mut c = Client {
        s,
        id,
        now,
        cache,
        sent: Vec::new(),
        got: Vec::new(),
        receiver: None,
        detached_at: Some(now),
    };
    for op in ops {
        match *op {
            Op::Send(n) => c.send(n),
            Op::Receive(t) => c.receive(t),
            Op::Pull => c.pull(),
            Op::Advance(ms) => c.advance(ms),
        }
        c.check_events();
        assert!(c.s.session(c.id).is_some_and(|v| v.is_open()));
        // Nothing is delivered twice or out of order, at any point.
        assert_eq!(c.got[..], c.sent[..c.got.len()]);
    }
    // The end: the adapter drains, and the client polls for what is left.
    c.pull();
    if c.receiver.is_some() {
        assert_eq!(c.s.session(c.id).unwrap().pending(), 0);
    } else {
        c.receive(Transport::Xhr);
        c.pull();
    }
    c.check_events();
    assert_eq!(c.got, c.sent);
    c.sent.len()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_message_is_delivered_exactly_once_and_in_order(
        ops in prop::collection::vec(op(), 1..80),
        limit in prop_oneof![Just(8usize), Just(40), Just(200), Just(4096)],
        cache in prop_oneof![Just(3usize), Just(10), Just(100)],
    ) {
        run(&ops, limit, cache);
    }
}

#[test]
fn a_long_mixed_sequence_delivers_everything() {
    let ops: Vec<Op> = (0..400)
        .map(|i| match i % 7 {
            0 | 3 => Op::Send(1 + i % 4),
            1 => Op::Receive(
                [
                    Transport::Xhr,
                    Transport::XhrStreaming,
                    Transport::EventSource,
                    Transport::HtmlFile,
                    Transport::Jsonp,
                ][(i / 7) % 5],
            ),
            2 | 5 => Op::Pull,
            4 => Op::Advance(if i % 3 == 0 { 26_000 } else { 900 }),
            _ => Op::Receive(Transport::Xhr),
        })
        .collect();
    for limit in [8, 40, 4096] {
        assert!(run(&ops, limit, 10) > 200);
    }
}
