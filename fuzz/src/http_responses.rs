//! `http_responses`: arbitrary bytes, cut into arbitrary pieces, as what a
//! server answers on one HTTP/1.1 connection to an `http_proto::ClientConn`
//! that sent up to three pipelined requests.
//!
//! Input layout: `[setup, chunking, bytes...]`. `setup` bits 0-1 pick the
//! limits (default; small; tiny; or, for 3, three more bytes taken from the
//! front of the input: head size, header count, chunk line); bits 2-3 the
//! number of requests sent before the input (0 to 3); bit 4 makes the
//! second one `HEAD`; bit 5 makes the last one say `Connection: close`;
//! bit 6 makes the first one an upgrade request (then it is the only one:
//! the next is refused, [`EncodeError::UpgradePending`]); bit 7 ends the
//! input with the end of file. `chunking` cuts the bytes
//! ([`common::sizes`]).
//!
//! The bytes are fed three ways: in the pieces, one byte at a time, and
//! whole, draining `poll_event` after each `receive` (and after
//! `receive_eof`). Invariants, besides not panicking:
//!
//! - the three feedings agree: the same heads, the same data joined, the
//!   same ends, the same error, and the same state after (`keep_alive`,
//!   `is_idle`, `outstanding`, the bytes after a 101);
//! - `Data` is never empty, and comes only between a `Head` and its `End`;
//!   no more heads than requests sent; a response that ended with a
//!   `Content-Length` (not an answer to `HEAD`, 204 or 304) gave exactly
//!   that many bytes;
//! - once drained, a live connection buffers fewer than
//!   `max(max_head_size, max_chunk_line, 2)` bytes;
//! - after an error, `poll_event` gives it again, even after more input,
//!   buffers nothing, and `keep_alive` is false; after a 101, it gives
//!   `Ok(None)` and drops input, and `take_upgraded` gives the bytes after
//!   the head once;
//! - `is_idle` is `outstanding() == 0`; a connection that does not
//!   `keep_alive` refuses a request and writes nothing, one that does
//!   takes it (unless behind an upgrade request).

use bytes::BytesMut;
use http_proto::http::{self, Request, StatusCode};
use http_proto::{BodyKind, ClientConn, EncodeError, Limits, ResponseError, ResponseEvent};

use crate::common;

/// What is compared of an event: a head's status, version and fields, the
/// data (consecutive pieces joined), the end.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Head(u16, http::Version, Vec<(String, Vec<u8>)>),
    Data(Vec<u8>),
    End,
}

/// What a feeding gave, and the connection's state after.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Outcome {
    events: Vec<Ev>,
    error: Option<ResponseError>,
    keep_alive: bool,
    idle: bool,
    outstanding: usize,
    /// After a 101: what `take_upgraded` gave, then every byte fed after.
    upgraded: Option<Vec<u8>>,
}

/// The limits `setup` picks, and the input after the bytes it took.
fn limits(setup: u8, input: &[u8]) -> Option<(Limits, &[u8])> {
    let limits = match setup & 3 {
        0 => Limits::default(),
        1 => Limits::default()
            .max_head_size(256)
            .max_headers(8)
            .max_chunk_line(16),
        2 => Limits::default()
            .max_head_size(48)
            .max_headers(3)
            .max_chunk_line(6),
        _ => {
            let [head, headers, line, rest @ ..] = input else {
                return None;
            };
            let limits = Limits::default()
                .max_head_size(1 + usize::from(*head))
                .max_headers(usize::from(headers % 10))
                .max_chunk_line(usize::from(line % 12));
            return Some((limits, rest));
        }
    };
    // Never applied to responses.
    Some((limits.max_body_size(u64::from(setup % 7)), input))
}

