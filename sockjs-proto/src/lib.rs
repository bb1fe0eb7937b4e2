#![doc = include_str!("../README.md")]

pub mod client;
mod config;
pub mod frame;
mod http;
mod iframe;
pub mod json;
mod origin;
mod prepared;
mod route;
mod server;
mod session;
mod slab;
mod timers;
mod transport;
mod ws;

pub use config::{SockJsConfig, SockJsConfigError, DEFAULT_CLIENT_LIBRARY_URL};
pub use http::RequestContext;
pub use origin::AllowedOrigins;
pub use prepared::PreparedText;
pub use route::Route;
pub use server::{Answer, RequestSession, SendError, Server, SessionView};
pub use session::{CloseReason, Event, Output, ReceiverId, SessionId};
pub use transport::Transport;
pub use ws_proto::{CloseCode, CloseFrame, Utf8Bytes};
