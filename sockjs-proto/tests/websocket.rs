//! The websocket transports, with ws-proto's client on the other end.

mod common;

use std::time::Duration;

use common::*;
use sockjs_proto::{
    json::PayloadError, Answer, CloseCode, CloseFrame, CloseReason, Event, PreparedText, SendError,
    Server, SockJsConfig, Transport,
};

const HB: Duration = Duration::from_secs(25);
/// The embedded connections' default close timeout
/// (`ws_proto::WebSocketConfig::close_timeout`).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

fn connect_sockjs(s: &mut Server, session: &str) -> (WsClient, sockjs_proto::SessionId) {
    let mut ws = WsClient::connect(s, &url(session, "websocket"), t0());
    assert!(wakeups(s).contains(&ws.receiver));
    assert_eq!(ws.recv(s, t0()), [text("o")]);
    let events = events(s);
    let [Event::Opened { session, transport }] = events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(transport, Transport::WebSocket);
    (ws, session)
}

/// A raw websocket (`/websocket`) and the session it opened.
fn connect_raw(s: &mut Server) -> (WsClient, sockjs_proto::SessionId) {
    let ws = WsClient::connect(s, "/websocket", t0());
    let session = opened(&events(s));
    (ws, session)
}

// ---- the transport -----------------------------------------------------------------

#[test]
fn websocket_opens_with_o_as_a_text_message() {
    let mut s = server();
    let now = t0();
    let mut ws = WsClient::connect(&mut s, &url("s", "websocket"), now);
    // The open frame waits to be pulled.
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, now), [text("o")]);
    assert_eq!(ws.recv(&mut s, now), []);
    assert!(!ws.ended);
    let events = events(&mut s);
    assert!(matches!(
        events[..],
        [Event::Opened {
            transport: Transport::WebSocket,
            ..
        }]
    ));
}

