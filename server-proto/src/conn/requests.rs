//! The HTTP side of a connection: reading a request within its time
//! limits, routing it, and whole responses (pages, refusals, errors), with
//! keep-alive between them.

use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use http::header::{HeaderValue, ALLOW, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_proto::{is_upgrade, BodyKind, Framing, ServerConn};

use super::{sockjs, websocket, After, Connection, State};
use crate::logging;

impl Connection {
    /// Queues a whole response (no body where the framing says so: 204,
    /// 304, an answer to `HEAD`; a response the encoder refuses becomes a
    /// bare 500).
    pub(crate) fn respond(&mut self, res: &Response<Bytes>, after: After, now: Instant) {
        let out = encode_whole(res, &mut self.http);
        self.respond_bytes(out.freeze(), after, now);
    }

    pub(crate) fn respond_bytes(&mut self, out: Bytes, after: After, now: Instant) {
        if let After::Receiver(hub, _) = &after {
            self.write_limit = hub.options.common.send_time_limit;
        } else {
            self.write_limit = self.server.request_timeout();
        }
        self.push_out(out, now);
        self.state = State::Respond(after);
    }

    pub(super) fn step_head(
        &mut self,
        started: Option<Instant>,
        idle_since: Instant,
        now: Instant,
    ) -> bool {
        let server = Arc::clone(&self.server);
        if started.is_none() && self.http.buffered() == 0 && server.is_stopping() {
            self.close();
            return true;
        }
        match self.http.poll_request() {
            Ok(Some(req)) => {
                self.route(req, now);
                return true;
            }
            Ok(None) => {}
            Err(e) => {
                logging::bad_request(e.status(), &e);
                self.http.close();
                self.respond_bytes(Bytes::from(e.response()), After::Close, now);
                return true;
            }
        }
        if self.http.poll_continue() {
            self.push_out(Bytes::from_static(http_proto::CONTINUE_100), now);
        }
        match started {
            Some(at) if now >= at + server.options.request_timeout => {
                logging::bad_request(408, &"request not complete within the time limit");
                self.http.close();
                let res = plain(StatusCode::REQUEST_TIMEOUT, "Request Timeout");
                self.respond(&res, After::Close, now);
                return true;
            }
            None if now >= idle_since + server.options.keep_alive_timeout => {
                self.close();
                return true;
            }
            _ => {}
        }
        if self.read_eof {
            self.close();
            return true;
        }
        self.state = State::Head {
            started,
            idle_since,
        };
        false
    }

    pub(super) fn step_respond(&mut self, after: After, now: Instant) -> bool {
        if self.transmit_len() > 0 {
            self.state = State::Respond(after);
            return false;
        }
        match after {
            After::Close => self.close(),
            After::KeepAlive => self.keep_alive(now),
            After::Receiver(hub, receiver) => {
                hub.receiver_closed(receiver, now);
                self.keep_alive(now);
            }
        }
        true
    }

    /// The exchange is over: the next request, or the end.
    pub(crate) fn keep_alive(&mut self, now: Instant) {
        if self.http.keep_alive() && !self.server.is_stopping() && !self.read_eof {
            self.write_limit = self.server.request_timeout();
            self.state = State::Head {
                started: (self.http.buffered() > 0).then_some(now),
                idle_since: now,
            };
        } else {
            self.close();
        }
    }

    /// Routes a request to its endpoint or page.
    fn route(&mut self, req: Request<Bytes>, now: Instant) {
        let server = Arc::clone(&self.server);
        let path = req.uri().path();
        logging::request(&req);
        let upgrade = is_upgrade(&req);
        if let Some((endpoint, options)) = server.websocket_for(path) {
            if upgrade {
                websocket::upgrade(self, &req, *endpoint, options, now);
            } else {
                // The refusal says `Connection: close`.
                let out = websocket::refusal(&req, &mut self.http);
                self.respond_bytes(out, After::Close, now);
            }
        } else if let Some(hub) = server.hub_for(path) {
            sockjs::start(self, req, hub, now);
        } else {
            if upgrade {
                self.http.decline_upgrade();
            }
            let res = page(&req, server.pages.get(path));
            logging::page_refused(&req, res.status());
            self.respond(&res, After::KeepAlive, now);
        }
    }
}

/// A plain-text response.
pub(crate) fn plain(status: StatusCode, body: &'static str) -> Response<Bytes> {
    let mut res = Response::new(Bytes::from_static(body.as_bytes()));
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    res
}

/// The answer to a request for a plain page: 200 (no body for `HEAD`), 405
/// for another method, 404 for no page.
pub(crate) fn page(req: &Request<Bytes>, page: Option<&crate::server::Page>) -> Response<Bytes> {
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    let mut res = match page {
        Some(page) if get => {
            let mut res = Response::new(page.body.clone());
            if let Ok(value) = HeaderValue::from_str(&page.content_type) {
                res.headers_mut().insert(CONTENT_TYPE, value);
            }
            res
        }
        Some(_) => plain(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        None => plain(StatusCode::NOT_FOUND, "Not Found"),
    };
    if res.status() == StatusCode::METHOD_NOT_ALLOWED {
        res.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    res
}

/// Encodes a whole response with its body (none where the framing says so:
/// 204, 304, an answer to `HEAD`); a response the encoder refuses becomes a
/// bare 500.
pub(crate) fn encode_whole(res: &Response<Bytes>, http: &mut ServerConn) -> BytesMut {
    let mut out = BytesMut::new();
    let length = BodyKind::Length(res.body().len() as u64);
    match http.encode_response(res, length, &mut out) {
        Ok(Framing::None) => {}
        Ok(_) => out.extend_from_slice(res.body()),
        Err(e) => {
            tracing::debug!(target: logging::SERVER, error = %e, "response refused by the encoder");
            out.clear();
            let mut bare = Response::new(());
            *bare.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            let _ = http.encode_response(&bare, BodyKind::None, &mut out);
        }
    }
    out
}
