//! Request vectors, each fed whole and byte at a time, one test per row.

mod common;

use common::Request;
use common::{feed, parse, poll};
use http_proto::{Limits, RequestError, ServerConn};

fn lim() -> Limits {
    Limits::default()
}

/// (method, target, body) of each request.
fn summary(reqs: &[Request]) -> Vec<(String, String, Vec<u8>)> {
    reqs.iter()
        .map(|r| (r.method.clone(), r.target.clone(), r.body.to_vec()))
        .collect()
}

fn one(input: &[u8]) -> Request {
    let out = parse(lim(), input);
    assert_eq!(out.error, None);
    assert_eq!(out.requests.len(), 1, "{out:?}");
    out.requests.into_iter().next().unwrap()
}

fn error(limits: Limits, input: &[u8]) -> RequestError {
    let out = parse(limits, input);
    assert!(out.requests.is_empty(), "{out:?}");
    out.error.expect("an error")
}

macro_rules! ok {
    ($($name:ident: $input:expr => $method:expr, $target:expr, $body:expr;)*) => {$(
        #[test]
        fn $name() {
            let r = one($input);
            assert_eq!((r.method.as_str(), r.target.as_str(), &r.body[..]), ($method, $target, &$body[..]));
        }
    )*};
}

ok! {
    get_without_body: b"GET /info HTTP/1.1\r\nHost: a\r\n\r\n" => "GET", "/info", b"";
    post_with_content_length: b"POST /x/1/2/xhr_send HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n[\"a\"]" => "POST", "/x/1/2/xhr_send", b"[\"a\"]";
    repeated_equal_content_length: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nhi" => "POST", "/", b"hi";
    zero_content_length: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" => "POST", "/", b"";
    chunked_body: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n" => "POST", "/", b"abc0123456789";
    chunked_with_extensions: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3;name=value\r\nabc\r\n2 ; x\r\nde\r\n0;last\r\n\r\n" => "POST", "/", b"abcde";
    chunked_with_trailers: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n" => "POST", "/", b"z";
    chunked_upper_and_lower_hex: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0000\r\n\r\n" => "POST", "/", b"hello world";
    http10_without_host: b"GET / HTTP/1.0\r\n\r\n" => "GET", "/", b"";
    leading_empty_lines_ignored: b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n" => "GET", "/", b"";
    bare_lf_head: b"GET / HTTP/1.1\nHost: a\n\n" => "GET", "/", b"";
    absolute_form_target: b"GET http://a/x?y=1 HTTP/1.1\r\nHost: a\r\n\r\n" => "GET", "http://a/x?y=1", b"";
    asterisk_form_target: b"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n" => "OPTIONS", "*", b"";
}

/// The status line an error's response must start with: code and reason.
fn status_line(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        505 => "HTTP Version Not Supported",
        _ => panic!("no reason phrase for {status} here"),
    };
    format!("HTTP/1.1 {status} {reason}\r\n")
}

macro_rules! err {
    ($($name:ident: $input:expr => $error:expr, $status:expr;)*) => {$(
        #[test]
        fn $name() {
            let e = error(lim(), $input);
            assert_eq!(e, $error);
            assert_eq!(e.status(), $status);
            let resp = String::from_utf8(e.response()).unwrap();
            assert!(resp.starts_with(&status_line($status)), "{resp}");
            assert!(resp.contains("\r\nConnection: close\r\n"), "{resp}");
        }
    )*};
}

