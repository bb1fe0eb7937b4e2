//! Limits and behaviour switches, with documented defaults.

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
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
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
}

const MIB: usize = 1024 * 1024;

impl Default for Config {
    fn default() -> Self {
        Self {
            max_frame_size: 16 * MIB,
            max_message_size: 64 * MIB,
            max_buffered_input: 16 * MIB + 64 * 1024,
            auto_pong: true,
            streaming: false,
            allowed_rsv: 0,
        }
    }
}

impl Config {
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

    /// The input buffer limit in force: never below one maximal frame, data
    /// or control (a ping of 125 bytes must fit even when `max_frame_size`
    /// is smaller, or a reader bounded by `receive_capacity` would stall).
    pub(crate) fn effective_max_buffered_input(&self) -> usize {
        let frame = self.max_frame_size.max(MAX_CONTROL_PAYLOAD);
        self.max_buffered_input
            .max(frame.saturating_add(MAX_HEADER_LEN))
    }
}
