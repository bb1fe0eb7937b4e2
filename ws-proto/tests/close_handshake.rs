//! The close handshake (RFC 6455 §5.5.1, §7), client core against server
//! core through the in-memory `Pair`, plus the exact close frames on the
//! wire.

mod common;

use bytes::Bytes;
use ws_proto::{
    CloseCode, CloseFrame, CloseState, Connection, Event, Message, MessageKind, SendError,
    WebSocketConfig,
};

use common::{
    client, feed, masked, server, server_close, transmit, unmasked, Outcome, Pair, CLOSE, FIN,
    PING, TEXT,
};

fn close_event(code: u16, reason: &str) -> Event {
    Event::Close(Some(CloseFrame::new(CloseCode(code), reason)))
}

fn text(s: &'static str) -> Event {
    Event::Message(Message::from(s))
}

/// Every command refuses with `SendError::Closed` and queues nothing.
fn assert_cannot_send(conn: &mut Connection) {
    assert!(!conn.can_send());
    assert_eq!(conn.send_text("x"), Err(SendError::Closed));
    assert_eq!(conn.send_binary(b"x"), Err(SendError::Closed));
    assert_eq!(conn.send(Message::from("x")), Err(SendError::Closed));
    assert_eq!(
        conn.send_fragment(MessageKind::Binary, Bytes::from_static(b"x"), true),
        Err(SendError::Closed)
    );
    assert_eq!(conn.ping(b""), Err(SendError::Closed));
    assert_eq!(conn.pong(b""), Err(SendError::Closed));
    assert_eq!(
        conn.close(Some(CloseCode::NORMAL), ""),
        Err(SendError::Closed)
    );
    assert_eq!(conn.close(None, ""), Err(SendError::Closed));
    assert_eq!(transmit(conn), b"");
}

#[test]
fn close_from_the_client() {
    let mut pair = Pair::new();
    pair.client.close(Some(CloseCode::NORMAL), "bye").unwrap();
    assert_eq!(pair.client.close_state(), CloseState::CloseSent);

    assert!(pair.flush_client());
    assert_eq!(pair.server_events(), [close_event(1000, "bye")]);
    assert_eq!(pair.server.close_state(), CloseState::Closed);

    assert!(pair.flush_server());
    assert_eq!(pair.server_wrote, unmasked(FIN | CLOSE, b"\x03\xe8bye"));
    assert_eq!(pair.client_events(), [close_event(1000, "bye")]);
    assert_eq!(pair.client.close_state(), CloseState::Closed);

    assert!(!pair.flush_client() && !pair.flush_server());
    assert_eq!(pair.client_got.error, None);
    assert_eq!(pair.server_got.error, None);
}

#[test]
fn close_from_the_server() {
    let mut pair = Pair::new();
    pair.server
        .close(Some(CloseCode::GOING_AWAY), "restart")
        .unwrap();
    assert_eq!(pair.server.close_state(), CloseState::CloseSent);

    assert!(pair.flush_server());
    assert_eq!(pair.server_wrote, unmasked(FIN | CLOSE, b"\x03\xe9restart"));
    assert_eq!(pair.client_events(), [close_event(1001, "restart")]);
    assert_eq!(pair.client.close_state(), CloseState::Closed);

    assert!(pair.flush_client());
    assert_eq!(pair.server_events(), [close_event(1001, "restart")]);
    assert_eq!(pair.server.close_state(), CloseState::Closed);

    assert!(!pair.flush_client() && !pair.flush_server());
    assert_eq!(pair.client_got.error, None);
    assert_eq!(pair.server_got.error, None);
}

