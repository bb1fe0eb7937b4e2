//! Requests of an HTTP server the embedder runs (`Server::exchange`): a
//! SockJS endpoint mounted at the root of a router that stripped its
//! prefix, long polls held and released, streams cut at their limit,
//! interceptors' refusals, the request's extensions, sends held for the
//! application, upgrades carried on as connections, and what an HTTP/2
//! request (no `Upgrade`) gets. Simulated time throughout.

mod support;

use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use server_proto::sockjs_proto::SockJsConfig;
use server_proto::ws_proto::Event;
use server_proto::{
    Attributes, HandshakeOutcome, HttpExchange, Output, Rejection, Reply, ServerConfig,
    ServerOptions, Session, SockJsOptions, WebSocketOptions,
};
use support::{ms, recv_text, Sim, WakeCounter, WsClient};

const PEER: &str = "127.0.0.1:40000";

fn peer() -> SocketAddr {
    PEER.parse().expect("an address")
}

/// A SockJS echo-less endpoint at the root (as behind `nest_service`), and
/// a WebSocket endpoint that takes every other path.
fn sim_with(config: SockJsConfig) -> Sim {
    let mut server = ServerConfig::new(ServerOptions::default());
    server.sockjs("/", SockJsOptions::default().config(config));
    Sim::new(server)
}

fn sim() -> Sim {
    sim_with(SockJsConfig::default().session_cookie_needed(false))
}

fn request(method: &str, path: &str, body: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "localhost")
        .body(Bytes::copy_from_slice(body.as_bytes()))
        .expect("a request")
}

/// What an exchange gave the embedder, as a driving loop sees it.
#[derive(Default)]
struct Seen {
    outcomes: Vec<HandshakeOutcome>,
    opened: Vec<Session>,
}

/// Drains the outputs, accepting a staged request with `attributes`.
fn drain(ex: &mut HttpExchange, seen: &mut Seen, now: Instant) {
    while let Some(output) = ex.poll_output() {
        match output {
            Output::Incoming(incoming) => ex.accept(incoming, Attributes::default(), now),
            Output::Handshake { outcome, .. } => seen.outcomes.push(outcome),
            Output::Opened(session) => seen.opened.push(session),
            other => panic!("unexpected output {other:?}"),
        }
    }
}

/// Polls the reply with a counting waker.
fn poll(ex: &mut HttpExchange, waker: &std::task::Waker, now: Instant) -> Poll<Reply> {
    ex.poll_reply(&mut Context::from_waker(waker), now)
}

fn whole(reply: Poll<Reply>) -> http::Response<Bytes> {
    match reply {
        Poll::Ready(Reply::Response(res)) => res,
        Poll::Ready(other) => panic!("not a whole response: {other:?}"),
        Poll::Pending => panic!("no reply yet"),
    }
}

/// One request answered at once (accepted if staged).
fn answer(sim: &Sim, req: http::Request<Bytes>, seen: &mut Seen, now: Instant) -> Poll<Reply> {
    let mut ex = sim.server.exchange(req, peer(), now);
    drain(&mut ex, seen, now);
    let (_, waker) = WakeCounter::new();
    let reply = poll(&mut ex, &waker, now);
    drain(&mut ex, seen, now);
    reply
}

fn body(res: &http::Response<Bytes>) -> &str {
    std::str::from_utf8(res.body()).expect("UTF-8")
}

#[test]
fn a_root_mounted_endpoint_answers_the_paths_a_router_hands_it() {
    let sim = sim();
    let mut seen = Seen::default();
    for path in ["/", ""] {
        let path = if path.is_empty() { "/?" } else { path };
        let res = whole(answer(&sim, request("GET", path, ""), &mut seen, sim.at(0)));
        assert_eq!(res.status(), 200);
        assert_eq!(body(&res), "Welcome to SockJS!\n");
    }
    let info = whole(answer(
        &sim,
        request("GET", "/info", ""),
        &mut seen,
        sim.at(0),
    ));
    assert_eq!(info.status(), 200);
    assert!(
        body(&info).contains("\"websocket\":true"),
        "{}",
        body(&info)
    );
    let iframe = whole(answer(
        &sim,
        request("GET", "/iframe.html", ""),
        &mut seen,
        sim.at(0),
    ));
    assert_eq!(iframe.status(), 200);
    assert!(body(&iframe).contains("SockJS.bootstrap_iframe()"));
    let missing = whole(answer(
        &sim,
        request("GET", "/a/b/c/d", ""),
        &mut seen,
        sim.at(0),
    ));
    assert_eq!(missing.status(), 404);
    assert!(seen.opened.is_empty() && seen.outcomes.is_empty());
}

