//! The client side of SockJS, sans-IO: one session over websocket,
//! xhr-streaming or xhr-polling, with `/info`, fallback and every limit.
//! See [`Client`] for the driving loop.
//!
//! | piece | what it is |
//! | --- | --- |
//! | [`Client`] | one session: its connections, requests, frames, timers |
//! | [`ClientConfig`] | transports, timeouts, headers, cookies, limits |
//! | [`ClientEvent`], [`Closed`] | what the application is told |
//! | [`Output`], [`ConnId`] | what the embedder does with sockets |
//! | [`ServerFrame`] | one frame the server sent, parsed |
//! | [`Info`], [`retransmission_timeout`] | `/info` and the timeout it gives |

mod config;
mod conns;
mod event;
mod frames;
mod http;
mod info;
mod target;
mod websocket;

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ws_proto::CloseCode;

pub use config::{ClientConfig, ClientConfigError, DEFAULT_TRANSPORTS};
pub use conns::{ConnId, Connect};
pub use event::{is_clean, ClientError, ClientEvent, Closed, Failure, SendError};
pub use frames::{FrameError, ServerFrame};
pub use info::{retransmission_timeout, Info};

use crate::Transport;
use conns::{Conns, Role};
use target::{Cookies, Target};

/// Random bytes for the client: its server and session ids, WebSocket keys
/// and masks. The core reads no randomness of its own; give it a
/// cryptographically secure source (`getrandom`, `rand::rngs::OsRng`).
pub type Entropy = Arc<dyn Fn(&mut [u8]) + Send + Sync>;

/// What a [`Client`] asks of the embedder's sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// Open a connection; then [`Client::connected`] or
    /// [`Client::connection_failed`].
    Connect(Connect),
    /// Close this connection's socket now, without waiting for writes; the
    /// client forgets it.
    Close(ConnId),
}

/// Where the session is.
#[derive(Debug)]
enum Phase {
    /// Asking `/info`.
    Info(info::Pending),
    /// Trying a transport.
    Opening { attempt: Attempt, deadline: Instant },
    /// The session is open.
    Open(Attempt),
    /// The application closed the session: waiting for its sends (xhr) or
    /// the WebSocket's close.
    Closing {
        attempt: Attempt,
        deadline: Instant,
        closed: Closed,
    },
    /// Over: [`ClientEvent::Closed`] was queued.
    Closed,
}

/// One transport's try at a session.
#[derive(Debug)]
struct Attempt {
    transport: Transport,
    /// `/<server>/<session>`.
    path: String,
    kind: AttemptKind,
}

#[derive(Debug)]
enum AttemptKind {
    WebSocket(ConnId),
    Http(http::HttpAttempt),
}

/// A SockJS client session, sans-IO: bytes in, bytes out, one timer, no
/// clock, no socket.
///
/// It asks `GET <url>/info`, then tries the allowed transports in order
/// (websocket, xhr-streaming, xhr-polling by default), each on a new
/// session id under one server id, each with `max(transport_timeout, 2 ×
/// rto)` to deliver the open frame, `rto` being sockjs-client's
/// retransmission timeout from the `/info` round trip. Once open it reads
/// frames (a streaming response that ends is reopened on the same session,
/// so the server's `streamBytesLimit` loses nothing), batches what the
/// application sends into one `xhr_send` while another is in flight, keeps
/// the cookies the server sets, and reports one [`ClientEvent::Closed`]
/// at the end.
///
/// # The driving loop
///
/// ```text
/// let mut client = Client::new(&url, config, entropy, now)?;
/// loop {
///     while let Some(output) = client.poll_output() {
///         match output {
///             Output::Connect(c) => start connecting c.host:c.port (TLS if c.tls),
///             Output::Close(id) => drop that socket,
///         }
///     }
///     for each connected socket id:
///         while let Some(bytes) = client.poll_transmit(id) { write bytes }
///     while let Some(event) = client.poll_event() { hand it to the application }
///     if client.is_finished() { break }
///     wait for: a connect to finish  -> client.connected(id, now) / connection_failed(id, why, now)
///               a socket readable, if client.read_capacity(id) > 0
///                                      -> client.receive(id, &bytes, now), or receive_eof(id, now)
///               client.poll_timeout()  -> client.handle_timeout(now)
///               the application        -> client.send(text) / client.close(code, reason, now)
/// }
/// ```
///
/// Every method that depends on time takes `now`; `poll_timeout` names the
/// instant at which `handle_timeout` makes progress.
///
/// # Limits
///
/// A frame is at most [`ClientConfig::max_frame_size`] bytes (a longer one
/// closes the session with 1009); received messages wait for the
/// application up to [`ClientConfig::max_buffered_messages`] bytes, then
/// [`read_capacity`](Self::read_capacity) is zero until it takes some;
/// sends queue up to [`ClientConfig::send_buffer_limit`]; HTTP heads are
/// bounded by [`ClientConfig::http`]; `/info` bodies by 16 KiB. A server
/// that never answers `/info` fails after `info_timeout`, a transport that
/// never opens after its timeout; a close waits at most `close_timeout`.
pub struct Client {
    config: ClientConfig,
    target: Target,
    entropy: Entropy,
    server_id: String,
    cookies: Cookies,
    conns: Conns,
    phase: Phase,
    /// The `/info` answer, once read.
    info: Option<Info>,
    rto: Duration,
    /// Transports still to try, and why the tried ones failed.
    remaining: VecDeque<Transport>,
    failures: Vec<(Transport, Failure)>,
    /// When the session must be open by.
    open_by: Option<Instant>,
    events: VecDeque<ClientEvent>,
    /// Bytes of the messages in `events`.
    event_bytes: usize,
    outputs: VecDeque<Output>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server_id", &self.server_id)
            .field("phase", &self.phase)
            .field("events", &self.events.len())
            .finish_non_exhaustive()
    }
}

