//! Replays the committed corpus of the `server_conns` fuzz target: every
//! file under `fuzz/corpus/server_conns/` goes through the function the
//! cargo-fuzz binary calls (the files of `fuzz/src/` are included here), so
//! `cargo test` checks the seeds and the regressions the fuzzer found
//! without a fuzzer or a nightly toolchain.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;

#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/http_wire.rs"]
mod http_wire;
#[allow(unreachable_pub, dead_code)]
#[path = "../../fuzz/src/server_conns.rs"]
mod server_conns;

#[test]
fn the_server_conns_corpus_replays_without_a_failure() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/server_conns");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(files.len() >= 10, "too few seeds in {}", dir.display());
    let mut failed = Vec::new();
    for path in &files {
        let data = fs::read(path).expect("a readable seed");
        if panic::catch_unwind(AssertUnwindSafe(|| server_conns::run(&data))).is_err() {
            failed.push(
                path.file_name()
                    .expect("a file")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    assert!(failed.is_empty(), "seeds failed: {failed:?}");
}
