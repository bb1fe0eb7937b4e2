//! The ready server over loopback, HTTP side: the greeting, `/info`, the
//! iframe page, 404s, preflights and CORS, allowed origins, error answers,
//! and HTTP/1.1 itself (keep-alive, pipelining, `Expect: 100-continue`,
//! chunked request bodies, HTTP/1.0 streaming). Every byte of the answers
//! is checked where it is deterministic.

#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

use std::time::{Duration, SystemTime};

use adapter_core::server::{Server, Session, SockJsEndpoint, WebSocketEndpoint};
use adapter_core::sockjs_proto::{AllowedOrigins, SockJsConfig};
use adapter_core::ws_proto::frame::OpCode;
use sockway_tests::loopback::{
    serve_options, xhr_streaming_prelude, Head, Response, TestServer, JAVASCRIPT, NO_CACHE,
    ONE_YEAR, TEXT_HTML, TEXT_PLAIN,
};
use sockway_tests::peer::{accept_vectors, client_frame, server_frame};
use sockway_tests::runtime::ServerRuntime;

/// The ready server with timings that never fire during these tests.
fn ready<R: ServerRuntime>() -> TestServer {
    TestServer::ready::<R>(&serve_options(
        Duration::from_secs(30),
        Duration::from_secs(10),
    ))
}

/// The head without its `Expires` line (checked by [`assert_expires`]).
fn without_expires(head: &Head) -> String {
    head.raw
        .split("\r\n")
        .filter(|line| !line.starts_with("Expires: "))
        .collect::<Vec<_>>()
        .join("\r\n")
}

/// `Expires` is a year after now (give or take a minute).
#[track_caller]
fn assert_expires(head: &Head) {
    let expires = httpdate::parse_http_date(head.header("Expires")).expect("an HTTP date");
    #[allow(
        clippy::disallowed_methods,
        reason = "a test compares with the wall clock"
    )]
    let year = SystemTime::now() + Duration::from_secs(31_536_000);
    let off = match expires.duration_since(year) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(
        off < Duration::from_secs(60),
        "Expires {expires:?}, off by {off:?}"
    );
}

/// The body of `/info` without its entropy, and the entropy.
#[track_caller]
fn info_fields(res: &Response) -> (String, u32) {
    let text = res.text();
    let (head, entropy) = text.rsplit_once(",\"entropy\":").expect("an entropy field");
    let entropy = entropy
        .strip_suffix('}')
        .and_then(|e| e.parse().ok())
        .expect("entropy is a u32");
    (format!("{head}}}"), entropy)
}

// ---- the greeting, /info, the iframe page --------------------------------------

async fn greeting_is_welcome_text_with_and_without_slash<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    for path in ["/echo", "/echo/", "/echo/?t=1"] {
        let res = c.get(path).await;
        assert_eq!(
            format!("{}{}", res.head.raw, res.text()),
            format!(
                "HTTP/1.1 200 OK\r\nCache-Control: {ONE_YEAR}\r\nContent-Type: {TEXT_PLAIN}\r\nContent-Length: 19\r\n\r\nWelcome to SockJS!\n"
            ),
            "{path}"
        );
    }
    // Other methods: 405 with Allow, no body.
    let res = c.post("/echo", "").await;
    assert_eq!(
        res.head.raw,
        "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n"
    );
    assert!(res.body.is_empty());
}