/// The alphabet of session ids: sockjs-client's.
const ID_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz012345";

impl Client {
    /// A client for the SockJS endpoint at `url` (`http://host:port/prefix`
    /// or `https://…`; a query is kept on every request). It starts at
    /// once: [`poll_output`](Self::poll_output) gives the `/info`
    /// connection.
    pub fn new(
        url: &::http::Uri,
        config: ClientConfig,
        entropy: Entropy,
        now: Instant,
    ) -> Result<Self, ClientConfigError> {
        config.validate()?;
        let target = Target::parse(url)?;
        let mut number = [0u8; 4];
        entropy(&mut number);
        let server_id = format!("{:03}", u32::from_le_bytes(number) % 1000);
        let cookies = Cookies::new(&config.cookies);
        let open_by = config.connect_timeout.map(|t| now + t);
        let mut client = Self {
            config,
            target,
            entropy,
            server_id,
            cookies,
            conns: Conns::default(),
            phase: Phase::Closed,
            info: None,
            rto: Duration::ZERO,
            remaining: VecDeque::new(),
            failures: Vec::new(),
            open_by: None,
            events: VecDeque::new(),
            event_bytes: 0,
            outputs: VecDeque::new(),
        };
        client.open_by = open_by;
        client.start_info(now);
        Ok(client)
    }

    // ---- getters ---------------------------------------------------------

    /// The server id (`000` to `999`) in every session URL.
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// The transport being tried or open, and the session's URL path under
    /// the prefix (`/<server>/<session>`).
    pub fn session(&self) -> Option<(Transport, &str)> {
        match &self.phase {
            Phase::Opening { attempt, .. }
            | Phase::Open(attempt)
            | Phase::Closing { attempt, .. } => Some((attempt.transport, attempt.path.as_str())),
            Phase::Info(_) | Phase::Closed => None,
        }
    }

    /// The `/info` answer, once read.
    pub fn info(&self) -> Option<&Info> {
        self.info.as_ref()
    }

