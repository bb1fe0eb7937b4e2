//! [`WebSocketStream`]: a ws-proto [`Connection`] driven over any byte
//! stream ([`Io`]).
//!
//! Every poll function follows the core's drain order: decode every event
//! the buffered input holds, write what the core queued, read more input
//! only when nothing is left to decode. No state lives in a future: it is
//! all in the core and in this struct, so every future here is cancel-safe.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_core::Stream;
use futures_sink::Sink;
use ws_proto::{CloseCode, CloseFrame, CloseState, Connection, Event, Message, MessageKind, Role};

use crate::clock::{Clock, ConnTimer};
use crate::runtime::Io;
use crate::Error;

/// The most chunks handed to one vectored write.
const MAX_IOV: usize = 64;

/// Settings of a stream that are not the core's.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Queued output at which [`Sink::poll_ready`] waits for the transport.
    pub(crate) write_buffer_size: usize,
    /// The runtime's clock, for the connection's timers (without one, no
    /// timer runs and a closed stream does not wait for the peer's end of
    /// file).
    pub(crate) clock: Option<Clock>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            write_buffer_size: 128 * 1024,
            clock: None,
        }
    }
}

impl Settings {
    /// The default settings with the runtime's clock.
    pub fn with_clock(clock: Clock) -> Self {
        Self {
            clock: Some(clock),
            ..Self::default()
        }
    }
}

/// A WebSocket connection over a transport `S`, after the opening handshake.
///
/// Open one with [`accept`](crate::accept) (server),
/// [`connect`](crate::connect) or [`connect_url`](crate::connect_url)
/// (client), or wrap a [`Connection`] whose handshake was done elsewhere with
/// [`from_connection`](Self::from_connection).
///
/// # Reading
///
/// As a [`Stream`](https://docs.rs/futures-core/0.3/futures_core/stream/trait.Stream.html) (or with [`recv`](Self::recv)) it yields whole messages;
/// pings are answered and the peer's close is echoed by the core, and the
/// stream ends (`None`) once the close handshake is over and the transport
/// is closed. [`next_event`](Self::next_event) yields every
/// [`Event`] instead: pings, pongs, the peer's close frame, and data
/// fragments when
/// [`WebSocketConfig::streaming`](ws_proto::WebSocketConfig::streaming) is on.
///
/// Reading also writes what the core queued (pongs, the close echo, the
/// close frame a protocol error calls for), so a connection that is only
/// read from still answers its peer. After a protocol error the close frame
/// is sent and the transport closed before the error is returned.
///
/// # Writing
///
/// [`send`](Self::send), [`ping`](Self::ping), [`close`](Self::close) queue
/// a frame in the core and wait until it is written; as a [`Sink`](https://docs.rs/futures-sink/0.3/futures_sink/trait.Sink.html) it
/// buffers up to a bound (128 KiB by default) before waiting.
///
/// # Closing
///
/// Once both close frames went, a server shuts its side of the transport
/// down at once; a client waits for the server to close first (RFC 6455
/// §7.1.1). Either then reads until the peer's end of file, so that unread
/// input never turns the close into a reset. The whole close handshake,
/// from this end's close frame to the peer's end of file, is bounded by the
/// core's
/// [`WebSocketConfig::close_timeout`](ws_proto::WebSocketConfig::close_timeout)
/// (5 s by default): past it, a peer that never sent its close frame makes
/// the stream end with
/// [`ProtocolError::Timeout`](ws_proto::ProtocolError::Timeout), and one that
/// only kept the transport open ends it quietly.
///
/// # Time
///
/// A stream opened by an adapter has the runtime's clock and runs the
/// core's timers ([`ws_proto::Connection::poll_timeout`]) while it is read:
/// the close timeout, and with
/// [`WebSocketConfig::ping_interval`](ws_proto::WebSocketConfig::ping_interval)
/// the liveness check, which fails a dead peer with
/// [`ProtocolError::Timeout`](ws_proto::ProtocolError::Timeout) and drops
/// the transport. Everything the transport holds is read before a timer is
/// handled, and a stream that stops reading because its peer does not read
/// (more than the write buffer waits) tells the core so, so a live peer
/// never looks dead; such a peer is then left to the close timeout or to a
/// timeout around the writes. Between reads (while the stream is not
/// polled) no timer runs.
///
/// # Cancel safety
///
/// Every method and poll function is cancel-safe: all state lives in the
/// stream. A cancelled [`send`](Self::send) may still have queued its frame,
/// which the next read or write then sends.
// The flags are independent facts about the transport, not a state machine.
#[allow(clippy::struct_excessive_bools)]
pub struct WebSocketStream<S> {
    io: S,
    conn: Connection,
    settings: Settings,
    /// Chunks taken from the core and not yet written; the first one may be
    /// partly written already.
    out: VecDeque<Bytes>,
    /// Bytes in `out`.
    out_len: usize,
    /// Bytes were written since the transport was last flushed.
    unflushed: bool,
    /// The transport reached end of file.
    read_eof: bool,
    /// The write half of the transport was shut down.
    shutdown: bool,
    /// The one timer, armed at the core's `poll_timeout`.
    timer: ConnTimer,
    /// Nothing more will be read.
    done: bool,
    /// An error to return once the transport is closed.
    error: Option<Error>,
    /// The close frame the peer sent.
    peer_close: Option<CloseFrame>,
}

