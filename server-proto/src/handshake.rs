//! The request that opens a session, as the application's handshake
//! interceptors see it, and the staged accept: an [`Incoming`] that the
//! embedder accepts (with the session's
//! [`Attributes`](crate::Attributes)) or refuses (with a [`Rejection`]).

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http::header::AsHeaderName;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};

use crate::server::EndpointId;

/// The request that opens a session, as handshake interceptors see it
/// (and as the principal resolver sees every request of an endpoint): the
/// `http` crate's method, URI and headers, and who sent it. (`Debug`
/// writes header values as text: see [`http_proto::debug`].)
#[derive(Clone)]
pub struct HandshakeRequest {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) remote_addr: SocketAddr,
    pub(crate) client_ip: IpAddr,
    pub(crate) principal: Option<String>,
    pub(crate) extensions: http::Extensions,
}

impl fmt::Debug for HandshakeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeRequest")
            .field("method", &self.method)
            .field("uri", &self.uri)
            .field("headers", &http_proto::debug::Headers(&self.headers))
            .field("remote_addr", &self.remote_addr)
            .field("client_ip", &self.client_ip)
            .field("principal", &self.principal)
            .field("extensions", &self.extensions)
            .finish()
    }
}

impl HandshakeRequest {
    /// The method (`GET` for WebSocket, `POST` for most SockJS transports).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request target.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The query, if any, as it came (not decoded;
    /// [`query_param`](Self::query_param) decodes).
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The value of the first query parameter called `name` (compared
    /// after decoding), decoded as HTML forms, `URLSearchParams` and
    /// sockjs-node decode it ([`http_proto::query`]): `+` is a space,
    /// `%XX` (two hex digits, either case) is the byte `XX`, a `%` without
    /// two hex digits after it stays a literal `%`, and the bytes are read
    /// as UTF-8 with each invalid sequence replaced by U+FFFD. A parameter
    /// without `=` has the empty value. Borrowed from the URI when there
    /// is nothing to decode. So `?room=caf%C3%A9+au+lait&token=a%2Bb%zz`
    /// has the room `café au lait` and the token `a+b%zz`.
    pub fn query_param(&self, name: &str) -> Option<Cow<'_, str>> {
        http_proto::query::param(self.query()?, name)
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of the header `name` (case-insensitive), if it is
    /// UTF-8.
    pub fn header(&self, name: impl AsHeaderName) -> Option<&str> {
        http_proto::headers::str_value(&self.headers, name)
    }

    /// The value of the cookie `name` in the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        http_proto::headers::cookie(&self.headers, name)
    }

    /// The peer's address (a proxy's, behind one).
    pub fn remote_addr(&self) -> SocketAddr {
        self.remote_addr
    }

    /// The client's IP address: the peer's, or the one a trusted proxy
    /// forwarded (see
    /// [`ServerOptions::trusted_proxies`](crate::ServerOptions::trusted_proxies)).
    pub fn client_ip(&self) -> IpAddr {
        self.client_ip
    }

    /// The authenticated user who sent the request, as the endpoint's
    /// principal resolver found it (`None` without a resolver).
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// The request's extensions: what the embedder's HTTP stack attached
    /// to it before the endpoint saw it (an axum or tower middleware's
    /// authenticated user, for instance), for interceptors to read and
    /// copy into the session's attributes. Empty on the standalone server.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }
}

/// An interceptor's refusal: the HTTP response the client gets instead of a
/// session (its body in plain text). On a SockJS endpoint, the connection
/// adds the CORS headers the endpoint's own answer to that request would
/// carry (on `/info`, `xhr`, `xhr_streaming`, `xhr_send`, `eventsource`,
/// from an allowed origin: see
/// [`sockjs_proto::Server::refusal_cors`]), so that a page can read the
/// status; a refusal that sets `Access-Control-Allow-Origin` itself keeps
/// its own. (`Debug` writes header values as text: see
/// [`http_proto::debug`].)
#[derive(Clone, PartialEq, Eq)]
pub struct Rejection {
    pub(crate) status: StatusCode,
    /// Boxed: an interceptor's `Err` stays small (a refusal is rare).
    pub(crate) headers: Box<HeaderMap>,
    pub(crate) body: String,
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("status", &self.status)
            .field("headers", &http_proto::debug::Headers(&self.headers))
            .field("body", &self.body)
            .finish()
    }
}

impl Rejection {
    /// A refusal with this status (e.g. 401, 403) and its reason phrase as
    /// the body.
    pub fn new(status: StatusCode) -> Self {
        Self {
            status,
            headers: Box::default(),
            body: status.canonical_reason().unwrap_or_default().to_owned(),
        }
    }

    /// Replaces the (text/plain) body.
    #[must_use]
    pub fn body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// Adds a header (e.g. `WWW-Authenticate`). `Content-Length` and
    /// `Transfer-Encoding` are the HTTP layer's: a refusal that carries
    /// either is answered with a bare 500 instead.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response to write: the headers, `Content-Type: text/plain;
    /// charset=UTF-8` and the body.
    pub fn to_response(&self) -> http::Response<Bytes> {
        let mut res = http::Response::new(Bytes::from(self.body.clone()));
        *res.status_mut() = self.status;
        let headers = res.headers_mut();
        headers.clone_from(&*self.headers);
        headers.append(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=UTF-8"),
        );
        res
    }
}

