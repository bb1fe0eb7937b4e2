//! Deadlines in a binary heap, with an exact `poll_timeout`: one heap for
//! the sessions, one for the WebSocket receivers' connections.
//!
//! Every session has at most one deadline at a time (its next heartbeat, or
//! its expiry), and so does every WebSocket connection (its `poll_timeout`:
//! a liveness check or the close timeout). Moving a deadline later costs
//! nothing: the heap keeps the earlier entry, which is re-armed at the real
//! deadline when it reaches the top. Moving it earlier pushes a new entry;
//! the old one is recognised as stale when it reaches the top. Each change
//! is O(log n), and the heap top, once cleaned, is exactly the next
//! deadline of some session (or connection): no scan, ever.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::slab::Key;

/// A session's (or a receiver's) side of the bookkeeping.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Deadline {
    /// When the session next needs attention.
    at: Option<Instant>,
    /// The deadline of the session's live heap entry, if any.
    armed: Option<Instant>,
}

/// Where the timers find the deadline records of live sessions (or
/// receivers).
pub(crate) trait DeadlineStore {
    /// The record of `key`, or `None` if it is gone.
    fn deadline_mut(&mut self, key: Key) -> Option<&mut Deadline>;
}

/// The earlier of two deadlines, either of which may be absent.
pub(crate) fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Key)>>,
    /// The earliest entry pushed since [`take_pushed`](Self::take_pushed)
    /// last ran: the only way the next deadline can move earlier.
    pushed: Option<Instant>,
}

impl Timers {
    /// Sets (or clears, with `None`) a session's deadline.
    pub(crate) fn set(&mut self, key: Key, deadline: &mut Deadline, at: Option<Instant>) {
        deadline.at = at;
        if let Some(at) = at {
            if deadline.armed.is_none_or(|armed| at < armed) {
                self.heap.push(Reverse((at, key)));
                deadline.armed = Some(at);
                self.pushed = Some(self.pushed.map_or(at, |p| p.min(at)));
            }
        }
    }

    /// The earliest deadline of any live session.
    pub(crate) fn next(&mut self, store: &mut impl DeadlineStore) -> Option<Instant> {
        loop {
            let Reverse((at, key)) = *self.heap.peek()?;
            let Some(d) = store.deadline_mut(key) else {
                self.heap.pop();
                continue;
            };
            if d.armed != Some(at) {
                // An entry superseded by an earlier one.
                self.heap.pop();
                continue;
            }
            match d.at {
                Some(real) if real == at => return Some(at),
                Some(real) => {
                    // The deadline moved later: re-arm there.
                    self.heap.pop();
                    self.heap.push(Reverse((real, key)));
                    d.armed = Some(real);
                }
                None => {
                    self.heap.pop();
                    d.armed = None;
                }
            }
        }
    }

    /// Takes the next session whose deadline is at or before `now`, clearing
    /// that deadline (the caller sets the next one).
    pub(crate) fn pop_due(&mut self, now: Instant, store: &mut impl DeadlineStore) -> Option<Key> {
        if self.next(store)? > now {
            return None;
        }
        let Reverse((_, key)) = self.heap.pop()?;
        if let Some(d) = store.deadline_mut(key) {
            *d = Deadline::default();
        }
        Some(key)
    }

    /// The earliest deadline set since the last call that was earlier than
    /// its session's entry in the heap (a new entry), if any. A deadline
    /// moved later is not one: its old entry surfaces first, where
    /// [`next`](Self::next) re-arms it.
    pub(crate) fn take_pushed(&mut self) -> Option<Instant> {
        self.pushed.take()
    }

