//! The signals that ask a process to stop, on any runtime: SIGINT (Ctrl-C)
//! and SIGTERM (what `kill`, systemd and container runtimes send).
//!
//! They come through `async-signal`, which needs no particular executor
//! (its pipe is read by async-io's reactor), so one type serves tokio,
//! async-std and smol alike.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_signal::{Signal, Signals};
use futures_core::Stream as _;

/// A signal that asks the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StopSignal {
    /// SIGINT: Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM: `kill`, a service manager, a container runtime.
    Terminate,
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        })
    }
}

/// SIGINT and SIGTERM (on Windows, Ctrl-C), caught from [`new`](Self::new)
/// on: while this value lives they no longer end the process, and
/// [`recv`](Self::recv) returns each one as it comes.
///
/// Create it before telling the world the process is ready (a
/// "listening on" line a script waits for): a signal sent in between would
/// otherwise end the process the default way. Once it is dropped the
/// signals are ignored, not restored to their default (a limit of the
/// signal registry underneath), so keep it for as long as the process
/// runs.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let mut signals = adapter_core::StopSignals::new()?;
/// println!("ready; Ctrl-C to stop");
/// let signal = signals.recv().await?;
/// println!("{signal}: stopping");
/// # Ok(())
/// # }
/// ```
pub struct StopSignals {
    signals: Signals,
}

impl fmt::Debug for StopSignals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StopSignals").finish_non_exhaustive()
    }
}

/// What is caught: SIGTERM has no equivalent on Windows.
#[cfg(unix)]
const CAUGHT: [Signal; 2] = [Signal::Int, Signal::Term];
#[cfg(not(unix))]
const CAUGHT: [Signal; 1] = [Signal::Int];

impl StopSignals {
    /// Catches SIGINT and SIGTERM from now on.
    ///
    /// # Errors
    ///
    /// When the handlers cannot be installed (the operating system's
    /// error).
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            signals: Signals::new(CAUGHT)?,
        })
    }

    /// The next signal; each one sent is returned once, in order.
    ///
    /// # Errors
    ///
    /// When reading the signals' pipe fails (the operating system's
    /// error).
    pub async fn recv(&mut self) -> io::Result<StopSignal> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next signal; see [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<StopSignal>> {
        loop {
            return match Pin::new(&mut self.signals).poll_next(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Some(Ok(Signal::Int))) => Poll::Ready(Ok(StopSignal::Interrupt)),
                #[cfg(unix)]
                Poll::Ready(Some(Ok(Signal::Term))) => Poll::Ready(Ok(StopSignal::Terminate)),
                // Only those two are registered.
                Poll::Ready(Some(Ok(_))) => continue,
                Poll::Ready(Some(Err(e))) => Poll::Ready(Err(e)),
                Poll::Ready(None) => Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the signal stream ended",
                ))),
            };
        }
    }
}
