//! The HTTP transports: receiving requests (open, attach, refuse), the
//! client's sends, and the output of HTTP receivers, one frame at a time.

use std::collections::VecDeque;
use std::time::Instant;

use bytes::Bytes;
use http::header::{HeaderName, CONTENT_TYPE};

use super::{Answer, Server};
use crate::frame::{encode_close, OPEN};
use crate::http::{
    not_found, response, text, Build as _, Req, RequestContext, Response, TEXT_PLAIN,
};
use crate::json::{jsonp_send_body, parse_messages};
use crate::session::{
    another_connection, Event, Output, Owner, Receiver, ReceiverId, ReceiverKind, Session,
    SessionId, State,
};
use crate::slab::Key;
use crate::timers::Deadline;
use crate::transport::{valid_callback, Delivery, Transport};

/// `X-Accel-Buffering: no` on every streaming response: nginx (whose
/// default is to buffer responses from upstream) and proxies that honour
/// it pass each frame on at once instead of holding the stream.
const NO_PROXY_BUFFERING: (HeaderName, &str) = (HeaderName::from_static("x-accel-buffering"), "no");

impl Server {
    /// `xhr_send` and `jsonp_send`: the client's messages.
    pub(super) fn receive_send(
        &mut self,
        req: Req<'_>,
        session_id: &str,
        transport: Transport,
    ) -> Response {
        let error = |status: u16, body: &str| {
            let mut res = text(status, body);
            self.transport_headers(&mut res, req, transport);
            res
        };
        let Some(key) = self.owned_session(session_id, req.ctx) else {
            return error(404, "Not Found");
        };
        let parsed = match transport {
            Transport::JsonpSend => jsonp_send_body(req.body(), req.header_str(CONTENT_TYPE))
                .and_then(|body| parse_messages(&body)),
            _ => parse_messages(req.body()),
        };
        let messages = match parsed {
            Ok(messages) => messages,
            Err(e) => return error(500, &e.to_string()),
        };
        if !self.sessions.get(key).is_some_and(Session::is_open) {
            return error(404, "Not Found");
        }
        let id = SessionId(key);
        self.events
            .extend(messages.into_iter().map(|text| Event::Message {
                session: id,
                text: text.into(),
            }));
        let mut res = if transport == Transport::JsonpSend {
            response(200).with_body(TEXT_PLAIN, Bytes::from_static(b"ok"))
        } else {
            let mut res = response(204);
            res.header(CONTENT_TYPE, TEXT_PLAIN);
            res
        };
        self.transport_headers(&mut res, req, transport);
        res
    }

    /// The session `session_id` names, if it exists and the request comes
    /// from its client (see [`SockJsConfig::bind_sessions_to_client`]).
    ///
    /// [`SockJsConfig::bind_sessions_to_client`]: crate::SockJsConfig::bind_sessions_to_client
    pub(super) fn owned_session(&self, session_id: &str, ctx: &RequestContext) -> Option<Key> {
        let key = *self.by_id.get(session_id)?;
        let session = self.sessions.get(key)?;
        let admitted = !self.config.bind_sessions_to_client
            || session
                .owner
                .admits(ctx.principal.as_deref(), ctx.client_ip);
        admitted.then_some(key)
    }

