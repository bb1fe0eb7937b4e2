//! Plain WebSocket endpoints: the upgrade and its staged accept, echo
//! through the session, backpressure, liveness pings and the pong timeout
//! to the millisecond, the close handshake, the send time limit, and a
//! sender that waits for room.

mod support;

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures_util::sink::Sink;
use server_proto::ws_proto::{self, CloseCode, CloseFrame, Event, Message};
use server_proto::{
    CloseStatus, HandshakeOutcome, Rejection, ServerConfig, ServerOptions, Session,
    WebSocketOptions,
};
use support::{
    one_response, poll_recv, recv_end, recv_pending, recv_text, secs, upgrade, Client, Sim,
    WakeCounter, WsClient,
};

fn sim_with(options: WebSocketOptions) -> Sim {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.websocket("/ws", options);
    Sim::new(config)
}

/// Upgrades a connection at `now` (read at `now`): the client, its
/// WebSocket, the session, and the frames that came after the 101.
fn open(sim: &Sim, now: Instant) -> (Client, WsClient, Session) {
    let mut c = sim.connect(now);
    c.send(&upgrade("/ws", ""), now);
    let bytes = c.read(now);
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let res = one_response(&bytes[..head_end]);
    assert_eq!(res.status, 101);
    assert_eq!(
        res.header("sec-websocket-accept"),
        Some("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    );
    assert_eq!(&bytes[head_end..], b"", "no frame yet");
    let session = c.session();
    (c, WsClient::default(), session)
}

#[test]
fn an_upgrade_opens_a_session_that_echoes() {
    let sim = sim_with(WebSocketOptions::default());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    assert_eq!(c.outcomes(), [HandshakeOutcome::Opened(session.id())]);
    assert_eq!(session.path(), "/ws");
    // The application asks for a message: the connection is woken to read.
    let wakes = c.wakes.count();
    let (app, app_waker) = WakeCounter::new();
    assert!(poll_recv(&mut session, &app_waker).is_pending());
    assert!(c.wakes.count() > wakes);
    c.drain(sim.at(0));
    c.send(&ws.text("hello"), sim.at(1_000));
    assert_eq!(app.count(), 1, "the application is woken");
    assert_eq!(recv_text(&mut session), "hello");
    let wakes = c.wakes.count();
    session.send("hello").expect("open");
    assert!(c.wakes.count() > wakes, "the connection is woken");
    let events = ws.events(&c.read(sim.at(1_000)));
    assert_eq!(events, [Event::Message(Message::from("hello"))]);
    assert!(!c.is_done());
}

#[test]
fn an_upgrade_is_staged_and_a_refusal_closes_the_connection() {
    let sim = sim_with(WebSocketOptions::default());
    let mut c = sim.connect(sim.at(0));
    c.auto_accept = false;
    c.send(&upgrade("/ws", ""), sim.at(0));
    let incoming = c.take_incoming();
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(!c.conn.wants_read());
    let rejection = Rejection::new(http::StatusCode::UNAUTHORIZED);
    c.conn.refuse(incoming, &rejection, sim.at(0));
    c.drain(sim.at(0));
    assert_eq!(
        c.outcomes(),
        [HandshakeOutcome::Refused(http::StatusCode::UNAUTHORIZED)]
    );
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 401);
    assert_eq!(res.body_str(), "Unauthorized");
    assert!(c.opened.is_empty());
    assert!(c.is_done());
}

#[test]
fn a_foreign_origin_gets_403_without_an_incoming() {
    let sim = sim_with(WebSocketOptions::default());
    let mut c = sim.connect(sim.at(0));
    c.auto_accept = false;
    c.send(
        &upgrade("/ws", "Origin: http://evil.example\r\n"),
        sim.at(0),
    );
    assert!(c.incoming.is_empty());
    assert_eq!(
        c.outcomes(),
        [HandshakeOutcome::Refused(http::StatusCode::FORBIDDEN)]
    );
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 403);
    assert!(c.opened.is_empty());
    assert!(c.is_done());
}