#[test]
fn the_session_cookie_keeps_path_root_under_a_stripped_prefix() {
    let sim = sim_with(SockJsConfig::default().session_cookie_needed(true));
    let mut seen = Seen::default();
    let res = whole(answer(
        &sim,
        request("POST", "/000/c1/xhr", ""),
        &mut seen,
        sim.at(0),
    ));
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().expect("text");
    assert_eq!(cookie, "JSESSIONID=dummy; path=/");
}

#[test]
fn an_xhr_session_opens_and_a_poll_waits_for_its_frame() {
    let sim = sim();
    let mut seen = Seen::default();
    let open = whole(answer(
        &sim,
        request("POST", "/000/s1/xhr", ""),
        &mut seen,
        sim.at(0),
    ));
    assert_eq!(body(&open), "o\n");
    assert_eq!(seen.outcomes.len(), 1);
    assert!(matches!(seen.outcomes[0], HandshakeOutcome::Opened(_)));
    let session = seen.opened.pop().expect("a session");
    assert_eq!(session.sockjs_id(), Some("s1"));

    // The next poll waits: no reply, until the application sends.
    let mut poll_ex = sim
        .server
        .exchange(request("POST", "/000/s1/xhr", ""), peer(), sim.at(10));
    drain(&mut poll_ex, &mut seen, sim.at(10));
    let (wakes, waker) = WakeCounter::new();
    assert!(poll(&mut poll_ex, &waker, sim.at(10)).is_pending());
    assert_eq!(
        poll_ex.poll_timeout(),
        None,
        "a long poll waits for frames, not time"
    );
    session.send("hello").expect("open");
    assert!(wakes.count() > 0, "the send woke the waiting poll");
    let res = whole(poll(&mut poll_ex, &waker, sim.at(20)));
    assert_eq!(body(&res), "a[\"hello\"]\n");
}

#[test]
fn a_waiting_poll_dropped_by_the_http_server_interrupts_its_session() {
    let sim = sim();
    let mut seen = Seen::default();
    let _ = whole(answer(
        &sim,
        request("POST", "/000/s2/xhr", ""),
        &mut seen,
        sim.at(0),
    ));
    let session = seen.opened.pop().expect("a session");
    let mut first = sim
        .server
        .exchange(request("POST", "/000/s2/xhr", ""), peer(), sim.at(5));
    let (first_wakes, waker) = WakeCounter::new();
    assert!(poll(&mut first, &waker, sim.at(5)).is_pending());
    // While it waits, a second poll waits up to 50 ms for the first to go
    // (its HTTP server may not have seen the client's end yet), then is
    // refused as SockJS says.
    let mut second = sim
        .server
        .exchange(request("POST", "/000/s2/xhr", ""), peer(), sim.at(6));
    let (_, second_waker) = WakeCounter::new();
    assert!(poll(&mut second, &second_waker, sim.at(6)).is_pending());
    assert_eq!(first_wakes.count(), 1, "the second poll woke the first");
    assert_eq!(second.poll_timeout(), Some(sim.at(56)));
    assert!(poll(&mut second, &second_waker, sim.at(55)).is_pending());
    let second = whole(poll(&mut second, &second_waker, sim.at(56)));
    assert_eq!(body(&second), "c[2010,\"Another connection still open\"]\n");
    // A third while the first is still there; then the client goes away.
    let mut third = sim
        .server
        .exchange(request("POST", "/000/s2/xhr", ""), peer(), sim.at(60));
    let (third_wakes, third_waker) = WakeCounter::new();
    assert!(poll(&mut third, &third_waker, sim.at(60)).is_pending());
    drop(first);
    assert!(session.send("after").is_err(), "the session is closed");
    assert_eq!(third_wakes.count(), 1, "decided by the first's end");
    let third = whole(poll(&mut third, &third_waker, sim.at(61)));
    assert_eq!(body(&third), "c[1002,\"Connection interrupted\"]\n");
}

