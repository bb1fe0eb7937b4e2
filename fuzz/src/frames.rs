//! `ws_frames_server` and `ws_frames_client`: arbitrary bytes, cut into
//! arbitrary pieces, fed to a [`Connection`] as if they came from the peer.
//!
//! Input layout: `[setup, chunking, bytes...]`.
//!
//! - `setup` bit 0: streaming mode; bits 1-2: the limits (default, small,
//!   tiny, medium, see [`Limits`]); bit 3: auto-pong off; bit 4: RSV1 and
//!   RSV3 allowed (an extension), RSV2 still not; bits 5-6: what the
//!   connection does before any input ([`Start`]: nothing, or a close, so
//!   that the input meets a connection in `CloseSent`); bit 7: end of file
//!   after the last piece.
//! - `chunking`: how the bytes are cut ([`common::sizes`]).
//!
//! After every piece the connection is drained (`poll_event` until `Ok(None)`
//! or an error, then `poll_transmit`), and these must hold:
//!
//! - nothing panics, and end of file always ends the connection;
//! - after an error or a close frame, `poll_event` is `Ok(None)` for good
//!   and no more input is taken; once a close frame was sent (ours, an
//!   echo, or a failure's), nothing more is;
//! - the output waiting after a piece is at most 3 bytes per input byte plus
//!   one close frame, and `pending_transmit` counts it exactly;
//! - a drained connection holds at most the documented input limit, and
//!   `receive_capacity` agrees;
//! - every text message (and every streamed text prefix) is UTF-8 by
//!   `std::str::from_utf8`; messages, frames and control payloads respect
//!   the limits; close frames carry valid codes;
//! - the output is valid WebSocket for the peer: a second connection of the
//!   other role decodes it without error, into exactly one pong per ping
//!   (when auto-pong is on) and the close frame the events call for;
//! - `InputBufferFull` only when a piece was larger than `receive_capacity`;
//!   fed as an adapter would (never past `receive_capacity`), the input
//!   never stalls: the connection always takes more or stops;
//! - fed as an adapter would, the events and the error are exactly those of
//!   a straightforward reference decoder ([`model`]) that checks text with
//!   `std::str::from_utf8`;
//! - the outcome (events, error, output bytes) does not depend on how the
//!   input was cut, as long as no piece went past `receive_capacity`, nor
//!   (with default limits) on streaming versus assembling once fragments
//!   are joined.

use ws_proto::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};
use ws_proto::{
    CloseCode, CloseFrame, CloseState, Connection, Event, Message, MessageKind, ProtocolError,
    Role, WebSocketConfig, MAX_CLOSE_REASON,
};

use crate::common::{self, mask_keys};
use crate::model;

/// The limit sets a seed can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Limits {
    /// [`WebSocketConfig::default`].
    Default,
    /// Frames of 64 bytes, messages of 100, no extra input buffer.
    Small,
    /// Only empty data frames, no extra input buffer.
    Tiny,
    /// Frames of 300 bytes, messages of 1000, 4 KiB of input.
    Medium,
}

#[derive(Debug, Clone, Copy)]
struct Setup {
    limits: Limits,
    streaming: bool,
    auto_pong: bool,
    allowed_rsv: u8,
    start: Start,
    eof: bool,
}

/// What the connection under test does before reading its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// Nothing.
    Open,
    /// `close(Some(1000), "bye")`.
    CloseNormal,
    /// `close(None, "")`.
    CloseEmpty,
    /// `close(Some(4000), ...)` with the longest reason, 123 bytes.
    CloseLongReason,
}

impl Setup {
    fn from_byte(b: u8) -> Self {
        Self {
            streaming: b & 1 != 0,
            limits: match (b >> 1) & 3 {
                0 => Limits::Default,
                1 => Limits::Small,
                2 => Limits::Tiny,
                _ => Limits::Medium,
            },
            auto_pong: b & 0x08 == 0,
            allowed_rsv: if b & 0x10 == 0 { 0 } else { 0b101 },
            start: match (b >> 5) & 3 {
                0 => Start::Open,
                1 => Start::CloseNormal,
                2 => Start::CloseEmpty,
                _ => Start::CloseLongReason,
            },
            eof: b & 0x80 != 0,
        }
    }

    fn config(self) -> WebSocketConfig {
        let c = WebSocketConfig::default()
            .streaming(self.streaming)
            .auto_pong(self.auto_pong)
            .allowed_rsv(self.allowed_rsv);
        match self.limits {
            Limits::Default => c,
            Limits::Small => c
                .max_frame_size(64)
                .max_message_size(100)
                .max_buffered_input(0),
            Limits::Tiny => c
                .max_frame_size(0)
                .max_message_size(0)
                .max_buffered_input(0),
            Limits::Medium => c
                .max_frame_size(300)
                .max_message_size(1000)
                .max_buffered_input(4096),
        }
    }
}

