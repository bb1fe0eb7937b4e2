//! The opening handshake (RFC 6455 §4): the server's validation of requests
//! and its exact answers, the client's exact request and its validation of
//! answers, byte-at-a-time feeding, the bytes that follow a head, and the
//! two ends against each other.

mod common;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Response, Version};
use http_proto::{BodyKind, Exchange};
use ws_proto::handshake::{
    AcceptError, ClientHandshake, ClientRequest, HandshakeError, InvalidRequest, Limits,
    ResponseError, ServerHandshake, UpgradeRequest,
};
use ws_proto::{Connection, Event, Message, WebSocketConfig};

use common::{Outcome, Pair};

/// The nonce of RFC 6455 §1.3, whose base64 is `dGhlIHNhbXBsZSBub25jZQ==`.
const NONCE: [u8; 16] = *b"the sample nonce";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The fields, in order.
fn fields(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// An answer as `http-proto` writes it: the 101 head, or the refusal.
fn wire(answer: Result<Response<()>, AcceptError>) -> Result<Vec<u8>, AcceptError> {
    let res = answer?;
    let mut out = BytesMut::new();
    http_proto::encode_response(&res, BodyKind::None, Exchange::default(), &mut out).unwrap();
    Ok(out.to_vec())
}

/// The first value of the header `name` of the upgrade's request.
fn header<'a>(upgrade: &'a UpgradeRequest, name: &str) -> Option<&'a [u8]> {
    upgrade
        .request()
        .headers()
        .get(name)
        .map(HeaderValue::as_bytes)
}

