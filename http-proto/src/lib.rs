#![doc = include_str!("../README.md")]

mod chunked;
mod conn;
mod error;
mod forwarded;
mod head;
pub mod headers;
mod limits;
pub mod query;
mod request;
mod response;

pub use bytes;
pub use conn::ServerConn;
pub use error::{EncodeError, HeadError, RequestError};
pub use forwarded::{client_ip, IpRange, IpRangeError};
pub use head::HeadReader;
pub use http;
pub use limits::Limits;
pub use request::{expects_continue, is_upgrade, Exchange};
pub use response::{
    encode_chunk, encode_last_chunk, encode_response, BodyKind, Encoded, Framing, CONTINUE_100,
};
