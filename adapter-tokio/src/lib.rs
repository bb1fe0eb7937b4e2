#![doc = include_str!("../README.md")]

mod error;
mod handshake;
mod options;
pub mod server;
mod stream;
mod url;

pub use error::Error;
pub use handshake::{accept, accept_with, connect, connect_url, connect_url_with, connect_with};
pub use options::{AcceptOptions, ConnectOptions};
pub use stream::WebSocketStream;

pub use http_proto;
pub use sockjs_proto;
pub use ws_proto;
pub use ws_proto::handshake::{ClientRequest, Limits, Response, UpgradeRequest};
pub use ws_proto::{
    CloseCode, CloseFrame, CloseState, Config, Event, Message, MessageKind, Utf8Bytes,
};