#[test]
fn a_stream_gives_the_prelude_then_frames_and_ends_at_its_limit() {
    let sim = sim_with(
        SockJsConfig::default()
            .session_cookie_needed(false)
            .stream_bytes_limit(64),
    );
    let mut seen = Seen::default();
    let reply = answer(
        &sim,
        request("POST", "/000/st/xhr_streaming", ""),
        &mut seen,
        sim.at(0),
    );
    let Poll::Ready(Reply::Stream(res)) = reply else {
        panic!("not a stream: {reply:?}");
    };
    assert_eq!(res.status(), 200);
    let mut stream = res.into_body();
    let (wakes, waker) = WakeCounter::new();
    let mut cx = Context::from_waker(&waker);
    let mut chunk = |stream: &mut server_proto::ResponseStream, at: u64| match stream
        .poll_chunk(&mut cx, sim.at(at))
    {
        Poll::Ready(Some(data)) => Some(String::from_utf8(data.to_vec()).expect("UTF-8")),
        Poll::Ready(None) => None,
        Poll::Pending => Some(String::new()),
    };
    let prelude = chunk(&mut stream, 0).expect("the prelude");
    assert_eq!(prelude, format!("{}\n", "h".repeat(2048)));
    assert_eq!(chunk(&mut stream, 0).as_deref(), Some("o\n"));
    let session = seen.opened.pop().expect("a session");
    assert_eq!(chunk(&mut stream, 1).as_deref(), Some(""), "nothing yet");
    session.send("one").expect("open");
    assert!(wakes.count() > 0, "the send woke the stream");
    assert_eq!(chunk(&mut stream, 2).as_deref(), Some("a[\"one\"]\n"));
    assert!(!stream.is_end());
    // Past 64 bytes of frames the response ends; the session stays.
    session.send("x".repeat(80)).expect("open");
    let last = chunk(&mut stream, 3).expect("the frame");
    assert!(last.starts_with("a[\"xxx"), "{last}");
    assert!(stream.is_end());
    assert_eq!(chunk(&mut stream, 3), None);
    drop(stream);
    session.send("two").expect("open");
    let next = whole(answer(
        &sim,
        request("POST", "/000/st/xhr", ""),
        &mut seen,
        sim.at(4),
    ));
    assert_eq!(body(&next), "a[\"two\"]\n");
}

#[test]
fn an_interceptors_refusal_is_the_answer_and_the_outcome() {
    let sim = sim();
    let mut ex = sim
        .server
        .exchange(request("POST", "/000/r1/xhr", ""), peer(), sim.at(0));
    let Some(Output::Incoming(incoming)) = ex.poll_output() else {
        panic!("staged");
    };
    assert_eq!(incoming.request().path(), "/000/r1/xhr");
    assert_eq!(incoming.request().remote_addr(), peer());
    let (_, waker) = WakeCounter::new();
    assert!(
        poll(&mut ex, &waker, sim.at(0)).is_pending(),
        "staged until decided"
    );
    ex.refuse(incoming, &Rejection::new(http::StatusCode::UNAUTHORIZED));
    let Some(Output::Handshake { outcome, .. }) = ex.poll_output() else {
        panic!("the handshake's end");
    };
    assert_eq!(
        outcome,
        HandshakeOutcome::Refused(http::StatusCode::UNAUTHORIZED)
    );
    let res = whole(poll(&mut ex, &waker, sim.at(0)));
    assert_eq!(res.status(), 401);
    assert_eq!(sim.server.sockjs_sessions(), 0);
}

