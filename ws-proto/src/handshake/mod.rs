//! The opening handshake (RFC 6455 §4): a server's validation of the
//! upgrade request and its 101 answer, and a client's request and its
//! validation of the answer.
//!
//! Both sides read the HTTP head from partial input with size and count
//! limits (with `http-proto`'s [`HeadReader`](http_proto::HeadReader), into
//! the `http` crate's types), and hand the bytes that follow the head on
//! (`trailing`): they are the first WebSocket frames and must reach the
//! [`Connection`](crate::Connection).

mod client;
mod request;
mod server;

pub use client::{ClientHandshake, ClientRequest, InvalidRequest, Response, ResponseError};
pub use server::{AcceptError, HandshakeError, ServerHandshake, UpgradeRequest};

use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The GUID that RFC 6455 §1.3 appends to the key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
///
/// ```
/// assert_eq!(
///     ws_proto::handshake::accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
///     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
/// );
/// ```
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Limits on an HTTP head: `http-proto`'s (only `max_head_size` and
/// `max_headers` apply to a handshake).
pub use http_proto::Limits;

/// A token (RFC 9110 §5.6.2): what a subprotocol name must be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a header can be written as given: the name a token, the value
/// free of CR, LF and NUL (which would let it inject headers).
fn is_header(name: &str, value: &str) -> bool {
    is_token(name) && !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_section_1_3_accept_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }
}
