#![doc = include_str!("../README.md")]

mod chunked;
mod client;
mod conn;
pub mod debug;
mod error;
mod forwarded;
mod framing;
mod head;
pub mod headers;
mod limits;
pub mod query;
mod request;
mod response;

pub use bytes;
pub use client::{encode_request, ClientConn, ResponseEvent};
pub use conn::ServerConn;
pub use error::{EncodeError, HeadError, RequestError, ResponseError};
pub use forwarded::{client_ip, IpRange, IpRangeError};
pub use head::HeadReader;
pub use http;
pub use limits::Limits;
pub use request::{expects_continue, is_upgrade, Exchange};
pub use response::{
    encode_chunk, encode_last_chunk, encode_response, BodyKind, Encoded, Framing, CONTINUE_100,
};
