//! Encoded once: what a broadcast encodes, counted, and what the members'
//! send buffers hold, by address. (The group's behaviour over connections
//! is in `tests/group.rs`.)

use std::cell::Cell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant, SystemTime};

use ws_proto::{Message, MessageKind};

use super::Group;
use crate::mailbox::WsItem;
use crate::session::Outlet;
use crate::{
    Attributes, Connection, Output, Server, ServerConfig, ServerOptions, Session, SockJsOptions,
    WebSocketOptions,
};

thread_local! {
    /// WebSocket frames and SockJS strings encoded on this thread.
    static ENCODINGS: Cell<[usize; 2]> = const { Cell::new([0, 0]) };
}

/// Counts an encoding: 0 for a WebSocket frame, 1 for a SockJS string.
pub(super) fn count_encoding(kind: usize) {
    ENCODINGS.with(|c| {
        let mut counts = c.get();
        counts[kind] += 1;
        c.set(counts);
    });
}

/// The encodings made by `f`: (WebSocket frames, SockJS strings).
fn encodings<T>(f: impl FnOnce() -> T) -> (T, [usize; 2]) {
    ENCODINGS.with(|c| c.set([0, 0]));
    let out = f();
    (out, ENCODINGS.with(Cell::get))
}

#[allow(clippy::disallowed_methods)] // the one base instant; time then moves by hand
fn server() -> (Arc<Server>, Instant) {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.websocket("/ws", WebSocketOptions::default());
    config.sockjs("/echo", SockJsOptions::default());
    let t0 = Instant::now();
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let server = Server::new(config, 7, t0, date).expect("a valid configuration");
    (server, t0)
}

/// A connection that sent `request`, and the session it opened.
fn open(server: &Arc<Server>, request: &str, now: Instant) -> (Connection, Session) {
    let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
    let mut conn = server.connection(peer, now, Waker::noop().clone());
    conn.handle_input(request.as_bytes(), now);
    while let Some(output) = conn.poll_output(now) {
        match output {
            Output::Incoming(incoming) => conn.accept(incoming, Attributes::default(), now),
            Output::Opened(session) => return (conn, session),
            Output::Handshake { .. } => {}
        }
    }
    panic!("no session opened");
}

fn websocket(server: &Arc<Server>, now: Instant) -> (Connection, Session) {
    open(
        server,
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        now,
    )
}

fn sockjs(server: &Arc<Server>, id: usize, now: Instant) -> (Connection, Session) {
    open(
        server,
        &format!(
            "POST /echo/000/s{id}/xhr_streaming HTTP/1.1\r\nHost: localhost\r\n\
             Content-Length: 0\r\n\r\n"
        ),
        now,
    )
}

/// The frames waiting in a WebSocket session's send buffer.
fn queued_frames(session: &Session) -> Vec<bytes::Bytes> {
    let Outlet::WebSocket(outbox) = &session.sender.outlet else {
        panic!("a WebSocket session");
    };
    outbox
        .lock()
        .queue
        .iter()
        .map(|item| match item {
            WsItem::Prepared(prepared) => prepared.frame().clone(),
            WsItem::Message(m) => panic!("a message sent on its own: {m:?}"),
        })
        .collect()
}

#[test]
fn a_broadcast_encodes_each_form_once_and_members_share_it() {
    let (server, now) = server();
    let ws: Vec<_> = (0..3).map(|_| websocket(&server, now)).collect();
    let sj: Vec<_> = (0..3).map(|i| sockjs(&server, i, now)).collect();
    let group = Group::new();
    for (_, session) in ws.iter().chain(&sj) {
        assert!(group.join(session));
    }
    let (delivery, counts) = encodings(|| group.send("to \"all\"".to_owned()));
    assert_eq!((delivery.delivered, delivery.failed), (6, vec![]));
    assert_eq!(counts, [1, 1], "one frame, one escaped string");
    let frames: Vec<_> = ws.iter().map(|(_, s)| queued_frames(s)).collect();
    for queued in &frames {
        assert_eq!(queued.len(), 1);
        assert_eq!(queued[0].as_ptr(), frames[0][0].as_ptr(), "the same buffer");
    }
    assert_eq!(&frames[0][0][..], b"\x81\x08to \"all\"");

    // A binary message: one frame; SockJS members are skipped, nothing is
    // escaped for them.
    let (delivery, counts) = encodings(|| group.send(vec![1u8, 2, 3]));
    assert_eq!(delivery.delivered, 3);
    assert_eq!(delivery.failed.len(), 3);
    assert_eq!(counts, [1, 0]);
}

#[test]
fn an_encoding_no_member_needs_is_not_made() {
    let (server, now) = server();
    let (_c1, ws) = websocket(&server, now);
    let (_c2, sj) = sockjs(&server, 1, now);
    let websockets = Group::new();
    websockets.join(&ws);
    let sockjs_only = Group::new();
    sockjs_only.join(&sj);
    assert_eq!(encodings(|| websockets.send("a")).1, [1, 0]);
    assert_eq!(encodings(|| sockjs_only.send("a")).1, [0, 1]);
    assert_eq!(encodings(|| Group::new().send("a")).1, [0, 0]);
    // The author alone: nobody to send to.
    assert_eq!(encodings(|| websockets.send_except("a", ws.id())).1, [0, 0]);
}

#[test]
fn a_session_send_is_still_encoded_by_its_connection() {
    let (server, now) = server();
    let (_c, ws) = websocket(&server, now);
    let Outlet::WebSocket(outbox) = &ws.sender.outlet else {
        panic!("a WebSocket session");
    };
    ws.send("alone").expect("open");
    let kinds: Vec<_> = outbox
        .lock()
        .queue
        .iter()
        .map(|item| match item {
            WsItem::Message(m) => m.kind(),
            WsItem::Prepared(p) => panic!("prepared {p:?}"),
        })
        .collect();
    assert_eq!(kinds, [MessageKind::Text]);
    assert_eq!(encodings(|| ws.send(Message::from("again"))).1, [0, 0]);
}

#[test]
fn leaving_and_dropping_a_group_unregister_it_from_the_session() {
    let (server, now) = server();
    let (_c1, ws) = websocket(&server, now);
    let (_c2, sj) = sockjs(&server, 1, now);
    let room = Group::new();
    for _ in 0..100 {
        assert!(room.join(&ws));
        assert!(room.leave(ws.id()));
    }
    assert_eq!(
        ws.inbox.watchers(),
        0,
        "joins and leaves leave nothing behind"
    );
    let (a, b) = (Group::new(), Group::new());
    for group in [&room, &a, &b] {
        group.join(&ws);
        group.join(&sj);
    }
    assert_eq!((ws.inbox.watchers(), sj.inbox.watchers()), (3, 3));
    drop(a);
    assert_eq!((ws.inbox.watchers(), sj.inbox.watchers()), (2, 2));
    let clone = b.clone();
    drop(b);
    assert_eq!(ws.inbox.watchers(), 2, "a clone keeps the group");
    drop(clone);
    assert_eq!((ws.inbox.watchers(), sj.inbox.watchers()), (1, 1));
    sj.close(3000u16, "Go away!").expect("open");
    assert_eq!(sj.inbox.watchers(), 0, "told at the close, then forgotten");
    assert_eq!(room.len(), 1);
}
