//! Every `ProtocolError` a peer can cause from the wire. For each, fed
//! whole and a byte at a time: the exact error, the exact close frame
//! queued (the close code's bytes), `Ok(None)` from then on, nothing
//! delivered after the bad frame (a valid frame follows it on the wire),
//! and no more sending.

mod common;

use bytes::Bytes;
use ws_proto::{
    CloseState, Connection, Event, Fragment, Message, MessageKind, ProtocolError, Role, SendError,
    WebSocketConfig,
};

use common::{
    client, client_close, client_with, feed, masked, server, server_close, transmit, unmasked,
    Outcome, BINARY, CLOSE, CONT, FIN, KEY, PING, PONG, TEXT,
};

/// A valid frame for `role` to receive.
fn valid_frame_for(role: Role) -> Vec<u8> {
    match role {
        Role::Server => masked(FIN | TEXT, b"after"),
        Role::Client => unmasked(FIN | TEXT, b"after"),
    }
}

/// The close frame `role` sends with `code`.
fn close_from(role: Role, code: u16) -> Vec<u8> {
    match role {
        Role::Server => server_close(code),
        Role::Client => client_close(code),
    }
}

/// Checks that a connection from `make` fails on `wire` with `error` after
/// delivering `events`, whether fed whole or a byte at a time.
fn fails(
    make: impl Fn() -> Connection,
    wire: &[u8],
    events: &[Event],
    error: &ProtocolError,
    code: u16,
) {
    assert_eq!(error.close_code().0, code, "{error:?}");
    for byte_at_a_time in [false, true] {
        let mut conn = make();
        let role = conn.role();
        let input = [wire, &valid_frame_for(role)].concat();
        let pieces: Vec<&[u8]> = if byte_at_a_time {
            input.chunks(1).collect()
        } else {
            vec![&input]
        };
        let outcome = feed(&mut conn, pieces);
        let mode = if byte_at_a_time {
            "byte at a time"
        } else {
            "whole"
        };
        assert_eq!(
            outcome,
            Outcome::failed(events.to_vec(), error.clone()),
            "{mode}"
        );
        assert_eq!(transmit(&mut conn), close_from(role, code), "{mode}");
        assert_eq!(conn.close_state(), CloseState::Closed);
        assert_eq!(conn.receive_capacity(), 0);
        conn.receive(&valid_frame_for(role));
        assert_eq!(conn.poll_event(), Ok(None));
        assert_eq!(conn.send_text("no"), Err(SendError::Closed));
        assert_eq!(transmit(&mut conn), b"");
    }
}

/// One test per row: `name: receiver, wire, events before the error =>
/// error, close code;`
macro_rules! violations {
    ($($name:ident: $receiver:expr, $wire:expr, $events:expr => $error:expr, $code:expr;)*) => {
        $(
            #[test]
            fn $name() {
                fails(|| $receiver, &$wire, &$events, &$error, $code);
            }
        )*
    };
}

fn text(s: &'static str) -> Event {
    Event::Message(Message::from(s))
}

/// A masked header whose length field is written as given: `length[0]` is
/// the 7-bit field (126 or 127 for an extended length), the rest the
/// extended length bytes, so non-minimal encodings can be built.
fn header_with_length(b0: u8, length: &[u8]) -> Vec<u8> {
    [&[b0, 0x80 | length[0]][..], &length[1..], &KEY].concat()
}

fn streaming_server() -> Connection {
    Connection::server(WebSocketConfig::default().streaming(true))
}

