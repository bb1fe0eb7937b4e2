//! The HTTP request a SockJS server core sees, and the responses it gives.
//!
//! The core does not parse or write HTTP/1.1 itself: an HTTP layer hands it
//! a whole [`Request`] (head and body) and writes the [`Response`] it gets
//! back, choosing `Content-Length`, chunked or close-delimited framing.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
pub use ws_proto::handshake::Header;

/// The HTTP version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// HTTP/1.0: streaming responses are close-delimited.
    Http10,
    /// HTTP/1.1: streaming responses are chunked.
    Http11,
}

/// A complete HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target: path and query, e.g. `/echo/000/abc/xhr`.
    pub target: String,
    /// The HTTP version.
    pub version: Version,
    /// The header fields in order.
    pub headers: Vec<Header>,
    /// The body (empty for GET).
    pub body: Bytes,
    /// The wall-clock time the request arrived, for `Expires` headers. The
    /// core never reads a clock.
    pub date: SystemTime,
    /// The authenticated user who sent the request, if the embedder knows
    /// one (a name or any stable id). A session opened with a principal
    /// answers only requests with the same principal.
    pub principal: Option<String>,
    /// The IP address of the client (the peer's, or the one a trusted proxy
    /// forwarded). A session opened without a principal answers only
    /// requests from the same address.
    pub remote_ip: Option<IpAddr>,
}

impl Request {
    /// A request with no headers and no body, dated at the Unix epoch.
    pub fn new(method: impl Into<String>, target: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            target: target.into(),
            version: Version::Http11,
            headers: Vec::new(),
            body: Bytes::new(),
            date: SystemTime::UNIX_EPOCH,
            principal: None,
            remote_ip: None,
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
    pub fn remote_ip(mut self, ip: IpAddr) -> Self {
        self.remote_ip = Some(ip);
        self
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push(Header {
            name: name.to_owned(),
            value: value.as_bytes().to_vec(),
        });
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the HTTP version.
    #[must_use]
    pub fn version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Sets the arrival date.
    #[must_use]
    pub fn date(mut self, date: SystemTime) -> Self {
        self.date = date;
        self
    }

    /// The first value of header `name` (case-insensitive), if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .and_then(|h| std::str::from_utf8(&h.value).ok())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split_once('?').map_or(&self.target, |(p, _)| p)
    }

    /// The query, without the `?`.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// The percent-decoded value of query parameter `name`, if present.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k)? == name)
                .then(|| percent_decode(v))
                .flatten()
        })
    }

    /// The value of cookie `name` in the `Cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("cookie"))
            .filter_map(|h| std::str::from_utf8(&h.value).ok())
            .flat_map(|v| v.split(';'))
            .find_map(|pair| {
                let (k, v) = pair.trim().split_once('=')?;
                (k.trim() == name).then(|| v.trim())
            })
    }

    /// The request head as ws-proto's handshake sees it.
    pub(crate) fn to_ws_request(&self) -> ws_proto::handshake::Request {
        ws_proto::handshake::Request {
            method: self.method.clone(),
            target: self.target.clone(),
            version: match self.version {
                Version::Http10 => 0,
                Version::Http11 => 1,
            },
            headers: self.headers.clone(),
        }
    }
}

/// Decodes `%XX` escapes and `+` as space; `None` for a bad escape or
/// invalid UTF-8.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A response: status, headers and body.
///
/// For a streaming answer the body is the first part of the stream (the
/// prelude and the first frames); for a whole answer it is all of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header fields, without framing headers (`Content-Length`,
    /// `Transfer-Encoding`, `Connection`): the HTTP layer adds those.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Bytes,
}

impl Response {
    pub(crate) fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    pub(crate) fn header(&mut self, name: &'static str, value: impl Into<String>) -> &mut Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn with_body(mut self, content_type: &str, body: impl Into<Bytes>) -> Self {
        self.header("Content-Type", content_type);
        self.body = body.into();
        self
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The reason phrase of the status.
    pub fn reason(&self) -> &'static str {
        reason_phrase(self.status)
    }
}

/// The standard reason phrase of a status code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Payload Too Large",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
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
        "Cache-Control",
        format!("public, max-age={}", ONE_YEAR.as_secs()),
    );
    res.header("Expires", httpdate::fmt_http_date(date + ONE_YEAR));
}

/// `Cache-Control` for a response that must never be cached.
pub(crate) fn no_cache(res: &mut Response) {
    res.header("Cache-Control", NO_CACHE);
}

/// The CORS headers: the request's `Origin` echoed (or `*` without one),
/// credentials allowed with an origin, requested headers echoed.
pub(crate) fn cors(res: &mut Response, req: &Request) {
    // Only values that are valid in a response header are echoed: one with
    // CR, LF or another control character would split or corrupt the head.
    match req.header_str("origin").filter(|v| is_field_value(v)) {
        Some(origin) => {
            res.header("Access-Control-Allow-Origin", origin);
            res.header("Access-Control-Allow-Credentials", "true");
            res.header("Vary", "Origin");
        }
        None => {
            res.header("Access-Control-Allow-Origin", "*");
        }
    }
    if let Some(h) = req.header_str("access-control-request-headers") {
        if !h.trim().is_empty() && is_field_value(h) {
            res.header("Access-Control-Allow-Headers", h);
        }
    }
}

