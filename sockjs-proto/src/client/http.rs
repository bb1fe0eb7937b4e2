//! The xhr transports on the client: the receiving requests
//! (`xhr_streaming`, reopened where the server ends the response; `xhr`,
//! one poll after another) and `xhr_send`, batching what the application
//! sends while a send is in flight.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::{CONTENT_TYPE, COOKIE, HOST};
use http::{HeaderValue, Method, Request, StatusCode};
use http_proto::ResponseEvent;

use super::conns::{ConnId, Proto, Role};
use super::frames::Lines;
use super::{AttemptKind, Client, Failure, Phase, ServerFrame};
use crate::frame::encode_payload;
use crate::Transport;

/// What an xhr transport's session has in flight.
#[derive(Debug)]
pub(crate) struct HttpAttempt {
    /// The connection of the receiving request, while one is out.
    recv: Option<ConnId>,
    /// The lines of the receiving response.
    lines: Lines,
    max_frame_size: usize,
    /// The connection that carries `xhr_send`s.
    send: Option<ConnId>,
    /// Messages not yet sent, and their bytes.
    queue: Vec<String>,
    queued: usize,
    /// The bytes of the messages of the `xhr_send` in flight.
    in_flight: Option<usize>,
}

impl HttpAttempt {
    pub(crate) fn new(max_frame_size: usize) -> Self {
        Self {
            recv: None,
            lines: Lines::new(max_frame_size),
            max_frame_size,
            send: None,
            queue: Vec::new(),
            queued: 0,
            in_flight: None,
        }
    }

    /// The connections in use.
    pub(crate) fn conns(&self) -> impl Iterator<Item = ConnId> {
        self.recv.into_iter().chain(self.send)
    }

    /// Bytes sent by the application and not yet acknowledged.
    pub(crate) fn buffered(&self) -> usize {
        self.queued + self.in_flight.unwrap_or(0)
    }

    pub(crate) fn queue(&mut self, message: &str) {
        self.queued += message.len();
        self.queue.push(message.to_owned());
    }
}