    /// The retransmission timeout from the `/info` round trip (zero before).
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// Whether the session is open (sends are taken).
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open(_))
    }

    /// Whether everything is over: [`ClientEvent::Closed`] was queued and
    /// every connection was given back ([`Output::Close`]) or finished its
    /// WebSocket close. Drain the outputs and events, then stop.
    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Closed) && self.conns.is_empty()
    }

    /// Bytes the application sent that are not yet written out (or, on the
    /// xhr transports, not yet acknowledged by the server).
    pub fn buffered_amount(&self) -> usize {
        match &self.phase {
            Phase::Open(attempt) | Phase::Closing { attempt, .. } => match &attempt.kind {
                AttemptKind::Http(h) => h.buffered(),
                AttemptKind::WebSocket(id) => self.conns.ws_pending(*id),
            },
            _ => 0,
        }
    }

    // ---- application -----------------------------------------------------

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        let event = self.events.pop_front()?;
        if let ClientEvent::Message(m) = &event {
            self.event_bytes -= m.len();
        }
        Some(event)
    }

    /// Sends a message.
    ///
    /// # Errors
    ///
    /// [`SendError::NotOpen`] before the open event, [`SendError::Closed`]
    /// once closing or closed, [`SendError::Full`] when the message would
    /// take [`buffered_amount`](Self::buffered_amount) over
    /// [`ClientConfig::send_buffer_limit`] (a message larger than the
    /// limit is taken when nothing is buffered).
    pub fn send(&mut self, message: &str) -> Result<(), SendError> {
        let buffered = self.buffered_amount();
        let Phase::Open(attempt) = &mut self.phase else {
            return Err(match self.phase {
                Phase::Info(_) | Phase::Opening { .. } => SendError::NotOpen,
                _ => SendError::Closed,
            });
        };
        if buffered > 0 && buffered + message.len() > self.config.send_buffer_limit {
            return Err(SendError::Full);
        }
        match &mut attempt.kind {
            AttemptKind::WebSocket(id) => {
                let id = *id;
                self.ws_send(id, message);
            }
            AttemptKind::Http(h) => {
                h.queue(message);
                self.flush_sends();
            }
        }
        Ok(())
    }

    /// Closes the session with `code` (1000, or 3000 to 4999) and `reason`.
    ///
    /// Before the session opens, everything stops at once. On the
    /// websocket transport the WebSocket closes with that code (1000 for
    /// one that may not go in a close frame) and the reason cut to the 123
    /// bytes a close frame holds; on the xhr transports what was sent
    /// before goes out first, then the connections close (the server ends
    /// the session after its `disconnectDelay`). [`ClientEvent::Closed`]
    /// comes with this code and reason once done, or after
    /// [`ClientConfig::close_timeout`].
    pub fn close(&mut self, code: CloseCode, reason: &str, now: Instant) {
        let closed = Closed::new(code, reason, None);
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Open(attempt) => {
                let deadline = now + self.config.close_timeout;
                let done = match &attempt.kind {
                    AttemptKind::WebSocket(id) => {
                        self.conns.ws_close(*id, code, reason);
                        false
                    }
                    AttemptKind::Http(h) => h.buffered() == 0,
                };
                self.phase = Phase::Closing {
                    attempt,
                    deadline,
                    closed,
                };
                if done {
                    self.complete_close(None);
                }
            }
            phase @ (Phase::Closing { .. } | Phase::Closed) => self.phase = phase,
            Phase::Info(_) | Phase::Opening { .. } => self.finish(closed),
        }
        self.start_ws_timers(now);
    }

    // ---- sockets ---------------------------------------------------------

    /// What to do with sockets next.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The connection `id` is open. (It takes `now` as every input does;
    /// nothing here depends on time yet.)
    pub fn connected(&mut self, id: ConnId, _now: Instant) {
        self.conns.connected(id);
    }

    /// The connection `id` could not be made, or failed reading or
    /// writing; `why` is for the error the application sees. The client
    /// forgets it (no [`Output::Close`] follows).
    pub fn connection_failed(&mut self, id: ConnId, why: &str, now: Instant) {
        if let Some(role) = self.conns.remove(id) {
            self.failed(role, Failure::Connection(why.to_owned()), now);
        }
        self.start_ws_timers(now);
    }

    /// How many bytes to read from `id` at most now, never more than 16
    /// KiB: zero while the application is behind (received messages over
    /// [`ClientConfig::max_buffered_messages`]), or when `id` is not a
    /// connected socket of this client.
    pub fn read_capacity(&self, id: ConnId) -> usize {
        let behind = self.event_bytes >= self.config.max_buffered_messages;
        self.conns.read_capacity(id, behind)
    }

    /// Bytes read from `id`.
    pub fn receive(&mut self, id: ConnId, data: &[u8], now: Instant) {
        self.conns.receive(id, data);
        self.drive(id, now);
        self.start_ws_timers(now);
    }

    /// The server closed `id`'s read side.
    pub fn receive_eof(&mut self, id: ConnId, now: Instant) {
        self.conns.receive_eof(id);
        self.drive(id, now);
        self.start_ws_timers(now);
    }

    /// The next bytes to write to `id` (nothing before it is connected).
    #[must_use]
    pub fn poll_transmit(&mut self, id: ConnId) -> Option<Bytes> {
        self.conns.poll_transmit(id)
    }

    // ---- time ------------------------------------------------------------

    /// When [`handle_timeout`](Self::handle_timeout) next makes progress.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let (phase, opening) = match &self.phase {
            Phase::Info(pending) => (Some(pending.deadline), true),
            Phase::Opening { deadline, .. } => (Some(*deadline), true),
            Phase::Closing { deadline, .. } => (Some(*deadline), false),
            Phase::Open(_) | Phase::Closed => (None, false),
        };
        let open_by = self.open_by.filter(|_| opening);
        [phase, open_by, self.conns.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Time passed: deadlines at or before `now` take effect.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.start_ws_timers(now);
        let opening = matches!(self.phase, Phase::Info(_) | Phase::Opening { .. });
        if opening && self.open_by.is_some_and(|t| t <= now) {
            let error = Some(ClientError::ConnectTimeout);
            self.finish(Closed::new(2007, "Connect timed out", error));
        } else {
            self.phase_timeout(now);
        }
        self.start_ws_timers(now);
    }

    /// The phase's own deadline, if it passed.
    fn phase_timeout(&mut self, now: Instant) {
        match &self.phase {
            Phase::Info(pending) if pending.deadline <= now => {
                let id = pending.conn;
                self.close_conn(id);
                self.info_failed(Failure::Timeout);
            }
            Phase::Opening { deadline, .. } if *deadline <= now => {
                self.attempt_failed(Failure::Timeout, now);
            }
            Phase::Closing { deadline, .. } if *deadline <= now => {
                self.complete_close(Some(ClientError::CloseTimeout));
            }
            _ => {}
        }
    }

    // ---- shared inner steps ------------------------------------------------

    /// Runs the WebSocket timers due at `now`, and so starts those that a
    /// close queued outside [`handle_timeout`](Self::handle_timeout) left
    /// waiting for a time (the application's close, the server's close
    /// frame, a protocol error, a lingering close at the session's end):
    /// without this, such a timer would start at the WebSocket's last
    /// reading of the clock, and `poll_timeout` name an instant before
    /// `now`. Driving a connection may queue one more close (a session
    /// that ends closes the others): a few rounds settle it.
    fn start_ws_timers(&mut self, now: Instant) {
        for _ in 0..4 {
            let due = self.conns.handle_timeout(now);
            if due.is_empty() {
                return;
            }
            for id in due {
                self.drive(id, now);
            }
        }
    }

    /// Runs what `id`'s new input or state gives.
    fn drive(&mut self, id: ConnId, now: Instant) {
        match self.conns.role(id) {
            Some(Role::WebSocket) => self.drive_ws(id, now),
            Some(_) => self.drive_http(id, now),
            None => {}
        }
    }

    /// Queues an event for the application.
    fn emit(&mut self, event: ClientEvent) {
        if let ClientEvent::Message(m) = &event {
            self.event_bytes += m.len();
        }
        self.events.push_back(event);
    }

    /// Opens a connection for `role`.
    fn open_conn(&mut self, role: Role) -> ConnId {
        let connect = self.conns.open(role, &self.target, self.config.http);
        let id = connect.id;
        self.outputs.push_back(Output::Connect(connect));
        id
    }

    /// Gives `id` back to the embedder.
    fn close_conn(&mut self, id: ConnId) {
        if self.conns.remove(id).is_some() {
            self.outputs.push_back(Output::Close(id));
        }
    }

    /// A fresh random session id.
    fn session_id(&self) -> String {
        let mut bytes = [0u8; 8];
        (self.entropy)(&mut bytes);
        bytes
            .iter()
            .map(|b| char::from(ID_ALPHABET[usize::from(b % 32)]))
            .collect()
    }

    /// A connection of `role` failed with `failure`.
    fn failed(&mut self, role: Role, failure: Failure, now: Instant) {
        match (role, &self.phase) {
            (Role::Info, Phase::Info(_)) => self.info_failed(failure),
            (Role::Receive | Role::WebSocket, Phase::Opening { .. }) => {
                self.attempt_failed(failure, now);
            }
            (Role::Receive | Role::WebSocket | Role::Send, Phase::Open(a)) => {
                let transport = a.transport;
                self.transport_lost(transport, role, failure);
            }
            (_, Phase::Closing { .. }) => {
                self.complete_close(None);
            }
            _ => {}
        }
    }

    /// The open session's transport failed.
    fn transport_lost(&mut self, transport: Transport, role: Role, failure: Failure) {
        let (code, reason) = match &failure {
            Failure::Frame(FrameError::TooLong(_)) => {
                (CloseCode::MESSAGE_TOO_BIG, "Message too big")
            }
            Failure::WebSocket(e) if e.close_code() == CloseCode::MESSAGE_TOO_BIG => {
                (CloseCode::MESSAGE_TOO_BIG, "Message too big")
            }
            Failure::Frame(_) => (CloseCode::PROTOCOL_ERROR, "Broken frame"),
            _ if role == Role::Send => (CloseCode::ABNORMAL, "Sending error"),
            _ if transport == Transport::WebSocket => {
                (CloseCode::ABNORMAL, "WebSocket connection broken")
            }
            _ => (CloseCode::ABNORMAL, "Connection lost"),
        };
        let error = ClientError::Transport { transport, failure };
        self.finish(Closed::new(code, reason, Some(error)));
    }

    /// The transport being tried failed: the next one, or the end.
    fn attempt_failed(&mut self, failure: Failure, now: Instant) {
        let Phase::Opening { attempt, .. } = std::mem::replace(&mut self.phase, Phase::Closed)
        else {
            return;
        };
        self.drop_attempt(&attempt);
        self.emit(ClientEvent::Fallback {
            transport: attempt.transport,
            failure: failure.clone(),
        });
        self.failures.push((attempt.transport, failure));
        self.start_next(now);
    }

    /// Starts the next transport, or ends with 2000.
    fn start_next(&mut self, now: Instant) {
        while let Some(transport) = self.remaining.pop_front() {
            let path = format!("/{}/{}", self.server_id, self.session_id());
            let kind = if transport == Transport::WebSocket {
                match self.start_ws(&path) {
                    Ok(id) => AttemptKind::WebSocket(id),
                    Err(failure) => {
                        self.failures.push((transport, failure));
                        continue;
                    }
                }
            } else {
                AttemptKind::Http(http::HttpAttempt::new(self.config.max_frame_size))
            };
            let timeout = self.config.transport_timeout.max(self.rto * 2);
            self.phase = Phase::Opening {
                attempt: Attempt {
                    transport,
                    path,
                    kind,
                },
                deadline: now + timeout,
            };
            if transport != Transport::WebSocket {
                self.start_receive();
            }
            return;
        }
        let error = if self.failures.is_empty() {
            ClientError::NoTransport
        } else {
            ClientError::AllTransportsFailed(std::mem::take(&mut self.failures))
        };
        self.finish(Closed::new(2000, "All transports failed", Some(error)));
    }

    /// Closes every connection of `attempt`.
    fn drop_attempt(&mut self, attempt: &Attempt) {
        match &attempt.kind {
            AttemptKind::WebSocket(id) => self.close_conn(*id),
            AttemptKind::Http(h) => {
                for id in h.conns() {
                    self.close_conn(id);
                }
            }
        }
    }

    /// The application's close is complete (or timed out).
    fn complete_close(&mut self, error: Option<ClientError>) {
        if let Phase::Closing { closed, .. } = &mut self.phase {
            let mut closed = closed.clone();
            if closed.error.is_none() {
                closed.error = error;
            }
            self.finish(closed);
        }
    }

    /// Ends the session: the last event, and every connection given back
    /// (a WebSocket that can still close cleanly closes first).
    fn finish(&mut self, closed: Closed) {
        self.phase = Phase::Closed;
        self.emit(ClientEvent::Closed(closed));
        for id in self.conns.ids() {
            if !self.conns.ws_linger(id) {
                self.close_conn(id);
            }
        }
    }

    /// A frame of the session's transport.
    fn frame(&mut self, frame: ServerFrame) -> Result<(), FrameError> {
        match frame {
            ServerFrame::Open => match std::mem::replace(&mut self.phase, Phase::Closed) {
                Phase::Opening { attempt, .. } => {
                    self.failures.clear();
                    self.emit(ClientEvent::Open(attempt.transport));
                    if attempt.transport == Transport::WebSocket {
                        // No HTTP request follows: the kept-alive `/info`
                        // connection is given back.
                        for id in self.conns.idle() {
                            self.close_conn(id);
                        }
                    }
                    self.phase = Phase::Open(attempt);
                    Ok(())
                }
                phase => {
                    let open = matches!(phase, Phase::Open(_));
                    self.phase = phase;
                    if open {
                        Err(FrameError::SecondOpen)
                    } else {
                        Ok(())
                    }
                }
            },
            ServerFrame::Close(frame) => {
                if matches!(self.phase, Phase::Opening { .. } | Phase::Open(_)) {
                    self.finish(Closed::new(frame.code, frame.reason, None));
                }
                Ok(())
            }
            ServerFrame::Heartbeat | ServerFrame::Messages(_)
                if matches!(self.phase, Phase::Opening { .. }) =>
            {
                Err(FrameError::NotOpenYet)
            }
            ServerFrame::Heartbeat if self.is_open() => {
                self.emit(ClientEvent::Heartbeat);
                Ok(())
            }
            ServerFrame::Messages(messages) if self.is_open() => {
                for m in messages {
                    self.emit(ClientEvent::Message(m));
                }
                Ok(())
            }
            // Closing or closed: what still arrives is not delivered.
            ServerFrame::Heartbeat | ServerFrame::Messages(_) => Ok(()),
        }
    }
}
