//! Raw WebSocket peers for the tests of the adapters' streams: handshakes,
//! frames and heads written and read by hand, over tokio's I/O traits
//! (which every [`Adapter::Pipe`](crate::adapter::Adapter::Pipe)
//! implements).

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adapter_core::ws_proto::frame::{FrameHeader, OpCode};
use adapter_core::ws_proto::mask::apply_mask;
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// Every test step is bounded by this: a hang fails the test, never the run.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Awaits `f`, failing the test if it takes longer than [`LIMIT`].
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("the step did not finish in time")
}

/// The key of RFC 6455 §1.3.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// (`Sec-WebSocket-Key`, `Sec-WebSocket-Accept`) pairs computed by another
/// implementation (Python's `hashlib` and `base64`): the lines of
/// `ws-proto/tests/accept_key_vectors.txt`.
pub fn accept_vectors() -> Vec<(&'static str, &'static str)> {
    include_str!("../../ws-proto/tests/accept_key_vectors.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once(' ').expect("a key and its accept value"))
        .collect()
}

/// `Sec-WebSocket-Accept` for `key` (RFC 6455 §4.2.2), computed here with
/// the `sha1` and `base64` crates, not by ws-proto's `accept_key` (which is
/// what the tests check).
pub fn independent_accept(key: &str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let mut sha1 = sha1::Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha1.finalize())
}

/// A valid upgrade request with `version` as `Sec-WebSocket-Version`.
pub fn upgrade_request(version: &str) -> Vec<u8> {
    upgrade_request_with_key(version, KEY)
}

/// A valid upgrade request with `version` and `key`.
pub fn upgrade_request_with_key(version: &str, key: &str) -> Vec<u8> {
    format!(
        "GET /chat HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n\
         Sec-WebSocket-Version: {version}\r\n\r\n"
    )
    .into_bytes()
}

/// A frame as a client sends it: masked with a fixed key.
pub fn client_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
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
pub fn server_frame(opcode: OpCode, fin: bool, payload: &[u8]) -> Vec<u8> {
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
pub async fn read_head<S: AsyncRead + Unpin>(io: &mut S) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = io.read_u8().await.expect("a complete head");
        head.push(byte);
    }
    String::from_utf8(head).expect("an ASCII head")
}

/// A raw client: sends the upgrade request and reads the 101 answer, whose
/// `Sec-WebSocket-Accept` must be the independent value for the key (each
/// call takes the next pair of [`accept_vectors`]).
pub async fn raw_client_handshake<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let vectors = accept_vectors();
    let (key, accept) = vectors[NEXT.fetch_add(1, Ordering::Relaxed) % vectors.len()];
    io.write_all(&upgrade_request_with_key("13", key))
        .await
        .unwrap();
    let head = read_head(io).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    let answered: Vec<_> = head
        .lines()
        .filter_map(|l| l.strip_prefix("Sec-WebSocket-Accept: "))
        .collect();
    assert_eq!(answered, [accept], "the accept value for {key}: {head}");
}

/// A raw server: reads the client's upgrade request and answers 101, with
/// the accept value computed by [`independent_accept`].
pub async fn raw_server_handshake<S: AsyncRead + AsyncWrite + Unpin>(io: &mut S) {
    let head = read_head(io).await;
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .expect("a key");
    let accept = independent_accept(key);
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    io.write_all(answer.as_bytes()).await.unwrap();
}

/// Reads exactly `n` bytes.
pub async fn read_n<S: AsyncRead + Unpin>(io: &mut S, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    io.read_exact(&mut buf).await.expect("enough bytes");
    buf
}

/// Reads one unmasked frame from a server: (the first byte, the payload).
pub async fn read_server_frame<S: AsyncRead + Unpin>(io: &mut S) -> (u8, Vec<u8>) {
    let head = read_n(io, 2).await;
    assert_eq!(head[1] & 0x80, 0, "a server frame is not masked");
    let len = match head[1] & 0x7f {
        126 => usize::from(io.read_u16().await.unwrap()),
        127 => usize::try_from(io.read_u64().await.unwrap()).unwrap(),
        n => usize::from(n),
    };
    (head[0], read_n(io, len).await)
}

/// A payload that is easy to check and not all one byte.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}
