//! The shared half of the server: options, routes, the SockJS endpoints'
//! cores, the one timer, shutdown, and the registry of live connections.
//! [`Connection`]s hold it in an `Arc`; nothing here is per connection.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::Waker;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::conn::Connection;
use crate::hub::Hub;
use crate::id_hash::IdMap;
use crate::options::{ServerOptions, SockJsOptions, WebSocketOptions};

/// Which endpoint a session or a staged request belongs to: the embedder
/// keeps its handlers and interceptors by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointId(pub usize);

/// A static page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) content_type: String,
    pub(crate) body: Bytes,
}

/// The endpoints and options of a [`Server`], before it is built.
#[derive(Debug, Default)]
#[must_use]
pub struct ServerConfig {
    options: ServerOptions,
    sockjs: Vec<(EndpointId, String, SockJsOptions)>,
    websockets: Vec<(EndpointId, String, WebSocketOptions)>,
    pages: HashMap<String, Page>,
}

impl ServerConfig {
    /// No endpoint yet, default options.
    pub fn new(options: ServerOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// The server's options.
    pub fn options_mut(&mut self) -> &mut ServerOptions {
        &mut self.options
    }

    fn next_id(&self) -> EndpointId {
        EndpointId(self.sockjs.len() + self.websockets.len())
    }

    /// Mounts a SockJS endpoint at `prefix` (e.g. `/echo`): the prefix and
    /// every SockJS URL under it.
    pub fn sockjs(&mut self, prefix: &str, options: SockJsOptions) -> EndpointId {
        let id = self.next_id();
        self.sockjs
            .push((id, prefix.trim_end_matches('/').to_owned(), options));
        id
    }

    /// Mounts a plain WebSocket endpoint at exactly `path` (e.g. `/ws`);
    /// the empty path takes every path no other endpoint serves (for an
    /// embedder whose router chose the endpoint already).
    pub fn websocket(&mut self, path: &str, options: WebSocketOptions) -> EndpointId {
        let id = self.next_id();
        self.websockets.push((id, path.to_owned(), options));
        id
    }

    /// Serves a static page at exactly `path` (e.g. `/`).
    pub fn page(&mut self, path: &str, content_type: &str, body: impl Into<Bytes>) {
        self.pages.insert(
            path.to_owned(),
            Page {
                content_type: content_type.to_owned(),
                body: body.into(),
            },
        );
    }
}

/// The server could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A SockJS endpoint's options cannot work.
    #[error("SockJS endpoint {prefix}: {error}")]
    SockJsConfig {
        /// The endpoint's prefix.
        prefix: String,
        /// What is wrong.
        error: sockjs_proto::SockJsConfigError,
    },
    /// Two endpoints are mounted at the same path.
    #[error("two endpoints at {0}")]
    Duplicate(String),
}

/// The server's one timer: the earliest deadline handed out, and the waker
/// of whoever waits for it (woken when a deadline moves earlier, or when a
/// shutdown's last connection ends).
#[derive(Debug, Default)]
pub(crate) struct TimerCell {
    state: Mutex<TimerState>,
}

#[derive(Debug, Default)]
struct TimerState {
    armed: Option<Instant>,
    waker: Option<Waker>,
}

impl TimerCell {
    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A deadline `at` exists: wake the timer if it waits for a later one.
    pub(crate) fn rearm(&self, at: Instant) {
        let mut st = self.lock();
        if st.armed.is_none_or(|armed| at < armed) {
            st.armed = Some(at);
            if let Some(w) = st.waker.take() {
                w.wake();
            }
        }
    }

    pub(crate) fn wake(&self) {
        if let Some(w) = self.lock().waker.take() {
            w.wake();
        }
    }
}

/// The live connections, to wake at shutdown.
#[derive(Debug, Default)]
struct Registry {
    next: u64,
    wakers: IdMap<u64, Waker>,
}