async fn info_is_json_without_caching_with_cors_and_fresh_entropy<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let res = c.get("/echo/info").await;
    assert_eq!(
        res.head.raw,
        format!(
            "HTTP/1.1 200 OK\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
            res.body.len()
        )
    );
    let (fields, first) = info_fields(&res);
    assert_eq!(
        fields,
        r#"{"websocket":true,"cookie_needed":false,"origins":["*:*"]}"#
    );
    // With an Origin: echoed, with credentials; entropy new on each call.
    let res = c
        .roundtrip("GET", "/echo/info", &[("Origin", "http://a.test")], b"")
        .await;
    assert_eq!(
        res.head.raw,
        format!(
            "HTTP/1.1 200 OK\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: http://a.test\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
            res.body.len()
        )
    );
    let (_, second) = info_fields(&res);
    let (_, third) = info_fields(&c.get("/echo/info").await);
    assert!(
        first != second || second != third,
        "entropy {first} {second} {third}"
    );
    // The endpoints' options show.
    let (fields, _) = info_fields(&c.get("/cookie_needed_echo/info").await);
    assert_eq!(
        fields,
        r#"{"websocket":true,"cookie_needed":true,"origins":["*:*"]}"#
    );
    let res = c.get("/disabled_websocket_echo/info").await;
    assert_eq!(res.get("Set-Cookie"), None);
    let (fields, _) = info_fields(&res);
    assert_eq!(
        fields,
        r#"{"websocket":false,"cookie_needed":false,"origins":["*:*"]}"#
    );
    // Other methods: 405.
    let res = c.post("/echo/info", "").await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("Allow"), "OPTIONS, GET");
}

/// The iframe page the protocol tests expect.
fn iframe_page(url: &str) -> String {
    // The current form (sockjs-protocol's `IframePage`): the client library,
    // then the bootstrap.
    format!(
        "<!DOCTYPE html>\n<html>\n<head>\n  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n  <script src=\"{url}\"></script>\n  <script>\n    document.domain = document.domain;\n    SockJS.bootstrap_iframe();\n  </script>\n</head>\n<body>\n  <h2>Don't panic!</h2>\n  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>\n</body>\n</html>"
    )
}

async fn iframe_page_is_cached_with_an_etag_and_304_on_a_match<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let res = c.get("/echo/iframe.html").await;
    let etag = res.header("ETag").to_owned();
    assert!(
        etag.len() == 34 && etag.starts_with('"') && etag.ends_with('"'),
        "{etag}"
    );
    assert_eq!(
        without_expires(&res.head),
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {TEXT_HTML}\r\nCache-Control: {ONE_YEAR}\r\nETag: {etag}\r\nContent-Length: {}\r\n\r\n",
            res.body.len()
        )
    );
    assert_expires(&res.head);
    assert_eq!(
        res.text(),
        iframe_page(adapter_core::sockjs_proto::DEFAULT_CLIENT_LIBRARY_URL)
    );
    // Any origin is allowed: no X-Frame-Options.
    assert_eq!(res.get("X-Frame-Options"), None);

    // Every name and query: the same page and tag.
    for path in [
        "/echo/iframe-a.html",
        "/echo/iframe-0.1.2.html?t=1234",
        "/echo/iframe-.html",
    ] {
        let other = c.get(path).await;
        assert_eq!(other.status(), 200, "{path}");
        assert_eq!(other.header("ETag"), etag, "{path}");
        assert_eq!(other.body, res.body, "{path}");
    }

    // The tag matches: 304, no Content-Type, no body, still cacheable.
    let res = c
        .roundtrip("GET", "/echo/iframe.html", &[("If-None-Match", &etag)], b"")
        .await;
    assert_eq!(
        without_expires(&res.head),
        format!("HTTP/1.1 304 Not Modified\r\nCache-Control: {ONE_YEAR}\r\nETag: {etag}\r\n\r\n")
    );
    assert_expires(&res.head);
    // A stale tag: the page again.
    let res = c
        .roundtrip(
            "GET",
            "/echo/iframe.html",
            &[("If-None-Match", "\"stale\"")],
            b"",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("ETag"), etag);
    // Never a cookie, even where the session cookie is needed.
    let res = c
        .roundtrip(
            "GET",
            "/cookie_needed_echo/iframe.html",
            &[("Cookie", "JSESSIONID=abc")],
            b"",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.get("Set-Cookie"), None);
    // The connection is still usable after all that.
    assert_eq!(c.get("/echo").await.text(), "Welcome to SockJS!\n");
}

// ---- 404s -------------------------------------------------------------------------

