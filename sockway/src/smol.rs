//! The async-std adapter with smol's executor (feature `smol`): the same
//! server, WebSocket functions and SockJS client as `sockway::async_std`'s,
//! with their tasks on smol's executor ([`Smol`]); run them under
//! `smol::block_on`.
//!
//! When `smol` is the only runtime feature on (`default-features =
//! false`), this is also the top-level API: `sockway::server` is
//! `sockway::smol::server`, `sockway::connect_url` is [`connect_url`].
//! With `tokio` or `async-std` on too, write these paths.
//!
//! Transports are `futures-io`'s `AsyncRead + AsyncWrite` (smol's TCP
//! streams, or [`MaybeTlsStream`]).

#[doc(inline)]
pub use adapter_async_std::{
    smol_server as server, smol_sockjs as sockjs, AsyncIo, FuturesIo, MaybeTlsStream, Sleep, Smol,
    WebSocketStream,
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
