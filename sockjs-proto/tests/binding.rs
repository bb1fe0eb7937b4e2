//! Sessions bound to their client: a request on an existing session from
//! another principal, or (for an anonymous session) from another IP
//! address, gets 404 and changes nothing.

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use sockjs_proto::{Answer, Event, RequestSession, Server, SockJsConfig, Transport};

const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const AWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7));

const RECEIVING: [Transport; 5] = [
    Transport::Xhr,
    Transport::XhrStreaming,
    Transport::EventSource,
    Transport::HtmlFile,
    Transport::Jsonp,
];

/// A receiving request on `session` over `transport` from `ip`.
fn receive_from(session: &str, transport: Transport, ip: IpAddr) -> Request {
    let (target, method) = receiving_target(session, transport);
    req(method, &target).remote_ip(ip)
}

/// Opens session `s` with an `xhr` poll from `ip`, and a principal if given.
fn open_from(s: &mut Server, ip: IpAddr, principal: Option<&str>) -> sockjs_proto::SessionId {
    let mut r = post(&url("s", "xhr")).remote_ip(ip);
    if let Some(p) = principal {
        r = r.principal(p);
    }
    let res = response(s.handle(&r, t0()));
    assert_eq!(body(&res), "o\n");
    opened(&events(s))
}

/// A 404 that changed nothing: no event, no wake-up, the session as it was.
#[track_caller]
fn assert_refused(s: &mut Server, answer: Answer, sessions: usize) {
    let res = response(answer);
    assert_eq!(res.status(), 404, "{res:?}");
    assert_eq!(events(s), vec![]);
    assert_eq!(wakeups(s), vec![]);
    assert_eq!(s.session_count(), sessions);
}

