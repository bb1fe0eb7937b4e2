//! Plain HTTP on a connection: the request and idle time limits to the
//! millisecond, pipelining, closing, pages, errors.

mod support;

use server_proto::http_proto::Limits;
use server_proto::{ServerConfig, ServerOptions};
use support::{get, one_response, parse_responses, Sim};

fn sim_with(options: ServerOptions) -> Sim {
    let mut config = ServerConfig::new(options);
    config.page("/", "text/html", "hello");
    config.page("/b", "text/plain", "bee");
    Sim::new(config)
}

fn sim() -> Sim {
    sim_with(ServerOptions::default())
}

#[test]
fn a_trickled_head_gets_408_exactly_at_the_request_timeout() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(b"GET / HTTP/1.1\r\n", sim.at(1_000));
    // The clock runs from the first byte; more bytes do not move it.
    c.send(b"Host: localhost\r\n", sim.at(20_000));
    assert_eq!(c.deadline(), Some(sim.at(31_000)));
    c.fire(sim.at(30_999));
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(!c.is_done());
    c.fire(sim.at(31_000));
    let res = one_response(&c.read(sim.at(31_000)));
    assert_eq!(res.status, 408);
    assert_eq!(res.header("connection"), Some("close"));
    assert_eq!(res.body_str(), "Request Timeout");
    assert!(c.conn.wants_shutdown_write());
    assert!(c.is_done());
}

#[test]
fn an_idle_connection_is_done_exactly_at_the_keep_alive_timeout() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    assert_eq!(c.deadline(), Some(sim.at(60_000)));
    c.fire(sim.at(59_999));
    assert!(!c.is_done());
    c.fire(sim.at(60_000));
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(c.is_done());
}

#[test]
fn the_idle_clock_restarts_when_the_response_is_fully_consumed() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(&get("/"), sim.at(1_000));
    // Written in two parts; the last byte goes at 5 s.
    let first = c.read_some(10, sim.at(2_000));
    assert_eq!(first.len(), 10);
    assert!(c.conn.transmit_len() > 0);
    let rest = c.read(sim.at(5_000));
    let mut all = first;
    all.extend_from_slice(&rest);
    assert_eq!(one_response(&all).status, 200);
    assert_eq!(c.deadline(), Some(sim.at(65_000)));
    c.fire(sim.at(64_999));
    assert!(!c.is_done());
    c.fire(sim.at(65_000));
    assert_eq!(c.conn.transmit_len(), 0);
    assert!(c.is_done());
}

#[test]
fn two_pipelined_requests_get_two_responses_in_order() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    let mut both = get("/b");
    both.extend_from_slice(&get("/"));
    c.send(&both, sim.at(0));
    let responses = parse_responses(&c.read(sim.at(0)));
    assert_eq!(responses.len(), 2);
    assert_eq!(responses[0].status, 200);
    assert_eq!(responses[0].body_str(), "bee");
    assert_eq!(responses[0].header("content-type"), Some("text/plain"));
    assert_eq!(responses[1].body_str(), "hello");
    assert_eq!(responses[1].header("content-type"), Some("text/html"));
    assert!(!c.is_done());
    assert!(c.conn.wants_read());
}

#[test]
fn connection_close_closes_after_the_response() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        sim.at(0),
    );
    assert!(!c.is_done(), "not before the response is written");
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 200);
    assert_eq!(res.header("connection"), Some("close"));
    assert!(c.is_done());
    assert!(c.conn.wants_shutdown_write());
}

#[test]
fn an_http_1_0_request_is_answered_then_the_connection_closes() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(b"GET /b HTTP/1.0\r\n\r\n", sim.at(0));
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), "bee");
    assert!(c.is_done());
}

#[test]
fn an_unknown_path_is_404_and_the_connection_stays() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(&get("/nowhere"), sim.at(0));
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 404);
    assert_eq!(res.body_str(), "Not Found");
    assert!(!c.is_done());
    assert_eq!(c.deadline(), Some(sim.at(60_000)));
}

#[test]
fn another_method_on_a_page_is_405_with_allow() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(b"DELETE / HTTP/1.1\r\nHost: localhost\r\n\r\n", sim.at(0));
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 405);
    assert_eq!(res.header("allow"), Some("GET, HEAD"));
    assert_eq!(res.body_str(), "Method Not Allowed");
    assert!(!c.is_done());
}

#[test]
fn a_bad_request_gets_400_and_the_connection_closes() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    c.send(b"GET / HTTP/1.1\r\nHost localhost\r\n\r\n", sim.at(0));
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 400);
    assert!(c.is_done());
    assert!(c.conn.wants_shutdown_write());
}

#[test]
fn a_head_over_the_limit_gets_431_and_the_connection_closes() {
    let sim = sim_with(ServerOptions::default().http_limits(Limits::default().max_head_size(256)));
    let mut c = sim.connect(sim.at(0));
    let long = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Long: {}\r\n\r\n",
        "a".repeat(300)
    );
    c.send(long.as_bytes(), sim.at(0));
    let res = one_response(&c.read(sim.at(0)));
    assert_eq!(res.status, 431);
    assert!(c.is_done());
}

#[test]
fn a_pipelined_partial_request_is_timed_from_the_end_of_the_response_before_it() {
    let sim = sim();
    let mut c = sim.connect(sim.at(0));
    // A whole request, and the start of the next one, in one read.
    let mut bytes = get("/");
    bytes.extend_from_slice(b"GET /b HTTP/1.1\r\n");
    c.send(&bytes, sim.at(1_000));
    let res = one_response(&c.read(sim.at(5_000)));
    assert_eq!(res.status, 200);
    // The next request has begun: the request timeout runs from 5 s, not
    // the idle keep-alive.
    assert_eq!(c.deadline(), Some(sim.at(35_000)));
    c.fire(sim.at(35_000));
    assert_eq!(one_response(&c.read(sim.at(35_000))).status, 408);
}
