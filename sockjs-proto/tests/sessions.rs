//! Sessions: opening, one receiver at a time, closing, the message cache,
//! interrupted receivers, streamBytesLimit, the cookie, origins and the
//! session limit.

mod common;

use common::*;
use sockjs_proto::{
    AllowedOrigins, Answer, CloseFrame, CloseReason, Event, PreparedText, SendError, Server,
    SockJsConfig, Transport,
};

const GO_AWAY: &str = "c[3000,\"Go away!\"]";
const ANOTHER: &str = "c[2010,\"Another connection still open\"]";
const INTERRUPTED: &str = "c[1002,\"Connection interrupted\"]";
const OVERFLOW: &str = "c[4500,\"Session message cache overflow\"]";

fn prelude() -> String {
    format!("{}\n", "h".repeat(2048))
}

// ---- opening -----------------------------------------------------------------

#[test]
fn a_new_session_answers_o_and_tells_the_application() {
    let mut s = server();
    let res = response(s.handle(&post(&url("s", "xhr")), t0()));
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), "o\n");
    let events = events(&mut s);
    let [Event::Opened { session, transport }] = events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(transport, Transport::Xhr);
    let view = s.session(session).unwrap();
    assert_eq!(view.sockjs_id(), "s");
    assert!(view.is_open());
    assert_eq!(view.pending(), 0);
    assert_eq!(s.session_count(), 1);
}

#[test]
fn every_receiving_transport_opens_a_session_with_o() {
    let cases = [
        (Transport::Xhr, "o\n"),
        (Transport::XhrStreaming, "o\n"),
        (Transport::EventSource, "data: o\r\n\r\n"),
        (Transport::HtmlFile, "<script>\np(\"o\");\n</script>\r\n"),
        (Transport::Jsonp, "/**/callback(\"o\");\r\n"),
    ];
    for (transport, frame) in cases {
        let mut s = server();
        let now = t0();
        let (target, method) = receiving_target("s", transport);
        match s.handle(&req(method, &target), now) {
            Answer::Response(res) => {
                assert_eq!(body(&res), frame, "{transport:?}");
                assert_eq!(frames(transport, body(&res), true), ["o"]);
            }
            Answer::Stream { receiver, response } => {
                // The prelude alone, then `o` as an output of its own.
                assert_eq!(
                    frames(transport, body(&response), true),
                    Vec::<String>::new()
                );
                assert_eq!(wakeups(&mut s), [receiver]);
                assert_eq!(
                    output_text(&mut s, receiver, now),
                    (frame.to_owned(), false),
                    "{transport:?}"
                );
                assert_eq!(s.poll_output(receiver, now), None);
            }
            other => panic!("{other:?}"),
        }
        let events = events(&mut s);
        assert!(
            matches!(events[..], [Event::Opened { transport: t, .. }] if t == transport),
            "{events:?}"
        );
    }
}

// ---- one receiver at a time ----------------------------------------------------

#[test]
fn second_receiver_gets_2010_and_first_is_undisturbed() {
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let (first, _) = poll(s.handle(&post(&url("s", "xhr")), now));
    let second = response(s.handle(&post(&url("s", "xhr")), now));
    assert_eq!(second.status(), 200);
    assert_eq!(header(&second, "Content-Type"), JAVASCRIPT);
    assert_eq!(body(&second), format!("{ANOTHER}\n"));
    assert!(events(&mut s).is_empty(), "the session is not closed");
    assert_eq!(wakeups(&mut s), vec![]);

    xhr_send(&mut s, "s", r#"["x"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, first, now),
        ("a[\"x\"]\n".to_owned(), true)
    );
}

#[test]
fn second_streaming_receiver_gets_prelude_and_2010_and_ends() {
    let mut s = server();
    let now = t0();
    let (first, _) = open_xhr_streaming(&mut s, "s", now);
    // The refusal is a stream of its own: the prelude, then the close frame
    // as a chunk of its own, then the end.
    let (second, res) = stream(s.handle(&post(&url("s", "xhr_streaming")), now));
    assert_eq!(res.status(), 200);
    assert_eq!(body(&res), prelude());
    assert_eq!(wakeups(&mut s), [second]);
    assert_eq!(
        output_text(&mut s, second, now),
        (format!("{ANOTHER}\n"), true)
    );
    assert_eq!(s.poll_output(second, now), None);
    s.receiver_closed(second, now);
    // Other transports are refused in their own framing.
    let res = response(s.handle(&get(&url("s", "jsonp?c=cb")), now));
    assert_eq!(
        body(&res),
        "/**/cb(\"c[2010,\\\"Another connection still open\\\"]\");\r\n"
    );
    let answer = s.handle(&get(&url("s", "eventsource")), now);
    assert_eq!(
        answer_frames(&mut s, answer, Transport::EventSource, now),
        [ANOTHER]
    );
    assert!(events(&mut s).is_empty());

    xhr_send(&mut s, "s", r#"["x"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, first, now),
        ("a[\"x\"]\n".to_owned(), false)
    );
}

// ---- closing -------------------------------------------------------------------

