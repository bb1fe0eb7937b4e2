//! Many idle SockJS sessions on the server's one timer: a thousand on the
//! websocket transport and a thousand on xhr-streaming, opened in groups
//! over a heartbeat period. Time jumps from the timer's deadline to the
//! next; at each, exactly the sessions whose period ended get one
//! heartbeat, and only their connections are woken. None closes.

mod support;

use std::time::Instant;

use server_proto::sockjs_proto::SockJsConfig;
use server_proto::ws_proto::{Event, Message};
use server_proto::{ServerConfig, ServerOptions, Session, SockJsOptions};
use support::{one_response, post, upgrade, Client, Sim, WsClient};

/// Sessions per transport.
const SESSIONS: usize = 1_000;
const PERIOD_MS: u64 = 25_000;
/// The sessions open in this many groups, one period / `GROUPS` apart.
const GROUPS: usize = 10;

/// One idle session, as its client sees it.
struct Idle {
    client: Client,
    /// The websocket transport's decoder; `None` on xhr-streaming.
    ws: Option<WsClient>,
    session: Session,
    opened_ms: u64,
    /// Heartbeats received.
    beats: u64,
    /// The connection's wakes seen so far.
    wakes: usize,
}

impl Idle {
    fn new(mut client: Client, ws: Option<WsClient>, opened_ms: u64) -> Self {
        let session = client.session();
        // The heartbeats are the server's timer: the connection arms none.
        assert_eq!(client.deadline(), None);
        let wakes = client.wakes.count();
        Self {
            client,
            ws,
            session,
            opened_ms,
            beats: 0,
            wakes,
        }
    }

    /// Heartbeats in what the client read; anything else fails.
    fn heartbeats(&mut self, bytes: &[u8]) -> u64 {
        let Some(ws) = &mut self.ws else {
            assert_eq!(bytes.len() % 7, 0, "{bytes:?}");
            assert!(bytes.chunks(7).all(|c| c == b"2\r\nh\n\r\n"), "{bytes:?}");
            return bytes.len() as u64 / 7;
        };
        let events = ws.events(bytes);
        assert!(
            events
                .iter()
                .all(|e| *e == Event::Message(Message::from("h"))),
            "{events:?}"
        );
        events.len() as u64
    }
}

fn open_websocket(sim: &Sim, i: usize, ms: u64) -> Idle {
    let now = sim.at(ms);
    let mut c = sim.connect(now);
    c.send(&upgrade(&format!("/echo/000/w{i}/websocket"), ""), now);
    let bytes = c.read(now);
    assert!(bytes.starts_with(b"HTTP/1.1 101 "));
    let body = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head")
        + 4;
    let mut ws = WsClient::default();
    assert_eq!(
        ws.events(&bytes[body..]),
        [Event::Message(Message::from("o"))]
    );
    Idle::new(c, Some(ws), ms)
}

fn open_xhr_streaming(sim: &Sim, i: usize, ms: u64) -> Idle {
    let now = sim.at(ms);
    let mut c = sim.connect(now);
    c.send(&post(&format!("/echo/000/x{i}/xhr_streaming"), ""), now);
    let res = one_response(&c.read(now));
    assert_eq!(res.status, 200);
    assert_eq!(res.body_str(), format!("{}\no\n", "h".repeat(2048)));
    Idle::new(c, None, ms)
}

#[test]
fn each_of_a_thousand_idle_sessions_per_transport_gets_one_heartbeat_per_period() {
    let mut config = ServerConfig::new(ServerOptions::default());
    config.sockjs(
        "/echo",
        SockJsOptions::default()
            .config(SockJsConfig::default().heartbeat_time(support::ms(PERIOD_MS))),
    );
    let sim = Sim::new(config);
    let step = PERIOD_MS / GROUPS as u64;
    let mut idle = Vec::new();
    for group in 0..GROUPS {
        let ms = step * group as u64;
        for i in (group..SESSIONS).step_by(GROUPS) {
            idle.push(open_websocket(&sim, i, ms));
            idle.push(open_xhr_streaming(&sim, i, ms));
        }
    }
    assert_eq!(sim.server.sockjs_sessions(), 2 * SESSIONS);

    // Three periods of every group: the last group's third heartbeat.
    let end = sim.at(3 * PERIOD_MS + step * (GROUPS as u64 - 1));
    let mut deadlines = 0;
    let mut last: Option<Instant> = None;
    while let Some(at) = sim.server_timeout().filter(|&at| at <= end) {
        assert!(last.is_none_or(|last| at > last), "the deadline moves on");
        last = Some(at);
        let ms = u64::try_from((at - sim.t0).as_millis()).expect("ms");
        sim.server_fire(at);
        let mut due_now = 0;
        for s in &mut idle {
            let wakes = s.client.wakes.count();
            let woken = wakes > s.wakes;
            let due = ms > s.opened_ms && (ms - s.opened_ms) % PERIOD_MS == 0;
            let bytes = s.client.read(at);
            let beats = s.heartbeats(&bytes);
            assert_eq!(
                beats,
                u64::from(due),
                "at {ms} ms, opened at {}",
                s.opened_ms
            );
            assert_eq!(woken, due, "woken at {ms} ms, opened at {}", s.opened_ms);
            s.wakes = s.client.wakes.count();
            s.beats += beats;
            due_now += usize::from(due);
        }
        // Each deadline is one group's heartbeat.
        assert_eq!(due_now, 2 * SESSIONS / GROUPS, "at {ms} ms");
        deadlines += 1;
    }
    assert_eq!(deadlines, 3 * GROUPS);
    for s in &idle {
        assert_eq!(s.beats, 3);
        assert!(s.session.is_open());
        assert!(!s.client.is_done());
    }
    assert_eq!(sim.server.sockjs_sessions(), 2 * SESSIONS);
}
