//! The HTTP requests a SockJS server core sees, and the responses it gives:
//! the `http` crate's types, with [`RequestContext`] for what is not HTTP.
//!
//! The core does not parse or write HTTP/1.1 itself: an HTTP layer hands it
//! a whole `http::Request<Bytes>` (head and body) and writes the
//! `http::Response<Bytes>` it gets back, choosing `Content-Length`, chunked
//! or close-delimited framing (`http-proto` does).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::{
    HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS,
    ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ALLOW, CACHE_CONTROL, CONTENT_TYPE, EXPIRES, ORIGIN, VARY,
};
use http::{HeaderMap, Method, StatusCode};

/// What the core needs to know of a request besides its HTTP: the wall
/// clock, and who sent it. The core never reads a clock nor looks at
/// sockets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestContext {
    /// The wall-clock time the request arrived, for `Expires` headers.
    pub date: SystemTime,
    /// The authenticated user who sent the request, if the embedder knows
    /// one (a name or any stable id). A session opened with a principal
    /// answers only requests with the same principal.
    pub principal: Option<String>,
    /// The IP address of the client (the peer's, or the one a trusted proxy
    /// forwarded). A session opened without a principal answers only
    /// requests from the same address.
    pub client_ip: Option<IpAddr>,
}

impl Default for RequestContext {
    /// Dated at the Unix epoch, with no principal and no address.
    fn default() -> Self {
        Self::new(SystemTime::UNIX_EPOCH)
    }
}

impl RequestContext {
    /// A request that arrived at `date`, with no principal and no address.
    pub fn new(date: SystemTime) -> Self {
        Self {
            date,
            principal: None,
            client_ip: None,
        }
    }

    /// Sets the principal (the authenticated user) who sent the request.
    #[must_use]
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.principal = Some(principal.into());
        self
    }

    /// Sets the client's IP address.
    #[must_use]
    pub fn client_ip(mut self, ip: IpAddr) -> Self {
        self.client_ip = Some(ip);
        self
    }
}

/// A response of the core.
pub(crate) type Response = http::Response<Bytes>;

/// A request as the core reads it: the HTTP request and its context.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Req<'a> {
    pub(crate) http: &'a http::Request<Bytes>,
    pub(crate) ctx: &'a RequestContext,
}

impl<'a> Req<'a> {
    pub(crate) fn method(&self) -> &'a Method {
        self.http.method()
    }

    pub(crate) fn headers(&self) -> &'a HeaderMap {
        self.http.headers()
    }

    pub(crate) fn body(&self) -> &'a Bytes {
        self.http.body()
    }

    /// The first value of header `name`, if it is UTF-8.
    pub(crate) fn header_str(&self, name: impl http::header::AsHeaderName) -> Option<&'a str> {
        http_proto::headers::str_value(self.headers(), name)
    }

    /// The path, without the query.
    pub(crate) fn path(&self) -> &'a str {
        self.http.uri().path()
    }

    /// The decoded value of query parameter `name`, if present (see
    /// `http_proto::query`).
    pub(crate) fn query_param(&self, name: &str) -> Option<Cow<'a, str>> {
        http_proto::query::param(self.http.uri().query()?, name)
    }

    /// The value of cookie `name` in the `Cookie` headers.
    pub(crate) fn cookie(&self, name: &str) -> Option<&'a str> {
        http_proto::headers::cookie(self.headers(), name)
    }
}

/// Building the core's responses.
pub(crate) trait Build: Sized {
    /// Appends a header. Every value the core writes is its own constant,
    /// a number, a date, or a checked one: a value that is not a valid
    /// field value is left out.
    fn header(&mut self, name: HeaderName, value: impl AsRef<str>) -> &mut Self;

    /// Sets `Content-Type` and the body.
    fn with_body(self, content_type: &'static str, body: impl Into<Bytes>) -> Self;
}

impl Build for Response {
    fn header(&mut self, name: HeaderName, value: impl AsRef<str>) -> &mut Self {
        if let Ok(value) = HeaderValue::from_bytes(value.as_ref().as_bytes()) {
            self.headers_mut().append(name, value);
        }
        self
    }

