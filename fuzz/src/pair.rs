//! `ws_pair_ops`: a client and a server connected in memory, driven by an
//! arbitrary sequence of [`Op`]s.
//!
//! Each side keeps a log of what it put on the wire, in order: messages
//! (when their last fragment goes), pings, pongs (its own and the automatic
//! answers), and its close frame (from `close`, the echo of the peer's, or
//! the one a protocol error sends). Each side also logs what it received.
//! Bytes wait in a queue per direction until a `Deliver` op hands them over,
//! at most `receive_capacity` at a time, as an adapter would.
//!
//! Invariants, besides not panicking:
//!
//! - every command succeeds or fails exactly as the state calls for (closed,
//!   a fragmented message in progress, a kind mismatch, invalid UTF-8, a
//!   control payload over 125 bytes, a close code that may not be sent...);
//! - in a direction whose bytes were not corrupted, what the receiver got is
//!   always a prefix of what the sender sent (messages intact and in order),
//!   and it never fails, except with 1009 under the small limits;
//! - delivery never stalls: a receiver that has not stopped always takes
//!   more of the bytes waiting for it;
//! - at the end, with no corruption, no EOF and no timeout, all bytes are
//!   delivered: every receiver that did not fail got everything its peer
//!   sent, and if anyone sent a close frame both sides are `Closed`, or else
//!   both `Open`.
//!
//! Time is simulated: with `Setup::timers`, both sides ping after a silent
//! interval and bound the close handshake. `Wait` jumps the clock from
//! deadline to deadline, as a driver would. At each deadline, a side whose
//! deadline is later must not change when `handle_timeout` is called early,
//! and after `handle_timeout(now)` nothing may be due at `now` any more. A
//! liveness ping joins the log of what the side sent; a side may fail with
//! `Timeout::Pong` only if it pings, and with `Timeout::Close` only after it
//! sent a close frame, and then has nothing more to send and no deadline.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use ws_proto::frame::MAX_CONTROL_PAYLOAD;
use ws_proto::{
    CloseCode, CloseFrame, CloseState, Connection, Event, Message, MessageKind, ProtocolError,
    SendError, Timeout, WebSocketConfig, MAX_CLOSE_REASON,
};

use crate::common::mask_keys;

/// One end of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum Side {
    /// The client.
    Client,
    /// The server.
    Server,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Self::Client => 0,
            Self::Server => 1,
        }
    }
}

/// One step of the scenario.
#[derive(Debug, Arbitrary)]
pub enum Op {
    /// `send_text`.
    Text(Side, String),
    /// `send_binary`.
    Binary(Side, Vec<u8>),
    /// `send_fragment` of text (`text`) or binary.
    Fragment {
        /// Who sends.
        side: Side,
        /// Text or binary.
        text: bool,
        /// The payload.
        data: Vec<u8>,
        /// Whether it ends the message.
        fin: bool,
    },
    /// A text message in two fragments, cut at byte `at % (len + 1)`, which
    /// may fall inside a character.
    SplitText {
        /// Who sends.
        side: Side,
        /// The message.
        text: String,
        /// Where to cut it.
        at: u8,
    },
    /// A large payload from a few input bytes: `len` bytes of a pattern set
    /// by `seed` (lowercase letters for text), sent whole with `send` (which
    /// queues payloads of 1 KiB or more without a copy), or as a fragment.
    Large {
        /// Who sends.
        side: Side,
        /// Text or binary.
        text: bool,
        /// As a fragment (`send_fragment`) rather than a whole message.
        fragment: bool,
        /// Whether the fragment ends the message.
        fin: bool,
        /// The pattern.
        seed: u8,
        /// The length.
        len: u16,
    },
    /// `ping`.
    Ping(Side, Vec<u8>),
    /// `pong`.
    Pong(Side, Vec<u8>),
    /// `close`, with any code and reason.
    Close {
        /// Who closes.
        side: Side,
        /// The code, valid or not.
        code: Option<u16>,
        /// The reason, of any length.
        reason: String,
    },
    /// Hand up to `len` waiting bytes from `from` to the other side.
    Deliver {
        /// The sender.
        from: Side,
        /// How many bytes at most.
        len: u16,
    },
    /// Hand every waiting byte from `from` to the other side.
    DeliverAll(Side),
    /// The transport from `from` ends: waiting bytes are lost and the other
    /// side gets EOF.
    Eof(Side),
    /// XOR a waiting byte from `from` with `xor`.
    Corrupt {
        /// The sender.
        from: Side,
        /// Which waiting byte (modulo their number).
        at: u16,
        /// The bits to flip.
        xor: u8,
    },
    /// Time passes: the clock moves `secs` seconds, from deadline to
    /// deadline.
    Wait {
        /// How long.
        secs: u8,
    },
    /// `set_reading_paused` on a side.
    PauseReading(Side, bool),
}

