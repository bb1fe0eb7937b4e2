#![doc = include_str!("../README.md")]

mod close;
mod config;
mod connection;
mod error;
mod fifo;
pub mod frame;
pub mod handshake;
pub mod mask;
mod message;
mod outgoing;
mod prepared;
mod send_queue;
mod utf8;

pub use close::{CloseCode, CloseFrame, MAX_CLOSE_REASON};
pub use config::WebSocketConfig;
pub use connection::timers::Timeout;
pub use connection::{CloseState, Connection, MaskKeys, Role};
pub use error::{ProtocolError, SendError};
pub use fifo::Fifo;
pub use message::{Event, Fragment, Message, MessageKind, Utf8Bytes};
pub use prepared::PreparedMessage;
pub use send_queue::{Overflow, OverflowStrategy, QueueItem, SendQueue};