    /// A receiving HTTP request: open, attach, or refuse.
    pub(super) fn receive(
        &mut self,
        req: Req<'_>,
        session_id: &str,
        transport: Transport,
        now: Instant,
    ) -> Answer {
        let callback = if transport.needs_callback() {
            match req.query_param("c") {
                None => {
                    return Answer::Response(self.callback_error(
                        req,
                        transport,
                        "\"callback\" parameter required",
                    ))
                }
                Some(c) if !valid_callback(&c) => {
                    return Answer::Response(self.callback_error(
                        req,
                        transport,
                        "invalid \"callback\" parameter",
                    ))
                }
                Some(c) => c.into_owned(),
            }
        } else {
            String::new()
        };
        let delivery = transport.delivery().expect("a receiving HTTP transport");
        let mut res = response(200);
        res.header(CONTENT_TYPE, transport.content_type());
        self.transport_headers(&mut res, req, transport);
        if delivery == Delivery::Streaming {
            let (name, value) = NO_PROXY_BUFFERING;
            res.header(name, value);
            *res.body_mut() = Bytes::from(transport.prelude(&callback));
        }

        if !self.by_id.contains_key(session_id) {
            return self.open(req, session_id, transport, callback, res, now);
        }
        let Some(key) = self.owned_session(session_id, req.ctx) else {
            // Another client's session: as if it did not exist, but
            // without opening one under its id.
            let mut res = not_found();
            self.transport_headers(&mut res, req, transport);
            return Answer::Response(res);
        };
        let session = self.sessions.get_mut(key).expect("mapped sessions exist");
        let refusal = match &session.state {
            State::Closed(frame) => Some(frame.clone()),
            State::Open => session.holder().map(|_| another_connection()),
        };
        let Some(frame) = refusal else {
            // An open session with no receiver: a poll with messages waiting
            // answers at once; anything else waits for frames.
            if delivery == Delivery::Polling {
                if let Some(a) = session.take_messages() {
                    let mut body = String::new();
                    transport.wrap_frame(&a, &callback, &mut body);
                    *res.body_mut() = Bytes::from(body);
                    self.detached(key, now);
                    self.room_regained(key);
                    return Answer::Response(res);
                }
            }
            return self.attach(
                key,
                transport,
                delivery,
                callback,
                VecDeque::new(),
                res,
                now,
            );
        };
        // A closed session with no receiver still owes the messages sent
        // before it closed: they come first (alone on a poll, whose next
        // request gets the close frame).
        let mut frames = VecDeque::new();
        if session.receiver.is_none() {
            frames.extend(session.take_messages());
        }
        let mut close = String::new();
        encode_close(frame.code, &frame.reason, &mut close);
        frames.push_back(close);
        if delivery == Delivery::Polling {
            let mut body = String::new();
            transport.wrap_frame(&frames[0], &callback, &mut body);
            *res.body_mut() = Bytes::from(body);
            return Answer::Response(res);
        }
        // A stream, even for a refusal: its prelude and each frame come as
        // chunks of their own, as clients that read chunk by chunk expect.
        let receiver = self.receivers.insert(Receiver {
            session: key,
            transport,
            kind: ReceiverKind::Http {
                delivery,
                callback,
                sent: 0,
                first: frames,
            },
            ended: true,
            end_taken: false,
            woken: false,
            deadline: Deadline::default(),
        });
        self.wake(receiver);
        Answer::Stream {
            receiver: ReceiverId(receiver),
            response: res,
        }
    }

    /// Opens a session for a receiving request: `o`, at once for polling,
    /// as the first frame after the prelude for streaming. `res` is the
    /// response head (with the prelude as its body when streaming).
    fn open(
        &mut self,
        req: Req<'_>,
        session_id: &str,
        transport: Transport,
        callback: String,
        mut res: Response,
        now: Instant,
    ) -> Answer {
        if self.sessions.len() >= self.config.max_sessions {
            let mut res = text(503, "Too many sessions");
            self.transport_headers(&mut res, req, transport);
            return Answer::Response(res);
        }
        let owner = Owner {
            principal: req.ctx.principal.clone(),
            address: req.ctx.client_ip.map(|ip| ip.to_canonical()),
        };
        let key = self.sessions.insert(Session::new(
            session_id.to_owned(),
            transport,
            true,
            owner,
            &self.config,
        ));
        self.by_id.insert(session_id.to_owned(), key);
        self.events.push_back(Event::Opened {
            session: SessionId(key),
            transport,
        });
        let delivery = transport.delivery().expect("a receiving HTTP transport");
        let open = VecDeque::from([OPEN.to_owned()]);
        if delivery == Delivery::Polling {
            let mut body = String::new();
            transport.wrap_frame(&open[0], &callback, &mut body);
            *res.body_mut() = Bytes::from(body);
            self.detached(key, now);
            return Answer::Response(res);
        }
        self.attach(key, transport, delivery, callback, open, res, now)
    }

