//! Replays the committed fuzz corpora of the sockjs-proto targets: every
//! file under `fuzz/corpus/<target>/` goes through the same function that
//! the cargo-fuzz binary of that target calls (the files of `fuzz/src/` are
//! included here), so `cargo test` checks the seeds and the regressions the
//! fuzzer found without a fuzzer or a nightly toolchain.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/sockjs_client.rs"]
mod sockjs_client;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/sockjs_client_input.rs"]
mod sockjs_client_input;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/sockjs_payload.rs"]
mod sockjs_payload;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/sockjs_requests.rs"]
mod sockjs_requests;

/// The seed files of `target`, sorted.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no seeds in {}", dir.display());
    files
}

/// Runs every seed of `target` through `run`; fails naming every seed that
/// panicked.
fn replay(target: &str, run: fn(&[u8])) {
    let mut failed = Vec::new();
    for path in seeds(target) {
        let data = fs::read(&path).expect("a readable seed");
        if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
            failed.push(
                path.file_name()
                    .expect("a file")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    assert!(failed.is_empty(), "{target}: seeds failed: {failed:?}");
}

#[test]
fn sockjs_client() {
    replay("sockjs_client", sockjs_client::run);
}

#[test]
fn sockjs_payload() {
    replay("sockjs_payload", sockjs_payload::run);
}

#[test]
fn sockjs_requests() {
    replay("sockjs_requests", sockjs_requests::run);
}
