//! `sockway load` against `sockway serve` (and, ignored unless
//! `scripts/interop-client.sh` runs it, against sockjs-node) with small
//! numbers: every transport, every echo verified, the JSON report; and an
//! endpoint that does not echo, whose errors fail the run.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::Process;

mod common;
use std::time::Duration;

/// Starts `program` with `args` in `dir` and reads its `listening on
/// http://…` line: the process and its base URL.
fn start(program: &str, args: &[&str], dir: Option<PathBuf>) -> (Process, String) {
    let mut command = Command::new(program);
    command.args(args).env("SOCKWAY_LOG", "warn");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let (process, line) = common::start_with_line(&mut command);
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
        .to_owned();
    (process, base)
}

fn serve() -> (Process, String) {
    let (process, line) = common::serve(&[]);
    let base = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
        .to_owned();
    (process, base)
}

/// Runs `sockway load` with `args` (bounded in time); its exit code and
/// its JSON report.
fn load(args: &[&str]) -> (i32, serde_json::Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sockway"))
        .arg("load")
        .args(args)
        .args(["--json", "--connect-timeout", "10s"])
        .env("SOCKWAY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("sockway load starts");
    // At most 60 s: 3000 looks 20 ms apart.
    let mut status = None;
    for _ in 0..3000 {
        status = child.try_wait().expect("waits");
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("sockway load did not end within 60 s");
    };
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("piped"), &mut out)
        .expect("read");
    let report = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    (status.code().unwrap_or(-1), report)
}

/// 20 users × 50 messages over `transport` on `url`: all verified, no
/// error.
fn every_echo_verified(url: &str, transport: &str, label: &str) {
    let (code, report) = load(&[
        url,
        "--users",
        "20",
        "--transport",
        transport,
        "--messages",
        "50",
        "--size",
        "100",
    ]);
    assert_eq!(report["messages"], 1000, "{transport}: {report}");
    assert_eq!(report["errors"], 0, "{transport}: {report}");
    assert_eq!(report["opened"], 20);
    assert_eq!(report["transports"][label], 20, "{report}");
    for p in ["p50", "p90", "p99", "p99_9", "max"] {
        assert!(
            report["latency_us"][p].as_u64().is_some_and(|v| v > 0),
            "{p}: {report}"
        );
    }
    assert!(
        report["msgs_per_s"].as_f64().is_some_and(|v| v > 0.0),
        "{report}"
    );
    assert_eq!(code, 0);
}

#[test]
fn every_transport_against_sockway_serve() {
    let (_server, base) = serve();
    let url = format!("{base}/echo");
    every_echo_verified(&url, "websocket", "websocket");
    every_echo_verified(&url, "xhr-streaming", "xhr-streaming");
    every_echo_verified(&url, "xhr-polling", "xhr-polling");
    every_echo_verified(&url, "auto", "websocket");
}

#[test]
fn a_duration_run_counts_its_window() {
    let (_server, base) = serve();
    let url = format!("{base}/echo");
    let (code, report) = load(&[&url, "--users", "5", "--duration", "1s", "--rate", "50"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    // 5 users at 50/s for a second: about 250 echoes.
    let messages = report["messages"].as_u64().unwrap_or(0);
    assert!((150..=300).contains(&messages), "{report}");
}

#[test]
fn an_endpoint_that_does_not_echo_fails_the_run() {
    let (_server, base) = serve();
    // /amplify answers "x" repeated 2^n for a message n, never the message.
    let (code, report) = load(&[
        &format!("{base}/amplify"),
        "--users",
        "2",
        "--messages",
        "3",
    ]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["messages"], 0, "{report}");
    assert!(
        report["errors_by_kind"]["altered"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{report}"
    );
}

#[test]
#[ignore = "needs sockjs-node from npm: scripts/interop-client.sh"]
fn every_transport_against_sockjs_node() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop");
    let (_server, base) = start(
        "node",
        &["reference-server.js", "--listen", "127.0.0.1:0"],
        Some(dir),
    );
    let url = format!("{base}/echo");
    every_echo_verified(&url, "websocket", "websocket");
    every_echo_verified(&url, "xhr-streaming", "xhr-streaming");
    every_echo_verified(&url, "xhr-polling", "xhr-polling");
}