async fn unknown_paths_are_404<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    // Outside every endpoint: the server's own 404.
    for path in ["/nope", "/echoes", "/ech", "/echo.html", "/favicon.ico"] {
        let res = c.get(path).await;
        assert_eq!(
            res.head.raw,
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n",
            "{path}"
        );
        assert_eq!(res.text(), "Not Found");
    }
    // Inside an endpoint: the SockJS 404.
    for (method, path) in [
        ("GET", "/echo/a"),
        ("GET", "/echo/a/b"),
        ("POST", "/echo/a./b/xhr"),
        ("POST", "/echo/a/b./xhr"),
        ("POST", "//echo/a/b/xhr"),
        ("POST", "/echo/a/b/c/xhr"),
        ("POST", "/echo/a/b/xhr/"),
        ("POST", "/echo/000/s/nope"),
        ("POST", "/echo/000/s/XHR"),
        ("GET", "/echo/iframe.htm"),
        ("GET", "/echo/IFRAME.HTML"),
        ("GET", "/disabled_websocket_echo/000/s/websocket"),
    ] {
        let res = c.roundtrip(method, path, &[], b"").await;
        if path == "//echo/a/b/xhr" {
            // Not under the prefix at all.
            assert_eq!(res.status(), 404, "{path}");
            continue;
        }
        assert_eq!(
            res.head.raw,
            format!(
                "HTTP/1.1 404 Not Found\r\nCache-Control: {NO_CACHE}\r\nContent-Type: {TEXT_PLAIN}\r\nContent-Length: 9\r\n\r\n"
            ),
            "{method} {path}"
        );
    }
    // None of that opened a session.
    assert_eq!(server.handle.sockjs_sessions(), 0);
}

async fn send_to_an_unknown_session_is_404_with_one_cache_control<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let res = c.post("/echo/000/nobody/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 404);
    // The core's error answers go through `text()` (which sets
    // Cache-Control) and then through the transport headers (which set it
    // again).
    assert_eq!(
        res.head.values("Cache-Control"),
        [NO_CACHE],
        "one Cache-Control in\n{}",
        res.head.raw
    );
    assert_eq!(
        res.head.raw,
        format!(
            "HTTP/1.1 404 Not Found\r\nCache-Control: {NO_CACHE}\r\nContent-Type: {TEXT_PLAIN}\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 9\r\n\r\n"
        )
    );
    assert_eq!(server.handle.sockjs_sessions(), 0);
}

// ---- errors -------------------------------------------------------------------------

