//! The tokio adapter (feature `tokio`, on by default): the server, the
//! WebSocket functions and the SockJS client over tokio's TCP, timers and
//! tasks.
//!
//! When `tokio` is the only runtime feature on, this is also the top-level
//! API: `sockway::server` is `sockway::tokio::server`, `sockway::connect_url`
//! is [`connect_url`]. With `async-std` or `smol` on too, write these paths.
//!
//! Timers come from `tokio::time`, so the runtime needs its time driver
//! (`enable_all`, or `#[tokio::main]`).

#[doc(inline)]
pub use adapter_tokio::{server, sockjs, MaybeTlsStream, Tokio, TokioIo, WebSocketStream};

#[cfg(feature = "hyper")]
#[doc(no_inline)]
pub use crate::service;

#[cfg(feature = "tls")]
#[doc(no_inline)]
pub use crate::rustls;

#[doc(no_inline)]
pub use crate::{
    http, http_proto, sockjs_proto, ws_proto, AcceptOptions, ClientRequest, CloseCode, CloseFrame,
    CloseState, ConnectOptions, Error, Event, IntoClientRequest, Limits, Message, MessageKind,
    PemSource, Response, SockJsConfig, StopSignal, StopSignals, TlsAcceptor, TlsConnector,
    TlsError, UpgradeRequest, Utf8Bytes, WebSocketConfig,
};

crate::websocket::websocket_api!(
    adapter_tokio,
    ::tokio::io::AsyncRead,
    ::tokio::io::AsyncWrite
);
