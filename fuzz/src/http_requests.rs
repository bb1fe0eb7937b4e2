//! `http_requests`: arbitrary bytes, cut into arbitrary pieces, as what a
//! client sends on one HTTP/1.x connection to an `http_proto::ServerConn`;
//! the same bytes (and the pieces) also go through the response encoders.
//!
//! Input layout: `[setup, chunking, bytes...]`. `setup` bits 0-1 pick the
//! limits (default; small; tiny; or, for 3, four more bytes taken from the
//! front of the input: head size, header count, body size, chunk line);
//! bit 2 declines upgrades (else the first upgrade request ends the
//! connection and its trailing bytes are taken). `chunking` cuts the bytes
//! ([`common::sizes`]).
//!
//! The bytes go three ways: through a reference model of the documented
//! behaviour ([`model`]: `httparse` for the head, the framing rules of RFC
//! 9112 §6 and §7.1 written out again), fed whole in one `receive`, and fed
//! in pieces as an adapter would (never more than `receive_capacity` at a
//! time, draining `poll_request` after each). Invariants, besides not
//! panicking:
//!
//! - both feedings give exactly the model's requests (every field, the body
//!   de-chunked) and then its error, or nothing more; fed whole, each
//!   request ends where the model says (`buffered()` is what follows it);
//! - every body is at most `max_body_size`, every head at most
//!   `max_head_size`, every chunk line and the trailers within their limits;
//! - `receive_capacity` is the head, body and chunk-line limits together
//!   minus `buffered()`, and 0 once the connection is failed, done or
//!   upgraded; it is never 0 otherwise (no stall); after draining, a live
//!   connection buffers less than the largest single limit;
//! - after an error, `poll_request` gives the same error again, even after
//!   more input, and buffers nothing; after a request without keep-alive it
//!   gives `Ok(None)` for good;
//! - after an upgrade request `poll_request` gives `Ok(None)` and
//!   `take_upgraded` is exactly the bytes fed after the request;
//! - `poll_continue` is true exactly once for each request with
//!   `Expect: 100-continue` whose head is read and whose body is not, at the
//!   first drain where that holds, and false otherwise;
//! - `encode_chunk` pieces of each body (and of the input pieces), ended by
//!   `encode_last_chunk`, decode back to the same bytes through a fresh
//!   `ServerConn`;
//! - `encode_response` with the input pieces as header values, header
//!   names and statuses (where the `http` crate takes them), and with each
//!   request's headers, fails exactly as documented (a framing header), and
//!   otherwise writes CRLF-terminated lines only (no bare CR or LF: no
//!   header injection), one per header with its name in title case, with
//!   the framing and `Connection` headers the body kind and the exchange
//!   call for; `httparse` reads it back.

use std::collections::HashSet;

use bytes::{Bytes, BytesMut};
use http_proto::http::{self, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, Version};
use http_proto::{
    encode_chunk, encode_last_chunk, encode_response, expects_continue, is_upgrade, BodyKind,
    EncodeError, Exchange, Framing, Limits, RequestError, ServerConn,
};

/// What is compared of a request: its parts, and what `http_proto` says of
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: http::Method,
    /// The target.
    pub uri: Uri,
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The fields in order.
    pub headers: HeaderMap,
    /// The body, de-chunked.
    pub body: Bytes,
    /// [`Exchange::of`]: the connection stays open.
    pub keep_alive: bool,
    /// [`expects_continue`].
    pub expects_continue: bool,
    /// [`is_upgrade`].
    pub upgrade: bool,
}

impl Request {
    fn of(req: &http::Request<Bytes>) -> Self {
        Self {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
            body: req.body().clone(),
            keep_alive: Exchange::of(req).keep_alive,
            expects_continue: expects_continue(req),
            upgrade: is_upgrade(req),
        }
    }
}

/// `conn.poll_request()`, the request made comparable.
fn poll(conn: &mut ServerConn) -> Result<Option<Request>, RequestError> {
    conn.poll_request().map(|r| r.as_ref().map(Request::of))
}

use crate::common;

/// The limits `setup` picks, and the input after the bytes it took.
fn limits(setup: u8, input: &[u8]) -> Option<(Limits, &[u8])> {
    let limits = match setup & 3 {
        0 => Limits::default(),
        1 => Limits::default()
            .max_head_size(256)
            .max_headers(8)
            .max_body_size(64)
            .max_chunk_line(16),
        2 => Limits::default()
            .max_head_size(48)
            .max_headers(3)
            .max_body_size(8)
            .max_chunk_line(6),
        _ => {
            let [head, headers, body, line, rest @ ..] = input else {
                return None;
            };
            let limits = Limits::default()
                .max_head_size(1 + usize::from(*head))
                .max_headers(usize::from(headers % 10))
                .max_body_size(u64::from(body % 40))
                .max_chunk_line(usize::from(line % 12));
            return Some((limits, rest));
        }
    };
    Some((limits, input))
}