#[test]
fn an_application_that_does_not_read_stops_the_reading() {
    let sim = sim_with(WebSocketOptions::default());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    // The application has not asked for a message yet.
    assert!(!c.conn.wants_read());
    recv_pending(&mut session);
    c.drain(sim.at(0));
    assert!(c.conn.wants_read());
    c.send(&ws.text("one"), sim.at(0));
    // One message in, none asked for: the socket is not read.
    assert!(!c.conn.wants_read());
    assert_eq!(recv_text(&mut session), "one");
    assert!(!c.conn.wants_read(), "still handling it");
    recv_pending(&mut session);
    c.drain(sim.at(0));
    assert!(c.conn.wants_read());
}

/// Pipelined messages: the client's messages `m0`..`m9` and then `tail`,
/// in one write, to an application that asked for a message.
fn pipelined(tail: &[u8]) -> (Sim, Client, WsClient, Session) {
    let sim = sim_with(WebSocketOptions::default());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0));
    let mut wire = Vec::new();
    for i in 0..10 {
        wire.extend(ws.text(&format!("m{i}")));
    }
    wire.extend_from_slice(tail);
    c.send(&wire, sim.at(1));
    (sim, c, ws, session)
}

/// The application takes the ten messages without the connection running
/// in between (they came in one batch) and answers each.
fn answer_the_batch(session: &mut Session) {
    for i in 0..10 {
        let text = recv_text(session);
        assert_eq!(text, format!("m{i}"));
        session.send(text).expect("open");
    }
}

fn texts(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            Event::Message(Message::Text(t)) => t.as_str().to_owned(),
            other => panic!("expected a text message, got {other:?}"),
        })
        .collect()
}

#[test]
fn pipelined_messages_come_in_one_batch_and_a_close_is_echoed_after_their_answers() {
    let mut close = WsClient::default();
    let (sim, mut c, mut ws, mut session) = pipelined(&close.close(1000, "bye"));
    answer_the_batch(&mut session);
    let answers = ws.events(&c.read(sim.at(1)));
    let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(texts(&answers), expected, "the answers, and no close yet");
    // The application asks for more: now the close is read and echoed.
    recv_pending(&mut session);
    let events = ws.events(&c.read(sim.at(1)));
    assert_eq!(
        events,
        [Event::Close(Some(CloseFrame::new(
            CloseCode::NORMAL,
            "bye"
        )))]
    );
    c.eof(sim.at(1));
    recv_end(&mut session);
}

#[test]
fn a_protocol_error_after_pipelined_messages_closes_after_their_answers() {
    // A text frame of invalid UTF-8, masked with a zero key.
    let invalid = [0x81, 0x82, 0, 0, 0, 0, 0xc3, 0x28];
    let (sim, mut c, mut ws, mut session) = pipelined(&invalid);
    answer_the_batch(&mut session);
    recv_pending(&mut session);
    let events = ws.events(&c.read(sim.at(1)));
    let (answers, close) = events.split_at(10);
    let expected: Vec<String> = (0..10).map(|i| format!("m{i}")).collect();
    assert_eq!(texts(answers), expected);
    assert_eq!(
        close,
        [Event::Close(Some(CloseFrame::new(
            CloseCode::INVALID_PAYLOAD,
            ""
        )))]
    );
    c.eof(sim.at(1));
    recv_end(&mut session);
    assert_eq!(
        session.close_status().map(|s| s.code),
        Some(CloseCode::INVALID_PAYLOAD)
    );
}

fn pinging() -> WebSocketOptions {
    let mut options = WebSocketOptions::default();
    *options.config_mut() = ws_proto::WebSocketConfig::default()
        .ping_interval(secs(10))
        .pong_timeout(secs(5));
    options
}