#[derive(Debug, Clone, PartialEq)]
struct User(&'static str);

#[test]
fn interceptors_see_what_the_http_stack_put_in_the_extensions() {
    let sim = sim();
    let mut req = request("POST", "/000/e1/xhr", "");
    req.extensions_mut().insert(User("alice"));
    let mut ex = sim.server.exchange(req, peer(), sim.at(0));
    let Some(Output::Incoming(incoming)) = ex.poll_output() else {
        panic!("staged");
    };
    let user = incoming.request().extensions().get::<User>().cloned();
    assert_eq!(user, Some(User("alice")));
    let mut attributes = Attributes::default();
    attributes.insert("user", user.expect("a user").0);
    ex.accept(incoming, attributes, sim.at(0));
    let (_, waker) = WakeCounter::new();
    let _ = whole(poll(&mut ex, &waker, sim.at(0)));
    let mut seen = Seen::default();
    drain(&mut ex, &mut seen, sim.at(0));
    let session = seen.opened.pop().expect("a session");
    assert_eq!(session.attributes().get("user"), Some("alice"));
}

#[test]
fn a_sends_answer_waits_for_the_application_or_its_time_limit() {
    let sim = sim();
    let mut seen = Seen::default();
    let _ = whole(answer(
        &sim,
        request("POST", "/000/w1/xhr", ""),
        &mut seen,
        sim.at(0),
    ));
    let mut session = seen.opened.pop().expect("a session");
    let mut send = sim.server.exchange(
        request("POST", "/000/w1/xhr_send", "[\"a\"]"),
        peer(),
        sim.at(1),
    );
    drain(&mut send, &mut seen, sim.at(1));
    let (_, waker) = WakeCounter::new();
    assert!(
        poll(&mut send, &waker, sim.at(1)).is_pending(),
        "held for the application"
    );
    let limit = send.poll_timeout().expect("a deadline");
    assert!(limit > sim.at(1));
    // The application takes the message and comes back for more: answered.
    assert_eq!(recv_text(&mut session), "a");
    let waker_noop = futures_util::task::noop_waker();
    assert!(session
        .poll_recv(&mut Context::from_waker(&waker_noop))
        .is_pending());
    let res = whole(poll(&mut send, &waker, sim.at(2)));
    assert_eq!(res.status(), 204);

    // An application that does not come back: answered at the limit.
    let mut late = sim.server.exchange(
        request("POST", "/000/w1/xhr_send", "[\"b\"]"),
        peer(),
        sim.at(3),
    );
    drain(&mut late, &mut seen, sim.at(3));
    assert!(poll(&mut late, &waker, sim.at(3)).is_pending());
    let limit = late.poll_timeout().expect("a deadline");
    let before = limit.checked_sub(ms(1)).expect("after the base");
    assert!(poll(&mut late, &waker, before).is_pending());
    assert_eq!(whole(poll(&mut late, &waker, limit)).status(), 204);
}

fn ws_request(path: &str) -> http::Request<Bytes> {
    http::Request::builder()
        .uri(path)
        .header("host", "localhost")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .header("sec-websocket-version", "13")
        .body(Bytes::new())
        .expect("a request")
}

/// Drains a connection made for an upgrade: its outputs, and what it
/// writes.
fn drain_conn(conn: &mut server_proto::Connection, seen: &mut Seen, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        while let Some(output) = conn.poll_output(now) {
            match output {
                Output::Handshake { outcome, .. } => seen.outcomes.push(outcome),
                Output::Opened(session) => seen.opened.push(session),
                other => panic!("unexpected output {other:?}"),
            }
        }
        if conn.transmit_len() == 0 {
            return out;
        }
        let chunk = conn.transmit().to_vec();
        out.extend_from_slice(&chunk);
        conn.consume(chunk.len(), now);
    }
}

