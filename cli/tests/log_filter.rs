//! `sockway serve` takes its log filter from `SOCKWAY_LOG`: the library's
//! targets and the command's own are told apart by a filter, a refusal is
//! logged at debug with its status, and a directive that does not parse is
//! named on stderr while the others still apply.

#![cfg(unix)]

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::Process;

mod common;

/// The bound of every wait.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `sockway serve` with `SOCKWAY_LOG=filter`, asks it for a path with
/// no endpoint (a 404), stops it with SIGTERM and returns what it wrote on
/// stderr.
fn serve_log(filter: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockway"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SOCKWAY_LOG", filter)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the process starts");
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let server = Process(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut log = String::new();
        let _ = stderr.read_to_string(&mut log);
        let _ = tx.send(log);
    });
    // `listening on http://ADDR`, then nothing more on stdout.
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        assert_eq!(
            stdout.read(&mut byte).expect("stdout"),
            1,
            "no listening line"
        );
        line.push(byte[0]);
    }
    let line = String::from_utf8(line).expect("UTF-8");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"));

    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(LIMIT)).expect("a read timeout");
    write!(
        tcp,
        "GET /nothing HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut response = String::new();
    tcp.read_to_string(&mut response).expect("the response");
    assert!(response.starts_with("HTTP/1.1 404"), "{response:?}");

    let status = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -TERM: {status}");
    // stderr ends when the process exits.
    rx.recv_timeout(LIMIT).expect("the server exits on SIGTERM")
}

/// The lines of `log` whose target is `target` exactly.
fn lines_of<'a>(log: &'a str, target: &str) -> Vec<&'a str> {
    let target = format!(" {target}: ");
    log.lines().filter(|l| l.contains(&target)).collect()
}

#[test]
fn the_command_and_the_library_are_filtered_apart() {
    let log = serve_log("warn,sockway::command::serve=info");
    assert!(
        lines_of(&log, "sockway::command::serve")
            .iter()
            .any(|l| l.contains("INFO") && l.contains("stopped")),
        "{log}"
    );
    assert!(!log.contains("sockway::server"), "{log}");
}

#[test]
fn a_refusal_is_logged_at_debug_with_its_status() {
    let log = serve_log("info,sockway::server=debug");
    let server = lines_of(&log, "sockway::server");
    assert!(
        server
            .iter()
            .any(|l| l.contains("DEBUG")
                && l.contains("refused status=404 method=GET path=/nothing")),
        "{log}"
    );
    assert!(
        server
            .iter()
            .any(|l| l.contains("INFO") && l.contains("listening")),
        "{log}"
    );
    assert!(
        !lines_of(&log, "sockway::command::serve").is_empty(),
        "{log}"
    );
}

#[test]
fn a_directive_that_does_not_parse_is_named_and_the_others_kept() {
    let log = serve_log("warn,sockway::server=dbug,sockway::command::serve=info");
    assert!(log.contains("ignoring `sockway::server=dbug`"), "{log}");
    assert!(!log.contains("sockway::server:"), "{log}");
    assert!(
        lines_of(&log, "sockway::command::serve")
            .iter()
            .any(|l| l.contains("stopped")),
        "{log}"
    );
}
