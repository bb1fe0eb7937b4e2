//! A plain WebSocket endpoint: the upgrade, then the session between the
//! client, the session's inbox and its outbox. The connection's timers
//! (liveness pings, the close timeout) live in `ws-proto`; the send time
//! limit in the connection.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Request, StatusCode};
use http_proto::BodyKind;
use ws_proto::handshake::UpgradeRequest;
use ws_proto::{CloseCode, CloseFrame, CloseState, Event, ProtocolError, Timeout};

use super::{After, Connection, Staged, State};
use crate::handshake::{HandshakeOutcome, HandshakeRequest, Incoming, Rejection};
use crate::logging::{self, Part};
use crate::mailbox::{Inbox, WsItem, WsOutbox};
use crate::options::WebSocketOptions;
use crate::server::{EndpointId, Server};
use crate::session::{
    Attributes, CloseStatus, Outlet, Session, SessionInfo, SessionSender, SessionTransport,
};
use crate::stored_headers::StoredHeaders;

/// Output queued for the client at which the outbox is left alone.
const WRITE_LIMIT: usize = 64 * 1024;
/// Output queued for the client at which reading stops (a client that
/// sends pings without reading the pongs is held back by TCP).
const READ_STOP: usize = 128 * 1024;
/// The most bytes one read asks for.
const MAX_READ: usize = 256 * 1024;

pub(crate) struct WsExchange {
    conn: ws_proto::Connection,
    /// The session's span.
    span: tracing::Span,
    inbox: Arc<Inbox>,
    outbox: Arc<WsOutbox>,
    /// A close frame was queued.
    closing: bool,
    /// The close the server sent because the client broke the protocol.
    failed: Option<CloseStatus>,
    peer_close: Option<CloseFrame>,
    eof: bool,
    ended: bool,
}

/// The answer to a request on a WebSocket endpoint that is no upgrade.
pub(super) fn refusal(req: &Request<Bytes>, http: &mut http_proto::ServerConn) -> Bytes {
    let (method, path) = (req.method(), req.uri().path());
    if let Err(e) = UpgradeRequest::validate(req) {
        logging::refused(Part::WebSocket, e.status(), method, path, &e);
        return Bytes::from(e.response());
    }
    let reason = "no upgrade asked for";
    logging::refused(Part::WebSocket, 400, method, path, &reason);
    http.close();
    super::requests::encode_whole(&Rejection::new(StatusCode::BAD_REQUEST).to_response(), http)
        .freeze()
}

/// An upgrade request: checked, then staged for the interceptors.
pub(super) fn upgrade(
    conn: &mut Connection,
    req: &Request<Bytes>,
    endpoint: EndpointId,
    options: &WebSocketOptions,
    now: Instant,
) {
    let upgrade = match UpgradeRequest::validate(req) {
        Ok(upgrade) => upgrade,
        Err(e) => {
            logging::refused(
                Part::WebSocket,
                e.status(),
                req.method(),
                req.uri().path(),
                &e,
            );
            conn.http.close();
            conn.respond_bytes(Bytes::from(e.response()), After::Close, now);
            return;
        }
    };
    let (request, allowed) = check_origin(&conn.server, req, conn.remote, options);
    if !allowed {
        let reason = "origin not allowed";
        refuse(conn, endpoint, request, StatusCode::FORBIDDEN, reason, now);
        return;
    }
    conn.state = State::Staged(Staged::WebSocket {
        endpoint,
        upgrade: Box::new(upgrade),
    });
    let id = conn.id;
    conn.push_output(super::Output::Incoming(Incoming {
        endpoint,
        request,
        conn: id,
    }));
}

/// The request as interceptors see it, and whether the endpoint allows
/// its origin.
pub(crate) fn check_origin(
    server: &Server,
    req: &Request<Bytes>,
    remote: std::net::SocketAddr,
    options: &WebSocketOptions,
) -> (HandshakeRequest, bool) {
    let request = HandshakeRequest::new(
        req,
        remote,
        &server.options.trusted_proxies,
        options.common.principal.as_ref(),
    );
    let headers = req.headers();
    let origin = http_proto::headers::str_value(headers, ORIGIN);
    let host = http_proto::headers::str_value(headers, HOST);
    let allowed = options.allowed_origins.allows(origin, host);
    (request, allowed)
}