/// A head: the start line, the header fields, the blank line.
fn head(start: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("{start}\r\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

const VALID: [(&str, &str); 5] = [
    ("Host", "server.example.com"),
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ("Sec-WebSocket-Version", "13"),
];

/// A valid request with the field `name` replaced by `value` (or removed,
/// if `value` is `None`).
fn request_with(name: &str, value: Option<&str>) -> Vec<u8> {
    let mut headers: Vec<(&str, &str)> =
        VALID.iter().copied().filter(|(n, _)| *n != name).collect();
    if let Some(value) = value {
        headers.push((name, value));
    }
    head("GET /chat HTTP/1.1", &headers)
}

fn request_plus(extra: &[(&str, &str)]) -> Vec<u8> {
    head("GET /chat HTTP/1.1", &[&VALID[..], extra].concat())
}

type ServerResult = Result<Option<UpgradeRequest>, HandshakeError>;

/// Feeds `bytes` whole.
fn server_whole(limits: Limits, bytes: &[u8]) -> ServerResult {
    let mut hs = ServerHandshake::new(limits);
    hs.receive(bytes);
    hs.poll_request()
}

/// Feeds `bytes` a byte at a time, polling after each; every poll before the
/// one that decides must say "not yet".
fn server_bytewise(limits: Limits, bytes: &[u8]) -> ServerResult {
    let mut hs = ServerHandshake::new(limits);
    for (i, b) in bytes.iter().enumerate() {
        hs.receive(&[*b]);
        match hs.poll_request() {
            Ok(None) => {}
            decided => {
                assert!(
                    i == bytes.len() - 1 || decided.is_err(),
                    "accepted at byte {i} of {}",
                    bytes.len()
                );
                return decided;
            }
        }
    }
    Ok(None)
}

/// The result of feeding `bytes` to a server, the same whole and a byte at
/// a time.
fn server_result(limits: Limits, bytes: &[u8]) -> ServerResult {
    let whole = server_whole(limits, bytes);
    let mut bytewise = server_bytewise(limits, bytes);
    // A request fed whole keeps no trailing bytes when there are none.
    if let (Ok(Some(w)), Ok(Some(b))) = (&whole, &mut bytewise) {
        assert_eq!(w.trailing(), b.trailing());
    }
    assert_eq!(whole, bytewise);
    whole
}

fn accepted(bytes: &[u8]) -> UpgradeRequest {
    server_result(Limits::default(), bytes)
        .expect("valid")
        .expect("complete")
}

// ---- server: accepting ----------------------------------------------------

#[test]
fn a_valid_request_gets_the_exact_101() {
    let upgrade = accepted(&request_plus(&[]));
    assert_eq!(upgrade.request().method(), "GET");
    assert_eq!(upgrade.request().uri(), "/chat");
    assert_eq!(upgrade.request().version(), Version::HTTP_11);
    assert_eq!(header(&upgrade, "host"), Some(&b"server.example.com"[..]));
    assert_eq!(upgrade.accept_key(), ACCEPT);
    assert!(upgrade.protocols().is_empty());
    assert!(upgrade.trailing().is_empty());
    assert_eq!(
        String::from_utf8(wire(upgrade.accept(None, HeaderMap::new())).unwrap()).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         \r\n"
    );
}

#[test]
fn the_chosen_subprotocol_and_extra_headers_are_in_the_101() {
    let upgrade = accepted(&request_plus(&[
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("Sec-WebSocket-Protocol", "v2.json"),
    ]));
    assert_eq!(upgrade.protocols(), ["chat", "superchat", "v2.json"]);
    assert_eq!(
        String::from_utf8(
            wire(upgrade.accept(Some("superchat"), fields(&[("Set-Cookie", "id=1")]))).unwrap()
        )
        .unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
         Sec-WebSocket-Protocol: superchat\r\n\
         Set-Cookie: id=1\r\n\
         \r\n"
    );
}

#[test]
fn only_an_offered_subprotocol_can_be_chosen() {
    let none_offered = accepted(&request_plus(&[]));
    assert_eq!(
        wire(none_offered.accept(Some("chat"), HeaderMap::new())),
        Err(AcceptError::ProtocolNotOffered("chat".into()))
    );
    let offered = accepted(&request_plus(&[("Sec-WebSocket-Protocol", "chat")]));
    assert_eq!(
        wire(offered.accept(Some("Chat"), HeaderMap::new())),
        Err(AcceptError::ProtocolNotOffered("Chat".into()))
    );
    assert!(wire(offered.accept(Some("chat"), HeaderMap::new())).is_ok());
}

#[test]
fn extra_headers_cannot_inject_fields() {
    // The `http` crate's types refuse them before they reach `accept`.
    assert!(HeaderName::from_bytes(b"Bad Name").is_err());
    assert!(HeaderValue::from_str("a\r\nSet-Cookie: evil").is_err());
}

#[test]
fn token_lists_and_header_names_are_case_insensitive() {
    let bytes = head(
        "GET / HTTP/1.1",
        &[
            ("host", "a"),
            ("UPGRADE", "WebSocket"),
            ("connection", "keep-alive, Upgrade"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-Websocket-Version", "13"),
        ],
    );
    assert_eq!(accepted(&bytes).accept_key(), ACCEPT);
}

#[test]
fn connection_tokens_may_span_fields_and_lack_spaces() {
    for connection in [
        &[("Connection", "keep-alive,upgrade")][..],
        &[("Connection", "keep-alive"), ("Connection", "UPGRADE")][..],
        &[("Connection", " , Upgrade ,")][..],
    ] {
        let mut headers: Vec<(&str, &str)> = VALID
            .iter()
            .copied()
            .filter(|(n, _)| *n != "Connection")
            .collect();
        headers.extend_from_slice(connection);
        accepted(&head("GET / HTTP/1.1", &headers));
    }
}

#[test]
fn bytes_after_the_head_are_handed_on() {
    // A masked "Hello" (RFC 6455 §5.7) right behind the request.
    let frame = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let bytes = [request_plus(&[]), frame.to_vec()].concat();
    let upgrade = server_whole(Limits::default(), &bytes).unwrap().unwrap();
    assert_eq!(upgrade.trailing(), &frame[..]);
    let mut conn = Connection::server(WebSocketConfig::default());
    let got = common::feed(&mut conn, [&upgrade.trailing()[..]]);
    assert_eq!(
        got,
        Outcome::ok(vec![Event::Message(Message::from("Hello"))])
    );
}

#[test]
fn bytes_after_the_head_arriving_in_pieces_are_kept() {
    let bytes = [request_plus(&[]), b"abc".to_vec()].concat();
    let mut hs = ServerHandshake::new(Limits::default());
    let (a, b) = bytes.split_at(bytes.len() - 1);
    hs.receive(a);
    hs.receive(b);
    assert_eq!(hs.poll_request().unwrap().unwrap().trailing(), &b"abc"[..]);
}

#[test]
fn a_head_of_exactly_max_head_size_is_accepted() {
    let bytes = request_plus(&[]);
    let limits = Limits::default().max_head_size(bytes.len());
    assert!(server_result(limits, &bytes).unwrap().is_some());
}

#[test]
fn a_head_with_max_headers_fields_is_accepted() {
    let limits = Limits::default().max_headers(VALID.len());
    assert!(server_result(limits, &request_plus(&[])).unwrap().is_some());
}

#[test]
fn every_value_of_a_repeated_header_can_be_read() {
    let upgrade = accepted(&request_plus(&[
        ("X-Tag", "one"),
        ("Origin", "http://example.com"),
        ("x-tag", "two, three"),
    ]));
    let headers = upgrade.request().headers();
    let tags: Vec<&[u8]> = headers
        .get_all("X-TAG")
        .iter()
        .map(HeaderValue::as_bytes)
        .collect();
    assert_eq!(tags, [&b"one"[..], &b"two, three"[..]]);
    assert_eq!(header(&upgrade, "x-tag"), Some(&b"one"[..]));
    assert_eq!(headers.get_all("X-Missing").iter().count(), 0);
}

// ---- server: refusing -----------------------------------------------------

/// Checks the refusal of `bytes` (whole and byte at a time): the error, its
/// status, and a response with that status, a correct Content-Length and
/// `Connection: close`.
fn refused(limits: Limits, bytes: &[u8], error: &HandshakeError, status: u16) -> String {
    assert_eq!(server_result(limits, bytes), Err(error.clone()));
    assert_eq!(error.status(), status);
    let response = String::from_utf8(error.response()).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    let reason = match status {
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Bad Request",
    };
    assert!(
        head.starts_with(&format!("HTTP/1.1 {status} {reason}\r\n")),
        "{response}"
    );
    assert!(head.contains("\r\nConnection: close"), "{response}");
    assert!(
        head.contains(&format!("\r\nContent-Length: {}", body.len())),
        "{response}"
    );
    assert_eq!(body, error.to_string());
    response
}

/// One test per row: `name: request bytes => error, status;`.
macro_rules! refusals {
    ($($name:ident: $bytes:expr => $error:expr, $status:expr;)*) => {
        $(
            #[test]
            fn $name() {
                refused(Limits::default(), &$bytes, &$error, $status);
            }
        )*
    };
}

refusals! {
    not_http: b"HELLO\r\n\r\n"[..] => HandshakeError::Malformed, 400;
    header_without_a_colon: head("GET / HTTP/1.1", &[("Host a", "")]).iter()
        .copied().filter(|&b| b != b':').collect::<Vec<u8>>() => HandshakeError::Malformed, 400;
    http_1_0: head("GET /chat HTTP/1.0", &VALID) => HandshakeError::HttpVersion, 400;
    missing_host: request_with("Host", None) => HandshakeError::Host, 400;
    two_hosts: request_plus(&[("Host", "other")]) => HandshakeError::Host, 400;
    missing_upgrade: request_with("Upgrade", None) => HandshakeError::Upgrade, 400;
    upgrade_to_something_else: request_with("Upgrade", Some("h2c")) => HandshakeError::Upgrade, 400;
    upgrade_token_prefix_only: request_with("Upgrade", Some("websocketx")) => HandshakeError::Upgrade, 400;
    missing_connection: request_with("Connection", None) => HandshakeError::Connection, 400;
    connection_without_upgrade: request_with("Connection", Some("keep-alive")) =>
        HandshakeError::Connection, 400;
    missing_key: request_with("Sec-WebSocket-Key", None) => HandshakeError::Key, 400;
    duplicate_keys: request_plus(&[("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")]) =>
        HandshakeError::Key, 400;
    key_not_base64: request_with("Sec-WebSocket-Key", Some("not base64 at all!!!!!==")) =>
        HandshakeError::Key, 400;
    key_of_15_bytes: request_with("Sec-WebSocket-Key", Some("dGhlIHNhbXBsZSBub25j")) =>
        HandshakeError::Key, 400;
    key_of_17_bytes: request_with("Sec-WebSocket-Key", Some("dGhlIHNhbXBsZSBub25jZXM=")) =>
        HandshakeError::Key, 400;
    key_without_padding: request_with("Sec-WebSocket-Key", Some("dGhlIHNhbXBsZSBub25jZQ")) =>
        HandshakeError::Key, 400;
    subprotocol_not_a_token: request_plus(&[("Sec-WebSocket-Protocol", "chat, (bad)")]) =>
        HandshakeError::Protocol, 400;
}

#[test]
fn a_method_other_than_get_is_405_with_allow_get() {
    let response = refused(
        Limits::default(),
        &head("POST /chat HTTP/1.1", &VALID),
        &HandshakeError::MethodNotGet("POST".into()),
        405,
    );
    assert!(response.starts_with("HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"));
}

#[test]
fn a_missing_version_is_426_with_the_supported_version() {
    let response = refused(
        Limits::default(),
        &request_with("Sec-WebSocket-Version", None),
        &HandshakeError::Version,
        426,
    );
    assert_eq!(
        response,
        "HTTP/1.1 426 Upgrade Required\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Upgrade: websocket\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Length: 32\r\n\
         Connection: close\r\n\
         \r\n\
         Sec-WebSocket-Version must be 13"
    );
}

#[test]
fn another_version_is_426() {
    for version in ["8", "14", "13, 8", ""] {
        refused(
            Limits::default(),
            &request_with("Sec-WebSocket-Version", Some(version)),
            &HandshakeError::Version,
            426,
        );
    }
}

#[test]
fn a_partial_head_over_max_head_size_is_431() {
    let limits = Limits::default().max_head_size(64);
    let partial = &request_plus(&[])[..65];
    // `max_head_size` bytes without the end of the head are refused: the
    // head cannot fit.
    assert_eq!(server_whole(limits, &partial[..63]), Ok(None));
    refused(limits, partial, &HandshakeError::HeadTooLarge(64), 431);
}

#[test]
fn a_complete_head_over_max_head_size_is_431() {
    let bytes = request_plus(&[]);
    let limits = Limits::default().max_head_size(bytes.len() - 1);
    let error = HandshakeError::HeadTooLarge(bytes.len() - 1);
    // Whole: the head is complete but too large.
    assert_eq!(server_whole(limits, &bytes), Err(error.clone()));
    refused(limits, &bytes, &error, 431);
}

#[test]
fn too_many_header_fields_is_431() {
    let limits = Limits::default().max_headers(VALID.len());
    refused(
        limits,
        &request_plus(&[("Origin", "http://example.com")]),
        &HandshakeError::TooManyHeaders,
        431,
    );
}

// ---- client ---------------------------------------------------------------

fn client_request() -> ClientRequest {
    ClientRequest::new("server.example.com", "/chat?room=1")
}

fn client_handshake(request: &ClientRequest) -> ClientHandshake {
    ClientHandshake::new(request, NONCE, Limits::default()).unwrap()
}

#[test]
fn the_client_request_is_exact() {
    let hs = client_handshake(&client_request());
    assert_eq!(
        String::from_utf8(hs.request().to_vec()).unwrap(),
        "GET /chat?room=1 HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         \r\n"
    );
}

#[test]
fn the_client_request_offers_protocols_and_carries_headers() {
    let request = client_request()
        .protocol("chat")
        .protocol("superchat")
        .header("Origin", "http://example.com");
    assert_eq!(
        String::from_utf8(client_handshake(&request).request().to_vec()).unwrap(),
        "GET /chat?room=1 HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: chat, superchat\r\n\
         Origin: http://example.com\r\n\
         \r\n"
    );
}

#[test]
fn a_client_request_that_cannot_be_written_is_refused() {
    let make = |r: &ClientRequest| ClientHandshake::new(r, NONCE, Limits::default()).err();
    assert_eq!(
        make(&ClientRequest::new("", "/")),
        Some(InvalidRequest::Target)
    );
    assert_eq!(
        make(&ClientRequest::new("a", "/a b")),
        Some(InvalidRequest::Target)
    );
    assert_eq!(
        make(&ClientRequest::new("a\r\nX: y", "/")),
        Some(InvalidRequest::Target)
    );
    assert_eq!(
        make(&client_request().protocol("a b")),
        Some(InvalidRequest::Protocol("a b".into()))
    );
    assert_eq!(
        make(&client_request().header("Bad Name", "x")),
        Some(InvalidRequest::Header("Bad Name".into()))
    );
    assert_eq!(
        make(&client_request().header("X-Ok", "a\r\nX-Evil: 1")),
        Some(InvalidRequest::Header("X-Ok".into()))
    );
}

#[test]
fn a_client_request_may_not_carry_the_headers_the_handshake_writes() {
    let make = |r: &ClientRequest| ClientHandshake::new(r, NONCE, Limits::default()).err();
    for name in [
        "Host",
        "Upgrade",
        "connection",
        "Sec-WebSocket-Key",
        "SEC-WEBSOCKET-VERSION",
        "Sec-WebSocket-Protocol",
        "Sec-WebSocket-Extensions",
        "Content-Length",
        "Transfer-Encoding",
    ] {
        assert_eq!(
            make(&client_request().header(name, "x")),
            Some(InvalidRequest::ReservedHeader(name.into())),
            "{name}"
        );
    }
    for name in [
        "Origin",
        "Cookie",
        "Authorization",
        "Sec-WebSocket-Accept-Ish",
    ] {
        assert_eq!(make(&client_request().header(name, "x")), None, "{name}");
    }
}

fn get(uri: &str) -> http::request::Builder {
    http::Request::get(uri)
}

fn from_http(request: http::request::Builder) -> Result<ClientRequest, InvalidRequest> {
    ClientRequest::try_from(&request.body(()).unwrap())
}

/// Host and target from URIs of every shape, the port dropped where it is
/// the scheme's default.
#[test]
fn an_http_request_gives_host_and_target_from_its_uri() {
    for (uri, host, target) in [
        ("ws://example.com", "example.com", "/"),
        ("ws://example.com/", "example.com", "/"),
        ("ws://example.com:80/a", "example.com", "/a"),
        ("WS://example.com:8080/a", "example.com:8080", "/a"),
        ("wss://example.com:443/", "example.com", "/"),
        ("wss://example.com:80/", "example.com:80", "/"),
        ("http://example.com:80/", "example.com", "/"),
        ("https://example.com:443/x", "example.com", "/x"),
        ("ws://example.com?x=1", "example.com", "/?x=1"),
        (
            "ws://127.0.0.1:9002/runCase?case=1&agent=a",
            "127.0.0.1:9002",
            "/runCase?case=1&agent=a",
        ),
        ("ws://[::1]:9001/chat", "[::1]:9001", "/chat"),
        ("wss://[fe80::1]/", "[fe80::1]", "/"),
    ] {
        let request = from_http(get(uri)).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!(
            (request.host.as_str(), request.target.as_str()),
            (host, target),
            "{uri}"
        );
        assert!(
            request.protocols.is_empty() && request.headers.is_empty(),
            "{uri}"
        );
    }
}

#[test]
fn an_http_requests_host_header_wins_over_its_uri() {
    let request = from_http(get("ws://10.0.0.1:8080/x").header("Host", "chat.example")).unwrap();
    assert_eq!(
        (request.host.as_str(), request.target.as_str()),
        ("chat.example", "/x")
    );
    // An origin-form URI needs the header.
    let request = from_http(get("/only/a/path?q").header("host", "example.com:81")).unwrap();
    assert_eq!(
        (request.host.as_str(), request.target.as_str()),
        ("example.com:81", "/only/a/path?q")
    );
    assert!(request.headers.is_empty());
}

/// Subprotocols from every `Sec-WebSocket-Protocol` header in order; the
/// application's headers as they are, in order; the handshake's own bytes
/// around them.
#[test]
fn an_http_request_offers_its_subprotocols_and_carries_its_headers() {
    let request = from_http(
        get("ws://server.example.com/chat?room=1")
            .header("Sec-WebSocket-Protocol", "chat, superchat")
            .header("Cookie", "a=1; b=2")
            .header("Authorization", "Bearer t0k3n")
            .header("sec-websocket-protocol", " ,v1 ")
            .header("Origin", "http://example.com")
            .header("Cookie", "c=3")
            .header("X-Name", "J\u{f6}rg"),
    )
    .unwrap();
    assert_eq!(request.protocols, ["chat", "superchat", "v1"]);
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        headers,
        [
            ("cookie", "a=1; b=2"),
            ("cookie", "c=3"),
            ("authorization", "Bearer t0k3n"),
            ("origin", "http://example.com"),
            ("x-name", "J\u{f6}rg"),
        ]
    );
    assert_eq!(
        String::from_utf8(client_handshake(&request).request().to_vec()).unwrap(),
        "GET /chat?room=1 HTTP/1.1\r\n\
         Host: server.example.com\r\n\
         Upgrade: websocket\r\n\
         Connection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: chat, superchat, v1\r\n\
         cookie: a=1; b=2\r\n\
         cookie: c=3\r\n\
         authorization: Bearer t0k3n\r\n\
         origin: http://example.com\r\n\
         x-name: J\u{f6}rg\r\n\
         \r\n"
    );
}

#[test]
fn an_http_request_the_handshake_cannot_send_is_refused() {
    let reserved = |name: &str| Err(InvalidRequest::ReservedHeader(name.into()));
    for name in [
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "content-length",
        "transfer-encoding",
    ] {
        assert_eq!(
            from_http(get("ws://a/").header(name, "x")),
            reserved(name),
            "{name}"
        );
    }
    assert_eq!(
        from_http(get("ws://a/").method("POST")),
        Err(InvalidRequest::Method(http::Method::POST))
    );
    assert_eq!(
        from_http(get("ws://a/").version(http::Version::HTTP_2)),
        Err(InvalidRequest::Version(http::Version::HTTP_2))
    );
    assert_eq!(from_http(get("/no/host")), Err(InvalidRequest::Target));
    assert_eq!(
        from_http(get("ws://user:pw@a/")),
        Err(InvalidRequest::Target)
    );
    assert_eq!(
        from_http(get("ws://a/").header("Host", "a").header("Host", "b")),
        Err(InvalidRequest::Target)
    );
    let latin1 = http::HeaderValue::from_bytes(b"caf\xe9").unwrap();
    assert_eq!(
        from_http(get("ws://a/").header("X-Name", latin1)),
        Err(InvalidRequest::Header("x-name".into()))
    );
    // A subprotocol that is not a token passes the conversion and is
    // refused where every request's are.
    let request = from_http(get("ws://a/").header("Sec-WebSocket-Protocol", "a b")).unwrap();
    assert_eq!(
        ClientHandshake::new(&request, NONCE, Limits::default()).err(),
        Some(InvalidRequest::Protocol("a b".into()))
    );
}

const ANSWER: [(&str, &str); 3] = [
    ("Upgrade", "websocket"),
    ("Connection", "Upgrade"),
    ("Sec-WebSocket-Accept", ACCEPT),
];

fn answer_with(name: &str, value: Option<&str>) -> Vec<u8> {
    let mut headers: Vec<(&str, &str)> =
        ANSWER.iter().copied().filter(|(n, _)| *n != name).collect();
    if let Some(value) = value {
        headers.push((name, value));
    }
    head("HTTP/1.1 101 Switching Protocols", &headers)
}

fn answer_plus(extra: &[(&str, &str)]) -> Vec<u8> {
    head(
        "HTTP/1.1 101 Switching Protocols",
        &[&ANSWER[..], extra].concat(),
    )
}

type ClientResult = Result<Option<ws_proto::handshake::Response>, ResponseError>;

/// Feeds `bytes` to a client that offered `request`, whole and a byte at a
/// time, and checks both agree.
fn client_result(request: &ClientRequest, limits: Limits, bytes: &[u8]) -> ClientResult {
    let mut whole = ClientHandshake::new(request, NONCE, limits).unwrap();
    whole.receive(bytes);
    let whole = whole.poll_response();

    let mut hs = ClientHandshake::new(request, NONCE, limits).unwrap();
    let mut bytewise = Ok(None);
    for (i, b) in bytes.iter().enumerate() {
        hs.receive(&[*b]);
        bytewise = hs.poll_response();
        if !matches!(bytewise, Ok(None)) {
            assert!(
                i == bytes.len() - 1 || bytewise.is_err(),
                "accepted at byte {i}"
            );
            break;
        }
    }
    assert_eq!(whole, bytewise);
    whole
}

fn answer_result(bytes: &[u8]) -> ClientResult {
    client_result(&client_request(), Limits::default(), bytes)
}

#[test]
fn a_valid_answer_is_accepted() {
    let response = answer_result(&answer_plus(&[])).unwrap().unwrap();
    assert_eq!(response.protocol, None);
    assert!(response.trailing.is_empty());
    assert_eq!(response.headers.len(), 3);
    let (name, value) = response.headers.iter().nth(2).unwrap();
    // The `http` crate keeps names in lowercase.
    assert_eq!(name, "sec-websocket-accept");
    assert_eq!(value.as_bytes(), ACCEPT.as_bytes());
}

#[test]
fn the_answer_is_read_case_insensitively() {
    let bytes = head(
        "HTTP/1.1 101 Switching Protocols",
        &[
            ("upgrade", "WebSocket"),
            ("CONNECTION", "upgrade"),
            ("sec-websocket-accept", ACCEPT),
        ],
    );
    assert!(answer_result(&bytes).unwrap().is_some());
}

#[test]
fn the_selected_subprotocol_is_reported() {
    let request = client_request().protocol("chat").protocol("superchat");
    let bytes = answer_plus(&[("Sec-WebSocket-Protocol", "superchat")]);
    let response = client_result(&request, Limits::default(), &bytes)
        .unwrap()
        .unwrap();
    assert_eq!(response.protocol.as_deref(), Some("superchat"));
}

#[test]
fn bytes_after_the_answer_are_handed_on() {
    let frame = [0x81, 0x05, b'H', b'e', b'l', b'l', b'o'];
    let bytes = [answer_plus(&[]), frame.to_vec()].concat();
    let mut hs = client_handshake(&client_request());
    hs.receive(&bytes);
    let response = hs.poll_response().unwrap().unwrap();
    assert_eq!(response.trailing, Bytes::copy_from_slice(&frame));
}

/// One test per row: `name: request, answer bytes => error;`.
macro_rules! bad_answers {
    ($($name:ident: $request:expr, $bytes:expr => $error:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_eq!(
                    client_result(&$request, Limits::default(), &$bytes),
                    Err($error)
                );
            }
        )*
    };
}

bad_answers! {
    answer_not_http: client_request(), b"SSH-2.0-OpenSSH\r\n\r\n"[..] => ResponseError::Malformed;
    answer_http_1_0: client_request(),
        head("HTTP/1.0 101 Switching Protocols", &ANSWER) => ResponseError::Malformed;
    answer_200: client_request(), head("HTTP/1.1 200 OK", &[("Content-Length", "0")]) =>
        ResponseError::Status(200);
    answer_403: client_request(), head("HTTP/1.1 403 Forbidden", &ANSWER) =>
        ResponseError::Status(403);
    answer_426: client_request(),
        head("HTTP/1.1 426 Upgrade Required", &[("Sec-WebSocket-Version", "13")]) =>
        ResponseError::Status(426);
    answer_without_upgrade: client_request(), answer_with("Upgrade", None) => ResponseError::Upgrade;
    answer_upgrading_elsewhere: client_request(), answer_with("Upgrade", Some("h2c")) =>
        ResponseError::Upgrade;
    answer_without_connection: client_request(), answer_with("Connection", None) =>
        ResponseError::Connection;
    answer_without_accept: client_request(), answer_with("Sec-WebSocket-Accept", None) =>
        ResponseError::Accept;
    answer_with_a_wrong_accept: client_request(),
        answer_with("Sec-WebSocket-Accept", Some("S3pPLMBiTxaQ9kYGzzhZRbK+xOo=")) =>
        ResponseError::Accept;
    answer_with_two_accepts: client_request(), answer_plus(&[("Sec-WebSocket-Accept", ACCEPT)]) =>
        ResponseError::Accept;
    answer_selecting_an_unoffered_protocol: client_request().protocol("chat"),
        answer_plus(&[("Sec-WebSocket-Protocol", "superchat")]) => ResponseError::Protocol;
    answer_selecting_a_protocol_when_none_was_offered: client_request(),
        answer_plus(&[("Sec-WebSocket-Protocol", "chat")]) => ResponseError::Protocol;
    answer_selecting_two_protocols: client_request().protocol("chat").protocol("superchat"),
        answer_plus(&[("Sec-WebSocket-Protocol", "chat, superchat")]) => ResponseError::Protocol;
    answer_selecting_an_extension: client_request(),
        answer_plus(&[("Sec-WebSocket-Extensions", "permessage-deflate")]) =>
        ResponseError::Extension;
}

#[test]
fn an_answer_over_max_head_size_is_refused_partial_or_complete() {
    let bytes = answer_plus(&[]);
    let max = bytes.len() - 1;
    let limits = Limits::default().max_head_size(max);
    assert_eq!(
        client_result(&client_request(), limits, &bytes),
        Err(ResponseError::HeadTooLarge(max))
    );
    let limits = Limits::default().max_head_size(32);
    assert_eq!(
        client_result(&client_request(), limits, &bytes[..33]),
        Err(ResponseError::HeadTooLarge(32))
    );
    // `max_head_size` bytes without the end of the head are refused: the
    // head cannot fit.
    assert_eq!(
        client_result(&client_request(), limits, &bytes[..31]),
        Ok(None)
    );
}

#[test]
fn an_answer_of_exactly_max_head_size_is_accepted() {
    let bytes = answer_plus(&[]);
    let limits = Limits::default().max_head_size(bytes.len());
    assert!(client_result(&client_request(), limits, &bytes)
        .unwrap()
        .is_some());
}

/// The client reads at most the head limit plus 4 KiB of the frames that
/// may follow it, less what it holds.
#[test]
fn the_clients_receive_capacity_is_the_head_limit_plus_4_kib_less_what_it_holds() {
    let limits = Limits::default().max_head_size(100);
    let mut hs = ClientHandshake::new(&client_request(), NONCE, limits).unwrap();
    assert_eq!(hs.receive_capacity(), 4196);
    hs.receive(&[b'H'; 96]);
    assert_eq!(hs.receive_capacity(), 4100);
    hs.receive(&[b'H'; 5000]);
    assert_eq!(hs.receive_capacity(), 0);
}

#[test]
fn an_answer_with_too_many_fields_is_refused() {
    let limits = Limits::default().max_headers(3);
    assert!(client_result(&client_request(), limits, &answer_plus(&[]))
        .unwrap()
        .is_some());
    assert_eq!(
        client_result(&client_request(), limits, &answer_plus(&[("Server", "x")])),
        Err(ResponseError::TooManyHeaders)
    );
}

// ---- end to end -----------------------------------------------------------

#[test]
fn client_and_server_handshake_then_talk() {
    let request = client_request().protocol("chat").protocol("superchat");
    let mut client_hs = ClientHandshake::new(&request, NONCE, Limits::default()).unwrap();

    let mut pair = Pair::new();
    pair.client = common::client();
    // The client sends a frame right behind its request.
    pair.client.send_text("early client").unwrap();
    let client_wire = [client_hs.request(), &common::transmit(&mut pair.client)].concat();

    let mut server_hs = ServerHandshake::new(Limits::default());
    server_hs.receive(&client_wire);
    let upgrade = server_hs.poll_request().unwrap().unwrap();
    assert_eq!(upgrade.protocols(), ["chat", "superchat"]);
    let answer = wire(upgrade.accept(Some("superchat"), HeaderMap::new())).unwrap();
    pair.server.receive(upgrade.trailing());
    common::drain_events(&mut pair.server, &mut pair.server_got);
    // And the server answers with a frame right behind its 101.
    pair.server.send_text("early server").unwrap();
    let server_wire = [answer, common::transmit(&mut pair.server)].concat();

    client_hs.receive(&server_wire);
    let response = client_hs.poll_response().unwrap().unwrap();
    assert_eq!(response.protocol.as_deref(), Some("superchat"));
    pair.client.receive(&response.trailing);
    common::drain_events(&mut pair.client, &mut pair.client_got);

    pair.client.send_binary(b"later").unwrap();
    pair.server.ping(b"p").unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events(),
        [
            Event::Message(Message::from("early client")),
            Event::Message(Message::Binary(Bytes::from_static(b"later"))),
            Event::Pong(Bytes::from_static(b"p")),
        ]
    );
    assert_eq!(
        pair.client_events(),
        [
            Event::Message(Message::from("early server")),
            Event::Ping(Bytes::from_static(b"p")),
        ]
    );
}

