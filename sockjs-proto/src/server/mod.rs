//! The SockJS server core: requests in, responses, receivers and events out.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use http::header::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, HOST, IF_NONE_MATCH, ORIGIN, SET_COOKIE, X_FRAME_OPTIONS,
};
use http::Method;
use ws_proto::{CloseFrame, Utf8Bytes};

use crate::config::{SockJsConfig, SockJsConfigError};
use crate::http::{
    cache_for_a_year, cors, etag_of, method_not_allowed, no_cache, not_found, preflight, response,
    text, Build as _, Req, RequestContext, Response, APPLICATION_JSON, TEXT_HTML, TEXT_PLAIN,
};
use crate::iframe;
use crate::origin::AllowedOrigins;
use crate::prepared::{Pending, PreparedText};
use crate::route::Route;
use crate::session::{
    CloseReason, Event, Output, Receiver, ReceiverId, ReceiverKind, Session, SessionId, State,
};
use crate::slab::{Key, Slab};
use crate::timers::{earliest, Deadline, DeadlineStore, Timers};
use crate::transport::Transport;

mod http_transports;
mod refusal;
mod websocket;

/// What to answer a request with: `http::Response<Bytes>`s, whose headers
/// leave out the framing (`Content-Length`, `Transfer-Encoding`,
/// `Connection`): the HTTP layer adds it (`http-proto`'s
/// `ServerConn::encode_response` does).
#[derive(Debug, Clone)]
#[must_use]
pub enum Answer {
    /// A whole response (no body for 204 and 304).
    Response(Response),
    /// A streaming response: write the head and the prelude, which is
    /// `response.body()`, now (chunked for HTTP/1.1, the prelude in a chunk of
    /// its own unless it is empty; close-delimited for HTTP/1.0), then each
    /// output [`Server::poll_output`] gives for `receiver` as it is woken, as
    /// a chunk of its own, until an output says `end`. Every frame comes
    /// from `poll_output`, the first ones included: the receiver is woken at
    /// once.
    Stream {
        /// The receiver to pull output for.
        receiver: ReceiverId,
        /// Status, headers and the prelude.
        response: Response,
    },
    /// A long poll: nothing to answer yet. When [`Server::poll_output`] for
    /// `receiver` gives the body (with `end`), write `response`'s head with
    /// that body. The head may also be written at once, chunked.
    Poll {
        /// The receiver to pull output for.
        receiver: ReceiverId,
        /// Status and headers (the body is empty).
        response: Response,
    },
    /// A WebSocket upgrade: write `response` (the 101 head, no body), then
    /// hand every byte read from the connection to
    /// [`Server::receive_websocket`] and write what [`Server::poll_output`]
    /// gives, until an output says `end`.
    Upgrade {
        /// The receiver that stands for the WebSocket connection.
        receiver: ReceiverId,
        /// The 101 response head.
        response: Response,
    },
}

/// A command the application gave cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No such session (it closed and was removed).
    #[error("no such session")]
    UnknownSession,
    /// The session is closed.
    #[error("the session is closed")]
    Closed,
    /// The session's message cache was full: the session is now closed with
    /// 4500, and this message was not taken. Messages taken before are still
    /// delivered.
    #[error("the session's message cache overflowed; the session is closed")]
    CacheOverflow,
    /// The message would have taken the session's send buffer over
    /// `send_buffer_size_limit` with the `Terminate` strategy: the session
    /// is now closed with 4500, and this message was not taken.
    #[error("the session's send buffer overflowed; the session is closed")]
    BufferOverflow,
}

/// Which session a request concerns; see [`Server::request_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestSession {
    /// No session (`/info`, the greeting, the iframe page, an unknown
    /// session's send, a bad path).
    None,
    /// The request opens a new session with this transport, if accepted.
    Opens(Transport),
    /// A receiving request (a poll or a stream) on this existing session.
    Receives(SessionId),
    /// The client's messages (`xhr_send`, `jsonp_send`) for this existing
    /// session.
    Sends(SessionId),
}

/// A read-only view of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionView<'a> {
    session: &'a Session,
}

