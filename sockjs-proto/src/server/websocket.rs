//! The websocket transports: the upgrade, the bytes of upgraded connections
//! through an embedded [`ws_proto::Connection`], and their output.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use ws_proto::{Fifo, Utf8Bytes};

use super::{forbidden, Answer, Server};
use crate::frame::{encode_close, OPEN};
use http::Method;

use crate::http::{method_not_allowed, not_found, text, Req};
use crate::json::parse_ws_messages_into;
use crate::session::{
    CloseReason, Event, Output, Owner, Receiver, ReceiverId, ReceiverKind, Session, SessionId,
    State,
};
use crate::slab::Key;
use crate::timers::Deadline;
use crate::transport::Transport;
use crate::ws;

impl Server {
    pub(super) fn websocket(
        &mut self,
        req: Req<'_>,
        transport: Transport,
        session_id: &str,
        now: Instant,
    ) -> Answer {
        if !self.config.web_socket_enabled {
            return Answer::Response(not_found());
        }
        if req.method() != Method::GET {
            return Answer::Response(method_not_allowed("GET"));
        }
        if !self.origin_allowed(req) {
            return Answer::Response(forbidden());
        }
        let upgrade = match ws::validate(req) {
            Ok(upgrade) => upgrade,
            Err(res) => return Answer::Response(*res),
        };
        if self.sessions.len() >= self.config.max_sessions {
            return Answer::Response(text(503, "Too many sessions"));
        }
        let protocol = self
            .config
            .websocket_protocols
            .iter()
            .find(|p| upgrade.protocols().contains(p))
            .cloned();
        let Ok(head) = upgrade.accept(protocol.as_deref(), http::HeaderMap::new()) else {
            return Answer::Response(text(500, "Internal Server Error"));
        };
        let key = self.sessions.insert(Session::new(
            session_id.to_owned(),
            transport,
            false,
            Owner::default(),
            &self.config,
        ));
        let mut conn = ws_proto::Connection::server(self.config.websocket.clone());
        conn.receive(upgrade.trailing());
        let receiver = self.receivers.insert(Receiver {
            session: key,
            transport,
            kind: ReceiverKind::WebSocket(Box::new(conn)),
            ended: false,
            end_taken: false,
            woken: false,
            deadline: Deadline::default(),
        });
        let heartbeat =
            (transport == Transport::WebSocket).then(|| now + self.config.heartbeat_time);
        let session = self.sessions.get_mut(key).expect("just inserted");
        session.receiver = Some(receiver);
        session.open_due = transport == Transport::WebSocket;
        self.timers.set(key, &mut session.deadline, heartbeat);
        self.events.push_back(Event::Opened {
            session: SessionId(key),
            transport,
        });
        self.wake(receiver);
        // The connection's time starts now, and the client may have sent
        // frames right behind its handshake.
        self.pump_websocket(receiver, now);
        Answer::Upgrade {
            receiver: ReceiverId(receiver),
            response: head.map(|()| Bytes::new()),
        }
    }

    /// Hands bytes read from an upgraded connection to its WebSocket.
    pub fn receive_websocket(&mut self, receiver: ReceiverId, data: &[u8], now: Instant) {
        let Some(r) = self.receivers.get_mut(receiver.0) else {
            return;
        };
        let ReceiverKind::WebSocket(conn) = &mut r.kind else {
            return;
        };
        conn.receive(data);
        self.pump_websocket(receiver.0, now);
    }

    /// How many bytes the WebSocket of `receiver` takes before it must be
    /// drained (see `ws_proto::Connection::receive_capacity`).
    pub fn websocket_capacity(&self, receiver: ReceiverId) -> usize {
        match self.receivers.get(receiver.0).map(|r| &r.kind) {
            Some(ReceiverKind::WebSocket(conn)) => conn.receive_capacity(),
            _ => 0,
        }
    }

    /// The adapter stopped (`true`) or resumed reading the connection of
    /// `receiver` because the application is behind (backpressure): the
    /// client's bytes wait unread meanwhile, so the liveness check does not
    /// count that time against it (see
    /// `ws_proto::Connection::set_reading_paused`).
    pub fn set_websocket_paused(&mut self, receiver: ReceiverId, paused: bool) {
        if let Some(ReceiverKind::WebSocket(conn)) =
            self.receivers.get_mut(receiver.0).map(|r| &mut r.kind)
        {
            conn.set_reading_paused(paused);
        }
    }

