//! The websocket transport on the client: the handshake, then one SockJS
//! frame per WebSocket text message, through `ws-proto`.

use std::time::Instant;

use bytes::Bytes;
use ws_proto::handshake::{ClientHandshake, ClientRequest};
use ws_proto::{CloseCode, CloseState, Connection, Event, Message};

use super::conns::{ConnId, Proto, Role};
use super::{Client, Failure, FrameError, Phase, ServerFrame};
use crate::frame::encode_payload;

impl Client {
    /// Opens the WebSocket of the session at `path`.
    pub(crate) fn start_ws(&mut self, path: &str) -> Result<ConnId, Failure> {
        let mut request = ClientRequest::new(
            self.target.authority.clone(),
            self.target.target(&format!("{path}/websocket")),
        );
        for (name, value) in &self.config.headers {
            // `ClientConfig::validate` checked that every value is text.
            if let Ok(value) = value.to_str() {
                request = request.header(name.as_str(), value);
            }
        }
        if let Some(cookie) = self.cookies.header().as_ref().and_then(|c| c.to_str().ok()) {
            request = request.header("Cookie", cookie);
        }
        let mut key = [0u8; 16];
        (self.entropy)(&mut key);
        let handshake = ClientHandshake::new(&request, key, self.config.http)
            .map_err(|e| Failure::Connection(format!("invalid WebSocket request: {e}")))?;
        let id = self.open_conn(Role::WebSocket);
        if let Some(conn) = self.conns.get(id) {
            conn.out
                .push_back(Bytes::copy_from_slice(handshake.request()));
            conn.proto = Proto::Handshake(Box::new(handshake));
        }
        Ok(id)
    }

    /// Sends `message` on the session's WebSocket.
    pub(crate) fn ws_send(&mut self, id: ConnId, message: &str) {
        let mut payload = String::with_capacity(message.len() + 4);
        encode_payload([message], &mut payload);
        if let Some(conn) = self.conns.get(id) {
            if let Proto::WebSocket(ws) = &mut conn.proto {
                // Fails only once closing, and the session is open.
                let _ = ws.send_text(&payload);
            }
        }
    }

    /// Runs what the WebSocket connection `id` received or timed.
    pub(crate) fn drive_ws(&mut self, id: ConnId, now: Instant) {
        if !self.ws_handshake(id, now) {
            return;
        }
        let Some(conn) = self.conns.get(id) else {
            return;
        };
        let Proto::WebSocket(ws) = &mut conn.proto else {
            return;
        };
        let mut frames = Vec::new();
        let mut failure = None;
        let mut peer_close = None;
        loop {
            match ws.poll_event() {
                Ok(Some(Event::Message(Message::Text(text)))) => {
                    frames.push(ServerFrame::parse(text.as_str().as_bytes()));
                }
                Ok(Some(Event::Message(Message::Binary(_)))) => {
                    frames.push(Err(FrameError::Binary));
                }
                Ok(Some(Event::Close(frame))) => {
                    peer_close = Some(frame.map_or(CloseCode::NO_STATUS, |f| f.code));
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    failure = Some(Failure::WebSocket(e));
                    break;
                }
            }
        }
        let over = ws.close_state() == CloseState::Closed || ws.timed_out().is_some();
        if conn.eof && peer_close.is_none() && !over {
            // The connection ended without a close handshake.
            peer_close = Some(CloseCode::ABNORMAL);
        }
        if conn.lingering {
            // The session is over: only the close handshake is left.
            if over || conn.eof || failure.is_some() {
                self.close_conn(id);
            }
            return;
        }
        for frame in frames {
            if let Err(e) = frame.and_then(|f| self.frame(f)) {
                failure = Some(Failure::Frame(e));
                break;
            }
        }
        if let Some(failure) = failure {
            self.fail_conn(id, failure, now);
        } else if matches!(self.phase, Phase::Closed) {
            // A close frame ended the session; `finish` left the
            // connection to close its WebSocket, or gave it back.
            if over && self.conns.get(id).is_some() {
                self.close_conn(id);
            }
        } else if let Some(code) = peer_close {
            if matches!(self.phase, Phase::Closing { .. }) {
                self.complete_close(None);
            } else {
                self.fail_conn(id, Failure::WebSocketClosed(code), now);
            }
        }
    }

    /// Completes the handshake on `id` when its answer is in; whether `id`
    /// is a WebSocket now.
    fn ws_handshake(&mut self, id: ConnId, now: Instant) -> bool {
        let Some(conn) = self.conns.get(id) else {
            return false;
        };
        let eof = conn.eof;
        let Proto::Handshake(handshake) = &mut conn.proto else {
            return true;
        };
        let response = match handshake.poll_response() {
            Ok(Some(response)) => response,
            Ok(None) if eof => {
                self.fail_conn(id, Failure::Closed, now);
                return false;
            }
            Ok(None) => return false,
            Err(e) => {
                self.fail_conn(id, Failure::Handshake(e), now);
                return false;
            }
        };
        self.cookies.update(&response.headers);
        let entropy = self.entropy.clone();
        let keys = move || {
            let mut key = [0u8; 4];
            entropy(&mut key);
            key
        };
        let mut config = self.config.websocket.clone();
        config.max_message_size = self.config.max_frame_size;
        let mut ws = Connection::client(config, keys);
        ws.receive(&response.trailing);
        if eof {
            ws.receive_eof();
        }
        ws.handle_timeout(now);
        if let Some(conn) = self.conns.get(id) {
            conn.proto = Proto::WebSocket(Box::new(ws));
        }
        true
    }
}