/// `max_body_size` as a `usize`.
fn body_limit(limits: &Limits) -> usize {
    usize::try_from(limits.max_body_size).unwrap_or(usize::MAX)
}

/// What `receive_capacity` documents: one maximal head and body.
fn total_limit(limits: &Limits) -> usize {
    limits
        .max_head_size
        .saturating_add(body_limit(limits))
        .saturating_add(limits.max_chunk_line)
}

/// The `fuzz_targets/http_requests.rs` target.
pub fn run(data: &[u8]) {
    let [setup, chunking, rest @ ..] = data else {
        return;
    };
    let Some((limits, input)) = limits(*setup, rest) else {
        return;
    };
    let decline = setup & 4 != 0;
    let expected = model::run(input, &limits, decline);
    let whole = feed_whole(input, &limits, decline, &expected);
    let pieces = common::split(*chunking, input);
    let cut = feed_pieces(&pieces, input, &limits, decline, &expected);
    assert_eq!(whole.requests, cut.requests, "whole vs pieces: requests");
    assert_eq!(whole.error, cut.error, "whole vs pieces: error");
    assert_eq!(whole.upgraded, cut.upgraded, "whole vs pieces: upgrade");

    for request in &whole.requests {
        chunk_round_trip(&request.body, *chunking);
        encode_request_headers(request, *chunking);
    }
    for piece in pieces.iter().take(4) {
        chunk_round_trip(piece, *chunking);
        encode_piece(piece);
    }
}

/// What a feeding gave.
#[derive(Debug, Default)]
struct Outcome {
    requests: Vec<Request>,
    error: Option<RequestError>,
    /// Where the upgrade request that ended the connection ended.
    upgraded: Option<usize>,
}

/// Checks what a request says of itself against the limits.
fn check_request(request: &Request, limits: &Limits) {
    assert!(
        request.body.len() as u64 <= limits.max_body_size,
        "a body of {} bytes over the limit {}",
        request.body.len(),
        limits.max_body_size
    );
    assert!(matches!(
        request.version,
        Version::HTTP_10 | Version::HTTP_11
    ));
    assert!(request.headers.len() <= limits.max_headers);
}

/// Checks a connection that gave `error`: it keeps giving it, buffers and
/// takes nothing.
fn check_failed(conn: &mut ServerConn, error: &RequestError, more: &[u8]) {
    assert_eq!(poll(conn).as_ref(), Err(error));
    assert_eq!(conn.receive_capacity(), 0);
    assert_eq!(conn.buffered(), 0);
    assert!(!conn.poll_continue());
    conn.receive(more);
    assert_eq!(conn.buffered(), 0);
    assert_eq!(poll(conn).as_ref(), Err(error));
    // The error's answer is a whole response that closes.
    let response = error.response();
    let mut headers = [httparse::EMPTY_HEADER; 8];
    let mut res = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(n)) = res.parse(&response) else {
        panic!("an error response httparse rejects");
    };
    assert_eq!(res.code, Some(error.status()));
    let length = res
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
        .map(|h| h.value);
    assert_eq!(length, Some((response.len() - n).to_string().as_bytes()));
}

/// Checks a connection after a request without keep-alive: nothing more.
fn check_done(conn: &mut ServerConn, more: &[u8]) {
    assert_eq!(poll(conn), Ok(None));
    assert_eq!(conn.receive_capacity(), 0);
    assert_eq!(conn.buffered(), 0);
    conn.receive(more);
    assert_eq!(conn.buffered(), 0);
    assert_eq!(poll(conn), Ok(None));
    assert!(!conn.poll_continue());
}

