#![doc = include_str!("../README.md")]

mod chunked;
mod conn;
mod error;
mod forwarded;
mod limits;
mod request;
mod response;

pub use bytes;
pub use conn::ServerConn;
pub use error::{EncodeError, RequestError};
pub use forwarded::{client_ip, IpRange, IpRangeError};
pub use limits::Limits;
pub use request::{Header, Request};
pub use response::{encode_chunk, encode_head, encode_last_chunk, Framing, CONTINUE_100};