#[test]
fn a_silent_client_is_pinged_at_the_interval_and_dropped_at_the_pong_timeout() {
    let sim = sim_with(pinging());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(1_000));
    recv_pending(&mut session);
    c.drain(sim.at(1_000));
    assert_eq!(c.deadline(), Some(sim.at(11_000)));
    // The first interval began before the application had the session
    // (reading paused until it asked): it counts as alive, no ping. As in
    // adapter-core, whose connection task starts before the handler.
    c.fire(sim.at(11_000));
    assert_eq!(c.read(sim.at(11_000)), b"");
    assert_eq!(c.deadline(), Some(sim.at(21_000)));
    c.fire(sim.at(20_999));
    assert_eq!(c.read(sim.at(20_999)), b"");
    c.fire(sim.at(21_000));
    let events = ws.events(&c.read(sim.at(21_000)));
    assert!(
        matches!(&events[..], [Event::Ping(_)]),
        "a ping: {events:?}"
    );
    assert_eq!(c.deadline(), Some(sim.at(26_000)));
    c.fire(sim.at(25_999));
    assert!(!c.is_done());
    assert!(session.is_open());
    c.fire(sim.at(26_000));
    assert!(c.is_done());
    assert_eq!(c.conn.transmit_len(), 0, "nothing more is sent");
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(CloseStatus::new(CloseCode::ABNORMAL, "No answer to ping"))
    );
}

#[test]
fn a_client_that_answers_the_ping_stays() {
    let sim = sim_with(pinging());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0));
    c.fire(sim.at(10_000));
    c.fire(sim.at(20_000));
    let events = ws.events(&c.read(sim.at(20_000)));
    assert!(matches!(&events[..], [Event::Ping(_)]), "{events:?}");
    c.send(&ws.pong(b""), sim.at(22_000));
    c.fire(sim.at(25_000));
    assert!(!c.is_done());
    assert!(session.is_open());
    // Alive: the next check is an interval later.
    assert_eq!(c.deadline(), Some(sim.at(35_000)));
}

#[test]
fn the_clients_close_is_echoed_and_ends_the_session_after_its_eof() {
    let sim = sim_with(WebSocketOptions::default());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0));
    c.send(&ws.close(4000, "bye"), sim.at(1_000));
    let events = ws.events(&c.read(sim.at(1_000)));
    assert_eq!(
        events,
        [Event::Close(Some(CloseFrame::new(4000u16, "bye")))]
    );
    assert!(c.conn.wants_shutdown_write());
    assert!(!c.is_done(), "waiting for the client's end of file");
    assert!(c.conn.wants_read());
    c.eof(sim.at(1_500));
    assert!(c.is_done());
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(CloseStatus::new(4000u16, "bye"))
    );
}

#[test]
fn a_client_that_does_not_read_is_cut_at_the_send_time_limit() {
    let sim = sim_with(WebSocketOptions::default().send_time_limit(secs(3)));
    let (mut c, _ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    session.send("unread").expect("open");
    c.drain(sim.at(2_000));
    assert!(c.conn.transmit_len() > 0);
    assert_eq!(c.deadline(), Some(sim.at(5_000)));
    c.fire(sim.at(4_999));
    assert!(!c.is_done());
    c.fire(sim.at(5_000));
    assert!(c.is_done());
    assert_eq!(c.conn.transmit_len(), 0);
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(CloseStatus::new(
            CloseCode::NOT_RELIABLE,
            "Send time limit exceeded"
        ))
    );
    assert_eq!(session.send("late"), Err(server_proto::SendError::Closed));
}

