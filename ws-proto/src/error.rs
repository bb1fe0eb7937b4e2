//! Errors: a peer's violations ([`ProtocolError`]) and local misuse of the
//! API ([`SendError`]) are different types.

use crate::close::CloseCode;
use crate::connection::timers::Timeout;

/// The peer broke RFC 6455, or a configured limit, while sending frames.
///
/// The connection is failed: a close frame with [`ProtocolError::close_code`]
/// is queued for the peer (except for [`ProtocolError::UnexpectedEof`], where
/// nothing can be sent, and [`ProtocolError::Timeout`], where nothing more is
/// sent), no more input is read, and the transport should be closed once
/// the output is flushed (at once after a timeout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A frame used a reserved opcode (0x3-0x7, 0xB-0xF).
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// A reserved bit was set that no negotiated extension defines.
    #[error("reserved bits {0:#05b} set without a negotiated extension")]
    ReservedBits(u8),
    /// A payload length was not encoded in the fewest bytes.
    #[error("payload length not minimally encoded")]
    NonMinimalLength,
    /// A 64-bit payload length had its most significant bit set.
    #[error("payload length with the most significant bit set")]
    InvalidLength,
    /// A client sent a frame without a masking key.
    #[error("client frame not masked")]
    UnmaskedFrame,
    /// A server sent a masked frame.
    #[error("server frame masked")]
    MaskedFrame,
    /// A control frame's payload was longer than 125 bytes.
    #[error("control frame payload of {0} bytes (at most 125)")]
    ControlFrameTooLarge(u64),
    /// A control frame did not have FIN set.
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// A continuation frame arrived with no message in progress.
    #[error("continuation frame with no message in progress")]
    UnexpectedContinuation,
    /// A new text or binary frame arrived while a fragmented message was in
    /// progress.
    #[error("new data frame while a fragmented message is in progress")]
    ExpectedContinuation,
    /// A frame's payload exceeded
    /// [`WebSocketConfig::max_frame_size`](crate::WebSocketConfig).
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The length the header announced.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// A message exceeded
    /// [`WebSocketConfig::max_message_size`](crate::WebSocketConfig).
    #[error("message of at least {len} bytes exceeds the limit of {max}")]
    MessageTooLarge {
        /// The length reached, counting the frame that crossed the limit.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// More input was handed over than
    /// [`WebSocketConfig::max_buffered_input`](crate::WebSocketConfig) allows.
    #[error("input buffer over its limit of {max} bytes")]
    InputBufferFull {
        /// The configured limit.
        max: usize,
    },
    /// A text message (or a close reason) was not valid UTF-8.
    #[error("invalid UTF-8 in a text message")]
    InvalidUtf8,
    /// A close frame carried a code that is not valid on the wire.
    #[error("invalid close code {0}")]
    InvalidCloseCode(u16),
    /// A close frame had a 1-byte payload.
    #[error("close frame payload of one byte")]
    InvalidClosePayload,
    /// A close frame's reason was not valid UTF-8.
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
    /// The transport ended before the close handshake.
    #[error("connection ended without a close handshake")]
    UnexpectedEof,
    /// A timer ran out: the peer answered neither a liveness ping nor our
    /// close frame in time. Nothing more is sent: drop the transport.
    #[error("{0}")]
    Timeout(Timeout),
}

impl ProtocolError {
    /// The close code this violation calls for: 1002 for framing errors,
    /// 1007 for invalid UTF-8, 1009 for limits, and 1006 (never sent, only
    /// reported) for an abrupt end or a timeout.
    pub fn close_code(&self) -> CloseCode {
        match self {
            Self::InvalidUtf8 | Self::InvalidCloseReason => CloseCode::INVALID_PAYLOAD,
            Self::FrameTooLarge { .. }
            | Self::MessageTooLarge { .. }
            | Self::InputBufferFull { .. } => CloseCode::MESSAGE_TOO_BIG,
            Self::UnexpectedEof | Self::Timeout(_) => CloseCode::ABNORMAL,
            _ => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// The application asked for something the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// A close frame was already sent, or the connection failed.
    #[error("the connection is closing or closed")]
    Closed,
    /// A ping or pong payload over 125 bytes.
    #[error("control payload of {0} bytes (at most 125)")]
    ControlPayloadTooLarge(usize),
    /// A close code that may not be sent (1005, 1006, 1015, reserved).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A close reason without a status code (the wire format has no place
    /// for it).
    #[error("a close reason needs a status code")]
    ReasonWithoutCode,
    /// A close reason over 123 bytes.
    #[error("close reason of {0} bytes (at most 123)")]
    CloseReasonTooLong(usize),
    /// A whole message was sent while a fragmented one is in progress.
    #[error("a fragmented message is in progress")]
    FragmentedMessageInProgress,
    /// A fragment of one kind continued a message of the other kind.
    #[error("a fragment continued a message of another kind")]
    FragmentKindMismatch,
    /// Text fragments that are not valid UTF-8.
    #[error("text fragments are not valid UTF-8")]
    InvalidUtf8,
}
