//! The whole server in one value, for an embedder with one thread and one
//! poll loop: the shared [`Server`], its [`Connection`]s by id, and the
//! queue of what woke up (a connection, or one of the embedder's own
//! tasks, such as an application polling its [`Session`](crate::Session)s).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Wake, Waker};
use std::time::Instant;

use crate::conn::Connection;
use crate::id_hash::IdSet;
use crate::server::Server;

/// A connection of a [`Host`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub usize);

/// What woke up: see [`Host::poll_woken`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Woken {
    /// A connection: drain its [`Connection::poll_output`] (an application
    /// sent, a session has output for it, its deadline passed, the server
    /// shuts down).
    Connection(ConnId),
    /// One of the embedder's tasks, by the number it gave
    /// [`Host::task_waker`].
    Task(usize),
    /// The server's own timer may have an earlier deadline, or a shutdown
    /// finished: ask [`Host::poll_timeout`] again.
    Timer,
}

/// The wake-ups, shared with the wakers (which may fire on any thread).
struct Queue {
    state: Mutex<QueueState>,
    notify: Box<dyn Fn() + Send + Sync>,
}

#[derive(Default)]
struct QueueState {
    order: VecDeque<Woken>,
    queued: IdSet<Woken>,
    /// The embedder waits (or is about to), with nothing queued: the next
    /// wake-up calls the notify. While it runs, none does: it looks at the
    /// queue before it waits again.
    waiting: bool,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, woken: Woken) {
        let notify = {
            let mut st = self.lock();
            if st.queued.insert(woken) {
                st.order.push_back(woken);
            }
            std::mem::replace(&mut st.waiting, false)
        };
        if notify {
            (self.notify)();
        }
    }

    fn pop(&self) -> Option<Woken> {
        let mut st = self.lock();
        st.waiting = false;
        let woken = st.order.pop_front()?;
        st.queued.remove(&woken);
        Some(woken)
    }

    fn prepare_wait(&self) -> bool {
        let mut st = self.lock();
        st.waiting = st.order.is_empty();
        st.waiting
    }
}

struct QueueWaker {
    queue: Arc<Queue>,
    woken: Woken,
}

impl Wake for QueueWaker {
    fn wake(self: Arc<Self>) {
        self.queue.push(self.woken);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.push(self.woken);
    }
}

/// A server and all its connections in one value, for a single-threaded
/// embedder (a `mio` or `epoll` loop): it makes each connection's waker,
/// queues what woke, and gathers every deadline into one.
///
/// ```text
/// let mut host = Host::new(server, move || poll_waker.wake());
/// loop {
///     let timeout = if host.prepare_wait() { host.poll_timeout() } else { Some(now) };
///     poll.wait(timeout);                          // sockets, the notify, or the deadline
///     host.handle_timeout(now);
///     for each accepted socket: ids[token] = host.connect(peer, now);
///     for each readable/writable socket: feed host.connection(id) as Connection's docs say
///     while let Some(woken) = host.poll_woken() { drain that connection, or poll that task }
/// }
/// ```
pub struct Host {
    server: Arc<Server>,
    conns: Vec<Option<Connection>>,
    free: Vec<usize>,
    queue: Arc<Queue>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("connections", &(self.conns.len() - self.free.len()))
            .finish_non_exhaustive()
    }
}

impl Host {
    /// A host for `server`. `notify` is called, from whatever thread a
    /// waker fires on, when something is queued for
    /// [`poll_woken`](Self::poll_woken) while the loop waits (after
    /// [`prepare_wait`](Self::prepare_wait) said it may): wake the poll
    /// loop there. Wakes while the loop runs (a connection's input waking
    /// a session's task) call no notify: the loop finds them before it
    /// waits, without a system call to wake itself.
    pub fn new(server: Arc<Server>, notify: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            server,
            conns: Vec::new(),
            free: Vec::new(),
            queue: Arc::new(Queue {
                state: Mutex::default(),
                notify: Box::new(notify),
            }),
        }
    }

    /// The server.
    pub fn server(&self) -> &Arc<Server> {
        &self.server
    }

    fn waker(&self, woken: Woken) -> Waker {
        Waker::from(Arc::new(QueueWaker {
            queue: Arc::clone(&self.queue),
            woken,
        }))
    }

    /// A new connection from `remote`.
    pub fn connect(&mut self, remote: SocketAddr, now: Instant) -> ConnId {
        let index = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let id = ConnId(index);
        let waker = self.waker(Woken::Connection(id));
        self.conns[index] = Some(self.server.connection(remote, now, waker));
        id
    }

    /// A connection.
    pub fn connection(&mut self, id: ConnId) -> Option<&mut Connection> {
        self.conns.get_mut(id.0)?.as_mut()
    }

    /// Removes a connection (its socket is closed): what it carried ends.
    pub fn remove(&mut self, id: ConnId) -> Option<Connection> {
        let conn = self.conns.get_mut(id.0)?.take()?;
        self.free.push(id.0);
        Some(conn)
    }

    /// The connections.
    pub fn ids(&self) -> impl Iterator<Item = ConnId> + '_ {
        self.conns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_some())
            .map(|(i, _)| ConnId(i))
    }

    /// A waker that queues [`Woken::Task`]`(task)`: for the embedder's own
    /// tasks (an application polling a session's `poll_recv`, a sender
    /// waiting in `poll_ready`).
    pub fn task_waker(&self, task: usize) -> Waker {
        self.waker(Woken::Task(task))
    }

    /// What woke up since the last call, each once, in order.
    pub fn poll_woken(&mut self) -> Option<Woken> {
        self.queue.pop()
    }

    /// Call right before each wait of the loop: `true` when nothing is
    /// queued, and then the next wake-up calls the notify; `false` when
    /// something is (do not wait: poll without a timeout, then
    /// [`poll_woken`](Self::poll_woken)). A loop that waits without
    /// asking may miss a wake-up that came while it ran.
    pub fn prepare_wait(&self) -> bool {
        self.queue.prepare_wait()
    }

    /// The earliest deadline of the server and of every connection (a scan
    /// of the connections: for the few thousand a single thread serves).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let timer = self.waker(Woken::Timer);
        let server = self.server.poll_timeout(Some(&timer));
        self.conns
            .iter()
            .flatten()
            .filter_map(Connection::poll_timeout)
            .chain(server)
            .min()
    }

    /// Does what is due at `now`: the server's timer, and every connection
    /// whose deadline passed, which is then queued as woken (to drain).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.server.poll_timeout(None).is_some_and(|at| at <= now) {
            self.server.handle_timeout(now);
        }
        for (index, conn) in self.conns.iter_mut().enumerate() {
            if let Some(conn) = conn {
                if conn.poll_timeout().is_some_and(|at| at <= now) {
                    conn.handle_timeout(now);
                    self.queue.push(Woken::Connection(ConnId(index)));
                }
            }
        }
    }
}