#[test]
fn app_close_goes_to_the_receiver_and_every_later_request_until_removal() {
    let mut s = server();
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    assert_eq!(s.close(id, go_away()), Ok(()));
    assert_eq!(
        closed(&events(&mut s)),
        [CloseReason::Application(go_away())]
    );
    assert_eq!(woken_output(&mut s, r, now), (format!("{GO_AWAY}\n"), true));
    assert_eq!(s.poll_output(r, now), None);
    s.receiver_closed(r, now);

    let later = now + secs(1);
    assert_eq!(xhr_now(&mut s, "s", later), format!("{GO_AWAY}\n"));
    assert_eq!(xhr_now(&mut s, "s", later), format!("{GO_AWAY}\n"));
    let res = response(s.handle(&get(&url("s", "jsonp?c=x")), later));
    assert_eq!(body(&res), "/**/x(\"c[3000,\\\"Go away!\\\"]\");\r\n");
    for transport in [Transport::XhrStreaming, Transport::EventSource] {
        let (target, method) = receiving_target("s", transport);
        let answer = s.handle(&req(method, &target), later);
        assert_eq!(answer_frames(&mut s, answer, transport, later), [GO_AWAY]);
    }
    // The application cannot use it any more; the client cannot send.
    assert_eq!(s.send(id, "x"), Err(SendError::Closed));
    assert_eq!(s.close(id, go_away()), Err(SendError::Closed));
    assert_eq!(xhr_send(&mut s, "s", r#"["x"]"#, later).status(), 404);
    assert!(events(&mut s).is_empty());

    // Removed disconnectDelay after the receiver left, not before.
    s.handle_timeout(before(now + secs(5), NS));
    assert_eq!(s.session_count(), 1);
    assert_eq!(
        xhr_now(&mut s, "s", before(now + secs(5), NS)),
        format!("{GO_AWAY}\n")
    );
    s.handle_timeout(now + secs(5));
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty(), "one Closed event only");
    assert_eq!(s.send(id, "x"), Err(SendError::UnknownSession));

    // A new request opens a fresh session.
    let fresh = open_xhr(&mut s, "s", now + secs(5));
    assert_ne!(fresh, id);
}

#[test]
fn a_handler_that_closes_at_once_answers_o_then_the_close_frame() {
    let mut s = server();
    let now = t0();
    // sockjs-protocol's `close` service, over xhr and jsonp.
    assert_eq!(xhr_now(&mut s, "x", now), "o\n");
    let id = opened(&events(&mut s));
    s.close(id, go_away()).unwrap();
    assert_eq!(xhr_now(&mut s, "x", now), format!("{GO_AWAY}\n"));
    assert_eq!(xhr_now(&mut s, "x", now), format!("{GO_AWAY}\n"));

    let res = response(s.handle(&get(&url("j", "jsonp?c=x")), now));
    assert_eq!(body(&res), "/**/x(\"o\");\r\n");
    let id = opened(&events(&mut s));
    s.close(id, go_away()).unwrap();
    for _ in 0..2 {
        let res = response(s.handle(&get(&url("j", "jsonp?c=x")), now));
        assert_eq!(body(&res), "/**/x(\"c[3000,\\\"Go away!\\\"]\");\r\n");
    }
}

#[test]
fn streaming_receivers_of_a_closing_handler_end_after_the_close_frame() {
    let mut s = server();
    let now = t0();
    let (r1, id) = open_xhr_streaming(&mut s, "s", now);
    s.close(id, go_away()).unwrap();
    assert_eq!(
        woken_output(&mut s, r1, now),
        (format!("{GO_AWAY}\n"), true)
    );
    let answer = s.handle(&post(&url("s", "xhr_streaming")), now);
    assert_eq!(
        answer_frames(&mut s, answer, Transport::XhrStreaming, now),
        [GO_AWAY]
    );
}

#[test]
fn a_handler_that_closes_as_the_stream_opens_sends_o_then_the_close_frame_in_two_outputs() {
    // sockjs-protocol's HandlingClose.test_close_frame: the application
    // closes before the adapter pulled anything; `o` still comes first, as
    // a chunk of its own, then the close frame, then the end.
    for transport in [
        Transport::XhrStreaming,
        Transport::EventSource,
        Transport::HtmlFile,
    ] {
        let mut s = server();
        let now = t0();
        let (target, method) = receiving_target("s", transport);
        let r = start_stream(&mut s, &req(method, &target), transport, true, now);
        let id = opened(&events(&mut s));
        s.close(id, go_away()).unwrap();
        assert_eq!(
            drain_stream(&mut s, r, transport, now),
            ["o", GO_AWAY],
            "{transport:?}"
        );
        let answer = s.handle(&req(method, &target), now);
        assert_eq!(answer_frames(&mut s, answer, transport, now), [GO_AWAY]);
    }
}

#[test]
fn a_custom_close_frame_is_repeated_with_its_code_and_escaped_reason() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    s.close(id, CloseFrame::new(4001, "bye \"now\"\n")).unwrap();
    assert_eq!(
        closed(&events(&mut s)),
        [CloseReason::Application(CloseFrame::new(
            4001,
            "bye \"now\"\n"
        ))]
    );
    assert_eq!(
        xhr_now(&mut s, "s", now),
        "c[4001,\"bye \\\"now\\\"\\n\"]\n"
    );
}

#[test]
fn a_poll_waiting_when_the_app_closes_gets_the_close_frame() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    let (r, _) = poll(s.handle(&post(&url("s", "xhr")), now));
    s.close(id, go_away()).unwrap();
    assert_eq!(woken_output(&mut s, r, now), (format!("{GO_AWAY}\n"), true));
    s.receiver_closed(r, now);
    assert_eq!(xhr_now(&mut s, "s", now), format!("{GO_AWAY}\n"));
}