async fn error_answers_are_exact<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/s/xhr", "").await.text(), "o\n");
    // (path, method, body) -> (status, text, CORS)
    let cases: [(&str, &str, &str, u16, &str, bool); 7] = [
        (
            "POST",
            "/echo/000/s/xhr_send",
            "",
            500,
            "Payload expected.",
            true,
        ),
        (
            "POST",
            "/echo/000/s/xhr_send",
            "[\"x",
            500,
            "Broken JSON encoding.",
            true,
        ),
        (
            "POST",
            "/echo/000/s/jsonp_send",
            "d=",
            500,
            "Payload expected.",
            false,
        ),
        (
            "GET",
            "/echo/000/j/jsonp",
            "",
            500,
            "\"callback\" parameter required",
            false,
        ),
        (
            "GET",
            "/echo/000/j/jsonp?c=a%28",
            "",
            500,
            "invalid \"callback\" parameter",
            false,
        ),
        (
            "GET",
            "/echo/000/h/htmlfile",
            "",
            500,
            "\"callback\" parameter required",
            false,
        ),
        (
            "GET",
            "/echo/000/h/htmlfile?c=*",
            "",
            500,
            "invalid \"callback\" parameter",
            false,
        ),
    ];
    for (method, path, body, status, text, cors) in cases {
        let headers: &[(&str, &str)] = if path.ends_with("jsonp_send") {
            &[("Content-Type", "application/x-www-form-urlencoded")]
        } else {
            &[]
        };
        let res = c.roundtrip(method, path, headers, body.as_bytes()).await;
        let cors = if cors {
            "Access-Control-Allow-Origin: *\r\n"
        } else {
            ""
        };
        assert_eq!(
            res.head.raw,
            format!(
                "HTTP/1.1 {status} Internal Server Error\r\nCache-Control: {NO_CACHE}\r\nContent-Type: {TEXT_PLAIN}\r\n{cors}Content-Length: {}\r\n\r\n",
                text.len()
            ),
            "{method} {path} {body:?}"
        );
        assert_eq!(res.text(), text, "{method} {path} {body:?}");
    }
    // Wrong methods: 405 with Allow, no Content-Type, no body.
    for (method, path, allow) in [
        ("GET", "/echo/000/s/xhr", "OPTIONS, POST"),
        ("GET", "/echo/000/s/xhr_streaming", "OPTIONS, POST"),
        ("PUT", "/echo/000/s/xhr_send", "OPTIONS, POST"),
        ("GET", "/echo/000/s/jsonp_send", "POST"),
        ("POST", "/echo/000/s/eventsource", "GET"),
        ("POST", "/echo/000/s/htmlfile?c=x", "GET"),
        ("POST", "/echo/000/s/jsonp?c=x", "GET"),
        ("POST", "/echo/iframe.html", "GET"),
    ] {
        let res = c.roundtrip(method, path, &[], b"").await;
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(res.header("Allow"), allow, "{method} {path}");
        assert_eq!(res.get("Content-Type"), None, "{method} {path}");
        assert!(res.body.is_empty(), "{method} {path}");
    }
    // The session survived the bad sends.
    let res = c.post("/echo/000/s/xhr_send", r#"["ok"]"#).await;
    assert_eq!(res.status(), 204);
    assert_eq!(c.post("/echo/000/s/xhr", "").await.text(), "a[\"ok\"]\n");
}

// ---- preflights, CORS, origins -----------------------------------------------------

async fn options_preflights_are_204_cached_for_a_year_with_cors<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    for (path, methods) in [
        ("/echo/info", "OPTIONS, GET"),
        ("/echo/000/p/xhr", "OPTIONS, POST"),
        ("/echo/000/p/xhr_streaming", "OPTIONS, POST"),
        ("/echo/000/p/xhr_send", "OPTIONS, POST"),
    ] {
        // Without an Origin: `*`.
        let res = c.roundtrip("OPTIONS", path, &[], b"").await;
        assert_eq!(
            without_expires(&res.head),
            format!(
                "HTTP/1.1 204 No Content\r\nCache-Control: {ONE_YEAR}\r\nAccess-Control-Max-Age: 31536000\r\nAccess-Control-Allow-Methods: {methods}\r\nAccess-Control-Allow-Origin: *\r\n\r\n"
            ),
            "{path}"
        );
        assert_expires(&res.head);
        // With an Origin and requested headers: both echoed.
        let res = c
            .roundtrip(
                "OPTIONS",
                path,
                &[
                    ("Origin", "http://app.test:8080"),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type, x-a"),
                ],
                b"",
            )
            .await;
        assert_eq!(
            without_expires(&res.head),
            format!(
                "HTTP/1.1 204 No Content\r\nCache-Control: {ONE_YEAR}\r\nAccess-Control-Max-Age: 31536000\r\nAccess-Control-Allow-Methods: {methods}\r\nAccess-Control-Allow-Origin: http://app.test:8080\r\nAccess-Control-Allow-Credentials: true\r\nVary: Origin\r\nAccess-Control-Allow-Headers: content-type, x-a\r\n\r\n"
            ),
            "{path}"
        );
        // `null` stays `null`.
        let res = c
            .roundtrip("OPTIONS", path, &[("Origin", "null")], b"")
            .await;
        assert_eq!(res.header("Access-Control-Allow-Origin"), "null");
        assert_eq!(res.header("Access-Control-Allow-Credentials"), "true");
    }
    // A preflight opens nothing.
    assert_eq!(server.handle.sockjs_sessions(), 0);
    // The transports themselves carry CORS on the xhr family only.
    let origin = [("Origin", "http://app.test")];
    let res = c.roundtrip("POST", "/echo/000/c/xhr", &origin, b"").await;
    assert_eq!(res.header("Access-Control-Allow-Origin"), "http://app.test");
    assert_eq!(res.header("Access-Control-Allow-Credentials"), "true");
    let res = c
        .roundtrip("GET", "/echo/000/j/jsonp?c=cb", &origin, b"")
        .await;
    assert_eq!(res.get("Access-Control-Allow-Origin"), None);
}

