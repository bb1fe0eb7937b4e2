//! Response encoding: exact bytes, the framing table one row per test,
//! header casing, refused headers, and the connection's keep-alive state.

mod common;

use bytes::BytesMut;
use common::poll;
use http::header::{HeaderName, HeaderValue};
use http::{Response, StatusCode, Version};
use http_proto::{
    encode_chunk, encode_last_chunk, encode_response, BodyKind, EncodeError, Encoded, Exchange,
    Framing, ServerConn,
};

/// A response head with `status` and `headers`, in order.
fn response(status: u16, headers: &[(&str, &str)]) -> Response<()> {
    let mut res = Response::new(());
    *res.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        res.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    res
}

/// An exchange: HTTP/1.`minor`, `HEAD` or not, kept alive or not.
fn exchange(minor: u8, head: bool, keep_alive: bool) -> Exchange {
    let mut e = Exchange::default();
    e.version = if minor == 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    e.head = head;
    if keep_alive {
        e
    } else {
        e.closing()
    }
}

/// The head written, and what the encoder said.
fn head(res: &Response<()>, body: BodyKind, exchange: Exchange) -> (Encoded, String) {
    let mut out = BytesMut::new();
    let encoded = encode_response(res, body, exchange, &mut out).unwrap();
    (encoded, String::from_utf8(out.to_vec()).unwrap())
}

#[test]
fn content_length_response() {
    let res = response(200, &[("Content-Type", "text/plain")]);
    let (e, s) = head(&res, BodyKind::Length(5), exchange(1, false, true));
    assert_eq!((e.framing, e.keep_alive), (Framing::Length(5), true));
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
    );
}

#[test]
fn chunked_response_and_chunks() {
    let mut out = BytesMut::new();
    let e = encode_response(
        &response(200, &[]),
        BodyKind::Stream,
        Exchange::default(),
        &mut out,
    )
    .unwrap();
    assert_eq!(e.framing, Framing::Chunked);
    encode_chunk(b"hello world!", &mut out);
    encode_chunk(b"", &mut out);
    encode_last_chunk(&mut out);
    assert_eq!(
        &out[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nC\r\nhello world!\r\n0\r\n\r\n"
    );
}

#[test]
fn keep_alive_headers() {
    let (e, s) = head(
        &response(200, &[]),
        BodyKind::None,
        exchange(1, false, false),
    );
    assert!(!e.keep_alive);
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (e, s) = head(
        &response(200, &[]),
        BodyKind::None,
        exchange(0, false, true),
    );
    assert!(e.keep_alive);
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
    );
}

#[test]
fn no_framing_for_101_and_204() {
    let res = response(101, &[("Upgrade", "websocket"), ("Connection", "Upgrade")]);
    let (e, s) = head(&res, BodyKind::None, Exchange::default());
    assert_eq!((e.framing, e.keep_alive), (Framing::None, false));
    assert_eq!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    );
    let (_, s) = head(
        &response(204, &[]),
        BodyKind::Length(3),
        Exchange::default(),
    );
    assert_eq!(s, "HTTP/1.1 204 No Content\r\n\r\n");
}

/// One test per row of the framing table (`response.rs`'s module doc):
/// `name: status, body, HTTP/1.minor, HEAD, request keep-alive, response
/// headers => framing, the framing and connection lines, keep-alive;`.
macro_rules! framing {
    ($($name:ident: $status:expr, $body:expr, $minor:expr, $head:expr, $ka:expr, $headers:expr
        => $framing:expr, $lines:expr, $keep:expr;)*) => {$(
        #[test]
        fn $name() {
            let res = response($status, $headers);
            let (e, s) = head(&res, $body, exchange($minor, $head, $ka));
            assert_eq!(e.framing, $framing);
            assert_eq!(e.keep_alive, $keep);
            let status_line = s.split("\r\n").next().unwrap().len() + 2;
            let fields: String = $headers.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
            assert_eq!(&s[status_line..], format!("{fields}{}\r\n", $lines));
        }
    )*};
}

const NONE: &[(&str, &str)] = &[];

