//! Interceptors' refusals on SockJS endpoints, on the server's own
//! connections and on exchanges of an embedder's HTTP server: the
//! endpoint's CORS headers added (an allowed origin only), a refusal's own
//! `Access-Control-Allow-Origin` kept, and `/info` staged for the
//! interceptors only with `SockJsOptions::intercept_info` (no handshake
//! outcome for it). Simulated time throughout.

mod support;

use std::net::SocketAddr;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN};
use http::StatusCode;
use server_proto::sockjs_proto::{AllowedOrigins, SockJsConfig};
use server_proto::{
    Attributes, HttpExchange, Output, Rejection, Reply, ServerConfig, ServerOptions, SockJsOptions,
};
use support::{one_response, Client, Resp, Sim, WakeCounter};

/// `/any` takes any origin, `/same` only its own (`Host: localhost`);
/// `/info_any` stages its `/info` for the interceptors.
fn sim() -> Sim {
    let config = SockJsConfig::default().session_cookie_needed(false);
    let any = config.clone().allowed_origins(AllowedOrigins::Any);
    let mut server = ServerConfig::new(ServerOptions::default());
    server.sockjs("/any", SockJsOptions::default().config(any.clone()));
    server.sockjs("/same", SockJsOptions::default().config(config));
    server.sockjs(
        "/info_any",
        SockJsOptions::default().config(any).intercept_info(true),
    );
    Sim::new(server)
}

/// A request's bytes, with `headers` (`Name: value` lines).
fn raw(method: &str, path: &str, headers: &[&str]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    if method == "POST" {
        head.push_str("Content-Length: 0\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Sends a request on a new connection that stages it; refuses it with
/// `rejection` (or accepts it without one), and reads the response (the
/// head of a stream).
fn on_connection(
    sim: &Sim,
    method: &str,
    path: &str,
    headers: &[&str],
    rejection: Option<&Rejection>,
) -> (Resp, Client) {
    let now = sim.at(0);
    let mut c = sim.connect(now);
    c.auto_accept = false;
    c.send(&raw(method, path, headers), now);
    let incoming = c.take_incoming();
    match rejection {
        Some(rejection) => c.conn.refuse(incoming, rejection, now),
        None => c.conn.accept(incoming, Attributes::default(), now),
    }
    c.drain(now);
    let bytes = c.read(now);
    // A stream never ends: its head is what counts.
    let streams = head(&bytes).header("content-length").is_none();
    let res = if streams {
        head(&bytes)
    } else {
        one_response(&bytes)
    };
    (res, c)
}

/// The status and headers of the response at the start of `bytes`.
fn head(bytes: &[u8]) -> Resp {
    let text = String::from_utf8_lossy(bytes);
    let (head, _) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("a status line");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().expect("a version").to_owned();
    let status = parts.next().and_then(|s| s.parse().ok()).expect("a status");
    let headers = lines
        .map(|l| {
            let (name, value) = l.split_once(':').expect("a header line");
            (name.to_owned(), value.trim().to_owned())
        })
        .collect();
    Resp {
        status,
        version,
        headers,
        body: Vec::new(),
        chunks: Vec::new(),
        complete: false,
    }
}

fn unauthorized() -> Rejection {
    Rejection::new(StatusCode::UNAUTHORIZED)
}

/// The CORS-path requests that open sessions: method, path, whether its
/// answers carry CORS headers.
const OPENING: [(&str, &str, bool); 6] = [
    ("POST", "/000/a/xhr", true),
    ("POST", "/000/b/xhr_streaming", true),
    ("GET", "/000/c/eventsource", true),
    ("GET", "/000/d/htmlfile?c=cb", false),
    ("GET", "/000/e/jsonp?c=cb", false),
    ("GET", "/000/f/websocket", false),
];

#[test]
fn a_refusal_carries_the_cors_headers_of_the_accepted_answer() {
    let sim = sim();
    let origin = "Origin: http://page.test";
    for (method, path, cors) in OPENING {
        let path = format!("/any{path}");
        let (refused, c) = on_connection(&sim, method, &path, &[origin], Some(&unauthorized()));
        assert_eq!(refused.status, 401, "{path}");
        assert_eq!(refused.body_str(), "Unauthorized");
        assert_eq!(c.outcomes().len(), 1, "the after part sees it: {path}");
        if !cors {
            assert_eq!(
                refused.header("access-control-allow-origin"),
                None,
                "{path}"
            );
            continue;
        }
        let accepted_path = path.replace("/000/", "/001/");
        let (accepted, _) = on_connection(&sim, method, &accepted_path, &[origin], None);
        assert_eq!(accepted.status, 200, "{accepted_path}");
        for name in [
            "access-control-allow-origin",
            "access-control-allow-credentials",
            "vary",
        ] {
            assert_eq!(
                refused.header(name),
                accepted.header(name),
                "{path}: {name}"
            );
        }
        assert_eq!(
            refused.header("access-control-allow-origin"),
            Some("http://page.test")
        );
        assert_eq!(
            refused.header("access-control-allow-credentials"),
            Some("true")
        );
    }
}

#[test]
fn a_refusal_grants_nothing_to_an_origin_that_is_not_allowed() {
    let sim = sim();
    for (method, path, cors) in OPENING {
        let path = format!("/same{path}");
        let (refused, _) = on_connection(
            &sim,
            method,
            &path,
            &["Origin: http://evil.test"],
            Some(&unauthorized()),
        );
        assert_eq!(refused.status, 401, "{path}");
        assert_eq!(
            refused.header("access-control-allow-origin"),
            None,
            "{path}"
        );
        assert_eq!(refused.header("access-control-allow-credentials"), None);
        assert_eq!(
            refused.header("vary"),
            cors.then_some("Origin"),
            "{path}: only that it depends on the origin"
        );
    }
    // Its own origin is allowed.
    let (refused, _) = on_connection(
        &sim,
        "POST",
        "/same/000/s/xhr",
        &["Origin: http://localhost"],
        Some(&unauthorized()),
    );
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("http://localhost")
    );
}

#[test]
fn a_refusal_that_sets_its_own_allowed_origin_keeps_it() {
    let sim = sim();
    let rejection = unauthorized().header(
        ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("https://mine.test"),
    );
    let (refused, _) = on_connection(
        &sim,
        "POST",
        "/any/000/s/xhr",
        &["Origin: http://page.test"],
        Some(&rejection),
    );
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("https://mine.test")
    );
    assert_eq!(refused.header("access-control-allow-credentials"), None);
}

#[test]
fn info_is_staged_only_with_intercept_info_and_without_an_outcome() {
    let sim = sim();
    let now = sim.at(0);
    // Without the option, /info is answered at once.
    let mut c = sim.connect(now);
    c.auto_accept = false;
    c.send(&raw("GET", "/any/info", &[]), now);
    assert!(c.incoming.is_empty());
    assert_eq!(one_response(&c.read(now)).status, 200);

    // With it: refused, with /info's CORS headers and no outcome.
    let origin = "Origin: http://page.test";
    let (refused, c) = on_connection(
        &sim,
        "GET",
        "/info_any/info",
        &[origin],
        Some(&unauthorized()),
    );
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some("http://page.test")
    );
    assert_eq!(
        refused.header("access-control-allow-credentials"),
        Some("true")
    );
    assert!(c.handshakes.is_empty(), "no after part for /info");
    assert!(c.conn.wants_read(), "the connection is kept");
    // Accepted: /info's answer, no session, no outcome.
    let (info, c) = on_connection(&sim, "GET", "/info_any/info", &[origin], None);
    assert_eq!(info.status, 200);
    assert!(
        info.body_str().starts_with("{\"websocket\":true"),
        "{info:?}"
    );
    assert!(c.handshakes.is_empty() && c.opened.is_empty());
    assert_eq!(sim.server.sockjs_sessions(), 0);

    // A preflight is never staged, nor another method.
    for method in ["OPTIONS", "POST"] {
        let mut c = sim.connect(now);
        c.auto_accept = false;
        c.send(&raw(method, "/info_any/info", &[origin]), now);
        assert!(c.incoming.is_empty(), "{method}");
        let res = one_response(&c.read(now));
        assert_eq!(
            res.status,
            if method == "OPTIONS" { 204 } else { 405 },
            "{method}"
        );
    }
    // The transports are staged as ever.
    let (refused, c) = on_connection(
        &sim,
        "POST",
        "/info_any/000/s/xhr",
        &[],
        Some(&unauthorized()),
    );
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("access-control-allow-origin"), Some("*"));
    assert_eq!(c.outcomes().len(), 1);
}