/// How the pair is configured.
#[derive(Debug, Arbitrary)]
#[allow(clippy::struct_excessive_bools)]
struct Setup {
    client_streaming: bool,
    server_streaming: bool,
    client_auto_pong: bool,
    server_auto_pong: bool,
    /// Frames of 64 bytes, messages of 100, no extra input buffer.
    small_limits: bool,
    /// Liveness pings (every 10 s from the client, 7 s from the server, a
    /// 3 s pong timeout) and a 5 s close timeout.
    timers: bool,
    mask_seed: u32,
}

/// What went over the wire, at the level the receiver sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Message(MessageKind, Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(Option<CloseFrame>),
}

#[allow(clippy::struct_excessive_bools)]
struct Peer {
    conn: Connection,
    auto_pong: bool,
    /// Bytes this side wrote that are not delivered yet.
    queue: VecDeque<u8>,
    /// What this side put on the wire, in order.
    sent: Vec<Item>,
    /// Where in `sent` an automatic pong waits unsent: a ping that arrives
    /// before anything else is written replaces it (RFC 6455 §5.5.3).
    auto_pong_at: Option<usize>,
    /// The fragmented message this side is sending.
    sending: Option<(MessageKind, Vec<u8>)>,
    /// What this side received, in order.
    received: Vec<Item>,
    /// The streamed message this side is receiving.
    receiving: Option<(MessageKind, Vec<u8>)>,
    /// `poll_event` returned an error or a close frame.
    done: bool,
    error: Option<ProtocolError>,
    /// The transport towards this side ended.
    eof: bool,
    /// Bytes towards this side were corrupted.
    corrupted: bool,
    /// Our close frame is out of `poll_transmit`.
    wrote_close: bool,
}

impl Peer {
    fn new(conn: Connection, auto_pong: bool) -> Self {
        Self {
            conn,
            auto_pong,
            queue: VecDeque::new(),
            sent: Vec::new(),
            auto_pong_at: None,
            sending: None,
            received: Vec::new(),
            receiving: None,
            done: false,
            error: None,
            eof: false,
            corrupted: false,
            wrote_close: false,
        }
    }

    /// Moves this side's output to its queue.
    fn flush(&mut self) {
        let pending = self.conn.pending_transmit();
        let mut taken = 0;
        while let Some(chunk) = self.conn.poll_transmit() {
            taken += chunk.len();
            self.queue.extend(chunk.iter());
        }
        assert_eq!(taken, pending, "pending_transmit miscounted");
        self.auto_pong_at = None;
        // The peer stops reading at our close frame, so bytes after it
        // would go unseen: check that there are none.
        if self.wrote_close {
            assert_eq!(taken, 0, "output after our close frame");
        }
        self.wrote_close = self.sent.iter().any(|i| matches!(i, Item::Close(_)));
    }

    fn open(&self) -> bool {
        self.conn.close_state() == CloseState::Open
    }

    /// The error a data command must fail with, if any.
    fn data_refusal(&self) -> Option<SendError> {
        if !self.open() {
            Some(SendError::Closed)
        } else if self.sending.is_some() {
            Some(SendError::FragmentedMessageInProgress)
        } else {
            None
        }
    }

    /// Sends a whole message, borrowed (`send_text`, `send_binary`) or
    /// shared (`send`).
    fn send_whole(&mut self, kind: MessageKind, data: &[u8], shared: bool) {
        let expected = self.data_refusal();
        let text = || String::from_utf8(data.to_vec()).expect("text from a String");
        let result = match (kind, shared) {
            (MessageKind::Text, false) => self.conn.send_text(&text()),
            (MessageKind::Binary, false) => self.conn.send_binary(data),
            (MessageKind::Text, true) => self.conn.send(Message::from(text())),
            (MessageKind::Binary, true) => self.conn.send(Message::from(data.to_vec())),
        };
        assert_eq!(result.err(), expected, "send of a whole {kind:?} message");
        if expected.is_none() {
            self.sent.push(Item::Message(kind, data.to_vec()));
        }
    }

