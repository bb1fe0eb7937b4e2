//! The async-std adapter (feature `async-std`): the server, the WebSocket
//! functions and the SockJS client over async-io's reactor and timers and
//! async-net's TCP, with tasks on async-std's executor ([`AsyncStd`]).
//!
//! When `async-std` is the only runtime feature on (`default-features =
//! false`), this is also the top-level API: `sockway::server` is
//! `sockway::async_std::server`, `sockway::connect_url` is
//! [`connect_url`]. With `tokio` or `smol` on too, write these paths.
//!
//! Transports are `futures-io`'s `AsyncRead + AsyncWrite` (async-std's and
//! smol's TCP streams, or [`MaybeTlsStream`]).

#[doc(inline)]
pub use adapter_async_std::{
    server, sockjs, AsyncIo, AsyncStd, FuturesIo, MaybeTlsStream, Sleep, WebSocketStream,
};

#[cfg(feature = "tls")]
#[doc(no_inline)]
pub use crate::rustls;

#[doc(no_inline)]
pub use crate::{
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, CloseState, ConnectOptions, Error, Event,
    IntoClientRequest, Limits, Message, MessageKind, PemSource, Response, SockJsConfig, StopSignal,
    StopSignals, TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes, WebSocketConfig,
};

crate::websocket::websocket_api!(
    adapter_async_std,
    ::futures_io::AsyncRead,
    ::futures_io::AsyncWrite
);
