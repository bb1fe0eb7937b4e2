//! WebSocket time on simulated time: the liveness check (a ping after a
//! silent interval, a dead peer failed exactly `ping_interval +
//! pong_timeout` after it went silent, any byte counting as life, paused
//! reading) and the close timeout, for both roles. A driver jumps from
//! deadline to deadline and checks at each one that an earlier and a
//! repeated `handle_timeout` do nothing.

mod common;

use std::time::{Duration, Instant};

use ws_proto::{
    CloseCode, CloseState, Connection, Event, ProtocolError, Role, Timeout, WebSocketConfig,
};

use common::{
    client_close, client_with, drain_events, feed, masked, server_close, transmit, unmasked,
    Outcome, Pair, BINARY, CONT, FIN, PING, PONG, TEXT,
};

const INTERVAL: Duration = Duration::from_secs(10);
const PONG_TIMEOUT: Duration = Duration::from_secs(3);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
const NS: Duration = Duration::from_nanos(1);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[allow(clippy::disallowed_methods)] // a base instant; time then moves by hand
fn t0() -> Instant {
    Instant::now()
}

fn live_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .ping_interval(INTERVAL)
        .pong_timeout(PONG_TIMEOUT)
        .close_timeout(CLOSE_TIMEOUT)
}

fn conn(role: Role, config: WebSocketConfig) -> Connection {
    match role {
        Role::Server => Connection::server(config),
        Role::Client => client_with(config),
    }
}

/// A frame from the peer of `role`: masked for a server, plain for a client.
fn from_peer(role: Role, b0: u8, payload: &[u8]) -> Vec<u8> {
    match role {
        Role::Server => masked(b0, payload),
        Role::Client => unmasked(b0, payload),
    }
}

/// The empty ping `role` sends (a client masks it with `common::KEY`).
fn ping_of(role: Role) -> Vec<u8> {
    match role {
        Role::Server => unmasked(FIN | PING, b""),
        Role::Client => masked(FIN | PING, b""),
    }
}

/// A connection on simulated time: `now` only moves forward, by hand.
struct Sim {
    conn: Connection,
    now: Instant,
    got: Outcome,
    wrote: Vec<u8>,
}

impl Sim {
    /// Starts `conn` at `now` (its first `handle_timeout`).
    fn start(mut conn: Connection, now: Instant) -> Self {
        conn.handle_timeout(now);
        let mut sim = Self {
            conn,
            now,
            got: Outcome::default(),
            wrote: Vec::new(),
        };
        sim.drain();
        sim
    }

    fn drain(&mut self) {
        drain_events(&mut self.conn, &mut self.got);
        let wire = transmit(&mut self.conn);
        self.wrote.extend_from_slice(&wire);
    }

    /// Bytes from the peer at `at` (not before the current time).
    fn receive_at(&mut self, at: Instant, bytes: &[u8]) {
        self.advance_to(at);
        self.now = at;
        self.conn.receive(bytes);
        self.drain();
    }

    /// Jumps from deadline to deadline up to `until` (inclusive), acting on
    /// each. At each deadline it first checks that a call one nanosecond
    /// early does nothing, and after it that a repeated call does nothing.
    /// A timer that waits to start is due at once: `poll_timeout` answers
    /// the latest `now` the connection saw, and the driver calls
    /// `handle_timeout` with the current time. Returns the deadlines acted
    /// on.
    fn advance_to(&mut self, until: Instant) -> Vec<Instant> {
        let mut acted = Vec::new();
        while let Some(at) = self.conn.poll_timeout() {
            let at = at.max(self.now);
            if at > until {
                break;
            }
            if at > self.now {
                self.assert_nothing_at(at.checked_sub(NS).expect("after the clock's start"));
            }
            self.now = at;
            let (events, wrote) = (self.got.events.len(), self.wrote.len());
            self.conn.handle_timeout(at);
            self.drain();
            acted.push(at);
            // `poll_timeout` named an instant where `handle_timeout` makes
            // progress: a deadline moved, or something came out.
            let progress = self.conn.poll_timeout() != Some(at)
                || self.got.events.len() != events
                || self.wrote.len() != wrote
                || self.got.error.is_some();
            assert!(progress, "no progress at the deadline {at:?}");
            if self.conn.poll_timeout() != Some(at) {
                self.assert_nothing_at(at);
            }
        }
        self.now = self.now.max(until);
        acted
    }