    fn send_fragment(&mut self, kind: MessageKind, data: &[u8], fin: bool) {
        let mut so_far = match &self.sending {
            Some((k, so_far)) if *k == kind => so_far.clone(),
            _ => Vec::new(),
        };
        so_far.extend_from_slice(data);
        let utf8_ok = kind == MessageKind::Binary
            || match std::str::from_utf8(&so_far) {
                Ok(_) => true,
                Err(e) => !fin && e.error_len().is_none(),
            };
        let expected = if !self.open() {
            Some(SendError::Closed)
        } else if self.sending.as_ref().is_some_and(|(k, _)| *k != kind) {
            Some(SendError::FragmentKindMismatch)
        } else if !utf8_ok {
            Some(SendError::InvalidUtf8)
        } else {
            None
        };
        let result = self
            .conn
            .send_fragment(kind, Bytes::copy_from_slice(data), fin);
        assert_eq!(
            result.err(),
            expected,
            "send_fragment({kind:?}, fin: {fin})"
        );
        if expected.is_none() {
            if fin {
                self.sending = None;
                self.sent.push(Item::Message(kind, so_far));
            } else {
                self.sending = Some((kind, so_far));
            }
        }
    }

    fn send_control(&mut self, ping: bool, data: &[u8]) {
        let expected = if !self.open() {
            Some(SendError::Closed)
        } else if data.len() > MAX_CONTROL_PAYLOAD {
            Some(SendError::ControlPayloadTooLarge(data.len()))
        } else {
            None
        };
        let result = if ping {
            self.conn.ping(data)
        } else {
            self.conn.pong(data)
        };
        assert_eq!(result.err(), expected, "ping/pong of {} bytes", data.len());
        if expected.is_none() {
            let item = if ping {
                Item::Ping(data.to_vec())
            } else {
                Item::Pong(data.to_vec())
            };
            self.sent.push(item);
        }
    }

    fn close(&mut self, code: Option<u16>, reason: &str) {
        let expected = match code {
            _ if !self.open() => Some(SendError::Closed),
            None if !reason.is_empty() => Some(SendError::ReasonWithoutCode),
            Some(c) if !CloseCode(c).is_valid_on_wire() => Some(SendError::InvalidCloseCode(c)),
            Some(_) if reason.len() > MAX_CLOSE_REASON => {
                Some(SendError::CloseReasonTooLong(reason.len()))
            }
            _ => None,
        };
        let result = self.conn.close(code.map(CloseCode), reason);
        assert_eq!(
            result.err(),
            expected,
            "close({code:?}, {} bytes)",
            reason.len()
        );
        if expected.is_none() {
            assert_eq!(self.conn.close_state(), CloseState::CloseSent);
            let frame = code.map(|c| CloseFrame::new(CloseCode(c), reason));
            self.sent.push(Item::Close(frame));
            self.sending = None;
        }
    }

    /// Drains the events of the input handed over so far.
    fn process(&mut self) {
        while !self.done {
            let state = self.conn.close_state();
            match self.conn.poll_event() {
                Ok(Some(event)) => self.on_event(state, event),
                Ok(None) => break,
                Err(e) => {
                    assert_eq!(self.conn.close_state(), CloseState::Closed);
                    if let ProtocolError::Timeout(timeout) = e {
                        self.check_timed_out(timeout);
                    } else if e != ProtocolError::UnexpectedEof && state == CloseState::Open {
                        let close = CloseFrame::new(e.close_code(), "");
                        self.sent.push(Item::Close(Some(close)));
                    }
                    self.done = true;
                    self.error = Some(e);
                }
            }
        }
        if self.done {
            assert_eq!(self.conn.poll_event(), Ok(None), "an event after the end");
        }
        self.flush();
    }

