//! `sockway serve` shuts down gracefully on SIGTERM and on SIGINT, on every
//! runtime: an open SockJS stream gets its close frame (1001), and the
//! process exits with status 0; a second signal during the shutdown ends
//! it at once, with status 1.

#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use common::Process;

mod common;

/// The bound of every wait.
const LIMIT: Duration = Duration::from_secs(20);

/// Starts `sockway serve` on a free port; returns it and its address.
/// `runtime` is the runtime's name, then any further arguments.
fn start(runtime: &str) -> (Process, String) {
    let args: Vec<&str> = ["--runtime"]
        .into_iter()
        .chain(runtime.split_whitespace())
        .collect();
    let (server, line) = common::serve(&args);
    let addr = line
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
        .to_owned();
    (server, addr)
}

/// Opens an xhr_streaming session and reads up to its `o` frame.
fn open_stream(addr: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(LIMIT)).expect("a read timeout");
    write!(
        tcp,
        "POST /echo/000/sig/xhr_streaming HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("write");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !seen.ends_with(b"o\n\r\n") {
        let n = tcp.read(&mut buf).expect("the stream opens");
        assert!(n > 0, "the stream ended before its o frame");
        seen.extend_from_slice(&buf[..n]);
    }
    tcp
}

/// Sends `signal` (a name `kill` knows: TERM, INT) to `child`.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal}: {status}");
}

/// The process's exit status, within LIMIT (in 20 ms steps).
fn wait_exit(server: &mut Process, what: &str) -> ExitStatus {
    (0..LIMIT.as_millis() / 20)
        .find_map(|_| {
            let status = server.0.try_wait().expect("wait");
            if status.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            status
        })
        .unwrap_or_else(|| panic!("{what}: still running after {LIMIT:?}"))
}

fn shuts_down_gracefully_on(runtime: &str, name: &str) {
    let (mut server, addr) = start(runtime);
    let mut stream = open_stream(&addr);
    signal(&server.0, name);
    // The stream gets the close frame, then its end, then the connection
    // closes.
    let mut rest = String::new();
    stream
        .read_to_string(&mut rest)
        .expect("the rest of the stream");
    assert!(
        rest.contains("c[1001,\"Server shutting down\"]\n"),
        "{runtime}, SIG{name}: {rest:?}"
    );
    assert!(
        rest.ends_with("0\r\n\r\n"),
        "{runtime}, SIG{name}: {rest:?}"
    );
    let status = wait_exit(&mut server, &format!("{runtime}, SIG{name}"));
    assert!(
        status.success(),
        "{runtime}, SIG{name}: exited with {status}"
    );
}

#[test]
fn sigterm_shuts_down_gracefully_on_every_runtime() {
    // tokio's single-threaded runtime too.
    for runtime in ["tokio", "tokio --threads 1", "async-std", "smol"] {
        shuts_down_gracefully_on(runtime, "TERM");
    }
}

#[test]
fn sigint_shuts_down_gracefully_on_every_runtime() {
    for runtime in ["tokio", "async-std", "smol"] {
        shuts_down_gracefully_on(runtime, "INT");
    }
}

/// Opens a WebSocket on /ws and reads no further than the server's 101:
/// nothing answers the server's close, so the connection holds a shutdown
/// until the close times out (5 s).
fn silent_websocket(addr: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(LIMIT)).expect("a read timeout");
    write!(
        tcp,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("write");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tcp.read(&mut byte).expect("the upgrade's answer");
        assert!(n > 0, "the connection ended before the answer's end");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101 "),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

/// While a WebSocket that never answers the close holds the shutdown, a
/// second signal ends the process at once, with status 1.
fn a_second_signal_ends_the_shutdown_on(runtime: &str) {
    let (mut server, addr) = start(runtime);
    let mut stream = open_stream(&addr);
    let _silent = silent_websocket(&addr);
    signal(&server.0, "INT");
    // The stream's close frame says the first signal was taken (two sent at
    // once could arrive as one).
    let mut rest = String::new();
    stream
        .read_to_string(&mut rest)
        .expect("the rest of the stream");
    assert!(rest.contains("c[1001,"), "{runtime}: {rest:?}");
    signal(&server.0, "INT");
    let status = wait_exit(&mut server, runtime);
    assert_eq!(status.code(), Some(1), "{runtime}: {status}");
}

#[test]
fn a_second_signal_ends_the_shutdown_at_once_on_every_runtime() {
    for runtime in ["tokio", "async-std", "smol"] {
        a_second_signal_ends_the_shutdown_on(runtime);
    }
}
