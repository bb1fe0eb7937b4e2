//! Requests of an HTTP server the embedder runs (hyper, axum, any `tower`
//! stack): the request comes parsed, the answer goes out as an `http`
//! response whose body the embedder's server writes. What stays the same
//! as on a [`Connection`](crate::Connection) of the server's own: routing,
//! staged accepts for handshake interceptors, every SockJS transport, and
//! WebSocket sessions, which run on a [`Connection`](crate::Connection)
//! made from the upgraded stream ([`Server::upgraded`]).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::{Request, Response, StatusCode};
use sockjs_proto::{Answer, ReceiverId};
use ws_proto::handshake::UpgradeRequest;

use crate::conn::{self, Output, Pending, Staged};
use crate::handshake::{HandshakeOutcome, Incoming, Rejection};
use crate::hub::Hub;
use crate::logging::{self, Part};
use crate::mailbox::Inbox;
use crate::server::{EndpointId, Server};
use crate::session::Attributes;

mod stream;

pub use stream::{ResponseStream, Upgrade};

/// What a [`HttpExchange`] answers.
#[derive(Debug)]
#[non_exhaustive]
pub enum Reply {
    /// A whole response.
    Response(Response<Bytes>),
    /// A response whose body streams (xhr-streaming, eventsource,
    /// htmlfile): the body gives chunks as the session has frames, and
    /// ends where the transport ends (the stream limit, the session's
    /// close).
    Stream(Response<ResponseStream>),
    /// `101 Switching Protocols`: write it, take the upgraded stream, and
    /// serve it as a [`Connection`](crate::Connection) made by
    /// [`Server::upgraded`] with the [`Upgrade`].
    Upgrade(Response<()>, Upgrade),
}

enum State {
    /// An [`Incoming`] waits for the embedder.
    Staged(Staged),
    /// The request waits before it is handled (see [`Pending::waits`]).
    Waits(Box<(Pending, Attributes)>),
    /// A send's answer waits for the application to take the messages.
    HandlerWait {
        response: Box<Response<Bytes>>,
        inbox: Arc<Inbox>,
        until: Instant,
    },
    /// A long poll, until its frame is complete.
    LongPoll {
        hub: Arc<Hub>,
        receiver: ReceiverId,
        response: Box<Response<Bytes>>,
        body: BytesMut,
        now: Instant,
    },
    Ready(Reply),
    Done,
}

/// One request of an HTTP server the embedder runs, from its parsed form
/// to its answer ([`Server::exchange`]).
///
/// # The driving loop
///
/// ```text
/// let mut exchange = server.exchange(request, remote, now);
/// let reply = poll_fn(|cx| {
///     while let Some(output) = exchange.poll_output() {
///         match output {
///             Output::Incoming(incoming) => match interceptors(incoming.request()) {
///                 Ok(attributes) => exchange.accept(incoming, attributes, now),
///                 Err(rejection) => exchange.refuse(incoming, &rejection),
///             },
///             Output::Handshake { .. } => { /* interceptors' after part */ }
///             Output::Opened(session) => { /* hand it to the application */ }
///         }
///     }
///     // also wake at exchange.poll_timeout()
///     exchange.poll_reply(cx, now)
/// }).await;
/// ```
///
/// Given up before its reply is taken (the client went away), it lets go
/// of what it held: [`abandon`](Self::abandon) it at the time it is given
/// up (a long poll's receiver is detached from its session, whose
/// disconnect delay counts from then); dropped without that, it does so at
/// the last time it was given.
pub struct HttpExchange {
    server: Arc<Server>,
    id: u64,
    remote: SocketAddr,
    state: State,
    outputs: VecDeque<Output>,
}

impl std::fmt::Debug for HttpExchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpExchange")
            .field("remote", &self.remote)
            .finish_non_exhaustive()
    }
}

impl Drop for HttpExchange {
    fn drop(&mut self) {
        if let State::LongPoll {
            hub, receiver, now, ..
        } = &self.state
        {
            hub.receiver_closed(*receiver, *now);
        }
    }
}

impl Server {
    /// Starts the exchange of one request that the embedder's HTTP server
    /// parsed (its body read whole, within the server's
    /// [`Limits`](http_proto::Limits)), from the client at `remote`. The
    /// request's path is matched as on the server's own listener: an
    /// embedder that strips a mount prefix (axum's `nest_service`) mounts
    /// its SockJS endpoint at `/`.
    pub fn exchange(
        self: &Arc<Self>,
        req: Request<Bytes>,
        remote: SocketAddr,
        now: Instant,
    ) -> HttpExchange {
        let mut exchange = HttpExchange {
            server: Arc::clone(self),
            id: self.next_connection_id(),
            remote,
            state: State::Done,
            outputs: VecDeque::new(),
        };
        exchange.route(req, now);
        exchange
    }
}