    /// Time passes to `now`: acts if this side has a deadline by then, and
    /// checks that an early call changes nothing.
    fn tick(&mut self, now: Instant) {
        let Some(due) = self.conn.poll_timeout() else {
            return;
        };
        let pending = self.conn.pending_transmit();
        let state = self.conn.close_state();
        self.conn.handle_timeout(now);
        if due > now {
            assert_eq!(
                self.conn.poll_timeout(),
                Some(due),
                "an early call moved it"
            );
            assert_eq!(self.conn.pending_transmit(), pending, "an early call wrote");
            assert_eq!(self.conn.close_state(), state, "an early call closed");
            return;
        }
        assert!(
            self.conn.poll_timeout().is_none_or(|at| at > now),
            "work left due at the instant handled"
        );
        if let Some(timeout) = self.conn.timed_out() {
            self.check_timed_out(timeout);
        } else if self.conn.pending_transmit() > pending {
            assert_eq!(state, CloseState::Open, "a ping while closing");
            assert!(self.conn.config().ping_interval.is_some());
            self.sent.push(Item::Ping(Vec::new()));
            self.auto_pong_at = None;
        }
        self.process();
    }

    /// A timer ended this side: it must have been running, and the side has
    /// nothing more to send or to time.
    fn check_timed_out(&self, timeout: Timeout) {
        match timeout {
            Timeout::Pong => assert!(self.conn.config().ping_interval.is_some()),
            Timeout::Close => assert!(
                self.sent.iter().any(|i| matches!(i, Item::Close(_))),
                "a close timeout without a close frame"
            ),
            _ => panic!("unknown timeout {timeout:?}"),
        }
        assert_eq!(self.conn.timed_out(), Some(timeout));
        assert_eq!(self.conn.close_state(), CloseState::Closed);
        assert_eq!(self.conn.pending_transmit(), 0, "output after a timeout");
        assert_eq!(self.conn.poll_timeout(), None, "a deadline after a timeout");
    }

    fn on_event(&mut self, state: CloseState, event: Event) {
        match event {
            Event::Message(message) => {
                assert!(!self.conn.config().streaming, "a message in streaming mode");
                let data = message.as_bytes().to_vec();
                if message.kind() == MessageKind::Text {
                    assert!(std::str::from_utf8(&data).is_ok(), "text that is not UTF-8");
                }
                self.received.push(Item::Message(message.kind(), data));
            }
            Event::Fragment(f) => {
                assert!(
                    self.conn.config().streaming,
                    "a fragment in assembling mode"
                );
                let (kind, mut data) = match self.receiving.take() {
                    None => {
                        assert!(f.first, "a continuation with no message");
                        (f.kind, Vec::new())
                    }
                    Some(partial) => {
                        assert!(!f.first && partial.0 == f.kind, "fragments out of order");
                        partial
                    }
                };
                data.extend_from_slice(&f.payload);
                if kind == MessageKind::Text {
                    if let Err(e) = std::str::from_utf8(&data) {
                        assert!(!f.fin && e.error_len().is_none(), "text is not UTF-8");
                    }
                }
                if f.fin {
                    self.received.push(Item::Message(kind, data));
                } else {
                    self.receiving = Some((kind, data));
                }
            }
            Event::Ping(payload) => {
                if self.auto_pong && state == CloseState::Open {
                    let pong = Item::Pong(payload.to_vec());
                    match self.auto_pong_at {
                        Some(i) if i + 1 == self.sent.len() => self.sent[i] = pong,
                        _ => {
                            self.sent.push(pong);
                            self.auto_pong_at = Some(self.sent.len() - 1);
                        }
                    }
                }
                self.received.push(Item::Ping(payload.to_vec()));
            }
            Event::Pong(payload) => self.received.push(Item::Pong(payload.to_vec())),
            Event::Close(frame) => {
                assert_eq!(self.conn.close_state(), CloseState::Closed);
                if state == CloseState::Open {
                    let echo = frame.clone();
                    self.sent.push(Item::Close(echo));
                }
                self.received.push(Item::Close(frame));
                self.done = true;
                self.receiving = None;
            }
            other => panic!("unknown event {other:?}"),
        }
    }
}

struct Pair {
    peers: [Peer; 2],
    small_limits: bool,
    /// The simulated clock.
    now: Instant,
}