// ---- Debug ----------------------------------------------------------------

/// The upgrade request, the client's handshake and the server's response
/// show header values as text where they are UTF-8, as bytes where they
/// are not, and the client's request as the text it is.
#[test]
fn debug_shows_header_values_as_text() {
    let mut bytes = request_plus(&[("X-Name", "J\u{f6}rg")]);
    let end = bytes.len() - 2;
    bytes.splice(end..end, b"X-Raw: a\xffb\r\n".iter().copied());
    let upgrade = accepted(&bytes);
    assert_eq!(
        format!("{upgrade:?}"),
        format!(
            "UpgradeRequest {{ request: Request {{ method: GET, uri: /chat, version: HTTP/1.1, \
             headers: {{\"host\": \"server.example.com\", \"upgrade\": \"websocket\", \
             \"connection\": \"Upgrade\", \"sec-websocket-key\": \"dGhlIHNhbXBsZSBub25jZQ==\", \
             \"sec-websocket-version\": \"13\", \"x-name\": \"Jörg\", \"x-raw\": b\"a\\xffb\"}}, .. }}, \
             accept: \"{ACCEPT}\", protocols: [], trailing: b\"\" }}"
        )
    );

    let handshake = client_handshake(&client_request().header("Cookie", "n=J\u{f6}rg"));
    let shown = format!("{handshake:?}");
    assert!(
        shown.contains(r#"request: "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\n"#),
        "{shown}"
    );
    assert!(shown.contains(r"Cookie: n=Jörg\r\n\r\n"), "{shown}");

    let mut answer = answer_plus(&[("Set-Cookie", "n=J\u{f6}rg")]);
    let end = answer.len() - 2;
    answer.splice(end..end, b"X-Raw: a\xffb\r\n".iter().copied());
    answer.extend_from_slice(b"\x81\x02hi");
    let mut handshake = client_handshake(&client_request());
    handshake.receive(&answer);
    let response = handshake.poll_response().unwrap().unwrap();
    assert_eq!(
        format!("{response:?}"),
        format!(
            "Response {{ headers: {{\"upgrade\": \"websocket\", \"connection\": \"Upgrade\", \
             \"sec-websocket-accept\": \"{ACCEPT}\", \"set-cookie\": \"n=Jörg\", \
             \"x-raw\": b\"a\\xffb\"}}, protocol: None, trailing: b\"\\x81\\x02hi\" }}"
        )
    );
}