err! {
    malformed_request_line: b"GET/ HTTP/1.1\r\nHost: a\r\n\r\n" => RequestError::Malformed, 400;
    malformed_header: b"GET / HTTP/1.1\r\nHost : a\r\n\r\n" => RequestError::Malformed, 400;
    http2_version: b"GET / HTTP/2.0\r\nHost: a\r\n\r\n" => RequestError::Version, 505;
    target_with_a_quote_in_the_query: b"GET /a?b\"c HTTP/1.1\r\nHost: a\r\n\r\n" => RequestError::Target, 400;
    target_with_angle_brackets: b"GET /a?<b> HTTP/1.1\r\nHost: a\r\n\r\n" => RequestError::Target, 400;
    target_with_a_backquote: b"GET /`x` HTTP/1.1\r\nHost: a\r\n\r\n" => RequestError::Target, 400;
    http11_without_host: b"GET / HTTP/1.1\r\n\r\n" => RequestError::Host, 400;
    two_hosts: b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" => RequestError::Host, 400;
    differing_content_lengths: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc" => RequestError::ContentLength, 400;
    differing_content_length_list: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 3\r\n\r\nabc" => RequestError::ContentLength, 400;
    signed_content_length: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +2\r\n\r\nab" => RequestError::ContentLength, 400;
    empty_content_length: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n" => RequestError::ContentLength, 400;
    overflowing_content_length: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n" => RequestError::ContentLength, 400;
    content_length_and_chunked: b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" => RequestError::ConflictingFraming, 400;
    gzip_coding: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n" => RequestError::UnsupportedTransferCoding, 501;
    gzip_then_chunked: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" => RequestError::UnsupportedTransferCoding, 501;
    chunked_twice: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" => RequestError::ChunkedNotLast, 400;
    empty_transfer_encoding: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n" => RequestError::ChunkedNotLast, 400;
    chunk_size_not_hex: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" => RequestError::BadChunk, 400;
    chunk_size_bare_lf: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\nz\r\n0\r\n\r\n" => RequestError::BadChunk, 400;
    chunk_size_junk_after_digits: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\nz\r\n0\r\n\r\n" => RequestError::BadChunk, 400;
    chunk_data_without_crlf: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nzX\r\n0\r\n\r\n" => RequestError::BadChunk, 400;
    trailer_without_colon: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnocolon\r\n\r\n" => RequestError::BadChunk, 400;
    chunk_size_overflow: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n" => RequestError::BodyTooLarge(1024 * 1024), 413;
    // The sizes used to be added unchecked: this panicked in a debug build,
    // and wrapped under the limit in release.
    chunk_sizes_add_up_past_u64: b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nffffffffffffffff\r\n" => RequestError::BodyTooLarge(1024 * 1024), 413;
}

#[test]
fn too_many_headers_is_431() {
    let mut input = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..64 {
        input.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    input.extend_from_slice(b"\r\n");
    let e = error(lim(), &input);
    assert_eq!((e.clone(), e.status()), (RequestError::TooManyHeaders, 431));
}

#[test]
fn head_limit_when_complete() {
    let limits = lim().max_head_size(64);
    let input = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(60));
    let e = error(limits, input.as_bytes());
    assert_eq!(
        (e.clone(), e.status()),
        (RequestError::HeadTooLarge(64), 431)
    );
}

#[test]
fn head_limit_when_partial() {
    let limits = lim().max_head_size(64);
    let input = format!("GET /{}", "a".repeat(100));
    assert_eq!(
        error(limits, input.as_bytes()),
        RequestError::HeadTooLarge(64)
    );
    // One byte short of the limit is still waiting.
    let out = parse(limits, &input.as_bytes()[..63]);
    assert_eq!((out.requests.len(), out.error), (0, None));
}

#[test]
fn head_of_exactly_the_limit_is_accepted() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let out = parse(lim().max_head_size(input.len()), input);
    assert_eq!((out.requests.len(), out.error), (1, None));
}