violations! {
    // Masking (§5.1).
    unmasked_frame_to_server: server(), unmasked(FIN | TEXT, b"Hello"), [] =>
        ProtocolError::UnmaskedFrame, 1002;
    unmasked_control_frame_to_server: server(), unmasked(FIN | PING, b""), [] =>
        ProtocolError::UnmaskedFrame, 1002;
    masked_frame_to_client: client(), masked(FIN | TEXT, b"Hello"), [] =>
        ProtocolError::MaskedFrame, 1002;
    masked_control_frame_to_client: client(), masked(FIN | PONG, b"x"), [] =>
        ProtocolError::MaskedFrame, 1002;

    // Reserved bits (§5.2).
    rsv1_without_extension: server(), masked(FIN | 0x40 | TEXT, b"a"), [] =>
        ProtocolError::ReservedBits(0b100), 1002;
    rsv2_without_extension: server(), masked(FIN | 0x20 | TEXT, b"a"), [] =>
        ProtocolError::ReservedBits(0b010), 1002;
    rsv3_without_extension: client(), unmasked(FIN | 0x10 | BINARY, b"a"), [] =>
        ProtocolError::ReservedBits(0b001), 1002;
    all_rsv_bits_on_a_control_frame: client(), unmasked(FIN | 0x70 | PING, b""), [] =>
        ProtocolError::ReservedBits(0b111), 1002;
    rsv2_when_only_rsv1_is_negotiated:
        Connection::server(WebSocketConfig::default().allowed_rsv(0b100)),
        masked(FIN | 0x60 | TEXT, b"a"), [] =>
        ProtocolError::ReservedBits(0b010), 1002;

    // Reserved opcodes (§5.2).
    reserved_opcode_0x3: server(), masked(FIN | 0x3, b""), [] => ProtocolError::ReservedOpcode(0x3), 1002;
    reserved_opcode_0x4: server(), masked(FIN | 0x4, b""), [] => ProtocolError::ReservedOpcode(0x4), 1002;
    reserved_opcode_0x5: server(), masked(FIN | 0x5, b""), [] => ProtocolError::ReservedOpcode(0x5), 1002;
    reserved_opcode_0x6: server(), masked(FIN | 0x6, b""), [] => ProtocolError::ReservedOpcode(0x6), 1002;
    reserved_opcode_0x7: server(), masked(FIN | 0x7, b""), [] => ProtocolError::ReservedOpcode(0x7), 1002;
    reserved_opcode_0xb: client(), unmasked(FIN | 0xb, b""), [] => ProtocolError::ReservedOpcode(0xb), 1002;
    reserved_opcode_0xc: client(), unmasked(FIN | 0xc, b""), [] => ProtocolError::ReservedOpcode(0xc), 1002;
    reserved_opcode_0xd: client(), unmasked(FIN | 0xd, b""), [] => ProtocolError::ReservedOpcode(0xd), 1002;
    reserved_opcode_0xe: client(), unmasked(FIN | 0xe, b""), [] => ProtocolError::ReservedOpcode(0xe), 1002;
    reserved_opcode_0xf: client(), unmasked(FIN | 0xf, b""), [] => ProtocolError::ReservedOpcode(0xf), 1002;
    reserved_opcode_without_fin: server(), masked(0x3, b"x"), [] => ProtocolError::ReservedOpcode(0x3), 1002;

    // Length encoding (§5.2).
    non_minimal_16_bit_length: server(),
        [header_with_length(FIN | BINARY, &[126, 0, 125]), vec![0; 125]].concat(), [] =>
        ProtocolError::NonMinimalLength, 1002;
    non_minimal_64_bit_length: server(),
        [header_with_length(FIN | BINARY, &[127, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), vec![0; 0xffff]].concat(), [] =>
        ProtocolError::NonMinimalLength, 1002;
    non_minimal_64_bit_length_of_zero: client(), [0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0], [] =>
        ProtocolError::NonMinimalLength, 1002;
    non_minimal_16_bit_length_of_zero: client(), [0x82, 126, 0, 0], [] =>
        ProtocolError::NonMinimalLength, 1002;
    length_with_the_top_bit_set: client(), [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0], [] =>
        ProtocolError::InvalidLength, 1002;

    // Control frames (§5.5).
    ping_over_125_bytes: server(), masked(FIN | PING, &[0; 126]), [] =>
        ProtocolError::ControlFrameTooLarge(126), 1002;
    pong_over_125_bytes: client(), unmasked(FIN | PONG, &[0; 300]), [] =>
        ProtocolError::ControlFrameTooLarge(300), 1002;
    close_over_125_bytes: server(), masked(FIN | CLOSE, &[0x03; 126]), [] =>
        ProtocolError::ControlFrameTooLarge(126), 1002;
    fragmented_ping: server(), masked(PING, b"a"), [] =>
        ProtocolError::FragmentedControlFrame, 1002;
    fragmented_pong: client(), unmasked(PONG, b""), [] =>
        ProtocolError::FragmentedControlFrame, 1002;
    fragmented_close: server(), masked(CLOSE, &[0x03, 0xe8]), [] =>
        ProtocolError::FragmentedControlFrame, 1002;

    // Fragmentation (§5.4).
    continuation_without_start: server(), masked(FIN | CONT, b"x"), [] =>
        ProtocolError::UnexpectedContinuation, 1002;
    continuation_after_a_complete_message: client(),
        [unmasked(FIN | TEXT, b"a"), unmasked(FIN | CONT, b"b")].concat(), [text("a")] =>
        ProtocolError::UnexpectedContinuation, 1002;
    text_during_a_fragmented_message: server(),
        [masked(TEXT, b"a"), masked(FIN | TEXT, b"b")].concat(), [] =>
        ProtocolError::ExpectedContinuation, 1002;
    binary_during_a_fragmented_text_message: client(),
        [unmasked(TEXT, b"a"), unmasked(FIN | PONG, b""), unmasked(BINARY, b"b")].concat(),
        [Event::Pong(Bytes::new())] =>
        ProtocolError::ExpectedContinuation, 1002;
    text_during_a_streamed_message: streaming_server(),
        [masked(BINARY, b"a"), masked(FIN | TEXT, b"b")].concat(),
        [Event::Fragment(Fragment {
            kind: MessageKind::Binary,
            payload: Bytes::from_static(b"a"),
            first: true,
            fin: false,
        })] =>
        ProtocolError::ExpectedContinuation, 1002;

    // UTF-8 in text messages (§8.1).
    invalid_utf8_in_a_text_frame: server(), masked(FIN | TEXT, b"Hello\xffworld"), [] =>
        ProtocolError::InvalidUtf8, 1007;
    invalid_utf8_across_fragments: client(),
        [unmasked(TEXT, &[b'a', 0xce]), unmasked(FIN | CONT, b"A")].concat(), [] =>
        ProtocolError::InvalidUtf8, 1007;
    character_cut_by_the_end_of_a_message: server(), masked(FIN | TEXT, &[b'a', 0xe2, 0x82]), [] =>
        ProtocolError::InvalidUtf8, 1007;
    character_cut_by_the_end_of_a_fragmented_message: server(),
        [masked(TEXT, b"a"), masked(FIN | CONT, &[0xe2])].concat(), [] =>
        ProtocolError::InvalidUtf8, 1007;
    utf16_surrogate: client(), unmasked(FIN | TEXT, &[0xed, 0xa0, 0x80]), [] =>
        ProtocolError::InvalidUtf8, 1007;
    overlong_encoding: client(), unmasked(FIN | TEXT, &[0xc0, 0x80]), [] =>
        ProtocolError::InvalidUtf8, 1007;
    code_point_above_u10ffff: server(), masked(FIN | TEXT, &[0xf4, 0x90, 0x80, 0x80]), [] =>
        ProtocolError::InvalidUtf8, 1007;
    invalid_utf8_in_a_streamed_message: streaming_server(),
        [masked(TEXT, "κ".as_bytes()), masked(FIN | CONT, &[0xff])].concat(),
        [Event::Fragment(Fragment {
            kind: MessageKind::Text,
            payload: Bytes::from("κ"),
            first: true,
            fin: false,
        })] =>
        ProtocolError::InvalidUtf8, 1007;

    // Close frames (§5.5.1, §7.4).
    close_code_0: server(), masked(FIN | CLOSE, &0u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(0), 1002;
    close_code_999: server(), masked(FIN | CLOSE, &999u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(999), 1002;
    close_code_1004: server(), masked(FIN | CLOSE, &1004u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(1004), 1002;
    close_code_1005: server(), masked(FIN | CLOSE, &1005u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(1005), 1002;
    close_code_1006: client(), unmasked(FIN | CLOSE, &1006u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(1006), 1002;
    close_code_1015: client(), unmasked(FIN | CLOSE, &1015u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(1015), 1002;
    close_code_1016: client(), unmasked(FIN | CLOSE, &1016u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(1016), 1002;
    close_code_2999: server(), masked(FIN | CLOSE, &2999u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(2999), 1002;
    close_code_5000: server(), masked(FIN | CLOSE, &5000u16.to_be_bytes()), [] => ProtocolError::InvalidCloseCode(5000), 1002;
    close_code_with_a_reason: client(), unmasked(FIN | CLOSE, b"\x03\xedbye"), [] => ProtocolError::InvalidCloseCode(1005), 1002;
    one_byte_close_payload: server(), masked(FIN | CLOSE, &[0x03]), [] =>
        ProtocolError::InvalidClosePayload, 1002;
    invalid_utf8_close_reason: client(), unmasked(FIN | CLOSE, b"\x03\xe8bad \xff"), [] =>
        ProtocolError::InvalidCloseReason, 1007;
    close_reason_cut_inside_a_character: server(), masked(FIN | CLOSE, &[0x03, 0xe8, 0xce]), [] =>
        ProtocolError::InvalidCloseReason, 1007;

    // Limits (WebSocketConfig).
    frame_over_max_frame_size:
        Connection::server(WebSocketConfig::default().max_frame_size(1000)),
        masked(FIN | BINARY, &[0; 1001]), [] =>
        ProtocolError::FrameTooLarge { len: 1001, max: 1000 }, 1009;
    frame_over_the_default_max_frame_size: client(),
        [0x82, 127, 0x40, 0, 0, 0, 0, 0, 0, 0], [] =>
        ProtocolError::FrameTooLarge { len: 1 << 62, max: 16 << 20 }, 1009;
    single_frame_message_over_max_message_size:
        Connection::server(WebSocketConfig::default().max_message_size(10)),
        masked(FIN | TEXT, b"hello world"), [] =>
        ProtocolError::MessageTooLarge { len: 11, max: 10 }, 1009;
    message_over_max_message_size_across_fragments:
        client_with(WebSocketConfig::default().max_message_size(10)),
        [unmasked(TEXT, b"hello"), unmasked(FIN | PONG, b""), unmasked(CONT, b"world"),
         unmasked(FIN | CONT, b"!")].concat(),
        [Event::Pong(Bytes::new())] =>
        ProtocolError::MessageTooLarge { len: 11, max: 10 }, 1009;
}

/// Feeds `pieces` one by one and returns, for each, what `poll_event`
/// reported after it.
fn per_piece(conn: &mut Connection, pieces: &[&[u8]]) -> Vec<Outcome> {
    pieces.iter().map(|p| feed(conn, [*p])).collect()
}

#[test]
fn invalid_utf8_fails_on_the_piece_holding_the_bad_byte_before_the_frame_ends() {
    let wire = masked(FIN | TEXT, b"Hello, \xff world and more");
    let (header, payload) = wire.split_at(6);
    let mut conn = server();
    let got = per_piece(&mut conn, &[header, &payload[..7], &payload[7..8]]);
    assert_eq!(
        got,
        [
            Outcome::default(),
            Outcome::default(),
            Outcome::failed(vec![], ProtocolError::InvalidUtf8),
        ]
    );
    assert_eq!(transmit(&mut conn), server_close(1007));
}

#[test]
fn invalid_utf8_fails_on_the_byte_that_shows_a_character_is_broken() {
    // F0 90 starts a 4-byte character; 41 cannot continue it.
    let wire = unmasked(FIN | TEXT, &[0xf0, 0x90, 0x41, b'a', b'b', b'c']);
    let mut conn = client();
    let pieces: Vec<&[u8]> = wire[..5].chunks(1).collect();
    let got = per_piece(&mut conn, &pieces);
    let mut expected = vec![Outcome::default(); 4];
    expected.push(Outcome::failed(vec![], ProtocolError::InvalidUtf8));
    assert_eq!(got, expected);
    assert_eq!(transmit(&mut conn), client_close(1007));
}

#[test]
fn invalid_utf8_in_a_continuation_fails_before_the_continuation_ends() {
    // The first fragment ends inside "κ" (CE BA); the continuation's first
    // byte is not BA.
    let first = masked(TEXT, &[b'a', 0xce]);
    let cont = masked(FIN | CONT, b"Xyzzy");
    let mut conn = server();
    let got = per_piece(&mut conn, &[&first, &cont[..6], &cont[6..7]]);
    assert_eq!(
        got,
        [
            Outcome::default(),
            Outcome::default(),
            Outcome::failed(vec![], ProtocolError::InvalidUtf8),
        ]
    );
}

#[test]
fn a_character_cut_across_fragments_and_pieces_is_valid() {
    // The control for the tests above: the same cut with the right byte.
    let wire = [
        masked(TEXT, &[b'a', 0xce]),
        masked(FIN | CONT, &[0xba, b'!']),
    ]
    .concat();
    let mut conn = server();
    let got = feed(&mut conn, wire.chunks(1));
    assert_eq!(got, Outcome::ok(vec![text("aκ!")]));
}

#[test]
fn frame_over_max_frame_size_fails_on_its_header_alone() {
    let mut conn = Connection::server(WebSocketConfig::default().max_frame_size(1000));
    // 1001 as a 16-bit length, masked; no payload follows.
    let header = [0x82, 0xfe, 0x03, 0xe9, 1, 2, 3, 4];
    let pieces: Vec<&[u8]> = header.chunks(1).collect();
    let got = per_piece(&mut conn, &pieces);
    let mut expected = vec![Outcome::default(); 7];
    expected.push(Outcome::failed(
        vec![],
        ProtocolError::FrameTooLarge {
            len: 1001,
            max: 1000,
        },
    ));
    assert_eq!(got, expected);
    assert_eq!(transmit(&mut conn), server_close(1009));
}

#[test]
fn frame_of_exactly_max_frame_size_is_accepted() {
    let mut conn = Connection::server(WebSocketConfig::default().max_frame_size(1000));
    let got = feed(&mut conn, [&masked(FIN | BINARY, &[7; 1000])[..]]);
    assert_eq!(
        got,
        Outcome::ok(vec![Event::Message(Message::Binary(vec![7; 1000].into()))])
    );
}

#[test]
fn message_over_max_message_size_fails_on_the_header_of_the_fragment_that_crosses_it() {
    let mut conn = Connection::server(WebSocketConfig::default().max_message_size(10));
    let first = masked(BINARY, b"123456");
    let header = &masked(FIN | CONT, b"12345")[..6];
    let got = per_piece(&mut conn, &[&first, header]);
    assert_eq!(
        got,
        [
            Outcome::default(),
            Outcome::failed(vec![], ProtocolError::MessageTooLarge { len: 11, max: 10 }),
        ]
    );
    assert_eq!(transmit(&mut conn), server_close(1009));
}

#[test]
fn message_of_exactly_max_message_size_is_accepted() {
    let mut conn = Connection::server(WebSocketConfig::default().max_message_size(10));
    let wire = [masked(BINARY, b"123456"), masked(FIN | CONT, b"7890")].concat();
    let got = feed(&mut conn, [&wire[..]]);
    assert_eq!(
        got,
        Outcome::ok(vec![Event::Message(Message::Binary(Bytes::from_static(
            b"1234567890"
        )))])
    );
}

#[test]
fn streaming_mode_does_not_apply_max_message_size() {
    let mut conn = Connection::server(
        WebSocketConfig::default()
            .max_message_size(4)
            .streaming(true),
    );
    let wire = [masked(BINARY, b"1234"), masked(FIN | CONT, b"5678")].concat();
    let got = feed(&mut conn, [&wire[..]]);
    assert_eq!(got.error, None);
    assert_eq!(got.events.len(), 2);
}

#[test]
fn control_frame_over_125_bytes_fails_on_its_header_alone() {
    let mut conn = client();
    let got = feed(&mut conn, [&[0x89, 126, 0, 126][..]]);
    assert_eq!(
        got,
        Outcome::failed(vec![], ProtocolError::ControlFrameTooLarge(126))
    );
}

#[test]
fn a_negotiated_reserved_bit_is_accepted() {
    let mut conn = Connection::server(WebSocketConfig::default().allowed_rsv(0b100));
    let got = feed(&mut conn, [&masked(FIN | 0x40 | BINARY, b"z")[..]]);
    assert_eq!(
        got,
        Outcome::ok(vec![Event::Message(Message::Binary(Bytes::from_static(
            b"z"
        )))])
    );
}

/// Regression: the `max_buffered_input` check sat where only less than one
/// frame can be buffered, so input past the limit was never refused and an
/// adapter that ignored `receive_capacity` could buffer without bound.
#[test]
fn regression_input_over_max_buffered_input_is_refused() {
    let config = WebSocketConfig::default()
        .max_frame_size(1000)
        .max_buffered_input(0);
    let mut conn = Connection::server(config);
    // Never below one maximal frame: 1000 bytes of payload, 14 of header.
    assert_eq!(conn.receive_capacity(), 1014);
    // 145 complete 7-byte frames: 1015 bytes, one over.
    let wire = masked(FIN | TEXT, b"a").repeat(145);
    let got = feed(&mut conn, [&wire[..]]);
    assert_eq!(
        got,
        Outcome::failed(vec![], ProtocolError::InputBufferFull { max: 1014 })
    );
    assert_eq!(transmit(&mut conn), server_close(1009));
    assert_eq!(conn.close_state(), CloseState::Closed);
}

#[test]
fn input_of_exactly_max_buffered_input_is_accepted() {
    let config = WebSocketConfig::default()
        .max_frame_size(1000)
        .max_buffered_input(0);
    let mut conn = Connection::server(config);
    // 1014 bytes: 144 frames of 7 bytes and a 6-byte header of a frame
    // whose payload has not arrived.
    let wire = [
        masked(FIN | TEXT, b"a").repeat(144),
        masked(FIN | TEXT, b"b")[..6].to_vec(),
    ]
    .concat();
    assert_eq!(wire.len(), conn.receive_capacity());
    let got = feed(&mut conn, [&wire[..]]);
    assert_eq!(got, Outcome::ok(vec![text("a"); 144]));
}

#[test]
fn input_read_up_to_receive_capacity_is_never_refused() {
    let config = WebSocketConfig::default()
        .max_frame_size(200)
        .max_buffered_input(0);
    let mut conn = Connection::server(config);
    let wire = [masked(FIN | BINARY, &[9; 200]), masked(FIN | TEXT, b"a")]
        .concat()
        .repeat(20);
    let mut rest = &wire[..];
    let mut got = Outcome::default();
    while !rest.is_empty() {
        let n = conn.receive_capacity().min(rest.len());
        assert!(n > 0);
        conn.receive(&rest[..n]);
        rest = &rest[n..];
        common::drain_events(&mut conn, &mut got);
    }
    assert_eq!(got.error, None);
    assert_eq!(got.events.len(), 40);
}

#[test]
fn max_buffered_input_above_one_frame_is_the_limit() {
    let config = WebSocketConfig::default()
        .max_frame_size(16)
        .max_buffered_input(400);
    let mut conn = Connection::client(config, || KEY);
    assert_eq!(conn.receive_capacity(), 400);
    let wire = unmasked(FIN | BINARY, b"").repeat(201);
    let got = feed(&mut conn, [&wire[..]]);
    assert_eq!(
        got,
        Outcome::failed(vec![], ProtocolError::InputBufferFull { max: 400 })
    );
    assert_eq!(transmit(&mut conn), client_close(1009));
}

/// A ping of 125 bytes always fits in the input buffer, whatever
/// `max_frame_size` is, so a reader bounded by `receive_capacity` cannot
/// stall on one.
#[test]
fn a_maximal_ping_fits_even_with_a_tiny_max_frame_size() {
    let config = WebSocketConfig::default()
        .max_frame_size(1)
        .max_buffered_input(0);
    let mut conn = Connection::server(config);
    let ping = masked(FIN | PING, &[b'p'; 125]);
    assert!(conn.receive_capacity() >= ping.len());
    let got = feed(&mut conn, [&ping[..]]);
    assert_eq!(
        got,
        Outcome::ok(vec![Event::Ping(Bytes::from(vec![b'p'; 125]))])
    );
}

// ---- end of input ---------------------------------------------------------

/// Checks that `conn` reports `events` then `UnexpectedEof` at end of input,
/// sends nothing because of it, and is silent afterwards.
fn eof_fails(mut conn: Connection, wire: &[u8], events: &[Event]) {
    conn.receive(wire);
    conn.receive_eof();
    let mut got = Outcome::default();
    common::drain_events(&mut conn, &mut got);
    assert_eq!(
        got,
        Outcome::failed(events.to_vec(), ProtocolError::UnexpectedEof)
    );
    assert_eq!(ProtocolError::UnexpectedEof.close_code().0, 1006);
    assert_eq!(transmit(&mut conn), b"");
    assert_eq!(conn.close_state(), CloseState::Closed);
    assert_eq!(conn.receive_capacity(), 0);
    assert_eq!(conn.poll_event(), Ok(None));
    assert_eq!(conn.send_binary(b"x"), Err(SendError::Closed));
}

#[test]
fn eof_before_any_frame() {
    eof_fails(server(), b"", &[]);
}

#[test]
fn eof_inside_a_header() {
    eof_fails(server(), &masked(FIN | TEXT, b"Hello")[..3], &[]);
}

#[test]
fn eof_inside_a_payload() {
    eof_fails(client(), &unmasked(FIN | TEXT, b"Hello")[..4], &[]);
}

#[test]
fn eof_inside_a_fragmented_message_after_complete_ones() {
    let wire = [
        unmasked(FIN | TEXT, b"one"),
        unmasked(FIN | PONG, b"p"),
        unmasked(TEXT, b"tw"),
    ]
    .concat();
    eof_fails(
        client(),
        &wire,
        &[text("one"), Event::Pong(Bytes::from_static(b"p"))],
    );
}

#[test]
fn eof_after_our_close_but_before_the_peers() {
    let mut conn = server();
    conn.close(Some(ws_proto::CloseCode::NORMAL), "").unwrap();
    assert_eq!(transmit(&mut conn), server_close(1000));
    eof_fails(conn, &[], &[]);
}

#[test]
fn eof_after_the_close_handshake_is_not_an_error() {
    let mut conn = server();
    let got = feed(&mut conn, [&masked(FIN | CLOSE, &[0x03, 0xe8])[..]]);
    assert_eq!(
        got.events,
        [Event::Close(Some(ws_proto::CloseFrame::new(
            ws_proto::CloseCode::NORMAL,
            ""
        )))]
    );
    conn.receive_eof();
    assert_eq!(conn.poll_event(), Ok(None));
    assert_eq!(transmit(&mut conn), server_close(1000));
}

#[test]
fn protocol_error_while_closing_sends_no_second_close_frame() {
    let mut conn = client();
    conn.close(Some(ws_proto::CloseCode::GOING_AWAY), "")
        .unwrap();
    assert_eq!(transmit(&mut conn), client_close(1001));
    let got = feed(&mut conn, [&masked(FIN | TEXT, b"x")[..]]);
    assert_eq!(got, Outcome::failed(vec![], ProtocolError::MaskedFrame));
    assert_eq!(transmit(&mut conn), b"");
    assert_eq!(conn.close_state(), CloseState::Closed);
}