impl HttpExchange {
    /// What the exchange has for the embedder: a request to run the
    /// interceptors on, a handshake's end, a session that opened.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Accepts the staged request, with the session's attributes.
    pub fn accept(&mut self, incoming: Incoming, attributes: Attributes, now: Instant) {
        if incoming.conn != self.id || !matches!(self.state, State::Staged(_)) {
            tracing::debug!(target: logging::SERVER, "an Incoming given back to an exchange that did not stage it");
            return;
        }
        let State::Staged(staged) = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        match staged {
            Staged::WebSocket { endpoint, upgrade } => {
                self.open_websocket(endpoint, &upgrade, incoming, attributes);
            }
            Staged::SockJs(mut pending) => {
                pending.request = incoming.request;
                if pending.waits(self.id, now) {
                    self.state = State::Waits(Box::new((*pending, attributes)));
                } else {
                    self.handle(*pending, attributes, now);
                }
            }
        }
    }

    /// Refuses the staged request with `rejection`'s response (on a SockJS
    /// endpoint, with the CORS headers the endpoint's own answer would
    /// carry: see [`sockjs_proto::Server::refusal_cors`]).
    pub fn refuse(&mut self, incoming: Incoming, rejection: &Rejection) {
        if incoming.conn != self.id || !matches!(self.state, State::Staged(_)) {
            tracing::debug!(target: logging::SERVER, "an Incoming given back to an exchange that did not stage it");
            return;
        }
        let State::Staged(staged) = std::mem::replace(&mut self.state, State::Done) else {
            return;
        };
        logging::interceptor_refused(staged.part(), rejection, &incoming.request);
        let (response, handshake) = match staged {
            Staged::WebSocket { .. } => (rejection.to_response(), true),
            Staged::SockJs(pending) => (pending.refusal(rejection), pending.opens()),
        };
        if handshake {
            self.outputs.push_back(Output::Handshake {
                endpoint: incoming.endpoint,
                request: incoming.request,
                outcome: HandshakeOutcome::Refused(rejection.status()),
            });
        }
        self.state = State::Ready(Reply::Response(response));
    }

    /// The exchange is given up at `now` (the client went away before its
    /// reply): what it holds is let go.
    pub fn abandon(&mut self, now: Instant) {
        if let State::LongPoll {
            hub,
            receiver,
            now: seen,
            ..
        } = std::mem::replace(&mut self.state, State::Done)
        {
            hub.receiver_closed(receiver, now.max(seen));
        }
    }

