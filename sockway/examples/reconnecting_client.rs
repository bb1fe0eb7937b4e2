//! A SockJS client that reconnects. It sends each line typed on stdin to a
//! SockJS echo endpoint and prints what comes back. When the session ends
//! abnormally (the server went away, the network broke) it reconnects
//! after a backoff: doubling from 100 ms up to 10 s, with jitter so that
//! many clients do not all come back at the same instant, and back to
//! 100 ms once a session opened. It stops on a clean close from the
//! server, at the end of stdin, or on Ctrl-C.
//!
//! ```text
//! cargo run -p sockway --example graceful_shutdown            # a server
//! cargo run -p sockway --example reconnecting_client -- http://127.0.0.1:8080/echo
//! ```
//!
//! Type lines, then stop the server (Ctrl-C) and start it again: the
//! client says so and carries on. It prints one line per event:
//!
//! ```text
//! connected over websocket
//! < hello
//! closed: 1001 Server shutting down
//! reconnecting in 74 ms (attempt 1)
//! connect failed: 1002 /info failed: ...
//! reconnecting in 181 ms (attempt 2)
//! connected over websocket
//! ```

#![allow(clippy::print_stdout)]

use std::time::Duration;

use futures_util::StreamExt as _;
use sockway::tokio::sockjs::{self, ClientOptions, ClientSession, Closed};
use sockway::{Error, Message, StopSignals};
use tokio::sync::mpsc;

/// The first wait before reconnecting.
const FIRST_DELAY: Duration = Duration::from_millis(100);
/// The longest wait: the backoff doubles up to it.
const MAX_DELAY: Duration = Duration::from_secs(10);

/// Exponential backoff with jitter: attempt n waits between half and all
/// of `FIRST_DELAY * 2^(n-1)` (at most `MAX_DELAY`), at random.
#[derive(Default)]
struct Backoff {
    attempt: u32,
}

impl Backoff {
    /// The wait before the next attempt.
    fn next_delay(&mut self) -> Duration {
        self.attempt += 1;
        let bound = FIRST_DELAY
            .saturating_mul(1 << (self.attempt - 1).min(16))
            .min(MAX_DELAY);
        bound / 2 + bound.mul_f64(fastrand::f64() / 2.0)
    }

    /// A session opened: the next failure starts over from `FIRST_DELAY`.
    fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// How a session ended.
enum End {
    /// Stop: a clean close, the end of stdin, or Ctrl-C.
    Stop,
    /// Reconnect.
    Lost(Closed),
}

/// Runs one open session: lines from stdin go out, messages are printed.
async fn run(
    mut session: ClientSession,
    lines: &mut mpsc::Receiver<String>,
    signals: &mut StopSignals,
) -> End {
    loop {
        tokio::select! {
            message = session.next() => match message {
                Some(Message::Text(text)) => println!("< {text}"),
                Some(Message::Binary(_)) => {} // SockJS carries text only
                None => {
                    let closed = session.closed().await;
                    if closed.was_clean {
                        // 1000, or 3000-4999: the server meant it.
                        println!("closed cleanly: {closed}");
                        return End::Stop;
                    }
                    return End::Lost(closed);
                }
            },
            line = lines.recv() => {
                let Some(line) = line else {
                    // The end of stdin: close cleanly and wait for the end.
                    let _ = session.close(1000, "done");
                    session.closed().await;
                    return End::Stop;
                };
                // Queued for the server; a line sent just before the
                // session breaks may never arrive (an application that
                // cannot lose one numbers them and has them acknowledged).
                let _ = session.send_async(line).await;
            }
            _ = signals.recv() => {
                let _ = session.close(1000, "interrupted");
                session.closed().await;
                return End::Stop;
            }
        }
    }
}

/// The lines of stdin, read on a thread of their own: a read of stdin
/// cannot be cancelled, and tokio's own `stdin()` would keep the runtime
/// from ending until the next line came.
fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:8080/echo".to_owned());
    let options = ClientOptions::default().connect_timeout(Some(Duration::from_secs(10)));
    // Ctrl-C is caught from here on (and SIGTERM).
    let mut signals = StopSignals::new()?;
    let mut lines = stdin_lines();
    let mut backoff = Backoff::default();
    loop {
        let connected = tokio::select! {
            connected = sockjs::connect_with(&url, options.clone()) => connected,
            _ = signals.recv() => break,
        };
        match connected {
            Ok(session) => {
                backoff.reset();
                println!("connected over {}", session.transport().name());
                match run(session, &mut lines, &mut signals).await {
                    End::Stop => break,
                    End::Lost(closed) => println!("closed: {closed}"),
                }
            }
            // The server could not be reached, or refused every transport.
            Err(Error::SockJs(closed)) => println!("connect failed: {closed}"),
            // A bad URL or options: trying again cannot help.
            Err(e) => return Err(e.into()),
        }
        let delay = backoff.next_delay();
        println!(
            "reconnecting in {} ms (attempt {})",
            delay.as_millis(),
            backoff.attempt
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = signals.recv() => break,
        }
    }
    println!("stopped");
    Ok(())
}
