//! Refusals and CORS: an answer that refuses a request on a path whose
//! answers carry CORS headers carries the same ones (`Server::refusal_cors`
//! for the embedder's refusals, the core's own 405 and 503), so that a
//! page on an allowed origin reads the status; an origin that is not
//! allowed is granted nothing.

mod common;

use common::*;
use sockjs_proto::{AllowedOrigins, Answer, Server, SockJsConfig};

const CORS_HEADERS: [&str; 4] = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Headers",
    "Vary",
];

/// The CORS headers of a response, as `(name, values)`.
fn cors_of(headers: &http::HeaderMap) -> Vec<(&'static str, Vec<String>)> {
    CORS_HEADERS
        .iter()
        .map(|&name| {
            let values = headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            (name, values)
        })
        .collect()
}

/// What `refusal_cors` adds to an empty refusal of `r`.
fn refusal(s: &Server, r: &Request) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    s.refusal_cors(&r.http, &mut headers);
    headers
}

/// The head of the endpoint's own answer to `r`, whatever its kind.
fn answer_headers(s: &mut Server, r: &Request) -> http::HeaderMap {
    match s.handle(r, t0()) {
        Answer::Response(res)
        | Answer::Stream { response: res, .. }
        | Answer::Poll { response: res, .. }
        | Answer::Upgrade { response: res, .. } => res.headers().clone(),
    }
}

/// The requests of every path, with whether their answers carry CORS.
fn every_path() -> Vec<(&'static str, Request, bool)> {
    let ws = |path: &str| ws_request(&format!("{PREFIX}{path}"), &[]).1;
    vec![
        ("GET info", get("/info"), true),
        ("xhr", post(&url("s", "xhr")), true),
        ("xhr_streaming", post(&url("s", "xhr_streaming")), true),
        (
            "xhr_send",
            post(&url("s", "xhr_send")).body(r#"["x"]"#),
            true,
        ),
        ("eventsource", get(&url("s", "eventsource")), true),
        ("htmlfile", get(&url("s", "htmlfile?c=cb")), false),
        ("jsonp", get(&url("s", "jsonp?c=cb")), false),
        (
            "jsonp_send",
            post(&url("s", "jsonp_send")).body(r#"["x"]"#),
            false,
        ),
        ("websocket", ws(&url("s", "websocket")), false),
        ("raw websocket", ws("/websocket"), false),
        ("iframe", get("/iframe.html"), false),
        ("greeting", get("/"), false),
    ]
}

#[test]
fn a_refusal_carries_the_cors_headers_of_the_endpoints_own_answer() {
    for origin in [None, Some("http://app.test"), Some("null")] {
        for (name, r, cors) in every_path() {
            let mut r = r.header("Access-Control-Request-Headers", "x-token");
            if let Some(o) = origin {
                r = r.header("Origin", o);
            }
            let mut s = server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::Any));
            // The session `s` exists, so that xhr_send is answered (204).
            open_xhr(&mut s, "s", t0());
            let added = refusal(&s, &r);
            if !cors {
                assert!(added.is_empty(), "{name} {origin:?}: {added:?}");
                continue;
            }
            // Another session id for the receiving transports: a new one.
            let own = if name == "xhr_send" {
                answer_headers(&mut s, &r)
            } else {
                let fresh = Request {
                    http: {
                        let mut h = r.http.clone();
                        let target = h.uri().to_string().replace("/s/", "/t/");
                        *h.uri_mut() = target.parse().unwrap();
                        h
                    },
                    ctx: r.ctx.clone(),
                };
                answer_headers(&mut s, &fresh)
            };
            assert_eq!(
                cors_of(&added),
                cors_of(&own),
                "{name} {origin:?}: the refusal's CORS headers are the answer's"
            );
            let want = origin.unwrap_or("*");
            assert_eq!(
                added["Access-Control-Allow-Origin"], want,
                "{name} {origin:?}"
            );
            assert_eq!(added["Access-Control-Allow-Headers"], "x-token");
            match origin {
                Some(_) => {
                    assert_eq!(added["Access-Control-Allow-Credentials"], "true");
                    assert_eq!(added["Vary"], "Origin");
                }
                None => assert!(!added.contains_key("Access-Control-Allow-Credentials")),
            }
        }
    }
}