#[test]
fn simultaneous_close_sends_no_echo() {
    let mut pair = Pair::new();
    pair.client
        .close(Some(CloseCode::NORMAL), "client")
        .unwrap();
    pair.server.close(Some(CloseCode(4000)), "server").unwrap();
    pair.drive();
    assert_eq!(pair.server_events(), [close_event(1000, "client")]);
    assert_eq!(pair.client_events(), [close_event(4000, "server")]);
    assert_eq!(pair.server_wrote, unmasked(FIN | CLOSE, b"\x0f\xa0server"));
    // One masked frame: 2 + 4 + 8 bytes.
    assert_eq!(pair.client_wrote.len(), 14);
    assert_eq!(pair.client.close_state(), CloseState::Closed);
    assert_eq!(pair.server.close_state(), CloseState::Closed);
}

#[test]
fn close_without_a_code_is_echoed_without_one() {
    let mut pair = Pair::new();
    pair.client.close(None, "").unwrap();
    pair.drive();
    assert_eq!(pair.server_events(), [Event::Close(None)]);
    assert_eq!(pair.server_wrote, [0x88, 0x00]);
    assert_eq!(pair.client_events(), [Event::Close(None)]);
}

#[test]
fn the_echo_carries_the_received_code_and_reason() {
    for code in [1000_u16, 1001, 1003, 1007, 1011, 1014, 3000, 4999] {
        let mut conn = server();
        let payload = [&code.to_be_bytes()[..], "raison d'être".as_bytes()].concat();
        let got = feed(&mut conn, [&masked(FIN | CLOSE, &payload)[..]]);
        assert_eq!(got, Outcome::ok(vec![close_event(code, "raison d'être")]));
        assert_eq!(
            transmit(&mut conn),
            unmasked(FIN | CLOSE, &payload),
            "{code}"
        );
    }
}

#[test]
fn the_clients_close_frame_is_masked() {
    let mut conn = client();
    conn.close(Some(CloseCode::NORMAL), "bye").unwrap();
    assert_eq!(
        transmit(&mut conn),
        [0x88, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x34, 0x12, 0x43, 0x44, 0x52]
    );
}

#[test]
fn data_is_still_delivered_after_we_sent_close() {
    let mut pair = Pair::new();
    pair.client.close(Some(CloseCode::NORMAL), "").unwrap();
    // The server has not seen the close yet.
    pair.server.send_text("late").unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, Bytes::from_static(b"frag"), false)
        .unwrap();
    pair.server
        .send_fragment(MessageKind::Binary, Bytes::from_static(b"ment"), true)
        .unwrap();
    pair.drive();
    assert_eq!(
        pair.client_events(),
        [
            text("late"),
            Event::Message(Message::Binary(Bytes::from_static(b"fragment"))),
            close_event(1000, ""),
        ]
    );
}

#[test]
fn the_server_still_receives_data_after_it_sent_close() {
    let mut pair = Pair::new();
    pair.server.close(Some(CloseCode::NORMAL), "").unwrap();
    pair.client.send_binary(b"in flight").unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events(),
        [
            Event::Message(Message::Binary(Bytes::from_static(b"in flight"))),
            close_event(1000, ""),
        ]
    );
}

#[test]
fn nothing_after_the_peers_close_frame_is_delivered() {
    let mut conn = client();
    let wire = [
        unmasked(FIN | CLOSE, &[0x03, 0xe8]),
        unmasked(FIN | TEXT, b"too late"),
        unmasked(FIN | PING, b""),
    ]
    .concat();
    let got = feed(&mut conn, wire.chunks(3));
    assert_eq!(got, Outcome::ok(vec![close_event(1000, "")]));
    assert_eq!(transmit(&mut conn), common::client_close(1000));
}

#[test]
fn a_close_frame_ends_a_fragmented_message_in_progress() {
    let mut conn = server();
    let wire = [masked(TEXT, b"half"), masked(FIN | CLOSE, b"")].concat();
    let got = feed(&mut conn, [&wire[..]]);
    assert_eq!(got, Outcome::ok(vec![Event::Close(None)]));
}