impl Pair {
    fn new(setup: &Setup) -> Self {
        let config = |streaming, auto_pong, interval| {
            let c = WebSocketConfig::default()
                .streaming(streaming)
                .auto_pong(auto_pong);
            let c = if setup.timers {
                c.ping_interval(Duration::from_secs(interval))
                    .pong_timeout(Duration::from_secs(3))
                    .close_timeout(Duration::from_secs(5))
            } else {
                c
            };
            if setup.small_limits {
                c.max_frame_size(64)
                    .max_message_size(100)
                    .max_buffered_input(0)
            } else {
                c
            }
        };
        let mut client = Connection::client(
            config(setup.client_streaming, setup.client_auto_pong, 10),
            mask_keys(setup.mask_seed),
        );
        let mut server =
            Connection::server(config(setup.server_streaming, setup.server_auto_pong, 7));
        // A base instant; from here on time only moves by hand.
        #[allow(clippy::disallowed_methods)]
        let now = Instant::now();
        client.handle_timeout(now);
        server.handle_timeout(now);
        Self {
            peers: [
                Peer::new(client, setup.client_auto_pong),
                Peer::new(server, setup.server_auto_pong),
            ],
            small_limits: setup.small_limits,
            now,
        }
    }

    /// Moves the clock `by`, acting on every deadline on the way.
    fn wait(&mut self, by: Duration) {
        let until = self.now + by;
        loop {
            let next = self
                .peers
                .iter()
                .filter_map(|p| p.conn.poll_timeout())
                .min()
                .map(|at| at.max(self.now));
            match next {
                Some(at) if at <= until => {
                    self.now = at;
                    for peer in &mut self.peers {
                        peer.tick(at);
                    }
                }
                _ => break,
            }
        }
        self.now = until;
    }

    /// Whether a timer ended either side.
    fn timed_out(&self) -> bool {
        self.peers.iter().any(|p| p.conn.timed_out().is_some())
    }

    /// The sender and the receiver of the bytes from `from`.
    fn ends(&mut self, from: Side) -> (&mut Peer, &mut Peer) {
        let [client, server] = &mut self.peers;
        match from {
            Side::Client => (client, server),
            Side::Server => (server, client),
        }
    }

    /// Hands up to `max` waiting bytes from `from` over; returns how many.
    fn deliver(&mut self, from: Side, max: usize) -> usize {
        let (sender, receiver) = self.ends(from);
        if receiver.eof {
            sender.queue.clear();
            return 0;
        }
        let n = if receiver.done {
            // It reads no more; the bytes are taken and dropped.
            sender.queue.len().min(max)
        } else {
            sender
                .queue
                .len()
                .min(max)
                .min(receiver.conn.receive_capacity())
        };
        let bytes: Vec<u8> = sender.queue.drain(..n).collect();
        receiver.conn.receive(&bytes);
        receiver.process();
        n
    }

    /// Hands every waiting byte from `from` over, as capacity allows.
    fn deliver_all(&mut self, from: Side) -> usize {
        let mut total = 0;
        loop {
            let waiting = self.ends(from).0.queue.len();
            if waiting == 0 {
                return total;
            }
            let n = self.deliver(from, waiting);
            if n == 0 {
                let (_, receiver) = self.ends(from);
                assert!(
                    receiver.eof,
                    "delivery stalled: {waiting} bytes wait, the receiver takes none \
                     (capacity {}, buffered {})",
                    receiver.conn.receive_capacity(),
                    receiver.conn.receive_buffer().len()
                );
                return total;
            }
            total += n;
        }
    }