#[test]
fn a_websocket_upgrade_is_served_on_the_stream_handed_over() {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.websocket("", WebSocketOptions::default());
    let sim = Sim::new(config);
    let mut seen = Seen::default();
    // The endpoint at the empty path takes whatever path the router chose.
    let reply = answer(&sim, ws_request("/ws"), &mut seen, sim.at(0));
    let Poll::Ready(Reply::Upgrade(head, upgrade)) = reply else {
        panic!("not an upgrade: {reply:?}");
    };
    assert_eq!(head.status(), 101);
    assert_eq!(
        head.headers()["sec-websocket-accept"],
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
    assert!(
        seen.opened.is_empty(),
        "the session opens on the connection"
    );
    let (_, waker) = WakeCounter::new();
    let mut conn = sim.server.upgraded(upgrade, sim.at(1), waker);
    let written = drain_conn(&mut conn, &mut seen, sim.at(1));
    assert!(written.is_empty(), "the 101 is the HTTP server's to write");
    assert!(matches!(seen.outcomes[..], [HandshakeOutcome::Opened(_)]));
    let mut session = seen.opened.pop().expect("a session");
    assert_eq!(sim.server.connections(), 1);

    let mut client = WsClient::default();
    // The application asks for a message; the client sends one.
    let noop = futures_util::task::noop_waker();
    assert!(session
        .poll_recv(&mut Context::from_waker(&noop))
        .is_pending());
    drain_conn(&mut conn, &mut seen, sim.at(2));
    conn.handle_input(&client.text("ping"), sim.at(2));
    drain_conn(&mut conn, &mut seen, sim.at(2));
    assert_eq!(recv_text(&mut session), "ping");
    session.send("pong").expect("open");
    let out = drain_conn(&mut conn, &mut seen, sim.at(3));
    let events = client.events(&out);
    assert!(
        matches!(&events[..], [Event::Message(m)] if m.as_bytes() == b"pong"),
        "{events:?}"
    );
    drop(conn);
    assert_eq!(sim.server.connections(), 0);
}

#[test]
fn the_sockjs_websocket_transport_is_served_on_the_stream_handed_over() {
    let sim = sim();
    let mut seen = Seen::default();
    let reply = answer(&sim, ws_request("/000/ws1/websocket"), &mut seen, sim.at(0));
    let Poll::Ready(Reply::Upgrade(head, upgrade)) = reply else {
        panic!("not an upgrade: {reply:?}");
    };
    assert_eq!(head.status(), 101);
    let mut session = seen
        .opened
        .pop()
        .expect("the session opened with the upgrade");
    let (_, waker) = WakeCounter::new();
    let mut conn = sim.server.upgraded(upgrade, sim.at(1), waker);
    let mut client = WsClient::default();
    let events = client.events(&drain_conn(&mut conn, &mut seen, sim.at(1)));
    assert!(
        matches!(&events[..], [Event::Message(m)] if m.as_bytes() == b"o"),
        "{events:?}"
    );
    conn.handle_input(&client.text("[\"hi\"]"), sim.at(2));
    assert_eq!(recv_text(&mut session), "hi");
}

#[test]
fn an_upgrade_the_http_server_could_not_make_lets_go_of_its_session() {
    let sim = sim();
    let mut seen = Seen::default();
    let reply = answer(&sim, ws_request("/000/ws2/websocket"), &mut seen, sim.at(0));
    let Poll::Ready(Reply::Upgrade(_, upgrade)) = reply else {
        panic!("not an upgrade");
    };
    let mut session = seen.opened.pop().expect("a session");
    drop(upgrade);
    // As when a websocket's client vanishes: the session ends.
    let waker = futures_util::task::noop_waker();
    match session.poll_recv(&mut Context::from_waker(&waker)) {
        Poll::Ready(None) => {}
        other => panic!("the session should have ended: {other:?}"),
    }
}

#[test]
fn without_upgrade_headers_as_over_http2_websocket_requests_get_the_protocols_answer() {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.sockjs("/echo", SockJsOptions::default());
    config.websocket("/ws", WebSocketOptions::default());
    let sim = Sim::new(config);
    let mut seen = Seen::default();
    // HTTP/2 has no Upgrade: a GET as it arrives there.
    let sockjs = whole(answer(
        &sim,
        request("GET", "/echo/000/h2/websocket", ""),
        &mut seen,
        sim.at(0),
    ));
    assert_eq!(sockjs.status(), 400);
    assert_eq!(body(&sockjs), "Can \"Upgrade\" only to \"WebSocket\".");
    let ws = whole(answer(
        &sim,
        request("GET", "/ws", ""),
        &mut seen,
        sim.at(0),
    ));
    assert!(ws.status().is_client_error(), "{}", ws.status());
    assert!(seen.opened.is_empty());
    assert_eq!(sim.server.sockjs_sessions(), 0);
    // The HTTP transports work there.
    let open = whole(answer(
        &sim,
        request("POST", "/echo/000/h2/xhr", ""),
        &mut seen,
        sim.at(1),
    ));
    assert_eq!(body(&open), "o\n");
}

#[test]
fn a_shutdown_closes_the_sessions_of_mounted_exchanges() {
    let sim = sim();
    let mut seen = Seen::default();
    let _ = whole(answer(
        &sim,
        request("POST", "/000/d1/xhr", ""),
        &mut seen,
        sim.at(0),
    ));
    let mut ex = sim
        .server
        .exchange(request("POST", "/000/d1/xhr", ""), peer(), sim.at(1));
    let (wakes, waker) = WakeCounter::new();
    assert!(poll(&mut ex, &waker, sim.at(1)).is_pending());
    sim.server.shutdown(sim.at(2));
    assert!(wakes.count() > 0);
    let res = whole(poll(&mut ex, &waker, sim.at(2)));
    assert_eq!(body(&res), "c[1001,\"Server shutting down\"]\n");
}

/// Opens a streaming session at 0 with a 1 s disconnect delay, reads the
/// prelude and the open frame, and returns its body.
fn idle_stream(sim: &Sim, id: &str) -> server_proto::ResponseStream {
    let mut seen = Seen::default();
    let path = format!("/000/{id}/xhr_streaming");
    let reply = answer(sim, request("POST", &path, ""), &mut seen, sim.at(0));
    let Poll::Ready(Reply::Stream(res)) = reply else {
        panic!("not a stream");
    };
    let mut stream = res.into_body();
    let (_, waker) = WakeCounter::new();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(
        stream.poll_chunk(&mut cx, sim.at(0)),
        Poll::Ready(Some(_))
    ));
    assert!(matches!(
        stream.poll_chunk(&mut cx, sim.at(0)),
        Poll::Ready(Some(_))
    ));
    assert!(stream.poll_chunk(&mut cx, sim.at(0)).is_pending());
    stream
}

