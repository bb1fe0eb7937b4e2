//! `poll_message_ahead`: pipelined messages handed on in one batch, while
//! whatever ends or changes the connection (a close, a ping, an error, the
//! end of input) waits for `poll_event`, after the answers sent meanwhile.

mod common;

use ws_proto::{CloseState, Connection, Event, Message, ProtocolError, WebSocketConfig};

use common::{masked, server, server_close, transmit, unmasked, CLOSE, CONT, FIN, PING, TEXT};

/// Every message `poll_message_ahead` gives, in order.
fn ahead(conn: &mut Connection) -> Vec<Message> {
    std::iter::from_fn(|| conn.poll_message_ahead()).collect()
}

fn text(s: &str) -> Message {
    Message::Text(s.into())
}

/// An unmasked server frame of a text message.
fn server_text(s: &str) -> Vec<u8> {
    unmasked(FIN | TEXT, s.as_bytes())
}

#[test]
fn pipelined_messages_come_in_one_batch_and_a_ping_waits_for_poll_event() {
    let mut conn = server();
    let mut wire = Vec::new();
    for s in ["one", "two", "three"] {
        wire.extend(masked(FIN | TEXT, s.as_bytes()));
    }
    wire.extend(masked(FIN | PING, b"p"));
    wire.extend(masked(FIN | TEXT, b"four"));
    conn.receive(&wire);

    assert_eq!(
        ahead(&mut conn),
        vec![text("one"), text("two"), text("three")]
    );
    // Nothing was answered yet: the ping is still in the input.
    assert!(transmit(&mut conn).is_empty());
    assert_eq!(
        conn.poll_event().unwrap(),
        Some(Event::Ping(bytes::Bytes::from_static(b"p")))
    );
    assert_eq!(ahead(&mut conn), vec![text("four")]);
    assert_eq!(conn.poll_event().unwrap(), None);
}

#[test]
fn a_close_after_the_batch_is_answered_after_what_was_sent_meanwhile() {
    let mut conn = server();
    let mut wire = masked(FIN | TEXT, b"a");
    wire.extend(masked(FIN | TEXT, b"b"));
    wire.extend(masked(FIN | CLOSE, &1000u16.to_be_bytes()));
    conn.receive(&wire);

    let batch = ahead(&mut conn);
    assert_eq!(batch, vec![text("a"), text("b")]);
    assert_eq!(conn.close_state(), CloseState::Open);
    for message in batch {
        conn.send(message).unwrap();
    }
    assert!(matches!(conn.poll_event(), Ok(Some(Event::Close(_)))));
    let mut expected = server_text("a");
    expected.extend(server_text("b"));
    expected.extend(server_close(1000));
    assert_eq!(transmit(&mut conn), expected);
}

#[test]
fn an_error_is_kept_until_poll_event_and_its_close_frame_follows_the_answers() {
    // Invalid UTF-8 in the third message, a bad frame (unmasked) in
    // another run, and a message over the size limit in a third.
    let bad_utf8 = masked(FIN | TEXT, &[0xc3, 0x28]);
    let unmasked_frame = unmasked(FIN | TEXT, b"x");
    let too_large = masked(FIN | TEXT, &[b'x'; 64]);
    let cases = [
        (bad_utf8, ProtocolError::InvalidUtf8, 1007u16),
        (unmasked_frame, ProtocolError::UnmaskedFrame, 1002),
        (
            too_large,
            ProtocolError::MessageTooLarge { len: 64, max: 16 },
            1009,
        ),
    ];
    for (bad, error, code) in cases {
        let mut config = WebSocketConfig::default();
        config.max_message_size = 16;
        let mut conn = Connection::server(config);
        let mut wire = masked(FIN | TEXT, b"a");
        wire.extend(masked(FIN | TEXT, b"b"));
        wire.extend(&bad);
        wire.extend(masked(FIN | TEXT, b"never"));
        conn.receive(&wire);

        let batch = ahead(&mut conn);
        assert_eq!(batch, vec![text("a"), text("b")], "{error}");
        // Kept, not failed: nothing queued, still open, and no more ahead.
        assert!(transmit(&mut conn).is_empty(), "{error}");
        assert_eq!(conn.close_state(), CloseState::Open, "{error}");
        assert_eq!(conn.poll_message_ahead(), None, "{error}");
        for message in batch {
            conn.send(message).unwrap();
        }
        let got = conn.poll_event().unwrap_err();
        assert_eq!(got.to_string(), error.to_string());
        assert_eq!(conn.close_state(), CloseState::Closed);
        let mut expected = server_text("a");
        expected.extend(server_text("b"));
        expected.extend(server_close(code));
        assert_eq!(transmit(&mut conn), expected, "{error}");
        assert_eq!(conn.poll_event().unwrap(), None);
    }
}

#[test]
fn a_partial_message_and_the_end_of_input_wait_for_poll_event() {
    let mut conn = server();
    let whole = masked(FIN | TEXT, b"whole");
    let mut wire = whole.clone();
    wire.extend(masked(TEXT, b"frag-"));
    wire.extend(masked(FIN | CONT, b"ment"));
    wire.extend(&masked(FIN | TEXT, b"cut")[..4]);
    conn.receive(&wire);
    conn.receive_eof();

    // A message in two fragments is assembled ahead too.
    assert_eq!(ahead(&mut conn), vec![text("whole"), text("frag-ment")]);
    assert_eq!(conn.close_state(), CloseState::Open);
    assert!(matches!(
        conn.poll_event(),
        Err(ProtocolError::UnexpectedEof)
    ));
}

#[test]
fn a_message_split_across_reads_is_given_once_complete() {
    let mut conn = server();
    let wire = masked(FIN | TEXT, b"split in two");
    conn.receive(&wire[..5]);
    assert_eq!(conn.poll_message_ahead(), None);
    conn.receive(&wire[5..]);
    assert_eq!(ahead(&mut conn), vec![text("split in two")]);
}

#[test]
fn nothing_is_decoded_ahead_when_streaming() {
    let mut config = WebSocketConfig::default();
    config.streaming = true;
    let mut conn = Connection::server(config);
    conn.receive(&masked(FIN | TEXT, b"a"));
    assert_eq!(conn.poll_message_ahead(), None);
    assert!(matches!(conn.poll_event(), Ok(Some(Event::Fragment(_)))));
}
