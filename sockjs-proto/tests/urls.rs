//! URLs: the greeting, 404s, session paths, `/info` and the iframe page.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use sockjs_proto::{AllowedOrigins, Server, SockJsConfig, DEFAULT_CLIENT_LIBRARY_URL};

// ---- the greeting --------------------------------------------------------

#[test]
fn greeting_is_welcome_text_with_and_without_slash() {
    let mut s = server();
    for path in ["", "/"] {
        let res = response(s.handle(&get(path), t0()));
        assert_eq!(res.status(), 200, "{path:?}");
        assert_eq!(header(&res, "Content-Type"), TEXT_PLAIN);
        assert_eq!(body(&res), "Welcome to SockJS!\n");
        assert_no_header(&res, "Set-Cookie");
    }
}

#[test]
fn greeting_other_methods_are_405_allow_get() {
    let mut s = server();
    for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
        for path in ["", "/"] {
            assert_405(&response(s.handle(&req(method, path), t0())), "GET");
        }
    }
}

#[test]
fn greeting_ignores_the_query() {
    let mut s = server();
    let res = response(s.handle(&get("/?t=1"), t0()));
    assert_eq!(body(&res), "Welcome to SockJS!\n");
}

#[test]
fn paths_outside_the_prefix_are_not_matched_and_are_404() {
    let mut s = server();
    for path in ["/echoes", "/other", "/", "/ech", "/echo.html"] {
        assert!(!s.matches(path), "{path}");
        let res = response(s.handle(&Request::new("GET", path), t0()));
        assert_eq!(res.status(), 404, "{path}");
    }
    for path in ["/echo", "/echo/", "/echo/info", "/echo/a/b/c"] {
        assert!(s.matches(path), "{path}");
    }
}

// ---- 404s ----------------------------------------------------------------

/// One test per row: `GET PREFIX + path` is 404.
macro_rules! not_found {
    ($($name:ident: $path:expr,)*) => {$(
        #[test]
        fn $name() {
            let mut s = server();
            for method in ["GET", "POST"] {
                let res = response(s.handle(&req(method, $path), t0()));
                assert_eq!(res.status(), 404, "{method} {}", $path);
            }
            assert_eq!(s.session_count(), 0);
            assert!(events(&mut s).is_empty());
        }
    )*};
}

not_found! {
    not_found_a: "/a",
    not_found_a_html: "/a.html",
    not_found_double_slash: "//",
    not_found_triple_slash: "///",
    not_found_a_a: "/a/a",
    not_found_a_a_slash: "/a/a/",
    not_found_a_slash: "/a/",
    // Session paths: empty ids, ids with dots, too few or too many parts.
    session_path_server_id_with_dot_is_404: "/a./a/xhr",
    session_path_session_id_with_dot_is_404: "/a/a./xhr",
    session_path_dots_is_404: "/././xhr",
    session_path_more_dots_is_404: "/./././xhr",
    session_path_empty_ids_is_404: "///xhr",
    session_path_missing_part_is_404: "//xhr",
    session_path_extra_part_is_404: "/a/a/a/xhr",
    session_path_trailing_slash_is_404: "/a/a/xhr/",
    unknown_transport_is_404: "/000/s/nope",
    transport_names_are_case_sensitive: "/000/s/XHR",
    iframe_htm_is_404: "/iframe.htm",
    iframe_without_extension_is_404: "/iframe",
    iframe_upper_case_is_404: "/IFRAME.HTML",
    iframe_upper_case_without_extension_is_404: "/IFRAME",
    iframe_upper_case_extension_is_404: "/iframe.HTML",
    iframe_xml_is_404: "/iframe.xml",
    iframe_with_slash_is_404: "/iframe-/.html",
}

// ---- session paths -------------------------------------------------------

