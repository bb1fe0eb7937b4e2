//! `Host`: a whole server in one value, driven as a single-threaded poll
//! loop would, on simulated time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use server_proto::{
    Attributes, ConnId, Host, Output, Server, ServerConfig, ServerOptions, Session,
    WebSocketOptions, Woken,
};
use ws_proto::{Event, Message};

const PEER: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

#[allow(clippy::disallowed_methods)] // a base instant; time then moves by hand
fn t0() -> Instant {
    Instant::now()
}

fn host(options: ServerOptions, notified: Arc<AtomicUsize>) -> (Host, Instant) {
    let mut config = ServerConfig::new(options);
    config.websocket("/ws", WebSocketOptions::default());
    let t0 = t0();
    let server = Server::new(config, 7, t0, SystemTime::UNIX_EPOCH).expect("a server");
    let host = Host::new(server, move || {
        notified.fetch_add(1, Ordering::SeqCst);
    });
    (host, t0)
}

/// Drains a connection's outputs (accepting every staged request) and
/// takes everything it has to write.
fn drain(host: &mut Host, id: ConnId, now: Instant, sessions: &mut Vec<Session>) -> Vec<u8> {
    let conn = host.connection(id).expect("a connection");
    while let Some(output) = conn.poll_output(now) {
        match output {
            Output::Incoming(incoming) => conn.accept(incoming, Attributes::default(), now),
            Output::Opened(session) => sessions.push(session),
            _ => {}
        }
    }
    let out = conn.transmit().to_vec();
    let mut all = Vec::new();
    while conn.transmit_len() > 0 {
        let chunk = conn.transmit().to_vec();
        conn.consume(chunk.len(), now);
        all.extend_from_slice(&chunk);
    }
    assert!(all.starts_with(&out));
    all
}

const UPGRADE: &[u8] = b"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