/// A server whose endpoints take `https://app.example.com` only.
fn restricted<R: ServerRuntime>() -> TestServer {
    let origins = AllowedOrigins::from_list(["https://app.example.com"]);
    let echo = |mut session: Session| async move {
        while let Some(m) = futures_util::StreamExt::next(&mut session).await {
            let _ = session.send(m);
        }
    };
    TestServer::start(
        Server::<R>::builder()
            .sockjs(
                "/app",
                SockJsEndpoint::new(echo).config(
                    SockJsConfig::default()
                        .allowed_origins(origins.clone())
                        .session_cookie_needed(false),
                ),
            )
            .websocket("/ws", WebSocketEndpoint::new(echo).allowed_origins(origins)),
    )
}

/// A SockJS endpoint's 403 for an origin it does not allow: no CORS
/// header grants it anything; `Vary: Origin` says the answer depends on it.
fn forbidden() -> String {
    format!(
        "HTTP/1.1 403 Forbidden\r\nCache-Control: {NO_CACHE}\r\nContent-Type: {TEXT_PLAIN}\r\nVary: Origin\r\nContent-Length: 9\r\n\r\nForbidden"
    )
}

async fn restricted_origins_refuse_other_origins_with_403<R: ServerRuntime>() {
    let server = restricted::<R>();
    let mut c = server.client().await;
    let evil = [("Origin", "https://evil.example.com")];
    for (method, path) in [
        ("GET", "/app/info"),
        ("OPTIONS", "/app/info"),
        ("POST", "/app/000/s/xhr"),
        ("POST", "/app/000/s/xhr_streaming"),
        ("OPTIONS", "/app/000/s/xhr"),
        ("GET", "/app/000/s/eventsource"),
        ("GET", "/app/000/s/jsonp?c=cb"),
    ] {
        let res = c.roundtrip(method, path, &evil, b"").await;
        let raw = format!("{}{}", res.head.raw, res.text());
        assert_eq!(raw, forbidden(), "{method} {path}");
    }
    assert_eq!(server.handle.sockjs_sessions(), 0);
    // The iframe page (and so the iframe transports) is off.
    let res = c.get("/app/iframe.html").await;
    assert_eq!(res.status(), 404);
    // The listed origin passes, with CORS.
    let good = [("Origin", "https://app.example.com")];
    let res = c.roundtrip("POST", "/app/000/s/xhr", &good, b"").await;
    assert_eq!(res.text(), "o\n");
    assert_eq!(
        res.header("Access-Control-Allow-Origin"),
        "https://app.example.com"
    );
    // No Origin at all (not a browser): passes.
    let res = c.post("/app/000/s/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 204);
    assert_eq!(c.post("/app/000/s/xhr", "").await.text(), "a[\"x\"]\n");

    // WebSocket upgrades from another origin: 403, on both kinds.
    for path in ["/app/000/w/websocket", "/app/websocket", "/ws"] {
        let mut c = server.client().await;
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nOrigin: https://evil.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            server.addr
        );
        c.send(head).await;
        let res = c.read_response().await;
        assert_eq!(res.status(), 403, "{path}: {}", res.head.raw);
    }
    assert_eq!(server.handle.sockjs_sessions(), 1);
}

// ---- HTTP/1.1 ----------------------------------------------------------------------

