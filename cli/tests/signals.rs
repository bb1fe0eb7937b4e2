//! `sockway serve` shuts down gracefully on SIGTERM and on SIGINT, on every
//! runtime: an open SockJS stream gets its close frame (1001), and the
//! process exits with status 0.

#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::Duration;

use common::Process;

mod common;

/// The bound of every wait.
const LIMIT: Duration = Duration::from_secs(20);

/// Starts `sockway serve` on a free port; returns it and its address.
fn start(runtime: &str) -> (Process, String) {
    let (server, line) = common::serve(&["--runtime", runtime]);
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
    // At most LIMIT, in 20 ms steps.
    let status = (0..LIMIT.as_millis() / 20)
        .find_map(|_| {
            let status = server.0.try_wait().expect("wait");
            if status.is_none() {
                std::thread::sleep(Duration::from_millis(20));
            }
            status
        })
        .unwrap_or_else(|| panic!("{runtime}, SIG{name}: still running after {LIMIT:?}"));
    assert!(
        status.success(),
        "{runtime}, SIG{name}: exited with {status}"
    );
}

#[test]
fn sigterm_shuts_down_gracefully_on_every_runtime() {
    for runtime in ["tokio", "async-std", "smol"] {
        shuts_down_gracefully_on(runtime, "TERM");
    }
}

#[test]
fn sigint_shuts_down_gracefully_on_every_runtime() {
    for runtime in ["tokio", "async-std", "smol"] {
        shuts_down_gracefully_on(runtime, "INT");
    }
}