#[test]
fn a_waiting_sender_is_ready_again_once_the_client_reads() {
    let sim = sim_with(WebSocketOptions::default().send_buffer_size_limit(100));
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    let mut sender = session.sender();
    let (wakes, waker) = WakeCounter::new();
    let mut cx = Context::from_waker(&waker);
    let big = "x".repeat(70 * 1024);
    let small = "y".repeat(200);
    // Room: the big message is taken (past the limit: it waited) and goes
    // into the connection's output.
    assert_eq!(
        Pin::new(&mut sender).poll_ready(&mut cx),
        Poll::Ready(Ok(()))
    );
    Pin::new(&mut sender)
        .start_send(Message::from(big.clone()))
        .expect("open");
    c.drain(sim.at(0));
    assert!(c.conn.transmit_len() > 64 * 1024);
    // The buffer is empty again: the small one is taken, and stays there
    // while the client has not read the big one.
    assert_eq!(
        Pin::new(&mut sender).poll_ready(&mut cx),
        Poll::Ready(Ok(()))
    );
    Pin::new(&mut sender)
        .start_send(Message::from(small.clone()))
        .expect("open");
    c.drain(sim.at(0));
    assert_eq!(Pin::new(&mut sender).poll_ready(&mut cx), Poll::Pending);
    assert_eq!(wakes.count(), 0);
    // The client reads: the small one moves out, the sender is woken.
    let bytes = c.read(sim.at(1_000));
    assert_eq!(wakes.count(), 1);
    assert_eq!(
        Pin::new(&mut sender).poll_ready(&mut cx),
        Poll::Ready(Ok(()))
    );
    let events = ws.events(&bytes);
    assert_eq!(
        events,
        [
            Event::Message(Message::from(big.clone())),
            Event::Message(Message::from(small.clone()))
        ]
    );
}

/// The client takes everything written, the way a socket does, with no
/// poll of the connection between the writes.
fn write_out_without_polls(c: &mut Client, now: Instant) -> Vec<u8> {
    let mut got = Vec::new();
    while c.conn.transmit_len() > 0 {
        let chunk = c.conn.transmit().to_vec();
        got.extend_from_slice(&chunk);
        c.conn.consume(chunk.len(), now);
    }
    got
}

#[test]
fn sends_held_back_by_the_write_limit_go_out_as_the_output_drains_without_a_poll() {
    let sim = sim_with(WebSocketOptions::default());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0));
    let messages: Vec<String> = (b'a'..=b'c')
        .map(|b| char::from(b).to_string().repeat(40 * 1024))
        .collect();
    for m in &messages {
        session.send(m.clone()).expect("open");
    }
    c.drain(sim.at(0));
    let queued = c.conn.transmit_len();
    assert!(
        queued < 3 * 40 * 1024,
        "the last send waits in the outbox: {queued} bytes queued"
    );
    // Once the output is written, the connection takes what it held back
    // by itself: the embedder writes and is not woken for it.
    let wakes = c.wakes.count();
    let bytes = write_out_without_polls(&mut c, sim.at(1));
    assert_eq!(c.conn.transmit_len(), 0);
    assert_eq!(c.wakes.count(), wakes);
    let expected: Vec<Event> = messages
        .iter()
        .map(|m| Event::Message(Message::from(m.clone())))
        .collect();
    assert_eq!(ws.events(&bytes), expected);
}

#[test]
fn a_deadline_that_passed_is_kept_by_the_next_poll_as_by_handle_timeout() {
    let sim = sim_with(pinging());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0));
    c.fire(sim.at(10_000));
    assert_eq!(c.deadline(), Some(sim.at(20_000)));
    // No wake and no call since the last step: a poll before the deadline
    // does nothing, one at it pings (the embedder's wait ended with the
    // waker and the deadline at once, and it polled).
    assert!(c.conn.poll_output(sim.at(19_999)).is_none());
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(c.conn.poll_output(sim.at(20_000)).is_none());
    let events = ws.events(&write_out_without_polls(&mut c, sim.at(20_000)));
    assert!(matches!(&events[..], [Event::Ping(_)]), "{events:?}");
}

#[test]
fn a_send_to_a_settled_connection_wakes_it_and_the_next_poll_takes_it() {
    let sim = sim_with(WebSocketOptions::default());
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0));
    assert!(c.conn.poll_output(sim.at(0)).is_none());
    let wakes = c.wakes.count();
    session.send("late").expect("open");
    assert_eq!(c.wakes.count(), wakes + 1, "the send wakes the embedder");
    assert!(c.conn.poll_output(sim.at(0)).is_none());
    let events = ws.events(&write_out_without_polls(&mut c, sim.at(0)));
    assert_eq!(events, [Event::Message(Message::from("late"))]);
}
