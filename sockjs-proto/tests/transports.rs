//! The HTTP transports: status, headers, preludes, framing, preflights and
//! the error answers.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use sockjs_proto::{AllowedOrigins, Event, Server, SockJsConfig, Transport};

const FORM: &str = "application/x-www-form-urlencoded";

/// A server that lets any origin in, so that CORS can be seen with any
/// `Origin`.
fn open_server() -> Server {
    server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::Any))
}

// ---- xhr -------------------------------------------------------------------

#[test]
fn xhr_opens_with_o_newline_not_cached_with_cors_and_cookie() {
    let mut s = server();
    let res = response(s.handle(&post(&url("s", "xhr")), t0()));
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), "o\n");
    assert_eq!(header(&res, "Content-Type"), JAVASCRIPT);
    assert_not_cached(&res);
    assert_cors(&res, None);
    assert_cookie(&res, "dummy");
    let events = events(&mut s);
    assert!(matches!(
        events[..],
        [Event::Opened {
            transport: Transport::Xhr,
            ..
        }]
    ));
}

#[test]
fn xhr_send_answers_204_empty_text_plain_not_cached_with_cors() {
    let mut s = server();
    open_xhr(&mut s, "s", t0());
    let res = xhr_send(&mut s, "s", r#"["x"]"#, t0());
    assert_eq!(res.status(), 204);
    assert!(res.body().is_empty());
    assert_eq!(header(&res, "Content-Type"), TEXT_PLAIN);
    assert_not_cached(&res);
    assert_cors(&res, None);
    assert_cookie(&res, "dummy");
    assert_eq!(messages(&events(&mut s)), ["x"]);
}

#[test]
fn xhr_poll_delivers_one_a_frame_and_ends() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    xhr_send(&mut s, "s", r#"["x"]"#, now);
    echo(&mut s);
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"x\"]\n");
}

#[test]
fn xhr_poll_waits_then_answers_with_the_next_frame() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let (r, res) = poll(s.handle(&post(&url("s", "xhr")), now));
    assert_eq!(res.status(), 200);
    assert!(res.body().is_empty());
    assert_eq!(header(&res, "Content-Type"), JAVASCRIPT);
    assert_not_cached(&res);
    assert_cors(&res, None);
    assert_eq!(s.poll_output(r, now), None);
    xhr_send(&mut s, "s", r#"["x","y"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        ("a[\"x\",\"y\"]\n".to_owned(), true)
    );
    assert_eq!(s.poll_output(r, now), None);
}

// ---- xhr_streaming ---------------------------------------------------------

#[test]
fn xhr_streaming_prelude_is_2048_h_then_newline() {
    let mut s = server();
    let now = t0();
    let (r, res) = stream(s.handle(&post(&url("s", "xhr_streaming")), now));
    assert_eq!(res.status(), 200);
    // The prelude is the whole first part; `o` comes as an output of its
    // own (each written as a chunk of its own: clients read chunk by chunk).
    let expected = format!("{}\n", "h".repeat(2048));
    assert_eq!(body(&res), expected);
    assert_eq!(wakeups(&mut s), [r]);
    assert_eq!(output_text(&mut s, r, now), ("o\n".to_owned(), false));
    assert_eq!(s.poll_output(r, now), None);
    assert_eq!(header(&res, "Content-Type"), JAVASCRIPT);
    assert_eq!(header(&res, "X-Accel-Buffering"), "no");
    assert_not_cached(&res);
    assert_cors(&res, None);
    assert_cookie(&res, "dummy");
    let id = opened(&events(&mut s));
    assert_eq!(s.session(id).unwrap().transport(), Transport::XhrStreaming);

    let sent = xhr_send(&mut s, "s", r#"["x"]"#, now);
    assert_eq!(sent.status(), 204);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        ("a[\"x\"]\n".to_owned(), false)
    );
}

// ---- eventsource -----------------------------------------------------------