#[test]
fn shutdown_closes_every_open_session_with_1001() {
    let mut s = server();
    let now = t0();
    let (r, _) = open_xhr_streaming(&mut s, "a", now);
    open_xhr(&mut s, "b", now);
    let mut ws = WsClient::connect(&mut s, &url("c", "websocket"), now);
    events(&mut s);
    wakeups(&mut s);
    ws.recv(&mut s, now);
    s.shutdown();
    assert_eq!(
        closed(&events(&mut s)),
        [
            CloseReason::Shutdown,
            CloseReason::Shutdown,
            CloseReason::Shutdown
        ]
    );
    let bye = "c[1001,\"Server shutting down\"]";
    assert_eq!(output_text(&mut s, r, now), (format!("{bye}\n"), true));
    assert_eq!(xhr_now(&mut s, "b", now), format!("{bye}\n"));
    assert_eq!(
        ws.recv(&mut s, now),
        [
            text(bye),
            WsSeen::Close(Some((1001, "Server shutting down".to_owned())))
        ]
    );
    // Nothing is open any more: a second shutdown does nothing.
    s.shutdown();
    assert!(events(&mut s).is_empty());
}

// ---- the message cache -----------------------------------------------------------

#[test]
fn messages_sent_with_no_receiver_wait_and_come_in_order_in_one_frame() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    for m in ["m1", "m2", "m3", "m4", "m5"] {
        s.send(id, m).unwrap();
    }
    assert_eq!(s.session(id).unwrap().pending(), 5);
    assert_eq!(wakeups(&mut s), vec![]);
    assert_eq!(
        xhr_now(&mut s, "s", now),
        "a[\"m1\",\"m2\",\"m3\",\"m4\",\"m5\"]\n"
    );
    assert_eq!(s.session(id).unwrap().pending(), 0);
}

#[test]
fn messages_sent_while_a_stream_is_not_pulled_come_in_one_frame() {
    let mut s = server();
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    for m in ["m1", "m2", "m3"] {
        s.send(id, m).unwrap();
    }
    // One wake-up for the three.
    assert_eq!(
        woken_output(&mut s, r, now),
        ("a[\"m1\",\"m2\",\"m3\"]\n".to_owned(), false)
    );
    assert_eq!(s.poll_output(r, now), None);
}

#[test]
fn waiting_messages_are_delivered_before_the_close_frame_to_a_poll() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    s.send(id, "a").unwrap();
    s.send(id, "b").unwrap();
    s.close(id, go_away()).unwrap();
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"a\",\"b\"]\n");
    assert_eq!(xhr_now(&mut s, "s", now), format!("{GO_AWAY}\n"));
    assert_eq!(xhr_now(&mut s, "s", now), format!("{GO_AWAY}\n"));
}

#[test]
fn waiting_messages_are_delivered_before_the_close_frame_to_a_stream() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    s.send(id, "a").unwrap();
    s.close(id, go_away()).unwrap();
    let answer = s.handle(&post(&url("s", "xhr_streaming")), now);
    assert_eq!(
        answer_frames(&mut s, answer, Transport::XhrStreaming, now),
        ["a[\"a\"]", GO_AWAY]
    );
    assert_eq!(xhr_now(&mut s, "s", now), format!("{GO_AWAY}\n"));
}

#[test]
fn cache_overflow_at_size_plus_one_closes_with_4500_after_the_cached_messages() {
    let mut s = server_with(SockJsConfig::default().http_message_cache_size(3));
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    for m in ["1", "2", "3"] {
        assert_eq!(s.send(id, m), Ok(()));
    }
    assert!(events(&mut s).is_empty());
    assert_eq!(s.send(id, "4"), Err(SendError::CacheOverflow));
    assert_eq!(closed(&events(&mut s)), [CloseReason::CacheOverflow]);
    assert_eq!(s.send(id, "5"), Err(SendError::Closed));
    assert!(!s.session(id).unwrap().is_open());
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"1\",\"2\",\"3\"]\n");
    assert_eq!(xhr_now(&mut s, "s", now), format!("{OVERFLOW}\n"));
}

#[test]
fn an_unpulled_stream_is_bounded_by_the_send_buffer_not_the_cache() {
    let config = SockJsConfig::default()
        .http_message_cache_size(2)
        .send_buffer_size_limit(4);
    let mut s = server_with(config);
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    // A receiver is attached: more messages than the cache holds may wait
    // for it, up to the send buffer's bytes.
    for m in ["1", "2", "3", "4"] {
        s.send(id, m).unwrap();
    }
    assert_eq!(s.send(id, "5"), Err(SendError::BufferOverflow));
    assert_eq!(closed(&events(&mut s)), [CloseReason::BufferOverflow]);
    assert_eq!(wakeups(&mut s), [r]);
    assert_eq!(
        drain_stream(&mut s, r, Transport::XhrStreaming, now),
        [
            "a[\"1\",\"2\",\"3\",\"4\"]",
            "c[4500,\"Send buffer overflow\"]"
        ]
    );
}

