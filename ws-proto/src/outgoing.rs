//! The queue of encoded bytes waiting for the transport.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::frame::FrameHeader;
use crate::mask::apply_mask;

/// Payloads at least this long are queued as their own `Bytes` instead of
/// being copied behind their header (when they need no masking).
const ZERO_COPY_MIN: usize = 1024;

/// A payload to encode: borrowed (copied once, into the output buffer) or
/// shared (queued without a copy when it need not be masked).
pub(crate) enum Payload<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
}

impl Payload<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Self::Borrowed(b) => b,
            Self::Shared(b) => b,
        }
    }
}

/// Encoded frames in order: chunks ready to hand out, then the buffer that
/// small frames are coalesced into.
#[derive(Debug, Default)]
pub(crate) struct Outgoing {
    ready: VecDeque<Bytes>,
    buf: BytesMut,
    len: usize,
}

impl Outgoing {
    /// Encodes one frame. `header.mask`, when set, is applied to the copy.
    pub(crate) fn push(&mut self, header: &FrameHeader, payload: Payload<'_>) {
        let payload_len = payload.as_slice().len();
        self.len += header.encoded_len() + payload_len;
        header.encode(&mut self.buf);
        match (header.mask, payload) {
            (None, Payload::Shared(bytes)) if payload_len >= ZERO_COPY_MIN => {
                let head = self.buf.split().freeze();
                self.ready.push_back(head);
                self.ready.push_back(bytes);
            }
            (mask, payload) => {
                let start = self.buf.len();
                self.buf.extend_from_slice(payload.as_slice());
                if let Some(key) = mask {
                    apply_mask(&mut self.buf[start..], key, 0);
                }
            }
        }
    }

    /// Queues a frame already encoded (unmasked): as it is from
    /// [`ZERO_COPY_MIN`] bytes on, else copied behind the small frames
    /// before it.
    pub(crate) fn push_encoded(&mut self, frame: Bytes) {
        self.len += frame.len();
        if frame.len() >= ZERO_COPY_MIN {
            if !self.buf.is_empty() {
                let before = self.buf.split().freeze();
                self.ready.push_back(before);
            }
            self.ready.push_back(frame);
        } else {
            self.buf.extend_from_slice(&frame);
        }
    }

    /// The next chunk of bytes to write, in order.
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        let chunk = match self.ready.pop_front() {
            Some(chunk) => {
                if self.ready.is_empty() {
                    // Only large frames come this way: no buffer kept for
                    // the next one.
                    self.ready = VecDeque::new();
                }
                chunk
            }
            None if !self.buf.is_empty() => self.buf.split().freeze(),
            None => return None,
        };
        self.len -= chunk.len();
        Some(chunk)
    }

    /// Bytes queued and not yet handed out.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
