//! Replays the committed fuzz corpus: every file under
//! `fuzz/corpus/<target>/` goes through the same function that the
//! cargo-fuzz binary of that target calls (the files of `fuzz/src/` are
//! included here), so `cargo test` checks the seeds and the regressions the
//! fuzzer found without a fuzzer or a nightly toolchain.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[allow(unreachable_pub)]
#[path = "../../fuzz/src/common.rs"]
mod common;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/frames.rs"]
mod frames;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/handshake.rs"]
mod handshake;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/model.rs"]
mod model;
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/pair.rs"]
mod pair;

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
fn ws_frames_server() {
    replay("ws_frames_server", frames::run_server);
}

#[test]
fn ws_frames_client() {
    replay("ws_frames_client", frames::run_client);
}

#[test]
fn ws_server_handshake() {
    replay("ws_server_handshake", handshake::run_server);
}

#[test]
fn ws_client_handshake() {
    replay("ws_client_handshake", handshake::run_client);
}

#[test]
fn ws_pair_ops() {
    replay("ws_pair_ops", pair::run);
}