    /// `handle_timeout(at)` changes nothing: no output, no event, the same
    /// next deadline.
    #[track_caller]
    fn assert_nothing_at(&mut self, at: Instant) {
        let before = self.conn.poll_timeout();
        let state = self.conn.close_state();
        self.conn.handle_timeout(at);
        assert_eq!(self.conn.pending_transmit(), 0, "output at {at:?}");
        let mut out = Outcome::default();
        drain_events(&mut self.conn, &mut out);
        assert_eq!(out, Outcome::default(), "events at {at:?}");
        assert_eq!(self.conn.poll_timeout(), before, "deadline moved at {at:?}");
        assert_eq!(self.conn.close_state(), state);
    }

    fn take_wrote(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.wrote)
    }
}

// ---- the contract ----------------------------------------------------------------

#[test]
fn no_time_is_needed_before_the_first_handle_timeout_nor_without_timers() {
    for role in [Role::Server, Role::Client] {
        let mut c = conn(role, live_config());
        assert_eq!(c.poll_timeout(), None, "{role:?}: no time known yet");
        let now = t0();
        c.handle_timeout(now);
        assert_eq!(c.poll_timeout(), Some(now + INTERVAL), "{role:?}");
        // Without a ping interval and before a close, nothing is timed.
        let mut c = conn(role, WebSocketConfig::default());
        c.handle_timeout(now);
        assert_eq!(c.poll_timeout(), None, "{role:?}");
        c.handle_timeout(now + INTERVAL * 100);
        assert_eq!(transmit(&mut c), b"", "{role:?}");
    }
}

#[test]
fn defaults_are_off_ten_and_five_seconds() {
    let c = WebSocketConfig::default();
    assert_eq!(c.ping_interval, None);
    assert_eq!(c.pong_timeout, secs(10));
    assert_eq!(c.close_timeout, secs(5));
    let set = WebSocketConfig::default()
        .ping_interval(secs(1))
        .pong_timeout(secs(2))
        .close_timeout(secs(3));
    assert_eq!(
        (set.ping_interval, set.pong_timeout, set.close_timeout),
        (Some(secs(1)), secs(2), secs(3))
    );
}

// ---- liveness ----------------------------------------------------------------------

#[test]
fn a_silent_peer_is_pinged_after_one_interval_and_failed_exactly_at_interval_plus_pong_timeout() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, live_config()), start);
        let acted = sim.advance_to(start + INTERVAL * 10);
        assert_eq!(
            acted,
            [start + INTERVAL, start + INTERVAL + PONG_TIMEOUT],
            "{role:?}"
        );
        assert_eq!(
            sim.take_wrote(),
            ping_of(role),
            "{role:?}: one ping, then nothing"
        );
        assert_eq!(
            sim.got,
            Outcome::failed(vec![], ProtocolError::Timeout(Timeout::Pong)),
            "{role:?}"
        );
        let c = &mut sim.conn;
        assert_eq!(c.timed_out(), Some(Timeout::Pong));
        assert_eq!(c.close_state(), CloseState::Closed);
        assert_eq!(c.poll_timeout(), None);
        assert!(!c.can_send());
        assert_eq!(c.poll_event(), Ok(None), "reported once");
        assert_eq!(
            ProtocolError::Timeout(Timeout::Pong).close_code(),
            CloseCode::ABNORMAL
        );
    }
}

#[test]
fn a_dead_peer_gets_nothing_more_queued_output_included() {
    let start = t0();
    let mut sim = Sim::start(conn(Role::Server, live_config()), start);
    sim.advance_to(start + INTERVAL);
    // Output the transport never took: dropped with the connection.
    sim.conn.send_text("never read").unwrap();
    sim.conn.handle_timeout(start + INTERVAL + PONG_TIMEOUT);
    assert_eq!(sim.conn.pending_transmit(), 0);
    assert_eq!(sim.conn.poll_transmit(), None);
    assert_eq!(
        sim.conn.poll_event(),
        Err(ProtocolError::Timeout(Timeout::Pong))
    );
}

#[test]
fn any_byte_is_a_sign_of_life_so_a_slow_busy_transfer_is_never_pinged() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, live_config()), start);
        // One binary message of 60 bytes in three fragments, sent one byte
        // every 4 seconds: 240 seconds, 24 intervals, never a whole
        // interval without a byte. Half the bytes are headers and partial
        // payloads that decode into nothing.
        let payload: Vec<u8> = (0..20).collect();
        let wire = [
            from_peer(role, BINARY, &payload),
            from_peer(role, CONT, &payload),
            from_peer(role, FIN | CONT, &payload),
        ]
        .concat();
        let mut at = start;
        for byte in &wire {
            at += secs(4);
            sim.receive_at(at, &[*byte]);
        }
        assert_eq!(sim.take_wrote(), b"", "{role:?}: no ping");
        assert_eq!(sim.got.error, None, "{role:?}");
        assert_eq!(sim.got.events.len(), 1, "{role:?}: {:?}", sim.got.events);
        // Then silence: the check after the last byte sees it, the next one
        // pings.
        let checks = sim.advance_to(at + INTERVAL * 4);
        let last_check = *checks.first().expect("a check");
        assert!(last_check > at && last_check <= at + INTERVAL, "{role:?}");
        assert_eq!(
            checks,
            [
                last_check,
                last_check + INTERVAL,
                last_check + INTERVAL + PONG_TIMEOUT
            ],
            "{role:?}"
        );
        assert_eq!(sim.got.error, Some(ProtocolError::Timeout(Timeout::Pong)));
    }
}