#[test]
fn eventsource_prelude_is_crlf_and_frames_are_data_lines() {
    let mut s = server();
    let now = t0();
    let (r, res) = stream(s.handle(&get(&url("s", "eventsource")), now));
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "Content-Type"), "text/event-stream");
    assert_eq!(header(&res, "X-Accel-Buffering"), "no");
    assert_not_cached(&res);
    // Browsers read an EventSource from another origin with CORS.
    assert_cors(&res, None);
    assert_cookie(&res, "dummy");
    assert_eq!(body(&res), "\r\n");
    assert_eq!(wakeups(&mut s), [r]);
    assert_eq!(
        output_text(&mut s, r, now),
        ("data: o\r\n\r\n".to_owned(), false)
    );

    xhr_send(&mut s, "s", r#"["x"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        ("data: a[\"x\"]\r\n\r\n".to_owned(), false)
    );
    // Leading spaces, NUL and line breaks stay inside the JSON.
    let sent = xhr_send(&mut s, "s", r#"["  \u0000\n\r "]"#, now);
    assert_eq!(sent.status(), 204);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        ("data: a[\"  \\u0000\\n\\r \"]\r\n\r\n".to_owned(), false)
    );
}

// ---- htmlfile --------------------------------------------------------------

#[test]
fn htmlfile_prelude_is_the_page_padded_past_1024_bytes() {
    let mut s = server();
    let now = t0();
    let (r, res) = stream(s.handle(&get(&url("s", "htmlfile?c=%63allback")), now));
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "Content-Type"), TEXT_HTML);
    assert_eq!(header(&res, "X-Accel-Buffering"), "no");
    assert_not_cached(&res);
    assert_no_cors(&res);
    assert_cookie(&res, "dummy");
    let prelude = body(&res);
    assert_eq!(prelude.trim(), htmlfile_head("callback"));
    assert!(prelude.len() > 1024, "{}", prelude.len());
    assert!(prelude.ends_with("\r\n\r\n"));
    assert_eq!(wakeups(&mut s), [r]);
    assert_eq!(
        output_text(&mut s, r, now),
        ("<script>\np(\"o\");\n</script>\r\n".to_owned(), false)
    );

    xhr_send(&mut s, "s", r#"["x"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        (
            "<script>\np(\"a[\\\"x\\\"]\");\n</script>\r\n".to_owned(),
            false
        )
    );
}

// ---- jsonp -----------------------------------------------------------------

#[test]
fn jsonp_wraps_each_frame_in_a_callback_call() {
    let mut s = server();
    let now = t0();
    let res = response(s.handle(&get(&url("s", "jsonp?c=%63allback")), now));
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "Content-Type"), JAVASCRIPT);
    assert_not_cached(&res);
    assert_no_cors(&res);
    assert_cookie(&res, "dummy");
    assert_eq!(body(&res), "/**/callback(\"o\");\r\n");

    let res = response(
        s.handle(
            &post(&url("s", "jsonp_send"))
                .header("Content-Type", FORM)
                .body("d=%5B%22x%22%5D"),
            now,
        ),
    );
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), "ok");
    assert_eq!(header(&res, "Content-Type"), TEXT_PLAIN);
    assert_not_cached(&res);
    assert_no_cors(&res);
    assert_cookie(&res, "dummy");
    echo(&mut s);

    let res = response(s.handle(&get(&url("s", "jsonp?c=%63allback")), now));
    assert_eq!(body(&res), "/**/callback(\"a[\\\"x\\\"]\");\r\n");
}

#[test]
fn jsonp_poll_waits_for_the_next_frame() {
    let mut s = server();
    let now = t0();
    response(s.handle(&get(&url("s", "jsonp?c=x")), now));
    let (r, res) = poll(s.handle(&get(&url("s", "jsonp?c=x")), now));
    assert_eq!(header(&res, "Content-Type"), JAVASCRIPT);
    xhr_send(&mut s, "s", r#"["x"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        ("/**/x(\"a[\\\"x\\\"]\");\r\n".to_owned(), true)
    );
}