async fn keep_alive_serves_many_requests_on_one_connection<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    for round in 0..3 {
        assert_eq!(c.get("/echo").await.text(), "Welcome to SockJS!\n");
        assert_eq!(c.get("/echo/info").await.status(), 200);
        let session = format!("/echo/000/k{round}");
        let res = c.post(&format!("{session}/xhr"), "").await;
        assert_eq!(res.text(), "o\n");
        assert_eq!(res.get("Connection"), None, "keep-alive is the default");
        let res = c
            .post(&format!("{session}/xhr_send"), &format!("[\"{round}\"]"))
            .await;
        assert_eq!(res.status(), 204);
        let res = c.post(&format!("{session}/xhr"), "").await;
        assert_eq!(res.text(), format!("a[\"{round}\"]\n"));
    }
    // `Connection: close` is honoured: answered, then closed.
    let res = c
        .roundtrip("GET", "/echo", &[("Connection", "close")], b"")
        .await;
    assert_eq!(res.header("Connection"), "close");
    assert_eq!(res.text(), "Welcome to SockJS!\n");
    c.expect_eof().await;
}

async fn pipelined_requests_are_answered_in_order<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let mut burst = Vec::new();
    burst.extend(c.request_bytes("GET", "/echo", &[], b""));
    burst.extend(c.request_bytes("POST", "/echo/000/pp/xhr", &[], b""));
    burst.extend(c.request_bytes("POST", "/echo/000/pp/xhr_send", &[], br#"["a"]"#));
    burst.extend(c.request_bytes("GET", "/echo/info", &[], b""));
    burst.extend(c.request_bytes("POST", "/echo/000/pp/xhr_send", &[], br#"["b"]"#));
    burst.extend(c.request_bytes("GET", "/nope", &[], b""));
    c.send(&burst).await;
    assert_eq!(c.read_response().await.text(), "Welcome to SockJS!\n");
    assert_eq!(c.read_response().await.text(), "o\n");
    assert_eq!(c.read_response().await.status(), 204);
    let info = c.read_response().await;
    assert!(
        info.text().starts_with("{\"websocket\":true"),
        "{}",
        info.text()
    );
    assert_eq!(c.read_response().await.status(), 204);
    assert_eq!(c.read_response().await.status(), 404);
    // Both messages were taken, in order (the echo may still be on its
    // way for the second one).
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let res = c.post("/echo/000/pp/xhr", "").await;
        seen.extend(sockway_tests::loopback::frame_messages(
            res.text().trim_end(),
        ));
    }
    assert_eq!(seen, ["a", "b"]);
}

async fn expect_100_continue_on_xhr_send_gets_100_first<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/e/xhr", "").await.text(), "o\n");
    c.send(format!(
        "POST /echo/000/e/xhr_send HTTP/1.1\r\nHost: {}\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n",
        server.addr
    ))
    .await;
    let interim = c.read_exact(25).await;
    assert_eq!(interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    // Nothing more until the body is sent: the next bytes are the answer
    // to it, whose head is checked whole (an answer sent before the body
    // came would be read here, and the body would then be taken for the
    // next request).
    c.expect_nothing_buffered();
    c.send(r#"["100"]"#).await;
    let res = c.read_response().await;
    assert_eq!(
        res.head.raw,
        format!(
            "HTTP/1.1 204 No Content\r\nContent-Type: {TEXT_PLAIN}\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\n\r\n"
        )
    );
    assert_eq!(c.post("/echo/000/e/xhr", "").await.text(), "a[\"100\"]\n");
    // A request whose body came with its head gets no 100 (it does not
    // need one).
    c.send(format!(
        "POST /echo/000/e/xhr_send HTTP/1.1\r\nHost: {}\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n[\"101\"]",
        server.addr
    ))
    .await;
    let res = c.read_response().await;
    assert_eq!(res.status(), 204, "{}", res.head.raw);
}

async fn chunked_request_body_on_xhr_send<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/ch/xhr", "").await.text(), "o\n");
    c.send(format!(
        "POST /echo/000/ch/xhr_send HTTP/1.1\r\nHost: {}\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[\"ch\r\n",
        server.addr
    ))
    .await;
    // Nothing is answered before the body ends: the next response is the
    // 204 to the whole body, and the messages are both chunks'.
    c.send("8;ext=1\r\nunked\", \r\n6\r\n\"two\"]\r\n0\r\n\r\n")
        .await;
    let res = c.read_response().await;
    assert_eq!(res.status(), 204, "{}", res.head.raw);
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let res = c.post("/echo/000/ch/xhr", "").await;
        seen.extend(sockway_tests::loopback::frame_messages(
            res.text().trim_end(),
        ));
    }
    assert_eq!(seen, ["chunked", "two"]);
}

async fn http_1_0_xhr_streaming_is_close_delimited<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut stream = server.client().await;
    stream
        .send("POST /echo/000/old/xhr_streaming HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        .await;
    let head = stream.read_head().await;
    assert_eq!(
        head.raw,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {JAVASCRIPT}\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\nX-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
        )
    );
    let prelude = stream.read_exact(2051).await;
    assert_eq!(
        String::from_utf8_lossy(&prelude),
        format!("{}o\n", xhr_streaming_prelude())
    );
    let mut sender = server.client().await;
    let res = sender.post("/echo/000/old/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 204);
    assert_eq!(stream.read_exact(7).await, b"a[\"x\"]\n");
    // A message past the 4096-byte streamBytesLimit ends the response: by
    // closing the connection, as HTTP/1.0 has no chunks.
    let big = "y".repeat(4096);
    let res = sender
        .post("/echo/000/old/xhr_send", &format!("[\"{big}\"]"))
        .await;
    assert_eq!(res.status(), 204);
    let rest = stream.read_to_end().await;
    assert_eq!(String::from_utf8_lossy(&rest), format!("a[\"{big}\"]\n"));
    // The session goes on.
    assert_eq!(server.handle.sockjs_sessions(), 1);
    let res = sender.post("/echo/000/old/xhr_send", r#"["z"]"#).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        sender.post("/echo/000/old/xhr", "").await.text(),
        "a[\"z\"]\n"
    );
}

async fn http_1_0_requests_close_unless_kept_alive<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    c.send("POST /echo/000/o10/xhr HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        .await;
    let res = c.read_response().await;
    assert_eq!(
        res.head.raw,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {JAVASCRIPT}\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"
        )
    );
    assert_eq!(res.text(), "o\n");
    c.expect_eof().await;
    // With `Connection: keep-alive`: kept, and said so.
    let mut c = server.client().await;
    for _ in 0..2 {
        c.send("GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .await;
        let res = c.read_response().await;
        assert_eq!(res.header("Connection"), "keep-alive");
        assert_eq!(res.text(), "Welcome to SockJS!\n");
    }
}

async fn pages_answer_get_and_head_and_405_otherwise<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let res = c.get("/").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("Content-Type"), TEXT_HTML);
    assert_eq!(res.text(), sockway_cli::DEMO_PAGE);
    // HEAD: the same head, no body; the connection goes on.
    c.request("HEAD", "/", &[], b"").await;
    let head = c.read_head().await;
    assert_eq!(
        head.raw,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {TEXT_HTML}\r\nContent-Length: {}\r\n\r\n",
            sockway_cli::DEMO_PAGE.len()
        )
    );
    let res = c.post("/", "").await;
    assert_eq!(
        res.head.raw,
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nAllow: GET, HEAD\r\nContent-Length: 18\r\n\r\n"
    );
    assert_eq!(c.get("/echo").await.text(), "Welcome to SockJS!\n");
}