framing! {
    length_on_http11: 200, BodyKind::Length(7), 1, false, true, NONE
        => Framing::Length(7), "Content-Length: 7\r\n", true;
    length_on_http10_kept_alive: 200, BodyKind::Length(7), 0, false, true, NONE
        => Framing::Length(7), "Content-Length: 7\r\nConnection: keep-alive\r\n", true;
    length_on_http10: 200, BodyKind::Length(7), 0, false, false, NONE
        => Framing::Length(7), "Content-Length: 7\r\nConnection: close\r\n", false;
    no_body_is_length_zero: 404, BodyKind::None, 1, false, true, NONE
        => Framing::None, "Content-Length: 0\r\n", true;
    stream_on_http11_is_chunked: 200, BodyKind::Stream, 1, false, true, NONE
        => Framing::Chunked, "Transfer-Encoding: chunked\r\n", true;
    stream_on_http11_closing_is_chunked: 200, BodyKind::Stream, 1, false, false, NONE
        => Framing::Chunked, "Transfer-Encoding: chunked\r\nConnection: close\r\n", false;
    stream_on_http10_is_close_delimited: 200, BodyKind::Stream, 0, false, true, NONE
        => Framing::CloseDelimited, "Connection: close\r\n", false;
    head_gets_the_length_and_no_body: 200, BodyKind::Length(7), 1, true, true, NONE
        => Framing::None, "Content-Length: 7\r\n", true;
    head_of_a_stream_gets_no_framing: 200, BodyKind::Stream, 1, true, true, NONE
        => Framing::None, "", true;
    status_204_has_no_length: 204, BodyKind::Length(7), 1, false, true, NONE
        => Framing::None, "", true;
    status_304_has_no_length: 304, BodyKind::Stream, 1, false, true, NONE
        => Framing::None, "", true;
    status_304_closing: 304, BodyKind::None, 1, false, false, NONE
        => Framing::None, "Connection: close\r\n", false;
    status_101_never_says_close: 101, BodyKind::None, 1, false, false, NONE
        => Framing::None, "", false;
    status_100_keeps_the_connection: 100, BodyKind::None, 1, false, true, NONE
        => Framing::None, "", true;
    response_connection_close_ends_it: 200, BodyKind::Length(1), 1, false, true, &[("Connection", "close")]
        => Framing::Length(1), "Content-Length: 1\r\n", false;
    response_keep_alive_on_http10_is_not_repeated: 200, BodyKind::Length(1), 0, false, true, &[("Connection", "Keep-Alive")]
        => Framing::Length(1), "Content-Length: 1\r\n", true;
}

#[test]
fn header_names_are_written_in_title_case_with_customary_spellings() {
    let res = response(
        101,
        &[
            ("sec-websocket-accept", "x"),
            ("etag", "\"1\""),
            ("www-authenticate", "Basic"),
            ("x-accel-buffering", "no"),
            ("access-control-allow-origin", "*"),
            ("x-xss-protection", "0"),
            ("content-md5", "x"),
        ],
    );
    let (_, s) = head(&res, BodyKind::None, Exchange::default());
    assert_eq!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\n\
         Sec-WebSocket-Accept: x\r\n\
         ETag: \"1\"\r\n\
         WWW-Authenticate: Basic\r\n\
         X-Accel-Buffering: no\r\n\
         Access-Control-Allow-Origin: *\r\n\
         X-XSS-Protection: 0\r\n\
         Content-MD5: x\r\n\r\n"
    );
}

