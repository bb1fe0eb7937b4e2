//! One TCP connection's task (after its TLS handshake, on a TLS listener):
//! reads the socket into its
//! [`server_proto::Connection`], writes what it gives, waits on the socket,
//! the connection's waker and its one deadline, and does what it asks (run
//! the interceptors, spawn a session's handler).

use std::future::{poll_fn, Future};
use std::io::IoSlice;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use server_proto::{
    Attributes, Connection, Incoming, Output, Rejection, Session, SessionTransport,
};
use tracing::Instrument as _;

use super::endpoint::{run_after, run_before};
use super::wake::TaskWakers;
use super::{Shared, LOG_TARGET};
use crate::read_buf;
use crate::runtime::{self, Executor, Io, Runtime};
use crate::tls::TlsAcceptor;

/// The most slices of one gathering write.
const MAX_IOV: usize = 64;

/// The runtime's clock, read when first needed and kept until forgotten
/// (at each turn of the connection's loop, and after each wait).
struct Clock<R> {
    now: Option<Instant>,
    runtime: std::marker::PhantomData<fn() -> R>,
}

impl<R> Default for Clock<R> {
    fn default() -> Self {
        Self {
            now: None,
            runtime: std::marker::PhantomData,
        }
    }
}

impl<R: Runtime> Clock<R> {
    fn now(&mut self) -> Instant {
        *self.now.get_or_insert_with(R::now)
    }

    fn forget(&mut self) {
        self.now = None;
    }

    /// The time of input just read: read anew, so that it is not earlier
    /// than the input's arrival (which may follow this turn's start, or a
    /// write of the same pass: a client answers as soon as it reads). The
    /// turn goes on with it.
    fn fresh(&mut self) -> Instant {
        self.forget();
        self.now()
    }
}

/// Steps a connection takes before it lets other tasks run.
const STEP_BUDGET: u32 = 64;

/// Lets the executor run other tasks once.
async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}

/// What the socket and the clock did.
enum Step {
    /// Something changed: drain the connection again.
    Progress,
    /// The transport failed.
    Failed,
}

/// What one pass over the socket did.
enum IoStep {
    /// Read something (or the end of the stream), or shut the write side:
    /// drain the connection again.
    Progress,
    /// Wrote, and read nothing: what the writes changed, the writes' own
    /// `consume` did (and woke the connection's waker if it left outputs).
    Wrote,
    /// Nothing: the socket's readiness is awaited.
    Pending,
    /// The transport failed.
    Failed,
}

/// The span of a connection (at debug level): the events of its requests
/// are logged in it.
pub(crate) fn conn_span(peer: SocketAddr) -> tracing::Span {
    tracing::debug_span!(target: LOG_TARGET, "conn", peer = %peer)
}

/// The task that serves the connection until it is done, and drops
/// `guard` then.
///
/// The connection is made here, and the task is the loop alone: a future
/// that awaited another keeps what it moves into it twice, and an idle
/// connection is mostly this future.
pub(crate) fn serve<R: Executor>(
    io: R::Tcp,
    remote: SocketAddr,
    shared: Arc<Shared>,
    guard: impl Send + 'static,
) -> impl Future<Output = ()> + Send + 'static {
    let span = conn_span(remote);
    let (conn, wakers) = span.in_scope(|| {
        let _ = R::set_nodelay(&io);
        let wakers = TaskWakers::new();
        let conn = shared
            .server
            .connection(remote, R::now(), wakers.conn().clone());
        (conn, wakers)
    });
    drive::<R, _>(io, Box::new(conn), wakers, shared, guard).instrument(span)
}

/// Runs the TLS handshake, then serves the connection until it is done.
///
/// The handshake is the connection's first request, as far as time goes:
/// it must end within the request timeout from the accept, or the
/// connection is dropped. A shutdown drops it too: it is no connection of
/// the server's yet (none that the shutdown waits for).
pub(crate) async fn serve_tls<R: Executor>(
    tcp: R::Tcp,
    remote: SocketAddr,
    acceptor: &TlsAcceptor,
    shared: Arc<Shared>,
) {
    serve_tls_in_span::<R>(tcp, remote, acceptor, shared)
        .instrument(conn_span(remote))
        .await;
}