#[test]
fn body_limit_by_content_length_fails_from_the_head() {
    let limits = lim().max_body_size(10);
    let mut conn = ServerConn::new(limits);
    conn.receive(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n");
    let e = poll(&mut conn).unwrap_err();
    assert_eq!(
        (e.clone(), e.status()),
        (RequestError::BodyTooLarge(10), 413)
    );
    // Nothing more is read.
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_eq!(conn.buffered(), 0);
    assert_eq!(conn.receive_capacity(), 0);
    assert_eq!(poll(&mut conn), Err(e));
}

#[test]
fn body_limit_by_content_length_exactly_is_accepted() {
    let out = parse(
        lim().max_body_size(3),
        b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    );
    assert_eq!(out.requests[0].body, &b"abc"[..]);
}

#[test]
fn body_limit_by_chunks() {
    let limits = lim().max_body_size(4);
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\n";
    assert_eq!(error(limits, input), RequestError::BodyTooLarge(4));
    let ok = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n2\r\ncd\r\n0\r\n\r\n";
    assert_eq!(parse(limits, ok).requests[0].body, &b"abcd"[..]);
}

#[test]
fn chunk_line_limit() {
    let limits = lim().max_chunk_line(8);
    let input = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;abcdefgh\r\nz\r\n0\r\n\r\n";
    assert_eq!(error(limits, input), RequestError::ChunkLineTooLong(8));
    let partial = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;abcdefgh";
    assert_eq!(error(limits, partial), RequestError::ChunkLineTooLong(8));
}

#[test]
fn trailer_limit() {
    let limits = lim().max_head_size(80);
    let input = format!(
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: {}\r\n\r\n",
        "t".repeat(80)
    );
    let e = error(limits, input.as_bytes());
    assert_eq!(
        (e.clone(), e.status()),
        (RequestError::TrailersTooLarge(80), 431)
    );
    let resp = String::from_utf8(e.response()).unwrap();
    assert!(resp.starts_with(&status_line(431)), "{resp}");
}

/// The trailer limit is on the trailers' total: each line counts its
/// bytes and its CRLF, so lines that each fit add up past it.
#[test]
fn trailer_limit_counts_every_line_with_its_crlf() {
    // Each trailer line is 20 bytes with its CRLF; the head is 56.
    let body = |lines: usize| {
        let mut s = String::from(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n",
        );
        for i in 0..lines {
            s.push_str("X-");
            s.push_str(&i.to_string());
            s.push_str(": ");
            s.push_str(&"v".repeat(13));
            s.push_str("\r\n");
        }
        s.push_str("\r\n");
        s
    };
    let limits = lim().max_head_size(82);
    // 4 lines are 80 bytes: the final empty line (2 bytes) still fits.
    let out = parse(limits, body(4).as_bytes());
    assert_eq!(out.error, None);
    assert_eq!(summary(&out.requests)[0].2, b"z");
    // A fifth is past the limit although it fits on its own.
    assert_eq!(
        error(limits, body(5).as_bytes()),
        RequestError::TrailersTooLarge(82)
    );
    // With a byte less, the final line after the four no longer fits.
    assert_eq!(
        error(lim().max_head_size(81), body(4).as_bytes()),
        RequestError::TrailersTooLarge(81)
    );
}

#[test]
fn a_trailer_with_a_bare_cr_or_a_nul_is_refused() {
    for trailer in ["X: a\rb", "X: a\0b"] {
        let input = format!(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n{trailer}\r\n\r\n"
        );
        assert_eq!(
            error(lim(), input.as_bytes()),
            RequestError::BadChunk,
            "{trailer:?}"
        );
    }
}

#[test]
fn max_headers_sets_the_limit() {
    let input = b"GET / HTTP/1.1\r\nHost: a\r\nX-1: v\r\nX-2: v\r\n\r\n";
    assert_eq!(parse(lim().max_headers(3), input).error, None);
    let e = error(lim().max_headers(2), input);
    assert_eq!((e.clone(), e.status()), (RequestError::TooManyHeaders, 431));
}

#[test]
fn pipelined_requests() {
    let input = b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiPOST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\nGET /d HTTP/1.1\r\nHost: a\r\n\r\nGET /e";
    let out = parse(lim(), input);
    assert_eq!(out.error, None);
    let s = summary(&out.requests);
    let want: Vec<(String, String, Vec<u8>)> = [
        ("GET", "/a", ""),
        ("POST", "/b", "hi"),
        ("POST", "/c", "x"),
        ("GET", "/d", ""),
    ]
    .iter()
    .map(|(m, t, b)| ((*m).to_owned(), (*t).to_owned(), b.as_bytes().to_vec()))
    .collect();
    assert_eq!(s, want);
    // The partial fifth stays buffered.
    let (_, conn) = feed(lim(), input, &[]);
    assert_eq!(conn.buffered(), b"GET /e".len());
}

#[test]
fn nothing_is_read_after_a_request_without_keep_alive() {
    let input = b"GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
    let (out, conn) = feed(lim(), input, &[]);
    assert_eq!(summary(&out.requests).len(), 1);
    assert_eq!((conn.buffered(), conn.receive_capacity()), (0, 0));
}

#[test]
fn keep_alive_table() {
    let rows: &[(&str, &str, bool)] = &[
        ("1.1", "", true),
        ("1.1", "Connection: close\r\n", false),
        ("1.1", "Connection: Keep-Alive, CLOSE\r\n", false),
        ("1.1", "Connection: keep-alive\r\n", true),
        ("1.1", "Connection: upgrade\r\n", true),
        ("1.0", "", false),
        ("1.0", "Connection: keep-alive\r\n", true),
        ("1.0", "Connection: Keep-Alive\r\n", true),
        ("1.0", "Connection: close\r\n", false),
        ("1.0", "Connection: keep-alive, close\r\n", false),
    ];
    for (version, header, want) in rows {
        let input = format!("GET / HTTP/{version}\r\nHost: a\r\n{header}\r\n");
        let r = one(input.as_bytes());
        assert_eq!(r.keep_alive, *want, "HTTP/{version} {header:?}");
        assert_eq!(r.version, u8::from(*version == "1.1"));
    }
}

#[test]
fn upgrade_hands_on_the_trailing_bytes() {
    let input = b"GET /echo/websocket HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n\x81\x05hello GET";
    let (out, mut conn) = feed(lim(), input, &[]);
    assert_eq!(out.error, None);
    assert!(out.requests[0].upgrade);
    assert_eq!(poll(&mut conn), Ok(None));
    assert_eq!(conn.receive_capacity(), 0);
    conn.receive(b"!");
    assert_eq!(&conn.take_upgraded()[..], b"\x81\x05hello GET!");
    // Byte at a time gives the same.
    let cuts: Vec<usize> = (1..input.len()).collect();
    let (out2, conn2) = feed(lim(), input, &cuts);
    assert_eq!(out2.requests, out.requests);
    assert_eq!(&conn2.take_upgraded()[..], b"\x81\x05hello GET");
}

#[test]
fn upgrade_needs_both_headers() {
    assert!(!one(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n").upgrade);
    assert!(!one(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n").upgrade);
}

#[test]
fn declined_upgrade_resumes() {
    let mut conn = ServerConn::default();
    conn.receive(b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n");
    assert!(poll(&mut conn).unwrap().unwrap().upgrade);
    assert_eq!(poll(&mut conn), Ok(None));
    conn.decline_upgrade();
    assert_eq!(poll(&mut conn).unwrap().unwrap().target, "/b");
}

#[test]
fn expect_continue_is_reported_once_before_the_body() {
    let mut conn = ServerConn::default();
    conn.receive(
        b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n",
    );
    assert_eq!(poll(&mut conn), Ok(None));
    assert!(conn.poll_continue());
    assert!(!conn.poll_continue());
    conn.receive(b"hi");
    let r = poll(&mut conn).unwrap().unwrap();
    assert!(r.expects_continue);
    assert_eq!(&r.body[..], b"hi");
    assert_eq!(http_proto::CONTINUE_100, b"HTTP/1.1 100 Continue\r\n\r\n");
    // HTTP/1.0 has no 100 Continue.
    assert!(!one(b"GET / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").expects_continue);
}

#[test]
fn headers_and_lookup() {
    let r = one(b"GET / HTTP/1.1\r\nHost: a\r\nX-A:  one \r\nx-a: two\r\n\r\n");
    assert_eq!(r.header("X-a"), Some(&b"one"[..]));
    assert_eq!(
        r.header_values("x-A").collect::<Vec<_>>(),
        vec![&b"one"[..], &b"two"[..]]
    );
    assert_eq!(r.headers.len(), 3);
    // The `http` crate keeps names in lowercase.
    assert_eq!(r.headers[1].name, "x-a");
}

#[test]
fn receive_capacity_bounds_buffering() {
    let limits = lim()
        .max_head_size(100)
        .max_body_size(50)
        .max_chunk_line(10);
    let mut conn = ServerConn::new(limits);
    assert_eq!(conn.receive_capacity(), 160);
    conn.receive(b"GET / HTTP/1.1\r\n");
    assert_eq!(conn.receive_capacity(), 160 - 16);
}

#[test]
fn http10_with_transfer_encoding_is_read_then_closed() {
    let r = one(b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n");
    assert_eq!(&r.body[..], b"z");
    assert!(!r.keep_alive);
}

#[test]
fn error_response_exact_bytes() {
    assert_eq!(
        RequestError::BodyTooLarge(10).response(),
        b"HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Length: 33\r\nConnection: close\r\n\r\nrequest body larger than 10 bytes"
    );
}

#[test]
fn body_arrives_after_head_in_pieces() {
    let mut conn = ServerConn::default();
    conn.receive(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab");
    assert_eq!(poll(&mut conn), Ok(None));
    assert!(!conn.poll_continue());
    conn.receive(b"cdGET");
    assert_eq!(&poll(&mut conn).unwrap().unwrap().body[..], b"abcd");
    assert_eq!(poll(&mut conn), Ok(None));
    assert_eq!(conn.buffered(), 3);
}

#[test]
fn garbage_where_the_version_belongs_is_400_not_505() {
    for head in [
        &b"GET /echo/info x HTTP/1.1\r\nHost: a\r\n\r\n"[..],
        b"GET /echo/info FOO/1.1\r\nHost: a\r\n\r\n",
        b"GET / HTTP/1.1x\r\nHost: a\r\n\r\n",
    ] {
        let mut conn = ServerConn::new(Limits::default());
        conn.receive(head);
        let err = poll(&mut conn).unwrap_err();
        assert_eq!(
            err.status(),
            400,
            "{:?}: {err:?}",
            String::from_utf8_lossy(head)
        );
    }
    let mut conn = ServerConn::new(Limits::default());
    conn.receive(b"GET / HTTP/3.0\r\nHost: a\r\n\r\n");
    assert_eq!(poll(&mut conn).unwrap_err().status(), 505);
}