#[test]
fn fields_keep_their_order_and_repeated_names_stay_together() {
    let res = response(
        200,
        &[("b", "1"), ("a", "2"), ("b", "3"), ("Set-Cookie", "x=1")],
    );
    let (_, s) = head(&res, BodyKind::None, Exchange::default());
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nB: 1\r\nB: 3\r\nA: 2\r\nSet-Cookie: x=1\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn reason_phrases_are_canonical_or_empty() {
    let (_, s) = head(&response(413, &[]), BodyKind::None, Exchange::default());
    assert!(s.starts_with("HTTP/1.1 413 Payload Too Large\r\n"), "{s}");
    let (_, s) = head(&response(599, &[]), BodyKind::None, Exchange::default());
    assert!(s.starts_with("HTTP/1.1 599 \r\n"), "{s}");
}

#[test]
fn framing_headers_are_refused_and_nothing_written() {
    for (name, want) in [
        ("Content-Length", http::header::CONTENT_LENGTH),
        ("transfer-encoding", http::header::TRANSFER_ENCODING),
    ] {
        let mut out = BytesMut::from(&b"before"[..]);
        let res = response(200, &[("X", "y"), (name, "1")]);
        let e = encode_response(&res, BodyKind::None, Exchange::default(), &mut out).unwrap_err();
        assert_eq!(e, EncodeError::FramingHeader(want));
        assert_eq!(&out[..], b"before");
    }
}

#[test]
fn the_http_types_refuse_what_would_inject_fields() {
    for value in ["a\r\nSet-Cookie: x", "a\nb", "a\rb", "a\0b"] {
        assert!(HeaderValue::from_str(value).is_err(), "{value:?}");
    }
    for name in ["X Y", "X:Y", "X\r\n", ""] {
        assert!(HeaderName::from_bytes(name.as_bytes()).is_err(), "{name:?}");
    }
    for status in [99, 1000] {
        assert!(StatusCode::from_u16(status).is_err(), "{status}");
    }
}

/// `ServerConn` answers each request with the framing its exchange calls
/// for, and keeps the connection's state.
#[test]
fn the_connection_answers_head_and_http10_requests_by_their_exchange() {
    let mut conn = ServerConn::default();
    conn.receive(
        b"HEAD /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    );
    assert!(poll(&mut conn).unwrap().is_some());
    let mut out = BytesMut::new();
    let f = conn
        .encode_response(&response(200, &[]), BodyKind::Length(9), &mut out)
        .unwrap();
    assert_eq!(f, Framing::None);
    assert_eq!(&out[..], b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n");
    assert!(poll(&mut conn).unwrap().is_some());
    out.clear();
    let f = conn
        .encode_response(&response(200, &[]), BodyKind::Stream, &mut out)
        .unwrap();
    assert_eq!(f, Framing::CloseDelimited);
    assert_eq!(&out[..], b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
    assert!(!conn.keep_alive());
    conn.receive(b"GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(poll(&mut conn), Ok(None));
    assert_eq!(conn.receive_capacity(), 0);
}

#[test]
fn a_response_that_says_close_ends_the_connection() {
    let mut conn = ServerConn::default();
    conn.receive(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(poll(&mut conn).unwrap().is_some());
    assert!(conn.keep_alive());
    let mut out = BytesMut::new();
    conn.encode_response(
        &response(200, &[("Connection", "close")]),
        BodyKind::None,
        &mut out,
    )
    .unwrap();
    assert!(!conn.keep_alive());
    assert_eq!(poll(&mut conn), Ok(None));
    assert_eq!(conn.buffered(), 0);
}

#[test]
fn close_says_so_in_the_next_response() {
    let mut conn = ServerConn::default();
    conn.receive(b"GET /a HTTP/1.1\r\nHost: a\r\n");
    assert_eq!(poll(&mut conn), Ok(None));
    conn.close();
    assert!(!conn.keep_alive());
    let mut out = BytesMut::new();
    conn.encode_response(
        &response(408, &[("Content-Type", "text/plain")]),
        BodyKind::Length(15),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        &out[..],
        &b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\n"[..]
    );
}

#[test]
fn a_101_leaves_the_upgrade_pending_and_a_refusal_resumes() {
    let mut conn = ServerConn::default();
    conn.receive(
        b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81",
    );
    assert!(poll(&mut conn).unwrap().unwrap().upgrade);
    let mut out = BytesMut::new();
    conn.encode_response(&response(101, &[]), BodyKind::None, &mut out)
        .unwrap();
    assert_eq!(&conn.take_upgraded()[..], b"\x81");

    let mut conn = ServerConn::default();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(poll(&mut conn).unwrap().unwrap().upgrade);
    conn.decline_upgrade();
    out.clear();
    conn.encode_response(&response(404, &[]), BodyKind::None, &mut out)
        .unwrap();
    assert!(conn.keep_alive());
    assert_eq!(poll(&mut conn).unwrap().unwrap().target, "/b");
}