#[test]
fn sends_from_another_address_get_404_and_are_not_delivered() {
    let mut s = server();
    let now = t0();
    let id = open_from(&mut s, HOME, None);
    for transport in ["xhr_send", "jsonp_send"] {
        let foreign = post(&url("s", transport))
            .body(r#"["stolen"]"#)
            .remote_ip(AWAY);
        assert_eq!(s.session_of(&foreign), RequestSession::None);
        let answer = s.handle(&foreign, now);
        assert_refused(&mut s, answer, 1);
    }
    // The owner's sends still go through, from any port of its address.
    let own = post(&url("s", "xhr_send"))
        .body(r#"["mine"]"#)
        .remote_ip(HOME);
    assert_eq!(s.session_of(&own), RequestSession::Sends(id));
    assert_eq!(response(s.handle(&own, now)).status(), 204);
    assert_eq!(messages(&events(&mut s)), ["mine"]);
}

#[test]
fn receiving_requests_from_another_address_get_404_on_every_transport() {
    for transport in RECEIVING {
        let mut s = server();
        let now = t0();
        let id = open_from(&mut s, HOME, None);
        s.send(id, "secret").unwrap();
        let foreign = receive_from("s", transport, AWAY);
        assert_eq!(s.session_of(&foreign), RequestSession::None);
        let answer = s.handle(&foreign, now);
        assert_refused(&mut s, answer, 1);
        // Nothing was taken, nothing interrupted: the owner gets it all.
        assert_eq!(s.session(id).unwrap().pending(), 1, "{transport:?}");
        assert!(s.session(id).unwrap().is_open());
        let res = response(s.handle(&receive_from("s", Transport::Xhr, HOME), now));
        assert_eq!(body(&res), "a[\"secret\"]\n", "{transport:?}");
    }
}

#[test]
fn a_foreign_request_does_not_disturb_the_attached_receiver() {
    let mut s = server();
    let now = t0();
    let req = post(&url("s", "xhr_streaming")).remote_ip(HOME);
    let r = start_stream(&mut s, &req, Transport::XhrStreaming, true, now);
    assert_eq!(output_text(&mut s, r, now), ("o\n".to_owned(), false));
    let id = opened(&events(&mut s));
    // Not "another connection still open": not found at all.
    for transport in RECEIVING {
        let answer = s.handle(&receive_from("s", transport, AWAY), now);
        assert_refused(&mut s, answer, 1);
    }
    s.send(id, "x").unwrap();
    assert_eq!(
        woken_output(&mut s, r, now),
        ("a[\"x\"]\n".to_owned(), false)
    );
}

#[test]
fn a_foreign_request_on_a_closed_session_gets_404_not_its_close_frame() {
    let mut s = server();
    let now = t0();
    let id = open_from(&mut s, HOME, None);
    s.close(id, go_away()).unwrap();
    events(&mut s);
    let answer = s.handle(&receive_from("s", Transport::Xhr, AWAY), now);
    assert_refused(&mut s, answer, 1);
    let res = response(s.handle(&receive_from("s", Transport::Xhr, HOME), now));
    assert_eq!(body(&res), "c[3000,\"Go away!\"]\n");
}

#[test]
fn an_ipv4_mapped_ipv6_address_is_the_same_client() {
    let mut s = server();
    let now = t0();
    open_from(&mut s, HOME, None);
    let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
    let res = response(
        s.handle(
            &post(&url("s", "xhr_send"))
                .body(r#"["x"]"#)
                .remote_ip(mapped),
            now,
        ),
    );
    assert_eq!(res.status(), 204);
    // A different IPv6 address is not.
    let other = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let answer = s.handle(
        &post(&url("s", "xhr_send"))
            .body(r#"["y"]"#)
            .remote_ip(other),
        now,
    );
    assert_eq!(messages(&events(&mut s)), ["x"]);
    assert_refused(&mut s, answer, 1);
}

#[test]
fn a_session_with_a_principal_answers_that_principal_from_any_address() {
    let mut s = server();
    let now = t0();
    open_from(&mut s, HOME, Some("alice"));
    let send = |ip: IpAddr| post(&url("s", "xhr_send")).body(r#"["hi"]"#).remote_ip(ip);
    // Alice from elsewhere (a phone that changed networks): hers.
    let res = response(s.handle(&send(AWAY).principal("alice"), now));
    assert_eq!(res.status(), 204);
    assert_eq!(messages(&events(&mut s)), ["hi"]);
    // Bob, or nobody, from Alice's own address: not theirs.
    for foreign in [send(HOME).principal("bob"), send(HOME)] {
        let answer = s.handle(&foreign, now);
        assert_refused(&mut s, answer, 1);
    }
}

#[test]
fn an_anonymous_session_is_bound_by_address_even_if_a_principal_comes_later() {
    // Spring's rule: the principal is checked only when the session has one.
    let mut s = server();
    let now = t0();
    open_from(&mut s, HOME, None);
    let res = response(
        s.handle(
            &post(&url("s", "xhr_send"))
                .body(r#"["x"]"#)
                .remote_ip(HOME)
                .principal("carol"),
            now,
        ),
    );
    assert_eq!(res.status(), 204);
    let answer = s.handle(
        &post(&url("s", "xhr_send"))
            .body(r#"["y"]"#)
            .remote_ip(AWAY)
            .principal("carol"),
        now,
    );
    assert_eq!(messages(&events(&mut s)), ["x"]);
    assert_refused(&mut s, answer, 1);
}

#[test]
fn binding_can_be_turned_off() {
    let mut s = server_with(SockJsConfig::default().bind_sessions_to_client(false));
    let now = t0();
    let id = open_from(&mut s, HOME, Some("alice"));
    let res = response(s.handle(
        &post(&url("s", "xhr_send")).body(r#"["x"]"#).remote_ip(AWAY),
        now,
    ));
    assert_eq!(res.status(), 204);
    assert_eq!(
        events(&mut s),
        [Event::Message {
            session: id,
            text: "x".into()
        }]
    );
}

#[test]
fn without_a_client_identity_nothing_is_bound() {
    // An embedder that feeds neither address nor principal (a test harness,
    // a transport with no addresses) gets the protocol as it was.
    let mut s = server();
    let now = t0();
    open_xhr(&mut s, "s", now);
    let res = response(s.handle(
        &post(&url("s", "xhr_send")).body(r#"["x"]"#).remote_ip(AWAY),
        now,
    ));
    assert_eq!(res.status(), 204);
}

#[test]
fn a_request_without_an_address_is_foreign_to_a_bound_session() {
    let mut s = server();
    let now = t0();
    open_from(&mut s, HOME, None);
    let answer = s.handle(&post(&url("s", "xhr_send")).body(r#"["x"]"#), now);
    assert_refused(&mut s, answer, 1);
}
