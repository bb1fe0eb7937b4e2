//! Request encoding: the request line in origin form, `Host`, the request's
//! fields and the framing header its body calls for.
//!
//! | method | [`BodyKind::Length`]`(n)` | [`BodyKind::Stream`] | [`BodyKind::None`] |
//! | --- | --- | --- | --- |
//! | `POST`, `PUT`, `PATCH` | `Content-Length: n` | `Transfer-Encoding: chunked` | `Content-Length: 0` |
//! | any other | `Content-Length: n` | `Transfer-Encoding: chunked` | no framing header |

use bytes::{BufMut as _, BytesMut};
use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use http::{Method, Request, Uri};

use crate::response::put_title_case;
use crate::{BodyKind, EncodeError};

/// Writes the head of `req` (its body is not looked at) to `out`, with the
/// framing header that `body` calls for (see the table in the module doc).
///
/// - The request line is `METHOD origin-form HTTP/1.1`: the URI's path
///   (`/` when empty) and query, whatever else it holds (an absolute URI
///   gives its path and query only); the version written is always
///   HTTP/1.1, whatever `req.version()` says.
/// - `Host` comes first, from the URI's authority (without userinfo),
///   unless the request carries its own `Host` header; a request with
///   neither is refused ([`EncodeError::NoHost`]).
/// - Then the request's fields in the order of `req.headers()`, names in
///   title case as [`encode_response`](crate::encode_response) writes
///   them, then the framing header. `Content-Length` and
///   `Transfer-Encoding` belong to the encoder: a request carrying either
///   is refused ([`EncodeError::FramingHeader`]).
///
/// On an error nothing is written. What follows the head is the caller's:
/// exactly `n` bytes for [`BodyKind::Length`]`(n)`, [`encode_chunk`]s and
/// an [`encode_last_chunk`] for [`BodyKind::Stream`].
///
/// [`encode_chunk`]: crate::encode_chunk
/// [`encode_last_chunk`]: crate::encode_last_chunk
pub fn encode_request<B>(
    req: &Request<B>,
    body: BodyKind,
    out: &mut BytesMut,
) -> Result<(), EncodeError> {
    let headers = req.headers();
    for name in [CONTENT_LENGTH, TRANSFER_ENCODING] {
        if headers.contains_key(&name) {
            return Err(EncodeError::FramingHeader(name));
        }
    }
    let host = if headers.contains_key(HOST) {
        None
    } else {
        Some(host(req.uri()).ok_or(EncodeError::NoHost)?)
    };
    let uri = req.uri();
    let path = match uri.path() {
        "" => "/",
        path => path,
    };

    out.reserve(64 + path.len() + headers.len() * 32);
    out.put_slice(req.method().as_str().as_bytes());
    out.put_u8(b' ');
    out.put_slice(path.as_bytes());
    if let Some(query) = uri.query() {
        out.put_u8(b'?');
        out.put_slice(query.as_bytes());
    }
    out.put_slice(b" HTTP/1.1\r\n");
    if let Some(host) = host {
        out.put_slice(b"Host: ");
        out.put_slice(host.as_bytes());
        out.put_slice(b"\r\n");
    }
    for (name, value) in headers {
        put_title_case(name, out);
        out.put_slice(b": ");
        out.put_slice(value.as_bytes());
        out.put_slice(b"\r\n");
    }
    match body {
        BodyKind::Length(n) => put_length(n, out),
        BodyKind::None if carries_body(req.method()) => put_length(0, out),
        BodyKind::None => {}
        BodyKind::Stream => out.put_slice(b"Transfer-Encoding: chunked\r\n"),
    }
    out.put_slice(b"\r\n");
    Ok(())
}

/// The `Host` value of `uri`: its authority without userinfo, if any.
fn host(uri: &Uri) -> Option<&str> {
    let authority = uri.authority()?.as_str();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    (!host.is_empty()).then_some(host)
}