/// The shared half of a sans-IO WebSocket and SockJS server: the endpoints,
/// the SockJS sessions, one timer, and shutdown. It is `Send + Sync`:
/// connections on many threads share it in an `Arc`, each SockJS endpoint
/// behind a lock of its own (a plain WebSocket connection takes none).
///
/// [`connection`](Self::connection) makes the state of one TCP connection.
/// The server's own timer (SockJS heartbeats and session expiry, the end
/// of a shutdown) is [`poll_timeout`](Self::poll_timeout) and
/// [`handle_timeout`](Self::handle_timeout), driven by one task or thread.
pub struct Server {
    pub(crate) options: ServerOptions,
    pub(crate) websockets: HashMap<String, (EndpointId, WebSocketOptions)>,
    /// Longest prefix first.
    pub(crate) hubs: Vec<Arc<Hub>>,
    pub(crate) pages: HashMap<String, Page>,
    stop: AtomicBool,
    /// The end of a shutdown, until `handle_timeout` sees it pass.
    shutdown_at: Mutex<Option<Instant>>,
    /// The shutdown's timeout passed.
    shutdown_expired: AtomicBool,
    timer: Arc<TimerCell>,
    registry: Mutex<Registry>,
    /// The wall clock at one instant, to date responses (`Expires`).
    epoch: (Instant, SystemTime),
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("options", &self.options)
            .field("stopping", &self.is_stopping())
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Builds the server. `seed` seeds the SockJS cores' randomness (the
    /// `/info` entropy; pass a random value); `now` and `date` are the same
    /// moment on the embedder's monotonic clock and on the wall clock, from
    /// which responses are dated.
    pub fn new(
        config: ServerConfig,
        seed: u64,
        now: Instant,
        date: SystemTime,
    ) -> Result<Arc<Self>, BuildError> {
        let timer = Arc::new(TimerCell::default());
        let mut seen = HashSet::new();
        let mut hubs = Vec::new();
        for (id, prefix, options) in config.sockjs {
            if !seen.insert(prefix.clone()) {
                return Err(BuildError::Duplicate(prefix));
            }
            let seed = seed
                .wrapping_add(id.0 as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let hub = Hub::new(&prefix, id, options, seed, Arc::clone(&timer))
                .map_err(|error| BuildError::SockJsConfig { prefix, error })?;
            hubs.push(hub);
        }
        hubs.sort_by_key(|hub| std::cmp::Reverse(hub.prefix_len()));
        let mut websockets = HashMap::new();
        for (id, path, options) in config.websockets {
            if websockets.insert(path.clone(), (id, options)).is_some() {
                return Err(BuildError::Duplicate(path));
            }
        }
        Ok(Arc::new(Self {
            options: config.options,
            websockets,
            hubs,
            pages: config.pages,
            stop: AtomicBool::new(false),
            shutdown_at: Mutex::new(None),
            shutdown_expired: AtomicBool::new(false),
            timer,
            registry: Mutex::new(Registry::default()),
            epoch: (now, date),
        }))
    }

    /// The server's options.
    pub fn options(&self) -> &ServerOptions {
        &self.options
    }

    /// The state of a new TCP connection from `remote`. `waker` wakes
    /// whoever drives it: the connection is then to be polled again
    /// ([`Connection::poll_output`]), because an application sent, a
    /// SockJS session has output for it, or the server shuts down.
    pub fn connection(
        self: &Arc<Self>,
        remote: SocketAddr,
        now: Instant,
        waker: Waker,
    ) -> Connection {
        // The registry wakes the connection at shutdown with the waker
        // that notes it (see `Connection::poll_output`).
        let (woken, waker) = crate::conn::Noted::wrap(waker);
        let id = {
            let mut reg = self.lock_registry();
            reg.next += 1;
            let id = reg.next;
            reg.wakers.insert(id, waker.clone());
            id
        };
        Connection::new(Arc::clone(self), id, remote, now, (woken, waker))
    }

    /// An id no connection or mounted exchange has had.
    pub(crate) fn next_connection_id(&self) -> u64 {
        let mut reg = self.lock_registry();
        reg.next += 1;
        reg.next
    }

    fn lock_registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A connection is gone.
    pub(crate) fn connection_dropped(&self, id: u64) {
        let empty = {
            let mut reg = self.lock_registry();
            reg.wakers.remove(&id);
            reg.wakers.is_empty()
        };
        if empty && self.is_stopping() {
            self.timer.wake();
        }
    }

    /// Live connections.
    pub fn connections(&self) -> usize {
        self.lock_registry().wakers.len()
    }

    /// Sessions of the SockJS endpoints (open, or closed and not yet
    /// removed).
    pub fn sockjs_sessions(&self) -> usize {
        self.hubs.iter().map(|hub| hub.session_count()).sum()
    }

    /// The next deadline of the server's own timer (SockJS heartbeats and
    /// expiry, the end of a shutdown); `None` when there is none. `waker`,
    /// if given, is woken when an earlier deadline appears (a session
    /// opened with a heartbeat sooner), and when a shutdown is
    /// [`finished`](Self::is_finished) before its deadline.
    pub fn poll_timeout(&self, waker: Option<&Waker>) -> Option<Instant> {
        // The waker is registered, with nothing armed, before the hubs are
        // read: a deadline that appears meanwhile (a session opened on
        // another thread) wakes it, where it would otherwise be missed
        // between the read and the registration.
        {
            let mut st = self.timer.lock();
            st.armed = None;
            if let Some(w) = waker {
                if !st.waker.as_ref().is_some_and(|old| old.will_wake(w)) {
                    st.waker = Some(w.clone());
                }
            }
        }
        let hubs = self.hubs.iter().filter_map(|hub| hub.poll_timeout()).min();
        let shutdown = *self
            .shutdown_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let at = match (hubs, shutdown) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let mut st = self.timer.lock();
        st.armed = match (st.armed, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        at
    }

    /// Does the work due at `now`: SockJS heartbeats, expiry of sessions,
    /// the end of a shutdown.
    pub fn handle_timeout(&self, now: Instant) {
        for hub in &self.hubs {
            hub.handle_timeout(now);
        }
        let mut at = self
            .shutdown_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if at.is_some_and(|at| now >= at) {
            *at = None;
            self.shutdown_expired.store(true, Ordering::SeqCst);
        }
    }

    /// Starts a graceful shutdown: new connections should no longer be
    /// accepted; every session is closed (`c[1001,"Server shutting down"]`
    /// on SockJS, close 1001 on WebSocket), idle connections close,
    /// responses in flight finish. [`is_finished`](Self::is_finished) says
    /// when the embedder may stop: every connection is done, or the
    /// shutdown timeout passed.
    pub fn shutdown(&self, now: Instant) {
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        *self
            .shutdown_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now + self.options.shutdown_timeout);
        for hub in &self.hubs {
            hub.shutdown();
        }
        let wakers: Vec<Waker> = self.lock_registry().wakers.values().cloned().collect();
        for w in wakers {
            w.wake();
        }
        self.timer.wake();
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// A shutdown is over: no connection is left, or its timeout passed.
    pub fn is_finished(&self, now: Instant) -> bool {
        if !self.is_stopping() {
            return false;
        }
        if self.shutdown_expired.load(Ordering::SeqCst) {
            return true;
        }
        let at = *self
            .shutdown_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        at.is_some_and(|at| now >= at) || self.connections() == 0
    }

    /// The WebSocket endpoint at `path`: the one mounted there, or one
    /// mounted at the empty path (it takes every path no other endpoint or
    /// page serves: an endpoint whose embedder's router chose it already).
    pub(crate) fn websocket_for(&self, path: &str) -> Option<&(EndpointId, WebSocketOptions)> {
        self.websockets.get(path).or_else(|| {
            // The catch-all, for a path no other endpoint or page takes.
            let any = self.websockets.get("")?;
            let taken = self.hub_for(path).is_some() || self.pages.contains_key(path);
            (!taken).then_some(any)
        })
    }

    /// The SockJS endpoint serving `path`.
    pub(crate) fn hub_for(&self, path: &str) -> Option<&Arc<Hub>> {
        self.hubs.iter().find(|hub| hub.matches(path))
    }

    /// The wall-clock time at `now`.
    pub(crate) fn date(&self, now: Instant) -> SystemTime {
        let (at, date) = self.epoch;
        match now.checked_duration_since(at) {
            Some(after) => date + after,
            None => date - at.duration_since(now),
        }
    }

    /// A new session id: unique within the process, so that sessions of
    /// several servers (each endpoint mounted in an axum `Router` is one)
    /// can be members of one [`Group`](crate::Group), which keys them by
    /// id.
    pub(crate) fn next_session_id() -> u64 {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        NEXT.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn request_timeout(&self) -> Duration {
        self.options.request_timeout
    }
}