#[test]
fn any_server_and_session_id_without_dots_is_accepted() {
    let mut s = server();
    for part in ["/a/a", "/_/_", "/1/1", "/abcdefgh_i-j%20/abcdefg_i-j%20"] {
        let res = response(s.handle(&post(&format!("{part}/xhr")), t0()));
        assert_eq!(res.status(), 200, "{part}");
        assert_eq!(body(&res), "o\n", "{part}");
    }
    assert_eq!(s.session_count(), 4);
}

#[test]
fn the_server_id_is_ignored() {
    let mut s = server();
    let now = t0();
    let res = response(s.handle(&post("/000/sess/xhr"), now));
    assert_eq!(body(&res), "o\n");
    let res = response(s.handle(&post("/000/sess/xhr_send").body(r#"["a"]"#), now));
    assert_eq!(res.status(), 204);
    assert!(res.body().is_empty());
    echo(&mut s);
    let res = response(s.handle(&post("/999/sess/xhr"), now));
    assert_eq!(body(&res), "a[\"a\"]\n");
    // The send half too.
    let res = response(s.handle(&post("/123/sess/xhr_send").body(r#"["b"]"#), now));
    assert_eq!(res.status(), 204);
    assert_eq!(messages(&events(&mut s)), ["b"]);
    assert_eq!(s.session_count(), 1);
}

/// One test per row: the wrong method on a transport is 405 with `Allow`.
macro_rules! wrong_method {
    ($($name:ident: $method:expr, $transport:expr => $allow:expr,)*) => {$(
        #[test]
        fn $name() {
            let mut s = server();
            let res = response(s.handle(&req($method, &url("s", $transport)), t0()));
            assert_405(&res, $allow);
            assert_eq!(s.session_count(), 0);
        }
    )*};
}

wrong_method! {
    get_on_xhr_is_405: "GET", "xhr" => "OPTIONS, POST",
    get_on_xhr_streaming_is_405: "GET", "xhr_streaming" => "OPTIONS, POST",
    get_on_xhr_send_is_405: "GET", "xhr_send" => "OPTIONS, POST",
    put_on_xhr_is_405: "PUT", "xhr" => "OPTIONS, POST",
    get_on_jsonp_send_is_405: "GET", "jsonp_send" => "POST",
    options_on_jsonp_send_is_405: "OPTIONS", "jsonp_send" => "POST",
    post_on_eventsource_is_405: "POST", "eventsource" => "GET",
    options_on_eventsource_is_405: "OPTIONS", "eventsource" => "GET",
    post_on_htmlfile_is_405: "POST", "htmlfile?c=x" => "GET",
    post_on_jsonp_is_405: "POST", "jsonp?c=x" => "GET",
    options_on_websocket_is_405: "OPTIONS", "websocket" => "GET",
}

// ---- /info ---------------------------------------------------------------

fn info_json(s: &mut Server, r: &Request) -> (Response, String, u32) {
    let res = response(s.handle(r, t0()));
    let text = body(&res).to_owned();
    let (head, entropy) = text.rsplit_once(",\"entropy\":").expect("an entropy field");
    let entropy: u32 = entropy
        .strip_suffix('}')
        .and_then(|e| e.parse().ok())
        .expect("entropy is a u32");
    (res, format!("{head}}}"), entropy)
}

#[test]
fn info_is_json_not_cached_without_cookie_with_cors() {
    let mut s = server();
    let (res, fields, _) = info_json(&mut s, &get("/info").header("Cookie", "JSESSIONID=abc"));
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "Content-Type"),
        "application/json; charset=UTF-8"
    );
    assert_eq!(
        fields,
        r#"{"websocket":true,"cookie_needed":true,"origins":["*:*"]}"#
    );
    assert_not_cached(&res);
    assert_no_header(&res, "Set-Cookie");
    assert_cors(&res, None);
}

#[test]
fn info_says_websocket_false_when_disabled() {
    let mut s = server_with(SockJsConfig::default().web_socket_enabled(false));
    let (_, fields, _) = info_json(&mut s, &get("/info"));
    assert_eq!(
        fields,
        r#"{"websocket":false,"cookie_needed":true,"origins":["*:*"]}"#
    );
}

#[test]
fn info_says_cookie_needed_false_when_disabled() {
    let mut s = server_with(SockJsConfig::default().session_cookie_needed(false));
    let (res, fields, _) = info_json(&mut s, &get("/info"));
    assert_eq!(
        fields,
        r#"{"websocket":true,"cookie_needed":false,"origins":["*:*"]}"#
    );
    assert_no_header(&res, "Set-Cookie");
}

#[test]
fn info_entropy_differs_between_calls() {
    let mut s = server();
    let seen: std::collections::HashSet<u32> = (0..16)
        .map(|_| info_json(&mut s, &get("/info")).2)
        .collect();
    assert_eq!(seen.len(), 16);
}

#[test]
fn info_entropy_is_deterministic_for_a_seed() {
    let run = |seed| {
        let mut s = Server::new(PREFIX, SockJsConfig::default(), seed).unwrap();
        (0..4)
            .map(|_| info_json(&mut s, &get("/info")).2)
            .collect::<Vec<_>>()
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
}

#[test]
fn info_entropy_is_splitmix64_of_the_seed() {
    // The low 32 bits of SplitMix64's reference outputs for seed 1234567.
    let mut s = Server::new(PREFIX, SockJsConfig::default(), 1_234_567).unwrap();
    for expected in [
        6_457_827_717_110_365_317_u64,
        3_203_168_211_198_807_973,
        9_817_491_932_198_370_423,
    ] {
        assert_eq!(info_json(&mut s, &get("/info")).2, expected as u32);
    }
}

#[test]
fn the_server_keeps_its_prefix_without_a_trailing_slash_and_its_config() {
    let config = SockJsConfig::default().heartbeat_time(Duration::from_secs(7));
    let s = Server::new("/echo/", config.clone(), 1).unwrap();
    assert_eq!(s.prefix(), "/echo");
    assert_eq!(s.config(), &config);
}

#[test]
fn info_cors_echoes_an_allowed_origin_with_credentials() {
    let mut s = server();
    let r = get("/info")
        .header("Host", "example.com:8081")
        .header("Origin", "http://example.com:8081");
    let res = response(s.handle(&r, t0()));
    assert_eq!(res.status(), 200);
    assert_cors(&res, Some("http://example.com:8081"));
    assert_eq!(header(&res, "Vary"), "Origin");
}

#[test]
fn info_cors_keeps_a_null_origin() {
    let mut s = server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::Any));
    let res = response(s.handle(&get("/info").header("Origin", "null"), t0()));
    assert_eq!(res.status(), 200);
    assert_cors(&res, Some("null"));
}

#[test]
fn info_has_no_cors_headers_when_suppressed() {
    let mut s = server_with(
        SockJsConfig::default()
            .suppress_cors(true)
            .allowed_origins(AllowedOrigins::Any),
    );
    for r in [get("/info"), get("/info").header("Origin", "http://x")] {
        let res = response(s.handle(&r, t0()));
        assert_eq!(res.status(), 200);
        assert_no_cors(&res);
    }
    let res = response(s.handle(&options("/info").header("Origin", "http://x"), t0()));
    assert_eq!(res.status(), 204);
    assert_eq!(header(&res, "Access-Control-Allow-Methods"), "OPTIONS, GET");
    assert_no_header(&res, "Access-Control-Allow-Origin");
}

#[test]
fn info_other_methods_are_405() {
    let mut s = server();
    for method in ["POST", "PUT", "DELETE"] {
        assert_405(
            &response(s.handle(&req(method, "/info"), t0())),
            "OPTIONS, GET",
        );
    }
}

/// A request date well after the epoch, for `Expires`.
fn date() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000)
}

#[test]
fn info_options_is_204_cached_for_a_year_with_cors() {
    let mut s = server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::Any));
    for origin in [None, Some("http://test"), Some("null")] {
        let mut r = options("/info").date(date());
        if let Some(o) = origin {
            r = r.header("Origin", o);
        }
        let res = response(s.handle(&r, t0()));
        assert_eq!(res.status(), 204, "{origin:?}");
        assert_eq!(header(&res, "Access-Control-Allow-Methods"), "OPTIONS, GET");
        assert_cached_for_a_year(&res, date());
        let max_age: u64 = header(&res, "Access-Control-Max-Age").parse().unwrap();
        assert!(max_age >= 1_000_000, "{max_age}");
        assert_eq!(max_age, 31_536_000);
        assert!(res.body().is_empty());
        assert_no_header(&res, "Content-Type");
        assert_no_header(&res, "Set-Cookie");
        assert_cors(&res, origin);
    }
    assert_eq!(s.session_count(), 0);
}

