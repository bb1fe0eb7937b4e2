//! A plain WebSocket session: drives a [`WebSocketStream`] between the
//! client, the session's inbox and its outbox.

use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use ws_proto::{CloseCode, Event};

use super::endpoint::WebSocketEndpoint;
use super::session::{CloseStatus, Inbox, WsOutbox};
use crate::runtime::{Io, Runtime};
use crate::sync::Stop;
use crate::WebSocketStream;

/// How long the peer has to answer a close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Output queued in the connection at which the outbox is left alone.
const WRITE_LIMIT: usize = 64 * 1024;

/// What woke the driver.
enum Step {
    Event(Option<Result<Event, crate::Error>>),
    /// The liveness timer fired.
    Liveness,
    /// A write has been stuck for the send time limit.
    SendStalled,
    /// The server is shutting down.
    Shutdown,
    /// The peer did not finish the close handshake in time.
    CloseTimeout,
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
    close_deadline: Option<Timer<R>>,
    /// Since when the pending write has been stuck.
    stall: Option<Timer<R>>,
    liveness: Option<Timer<R>>,
    /// The bytes read when the liveness timer was last armed.
    seen: u64,
    /// A liveness ping went out and nothing came since.
    pinged: bool,
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
    let mut driver = Driver::<S, R> {
        seen: ws.bytes_read(),
        ws,
        endpoint,
        inbox,
        outbox,
        shutdown: Box::pin(async move { stop.wait().await }),
        runtime: PhantomData,
        shutting_down: false,
        closing: false,
        close_deadline: None,
        stall: None,
        liveness: endpoint.ping_interval.map(timer::<R>),
        pinged: false,
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
        if self.closing {
            let deadline = self
                .close_deadline
                .get_or_insert_with(|| timer::<R>(CLOSE_TIMEOUT));
            if deadline.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Step::CloseTimeout);
            }
        }
        if let Some(timer) = self.liveness.as_mut() {
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Step::Liveness);
            }
        }
        // Reads, one message at a time as the handler asks for them.
        if self.inbox.poll_demand(cx).is_ready() {
            // The handler put its answers to the last message into the
            // outbox before it asked for the next one, perhaps on another
            // thread since `take_outbox` ran above: take them into the
            // connection first, so that what the next frames bring (a
            // protocol error's close) cannot overtake them.
            self.take_outbox(cx);
            if let Poll::Ready(event) = self.ws.poll_next_event(cx) {
                return Poll::Ready(Step::Event(event));
            }
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
                    let code = CloseCode::from(close.code);
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
            // Pings, pongs and the close frame: the core answered them.
            Step::Event(Some(Ok(_))) => {}
            Step::Event(Some(Err(e))) => {
                tracing::debug!(error = %e, "websocket error");
                if let crate::Error::Protocol(e) = &e {
                    if e.close_code().is_valid_on_wire() {
                        let code = u16::from(e.close_code());
                        self.failed = Some(CloseStatus::new(code, e.to_string()));
                    }
                }
            }
            Step::Event(None) => {
                return Some(match self.ws.peer_close_frame() {
                    _ if self.failed.is_some() => self.failed.take().expect("checked"),
                    Some(frame) => CloseStatus::new(frame.code.into(), frame.reason.clone()),
                    None => self.outbox.lock().close.clone().unwrap_or_else(|| {
                        CloseStatus::new(CloseStatus::ABNORMAL, "Connection ended")
                    }),
                });
            }
            Step::SendStalled => {
                tracing::debug!("send time limit exceeded");
                return Some(CloseStatus::new(
                    CloseStatus::NOT_RELIABLE,
                    "Send time limit exceeded",
                ));
            }
            Step::Shutdown => self.shutting_down = true,
            Step::CloseTimeout => {
                return Some(self.outbox.lock().close.clone().unwrap_or_else(|| {
                    CloseStatus::new(CloseStatus::GOING_AWAY, "Server shutting down")
                }));
            }
            Step::Liveness => return self.liveness(),
        }
        None
    }

    /// The liveness timer fired: alive if anything was read since it was
    /// armed; else ping, and after another silent pong timeout, give up.
    fn liveness(&mut self) -> Option<CloseStatus> {
        let interval = self.endpoint.ping_interval?;
        let read = self.ws.bytes_read();
        let busy = !self.inbox.has_demand();
        let next = if read != self.seen || busy {
            // Alive, or not read from because the handler is busy.
            self.seen = read;
            self.pinged = false;
            interval
        } else if !self.pinged {
            self.pinged = true;
            let _ = self.ws.conn_mut().ping(b"");
            self.endpoint.pong_timeout
        } else {
            tracing::debug!("no answer to the liveness ping");
            return Some(CloseStatus::new(CloseStatus::ABNORMAL, "No answer to ping"));
        };
        self.liveness = Some(timer::<R>(next));
        None
    }
}