impl SessionView<'_> {
    /// The session id the client chose (the URL's `<session>` part; empty
    /// for a raw WebSocket).
    pub fn sockjs_id(&self) -> &str {
        &self.session.sockjs_id
    }

    /// The transport that opened the session.
    pub fn transport(&self) -> Transport {
        self.session.transport
    }

    /// Whether the session still takes sends.
    pub fn is_open(&self) -> bool {
        self.session.is_open()
    }

    /// The receiver in the way of another receiving request on the
    /// session, which is answered `c[2010,"Another connection still
    /// open"]`: the attached one, while the session is open.
    pub fn holder(&self) -> Option<ReceiverId> {
        self.session.holder().map(ReceiverId)
    }

    /// Messages waiting for a receiver.
    pub fn pending(&self) -> usize {
        self.session.pending.len()
    }

    /// Bytes of the messages waiting for a receiver.
    pub fn pending_bytes(&self) -> usize {
        self.session.pending.bytes()
    }
}

impl DeadlineStore for Slab<Session> {
    fn deadline_mut(&mut self, key: Key) -> Option<&mut Deadline> {
        self.get_mut(key).map(|s| &mut s.deadline)
    }
}

impl DeadlineStore for Slab<Receiver> {
    fn deadline_mut(&mut self, key: Key) -> Option<&mut Deadline> {
        self.get_mut(key).map(|r| &mut r.deadline)
    }
}

/// SplitMix64: a small seeded generator for `/info`'s entropy.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u32(&mut self) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) as u32
    }
}

/// One SockJS endpoint, as a pure state machine.
///
/// # Vocabulary
///
/// - Input: [`handle_request`](Self::handle_request) for each HTTP request
///   under the prefix, [`receive_websocket`](Self::receive_websocket) for
///   bytes from an upgraded connection,
///   [`receiver_closed`](Self::receiver_closed) when a connection that
///   carries a receiver goes away (or after its last output),
///   [`set_websocket_paused`](Self::set_websocket_paused) when the adapter
///   stops reading a WebSocket for backpressure, and
///   [`handle_timeout`](Self::handle_timeout) at
///   [`poll_timeout`](Self::poll_timeout) (sessions' heartbeats and expiry,
///   and the timers of the WebSocket connections).
/// - Application commands: [`send`](Self::send),
///   [`send_prepared`](Self::send_prepared) (a message escaped once for many
///   sessions), [`close`](Self::close), [`shutdown`](Self::shutdown).
/// - Output: [`poll_event`](Self::poll_event) for the application,
///   [`poll_wakeup`](Self::poll_wakeup) for receivers that have output, and
///   [`poll_output`](Self::poll_output) for a receiver's bytes.
///
/// # Drain order
///
/// After every input or command: drain `poll_event`, then `poll_wakeup`
/// (and `poll_output` for each woken receiver whose connection can take
/// bytes), then re-arm the timer at `poll_timeout`. A receiver's output is
/// produced when it is pulled, so a connection that cannot write is never
/// handed more: messages wait in the session, bounded by
/// `httpMessageCacheSize`.
///
/// # Example
///
/// ```
/// use std::time::{Instant, SystemTime};
/// use bytes::Bytes;
/// use sockjs_proto::{Answer, Event, RequestContext, Server, SockJsConfig};
///
/// let post = |target: &str, body: &'static str| {
///     http::Request::post(target).body(Bytes::from_static(body.as_bytes())).unwrap()
/// };
/// let mut server = Server::new("/echo", SockJsConfig::default(), 42).unwrap();
/// let (now, ctx) = (Instant::now(), RequestContext::new(SystemTime::now()));
/// let Answer::Response(open) = server.handle_request(&post("/echo/000/s1/xhr", ""), &ctx, now)
/// else { panic!("a new session answers at once") };
/// assert_eq!(&open.body()[..], b"o\n");
///
/// let sent = server.handle_request(&post("/echo/000/s1/xhr_send", "[\"hi\"]"), &ctx, now);
/// assert!(matches!(sent, Answer::Response(ref r) if r.status() == 204));
/// while let Some(event) = server.poll_event() {
///     if let Event::Message { session, text } = event {
///         server.send(session, text).unwrap(); // echo
///     }
/// }
/// let Answer::Response(poll) = server.handle_request(&post("/echo/000/s1/xhr", ""), &ctx, now)
/// else { panic!("a message is waiting") };
/// assert_eq!(&poll.body()[..], b"a[\"hi\"]\n");
/// ```
#[derive(Debug)]
pub struct Server {
    prefix: String,
    config: SockJsConfig,
    sessions: Slab<Session>,
    by_id: HashMap<String, Key>,
    receivers: Slab<Receiver>,
    /// The sessions' deadlines (heartbeats, expiry).
    timers: Timers,
    /// The deadlines of the WebSocket receivers' connections (liveness
    /// checks, close timeouts), in a heap of their own.
    ws_timers: Timers,
    events: VecDeque<Event>,
    wakeups: VecDeque<Key>,
    rng: SplitMix64,
    iframe_page: Bytes,
    iframe_etag: String,
}