#[test]
fn info_options_expires_a_year_after_the_request_date() {
    let mut s = server();
    let res = response(s.handle(&options("/info").date(date()), t0()));
    // 2020-09-13 12:26:40 UTC plus 365 days.
    assert_eq!(header(&res, "Expires"), "Mon, 13 Sep 2021 12:26:40 GMT");
}

#[test]
fn info_options_echoes_requested_headers() {
    let mut s = server();
    let res = response(s.handle(
        &options("/info").header("Access-Control-Request-Headers", "a, b, c"),
        t0(),
    ));
    assert_eq!(header(&res, "Access-Control-Allow-Headers"), "a, b, c");
    let res = response(s.handle(
        &options("/info").header("Access-Control-Request-Headers", ""),
        t0(),
    ));
    assert_no_header(&res, "Access-Control-Allow-Headers");
}

// ---- the iframe page -------------------------------------------------------

/// The page the protocol tests expect, with `url` as `sockjs_url`.
fn iframe_page(url: &str) -> String {
    // The current page, as sockjs-protocol's `IframePage.iframe_body` gives
    // it: the client library first, then the bootstrap (not the older
    // `_sockjs_onload` hook, which the protocol's tests reject).
    [
        "<!DOCTYPE html>",
        "<html>",
        "<head>",
        "  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />",
        "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />",
        &format!("  <script src=\"{url}\"></script>"),
        "  <script>",
        "    document.domain = document.domain;",
        "    SockJS.bootstrap_iframe();",
        "  </script>",
        "</head>",
        "<body>",
        "  <h2>Don't panic!</h2>",
        "  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>",
        "</body>",
        "</html>",
    ]
    .join("\n")
}