    fn apply(&mut self, op: &Op) {
        match op {
            Op::Text(side, text) => {
                self.peer(*side)
                    .send_whole(MessageKind::Text, text.as_bytes(), false);
            }
            Op::Binary(side, data) => self
                .peer(*side)
                .send_whole(MessageKind::Binary, data, false),
            Op::Large {
                side,
                text,
                fragment,
                fin,
                seed,
                len,
            } => {
                let data: Vec<u8> = (0..usize::from(*len))
                    .map(|i| {
                        let x = (i as u8).wrapping_mul(31).wrapping_add(*seed);
                        if *text {
                            b'a' + x % 26
                        } else {
                            x
                        }
                    })
                    .collect();
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                let peer = self.peer(*side);
                if *fragment {
                    peer.send_fragment(kind, &data, *fin);
                } else {
                    peer.send_whole(kind, &data, true);
                }
            }
            Op::Fragment {
                side,
                text,
                data,
                fin,
            } => {
                let kind = if *text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.peer(*side).send_fragment(kind, data, *fin);
            }
            Op::SplitText { side, text, at } => {
                let at = usize::from(*at) % (text.len() + 1);
                let (head, tail) = text.as_bytes().split_at(at);
                let peer = self.peer(*side);
                peer.send_fragment(MessageKind::Text, head, false);
                peer.flush();
                peer.send_fragment(MessageKind::Text, tail, true);
            }
            Op::Ping(side, data) => self.peer(*side).send_control(true, data),
            Op::Pong(side, data) => self.peer(*side).send_control(false, data),
            Op::Close { side, code, reason } => self.peer(*side).close(*code, reason),
            Op::Deliver { from, len } => {
                self.deliver(*from, usize::from(*len));
            }
            Op::DeliverAll(from) => {
                self.deliver_all(*from);
            }
            Op::Eof(from) => {
                let (sender, receiver) = self.ends(*from);
                sender.queue.clear();
                if !receiver.eof {
                    receiver.eof = true;
                    receiver.conn.receive_eof();
                    receiver.process();
                    assert!(receiver.done, "end of file did not end the connection");
                }
            }
            Op::Wait { secs } => self.wait(Duration::from_secs(u64::from(*secs))),
            Op::PauseReading(side, paused) => {
                let conn = &mut self.peer(*side).conn;
                conn.set_reading_paused(*paused);
                assert_eq!(conn.is_reading_paused(), *paused);
            }
            Op::Corrupt { from, at, xor } => {
                let (sender, receiver) = self.ends(*from);
                if *xor != 0 && !sender.queue.is_empty() {
                    let i = usize::from(*at) % sender.queue.len();
                    sender.queue[i] ^= xor;
                    receiver.corrupted = true;
                }
            }
        }
        for peer in &mut self.peers {
            peer.flush();
        }
    }

    fn peer(&mut self, side: Side) -> &mut Peer {
        &mut self.peers[side.index()]
    }

    /// The invariants of the bytes from `from` so far.
    fn check(&mut self, from: Side) {
        let small_limits = self.small_limits;
        let (sender, receiver) = self.ends(from);
        if receiver.corrupted {
            return;
        }
        assert!(
            receiver.received.len() <= sender.sent.len()
                && receiver.received[..] == sender.sent[..receiver.received.len()],
            "{from:?} sent {:?}\nbut the other side received {:?}",
            sender.sent,
            receiver.received
        );
        match &receiver.error {
            None | Some(ProtocolError::UnexpectedEof | ProtocolError::Timeout(_)) => {}
            Some(ProtocolError::FrameTooLarge { .. } | ProtocolError::MessageTooLarge { .. })
                if small_limits => {}
            Some(e) => panic!("the bytes from {from:?} were refused: {e}"),
        }
    }
}

/// The `ws_pair_ops` target.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(setup) = Setup::arbitrary(&mut u) else {
        return;
    };
    let Ok(ops) = Vec::<Op>::arbitrary_take_rest(u) else {
        return;
    };
    let mut pair = Pair::new(&setup);
    for op in &ops {
        pair.apply(op);
        pair.check(Side::Client);
        pair.check(Side::Server);
    }

    // Deliver everything, both ways, until nothing moves.
    while pair.deliver_all(Side::Client) + pair.deliver_all(Side::Server) > 0 {}
    pair.check(Side::Client);
    pair.check(Side::Server);
    let timed_out = pair.timed_out();
    let [client, server] = &pair.peers;
    if client.corrupted || server.corrupted || client.eof || server.eof || timed_out {
        return;
    }
    for (sender, receiver) in [(client, server), (server, client)] {
        if receiver.error.is_none() {
            assert_eq!(receiver.received, sender.sent, "not everything arrived");
        }
    }
    let closing = [client, server]
        .iter()
        .any(|p| p.sent.iter().any(|i| matches!(i, Item::Close(_))));
    let states = (client.conn.close_state(), server.conn.close_state());
    if closing {
        assert_eq!(
            states,
            (CloseState::Closed, CloseState::Closed),
            "the close handshake did not complete"
        );
    } else {
        assert_eq!(states, (CloseState::Open, CloseState::Open));
    }
}