/// The most undecoded input a drained connection may hold: the configured
/// `max_buffered_input`, but never less than one maximal frame (a data frame
/// of `max_frame_size`, or a control frame of 125 bytes) with its header.
pub fn input_limit(config: &WebSocketConfig) -> usize {
    let frame = config.max_frame_size.max(MAX_CONTROL_PAYLOAD);
    config
        .max_buffered_input
        .max(frame.saturating_add(MAX_HEADER_LEN))
}

/// What a run produced: compared between runs that must agree.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<Event>,
    error: Option<ProtocolError>,
    output: Vec<u8>,
}

#[allow(clippy::struct_excessive_bools)]
struct Driver {
    role: Role,
    config: WebSocketConfig,
    limit: usize,
    conn: Connection,
    /// A connection of the other role that decodes our output.
    observer: Connection,
    /// What the observer must decode, from the events so far.
    expected_out: Vec<Event>,
    /// Where in `expected_out` an automatic pong waits unsent: a ping that
    /// arrives before anything else is written replaces it (RFC 6455 §5.5.3).
    auto_pong_at: Option<usize>,
    observed_out: Vec<Event>,
    /// An error or a close frame was returned: no more input is read.
    done: bool,
    eof: bool,
    /// The last piece was larger than `receive_capacity`.
    overfed: bool,
    /// Some piece was.
    ever_overfed: bool,
    /// The streamed message in progress: its kind and bytes so far.
    partial: Option<(MessageKind, Vec<u8>)>,
    outcome: Outcome,
}

impl Driver {
    fn new(role: Role, setup: Setup) -> Self {
        let config = setup.config();
        let observer_config = WebSocketConfig::default().auto_pong(false);
        let (conn, observer) = match role {
            Role::Server => (
                Connection::server(config.clone()),
                Connection::client(observer_config, mask_keys(1)),
            ),
            Role::Client => (
                Connection::client(config.clone(), mask_keys(0x3d21_fa37)),
                Connection::server(observer_config),
            ),
        };
        Self {
            role,
            limit: input_limit(&config),
            config,
            conn,
            observer,
            expected_out: Vec::new(),
            auto_pong_at: None,
            observed_out: Vec::new(),
            done: false,
            eof: false,
            overfed: false,
            ever_overfed: false,
            partial: None,
            outcome: Outcome {
                events: Vec::new(),
                error: None,
                output: Vec::new(),
            },
        }
    }

    fn receive(&mut self, piece: &[u8]) {
        let before = self.conn.receive_buffer().len();
        // Past `receive_capacity` the caller breaks the contract, and the
        // connection may fail with `InputBufferFull`; within it, never.
        self.overfed = !self.done && piece.len() > self.conn.receive_capacity();
        self.ever_overfed |= self.overfed;
        self.conn.receive(piece);
        if self.done {
            assert_eq!(
                self.conn.receive_buffer().len(),
                before,
                "input taken after the connection stopped reading"
            );
        }
        self.step(before + piece.len());
    }

    /// Feeds `input` as an adapter would: at most `receive_capacity` bytes
    /// before each drain. Delivery must never stall.
    fn receive_as_adapter(&mut self, mut input: &[u8]) {
        while !input.is_empty() {
            let n = if self.done {
                input.len()
            } else {
                self.conn.receive_capacity().min(input.len())
            };
            assert!(
                n > 0,
                "stalled: {} bytes wait, the connection takes none ({} buffered)",
                input.len(),
                self.conn.receive_buffer().len()
            );
            let (piece, rest) = input.split_at(n);
            self.receive(piece);
            input = rest;
        }
    }

    fn receive_eof(&mut self) {
        self.conn.receive_eof();
        self.eof = true;
        let buffered = self.conn.receive_buffer().len();
        self.step(buffered);
        assert!(self.done, "end of file did not end the connection");
    }

    /// Drains events, then output, and checks the invariants. `available`
    /// is how many input bytes this step could decode.
    fn step(&mut self, available: usize) {
        // Once a close frame went (ours, an echo, or a failure's), nothing
        // more may be sent. The observer stops reading at that close frame,
        // so this is checked on the bytes.
        let open_before = self.conn.close_state() == CloseState::Open;
        while !self.done {
            let state = self.conn.close_state();
            match self.conn.poll_event() {
                Ok(Some(event)) => self.on_event(state, event),
                Ok(None) => break,
                Err(e) => self.on_error(state, e),
            }
        }
        if self.done {
            assert_eq!(self.conn.poll_event(), Ok(None), "an event after the end");
            assert_eq!(self.conn.receive_capacity(), 0);
        } else {
            let buffered = self.conn.receive_buffer().len();
            assert!(
                buffered <= self.limit,
                "{buffered} bytes buffered, over the limit of {}",
                self.limit
            );
            let capacity = if self.eof { 0 } else { self.limit - buffered };
            assert_eq!(self.conn.receive_capacity(), capacity);
        }

        let pending = self.conn.pending_transmit();
        if !open_before {
            assert_eq!(pending, 0, "output after the close frame");
        }
        assert!(
            pending <= 3 * available + 16,
            "{pending} bytes of output for {available} bytes of input"
        );
        self.flush();
    }

