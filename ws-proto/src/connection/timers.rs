//! WebSocket time: the liveness check (a ping after a silent interval, the
//! connection failed when nothing answers it) and the close timeout, as
//! deadlines that [`Connection::handle_timeout`] acts on.
//!
//! The connection reads no clock. It keeps the latest `now` it was given;
//! a command or an input that queues a close frame (they take no `now`)
//! marks the close timer *to start*, and [`Connection::poll_timeout`] then
//! answers that latest `now`, already past, so that the driver calls
//! `handle_timeout` at once and the timer starts at a fresh `now`.
//!
//! | timer | starts | moved by | ends the connection with |
//! | --- | --- | --- | --- |
//! | liveness check | the first `handle_timeout`, if `ping_interval` is set | each check: `ping_interval` (or `pong_timeout` after a ping) later | [`Timeout::Pong`] |
//! | close timeout | the first `handle_timeout` after a close frame was queued | nothing | [`Timeout::Close`] (an error only if the peer's close frame never came) |

use std::fmt;
use std::time::Instant;

use bytes::BytesMut;

use super::{CloseState, Connection};
use crate::error::ProtocolError;
use crate::frame::OpCode;
use crate::outgoing::{Outgoing, Payload};

/// Which of a connection's timers ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Timeout {
    /// Nothing at all came from the peer within
    /// [`WebSocketConfig::pong_timeout`](crate::WebSocketConfig::pong_timeout)
    /// after a liveness ping: the peer is taken for dead. Nothing more is
    /// sent (queued output is dropped); close the transport at once. Reported
    /// with code 1006, which never goes on the wire.
    Pong,
    /// The close handshake did not finish within
    /// [`WebSocketConfig::close_timeout`](crate::WebSocketConfig::close_timeout)
    /// after this end queued its close frame. Close the transport at once
    /// (queued output is dropped). It is a [`ProtocolError::Timeout`] only if
    /// the peer's close frame never came; after it, the connection was only
    /// waiting for the transport to end.
    Close,
}

impl fmt::Display for Timeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pong => "no answer to a liveness ping within the pong timeout",
            Self::Close => "the close handshake did not finish within the close timeout",
        })
    }
}

/// The close timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum CloseTimer {
    /// No close frame queued by this end.
    #[default]
    Off,
    /// A close frame was queued: the timer starts at the next
    /// `handle_timeout`.
    ToStart,
    /// It runs out at this instant.
    At(Instant),
}

/// The liveness check: sampled at its deadline, never per byte, so input
/// needs no `now` and costs nothing but a counter.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Liveness {
    /// The next check, once started (and while the connection is open).
    at: Option<Instant>,
    /// A liveness ping went out and nothing was received since.
    pinged: bool,
    /// Bytes received at the last check.
    seen: u64,
    /// Reading was paused at some moment since the last check.
    paused: bool,
}

/// The state the connection keeps for time.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Clock {
    /// The latest `now` handed to `handle_timeout`.
    pub(super) now: Option<Instant>,
    pub(super) close: CloseTimer,
    pub(super) liveness: Liveness,
    /// The embedder does not read the transport now.
    pub(super) reading_paused: bool,
    /// The timer that ended the connection, if one did.
    pub(super) timed_out: Option<Timeout>,
}

