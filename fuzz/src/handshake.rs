//! `ws_server_handshake` and `ws_client_handshake`: arbitrary bytes, cut
//! into arbitrary pieces, as the HTTP head of an upgrade request or of its
//! answer.
//!
//! Input layout: `[setup, chunking, bytes...]`. `setup` bit 0 picks small
//! limits (a 256-byte head, 8 header fields) instead of the defaults;
//! `chunking` cuts the bytes ([`common::sizes`]).
//!
//! Invariants, besides not panicking:
//!
//! - `Ok(None)` exactly while no blank line has arrived (after the empty
//!   lines a request may start with) and the bytes are fewer than the head
//!   limit; a head that cannot fit the limit is refused with 431;
//! - an accepted request is GET over HTTP/1.1 with one 16-byte base64 key,
//!   re-parsed independently with `httparse`; the bytes after its head are
//!   exactly `trailing()`; its 101 answer parses back with `httparse`, with
//!   `Sec-WebSocket-Accept` equal to `accept_key` of the request's key, and
//!   the chosen subprotocol; a protocol not offered is refused (a header
//!   with CR/LF cannot be built: the `http` crate's types refuse it);
//! - a refused request's `response()` is a complete HTTP/1.1 response with
//!   the error's status and a `Content-Length` matching its body;
//! - the client accepts only a 101 answer whose accept key matches the
//!   fixed request's key, with at most one offered subprotocol;
//! - feeding and polling again after the result never panics.

use http_proto::http::{HeaderMap, HeaderValue, Response};
use http_proto::{BodyKind, Exchange};
use ws_proto::handshake::{
    accept_key, ClientHandshake, ClientRequest, HandshakeError, Limits, ResponseError,
    ServerHandshake, UpgradeRequest,
};

use crate::common;

/// The client's key: the RFC 6455 §1.3 sample nonce.
const CLIENT_KEY: [u8; 16] = *b"the sample nonce";
/// Its accept value (RFC 6455 §1.3).
const CLIENT_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

fn limits(setup: u8) -> Limits {
    if setup & 1 == 0 {
        Limits::default()
    } else {
        Limits::default().max_head_size(256).max_headers(8)
    }
}

/// The values of the header `name` in `headers`, trimmed.
fn header_values<'a>(headers: &'a [httparse::Header<'a>], name: &str) -> Vec<&'a [u8]> {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.trim_ascii())
        .collect()
}

/// Whether a comma-separated header `name` lists `token`.
fn lists(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    header_values(headers, name)
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// Whether `key` is 16 bytes in canonical padded base64.
fn is_key(key: &[u8]) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    // 16 bytes are 21 full sextets and 4 bits: the last character before
    // the padding carries 2 bits, so its 4 low bits are zero.
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22].iter().all(|b| ALPHABET.contains(b))
        && ALPHABET
            .iter()
            .position(|&b| b == key[21])
            .is_some_and(|v| v.trailing_zeros() >= 4)
}

/// The 101 head as `http-proto` writes it.
fn wire(res: &Response<()>) -> Vec<u8> {
    let mut out = bytes::BytesMut::new();
    http_proto::encode_response(res, BodyKind::None, Exchange::default(), &mut out)
        .expect("no framing header");
    out.to_vec()
}

/// Where a request head ends in `seen`: after the empty lines it may start
/// with (RFC 9112 §2.2), at its own empty line.
fn request_head_end(seen: &[u8]) -> Option<usize> {
    let blank = seen
        .iter()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    common::head_end(&seen[blank..]).map(|end| blank + end)
}

/// Header fields: lowercase names and raw values.
type Fields = Vec<(String, Vec<u8>)>;

/// Parses a complete HTTP response; returns its status, head length and
/// body.
fn parse_response(bytes: &[u8]) -> (u16, Fields, &[u8]) {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut res = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(n)) = res.parse(bytes) else {
        panic!(
            "not a complete HTTP response: {:?}",
            String::from_utf8_lossy(bytes)
        );
    };
    assert_eq!(res.version, Some(1), "not HTTP/1.1");
    assert!(
        res.reason.is_some_and(|r| !r.is_empty()),
        "no reason phrase"
    );
    let fields = res
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    (res.code.expect("complete"), fields, &bytes[n..])
}

fn field<'a>(fields: &'a Fields, name: &str) -> Vec<&'a [u8]> {
    fields
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
        .collect()
}