impl Server {
    /// An endpoint at `prefix` (e.g. `/echo`, no trailing slash). `seed`
    /// seeds the generator of `/info`'s entropy: pass a random value.
    pub fn new(prefix: &str, config: SockJsConfig, seed: u64) -> Result<Self, SockJsConfigError> {
        config.validate()?;
        let page = iframe::page(&config.client_library_url);
        Ok(Self {
            prefix: prefix.trim_end_matches('/').to_owned(),
            iframe_etag: etag_of(page.as_bytes()),
            iframe_page: Bytes::from(page),
            config,
            sessions: Slab::default(),
            by_id: HashMap::new(),
            receivers: Slab::default(),
            timers: Timers::default(),
            ws_timers: Timers::default(),
            events: VecDeque::new(),
            wakeups: VecDeque::new(),
            rng: SplitMix64(seed),
        })
    }

    /// The endpoint's prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The configuration.
    pub fn config(&self) -> &SockJsConfig {
        &self.config
    }

    /// Whether `path` is under this endpoint's prefix.
    pub fn matches(&self, path: &str) -> bool {
        Route::parse(&self.prefix, path).is_some()
    }

    /// How many sessions exist (open, or closed and not yet removed).
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// A view of a session.
    pub fn session(&self, id: SessionId) -> Option<SessionView<'_>> {
        self.sessions
            .get(id.0)
            .map(|session| SessionView { session })
    }

    /// Which session a request concerns, before it is handled: whether
    /// [`handle_request`](Self::handle_request) would open a session for it
    /// (if it accepts it at all: the origin, the method and the WebSocket
    /// handshake are checked there), or which existing session it reaches.
    /// Adapters use it to run handshake interceptors only for requests that
    /// open sessions, and to hold back a client's sends while its session's
    /// application is behind on reading. A request from another client than
    /// the session's (see [`SockJsConfig::bind_sessions_to_client`]) concerns
    /// no session.
    pub fn request_session<B>(
        &self,
        req: &http::Request<B>,
        ctx: &RequestContext,
    ) -> RequestSession {
        match Route::parse(&self.prefix, req.uri().path()) {
            Some(Route::RawWebSocket) => RequestSession::Opens(Transport::RawWebSocket),
            Some(Route::Transport { session, transport }) => {
                if transport == Transport::WebSocket {
                    RequestSession::Opens(transport)
                } else if !self.by_id.contains_key(&session) {
                    if transport.is_receiving() {
                        RequestSession::Opens(transport)
                    } else {
                        RequestSession::None
                    }
                } else {
                    let key = self.owned_session(&session, ctx);
                    match key.map(SessionId) {
                        None => RequestSession::None,
                        Some(id) if transport.is_receiving() => RequestSession::Receives(id),
                        Some(id) => RequestSession::Sends(id),
                    }
                }
            }
            _ => RequestSession::None,
        }
    }

    // ---- requests ------------------------------------------------------

    /// Answers a request whose path is under the prefix (others get 404).
    /// `ctx` says what is not HTTP: when it arrived, who sent it.
    pub fn handle_request(
        &mut self,
        req: &http::Request<Bytes>,
        ctx: &RequestContext,
        now: Instant,
    ) -> Answer {
        let req = Req { http: req, ctx };
        let Some(route) = Route::parse(&self.prefix, req.path()) else {
            return Answer::Response(not_found());
        };
        let method = req.method().as_str();
        Answer::Response(match route {
            Route::Greeting => match method {
                "GET" => {
                    let mut res = response(200);
                    res.header(CACHE_CONTROL, "public, max-age=31536000");
                    res.with_body(TEXT_PLAIN, Bytes::from_static(b"Welcome to SockJS!\n"))
                }
                _ => method_not_allowed("GET"),
            },
            Route::Info => match method {
                _ if !self.origin_allowed(req) => refusal::origin_refused(req.headers()),
                "GET" => self.info(req),
                "OPTIONS" => preflight(req, "OPTIONS, GET", !self.config.suppress_cors),
                _ => self.refused(req.headers(), method_not_allowed("OPTIONS, GET")),
            },
            Route::Iframe => match method {
                "GET" => self.iframe(req),
                _ => method_not_allowed("GET"),
            },
            Route::NotFound => not_found(),
            Route::RawWebSocket => return self.websocket(req, Transport::RawWebSocket, "", now),
            Route::Transport { session, transport } => {
                return self.transport(req, &session, transport, now)
            }
        })
    }

    fn origin_allowed(&self, req: Req<'_>) -> bool {
        self.config
            .allowed_origins
            .allows(req.header_str(ORIGIN), req.header_str(HOST))
    }

    fn info(&mut self, req: Req<'_>) -> Response {
        let body = format!(
            "{{\"websocket\":{},\"cookie_needed\":{},\"origins\":[\"*:*\"],\"entropy\":{}}}",
            self.config.web_socket_enabled,
            self.config.session_cookie_needed,
            self.rng.next_u32()
        );
        let mut res = response(200);
        no_cache(&mut res);
        if !self.config.suppress_cors {
            cors(&mut res, req);
        }
        res.with_body(APPLICATION_JSON, body)
    }

    fn iframe(&self, req: Req<'_>) -> Response {
        let frame_option = match &self.config.allowed_origins {
            AllowedOrigins::Any => None,
            AllowedOrigins::SameOrigin => Some("SAMEORIGIN"),
            AllowedOrigins::List(_) => return not_found(),
        };
        let mut res = if req.header_str(IF_NONE_MATCH) == Some(self.iframe_etag.as_str()) {
            response(304)
        } else {
            let mut res = response(200);
            res.header(CONTENT_TYPE, TEXT_HTML);
            *res.body_mut() = self.iframe_page.clone();
            res
        };
        cache_for_a_year(&mut res, req.ctx.date);
        res.header(ETAG, &self.iframe_etag);
        if let Some(option) = frame_option {
            res.header(X_FRAME_OPTIONS, option);
        }
        res
    }

    /// Headers every transport response carries: no caching, CORS for the
    /// xhr family, the session cookie.
    fn transport_headers(&self, res: &mut Response, req: Req<'_>, transport: Transport) {
        // Error answers come from `text()`, which already says it.
        if !res.headers().contains_key(CACHE_CONTROL) {
            no_cache(res);
        }
        if transport.uses_cors() && !self.config.suppress_cors {
            cors(res, req);
        }
        self.cookie(res, req);
    }

    fn cookie(&self, res: &mut Response, req: Req<'_>) {
        if self.config.session_cookie_needed {
            let value = req
                .cookie("JSESSIONID")
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_graphic() && b != b';'))
                .unwrap_or("dummy");
            res.header(SET_COOKIE, format!("JSESSIONID={value}; path=/"));
        }
    }

    fn transport(
        &mut self,
        req: Req<'_>,
        session_id: &str,
        transport: Transport,
        now: Instant,
    ) -> Answer {
        if transport == Transport::WebSocket && !self.config.web_socket_enabled {
            return Answer::Response(not_found());
        }
        let expected = transport.method();
        let allow = if transport.answers_preflight() {
            "OPTIONS, POST"
        } else {
            expected
        };
        if req.method() == Method::OPTIONS && transport.answers_preflight() {
            if !self.origin_allowed(req) {
                return Answer::Response(refusal::origin_refused(req.headers()));
            }
            let mut res = preflight(req, allow, !self.config.suppress_cors);
            self.cookie(&mut res, req);
            return Answer::Response(res);
        }
        if req.method().as_str() != expected {
            let res = method_not_allowed(allow);
            return Answer::Response(if transport.uses_cors() {
                self.refused(req.headers(), res)
            } else {
                res
            });
        }
        if !self.origin_allowed(req) {
            return Answer::Response(refusal::origin_refused(req.headers()));
        }
        match transport {
            Transport::WebSocket | Transport::RawWebSocket => {
                self.websocket(req, transport, session_id, now)
            }
            Transport::XhrSend | Transport::JsonpSend => {
                Answer::Response(self.receive_send(req, session_id, transport))
            }
            _ => self.receive(req, session_id, transport, now),
        }
    }

    // ---- receivers -----------------------------------------------------

    fn wake(&mut self, rkey: Key) {
        if let Some(r) = self.receivers.get_mut(rkey) {
            if !r.woken && !r.end_taken {
                r.woken = true;
                self.wakeups.push_back(rkey);
            }
        }
    }

    /// The next receiver that has output to pull.
    #[must_use]
    pub fn poll_wakeup(&mut self) -> Option<ReceiverId> {
        while let Some(rkey) = self.wakeups.pop_front() {
            if let Some(r) = self.receivers.get_mut(rkey) {
                r.woken = false;
                return Some(ReceiverId(rkey));
            }
        }
        None
    }

    /// Produces the next bytes for `receiver`; `None`: nothing to write now.
    ///
    /// Call it for a woken receiver until it gives `None` or an output with
    /// `end`: an HTTP receiver gets one frame per output (framed for its
    /// transport), which a chunked response writes as one chunk of its own,
    /// since clients read streams chunk by chunk. Several outputs may go
    /// out in one write.
    pub fn poll_output(&mut self, receiver: ReceiverId, now: Instant) -> Option<Output> {
        let rkey = receiver.0;
        let r = self.receivers.get(rkey)?;
        if r.end_taken {
            return None;
        }
        let skey = r.session;
        let transport = r.transport;
        let output = if matches!(r.kind, ReceiverKind::WebSocket(_)) {
            self.websocket_output(rkey, skey, transport, now)
        } else {
            self.http_output(rkey, now)
        };
        if output.is_some() {
            self.room_regained(skey);
        }
        output
    }

    /// Tells a sender that waited for room that there is some again.
    pub(super) fn room_regained(&mut self, skey: Key) {
        if let Some(s) = self.sessions.get_mut(skey) {
            if s.wants_room && s.has_room(self.config.http_message_cache_size) {
                s.wants_room = false;
                self.events.push_back(Event::Room {
                    session: SessionId(skey),
                });
            }
        }
    }

    fn take_end(&mut self, rkey: Key) -> Output {
        if let Some(r) = self.receivers.get_mut(rkey) {
            r.end_taken = true;
        }
        Output {
            data: Bytes::new(),
            end: true,
        }
    }

    /// The core ends a receiver: the session no longer has it.
    fn end_receiver(&mut self, rkey: Key, now: Instant) {
        let Some(r) = self.receivers.get_mut(rkey) else {
            return;
        };
        r.ended = true;
        let skey = r.session;
        if self.sessions.get(skey).and_then(|s| s.receiver) == Some(rkey) {
            self.detached(skey, now);
        }
    }

    /// The connection carrying `receiver` is gone (the client went away, or
    /// the adapter finished writing after an output with `end`). Every
    /// receiver must be reported exactly once.
    ///
    /// An HTTP receiver that the core had not ended interrupts its session:
    /// the session closes with `c[1002,"Connection interrupted"]`, which later
    /// requests get until it is removed (sockjs-node's choice; the protocol
    /// allows answering `o` instead, but messages may have been lost with
    /// the connection, and the client must know). A WebSocket session ends
    /// with its connection.
    pub fn receiver_closed(&mut self, receiver: ReceiverId, now: Instant) {
        let Some(r) = self.receivers.remove(receiver.0) else {
            return;
        };
        let skey = r.session;
        match r.kind {
            ReceiverKind::WebSocket(_) => {
                if self.sessions.get(skey).is_some_and(Session::is_open) {
                    self.close_session(skey, CloseReason::Interrupted);
                }
                self.remove_session(skey);
            }
            ReceiverKind::Http { .. } => {
                let attached = self.sessions.get(skey).and_then(|s| s.receiver) == Some(receiver.0);
                if attached {
                    if self.sessions.get(skey).is_some_and(Session::is_open) {
                        self.close_session(skey, CloseReason::Interrupted);
                    }
                    self.detached(skey, now);
                }
            }
        }
    }

    // ---- application commands -------------------------------------------

    /// Sends a message on a session. It is delivered to the current or next
    /// receiver; while none takes it, it waits in the session's cache. A
    /// `&str` is copied; a `String` or a [`Utf8Bytes`] (what
    /// [`Event::Message`] carries) is not.
    pub fn send(
        &mut self,
        session: SessionId,
        message: impl Into<Utf8Bytes>,
    ) -> Result<(), SendError> {
        self.push_pending(session, Pending::Text(message.into()))
    }

    /// Sends a message prepared for many sessions: as [`send`](Self::send),
    /// with the same limits and the same errors, but the session's cache
    /// holds a reference to `message` (no copy) and its frame takes the
    /// JSON escaped once in `message` (see [`PreparedText`]).
    pub fn send_prepared(
        &mut self,
        session: SessionId,
        message: &PreparedText,
    ) -> Result<(), SendError> {
        self.push_pending(session, Pending::Prepared(message.clone()))
    }

    fn push_pending(&mut self, session: SessionId, message: Pending) -> Result<(), SendError> {
        let key = session.0;
        let limit = self.config.http_message_cache_size;
        let s = self
            .sessions
            .get_mut(key)
            .ok_or(SendError::UnknownSession)?;
        if !s.is_open() {
            return Err(SendError::Closed);
        }
        // The message cache bounds what waits for the next request; while a
        // receiver is attached, the send buffer's byte limit does.
        if s.receiver.is_none() && s.pending.len() >= limit {
            self.close_session(key, CloseReason::CacheOverflow);
            return Err(SendError::CacheOverflow);
        }
        if s.pending.push(message).is_err() {
            self.close_session(key, CloseReason::BufferOverflow);
            return Err(SendError::BufferOverflow);
        }
        if let Some(r) = s.receiver {
            self.wake(r);
        }
        Ok(())
    }

    /// Whether `session` has room for a message from a sender that waits
    /// rather than overflow (backpressure): fewer than
    /// `httpMessageCacheSize` messages and fewer bytes than
    /// `send_buffer_size_limit` wait for a receiver. `Ok(false)` also
    /// promises an [`Event::Room`] once a receiver takes the waiting
    /// messages; a closed session answers `Err` (and its
    /// [`Event::Closed`] ends the wait).
    pub fn poll_room(&mut self, session: SessionId) -> Result<bool, SendError> {
        let limit = self.config.http_message_cache_size;
        let s = self
            .sessions
            .get_mut(session.0)
            .ok_or(SendError::UnknownSession)?;
        if !s.is_open() {
            return Err(SendError::Closed);
        }
        let room = s.has_room(limit);
        s.wants_room |= !room;
        Ok(room)
    }

    /// Sends a message from a sender that waited for
    /// [`poll_room`](Self::poll_room): it is taken even if it carries the
    /// session's cache past its limits, by this one message, and neither
    /// limit closes the session. Use [`send`](Self::send) for senders that
    /// do not wait.
    pub fn send_waited(
        &mut self,
        session: SessionId,
        message: impl Into<Utf8Bytes>,
    ) -> Result<(), SendError> {
        let s = self
            .sessions
            .get_mut(session.0)
            .ok_or(SendError::UnknownSession)?;
        if !s.is_open() {
            return Err(SendError::Closed);
        }
        s.pending.push_waited(Pending::Text(message.into()));
        if let Some(r) = s.receiver {
            self.wake(r);
        }
        Ok(())
    }

    /// Closes a session with a close frame (`c[3000,"Go away!"]`,
    /// `CloseFrame::new(CloseCode::GO_AWAY, "Go away!")`, is the customary
    /// one). Messages sent before are delivered first; every later
    /// request on the session gets the close frame until the session is
    /// removed, `disconnectDelay` after its last receiver.
    pub fn close(&mut self, session: SessionId, frame: CloseFrame) -> Result<(), SendError> {
        let s = self
            .sessions
            .get(session.0)
            .ok_or(SendError::UnknownSession)?;
        if !s.is_open() {
            return Err(SendError::Closed);
        }
        self.close_session(session.0, CloseReason::Application(frame));
        Ok(())
    }

    /// Closes every open session with `c[1001,"Server shutting down"]`
    /// (WebSockets with close code 1001). Receivers get their close frames as
    /// usual; the adapter stops accepting requests and lets them finish.
    pub fn shutdown(&mut self) {
        let keys: Vec<Key> = self.sessions.keys().collect();
        for key in keys {
            if self.sessions.get(key).is_some_and(Session::is_open) {
                self.close_session(key, CloseReason::Shutdown);
            }
        }
    }

    /// Moves a session to closed (once) with the close frame of `reason`,
    /// tells the application, and wakes its receiver to deliver the frame.
    fn close_session(&mut self, key: Key, reason: CloseReason) {
        let Some(session) = self.sessions.get_mut(key) else {
            return;
        };
        if !session.is_open() {
            return;
        }
        session.state = State::Closed(reason.frame());
        let receiver = session.receiver;
        self.events.push_back(Event::Closed {
            session: SessionId(key),
            reason,
        });
        if let Some(r) = receiver {
            self.wake(r);
        }
    }

    fn remove_session(&mut self, key: Key) {
        if let Some(session) = self.sessions.remove(key) {
            if session.mapped && self.by_id.get(&session.sockjs_id) == Some(&key) {
                self.by_id.remove(&session.sockjs_id);
            }
        }
    }

    // ---- time ----------------------------------------------------------

    /// When [`handle_timeout`](Self::handle_timeout) next has work: the
    /// earliest heartbeat or expiry of any session, or deadline of any
    /// WebSocket connection (its liveness check or close timeout; see
    /// [`SockJsConfig::websocket`]). Each kind sits in a heap: no scan over
    /// sessions or connections.
    #[must_use]
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.timers.take_pushed();
        self.ws_timers.take_pushed();
        let sessions = self.timers.next(&mut self.sessions);
        let websockets = self.ws_timers.next(&mut self.receivers);
        earliest(sessions, websockets)
    }

    /// The earliest deadline added since [`poll_timeout`](Self::poll_timeout)
    /// or this last ran, if any: the only way the next deadline moves
    /// earlier. An embedder whose timer waits for `poll_timeout`'s answer
    /// re-arms it when this gives a time before the armed one, and need not
    /// ask `poll_timeout` after every call into the server. Deadlines that
    /// move later (a heartbeat put back by each frame, the common case) are
    /// not reported: the timer fires at the old one, `handle_timeout` finds
    /// nothing due, and `poll_timeout` gives the real one.
    pub fn poll_new_deadline(&mut self) -> Option<Instant> {
        earliest(self.timers.take_pushed(), self.ws_timers.take_pushed())
    }

    /// Does the work due at `now`: heartbeats for sessions whose receiver
    /// wrote nothing for `heartbeatTime`, expiry of sessions with no
    /// receiver for `disconnectDelay`, and the WebSocket connections'
    /// timers (a liveness ping, a dead client, a close handshake that took
    /// too long). Before the deadline it does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(rkey) = self.ws_timers.pop_due(now, &mut self.receivers) {
            self.pump_websocket(rkey, now);
        }
        while let Some(key) = self.timers.pop_due(now, &mut self.sessions) {
            let Some(session) = self.sessions.get_mut(key) else {
                continue;
            };
            match session.receiver {
                Some(rkey) if session.is_open() => {
                    session.heartbeat_due = true;
                    let at = now + self.config.heartbeat_time;
                    self.timers.set(key, &mut session.deadline, Some(at));
                    self.wake(rkey);
                }
                Some(rkey) => {
                    // Closed, and the receiver has not finished (a WebSocket
                    // waiting for the client's close frame, or a connection
                    // that takes no bytes): end it now.
                    if let Some(r) = self.receivers.get_mut(rkey) {
                        r.ended = true;
                    }
                    self.wake(rkey);
                }
                None if session.is_open() => {
                    self.close_session(key, CloseReason::Expired);
                    self.remove_session(key);
                }
                None => self.remove_session(key),
            }
        }
    }

    /// The next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Heap entries of the timer (for benchmarks).
    #[doc(hidden)]
    pub fn timer_entries(&self) -> usize {
        self.timers.entries() + self.ws_timers.entries()
    }
}

fn forbidden() -> Response {
    text(403, "Forbidden")
}
