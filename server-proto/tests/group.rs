//! Groups of sessions on simulated time: joining and leaving, members that
//! leave when their session closes, sends to all or all but one, each
//! member's send buffer and overflow strategy, WebSocket and SockJS
//! members in one group, and members that close while a send runs.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use server_proto::sockjs_proto::SockJsConfig;
use server_proto::ws_proto::{CloseCode, CloseFrame, Event, Message, OverflowStrategy};
use server_proto::{
    CloseStatus, Delivery, Group, SendError, ServerConfig, ServerOptions, Session, SockJsOptions,
    WebSocketOptions,
};
use support::{post, recv_end, recv_pending, upgrade, Client, Sim, WsClient};

/// A small send buffer: one 8-byte message fits, a second does not.
const SMALL: usize = 10;

fn sim() -> Sim {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.websocket("/ws", WebSocketOptions::default());
    config.websocket(
        "/ws-small",
        WebSocketOptions::default().send_buffer_size_limit(SMALL),
    );
    config.websocket(
        "/ws-drop",
        WebSocketOptions::default()
            .send_buffer_size_limit(SMALL)
            .overflow_strategy(OverflowStrategy::DropOldest),
    );
    let base = SockJsConfig::default().disconnect_delay(Duration::from_secs(5));
    config.sockjs("/echo", SockJsOptions::default().config(base.clone()));
    config.sockjs(
        "/small",
        SockJsOptions::default().config(base.clone().send_buffer_size_limit(SMALL)),
    );
    config.sockjs(
        "/drop",
        SockJsOptions::default().config(
            base.send_buffer_size_limit(SMALL)
                .overflow_strategy(OverflowStrategy::DropOldest),
        ),
    );
    Sim::new(config)
}

/// A WebSocket session on `path`, opened at `now`.
fn websocket(sim: &Sim, path: &str, now: Instant) -> (Client, WsClient, Session) {
    let mut c = sim.connect(now);
    c.send(&upgrade(path, ""), now);
    let _ = c.read(now);
    let session = c.session();
    (c, WsClient::default(), session)
}

/// A SockJS session on an xhr-streaming receiver at `prefix`, with its
/// prelude and `o` read.
fn streaming(sim: &Sim, prefix: &str, id: &str, now: Instant) -> (Client, Session) {
    let mut c = sim.connect(now);
    c.send(&post(&format!("{prefix}/000/{id}/xhr_streaming"), ""), now);
    let session = c.session();
    let _ = c.read(now);
    (c, session)
}

/// A SockJS session opened by an xhr poll at `prefix`: it has no receiver
/// until the next poll.
fn polling(sim: &Sim, prefix: &str, id: &str, now: Instant) -> (Client, Session) {
    let mut c = sim.connect(now);
    c.send(&post(&format!("{prefix}/000/{id}/xhr"), ""), now);
    let session = c.session();
    let _ = c.read(now);
    (c, session)
}

/// The frames in the chunks of a streaming body read after its head.
fn chunk_frames(mut bytes: &[u8]) -> Vec<String> {
    let mut frames = Vec::new();
    while let Some(end) = bytes.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&bytes[..end]).expect("a size line");
        let size = usize::from_str_radix(size, 16).expect("a hex size");
        let data = &bytes[end + 2..end + 2 + size];
        bytes = &bytes[end + 4 + size..];
        if size == 0 {
            break;
        }
        let frame = std::str::from_utf8(data).expect("UTF-8 frames");
        frames.push(frame.trim_end_matches('\n').to_owned());
    }
    frames
}

/// The messages a WebSocket client got.
fn ws_messages(ws: &mut WsClient, bytes: &[u8]) -> Vec<Event> {
    ws.events(bytes)
}

fn delivered(n: usize) -> Delivery {
    let mut delivery = Delivery::default();
    delivery.delivered = n;
    delivery
}

fn text(s: &str) -> Event {
    Event::Message(Message::from(s.to_owned()))
}

#[test]
fn a_group_is_shared_between_threads_and_its_clones_are_the_same_group() {
    fn shared<T: Clone + Send + Sync + 'static>() {}
    shared::<Group>();
    let sim = sim();
    let (_c, _ws, session) = websocket(&sim, "/ws", sim.at(0));
    let group = Group::new();
    let clone = group.clone();
    assert!(group.is_empty());
    assert!(clone.join(&session));
    assert_eq!((group.len(), group.contains(session.id())), (1, true));
    assert!(!group.is_empty());
    assert_eq!(format!("{group:?}"), "Group { len: 1 }");
}