/// Checks an accepted request against an independent parse of the bytes.
fn check_upgrade(upgrade: &UpgradeRequest, seen: &[u8], limits: &Limits) {
    let end = request_head_end(seen).expect("accepted without a blank line");
    assert!(
        end <= limits.max_head_size,
        "accepted a head over the limit"
    );
    let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
    let mut req = httparse::Request::new(&mut headers);
    let Ok(httparse::Status::Complete(n)) = req.parse(&seen[..end]) else {
        panic!("accepted a head that httparse rejects");
    };
    assert_eq!(&upgrade.trailing()[..], &seen[n..], "wrong trailing bytes");
    let request = upgrade.request();
    assert_eq!(req.method, Some("GET"));
    assert_eq!(request.method(), "GET");
    assert_eq!(Some(request.uri().to_string().as_str()), req.path);
    assert_eq!(req.version, Some(1));
    assert_eq!(request.version(), http_proto::http::Version::HTTP_11);
    assert_eq!(request.headers().len(), req.headers.len());
    assert_eq!(header_values(req.headers, "host").len(), 1);
    assert!(lists(req.headers, "upgrade", "websocket"));
    assert!(lists(req.headers, "connection", "upgrade"));
    assert_eq!(header_values(req.headers, "sec-websocket-version"), [b"13"]);
    let keys = header_values(req.headers, "sec-websocket-key");
    let [key] = keys[..] else {
        panic!("accepted {} keys", keys.len());
    };
    assert!(is_key(key), "accepted the key {key:?}");
    let accept = accept_key(key);
    assert_eq!(upgrade.accept_key(), accept);
    assert_eq!(
        request
            .headers()
            .get("sec-websocket-key")
            .map(HeaderValue::as_bytes),
        Some(key)
    );

    let response = wire(&upgrade.accept(None, HeaderMap::new()).expect("a plain 101"));
    let (status, fields, body) = parse_response(&response);
    assert_eq!(status, 101);
    assert!(body.is_empty(), "bytes after the 101 head");
    assert_eq!(field(&fields, "sec-websocket-accept"), [accept.as_bytes()]);
    assert!(field(&fields, "upgrade")[0].eq_ignore_ascii_case(b"websocket"));
    assert!(field(&fields, "connection")[0].eq_ignore_ascii_case(b"upgrade"));
    assert!(field(&fields, "sec-websocket-protocol").is_empty());

    for offered in upgrade.protocols() {
        assert!(!offered.is_empty() && offered.bytes().all(|b| b.is_ascii_graphic()));
        assert!(!offered.contains(','));
    }
    if let Some(first) = upgrade.protocols().first() {
        let mut extra = HeaderMap::new();
        extra.insert("x-extra", HeaderValue::from_static("value"));
        let response = wire(
            &upgrade
                .accept(Some(first), extra)
                .expect("an offered protocol"),
        );
        let (status, fields, _) = parse_response(&response);
        assert_eq!(status, 101);
        assert_eq!(field(&fields, "sec-websocket-protocol"), [first.as_bytes()]);
        assert_eq!(field(&fields, "x-extra"), [b"value"]);
    }
    assert!(upgrade
        .accept(Some("not a token"), HeaderMap::new())
        .is_err());
    assert!(HeaderValue::from_str("a\r\nInjected: 1").is_err());
}

/// Checks a refusal: the response, and that the error fits the bytes.
fn check_refusal(error: &HandshakeError, seen: &[u8], limits: &Limits) {
    let response = error.response();
    let (status, fields, body) = parse_response(&response);
    assert_eq!(status, error.status());
    assert!(matches!(status, 400 | 405 | 426 | 431), "status {status}");
    let length = field(&fields, "content-length");
    assert_eq!(length, [body.len().to_string().as_bytes()]);
    assert_eq!(field(&fields, "connection"), [b"close"]);
    match error {
        HandshakeError::HeadTooLarge(max) => {
            assert_eq!(*max, limits.max_head_size);
            assert!(request_head_end(seen).is_none_or(|end| end > *max));
            assert!(seen.len() >= *max);
        }
        HandshakeError::MethodNotGet(method) => {
            assert_ne!(method, "GET");
            // httparse skips empty lines before the request line.
            let m = method.as_bytes();
            assert!(!m.is_empty() && seen.windows(m.len()).any(|w| w == m));
        }
        HandshakeError::Malformed
            if request_head_end(seen).is_none_or(|end| end > limits.max_head_size) =>
        {
            // Refused before its head was whole: its method (before the
            // first space, after empty lines, within the head limit) can
            // no longer be a token.
            let start = seen
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            assert!(
                !common::method_is_token_so_far(&seen[start..], limits.max_head_size),
                "refused a partial head: {seen:?}"
            );
        }
        _ => {
            let end = request_head_end(seen).expect("refused a partial head");
            assert!(end <= limits.max_head_size);
        }
    }
}