impl Connection {
    /// When [`handle_timeout`](Self::handle_timeout) next has work: exactly
    /// the instant at which it makes progress (a liveness check, the close
    /// timeout), or the latest `now` it was given when a timer waits to
    /// start (due at once). `None`: no timer runs (none is configured, the
    /// connection is over, or `handle_timeout` was never called).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let now = self.clock.now?;
        if self.clock.timed_out.is_some() || (self.close == CloseState::Closed && self.eof) {
            return None;
        }
        let close = match self.clock.close {
            CloseTimer::Off => None,
            CloseTimer::ToStart => return Some(now),
            CloseTimer::At(at) => Some(at),
        };
        let liveness = self
            .clock
            .liveness
            .at
            .filter(|_| self.close == CloseState::Open);
        match (close, liveness) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Does the work due at `now`: starts the timers that wait to start,
    /// runs the liveness check (a ping, or the failure of a dead peer) and
    /// the close timeout. Before the deadline [`poll_timeout`](Self::poll_timeout)
    /// names, and again at the same instant, it does nothing. Call it once
    /// when the connection starts, then whenever `poll_timeout` passes, and
    /// drain [`poll_event`](Self::poll_event) and
    /// [`poll_transmit`](Self::poll_transmit) after it.
    pub fn handle_timeout(&mut self, now: Instant) {
        let first = self.clock.now.is_none();
        let now = self.clock.now.map_or(now, |latest| latest.max(now));
        self.clock.now = Some(now);
        if self.clock.timed_out.is_some() {
            return;
        }
        if first && self.close == CloseState::Open {
            if let Some(interval) = self.config.ping_interval {
                let received = self.received();
                let paused = self.clock.reading_paused;
                self.clock.liveness = Liveness {
                    at: Some(now + interval),
                    pinged: false,
                    seen: received,
                    paused,
                };
            }
        }
        match self.clock.close {
            CloseTimer::Off => {}
            CloseTimer::ToStart => {
                self.clock.close = CloseTimer::At(now + self.config.close_timeout);
            }
            CloseTimer::At(at) => {
                if now >= at {
                    self.expire(Timeout::Close);
                    return;
                }
            }
        }
        if self.close == CloseState::Open && self.clock.liveness.at.is_some_and(|at| now >= at) {
            self.check_liveness(now);
        }
    }

    /// Tells the liveness check whether the embedder stopped reading the
    /// transport (its application is behind: backpressure). Bytes the peer
    /// sends meanwhile wait in the transport, unseen, so a check interval
    /// during which reading was paused at any moment counts as alive: no
    /// ping goes out and the connection is not failed for it. A full input
    /// buffer ([`receive_capacity`](Self::receive_capacity) zero) counts the
    /// same without a call. Cheap: call it whenever reading stops or
    /// resumes.
    pub fn set_reading_paused(&mut self, paused: bool) {
        self.clock.reading_paused = paused;
        if paused {
            self.clock.liveness.paused = true;
        }
    }

    /// Whether the embedder said it stopped reading; see
    /// [`set_reading_paused`](Self::set_reading_paused).
    pub fn is_reading_paused(&self) -> bool {
        self.clock.reading_paused
    }

    /// The timer that ended the connection, if one did: close the transport
    /// at once, without waiting for writes or for the peer's end of file.
    pub fn timed_out(&self) -> Option<Timeout> {
        self.clock.timed_out
    }

    /// A close frame from this end was queued: the close timeout starts at
    /// the next `handle_timeout` (once: a later close frame, such as the
    /// one of a protocol error after a `close`, does not move it).
    pub(super) fn close_queued(&mut self) {
        if self.clock.close == CloseTimer::Off {
            self.clock.close = CloseTimer::ToStart;
        }
    }

    /// The check at the liveness deadline.
    fn check_liveness(&mut self, now: Instant) {
        let received = self.received();
        let full = self.receive_capacity() == 0;
        let live = &mut self.clock.liveness;
        let alive = received != live.seen || live.paused || full;
        if alive {
            live.pinged = false;
            live.seen = received;
            live.paused = self.clock.reading_paused;
            live.at = self.config.ping_interval.map(|interval| now + interval);
        } else if !live.pinged {
            live.pinged = true;
            live.at = Some(now + self.config.pong_timeout);
            self.write_frame(OpCode::Ping, true, Payload::Borrowed(&[]));
        } else {
            self.expire(Timeout::Pong);
        }
    }

    /// A timer ended the connection: nothing more is read or sent. If the
    /// close handshake had not finished, the next `poll_event` reports it.
    fn expire(&mut self, timeout: Timeout) {
        if self.close != CloseState::Closed {
            self.pending_error = Some(ProtocolError::Timeout(timeout));
        }
        self.clock.timed_out = Some(timeout);
        self.clock.liveness.at = None;
        self.close = CloseState::Closed;
        self.input_done = true;
        self.frame = None;
        self.assembly = None;
        self.input = BytesMut::new();
        self.out = Outgoing::default();
        self.pending_pong = None;
    }
}