#[test]
fn a_pong_fed_byte_by_byte_keeps_the_peer_alive() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, live_config()), start);
        sim.advance_to(start + INTERVAL);
        assert_eq!(sim.take_wrote(), ping_of(role), "{role:?}");
        // The pong arrives a byte at a time within the pong timeout.
        let pong = from_peer(role, FIN | PONG, b"");
        for (i, byte) in pong.iter().enumerate() {
            sim.receive_at(start + INTERVAL + secs(1 + i as u64 / 4), &[*byte]);
        }
        assert_eq!(sim.got.events, [Event::Pong(bytes::Bytes::new())]);
        // The check at the pong deadline finds it: alive, next check one
        // interval later, which pings again; then the peer dies.
        let alive_at = start + INTERVAL + PONG_TIMEOUT;
        let acted = sim.advance_to(alive_at + INTERVAL * 5);
        assert_eq!(
            acted,
            [
                alive_at,
                alive_at + INTERVAL,
                alive_at + INTERVAL + PONG_TIMEOUT
            ],
            "{role:?}"
        );
        assert_eq!(sim.take_wrote(), ping_of(role), "{role:?}: the second ping");
        assert_eq!(sim.got.error, Some(ProtocolError::Timeout(Timeout::Pong)));
    }
}

#[test]
fn a_peer_that_answers_pings_is_never_failed() {
    // Client and server cores, both pinging; each reads what the other
    // writes at every deadline, and neither sends anything else.
    let config = live_config();
    let mut pair = Pair::with_configs(config.clone(), config.ping_interval(secs(7)));
    let start = t0();
    pair.client.handle_timeout(start);
    pair.server.handle_timeout(start);
    let mut pings = 0;
    let mut now = start;
    while now < start + secs(600) {
        let next = [pair.client.poll_timeout(), pair.server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
            .expect("both keep checking");
        assert!(next > now, "{next:?} is not after {now:?}");
        now = next;
        pair.client.handle_timeout(now);
        pair.server.handle_timeout(now);
        pings += usize::from(pair.client.pending_transmit() > 0);
        pings += usize::from(pair.server.pending_transmit() > 0);
        pair.drive();
    }
    assert!(pings >= 600 / 17, "{pings} pings");
    assert_eq!(pair.client_got.error, None);
    assert_eq!(pair.server_got.error, None);
    assert_eq!(pair.client.close_state(), CloseState::Open);
    assert_eq!(pair.server.close_state(), CloseState::Open);
}

#[test]
fn an_interval_with_reading_paused_counts_as_alive() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, live_config()), start);
        // Paused for a moment within the first interval: no ping at its end.
        sim.advance_to(start + secs(2));
        sim.conn.set_reading_paused(true);
        assert!(sim.conn.is_reading_paused());
        sim.conn.set_reading_paused(false);
        assert_eq!(sim.advance_to(start + INTERVAL), [start + INTERVAL]);
        assert_eq!(sim.take_wrote(), b"", "{role:?}");
        // Paused across a whole interval, and resumed in the next one: two
        // more checks without a ping.
        sim.conn.set_reading_paused(true);
        sim.advance_to(start + INTERVAL * 2);
        sim.advance_to(start + INTERVAL * 2 + secs(5));
        sim.conn.set_reading_paused(false);
        sim.advance_to(start + INTERVAL * 3);
        assert_eq!(sim.take_wrote(), b"", "{role:?}");
        // The first interval read in full pings, and the peer is failed.
        let acted = sim.advance_to(start + INTERVAL * 10);
        assert_eq!(
            acted,
            [start + INTERVAL * 4, start + INTERVAL * 4 + PONG_TIMEOUT],
            "{role:?}"
        );
        assert_eq!(sim.take_wrote(), ping_of(role));
        assert_eq!(sim.got.error, Some(ProtocolError::Timeout(Timeout::Pong)));
    }
}