/// The `ws_server_handshake` target.
pub fn run_server(data: &[u8]) {
    let [setup, chunking, input @ ..] = data else {
        return;
    };
    let limits = limits(*setup);
    let mut handshake = ServerHandshake::new(limits);
    let pieces = common::split(*chunking, input);
    let mut fed = 0;
    for (i, piece) in pieces.iter().enumerate() {
        assert_eq!(
            handshake.receive_capacity(),
            (limits.max_head_size + 4096).saturating_sub(fed)
        );
        handshake.receive(piece);
        fed += piece.len();
        let seen = &input[..fed];
        match handshake.poll_request() {
            Ok(None) => {
                assert!(request_head_end(seen).is_none(), "a complete head not seen");
                assert!(seen.len() < limits.max_head_size, "a head over the limit");
                continue;
            }
            Ok(Some(upgrade)) => check_upgrade(&upgrade, seen, &limits),
            Err(error) => check_refusal(&error, seen, &limits),
        }
        // The handshake is over; using it again must not panic.
        let _ = handshake.poll_request();
        for piece in &pieces[i + 1..] {
            handshake.receive(piece);
            let _ = handshake.poll_request();
        }
        return;
    }
}

/// The request of the `ws_client_handshake` target.
pub fn client_request() -> ClientRequest {
    ClientRequest::new("example.com", "/chat")
        .protocol("chat")
        .protocol("superchat")
        .header("Origin", "http://example.com")
}

/// The `ws_client_handshake` target: the bytes are the server's answer to a
/// fixed request (RFC 6455 §1.3's key, subprotocols `chat` and `superchat`).
pub fn run_client(data: &[u8]) {
    let [setup, chunking, input @ ..] = data else {
        return;
    };
    let limits = limits(*setup);
    let mut handshake =
        ClientHandshake::new(&client_request(), CLIENT_KEY, limits).expect("a valid request");
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    let parsed = req.parse(handshake.request());
    assert_eq!(
        parsed,
        Ok(httparse::Status::Complete(handshake.request().len()))
    );
    assert_eq!(
        header_values(req.headers, "sec-websocket-key"),
        [b"dGhlIHNhbXBsZSBub25jZQ=="]
    );

    let pieces = common::split(*chunking, input);
    let mut fed = 0;
    for (i, piece) in pieces.iter().enumerate() {
        handshake.receive(piece);
        fed += piece.len();
        let seen = &input[..fed];
        let result = handshake.poll_response();
        if result == Ok(None) {
            assert!(common::head_end(seen).is_none(), "a complete head not seen");
            assert!(seen.len() < limits.max_head_size, "a head over the limit");
            continue;
        }
        let end = common::head_end(seen);
        let mut headers = vec![httparse::EMPTY_HEADER; limits.max_headers];
        let mut res = httparse::Response::new(&mut headers);
        let parsed = end.map(|end| res.parse(&seen[..end]));
        match result {
            Ok(Some(response)) => {
                let end = end.expect("accepted without a blank line");
                assert!(end <= limits.max_head_size);
                let Some(Ok(httparse::Status::Complete(n))) = parsed else {
                    panic!("accepted a head that httparse rejects");
                };
                assert_eq!(res.code, Some(101));
                assert_eq!(res.version, Some(1));
                assert_eq!(&response.trailing[..], &seen[n..], "wrong trailing bytes");
                assert_eq!(
                    header_values(res.headers, "sec-websocket-accept"),
                    [CLIENT_ACCEPT.as_bytes()]
                );
                assert!(lists(res.headers, "upgrade", "websocket"));
                assert!(lists(res.headers, "connection", "upgrade"));
                assert!(matches!(
                    response.protocol.as_deref(),
                    None | Some("chat" | "superchat")
                ));
                assert_eq!(response.headers.len(), res.headers.len());
            }
            Err(ResponseError::HeadTooLarge(max)) => {
                assert_eq!(max, limits.max_head_size);
                assert!(seen.len() >= max);
                assert!(end.is_none_or(|end| end > max));
            }
            Err(ResponseError::Status(code)) => {
                assert_ne!(code, 101);
                assert!(matches!(parsed, Some(Ok(httparse::Status::Complete(_)))));
                assert_eq!(res.code, Some(code));
            }
            Err(_) => assert!(end.is_some_and(|end| end <= limits.max_head_size)),
            Ok(None) => unreachable!("handled above"),
        }
        // The handshake is over; using it again must not panic.
        let _ = handshake.poll_response();
        for piece in &pieces[i + 1..] {
            handshake.receive(piece);
            let _ = handshake.poll_response();
        }
        return;
    }
}
