//! The connection's waker: the embedder's, and a note that it fired, so
//! that [`Connection::poll_output`](super::Connection::poll_output) steps
//! the connection only when something may have changed since its last
//! step (a wake, a deadline, a call of the embedder's).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Wake, Waker};

/// The embedder's waker and whether it fired since the connection last
/// looked.
#[derive(Debug)]
pub(crate) struct Noted {
    woken: AtomicBool,
    inner: Waker,
}

impl Noted {
    /// Wraps the embedder's `waker`: the note, and the waker that wakes
    /// the embedder and sets the note. Everything the connection registers
    /// (with a session's mailboxes, a SockJS endpoint, the server) is the
    /// second.
    pub(crate) fn wrap(waker: Waker) -> (Arc<Self>, Waker) {
        let noted = Arc::new(Self {
            woken: AtomicBool::new(false),
            inner: waker,
        });
        let waker = Waker::from(Arc::clone(&noted));
        (noted, waker)
    }

    /// Whether the waker fired since the last call; clears the note.
    pub(crate) fn take(&self) -> bool {
        // Acquire: what the waking side changed before it woke is seen by
        // the step that follows.
        self.woken.swap(false, Ordering::Acquire)
    }
}

impl Wake for Noted {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wake_count::WakeCount;

    #[test]
    fn a_wake_is_noted_once_and_reaches_the_embedder() {
        let (count, embedder) = WakeCount::new();
        let (noted, waker) = Noted::wrap(embedder);
        assert!(!noted.take());
        waker.wake_by_ref();
        assert_eq!(count.count(), 1);
        assert!(noted.take());
        assert!(!noted.take(), "taking the note clears it");
        let clone = waker.clone();
        std::thread::spawn(move || clone.wake()).join().unwrap();
        assert_eq!(count.count(), 2);
        assert!(noted.take());
    }
}