#[test]
fn no_data_can_be_sent_after_sending_close() {
    let mut conn = server();
    conn.close(Some(CloseCode::NORMAL), "").unwrap();
    assert_eq!(transmit(&mut conn), server_close(1000));
    assert_cannot_send(&mut conn);
}

#[test]
fn no_data_can_be_sent_after_receiving_close() {
    let mut conn = server();
    let got = feed(&mut conn, [&masked(FIN | CLOSE, b"")[..]]);
    assert_eq!(got.events, [Event::Close(None)]);
    assert_eq!(transmit(&mut conn), [0x88, 0x00]);
    assert_cannot_send(&mut conn);
}

#[test]
fn no_data_can_be_sent_after_a_protocol_error() {
    let mut conn = server();
    let got = feed(&mut conn, [&unmasked(FIN | TEXT, b"")[..]]);
    assert!(got.error.is_some());
    assert_eq!(transmit(&mut conn), server_close(1002));
    assert_cannot_send(&mut conn);
}

#[test]
fn a_fragmented_send_can_be_cut_short_by_close() {
    let mut pair = Pair::new();
    pair.client
        .send_fragment(MessageKind::Text, Bytes::from_static(b"unfin"), false)
        .unwrap();
    pair.client.close(Some(CloseCode::GOING_AWAY), "").unwrap();
    pair.drive();
    assert_eq!(pair.server_events(), [close_event(1001, "")]);
    assert_eq!(pair.client_events(), [close_event(1001, "")]);
}

#[test]
fn invalid_close_arguments_are_refused_and_nothing_is_sent() {
    let mut conn = client();
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
        assert_eq!(
            conn.close(Some(CloseCode(code)), ""),
            Err(SendError::InvalidCloseCode(code))
        );
    }
    assert_eq!(conn.close(None, "why"), Err(SendError::ReasonWithoutCode));
    let long = "x".repeat(124);
    assert_eq!(
        conn.close(Some(CloseCode::NORMAL), &long),
        Err(SendError::CloseReasonTooLong(124))
    );
    assert_eq!(conn.close_state(), CloseState::Open);
    assert_eq!(transmit(&mut conn), b"");
}

#[test]
fn a_reason_of_123_bytes_fits() {
    let reason = "é".repeat(61) + "!";
    assert_eq!(reason.len(), 123);
    let mut pair = Pair::new();
    pair.client.close(Some(CloseCode(3000)), &reason).unwrap();
    pair.drive();
    assert_eq!(pair.server_events(), [close_event(3000, &reason)]);
}

#[test]
fn close_state_moves_open_close_sent_closed() {
    let mut pair = Pair::new();
    let states = |p: &Pair| (p.client.close_state(), p.server.close_state());
    assert_eq!(states(&pair), (CloseState::Open, CloseState::Open));
    assert!(pair.client.can_send() && pair.server.can_send());
    pair.client.close(Some(CloseCode::NORMAL), "").unwrap();
    assert_eq!(states(&pair), (CloseState::CloseSent, CloseState::Open));
    pair.flush_client();
    // The server's echo is queued: its side of the handshake is complete.
    assert_eq!(states(&pair), (CloseState::CloseSent, CloseState::Closed));
    pair.flush_server();
    assert_eq!(states(&pair), (CloseState::Closed, CloseState::Closed));
    assert_eq!(pair.client.receive_capacity(), 0);
    assert_eq!(pair.server.receive_capacity(), 0);
}

#[test]
fn auto_pong_answers_pings_with_their_payload() {
    let mut pair = Pair::new();
    pair.server.ping(b"heartbeat").unwrap();
    pair.client.ping(b"").unwrap();
    pair.drive();
    assert_eq!(
        pair.client_events(),
        [
            Event::Ping(Bytes::from_static(b"heartbeat")),
            Event::Pong(Bytes::new()),
        ]
    );
    assert_eq!(
        pair.server_events(),
        [
            Event::Ping(Bytes::new()),
            Event::Pong(Bytes::from_static(b"heartbeat")),
        ]
    );
}