#[test]
fn a_session_joins_once_and_leaves_once() {
    let sim = sim();
    let (_c1, _ws, a) = websocket(&sim, "/ws", sim.at(0));
    let (_c2, b) = streaming(&sim, "/echo", "b", sim.at(0));
    let group = Group::new();
    assert!(group.join(&a));
    assert!(group.join(&b.sender()), "by a sender as well");
    assert!(!group.join(&a), "a member already");
    assert!(!group.join(&a.sender()), "the same session");
    assert_eq!(group.len(), 2);
    assert!(group.leave(a.id()));
    assert!(!group.leave(a.id()), "no longer a member");
    assert!(!group.contains(a.id()));
    assert_eq!(group.send("only b"), delivered(1));
    assert!(group.join(&a), "it may join again");
    assert_eq!(group.send("both"), delivered(2));
}

#[test]
fn a_closed_session_does_not_join() {
    let sim = sim();
    let (_c1, _ws, a) = websocket(&sim, "/ws", sim.at(0));
    let (_c2, b) = polling(&sim, "/echo", "b", sim.at(0));
    a.close(CloseCode::NORMAL, "").expect("open");
    b.close(CloseCode::NORMAL, "").expect("open");
    let group = Group::new();
    assert!(!group.join(&a));
    assert!(!group.join(&b));
    assert!(group.is_empty());
}

#[test]
fn members_leave_when_their_sessions_close_without_a_send() {
    let sim = sim();
    let (mut c1, mut ws, mut a) = websocket(&sim, "/ws", sim.at(0));
    let (_c2, b) = polling(&sim, "/echo", "b", sim.at(0));
    let (_c3, c) = polling(&sim, "/echo", "c", sim.at(0));
    let (_c4, d) = streaming(&sim, "/echo", "d", sim.at(0));
    let group = Group::new();
    for session in [&a, &b, &c, &d] {
        assert!(group.join(session));
    }
    // The WebSocket client closes: the session ends with its connection.
    recv_pending(&mut a);
    c1.drain(sim.at(0));
    c1.send(&ws.close(4000, "bye"), sim.at(1_000));
    let _ = c1.read(sim.at(1_000));
    c1.eof(sim.at(1_000));
    recv_end(&mut a);
    assert_eq!(group.len(), 3);
    assert!(!group.contains(a.id()));
    // The application closes a SockJS session.
    b.close(CloseCode::GO_AWAY, "Go away!").expect("open");
    assert_eq!(group.len(), 2);
    // A SockJS session nobody polls expires at the disconnect delay.
    assert!(group.contains(c.id()));
    sim.server_fire(sim.at(5_000));
    assert!(!c.is_open());
    assert_eq!(group.len(), 1);
    assert!(group.contains(d.id()));
    assert_eq!(group.send("left alone"), delivered(1));
}