#[test]
fn a_pulled_stream_never_overflows() {
    let mut s = server_with(SockJsConfig::default().http_message_cache_size(2));
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    for i in 0..10 {
        s.send(id, i.to_string()).unwrap();
        let (out, end) = woken_output(&mut s, r, now);
        assert_eq!(out, format!("a[\"{i}\"]\n"));
        assert!(!end);
    }
}

#[test]
fn prepared_messages_join_the_same_frame_as_sent_ones_in_every_session() {
    let mut s = server();
    let now = t0();
    let a = open_xhr(&mut s, "a", now);
    let (r, b) = open_xhr_streaming(&mut s, "b", now);
    let shared = PreparedText::new("\"shared\"\u{2028}");
    for id in [a, b] {
        s.send(id, "before").unwrap();
        s.send_prepared(id, &shared).unwrap();
        s.send(id, "after").unwrap();
    }
    let frame = "a[\"before\",\"\\\"shared\\\"\\u2028\",\"after\"]";
    assert_eq!(s.session(a).unwrap().pending(), 3);
    assert_eq!(s.session(a).unwrap().pending_bytes(), 6 + 11 + 5);
    assert_eq!(xhr_now(&mut s, "a", now), format!("{frame}\n"));
    assert_eq!(woken_output(&mut s, r, now), (format!("{frame}\n"), false));
}

#[test]
fn prepared_messages_meet_the_same_limits_as_sent_ones() {
    let mut s = server_with(SockJsConfig::default().http_message_cache_size(2));
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    let one = PreparedText::new("1");
    assert_eq!(s.send_prepared(id, &one), Ok(()));
    assert_eq!(s.send(id, "2"), Ok(()));
    assert_eq!(s.send_prepared(id, &one), Err(SendError::CacheOverflow));
    assert_eq!(closed(&events(&mut s)), [CloseReason::CacheOverflow]);
    assert_eq!(s.send_prepared(id, &one), Err(SendError::Closed));

    let config = SockJsConfig::default().send_buffer_size_limit(4);
    let mut s = server_with(config);
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    let two = PreparedText::new("22");
    assert_eq!(s.send_prepared(id, &two), Ok(()));
    assert_eq!(s.send_prepared(id, &two), Ok(()));
    assert_eq!(s.send_prepared(id, &two), Err(SendError::BufferOverflow));
    assert_eq!(closed(&events(&mut s)), [CloseReason::BufferOverflow]);
    assert_eq!(
        drain_stream(&mut s, r, Transport::XhrStreaming, now),
        ["a[\"22\",\"22\"]", "c[4500,\"Send buffer overflow\"]"]
    );
}

// ---- interrupted receivers ----------------------------------------------------------

#[test]
fn an_interrupted_stream_closes_the_session_with_1002() {
    let mut s = server();
    let now = t0();
    let (r1, _) = open_xhr_streaming(&mut s, "s", now);
    let answer = s.handle(&post(&url("s", "xhr_streaming")), now);
    assert_eq!(
        answer_frames(&mut s, answer, Transport::XhrStreaming, now),
        [ANOTHER]
    );
    s.receiver_closed(r1, now);
    assert_eq!(closed(&events(&mut s)), [CloseReason::Interrupted]);
    let answer = s.handle(&post(&url("s", "xhr_streaming")), now);
    assert_eq!(
        answer_frames(&mut s, answer, Transport::XhrStreaming, now),
        [INTERRUPTED]
    );
    assert_eq!(xhr_now(&mut s, "s", now), format!("{INTERRUPTED}\n"));
}

#[test]
fn an_interrupted_poll_closes_the_session_with_1002() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    let (r1, _) = poll(s.handle(&post(&url("s", "xhr")), now));
    assert_eq!(xhr_now(&mut s, "s", now), format!("{ANOTHER}\n"));
    s.receiver_closed(r1, now);
    assert_eq!(closed(&events(&mut s)), [CloseReason::Interrupted]);
    assert_eq!(s.send(id, "x"), Err(SendError::Closed));
    assert_eq!(xhr_now(&mut s, "s", now), format!("{INTERRUPTED}\n"));
    // Reporting it twice changes nothing.
    s.receiver_closed(r1, now);
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_receiver_the_core_ended_does_not_interrupt() {
    let mut s = server();
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    let (r, _) = poll(s.handle(&post(&url("s", "xhr")), now));
    s.send(id, "x").unwrap();
    assert_eq!(
        woken_output(&mut s, r, now),
        ("a[\"x\"]\n".to_owned(), true)
    );
    s.receiver_closed(r, now);
    assert!(events(&mut s).is_empty());
    assert!(s.session(id).unwrap().is_open());
    let (r, _) = poll(s.handle(&post(&url("s", "xhr")), now));
    assert_eq!(s.poll_output(r, now), None);
}

#[test]
fn a_stream_that_ended_at_the_limit_does_not_interrupt() {
    let mut s = server_with(SockJsConfig::default().stream_bytes_limit(3));
    let now = t0();
    let (r, id) = open_xhr_streaming(&mut s, "s", now);
    s.send(id, "x").unwrap();
    assert_eq!(
        woken_output(&mut s, r, now),
        ("a[\"x\"]\n".to_owned(), true)
    );
    s.receiver_closed(r, now);
    assert!(events(&mut s).is_empty());
    assert!(s.session(id).unwrap().is_open());
}

// ---- streamBytesLimit ----------------------------------------------------------------