    fn callback_error(&self, req: Req<'_>, transport: Transport, message: &str) -> Response {
        let mut res = text(500, message);
        self.transport_headers(&mut res, req, transport);
        res
    }

    /// Attaches a new HTTP receiver to an open session that has none, with
    /// `first` frames of its own, and wakes it if it has frames to take.
    #[allow(clippy::too_many_arguments)]
    fn attach(
        &mut self,
        key: Key,
        transport: Transport,
        delivery: Delivery,
        callback: String,
        first: VecDeque<String>,
        res: Response,
        now: Instant,
    ) -> Answer {
        let owed = !first.is_empty();
        let receiver = self.receivers.insert(Receiver {
            session: key,
            transport,
            kind: ReceiverKind::Http {
                delivery,
                callback,
                sent: 0,
                first,
            },
            ended: false,
            end_taken: false,
            woken: false,
            deadline: Deadline::default(),
        });
        let heartbeat = now + self.config.heartbeat_time;
        let session = self
            .sessions
            .get_mut(key)
            .expect("attaching to a live session");
        session.receiver = Some(receiver);
        session.heartbeat_due = false;
        let owed = owed || !session.pending.is_empty();
        self.timers.set(key, &mut session.deadline, Some(heartbeat));
        if owed {
            self.wake(receiver);
        }
        let receiver = ReceiverId(receiver);
        match delivery {
            Delivery::Streaming => Answer::Stream {
                receiver,
                response: res,
            },
            Delivery::Polling => Answer::Poll {
                receiver,
                response: res,
            },
        }
    }

    /// The session has no receiver from `now` on: it expires (or, closed, is
    /// removed) after `disconnectDelay`.
    pub(super) fn detached(&mut self, key: Key, now: Instant) {
        let at = now + self.config.disconnect_delay;
        if let Some(session) = self.sessions.get_mut(key) {
            session.receiver = None;
            session.heartbeat_due = false;
            self.timers.set(key, &mut session.deadline, Some(at));
        }
    }

    /// The next frame of an HTTP receiver, framed for its transport: its own
    /// first frames, then what its session owes (messages, a heartbeat, the
    /// close frame). A long poll ends after one frame, a stream after the
    /// close frame or at `streamBytesLimit`.
    pub(super) fn http_output(&mut self, rkey: Key, now: Instant) -> Option<Output> {
        let limit = self.config.stream_bytes_limit;
        let r = self.receivers.get_mut(rkey)?;
        let skey = r.session;
        let transport = r.transport;
        let ended = r.ended;
        let ReceiverKind::Http {
            delivery,
            callback,
            sent,
            first,
        } = &mut r.kind
        else {
            return None;
        };
        let mut closes = false;
        let frame = match first.pop_front() {
            Some(frame) => {
                closes = ended && first.is_empty();
                Some(frame)
            }
            None if ended => None,
            None => self.sessions.get_mut(skey).and_then(|session| {
                session.take_owed_frame().or_else(|| match &session.state {
                    State::Closed(frame) => {
                        closes = true;
                        let mut c = String::new();
                        encode_close(frame.code, &frame.reason, &mut c);
                        Some(c)
                    }
                    State::Open => None,
                })
            }),
        };
        let Some(frame) = frame else {
            // Ended by the core with nothing left: the end alone.
            return ended.then(|| self.take_end(rkey));
        };
        let mut out = String::new();
        transport.wrap_frame(&frame, callback, &mut out);
        *sent += out.len();
        let end = closes || *delivery == Delivery::Polling || (!ended && *sent >= limit);
        if end {
            self.end_receiver(rkey, now);
            self.receivers.get_mut(rkey).expect("live").end_taken = true;
        } else if let Some(session) = self.sessions.get_mut(skey).filter(|_| !ended) {
            let at = now + self.config.heartbeat_time;
            self.timers.set(skey, &mut session.deadline, Some(at));
        }
        Some(Output {
            data: Bytes::from(out),
            end,
        })
    }
}