/// Whether `value` may be written as a header value as is: no control
/// character but horizontal tab (RFC 9110 `field-value`).
fn is_field_value(value: &str) -> bool {
    !value.bytes().any(|b| b.is_ascii_control() && b != b'\t')
}

/// A 204 answer to a CORS preflight, cached for a year.
pub(crate) fn preflight(req: &Request, methods: &str, with_cors: bool) -> Response {
    let mut res = Response::new(204);
    cache_for_a_year(&mut res, req.date);
    res.header("Access-Control-Max-Age", ONE_YEAR.as_secs().to_string());
    res.header("Access-Control-Allow-Methods", methods);
    if with_cors {
        cors(&mut res, req);
    }
    res
}

/// A plain-text error answer.
pub(crate) fn text(status: u16, body: &str) -> Response {
    let mut res = Response::new(status);
    no_cache(&mut res);
    res.with_body(TEXT_PLAIN, Bytes::copy_from_slice(body.as_bytes()))
}

/// 404 with a short text body.
pub(crate) fn not_found() -> Response {
    text(404, "Not Found")
}

/// 405 with `Allow`, no `Content-Type` and no body.
pub(crate) fn method_not_allowed(allow: &str) -> Response {
    let mut res = Response::new(405);
    res.header("Allow", allow);
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

    #[test]
    fn query_parameters_are_percent_decoded() {
        let r = Request::new("GET", "/a/b/c/htmlfile?x=1&c=%63allback&d=a+b");
        assert_eq!(r.path(), "/a/b/c/htmlfile");
        assert_eq!(r.query_param("c").as_deref(), Some("callback"));
        assert_eq!(r.query_param("d").as_deref(), Some("a b"));
        assert_eq!(r.query_param("x").as_deref(), Some("1"));
        assert_eq!(r.query_param("y"), None);
        assert_eq!(Request::new("GET", "/x?c=%zz").query_param("c"), None);
    }

    #[test]
    fn cookies_are_found_among_several() {
        let r = Request::new("GET", "/")
            .header("Cookie", "a=1; JSESSIONID=abcdef")
            .header("Cookie", "b=2");
        assert_eq!(r.cookie("JSESSIONID"), Some("abcdef"));
        assert_eq!(r.cookie("b"), Some("2"));
        assert_eq!(r.cookie("c"), None);
    }

    #[test]
    fn cors_never_echoes_control_characters() {
        let mut res = Response::new(200);
        let req = Request::new("OPTIONS", "/")
            .header("Origin", "http://a.example\r\nSet-Cookie: x=1")
            .header("Access-Control-Request-Headers", "x-a\0");
        cors(&mut res, &req);
        assert_eq!(res.header_value("access-control-allow-origin"), Some("*"));
        assert_eq!(res.header_value("access-control-allow-headers"), None);

        let mut res = Response::new(200);
        let req = Request::new("OPTIONS", "/")
            .header("Origin", "http://a.example")
            .header("Access-Control-Request-Headers", "x-a,\tx-b");
        cors(&mut res, &req);
        assert_eq!(
            res.header_value("access-control-allow-origin"),
            Some("http://a.example")
        );
        assert_eq!(
            res.header_value("access-control-allow-headers"),
            Some("x-a,\tx-b")
        );
    }

    #[test]
    fn every_status_has_its_reason_phrase() {
        let table = [
            (101, "Switching Protocols"),
            (200, "OK"),
            (204, "No Content"),
            (304, "Not Modified"),
            (400, "Bad Request"),
            (401, "Unauthorized"),
            (402, "Payment Required"),
            (403, "Forbidden"),
            (404, "Not Found"),
            (405, "Method Not Allowed"),
            (407, "Proxy Authentication Required"),
            (408, "Request Timeout"),
            (409, "Conflict"),
            (410, "Gone"),
            (413, "Payload Too Large"),
            (426, "Upgrade Required"),
            (429, "Too Many Requests"),
            (431, "Request Header Fields Too Large"),
            (451, "Unavailable For Legal Reasons"),
            (500, "Internal Server Error"),
            (501, "Not Implemented"),
            (502, "Bad Gateway"),
            (503, "Service Unavailable"),
            (504, "Gateway Timeout"),
            // Statuses without a phrase here get an empty one.
            (100, ""),
            (418, ""),
            (599, ""),
        ];
        for (status, phrase) in table {
            assert_eq!(reason_phrase(status), phrase, "{status}");
            assert_eq!(Response::new(status).reason(), phrase, "{status}");
        }
    }

    #[test]
    fn expires_is_a_year_after_the_request() {
        let mut res = Response::new(204);
        cache_for_a_year(&mut res, SystemTime::UNIX_EPOCH);
        assert_eq!(
            res.header_value("expires"),
            Some("Fri, 01 Jan 1971 00:00:00 GMT")
        );
        assert_eq!(
            res.header_value("cache-control"),
            Some("public, max-age=31536000")
        );
    }
}
