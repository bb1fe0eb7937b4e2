//! The reference SockJS server, sockjs-node 0.3.24
//! (`tests/interop/reference-server.js`), in a child process on loopback.
//! Its npm packages must be installed (`npm ci` in `tests/interop`, which
//! `scripts/interop-client.sh` runs).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running reference server; dropping it kills it (by its PID) and reaps
/// it.
#[derive(Debug)]
pub struct ReferenceServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl ReferenceServer {
    /// Starts it on a free loopback port; returns once it listens.
    ///
    /// # Panics
    ///
    /// When node or the packages are missing, or it does not listen within
    /// 20 s.
    pub fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop");
        assert!(
            dir.join("node_modules/sockjs").is_dir(),
            "tests/interop/node_modules is missing: run `npm ci` there (scripts/interop-client.sh does)"
        );
        let mut child = Command::new("node")
            .arg("reference-server.js")
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Killed by the drop of `server` if what follows panics.
        let mut server = Self {
            child,
            base: String::new(),
        };
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the reference server listens");
        line.strip_prefix("listening on ")
            .expect("the listening line")
            .clone_into(&mut server.base);
        server
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