#[test]
fn pausing_while_a_ping_is_out_keeps_the_peer_alive() {
    let start = t0();
    let mut sim = Sim::start(conn(Role::Server, live_config()), start);
    sim.advance_to(start + INTERVAL);
    assert_eq!(sim.take_wrote(), ping_of(Role::Server));
    // The pong may be waiting unread in the transport.
    sim.advance_to(start + INTERVAL + secs(1));
    sim.conn.set_reading_paused(true);
    let acted = sim.advance_to(start + INTERVAL * 3);
    assert_eq!(
        acted,
        [
            start + INTERVAL + PONG_TIMEOUT,
            start + INTERVAL * 2 + PONG_TIMEOUT
        ]
    );
    assert_eq!(sim.take_wrote(), b"");
    assert_eq!(sim.got.error, None);
}

#[test]
fn a_full_input_buffer_counts_as_alive() {
    let config = live_config().max_frame_size(125).max_buffered_input(0);
    let start = t0();
    let mut c = conn(Role::Server, config);
    c.handle_timeout(start);
    // A frame the application does not drain fills the buffer.
    let frame = masked(FIN | TEXT, &[b'x'; 125]);
    let wire = [frame.clone(), frame].concat();
    let cap = c.receive_capacity();
    assert!(wire.len() >= cap, "{} < {cap}", wire.len());
    c.receive(&wire[..cap]);
    assert_eq!(c.receive_capacity(), 0);
    // Input seen at the first check, a full buffer at the next ones.
    for k in 1..=5 {
        assert_eq!(c.poll_timeout(), Some(start + INTERVAL * k));
        c.handle_timeout(start + INTERVAL * k);
        assert_eq!(c.pending_transmit(), 0, "check {k}");
    }
}

// ---- the close timeout ----------------------------------------------------------------

#[test]
fn an_unanswered_close_fails_exactly_close_timeout_after_it_was_queued() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, WebSocketConfig::default()), start);
        let at = start + secs(3);
        sim.advance_to(at);
        sim.conn.close(Some(CloseCode::NORMAL), "bye").unwrap();
        // Due at once (the latest time the connection saw): the timer
        // starts at the next call.
        assert_eq!(sim.conn.poll_timeout(), Some(start), "{role:?}");
        sim.drain();
        let acted = sim.advance_to(at + CLOSE_TIMEOUT * 10);
        assert_eq!(acted, [at, at + CLOSE_TIMEOUT], "{role:?}");
        assert_eq!(
            sim.got,
            Outcome::failed(vec![], ProtocolError::Timeout(Timeout::Close)),
            "{role:?}"
        );
        assert_eq!(sim.conn.timed_out(), Some(Timeout::Close));
        assert_eq!(sim.conn.close_state(), CloseState::Closed);
        assert_eq!(sim.conn.poll_timeout(), None);
    }
}

#[test]
fn a_peer_close_ends_the_wait_and_then_the_end_of_file_stops_the_timer() {
    let start = t0();
    let mut sim = Sim::start(conn(Role::Client, WebSocketConfig::default()), start);
    sim.conn.close(Some(CloseCode::NORMAL), "").unwrap();
    sim.advance_to(start);
    assert_eq!(sim.conn.poll_timeout(), Some(start + CLOSE_TIMEOUT));
    // The server answers, then ends the transport: nothing is timed any more.
    sim.receive_at(start + secs(1), &server_close(1000));
    assert_eq!(sim.conn.close_state(), CloseState::Closed);
    assert_eq!(sim.conn.poll_timeout(), Some(start + CLOSE_TIMEOUT));
    sim.conn.receive_eof();
    assert_eq!(sim.conn.poll_timeout(), None);
    sim.advance_to(start + CLOSE_TIMEOUT * 2);
    assert_eq!(sim.conn.timed_out(), None);
    assert_eq!(sim.got.error, None);
}

#[test]
fn after_the_handshake_the_close_timeout_bounds_the_wait_for_the_end_of_file_without_an_error() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, WebSocketConfig::default()), start);
        sim.conn.close(Some(CloseCode::GOING_AWAY), "").unwrap();
        sim.advance_to(start);
        let close = match role {
            Role::Server => client_close(1001),
            Role::Client => server_close(1001),
        };
        sim.receive_at(start + secs(2), &close);
        let acted = sim.advance_to(start + CLOSE_TIMEOUT * 3);
        assert_eq!(acted, [start + CLOSE_TIMEOUT], "{role:?}");
        assert_eq!(sim.got.error, None, "{role:?}: a finished handshake");
        assert_eq!(sim.conn.timed_out(), Some(Timeout::Close), "{role:?}");
        assert_eq!(sim.conn.poll_timeout(), None);
    }
}