    /// Drains the output into the observer.
    fn flush(&mut self) {
        let pending = self.conn.pending_transmit();
        let mut out = Vec::new();
        while let Some(chunk) = self.conn.poll_transmit() {
            assert!(!chunk.is_empty(), "an empty chunk from poll_transmit");
            out.extend_from_slice(&chunk);
        }
        assert_eq!(out.len(), pending, "pending_transmit miscounted");
        assert_eq!(self.conn.pending_transmit(), 0);
        self.auto_pong_at = None;
        self.observe(&out);
        self.outcome.output.extend_from_slice(&out);
    }

    /// Does what `start` says before any input.
    fn start(&mut self, start: Start) {
        let long_reason = "r".repeat(MAX_CLOSE_REASON);
        let (code, reason) = match start {
            Start::Open => return,
            Start::CloseNormal => (Some(CloseCode::NORMAL), "bye"),
            Start::CloseEmpty => (None, ""),
            Start::CloseLongReason => (Some(CloseCode(4000)), long_reason.as_str()),
        };
        self.conn.close(code, reason).expect("a valid close");
        assert_eq!(self.conn.close_state(), CloseState::CloseSent);
        assert!(!self.conn.can_send());
        let frame = code.map(|c| CloseFrame::new(c, reason));
        self.expected_out.push(Event::Close(frame));
        self.flush();
    }

    fn on_event(&mut self, state: CloseState, event: Event) {
        match &event {
            Event::Message(message) => {
                assert!(!self.config.streaming, "a message in streaming mode");
                assert!(message.len() <= self.config.max_message_size);
                if let Message::Text(text) = message {
                    assert!(std::str::from_utf8(text.as_bytes()).is_ok());
                }
            }
            Event::Fragment(fragment) => {
                assert!(self.config.streaming, "a fragment in assembling mode");
                assert!(fragment.payload.len() <= self.config.max_frame_size);
                let (kind, mut data) = match self.partial.take() {
                    None => {
                        assert!(fragment.first, "a continuation with no message");
                        (fragment.kind, Vec::new())
                    }
                    Some(partial) => {
                        assert!(!fragment.first, "a new message inside another");
                        assert_eq!(partial.0, fragment.kind, "the kind changed");
                        partial
                    }
                };
                data.extend_from_slice(&fragment.payload);
                if kind == MessageKind::Text {
                    match std::str::from_utf8(&data) {
                        Ok(_) => {}
                        Err(e) => assert!(
                            !fragment.fin && e.error_len().is_none(),
                            "streamed text is not UTF-8 (fin: {})",
                            fragment.fin
                        ),
                    }
                }
                if !fragment.fin {
                    self.partial = Some((kind, data));
                }
            }
            Event::Ping(payload) => {
                assert!(payload.len() <= MAX_CONTROL_PAYLOAD);
                if self.config.auto_pong && state == CloseState::Open {
                    let pong = Event::Pong(payload.clone());
                    match self.auto_pong_at {
                        Some(i) if i + 1 == self.expected_out.len() => self.expected_out[i] = pong,
                        _ => {
                            self.expected_out.push(pong);
                            self.auto_pong_at = Some(self.expected_out.len() - 1);
                        }
                    }
                }
            }
            Event::Pong(payload) => assert!(payload.len() <= MAX_CONTROL_PAYLOAD),
            Event::Close(frame) => {
                if let Some(frame) = frame {
                    assert!(frame.code.is_valid_on_wire());
                    assert!(frame.reason.len() <= MAX_CLOSE_REASON);
                }
                assert_eq!(self.conn.close_state(), CloseState::Closed);
                if state == CloseState::Open {
                    let echo = frame.clone();
                    self.expected_out.push(Event::Close(echo));
                }
                self.done = true;
                self.partial = None;
            }
            other => panic!("unknown event {other:?}"),
        }
        self.outcome.events.push(event);
    }

