//! SockJS's websocket transport: frames both ways, the application's close,
//! and the lingering close (written, write side shut, then the client's end
//! of file awaited for `linger`).

mod support;

use std::time::Instant;

use server_proto::ws_proto::{CloseCode, CloseFrame, Event, Message};
use server_proto::{CloseStatus, ServerConfig, ServerOptions, Session, SockJsOptions};
use support::{recv_pending, recv_text, secs, upgrade, Client, Sim, WsClient};

fn sim() -> Sim {
    let mut config = ServerConfig::new(ServerOptions::default().linger(secs(2)));
    config.sockjs("/echo", SockJsOptions::default().send_time_limit(secs(10)));
    Sim::new(config)
}

/// Opens a SockJS websocket at `now`: the `o` frame has been read.
fn open(sim: &Sim, now: Instant) -> (Client, WsClient, Session) {
    let mut c = sim.connect(now);
    c.send(&upgrade("/echo/000/s1/websocket", ""), now);
    let bytes = c.read(now);
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    assert!(bytes.starts_with(b"HTTP/1.1 101 "));
    let mut ws = WsClient::default();
    assert_eq!(
        ws.events(&bytes[head_end..]),
        [Event::Message(Message::from("o"))]
    );
    let session = c.session();
    (c, ws, session)
}

/// The application's close: what the client gets; its echo.
fn close_frames(ws: &mut WsClient, bytes: &[u8]) -> Vec<u8> {
    assert_eq!(
        ws.events(bytes),
        [
            Event::Message(Message::from("c[3000,\"Go away!\"]")),
            Event::Close(Some(CloseFrame::new(3000u16, "Go away!")))
        ]
    );
    ws.transmit()
}

#[test]
fn messages_go_both_ways_in_sockjs_frames() {
    let sim = sim();
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    c.send(&ws.text(r#"["hi","there"]"#), sim.at(1_000));
    assert_eq!(recv_text(&mut session), "hi");
    assert_eq!(recv_text(&mut session), "there");
    recv_pending(&mut session);
    session.send("back").expect("open");
    assert_eq!(
        ws.events(&c.read(sim.at(1_000))),
        [Event::Message(Message::from("a[\"back\"]"))]
    );
}

#[test]
fn the_applications_close_is_written_then_the_connection_lingers_for_the_eof() {
    let sim = sim();
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    session.close(3000u16, "Go away!").expect("open");
    let echo = close_frames(&mut ws, &c.read(sim.at(1_000)));
    assert!(!c.conn.wants_shutdown_write(), "until the client's echo");
    c.send(&echo, sim.at(1_000));
    assert_eq!(c.read(sim.at(1_000)), b"");
    assert!(c.conn.wants_shutdown_write());
    assert!(c.conn.wants_read());
    assert!(!c.is_done());
    c.eof(sim.at(1_500));
    assert!(c.is_done());
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(CloseStatus::new(3000u16, "Go away!"))
    );
}

#[test]
fn without_the_eof_the_connection_is_done_exactly_at_the_linger() {
    let sim = sim();
    let (mut c, mut ws, session) = open(&sim, sim.at(0));
    session.close(3000u16, "Go away!").expect("open");
    let echo = close_frames(&mut ws, &c.read(sim.at(1_000)));
    c.send(&echo, sim.at(1_000));
    assert_eq!(c.read(sim.at(1_000)), b"");
    assert_eq!(c.deadline(), Some(sim.at(3_000)));
    c.fire(sim.at(2_999));
    assert!(!c.is_done());
    c.fire(sim.at(3_000));
    assert!(c.is_done());
}

/// The linger counts from the write side's shutdown, once everything is
/// written (as adapter-core: write, shut down, then read until the end of
/// file for 2 s): a client slow to read the last frames (within the send
/// time limit) gets them all, then `linger` for its end of file.
#[test]
fn a_slowly_read_close_is_written_whole_and_the_linger_starts_after_it() {
    let sim = sim();
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    // The client closes: the echo is the last output.
    c.send(&ws.close(1000, ""), sim.at(1_000));
    let mut bytes = c.read_some(1, sim.at(1_000));
    assert!(c.conn.transmit_len() > 0);
    // Within the send time limit (10 s from 1 s), past the linger: the
    // echo is still being written.
    c.fire(sim.at(4_000));
    assert!(c.conn.transmit_len() > 0, "what waits is kept");
    assert!(!c.is_done());
    bytes.extend_from_slice(&c.read(sim.at(5_000)));
    assert_eq!(
        ws.events(&bytes),
        [Event::Close(Some(CloseFrame::new(1000u16, "")))]
    );
    assert!(c.conn.wants_shutdown_write());
    assert_eq!(c.deadline(), Some(sim.at(7_000)));
    c.fire(sim.at(6_999));
    assert!(!c.is_done());
    c.fire(sim.at(7_000));
    assert!(c.is_done());
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status().map(|s| s.code),
        Some(CloseCode::NORMAL)
    );
}

#[test]
fn a_close_the_client_does_not_read_is_cut_at_the_send_time_limit() {
    let sim = sim();
    let (mut c, _ws, session) = open(&sim, sim.at(0));
    session.close(3000u16, "Go away!").expect("open");
    c.drain(sim.at(1_000));
    assert!(c.conn.transmit_len() > 0);
    assert_eq!(c.deadline(), Some(sim.at(11_000)));
    c.fire(sim.at(10_999));
    assert!(!c.is_done());
    c.fire(sim.at(11_000));
    assert!(c.is_done());
    assert_eq!(c.conn.transmit_len(), 0);
}

#[test]
fn what_the_application_sends_goes_out_whether_or_not_a_write_is_under_way() {
    let sim = sim();
    let (mut c, mut ws, session) = open(&sim, sim.at(0));
    let now = sim.at(1_000);
    session.send("one").expect("open");
    assert_eq!(
        ws.events(&c.read(now)),
        [Event::Message(Message::from("a[\"one\"]"))]
    );
    // The write drained with nothing more to take: the next send wakes
    // the connection, which takes it.
    let wakes = c.wakes.count();
    session.send("two").expect("open");
    assert!(c.wakes.count() > wakes, "the send wakes the connection");
    assert_eq!(
        ws.events(&c.read(now)),
        [Event::Message(Message::from("a[\"two\"]"))]
    );
    // A send while the last is still being written is taken once that
    // write drains.
    session.send("three").expect("open");
    c.drain(now);
    assert!(c.conn.transmit_len() > 0);
    session.send("four").expect("open");
    c.drain(now);
    assert_eq!(
        ws.events(&c.read(now)),
        [
            Event::Message(Message::from("a[\"three\"]")),
            Event::Message(Message::from("a[\"four\"]"))
        ]
    );
}