/// Feeds all of `input` in one `receive` and drains; checks the outcome
/// against the model, with where each request ended.
fn feed_whole(input: &[u8], limits: &Limits, decline: bool, expected: &model::Model) -> Outcome {
    let mut conn = ServerConn::new(*limits);
    assert_eq!(conn.limits(), limits);
    conn.receive(input);
    let mut out = Outcome::default();
    loop {
        match poll(&mut conn) {
            Ok(Some(request)) => {
                check_request(&request, limits);
                let i = out.requests.len();
                let Some((want, end)) = expected.requests.get(i) else {
                    panic!("fed whole: a request the model does not give: {request:?}");
                };
                assert_eq!(&request, want, "fed whole: request {i}");
                let done = !request.upgrade && !request.keep_alive;
                if !done {
                    assert_eq!(
                        input.len() - conn.buffered(),
                        *end,
                        "fed whole: request {i} ended elsewhere"
                    );
                }
                out.requests.push(request.clone());
                if done {
                    check_done(&mut conn, input);
                    break;
                }
                if request.upgrade {
                    assert_eq!(poll(&mut conn), Ok(None), "read past an upgrade");
                    assert_eq!(conn.receive_capacity(), 0);
                    if decline {
                        conn.decline_upgrade();
                        if !request.keep_alive {
                            check_done(&mut conn, input);
                            break;
                        }
                    } else {
                        let taken = std::mem::take(&mut conn).take_upgraded();
                        assert_eq!(&taken[..], &input[*end..], "fed whole: upgraded bytes");
                        out.upgraded = Some(*end);
                        break;
                    }
                }
            }
            Ok(None) => break,
            Err(error) => {
                check_failed(&mut conn, &error, input);
                out.error = Some(error);
                break;
            }
        }
    }
    assert_eq!(
        out.requests.len(),
        expected.requests.len(),
        "fed whole: requests missing; model: {:?}",
        expected.end
    );
    assert_eq!(out.error, expected.error(), "fed whole: the error");
    assert_eq!(out.upgraded, expected.upgraded(), "fed whole: the upgrade");
    out
}

