//! The CORS headers of refusals: an answer that refuses a request on a
//! path whose answers carry CORS headers (`/info`, the `xhr` family,
//! `eventsource`) carries them too, so that a page on an allowed origin
//! can read its status instead of a network error; an origin that is not
//! allowed is granted nothing.

use http::header::{HeaderValue, HOST, ORIGIN, VARY};
use http::HeaderMap;

use super::Server;
use crate::http::{cors_headers, text, Response};
use crate::route::Route;

impl Server {
    /// Adds to `headers`, those of a response that refuses `req` in this
    /// endpoint's stead (a handshake interceptor's refusal, say), the CORS
    /// headers the endpoint's own answers carry on that path, so that a
    /// page can read the refusal's status as it reads the endpoint's
    /// answers:
    ///
    /// - on `/info` and the transports whose answers carry CORS headers
    ///   (`xhr`, `xhr_streaming`, `xhr_send`, `eventsource`), from an
    ///   allowed origin (or with no `Origin`): `Access-Control-Allow-Origin`
    ///   (the origin, or `*` without one), `Access-Control-Allow-Credentials:
    ///   true` and `Vary: Origin` with an origin, the requested headers in
    ///   `Access-Control-Allow-Headers`, as the endpoint's own answer;
    /// - from an origin that is not allowed: only `Vary: Origin`, nothing
    ///   that would let that origin read the answer (the endpoint's own
    ///   answer to it is a 403 without CORS headers too);
    /// - nothing with `suppress_cors`, nor on other paths (the websocket
    ///   transports, `jsonp`, `htmlfile`, the iframe page), whose answers
    ///   carry no CORS headers, nor off the endpoint's prefix.
    pub fn refusal_cors<B>(&self, req: &http::Request<B>, headers: &mut HeaderMap) {
        let cors_path = match Route::parse(&self.prefix, req.uri().path()) {
            Some(Route::Info) => true,
            Some(Route::Transport { transport, .. }) => transport.uses_cors(),
            _ => false,
        };
        if cors_path {
            self.add_refusal_cors(req.headers(), headers);
        }
    }

    /// [`refusal_cors`](Self::refusal_cors) on a path known to carry CORS
    /// headers.
    pub(super) fn add_refusal_cors(&self, req: &HeaderMap, headers: &mut HeaderMap) {
        if self.config.suppress_cors {
            return;
        }
        let origin = http_proto::headers::str_value(req, ORIGIN);
        let host = http_proto::headers::str_value(req, HOST);
        if self.config.allowed_origins.allows(origin, host) {
            cors_headers(headers, req);
        } else {
            headers.append(VARY, HeaderValue::from_static("Origin"));
        }
    }

    /// `res`, a refusal on a path that carries CORS headers, with them.
    pub(super) fn refused(&self, req: &HeaderMap, mut res: Response) -> Response {
        self.add_refusal_cors(req, res.headers_mut());
        res
    }
}

/// 403 for an origin that is not allowed: no CORS header grants it
/// anything, and `Vary: Origin` says the answer depends on it.
pub(super) fn origin_refused(req: &HeaderMap) -> Response {
    let mut res = text(403, "Forbidden");
    if req.contains_key(ORIGIN) {
        res.headers_mut()
            .append(VARY, HeaderValue::from_static("Origin"));
    }
    res
}