/// Refuses an upgrade by the protocol (the origin, the handshake), telling
/// the interceptors' `after` part; the connection closes.
fn refuse(
    conn: &mut Connection,
    endpoint: EndpointId,
    request: HandshakeRequest,
    status: StatusCode,
    reason: &str,
    now: Instant,
) {
    let (method, path) = (request.method(), request.path());
    logging::refused(Part::WebSocket, status.as_u16(), method, path, &reason);
    let rejection = Rejection::new(status);
    conn.handshake(endpoint, request, HandshakeOutcome::Refused(status));
    conn.http.close();
    conn.respond(&rejection.to_response(), After::Close, now);
}

/// The interceptors accepted: answer 101 and open the session.
pub(super) fn open(
    conn: &mut Connection,
    endpoint: EndpointId,
    upgrade: &UpgradeRequest,
    request: HandshakeRequest,
    attributes: Attributes,
    now: Instant,
) {
    let server = Arc::clone(&conn.server);
    let Some((response, protocol)) = accept(&server, endpoint, upgrade) else {
        let reason = "the endpoint cannot accept the upgrade";
        refuse(
            conn,
            endpoint,
            request,
            StatusCode::INTERNAL_SERVER_ERROR,
            reason,
            now,
        );
        return;
    };
    let mut head = BytesMut::new();
    let _ = conn
        .http
        .encode_response(&response, BodyKind::None, &mut head);
    conn.push_out(head.freeze(), now);
    let trailing = std::mem::take(&mut conn.http).take_upgraded();
    start_session(
        conn,
        endpoint,
        Opening {
            request,
            attributes,
            protocol,
        },
        &trailing,
        now,
    );
}

/// The 101 that accepts `upgrade` on `endpoint`, and the subprotocol it
/// chose; `None` when the endpoint is not there or no answer can be made.
pub(crate) fn accept(
    server: &Server,
    endpoint: EndpointId,
    upgrade: &UpgradeRequest,
) -> Option<(http::Response<()>, Option<String>)> {
    let (_, options) = server.websockets.values().find(|(id, _)| *id == endpoint)?;
    let protocol = options
        .protocols
        .iter()
        .find(|p| upgrade.protocols().contains(p))
        .cloned();
    let response = upgrade.accept(protocol.as_deref(), HeaderMap::new()).ok()?;
    Some((response, protocol))
}

/// What an accepted upgrade opens its session with.
pub(crate) struct Opening {
    pub(crate) request: HandshakeRequest,
    pub(crate) attributes: Attributes,
    pub(crate) protocol: Option<String>,
}

/// Opens the session of an accepted upgrade whose 101 is written (or
/// queued): `trailing` is what the client sent after its request.
pub(crate) fn start_session(
    conn: &mut Connection,
    endpoint: EndpointId,
    opening: Opening,
    trailing: &[u8],
    now: Instant,
) {
    let Opening {
        request,
        attributes,
        protocol,
    } = opening;
    let server = Arc::clone(&conn.server);
    let Some((_, options)) = server.websockets.values().find(|(id, _)| *id == endpoint) else {
        conn.close();
        return;
    };
    conn.write_limit = options.common.send_time_limit;
    let mut ws = ws_proto::Connection::server(options.config.clone());
    ws.receive(trailing);
    // The connection's time starts now.
    ws.handle_timeout(now);
    let id = Server::next_session_id();
    let transport = SessionTransport::WebSocket;
    let span = logging::session_span(id, transport, request.uri.path(), request.client_ip);
    let info = Arc::new(SessionInfo {
        id,
        endpoint,
        sockjs_id: None,
        transport,
        uri: request.uri.clone(),
        remote_addr: conn.remote,
        client_ip: request.client_ip,
        principal: request.principal.as_deref().map(Box::from),
        headers: StoredHeaders::new(&request.headers),
        attributes,
        protocol: protocol.map(String::into_boxed_str),
        span: span.clone(),
    });
    let inbox = Arc::new(Inbox::new(options.common.inbox_limit));
    let outbox = Arc::new(WsOutbox::new(
        options.send_buffer_size_limit,
        options.overflow_strategy,
    ));
    let session = Session {
        sender: SessionSender {
            info: Arc::clone(&info),
            outlet: Outlet::WebSocket(Arc::clone(&outbox)),
            inbox: Arc::clone(&inbox),
        },
        info: Arc::clone(&info),
        inbox: Arc::clone(&inbox),
    };
    logging::opened(&span, transport);
    conn.handshake(endpoint, request, HandshakeOutcome::Opened(info.id));
    conn.push_output(super::Output::Opened(session));
    conn.state = State::WebSocket(Box::new(WsExchange {
        conn: ws,
        span,
        inbox,
        outbox,
        closing: false,
        failed: None,
        peer_close: None,
        eof: false,
        ended: false,
    }));
}

