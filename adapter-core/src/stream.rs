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
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_core::Stream;
use futures_sink::Sink;
use ws_proto::{CloseCode, CloseFrame, CloseState, Connection, Event, Message, MessageKind, Role};

use crate::runtime::{Io, Task};
use crate::Error;

/// The first read reservation, and the smallest: what an idle connection
/// costs at most.
const MIN_READ: usize = 4 * 1024;
/// The largest read reservation that repeated full reads grow to (never
/// more than the core's [`Connection::receive_capacity`]).
const MAX_READ: usize = 1024 * 1024;
/// An input buffer that may have grown past this is let go of as soon as it
/// is empty, so a connection that once received a large message does not
/// keep a large buffer while idle.
const KEEP_BUFFER: usize = 8 * 1024;
/// The most chunks handed to one vectored write.
const MAX_IOV: usize = 64;

/// A timer of the runtime: completes after the duration.
pub type SleepFn = fn(Duration) -> Task;

/// Settings of a stream that are not the core's.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long to wait for the transport to end after the close handshake.
    pub(crate) close_timeout: Duration,
    /// Queued output at which [`Sink::poll_ready`] waits for the transport.
    pub(crate) write_buffer_size: usize,
    /// The runtime's timer, for the close timeout (without one, a closed
    /// stream does not wait for the peer's end of file).
    pub(crate) sleep: Option<SleepFn>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            close_timeout: Duration::from_secs(5),
            write_buffer_size: 128 * 1024,
            sleep: None,
        }
    }
}

impl Settings {
    /// The default settings with the runtime's timer.
    pub fn with_timer(sleep: SleepFn) -> Self {
        Self {
            sleep: Some(sleep),
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
/// As a [`Stream`] (or with [`recv`](Self::recv)) it yields whole messages;
/// pings are answered and the peer's close is echoed by the core, and the
/// stream ends (`None`) once the close handshake is over and the transport
/// is closed. [`next_event`](Self::next_event) yields every
/// [`Event`] instead: pings, pongs, the peer's close frame, and data
/// fragments when [`Config::streaming`](ws_proto::Config::streaming) is on.
///
/// Reading also writes what the core queued (pongs, the close echo, the
/// close frame a protocol error calls for), so a connection that is only
/// read from still answers its peer. After a protocol error the close frame
/// is sent and the transport closed before the error is returned.
///
/// # Writing
///
/// [`send`](Self::send), [`ping`](Self::ping), [`close`](Self::close) queue
/// a frame in the core and wait until it is written; as a [`Sink`] it
/// buffers up to a bound (128 KiB by default) before waiting.
///
/// # Closing
///
/// Once both close frames went, a server shuts its side of the transport
/// down at once; a client waits for the server to close first (RFC 6455
/// §7.1.1), for at most the close timeout (5 s by default). Either then
/// reads until the peer's end of file, bounded by the same timeout, so that
/// unread input never turns the close into a reset. The close handshake
/// itself (waiting for the peer's close frame) is not bounded here: wrap the
/// reads in a timeout if the peer may never answer.
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
    /// The next read reservation.
    read_size: usize,
    /// The input buffer may have grown past [`KEEP_BUFFER`].
    big_buffer: bool,
    /// The transport reached end of file.
    read_eof: bool,
    /// The write half of the transport was shut down.
    shutdown: bool,
    /// The deadline for the peer's end of file, once the close handshake is over.
    linger: Option<Task>,
    /// Nothing more will be read.
    done: bool,
    /// An error to return once the transport is closed.
    error: Option<Error>,
    /// The close frame the peer sent.
    peer_close: Option<CloseFrame>,
    /// Bytes read from the transport so far.
    bytes_read: u64,
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
    /// carries the runtime's timer (adapters fill it in).
    pub fn from_connection(io: S, conn: Connection, settings: Settings) -> Self {
        Self::new(io, conn, settings)
    }

    pub(crate) fn new(io: S, conn: Connection, settings: Settings) -> Self {
        Self {
            io,
            conn,
            settings,
            out: VecDeque::new(),
            out_len: 0,
            unflushed: false,
            read_size: MIN_READ,
            big_buffer: false,
            read_eof: false,
            shutdown: false,
            linger: None,
            done: false,
            error: None,
            peer_close: None,
            bytes_read: 0,
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

    /// Sets how long to wait for the peer to end the transport after the
    /// close handshake (5 s by default).
    pub fn set_close_timeout(&mut self, timeout: Duration) {
        self.settings.close_timeout = timeout;
    }

    /// Sets how many bytes the [`Sink`] buffers before it waits for the
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
                // queueing pongs without bound.
                return Poll::Pending;
            }
            if let Err(e) = ready!(self.poll_read_input(cx)) {
                self.fail(e);
            }
        }
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
        // At least one byte: a full buffer then fails in the core with its
        // typed error, instead of reading as end of file here.
        let cap = self.conn.receive_capacity().max(1);
        let buf = self.conn.receive_buffer();
        if buf.is_empty() && self.big_buffer {
            // No frame in progress: start small again (what an idle
            // connection holds), and grow again if a transfer follows.
            *buf = BytesMut::new();
            self.big_buffer = false;
            self.read_size = MIN_READ;
        }
        let want = self.read_size.min(cap);
        if buf.len() + want > KEEP_BUFFER {
            self.big_buffer = true;
        }
        let n = ready!(self.io.poll_read_buf(cx, buf, want))?;
        self.bytes_read += n as u64;
        if n == 0 {
            self.read_eof = true;
        } else if n >= want {
            // The transport had more than we asked for: ask for more.
            self.read_size = want.saturating_mul(2).clamp(MIN_READ, MAX_READ);
        } else if n < want / 4 {
            self.read_size = (self.read_size / 2).max(MIN_READ);
        }
        Poll::Ready(Ok(()))
    }

    /// After the close handshake (or a failure): flush, shut down, and wait
    /// (bounded) for the peer's end of file. I/O errors here are ignored:
    /// the transport is going away either way.
    fn poll_close_transport(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let server = self.conn.role() == Role::Server;
        if server && !self.shutdown {
            let _ = ready!(self.io.poll_shutdown(cx));
            self.shutdown = true;
        }
        if let (false, Some(sleep)) = (self.read_eof, self.settings.sleep) {
            let timeout = self.settings.close_timeout;
            let linger = self.linger.get_or_insert_with(|| sleep(timeout));
            let mut scratch = [0u8; 512];
            loop {
                if linger.as_mut().poll(cx).is_ready() {
                    break;
                }
                match ready!(self.io.poll_read(cx, &mut scratch)) {
                    Ok(n) if n > 0 => {}
                    Ok(_) | Err(_) => {
                        self.read_eof = true;
                        break;
                    }
                }
            }
            self.linger = None;
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

    /// The core, to queue frames without waiting (the server's session
    /// driver does, and flushes with [`Self::poll_flush_out`]).
    pub(crate) fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Bytes read from the transport so far (any byte is a sign of life).
    pub(crate) fn bytes_read(&self) -> u64 {
        self.bytes_read
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
