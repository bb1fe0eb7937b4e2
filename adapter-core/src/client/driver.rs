//! The task that drives one client session: the sans-IO core's sockets,
//! timer and events, over a [`Runtime`].

use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Buf as _, Bytes};
use sockjs_proto::client::{Client, ClientEvent, ConnId, Output};

use super::shared::{Command, Shared};
use crate::runtime::{Io, Runtime};
use crate::TlsConnector;

/// The most bytes read at a time, into a buffer on the stack (none is kept
/// per session between reads).
const READ_BUF: usize = 8 * 1024;

/// Rounds of work in one poll before the task yields to the others.
const ROUNDS: usize = 64;

/// The target of the client's events.
const LOG_TARGET: &str = crate::handshake::CLIENT_LOG_TARGET;

/// The span of a client session, which its task runs in (at debug level):
/// the server's session fields, from the client's side. `path` is the
/// endpoint's and `remote` the server's `host:port`; `transport` and
/// `session` (the SockJS session id, which the server's session span
/// shows in its `path`) are recorded once the session opens.
pub(crate) fn session_span(endpoint: &http::Uri) -> tracing::Span {
    tracing::debug_span!(
        target: LOG_TARGET,
        "session",
        session = tracing::field::Empty,
        transport = tracing::field::Empty,
        path = %endpoint.path(),
        remote = %endpoint.authority().map_or("", http::uri::Authority::as_str),
    )
}

type Connecting<R> = Pin<Box<dyn Future<Output = io::Result<<R as Runtime>::Stream>> + Send>>;

enum Slot<R: Runtime> {
    Connecting(Connecting<R>),
    Open {
        io: R::Stream,
        /// What is being written, from its first unwritten byte.
        writing: Option<Bytes>,
    },
}

/// One client session's task.
pub(crate) struct Driver<R: Runtime> {
    core: Client,
    shared: Arc<Shared>,
    slots: Vec<(ConnId, Slot<R>)>,
    /// An event the inbox had no room for.
    held: Option<ClientEvent>,
    timer: Option<(Instant, Pin<Box<R::Sleep>>)>,
    /// What `https://` connections trust.
    tls: Option<TlsConnector>,
    /// The local address connections are made from.
    local: Option<IpAddr>,
}

impl<R: Runtime> Driver<R> {
    pub(crate) fn new(
        core: Client,
        shared: Arc<Shared>,
        tls: Option<TlsConnector>,
        local: Option<IpAddr>,
    ) -> Self {
        Self {
            core,
            shared,
            slots: Vec::new(),
            held: None,
            timer: None,
            tls,
            local,
        }
    }

    /// One round: everything that can move now; whether anything did.
    fn round(&mut self, cx: &mut Context<'_>) -> bool {
        let now = R::now();
        let mut moved = false;
        for command in self.shared.take_commands(cx) {
            moved = true;
            match command {
                // The shared half checked the room; a session that closed
                // meanwhile drops it.
                Command::Send(text) => drop(self.core.send(&text)),
                Command::Close(code, reason) => self.core.close(code, &reason, now),
            }
        }
        while let Some(output) = self.core.poll_output() {
            moved = true;
            match output {
                Output::Connect(c) => {
                    let (tls, local) = (self.tls.clone().filter(|_| c.tls), self.local);
                    let connect = async move {
                        R::connect_stream(&c.host, c.port, tls.as_ref(), local).await
                    };
                    self.slots.push((c.id, Slot::Connecting(Box::pin(connect))));
                }
                Output::Close(id) => self.slots.retain(|(i, _)| *i != id),
                _ => {}
            }
        }
        let mut i = 0;
        while i < self.slots.len() {
            let id = self.slots[i].0;
            match self.poll_slot(i, cx, now) {
                Ok(progress) => {
                    moved |= progress;
                    i += 1;
                }
                Err(e) => {
                    moved = true;
                    self.slots.remove(i);
                    self.core.connection_failed(id, &e.to_string(), now);
                }
            }
        }
        moved |= self.deliver();
        self.shared.set_core_buffered(self.core.buffered_amount());
        moved | self.poll_timer(cx)
    }