#[test]
fn the_echo_of_the_peers_close_starts_the_close_timer() {
    for role in [Role::Server, Role::Client] {
        let start = t0();
        let mut sim = Sim::start(conn(role, live_config()), start);
        let at = start + secs(4);
        let close = from_peer(role, FIN | 0x8, &4000u16.to_be_bytes());
        // Byte by byte: the close frame completes with its last byte.
        for (i, byte) in close.iter().enumerate() {
            sim.receive_at(at + secs(i as u64), &[*byte]);
        }
        let echoed = at + secs(close.len() as u64 - 1);
        assert_eq!(sim.conn.close_state(), CloseState::Closed);
        assert!(
            sim.conn.poll_timeout() <= Some(sim.now),
            "{role:?}: due at once"
        );
        let acted = sim.advance_to(echoed + INTERVAL * 10);
        assert_eq!(acted, [echoed, echoed + CLOSE_TIMEOUT], "{role:?}");
        assert_eq!(sim.got.error, None, "{role:?}");
        assert_eq!(sim.conn.timed_out(), Some(Timeout::Close));
    }
}

#[test]
fn a_protocol_errors_close_starts_the_close_timer_and_a_later_one_does_not_move_it() {
    // A protocol error after nothing else: its close starts the timer.
    let start = t0();
    let mut sim = Sim::start(conn(Role::Server, WebSocketConfig::default()), start);
    sim.receive_at(start + secs(1), &unmasked(FIN | TEXT, b"x"));
    assert_eq!(sim.got.error, Some(ProtocolError::UnmaskedFrame));
    assert_eq!(sim.conn.poll_timeout(), Some(start), "due at once");
    let acted = sim.advance_to(start + secs(60));
    assert_eq!(acted, [start + secs(1), start + secs(1) + CLOSE_TIMEOUT]);
    assert_eq!(sim.conn.timed_out(), Some(Timeout::Close));

    // A close, then a protocol error two seconds later: the same deadline.
    let mut sim = Sim::start(conn(Role::Server, WebSocketConfig::default()), start);
    sim.conn.close(None, "").unwrap();
    sim.advance_to(start);
    sim.receive_at(start + secs(2), &unmasked(FIN | TEXT, b"x"));
    assert_eq!(sim.got.error, Some(ProtocolError::UnmaskedFrame));
    assert_eq!(sim.conn.poll_timeout(), Some(start + CLOSE_TIMEOUT));
}

#[test]
fn the_liveness_check_stops_once_a_close_is_queued() {
    let start = t0();
    let mut sim = Sim::start(conn(Role::Client, live_config()), start);
    sim.receive_at(start + secs(1), &[]);
    sim.conn.close(Some(CloseCode::NORMAL), "").unwrap();
    sim.drain();
    sim.take_wrote();
    let acted = sim.advance_to(start + INTERVAL * 5);
    assert_eq!(acted, [start + secs(1), start + secs(1) + CLOSE_TIMEOUT]);
    assert_eq!(sim.take_wrote(), b"", "no ping while closing");
    assert_eq!(sim.got.error, Some(ProtocolError::Timeout(Timeout::Close)));
}

#[test]
fn an_unexpected_end_of_file_stops_every_timer() {
    let start = t0();
    let mut c = conn(Role::Server, live_config());
    c.handle_timeout(start);
    c.receive_eof();
    let out = feed(&mut c, [&b""[..]]);
    assert_eq!(out.error, Some(ProtocolError::UnexpectedEof));
    assert_eq!(c.poll_timeout(), None);
    assert_eq!(c.timed_out(), None);
}

#[test]
fn handle_timeout_never_goes_back_in_time() {
    let start = t0();
    let mut c = conn(Role::Server, WebSocketConfig::default());
    c.handle_timeout(start + secs(10));
    // An older instant is taken as the latest one.
    c.handle_timeout(start);
    c.close(None, "").unwrap();
    assert_eq!(c.poll_timeout(), Some(start + secs(10)));
    c.handle_timeout(start + secs(1));
    assert_eq!(c.poll_timeout(), Some(start + secs(10) + CLOSE_TIMEOUT));
}

#[test]
fn the_timeout_error_says_which_timer() {
    assert_eq!(
        ProtocolError::Timeout(Timeout::Pong).to_string(),
        "no answer to a liveness ping within the pong timeout"
    );
    assert_eq!(
        ProtocolError::Timeout(Timeout::Close).to_string(),
        "the close handshake did not finish within the close timeout"
    );
    assert_eq!(
        ProtocolError::Timeout(Timeout::Close).close_code(),
        CloseCode::ABNORMAL
    );
}
