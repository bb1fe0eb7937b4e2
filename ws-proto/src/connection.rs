//! The WebSocket connection state machine, after the opening handshake.

use std::fmt;

use bytes::{Bytes, BytesMut};

use crate::close::{CloseCode, MAX_CLOSE_REASON};
use crate::config::WebSocketConfig;
use crate::error::{ProtocolError, SendError};
use crate::frame::{FrameHeader, OpCode, MAX_CONTROL_PAYLOAD};
use crate::mask::apply_mask;
use crate::message::{Message, MessageKind};
use crate::outgoing::{Outgoing, Payload};
use crate::prepared::PreparedMessage;
use crate::utf8::{InvalidUtf8, Utf8Validator};

mod decode;
mod reads;
pub(crate) mod timers;

use timers::Clock;

/// Which end of the connection this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Accepts connections: receives masked frames, sends unmasked ones.
    Server,
    /// Opens connections: sends masked frames, receives unmasked ones.
    Client,
}

/// A source of masking keys for a client's frames.
///
/// RFC 6455 §5.3 asks for keys from a strong source of entropy that the
/// application cannot predict. The core never picks them itself, so it stays
/// deterministic: the adapter passes a cryptographically seeded generator,
/// tests and fuzzers a fixed sequence. Any `FnMut() -> [u8; 4] + Send` is a
/// source.
pub trait MaskKeys: Send {
    /// The key for the next frame.
    fn next_key(&mut self) -> [u8; 4];
}

impl<F: FnMut() -> [u8; 4] + Send> MaskKeys for F {
    fn next_key(&mut self) -> [u8; 4] {
        self()
    }
}

/// Where the close handshake stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseState {
    /// No close frame sent or received.
    Open,
    /// We sent a close frame and wait for the peer's. Data frames from the
    /// peer are still delivered.
    CloseSent,
    /// Both close frames went (or the connection failed): once the output is
    /// flushed, the transport can be closed. A server closes it at once; a
    /// client waits a little for the server to do so first (RFC 6455 §7.1.1).
    Closed,
}

/// The frame whose payload is arriving.
#[derive(Debug, Clone, Copy)]
struct Incoming {
    header: FrameHeader,
    /// Payload bytes unmasked so far (they sit at the start of the input).
    unmasked: usize,
    /// Payload bytes fed to the UTF-8 validator so far.
    validated: usize,
    /// Whether the payload is text (a text frame, or a continuation of one).
    text: bool,
}

/// Payload bytes unmasked (and validated, in a text frame) per step. A
/// frame with invalid UTF-8 fails at the end of the step that holds the
/// first invalid byte, not at the end of the frame; where unmasking and
/// validating are two passes (`Utf8Validator::unmask_and_feed`), a block
/// is still in the L2 cache (256 KiB or more on current CPUs) when it is
/// read the second time.
const DECODE_BLOCK: usize = 128 * 1024;

/// Unmasks (if the frame is masked) and validates as UTF-8 (if it is text)
/// the payload bytes of `frame` that have arrived, `payload` (those already
/// done, `frame.unmasked` and `frame.validated`, are skipped).
///
/// A large payload goes in blocks of [`DECODE_BLOCK`]. The result is the
/// same as unmasking everything, then validating everything.
fn unmask_and_validate(
    frame: &mut Incoming,
    payload: &mut [u8],
    utf8: &mut Utf8Validator,
) -> Result<(), InvalidUtf8> {
    let available = payload.len();
    if let Some(key) = frame.header.mask {
        while frame.unmasked < available {
            let end = available.min(frame.unmasked + DECODE_BLOCK);
            let block = &mut payload[frame.unmasked..end];
            if frame.text {
                // A masked frame's bytes are validated as they are
                // unmasked: `frame.validated == frame.unmasked`.
                utf8.unmask_and_feed(block, key, frame.unmasked)?;
                frame.validated = end;
            } else {
                apply_mask(block, key, frame.unmasked);
            }
            frame.unmasked = end;
        }
    }
    if frame.text && available > frame.validated {
        let fed = utf8.feed(&payload[frame.validated..available]);
        frame.validated = available;
        fed?;
    }
    Ok(())
}

