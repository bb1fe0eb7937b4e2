//! `sockway serve --tls-cert FILE --tls-key FILE`: https:// and wss:// on
//! every runtime, with a certificate made here; files that cannot be used,
//! and one flag without the other, are refused before it listens.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

mod common;

use adapter_core::{CloseCode, ConnectOptions, Message, TlsConnector};

/// The bound of every wait.
const LIMIT: Duration = Duration::from_secs(20);

/// A folder of files for one test, removed at the end.
struct Files(PathBuf);

impl Files {
    fn new() -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sockway-cli-tls-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        Self(dir)
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).expect("a file written");
        path
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// (CA, chain, key) in PEM: a CA and a certificate for 127.0.0.1 it
/// signed.
fn certificates() -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).expect("a CA");
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &ca)
        .expect("a certificate");
    (ca.pem(), cert.pem(), key.serialize_pem())
}

fn sockway(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sockway"));
    command
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("SOCKWAY_LOG", "warn")
        .stdin(Stdio::null());
    command
}

/// Runs `sockway serve` that is expected to exit at once.
fn refused(args: &[&str]) -> Output {
    let output = sockway(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("sockway runs");
    assert!(!output.status.success(), "{args:?}: {output:?}");
    assert!(output.stdout.is_empty(), "{args:?}: it listened");
    output
}

#[tokio::test]
async fn serves_wss_on_every_runtime() {
    let (ca, chain, key) = certificates();
    let files = Files::new();
    let cert = files.write("cert.pem", &chain);
    let key = files.write("key.pem", &key);
    let trust = TlsConnector::from_pem(&ca).expect("a connector");
    for runtime in ["tokio", "async-std", "smol"] {
        let (_server, line) = common::serve(&[
            "--runtime",
            runtime,
            "--tls-cert",
            cert.to_str().expect("a UTF-8 path"),
            "--tls-key",
            key.to_str().expect("a UTF-8 path"),
        ]);
        // listening on https://ADDR (WebSocket: wss://ADDR/ws)
        let (addr, ws_url) = line
            .trim()
            .strip_prefix("listening on https://")
            .and_then(|rest| rest.split_once(" (WebSocket: "))
            .and_then(|(addr, rest)| Some((addr, rest.strip_suffix(')')?)))
            .unwrap_or_else(|| panic!("{runtime}: the listening line, got {line:?}"));
        assert_eq!(ws_url, format!("wss://{addr}/ws"));
        let options = ConnectOptions::default().tls(trust.clone());
        let (mut ws, _) =
            tokio::time::timeout(LIMIT, adapter_tokio::connect_url_with(ws_url, options))
                .await
                .expect("in time")
                .unwrap_or_else(|e| panic!("{runtime}: {e}"));
        ws.send("over TLS").await.expect("sent");
        let echo = tokio::time::timeout(LIMIT, ws.recv())
            .await
            .expect("in time");
        assert_eq!(
            echo.expect("an echo").expect("clean"),
            Message::from("over TLS")
        );
        ws.close(CloseCode::NORMAL, "").await.expect("closed");
    }
}

#[test]
fn files_that_cannot_be_used_are_named() {
    let (_, chain, _) = certificates();
    let files = Files::new();
    let cert = files.write("cert.pem", &chain);
    let missing = files.0.join("missing-key.pem");
    let output = refused(&[
        "--tls-cert",
        cert.to_str().expect("UTF-8"),
        "--tls-key",
        missing.to_str().expect("UTF-8"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing-key.pem"), "{stderr}");
    // The chain given as the key.
    let output = refused(&[
        "--tls-cert",
        cert.to_str().expect("UTF-8"),
        "--tls-key",
        cert.to_str().expect("UTF-8"),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no private key in"), "{stderr}");
}

#[test]
fn one_flag_without_the_other_is_a_usage_error() {
    let output = refused(&["--tls-cert", "cert.pem"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--tls-key"), "{stderr}");
    let output = refused(&["--tls-key", "key.pem"]);
    assert_eq!(output.status.code(), Some(2));
    // TLS is the own listener's.
    let output = refused(&[
        "--stack",
        "axum",
        "--tls-cert",
        "cert.pem",
        "--tls-key",
        "key.pem",
    ]);
    assert_eq!(output.status.code(), Some(2));
}
