//! The runtime's clock and timers as plain function pointers ([`Clock`]),
//! and the one timer a driver arms at a connection's `poll_timeout`
//! ([`ConnTimer`]).

use std::fmt;
use std::task::{Context, Poll};
use std::time::Instant;

use ws_proto::Connection;

use crate::runtime::{Runtime, Task};

/// A runtime's clock and timer, for a [`WebSocketStream`](crate::WebSocketStream)
/// that is not generic over the runtime.
#[derive(Clone, Copy)]
pub struct Clock {
    /// The current time (a runtime with a test clock pauses it).
    pub now: fn() -> Instant,
    /// A timer that completes at the deadline.
    pub sleep_until: fn(Instant) -> Task,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock").finish_non_exhaustive()
    }
}

impl Clock {
    /// The clock and timers of the runtime `R`.
    pub fn of<R: Runtime>() -> Self {
        Self {
            now: R::now,
            sleep_until: sleep_until::<R>,
        }
    }
}

fn sleep_until<R: Runtime>(deadline: Instant) -> Task {
    Box::pin(R::sleep_until(deadline))
}

/// The one timer of a connection: armed at its `poll_timeout`, re-armed when
/// that moves, and when it fires, `handle_timeout` with the runtime's now.
#[derive(Default)]
pub(crate) struct ConnTimer {
    armed: Option<(Instant, Task)>,
}

impl ConnTimer {
    /// Polls the timer: `Ready` once `handle_timeout` ran (drain the
    /// connection, then poll again to re-arm), `Pending` with the waker
    /// registered for the next deadline, or with none to wait for.
    pub(crate) fn poll(
        &mut self,
        conn: &mut Connection,
        clock: Clock,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        loop {
            let Some(at) = conn.poll_timeout() else {
                self.armed = None;
                return Poll::Pending;
            };
            match &mut self.armed {
                Some((armed_at, sleep)) if *armed_at == at => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    self.armed = None;
                    conn.handle_timeout((clock.now)());
                    return Poll::Ready(());
                }
                _ => self.armed = Some((at, (clock.sleep_until)(at))),
            }
        }
    }
}