async fn websocket_endpoint_without_upgrade_is_400_and_closes_as_it_says<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let res = c.get("/ws").await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.header("Connection"), "close");
    // The answer says `Connection: close`: the server must close.
    c.expect_eof().await;
}

async fn bad_requests_get_400_and_the_connection_closes<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    c.send("GARBAGE\r\n\r\n").await;
    let res = c.read_response().await;
    assert_eq!(res.status(), 400, "{}", res.head.raw);
    c.expect_eof().await;
    // A body over the limit (16 MiB on the ready server): refused at once.
    let mut c = server.client().await;
    c.send(format!(
        "POST /echo/000/big/xhr_send HTTP/1.1\r\nHost: {}\r\nContent-Length: 999999999\r\n\r\n",
        server.addr
    ))
    .await;
    let res = c.read_response().await;
    assert_eq!(res.status(), 413, "{}", res.head.raw);
    c.expect_eof().await;
}

/// Every WebSocket endpoint of the ready server (the plain one, SockJS's raw
/// and session ones) answers each key with the accept value that another
/// implementation computed for it.
async fn websocket_accept_matches_an_independent_implementation<R: ServerRuntime>() {
    let server = ready::<R>();
    for (i, (key, accept)) in accept_vectors().into_iter().enumerate() {
        for path in [
            "/ws".to_owned(),
            "/echo/websocket".to_owned(),
            format!("/echo/000/accept{i}/websocket"),
        ] {
            let mut c = server.client().await;
            let headers = [
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", key),
                ("Sec-WebSocket-Version", "13"),
            ];
            c.request("GET", &path, &headers, b"").await;
            let head = c.read_head().await;
            assert_eq!(head.status, 101, "{path}: {}", head.raw);
            assert_eq!(
                head.header("Sec-WebSocket-Accept"),
                accept,
                "{path}, key {key}"
            );
        }
    }
}

