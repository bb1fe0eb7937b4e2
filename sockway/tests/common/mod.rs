//! What the examples' tests share: an example's binary run as a child
//! process (stopped by its PID when the test is done with it, or fails),
//! its stdout read line by line with a time limit, and signals sent to it.
//!
//! `cargo test` builds the examples next to the test binaries
//! (`target/<profile>/examples/<name>`); a run filtered to one test target
//! (`--test NAME`) does not, so build them first (`cargo build --examples`
//! with the same features).

#![allow(dead_code, unreachable_pub)]
// The time limits of the waits are the wall clock's.
#![allow(clippy::disallowed_methods)]

#[cfg(feature = "tokio")]
pub mod client;

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// The bound of every wait in these tests.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The example `name`'s binary, built by `cargo test` next to this test's.
pub fn example_path(name: &str) -> PathBuf {
    let test = std::env::current_exe().expect("the test's path");
    // target/<profile>/deps/<test> -> target/<profile>/examples/<name>
    let profile = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let path = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let build = "run `cargo test -p sockway` with the example's features (it builds \
                 the examples), or `cargo build -p sockway --examples` first";
    let built = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| panic!("{} is not built: {build}", path.display()));
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    let edited = std::fs::metadata(&source)
        .and_then(|m| m.modified())
        .expect("the example's source");
    assert!(
        edited <= built,
        "{} is older than {}: {build}",
        path.display(),
        source.display()
    );
    path
}

/// An example running as a child process, killed and reaped when dropped.
pub struct Example {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Example {
    /// Starts the example `name` with `args`, stdin and stdout piped.
    pub fn start(name: &str, args: &[&str]) -> Self {
        let mut child = Command::new(example_path(name))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let stdout = child.stdout.take().expect("piped");
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        // Ends at the child's end of stdout.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Starts a server example on a free loopback port; returns it and the
    /// address from its `listening on http://ADDR` line.
    pub fn serve(name: &str) -> (Self, String) {
        Self::serve_with(name, &[])
    }

    /// As [`serve`](Self::serve), with `args` after the address.
    pub fn serve_with(name: &str, args: &[&str]) -> (Self, String) {
        let args: Vec<&str> = ["127.0.0.1:0"].iter().chain(args).copied().collect();
        let mut example = Self::start(name, &args);
        let line = example.line_where(|l| l.starts_with("listening on "));
        let addr = line
            .strip_prefix("listening on http://")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("not an address: {line:?}"))
            .to_owned();
        (example, addr)
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line printed, within [`LIMIT`].
    pub fn next_line(&mut self) -> String {
        match self.lines.recv_timeout(LIMIT) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(RecvTimeoutError::Timeout) => {
                panic!("no line within {LIMIT:?}; so far: {:#?}", self.seen)
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("stdout ended; so far: {:#?}", self.seen)
            }
        }
    }

    /// Reads lines until one that `wanted` accepts, within [`LIMIT`] in all;
    /// returns it.
    pub fn line_where(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + LIMIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(e) => panic!("no such line ({e:?}); so far: {:#?}", self.seen),
            }
        }
    }

    /// Every line read so far.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// Writes `line` and a newline to its stdin.
    pub fn write_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").expect("write to stdin");
        stdin.flush().expect("flush stdin");
    }

    /// Closes its stdin (the end of its input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Sends `signal` (a name `kill` knows: INT, TERM) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([format!("-{signal}"), self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}: {status}");
    }

    /// Waits for the process to exit, at most `limit` (in 20 ms steps).
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                Instant::now() < end,
                "still running after {limit:?}; printed: {:#?}",
                self.seen
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
