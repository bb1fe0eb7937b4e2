//! Helpers shared by the adapter's integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

use adapter_tokio::ws_proto::frame::{FrameHeader, OpCode};
use adapter_tokio::ws_proto::mask::apply_mask;
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Every test step is bounded by this: a hang fails the test, never the run.
pub(crate) const LIMIT: Duration = Duration::from_secs(20);

/// Awaits `f`, failing the test if it takes longer than [`LIMIT`].
pub(crate) async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("the step did not finish in time")
}

/// The key of RFC 6455 §1.3, and its accept value.
pub(crate) const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
pub(crate) const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// A valid upgrade request with `version` as `Sec-WebSocket-Version`.
pub(crate) fn upgrade_request(version: &str) -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n\
         Sec-WebSocket-Version: {version}\r\n\r\n"
    )
    .into_bytes()
}

/// A frame as a client sends it: masked with a fixed key.
pub(crate) fn client_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: Some(key),
        payload_len: payload.len() as u64,
    };
    let mut out = BytesMut::new();
    header.encode(&mut out);
    let start = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[start..], key, 0);
    out.to_vec()
}

/// A frame as a server sends it: unmasked.
pub(crate) fn server_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
    let header = FrameHeader {
        fin,
        rsv: 0,
        opcode,
        mask: None,
        payload_len: payload.len() as u64,
    };
    let mut out = BytesMut::new();
    header.encode(&mut out);
    out.extend_from_slice(payload);
    out.to_vec()
}

/// Reads an HTTP head (through the blank line) byte by byte, so that nothing
/// after it is consumed.
pub(crate) async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = io.read_u8().await.expect("a complete head");
        head.push(byte);
    }
    String::from_utf8(head).expect("an ASCII head")
}

/// A raw client: sends the upgrade request and reads the 101 answer.
pub(crate) async fn raw_client_handshake<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) {
    io.write_all(&upgrade_request("13")).await.unwrap();
    let head = read_head(io).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(head.contains(ACCEPT), "{head}");
}

/// Reads exactly `n` bytes.
pub(crate) async fn read_n<S: AsyncRead + Unpin>(io: &mut S, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    io.read_exact(&mut buf).await.expect("enough bytes");
    buf
}

/// A payload that is easy to check and not all one byte.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}
