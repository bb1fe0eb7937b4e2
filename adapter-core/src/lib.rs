//! The runtime-independent half of the sockway adapters.
//!
//! Everything the adapters do that does not depend on a runtime is here,
//! written once over two small traits: [`Io`] (a byte stream) and
//! [`Runtime`] (TCP, timers, tasks). `adapter-tokio` and
//! `adapter-async-std` implement them and re-export this crate's API under
//! their own names; applications use those, not this crate.
//!
//! - [`WebSocketStream`]: a `ws-proto` connection over an [`Io`], as a
//!   `Stream` + `Sink`, with [`accept`] and [`connect`].
//! - [`client`]: a SockJS client session over websocket, xhr-streaming or
//!   xhr-polling, with fallback ([`client::connect`]).
//! - [`server`]: SockJS and WebSocket endpoints on one listener, with
//!   sessions, handlers, handshake interceptors and graceful shutdown; or
//!   the same endpoints served by an HTTP server of the application's
//!   ([`server::Mounted`]).
//! - [`StopSignals`]: SIGINT (Ctrl-C) and SIGTERM on any runtime, for a
//!   graceful stop ([`server::ServerBuilder::shutdown_on_signals`]).
//! - TLS (feature `tls`, rustls on ring): [`TlsConnector`] for `wss://`
//!   clients ([`ConnectOptions::tls`]), [`TlsAcceptor`] for the server
//!   ([`server::ServerBuilder::tls`]).

pub mod client;
mod clock;
mod error;
mod handshake;
mod options;
mod request;
mod runtime;
pub mod server;
mod signal;
mod stream;
mod sync;
mod tls;
mod url;

pub use clock::Clock;
pub use error::Error;
pub use handshake::{accept, accept_with, connect, connect_url, connect_url_with, connect_with};
pub use options::{AcceptOptions, ConnectOptions};
pub use request::IntoClientRequest;
pub use runtime::{connect_from, Executor, Io, Runtime, Task};
pub use signal::{StopSignal, StopSignals};
pub use stream::{Settings, WebSocketStream};
pub use tls::{PemSource, TlsAcceptor, TlsConnector, TlsError};

/// rustls, whose configurations [`TlsConnector::from_config`] and
/// [`TlsAcceptor::from_config`] take (feature `tls`).
#[cfg(feature = "tls")]
pub use rustls;

pub use http;
pub use http_proto;
pub use server_proto;
pub use sockjs_proto;
pub use ws_proto;
pub use ws_proto::handshake::{ClientRequest, Limits, Response, UpgradeRequest};
pub use ws_proto::{
    CloseCode, CloseFrame, CloseState, Config, Event, Message, MessageKind, Utf8Bytes,
};
