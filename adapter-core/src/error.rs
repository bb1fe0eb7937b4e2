//! The adapter's error: the core's typed errors, plus I/O.

use std::io;

use ws_proto::handshake::{AcceptError, HandshakeError, InvalidRequest, ResponseError};
use ws_proto::{ProtocolError, SendError};

use crate::tls::TlsError;

/// Everything that can go wrong on a [`WebSocketStream`](crate::WebSocketStream)
/// or while opening one.
///
/// The protocol variants carry the core's errors unchanged, so the rule that
/// was broken and what went on the wire because of it (close code, HTTP
/// status) can be read from them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed, or ended during the opening handshake
    /// ([`io::ErrorKind::UnexpectedEof`]).
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// A server refused the client's upgrade request; the HTTP response that
    /// [`HandshakeError::response`] builds was written before this returned.
    #[error("upgrade request refused: {0}")]
    Handshake(#[from] HandshakeError),
    /// The application's subprotocol choice cannot be sent (it was not
    /// offered); nothing was written.
    #[error("cannot accept the upgrade: {0}")]
    Accept(#[from] AcceptError),
    /// A client got an answer that does not complete the upgrade.
    #[error("upgrade response refused: {0}")]
    Response(#[from] ResponseError),
    /// A client's request cannot be written (invalid host, target,
    /// subprotocol or header); nothing was written.
    #[error("invalid upgrade request: {0}")]
    InvalidRequest(#[from] InvalidRequest),
    /// A URL given to [`connect_url`](crate::connect_url) is not a
    /// `ws://` URL, or a `wss://` URL without the `tls` feature.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The peer broke the protocol (the close frame the error calls for was
    /// sent before this was returned), or the transport ended before the
    /// close handshake ([`ProtocolError::UnexpectedEof`]).
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// A local misuse: sending after the close handshake started, a control
    /// payload over 125 bytes, an invalid close code, and so on.
    #[error("cannot send: {0}")]
    Send(#[from] SendError),
    /// A SockJS client's URL or options cannot work; nothing was sent.
    #[error("invalid SockJS client configuration: {0}")]
    ClientConfig(#[from] sockjs_proto::client::ClientConfigError),
    /// A SockJS client's session closed before it opened: how it ended,
    /// with the client's own failure when there was one (`/info`, every
    /// transport tried, the connect timeout).
    #[error("the SockJS session closed before it opened: {0}")]
    SockJs(sockjs_proto::client::Closed),
    /// A data fragment arrived while reading whole messages: with
    /// [`WebSocketConfig::streaming`](ws_proto::WebSocketConfig::streaming) on,
    /// read with [`WebSocketStream::next_event`](crate::WebSocketStream::next_event).
    #[error(
        "a fragment arrived on a stream of whole messages (read with next_event in streaming mode)"
    )]
    UnexpectedFragment,
    /// A TLS configuration cannot be built (feature `tls`): a certificate
    /// or key file that cannot be read or used, named in the error.
    #[error("TLS: {0}")]
    Tls(#[from] TlsError),
}