    /// When [`poll_reply`](Self::poll_reply) is due again whatever wakes:
    /// a send's answer that waits for the application, or a poll that
    /// waits for its session's other receiver to go, no longer than this.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::HandlerWait { until, .. } => Some(*until),
            State::Waits(waiting) => waiting.0.deadline(),
            _ => None,
        }
    }

    /// The answer, once there is one; `cx` is woken when it may be.
    /// Pending while a staged request waits for
    /// [`accept`](Self::accept) or [`refuse`](Self::refuse).
    pub fn poll_reply(&mut self, cx: &mut Context<'_>, now: Instant) -> Poll<Reply> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Ready(reply) => return Poll::Ready(reply),
                State::Done => {
                    // Taken already: an empty answer rather than a panic.
                    let mut res = Response::new(Bytes::new());
                    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    return Poll::Ready(Reply::Response(res));
                }
                state @ State::Staged(_) => {
                    self.state = state;
                    return Poll::Pending;
                }
                State::Waits(waiting) => {
                    if !waiting.0.poll_ready(cx, now) {
                        self.state = State::Waits(waiting);
                        return Poll::Pending;
                    }
                    let (pending, attributes) = *waiting;
                    self.handle(pending, attributes, now);
                }
                State::HandlerWait {
                    response,
                    inbox,
                    until,
                } => {
                    if now >= until || inbox.poll_demand(cx).is_ready() {
                        return Poll::Ready(Reply::Response(*response));
                    }
                    self.state = State::HandlerWait {
                        response,
                        inbox,
                        until,
                    };
                    return Poll::Pending;
                }
                State::LongPoll {
                    hub,
                    receiver,
                    mut response,
                    mut body,
                    ..
                } => {
                    let polled = hub.poll_frames(receiver, now, cx.waker(), &mut body);
                    if polled == Some(true) {
                        // The frame is complete: the receiver is done (the
                        // client's next poll may come at once).
                        hub.receiver_closed(receiver, now);
                        *response.body_mut() = body.freeze();
                        return Poll::Ready(Reply::Response(*response));
                    }
                    self.state = State::LongPoll {
                        hub,
                        receiver,
                        response,
                        body,
                        now,
                    };
                    // Some of the frame came: poll again, which registers
                    // the waker if nothing more is there.
                    if polled.is_none() {
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    // ---- inside ---------------------------------------------------------

    fn route(&mut self, req: Request<Bytes>, now: Instant) {
        let server = Arc::clone(&self.server);
        let path = req.uri().path();
        logging::request(&req);
        if let Some((endpoint, options)) = server.websocket_for(path) {
            let upgrade = match UpgradeRequest::validate(&req) {
                Ok(upgrade) => upgrade,
                Err(e) => {
                    logging::refused(Part::WebSocket, e.status(), req.method(), path, &e);
                    self.state = State::Ready(Reply::Response(e.to_response()));
                    return;
                }
            };
            match conn::websocket::check_origin(&server, &req, self.remote, options) {
                (request, true) => {
                    self.state = State::Staged(Staged::WebSocket {
                        endpoint: *endpoint,
                        upgrade: Box::new(upgrade),
                    });
                    self.outputs.push_back(Output::Incoming(Incoming {
                        endpoint: *endpoint,
                        request,
                        conn: self.id,
                    }));
                }
                (request, false) => {
                    let reason = "origin not allowed";
                    self.refused(*endpoint, request, StatusCode::FORBIDDEN, reason);
                }
            }
        } else if let Some(hub) = server.hub_for(path) {
            let mut pending = Pending::new(&server, req, hub, self.remote, now);
            if pending.staged() {
                let request = pending.take_request();
                self.state = State::Staged(Staged::SockJs(pending));
                self.outputs.push_back(Output::Incoming(Incoming {
                    endpoint: hub.id,
                    request,
                    conn: self.id,
                }));
            } else if pending.waits(self.id, now) {
                self.state = State::Waits(Box::new((*pending, Attributes::default())));
            } else {
                self.handle(*pending, Attributes::default(), now);
            }
        } else {
            let res = conn::page(&req, server.pages.get(path));
            logging::page_refused(&req, res.status());
            self.state = State::Ready(Reply::Response(res));
        }
    }

    /// Refused by the protocol (the origin, the handshake).
    fn refused(
        &mut self,
        endpoint: EndpointId,
        request: crate::HandshakeRequest,
        status: StatusCode,
        reason: &str,
    ) {
        let (method, path) = (request.method(), request.path());
        logging::refused(Part::WebSocket, status.as_u16(), method, path, &reason);
        self.outputs.push_back(Output::Handshake {
            endpoint,
            request,
            outcome: HandshakeOutcome::Refused(status),
        });
        let res = Rejection::new(status).to_response();
        self.state = State::Ready(Reply::Response(res));
    }

    fn open_websocket(
        &mut self,
        endpoint: EndpointId,
        upgrade: &UpgradeRequest,
        incoming: Incoming,
        attributes: Attributes,
    ) {
        let Some((response, protocol)) = conn::websocket::accept(&self.server, endpoint, upgrade)
        else {
            self.refused(
                endpoint,
                incoming.request,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the endpoint cannot accept the upgrade",
            );
            return;
        };
        let upgrade = Upgrade::websocket(
            endpoint,
            conn::websocket::Opening {
                request: incoming.request,
                attributes,
                protocol,
            },
            self.remote,
        );
        self.state = State::Ready(Reply::Upgrade(response, upgrade));
    }

    fn handle(&mut self, pending: Pending, attributes: Attributes, now: Instant) {
        let outputs = &mut self.outputs;
        let ran = conn::sockjs::run(pending, attributes, now, &mut |output| {
            outputs.push_back(output);
        });
        let hub = ran.hub;
        self.state = match ran.answer {
            Answer::Response(res) => match ran.inbox {
                Some(inbox) if ran.sends && res.status().is_success() => State::HandlerWait {
                    response: Box::new(res),
                    inbox,
                    until: now + hub.handler_wait(),
                },
                _ => State::Ready(Reply::Response(res)),
            },
            Answer::Stream { receiver, response } => {
                let (head, prelude) = response.into_parts();
                let body = ResponseStream::new(hub, receiver, prelude, now);
                State::Ready(Reply::Stream(Response::from_parts(head, body)))
            }
            Answer::Poll { receiver, response } => State::LongPoll {
                hub,
                receiver,
                response: Box::new(response),
                body: BytesMut::new(),
                now,
            },
            Answer::Upgrade { receiver, response } => {
                let response = response.map(|_| ());
                let upgrade = Upgrade::sockjs(hub, receiver, ran.inbox, self.remote, now);
                State::Ready(Reply::Upgrade(response, upgrade))
            }
        };
    }
}
