#![doc = include_str!("../README.md")]

pub mod client;
mod clock;
mod error;
mod handshake;
mod options;
mod read_buf;
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
    CloseCode, CloseFrame, CloseState, Event, Message, MessageKind, Utf8Bytes, WebSocketConfig,
};