#[test]
fn xhr_streaming_ends_once_frames_reach_the_limit() {
    // sockjs-protocol's XhrStreaming.test_response_limit.
    let mut s = server_with(SockJsConfig::default().stream_bytes_limit(4096));
    let now = t0();
    let (r, _) = open_xhr_streaming(&mut s, "s", now);
    let msg = format!("\"{}\"", "x".repeat(128));
    for i in 0..31 {
        let sent = xhr_send(&mut s, "s", &format!("[{msg}]"), now);
        assert_eq!(sent.status(), 204);
        echo(&mut s);
        // 2 + 30 * 134 = 4022 bytes after 30 messages, 4156 after 31.
        assert_eq!(
            woken_output(&mut s, r, now),
            (format!("a[{msg}]\n"), i == 30),
            "message {i}"
        );
    }
    assert_eq!(s.poll_output(r, now), None);
    s.receiver_closed(r, now);
    assert!(events(&mut s).is_empty());
    // The client opens a new one on the same session: no `o` this time.
    let (r2, res) = stream(s.handle(&post(&url("s", "xhr_streaming")), now));
    assert_eq!(body(&res), prelude());
    assert_eq!(wakeups(&mut s), vec![]);
    xhr_send(&mut s, "s", r#"["y"]"#, now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r2, now),
        ("a[\"y\"]\n".to_owned(), false)
    );
}

#[test]
fn eventsource_ends_once_frames_reach_the_limit() {
    let mut s = server_with(SockJsConfig::default().stream_bytes_limit(4096));
    let now = t0();
    let r = start_stream(
        &mut s,
        &get(&url("s", "eventsource")),
        Transport::EventSource,
        true,
        now,
    );
    assert_eq!(
        output_text(&mut s, r, now),
        ("data: o\r\n\r\n".to_owned(), false)
    );
    let msg = format!("\"{}\"", "x".repeat(4096));
    xhr_send(&mut s, "s", &format!("[{msg}]"), now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        (format!("data: a[{msg}]\r\n\r\n"), true)
    );
}

#[test]
fn htmlfile_ends_once_frames_reach_the_limit() {
    let mut s = server_with(SockJsConfig::default().stream_bytes_limit(4096));
    let now = t0();
    let r = start_stream(
        &mut s,
        &get(&url("s", "htmlfile?c=callback")),
        Transport::HtmlFile,
        true,
        now,
    );
    assert_eq!(
        drain_until_idle(&mut s, r, now),
        ["<script>\np(\"o\");\n</script>\r\n"]
    );
    let msg = "x".repeat(4096);
    xhr_send(&mut s, "s", &format!("[\"{msg}\"]"), now);
    echo(&mut s);
    assert_eq!(
        woken_output(&mut s, r, now),
        (
            format!("<script>\np(\"a[\\\"{msg}\\\"]\");\n</script>\r\n"),
            true
        )
    );
}

#[test]
fn the_limit_counts_framing_and_not_the_prelude() {
    // `o\n` is 2 bytes and `a["x"]\n` 7: a limit of 9 is reached exactly,
    // one of 10 is not.
    for (limit, ends) in [(9, true), (10, false)] {
        let mut s = server_with(SockJsConfig::default().stream_bytes_limit(limit));
        let now = t0();
        let (r, id) = open_xhr_streaming(&mut s, "s", now);
        s.send(id, "x").unwrap();
        assert_eq!(
            woken_output(&mut s, r, now),
            ("a[\"x\"]\n".to_owned(), ends),
            "limit {limit}"
        );
    }
}

#[test]
fn a_stream_whose_first_frame_reaches_the_limit_ends_after_it() {
    let mut s = server_with(SockJsConfig::default().stream_bytes_limit(2));
    let now = t0();
    // `o\n` alone reaches it.
    let req = post(&url("s", "xhr_streaming"));
    let r = start_stream(&mut s, &req, Transport::XhrStreaming, true, now);
    assert_eq!(output_text(&mut s, r, now), ("o\n".to_owned(), true));
    s.receiver_closed(r, now);
    let id = opened(&events(&mut s));
    // So do waiting messages.
    s.send(id, "x").unwrap();
    let req = get(&url("s", "eventsource"));
    let r = start_stream(&mut s, &req, Transport::EventSource, true, now);
    assert_eq!(
        output_text(&mut s, r, now),
        ("data: a[\"x\"]\r\n\r\n".to_owned(), true)
    );
    s.receiver_closed(r, now);
    assert!(
        events(&mut s).is_empty(),
        "ended by the core: no interruption"
    );
    // The session has no receiver: a new one attaches, with nothing to send.
    start_stream(&mut s, &req, Transport::EventSource, false, now);
}

#[test]
fn the_http_version_does_not_change_the_answers() {
    let answer = |version| {
        let mut s = server();
        let now = t0();
        let a = s.handle(&post(&url("s", "xhr_streaming")).version(version), now);
        let b = s.handle(&post(&url("t", "xhr")).version(version), now);
        let c = s.handle(&get("/info").version(version), now);
        [summary(&a), summary(&b), summary(&c)]
    };
    assert_eq!(
        answer(http::Version::HTTP_10),
        answer(http::Version::HTTP_11)
    );
}

// ---- the session cookie -----------------------------------------------------------------