#[test]
fn without_auto_pong_pings_are_reported_and_not_answered() {
    let mut pair = Pair::with_configs(
        WebSocketConfig::default().auto_pong(false),
        WebSocketConfig::default(),
    );
    pair.server.ping(b"heartbeat").unwrap();
    pair.drive();
    assert_eq!(
        pair.client_events(),
        [Event::Ping(Bytes::from_static(b"heartbeat"))]
    );
    assert!(pair.client_wrote.is_empty());
    assert!(pair.server_events().is_empty());
    // The application answers itself.
    pair.client.pong(b"heartbeat").unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events(),
        [Event::Pong(Bytes::from_static(b"heartbeat"))]
    );
}

#[test]
fn a_ping_that_arrives_while_closing_is_reported_but_not_answered() {
    let mut pair = Pair::new();
    pair.client.close(Some(CloseCode::NORMAL), "").unwrap();
    // Sent before the server sees the close.
    pair.server.ping(b"still there?").unwrap();
    pair.drive();
    assert_eq!(
        pair.client_events(),
        [
            Event::Ping(Bytes::from_static(b"still there?")),
            close_event(1000, ""),
        ]
    );
    // The client wrote its close frame (2 + 4 + 2 bytes) and no pong.
    assert_eq!(pair.client_wrote.len(), 8);
    assert_eq!(pair.server_events(), [close_event(1000, "")]);
}

#[test]
fn unsolicited_pongs_are_reported() {
    let mut pair = Pair::new();
    pair.client.pong(b"unsolicited").unwrap();
    pair.drive();
    assert_eq!(
        pair.server_events(),
        [Event::Pong(Bytes::from_static(b"unsolicited"))]
    );
    assert!(pair.server_wrote.is_empty());
}

#[test]
fn control_payloads_over_125_bytes_are_refused() {
    let mut conn = client();
    assert_eq!(
        conn.ping(&[0; 126]),
        Err(SendError::ControlPayloadTooLarge(126))
    );
    assert_eq!(
        conn.pong(&[0; 200]),
        Err(SendError::ControlPayloadTooLarge(200))
    );
    assert_eq!(transmit(&mut conn), b"");
    conn.ping(&[0; 125]).unwrap();
    assert_eq!(transmit(&mut conn).len(), 2 + 4 + 125);
}

#[test]
fn a_ping_flood_that_is_never_read_queues_one_pong_for_the_latest_ping() {
    use ws_proto::{Connection, Event, WebSocketConfig};
    let mut server = Connection::server(WebSocketConfig::default());
    // 10 000 masked pings (key 0, so the payload is plain), never transmitted.
    for i in 0..10_000u32 {
        let payload = i.to_be_bytes();
        let mut frame = vec![0x89, 0x80 | 4, 0, 0, 0, 0];
        frame.extend_from_slice(&payload);
        server.receive(&frame);
        assert_eq!(
            server.poll_event().unwrap(),
            Some(Event::Ping(payload.to_vec().into()))
        );
    }
    assert_eq!(server.pending_transmit(), 6);
    let mut wire = Vec::new();
    while let Some(chunk) = server.poll_transmit() {
        wire.extend_from_slice(&chunk);
    }
    assert_eq!(wire, [&[0x8a, 4][..], &9_999u32.to_be_bytes()].concat());
}

#[test]
fn an_automatic_pong_keeps_its_place_before_later_sends() {
    use ws_proto::{Connection, WebSocketConfig};
    let mut server = Connection::server(WebSocketConfig::default());
    server.receive(&[0x89, 0x81, 0, 0, 0, 0, b'p']);
    let _ = server.poll_event().unwrap();
    server.send_text("after").unwrap();
    let mut wire = Vec::new();
    while let Some(chunk) = server.poll_transmit() {
        wire.extend_from_slice(&chunk);
    }
    assert_eq!(wire, b"\x8a\x01p\x81\x05after");
}