/// Methods whose requests usually carry a body: without one, they say
/// `Content-Length: 0` (RFC 9110 §8.6: a user agent SHOULD).
fn carries_body(method: &Method) -> bool {
    *method == Method::POST || *method == Method::PUT || *method == Method::PATCH
}

fn put_length(n: u64, out: &mut BytesMut) {
    out.put_slice(b"Content-Length: ");
    out.put_slice(n.to_string().as_bytes());
    out.put_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(req: &Request<()>, body: BodyKind) -> Result<String, EncodeError> {
        let mut out = BytesMut::from(&b"before"[..]);
        let result = encode_request(req, body, &mut out);
        if result.is_err() {
            assert_eq!(&out[..], b"before", "written on an error");
        }
        result.map(|()| String::from_utf8(out[6..].to_vec()).unwrap())
    }

    fn get(uri: &str) -> Request<()> {
        Request::get(uri).body(()).unwrap()
    }

    #[test]
    fn targets_are_in_origin_form() {
        for (uri, line) in [
            (
                "http://a.example/",
                "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
            ),
            (
                "http://a.example",
                "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
            ),
            (
                "http://a.example?x=1",
                "GET /?x=1 HTTP/1.1\r\nHost: a.example\r\n\r\n",
            ),
            (
                "https://u:p@a.example:8443/s/x?y=%20#f",
                "GET /s/x?y=%20 HTTP/1.1\r\nHost: a.example:8443\r\n\r\n",
            ),
            (
                "a.example:80",
                "GET / HTTP/1.1\r\nHost: a.example:80\r\n\r\n",
            ),
        ] {
            assert_eq!(encode(&get(uri), BodyKind::None).unwrap(), line, "{uri}");
        }
    }

    #[test]
    fn a_host_header_wins_over_the_authority() {
        let req = Request::options("*").header("host", "h").body(()).unwrap();
        assert_eq!(
            encode(&req, BodyKind::None).unwrap(),
            "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
        );
        let req = Request::get("http://a/")
            .header("HOST", "b")
            .body(())
            .unwrap();
        assert_eq!(
            encode(&req, BodyKind::None).unwrap(),
            "GET / HTTP/1.1\r\nHost: b\r\n\r\n"
        );
        assert_eq!(encode(&get("/x"), BodyKind::None), Err(EncodeError::NoHost));
    }

    #[test]
    fn framing_by_method_and_body() {
        for method in [Method::POST, Method::PUT, Method::PATCH] {
            let req = Request::builder()
                .method(method.clone())
                .uri("http://a/")
                .body(())
                .unwrap();
            let s = encode(&req, BodyKind::None).unwrap();
            assert!(
                s.ends_with("\r\nContent-Length: 0\r\n\r\n"),
                "{method}: {s}"
            );
        }
        for method in [Method::GET, Method::HEAD, Method::DELETE, Method::OPTIONS] {
            let req = Request::builder()
                .method(method.clone())
                .uri("http://a/")
                .body(())
                .unwrap();
            let s = encode(&req, BodyKind::None).unwrap();
            assert!(s.ends_with("Host: a\r\n\r\n"), "{method}: {s}");
        }
        let s = encode(&get("http://a/"), BodyKind::Length(3)).unwrap();
        assert!(s.ends_with("Host: a\r\nContent-Length: 3\r\n\r\n"), "{s}");
        let s = encode(&get("http://a/"), BodyKind::Stream).unwrap();
        assert!(
            s.ends_with("Host: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
            "{s}"
        );
    }

    #[test]
    fn framing_headers_are_refused() {
        for name in [CONTENT_LENGTH, TRANSFER_ENCODING] {
            let req = Request::post("http://a/")
                .header(name.clone(), "1")
                .body(())
                .unwrap();
            assert_eq!(
                encode(&req, BodyKind::Length(1)),
                Err(EncodeError::FramingHeader(name))
            );
        }
    }
}
