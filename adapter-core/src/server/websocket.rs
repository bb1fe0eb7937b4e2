//! A plain WebSocket session: drives a [`WebSocketStream`] between the
//! client, the session's inbox and its outbox, with one timer at the
//! connection's `poll_timeout` (its liveness check and close timeout live in
//! the core) and one for the send time limit.

use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ws_proto::{CloseCode, CloseState, Event, ProtocolError, Timeout};

use super::endpoint::WebSocketEndpoint;
use super::session::{CloseStatus, Inbox, WsOutbox};
use crate::clock::{Clock, ConnTimer};
use crate::runtime::{Io, Runtime};
use crate::sync::Stop;
use crate::WebSocketStream;

/// Output queued in the connection at which the outbox is left alone.
const WRITE_LIMIT: usize = 64 * 1024;

/// What woke the driver.
enum Step {
    Event(Option<Result<Event, crate::Error>>),
    /// The connection handled its time (a ping may wait to be written).
    Time,
    /// A write has been stuck for the send time limit.
    SendStalled,
    /// The server is shutting down.
    Shutdown,
}

type Timer<R> = Pin<Box<<R as Runtime>::Sleep>>;

fn timer<R: Runtime>(after: Duration) -> Timer<R> {
    Box::pin(R::sleep_until(R::now() + after))
}

struct Driver<'a, S, R: Runtime> {
    ws: WebSocketStream<S>,
    endpoint: &'a WebSocketEndpoint,
    inbox: Arc<Inbox>,
    outbox: Arc<WsOutbox>,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send>>,
    runtime: PhantomData<fn() -> R>,
    shutting_down: bool,
    /// A close frame was queued.
    closing: bool,
    /// Since when the pending write has been stuck.
    stall: Option<Timer<R>>,
    /// The connection's one timer, and the runtime's clock it runs on.
    timer: ConnTimer,
    clock: Clock,
    /// The close the server sent because the client broke the protocol.
    failed: Option<CloseStatus>,
}

/// Runs a session until its connection is closed, then closes the inbox
/// with the status the session ended with.
pub(crate) async fn drive<S: Io, R: Runtime>(
    ws: WebSocketStream<S>,
    endpoint: &WebSocketEndpoint,
    inbox: Arc<Inbox>,
    outbox: Arc<WsOutbox>,
    stop: Arc<Stop>,
) {
    let mut ws = ws;
    // The connection's time starts now.
    ws.conn_mut().handle_timeout(R::now());
    let mut driver = Driver::<S, R> {
        ws,
        endpoint,
        inbox,
        outbox,
        shutdown: Box::pin(async move { stop.wait().await }),
        runtime: PhantomData,
        shutting_down: false,
        closing: false,
        stall: None,
        timer: ConnTimer::default(),
        clock: Clock::of::<R>(),
        failed: None,
    };
    let status = loop {
        let step = poll_fn(|cx| driver.poll_step(cx)).await;
        if let Some(status) = driver.handle(step) {
            break status;
        }
    };
    {
        let mut ob = driver.outbox.lock();
        ob.done = true;
        ob.wake_room_waiters();
    }
    driver.inbox.close(status);
}

