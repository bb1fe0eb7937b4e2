//! The uring_loop example, run as a child process: it echoes over SockJS
//! (websocket, xhr-streaming, xhr polling) and the raw
//! `/echo/websocket`, closes `/close` sessions with 3000, and lives
//! through clients that send garbage, stop halfway through a request or a
//! frame, or vanish.

#![cfg(all(target_os = "linux", feature = "tokio"))]
// The socket timeouts of the raw clients are the wall clock's.
#![allow(clippy::disallowed_methods)]

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, TcpStream};

use common::client::Client;
use common::{Example, LIMIT};
use sockway::tokio::sockjs::{self, ClientOptions, Transport};
use tokio::time::timeout;

/// Each kind of client gets its messages back.
async fn echoes(addr: &str) {
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let options = ClientOptions::default().transports([transport]);
        let mut client = Client::sockjs(&format!("http://{addr}/echo"), options).await;
        for text in ["hello", "Zoë ✓", &"x".repeat(100_000)] {
            client.say(text).await;
            client.hears(text).await;
        }
        client.close().await;
    }
    let mut raw = Client::websocket(addr, "/echo/websocket").await;
    raw.say("raw").await;
    raw.hears("raw").await;
    raw.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echoes_on_every_transport_and_closes_close_with_3000() {
    let (_server, addr) = Example::serve("uring_loop");
    echoes(&addr).await;

    let url = format!("http://{addr}/close");
    let options = ClientOptions::default().transports([Transport::Xhr]);
    let session = timeout(LIMIT, sockjs::connect_with(&url, options))
        .await
        .expect("the session opens in time")
        .expect("the session opens");
    let closed = timeout(LIMIT, session.closed())
        .await
        .expect("closed in time");
    assert_eq!(u16::from(closed.code), 3000, "{closed}");
    assert_eq!(closed.reason, "Go away!");
}

/// A raw TCP client, each read and write bounded by [`LIMIT`].
fn raw(addr: &str) -> TcpStream {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(LIMIT)).expect("a read timeout");
    tcp.set_write_timeout(Some(LIMIT)).expect("a write timeout");
    tcp
}

/// Reads until the server closes (or resets) the connection; what it
/// sent.
fn read_to_close(tcp: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        match tcp.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("reading until the close: {e}; so far {got:?}"),
        }
    }
}

/// Upgrades `tcp` to a WebSocket on the raw `/echo/websocket`.
fn upgrade(tcp: &mut TcpStream) {
    tcp.write_all(
        b"GET /echo/websocket HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
          Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          Sec-WebSocket-Version: 13\r\n\r\n",
    )
    .expect("the upgrade");
    let mut head = Vec::new();
    let mut byte = [0];
    while !head.ends_with(b"\r\n\r\n") {
        assert!(head.len() < 4096, "a response head: {head:?}");
        tcp.read_exact(&mut byte).expect("the response");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101 "), "{head:?}");
}

/// A masked text frame of `len` bytes of `x`, with its mask (zero).
fn text_frame(len: u16) -> Vec<u8> {
    let mut frame = vec![0x81, 0xfe]; // FIN, text; masked, a 16-bit length
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.extend(std::iter::repeat_n(b'x', usize::from(len)));
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lives_through_garbage_half_requests_and_vanishing_clients() {
    let (_server, addr) = Example::serve("uring_loop");
    let addr2 = addr.clone();
    tokio::task::spawn_blocking(move || {
        let addr = addr2.as_str();
        // Not HTTP: an error status, then the close.
        let mut tcp = raw(addr);
        tcp.write_all(b"hello, garbage\r\n\r\n").expect("a write");
        let answer = read_to_close(&mut tcp);
        assert!(answer.starts_with(b"HTTP/1.1 400 "), "{answer:?}");
        // Every byte value, then gone.
        let mut tcp = raw(addr);
        let garbage: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        tcp.write_all(&garbage).expect("a write");
        drop(tcp);

        // A head over every limit.
        let mut tcp = raw(addr);
        let _ = tcp.write_all(b"GET /echo/info HTTP/1.1\r\nX-Long: ");
        let _ = tcp.write_all(&vec![b'a'; 200_000]);
        let answer = read_to_close(&mut tcp);
        assert!(answer.starts_with(b"HTTP/1.1 4"), "{answer:?}");

        // Half a request, then gone; half a body, then gone.
        let mut tcp = raw(addr);
        tcp.write_all(b"GET /echo/info HTTP/1.1\r\nHost: loc")
            .expect("a write");
        drop(tcp);
        let mut tcp = raw(addr);
        tcp.write_all(
            b"POST /echo/000/aaaa/xhr_send HTTP/1.1\r\nHost: localhost\r\n\
              Content-Length: 100\r\n\r\n[\"hal",
        )
        .expect("a write");
        tcp.shutdown(Shutdown::Write).expect("a shutdown");
        drop(tcp);

        // Connected and gone at once.
        drop(raw(addr));

        // Half a frame, then gone: once with the write side shut first.
        for shut in [false, true] {
            let mut tcp = raw(addr);
            upgrade(&mut tcp);
            tcp.write_all(&text_frame(1000)[..500]).expect("a write");
            if shut {
                tcp.shutdown(Shutdown::Write).expect("a shutdown");
            }
            drop(tcp);
        }

        // A frame that breaks the protocol (unmasked): the close frame
        // (1002), then the end.
        let mut tcp = raw(addr);
        upgrade(&mut tcp);
        tcp.write_all(&[0x81, 0x02, b'h', b'i']).expect("a write");
        let answer = read_to_close(&mut tcp);
        assert_eq!(
            answer.get(..4),
            Some(&[0x88, 0x02, 0x03, 0xea][..]),
            "{answer:?}"
        );
    })
    .await
    .expect("the raw clients");

    // The server still serves.
    echoes(&addr).await;
}
