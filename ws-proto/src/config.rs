//! Limits, behaviour switches and timers, with documented defaults.

use std::time::Duration;

use crate::frame::{MAX_CONTROL_PAYLOAD, MAX_HEADER_LEN};

/// Configuration of a [`Connection`](crate::Connection).
///
/// | field | default |
/// | --- | --- |
/// | [`max_frame_size`](Self::max_frame_size) | 16 MiB |
/// | [`max_message_size`](Self::max_message_size) | 64 MiB |
/// | [`max_buffered_input`](Self::max_buffered_input) | `max_frame_size` + 64 KiB |
/// | [`auto_pong`](Self::auto_pong) | `true` |
/// | [`streaming`](Self::streaming) | `false` |
/// | [`allowed_rsv`](Self::allowed_rsv) | `0` (no extension) |
/// | [`ping_interval`](Self::ping_interval) | `None` (no liveness check) |
/// | [`pong_timeout`](Self::pong_timeout) | 10 s |
/// | [`close_timeout`](Self::close_timeout) | 5 s |
///
/// The three timers run only in a connection that is given time: see
/// [`Connection::handle_timeout`](crate::Connection::handle_timeout).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebSocketConfig {
    /// The largest payload accepted in one frame. A larger header fails the
    /// connection with 1009 before any of its payload is buffered.
    pub max_frame_size: usize,
    /// The largest message accepted, all fragments together (assembling
    /// mode only; streaming mode hands fragments out one by one). A frame
    /// that would take a message past it fails the connection with 1009
    /// before its payload is buffered.
    pub max_message_size: usize,
    /// The most bytes of undecoded input held at once. The adapter should
    /// read at most [`Connection::receive_capacity`](crate::Connection::receive_capacity)
    /// bytes before draining events; input past this limit fails the
    /// connection with 1009. Never less than `max_frame_size` (or 125, the
    /// largest control payload, if more) plus the largest header, so one
    /// maximal frame always fits.
    pub max_buffered_input: usize,
    /// Answer every ping with a pong automatically.
    pub auto_pong: bool,
    /// Report data frames one by one as [`Event::Fragment`](crate::Event)
    /// instead of assembling messages, for messages too large to hold.
    pub streaming: bool,
    /// Reserved bits (RSV1 = 0b100, RSV2 = 0b010, RSV3 = 0b001) that a
    /// negotiated extension defines; any other reserved bit fails the
    /// connection with 1002.
    pub allowed_rsv: u8,
    /// Dead-peer detection: when a whole interval passes with no byte
    /// received, a ping goes out; when nothing at all comes back within
    /// [`pong_timeout`](Self::pong_timeout), the connection fails with
    /// [`Timeout::Pong`](crate::Timeout::Pong) and nothing more is sent.
    /// Any byte received counts (a pong, data, a slow fragment), so a slow
    /// but busy transfer is never cut; an interval in which the embedder
    /// paused reading ([`Connection::set_reading_paused`](crate::Connection::set_reading_paused))
    /// or the input buffer was full counts as alive. `None`: no pings.
    pub ping_interval: Option<Duration>,
    /// How long a liveness ping waits for any byte from the peer.
    pub pong_timeout: Duration,
    /// How long the close handshake may take once this end queued its
    /// close frame (a [`close`](crate::Connection::close), the close a
    /// protocol error calls for, or the echo of the peer's close): until
    /// the peer's close frame and, after it, the end of the transport
    /// ([`receive_eof`](crate::Connection::receive_eof)). Past it the
    /// connection is over: see [`Timeout::Close`](crate::Timeout::Close).
    pub close_timeout: Duration,
}

const MIB: usize = 1024 * 1024;

impl Default for WebSocketConfig {
    fn default() -> Self {
        Self {
            max_frame_size: 16 * MIB,
            max_message_size: 64 * MIB,
            max_buffered_input: 16 * MIB + 64 * 1024,
            auto_pong: true,
            streaming: false,
            allowed_rsv: 0,
            ping_interval: None,
            pong_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
        }
    }
}

impl WebSocketConfig {
    /// Sets [`max_frame_size`](Self::max_frame_size).
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// Sets [`max_message_size`](Self::max_message_size).
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Sets [`max_buffered_input`](Self::max_buffered_input).
    #[must_use]
    pub fn max_buffered_input(mut self, bytes: usize) -> Self {
        self.max_buffered_input = bytes;
        self
    }

    /// Sets [`auto_pong`](Self::auto_pong).
    #[must_use]
    pub fn auto_pong(mut self, on: bool) -> Self {
        self.auto_pong = on;
        self
    }

    /// Sets [`streaming`](Self::streaming).
    #[must_use]
    pub fn streaming(mut self, on: bool) -> Self {
        self.streaming = on;
        self
    }

    /// Sets [`allowed_rsv`](Self::allowed_rsv).
    #[must_use]
    pub fn allowed_rsv(mut self, bits: u8) -> Self {
        self.allowed_rsv = bits & 0b111;
        self
    }

    /// Sets [`ping_interval`](Self::ping_interval): pings after `interval`
    /// of silence.
    #[must_use]
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = Some(interval);
        self
    }

    /// Sets [`pong_timeout`](Self::pong_timeout).
    #[must_use]
    pub fn pong_timeout(mut self, timeout: Duration) -> Self {
        self.pong_timeout = timeout;
        self
    }

    /// Sets [`close_timeout`](Self::close_timeout).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// The input buffer limit in force: never below one maximal frame, data
    /// or control (a ping of 125 bytes must fit even when `max_frame_size`
    /// is smaller, or a reader bounded by `receive_capacity` would stall).
    pub(crate) fn effective_max_buffered_input(&self) -> usize {
        let frame = self.max_frame_size.max(MAX_CONTROL_PAYLOAD);
        self.max_buffered_input
            .max(frame.saturating_add(MAX_HEADER_LEN))
    }
}
