//! The logic of the fuzz targets, as plain functions of the input bytes.
//!
//! Each `fuzz_targets/*.rs` binary calls one of these; `ws-proto`'s test
//! `tests/fuzz_seeds.rs` includes the same files (`#[path]`) and replays
//! every seed under `fuzz/corpus/<target>/` through them, so a plain
//! `cargo test` checks the committed corpus without a fuzzer.

pub mod common;
pub mod frames;
pub mod handshake;
pub mod http_requests;
pub mod http_responses;
pub mod http_wire;
pub mod model;
pub mod pair;
pub mod server_conns;
pub mod sockjs_client;
pub mod sockjs_client_input;
pub mod sockjs_payload;
pub mod sockjs_requests;