async fn serve_tls_in_span<R: Executor>(
    tcp: R::Tcp,
    remote: SocketAddr,
    acceptor: &TlsAcceptor,
    shared: Arc<Shared>,
) {
    let _ = R::set_nodelay(&tcp);
    let deadline = R::now() + shared.server.options().request_limit();
    let handshake = {
        let mut handshake = std::pin::pin!(R::accept_tls(tcp, acceptor));
        let mut timer = std::pin::pin!(R::sleep_until(deadline));
        let mut stop = std::pin::pin!(shared.stop.wait());
        poll_fn(|cx| {
            if let Poll::Ready(result) = handshake.as_mut().poll(cx) {
                return Poll::Ready(Some(result));
            }
            if timer.as_mut().poll(cx).is_ready() || stop.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    };
    let io = match handshake {
        Some(Ok(io)) => io,
        Some(Err(error)) => {
            tracing::debug!(target: LOG_TARGET, %error, "TLS handshake failed");
            return;
        }
        None if shared.stop.is_stopped() => {
            tracing::debug!(target: LOG_TARGET, "TLS handshake cut short by the shutdown");
            return;
        }
        None => {
            tracing::debug!(target: LOG_TARGET, "TLS handshake timed out");
            return;
        }
    };
    let wakers = TaskWakers::new();
    let conn = shared
        .server
        .connection(remote, R::now(), wakers.conn().clone());
    drive::<R, _>(io, Box::new(conn), wakers, shared, ()).await;
}

/// Serves an upgrade accepted by an HTTP server of the application's, on
/// the stream it handed over, until the session is done.
pub(crate) async fn serve_upgraded<R: Executor, S: Io>(
    io: S,
    upgrade: server_proto::Upgrade,
    shared: Arc<Shared>,
) {
    let span = conn_span(upgrade.remote_addr());
    async move {
        let wakers = TaskWakers::new();
        let conn = shared
            .server
            .upgraded(upgrade, R::now(), wakers.conn().clone());
        drive::<R, _>(io, Box::new(conn), wakers, shared, ()).await;
    }
    .instrument(span)
    .await;
}

/// A session's handler, run by its connection's task (see [`Inline`]).
type HandlerFuture = Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// The handler of the WebSocket session on this connection, polled by the
/// connection's own task rather than spawned: the session lives on this
/// connection alone, and one task for both saves a wake-up and a task
/// switch per message each way (the connection's push wakes the handler,
/// the handler's send wakes the connection) and a task per connection.
/// Polled when its waker fired (see [`TaskWakers`]), within the turn of
/// the connection's loop that follows; kept going after the connection
/// ends, until the handler returns.
#[derive(Default)]
struct Inline {
    handler: Option<HandlerFuture>,
}

impl Inline {
    /// Polls the handler once; `true` if it returned (or panicked: the
    /// panic is logged and the session dropped, as for a spawned handler,
    /// whose panic ends only its task).
    fn poll(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(handler) = self.handler.as_mut() else {
            return false;
        };
        let polled =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler.as_mut().poll(cx)));
        match polled {
            Ok(Poll::Pending) => false,
            Ok(Poll::Ready(())) => {
                self.handler = None;
                true
            }
            Err(_) => {
                tracing::error!(target: LOG_TARGET, "session handler panicked");
                self.handler = None;
                true
            }
        }
    }
}

