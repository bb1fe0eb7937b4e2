//! Helpers shared by the cross-crate tests in `tests/tests/`, which are
//! written once and run against every runtime and adapter:
//!
//! - [`runtime`]: the server's runtime ([`ServerRuntime`](runtime::ServerRuntime):
//!   tokio, async-std, smol) and [`for_each_runtime!`];
//! - [`adapter`]: the adapters' WebSocket streams
//!   ([`Adapter`](adapter::Adapter): tokio, async-std) and
//!   [`for_each_adapter!`];
//! - [`client`]: the SockJS client's side of the client tests;
//! - [`loopback`]: a server in the test process and a raw HTTP client;
//! - [`stress`]: a server in a child process, and raw clients that
//!   misbehave;
//! - [`peer`]: raw WebSocket peers (frames and heads by hand);
//! - [`pipe`]: an in-memory pipe over `futures-io`;
//! - [`reference`](mod@reference): sockjs-node, the reference server, in a child process;
//! - [`request`]: the WebSocket client's requests with headers, and an
//!   endpoint that reports what it saw of them;
//! - [`tls`]: a CA and a server certificate, made in the test.

pub mod adapter;
pub mod client;
pub mod loopback;
pub mod peer;
pub mod pipe;
pub mod reference;
pub mod request;
pub mod runtime;
pub mod stress;
pub mod tls;
