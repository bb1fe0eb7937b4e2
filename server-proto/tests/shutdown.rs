//! Graceful shutdown: idle connections close, WebSocket sessions get a
//! close 1001, SockJS streams `c[1001,"Server shutting down"]`, a request
//! in flight is finished, and `is_finished` turns true when the last
//! connection is dropped or exactly at the shutdown timeout.

mod support;

use server_proto::ws_proto::{CloseCode, CloseFrame, Event};
use server_proto::{ServerConfig, ServerOptions, SockJsOptions, WebSocketOptions};
use support::{one_response, post, recv_pending, secs, upgrade, Sim};
use support::{WakeCounter, WsClient};

fn sim() -> Sim {
    let mut config = ServerConfig::new(ServerOptions::default().shutdown_timeout(secs(10)));
    config.page("/", "text/plain", "hi");
    config.sockjs("/echo", SockJsOptions::default());
    config.websocket("/ws", WebSocketOptions::default());
    Sim::new(config)
}

#[test]
fn an_idle_connection_closes_and_the_shutdown_finishes_when_it_is_dropped() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    let _ = sim.server_timeout();
    let (timer, timer_waker) = WakeCounter::new();
    assert_eq!(sim.server.poll_timeout(Some(&timer_waker)), None);
    assert!(!sim.server.is_finished(sim.at(0)), "no shutdown yet");
    sim.server.shutdown(sim.at(1_000));
    assert_eq!(c.wakes.count(), 1, "every connection is woken");
    assert_eq!(timer.count(), 1, "and the server's timer");
    // The timer's driver comes back, waiting for the end of the shutdown.
    assert_eq!(
        sim.server.poll_timeout(Some(&timer_waker)),
        Some(sim.at(11_000))
    );
    c.drain(sim.at(1_000));
    assert!(c.is_done());
    assert_eq!(c.conn.transmit_len(), 0, "nothing is written");
    assert!(!sim.server.is_finished(sim.at(1_000)), "not dropped yet");
    drop(c);
    assert_eq!(sim.server.connections(), 0);
    assert_eq!(timer.count(), 2, "the last connection wakes the timer");
    assert!(sim.server.is_finished(sim.at(1_000)));
}

#[test]
fn the_shutdown_is_finished_exactly_at_its_timeout() {
    let sim = sim();
    let _c = sim.connect(sim.at(0));
    sim.server.shutdown(sim.at(1_000));
    assert!(!sim.server.is_finished(sim.at(10_999)));
    assert!(sim.server.is_finished(sim.at(11_000)));
    // The server's timer names that instant, once: handled, it is gone
    // (a loop that keeps running is not woken for it again and again), and
    // the shutdown stays finished.
    assert_eq!(sim.server_timeout(), Some(sim.at(11_000)));
    sim.server_fire(sim.at(11_000));
    assert_eq!(sim.server_timeout(), None);
    assert!(sim.server.is_finished(sim.at(11_000)));
}

#[test]
fn a_request_in_flight_is_answered_then_the_connection_closes() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(b"GET / HTTP/1.1\r\n", sim.at(0));
    sim.server.shutdown(sim.at(1_000));
    c.drain(sim.at(1_000));
    assert!(!c.is_done());
    c.send(b"Host: localhost\r\n\r\n", sim.at(2_000));
    let res = one_response(&c.read(sim.at(2_000)));
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "hi");
    assert!(c.is_done());
    // A new connection gets nothing either.
    let mut late = sim.connect(sim.at(3_000));
    late.drain(sim.at(3_000));
    assert!(late.is_done());
}

#[test]
fn a_websocket_session_gets_close_1001() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(&upgrade("/ws", ""), sim.at(0));
    let _ = c.read(sim.at(0));
    let mut session = c.session();
    recv_pending(&mut session);
    c.drain(sim.at(0));
    let mut ws = WsClient::default();
    sim.server.shutdown(sim.at(1_000));
    let events = ws.events(&c.read(sim.at(1_000)));
    assert_eq!(
        events,
        [Event::Close(Some(CloseFrame::new(
            CloseCode::GOING_AWAY,
            "Server shutting down"
        )))]
    );
    // The session says it takes no more sends, rather than queueing what
    // cannot go out.
    assert!(!session.is_open());
    assert_eq!(
        session.send("too late"),
        Err(server_proto::SendError::Closed)
    );
    // The client's echo ends the handshake; then its end of file.
    let mut echo = Vec::new();
    while let Some(chunk) = ws.ws.poll_transmit() {
        echo.extend_from_slice(&chunk);
    }
    assert!(!echo.is_empty(), "the client echoes");
    c.send(&echo, sim.at(2_000));
    assert_eq!(c.read(sim.at(2_000)), b"");
    assert!(c.conn.wants_shutdown_write());
    c.eof(sim.at(2_000));
    assert!(c.is_done());
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status().map(|s| s.code),
        Some(CloseCode::GOING_AWAY)
    );
}

#[test]
fn a_sockjs_stream_gets_the_shutdown_close_frame() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(&post("/echo/000/s1/xhr_streaming", ""), sim.at(0));
    let mut session = c.session();
    let _ = c.read(sim.at(0));
    sim.server.shutdown(sim.at(1_000));
    let bytes = c.read(sim.at(1_000));
    assert_eq!(
        bytes,
        b"1F\r\nc[1001,\"Server shutting down\"]\n\r\n0\r\n\r\n"
    );
    assert!(c.is_done());
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status().map(|s| s.code),
        Some(CloseCode::GOING_AWAY)
    );
}

#[test]
fn a_websocket_client_that_never_answers_the_close_is_dropped_at_the_close_timeout() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(&upgrade("/ws", ""), sim.at(0));
    let _ = c.read(sim.at(0));
    let mut session = c.session();
    recv_pending(&mut session);
    c.drain(sim.at(0));
    sim.server.shutdown(sim.at(1_000));
    let mut ws = WsClient::default();
    assert_eq!(ws.events(&c.read(sim.at(1_000))).len(), 1);
    // ws_proto's default close timeout: 5 s from the close frame.
    assert_eq!(c.deadline(), Some(sim.at(6_000)));
    c.fire(sim.at(5_999));
    assert!(!c.is_done());
    c.fire(sim.at(6_000));
    assert!(c.is_done());
    support::recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(server_proto::CloseStatus::new(
            CloseCode::GOING_AWAY,
            "Server shutting down"
        ))
    );
    assert!(
        !sim.server.is_finished(sim.at(6_000)),
        "until it is dropped"
    );
    drop(c);
    assert!(sim.server.is_finished(sim.at(6_000)));
}