// ---- on an exchange of the embedder's HTTP server --------------------------------

fn request(method: &str, path: &str, origin: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .header("origin", origin)
        .body(Bytes::new())
        .expect("a request")
}

/// Refuses the staged request of an exchange; the response and whether a
/// handshake outcome came.
fn refused_exchange(sim: &Sim, req: http::Request<Bytes>) -> (http::Response<Bytes>, bool) {
    let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
    let now = sim.at(0);
    let mut ex: HttpExchange = sim.server.exchange(req, peer, now);
    let Some(Output::Incoming(incoming)) = ex.poll_output() else {
        panic!("staged");
    };
    ex.refuse(incoming, &unauthorized());
    let outcome = matches!(ex.poll_output(), Some(Output::Handshake { .. }));
    let (_, waker) = WakeCounter::new();
    match ex.poll_reply(&mut Context::from_waker(&waker), now) {
        Poll::Ready(Reply::Response(res)) => (res, outcome),
        other => panic!("a whole response, not {other:?}"),
    }
}

#[test]
fn an_exchanges_refusal_carries_the_same_cors_headers() {
    let sim = sim();
    for path in ["/any/000/s/xhr_streaming", "/info_any/info"] {
        let method = if path.ends_with("info") {
            "GET"
        } else {
            "POST"
        };
        let (res, outcome) = refused_exchange(&sim, request(method, path, "http://page.test"));
        assert_eq!(res.status(), 401, "{path}");
        assert_eq!(
            res.headers()["access-control-allow-origin"],
            "http://page.test"
        );
        assert_eq!(res.headers()["access-control-allow-credentials"], "true");
        assert_eq!(res.headers()["vary"], "Origin");
        assert_eq!(outcome, !path.ends_with("info"), "{path}: the after part");
    }
    let (res, _) = refused_exchange(&sim, request("POST", "/same/000/s/xhr", "http://evil.test"));
    assert_eq!(res.status(), 401);
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    assert_eq!(res.headers()["vary"], "Origin");
}