/// Feeds `pieces` (of `input`) as an adapter would, never more than
/// `receive_capacity` at once, draining after each `receive`, with every
/// check between.
fn feed_pieces(
    pieces: &[&[u8]],
    input: &[u8],
    limits: &Limits,
    decline: bool,
    expected: &model::Model,
) -> Outcome {
    let mut conn = ServerConn::new(*limits);
    let total = total_limit(limits);
    let largest = limits
        .max_head_size
        .max(body_limit(limits))
        .max(limits.max_chunk_line);
    let mut out = Outcome::default();
    let mut fed = 0;
    let mut done = false;
    let mut continued = HashSet::new();
    'pieces: for piece in pieces {
        let mut rest: &[u8] = piece;
        loop {
            let capacity = conn.receive_capacity();
            assert_eq!(
                capacity,
                total.saturating_sub(conn.buffered()),
                "receive_capacity"
            );
            assert!(capacity > 0, "stalled: capacity 0 on a live connection");
            let n = rest.len().min(capacity);
            conn.receive(&rest[..n]);
            fed += n;
            rest = &rest[n..];
            assert!(conn.buffered() <= total, "buffered past the limits");
            loop {
                match poll(&mut conn) {
                    Ok(Some(request)) => {
                        check_request(&request, limits);
                        let i = out.requests.len();
                        let Some((want, end)) = expected.requests.get(i) else {
                            panic!("in pieces: a request the model does not give: {request:?}");
                        };
                        assert_eq!(&request, want, "in pieces: request {i}");
                        assert!(*end <= fed);
                        out.requests.push(request.clone());
                        if !request.upgrade && !request.keep_alive {
                            check_done(&mut conn, rest);
                            done = true;
                            break 'pieces;
                        }
                        if request.upgrade {
                            assert_eq!(poll(&mut conn), Ok(None), "read past an upgrade");
                            assert_eq!(conn.receive_capacity(), 0);
                            assert!(!conn.poll_continue());
                            if decline {
                                conn.decline_upgrade();
                                if !request.keep_alive {
                                    check_done(&mut conn, rest);
                                    done = true;
                                    break 'pieces;
                                }
                            } else {
                                let taken = std::mem::take(&mut conn).take_upgraded();
                                assert_eq!(&taken[..], &input[*end..fed], "in pieces: upgraded");
                                out.upgraded = Some(*end);
                                break 'pieces;
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(error) => {
                        check_failed(&mut conn, &error, rest);
                        out.error = Some(error);
                        break 'pieces;
                    }
                }
            }
            // A live, drained connection holds less than one limit's worth.
            assert!(
                conn.buffered() < largest,
                "{} bytes buffered after draining",
                conn.buffered()
            );
            let want = expected.continue_at(fed).filter(|i| continued.insert(*i));
            assert_eq!(
                conn.poll_continue(),
                want.is_some(),
                "poll_continue at {fed}"
            );
            assert!(!conn.poll_continue(), "poll_continue twice");
            if rest.is_empty() {
                break;
            }
        }
    }
    assert_eq!(
        out.requests.len(),
        expected.requests.len(),
        "in pieces: requests missing; model: {:?}",
        expected.end
    );
    assert_eq!(out.error, expected.error(), "in pieces: the error");
    assert_eq!(out.upgraded, expected.upgraded(), "in pieces: the upgrade");
    assert_eq!(done, matches!(expected.end, model::End::Done));
    out
}

/// `data` cut by `chunking` into `encode_chunk`s and ended by
/// `encode_last_chunk` decodes back to `data`.
fn chunk_round_trip(data: &[u8], chunking: u8) {
    let mut empty = BytesMut::new();
    encode_chunk(&[], &mut empty);
    assert!(empty.is_empty(), "an empty chunk would end the body");

    let mut wire =
        BytesMut::from(&b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
    let head = wire.len();
    for part in common::split(chunking, data) {
        encode_chunk(part, &mut wire);
    }
    encode_last_chunk(&mut wire);
    assert!(wire.ends_with(b"0\r\n\r\n"));
    let limits = Limits::default().max_body_size(data.len() as u64);
    let decoded = model::dechunk(&wire[head..], &limits);
    assert_eq!(
        decoded,
        model::Step::Done((data.to_vec(), wire.len() - head)),
        "the model does not read the chunks back"
    );
    let mut conn = ServerConn::new(limits);
    conn.receive(&wire);
    let request = conn
        .poll_request()
        .expect("valid chunks")
        .expect("complete");
    assert_eq!(&request.body()[..], data, "chunks do not round-trip");
    assert_eq!(conn.buffered(), 0);
    assert_eq!(poll(&mut conn), Ok(None));
}

/// The header name in title case, as `encode_response` documents it.
fn title_case(name: &HeaderName) -> String {
    const SPELLED: &[&str] = &[
        "WebSocket",
        "ETag",
        "WWW",
        "MD5",
        "DNT",
        "XSS",
        "TE",
        "CSP",
        "UA",
    ];
    name.as_str()
        .split('-')
        .map(|word| {
            if let Some(spelled) = SPELLED.iter().find(|s| s.eq_ignore_ascii_case(word)) {
                return (*spelled).to_owned();
            }
            let mut w = word.to_owned();
            if let Some(first) = w.get_mut(..1) {
                first.make_ascii_uppercase();
            }
            w
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Calls `encode_response` and checks it: fails exactly as documented, and
/// otherwise writes the lines it should, CRLF-terminated, nothing injected.
fn check_encode(status: StatusCode, headers: &HeaderMap, body: BodyKind, exchange: Exchange) {
    let mut res = http::Response::new(());
    *res.status_mut() = status;
    *res.headers_mut() = headers.clone();
    let mut out = BytesMut::from(&b"previous"[..]);
    let result = encode_response(&res, body, exchange, &mut out);
    let framing_header = [
        http::header::CONTENT_LENGTH,
        http::header::TRANSFER_ENCODING,
    ]
    .into_iter()
    .find(|n| headers.contains_key(n));
    let encoded = match (result, framing_header) {
        (Err(got), Some(name)) => {
            assert_eq!(got, EncodeError::FramingHeader(name));
            assert_eq!(&out[..], b"previous", "wrote on error");
            return;
        }
        (Ok(encoded), None) => encoded,
        (got, want) => panic!("encode_response gave {got:?}, expected a refusal of {want:?}"),
    };
    let head = &out[b"previous".len()..];

    // The documented table.
    let no_body = status.is_informational() || status == 204 || status == 304;
    let http10 = exchange.version == Version::HTTP_10;
    let (length, framing) = match body {
        _ if no_body => (None, Framing::None),
        BodyKind::None => (Some(0), Framing::None),
        BodyKind::Length(n) if exchange.head => (Some(n), Framing::None),
        BodyKind::Length(n) => (Some(n), Framing::Length(n)),
        BodyKind::Stream if exchange.head => (None, Framing::None),
        BodyKind::Stream if http10 => (None, Framing::CloseDelimited),
        BodyKind::Stream => (None, Framing::Chunked),
    };
    assert_eq!(encoded.framing, framing);
    let lists = |token: &str| {
        headers
            .get_all(http::header::CONNECTION)
            .iter()
            .flat_map(|v| v.as_bytes().split(|&b| b == b','))
            .any(|e| e.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    };
    let keep_alive = exchange.keep_alive && !lists("close") && framing != Framing::CloseDelimited;
    assert_eq!(encoded.keep_alive, keep_alive && status != 101);

    // No bare CR or LF: every line ends with CRLF, and the head with an
    // empty line, the only one.
    for (i, &b) in head.iter().enumerate() {
        match b {
            b'\r' => assert_eq!(head.get(i + 1), Some(&b'\n'), "a bare CR"),
            b'\n' => assert!(i > 0 && head[i - 1] == b'\r', "a bare LF"),
            _ => {}
        }
    }
    assert!(head.ends_with(b"\r\n\r\n"));
    let lines: Vec<&[u8]> = head[..head.len() - 4]
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    assert!(
        lines.iter().all(|l| !l.is_empty()),
        "an empty line in the head"
    );
    let reason = status.canonical_reason().unwrap_or("");
    let mut want: Vec<Vec<u8>> =
        vec![format!("HTTP/1.1 {} {reason}", status.as_u16()).into_bytes()];
    for (name, value) in headers {
        let mut line = format!("{}: ", title_case(name)).into_bytes();
        line.extend_from_slice(value.as_bytes());
        want.push(line);
    }
    if let Some(n) = length {
        want.push(format!("Content-Length: {n}").into_bytes());
    }
    if framing == Framing::Chunked {
        want.push(b"Transfer-Encoding: chunked".to_vec());
    }
    if !status.is_informational() {
        if !keep_alive && !lists("close") {
            want.push(b"Connection: close".to_vec());
        } else if keep_alive && http10 && !lists("keep-alive") {
            want.push(b"Connection: keep-alive".to_vec());
        }
    }
    assert_eq!(lines, want, "the head's lines");

    // httparse reads it back.
    let mut parsed = vec![httparse::EMPTY_HEADER; headers.len() + 3];
    let mut res = httparse::Response::new(&mut parsed);
    assert_eq!(
        res.parse(head),
        Ok(httparse::Status::Complete(head.len())),
        "httparse rejects {:?}",
        String::from_utf8_lossy(head)
    );
    assert_eq!(res.code, Some(status.as_u16()));
    for (got, (name, value)) in res.headers.iter().zip(headers) {
        assert!(got.name.eq_ignore_ascii_case(name.as_str()));
        assert_eq!(got.value, value.as_bytes().trim_ascii());
    }
}

/// The body kind and exchange a byte picks.
fn kind_and_exchange(first: u8, length: u64) -> (BodyKind, Exchange) {
    let body = match first % 3 {
        0 => BodyKind::Length(length),
        1 => BodyKind::Stream,
        _ => BodyKind::None,
    };
    let mut exchange = Exchange::default();
    exchange.version = if first & 0x80 != 0 {
        Version::HTTP_10
    } else {
        Version::HTTP_11
    };
    exchange.head = first & 0x20 != 0;
    if first & 0x40 == 0 {
        exchange = exchange.closing();
    }
    (body, exchange)
}

/// `encode_response` with a piece of the input as a header value, as a
/// header name and as the status, where the `http` crate takes them (it
/// refuses CR, LF and NUL in values, and names that are not tokens).
fn encode_piece(piece: &[u8]) {
    let first = piece.first().copied().unwrap_or(0);
    let status = match piece {
        [a, b, ..] => StatusCode::from_u16(u16::from_le_bytes([*a, *b]) % 1100).ok(),
        _ => None,
    }
    .unwrap_or(StatusCode::OK);
    let (body, exchange) = kind_and_exchange(first, piece.len() as u64);
    let value = HeaderValue::from_bytes(piece);
    if piece.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        assert!(
            value.is_err(),
            "the http crate takes CR, LF or NUL in a value"
        );
    }
    let mut headers = HeaderMap::new();
    if let Ok(value) = &value {
        headers.append("x-fuzz", value.clone());
    }
    check_encode(StatusCode::OK, &headers, body, exchange);
    headers.insert(http::header::SET_COOKIE, HeaderValue::from_static("a=b"));
    if let Ok(name) = HeaderName::from_bytes(piece) {
        headers.append(name, HeaderValue::from_static("value"));
    }
    check_encode(status, &headers, body, exchange);
}

/// `encode_response` with a request's headers.
fn encode_request_headers(request: &Request, chunking: u8) {
    let (body, mut exchange) = kind_and_exchange(chunking, request.body.len() as u64);
    exchange.version = request.version;
    check_encode(StatusCode::OK, &request.headers, body, exchange);
    check_encode(
        StatusCode::SWITCHING_PROTOCOLS,
        &request.headers,
        BodyKind::None,
        exchange,
    );
}

/// A reference model of what `ServerConn` documents, over the whole input.
pub mod model {
    use super::{http, Bytes, HeaderMap, Limits, Request, RequestError, Uri, Version};

    /// How the model's connection ended.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum End {
        /// More input would be read.
        Incomplete,
        /// The peer broke the protocol.
        Failed(RequestError),
        /// A request without keep-alive: nothing more is read.
        Done,
        /// An upgrade request taken: the new protocol starts at this offset.
        Upgraded(usize),
    }

    /// A head that parsed, and where its request ends (`None` if its body
    /// is incomplete or refused).
    #[derive(Debug, Clone)]
    pub struct Head {
        /// Where the head ends in the input.
        pub parsed_at: usize,
        /// `Expect: 100-continue` on HTTP/1.1.
        pub expects_continue: bool,
        /// Where the body ends.
        pub end: Option<usize>,
    }

    /// What the model reads from an input.
    #[derive(Debug, Clone)]
    pub struct Model {
        /// The requests, each with where it ends in the input.
        pub requests: Vec<(Request, usize)>,
        /// Every head that parsed.
        pub heads: Vec<Head>,
        /// How it ended.
        pub end: End,
    }

    impl Model {
        /// The error it ended with.
        pub fn error(&self) -> Option<RequestError> {
            match &self.end {
                End::Failed(e) => Some(e.clone()),
                _ => None,
            }
        }

        /// Where the upgrade that ended it ended.
        pub fn upgraded(&self) -> Option<usize> {
            match self.end {
                End::Upgraded(at) => Some(at),
                _ => None,
            }
        }

        /// The head (by index) whose 100-continue is due once `fed` bytes
        /// are in: the last head read by then, if it expects one and its
        /// body is not complete.
        pub fn continue_at(&self, fed: usize) -> Option<usize> {
            let i = self.heads.iter().rposition(|h| h.parsed_at <= fed)?;
            let head = &self.heads[i];
            (head.expects_continue && head.end.is_none_or(|end| fed < end)).then_some(i)
        }
    }

    /// A step of reading: a value, more input needed, or a refusal.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Step<T> {
        /// Read.
        Done(T),
        /// Needs more input.
        More,
        /// Refused.
        Fail(RequestError),
    }

    /// The elements of the comma-separated lists in the headers `name`,
    /// trimmed, empty ones skipped.
    fn elements<'a>(headers: &'a [Header], name: &'a str) -> Vec<&'a [u8]> {
        headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .flat_map(|h| h.value.split(|&b| b == b','))
            .map(<[u8]>::trim_ascii)
            .filter(|e| !e.is_empty())
            .collect()
    }

    fn count(headers: &[Header], name: &str) -> usize {
        headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .count()
    }

    fn has(headers: &[Header], name: &str, token: &str) -> bool {
        elements(headers, name)
            .iter()
            .any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
    }

    /// A header field as the model reads it.
    struct Header {
        name: String,
        value: Vec<u8>,
    }

    /// How a body is delimited.
    enum Framing {
        Length(usize),
        Chunked,
    }

    /// RFC 9112 §6.3 for requests, as `ServerConn` documents it.
    fn framing(headers: &[Header], limits: &Limits) -> Result<Framing, RequestError> {
        let mut length = None;
        for h in headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case("content-length"))
        {
            // Every element of every value: the same decimal number.
            for e in h.value.split(|&b| b == b',') {
                let e = e.trim_ascii();
                let n = (!e.is_empty() && e.iter().all(u8::is_ascii_digit))
                    .then(|| std::str::from_utf8(e).ok()?.parse::<u64>().ok())
                    .flatten()
                    .ok_or(RequestError::ContentLength)?;
                if length.is_some_and(|l| l != n) {
                    return Err(RequestError::ContentLength);
                }
                length = Some(n);
            }
        }
        if count(headers, "transfer-encoding") > 0 {
            if length.is_some() {
                return Err(RequestError::ConflictingFraming);
            }
            let codings = elements(headers, "transfer-encoding");
            if codings.iter().any(|c| !c.eq_ignore_ascii_case(b"chunked")) {
                return Err(RequestError::UnsupportedTransferCoding);
            }
            if codings.len() != 1 {
                return Err(RequestError::ChunkedNotLast);
            }
            return Ok(Framing::Chunked);
        }
        match length {
            Some(n) if n > limits.max_body_size => {
                Err(RequestError::BodyTooLarge(limits.max_body_size))
            }
            Some(n) => {
                Ok(Framing::Length(usize::try_from(n).map_err(|_| {
                    RequestError::BodyTooLarge(limits.max_body_size)
                })?))
            }
            None => Ok(Framing::Length(0)),
        }
    }

    /// The head at the start of `seg` (which starts with neither CR nor
    /// LF): the request without its body, its framing, and its length.
    fn head(seg: &[u8], limits: &Limits) -> Step<(Request, Framing, usize)> {
        let max = limits.max_head_size;
        let end = match crate::common::head_end(seg) {
            Some(end) if end <= max => end,
            // A method that is no token yet (before the first space) is
            // refused before the head is whole or too large.
            _ if !crate::common::method_is_token_so_far(seg, max) => {
                return Step::Fail(RequestError::Malformed)
            }
            _ if seg.len() >= max => return Step::Fail(RequestError::HeadTooLarge(max)),
            _ => return Step::More,
        };
        let mut parsed = vec![httparse::EMPTY_HEADER; limits.max_headers];
        let mut req = httparse::Request::new(&mut parsed);
        match req.parse(&seg[..end]) {
            Ok(httparse::Status::Complete(n)) => {
                assert_eq!(n, end, "httparse ends the head elsewhere");
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Step::Fail(RequestError::TooManyHeaders)
            }
            // 505 for a well-formed `HTTP/d.d` that is not 1.0 or 1.1;
            // anything else in the version's place is malformed (400).
            Err(httparse::Error::Version) if super::last_token_is_a_version(&seg[..end]) => {
                return Step::Fail(RequestError::Version)
            }
            Ok(httparse::Status::Partial) | Err(_) => return Step::Fail(RequestError::Malformed),
        }
        let version = req.version.expect("complete");
        assert!(version <= 1);
        // The `http` crate's types: a target `Uri` refuses is refused;
        // names and values httparse takes, it takes too.
        let Ok(uri) = Uri::try_from(req.path.expect("complete")) else {
            return Step::Fail(RequestError::Target);
        };
        let headers: Vec<Header> = req
            .headers
            .iter()
            .map(|h| Header {
                name: h.name.to_owned(),
                value: h.value.trim_ascii().to_vec(),
            })
            .collect();
        let hosts = count(&headers, "host");
        if hosts > 1 || (version == 1 && hosts != 1) {
            return Step::Fail(RequestError::Host);
        }
        let framing = match framing(&headers, limits) {
            Ok(f) => f,
            Err(e) => return Step::Fail(e),
        };
        let close = has(&headers, "connection", "close");
        let keep_alive = if version == 0 && count(&headers, "transfer-encoding") > 0 {
            false
        } else if version == 1 {
            !close
        } else {
            has(&headers, "connection", "keep-alive") && !close
        };
        let expects_continue = version == 1
            && headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("expect")
                    && h.value.eq_ignore_ascii_case(b"100-continue")
            });
        let upgrade = count(&headers, "upgrade") > 0 && has(&headers, "connection", "upgrade");
        let mut map = HeaderMap::new();
        for h in &headers {
            let name = http::HeaderName::from_bytes(h.name.as_bytes()).expect("a token");
            let value = http::HeaderValue::from_bytes(&h.value).expect("a field value");
            map.append(name, value);
        }
        let request = Request {
            method: http::Method::from_bytes(req.method.expect("complete").as_bytes())
                .expect("a token"),
            uri,
            version: if version == 0 {
                Version::HTTP_10
            } else {
                Version::HTTP_11
            },
            headers: map,
            body: Bytes::new(),
            keep_alive,
            expects_continue,
            upgrade,
        };
        Step::Done((request, framing, end))
    }

    /// A CRLF-terminated line of at most `max` bytes (CRLF included) at
    /// the start of `buf`, without its CRLF; `Err(true)` if it is too long,
    /// `Err(false)` if it ends with a bare LF.
    fn line(buf: &[u8], max: usize) -> Result<Option<&[u8]>, bool> {
        match buf.iter().position(|&b| b == b'\n') {
            Some(lf) if lf < max => match lf.checked_sub(1) {
                Some(cr) if buf[cr] == b'\r' => Ok(Some(&buf[..cr])),
                _ => Err(false),
            },
            _ if buf.len() >= max => Err(true),
            _ => Ok(None),
        }
    }

    /// A chunk-size line's size: hex digits, then nothing or whitespace
    /// (SP, HTAB) and `;` extensions without CR or NUL.
    fn chunk_size(line: &[u8], limits: &Limits) -> Result<u64, RequestError> {
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 {
            return Err(RequestError::BadChunk);
        }
        let hex = std::str::from_utf8(&line[..digits]).expect("ASCII");
        let significant = hex.trim_start_matches('0');
        if significant.len() > 16 {
            return Err(RequestError::BodyTooLarge(limits.max_body_size));
        }
        let size = if significant.is_empty() {
            0
        } else {
            u64::from_str_radix(significant, 16).expect("16 hex digits")
        };
        let rest = &line[digits..];
        let bws = rest
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let ext = &rest[bws..];
        let valid = rest.is_empty()
            || (ext.first() == Some(&b';') && !ext.iter().any(|&b| b == b'\r' || b == 0));
        if !valid {
            return Err(RequestError::BadChunk);
        }
        Ok(size)
    }

    /// Decodes a chunked body at the start of `buf`: the data and how many
    /// bytes it took, trailers included.
    pub fn dechunk(buf: &[u8], limits: &Limits) -> Step<(Vec<u8>, usize)> {
        let mut data = Vec::new();
        let mut at = 0;
        loop {
            let size_line = match line(&buf[at..], limits.max_chunk_line) {
                Ok(Some(l)) => l,
                Ok(None) => return Step::More,
                Err(true) => {
                    return Step::Fail(RequestError::ChunkLineTooLong(limits.max_chunk_line))
                }
                Err(false) => return Step::Fail(RequestError::BadChunk),
            };
            at += size_line.len() + 2;
            let size = match chunk_size(size_line, limits) {
                Ok(size) => size,
                Err(e) => return Step::Fail(e),
            };
            if size == 0 {
                break;
            }
            if data.len() as u64 + size > limits.max_body_size {
                return Step::Fail(RequestError::BodyTooLarge(limits.max_body_size));
            }
            let size = usize::try_from(size).expect("within the body limit");
            if buf.len() - at < size {
                return Step::More;
            }
            data.extend_from_slice(&buf[at..at + size]);
            at += size;
            match &buf[at..] {
                [b'\r', b'\n', ..] => at += 2,
                [] | [b'\r'] => return Step::More,
                _ => return Step::Fail(RequestError::BadChunk),
            }
        }
        // Trailers: at most `max_head_size` bytes with the empty line.
        let mut trailers = 0;
        loop {
            let budget = limits.max_head_size.saturating_sub(trailers);
            let trailer = match line(&buf[at..], budget) {
                Ok(Some(l)) => l,
                Ok(None) => return Step::More,
                Err(true) => {
                    return Step::Fail(RequestError::TrailersTooLarge(limits.max_head_size))
                }
                Err(false) => return Step::Fail(RequestError::BadChunk),
            };
            at += trailer.len() + 2;
            if trailer.is_empty() {
                return Step::Done((data, at));
            }
            trailers += trailer.len() + 2;
            if trailer.iter().any(|&b| b == b'\r' || b == 0) || !trailer.contains(&b':') {
                return Step::Fail(RequestError::BadChunk);
            }
        }
    }

    /// Reads `input` as a connection: requests until an error, a request
    /// without keep-alive, an upgrade (declined if `decline`), or the end.
    pub fn run(input: &[u8], limits: &Limits, decline: bool) -> Model {
        let mut model = Model {
            requests: Vec::new(),
            heads: Vec::new(),
            end: End::Incomplete,
        };
        let mut at = 0;
        loop {
            // RFC 9112 §2.2: empty lines before a request line are ignored.
            at += input[at..]
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            let (mut request, framing, head_len) = match head(&input[at..], limits) {
                Step::Done(head) => head,
                Step::More => return model,
                Step::Fail(e) => {
                    model.end = End::Failed(e);
                    return model;
                }
            };
            let head_end = at + head_len;
            model.heads.push(Head {
                parsed_at: head_end,
                expects_continue: request.expects_continue,
                end: None,
            });
            let rest = &input[head_end..];
            let (body, body_len) = match framing {
                Framing::Length(n) if rest.len() >= n => (rest[..n].to_vec(), n),
                Framing::Length(_) => return model,
                Framing::Chunked => match dechunk(rest, limits) {
                    Step::Done(body) => body,
                    Step::More => return model,
                    Step::Fail(e) => {
                        model.end = End::Failed(e);
                        return model;
                    }
                },
            };
            at = head_end + body_len;
            model.heads.last_mut().expect("pushed").end = Some(at);
            request.body = body.into();
            let (upgrade, keep_alive) = (request.upgrade, request.keep_alive);
            model.requests.push((request, at));
            if upgrade && !decline {
                model.end = End::Upgraded(at);
                return model;
            }
            // Declined or not an upgrade: without keep-alive, nothing more.
            if !keep_alive {
                model.end = End::Done;
                return model;
            }
        }
    }
}

/// Whether the request line is three space-separated parts, the last one
/// `HTTP/<digit>.<digit>`.
fn last_token_is_a_version(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    let line = text.split('\n').next().unwrap_or_default();
    let line = line.strip_suffix('\r').unwrap_or(line);
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 {
        return false;
    }
    let token = parts[2];
    let bytes = token.as_bytes();
    bytes.len() == 8
        && token.starts_with("HTTP/")
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'.'
        && bytes[7].is_ascii_digit()
}