impl<S> fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("conn", &self.conn)
            .field("out_len", &self.out_len)
            .field("read_eof", &self.read_eof)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<S> WebSocketStream<S>
where
    S: Io,
{
    /// Wraps a connection whose opening handshake is done: `conn` must
    /// already hold any bytes that followed the handshake. `settings`
    /// carries the runtime's clock (adapters fill it in); with it, the
    /// connection's time starts now.
    pub fn from_connection(io: S, conn: Connection, settings: Settings) -> Self {
        Self::new(io, conn, settings)
    }

    pub(crate) fn new(io: S, mut conn: Connection, settings: Settings) -> Self {
        if let Some(clock) = settings.clock {
            conn.handle_timeout((clock.now)());
        }
        Self {
            io,
            conn,
            settings,
            out: VecDeque::new(),
            out_len: 0,
            unflushed: false,
            read_eof: false,
            shutdown: false,
            timer: ConnTimer::default(),
            done: false,
            error: None,
            peer_close: None,
        }
    }

    // ---- getters -------------------------------------------------------

    /// The core: its role, configuration and close state.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Where the close handshake stands.
    pub fn close_state(&self) -> CloseState {
        self.conn.close_state()
    }

    /// The close frame the peer sent, once it arrived (`None` also when it
    /// sent one with no status code).
    pub fn peer_close_frame(&self) -> Option<&CloseFrame> {
        self.peer_close.as_ref()
    }

    /// The transport.
    pub fn get_ref(&self) -> &S::Inner {
        self.io.get_ref()
    }

    /// The transport. Reading from or writing to it corrupts the stream.
    pub fn get_mut(&mut self) -> &mut S::Inner {
        self.io.get_mut()
    }

    /// Sets how many bytes the [`Sink`](https://docs.rs/futures-sink/0.3/futures_sink/trait.Sink.html) buffers before it waits for the
    /// transport (128 KiB by default).
    pub fn set_write_buffer_size(&mut self, bytes: usize) {
        self.settings.write_buffer_size = bytes;
    }

    // ---- reading -------------------------------------------------------

    /// The next whole message; `None` once the connection is closed.
    /// Pings, pongs and the close frame are handled by the core and skipped.
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The next event: messages, pings, pongs, the peer's close frame (the
    /// echo is already queued), and fragments in streaming mode. `None` once
    /// the close handshake is over and the transport is closed.
    pub async fn next_event(&mut self) -> Option<Result<Event, Error>> {
        poll_fn(|cx| self.poll_next_event(cx)).await
    }

    /// Polls for the next event; see [`next_event`](Self::next_event).
    pub fn poll_next_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Event, Error>>> {
        loop {
            if self.done {
                return Poll::Ready(self.error.take().map(Err));
            }
            match self.conn.poll_event() {
                Ok(Some(event)) => {
                    if let Event::Close(frame) = &event {
                        self.peer_close.clone_from(frame);
                    }
                    // Send what the event queued (a pong, the close echo)
                    // now if the transport takes it; otherwise on the next poll.
                    if let Poll::Ready(Err(e)) = self.poll_flush_out(cx) {
                        self.write_failed(e);
                    }
                    return Poll::Ready(Some(Ok(event)));
                }
                Ok(None) => {}
                Err(e) => self.error = Some(e.into()),
            }
            if self.conn.timed_out().is_some() {
                // A timer ended the connection: nothing more is written,
                // nothing more is waited for.
                self.abandon();
                continue;
            }
            let written = match self.poll_flush_out(cx) {
                Poll::Ready(Ok(())) => true,
                Poll::Pending => false,
                Poll::Ready(Err(e)) => {
                    self.write_failed(e);
                    continue;
                }
            };
            if self.conn.close_state() == CloseState::Closed {
                if !written {
                    if self.poll_timer(cx).is_ready() {
                        continue;
                    }
                    return Poll::Pending;
                }
                ready!(self.poll_close_transport(cx));
                self.done = true;
                continue;
            }
            if self.read_eof {
                // The core turns this into `ProtocolError::UnexpectedEof`.
                self.conn.receive_eof();
                continue;
            }
            if !written && self.pending_out() >= self.settings.write_buffer_size {
                // The peer does not read: stop reading too, rather than
                // queueing pongs without bound (and tell the liveness check).
                self.conn.set_reading_paused(true);
                if self.poll_timer(cx).is_ready() {
                    continue;
                }
                return Poll::Pending;
            }
            self.conn.set_reading_paused(false);
            match self.poll_read_input(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => self.fail(e),
                // Everything the transport held is read: now time.
                Poll::Pending => {
                    if self.poll_timer(cx).is_ready() {
                        continue;
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    /// Polls the one timer: `Ready` when the core handled its time (drain
    /// it again), `Pending` with the next deadline armed (or none, without
    /// a clock).
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match self.settings.clock {
            Some(clock) => self.timer.poll(&mut self.conn, clock, cx),
            None => Poll::Pending,
        }
    }

    /// A timer ended the connection: drop what waits to be written and end
    /// the stream (the transport closes when the stream is dropped).
    fn abandon(&mut self) {
        self.out.clear();
        self.out_len = 0;
        self.unflushed = false;
        self.done = true;
    }

    /// A write failed. Once the close handshake is over (or failed) the
    /// peer may well have gone already: that ends the stream as planned.
    /// Before, it is an error.
    fn write_failed(&mut self, e: io::Error) {
        if self.conn.close_state() == CloseState::Closed {
            self.out.clear();
            self.out_len = 0;
            while self.conn.poll_transmit().is_some() {}
            self.unflushed = false;
            self.read_eof = true;
            self.shutdown = true;
        } else {
            self.fail(e);
        }
    }

    /// The transport failed: nothing more can be read or written.
    fn fail(&mut self, e: io::Error) {
        if self.error.is_none() {
            self.error = Some(e.into());
        }
        self.done = true;
        self.out.clear();
        self.out_len = 0;
    }

    /// Reads once into the core's input buffer.
    fn poll_read_input(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (buf, want) = self.conn.read_buffer();
        let n = ready!(self.io.poll_read_buf(cx, buf, want))?;
        self.conn.read_done(want, n);
        if n == 0 {
            self.read_eof = true;
        }
        Poll::Ready(Ok(()))
    }

    /// After the close handshake (or a failure): flush, shut down, and wait
    /// for the peer's end of file, until the core's close timeout runs out.
    /// I/O errors here are ignored: the transport is going away either way.
    fn poll_close_transport(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let server = self.conn.role() == Role::Server;
        if server && !self.shutdown {
            let _ = ready!(self.io.poll_shutdown(cx));
            self.shutdown = true;
        }
        if !self.read_eof && self.settings.clock.is_some() {
            let mut scratch = [0u8; 512];
            while self.conn.timed_out().is_none() {
                match self.io.poll_read(cx, &mut scratch) {
                    Poll::Ready(Ok(n)) if n > 0 => {}
                    Poll::Ready(Ok(_) | Err(_)) => {
                        self.read_eof = true;
                        self.conn.receive_eof();
                        break;
                    }
                    Poll::Pending => ready!(self.poll_timer(cx)),
                }
            }
        }
        if !self.shutdown {
            let _ = ready!(self.io.poll_shutdown(cx));
            self.shutdown = true;
        }
        Poll::Ready(())
    }

    // ---- writing -------------------------------------------------------

    /// Sends a whole message and waits until it is written and flushed.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Error> {
        self.conn.send(message.into())?;
        self.flush().await
    }

    /// Sends one fragment of a message (see [`Connection::send_fragment`])
    /// and waits until it is written.
    pub async fn send_fragment(
        &mut self,
        kind: MessageKind,
        payload: Bytes,
        fin: bool,
    ) -> Result<(), Error> {
        self.conn.send_fragment(kind, payload, fin)?;
        self.flush().await
    }

    /// Sends a ping (at most 125 bytes) and waits until it is written. The
    /// pong comes back as [`Event::Pong`] from [`next_event`](Self::next_event).
    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.ping(payload)?;
        self.flush().await
    }

    /// Sends an unsolicited pong (at most 125 bytes) and waits until it is
    /// written.
    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), Error> {
        self.conn.pong(payload)?;
        self.flush().await
    }

    /// Starts the close handshake with a code and a reason (at most 123
    /// bytes) and waits until the close frame is written. Keep reading until
    /// `None` to see the rest of the peer's data and finish the handshake.
    pub async fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), Error> {
        self.conn.close(Some(code), reason)?;
        self.flush().await
    }

    /// Writes and flushes everything queued.
    pub async fn flush(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_flush_out(cx)).await?;
        Ok(())
    }

    /// Bytes queued and not yet written.
    pub(crate) fn pending_out(&self) -> usize {
        self.out_len + self.conn.pending_transmit()
    }

    /// Writes everything queued, then flushes the transport.
    pub(crate) fn poll_flush_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_out(cx))?;
        if self.unflushed {
            ready!(self.io.poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Writes everything queued (vectored when the transport supports it).
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.done {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        }
        loop {
            while self.out.len() < MAX_IOV {
                match self.conn.poll_transmit() {
                    Some(chunk) if chunk.is_empty() => {}
                    Some(chunk) => {
                        self.out_len += chunk.len();
                        self.out.push_back(chunk);
                    }
                    None => break,
                }
            }
            let Some(first) = self.out.front() else {
                return Poll::Ready(Ok(()));
            };
            let io = &mut self.io;
            let n = if self.out.len() > 1 && io.is_write_vectored() {
                let mut slices = [IoSlice::new(&[]); MAX_IOV];
                for (slice, chunk) in slices.iter_mut().zip(&self.out) {
                    *slice = IoSlice::new(chunk);
                }
                ready!(io.poll_write_vectored(cx, &slices[..self.out.len()]))?
            } else {
                ready!(io.poll_write(cx, first))?
            };
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.unflushed = true;
            self.out_len -= n;
            let mut left = n;
            while left > 0 {
                let Some(front) = self.out.front_mut() else {
                    break;
                };
                if front.len() <= left {
                    left -= front.len();
                    self.out.pop_front();
                } else {
                    front.advance(left);
                    left = 0;
                }
            }
        }
    }
}

impl<S> Stream for WebSocketStream<S>
where
    S: Io,
{
    type Item = Result<Message, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match ready!(this.poll_next_event(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                Some(Ok(Event::Message(message))) => return Poll::Ready(Some(Ok(message))),
                Some(Ok(Event::Fragment(_))) => {
                    return Poll::Ready(Some(Err(Error::UnexpectedFragment)));
                }
                // Pings, pongs and the close frame: the core answered them.
                Some(Ok(_)) => {}
            }
        }
    }
}

impl<S> Sink<Message> for WebSocketStream<S>
where
    S: Io,
{
    type Error = Error;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if this.pending_out() >= this.settings.write_buffer_size {
            ready!(this.poll_write_out(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.get_mut().conn.send(message)?;
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        ready!(self.get_mut().poll_flush_out(cx))?;
        Poll::Ready(Ok(()))
    }

    /// Starts the close handshake with 1000 (normal closure) if it was not
    /// started yet, and flushes. Keep reading the stream until `None` to
    /// finish the handshake.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        let this = self.get_mut();
        if this.conn.can_send() {
            this.conn.close(Some(CloseCode::NORMAL), "")?;
        }
        ready!(this.poll_flush_out(cx))?;
        Poll::Ready(Ok(()))
    }
}