/// Whether the session still exists at `ms`, after the server's timer ran.
fn alive_at(sim: &Sim, ms_at: u64) -> bool {
    sim.server_fire(sim.at(ms_at));
    sim.server.sockjs_sessions() > 0
}

#[test]
fn the_disconnect_delay_counts_from_when_the_client_left_not_the_last_poll() {
    let config = SockJsConfig::default()
        .session_cookie_needed(false)
        .disconnect_delay(ms(1_000));
    // A body the HTTP server drops at 3 s, having last polled it at 0.
    let sim = sim_with(config.clone());
    let mut stream = idle_stream(&sim, "late");
    stream.close(sim.at(3_000));
    drop(stream);
    assert!(alive_at(&sim, 3_999), "removed before its disconnect delay");
    assert!(!alive_at(&sim, 4_000), "kept past its disconnect delay");

    // The same for a long poll given up at 3 s.
    let sim = sim_with(config);
    let mut seen = Seen::default();
    let _ = whole(answer(
        &sim,
        request("POST", "/000/lp/xhr", ""),
        &mut seen,
        sim.at(0),
    ));
    let mut poll_ex = sim
        .server
        .exchange(request("POST", "/000/lp/xhr", ""), peer(), sim.at(0));
    let (_, waker) = WakeCounter::new();
    assert!(poll(&mut poll_ex, &waker, sim.at(0)).is_pending());
    poll_ex.abandon(sim.at(3_000));
    drop(poll_ex);
    // An aborted poll closes the session (SockJS's "Connection
    // interrupted"), which is then kept for the disconnect delay so that
    // the client can read why.
    assert!(alive_at(&sim, 3_999));
    assert!(!alive_at(&sim, 4_000));
}