/// Drives a connection over `io` until it is done.
///
/// One turn of the loop drains the connection, polls the inline handler
/// if its waker fired (and drains again: what it sent goes out in this
/// turn's write), then writes and reads the socket. The task waits only
/// when neither the socket nor the clock nor a waker has anything: the
/// wakes that come while it runs (the handler's send, a message for the
/// handler) are taken by the next turn, without a reschedule.
async fn drive<R: Executor, S: Io>(
    mut io: S,
    mut conn: Box<Connection>,
    wakers: TaskWakers,
    shared: Arc<Shared>,
    guard: impl Send,
) {
    let shared = &*shared;
    let mut inline = Inline::default();
    let mut timer: Timer<R> = None;
    let mut shut = false;
    // Steps taken without waiting: a client that keeps the socket busy
    // must not keep the executor's thread (not every runtime makes I/O
    // yield by itself).
    let mut budget = STEP_BUDGET;
    // Reading the clock is a good part of a small message's cost: it is
    // read when input is read (the time of the input, never earlier than
    // its arrival), or when first needed after a wait or a yield; the
    // turn that follows runs with that time.
    let mut clock = Clock::<R>::default();
    tracing::trace!(target: LOG_TARGET, "connection open");
    loop {
        budget -= 1;
        if budget == 0 {
            budget = STEP_BUDGET;
            yield_now().await;
            clock.forget();
        }
        let now = clock.now();
        wakers.take_conn();
        while let Some(output) = conn.poll_output(now) {
            handle::<R>(shared, &mut conn, output, now, &mut inline, &wakers);
        }
        if inline.handler.is_some() && wakers.take_handler() {
            // What the connection just handed on, the handler takes now;
            // what it sends goes out in this turn's write.
            inline.poll(&mut wakers.handler_context());
            wakers.take_conn();
            while let Some(output) = conn.poll_output(now) {
                handle::<R>(shared, &mut conn, output, now, &mut inline, &wakers);
            }
        }
        if conn.is_done() {
            break;
        }
        let step = poll_fn(|cx| {
            wakers.unpark();
            match poll_io::<R, S>(&mut io, &mut conn, &mut shut, &mut clock, cx) {
                IoStep::Progress => return Poll::Ready(Step::Progress),
                IoStep::Failed => return Poll::Ready(Step::Failed),
                IoStep::Wrote if conn.is_done() => return Poll::Ready(Step::Progress),
                IoStep::Wrote | IoStep::Pending => {}
            }
            if poll_timer::<R>(&conn, &mut timer, cx).is_ready() {
                // The deadline passed by the runtime's clock: read it anew.
                clock.forget();
                conn.handle_timeout(clock.now());
                return Poll::Ready(Step::Progress);
            }
            // A waker fired (an application sent, a session has output,
            // the server stops, the handler has a message): another turn.
            if wakers.park(cx) {
                return Poll::Ready(Step::Progress);
            }
            budget = STEP_BUDGET;
            // Whatever wakes this task comes later: a new time then.
            clock.forget();
            Poll::Pending
        })
        .await;
        if let Step::Failed = step {
            conn.abort(clock.now());
        }
    }
    if !shut {
        let _ = runtime::shutdown(&mut io).await;
    }
    tracing::trace!(target: LOG_TARGET, "connection closed");
    drop(io);
    drop(conn);
    // The session is over; its handler sees the end of its stream.
    wakers.wake_handler();
    poll_fn(|cx| {
        wakers.unpark();
        if inline.handler.is_none() {
            return Poll::Ready(());
        }
        if wakers.take_handler() && inline.poll(&mut wakers.handler_context()) {
            return Poll::Ready(());
        }
        if wakers.park(cx) {
            // Woken while polled: poll again, after the other tasks.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    })
    .await;
    drop(guard);
}

/// Writes what the connection holds and reads what it wants, as far as
/// the socket goes without waiting.
fn poll_io<R: Runtime, S: Io>(
    io: &mut S,
    conn: &mut Connection,
    shut: &mut bool,
    clock: &mut Clock<R>,
    cx: &mut Context<'_>,
) -> IoStep {
    let mut wrote = false;
    let mut progressed = false;
    while conn.transmit_len() > 0 {
        // Gathered when there are several pieces (one piece: a plain
        // write, cheaper in the kernel than a one-slice writev).
        let written = if io.is_write_vectored() && conn.transmit().len() < conn.transmit_len() {
            let mut slices = [IoSlice::new(&[]); MAX_IOV];
            let n = conn.transmit_slices(&mut slices);
            io.poll_write_vectored(cx, &slices[..n])
        } else {
            io.poll_write(cx, conn.transmit())
        };
        match written {
            Poll::Pending => break,
            Poll::Ready(Ok(0) | Err(_)) => return IoStep::Failed,
            Poll::Ready(Ok(n)) => {
                conn.consume(n, clock.now());
                wrote = true;
            }
        }
    }
    if conn.transmit_len() == 0 && wrote {
        if let Poll::Ready(Err(_)) = io.poll_flush(cx) {
            return IoStep::Failed;
        }
    }
    if conn.transmit_len() == 0
        && conn.wants_shutdown_write()
        && !*shut
        && io.poll_shutdown(cx).is_ready()
    {
        *shut = true;
        progressed = true;
    }
    if conn.wants_read() {
        if let Some((buf, want)) = conn.read_buffer() {
            // Straight into the WebSocket's input buffer.
            return match io.poll_read_buf(cx, buf, want) {
                Poll::Pending if progressed => IoStep::Progress,
                Poll::Pending if wrote => IoStep::Wrote,
                Poll::Pending => IoStep::Pending,
                Poll::Ready(Ok(n)) => {
                    conn.handle_read(want, n, clock.fresh());
                    IoStep::Progress
                }
                Poll::Ready(Err(_)) => {
                    conn.handle_eof(clock.fresh());
                    IoStep::Progress
                }
            };
        }
        // Into the thread's read buffer (an idle connection holds none).
        let cap = conn.read_capacity().max(1);
        let read = read_buf::with(cap, |buf| {
            let read = io.poll_read(cx, buf);
            if let Poll::Ready(Ok(n @ 1..)) = read {
                conn.handle_input(&buf[..n], clock.fresh());
            }
            read
        });
        match read {
            Poll::Pending => {}
            Poll::Ready(Ok(0) | Err(_)) => {
                conn.handle_eof(clock.fresh());
                progressed = true;
            }
            Poll::Ready(Ok(_)) => progressed = true,
        }
    }
    if progressed {
        IoStep::Progress
    } else if wrote {
        IoStep::Wrote
    } else {
        IoStep::Pending
    }
}

/// Arms the runtime's timer at the connection's deadline; `Ready` when it
/// passed (or an earlier deadline it was armed at: see below).
///
/// Most moves of a connection's deadline are later (each request pushes
/// the keep-alive and request limits on): a timer armed earlier is kept,
/// and when it fires the connection finds nothing due and the timer is
/// armed again at the deadline of then. A deadline that moves earlier
/// re-arms the timer in place (its allocation is kept).
fn poll_timer<R: Runtime>(
    conn: &Connection,
    timer: &mut Timer<R>,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let Some(at) = conn.poll_timeout() else {
        *timer = None;
        return Poll::Pending;
    };
    match timer {
        Some((Some(armed), _)) if *armed <= at => {}
        Some((armed, sleep)) => {
            *armed = Some(at);
            sleep.set(R::sleep_until(at));
        }
        None => *timer = Some((Some(at), Box::pin(R::sleep_until(at)))),
    }
    let (armed, sleep) = timer.as_mut().expect("armed above");
    if sleep.as_mut().poll(cx).is_ready() {
        *armed = None;
        return Poll::Ready(());
    }
    Poll::Pending
}

/// A connection's timer while it has a deadline: the deadline it is armed
/// at (`None` once it fired), and the runtime's sleep.
type Timer<R> = Option<(Option<Instant>, Pin<Box<<R as Runtime>::Sleep>>)>;

/// Does what an output asks; the handler of a session that lives on this
/// connection alone (a WebSocket) goes to `inline`.
fn handle<R: Executor>(
    shared: &Shared,
    conn: &mut Connection,
    output: Output,
    now: Instant,
    inline: &mut Inline,
    wakers: &TaskWakers,
) {
    let output = match output {
        Output::Opened(session) if inline.handler.is_none() && on_one_connection(&session) => {
            inline.handler = Some(start_handler(shared, session));
            // Its first poll, in this turn.
            wakers.wake_handler();
            return;
        }
        output => output,
    };
    if let Some((incoming, decision)) = handle_output::<R>(shared, output) {
        match decision {
            Ok(attributes) => conn.accept(incoming, attributes, now),
            Err(rejection) => conn.refuse(incoming, &rejection, now),
        }
    }
}

/// Does what an output asks; a staged request comes back with the
/// interceptors' decision, for the connection or exchange that staged it.
pub(crate) fn handle_output<R: Executor>(
    shared: &Shared,
    output: Output,
) -> Option<(Incoming, Result<Attributes, Rejection>)> {
    match output {
        Output::Incoming(incoming) => {
            let app = shared.app(incoming.endpoint());
            let decision = run_before(&app.interceptors, incoming.request());
            return Some((incoming, decision));
        }
        Output::Handshake {
            endpoint,
            request,
            outcome,
        } => run_after(&shared.app(endpoint).interceptors, &request, outcome),
        Output::Opened(session) => R::spawn(start_handler(shared, session)),
        _ => {}
    }
    None
}

/// Whether a session lives on one connection from start to end: a
/// WebSocket (plain, or SockJS's websocket transports).
fn on_one_connection(session: &Session) -> bool {
    use server_proto::sockjs_proto::Transport;
    matches!(
        session.transport(),
        SessionTransport::WebSocket
            | SessionTransport::SockJs(Transport::WebSocket | Transport::RawWebSocket)
    )
}

/// The handler's future for a session, in the session's span.
fn start_handler(shared: &Shared, session: Session) -> HandlerFuture {
    // The session's span: its fields on the handler's events too.
    let span = session.span().clone();
    let handler = &shared.app(session.endpoint()).handler;
    Box::pin(handler(session).instrument(span))
}