    fn with_body(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.headers_mut()
            .append(CONTENT_TYPE, HeaderValue::from_static(content_type));
        *self.body_mut() = body.into();
        self
    }
}

/// A response with `status`, no headers and no body.
pub(crate) fn response(status: u16) -> Response {
    let mut res = Response::new(Bytes::new());
    *res.status_mut() = StatusCode::from_u16(status).expect("the core's own status");
    res
}

pub(crate) const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";
pub(crate) const APPLICATION_JAVASCRIPT: &str = "application/javascript; charset=UTF-8";
pub(crate) const APPLICATION_JSON: &str = "application/json; charset=UTF-8";
pub(crate) const TEXT_HTML: &str = "text/html; charset=UTF-8";
pub(crate) const NO_CACHE: &str = "no-store, no-cache, no-transform, must-revalidate, max-age=0";
pub(crate) const ONE_YEAR: Duration = Duration::from_secs(31_536_000);

/// `Cache-Control`, `Expires` (and, for preflights, `Access-Control-Max-Age`)
/// for a response cached for a year.
pub(crate) fn cache_for_a_year(res: &mut Response, date: SystemTime) {
    res.header(
        CACHE_CONTROL,
        format!("public, max-age={}", ONE_YEAR.as_secs()),
    );
    res.header(EXPIRES, httpdate::fmt_http_date(date + ONE_YEAR));
}

/// `Cache-Control` for a response that must never be cached.
pub(crate) fn no_cache(res: &mut Response) {
    res.header(CACHE_CONTROL, NO_CACHE);
}

/// The CORS headers: the request's `Origin` echoed (or `*` without one),
/// credentials allowed with an origin, requested headers echoed.
pub(crate) fn cors(res: &mut Response, req: Req<'_>) {
    cors_headers(res.headers_mut(), req.headers());
}

/// [`cors`] from the request's headers into a response's.
pub(crate) fn cors_headers(out: &mut HeaderMap, req: &HeaderMap) {
    // Only UTF-8 values are echoed. None holds CR, LF or another control
    // character but tab, which would split or corrupt the head: the `http`
    // crate's `HeaderValue` refuses them.
    let mut header = |name: HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_bytes(value.as_bytes()) {
            out.append(name, value);
        }
    };
    match http_proto::headers::str_value(req, ORIGIN) {
        Some(origin) => {
            header(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            header(ACCESS_CONTROL_ALLOW_CREDENTIALS, "true");
            header(VARY, "Origin");
        }
        None => {
            header(ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        }
    }
    if let Some(h) = http_proto::headers::str_value(req, ACCESS_CONTROL_REQUEST_HEADERS) {
        if !h.trim().is_empty() {
            header(ACCESS_CONTROL_ALLOW_HEADERS, h);
        }
    }
}

/// A 204 answer to a CORS preflight, cached for a year.
pub(crate) fn preflight(req: Req<'_>, methods: &str, with_cors: bool) -> Response {
    let mut res = response(204);
    cache_for_a_year(&mut res, req.ctx.date);
    res.header(ACCESS_CONTROL_MAX_AGE, ONE_YEAR.as_secs().to_string());
    res.header(ACCESS_CONTROL_ALLOW_METHODS, methods);
    if with_cors {
        cors(&mut res, req);
    }
    res
}

/// A plain-text error answer.
pub(crate) fn text(status: u16, body: &str) -> Response {
    let mut res = response(status);
    no_cache(&mut res);
    res.with_body(TEXT_PLAIN, Bytes::copy_from_slice(body.as_bytes()))
}

/// 404 with a short text body.
pub(crate) fn not_found() -> Response {
    text(404, "Not Found")
}

/// 405 with `Allow`, no `Content-Type` and no body.
pub(crate) fn method_not_allowed(allow: &str) -> Response {
    let mut res = response(405);
    res.header(ALLOW, allow);
    res
}

/// Quotes `s` for an ETag.
pub(crate) fn etag_of(data: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(data);
    let mut tag = String::with_capacity(42);
    tag.push('"');
    for b in &digest[..16] {
        let _ = write!(tag, "{b:02x}");
    }
    tag.push('"');
    tag
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(&str, &[u8])]) -> http::Request<Bytes> {
        let mut req = http::Request::new(Bytes::new());
        *req.uri_mut() = target.parse().unwrap();
        for (name, value) in headers {
            req.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value).unwrap(),
            );
        }
        req
    }

    #[test]
    fn query_parameters_are_percent_decoded() {
        let http = request("/a/b/c/htmlfile?x=1&c=%63allback&d=a+b", &[]);
        let ctx = RequestContext::default();
        let r = Req {
            http: &http,
            ctx: &ctx,
        };
        assert_eq!(r.path(), "/a/b/c/htmlfile");
        assert_eq!(r.query_param("c").as_deref(), Some("callback"));
        assert_eq!(r.query_param("d").as_deref(), Some("a b"));
        assert_eq!(r.query_param("x").as_deref(), Some("1"));
        assert_eq!(r.query_param("y"), None);
        let http = request("/x", &[]);
        assert_eq!(
            Req {
                http: &http,
                ctx: &ctx
            }
            .query_param("c"),
            None
        );
    }

    #[test]
    fn cookies_are_found_among_several() {
        let http = request(
            "/",
            &[("Cookie", b"a=1; JSESSIONID=abcdef"), ("Cookie", b"b=2")],
        );
        let ctx = RequestContext::default();
        let r = Req {
            http: &http,
            ctx: &ctx,
        };
        assert_eq!(r.cookie("JSESSIONID"), Some("abcdef"));
        assert_eq!(r.cookie("b"), Some("2"));
        assert_eq!(r.cookie("c"), None);
    }

    #[test]
    fn cors_never_echoes_control_characters() {
        let ctx = RequestContext::default();
        let http = request(
            "/",
            &[
                ("Origin", b"http://a.example\xff"),
                ("Access-Control-Request-Headers", b"x-a\xfe"),
            ],
        );
        let mut res = response(200);
        cors(
            &mut res,
            Req {
                http: &http,
                ctx: &ctx,
            },
        );
        assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert!(!res.headers().contains_key(ACCESS_CONTROL_ALLOW_HEADERS));

        let http = request(
            "/",
            &[
                ("Origin", b"http://a.example"),
                ("Access-Control-Request-Headers", b"x-a,\tx-b"),
            ],
        );
        let mut res = response(200);
        cors(
            &mut res,
            Req {
                http: &http,
                ctx: &ctx,
            },
        );
        assert_eq!(
            res.headers()[ACCESS_CONTROL_ALLOW_ORIGIN],
            "http://a.example"
        );
        assert_eq!(res.headers()[ACCESS_CONTROL_ALLOW_HEADERS], "x-a,\tx-b");
        // The `http` crate refuses control characters in values: a request
        // cannot carry them to be echoed.
        assert!(HeaderValue::from_bytes(b"http://a.example\r\nSet-Cookie: x=1").is_err());
    }

    #[test]
    fn expires_is_a_year_after_the_request() {
        let mut res = response(204);
        cache_for_a_year(&mut res, SystemTime::UNIX_EPOCH);
        assert_eq!(res.headers()[EXPIRES], "Fri, 01 Jan 1971 00:00:00 GMT");
        assert_eq!(res.headers()[CACHE_CONTROL], "public, max-age=31536000");
    }
}