/// One test per row: the name is served the iframe page.
macro_rules! iframe_names {
    ($($name:ident: $path:expr,)*) => {$(
        #[test]
        fn $name() {
            let mut s = server();
            let res = response(s.handle(&get($path).date(date()), t0()));
            assert_eq!(res.status(), 200, "{}", $path);
            assert_eq!(header(&res, "Content-Type"), TEXT_HTML);
            assert_eq!(body(&res), iframe_page(DEFAULT_CLIENT_LIBRARY_URL));
            assert_cached_for_a_year(&res, date());
            assert!(!header(&res, "ETag").is_empty());
            assert_no_header(&res, "Set-Cookie");
        }
    )*};
}

iframe_names! {
    iframe_html_is_served: "/iframe.html",
    iframe_versioned_a_is_served: "/iframe-a.html",
    iframe_versioned_empty_is_served: "/iframe-.html",
    iframe_versioned_numbers_is_served: "/iframe-0.1.2.html",
    iframe_versioned_dirty_is_served: "/iframe-0.1.2abc-dirty.2144.html",
    iframe_queried_a_is_served: "/iframe-a.html?t=1234",
    iframe_queried_numbers_is_served: "/iframe-0.1.2.html?t=123414",
    iframe_queried_dirty_is_served: "/iframe-0.1.2abc-dirty.2144.html?t=qweqweq123",
}