/// How a handshake ended ([`Output::Handshake`](crate::Output::Handshake)), for the
/// interceptors' `after` part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeOutcome {
    /// A session opened with this id.
    Opened(u64),
    /// The request was answered with this status and no session.
    Refused(StatusCode),
}

/// A request that would open a session (or a SockJS `/info`, with
/// [`SockJsOptions::intercept_info`](crate::SockJsOptions::intercept_info)),
/// staged until the embedder decides:
/// it runs its handshake interceptors on [`request`](Self::request), then
/// gives the `Incoming` back to
/// [`Connection::accept`](crate::Connection::accept) with the session's
/// [`Attributes`](crate::Attributes), or to
/// [`Connection::refuse`](crate::Connection::refuse) with a
/// [`Rejection`]. The connection reads nothing more until then.
#[derive(Debug)]
pub struct Incoming {
    pub(crate) endpoint: EndpointId,
    pub(crate) request: HandshakeRequest,
    /// Which connection staged it, so it cannot be given to another.
    pub(crate) conn: u64,
}

impl Incoming {
    /// The endpoint the request is for.
    pub fn endpoint(&self) -> EndpointId {
        self.endpoint
    }

    /// The request.
    pub fn request(&self) -> &HandshakeRequest {
        &self.request
    }
}

impl HandshakeRequest {
    /// What stands for a request that is not there (held by the embedder
    /// meanwhile, or missing where an invariant says it cannot be).
    pub(crate) fn placeholder() -> Self {
        Self {
            method: Method::GET,
            uri: Uri::default(),
            headers: HeaderMap::new(),
            remote_addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            client_ip: std::net::Ipv4Addr::UNSPECIFIED.into(),
            principal: None,
            extensions: http::Extensions::new(),
        }
    }

    /// The request as interceptors see it: the client's address behind
    /// trusted proxies, and the principal the endpoint's resolver finds.
    pub(crate) fn new(
        req: &http::Request<Bytes>,
        remote_addr: SocketAddr,
        trusted_proxies: &[http_proto::IpRange],
        principal: Option<&crate::options::PrincipalFn>,
    ) -> Self {
        let client_ip = http_proto::client_ip(req.headers(), remote_addr.ip(), trusted_proxies);
        let mut request = Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            headers: req.headers().clone(),
            remote_addr,
            client_ip,
            principal: None,
            extensions: req.extensions().clone(),
        };
        request.principal = principal.and_then(|resolve| resolve(&request));
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Header values show as text where they are UTF-8, as bytes where
    /// they are not.
    #[test]
    fn debug_shows_header_values_as_text() {
        let req = http::Request::get("/chat/websocket?x=1")
            .header(
                "Cookie",
                HeaderValue::from_bytes("n=J\u{f6}rg".as_bytes()).unwrap(),
            )
            .header("X-Raw", HeaderValue::from_bytes(b"a\xffb").unwrap())
            .body(Bytes::new())
            .unwrap();
        let request = HandshakeRequest::new(&req, SocketAddr::from(([127, 0, 0, 1], 9)), &[], None);
        assert_eq!(
            format!("{request:?}"),
            "HandshakeRequest { method: GET, uri: /chat/websocket?x=1, \
             headers: {\"cookie\": \"n=Jörg\", \"x-raw\": b\"a\\xffb\"}, \
             remote_addr: 127.0.0.1:9, client_ip: 127.0.0.1, principal: None, \
             extensions: {} }"
        );
        let rejection = Rejection::new(StatusCode::UNAUTHORIZED).header(
            http::header::WWW_AUTHENTICATE,
            HeaderValue::from_bytes("Basic realm=\"Zürich\"".as_bytes()).unwrap(),
        );
        assert_eq!(
            format!("{rejection:?}"),
            "Rejection { status: 401, headers: {\"www-authenticate\": \
             \"Basic realm=\\\"Zürich\\\"\"}, body: \"Unauthorized\" }"
        );
    }

    fn request(target: &str) -> HandshakeRequest {
        let req = http::Request::get(target).body(Bytes::new()).unwrap();
        HandshakeRequest::new(&req, SocketAddr::from(([127, 0, 0, 1], 1)), &[], None)
    }

    #[test]
    fn query_parameters_are_form_decoded() {
        let r = request("/chat/000/s/xhr?room=caf%C3%A9+au+lait&token=a%2Bb%zz&flag&n=%FF1");
        assert_eq!(
            r.query(),
            Some("room=caf%C3%A9+au+lait&token=a%2Bb%zz&flag&n=%FF1")
        );
        // `+` a space, `%XX` a byte, UTF-8 read.
        assert_eq!(r.query_param("room").as_deref(), Some("caf\u{e9} au lait"));
        // `%2B` a plus; a `%` without two hex digits stays.
        assert_eq!(r.query_param("token").as_deref(), Some("a+b%zz"));
        // No `=`: the empty value.
        assert_eq!(r.query_param("flag").as_deref(), Some(""));
        // Not UTF-8: replaced.
        assert_eq!(r.query_param("n").as_deref(), Some("\u{fffd}1"));
        assert_eq!(r.query_param("missing"), None);
        assert_eq!(request("/chat/websocket").query_param("room"), None);
        // Names are compared decoded; the first one wins.
        let r = request("/ws?%72oom=first&room=second");
        assert_eq!(r.query_param("room").as_deref(), Some("first"));
        // Nothing to decode: borrowed from the URI.
        assert!(matches!(
            request("/ws?t=abc").query_param("t"),
            Some(Cow::Borrowed("abc"))
        ));
    }
}