    /// Connects, writes and reads slot `i`; an I/O error ends it.
    fn poll_slot(&mut self, i: usize, cx: &mut Context<'_>, now: Instant) -> io::Result<bool> {
        let (id, slot) = &mut self.slots[i];
        let id = *id;
        let mut moved = false;
        if let Slot::Connecting(connecting) = slot {
            match connecting.as_mut().poll(cx) {
                Poll::Ready(io) => {
                    *slot = Slot::Open {
                        io: io?,
                        writing: None,
                    };
                    self.core.connected(id, now);
                    moved = true;
                }
                Poll::Pending => return Ok(false),
            }
        }
        let Slot::Open { io, writing } = slot else {
            return Ok(moved);
        };
        loop {
            if writing.as_ref().is_none_or(Bytes::is_empty) {
                *writing = self.core.poll_transmit(id);
            }
            let Some(bytes) = writing.as_mut() else { break };
            match io.poll_write(cx, bytes)? {
                Poll::Ready(0) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(n) => {
                    bytes.advance(n);
                    moved = true;
                }
                Poll::Pending => break,
            }
        }
        let capacity = self.core.read_capacity(id).min(READ_BUF);
        if capacity > 0 {
            let core = &mut self.core;
            let read = crate::read_buf::with(capacity, |buf| {
                let read = io.poll_read(cx, buf);
                if let Poll::Ready(Ok(n @ 1..)) = read {
                    core.receive(id, &buf[..n], now);
                }
                read
            });
            if let Poll::Ready(n) = read? {
                moved = true;
                if n == 0 {
                    core.receive_eof(id, now);
                }
            }
        }
        Ok(moved)
    }

    /// Hands the core's events to the application, while its inbox has
    /// room.
    fn deliver(&mut self) -> bool {
        let mut moved = false;
        loop {
            let Some(event) = self.held.take().or_else(|| self.core.poll_event()) else {
                return moved;
            };
            match event {
                ClientEvent::Message(text) => {
                    if !self.shared.has_room() {
                        self.held = Some(ClientEvent::Message(text));
                        return moved;
                    }
                    self.shared.deliver(text);
                }
                ClientEvent::Open(transport) => {
                    // The task's span (`session_span`).
                    let span = tracing::Span::current();
                    if !span.is_disabled() {
                        span.record("transport", tracing::field::display(transport.name()));
                        if let Some((_, path)) = self.core.session() {
                            // `/<server>/<session>`
                            let id = path.rsplit('/').next().unwrap_or_default();
                            span.record("session", tracing::field::display(id));
                        }
                    }
                    tracing::debug!(target: LOG_TARGET, "session opened");
                    self.shared.opened(transport);
                }
                ClientEvent::Heartbeat => self.shared.heartbeat(),
                ClientEvent::Fallback { transport, failure } => {
                    tracing::debug!(
                        target: LOG_TARGET,
                        transport = %transport.name(),
                        %failure,
                        "transport failed, falling back"
                    );
                }
                ClientEvent::Closed(closed) => {
                    tracing::debug!(
                        target: LOG_TARGET,
                        code = closed.code.0,
                        reason = closed.reason.as_str(),
                        clean = closed.was_clean,
                        error = closed.error.as_ref().map(tracing::field::display),
                        "session closed"
                    );
                    self.shared.closed(closed);
                }
                _ => {}
            }
            moved = true;
        }
    }

    /// Arms the timer at the core's deadline; fires it when due.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(deadline) = self.core.poll_timeout() else {
            self.timer = None;
            return false;
        };
        if self.timer.as_ref().is_none_or(|(at, _)| *at != deadline) {
            self.timer = Some((deadline, Box::pin(R::sleep_until(deadline))));
        }
        let Some((_, sleep)) = self.timer.as_mut() else {
            return false;
        };
        if sleep.as_mut().poll(cx).is_ready() {
            self.timer = None;
            self.core.handle_timeout(R::now().max(deadline));
            return true;
        }
        false
    }
}

impl<R: Runtime> Future for Driver<R> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        for _ in 0..ROUNDS {
            if !this.round(cx) {
                return if this.core.is_finished() && this.held.is_none() {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                };
            }
        }
        // Still busy: let the other tasks run, and come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
