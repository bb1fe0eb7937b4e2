//! Runtime-independent signals for the server's tasks, on `event-listener`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use event_listener::Event;

/// A flag set once, with waiters.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    flag: AtomicBool,
    event: Event,
}

impl Stop {
    pub(crate) fn stop(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.event.notify(usize::MAX);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Completes once the flag is set.
    pub(crate) async fn wait(&self) {
        loop {
            if self.is_stopped() {
                return;
            }
            let listener = self.event.listen();
            if self.is_stopped() {
                return;
            }
            listener.await;
        }
    }
}

/// Counts the open connections against a limit.
#[derive(Debug)]
pub(crate) struct Connections {
    open: AtomicUsize,
    limit: usize,
    event: Event,
}

/// One connection's place; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Permit(Arc<Connections>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::SeqCst);
        self.0.event.notify(usize::MAX);
    }
}

impl Connections {
    pub(crate) fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            open: AtomicUsize::new(0),
            limit: limit.max(1),
            event: Event::new(),
        })
    }

    fn try_acquire(self: &Arc<Self>) -> Option<Permit> {
        self.open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(Arc::clone(self)))
    }

    /// Waits for a place.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            if let Some(permit) = self.try_acquire() {
                return permit;
            }
            let listener = self.event.listen();
            if let Some(permit) = self.try_acquire() {
                return permit;
            }
            listener.await;
        }
    }
}
