//! What a client tells its application ([`ClientEvent`], [`Closed`]), and
//! why things failed ([`ClientError`], [`Failure`], [`SendError`]).

use std::fmt;

use ws_proto::CloseCode;

use super::FrameError;
use crate::Transport;

/// What happened to a client's session, for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The session opened on this transport.
    Open(Transport),
    /// A message from the server.
    Message(String),
    /// The server's heartbeat (`h`).
    Heartbeat,
    /// A transport did not open; the next one is being tried.
    Fallback {
        /// The transport that failed.
        transport: Transport,
        /// Why.
        failure: Failure,
    },
    /// The session is over: the last event.
    Closed(Closed),
}

/// How a client's session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Closed {
    /// The code: the server's (`c[code,…]`), the application's, or
    /// sockjs-client's for the client's own failures: 1002 when `/info`
    /// fails, 2000 when no transport opens, 2007 when the session does not
    /// open in time, 1006 when the transport is lost, 1002 for a frame that
    /// cannot be read, 1009 for one over the limit.
    pub code: CloseCode,
    /// The reason.
    pub reason: String,
    /// A clean close: code 1000 or 3000 to 4999 (sockjs-client's rule).
    pub was_clean: bool,
    /// What failed, when the client's own failure ended the session.
    pub error: Option<ClientError>,
}

impl Closed {
    pub(crate) fn new(
        code: impl Into<CloseCode>,
        reason: impl Into<String>,
        error: Option<ClientError>,
    ) -> Self {
        let code = code.into();
        Self {
            code,
            reason: reason.into(),
            was_clean: is_clean(code),
            error,
        }
    }
}

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if !self.reason.is_empty() {
            write!(f, " {}", self.reason)?;
        }
        if let Some(error) = &self.error {
            write!(f, " ({error})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Closed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.as_ref().map(|e| e as _)
    }
}

/// Whether a session closed with `code` closed cleanly: 1000, or an
/// application's code from 3000 to 4999.
pub fn is_clean(code: CloseCode) -> bool {
    code.0 == 1000 || (3000..=4999).contains(&code.0)
}

/// Why a client's session ended on its side.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// `/info` failed.
    #[error("/info failed: {0}")]
    Info(Failure),
    /// No transport could be tried: none of the allowed ones is offered.
    #[error("no allowed transport is offered by the server")]
    NoTransport,
    /// Every transport tried failed to open, each for the reason given.
    #[error("all transports failed: {}", list(.0))]
    AllTransportsFailed(Vec<(Transport, Failure)>),
    /// The open session's transport failed.
    #[error("the {} transport failed: {failure}", .transport.name())]
    Transport {
        /// The transport.
        transport: Transport,
        /// Why.
        failure: Failure,
    },
    /// The session did not open within
    /// [`ClientConfig::connect_timeout`](super::ClientConfig).
    #[error("the session did not open in time")]
    ConnectTimeout,
    /// The application's close did not complete in time.
    #[error("the close timed out")]
    CloseTimeout,
}

fn list(failures: &[(Transport, Failure)]) -> String {
    failures
        .iter()
        .map(|(t, f)| format!("{}: {f}", t.name()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// What went wrong with one request or connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// It did not complete in time.
    #[error("timed out")]
    Timeout,
    /// The connection could not be made, or broke (the embedder's reason).
    #[error("connection failed: {0}")]
    Connection(String),
    /// The server closed the connection before its answer was complete.
    #[error("the server closed the connection")]
    Closed,
    /// An HTTP status other than the one expected.
    #[error("HTTP status {0}")]
    Status(u16),
    /// The answer is not valid HTTP/1.1.
    #[error("bad HTTP: {0}")]
    Http(http_proto::ResponseError),
    /// The server did not accept the WebSocket handshake.
    #[error("WebSocket handshake: {0}")]
    Handshake(ws_proto::handshake::ResponseError),
    /// The WebSocket connection failed.
    #[error("WebSocket: {0}")]
    WebSocket(ws_proto::ProtocolError),
    /// The WebSocket connection closed without a SockJS close frame.
    #[error("the WebSocket closed ({0})")]
    WebSocketClosed(CloseCode),
    /// A frame the client could not read.
    #[error("bad frame: {0}")]
    Frame(FrameError),
    /// The `/info` body is not what it must be.
    #[error("bad /info body: {0}")]
    BadInfo(String),
}

/// A message the client did not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The session is not open yet.
    #[error("the session is not open yet")]
    NotOpen,
    /// The session is closed or closing.
    #[error("the session is closed")]
    Closed,
    /// The send buffer is full
    /// ([`ClientConfig::send_buffer_limit`](super::ClientConfig)): wait for
    /// [`buffered_amount`](super::Client::buffered_amount) to fall.
    #[error("the send buffer is full")]
    Full,
    /// SockJS carries text only.
    #[error("SockJS sessions carry text messages only")]
    Binary,
}
