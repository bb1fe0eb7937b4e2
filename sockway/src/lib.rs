#![doc = include_str!("../README.md")]

// The repository's README: its Rust snippets are compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct RepositoryReadme;

// Every re-export of a crate of this workspace is inlined, so that these
// docs alone (`cargo doc -p sockway --no-deps`) show the whole API. No doc
// comment goes on a `pub use` that is inlined: rustdoc would put it before
// the docs of every item it names.

#[doc(inline)]
pub use http_proto;
#[doc(inline)]
pub use server_proto;
#[doc(inline)]
pub use sockjs_proto;
#[doc(inline)]
pub use ws_proto;

#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
#[doc(inline)]
pub use adapter_core;

/// The `http` crate (1.x): the types of every request and response here
/// (<https://docs.rs/http/1>).
#[doc(no_inline)]
pub use http_proto::http;

#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
mod websocket;

#[cfg(feature = "tokio")]
pub mod tokio;

#[cfg(feature = "async-std")]
pub mod async_std;

#[cfg(feature = "smol")]
pub mod smol;

#[cfg(feature = "hyper")]
#[doc(inline)]
pub use adapter_tokio::service;

// What is the same on every runtime.
#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
#[doc(inline)]
pub use adapter_core::{
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, CloseState, ConnectOptions, Error, Event,
    IntoClientRequest, Limits, Message, MessageKind, PemSource, Response, StopSignal, StopSignals,
    TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes, WebSocketConfig,
};

// The SockJS endpoint's options, beside the WebSocket connection's.
#[cfg(any(feature = "tokio", feature = "async-std", feature = "smol"))]
#[doc(inline)]
pub use sockjs_proto::SockJsConfig;

/// rustls 0.23 (<https://docs.rs/rustls/0.23>), whose configurations
/// [`TlsConnector::from_config`] and [`TlsAcceptor::from_config`] take
/// (feature `tls`, with a runtime).
#[cfg(all(
    feature = "tls",
    any(feature = "tokio", feature = "async-std", feature = "smol")
))]
#[doc(no_inline)]
pub use adapter_core::rustls;

// What depends on the runtime, at the top level when one runtime feature
// is on; with several, `several_runtimes` puts items there whose use fails
// to compile with a message that says which path to write instead.
#[cfg(all(feature = "tokio", not(any(feature = "async-std", feature = "smol"))))]
#[doc(inline)]
pub use self::tokio::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    MaybeTlsStream, WebSocketStream,
};

#[cfg(all(feature = "async-std", not(any(feature = "tokio", feature = "smol"))))]
#[doc(inline)]
pub use self::async_std::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    MaybeTlsStream, WebSocketStream,
};

#[cfg(all(feature = "smol", not(any(feature = "tokio", feature = "async-std"))))]
#[doc(inline)]
pub use self::smol::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    MaybeTlsStream, WebSocketStream,
};

#[cfg(any(
    all(feature = "tokio", feature = "async-std"),
    all(feature = "tokio", feature = "smol"),
    all(feature = "async-std", feature = "smol")
))]
pub mod several_runtimes;

#[cfg(any(
    all(feature = "tokio", feature = "async-std"),
    all(feature = "tokio", feature = "smol"),
    all(feature = "async-std", feature = "smol")
))]
pub use several_runtimes::{
    accept, accept_with, connect, connect_url, connect_url_with, connect_with, server, sockjs,
    MaybeTlsStream, WebSocketStream,
};