    /// Reports end of file on an upgraded connection.
    pub fn receive_websocket_eof(&mut self, receiver: ReceiverId, now: Instant) {
        if let Some(ReceiverKind::WebSocket(conn)) =
            self.receivers.get_mut(receiver.0).map(|r| &mut r.kind)
        {
            conn.receive_eof();
        }
        self.pump_websocket(receiver.0, now);
    }

    /// Runs the WebSocket of `rkey`: its time up to `now` (a timer that
    /// waits to start, a due liveness check or close timeout), then its
    /// events; then files its next deadline in the heap.
    pub(super) fn pump_websocket(&mut self, rkey: Key, now: Instant) {
        loop {
            let Some(ReceiverKind::WebSocket(conn)) =
                self.receivers.get_mut(rkey).map(|r| &mut r.kind)
            else {
                return;
            };
            conn.handle_timeout(now);
            self.drain_websocket(rkey);
            let Some(r) = self.receivers.get_mut(rkey) else {
                return;
            };
            let ReceiverKind::WebSocket(conn) = &mut r.kind else {
                return;
            };
            let at = conn.poll_timeout();
            // A close frame queued by the events (a failed connection, the
            // echo of the client's) starts its timer at once.
            if at.is_none_or(|at| at > now) {
                self.ws_timers.set(rkey, &mut r.deadline, at);
                return;
            }
        }
    }

    /// Hands the events of the WebSocket of `rkey` to the application.
    fn drain_websocket(&mut self, rkey: Key) {
        loop {
            let Some(r) = self.receivers.get_mut(rkey) else {
                return;
            };
            let skey = r.session;
            let raw = r.transport == Transport::RawWebSocket;
            let ReceiverKind::WebSocket(conn) = &mut r.kind else {
                return;
            };
            let event = conn.poll_event();
            let has_output = conn.pending_transmit() > 0;
            match event {
                Ok(None) => {
                    if has_output {
                        self.wake(rkey);
                    }
                    return;
                }
                Ok(Some(ws_proto::Event::Message(ws_proto::Message::Text(text)))) => {
                    if raw {
                        self.deliver(skey, [text]);
                    } else {
                        match parse_ws_messages_into::<Fifo<String>>(text.as_str()) {
                            Ok(mut messages) => {
                                self.deliver(skey, messages.drain().map(Utf8Bytes::from));
                            }
                            Err(e) => {
                                self.fail_websocket(rkey, CloseReason::BrokenJson(e));
                                return;
                            }
                        }
                    }
                }
                Ok(Some(ws_proto::Event::Message(ws_proto::Message::Binary(_)))) => {
                    self.fail_websocket(rkey, CloseReason::BinaryMessage);
                    return;
                }
                Ok(Some(ws_proto::Event::Close(frame))) => {
                    let code = frame.map(|f| f.code);
                    self.close_session(skey, CloseReason::ClientClosed(code));
                    self.wake(rkey);
                    return;
                }
                Ok(Some(_)) => {
                    // Pings (answered by the connection) and pongs.
                    if has_output {
                        self.wake(rkey);
                    }
                }
                Err(e) => {
                    let reason = if e == ws_proto::ProtocolError::UnexpectedEof {
                        CloseReason::Interrupted
                    } else {
                        CloseReason::WebSocket(e)
                    };
                    self.close_session(skey, reason);
                    self.wake(rkey);
                    return;
                }
            }
        }
    }

    /// Ends a WebSocket session for a client's error: the close frame that
    /// `reason` gives goes on the wire, and the application is told the
    /// same.
    fn fail_websocket(&mut self, rkey: Key, reason: CloseReason) {
        let Some(r) = self.receivers.get_mut(rkey) else {
            return;
        };
        let skey = r.session;
        if let ReceiverKind::WebSocket(conn) = &mut r.kind {
            let frame = reason.frame();
            let _ = conn.close(Some(frame.code), &frame.reason);
        }
        self.close_session(skey, reason);
        self.wait_for_close(skey);
        self.wake(rkey);
    }

