//! SockJS endpoints: the staged accept, xhr polling and sends (the answer
//! held for the application), streams (prelude, frames, the cut at
//! `stream_bytes_limit`), heartbeats and expiry on the server's timer to
//! the millisecond, and the send time limit.

mod support;

use server_proto::sockjs_proto::SockJsConfig;
use server_proto::ws_proto::CloseCode;
use server_proto::{
    CloseStatus, HandshakeOutcome, Rejection, ServerConfig, ServerOptions, SockJsOptions,
};
use support::{
    one_response, parse_responses, post, recv_end, recv_pending, recv_text, Client, Sim,
    WakeCounter,
};

fn sim_with(options: SockJsOptions) -> Sim {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.sockjs("/echo", options);
    Sim::new(config)
}

fn sim() -> Sim {
    sim_with(SockJsOptions::default())
}

/// Opens session `id` with an xhr poll at `now`, read at `now`.
fn open_xhr(sim: &Sim, id: &str, now: std::time::Instant) -> (Client, server_proto::Session) {
    let mut c = sim.connect(now);
    c.send(&post(&format!("/echo/000/{id}/xhr"), ""), now);
    let res = one_response(&c.read(now));
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "o\n");
    let session = c.session();
    (c, session)
}

#[test]
fn an_xhr_open_is_staged_until_accepted() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.auto_accept = false;
    c.send(&post("/echo/000/s1/xhr", ""), sim.at(0));
    let incoming = c.take_incoming();
    assert_eq!(incoming.request().path(), "/echo/000/s1/xhr");
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(!c.conn.wants_read());
    assert!(c.opened.is_empty() && c.handshakes.is_empty());
    // Nothing is written while the embedder decides, however long.
    c.fire(sim.at(100_000));
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(!c.is_done());
    c.conn.accept(
        incoming,
        server_proto::Attributes::default(),
        sim.at(100_000),
    );
    c.drain(sim.at(100_000));
    let session = c.session();
    assert_eq!(session.sockjs_id(), Some("s1"));
    assert_eq!(c.outcomes(), [HandshakeOutcome::Opened(session.id())]);
    let res = one_response(&c.read(sim.at(100_000)));
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "o\n");
    assert!(!c.is_done());
}

#[test]
fn a_refused_xhr_open_gets_the_rejection_and_opens_nothing() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.auto_accept = false;
    c.send(&post("/echo/000/s1/xhr", ""), sim.at(0));
    let incoming = c.take_incoming();
    let rejection = Rejection::new(http::StatusCode::FORBIDDEN).body("nope");
    c.conn.refuse(incoming, &rejection, sim.at(0));
    c.drain(sim.at(0));
    assert_eq!(
        c.outcomes(),
        [HandshakeOutcome::Refused(http::StatusCode::FORBIDDEN)]
    );
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 403);
    assert_eq!(res.body_str(), "nope");
    assert_eq!(
        res.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert!(c.opened.is_empty());
    assert_eq!(sim.server.sockjs_sessions(), 0);
    // A SockJS refusal keeps the connection.
    assert!(!c.is_done());
    assert!(c.conn.wants_read());
}

