//! Close codes and close frames (RFC 6455 §5.5.1, §7.4).

use std::fmt;

/// A close status code: the one type for close codes from the wire up to
/// the application, WebSocket and SockJS alike.
///
/// Any `u16` can be held; [`CloseCode::is_valid_on_wire`] tells whether a
/// code may appear in a WebSocket close frame (a SockJS `c[code,"reason"]`
/// frame may carry any). The named codes are RFC 6455's and IANA's, then
/// the ones SockJS servers use ([`GO_AWAY`](Self::GO_AWAY),
/// [`ANOTHER_CONNECTION`](Self::ANOTHER_CONNECTION),
/// [`NOT_RELIABLE`](Self::NOT_RELIABLE); SockJS's "Connection interrupted"
/// is [`PROTOCOL_ERROR`](Self::PROTOCOL_ERROR), 1002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose of the connection has been fulfilled.
    pub const NORMAL: Self = Self(1000);
    /// 1001: the endpoint is going away (server shutdown, page left).
    pub const GOING_AWAY: Self = Self(1001);
    /// 1002: protocol error.
    pub const PROTOCOL_ERROR: Self = Self(1002);
    /// 1003: a data type the endpoint cannot accept.
    pub const UNSUPPORTED_DATA: Self = Self(1003);
    /// 1005: no status code was present. Never sent on the wire.
    pub const NO_STATUS: Self = Self(1005);
    /// 1006: the connection closed without a close frame. Never sent.
    pub const ABNORMAL: Self = Self(1006);
    /// 1007: data inconsistent with the message type (invalid UTF-8).
    pub const INVALID_PAYLOAD: Self = Self(1007);
    /// 1008: a policy violation.
    pub const POLICY_VIOLATION: Self = Self(1008);
    /// 1009: a message too big to process.
    pub const MESSAGE_TOO_BIG: Self = Self(1009);
    /// 1010: the client expected an extension the server did not negotiate.
    pub const MANDATORY_EXTENSION: Self = Self(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: Self = Self(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: Self = Self(1012);
    /// 1013: try again later.
    pub const TRY_AGAIN_LATER: Self = Self(1013);
    /// 1014: a gateway or proxy got an invalid response upstream.
    pub const BAD_GATEWAY: Self = Self(1014);
    /// 1015: the TLS handshake failed. Never sent.
    pub const TLS_HANDSHAKE: Self = Self(1015);
    /// 2010: SockJS's "Another connection still open": a second receiving
    /// request on a session that has one. Only in a SockJS `c` frame: not
    /// valid in a WebSocket close frame.
    pub const ANOTHER_CONNECTION: Self = Self(2010);
    /// 3000: SockJS's customary application close, "Go away!" (3000-3999
    /// are for libraries and frameworks).
    pub const GO_AWAY: Self = Self(3000);
    /// 4500: the session is not reliable: it could not deliver every
    /// message (a cache or send buffer overflow, a send that took too
    /// long); Spring's `SESSION_NOT_RELIABLE`.
    pub const NOT_RELIABLE: Self = Self(4500);

    /// Whether this code may appear in a close frame: 1000-1003, 1007-1014
    /// (the codes defined by RFC 6455 and registered with IANA since), and
    /// 3000-4999 (libraries, frameworks and applications). 1004, 1005, 1006,
    /// 1015 and every other code below 3000 are not valid on the wire.
    pub fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        Self(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl PartialEq<u16> for CloseCode {
    fn eq(&self, other: &u16) -> bool {
        self.0 == *other
    }
}

impl PartialEq<CloseCode> for u16 {
    fn eq(&self, other: &CloseCode) -> bool {
        *self == other.0
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The longest close reason: a control payload is at most 125 bytes and the
/// code takes two.
pub const MAX_CLOSE_REASON: usize = 123;

/// A close frame's code and reason: the body of a WebSocket close frame that
/// carried a status code, or a SockJS `c[code,"reason"]` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    /// The status code.
    pub code: CloseCode,
    /// The reason, at most [`MAX_CLOSE_REASON`] bytes of UTF-8.
    pub reason: String,
}

impl CloseFrame {
    /// A close frame with a code (a [`CloseCode`], or its number) and a
    /// reason.
    pub fn new(code: impl Into<CloseCode>, reason: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_validity_of_every_code() {
        for code in 0..=u16::MAX {
            let valid = CloseCode(code).is_valid_on_wire();
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(valid, expected, "{code}");
        }
        for never in [1004, 1005, 1006, 1015, 0, 999, 1016, 1100, 2000, 2999, 5000] {
            assert!(!CloseCode(never).is_valid_on_wire(), "{never}");
        }
    }

    #[test]
    fn sockjs_codes_and_comparisons_with_numbers() {
        assert_eq!(
            [
                CloseCode::ANOTHER_CONNECTION,
                CloseCode::GO_AWAY,
                CloseCode::NOT_RELIABLE
            ],
            [CloseCode(2010), CloseCode(3000), CloseCode(4500)]
        );
        assert!(!CloseCode::ANOTHER_CONNECTION.is_valid_on_wire());
        assert!(CloseCode::GO_AWAY == 3000 && 4500 == CloseCode::NOT_RELIABLE);
        assert!(CloseCode::GO_AWAY != 3001 && 1000 != CloseCode::GO_AWAY);
        assert_eq!(
            CloseFrame::new(4000, "x"),
            CloseFrame::new(CloseCode(4000), "x")
        );
    }
}