impl Client {
    /// A request for `path` under the endpoint, with the configured headers
    /// and the cookies.
    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        content_type: Option<&'static str>,
    ) -> Request<()> {
        let mut request = Request::new(());
        *request.method_mut() = method;
        // The target came out of a valid URI.
        *request.uri_mut() = self.target.target(path).parse().unwrap_or_default();
        let headers = request.headers_mut();
        if let Ok(host) = HeaderValue::from_str(&self.target.authority) {
            headers.insert(HOST, host);
        }
        for (name, value) in &self.config.headers {
            headers.append(name, value.clone());
        }
        if let Some(cookie) = self.cookies.header() {
            headers.insert(COOKIE, cookie);
        }
        if let Some(content_type) = content_type {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        request
    }

    /// The session's xhr attempt, if `self` has one.
    fn http_attempt(&mut self) -> Option<(Transport, &str, &mut HttpAttempt)> {
        match &mut self.phase {
            Phase::Opening { attempt, .. }
            | Phase::Open(attempt)
            | Phase::Closing { attempt, .. } => match &mut attempt.kind {
                AttemptKind::Http(h) => Some((attempt.transport, attempt.path.as_str(), h)),
                AttemptKind::WebSocket(_) => None,
            },
            Phase::Info(_) | Phase::Closed => None,
        }
    }

    /// Sends the next receiving request of the session.
    pub(crate) fn start_receive(&mut self) {
        let Some((transport, path, _)) = self.http_attempt() else {
            return;
        };
        let target = format!("{path}/{}", transport.name());
        let request = self.request(Method::POST, &target, None);
        let id = match self.conns.take_idle(Role::Receive) {
            Some(id) => id,
            None => self.open_conn(Role::Receive),
        };
        self.conns.send_request(id, &request, &[]);
        if let Some((_, _, h)) = self.http_attempt() {
            h.recv = Some(id);
            h.lines = Lines::new(h.max_frame_size);
        }
    }

    /// Sends what the application queued, unless a send is in flight.
    pub(crate) fn flush_sends(&mut self) {
        let Some((_, path, h)) = self.http_attempt() else {
            return;
        };
        if h.in_flight.is_some() || h.queue.is_empty() {
            return;
        }
        let target = format!("{path}/xhr_send");
        let mut payload = String::with_capacity(h.queued + 2 * h.queue.len() + 2);
        encode_payload(h.queue.iter().map(String::as_str), &mut payload);
        h.queue.clear();
        h.in_flight = Some(std::mem::take(&mut h.queued));
        let reuse = h.send.filter(|&id| self.conns.http_reusable(id));
        let request = self.request(Method::POST, &target, Some("text/plain;charset=UTF-8"));
        let id = match reuse.or_else(|| self.conns.take_idle(Role::Send)) {
            Some(id) => id,
            None => self.open_conn(Role::Send),
        };
        self.conns.send_request(id, &request, payload.as_bytes());
        if let Some((_, _, h)) = self.http_attempt() {
            h.send = Some(id);
        }
    }

    /// Runs what the HTTP connection `id` received.
    pub(crate) fn drive_http(&mut self, id: ConnId, now: Instant) {
        let mut events = Vec::new();
        let mut error = None;
        let mut cut = false;
        if let Some(conn) = self.conns.get(id) {
            let Proto::Http(http) = &mut conn.proto else {
                return;
            };
            loop {
                match http.poll_event() {
                    Ok(Some(event)) => events.push(event),
                    Ok(None) => break,
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            cut = conn.eof && !http.is_idle();
        }
        for event in events {
            match self.conns.role(id) {
                Some(Role::Info) => self.info_event(id, event, now),
                Some(Role::Receive) => self.receive_event(id, event, now),
                Some(Role::Send) => self.send_event(id, event, now),
                Some(Role::Idle | Role::WebSocket) | None => {}
            }
        }
        if let Some(error) = error {
            self.fail_conn(id, Failure::Http(error), now);
        } else if cut {
            self.fail_conn(id, Failure::Closed, now);
        } else if self.conns.eof(id) {
            // The server closed a connection with nothing outstanding.
            self.close_conn(id);
        }
    }

    /// Gives `id` back and reports its failure.
    pub(crate) fn fail_conn(&mut self, id: ConnId, failure: Failure, now: Instant) {
        if let Some(role) = self.conns.remove(id) {
            self.outputs.push_back(super::Output::Close(id));
            self.failed(role, failure, now);
        }
    }

    /// What the receiving connection gave.
    fn receive_event(&mut self, id: ConnId, event: ResponseEvent, now: Instant) {
        let Some((_, _, h)) = self.http_attempt() else {
            return;
        };
        if h.recv != Some(id) {
            return;
        }
        match event {
            ResponseEvent::Head(head) => {
                if head.status() == StatusCode::OK {
                    self.cookies.update(head.headers());
                } else {
                    self.fail_conn(id, Failure::Status(head.status().as_u16()), now);
                }
            }
            ResponseEvent::Data(data) => self.receive_data(id, &data, now),
            ResponseEvent::End => {
                if let Err(e) = h.lines.finish() {
                    self.fail_conn(id, Failure::Frame(e), now);
                    return;
                }
                h.recv = None;
                if self.conns.http_reusable(id) {
                    self.conns.set_role(id, Role::Idle);
                } else {
                    self.close_conn(id);
                }
                // The server ended the poll or the stream: ask again on the
                // same session, unless it is over.
                if matches!(self.phase, Phase::Opening { .. } | Phase::Open(_)) {
                    self.start_receive();
                }
            }
            _ => {}
        }
    }

    /// Frames out of the receiving response's body.
    fn receive_data(&mut self, id: ConnId, data: &Bytes, now: Instant) {
        let mut frames = Vec::new();
        let mut failure = None;
        if let Some((_, _, h)) = self.http_attempt() {
            h.lines.push(data);
            loop {
                match h.lines.next_line() {
                    Ok(Some(line)) => match ServerFrame::parse(&line) {
                        Ok(frame) => frames.push(frame),
                        Err(e) => {
                            failure = Some(e);
                            break;
                        }
                    },
                    Ok(None) => break,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
        }
        for frame in frames {
            if let Err(e) = self.frame(frame) {
                failure = Some(e);
                break;
            }
        }
        if let Some(e) = failure {
            self.fail_conn(id, Failure::Frame(e), now);
        }
    }

    /// What the sending connection gave.
    fn send_event(&mut self, id: ConnId, event: ResponseEvent, now: Instant) {
        match event {
            ResponseEvent::Head(head) => {
                let status = head.status();
                if status == StatusCode::NO_CONTENT || status == StatusCode::OK {
                    self.cookies.update(head.headers());
                } else {
                    self.fail_conn(id, Failure::Status(status.as_u16()), now);
                }
            }
            ResponseEvent::End => {
                let reusable = self.conns.http_reusable(id);
                if let Some((_, _, h)) = self.http_attempt() {
                    h.in_flight = None;
                    if !reusable {
                        h.send = None;
                    }
                }
                if !reusable {
                    self.close_conn(id);
                }
                self.flush_sends();
                let drained = self
                    .http_attempt()
                    .is_some_and(|(_, _, h)| h.buffered() == 0);
                if drained && matches!(self.phase, Phase::Closing { .. }) {
                    self.complete_close(None);
                }
            }
            // The answer's body says nothing.
            _ => {}
        }
    }
}

/// Encodes `request` with `body` for an HTTP connection.
pub(crate) fn encode(
    http: &mut http_proto::ClientConn,
    request: &Request<()>,
    body: &[u8],
) -> Result<Bytes, http_proto::EncodeError> {
    let mut out = BytesMut::with_capacity(256 + body.len());
    // No body: http-proto writes `Content-Length: 0` for the POSTs, and
    // nothing for `GET /info`.
    let kind = if body.is_empty() {
        http_proto::BodyKind::None
    } else {
        http_proto::BodyKind::Length(body.len() as u64)
    };
    http.send_request(request, kind, &mut out)?;
    out.extend_from_slice(body);
    Ok(out.freeze())
}
