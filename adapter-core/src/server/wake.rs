//! The wakers of a connection's task: one for its
//! [`server_proto::Connection`], one for the session handler it polls
//! inline. Each records that it fired, and wakes the runtime's task only
//! while the task waits: a wake that comes while the task runs (the
//! handler's send waking the connection, a message pushed to the
//! handler's inbox) is seen by the task's loop before it waits, and costs
//! no reschedule and no second poll.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Wake, Waker};

/// What the two wakers share; itself the connection's waker.
#[derive(Debug, Default)]
struct Shared {
    /// The connection's waker fired.
    conn: AtomicBool,
    /// The handler's waker fired.
    handler: AtomicBool,
    /// The task waits: a wake must wake the runtime's task.
    parked: AtomicBool,
    /// The runtime's waker of the task, as of its last wait.
    task: Mutex<Option<Waker>>,
}

impl Shared {
    fn fire(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::SeqCst);
        if self.parked.swap(false, Ordering::SeqCst) {
            let task = self.task.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(task) = task.as_ref() {
                task.wake_by_ref();
            }
        }
    }
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.fire(&self.conn);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fire(&self.conn);
    }
}

/// The inline handler's waker.
struct HandlerWake(Arc<Shared>);

impl Wake for HandlerWake {
    fn wake(self: Arc<Self>) {
        self.0.fire(&self.0.handler);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fire(&self.0.handler);
    }
}

/// A connection task's wakers, and what fired since it last looked.
pub(crate) struct TaskWakers {
    shared: Arc<Shared>,
    conn: Waker,
    handler: Waker,
}

impl TaskWakers {
    pub(crate) fn new() -> Self {
        let shared = Arc::new(Shared::default());
        Self {
            conn: Waker::from(Arc::clone(&shared)),
            handler: Waker::from(Arc::new(HandlerWake(Arc::clone(&shared)))),
            shared,
        }
    }

    /// The waker to give the connection.
    pub(crate) fn conn(&self) -> &Waker {
        &self.conn
    }

    /// The context to poll the inline handler in.
    pub(crate) fn handler_context(&self) -> Context<'_> {
        Context::from_waker(&self.handler)
    }

    /// Forgets the connection's wakes: the task is about to drain it.
    pub(crate) fn take_conn(&self) -> bool {
        self.shared.conn.swap(false, Ordering::SeqCst)
    }

    /// Whether the handler's waker fired since the last call.
    pub(crate) fn take_handler(&self) -> bool {
        self.shared.handler.swap(false, Ordering::SeqCst)
    }

    /// Marks the handler as woken (to poll it a first time).
    pub(crate) fn wake_handler(&self) {
        self.shared.handler.store(true, Ordering::SeqCst);
    }

    /// About to wait in `cx`: `true` when a waker fired meanwhile (do not
    /// wait: go round again); otherwise wakes from now on wake the task.
    pub(crate) fn park(&self, cx: &Context<'_>) -> bool {
        {
            let mut task = self
                .shared
                .task
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !task.as_ref().is_some_and(|t| t.will_wake(cx.waker())) {
                *task = Some(cx.waker().clone());
            }
        }
        self.shared.parked.store(true, Ordering::SeqCst);
        let conn = self.shared.conn.load(Ordering::SeqCst);
        let handler = self.shared.handler.load(Ordering::SeqCst);
        if conn || handler {
            self.shared.parked.store(false, Ordering::SeqCst);
            return true;
        }
        false
    }

    /// The task runs again (after a wait): wakes need not wake it.
    pub(crate) fn unpark(&self) {
        self.shared.parked.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Counts the wakes of the runtime's task.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_wake_while_running_is_recorded_without_waking_the_task() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(Arc::clone(&count));
        let cx = Context::from_waker(&task);
        let wakers = TaskWakers::new();
        wakers.conn().wake_by_ref();
        wakers.handler_context().waker().wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        // Both fired: the task does not wait.
        assert!(wakers.park(&cx));
        assert!(wakers.take_conn());
        assert!(wakers.take_handler());
        assert!(!wakers.take_conn() && !wakers.take_handler());
    }

    #[test]
    fn a_wake_while_parked_wakes_the_task_once() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let task = Waker::from(Arc::clone(&count));
        let cx = Context::from_waker(&task);
        let wakers = TaskWakers::new();
        assert!(!wakers.park(&cx));
        wakers.handler_context().waker().wake_by_ref();
        // A waker taken by value (as a registration hands it back).
        let registered = wakers.conn().clone();
        registered.wake();
        // The first wake woke the task; the second found it awake.
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(wakers.take_handler() && wakers.take_conn());
        wakers.unpark();
        assert!(!wakers.park(&cx));
        std::thread::scope(|s| {
            s.spawn(|| wakers.conn().wake_by_ref());
        });
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }
}
