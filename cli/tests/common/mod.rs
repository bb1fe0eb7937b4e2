//! What the command's tests share: a child process stopped by its PID, and
//! the first line it prints.

#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

/// A child process, killed and reaped when dropped (when the test is done
/// with it, or fails before).
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` with its stdout piped; returns it and the first line it
/// prints (a server's `listening on …`), trimmed.
pub fn start_with_line(command: &mut Command) -> (Process, String) {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the process starts");
    let stdout = child.stdout.take().expect("piped");
    let process = Process(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("a line on stdout");
    (process, line.trim().to_owned())
}

/// `sockway serve` on a free loopback port with `args`; the process and the
/// listening line.
pub fn serve(args: &[&str]) -> (Process, String) {
    start_with_line(
        Command::new(env!("CARGO_BIN_EXE_sockway"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("SOCKWAY_LOG", "warn"),
    )
}