#[test]
fn a_refusal_grants_nothing_to_an_origin_that_is_not_allowed() {
    // Same origin only (the default): `Host: example.com`.
    let s = server();
    for origin in ["http://evil.test", "null", "http://example.com.evil.test"] {
        for (name, r, cors) in every_path() {
            let r = r
                .header("Host", "example.com")
                .header("Origin", origin)
                .header("Access-Control-Request-Headers", "x-token");
            let added = refusal(&s, &r);
            if cors {
                // Only that the answer depends on the origin.
                assert_eq!(cors_of(&added)[3].1, ["Origin"], "{name} {origin}");
                assert_eq!(added.len(), 1, "{name} {origin}: {added:?}");
            } else {
                assert!(added.is_empty(), "{name} {origin}: {added:?}");
            }
        }
    }
    // The same origin is allowed.
    let r = post(&url("s", "xhr"))
        .header("Host", "example.com")
        .header("Origin", "http://example.com");
    let added = refusal(&s, &r);
    assert_eq!(added["Access-Control-Allow-Origin"], "http://example.com");
}

#[test]
fn a_refusal_carries_no_cors_header_when_cors_is_suppressed_or_off_the_prefix() {
    let s = server_with(
        SockJsConfig::default()
            .suppress_cors(true)
            .allowed_origins(AllowedOrigins::Any),
    );
    for (name, r, _) in every_path() {
        let added = refusal(&s, &r.header("Origin", "http://app.test"));
        assert!(added.is_empty(), "{name}: {added:?}");
    }
    let s = server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::Any));
    for target in ["/other/000/s/xhr", "/echoes/info", "/echo/000/s/nope"] {
        let r = Request::new("POST", target).header("Origin", "http://app.test");
        assert!(refusal(&s, &r).is_empty(), "{target}");
    }
}

#[test]
fn the_cores_own_refusals_carry_cors_on_cors_paths() {
    let origin = "http://app.test";
    let any = SockJsConfig::default().allowed_origins(AllowedOrigins::Any);

    // 405 on /info and on the xhr family, eventsource.
    let mut s = server_with(any.clone());
    for (r, allow) in [
        (post("/info"), "OPTIONS, GET"),
        (get(&url("s", "xhr")), "OPTIONS, POST"),
        (get(&url("s", "xhr_send")), "OPTIONS, POST"),
        (post(&url("s", "eventsource")), "GET"),
    ] {
        let res = response(s.handle(&r.header("Origin", origin), t0()));
        assert_405(&res, allow);
        assert_cors(&res, Some(origin));
        assert_eq!(header(&res, "Vary"), "Origin");
    }
    // But not where the answers carry none.
    for r in [
        post(&url("s", "jsonp?c=cb")),
        post(&url("s", "htmlfile?c=cb")),
    ] {
        let res = response(s.handle(&r.header("Origin", origin), t0()));
        assert_eq!(res.status(), 405);
        assert_no_cors(&res);
    }
    // From an origin that is not allowed, a 405 grants nothing either.
    let mut same = server();
    let res = response(
        same.handle(
            &get(&url("s", "xhr"))
                .header("Host", "example.com")
                .header("Origin", "http://evil.test"),
            t0(),
        ),
    );
    assert_405(&res, "OPTIONS, POST");
    assert_no_cors(&res);
    assert_eq!(header(&res, "Vary"), "Origin");

    // 503 when the sessions are all taken.
    let mut s = server_with(any.max_sessions(1).session_cookie_needed(false));
    open_xhr(&mut s, "a", t0());
    for transport in ["xhr", "xhr_streaming", "eventsource"] {
        let method = if transport == "eventsource" {
            "GET"
        } else {
            "POST"
        };
        let r = req(method, &url("b", transport)).header("Origin", origin);
        let res = response(s.handle(&r, t0()));
        assert_text(&res, 503, "Too many sessions");
        assert_cors(&res, Some(origin));
    }
}

#[test]
fn a_foreign_origins_403_says_it_varies_by_origin_and_grants_nothing() {
    let mut s = server();
    for r in [
        get("/info"),
        options("/info"),
        post(&url("s", "xhr")),
        options(&url("s", "xhr")),
        get(&url("s", "eventsource")),
    ] {
        let r = r
            .header("Host", "example.com")
            .header("Origin", "http://evil.test");
        let res = response(s.handle(&r, t0()));
        assert_text(&res, 403, "Forbidden");
        assert_no_cors(&res);
        assert_eq!(header(&res, "Vary"), "Origin");
    }
}