#[test]
fn jsonp_send_takes_a_form_or_a_raw_body() {
    let mut s = server();
    let now = t0();
    let res = response(s.handle(&get(&url("s", "jsonp?c=x")), now));
    assert_eq!(body(&res), "/**/x(\"o\");\r\n");
    let res = response(
        s.handle(
            &post(&url("s", "jsonp_send"))
                .header("Content-Type", FORM)
                .body("d=%5B%22abc%22%5D"),
            now,
        ),
    );
    assert_eq!(body(&res), "ok");
    let res = response(
        s.handle(
            &post(&url("s", "jsonp_send"))
                .header("Content-Type", "text/plain")
                .body(r#"["%61bc"]"#),
            now,
        ),
    );
    assert_eq!(body(&res), "ok");
    echo(&mut s);
    let res = response(s.handle(&get(&url("s", "jsonp?c=x")), now));
    assert_eq!(body(&res), "/**/x(\"a[\\\"abc\\\",\\\"%61bc\\\"]\");\r\n");
}

// ---- CORS and preflights ---------------------------------------------------

/// The request of each transport on session `s`, with an `Origin`.
fn transport_requests() -> Vec<(&'static str, Request)> {
    vec![
        ("xhr", post(&url("s", "xhr"))),
        ("xhr_streaming", post(&url("s", "xhr_streaming"))),
        ("xhr_send", post(&url("s", "xhr_send")).body(r#"["x"]"#)),
        ("eventsource", get(&url("s", "eventsource"))),
        ("htmlfile", get(&url("s", "htmlfile?c=cb"))),
        ("jsonp", get(&url("s", "jsonp?c=cb"))),
        ("jsonp_send", post(&url("s", "jsonp_send")).body(r#"["x"]"#)),
    ]
}

#[test]
fn cors_headers_on_what_browsers_fetch_with_cors_the_xhr_family_and_eventsource() {
    let now = t0();
    for origin in [None, Some("http://app.test")] {
        for (name, r) in transport_requests() {
            let mut s = open_server();
            // A session to send to and to attach to.
            open_xhr(&mut s, "s", now);
            let r = match origin {
                Some(o) => r.header("Origin", o),
                None => r,
            };
            let res = match s.handle(&r, now) {
                sockjs_proto::Answer::Response(res)
                | sockjs_proto::Answer::Stream { response: res, .. }
                | sockjs_proto::Answer::Poll { response: res, .. } => res,
                other @ sockjs_proto::Answer::Upgrade { .. } => panic!("{other:?}"),
            };
            assert!(res.status().as_u16() < 300, "{name}: {res:?}");
            if name.starts_with("xhr") || name == "eventsource" {
                assert_cors(&res, origin);
            } else {
                assert_no_cors(&res);
            }
        }
    }
}

#[test]
fn options_on_the_xhr_family_is_204_cached_with_cors() {
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let mut s = open_server();
    for transport in ["xhr", "xhr_streaming", "xhr_send"] {
        for origin in [None, Some("test"), Some("null")] {
            let mut r = options(&url("abc", transport)).date(date);
            if let Some(o) = origin {
                r = r.header("Origin", o);
            }
            let res = response(s.handle(&r, t0()));
            assert_eq!(res.status(), 204, "{transport} {origin:?}");
            assert_eq!(
                header(&res, "Access-Control-Allow-Methods"),
                "OPTIONS, POST"
            );
            assert_cached_for_a_year(&res, date);
            let max_age: u64 = header(&res, "Access-Control-Max-Age").parse().unwrap();
            assert!(max_age >= 1_000_000);
            assert!(res.body().is_empty());
            assert_no_header(&res, "Content-Type");
            assert_cors(&res, origin);
        }
    }
    // A preflight opens nothing.
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn requested_headers_are_echoed_when_not_empty() {
    let mut s = server();
    let now = t0();
    let res = response(s.handle(
        &post(&url("a", "xhr")).header("Access-Control-Request-Headers", "a, b, c"),
        now,
    ));
    assert_eq!(res.status(), 200);
    assert_cors(&res, None);
    assert_eq!(header(&res, "Access-Control-Allow-Headers"), "a, b, c");

    let res = response(s.handle(
        &post(&url("b", "xhr")).header("Access-Control-Request-Headers", ""),
        now,
    ));
    assert_eq!(res.status(), 200);
    assert_cors(&res, None);
    assert_no_header(&res, "Access-Control-Allow-Headers");

    let res = response(s.handle(&post(&url("c", "xhr")), now));
    assert_cors(&res, None);
    assert_no_header(&res, "Access-Control-Allow-Headers");

    for value in ["x-requested-with", ""] {
        let res = response(s.handle(
            &options(&url("d", "xhr_send")).header("Access-Control-Request-Headers", value),
            now,
        ));
        if value.is_empty() {
            assert_no_header(&res, "Access-Control-Allow-Headers");
        } else {
            assert_eq!(header(&res, "Access-Control-Allow-Headers"), value);
        }
    }
}

#[test]
fn cors_is_suppressed_on_request() {
    let mut s = server_with(
        SockJsConfig::default()
            .suppress_cors(true)
            .allowed_origins(AllowedOrigins::Any),
    );
    let res = response(s.handle(
        &post(&url("s", "xhr")).header("Origin", "http://a.test"),
        t0(),
    ));
    assert_eq!(body(&res), "o\n");
    assert_no_cors(&res);
    let res = response(s.handle(&options(&url("s", "xhr")), t0()));
    assert_eq!(res.status(), 204);
    assert_no_header(&res, "Access-Control-Allow-Origin");
}

// ---- callbacks ---------------------------------------------------------------

#[test]
fn missing_callback_is_500_callback_parameter_required() {
    let mut s = server();
    for transport in ["htmlfile", "jsonp"] {
        for query in ["", "?d=x", "?c"] {
            let path = format!("{}{query}", url("a", transport));
            let res = response(s.handle(&get(&path), t0()));
            let expected = if query == "?c" {
                "invalid \"callback\" parameter"
            } else {
                "\"callback\" parameter required"
            };
            assert_text(&res, 500, expected);
        }
    }
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn bad_callback_is_500_invalid_callback_parameter() {
    let mut s = server();
    for transport in ["htmlfile", "jsonp"] {
        for cb in ["%20", "*", "abc(", "abc%28", "a%3Bb", "%zz", "%C3%A9"] {
            let path = format!("{}?c={cb}", url("a", transport));
            let res = response(s.handle(&get(&path), t0()));
            if cb == "%zz" {
                // Not a valid escape: the parameter is as good as missing.
                assert_eq!(res.status(), 500, "{cb}");
            } else {
                assert_text(&res, 500, "invalid \"callback\" parameter");
            }
        }
    }
    assert_eq!(s.session_count(), 0);
}

#[test]
fn callbacks_may_use_letters_digits_dash_underscore_and_dot() {
    let mut s = server();
    let res = response(s.handle(&get(&url("a", "jsonp?c=jQuery_1.2-3")), t0()));
    assert_eq!(body(&res), "/**/jQuery_1.2-3(\"o\");\r\n");
}

// ---- send errors -------------------------------------------------------------

#[test]
fn empty_send_body_is_500_payload_expected() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    assert_text(&xhr_send(&mut s, "s", "", now), 500, "Payload expected.");
    for data in ["", "d=", "p=p"] {
        let res = response(
            s.handle(
                &post(&url("s", "jsonp_send"))
                    .header("Content-Type", FORM)
                    .body(data),
                now,
            ),
        );
        assert_text(&res, 500, "Payload expected.");
    }
    // A raw jsonp_send body that is empty, too.
    let res = response(s.handle(&post(&url("s", "jsonp_send")), now));
    assert_text(&res, 500, "Payload expected.");
    assert!(events(&mut s).is_empty());
}

#[test]
fn broken_json_is_500_and_the_session_goes_on() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    for payload in [
        r#"["x"#,
        "x",
        "[1]",
        r#"{"a":"b"}"#,
        r#""x""#,
        r#"["a",]"#,
        " ",
    ] {
        assert_text(
            &xhr_send(&mut s, "s", payload, now),
            500,
            "Broken JSON encoding.",
        );
    }
    let res = response(
        s.handle(
            &post(&url("s", "jsonp_send"))
                .header("Content-Type", FORM)
                .body("d=%5B%22x"),
            now,
        ),
    );
    assert_text(&res, 500, "Broken JSON encoding.");
    assert!(events(&mut s).is_empty());

    let res = xhr_send(&mut s, "s", r#"["a"]"#, now);
    assert_eq!(res.status(), 204);
    echo(&mut s);
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"a\"]\n");
}

#[test]
fn send_to_an_unknown_session_is_404() {
    let mut s = server();
    let now = t0();
    let res = xhr_send(&mut s, "nope", r#"["x"]"#, now);
    assert_eq!(res.status(), 404);
    let res = response(
        s.handle(
            &post(&url("nope", "jsonp_send"))
                .header("Content-Type", FORM)
                .body("d=%5B%22x%22%5D"),
            now,
        ),
    );
    assert_eq!(res.status(), 404);
    // A send never opens a session.
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

/// One test per row: `xhr_send` takes `["a"]` whatever its Content-Type.
macro_rules! content_types {
    ($($name:ident: $ct:expr,)*) => {$(
        #[test]
        fn $name() {
            let mut s = server();
            let now = t0();
            open_xhr(&mut s, "s", now);
            let r = post(&url("s", "xhr_send")).header("Content-Type", $ct).body(r#"["a"]"#);
            let res = response(s.handle(&r, now));
            assert_eq!(res.status(), 204);
            assert!(res.body().is_empty());
            assert_eq!(messages(&events(&mut s)), ["a"]);
        }
    )*};
}

content_types! {
    xhr_send_accepts_text_plain: "text/plain",
    xhr_send_accepts_t: "T",
    xhr_send_accepts_application_json: "application/json",
    xhr_send_accepts_application_xml: "application/xml",
    xhr_send_accepts_an_empty_content_type: "",
    xhr_send_accepts_json_with_charset: "application/json; charset=utf-8",
    xhr_send_accepts_text_xml_with_charset: "text/xml; charset=utf-8",
    xhr_send_accepts_text_xml: "text/xml",
    xhr_send_accepts_a_form_content_type_as_raw_json: "application/x-www-form-urlencoded",
}

#[test]
fn messages_of_every_content_type_come_back_in_one_frame() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let types = [
        "text/plain",
        "T",
        "application/json",
        "application/xml",
        "",
        "application/json; charset=utf-8",
        "text/xml; charset=utf-8",
        "text/xml",
    ];
    for ct in types {
        let r = post(&url("s", "xhr_send"))
            .header("Content-Type", ct)
            .body(r#"["a"]"#);
        assert_eq!(response(s.handle(&r, now)).status(), 204);
    }
    echo(&mut s);
    let expected = format!("a[{}]\n", vec!["\"a\""; types.len()].join(","));
    assert_eq!(xhr_now(&mut s, "s", now), expected);
}

// ---- escaping ----------------------------------------------------------------

/// `\uXXXX` (lowercase) for each code unit.
fn u_escapes(units: impl IntoIterator<Item = u32>) -> String {
    use std::fmt::Write as _;
    units.into_iter().fold(String::new(), |mut out, u| {
        write!(out, "\\u{u:04x}").unwrap();
        out
    })
}

/// The characters the server must escape (beyond the C0 controls):
/// sockjs-protocol's `escapable_by_server` from U+00FF on.
fn server_killer_chars() -> Vec<char> {
    (0xffu32..=0xffff)
        .filter(
            |&c| matches!(c, 0x200c..=0x200f | 0x2028..=0x202f | 0x2060..=0x206f | 0xfff0..=0xffff),
        )
        .filter_map(char::from_u32)
        .collect()
}

#[test]
fn server_killer_characters_come_back_escaped_lowercase() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let raw: String = server_killer_chars().into_iter().collect();
    let res = xhr_send(&mut s, "s", &format!("[\"{raw}\"]"), now);
    assert_eq!(res.status(), 204);
    assert_eq!(messages(&echo(&mut s)), std::slice::from_ref(&raw));
    let polled = xhr_now(&mut s, "s", now);
    let recv = &polled.trim()[2..polled.trim().len() - 1];
    let expected = format!(
        "\"{}\"",
        u_escapes(server_killer_chars().into_iter().map(u32::from))
    );
    assert_eq!(recv, expected);
}

#[test]
fn control_characters_come_back_as_json_escapes() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let escaped = u_escapes(0u32..0x20);
    xhr_send(&mut s, "s", &format!("[\"{escaped}\\\"\\\\\"]"), now);
    echo(&mut s);
    let expected = concat!(
        r#"a[""#,
        r"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f",
        r"\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f",
        r#"\"\\"]"#,
        "\n"
    );
    assert_eq!(xhr_now(&mut s, "s", now), expected);
}

/// sockjs-protocol's `escapable_by_client`: what the browser escapes.
const CLIENT_KILLER_RANGES: &[(u32, u32)] = &[
    (0x22, 0x22),
    (0x5c, 0x5c),
    (0x00, 0x1f),
    (0x7f, 0x9f),
    (0xad, 0xad),
    (0x600, 0x604),
    (0x70f, 0x70f),
    (0x17b4, 0x17b5),
    (0x2000, 0x20ff),
    (0xfeff, 0xfeff),
    (0xfff0, 0xffff),
    (0x300, 0x333),
    (0x33d, 0x346),
    (0x34a, 0x34c),
    (0x350, 0x352),
    (0x357, 0x358),
    (0x35c, 0x362),
    (0x374, 0x374),
    (0x37e, 0x37e),
    (0x387, 0x387),
    (0x591, 0x5af),
    (0x5c4, 0x5c4),
    (0x610, 0x617),
    (0x653, 0x654),
    (0x657, 0x65b),
    (0x65d, 0x65e),
    (0x6df, 0x6e2),
    (0x6eb, 0x6ec),
    (0x730, 0x730),
    (0x732, 0x733),
    (0x735, 0x736),
    (0x73a, 0x73a),
    (0x73d, 0x73d),
    (0x73f, 0x741),
    (0x743, 0x743),
    (0x745, 0x745),
    (0x747, 0x747),
    (0x7eb, 0x7f1),
    (0x951, 0x951),
    (0x958, 0x95f),
    (0x9dc, 0x9dd),
    (0x9df, 0x9df),
    (0xa33, 0xa33),
    (0xa36, 0xa36),
    (0xa59, 0xa5b),
    (0xa5e, 0xa5e),
    (0xb5c, 0xb5d),
    (0xe38, 0xe39),
    (0xf43, 0xf43),
    (0xf4d, 0xf4d),
    (0xf52, 0xf52),
    (0xf57, 0xf57),
    (0xf5c, 0xf5c),
    (0xf69, 0xf69),
    (0xf72, 0xf76),
    (0xf78, 0xf78),
    (0xf80, 0xf83),
    (0xf93, 0xf93),
    (0xf9d, 0xf9d),
    (0xfa2, 0xfa2),
    (0xfa7, 0xfa7),
    (0xfac, 0xfac),
    (0xfb9, 0xfb9),
    (0x1939, 0x193a),
    (0x1a17, 0x1a17),
    (0x1b6b, 0x1b6b),
    (0x1cda, 0x1cdb),
    (0x1dc0, 0x1dcf),
    (0x1dfc, 0x1dfc),
    (0x1dfe, 0x1dfe),
    (0x1f71, 0x1f71),
    (0x1f73, 0x1f73),
    (0x1f75, 0x1f75),
    (0x1f77, 0x1f77),
    (0x1f79, 0x1f79),
    (0x1f7b, 0x1f7b),
    (0x1f7d, 0x1f7d),
    (0x1fbb, 0x1fbb),
    (0x1fbe, 0x1fbe),
    (0x1fc9, 0x1fc9),
    (0x1fcb, 0x1fcb),
    (0x1fd3, 0x1fd3),
    (0x1fdb, 0x1fdb),
    (0x1fe3, 0x1fe3),
    (0x1feb, 0x1feb),
    (0x1fee, 0x1fef),
    (0x1ff9, 0x1ff9),
    (0x1ffb, 0x1ffb),
    (0x1ffd, 0x1ffd),
    (0x2126, 0x2126),
    (0x212a, 0x212b),
    (0x2329, 0x232a),
    (0x2adc, 0x2adc),
    (0x302b, 0x302c),
    (0xaab2, 0xaab3),
    (0xf900, 0xfa0d),
    (0xfa10, 0xfa10),
    (0xfa12, 0xfa12),
    (0xfa15, 0xfa1e),
    (0xfa20, 0xfa20),
    (0xfa22, 0xfa22),
    (0xfa25, 0xfa26),
    (0xfa2a, 0xfa2d),
    (0xfa30, 0xfa6d),
    (0xfa70, 0xfad9),
    (0xfb1d, 0xfb1d),
    (0xfb1f, 0xfb1f),
    (0xfb2a, 0xfb36),
    (0xfb38, 0xfb3c),
    (0xfb3e, 0xfb3e),
    (0xfb40, 0xfb41),
    (0xfb43, 0xfb44),
    (0xfb46, 0xfb4e),
];

#[test]
fn client_killer_characters_sent_escaped_come_back_intact() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let chars: Vec<char> = (0u32..0x10000)
        .filter(|c| {
            CLIENT_KILLER_RANGES
                .iter()
                .any(|&(a, b)| (a..=b).contains(c))
        })
        .filter_map(char::from_u32)
        .collect();
    let escaped = u_escapes(chars.iter().map(|&c| u32::from(c)));
    let res = xhr_send(&mut s, "s", &format!("[\"{escaped}\"]"), now);
    assert_eq!(res.status(), 204);
    let original: String = chars.iter().collect();
    assert_eq!(messages(&echo(&mut s)), std::slice::from_ref(&original));
    let polled = xhr_now(&mut s, "s", now);
    let recv = &polled.trim()[2..polled.trim().len() - 1];
    assert_eq!(js_string(recv), original);
    // Nothing the server must escape went out raw.
    assert!(
        !recv.chars().any(|c| matches!(
            u32::from(c),
            0..=0x1f | 0x200c..=0x200f | 0x2028..=0x202f | 0x2060..=0x206f | 0xfff0..=0xffff
        )),
        "{recv}"
    );
}

#[test]
fn characters_beyond_the_bmp_go_out_as_escaped_surrogate_pairs() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    xhr_send(&mut s, "s", "[\"\u{1f600}\\ud83d\\ude00\"]", now);
    assert_eq!(messages(&echo(&mut s)), ["\u{1f600}\u{1f600}"]);
    assert_eq!(
        xhr_now(&mut s, "s", now),
        "a[\"\\ud83d\\ude00\\ud83d\\ude00\"]\n"
    );
}

#[test]
fn an_escaped_lone_surrogate_becomes_the_replacement_character() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let res = xhr_send(&mut s, "s", r#"["a\ud800b","\udc00","ok"]"#, now);
    assert_eq!(res.status(), 204);
    assert_eq!(messages(&events(&mut s)), ["a\u{fffd}b", "\u{fffd}", "ok"]);
}

#[test]
fn the_jsonp_and_htmlfile_frames_escape_the_frame_again() {
    let mut s = server();
    let now = t0();
    response(s.handle(&get(&url("j", "jsonp?c=cb")), now));
    xhr_send(&mut s, "j", r#"["\u2028\"\\"]"#, now);
    echo(&mut s);
    let res = response(s.handle(&get(&url("j", "jsonp?c=cb")), now));
    assert_eq!(
        body(&res),
        "/**/cb(\"a[\\\"\\\\u2028\\\\\\\"\\\\\\\\\\\"]\");\r\n"
    );
    assert_eq!(
        frames(
            Transport::Jsonp,
            &body(&res).replace("/**/cb(", "/**/callback("),
            false
        ),
        ["a[\"\\u2028\\\"\\\\\"]"]
    );
}

#[test]
fn htmlfile_frames_cannot_end_the_script_element() {
    let mut s = server();
    let now = t0();
    let (r, id) = open_stream(&mut s, Transport::HtmlFile, "s", now);
    let evil = "</script><script>alert(1)</script>&<!--\u{2028}";
    s.send(id, evil).unwrap();
    let (out, end) = woken_output(&mut s, r, now);
    assert!(!end);
    let inner = out
        .strip_prefix("<script>\np(")
        .and_then(|o| o.strip_suffix(");\n</script>\r\n"))
        .expect("one script element");
    for raw in ["<", ">", "&", "\u{2028}"] {
        assert!(!inner.contains(raw), "{raw:?} in {inner}");
    }
    assert_eq!(
        frames(Transport::HtmlFile, &out, false),
        ["a[\"</script><script>alert(1)</script>&<!--\\u2028\"]"]
    );
}