#[test]
fn an_xhr_send_is_answered_once_the_application_has_read_it() {
    let sim = sim();
    let (mut c, mut session) = open_xhr(&sim, "s1", sim.at(0));
    let wakes = c.wakes.count();
    c.send(
        &post("/echo/000/s1/xhr_send", r#"["a","b"]"#),
        sim.at(1_000),
    );
    assert_eq!(c.read(sim.at(1_000)), b"");
    assert_eq!(c.deadline(), Some(sim.at(11_000)));
    assert_eq!(recv_text(&mut session), "a");
    assert_eq!(recv_text(&mut session), "b");
    assert_eq!(c.read(sim.at(1_000)), b"", "not before it comes back");
    // The application comes back for more: the connection is woken.
    recv_pending(&mut session);
    assert!(c.wakes.count() > wakes);
    let res = one_response(&c.read(sim.at(1_500)));
    assert_eq!(res.status, 204);
    assert!(res.body.is_empty());
    assert_eq!(c.deadline(), Some(sim.at(61_500)), "idle from the answer");
}

#[test]
fn an_xhr_send_not_read_is_answered_exactly_at_handler_wait() {
    let sim = sim_with(SockJsOptions::default().handler_wait(support::secs(3)));
    let (mut c, mut session) = open_xhr(&sim, "s1", sim.at(0));
    c.send(&post("/echo/000/s1/xhr_send", r#"["a"]"#), sim.at(1_000));
    assert_eq!(c.deadline(), Some(sim.at(4_000)));
    c.fire(sim.at(3_999));
    assert_eq!(c.read(sim.at(3_999)), b"");
    c.fire(sim.at(4_000));
    let res = one_response(&c.read(sim.at(4_000)));
    assert_eq!(res.status, 204);
    // The message is still there for the application.
    assert_eq!(recv_text(&mut session), "a");
}

#[test]
fn a_long_poll_waits_for_the_applications_message() {
    let sim = sim();
    let (mut c, session) = open_xhr(&sim, "s1", sim.at(0));
    c.send(&post("/echo/000/s1/xhr", ""), sim.at(1_000));
    assert_eq!(c.read(sim.at(1_000)), b"");
    let wakes = c.wakes.count();
    session.send("x").expect("open");
    assert!(c.wakes.count() > wakes);
    let res = one_response(&c.read(sim.at(2_000)));
    assert_eq!(res.body_str(), "a[\"x\"]\n");
}

#[test]
fn a_second_poll_waits_50_ms_for_the_first_to_go_then_is_refused() {
    let sim = sim();
    let (_, _session) = open_xhr(&sim, "s1", sim.at(0));
    let mut first = sim.connect(sim.at(1_000));
    first.send(&post("/echo/000/s1/xhr", ""), sim.at(1_000));
    assert_eq!(first.read(sim.at(1_000)), b"", "held");
    let mut second = sim.connect(sim.at(1_001));
    let woken = first.wakes.count();
    second.send(&post("/echo/000/s1/xhr", ""), sim.at(1_001));
    assert!(first.wakes.count() > woken, "the first is woken to read");
    assert_eq!(second.read(sim.at(1_001)), b"", "waits for the first");
    assert!(!second.conn.wants_read());
    assert_eq!(second.deadline(), Some(sim.at(1_051)));
    second.fire(sim.at(1_050));
    assert_eq!(second.read(sim.at(1_050)), b"");
    // The first is still there at the deadline: refused as SockJS says.
    second.fire(sim.at(1_051));
    let res = one_response(&second.read(sim.at(1_051)));
    assert_eq!(
        res.body_str(),
        "c[2010,\"Another connection still open\"]\n"
    );
    assert!(second.conn.wants_read(), "the connection goes on");
    assert_eq!(first.read(sim.at(1_051)), b"", "the first is still held");
    // A CORS preflight asks nothing of the session: answered at once.
    second.send(
        b"OPTIONS /echo/000/s1/xhr HTTP/1.1\r\nHost: localhost\r\n\r\n",
        sim.at(1_060),
    );
    let res = one_response(&second.read(sim.at(1_060)));
    assert_eq!(res.status, 204);
}

#[test]
fn a_poll_right_after_an_aborted_one_finds_the_session_interrupted() {
    for transport in ["xhr", "xhr_streaming"] {
        let sim = sim();
        let (_, _session) = open_xhr(&sim, "s1", sim.at(0));
        let mut first = sim.connect(sim.at(1_000));
        first.send(
            &post(&format!("/echo/000/s1/{transport}"), ""),
            sim.at(1_000),
        );
        let _ = first.read(sim.at(1_000));
        // The client closed the first connection, then sent the next
        // request, which the server reads before the first one's end.
        let mut second = sim.connect(sim.at(1_001));
        second.send(&post("/echo/000/s1/xhr", ""), sim.at(1_001));
        assert_eq!(second.read(sim.at(1_001)), b"", "{transport}");
        let woken = second.wakes.count();
        first.eof(sim.at(1_010));
        assert!(second.wakes.count() > woken, "{transport}: decided");
        let res = one_response(&second.read(sim.at(1_010)));
        assert_eq!(
            res.body_str(),
            "c[1002,\"Connection interrupted\"]\n",
            "{transport}"
        );
    }
}

fn streaming_sim(limit: usize) -> Sim {
    sim_with(SockJsOptions::default().config(SockJsConfig::default().stream_bytes_limit(limit)))
}

#[test]
fn a_stream_sends_its_prelude_and_each_frame_as_a_chunk_until_the_byte_limit() {
    let sim = streaming_sim(20);
    let mut c = sim.connect(sim.at(0));
    c.send(&post("/echo/000/s1/xhr_streaming", ""), sim.at(0));
    let session = c.session();
    let first = parse_responses(&c.read(sim.at(0)));
    let [res] = &first[..] else {
        panic!("{first:?}")
    };
    assert_eq!(res.status, 200);
    assert_eq!(res.header("transfer-encoding"), Some("chunked"));
    let prelude = format!("{}\n", "h".repeat(2048));
    assert_eq!(res.chunks, [prelude.as_bytes(), b"o\n"]);
    assert!(!res.complete);
    // "o\n" is 2 bytes of 20; a["0123456789"]\n is 16 more: 18.
    session.send("0123456789").expect("open");
    let more = c.read(sim.at(1_000));
    assert_eq!(more, b"10\r\na[\"0123456789\"]\n\r\n");
    // 18 + 9 >= 20: this frame ends the response, with the last chunk.
    session.send("abc").expect("open");
    let last = c.read(sim.at(2_000));
    assert_eq!(last, b"9\r\na[\"abc\"]\n\r\n0\r\n\r\n");
    // The connection goes on in HTTP, idle from the end of the stream.
    assert!(!c.is_done());
    assert!(c.conn.wants_read());
    assert_eq!(c.deadline(), Some(sim.at(62_000)));
    assert!(session.is_open());
}

#[test]
fn heartbeats_go_out_exactly_at_the_heartbeat_time() {
    let sim = sim_with(
        SockJsOptions::default().config(SockJsConfig::default().heartbeat_time(support::secs(25))),
    );
    let mut c = sim.connect(sim.at(0));
    c.send(&post("/echo/000/s1/xhr_streaming", ""), sim.at(0));
    let _session = c.session();
    let opened = parse_responses(&c.read(sim.at(1_000)));
    assert_eq!(opened[0].chunks.len(), 2);
    // The "o" frame went at 1 s.
    assert_eq!(sim.server_timeout(), Some(sim.at(26_000)));
    sim.server_fire(sim.at(25_999));
    assert_eq!(c.read(sim.at(25_999)), b"");
    let wakes = c.wakes.count();
    sim.server_fire(sim.at(26_000));
    assert!(c.wakes.count() > wakes, "the connection is woken");
    assert_eq!(c.read(sim.at(26_000)), b"2\r\nh\n\r\n");
    assert_eq!(sim.server_timeout(), Some(sim.at(51_000)));
    sim.server_fire(sim.at(51_000));
    assert_eq!(c.read(sim.at(51_000)), b"2\r\nh\n\r\n");
}

#[test]
fn a_session_without_a_receiver_expires_exactly_at_the_disconnect_delay() {
    let sim = sim_with(
        SockJsOptions::default().config(SockJsConfig::default().disconnect_delay(support::secs(5))),
    );
    let mut c = sim.connect(sim.at(2_000));
    c.send(&post("/echo/000/s1/xhr", ""), sim.at(2_000));
    let mut session = c.session();
    // The poll took its frame at 2 s: the session has no receiver from
    // then on (the core's clock, however long the writing takes).
    let _ = c.read(sim.at(3_000));
    assert_eq!(sim.server_timeout(), Some(sim.at(7_000)));
    recv_pending(&mut session);
    sim.server_fire(sim.at(6_999));
    assert!(session.is_open());
    recv_pending(&mut session);
    let (wakes, waker) = WakeCounter::new();
    let _ = support::poll_recv(&mut session, &waker);
    sim.server_fire(sim.at(7_000));
    assert_eq!(wakes.count(), 1, "the application is woken");
    recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(CloseStatus::new(CloseCode::GOING_AWAY, "Session expired"))
    );
    assert!(!session.is_open());
}

#[test]
fn a_stream_not_consumed_for_the_send_time_limit_is_cut() {
    let sim = sim_with(SockJsOptions::default().send_time_limit(support::secs(4)));
    let mut c = sim.connect(sim.at(0));
    c.send(&post("/echo/000/s1/xhr_streaming", ""), sim.at(0));
    let mut session = c.session();
    let _ = c.read(sim.at(0));
    // A message the client does not read.
    session.send("x").expect("open");
    c.drain(sim.at(1_000));
    assert!(c.conn.transmit_len() > 0);
    assert_eq!(c.deadline(), Some(sim.at(5_000)));
    c.fire(sim.at(4_999));
    assert!(!c.is_done());
    recv_pending(&mut session);
    c.fire(sim.at(5_000));
    assert!(c.is_done());
    assert_eq!(c.conn.transmit_len(), 0, "what waited is dropped");
    // The stream was interrupted: the session closes at once.
    recv_end(&mut session);
    assert_eq!(
        session.close_status(),
        Some(CloseStatus::new(
            CloseCode::PROTOCOL_ERROR,
            "Connection interrupted"
        ))
    );
}

#[test]
fn a_send_held_for_room_behind_an_unread_100_continue_ends_at_the_send_time_limit() {
    // The application never reads: the first send fills the inbox (1 byte),
    // the second waits for room. Its `100 Continue` is never read either:
    // the write limit of a request being read (the request timeout, 30 s)
    // ends the connection, exactly, and nothing spins on a deadline past.
    let sim = sim_with(
        SockJsOptions::default()
            .config(SockJsConfig::default().session_cookie_needed(false))
            .inbox_limit(1)
            .handler_wait(support::ms(0)),
    );
    let (_poll, _session) = open_xhr(&sim, "s", sim.at(0));
    let mut c = sim.connect(sim.at(0));
    c.send(&post("/echo/000/s/xhr_send", "[\"a\"]"), sim.at(0));
    assert_eq!(one_response(&c.read(sim.at(0))).status, 204);
    let head = "POST /echo/000/s/xhr_send HTTP/1.1\r\nHost: localhost\r\n\
                Expect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    c.send(head.as_bytes(), sim.at(1_000));
    assert_eq!(c.conn.transmit(), server_proto::http_proto::CONTINUE_100);
    c.send(b"[\"b\"]", sim.at(1_000));
    assert!(!c.conn.wants_read(), "held for room in the inbox");
    assert_eq!(c.deadline(), Some(sim.at(31_000)));
    c.fire(sim.at(30_999));
    assert!(!c.is_done());
    c.fire(sim.at(31_000));
    assert!(c.is_done());
    assert_eq!(c.deadline(), None);
}

#[test]
fn a_pipelined_open_staged_by_a_write_wakes_the_connection() {
    let sim = sim();
    let now = sim.at(0);
    let mut c = sim.connect(now);
    c.auto_accept = false;
    let mut both = support::get("/echo/info");
    both.extend_from_slice(&post("/echo/000/p1/xhr", ""));
    c.send(&both, now);
    // The first answer is out; the second request waits behind it.
    assert!(c.conn.transmit_len() > 0);
    assert!(c.incoming.is_empty());
    let before = c.wakes.count();
    // The embedder writes it all and, as its loop does, waits next: the
    // write must have woken it, for the open is staged now.
    while c.conn.transmit_len() > 0 {
        let n = c.conn.transmit().len();
        c.conn.consume(n, now);
    }
    assert!(c.wakes.count() > before, "the staged open woke nobody");
    c.drain(now);
    let incoming = c.take_incoming();
    assert_eq!(incoming.request().path(), "/echo/000/p1/xhr");
}