/// Every transport response on a fresh server, with `cookie` as the
/// request's `Cookie` header.
fn transport_responses(config: SockJsConfig, cookie: Option<&str>) -> Vec<(String, Response)> {
    let mut s = server_with(config);
    let now = t0();
    let with = |r: Request| match cookie {
        Some(c) => r.header("Cookie", c),
        None => r,
    };
    let requests = [
        ("xhr", with(post(&url("a", "xhr")))),
        ("xhr again", with(post(&url("a", "xhr")))),
        ("xhr 2010", with(post(&url("a", "xhr")))),
        (
            "xhr_send",
            with(post(&url("a", "xhr_send")).body(r#"["x"]"#)),
        ),
        ("xhr_streaming", with(post(&url("b", "xhr_streaming")))),
        ("eventsource", with(get(&url("c", "eventsource")))),
        ("htmlfile", with(get(&url("d", "htmlfile?c=%63allback")))),
        ("jsonp", with(get(&url("e", "jsonp?c=%63allback")))),
        (
            "jsonp_send",
            with(
                post(&url("e", "jsonp_send"))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body("d=%5B%22x%22%5D"),
            ),
        ),
        ("OPTIONS xhr", with(options(&url("f", "xhr")))),
        (
            "OPTIONS xhr_streaming",
            with(options(&url("f", "xhr_streaming"))),
        ),
        ("OPTIONS xhr_send", with(options(&url("f", "xhr_send")))),
    ];
    requests
        .into_iter()
        .map(|(name, r)| {
            let res = match s.handle(&r, now) {
                Answer::Response(res)
                | Answer::Stream { response: res, .. }
                | Answer::Poll { response: res, .. } => res,
                other @ Answer::Upgrade { .. } => panic!("{other:?}"),
            };
            assert!(res.status().as_u16() < 300, "{name}: {res:?}");
            (name.to_owned(), res)
        })
        .collect()
}

#[test]
fn the_session_cookie_is_dummy_on_every_transport_response() {
    for (name, res) in transport_responses(SockJsConfig::default(), None) {
        assert_eq!(
            header(&res, "Set-Cookie"),
            "JSESSIONID=dummy; path=/",
            "{name}"
        );
    }
}

#[test]
fn the_session_cookie_echoes_the_request_cookie() {
    for cookie in ["JSESSIONID=abcdef", "a=1; JSESSIONID=abcdef; b=2"] {
        for (name, res) in transport_responses(SockJsConfig::default(), Some(cookie)) {
            assert_eq!(
                header(&res, "Set-Cookie"),
                "JSESSIONID=abcdef; path=/",
                "{name} {cookie}"
            );
        }
    }
}

#[test]
fn a_session_cookie_that_is_empty_or_not_a_token_becomes_dummy() {
    for value in ["", "a b", "a\tb", "a\u{1}b", "a\u{7f}b", "\u{e9}"] {
        let cookie = format!("JSESSIONID={value}");
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            // The `http` crate's types refuse a control character: no
            // request carries it to the core.
            assert!(http::HeaderValue::from_bytes(cookie.as_bytes()).is_err());
            continue;
        }
        for (name, res) in transport_responses(SockJsConfig::default(), Some(&cookie)) {
            assert_eq!(
                header(&res, "Set-Cookie"),
                "JSESSIONID=dummy; path=/",
                "{name} {cookie:?}"
            );
        }
    }
}

#[test]
fn no_session_cookie_when_not_needed() {
    let config = SockJsConfig::default().session_cookie_needed(false);
    for (name, res) in transport_responses(config, Some("JSESSIONID=abcdef")) {
        assert_eq!(
            header_values(&res, "Set-Cookie"),
            Vec::<&str>::new(),
            "{name}"
        );
    }
}

#[test]
fn no_session_cookie_on_info_greeting_or_iframe() {
    let mut s = server();
    for r in [
        get("/info"),
        options("/info"),
        get("/iframe.html"),
        get(""),
        get("/"),
    ] {
        let r = r.header("Cookie", "JSESSIONID=abcdef");
        let res = response(s.handle(&r, t0()));
        assert!(res.status().as_u16() < 300, "{res:?}");
        assert_no_header(&res, "Set-Cookie");
    }
}

// ---- allowed origins -----------------------------------------------------------------------

/// A request of every kind that checks the origin, for session `s`.
fn origin_checked_requests() -> Vec<(&'static str, Request)> {
    let ws = |path: &str| ws_request(&format!("{PREFIX}{path}"), &[]).1;
    vec![
        ("GET info", get("/info")),
        ("OPTIONS info", options("/info")),
        ("xhr", post(&url("s", "xhr"))),
        ("xhr_streaming", post(&url("s", "xhr_streaming"))),
        ("OPTIONS xhr", options(&url("s", "xhr"))),
        ("OPTIONS xhr_streaming", options(&url("s", "xhr_streaming"))),
        ("OPTIONS xhr_send", options(&url("s", "xhr_send"))),
        ("eventsource", get(&url("s", "eventsource"))),
        ("htmlfile", get(&url("s", "htmlfile?c=cb"))),
        ("jsonp", get(&url("s", "jsonp?c=cb"))),
        ("websocket", ws(&url("s", "websocket"))),
        ("raw websocket", ws("/websocket")),
    ]
}

/// Sets `Origin` and replaces `Host` with `example.com`.
fn from(r: Request, origin: Option<&str>) -> Request {
    let mut r = r;
    r.http.headers_mut().remove("host");
    let r = r.header("Host", "example.com");
    match origin {
        Some(o) => r.header("Origin", o),
        None => r,
    }
}

fn accepted(answer: &Answer) -> bool {
    match answer {
        Answer::Response(res) => {
            assert_ne!(res.status(), 403, "{res:?}");
            res.status().as_u16() < 300
        }
        Answer::Stream { .. } | Answer::Poll { .. } | Answer::Upgrade { .. } => true,
    }
}

#[test]
fn a_foreign_origin_is_403_everywhere() {
    for origin in [
        "http://evil.com",
        "http://example.com:8080",
        "null",
        "https://example.com.evil.com",
    ] {
        let mut s = server();
        for (name, r) in origin_checked_requests() {
            let res = response(s.handle(&from(r, Some(origin)), t0()));
            assert_eq!(res.status(), 403, "{name} {origin}");
            assert_text(&res, 403, "Forbidden");
            assert_no_cors(&res);
        }
        // And the send halves, to a session that exists.
        open_xhr(&mut s, "s", t0());
        let res = response(s.handle(
            &from(post(&url("s", "xhr_send")).body(r#"["x"]"#), Some(origin)),
            t0(),
        ));
        assert_eq!(res.status(), 403);
        let res = response(s.handle(
            &from(post(&url("s", "jsonp_send")).body(r#"["x"]"#), Some(origin)),
            t0(),
        ));
        assert_eq!(res.status(), 403);
        assert_eq!(s.session_count(), 1);
        assert!(events(&mut s).is_empty());
    }
}

#[test]
fn the_same_origin_and_no_origin_pass() {
    for origin in [
        None,
        Some("http://example.com"),
        Some("https://example.com"),
        Some("http://EXAMPLE.com:80"),
    ] {
        for (name, r) in origin_checked_requests() {
            let mut s = server();
            let answer = s.handle(&from(r, origin), t0());
            assert!(accepted(&answer), "{name} {origin:?}: {answer:?}");
        }
    }
}

#[test]
fn listed_origins_and_patterns_pass_and_others_are_403() {
    let list = AllowedOrigins::from_list([
        "https://*.example.org",
        "http://localhost:*",
        "https://app.test",
    ]);
    for (origin, ok) in [
        ("https://a.example.org", true),
        ("https://a.b.example.org", true),
        ("https://example.org", false),
        ("http://a.example.org", false),
        ("http://localhost:3000", true),
        ("https://app.test", true),
        ("https://app.test:8443", false),
        ("http://example.com", true), // the same origin is always allowed
        ("http://other.test", false),
    ] {
        for (name, r) in origin_checked_requests() {
            let mut s = server_with(SockJsConfig::default().allowed_origins(list.clone()));
            let answer = s.handle(&from(r, Some(origin)), t0());
            if ok {
                assert!(accepted(&answer), "{name} {origin}: {answer:?}");
            } else {
                assert!(
                    matches!(answer, Answer::Response(ref res) if res.status() == 403),
                    "{name} {origin}: {answer:?}"
                );
            }
        }
    }
}

#[test]
fn any_origin_passes_with_a_star() {
    for (name, r) in origin_checked_requests() {
        let mut s =
            server_with(SockJsConfig::default().allowed_origins(AllowedOrigins::from_list(["*"])));
        let answer = s.handle(&from(r, Some("http://anything.test")), t0());
        assert!(accepted(&answer), "{name}: {answer:?}");
    }
}

// ---- the session limit --------------------------------------------------------------------

#[test]
fn max_sessions_refuses_one_more_with_503() {
    let mut s = server_with(SockJsConfig::default().max_sessions(2));
    let now = t0();
    let a = open_xhr(&mut s, "a", now);
    open_xhr(&mut s, "b", now);
    let res = response(s.handle(&post(&url("c", "xhr")), now));
    assert_eq!(res.status(), 503);
    let res = response(s.handle(&post(&url("c", "xhr_streaming")), now));
    assert_eq!(res.status(), 503);
    let res = response(s.handle(&ws_request(&format!("{PREFIX}/websocket"), &[]).1, now));
    assert_eq!(res.status(), 503);
    let res = response(s.handle(
        &ws_request(&format!("{PREFIX}{}", url("c", "websocket")), &[]).1,
        now,
    ));
    assert_eq!(res.status(), 503);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.session_count(), 2);
    // The sessions there still work.
    s.send(a, "x").unwrap();
    assert_eq!(xhr_now(&mut s, "a", now), "a[\"x\"]\n");
    // Once one is gone, a new one opens.
    s.handle_timeout(now + secs(5));
    assert_eq!(
        closed(&events(&mut s)),
        [CloseReason::Expired, CloseReason::Expired]
    );
    open_xhr(&mut s, "c", now + secs(5));
}

#[test]
fn a_refused_request_opens_no_session() {
    let mut s: Server = server();
    let now = t0();
    response(s.handle(&get(&url("s", "jsonp")), now));
    response(
        s.handle(
            &post(&url("s", "xhr"))
                .header("Origin", "http://evil.com")
                .header("Host", "example.com"),
            now,
        ),
    );
    assert_eq!(xhr_send(&mut s, "s", r#"["x"]"#, now).status(), 404);
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

// ---- the send buffer -------------------------------------------------------------

#[test]
fn a_send_over_the_byte_limit_closes_the_session_with_4500_and_keeps_what_was_taken() {
    let mut s = server_with(SockJsConfig::default().send_buffer_size_limit(10));
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    s.send(id, "12345").unwrap();
    s.send(id, "6789").unwrap();
    assert_eq!(s.session(id).unwrap().pending_bytes(), 9);
    assert_eq!(s.send(id, "ab"), Err(SendError::BufferOverflow));
    assert_eq!(closed(&events(&mut s)), vec![CloseReason::BufferOverflow]);
    // What was accepted is delivered first, then the close frame.
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"12345\",\"6789\"]\n");
    assert_eq!(
        xhr_now(&mut s, "s", now),
        "c[4500,\"Send buffer overflow\"]\n"
    );
}

#[test]
fn drop_oldest_keeps_the_session_and_the_newest_messages() {
    let config = SockJsConfig::default()
        .send_buffer_size_limit(10)
        .overflow_strategy(ws_proto::OverflowStrategy::DropOldest);
    let mut s = server_with(config);
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    for m in ["aaaa", "bbbb", "cccc", "dd"] {
        s.send(id, m).unwrap();
    }
    assert!(events(&mut s).is_empty());
    assert_eq!(s.session(id).unwrap().pending_bytes(), 10);
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"bbbb\",\"cccc\",\"dd\"]\n");
    assert!(s.session(id).unwrap().is_open());
}

#[test]
fn a_waiting_sender_gets_room_back_when_a_poll_takes_the_messages() {
    let config = SockJsConfig::default()
        .send_buffer_size_limit(10)
        .http_message_cache_size(3);
    let mut s = server_with(config);
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    // Bytes: room until the limit is reached; a waited send may pass it by
    // one message, and nothing closes the session.
    assert_eq!(s.poll_room(id), Ok(true));
    s.send_waited(id, "123456").unwrap();
    assert_eq!(s.poll_room(id), Ok(true), "6 of 10 bytes");
    s.send_waited(id, "789abcdef").unwrap();
    assert_eq!(s.session(id).unwrap().pending_bytes(), 15);
    assert_eq!(s.poll_room(id), Ok(false), "15 of 10 bytes");
    assert!(events(&mut s).is_empty(), "no close, no room yet");
    // The poll takes both messages: room again, said once.
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"123456\",\"789abcdef\"]\n");
    assert_eq!(events(&mut s), [Event::Room { session: id }]);
    assert_eq!(s.poll_room(id), Ok(true));
    // Messages: the cache's count limit too.
    for m in ["a", "b", "c"] {
        s.send_waited(id, m).unwrap();
    }
    assert_eq!(s.poll_room(id), Ok(false), "3 of 3 messages");
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"a\",\"b\",\"c\"]\n");
    assert_eq!(events(&mut s), [Event::Room { session: id }]);
    assert!(s.session(id).unwrap().is_open());
}

#[test]
fn room_is_announced_only_to_a_sender_that_waited() {
    let mut s = server_with(SockJsConfig::default().send_buffer_size_limit(4));
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    s.send_waited(id, "12345").unwrap();
    // Nobody asked for room: the poll taking the message says nothing.
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"12345\"]\n");
    assert!(events(&mut s).is_empty());
}

#[test]
fn a_closed_session_has_no_room_and_takes_no_waited_send() {
    let mut s = server_with(SockJsConfig::default());
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    s.close(id, CloseFrame::new(3000, "Go away!")).unwrap();
    assert_eq!(s.poll_room(id), Err(SendError::Closed));
    assert_eq!(s.send_waited(id, "x"), Err(SendError::Closed));
}

// ---- which session a request concerns ----------------------------------------------

#[test]
fn request_session_tells_opening_requests_from_those_of_existing_sessions() {
    use sockjs_proto::RequestSession;
    let mut s = server();
    let now = t0();
    assert_eq!(s.session_of(&get("/info")), RequestSession::None);
    assert_eq!(s.session_of(&get("/")), RequestSession::None);
    assert_eq!(
        s.session_of(&post(&url("s", "xhr"))),
        RequestSession::Opens(Transport::Xhr)
    );
    assert_eq!(
        s.session_of(&post(&url("s", "xhr_send"))),
        RequestSession::None
    );
    assert_eq!(
        s.session_of(&get(&url("s", "websocket"))),
        RequestSession::Opens(Transport::WebSocket)
    );
    assert_eq!(
        s.session_of(&get("/websocket")),
        RequestSession::Opens(Transport::RawWebSocket)
    );
    let id = open_xhr(&mut s, "s", now);
    assert_eq!(
        s.session_of(&post(&url("s", "xhr_send"))),
        RequestSession::Sends(id)
    );
    assert_eq!(
        s.session_of(&post(&url("s", "jsonp_send"))),
        RequestSession::Sends(id)
    );
    for receiving in ["xhr", "xhr_streaming", "eventsource", "htmlfile", "jsonp"] {
        assert_eq!(
            s.session_of(&req("GET", &url("s", receiving))),
            RequestSession::Receives(id),
            "{receiving}"
        );
    }
    // Every WebSocket is a session of its own.
    assert_eq!(
        s.session_of(&get(&url("s", "websocket"))),
        RequestSession::Opens(Transport::WebSocket)
    );
    assert_eq!(s.session_of(&get("/other/000/s/xhr")), RequestSession::None);
}