/// A frame the server must fail the connection for (a reserved opcode)
/// right after a message: the echo of the message still comes first, then
/// the close with 1002, however the handler's task and the connection's
/// are scheduled (Autobahn's 4.1.3 and 4.2.4 check the same).
async fn a_protocol_error_never_overtakes_the_echo_before_it<R: ServerRuntime>() {
    let server = ready::<R>();
    for round in 0..50 {
        let mut c = server.client().await;
        let headers = [
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ];
        c.request("GET", "/ws", &headers, b"").await;
        let head = c.read_head().await;
        assert_eq!(head.status, 101, "{}", head.raw);
        let text = format!("message {round}");
        let mut frames = client_frame(OpCode::Text, true, text.as_bytes());
        // Opcode 3 is reserved; masked, with an empty payload.
        let reserved = [0x83, 0x80, 1, 2, 3, 4];
        if round % 2 == 0 {
            frames.extend_from_slice(&reserved);
            c.send(&frames).await;
        } else {
            c.send(&frames).await;
            c.send(reserved).await;
        }
        let echo = c.read_exact(2 + text.len()).await;
        assert_eq!(
            echo,
            server_frame(OpCode::Text, true, text.as_bytes()),
            "round {round}"
        );
        let close = c.read_exact(4).await;
        assert_eq!(
            (close[0], &close[2..]),
            (0x88, &[0x03, 0xea][..]),
            "round {round}: {close:?}"
        );
    }
}

sockway_tests::for_each_runtime! {
    websocket_accept_matches_an_independent_implementation,
    a_protocol_error_never_overtakes_the_echo_before_it,
    greeting_is_welcome_text_with_and_without_slash,
    info_is_json_without_caching_with_cors_and_fresh_entropy,
    iframe_page_is_cached_with_an_etag_and_304_on_a_match,
    unknown_paths_are_404,
    send_to_an_unknown_session_is_404_with_one_cache_control,
    error_answers_are_exact,
    options_preflights_are_204_cached_for_a_year_with_cors,
    restricted_origins_refuse_other_origins_with_403,
    keep_alive_serves_many_requests_on_one_connection,
    pipelined_requests_are_answered_in_order,
    expect_100_continue_on_xhr_send_gets_100_first,
    chunked_request_body_on_xhr_send,
    http_1_0_xhr_streaming_is_close_delimited,
    http_1_0_requests_close_unless_kept_alive,
    pages_answer_get_and_head_and_405_otherwise,
    websocket_endpoint_without_upgrade_is_400_and_closes_as_it_says,
    bad_requests_get_400_and_the_connection_closes,
}
