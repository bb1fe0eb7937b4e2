//! Complete answers as they go on the wire, pinned byte for byte: the
//! core's `http::Response`s encoded by `http-proto` as an adapter does,
//! with the header names, casing and order that clients and proxies have
//! always seen. One test per answer.

mod common;

use std::time::SystemTime;

use bytes::BytesMut;
use common::*;
use http::Version;
use http_proto::{encode_chunk, encode_response, BodyKind, Exchange, Framing};
use sockjs_proto::Answer;

/// The exchange of `req`.
fn exchange(req: &Request) -> Exchange {
    Exchange::of(&req.http)
}

/// A whole response, as the adapters write it.
fn whole(res: &Response, exchange: Exchange) -> String {
    let mut out = BytesMut::new();
    let length = BodyKind::Length(res.body().len() as u64);
    if encode_response(res, length, exchange, &mut out)
        .unwrap()
        .framing
        != Framing::None
    {
        out.extend_from_slice(res.body());
    }
    String::from_utf8(out.to_vec()).unwrap()
}

/// A stream's head and the first ten bytes of its prelude.
fn stream_start(res: &Response, exchange: Exchange) -> String {
    let mut out = BytesMut::new();
    let encoded = encode_response(res, BodyKind::Stream, exchange, &mut out).unwrap();
    if encoded.framing == Framing::Chunked {
        encode_chunk(&res.body()[..10], &mut out);
    } else {
        out.extend_from_slice(&res.body()[..10]);
    }
    String::from_utf8(out.to_vec()).unwrap()
}

/// `req` dated at the epoch, answered by a fresh server.
fn answer(req: Request) -> (Answer, Exchange) {
    let req = req.date(SystemTime::UNIX_EPOCH);
    (server().handle(&req, t0()), exchange(&req))
}

#[test]
fn info_with_an_origin() {
    let (answer, exchange) = answer(
        get("/info")
            .header("Host", "a.example")
            .header("Origin", "http://a.example"),
    );
    let head = whole(&response(answer), exchange);
    let (head, body) = head.split_once("\r\n\r\n").unwrap();
    assert_eq!(
        head,
        "HTTP/1.1 200 OK\r\n\
         Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n\
         Access-Control-Allow-Origin: http://a.example\r\n\
         Access-Control-Allow-Credentials: true\r\n\
         Vary: Origin\r\n\
         Content-Type: application/json; charset=UTF-8\r\n\
         Content-Length: 78"
    );
    assert!(body.starts_with("{\"websocket\":true,\"cookie_needed\":true"));
}

#[test]
fn a_preflight() {
    let (answer, exchange) = answer(
        options("/000/s/xhr")
            .header("Host", "a.example")
            .header("Origin", "http://a.example")
            .header("Access-Control-Request-Headers", "x-a"),
    );
    assert_eq!(
        whole(&response(answer), exchange),
        "HTTP/1.1 204 No Content\r\n\
         Cache-Control: public, max-age=31536000\r\n\
         Expires: Fri, 01 Jan 1971 00:00:00 GMT\r\n\
         Access-Control-Max-Age: 31536000\r\n\
         Access-Control-Allow-Methods: OPTIONS, POST\r\n\
         Access-Control-Allow-Origin: http://a.example\r\n\
         Access-Control-Allow-Credentials: true\r\n\
         Vary: Origin\r\n\
         Access-Control-Allow-Headers: x-a\r\n\
         Set-Cookie: JSESSIONID=dummy; path=/\r\n\r\n"
    );
}

#[test]
fn a_stream_on_http11_is_chunked() {
    let (answer, exchange) =
        answer(post("/000/s/xhr_streaming").header("Cookie", "JSESSIONID=abc"));
    let (_, res) = stream(answer);
    assert_eq!(
        stream_start(&res, exchange),
        "HTTP/1.1 200 OK\r\n\
         Content-Type: application/javascript; charset=UTF-8\r\n\
         Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Set-Cookie: JSESSIONID=abc; path=/\r\n\
         X-Accel-Buffering: no\r\n\
         Transfer-Encoding: chunked\r\n\r\n\
         A\r\nhhhhhhhhhh\r\n"
    );
}

#[test]
fn a_stream_on_http10_is_close_delimited() {
    let (answer, exchange) = answer(post("/000/t/xhr_streaming").version(Version::HTTP_10));
    let (_, res) = stream(answer);
    assert_eq!(
        stream_start(&res, exchange),
        "HTTP/1.1 200 OK\r\n\
         Content-Type: application/javascript; charset=UTF-8\r\n\
         Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Set-Cookie: JSESSIONID=dummy; path=/\r\n\
         X-Accel-Buffering: no\r\n\
         Connection: close\r\n\r\n\
         hhhhhhhhhh"
    );
}

#[test]
fn the_iframe_not_modified() {
    let mut s = server();
    let res = response(s.handle(&get("/iframe.html"), t0()));
    let etag = header(&res, "ETag").to_owned();
    let req = get("/iframe.html")
        .header("If-None-Match", &etag)
        .date(SystemTime::UNIX_EPOCH);
    let res = response(s.handle(&req, t0()));
    assert_eq!(
        whole(&res, exchange(&req)),
        format!(
            "HTTP/1.1 304 Not Modified\r\n\
             Cache-Control: public, max-age=31536000\r\n\
             Expires: Fri, 01 Jan 1971 00:00:00 GMT\r\n\
             ETag: {etag}\r\n\
             X-Frame-Options: SAMEORIGIN\r\n\r\n"
        )
    );
}

#[test]
fn a_method_not_allowed_closing() {
    let (answer, exchange) = answer(post("/info").header("Connection", "close"));
    assert_eq!(
        whole(&response(answer), exchange),
        "HTTP/1.1 405 Method Not Allowed\r\n\
         Allow: OPTIONS, GET\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Content-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
}

#[test]
fn a_send_to_no_session_on_http10_kept_alive() {
    let (answer, exchange) = answer(
        post("/000/zz/xhr_send")
            .version(Version::HTTP_10)
            .header("Connection", "keep-alive")
            .body(r#"["x"]"#),
    );
    assert_eq!(
        whole(&response(answer), exchange),
        "HTTP/1.1 404 Not Found\r\n\
         Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Access-Control-Allow-Origin: *\r\n\
         Set-Cookie: JSESSIONID=dummy; path=/\r\n\
         Content-Length: 9\r\n\
         Connection: keep-alive\r\n\r\n\
         Not Found"
    );
}

#[test]
fn a_websocket_upgrade() {
    let (answer, _) = answer(
        get("/000/w/websocket")
            .header("Host", "a.example")
            .header("Upgrade", "websocket")
            .header("Connection", "Upgrade")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Version", "13"),
    );
    let (_, head) = upgrade(answer);
    assert_eq!(
        head,
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
}

#[test]
fn a_websocket_request_without_upgrade() {
    let (answer, exchange) = answer(get("/000/w/websocket").header("Host", "a.example"));
    assert_eq!(
        whole(&response(answer), exchange),
        "HTTP/1.1 400 Bad Request\r\n\
         Cache-Control: no-store, no-cache, no-transform, must-revalidate, max-age=0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Length: 34\r\n\r\n\
         Can \"Upgrade\" only to \"WebSocket\"."
    );
}
