//! The timers of the embedded WebSocket connections on simulated time: the
//! liveness check (off by default; set through `SockJsConfig::websocket`), the
//! close timeout that bounds the wait for the client's close frame, and
//! their deadlines in `poll_timeout`, from a heap of their own.

mod common;

use std::time::{Duration, Instant};

use common::*;
use sockjs_proto::{CloseCode, CloseFrame, CloseReason, Event, Server, SockJsConfig};
use ws_proto::{ProtocolError, Timeout};

const INTERVAL: Duration = Duration::from_secs(10);
const PONG_TIMEOUT: Duration = Duration::from_secs(3);
/// The default heartbeat time: later than every liveness deadline here.
const HB: Duration = Duration::from_secs(25);

fn pinging(close_timeout: Duration) -> Server {
    server_with(
        SockJsConfig::default().websocket(
            ws_proto::WebSocketConfig::default()
                .ping_interval(INTERVAL)
                .pong_timeout(PONG_TIMEOUT)
                .close_timeout(close_timeout),
        ),
    )
}

/// `handle_timeout(at)` has nothing to do.
#[track_caller]
fn assert_nothing_at(s: &mut Server, at: Instant) {
    let before = s.poll_timeout();
    s.handle_timeout(at);
    assert_eq!(wakeups(s), vec![], "wake-ups at {at:?}");
    assert_eq!(events(s), vec![], "events at {at:?}");
    assert_eq!(s.poll_timeout(), before);
}

/// Connects to `path`, takes the open frame (if any) and the `Opened` event.
fn connect(s: &mut Server, path: &str, now: Instant) -> WsClient {
    let mut ws = WsClient::connect(s, path, now);
    ws.recv(s, now);
    wakeups(s);
    events(s);
    ws
}

#[test]
fn a_silent_client_is_pinged_after_the_interval_and_dropped_at_interval_plus_pong_timeout() {
    for path in [url("s", "websocket"), "/websocket".to_owned()] {
        let mut s = pinging(secs(5));
        let now = t0();
        let mut ws = connect(&mut s, &path, now);
        assert_eq!(s.poll_timeout(), Some(now + INTERVAL), "{path}");
        assert_nothing_at(&mut s, before(now + INTERVAL, NS));
        s.handle_timeout(now + INTERVAL);
        assert_eq!(wakeups(&mut s), vec![ws.receiver], "{path}");
        assert_eq!(ws.recv(&mut s, now + INTERVAL), [WsSeen::Ping(vec![])]);
        let dead = now + INTERVAL + PONG_TIMEOUT;
        assert_eq!(s.poll_timeout(), Some(dead), "{path}");
        assert_nothing_at(&mut s, before(dead, NS));
        s.handle_timeout(dead);
        let reasons = closed(&events(&mut s));
        assert_eq!(
            reasons,
            [CloseReason::WebSocket(ProtocolError::Timeout(
                Timeout::Pong
            ))],
            "{path}"
        );
        // Nothing went on the wire; the application is told 1006.
        assert_eq!(
            reasons[0].frame(),
            CloseFrame::new(CloseCode::ABNORMAL, "No answer to ping")
        );
        assert_eq!(wakeups(&mut s), vec![ws.receiver]);
        // Nothing more is written: the connection is dropped.
        assert_eq!(ws.recv(&mut s, dead), [], "{path}");
        assert!(ws.ended, "{path}");
        s.receiver_closed(ws.receiver, dead);
        assert_eq!(s.session_count(), 0);
        assert_eq!(s.poll_timeout(), None);
    }
}

#[test]
fn a_client_that_answers_every_ping_is_kept() {
    for path in [url("s", "websocket"), "/websocket".to_owned()] {
        let mut s = pinging(secs(5));
        let now = t0();
        let mut ws = connect(&mut s, &path, now);
        let mut pings = 0;
        let mut clock = now;
        while let Some(at) = s.poll_timeout() {
            if at > now + secs(300) {
                break;
            }
            assert!(at > clock, "{path}: {at:?} is not after {clock:?}");
            clock = at;
            s.handle_timeout(at);
            assert_eq!(events(&mut s), vec![], "{path}");
            for seen in ws.recv(&mut s, at) {
                match seen {
                    WsSeen::Ping(_) => pings += 1,
                    heartbeat => assert_eq!(heartbeat, text("h"), "{path}"),
                }
            }
            wakeups(&mut s);
            // The client's pong arrives a second later.
            ws.flush(&mut s, at + secs(1));
        }
        // A ping every interval plus pong timeout: the pong is only seen at
        // the check after it.
        assert_eq!(pings, 300 / 13, "{path}");
        assert!(!ws.ended);
    }
}

#[test]
fn a_message_from_the_client_counts_as_life() {
    let mut s = pinging(secs(5));
    let now = t0();
    let mut ws = connect(&mut s, "/websocket", now);
    ws.send(&mut s, "still here", now + secs(9));
    events(&mut s);
    // The check at the interval sees it: no ping, the next check an
    // interval later.
    s.handle_timeout(now + INTERVAL);
    assert_eq!(wakeups(&mut s), vec![]);
    assert_eq!(s.poll_timeout(), Some(now + INTERVAL * 2));
}