#[test]
fn an_echo_runs_on_one_thread_with_wakes_queued_once_each() {
    let notified = Arc::new(AtomicUsize::new(0));
    let (mut host, t0) = host(ServerOptions::default(), Arc::clone(&notified));
    let id = host.connect(PEER, t0);
    host.connection(id).expect("it").handle_input(UPGRADE, t0);
    let mut sessions = Vec::new();
    let head = drain(&mut host, id, t0, &mut sessions);
    assert!(head.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    assert_eq!(sessions.len(), 1);
    let mut session = sessions.pop().expect("a session");

    // The client sends a message; the application's task waits for it.
    let app = host.task_waker(1);
    let mut cx = Context::from_waker(&app);
    assert!(session.poll_recv(&mut cx).is_pending());
    let mut client =
        ws_proto::Connection::client(ws_proto::WebSocketConfig::default(), || [1, 2, 3, 4]);
    client.send_text("hello").expect("send");
    let frame: Vec<u8> = std::iter::from_fn(|| client.poll_transmit())
        .flat_map(|b| b.to_vec())
        .collect();
    host.connection(id).expect("it").handle_input(&frame, t0);
    // The application's wait woke the connection (it may decode the next
    // message), then the message woke the application.
    assert_eq!(host.poll_woken(), Some(Woken::Connection(id)));
    assert_eq!(host.poll_woken(), Some(Woken::Task(1)));
    assert_eq!(host.poll_woken(), None);
    let Poll::Ready(Some(message)) = session.poll_recv(&mut cx) else {
        panic!("the message");
    };
    assert_eq!(message, Message::from("hello"));
    // Taking it woke the connection again (room, demand): drained as a
    // loop would.
    assert_eq!(host.poll_woken(), Some(Woken::Connection(id)));
    assert_eq!(host.poll_woken(), None);
    assert!(drain(&mut host, id, t0, &mut sessions).is_empty());

    // Two sends while the loop waits wake the connection once, and call
    // the notify once.
    let before = notified.load(Ordering::SeqCst);
    assert!(host.prepare_wait(), "nothing queued: the loop may wait");
    session.send(message.clone()).expect("send");
    session.send(message.clone()).expect("send");
    assert_eq!(notified.load(Ordering::SeqCst), before + 1);
    assert!(!host.prepare_wait(), "a wake is queued: no wait");
    assert_eq!(host.poll_woken(), Some(Woken::Connection(id)));
    assert_eq!(host.poll_woken(), None);
    let out = drain(&mut host, id, t0, &mut sessions);
    client.receive(&out);
    for _ in 0..2 {
        let Ok(Some(Event::Message(echo))) = client.poll_event() else {
            panic!("two echoes in {out:?}");
        };
        assert_eq!(echo, message);
    }

    // A send while the loop runs (it has not asked to wait since its
    // last poll_woken) is queued without a notify: the loop finds it
    // before it waits.
    session.send(message.clone()).expect("send");
    session.send(message).expect("send");
    assert_eq!(notified.load(Ordering::SeqCst), before + 1);
    assert!(!host.prepare_wait());
    assert_eq!(host.poll_woken(), Some(Woken::Connection(id)));
    assert_eq!(host.poll_woken(), None);
    let out = drain(&mut host, id, t0, &mut sessions);
    client.receive(&out);
    for _ in 0..2 {
        let Ok(Some(Event::Message(echo))) = client.poll_event() else {
            panic!("two echoes in {out:?}");
        };
        assert_eq!(echo, Message::from("hello"));
    }
}

#[test]
fn the_host_deadline_is_the_earliest_and_handling_it_queues_the_connection() {
    let notified = Arc::new(AtomicUsize::new(0));
    let options = ServerOptions::default().keep_alive_timeout(Duration::from_secs(5));
    let (mut host, t0) = host(options, notified);
    let a = host.connect(PEER, t0);
    let b = host.connect(PEER, t0 + Duration::from_secs(2));
    assert_eq!(host.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    host.handle_timeout(t0 + Duration::from_millis(4999));
    assert_eq!(host.poll_woken(), None);
    host.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(host.poll_woken(), Some(Woken::Connection(a)));
    assert_eq!(host.poll_woken(), None);
    assert!(host.connection(a).expect("a").is_done());
    assert!(!host.connection(b).expect("b").is_done());
    host.remove(a);
    assert_eq!(host.ids().collect::<Vec<_>>(), vec![b]);
    assert_eq!(host.poll_timeout(), Some(t0 + Duration::from_secs(7)));
    // A removed place is taken again.
    assert_eq!(host.connect(PEER, t0), a);
    assert_eq!(host.server().connections(), 2);
}

#[test]
fn an_application_that_only_reads_gets_pipelined_messages_in_one_batch() {
    let notified = Arc::new(AtomicUsize::new(0));
    let (mut host, t0) = host(ServerOptions::default(), notified);
    let id = host.connect(PEER, t0);
    host.connection(id).expect("it").handle_input(UPGRADE, t0);
    let mut sessions = Vec::new();
    drain(&mut host, id, t0, &mut sessions);
    let mut session = sessions.pop().expect("a session");
    let mut client =
        ws_proto::Connection::client(ws_proto::WebSocketConfig::default(), || [9, 8, 7, 6]);
    for i in 0..3 {
        client.send_text(&format!("m{i}")).expect("send");
    }
    let frames: Vec<u8> = std::iter::from_fn(|| client.poll_transmit())
        .flat_map(|b| b.to_vec())
        .collect();
    let app = host.task_waker(1);
    let mut cx = Context::from_waker(&app);
    assert!(session.poll_recv(&mut cx).is_pending());
    host.connection(id).expect("it").handle_input(&frames, t0);
    for i in 0..3 {
        // All three decoded at once, without the connection running in
        // between; the socket is not read while the application has them.
        assert!(!host.connection(id).expect("it").wants_read());
        let Poll::Ready(Some(message)) = session.poll_recv(&mut cx) else {
            panic!("message {i}");
        };
        assert_eq!(message, Message::from(format!("m{i}")));
    }
    assert!(session.poll_recv(&mut cx).is_pending());
    // Asking again woke the connection: it reads the socket again.
    let mut woke = false;
    while let Some(woken) = host.poll_woken() {
        woke |= woken == Woken::Connection(id);
    }
    assert!(woke, "the connection was not woken");
    drain(&mut host, id, t0, &mut sessions);
    assert!(host.connection(id).expect("it").wants_read());
}