/// The requests `setup` sends.
fn requests(setup: u8) -> Vec<Request<()>> {
    let count = if setup & 0x40 != 0 {
        1
    } else {
        usize::from((setup >> 2) & 3)
    };
    (0..count)
        .map(|i| {
            let mut b = Request::builder().uri("http://a.example/x");
            if i == 1 && setup & 0x10 != 0 {
                b = b.method("HEAD");
            }
            if i == 0 && setup & 0x40 != 0 {
                b = b
                    .header("upgrade", "websocket")
                    .header("connection", "upgrade");
            }
            if i + 1 == count && setup & 0x20 != 0 {
                b = b.header("connection", "close");
            }
            b.body(()).expect("a request")
        })
        .collect()
}

/// The `fuzz_targets/http_responses.rs` target.
pub fn run(data: &[u8]) {
    let [setup, chunking, rest @ ..] = data else {
        return;
    };
    let Some((limits, input)) = limits(*setup, rest) else {
        return;
    };
    let requests = requests(*setup);
    let eof = setup & 0x80 != 0;
    let pieces = common::split(*chunking, input);
    let cut = feed(&limits, &requests, &pieces, eof);
    let bytewise: Vec<&[u8]> = input.chunks(1).collect();
    let one_by_one = feed(&limits, &requests, &bytewise, eof);
    let whole = feed(&limits, &requests, &[input], eof);
    assert_eq!(cut, one_by_one, "pieces vs byte at a time");
    assert_eq!(whole, one_by_one, "whole vs byte at a time");
}

