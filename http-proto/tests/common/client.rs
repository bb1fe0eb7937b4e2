//! Feeding helpers for [`ClientConn`]: responses fed in pieces, the events
//! made comparable (consecutive data joined), checked as they come.

use bytes::BytesMut;
use http::Request;
use http_proto::{BodyKind, ClientConn, Limits, ResponseError, ResponseEvent};

/// A request: `method` to `http://a/`, with `headers`.
pub fn req(method: &str, headers: &[(&str, &str)]) -> Request<()> {
    let mut b = Request::builder().method(method).uri("http://a/");
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    b.body(()).unwrap()
}

/// A `GET` without fields.
pub fn get() -> Request<()> {
    req("GET", &[])
}

/// What the tests compare of an event: a head's status, version and
/// fields, data (consecutive pieces joined), the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ev {
    Head {
        status: u16,
        /// 0 for HTTP/1.0, 1 for HTTP/1.1.
        minor: u8,
        headers: Vec<(String, Vec<u8>)>,
    },
    Data(Vec<u8>),
    End,
}

/// An event in short: the status of a head, the data, the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum E {
    H(u16),
    D(Vec<u8>),
    End,
}

/// Data in short.
pub fn d(data: &[u8]) -> E {
    E::D(data.to_vec())
}

/// What a connection gave, and its state at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<Ev>,
    pub error: Option<ResponseError>,
    pub keep_alive: bool,
    pub idle: bool,
    pub outstanding: usize,
    /// After a 101: what `take_upgraded` gave, then every byte fed after.
    pub upgraded: Option<Vec<u8>>,
}

impl Outcome {
    /// The events in short.
    pub fn short(&self) -> Vec<E> {
        self.events
            .iter()
            .map(|e| match e {
                Ev::Head { status, .. } => E::H(*status),
                Ev::Data(d) => E::D(d.clone()),
                Ev::End => E::End,
            })
            .collect()
    }

    /// All the data, joined.
    pub fn data(&self) -> Vec<u8> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Ev::Data(d) => Some(&d[..]),
                _ => None,
            })
            .collect::<Vec<_>>()
            .concat()
    }
}

/// Drains `conn`, appending to `out`; checks that data is never empty,
/// that an error repeats, and the buffering bound of a live connection.
pub fn drain(conn: &mut ClientConn, out: &mut Outcome) {
    loop {
        match conn.poll_event() {
            Ok(Some(ResponseEvent::Head(res))) => {
                let upgrade = res.status() == http::StatusCode::SWITCHING_PROTOCOLS;
                out.events.push(Ev::Head {
                    status: res.status().as_u16(),
                    minor: u8::from(res.version() == http::Version::HTTP_11),
                    headers: res
                        .headers()
                        .iter()
                        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
                        .collect(),
                });
                if upgrade {
                    out.upgraded = Some(conn.take_upgraded().to_vec());
                    assert!(conn.take_upgraded().is_empty(), "taken twice");
                }
            }
            Ok(Some(ResponseEvent::Data(data))) => {
                assert!(!data.is_empty(), "an empty Data");
                if let Some(Ev::Data(last)) = out.events.last_mut() {
                    last.extend_from_slice(&data);
                } else {
                    out.events.push(Ev::Data(data.to_vec()));
                }
            }
            Ok(Some(ResponseEvent::End)) => out.events.push(Ev::End),
            Ok(Some(other)) => panic!("an unknown event {other:?}"),
            Ok(None) => break,
            Err(e) => {
                assert_eq!(conn.poll_event().err(), Some(e.clone()), "the error again");
                assert_eq!(conn.buffered(), 0);
                assert!(!conn.keep_alive());
                out.error.get_or_insert(e);
                break;
            }
        }
    }
    let limits = conn.limits();
    let bound = limits.max_head_size.max(limits.max_chunk_line).max(2);
    assert!(
        conn.buffered() < bound,
        "{} bytes buffered after a drain",
        conn.buffered()
    );
}

/// Sends `requests` (pipelined), then feeds `input` cut at `cuts` (sorted
/// offsets), draining after each piece, then the end of file if `eof`.
pub fn feed(
    limits: Limits,
    requests: &[Request<()>],
    input: &[u8],
    cuts: &[usize],
    eof: bool,
) -> (Outcome, ClientConn) {
    let mut conn = ClientConn::new(limits);
    let mut wire = BytesMut::new();
    for r in requests {
        conn.send_request(r, BodyKind::None, &mut wire)
            .expect("a request sent");
    }
    let mut out = Outcome {
        events: Vec::new(),
        error: None,
        keep_alive: true,
        idle: true,
        outstanding: 0,
        upgraded: None,
    };
    let mut start = 0;
    let ends = cuts.iter().copied().chain(std::iter::once(input.len()));
    for end in ends {
        let end = end.clamp(start, input.len());
        let piece = &input[start..end];
        start = end;
        if let Some(upgraded) = &mut out.upgraded {
            // The new protocol's bytes: the caller's from now on.
            upgraded.extend_from_slice(piece);
            conn.receive(piece);
            assert_eq!(conn.buffered(), 0, "input after an upgrade kept");
            continue;
        }
        conn.receive(piece);
        drain(&mut conn, &mut out);
    }
    if eof {
        conn.receive_eof();
        drain(&mut conn, &mut out);
    }
    assert!(matches!(conn.poll_event(), Ok(None) | Err(_)));
    out.keep_alive = conn.keep_alive();
    out.idle = conn.is_idle();
    out.outstanding = conn.outstanding();
    (out, conn)
}

/// Fed whole and byte at a time (and in pieces of 7), checked to agree.
pub fn run(limits: Limits, requests: &[Request<()>], input: &[u8], eof: bool) -> Outcome {
    let whole = feed(limits, requests, input, &[], eof).0;
    let bytewise: Vec<usize> = (1..input.len()).collect();
    let sevens: Vec<usize> = (1..input.len()).step_by(7).collect();
    for cuts in [bytewise, sevens] {
        let cut = feed(limits, requests, input, &cuts, eof).0;
        assert_eq!(whole, cut, "whole vs cut at {cuts:?}");
    }
    whole
}
