//! A sans-IO WebSocket and SockJS server: connections and endpoints, bytes
//! in and bytes out, one timer, no clock, no socket.
//!
//! It joins the three cores (`http-proto` for HTTP/1.1, `ws-proto` for
//! WebSocket, `sockjs-proto` for every SockJS transport) into a server: an
//! embedder that links it into its own event loop writes socket code only.
//! The async adapters of sockway are such embedders.
//!
//! - [`Server`] is the shared half (`Send + Sync`, in an `Arc`): the
//!   endpoints ([`ServerConfig`]), the SockJS sessions, the server's one
//!   timer ([`Server::poll_timeout`]) and graceful shutdown.
//! - [`Connection`] is one TCP connection, owned by whoever drives its
//!   socket: reading requests, routing, staged accepts for handshake
//!   interceptors ([`Incoming`]), responses, streams, long polls, upgrades
//!   and every time limit. Its docs show the whole driving loop.
//! - [`Session`] and [`SessionSender`] are the application's side of a
//!   session: incoming messages (a `Stream`), sends that never wait or
//!   that wait for room (a `Sink`), close. They wake the connection
//!   through the waker it was made with.
//! - [`Group`] is a set of sessions (a room) that messages go to
//!   together, each message encoded once for all its members, whatever
//!   their transport.
//! - [`Host`] holds a server and all its connections in one value, for a
//!   single-threaded poll loop: it makes the wakers, queues what woke, and
//!   gathers every deadline into one.
//! - [`HttpExchange`] is one request of an HTTP server the embedder runs
//!   (hyper, axum): parsed there, answered here as a whole response, a
//!   streaming body ([`ResponseStream`]) or an upgrade whose stream
//!   becomes a [`Connection`] ([`Server::upgraded`]).
//!
//! Time is an argument everywhere (`now: Instant`); the crate reads no
//! clock, spawns nothing, touches no socket.

mod conn;
mod contest;
mod group;
mod handshake;
mod host;
mod hub;
mod id_hash;
mod logging;
mod mailbox;
mod mounted;
mod options;
mod server;
mod session;
mod stored_headers;
#[cfg(test)]
mod wake_count;

pub use conn::{Connection, Output, READ_CHUNK};
pub use group::{Delivery, Group};
pub use handshake::{HandshakeOutcome, HandshakeRequest, Incoming, Rejection};
pub use host::{ConnId, Host, Woken};
pub use mounted::{HttpExchange, Reply, ResponseStream, Upgrade};
pub use options::{PrincipalFn, ServerOptions, SockJsOptions, WebSocketOptions};
pub use server::{BuildError, EndpointId, Server, ServerConfig};
pub use session::{Attributes, CloseStatus, SendError, Session, SessionSender, SessionTransport};

pub use http_proto;
pub use sockjs_proto;
pub use ws_proto;
