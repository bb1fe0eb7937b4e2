//! Response vectors read by a `ClientConn`, each fed whole, byte at a time
//! and in pieces (the same events and data whatever the cuts), one test per
//! row; then the connection's commands and states.

mod common;

use bytes::BytesMut;
use common::client::{d, feed, get, req, run, Ev, E::End, E::H};
use http::Request;
use http_proto::{
    BodyKind, ClientConn, EncodeError, HeadError, Limits, ResponseError, ResponseEvent,
};

fn lim() -> Limits {
    Limits::default()
}

fn head() -> Request<()> {
    req("HEAD", &[])
}

/// Small limits: 64-byte heads and trailers, 8-byte chunk lines.
fn small() -> Limits {
    Limits::default()
        .max_head_size(64)
        .max_headers(4)
        .max_chunk_line(8)
}

macro_rules! ok {
    ($($name:ident: $requests:expr, $input:expr, eof: $eof:expr
        => [$($event:expr),*], keep_alive: $keep_alive:expr;)*) => {$(
        #[test]
        fn $name() {
            let requests: &[Request<()>] = &$requests;
            let out = run(lim(), requests, $input, $eof);
            assert_eq!(out.error, None, "{out:?}");
            assert_eq!(out.short(), vec![$($event),*]);
            assert_eq!(out.keep_alive, $keep_alive, "keep_alive");
            let ended = out.events.iter().filter(|e| **e == Ev::End).count();
            assert_eq!(out.outstanding, requests.len() - ended, "outstanding");
            assert_eq!(out.idle, out.outstanding == 0);
        }
    )*};
}