    fn on_error(&mut self, state: CloseState, error: ProtocolError) {
        assert_eq!(self.conn.close_state(), CloseState::Closed);
        match (&error, self.role) {
            (ProtocolError::UnexpectedEof, _) => assert!(self.eof, "EOF reported without EOF"),
            (ProtocolError::InputBufferFull { .. }, _) if !self.overfed => {
                panic!("{error} though the input stayed within receive_capacity")
            }
            (ProtocolError::MaskedFrame, Role::Server)
            | (ProtocolError::UnmaskedFrame, Role::Client) => {
                panic!("{error} reported to a {:?}", self.role)
            }
            _ => {
                assert!(
                    self.conn.receive_buffer().is_empty(),
                    "input kept after failing"
                );
                if state == CloseState::Open {
                    let close = CloseFrame::new(error.close_code(), "");
                    self.expected_out.push(Event::Close(Some(close)));
                }
            }
        }
        self.done = true;
        self.partial = None;
        self.outcome.error = Some(error);
    }

    /// Feeds our output to the observer, which must decode it cleanly.
    fn observe(&mut self, out: &[u8]) {
        self.observer.receive(out);
        loop {
            match self.observer.poll_event() {
                Ok(Some(event)) => self.observed_out.push(event),
                Ok(None) => break,
                Err(e) => panic!("the output is not valid WebSocket for the peer: {e}"),
            }
        }
        while self.observer.poll_transmit().is_some() {}
        assert_eq!(self.observed_out, self.expected_out, "unexpected output");
    }
}

/// Joins streamed fragments into the messages they make.
fn joined(events: &[Event]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut partial: Option<(MessageKind, Vec<u8>)> = None;
    for event in events {
        let Event::Fragment(f) = event else {
            out.push(event.clone());
            continue;
        };
        let (kind, mut data) = partial.take().unwrap_or((f.kind, Vec::new()));
        data.extend_from_slice(&f.payload);
        if !f.fin {
            partial = Some((kind, data));
            continue;
        }
        out.push(Event::Message(match kind {
            MessageKind::Text => Message::from(String::from_utf8(data).expect("checked UTF-8")),
            MessageKind::Binary => Message::from(data),
        }));
    }
    out
}

/// How a run hands the input over.
enum Feed<'a> {
    /// In these pieces, whatever `receive_capacity` says.
    Pieces(&'a [&'a [u8]]),
    /// As an adapter would, at most `receive_capacity` at a time.
    Adapter(&'a [u8]),
}

/// Runs the input through a fresh connection; returns the outcome and
/// whether a piece went past `receive_capacity`.
fn drive(role: Role, setup: Setup, feed: &Feed<'_>) -> (Outcome, bool) {
    let mut driver = Driver::new(role, setup);
    driver.start(setup.start);
    match feed {
        Feed::Pieces(pieces) => {
            for piece in *pieces {
                driver.receive(piece);
            }
        }
        Feed::Adapter(input) => driver.receive_as_adapter(input),
    }
    if setup.eof {
        driver.receive_eof();
    }
    (driver.outcome, driver.ever_overfed)
}

fn run(role: Role, data: &[u8]) {
    let [setup, chunking, input @ ..] = data else {
        return;
    };
    let setup = Setup::from_byte(*setup);
    let pieces = common::split(*chunking, input);
    let (outcome, overfed) = drive(role, setup, &Feed::Pieces(&pieces));
    let (reference, _) = drive(role, setup, &Feed::Adapter(input));
    let (events, error) = model::decode(role, &setup.config(), input, setup.eof);
    assert_eq!(
        (&reference.events, &reference.error),
        (&events, &error),
        "the connection and the reference decoder disagree"
    );
    if !overfed {
        assert_eq!(
            (&outcome.events, &outcome.error),
            (&reference.events, &reference.error),
            "the outcome depends on how the input is cut"
        );
        // Automatic pongs for pings that arrive between two flushes collapse
        // into one (RFC 6455 §5.5.3), so with pings the output depends on
        // the cutting; each run's observer checked it against the model.
        let pinged = outcome.events.iter().any(|e| matches!(e, Event::Ping(_)));
        if !pinged {
            assert_eq!(
                outcome.output, reference.output,
                "the output depends on how the input is cut"
            );
        }
    }
    if setup.limits == Limits::Default {
        let other = Setup {
            streaming: !setup.streaming,
            ..setup
        };
        let (other, _) = drive(role, other, &Feed::Pieces(&pieces));
        assert_eq!(
            (joined(&outcome.events), &outcome.error, &outcome.output),
            (joined(&other.events), &other.error, &other.output),
            "streaming and assembling modes disagree"
        );
    }
}

/// The `ws_frames_server` target: the bytes come from a client.
pub fn run_server(data: &[u8]) {
    run(Role::Server, data);
}

/// The `ws_frames_client` target: the bytes come from a server.
pub fn run_client(data: &[u8]) {
    run(Role::Client, data);
}