/// A fragmented message being received.
#[derive(Debug)]
struct Assembly {
    kind: MessageKind,
    /// The payload so far (assembling mode; empty in streaming mode).
    data: BytesMut,
    /// Its length so far.
    len: u64,
}

/// A WebSocket connection after the opening handshake: RFC 6455 framing,
/// message assembly, control frames and the close handshake, with no I/O.
///
/// # Vocabulary
///
/// - Input: [`receive`](Self::receive) (or fill
///   [`receive_buffer`](Self::receive_buffer) directly) with bytes from the
///   transport, and [`receive_eof`](Self::receive_eof) when it ends.
/// - Commands: [`send`](Self::send), [`send_text`](Self::send_text),
///   [`send_binary`](Self::send_binary), [`send_prepared`](Self::send_prepared),
///   [`send_fragment`](Self::send_fragment),
///   [`ping`](Self::ping), [`pong`](Self::pong), [`close`](Self::close).
/// - Output: [`poll_event`](Self::poll_event) for what the peer sent, and
///   [`poll_transmit`](Self::poll_transmit) for the bytes to write.
/// - Time: [`handle_timeout`](Self::handle_timeout) in,
///   [`poll_timeout`](Self::poll_timeout) out, and
///   [`set_reading_paused`](Self::set_reading_paused) for the liveness check.
/// - Getters: [`close_state`](Self::close_state),
///   [`timed_out`](Self::timed_out),
///   [`receive_capacity`](Self::receive_capacity),
///   [`pending_transmit`](Self::pending_transmit).
///
/// # Drain order
///
/// After every input, and after [`handle_timeout`](Self::handle_timeout),
/// call [`poll_event`](Self::poll_event) until it returns `Ok(None)` or an
/// error, then [`poll_transmit`](Self::poll_transmit) until it returns
/// `None` (events can queue output: pongs, the close echo, the close frame
/// that a protocol error sends; time can queue a ping). After every command,
/// drain [`poll_transmit`](Self::poll_transmit). Then re-arm the one timer
/// at [`poll_timeout`](Self::poll_timeout). Decoding happens inside
/// `poll_event`, so input that is not drained is never decoded and the
/// buffer, bounded by [`WebSocketConfig::max_buffered_input`], is the only
/// backlog.
///
/// Once [`close_state`](Self::close_state) is [`CloseState::Closed`] and the
/// output is drained, close the transport: a server at once; a client
/// after the server's end of file ([`receive_eof`](Self::receive_eof)), or
/// when [`timed_out`](Self::timed_out) says the close timeout ran out. When
/// a timer ended the connection (`timed_out` is `Some`), close the
/// transport at once without waiting for writes.
///
/// # Time
///
/// The connection reads no clock; three timers run on the time it is given
/// ([`WebSocketConfig::ping_interval`], [`WebSocketConfig::pong_timeout`],
/// [`WebSocketConfig::close_timeout`]):
///
/// 1. Call `handle_timeout(now)` once when the connection starts. Until
///    then it knows no time, and `poll_timeout` is `None`.
/// 2. Keep one timer armed at `poll_timeout()`. When it fires, call
///    `handle_timeout(now)` and drain as above.
/// 3. `poll_timeout` names exactly the instant at which `handle_timeout`
///    makes progress: an earlier call, or a second call at the same
///    instant, does nothing. Calling it more often is harmless.
///
/// Input and commands take no `now`. When one of them queues a close frame
/// ([`close`](Self::close), the close a protocol error calls for inside
/// `poll_event`, the echo of the peer's close), the close timeout is marked
/// to start, and `poll_timeout` answers the latest `now` the connection was
/// given, which is past: due at once. The next `handle_timeout(now)` starts
/// it from that `now`. So after every input and command, re-read
/// `poll_timeout` (str0m's rule: drain until the timeout). This keeps time
/// out of the calls that are made per byte and per message, where only
/// this one rare transition would need it, and keeps every deadline exact:
/// it counts from the `handle_timeout` that started it, which the driver
/// makes as soon as `poll_timeout` asks.
///
/// The liveness check samples: at each check it compares the bytes
/// received (any byte, decoded or not) with those at the previous check,
/// so input needs no `now`. A check interval in which nothing arrived sends
/// a ping and the next check comes [`WebSocketConfig::pong_timeout`] later;
/// when still nothing arrived, the connection fails with
/// [`Timeout::Pong`](crate::Timeout::Pong). A peer silent from the start
/// is failed exactly `ping_interval + pong_timeout` after the first
/// `handle_timeout`; a ping goes out between one and two intervals after
/// the last byte. An embedder that stops reading because its application
/// is behind says so with [`set_reading_paused`](Self::set_reading_paused),
/// so that a live peer never looks dead.
///
/// # Example
///
/// A server echoing a client's masked "Hello" (RFC 6455 §5.7):
///
/// ```
/// use ws_proto::{Connection, Event, Message, WebSocketConfig};
///
/// let mut server = Connection::server(WebSocketConfig::default());
/// server.receive(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// while let Some(event) = server.poll_event().expect("valid frames") {
///     if let Event::Message(message) = event {
///         server.send(message).expect("open");
///     }
/// }
/// let mut wire = Vec::new();
/// while let Some(chunk) = server.poll_transmit() {
///     wire.extend_from_slice(&chunk);
/// }
/// assert_eq!(wire, [0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
/// ```
pub struct Connection {
    role: Role,
    config: WebSocketConfig,
    input: BytesMut,
    eof: bool,
    frame: Option<Incoming>,
    assembly: Option<Assembly>,
    utf8: Utf8Validator,
    out: Outgoing,
    /// The kind of the fragmented message we are sending, if any.
    sending: Option<MessageKind>,
    send_utf8: Utf8Validator,
    close: CloseState,
    /// No more input is decoded: a close frame arrived, or the connection failed.
    input_done: bool,
    mask_keys: Option<Box<dyn MaskKeys>>,
    /// The automatic answer to the latest ping, not yet queued. Pings that
    /// arrive while it waits replace it (RFC 6455 §5.5.3 allows answering
    /// only the most recent one), so a peer that floods pings and never
    /// reads cannot grow the output.
    pending_pong: Option<Bytes>,
    /// Input bytes decoded (or dropped) so far: with the buffered ones,
    /// every byte received, which the liveness check counts.
    consumed: u64,
    /// Time: the latest `now`, the timers, what ended the connection.
    clock: Clock,
    /// A failure found by `handle_timeout`, for the next `poll_event`.
    pending_error: Option<ProtocolError>,
    /// An error `poll_message_ahead` found: the next `poll_event` fails
    /// the connection with it.
    deferred_error: Option<ProtocolError>,
    /// The size of the next read into the input buffer.
    reads: reads::ReadSize,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("role", &self.role)
            .field("close", &self.close)
            .field("buffered_input", &self.input.len())
            .field("pending_transmit", &self.out.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A server-side connection.
    pub fn server(config: WebSocketConfig) -> Self {
        Self::new(Role::Server, config, None)
    }

    /// A client-side connection that masks its frames with keys from `keys`.
    pub fn client(config: WebSocketConfig, keys: impl MaskKeys + 'static) -> Self {
        Self::new(Role::Client, config, Some(Box::new(keys)))
    }

    fn new(role: Role, config: WebSocketConfig, mask_keys: Option<Box<dyn MaskKeys>>) -> Self {
        Self {
            role,
            config,
            input: BytesMut::new(),
            eof: false,
            frame: None,
            assembly: None,
            utf8: Utf8Validator::default(),
            out: Outgoing::default(),
            sending: None,
            send_utf8: Utf8Validator::default(),
            close: CloseState::Open,
            input_done: false,
            mask_keys,
            pending_pong: None,
            consumed: 0,
            clock: Clock::default(),
            pending_error: None,
            deferred_error: None,
            reads: reads::ReadSize::default(),
        }
    }

    /// This end's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configuration.
    pub fn config(&self) -> &WebSocketConfig {
        &self.config
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        self.close
    }

    /// Whether the application may still send data.
    pub fn can_send(&self) -> bool {
        self.close == CloseState::Open
    }

    // ---- input ---------------------------------------------------------

    /// Hands over bytes read from the transport (copied into the input
    /// buffer).
    pub fn receive(&mut self, data: &[u8]) {
        if !self.input_done {
            self.input.extend_from_slice(data);
        }
    }

    /// The input buffer, for adapters that read straight into it (no copy).
    /// Append at most [`receive_capacity`](Self::receive_capacity) bytes.
    pub fn receive_buffer(&mut self) -> &mut BytesMut {
        &mut self.input
    }

    /// How many more bytes the input buffer may take before the next
    /// [`poll_event`](Self::poll_event) drains it. Zero once the connection
    /// reads no more input.
    pub fn receive_capacity(&self) -> usize {
        if self.input_done || self.eof {
            return 0;
        }
        self.config
            .effective_max_buffered_input()
            .saturating_sub(self.input.len())
    }

    /// The transport reached end of file.
    pub fn receive_eof(&mut self) {
        self.eof = true;
    }

    /// Every byte received so far, decoded or still buffered.
    fn received(&self) -> u64 {
        self.consumed + self.input.len() as u64
    }

    // ---- commands ------------------------------------------------------

    /// Sends a whole message. A shared payload of 1 KiB or more from a
    /// server is queued without a copy.
    pub fn send(&mut self, message: Message) -> Result<(), SendError> {
        match message {
            Message::Text(t) => self.send_data(OpCode::Text, Payload::Shared(t.into_bytes())),
            Message::Binary(b) => self.send_data(OpCode::Binary, Payload::Shared(b)),
        }
    }

    /// Sends a message encoded once for many connections (see
    /// [`PreparedMessage`]). A server queues the prepared frame's bytes as
    /// they are: no encoding and no copy, but for a frame under 1 KiB,
    /// which joins the small frames coalesced into one write (as
    /// [`send`](Self::send) does). A client masks a copy of the payload.
    /// Refused as [`send`](Self::send) is.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        self.check_open()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentedMessageInProgress);
        }
        if self.mask_keys.is_some() {
            self.write_frame(message.opcode(), true, Payload::Borrowed(message.payload()));
        } else {
            self.queue_pong();
            self.out.push_encoded(message.frame().clone());
        }
        Ok(())
    }

    /// Sends a text message.
    pub fn send_text(&mut self, text: &str) -> Result<(), SendError> {
        self.send_data(OpCode::Text, Payload::Borrowed(text.as_bytes()))
    }

    /// Sends a binary message.
    pub fn send_binary(&mut self, data: &[u8]) -> Result<(), SendError> {
        self.send_data(OpCode::Binary, Payload::Borrowed(data))
    }

    fn send_data(&mut self, opcode: OpCode, payload: Payload<'_>) -> Result<(), SendError> {
        self.check_open()?;
        if self.sending.is_some() {
            return Err(SendError::FragmentedMessageInProgress);
        }
        self.write_frame(opcode, true, payload);
        Ok(())
    }

    /// Sends one fragment of a message: the first call starts a message of
    /// `kind`, later ones continue it (with the same `kind`) until one with
    /// `fin`. Control frames may be sent in between. Text fragments may cut
    /// characters anywhere, but together they must be valid UTF-8; a
    /// fragment that makes them invalid is refused and nothing is sent.
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
        fin: bool,
    ) -> Result<(), SendError> {
        self.check_open()?;
        let opcode = match self.sending {
            None => {
                self.send_utf8 = Utf8Validator::default();
                match kind {
                    MessageKind::Text => OpCode::Text,
                    MessageKind::Binary => OpCode::Binary,
                }
            }
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(SendError::FragmentKindMismatch),
        };
        if kind == MessageKind::Text {
            let mut check = self.send_utf8.clone();
            let valid = check.feed(&payload).is_ok() && (!fin || check.finish().is_ok());
            if !valid {
                return Err(SendError::InvalidUtf8);
            }
            self.send_utf8 = check;
        }
        self.sending = if fin { None } else { Some(kind) };
        self.write_frame(opcode, fin, Payload::Shared(payload));
        Ok(())
    }

    /// Sends a ping.
    pub fn ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Ping, payload)
    }

    /// Sends an unsolicited pong (a heartbeat that expects no answer).
    pub fn pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.send_control(OpCode::Pong, payload)
    }

    fn send_control(&mut self, opcode: OpCode, payload: &[u8]) -> Result<(), SendError> {
        self.check_open()?;
        if payload.len() > MAX_CONTROL_PAYLOAD {
            return Err(SendError::ControlPayloadTooLarge(payload.len()));
        }
        self.write_frame(opcode, true, Payload::Borrowed(payload));
        Ok(())
    }

    /// Starts the close handshake with a code and a reason; `None` sends a
    /// close frame with no status code. Data from the peer is still
    /// delivered until its close frame arrives.
    pub fn close(&mut self, code: Option<CloseCode>, reason: &str) -> Result<(), SendError> {
        self.check_open()?;
        if code.is_none() && !reason.is_empty() {
            return Err(SendError::ReasonWithoutCode);
        }
        if let Some(code) = code {
            if !code.is_valid_on_wire() {
                return Err(SendError::InvalidCloseCode(code.0));
            }
            if reason.len() > MAX_CLOSE_REASON {
                return Err(SendError::CloseReasonTooLong(reason.len()));
            }
        }
        self.write_close(code, reason);
        self.close = CloseState::CloseSent;
        Ok(())
    }

    fn check_open(&self) -> Result<(), SendError> {
        if self.close == CloseState::Open {
            Ok(())
        } else {
            Err(SendError::Closed)
        }
    }

    fn write_close(&mut self, code: Option<CloseCode>, reason: &str) {
        self.close_queued();
        let mut body = [0u8; MAX_CONTROL_PAYLOAD];
        let len = match code {
            None => 0,
            Some(code) => {
                body[..2].copy_from_slice(&code.0.to_be_bytes());
                body[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
        };
        self.write_frame(OpCode::Close, true, Payload::Borrowed(&body[..len]));
    }

    /// Queues the automatic pong, if one waits, so that it keeps its place
    /// before whatever is written next.
    fn queue_pong(&mut self) {
        if let Some(payload) = self.pending_pong.take() {
            self.encode_frame(OpCode::Pong, true, Payload::Shared(payload));
        }
    }

    fn write_frame(&mut self, opcode: OpCode, fin: bool, payload: Payload<'_>) {
        self.queue_pong();
        self.encode_frame(opcode, fin, payload);
    }

    fn encode_frame(&mut self, opcode: OpCode, fin: bool, payload: Payload<'_>) {
        let mask = self.mask_keys.as_mut().map(|k| k.next_key());
        let header = FrameHeader {
            fin,
            rsv: 0,
            opcode,
            mask,
            payload_len: payload.as_slice().len() as u64,
        };
        self.out.push(&header, payload);
    }

    // ---- output --------------------------------------------------------

    /// The next bytes to write to the transport, in order.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.queue_pong();
        self.out.pop()
    }

    /// Bytes queued for the transport and not yet taken.
    pub fn pending_transmit(&self) -> usize {
        let pong = self.pending_pong.as_ref().map_or(0, |p| {
            let mask = if self.mask_keys.is_some() { 4 } else { 0 };
            2 + mask + p.len()
        });
        self.out.len() + pong
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::apply_mask_naive;
    use crate::message::Event;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn masked_text_frame(payload: &[u8]) -> Vec<u8> {
        let header = FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            mask: Some(KEY),
            payload_len: payload.len() as u64,
        };
        let mut frame = Vec::new();
        header.encode(&mut frame);
        let start = frame.len();
        frame.extend_from_slice(payload);
        apply_mask_naive(&mut frame[start..], KEY, 0);
        frame
    }

    /// Feeds `frame` in pieces of `piece` bytes, draining events after each.
    fn decode(frame: &[u8], piece: usize) -> Result<Vec<Event>, ProtocolError> {
        let mut conn = Connection::server(WebSocketConfig::default());
        let mut events = Vec::new();
        for chunk in frame.chunks(piece) {
            conn.receive(chunk);
            while let Some(event) = conn.poll_event()? {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// Text of exactly `len` bytes whose 2-, 3- and 4-byte characters fall
    /// across block boundaries at every offset, for some `shift`.
    fn text(len: usize, shift: usize) -> Vec<u8> {
        let mut s = "x".repeat(shift);
        while s.len() < len {
            s.push_str("a\u{e9}\u{20ac}\u{1d11e}");
        }
        while s.len() > len {
            s.pop();
        }
        while s.len() < len {
            s.push('z');
        }
        s.into_bytes()
    }

    #[test]
    fn debug_shows_the_role_the_close_state_and_both_buffers() {
        let mut conn = Connection::client(WebSocketConfig::default(), || KEY);
        conn.receive(&[0x81, 0x05, b'H']);
        conn.ping(b"hi").expect("open");
        assert_eq!(
            format!("{conn:?}"),
            "Connection { role: Client, close: Open, buffered_input: 3, \
             pending_transmit: 8, .. }"
        );
    }

    /// `send` promises that a server queues a shared payload of 1 KiB or
    /// more without a copy: the payload comes back as its own chunk, the
    /// same memory. Smaller ones, and a client's (masked), are copied in
    /// after the header.
    #[test]
    fn a_shared_payload_of_1_kib_from_a_server_is_queued_without_a_copy() {
        for (len, client, shared) in [
            (1024, false, true),
            (5000, false, true),
            (1023, false, false),
            (1024, true, false),
        ] {
            let payload = Bytes::from(vec![7u8; len]);
            let mut conn = if client {
                Connection::client(WebSocketConfig::default(), || KEY)
            } else {
                Connection::server(WebSocketConfig::default())
            };
            conn.send(Message::Binary(payload.clone())).expect("open");
            let mut chunks = Vec::new();
            while let Some(chunk) = conn.poll_transmit() {
                chunks.push(chunk);
            }
            let total: usize = chunks.iter().map(Bytes::len).sum();
            let header = FrameHeader::parse(&chunks[0])
                .expect("valid")
                .expect("whole");
            assert_eq!(total, header.1 + len, "len {len} client {client}");
            let last = chunks.last().expect("a chunk");
            let same = chunks.len() == 2 && last.as_ptr() == payload.as_ptr();
            assert_eq!(
                same,
                shared,
                "len {len} client {client}: {} chunks",
                chunks.len()
            );
        }
    }

    #[test]
    fn large_text_frames_decode_in_blocks_whole_or_in_pieces() {
        let len = 3 * DECODE_BLOCK + 7;
        for shift in 0..4 {
            let payload = text(len, shift);
            let frame = masked_text_frame(&payload);
            for piece in [frame.len(), DECODE_BLOCK + 1, 50_001, 4093] {
                let events = decode(&frame, piece).expect("valid text");
                let [Event::Message(Message::Text(t))] = &events[..] else {
                    panic!("shift {shift} piece {piece}: {events:?}");
                };
                assert!(t.as_bytes() == &payload[..], "shift {shift} piece {piece}");
            }
        }
    }

    #[test]
    fn invalid_utf8_is_found_on_either_side_of_a_block_boundary() {
        let len = 2 * DECODE_BLOCK + 100;
        let base = text(len, 1);
        let b = DECODE_BLOCK;
        for at in [
            0,
            b - 3,
            b - 2,
            b - 1,
            b,
            b + 1,
            b + 2,
            2 * b - 1,
            2 * b + 5,
            len - 1,
        ] {
            for bad in [
                &[0xffu8][..],
                &[0xc3, b'a'],
                &[0xf0, 0x9d, b'a'],
                &[0xed, 0xa0, 0x80],
            ] {
                let mut payload = base.clone();
                let end = (at + bad.len()).min(len);
                payload[at..end].copy_from_slice(&bad[..end - at]);
                let frame = masked_text_frame(&payload);
                for piece in [frame.len(), 65_537] {
                    assert_eq!(
                        decode(&frame, piece).unwrap_err(),
                        ProtocolError::InvalidUtf8,
                        "at {at} bad {bad:x?} piece {piece}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_character_cut_by_the_end_of_a_large_frame_is_invalid() {
        let mut payload = text(DECODE_BLOCK + 10, 0);
        let len = payload.len();
        payload[len - 2..].copy_from_slice(&[b'a', 0xe2]);
        assert_eq!(
            decode(&masked_text_frame(&payload), usize::MAX).unwrap_err(),
            ProtocolError::InvalidUtf8
        );
    }
}