#[test]
fn websocket_messages_are_echoed_as_a_frames() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, r#"["a"]"#, now);
    assert_eq!(messages(&echo(&mut s)), ["a"]);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, now), [text(r#"a["a"]"#)]);
    // Several messages in one payload, in order; several sends in one frame.
    ws.send(&mut s, r#"["x","y"]"#, now);
    let events = events(&mut s);
    assert_eq!(messages(&events), ["x", "y"]);
    assert!(events
        .iter()
        .all(|e| matches!(e, Event::Message { session, .. } if *session == id)));
    s.send(id, "m1").unwrap();
    s.send(id, "m2").unwrap();
    assert_eq!(ws.recv(&mut s, now), [text(r#"a["m1","m2"]"#)]);
}

#[test]
fn prepared_messages_go_escaped_in_a_frames_and_raw_on_the_raw_websocket() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    let (mut raw, raw_id) = connect_raw(&mut s);
    let shared = PreparedText::new("x\"y");
    s.send(id, "m1").unwrap();
    for session in [id, raw_id] {
        s.send_prepared(session, &shared).unwrap();
    }
    assert_eq!(ws.recv(&mut s, now), [text(r#"a["m1","x\"y"]"#)]);
    assert_eq!(raw.recv(&mut s, now), [text("x\"y")]);
}

#[test]
fn websocket_accepts_a_single_json_string() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, r#""b""#, now);
    assert_eq!(messages(&echo(&mut s)), ["b"]);
    assert_eq!(ws.recv(&mut s, now), [text(r#"a["b"]"#)]);
}

#[test]
fn websocket_escaped_lone_surrogates_become_the_replacement_character() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, r#"["a\udc00","\ud83d\ude00"]"#, now);
    ws.send(&mut s, r#""\ud800""#, now);
    assert_eq!(
        messages(&echo(&mut s)),
        ["a\u{fffd}", "\u{1f600}", "\u{fffd}"]
    );
    assert_eq!(
        ws.recv(&mut s, now),
        [text(r#"a["a\ufffd","\ud83d\ude00","\ufffd"]"#)]
    );
}

#[test]
fn websocket_ignores_empty_messages_and_empty_arrays() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, "", now);
    ws.send(&mut s, "[]", now);
    ws.send(&mut s, " [ ] ", now);
    assert!(events(&mut s).is_empty());
    assert_eq!(ws.recv(&mut s, now), []);
    assert!(s.session(id).unwrap().is_open());
    ws.send(&mut s, r#"["a"]"#, now);
    echo(&mut s);
    assert_eq!(ws.recv(&mut s, now), [text(r#"a["a"]"#)]);
}

#[test]
fn websocket_broken_json_closes_with_1007_and_ends_the_session() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, r#"["a"#, now);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            session: id,
            reason: CloseReason::BrokenJson(PayloadError::Broken)
        }]
    );
    // The application is told what the client got.
    assert_eq!(
        CloseReason::BrokenJson(PayloadError::Broken).frame(),
        CloseFrame::new(1007, "Broken JSON encoding.")
    );
    assert_eq!(
        ws.recv(&mut s, now),
        [WsSeen::Close(Some((
            1007,
            "Broken JSON encoding.".to_owned()
        )))]
    );
    assert_eq!(s.send(id, "x"), Err(SendError::Closed));
    // The client answers the close; the server is done with the connection.
    ws.flush(&mut s, now);
    assert_eq!(ws.recv(&mut s, now), []);
    assert!(ws.ended);
    s.receiver_closed(ws.receiver, now);
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn websocket_messages_after_broken_json_are_not_delivered() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.conn.send_text(r#"["a"#).unwrap();
    ws.conn.send_text(r#"["b"]"#).unwrap();
    ws.flush(&mut s, now);
    assert!(messages(&events(&mut s)).is_empty());
}

#[test]
fn websocket_binary_messages_close_with_1003() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.conn.send_binary(b"[\"a\"]").unwrap();
    ws.flush(&mut s, now);
    let reasons = closed(&events(&mut s));
    assert_eq!(reasons, [CloseReason::BinaryMessage]);
    let wire = ws.recv(&mut s, now);
    assert_eq!(
        wire,
        [WsSeen::Close(Some((
            1003,
            "Binary messages are not supported".to_owned()
        )))]
    );
    let frame = reasons[0].frame();
    assert_eq!(wire, [WsSeen::Close(Some((frame.code.0, frame.reason)))]);
}

#[test]
fn websocket_limits_come_from_the_config() {
    // A message of 16 bytes fits; one of 17 fails the connection with 1009.
    let limits = ws_proto::WebSocketConfig::default().max_message_size(16);
    let mut s = server_with(SockJsConfig::default().websocket(limits));
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, r#"["0123456789ab"]"#, now);
    assert_eq!(messages(&echo(&mut s)), ["0123456789ab"]);
    assert_eq!(ws.recv(&mut s, now), [text(r#"a["0123456789ab"]"#)]);
    ws.send(&mut s, r#"["0123456789abc"]"#, now);
    let reasons = closed(&events(&mut s));
    assert!(matches!(
        reasons[..],
        [CloseReason::WebSocket(
            ws_proto::ProtocolError::MessageTooLarge { max: 16, .. }
        )]
    ));
    // The code the client got, and no reason: the application is told
    // the same.
    assert_eq!(
        ws.recv(&mut s, now),
        [WsSeen::Close(Some((1009, String::new())))]
    );
    assert_eq!(reasons[0].frame(), CloseFrame::new(1009, ""));
}

#[test]
fn websocket_app_close_sends_the_c_frame_then_a_close_with_its_code() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    s.close(id, go_away()).unwrap();
    assert_eq!(
        closed(&events(&mut s)),
        [CloseReason::Application(go_away())]
    );
    assert_eq!(
        ws.recv(&mut s, now),
        [
            text(r#"c[3000,"Go away!"]"#),
            WsSeen::Close(Some((3000, "Go away!".to_owned())))
        ]
    );
    assert!(!ws.ended, "the server waits for the client's close");
    ws.flush(&mut s, now);
    assert_eq!(ws.recv(&mut s, now), []);
    assert!(ws.ended);
    s.receiver_closed(ws.receiver, now);
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn websocket_close_handler_sends_o_then_c_then_closes() {
    // sockjs-protocol's `close` service.
    let mut s = server();
    let now = t0();
    let mut ws = WsClient::connect(&mut s, &url("s", "websocket"), now);
    let id = opened(&events(&mut s));
    s.close(id, go_away()).unwrap();
    assert_eq!(
        ws.recv(&mut s, now),
        [
            text("o"),
            text(r#"c[3000,"Go away!"]"#),
            WsSeen::Close(Some((3000, "Go away!".to_owned())))
        ]
    );
}

#[test]
fn websocket_close_codes_not_valid_on_the_wire_close_with_1000() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    s.close(id, CloseFrame::new(2010, "odd")).unwrap();
    assert_eq!(
        ws.recv(&mut s, now),
        [
            text(r#"c[2010,"odd"]"#),
            WsSeen::Close(Some((1000, String::new())))
        ]
    );
}

#[test]
fn websocket_client_close_ends_the_session() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    ws.conn
        .close(Some(ws_proto::CloseCode::NORMAL), "bye")
        .unwrap();
    ws.flush(&mut s, now);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            session: id,
            reason: CloseReason::ClientClosed(Some(CloseCode::NORMAL))
        }]
    );
    // The server echoes the close (its code and reason) and is done.
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(
        ws.recv(&mut s, now),
        [WsSeen::Close(Some((1000, "bye".to_owned())))]
    );
    assert!(ws.ended);
    s.receiver_closed(ws.receiver, now);
    assert_eq!(s.session_count(), 0);
    assert!(events(&mut s).is_empty());
}

#[test]
fn two_websockets_with_the_same_session_id_are_two_sessions() {
    let mut s = server();
    let now = t0();
    let (mut ws1, id1) = connect_sockjs(&mut s, "same");
    let (mut ws2, id2) = connect_sockjs(&mut s, "same");
    assert_ne!(id1, id2);
    assert_eq!(s.session(id1).unwrap().sockjs_id(), "same");
    assert_eq!(s.session(id2).unwrap().sockjs_id(), "same");
    ws1.send(&mut s, r#"["a"]"#, now);
    echo(&mut s);
    assert_eq!(ws1.recv(&mut s, now), [text(r#"a["a"]"#)]);
    assert_eq!(ws2.recv(&mut s, now), []);
    ws2.send(&mut s, r#"["b"]"#, now);
    echo(&mut s);
    assert_eq!(ws2.recv(&mut s, now), [text(r#"a["b"]"#)]);
    assert_eq!(ws1.recv(&mut s, now), []);
    // Closing one leaves the other.
    s.receiver_closed(ws1.receiver, now);
    assert_eq!(closed(&events(&mut s)), [CloseReason::Interrupted]);
    ws2.send(&mut s, r#"["c"]"#, now);
    echo(&mut s);
    assert_eq!(ws2.recv(&mut s, now), [text(r#"a["c"]"#)]);
    // And the id can be used again.
    let (mut ws3, _) = connect_sockjs(&mut s, "same");
    ws3.send(&mut s, r#"["d"]"#, now);
    echo(&mut s);
    assert_eq!(ws3.recv(&mut s, now), [text(r#"a["d"]"#)]);
}

#[test]
fn a_websocket_session_is_not_reachable_over_http() {
    let mut s = server();
    let now = t0();
    let (_ws, _) = connect_sockjs(&mut s, "s");
    assert_eq!(xhr_send(&mut s, "s", r#"["x"]"#, now).status(), 404);
    // An HTTP session with the same id is another session.
    assert_eq!(xhr_now(&mut s, "s", now), "o\n");
    assert_eq!(s.session_count(), 2);
}

#[test]
fn websocket_receiver_closed_interrupts_an_open_session_and_removes_it() {
    let mut s = server();
    let now = t0();
    let (ws, id) = connect_sockjs(&mut s, "s");
    s.receiver_closed(ws.receiver, now);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            session: id,
            reason: CloseReason::Interrupted
        }]
    );
    assert_eq!(s.session_count(), 0);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.send(id, "x"), Err(SendError::UnknownSession));
    assert_eq!(s.poll_output(ws.receiver, now), None);
}

#[test]
fn websocket_eof_without_a_close_interrupts_the_session() {
    let mut s = server();
    let now = t0();
    let (ws, id) = connect_sockjs(&mut s, "s");
    s.receive_websocket_eof(ws.receiver, now);
    assert_eq!(
        events(&mut s),
        [Event::Closed {
            session: id,
            reason: CloseReason::Interrupted
        }]
    );
}

#[test]
fn websocket_ping_is_answered_with_a_pong() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.conn.ping(b"p").unwrap();
    ws.flush(&mut s, now);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, now), [WsSeen::Pong(b"p".to_vec())]);
    assert!(events(&mut s).is_empty());
}

#[test]
fn websocket_heartbeat_counts_from_the_last_frame() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    let at = now + secs(7);
    s.send(id, "x").unwrap();
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, at), [text(r#"a["x"]"#)]);
    assert_eq!(s.poll_timeout(), Some(at + HB));
    s.handle_timeout(before(at + HB, NS));
    assert_eq!(wakeups(&mut s), vec![]);
    s.handle_timeout(at + HB);
    assert_eq!(ws.recv(&mut s, at + HB), [text("h")]);
    // Messages from the client do not count as frames written.
    ws.send(&mut s, r#"["y"]"#, at + HB + secs(1));
    assert_eq!(s.poll_timeout(), Some(at + HB * 2));
}

#[test]
fn a_closing_websocket_waits_the_close_timeout_for_the_clients_close() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    // Closed a moment before a heartbeat would be due.
    let at = now + secs(24);
    s.close(id, go_away()).unwrap();
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, at).len(), 2);
    assert!(!ws.ended);
    assert_eq!(s.poll_timeout(), Some(at + CLOSE_TIMEOUT));
    s.handle_timeout(before(at + CLOSE_TIMEOUT, NS));
    assert_eq!(wakeups(&mut s), vec![]);
    s.handle_timeout(at + CLOSE_TIMEOUT);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, at + CLOSE_TIMEOUT), []);
    assert!(ws.ended, "the server gives up on the client's close");
    s.receiver_closed(ws.receiver, at + CLOSE_TIMEOUT);
    assert_eq!(s.session_count(), 0);
}

#[test]
fn the_close_wait_is_not_moved_by_later_pulls() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_sockjs(&mut s, "s");
    let at = now + secs(3);
    s.close(id, go_away()).unwrap();
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, at).len(), 2);
    assert_eq!(s.poll_timeout(), Some(at + CLOSE_TIMEOUT));
    // The adapter pulls again later, with nothing to write.
    assert_eq!(s.poll_output(ws.receiver, at + secs(1)), None);
    assert_eq!(s.poll_timeout(), Some(at + CLOSE_TIMEOUT));
    s.handle_timeout(at + CLOSE_TIMEOUT);
    assert_eq!(ws.recv(&mut s, at + CLOSE_TIMEOUT), []);
    assert!(ws.ended);
}

#[test]
fn the_heartbeat_is_due_from_the_upgrade_before_o_is_written() {
    let mut s = server();
    let now = t0();
    let ws = WsClient::connect(&mut s, &url("s", "websocket"), now);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(s.poll_timeout(), Some(now + HB));
}

#[test]
fn a_pong_does_not_delay_the_heartbeat() {
    let mut s = server();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    let due = s.poll_timeout().expect("a heartbeat");
    let at = before(due, secs(15));
    ws.conn.ping(b"p").unwrap();
    ws.flush(&mut s, at);
    assert_eq!(ws.recv(&mut s, at), [WsSeen::Pong(b"p".to_vec())]);
    assert_eq!(s.poll_timeout(), Some(due));
    s.handle_timeout(due);
    assert_eq!(ws.recv(&mut s, due), [text("h")]);
}

#[test]
fn one_pull_that_writes_a_frame_moves_the_heartbeat() {
    let mut s = server();
    let now = t0();
    let (ws, id) = connect_sockjs(&mut s, "s");
    let at = now + secs(7);
    s.send(id, "x").unwrap();
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert!(s.poll_output(ws.receiver, at).is_some());
    assert_eq!(s.poll_timeout(), Some(at + HB));
}

#[test]
fn only_a_new_deadline_is_news_a_heartbeat_put_back_by_traffic_is_not() {
    let mut s = server();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    let now = t0();
    // The upgrade set the first heartbeat, and the connection's own timer.
    let first = s.poll_new_deadline().expect("the upgrade's deadlines");
    assert!(first <= now + HB, "{first:?}");
    assert_eq!(s.poll_new_deadline(), None, "told once");
    // Echoes move the heartbeat later: nothing new.
    let at = now + secs(7);
    ws.send(&mut s, r#"["x"]"#, at);
    echo(&mut s);
    assert_eq!(ws.recv(&mut s, at), [text(r#"a["x"]"#)]);
    assert_eq!(s.poll_new_deadline(), None);
    // The old entry fires early; nothing is due, and the real deadline
    // comes from poll_timeout.
    s.handle_timeout(now + HB);
    assert_eq!(ws.recv(&mut s, now + HB), []);
    assert_eq!(s.poll_timeout(), Some(at + HB));
    // A second session's deadline is news.
    let (_ws2, _) = connect_sockjs(&mut s, "t");
    assert!(s.poll_new_deadline().is_some());
    // poll_timeout has told the embedder everything: nothing left over.
    let (_ws3, _) = connect_sockjs(&mut s, "u");
    let _ = s.poll_timeout();
    assert_eq!(s.poll_new_deadline(), None);
}

#[test]
fn a_message_without_a_reply_wakes_no_receiver() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    ws.send(&mut s, r#"["a"]"#, now);
    assert_eq!(messages(&events(&mut s)), ["a"]);
    assert_eq!(wakeups(&mut s), vec![]);
}

#[test]
fn websocket_capacity_is_the_connections_input_room() {
    let limits = ws_proto::WebSocketConfig::default()
        .max_frame_size(1000)
        .max_buffered_input(4096);
    let mut s = server_with(SockJsConfig::default().websocket(limits));
    let now = t0();
    let (ws, _) = connect_sockjs(&mut s, "s");
    assert_eq!(s.websocket_capacity(ws.receiver), 4096);
    // An HTTP receiver has no WebSocket.
    let (r, _) = open_xhr_streaming(&mut s, "h", now);
    assert_eq!(s.websocket_capacity(r), 0);
    // Nor does a WebSocket after end of file.
    s.receive_websocket_eof(ws.receiver, now);
    assert_eq!(s.websocket_capacity(ws.receiver), 0);
}

#[test]
fn a_websocket_failed_for_broken_json_waits_the_close_timeout_for_the_clients_close() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    let at = now + secs(23);
    ws.send(&mut s, "[", at);
    events(&mut s);
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert!(matches!(
        ws.recv(&mut s, at)[..],
        [WsSeen::Close(Some((1007, _)))]
    ));
    assert_eq!(s.poll_timeout(), Some(at + CLOSE_TIMEOUT));
    s.handle_timeout(at + CLOSE_TIMEOUT);
    assert_eq!(ws.recv(&mut s, at + CLOSE_TIMEOUT), []);
    assert!(ws.ended);
}

#[test]
fn websocket_input_split_byte_by_byte_gives_the_same_messages() {
    let mut s = server();
    let now = t0();
    let (mut ws, _) = connect_sockjs(&mut s, "s");
    for text in [r#"["a","b"]"#, r#""\u00e9""#, "", r#"["\ud83d\ude00"]"#] {
        ws.conn.send_text(text).unwrap();
    }
    ws.conn.ping(b"p").unwrap();
    let mut wire = Vec::new();
    while let Some(bytes) = ws.conn.poll_transmit() {
        wire.extend_from_slice(&bytes);
    }
    for byte in wire {
        s.receive_websocket(ws.receiver, &[byte], now);
    }
    assert_eq!(messages(&events(&mut s)), ["a", "b", "\u{e9}", "\u{1f600}"]);
    assert_eq!(ws.recv(&mut s, now), [WsSeen::Pong(b"p".to_vec())]);
}

#[test]
fn websocket_selects_the_first_offered_subprotocol_it_speaks() {
    let mut s =
        server_with(SockJsConfig::default().websocket_protocols(["v12.stomp", "v11.stomp"]));
    let (_, r) = ws_request(
        &format!("{PREFIX}{}", url("s", "websocket")),
        &[("Sec-WebSocket-Protocol", "v10.stomp, v11.stomp, v12.stomp")],
    );
    let (_, head) = upgrade(s.handle(&r, t0()));
    let head = std::str::from_utf8(&head).unwrap();
    assert!(
        head.contains("\r\nSec-WebSocket-Protocol: v12.stomp\r\n"),
        "{head}"
    );
}

// ---- the raw websocket ---------------------------------------------------------------

#[test]
fn raw_websocket_echoes_plain_messages_without_framing() {
    let mut s = server();
    let now = t0();
    let mut ws = WsClient::connect(&mut s, "/websocket", now);
    assert_eq!(ws.recv(&mut s, now), [], "no open frame");
    let events = echo(&mut s);
    assert!(matches!(
        events[..],
        [Event::Opened {
            transport: Transport::RawWebSocket,
            ..
        }]
    ));
    let id = opened(&events);
    assert_eq!(s.session(id).unwrap().sockjs_id(), "");
    ws.send(&mut s, "Hello world!\u{ffff}", now);
    assert_eq!(messages(&echo(&mut s)), ["Hello world!\u{ffff}"]);
    assert_eq!(ws.recv(&mut s, now), [text("Hello world!\u{ffff}")]);
    // Not JSON, not parsed.
    ws.send(&mut s, r#"["a"#, now);
    assert_eq!(messages(&echo(&mut s)), [r#"["a"#]);
    assert_eq!(ws.recv(&mut s, now), [text(r#"["a"#)]);
    // No heartbeats.
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn raw_websocket_sends_what_waits_in_order_large_messages_shared_small_ones_joined() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_raw(&mut s);
    // Over 1 KiB a message goes out as its own chunk behind its header;
    // the small ones around it are coalesced; one output joins them all.
    let large = "\u{e9}".repeat(1500);
    let shared = sockjs_proto::Utf8Bytes::from(large.clone());
    s.send(id, "first").unwrap();
    s.send(id, shared).unwrap();
    s.send(id, String::from("last")).unwrap();
    let out = s.poll_output(ws.receiver, now).expect("the messages");
    assert!(!out.end);
    assert!(s.poll_output(ws.receiver, now).is_none(), "one output");
    ws.conn.receive(&out.data);
    assert_eq!(
        ws.recv(&mut s, now),
        [text("first"), text(&large), text("last")]
    );
}

#[test]
fn raw_websocket_on_a_closing_handler_closes_with_its_code_and_reason() {
    let mut s = server();
    let now = t0();
    let (mut ws, id) = connect_raw(&mut s);
    s.close(id, go_away()).unwrap();
    assert_eq!(
        ws.recv(&mut s, now),
        [WsSeen::Close(Some((3000, "Go away!".to_owned())))]
    );
    ws.flush(&mut s, now);
    ws.recv(&mut s, now);
    assert!(ws.ended);
}

// ---- bad upgrades ----------------------------------------------------------------------

fn ws_paths() -> [String; 2] {
    [url("s", "websocket"), "/websocket".to_owned()]
}

#[test]
fn get_without_upgrade_is_400_can_upgrade_only_to_websocket() {
    let mut s = server();
    for path in ws_paths() {
        for r in [
            get(&path).header("Host", "localhost"),
            get(&path)
                .header("Host", "localhost")
                .header("Upgrade", "h2c")
                .header("Connection", "Upgrade"),
        ] {
            let res = response(s.handle(&r, t0()));
            assert_text(&res, 400, "Can \"Upgrade\" only to \"WebSocket\".");
        }
    }
    assert_eq!(s.session_count(), 0);
}

#[test]
fn sockjs_upgrade_answers_come_before_other_faults_such_as_a_missing_host() {
    let mut s = server();
    for path in ws_paths() {
        let res = response(s.handle(&get(&path), t0()));
        assert_text(&res, 400, "Can \"Upgrade\" only to \"WebSocket\".");
        let r = get(&path).header("Upgrade", "websocket");
        let res = response(s.handle(&r, t0()));
        assert_text(&res, 400, "\"Connection\" must be \"Upgrade\".");
    }
    assert_eq!(s.session_count(), 0);
}

#[test]
fn connection_close_is_400_connection_must_be_upgrade() {
    let mut s = server();
    for path in ws_paths() {
        let r = get(&path)
            .header("Host", "localhost")
            .header("Upgrade", "WebSocket")
            .header("Connection", "close");
        let res = response(s.handle(&r, t0()));
        assert_text(&res, 400, "\"Connection\" must be \"Upgrade\".");
    }
}

#[test]
fn post_to_websocket_is_405_allow_get_without_content_type_or_body() {
    let mut s = server();
    for path in ws_paths() {
        for r in [
            post(&path)
                .header("Host", "localhost")
                .header("Upgrade", "WebSocket")
                .header("Connection", "Upgrade"),
            post(&path),
        ] {
            assert_405(&response(s.handle(&r, t0())), "GET");
        }
    }
}

#[test]
fn websocket_disabled_is_404() {
    let mut s = server_with(SockJsConfig::default().web_socket_enabled(false));
    for path in ws_paths() {
        let (_, r) = ws_request(&format!("{PREFIX}{path}"), &[]);
        assert_eq!(response(s.handle(&r, t0())).status(), 404, "{path}");
    }
    assert_eq!(s.session_count(), 0);
}

#[test]
fn websocket_disabled_leaves_the_http_transports_alone() {
    let mut s = server_with(SockJsConfig::default().web_socket_enabled(false));
    let now = t0();
    let id = open_xhr(&mut s, "s", now);
    assert_eq!(
        xhr_send(&mut s, "s", r#"["a"]"#, now).status(),
        204,
        "xhr_send"
    );
    assert_eq!(messages(&events(&mut s)), ["a"]);
    s.send(id, "b").unwrap();
    assert_eq!(xhr_now(&mut s, "s", now), "a[\"b\"]\n");
}

fn hybi(version: &str, connection: &str) -> Request {
    get(&url("s", "websocket"))
        .header("Host", "localhost:8081")
        .header("Upgrade", "websocket")
        .header("Connection", connection)
        .header("Sec-WebSocket-Version", version)
        .header("Sec-WebSocket-Origin", "http://asd")
        .header("Sec-WebSocket-Key", "x3JJHMbDL1EzLkh9GBhXDw==")
}

#[test]
fn websocket_versions_7_8_and_13_are_accepted() {
    for version in ["7", "8", "13"] {
        let mut s = server();
        let (_, head) = upgrade(s.handle(&hybi(version, "Upgrade"), t0()));
        let head = std::str::from_utf8(&head).unwrap();
        assert!(
            head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nSec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"));
        let head = head.to_ascii_lowercase();
        assert!(head.contains("\r\nupgrade: websocket\r\n"));
        assert!(head.contains("\r\nconnection: upgrade\r\n"));
        assert!(!head.contains("content-length"));
        assert!(head.ends_with("\r\n\r\n"));
    }
}

#[test]
fn other_websocket_versions_are_426() {
    let mut s = server();
    let res = response(s.handle(&hybi("9", "Upgrade"), t0()));
    assert_eq!(res.status(), 426);
    assert_eq!(header(&res, "Sec-WebSocket-Version"), "13");
}

#[test]
fn firefox_602_connection_keep_alive_upgrade_is_accepted() {
    let mut s = server();
    let answer = s.handle(&hybi("7", "keep-alive, Upgrade"), t0());
    assert!(matches!(answer, Answer::Upgrade { .. }), "{answer:?}");
}