#[test]
fn send_except_skips_the_author_and_reaches_everyone_else() {
    let sim = sim();
    let (mut c1, mut ws1, a) = websocket(&sim, "/ws", sim.at(0));
    let (mut c2, mut ws2, b) = websocket(&sim, "/ws", sim.at(0));
    let (mut c3, c) = streaming(&sim, "/echo", "c", sim.at(0));
    let group = Group::new();
    for session in [&a, &b, &c] {
        group.join(session);
    }
    assert_eq!(group.send_except("from a", a.id()), delivered(2));
    assert_eq!(group.send_except("from c", c.id()), delivered(2));
    assert_eq!(group.send_except("nobody is 0", 0), delivered(3));
    let now = sim.at(0);
    assert_eq!(
        ws_messages(&mut ws1, &c1.read(now)),
        [text("from c"), text("nobody is 0")]
    );
    assert_eq!(
        ws_messages(&mut ws2, &c2.read(now)),
        [text("from a"), text("from c"), text("nobody is 0")]
    );
    assert_eq!(
        chunk_frames(&c3.read(now)),
        [r#"a["from a","nobody is 0"]"#]
    );
}

#[test]
fn sessions_of_two_servers_are_members_of_one_group() {
    // Two servers (endpoints mounted apart in an axum Router are so): the
    // first session of each must not be taken for the other's.
    let (one, two) = (sim(), sim());
    let (mut c1, mut ws1, a) = websocket(&one, "/ws", one.at(0));
    let (mut c2, mut ws2, b) = websocket(&two, "/ws", two.at(0));
    let (mut c3, c) = streaming(&two, "/echo", "c", two.at(0));
    assert_ne!(a.id(), b.id());
    let group = Group::new();
    for session in [&a, &b, &c] {
        assert!(group.join(session));
    }
    assert_eq!(group.len(), 3);
    assert_eq!(group.send_except("from a", a.id()), delivered(2));
    assert_eq!(group.send("to all"), delivered(3));
    assert_eq!(ws_messages(&mut ws1, &c1.read(one.at(0))), [text("to all")]);
    assert_eq!(
        ws_messages(&mut ws2, &c2.read(two.at(0))),
        [text("from a"), text("to all")]
    );
    assert_eq!(
        chunk_frames(&c3.read(two.at(0))),
        [r#"a["from a","to all"]"#]
    );
}

#[test]
fn websocket_and_sockjs_members_get_the_same_text_and_binary_skips_sockjs() {
    let sim = sim();
    let (mut c1, mut ws, a) = websocket(&sim, "/ws", sim.at(0));
    let (mut c2, b) = streaming(&sim, "/echo", "b", sim.at(0));
    let (mut c3, mut raw) = {
        let mut c = sim.connect(sim.at(0));
        c.send(&upgrade("/echo/websocket", ""), sim.at(0));
        let _ = c.read(sim.at(0));
        let session = c.session();
        (c, session)
    };
    let group = Group::new();
    for session in [&a, &b, &raw] {
        group.join(session);
    }
    let message = "\"quoted\"\n\u{2028}\u{1f600}";
    assert_eq!(group.send(message), delivered(3));
    let binary = group.send(vec![0u8, 1, 2]);
    assert_eq!(binary.delivered, 1);
    assert_eq!(
        binary.failed,
        [(b.id(), SendError::Binary), (raw.id(), SendError::Binary)]
    );
    assert_eq!(group.len(), 3, "skipped, not gone");
    let now = sim.at(0);
    assert_eq!(
        ws_messages(&mut ws, &c1.read(now)),
        [
            text(message),
            Event::Message(Message::from(vec![0u8, 1, 2]))
        ]
    );
    assert_eq!(
        chunk_frames(&c2.read(now)),
        [r#"a["\"quoted\"\n\u2028\ud83d\ude00"]"#]
    );
    // The raw WebSocket transport: the text itself.
    let mut raw_client = WsClient::default();
    assert_eq!(raw_client.events(&c3.read(now)), [text(message)]);
    recv_pending(&mut raw);
}

#[test]
fn a_websocket_member_over_its_bound_is_closed_with_4500_and_the_others_get_the_message() {
    let sim = sim();
    let (mut c1, mut ws1, mut small) = websocket(&sim, "/ws-small", sim.at(0));
    let (mut c2, mut ws2, big) = websocket(&sim, "/ws", sim.at(0));
    let group = Group::new();
    group.join(&small);
    group.join(&big);
    // Nobody drives the connections: the messages wait in the send buffers.
    assert_eq!(group.send("8 bytes!"), delivered(2));
    let over = group.send("8 more!!");
    assert_eq!(over.delivered, 1);
    assert_eq!(over.failed, [(small.id(), SendError::Overflow)]);
    assert!(!small.is_open());
    assert_eq!(group.len(), 1);
    assert_eq!(small.send("own send"), Err(SendError::Closed));
    // What its own send would have done: the waiting messages dropped,
    // the close.
    let now = sim.at(0);
    assert_eq!(
        ws_messages(&mut ws1, &c1.read(now)),
        [Event::Close(Some(CloseFrame::new(
            CloseCode::NOT_RELIABLE,
            "Send buffer overflow"
        )))]
    );
    recv_pending(&mut small);
    c1.drain(now);
    c1.send(&ws1.transmit(), now);
    c1.eof(now);
    recv_end(&mut small);
    assert_eq!(
        small.close_status(),
        Some(CloseStatus::new(
            CloseCode::NOT_RELIABLE,
            "Send buffer overflow"
        ))
    );
    assert_eq!(
        ws_messages(&mut ws2, &c2.read(now)),
        [text("8 bytes!"), text("8 more!!")]
    );
}

#[test]
fn a_websocket_member_that_drops_the_oldest_gets_the_newest_and_stays() {
    let sim = sim();
    let (mut c1, mut ws1, dropping) = websocket(&sim, "/ws-drop", sim.at(0));
    let (mut c2, mut ws2, big) = websocket(&sim, "/ws", sim.at(0));
    let group = Group::new();
    group.join(&dropping);
    group.join(&big);
    for m in ["first!!!", "second!!", "third!!!"] {
        assert_eq!(group.send(m), delivered(2));
    }
    assert!(dropping.is_open());
    assert_eq!(group.len(), 2);
    let now = sim.at(0);
    assert_eq!(ws_messages(&mut ws1, &c1.read(now)), [text("third!!!")]);
    assert_eq!(
        ws_messages(&mut ws2, &c2.read(now)),
        [text("first!!!"), text("second!!"), text("third!!!")]
    );
}

#[test]
fn sockjs_members_meet_their_own_limits_under_each_strategy() {
    let sim = sim();
    let now = sim.at(0);
    let (mut c1, small) = streaming(&sim, "/small", "s", now);
    let (mut c2, dropping) = streaming(&sim, "/drop", "d", now);
    let (mut c3, roomy) = streaming(&sim, "/echo", "r", now);
    let group = Group::new();
    for session in [&small, &dropping, &roomy] {
        group.join(session);
    }
    assert_eq!(group.send("8 bytes!"), delivered(3));
    let over = group.send("8 more!!");
    assert_eq!(over.delivered, 2);
    assert_eq!(over.failed, [(small.id(), SendError::Overflow)]);
    assert_eq!(group.send("8 last!!"), delivered(2));
    assert_eq!(group.len(), 2);
    assert_eq!(
        chunk_frames(&c1.read(now)),
        [r#"a["8 bytes!"]"#, r#"c[4500,"Send buffer overflow"]"#]
    );
    assert_eq!(chunk_frames(&c2.read(now)), [r#"a["8 last!!"]"#]);
    assert_eq!(
        chunk_frames(&c3.read(now)),
        [r#"a["8 bytes!","8 more!!","8 last!!"]"#]
    );
}

#[test]
fn a_polling_member_over_its_message_cache_is_closed_like_its_own_send() {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.sockjs(
        "/echo",
        SockJsOptions::default().config(SockJsConfig::default().http_message_cache_size(2)),
    );
    let sim = Sim::new(config);
    let now = sim.at(0);
    let (_c1, a) = polling(&sim, "/echo", "a", now);
    let (_c2, b) = polling(&sim, "/echo", "b", now);
    let group = Group::new();
    group.join(&a);
    group.join(&b);
    b.send("b's own").expect("open");
    assert_eq!(group.send("1"), delivered(2));
    let second = group.send("2");
    assert_eq!(second.delivered, 1);
    assert_eq!(second.failed, [(b.id(), SendError::Overflow)]);
    assert_eq!(group.send("3"), {
        let mut d = Delivery::default();
        d.failed = vec![(a.id(), SendError::Overflow)];
        d
    });
    assert!(group.is_empty());
    let mut c = sim.connect(now);
    c.send(&post("/echo/000/a/xhr", ""), now);
    assert_eq!(
        support::one_response(&c.read(now)).body_str(),
        "a[\"1\",\"2\"]\n"
    );
}

#[test]
fn a_member_that_closes_before_a_send_reaches_is_reported_and_removed() {
    let sim = sim();
    let (_c1, _ws, a) = websocket(&sim, "/ws", sim.at(0));
    let (_c2, _ws2, b) = websocket(&sim, "/ws", sim.at(0));
    let group = Group::new();
    group.join(&a);
    group.join(&b);
    // Closing, not closed: its connection has not run the close handshake.
    a.close(CloseCode::NORMAL, "").expect("open");
    assert!(group.contains(a.id()), "the session has not ended");
    let delivery = group.send("after a's close");
    assert_eq!(delivery.delivered, 1);
    assert_eq!(delivery.failed, [(a.id(), SendError::Closed)]);
    assert!(!group.contains(a.id()));
    assert_eq!(group.send("again"), delivered(1));
}

#[test]
fn a_member_closed_by_the_send_itself_leaves_once() {
    // The overflow closes a SockJS session inside the send: its close
    // reaches the group while the group is sending.
    let sim = sim();
    let now = sim.at(0);
    let (_c1, small) = streaming(&sim, "/small", "s", now);
    let (_c2, other) = streaming(&sim, "/small", "o", now);
    let (_c3, roomy) = streaming(&sim, "/echo", "r", now);
    let group = Group::new();
    for session in [&small, &other, &roomy] {
        group.join(session);
    }
    other.send("x").expect("open");
    assert_eq!(group.send("8 bytes!").delivered, 3);
    let over = group.send("8 more!!");
    assert_eq!(over.delivered, 1);
    assert_eq!(over.failed.len(), 2);
    assert_eq!(group.len(), 1);
    assert!(group.contains(roomy.id()));
    assert_eq!(group.send("next"), delivered(1));
    assert_eq!(group.len(), 1);
}

#[test]
fn sessions_closing_on_another_thread_while_a_group_sends() {
    const MEMBERS: usize = 16;
    let sim = sim();
    let now = sim.at(0);
    let mut websockets: Vec<_> = (0..MEMBERS).map(|_| websocket(&sim, "/ws", now)).collect();
    let sockjs: Vec<_> = (0..MEMBERS)
        .map(|i| streaming(&sim, "/echo", &format!("s{i}"), now))
        .collect();
    let group = Group::new();
    for (_, _, session) in &websockets {
        group.join(session);
    }
    for (_, session) in &sockjs {
        group.join(session);
    }
    let (started, first) = mpsc::channel();
    let (done, finished) = mpsc::channel();
    let sender = {
        let group = group.clone();
        std::thread::spawn(move || {
            // Sends until nobody is left (bounded: every session closes).
            for round in 0..1_000_000u32 {
                let delivery = group.send(format!("round {round}"));
                if round == 0 {
                    let _ = started.send(delivery.clone());
                }
                if delivery.delivered == 0 && group.is_empty() {
                    let _ = done.send(round);
                    return;
                }
            }
        })
    };
    let first = first
        .recv_timeout(Duration::from_secs(30))
        .expect("the first send");
    assert_eq!(first, delivered(2 * MEMBERS));
    // Meanwhile: every WebSocket client closes and its connection ends,
    // and the application closes every SockJS session.
    for (i, (c, ws, session)) in websockets.iter_mut().enumerate() {
        recv_pending(session);
        let at = now + Duration::from_millis(i as u64);
        c.drain(at);
        let _ = c.read(at);
        c.send(&ws.close(1000, ""), at);
        let _ = c.read(at);
        c.eof(at);
        assert!(c.is_done());
    }
    for (_, session) in &sockjs {
        let _ = session.close(CloseCode::GO_AWAY, "Go away!");
    }
    let rounds = finished
        .recv_timeout(Duration::from_secs(30))
        .expect("the sends end once every member left");
    sender.join().expect("the sending thread");
    assert!(group.is_empty());
    assert!(rounds > 0);
}

#[test]
fn each_member_of_a_long_mixed_list_gets_its_own_result() {
    // 150 SockJS members, more than one lock of an endpoint takes at once,
    // on two endpoints, with WebSocket members between them; every fifth
    // on `/small` has its buffer filled by its own send first.
    let sim = sim();
    let now = sim.at(0);
    let group = Group::new();
    let mut clients = Vec::new();
    let mut sessions = Vec::new();
    let mut full = Vec::new();
    let mut websockets = Vec::new();
    for i in 0..150 {
        let (c, session) = if i % 5 == 0 {
            streaming(&sim, "/small", &format!("m{i}"), now)
        } else {
            streaming(&sim, "/echo", &format!("m{i}"), now)
        };
        if i % 10 == 0 {
            session.send("0123456789").expect("open");
            full.push(session.id());
        }
        group.join(&session);
        clients.push(c);
        sessions.push(session);
        if i % 70 == 69 {
            let (c, _ws, session) = websocket(&sim, "/ws", now);
            group.join(&session);
            websockets.push(c);
            sessions.push(session);
        }
    }
    // Member 75 of the SockJS ones (a WebSocket came before it).
    let author = sessions[76].id();
    let delivery = group.send_except("hello", author);
    let failed: Vec<u64> = delivery.failed.iter().map(|(id, _)| *id).collect();
    assert_eq!(failed, full);
    assert!(delivery
        .failed
        .iter()
        .all(|(_, e)| *e == SendError::Overflow));
    assert_eq!(delivery.delivered, sessions.len() - full.len() - 1);
    assert_eq!(group.len(), sessions.len() - full.len());
    for session in &sessions {
        assert_eq!(session.is_open(), !full.contains(&session.id()));
    }
    // The author got nothing; its neighbours did.
    assert_eq!(chunk_frames(&clients[75].read(now)), Vec::<String>::new());
    assert_eq!(chunk_frames(&clients[74].read(now)), [r#"a["hello"]"#]);
    assert_eq!(chunk_frames(&clients[76].read(now)), [r#"a["hello"]"#]);
    let mut ws = WsClient::default();
    assert_eq!(ws.events(&websockets[1].read(now)), [text("hello")]);
}