    /// A WebSocket sent its close frame: its connection's close timeout
    /// bounds the wait for the client's, so the session's own deadline (the
    /// heartbeat it had while open) is dropped.
    fn wait_for_close(&mut self, skey: Key) {
        if let Some(session) = self.sessions.get_mut(skey) {
            self.timers.set(skey, &mut session.deadline, None);
        }
    }

    fn deliver(&mut self, key: Key, messages: impl IntoIterator<Item = Utf8Bytes>) {
        if self.sessions.get(key).is_some_and(Session::is_open) {
            let session = SessionId(key);
            self.events.extend(
                messages
                    .into_iter()
                    .map(|text| Event::Message { session, text }),
            );
        }
    }

    pub(super) fn websocket_output(
        &mut self,
        rkey: Key,
        skey: Key,
        transport: Transport,
        now: Instant,
    ) -> Option<Output> {
        let r = self.receivers.get_mut(rkey)?;
        let ReceiverKind::WebSocket(conn) = &mut r.kind else {
            return None;
        };
        let was_open = conn.close_state() == ws_proto::CloseState::Open;
        let mut close = None;
        if let Some(session) = self.sessions.get_mut(skey) {
            let mut framed = false;
            if std::mem::take(&mut session.open_due) {
                let _ = conn.send_text(OPEN);
                framed = true;
            }
            if transport == Transport::RawWebSocket {
                // No SockJS framing, and no heartbeats.
                while let Some(message) = session.pending.pop() {
                    let _ = conn.send(message.into_message());
                }
                session.heartbeat_due = false;
            } else if let Some(frame) = session.take_owed_frame() {
                let _ = conn.send_text(&frame);
                framed = true;
            }
            if let State::Closed(frame) = &session.state {
                close = Some(frame.clone());
            }
            if session.is_open() && transport == Transport::WebSocket && framed {
                let at = now + self.config.heartbeat_time;
                self.timers.set(skey, &mut session.deadline, Some(at));
            }
        } else {
            close = Some(CloseReason::Shutdown.frame());
        }
        if let Some(frame) = close {
            if conn.can_send() {
                if transport == Transport::WebSocket {
                    let mut c = String::new();
                    encode_close(frame.code, &frame.reason, &mut c);
                    let _ = conn.send_text(&c);
                }
                let code = frame.code;
                let (code, reason) = if code.is_valid_on_wire()
                    && frame.reason.len() <= ws_proto::MAX_CLOSE_REASON
                {
                    (code, frame.reason.as_str())
                } else {
                    (ws_proto::CloseCode::NORMAL, "")
                };
                let _ = conn.close(Some(code), reason);
            }
        }
        let data = take_transmit(conn);
        let open = conn.close_state() == ws_proto::CloseState::Open;
        let closing = conn.close_state() == ws_proto::CloseState::CloseSent;
        let end = r.ended || conn.close_state() == ws_proto::CloseState::Closed;
        if closing && !end && was_open {
            self.wait_for_close(skey);
        }
        let r = self.receivers.get_mut(rkey)?;
        if end {
            r.ended = true;
            r.end_taken = true;
        }
        // Start the close timeout of a close frame just queued. (While the
        // connection is open, what it sent moved none of its deadlines.)
        if !open {
            self.pump_websocket(rkey, now);
        }
        if data.is_empty() && !end {
            return None;
        }
        Some(Output { data, end })
    }
}

/// Everything `conn` has to write, in one `Bytes`: the usual lone chunk as
/// it is, several joined.
fn take_transmit(conn: &mut ws_proto::Connection) -> Bytes {
    let Some(first) = conn.poll_transmit() else {
        return Bytes::new();
    };
    let Some(second) = conn.poll_transmit() else {
        return first;
    };
    let mut data = BytesMut::with_capacity(first.len() + second.len());
    data.extend_from_slice(&first);
    data.extend_from_slice(&second);
    while let Some(chunk) = conn.poll_transmit() {
        data.extend_from_slice(&chunk);
    }
    data.freeze()
}