#[test]
fn a_websocket_the_adapter_stopped_reading_is_not_taken_for_dead() {
    let mut s = pinging(secs(5));
    let now = t0();
    let mut ws = connect(&mut s, "/websocket", now);
    // The application is behind: the adapter stops reading for 30 s.
    s.set_websocket_paused(ws.receiver, true);
    for k in 1..=3 {
        let at = now + INTERVAL * k;
        assert_eq!(s.poll_timeout(), Some(at));
        s.handle_timeout(at);
        assert_eq!(wakeups(&mut s), vec![], "check {k}: no ping");
    }
    s.set_websocket_paused(ws.receiver, false);
    // Paused during the interval before: still alive at its end. Then a
    // ping, and a client that stays silent is dropped.
    s.handle_timeout(now + INTERVAL * 4);
    assert_eq!(wakeups(&mut s), vec![]);
    s.handle_timeout(now + INTERVAL * 5);
    assert_eq!(ws.recv(&mut s, now + INTERVAL * 5), [WsSeen::Ping(vec![])]);
    s.handle_timeout(now + INTERVAL * 5 + PONG_TIMEOUT);
    assert_eq!(closed(&events(&mut s)).len(), 1);
}

#[test]
fn the_wait_for_the_clients_close_is_the_websocket_close_timeout() {
    // A disconnect delay and a close timeout that differ.
    let mut s = server_with(
        SockJsConfig::default()
            .disconnect_delay(secs(1))
            .websocket(ws_proto::WebSocketConfig::default().close_timeout(secs(3))),
    );
    let now = t0();
    let mut ws = WsClient::connect(&mut s, &url("s", "websocket"), now);
    ws.recv(&mut s, now);
    let id = opened(&events(&mut s));
    let at = now + secs(7);
    s.close(id, go_away()).unwrap();
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    events(&mut s);
    assert_eq!(ws.recv(&mut s, at).len(), 2);
    assert_eq!(s.poll_timeout(), Some(at + secs(3)));
    assert_nothing_at(&mut s, before(at + secs(3), NS));
    s.handle_timeout(at + secs(3));
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
    assert_eq!(ws.recv(&mut s, at + secs(3)), []);
    assert!(ws.ended);
}

#[test]
fn a_client_that_closes_first_ends_its_receiver_at_once_without_a_deadline_left() {
    let mut s = pinging(secs(5));
    let now = t0();
    let mut ws = connect(&mut s, "/websocket", now);
    ws.conn.close(Some(ws_proto::CloseCode(4000)), "").unwrap();
    ws.flush(&mut s, now + secs(1));
    assert!(matches!(
        &events(&mut s)[..],
        [Event::Closed {
            reason: CloseReason::ClientClosed(Some(CloseCode(4000))),
            ..
        }]
    ));
    assert_eq!(
        ws.recv(&mut s, now + secs(1)),
        [WsSeen::Close(Some((4000, String::new())))]
    );
    assert!(ws.ended);
    s.receiver_closed(ws.receiver, now + secs(1));
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn many_websockets_deadlines_come_in_order_from_a_heap() {
    const N: u64 = 50;
    let mut s = pinging(secs(5));
    let now = t0();
    let mut clients = Vec::new();
    // Raw WebSockets, one opened every 70 ms: no two deadlines coincide.
    for i in 0..N {
        clients.push(connect(&mut s, "/websocket", now + ms(70 * i)));
    }
    // The model: each connection's ping, then its drop.
    let mut expected: Vec<Instant> = (0..N)
        .flat_map(|i| {
            let opened = now + ms(70 * i);
            [opened + INTERVAL, opened + INTERVAL + PONG_TIMEOUT]
        })
        .collect();
    expected.sort();
    let mut pinged = 0;
    for at in expected {
        assert_eq!(s.poll_timeout(), Some(at));
        assert_nothing_at(&mut s, before(at, NS));
        s.handle_timeout(at);
        let woken = wakeups(&mut s);
        let closed = closed(&events(&mut s)).len();
        assert_eq!(woken.len(), 1, "one connection per deadline");
        let ws = clients
            .iter_mut()
            .find(|ws| ws.receiver == woken[0])
            .expect("a client");
        let seen = ws.recv(&mut s, at);
        if closed == 1 {
            assert!(ws.ended);
            s.receiver_closed(ws.receiver, at);
        } else {
            pinged += 1;
            assert_eq!(seen, [WsSeen::Ping(vec![])]);
        }
        assert!(
            s.timer_entries() <= 2 * N as usize + 8,
            "{}",
            s.timer_entries()
        );
    }
    assert_eq!(pinged, N);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(s.session_count(), 0);
}

#[test]
fn liveness_is_off_by_default_on_both_websocket_transports() {
    let mut s = server();
    let now = t0();
    let _sockjs = connect(&mut s, &url("s", "websocket"), now);
    let _raw = connect(&mut s, "/websocket", now);
    // Only the SockJS heartbeat.
    assert_eq!(s.poll_timeout(), Some(now + HB));
    s.handle_timeout(now + HB);
    assert_eq!(wakeups(&mut s).len(), 1);
    assert_eq!(events(&mut s), vec![]);
}

#[test]
fn a_failure_starts_the_close_timeout_when_it_happens_not_at_the_next_pull() {
    let mut s = server_with(
        SockJsConfig::default()
            .websocket(ws_proto::WebSocketConfig::default().close_timeout(secs(3))),
    );
    let now = t0();
    let mut ws = connect(&mut s, &url("s", "websocket"), now);
    // Broken JSON: the server fails the connection with a close frame,
    // whose timeout runs from now, before the adapter pulls it.
    let at = now + secs(4);
    ws.send(&mut s, "[", at);
    assert_eq!(s.poll_timeout(), Some(at + secs(3)));
    assert_eq!(wakeups(&mut s), vec![ws.receiver]);
}