#[test]
fn iframe_page_loads_the_configured_client_library() {
    let url = "https://example.com/js/sockjs-1.6.1.min.js";
    let mut s = server_with(SockJsConfig::default().client_library_url(url));
    let res = response(s.handle(&get("/iframe.html"), t0()));
    let page = body(&res);
    assert_eq!(page, iframe_page(url));
    assert!(page.contains(&format!("<script src=\"{url}\"></script>")));
    assert!(page.contains("SockJS.bootstrap_iframe();"));
}

#[test]
fn iframe_etag_is_stable_and_follows_the_page() {
    let mut s = server();
    let etag =
        |s: &mut Server| header(&response(s.handle(&get("/iframe.html"), t0())), "ETag").to_owned();
    let first = etag(&mut s);
    assert_eq!(etag(&mut s), first);
    assert!(first.starts_with('"') && first.ends_with('"'), "{first}");
    // Every name, every query: the same page and tag.
    let res = response(s.handle(&get("/iframe-0.1.2.html?t=1"), t0()));
    assert_eq!(header(&res, "ETag"), first);
    let mut other = server_with(SockJsConfig::default().client_library_url("/sockjs.js"));
    assert_ne!(etag(&mut other), first);
}

#[test]
fn iframe_if_none_match_is_304_without_content_type_or_body() {
    let mut s = server();
    let etag = header(&response(s.handle(&get("/iframe.html"), t0())), "ETag").to_owned();
    let res = response(
        s.handle(
            &get("/iframe.html")
                .header("If-None-Match", &etag)
                .date(date()),
            t0(),
        ),
    );
    assert_eq!(res.status(), 304);
    assert_no_header(&res, "Content-Type");
    assert!(res.body().is_empty());
    assert_eq!(header(&res, "ETag"), etag);
    assert_cached_for_a_year(&res, date());
    assert_no_header(&res, "Set-Cookie");
    // A stale tag gets the page.
    let res = response(s.handle(&get("/iframe.html").header("If-None-Match", "\"x\""), t0()));
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), iframe_page(DEFAULT_CLIENT_LIBRARY_URL));
}

#[test]
fn iframe_never_sets_a_cookie() {
    let mut s = server_with(SockJsConfig::default().session_cookie_needed(true));
    let res = response(s.handle(
        &get("/iframe.html").header("Cookie", "JSESSIONID=abc"),
        t0(),
    ));
    assert_eq!(res.status(), 200);
    assert_no_header(&res, "Set-Cookie");
}

#[test]
fn iframe_x_frame_options_is_sameorigin_by_default() {
    let mut s = server();
    let res = response(s.handle(&get("/iframe.html"), t0()));
    assert_eq!(header(&res, "X-Frame-Options"), "SAMEORIGIN");
    let res = response(s.handle(&get("/iframe.html"), t0()));
    let etag = header(&res, "ETag").to_owned();
    let res = response(s.handle(&get("/iframe.html").header("If-None-Match", &etag), t0()));
    assert_eq!(res.status(), 304);
    assert_eq!(header(&res, "X-Frame-Options"), "SAMEORIGIN");
}

#[test]
fn iframe_has_no_x_frame_options_with_any_origin() {
    let mut s = server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::Any));
    let res = response(s.handle(&get("/iframe.html"), t0()));
    assert_eq!(res.status(), 200);
    assert_no_header(&res, "X-Frame-Options");
}

#[test]
fn iframe_is_404_with_a_restricted_origin_list() {
    let mut s = server_with(
        SockJsConfig::default()
            .allowed_origins(AllowedOrigins::from_list(["https://app.example.com"])),
    );
    let res = response(s.handle(&get("/iframe.html"), t0()));
    assert_eq!(res.status(), 404);
}

#[test]
fn iframe_other_methods_are_405() {
    let mut s = server();
    for method in ["POST", "PUT", "OPTIONS"] {
        assert_405(
            &response(s.handle(&req(method, "/iframe.html"), t0())),
            "GET",
        );
    }
}