impl<S: Io, R: Runtime> Driver<'_, S, R> {
    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Step> {
        self.take_outbox(cx);
        if !self.closing && self.shutting_down {
            self.closing = true;
            let _ = self
                .ws
                .conn_mut()
                .close(Some(CloseCode::GOING_AWAY), "Server shutting down");
        }
        // Writes: a write stuck for the send time limit ends the session.
        let flushed = self.ws.poll_flush_out(cx);
        if flushed.is_pending() {
            let limit = self.endpoint.common.send_time_limit;
            let stalled = self.stall.get_or_insert_with(|| timer::<R>(limit));
            if stalled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Step::SendStalled);
            }
        } else {
            self.stall = None;
            // Everything is written: come back for what waits in the outbox
            // (`take_outbox` stopped at the write limit), or it would wait
            // for the application's next send.
            if matches!(flushed, Poll::Ready(Ok(())))
                && !self.closing
                && !self.outbox.lock().queue.is_empty()
            {
                cx.waker().wake_by_ref();
            }
        }
        if !self.shutting_down && self.shutdown.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Step::Shutdown);
        }
        // Reads, one message at a time as the handler asks for them. While
        // it does not, the client's bytes wait unread: the liveness check
        // is told so. A closed connection has no message left, only its
        // end (or the timeout that ended it), which is read regardless.
        let demand = self.inbox.poll_demand(cx).is_ready();
        self.ws.conn_mut().set_reading_paused(!demand);
        if demand {
            // The handler put its answers to the last message into the
            // outbox before it asked for the next one, perhaps on another
            // thread since `take_outbox` ran above: take them into the
            // connection first, so that what the next frames bring (a
            // protocol error's close) cannot overtake them.
            self.take_outbox(cx);
        }
        if demand || self.ws.close_state() == CloseState::Closed {
            if let Poll::Ready(event) = self.ws.poll_next_event(cx) {
                return Poll::Ready(Step::Event(event));
            }
        }
        // Time, once what the transport held has been read.
        if self
            .timer
            .poll(self.ws.conn_mut(), self.clock, cx)
            .is_ready()
        {
            return Poll::Ready(Step::Time);
        }
        Poll::Pending
    }

    /// Moves the application's sends (and close) into the connection, as
    /// far as the client reads.
    fn take_outbox(&mut self, cx: &mut Context<'_>) {
        let mut ob = self.outbox.lock();
        if !self.closing {
            while self.ws.pending_out() < WRITE_LIMIT {
                let Some(message) = ob.queue.pop() else {
                    break;
                };
                if self.ws.conn_mut().send(message).is_err() {
                    ob.queue.clear();
                    break;
                }
            }
            if ob.queue.is_empty() {
                if let Some(close) = &ob.close {
                    self.closing = true;
                    let code = close.code;
                    let code = if code.is_valid_on_wire() {
                        code
                    } else {
                        CloseCode::NORMAL
                    };
                    let _ = self.ws.conn_mut().close(Some(code), &close.reason);
                }
            }
        }
        ob.wake_room_waiters();
        ob.waker = Some(cx.waker().clone());
    }

    /// Acts on a step; `Some` when the session is over.
    fn handle(&mut self, step: Step) -> Option<CloseStatus> {
        match step {
            Step::Event(Some(Ok(Event::Message(message)))) => self.inbox.push(message),
            // Pings, pongs and the close frame: the core answered them. Time:
            // what it queued (a ping) is written on the next step.
            Step::Event(Some(Ok(_))) | Step::Time => {}
            Step::Event(Some(Err(crate::Error::Protocol(ProtocolError::Timeout(timeout))))) => {
                return Some(self.timed_out(timeout));
            }
            Step::Event(Some(Err(e))) => {
                tracing::debug!(error = %e, "websocket error");
                if let crate::Error::Protocol(e) = &e {
                    if e.close_code().is_valid_on_wire() {
                        self.failed = Some(CloseStatus::new(e.close_code(), e.to_string()));
                    }
                }
            }
            Step::Event(None) => {
                return Some(match self.ws.peer_close_frame() {
                    _ if self.failed.is_some() => self.failed.take().expect("checked"),
                    Some(frame) => CloseStatus::from(frame.clone()),
                    None => self.outbox.lock().close.clone().unwrap_or_else(|| {
                        CloseStatus::new(CloseCode::ABNORMAL, "Connection ended")
                    }),
                });
            }
            Step::SendStalled => {
                tracing::debug!("send time limit exceeded");
                return Some(CloseStatus::new(
                    CloseCode::NOT_RELIABLE,
                    "Send time limit exceeded",
                ));
            }
            Step::Shutdown => self.shutting_down = true,
        }
        None
    }

    /// A timer of the connection ended the session; the transport is
    /// dropped with nothing more written.
    fn timed_out(&mut self, timeout: Timeout) -> CloseStatus {
        if timeout == Timeout::Pong {
            tracing::debug!("no answer to the liveness ping");
            return CloseStatus::new(CloseCode::ABNORMAL, "No answer to ping");
        }
        // The client did not answer the close frame in time.
        self.outbox
            .lock()
            .close
            .clone()
            .unwrap_or_else(|| CloseStatus::new(CloseCode::GOING_AWAY, "Server shutting down"))
    }
}