ok! {
    content_length: [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", eof: false
        => [H(200), d(b"hello"), End], keep_alive: true;
    content_length_zero: [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", eof: false
        => [H(200), End], keep_alive: true;
    content_length_list_of_equal_values: [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nhi", eof: false
        => [H(200), d(b"hi"), End], keep_alive: true;
    content_length_then_eof: [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", eof: true
        => [H(200), d(b"hi"), End], keep_alive: false;
    chunked: [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n", eof: false
        => [H(200), d(b"abc0123456789"), End], keep_alive: true;
    chunked_with_extensions_and_trailers: [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n3;name=value\r\nabc\r\n2 ; x\r\nde\r\n0;last\r\nX-Sum: 1\r\nX-Other: 2\r\n\r\n", eof: false
        => [H(200), d(b"abcde"), End], keep_alive: true;
    chunked_sockjs_stream_not_ended: [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\no\n\r\n6\r\na[\"x\"]\r\n", eof: false
        => [H(200), d(b"o\na[\"x\"]")], keep_alive: true;
    close_delimited: [get()], b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it\r\n\r\nuntil the end", eof: true
        => [H(200), d(b"all of it\r\n\r\nuntil the end"), End], keep_alive: false;
    close_delimited_before_eof: [get()], b"HTTP/1.1 200 OK\r\n\r\nso far", eof: false
        => [H(200), d(b"so far")], keep_alive: false;
    close_delimited_empty: [get()], b"HTTP/1.0 200 OK\r\n\r\n", eof: true
        => [H(200), End], keep_alive: false;
    head_with_content_length: [head()], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", eof: false
        => [H(200), End], keep_alive: true;
    head_with_chunked: [head()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", eof: false
        => [H(200), End], keep_alive: true;
    head_without_framing: [head()], b"HTTP/1.1 200 OK\r\n\r\n", eof: false
        => [H(200), End], keep_alive: true;
    no_content: [get()], b"HTTP/1.1 204 No Content\r\n\r\n", eof: false
        => [H(204), End], keep_alive: true;
    not_modified_with_a_length: [get()], b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", eof: false
        => [H(304), End], keep_alive: true;
    continue_then_ok: [req("POST", &[("expect", "100-continue")])], b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", eof: false
        => [H(200), d(b"ok"), End], keep_alive: true;
    early_hints_then_ok: [get()], b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", eof: false
        => [H(204), End], keep_alive: true;
    http10_closes: [get()], b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi", eof: false
        => [H(200), d(b"hi"), End], keep_alive: false;
    http10_keep_alive: [get()], b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nhi", eof: false
        => [H(200), d(b"hi"), End], keep_alive: true;
    http10_chunked_closes: [get()], b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", eof: false
        => [H(200), d(b"x"), End], keep_alive: false;
    response_says_close: [get()], b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi", eof: false
        => [H(200), d(b"hi"), End], keep_alive: false;
    request_says_close: [req("GET", &[("connection", "close")])], b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", eof: false
        => [H(200), d(b"hi"), End], keep_alive: false;
    pipelined: [get(), head(), get(), req("DELETE", &[])], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", eof: false
        => [H(200), d(b"a"), End, H(200), End, H(200), d(b"c"), End, H(204), End], keep_alive: true;
    pipelined_partly_answered: [get(), get()], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 20", eof: false
        => [H(200), d(b"a"), End], keep_alive: true;
    pipelined_behind_a_close: [get(), get()], b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb", eof: true
        => [H(200), d(b"a"), End], keep_alive: false;
    pipelined_after_a_request_close: [get(), req("GET", &[("connection", "close")])], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nbHTTP/1.1 200 OK\r\n\r\n", eof: false
        => [H(200), d(b"a"), End, H(200), d(b"b"), End], keep_alive: false;
    eof_on_an_idle_connection: [], b"", eof: true
        => [], keep_alive: false;
    eof_after_a_response: [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", eof: true
        => [H(200), d(b"a"), End], keep_alive: false;
    bare_line_feeds: [get()], b"HTTP/1.1 200 OK\nContent-Length: 1\n\na", eof: false
        => [H(200), d(b"a"), End], keep_alive: true;
}

macro_rules! err {
    ($($name:ident: $limits:expr, $requests:expr, $input:expr, eof: $eof:expr
        => [$($event:expr),*], $error:expr;)*) => {$(
        #[test]
        fn $name() {
            let requests: &[Request<()>] = &$requests;
            let out = run($limits, requests, $input, $eof);
            assert_eq!(out.short(), vec![$($event),*]);
            assert_eq!(out.error, Some($error));
            assert!(!out.keep_alive);
        }
    )*};
}

err! {
    malformed_status_line: lim(), [get()], b"HTTP/1.1 2OO OK\r\n\r\n", eof: false
        => [], ResponseError::Head(HeadError::Malformed);
    malformed_header: lim(), [get()], b"HTTP/1.1 200 OK\r\nX : y\r\n\r\n", eof: false
        => [], ResponseError::Head(HeadError::Malformed);
    head_too_large: small(), [get()], &[&b"HTTP/1.1 200 OK\r\nX: "[..], &[b'y'; 64]].concat(), eof: false
        => [], ResponseError::Head(HeadError::TooLarge(64));
    interim_head_too_large: small(), [get()], &[&b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: "[..], &[b'y'; 64]].concat(), eof: false
        => [], ResponseError::Head(HeadError::TooLarge(64));
    too_many_headers: small(), [get()], b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n", eof: false
        => [], ResponseError::Head(HeadError::TooManyHeaders);
    http2_version: lim(), [get()], b"HTTP/2 200 OK\r\n\r\n", eof: false
        => [], ResponseError::Version;
    http12_version: lim(), [get()], b"HTTP/1.2 200 OK\r\n\r\n", eof: false
        => [], ResponseError::Version;
    content_length_not_a_number: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", eof: false
        => [], ResponseError::ContentLength;
    content_lengths_differ: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", eof: false
        => [], ResponseError::ContentLength;
    content_length_overflows: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", eof: false
        => [], ResponseError::ContentLength;
    content_length_with_chunked: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", eof: false
        => [], ResponseError::ConflictingFraming;
    conflicting_framing_on_a_head_answer: lim(), [head()], b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", eof: false
        => [], ResponseError::ConflictingFraming;
    chunked_twice: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", eof: false
        => [], ResponseError::ChunkedNotLast;
    gzip_coding: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", eof: false
        => [], ResponseError::UnsupportedTransferCoding;
    chunk_size_not_hex: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", eof: false
        => [H(200)], ResponseError::BadChunk;
    chunk_without_its_crlf: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nzX\r\n", eof: false
        => [H(200), d(b"z")], ResponseError::BadChunk;
    chunk_size_bare_lf: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\nz\r\n", eof: false
        => [H(200)], ResponseError::BadChunk;
    chunk_size_overflows: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", eof: false
        => [H(200)], ResponseError::BadChunk;
    chunk_line_too_long: small(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;abcdefg\r\nz\r\n", eof: false
        => [H(200)], ResponseError::ChunkLineTooLong(8);
    trailers_too_large: small(), [get()], &[&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\nX: "[..], &[b'y'; 64], b"\r\n\r\n"].concat(), eof: false
        => [H(200), d(b"z")], ResponseError::TrailersTooLarge(64);
    truncated_head: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Le", eof: true
        => [], ResponseError::Truncated;
    truncated_length_body: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", eof: true
        => [H(200), d(b"hel")], ResponseError::Truncated;
    truncated_chunked_body: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", eof: true
        => [H(200), d(b"abc")], ResponseError::Truncated;
    truncated_trailers: lim(), [get()], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\r\n", eof: true
        => [H(200)], ResponseError::Truncated;
    no_response_before_eof: lim(), [get()], b"", eof: true
        => [], ResponseError::Truncated;
    second_response_missing: lim(), [get(), get()], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", eof: true
        => [H(200), d(b"a"), End], ResponseError::Truncated;
    unsolicited: lim(), [], b"HTTP/1.1 200 OK\r\n\r\n", eof: false
        => [], ResponseError::Unsolicited;
    unsolicited_before_eof: lim(), [], b"\r\n", eof: true
        => [], ResponseError::Unsolicited;
    bytes_after_the_response: lim(), [get()], b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab", eof: false
        => [H(200), d(b"a"), End], ResponseError::Unsolicited;
}

#[test]
fn heads_keep_their_fields_and_version() {
    let out = run(
        lim(),
        &[get()],
        b"HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 0\r\n\r\n",
        false,
    );
    let Ev::Head {
        status,
        minor,
        headers,
    } = &out.events[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!((*status, *minor), (404, 0));
    let fields: Vec<(&str, &[u8])> = headers.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    assert_eq!(
        fields,
        [
            ("content-type", &b"text/plain"[..]),
            ("x-a", b"1"),
            ("x-a", b"2"),
            ("content-length", b"0")
        ]
    );
}

/// A 101: its head, then the bytes after it are the new protocol's,
/// whatever the cuts; nothing more is read.
#[test]
fn switching_protocols_hands_on_the_bytes_after_it() {
    let upgrade = req(
        "GET",
        &[("upgrade", "websocket"), ("connection", "Upgrade")],
    );
    let input = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello\x88\x00";
    let out = run(lim(), std::slice::from_ref(&upgrade), input, true);
    assert_eq!(out.short(), [H(101)]);
    assert_eq!(out.upgraded.as_deref(), Some(&b"\x81\x05hello\x88\x00"[..]));
    assert_eq!((out.error, out.keep_alive, out.idle), (None, false, true));

    // Interim responses before it are skipped; a 101 after them switches.
    let mut with_interim = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
    with_interim.extend_from_slice(input);
    let out = run(lim(), std::slice::from_ref(&upgrade), &with_interim, false);
    assert_eq!(out.short(), [H(101)]);

    // Declined: the connection goes on as HTTP.
    let declined = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 204 No Content\r\n\r\n";
    let mut conn = ClientConn::new(lim());
    let mut wire = BytesMut::new();
    conn.send_request(&upgrade, BodyKind::None, &mut wire)
        .unwrap();
    assert_eq!(
        conn.send_request(&get(), BodyKind::None, &mut wire),
        Err(EncodeError::UpgradePending)
    );
    let first = declined.len() - 27;
    conn.receive(&declined[..first]);
    while let Ok(Some(_)) = conn.poll_event() {}
    assert!(conn.take_upgraded().is_empty(), "no upgrade, nothing taken");
    conn.send_request(&get(), BodyKind::None, &mut wire)
        .unwrap();
    conn.receive(&declined[first..]);
    let mut statuses = Vec::new();
    while let Ok(Some(event)) = conn.poll_event() {
        if let ResponseEvent::Head(res) = event {
            statuses.push(res.status().as_u16());
        }
    }
    assert_eq!(statuses, [204]);
    assert!(conn.keep_alive() && conn.is_idle());
}

#[test]
fn after_an_upgrade_nothing_more_is_read_or_sent() {
    let mut conn = ClientConn::new(lim());
    let mut wire = BytesMut::new();
    let upgrade = req("GET", &[("upgrade", "x"), ("connection", "upgrade")]);
    conn.send_request(&upgrade, BodyKind::None, &mut wire)
        .unwrap();
    conn.receive(b"HTTP/1.1 101 Switching Protocols\r\n\r\nnew");
    assert!(matches!(
        conn.poll_event(),
        Ok(Some(ResponseEvent::Head(_)))
    ));
    conn.receive(b"more");
    assert!(matches!(conn.poll_event(), Ok(None)));
    assert_eq!(&conn.take_upgraded()[..], b"new");
    conn.receive_eof();
    assert!(matches!(conn.poll_event(), Ok(None)));
    assert_eq!(
        conn.send_request(&get(), BodyKind::None, &mut wire),
        Err(EncodeError::ConnectionClosed)
    );
}

/// Every way a connection stops carrying requests refuses the next one,
/// and writes nothing.
#[test]
fn requests_on_a_connection_that_carries_no_more_are_refused() {
    /// Requests sent, the response, whether the end of file follows.
    type Case<'a> = (&'a [Request<()>], &'a [u8], bool);
    let cases: [Case<'_>; 5] = [
        (
            &[get()],
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (&[req("GET", &[("connection", "close")])], b"", false),
        (&[get()], b"HTTP/1.1 200 OK\r\n\r\n", false),
        (
            &[get()],
            b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
            false,
        ),
        (&[], b"", true),
    ];
    for (requests, input, eof) in cases {
        let (_, mut conn) = feed(lim(), requests, input, &[], eof);
        assert!(!conn.keep_alive());
        let mut wire = BytesMut::new();
        assert_eq!(
            conn.send_request(&get(), BodyKind::None, &mut wire),
            Err(EncodeError::ConnectionClosed),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(wire.is_empty());
    }
}

/// A response that ends the connection leaves the requests behind it
/// outstanding, and what follows it unread.
#[test]
fn a_closing_response_leaves_the_pipelined_requests_unanswered() {
    let input = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
    let mut conn = ClientConn::new(lim());
    let mut wire = BytesMut::new();
    for _ in 0..3 {
        conn.send_request(&get(), BodyKind::None, &mut wire)
            .unwrap();
    }
    conn.receive(input);
    assert!(matches!(
        conn.poll_event(),
        Ok(Some(ResponseEvent::Head(_)))
    ));
    assert!(!conn.keep_alive(), "the head says close");
    assert!(matches!(conn.poll_event(), Ok(None)));
    assert_eq!(conn.outstanding(), 3);
    conn.receive_eof();
    assert!(matches!(conn.poll_event(), Ok(Some(ResponseEvent::End))));
    assert!(matches!(conn.poll_event(), Ok(None)));
    assert_eq!((conn.outstanding(), conn.is_idle()), (2, false));
    conn.receive(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(conn.buffered(), 0);
}

/// Body bytes are handed on as they come: a long stream costs no memory.
#[test]
fn body_data_is_not_accumulated() {
    for head in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000\r\n",
    ] {
        let mut conn = ClientConn::new(lim().max_body_size(10));
        let mut wire = BytesMut::new();
        conn.send_request(&get(), BodyKind::None, &mut wire)
            .unwrap();
        conn.receive(head);
        assert!(matches!(
            conn.poll_event(),
            Ok(Some(ResponseEvent::Head(_)))
        ));
        let piece = [b'x'; 4096];
        let mut total = 0;
        for _ in 0..100 {
            conn.receive(&piece);
            while let Some(event) = conn.poll_event().unwrap() {
                let ResponseEvent::Data(data) = event else {
                    panic!("{event:?}")
                };
                total += data.len();
            }
            assert_eq!(conn.buffered(), 0);
        }
        assert_eq!(total, 409_600);
    }
}

#[test]
fn request_heads_go_out_as_encoded() {
    let mut conn = ClientConn::default();
    let mut wire = BytesMut::new();
    let post = Request::post("http://a.example:8080/x/000/s/xhr_send?t=1")
        .header("content-type", "text/plain")
        .body(())
        .unwrap();
    conn.send_request(&post, BodyKind::Length(7), &mut wire)
        .unwrap();
    wire.extend_from_slice(b"[\"msg\"]");
    assert_eq!(
        &wire[..],
        b"POST /x/000/s/xhr_send?t=1 HTTP/1.1\r\nHost: a.example:8080\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\n[\"msg\"]"
    );
    assert_eq!((conn.outstanding(), conn.is_idle()), (1, false));
    let no_host = Request::get("/x").body(()).unwrap();
    assert_eq!(
        conn.send_request(&no_host, BodyKind::None, &mut wire),
        Err(EncodeError::NoHost)
    );
    assert_eq!(
        conn.outstanding(),
        1,
        "a refused request is not outstanding"
    );
}

#[test]
fn an_error_repeats_and_drops_input() {
    let mut conn = ClientConn::new(lim());
    conn.receive(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(conn.poll_event().err(), Some(ResponseError::Unsolicited));
    conn.receive(b"more");
    conn.receive_eof();
    assert_eq!(conn.buffered(), 0);
    assert_eq!(conn.poll_event().err(), Some(ResponseError::Unsolicited));
    assert!(conn.take_upgraded().is_empty());
    assert_eq!(
        ResponseError::Head(HeadError::TooLarge(9)).to_string(),
        "response head larger than 9 bytes"
    );
}

/// `Debug` of the events writes header values as text where they are
/// UTF-8, as bytes where they are not.
#[test]
fn events_show_header_values_as_text() {
    let mut conn = ClientConn::new(lim());
    let mut out = BytesMut::new();
    conn.send_request(&get(), BodyKind::None, &mut out).unwrap();
    conn.receive(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: n=J\xc3\xb6rg\r\nX-Raw: a\xffb\r\nContent-Length: 2\r\n\r\nhi",
    );
    let shown: Vec<String> = std::iter::from_fn(|| conn.poll_event().unwrap())
        .map(|event| format!("{event:?}"))
        .collect();
    assert_eq!(
        shown,
        [
            r#"Head(Response { status: 200, version: HTTP/1.1, headers: {"set-cookie": "n=Jörg", "x-raw": b"a\xffb", "content-length": "2"}, .. })"#,
            r#"Data(b"hi")"#,
            "End",
        ]
    );
}