impl WsExchange {
    pub(super) fn receive(&mut self, data: &[u8]) {
        self.conn.receive(data);
    }

    pub(super) fn receive_eof(&mut self) {
        self.eof = true;
        self.conn.receive_eof();
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    pub(super) fn wants_read(&self, pending: usize) -> bool {
        !self.eof
            && pending < READ_STOP
            && (!self.conn.is_reading_paused() || self.conn.close_state() == CloseState::Closed)
    }

    /// The WebSocket's input buffer to read into, while a frame is in
    /// progress. With nothing buffered, `None`: the first bytes are read
    /// into the caller's buffer (on its stack) and copied, so that an idle
    /// connection, whose input buffer was let go of, reserves none while
    /// it waits.
    pub(super) fn read_buffer(&mut self) -> Option<(&mut BytesMut, usize)> {
        if self.conn.close_state() == CloseState::Closed || self.conn.buffered_input() == 0 {
            return None;
        }
        Some(self.conn.read_buffer())
    }

    pub(super) fn read_done(&mut self, asked: usize, n: usize) {
        self.conn.read_done(asked, n);
    }

    pub(super) fn read_capacity(&self) -> usize {
        if self.conn.close_state() == CloseState::Closed {
            // What comes after the close is read only to be dropped.
            return super::READ_CHUNK;
        }
        self.conn.receive_capacity().clamp(1, MAX_READ)
    }

    /// Moves the application's sends (and close) into the connection, as
    /// far as the client reads. `true` when sends are left in the outbox
    /// for the output to drain first.
    fn take_outbox(&mut self, pending: usize, conn_waker: &std::task::Waker) -> bool {
        let mut ob = self.outbox.lock();
        if !self.closing {
            while pending + self.conn.pending_transmit() < WRITE_LIMIT {
                let sent = match ob.queue.pop() {
                    Some(WsItem::Message(message)) => self.conn.send(message),
                    Some(WsItem::Prepared(prepared)) => self.conn.send_prepared(&prepared),
                    None => break,
                };
                if sent.is_err() {
                    ob.queue.clear();
                    break;
                }
            }
            if ob.queue.is_empty() {
                if let Some(close) = &ob.close {
                    self.closing = true;
                    let code = if close.code.is_valid_on_wire() {
                        close.code
                    } else {
                        CloseCode::NORMAL
                    };
                    let _ = self.conn.close(Some(code), &close.reason);
                }
            }
        }
        if self.closing || self.conn.close_state() != CloseState::Open {
            // A close is under way (the application's, the server's, the
            // client's, or a failure's): the session takes no more sends,
            // and says so, rather than queueing what cannot go out.
            ob.done = true;
            ob.queue.clear();
        }
        ob.wake_room_waiters();
        if !ob.waker.as_ref().is_some_and(|w| w.will_wake(conn_waker)) {
            ob.waker = Some(conn_waker.clone());
        }
        ob.connection_woken = false;
        !ob.queue.is_empty()
    }

    /// The status the session ended with, once the connection is over.
    fn status(&self) -> CloseStatus {
        if let Some(failed) = &self.failed {
            return failed.clone();
        }
        match &self.peer_close {
            Some(frame) => CloseStatus::from(frame.clone()),
            None => self
                .outbox
                .lock()
                .close
                .clone()
                .unwrap_or_else(|| CloseStatus::new(CloseCode::ABNORMAL, "Connection ended")),
        }
    }

    /// A timer of the connection ended the session.
    fn timed_out(&self, timeout: Timeout) -> CloseStatus {
        if timeout == Timeout::Pong {
            return CloseStatus::new(CloseCode::ABNORMAL, "No answer to ping");
        }
        // The client did not answer the close frame in time.
        self.outbox
            .lock()
            .close
            .clone()
            .unwrap_or_else(|| CloseStatus::new(CloseCode::GOING_AWAY, "Server shutting down"))
    }

    /// The session is over: no more sends, and the application's stream
    /// ends with `status`.
    fn end(&mut self, status: CloseStatus) {
        if self.ended {
            return;
        }
        self.ended = true;
        {
            let mut ob = self.outbox.lock();
            ob.done = true;
            ob.wake_room_waiters();
        }
        logging::closed(&self.span, SessionTransport::WebSocket, &status);
        self.inbox.close(status);
    }

    /// The connection went away under the session.
    pub(super) fn end_abruptly(mut self: Box<Self>) {
        let status = self.status();
        self.end(status);
    }
}

/// One step of a WebSocket session.
pub(super) fn step(conn: &mut Connection, mut ws: Box<WsExchange>, now: Instant) -> bool {
    let mut progressed = false;
    if ws.conn.poll_timeout().is_some_and(|at| at <= now) {
        ws.conn.handle_timeout(now);
    }
    if let Some(timeout) = ws.conn.timed_out() {
        let status = ws.timed_out(timeout);
        ws.end(status);
        conn.abandon_output();
        conn.close();
        return true;
    }
    if conn.stalled(now) {
        ws.end(CloseStatus::new(
            CloseCode::NOT_RELIABLE,
            "Send time limit exceeded",
        ));
        conn.abandon_output();
        conn.close();
        return true;
    }
    // Reads as the application asks for messages: the next event once it
    // has taken every message. While it has not, the client's bytes wait
    // unread: the liveness check is told so. A closed connection has no message left, only its end.
    let demand = ws.inbox.poll_demand(&mut conn.context()).is_ready();
    // Then the outbox: the application put its answers to the last message
    // there before it asked for the next one, so they go out before
    // whatever the next frames bring (a protocol error's close).
    let held = ws.take_outbox(conn.transmit_len(), &conn.waker);
    if !ws.closing && conn.server.is_stopping() {
        ws.closing = true;
        let _ = ws
            .conn
            .close(Some(CloseCode::GOING_AWAY), "Server shutting down");
    }
    ws.conn.set_reading_paused(!demand);
    if demand || ws.conn.close_state() == CloseState::Closed {
        match ws.conn.poll_event() {
            // The next one waits for the application to ask: the push
            // took the demand away (so reading stops here too), and its
            // return wakes the connection.
            Ok(Some(Event::Message(message))) => {
                ws.inbox.push(message);
                // Registers the connection's waker for that return (or
                // the application, on another thread, already asked).
                if ws.inbox.poll_demand(&mut conn.context()).is_ready() {
                    progressed = true;
                } else {
                    ws.conn.set_reading_paused(true);
                }
            }
            Ok(Some(Event::Close(frame))) => {
                ws.peer_close = frame;
                progressed = true;
            }
            Ok(Some(_)) => progressed = true,
            Ok(None) => {}
            Err(ProtocolError::Timeout(timeout)) => {
                let status = ws.timed_out(timeout);
                ws.end(status);
                conn.abandon_output();
                conn.close();
                return true;
            }
            Err(e) => {
                tracing::debug!(
                    target: logging::WEBSOCKET,
                    parent: &ws.span,
                    error = %e,
                    "protocol error"
                );
                if e.close_code().is_valid_on_wire() && ws.failed.is_none() {
                    ws.failed = Some(CloseStatus::new(e.close_code(), e.to_string()));
                }
                progressed = true;
            }
        }
    }
    // Then the messages already whole in the input, ahead of the
    // application's asking, as far as its inbox has room: pipelined
    // messages reach the handler in one batch, and its answers go out in
    // one write. What ends or changes the connection (a close, a ping, an
    // error) stays in the input until the application has finished with
    // them and asks again, so their answers still go out first.
    if ws.conn.buffered_input() > 0 && ws.inbox.has_room() {
        let mut pushed = false;
        while let Some(message) = ws.conn.poll_message_ahead() {
            pushed = true;
            if !ws.inbox.push(message) {
                break;
            }
        }
        if pushed {
            if ws.inbox.poll_demand(&mut conn.context()).is_ready() {
                progressed = true;
            } else {
                ws.conn.set_reading_paused(true);
            }
        }
    }
    if ws.conn.pending_transmit() > 0 {
        while let Some(chunk) = ws.conn.poll_transmit() {
            conn.push_out(chunk, now);
        }
    }
    // What waits for the output to drain: sends held back by the write
    // limit, and the end of a closed connection (see `Connection::consume`).
    conn.drain_wait = held || ws.conn.close_state() == CloseState::Closed;
    if ws.conn.close_state() == CloseState::Closed && conn.transmit_len() == 0 {
        // The close handshake is over (or failed) and written: shut the
        // write side, then wait for the client's end of file, within the
        // close timeout the core runs.
        conn.shutdown_write = true;
        if ws.eof || ws.conn.poll_timeout().is_none() {
            let status = ws.status();
            ws.end(status);
            conn.close();
            return true;
        }
    }
    // Everything read was decoded: an idle connection holds no buffer.
    ws.conn.release_input();
    conn.state = State::WebSocket(ws);
    progressed
}
