#![doc = include_str!("../README.md")]

pub use http_proto;
/// The `http` crate: the types of every request and response here.
pub use http_proto::http;
pub use server_proto;
pub use sockjs_proto;
pub use ws_proto;

/// The tokio adapter (feature `tokio`, on by default).
#[cfg(feature = "tokio")]
pub use adapter_tokio as tokio;

/// SockJS and WebSocket endpoints as a `tower` service, mounted in axum
/// 0.8 or served by hyper 1 (feature `hyper`, or `axum`, which also reads
/// the client's address from axum's `ConnectInfo`). See
/// [`service::Endpoints`].
#[cfg(feature = "hyper")]
pub use adapter_tokio::service;

/// The async-std adapter (feature `async-std`); its server spawns on
/// async-std's executor.
#[cfg(feature = "async-std")]
pub mod async_std {
    #[cfg(feature = "tls")]
    pub use adapter_async_std::rustls;
    pub use adapter_async_std::{
        accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
        AcceptOptions, AsyncIo, AsyncStd, ClientRequest, CloseCode, CloseFrame, CloseState, Config,
        ConnectOptions, Error, Event, FuturesIo, IntoClientRequest, Limits, MaybeTlsStream,
        Message, MessageKind, PemSource, Response, Sleep, TlsAcceptor, TlsConnector, TlsError,
        UpgradeRequest, Utf8Bytes, WebSocketStream,
    };
    pub use adapter_async_std::{StopSignal, StopSignals};
}

/// The async-std adapter with smol's executor (feature `smol`).
#[cfg(feature = "smol")]
pub mod smol {
    #[cfg(feature = "tls")]
    pub use adapter_async_std::rustls;
    pub use adapter_async_std::{
        accept, accept_with, connect, connect_url, connect_url_with, connect_with,
        smol_server as server, smol_sockjs as sockjs, AcceptOptions, AsyncIo, ClientRequest,
        CloseCode, CloseFrame, CloseState, Config, ConnectOptions, Error, Event, FuturesIo,
        IntoClientRequest, Limits, MaybeTlsStream, Message, MessageKind, PemSource, Response,
        Sleep, Smol, TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes,
        WebSocketStream,
    };
    pub use adapter_async_std::{StopSignal, StopSignals};
}

/// The chosen runtime's API at stable paths: tokio's when the `tokio`
/// feature is on, else async-std's, else smol's.
#[cfg(feature = "tokio")]
pub use adapter_tokio::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, CloseState, Config, ConnectOptions, Error,
    Event, IntoClientRequest, Limits, MaybeTlsStream, Message, MessageKind, PemSource, Response,
    TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes, WebSocketStream,
};

#[cfg(all(feature = "async-std", not(feature = "tokio")))]
pub use self::async_std::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, CloseState, Config, ConnectOptions, Error,
    Event, IntoClientRequest, Limits, MaybeTlsStream, Message, MessageKind, PemSource, Response,
    TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes, WebSocketStream,
};

#[cfg(all(feature = "smol", not(any(feature = "tokio", feature = "async-std"))))]
pub use self::smol::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, CloseState, Config, ConnectOptions, Error,
    Event, IntoClientRequest, Limits, MaybeTlsStream, Message, MessageKind, PemSource, Response,
    TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes, WebSocketStream,
};

// SIGINT (Ctrl-C) and SIGTERM, caught on any runtime (the same type on
// every one); `server::ServerBuilder::shutdown_on_signals` shuts a server
// down gracefully on them.
#[cfg(feature = "tokio")]
pub use adapter_tokio::{StopSignal, StopSignals};

#[cfg(all(any(feature = "async-std", feature = "smol"), not(feature = "tokio")))]
pub use adapter_async_std::{StopSignal, StopSignals};

/// rustls, for configurations of the application's
/// (`TlsConnector::from_config`, `TlsAcceptor::from_config`) (feature
/// `tls`, with an adapter).
#[cfg(all(feature = "tls", feature = "tokio"))]
pub use adapter_tokio::rustls;

#[cfg(all(feature = "tls", feature = "async-std", not(feature = "tokio")))]
pub use self::async_std::rustls;

#[cfg(all(
    feature = "tls",
    feature = "smol",
    not(any(feature = "tokio", feature = "async-std"))
))]
pub use self::smol::rustls;