    /// Heap entries, live and stale (for tests and benchmarks).
    pub(crate) fn entries(&self) -> usize {
        self.heap.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slab::Slab;
    use std::time::Duration;

    impl DeadlineStore for Slab<Deadline> {
        fn deadline_mut(&mut self, key: Key) -> Option<&mut Deadline> {
            self.get_mut(key)
        }
    }

    /// Two sessions without a deadline, empty timers, and `s(n)`: `n`
    /// seconds after a base instant.
    #[allow(clippy::disallowed_methods)] // a base instant; time then moves by hand
    fn two_sessions() -> (impl Fn(u64) -> Instant, Slab<Deadline>, Timers, Key, Key) {
        let t0 = Instant::now();
        let mut store = Slab::default();
        let a = store.insert(Deadline::default());
        let b = store.insert(Deadline::default());
        let s = move |n| t0 + Duration::from_secs(n);
        (s, store, Timers::default(), a, b)
    }

    #[test]
    fn next_is_exact_after_moves_in_both_directions() {
        let (s, mut store, mut timers, a, b) = two_sessions();
        timers.set(a, store.get_mut(a).unwrap(), Some(s(10)));
        timers.set(b, store.get_mut(b).unwrap(), Some(s(20)));
        assert_eq!(timers.next(&mut store), Some(s(10)));
        // Later: the entry at 10 is re-armed at 30 when it surfaces.
        timers.set(a, store.get_mut(a).unwrap(), Some(s(30)));
        assert_eq!(timers.next(&mut store), Some(s(20)));
        // Earlier: a new entry.
        timers.set(b, store.get_mut(b).unwrap(), Some(s(5)));
        assert_eq!(timers.next(&mut store), Some(s(5)));
        assert_eq!(timers.pop_due(s(4), &mut store), None);
        assert_eq!(timers.pop_due(s(5), &mut store), Some(b));
        assert_eq!(timers.pop_due(s(5), &mut store), None);
        // b's stale entry at 20 must not fire.
        assert_eq!(timers.next(&mut store), Some(s(30)));
        assert_eq!(timers.pop_due(s(29), &mut store), None);
        // A removed session's entry is dropped.
        store.remove(a);
        timers.take_pushed();
        assert_eq!(timers.next(&mut store), None);
        assert_eq!(timers.entries(), 0);
    }

    #[test]
    fn a_deadline_moved_earlier_comes_before_another_sessions() {
        let (s, mut store, mut timers, a, b) = two_sessions();
        timers.set(a, store.get_mut(a).unwrap(), Some(s(10)));
        timers.set(b, store.get_mut(b).unwrap(), Some(s(20)));
        // The same deadline again adds no entry.
        timers.set(b, store.get_mut(b).unwrap(), Some(s(20)));
        assert_eq!(timers.entries(), 2);
        // b moves before a, whose entry is on top of its old one.
        timers.set(b, store.get_mut(b).unwrap(), Some(s(5)));
        assert_eq!(timers.entries(), 3);
        assert_eq!(timers.next(&mut store), Some(s(5)));
        assert_eq!(timers.pop_due(s(5), &mut store), Some(b));
        assert_eq!(timers.next(&mut store), Some(s(10)));
        assert_eq!(timers.pop_due(s(10), &mut store), Some(a));
        assert_eq!(timers.next(&mut store), None);
    }

    #[test]
    fn only_a_new_entry_is_reported_and_only_once() {
        let (s, mut store, mut timers, a, b) = two_sessions();
        assert_eq!(timers.take_pushed(), None);
        timers.set(a, store.get_mut(a).unwrap(), Some(s(20)));
        timers.set(b, store.get_mut(b).unwrap(), Some(s(10)));
        assert_eq!(timers.take_pushed(), Some(s(10)), "the earliest of both");
        assert_eq!(timers.take_pushed(), None, "taken");
        // Moved later, or cleared: the heap keeps the earlier entries.
        timers.set(a, store.get_mut(a).unwrap(), Some(s(30)));
        timers.set(b, store.get_mut(b).unwrap(), None);
        assert_eq!(timers.take_pushed(), None);
        // The re-arming of a moved entry as it surfaces is no news either.
        assert_eq!(timers.next(&mut store), Some(s(30)));
        assert_eq!(timers.take_pushed(), None);
        // Moved earlier than its entry: a new one.
        timers.set(a, store.get_mut(a).unwrap(), Some(s(25)));
        assert_eq!(timers.take_pushed(), Some(s(25)));
        assert_eq!(timers.next(&mut store), Some(s(25)));
    }
}