/// Sends `requests`, feeds `pieces` draining after each, then the end of
/// file if `eof`; checks every invariant on the way.
fn feed(limits: &Limits, requests: &[Request<()>], pieces: &[&[u8]], eof: bool) -> Outcome {
    let mut conn = ClientConn::new(*limits);
    assert_eq!(conn.limits(), limits);
    let mut wire = BytesMut::new();
    for (i, request) in requests.iter().enumerate() {
        let upgrade_pending = requests[..i]
            .iter()
            .any(|r| r.headers().contains_key("upgrade"));
        let closed = requests[..i]
            .iter()
            .any(|r| r.headers().get("connection").is_some_and(|v| v == "close"));
        let result = conn.send_request(request, BodyKind::None, &mut wire);
        match result {
            Ok(()) => assert!(!upgrade_pending && !closed),
            Err(EncodeError::UpgradePending) => assert!(upgrade_pending && !closed),
            Err(EncodeError::ConnectionClosed) => assert!(closed),
            Err(e) => panic!("request {i} refused: {e:?}"),
        }
    }
    let sent = conn.outstanding();
    let mut out = Outcome::default();
    let mut check = Checker::default();
    for piece in pieces {
        if let Some(upgraded) = &mut out.upgraded {
            upgraded.extend_from_slice(piece);
            conn.receive(piece);
            assert_eq!(conn.buffered(), 0, "input kept after an upgrade");
            assert!(matches!(conn.poll_event(), Ok(None)));
            continue;
        }
        conn.receive(piece);
        drain(&mut conn, &mut out, &mut check, requests);
    }
    if eof {
        conn.receive_eof();
        drain(&mut conn, &mut out, &mut check, requests);
        assert!(!conn.keep_alive(), "keep_alive after the end of file");
    }
    if let Some(e) = &out.error {
        conn.receive(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(conn.buffered(), 0);
        assert_eq!(conn.poll_event().err().as_ref(), Some(e));
        assert!(!conn.keep_alive());
    }
    assert!(check.heads <= sent, "more heads than requests");
    assert!(conn.outstanding() <= sent);
    assert_eq!(conn.is_idle(), conn.outstanding() == 0);
    out.keep_alive = conn.keep_alive();
    out.idle = conn.is_idle();
    out.outstanding = conn.outstanding();

    // The next request: refused exactly when the connection carries no
    // more, or behind an upgrade request still outstanding.
    let mut next = BytesMut::new();
    let request = Request::get("http://a.example/").body(()).expect("a GET");
    match conn.send_request(&request, BodyKind::None, &mut next) {
        Ok(()) => assert!(out.keep_alive && !next.is_empty()),
        Err(EncodeError::ConnectionClosed) => assert!(!out.keep_alive && next.is_empty()),
        Err(EncodeError::UpgradePending) => assert!(out.keep_alive && next.is_empty()),
        Err(e) => panic!("the next request refused: {e:?}"),
    }
    out
}

/// What is followed across a feeding: where the response being read is.
#[derive(Debug, Default)]
struct Checker {
    /// Heads given (101 included).
    heads: usize,
    /// A head was given and its `End` not yet.
    in_body: bool,
    /// The `Content-Length` the response being read must give, if it has a
    /// body delimited so.
    length: Option<u64>,
    /// Data of the response being read so far.
    received: u64,
}

/// Drains `conn` into `out`, checking each event.
fn drain(conn: &mut ClientConn, out: &mut Outcome, check: &mut Checker, requests: &[Request<()>]) {
    loop {
        match conn.poll_event() {
            Ok(Some(ResponseEvent::Head(res))) => {
                assert!(!check.in_body, "a head inside a response");
                let Some(request) = requests.get(check.heads) else {
                    panic!("a head with no request sent");
                };
                check.heads += 1;
                let status = res.status();
                assert!(
                    status == StatusCode::SWITCHING_PROTOCOLS || !status.is_informational(),
                    "an interim head given"
                );
                assert!(res.headers().len() <= conn.limits().max_headers);
                out.events.push(Ev::Head(
                    status.as_u16(),
                    res.version(),
                    res.headers()
                        .iter()
                        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                        .collect(),
                ));
                if status == StatusCode::SWITCHING_PROTOCOLS {
                    let taken = conn.take_upgraded();
                    assert_eq!(conn.buffered(), 0);
                    assert!(conn.take_upgraded().is_empty(), "taken twice");
                    assert!(!conn.keep_alive());
                    assert!(matches!(conn.poll_event(), Ok(None)));
                    out.upgraded = Some(taken.to_vec());
                    return;
                }
                check.in_body = true;
                check.received = 0;
                let no_body = request.method() == http::Method::HEAD
                    || status == StatusCode::NO_CONTENT
                    || status == StatusCode::NOT_MODIFIED;
                check.length = res
                    .headers()
                    .get(http::header::CONTENT_LENGTH)
                    .filter(|_| !no_body)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(',').next())
                    .and_then(|v| v.trim().parse().ok());
            }
            Ok(Some(ResponseEvent::Data(data))) => {
                assert!(!data.is_empty(), "an empty Data");
                assert!(check.in_body, "data outside a response");
                check.received += data.len() as u64;
                if let Some(length) = check.length {
                    assert!(check.received <= length, "more data than Content-Length");
                }
                if let Some(Ev::Data(last)) = out.events.last_mut() {
                    last.extend_from_slice(&data);
                } else {
                    out.events.push(Ev::Data(data.to_vec()));
                }
            }
            Ok(Some(ResponseEvent::End)) => {
                assert!(check.in_body, "an end outside a response");
                if let Some(length) = check.length {
                    assert_eq!(check.received, length, "a short Content-Length body");
                }
                check.in_body = false;
                out.events.push(Ev::End);
            }
            Ok(Some(other)) => panic!("an unknown event {other:?}"),
            Ok(None) => break,
            Err(e) => {
                assert_eq!(
                    conn.poll_event().err().as_ref(),
                    Some(&e),
                    "the error again"
                );
                assert_eq!(conn.buffered(), 0);
                assert!(!conn.keep_alive());
                assert!(conn.take_upgraded().is_empty());
                out.error = Some(e);
                break;
            }
        }
    }
    let limits = conn.limits();
    let bound = limits.max_head_size.max(limits.max_chunk_line).max(2);
    assert!(
        conn.buffered() < bound,
        "{} bytes buffered",
        conn.buffered()
    );
}
