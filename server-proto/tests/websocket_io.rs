//! A plain WebSocket's input and its end: reads straight into the input
//! buffer (and their sizing), what is read after the close, a request that
//! is no upgrade, sends after the client's close, and a connection dropped
//! under its session.

mod support;

use std::time::Instant;

use server_proto::ws_proto::{CloseCode, Event};
use server_proto::{SendError, ServerConfig, ServerOptions, Session, WebSocketOptions, READ_CHUNK};
use support::{
    get, one_response, recv_end, recv_pending, recv_text, upgrade, Client, Sim, WsClient,
};

fn sim() -> Sim {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.websocket("/ws", WebSocketOptions::default());
    Sim::new(config)
}

fn open(sim: &Sim, now: Instant) -> (Client, WsClient, Session) {
    let mut c = sim.connect(now);
    c.send(&upgrade("/ws", ""), now);
    let head = c.read(now);
    assert!(head.starts_with(b"HTTP/1.1 101 "));
    let session = c.session();
    (c, WsClient::default(), session)
}

/// Reads `bytes` as an embedder does: straight into the connection's input
/// buffer when it offers one, else into a buffer of its own (of
/// `read_capacity`, at most `READ_CHUNK`). Each read's reservation, `None`
/// for a read into the embedder's buffer.
fn read_into(c: &mut Client, mut bytes: &[u8], now: Instant) -> Vec<Option<usize>> {
    let mut wants = Vec::new();
    while !bytes.is_empty() {
        if let Some((buf, want)) = c.conn.read_buffer() {
            let n = want.min(bytes.len());
            buf.extend_from_slice(&bytes[..n]);
            c.conn.handle_read(want, n, now);
            wants.push(Some(want));
            bytes = &bytes[n..];
        } else {
            let n = c.conn.read_capacity().min(READ_CHUNK).min(bytes.len());
            c.conn.handle_input(&bytes[..n], now);
            wants.push(None);
            bytes = &bytes[n..];
        }
    }
    c.drain(now);
    wants
}

#[test]
fn an_idle_connection_holds_no_buffer_and_a_frame_in_progress_is_read_straight_in() {
    let sim = sim();
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    // Nothing buffered: no input buffer is offered (an idle connection
    // reserves none), and a small message comes in one read of the
    // embedder's.
    assert!(c.conn.read_buffer().is_none());
    let frame = ws.text("hello");
    assert_eq!(read_into(&mut c, &frame, sim.at(0)), [None]);
    assert_eq!(recv_text(&mut session), "hello");
    assert!(c.conn.read_buffer().is_none(), "decoded: let go of");
    // A big message: the first read into the embedder's buffer, then
    // straight into the input buffer, each full read doubling the next.
    recv_pending(&mut session);
    let big = ws.text(&"x".repeat(60_000));
    let wants = read_into(&mut c, &big, sim.at(0));
    assert_eq!(
        wants[..5],
        [None, Some(4096), Some(8192), Some(16384), Some(32768)]
    );
    assert_eq!(recv_text(&mut session).len(), 60_000);
    assert!(c.conn.read_buffer().is_none(), "decoded: let go of");
    assert!(c.conn.read_capacity() > 1);
}

#[test]
fn after_the_close_what_is_read_is_dropped_in_large_pieces() {
    let sim = sim();
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    c.drain(sim.at(0)); // woken by the ask
    c.send(&ws.close(1000, "bye"), sim.at(0));
    let events = ws.events(&c.read(sim.at(0)));
    assert!(
        matches!(events.as_slice(), [Event::Close(Some(_))]),
        "{events:?}"
    );
    // Closed: no buffer to read into, and pieces of READ_CHUNK (not one
    // byte at a time) until the client's end of file.
    assert!(c.conn.read_buffer().is_none());
    assert!(c.conn.wants_read());
    assert_eq!(c.conn.read_capacity(), READ_CHUNK);
    c.send(&[0; 100], sim.at(0));
    c.eof(sim.at(0));
    assert!(c.is_done());
    recv_end(&mut session);
}

#[test]
fn a_request_on_a_websocket_path_that_is_no_upgrade_is_refused() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(&get("/ws"), sim.at(0));
    let res = one_response(&c.read(sim.at(0)));
    assert!(res.status >= 400 && res.status < 500, "{}", res.status);
    assert!(c.is_done());
    assert!(c.opened.is_empty());
}

#[test]
fn after_the_clients_close_the_session_takes_no_more_sends() {
    let sim = sim();
    let (mut c, mut ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    assert!(session.is_open());
    c.drain(sim.at(0)); // woken by the ask
    c.send(&ws.close(4000, "done"), sim.at(0));
    let _ = c.read(sim.at(0));
    assert!(!session.is_open());
    assert_eq!(session.send("late"), Err(SendError::Closed));
}

#[test]
fn a_connection_dropped_under_its_session_ends_it_with_1006() {
    let sim = sim();
    let (c, _ws, mut session) = open(&sim, sim.at(0));
    recv_pending(&mut session);
    drop(c);
    recv_end(&mut session);
    assert_eq!(
        session.close_status().map(|s| s.code),
        Some(CloseCode::ABNORMAL)
    );
    assert!(!session.is_open());
}
