//! Feeding helpers shared by the test files.
#![allow(dead_code, unreachable_pub)]

pub mod client;

use bytes::Bytes;
use http_proto::{expects_continue, is_upgrade, Exchange, Limits, RequestError, ServerConn};
use proptest::prelude::*;

/// Up to 11 places to cut an input of at most `len` bytes, sorted.
pub fn cuts(len: usize) -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(0..=len, 0..12).prop_map(|mut v| {
        v.sort_unstable();
        v
    })
}

/// `seed` brought within `input`, sorted.
pub fn within(seed: Vec<usize>, input: &[u8]) -> Vec<usize> {
    let mut cuts: Vec<usize> = seed.into_iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// One header field as read: the name (lowercase, as `http` keeps it) and
/// the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: Vec<u8>,
}

/// What the tests compare of a request: its parts as plain values, and
/// what the crate's functions say of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub target: String,
    /// The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub version: u8,
    pub headers: Vec<Header>,
    pub body: Bytes,
    /// [`Exchange::of`]'s `keep_alive`.
    pub keep_alive: bool,
    /// [`expects_continue`].
    pub expects_continue: bool,
    /// [`is_upgrade`].
    pub upgrade: bool,
}

impl Request {
    pub fn of(req: &http::Request<Bytes>) -> Self {
        Self {
            method: req.method().as_str().to_owned(),
            target: req.uri().to_string(),
            version: u8::from(req.version() == http::Version::HTTP_11),
            headers: req
                .headers()
                .iter()
                .map(|(n, v)| Header {
                    name: n.as_str().to_owned(),
                    value: v.as_bytes().to_vec(),
                })
                .collect(),
            body: req.body().clone(),
            keep_alive: Exchange::of(req).keep_alive,
            expects_continue: expects_continue(req),
            upgrade: is_upgrade(req),
        }
    }

    /// The first value of the header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }

    /// Every value of the header `name` (case-insensitive).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_slice())
    }
}

/// `conn.poll_request()`, the request made comparable.
pub fn poll(conn: &mut ServerConn) -> Result<Option<Request>, RequestError> {
    conn.poll_request().map(|r| r.as_ref().map(Request::of))
}

/// What a connection gave: its requests, then the error that stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub requests: Vec<Request>,
    pub error: Option<RequestError>,
    /// Whether `poll_continue` said yes, counted.
    pub continues: usize,
}

/// Feeds `input` cut at `cuts` (sorted offsets), draining after each piece.
pub fn feed(limits: Limits, input: &[u8], cuts: &[usize]) -> (Outcome, ServerConn) {
    let mut conn = ServerConn::new(limits);
    let mut out = Outcome {
        requests: Vec::new(),
        error: None,
        continues: 0,
    };
    let mut start = 0;
    let ends = cuts.iter().copied().chain(std::iter::once(input.len()));
    for end in ends {
        let end = end.clamp(start, input.len());
        conn.receive(&input[start..end]);
        start = end;
        loop {
            match poll(&mut conn) {
                Ok(Some(r)) => out.requests.push(r),
                Ok(None) => break,
                Err(e) => {
                    // The error repeats and input is dropped.
                    assert_eq!(poll(&mut conn), Err(e.clone()));
                    out.error.get_or_insert(e);
                    break;
                }
            }
        }
        if conn.poll_continue() {
            out.continues += 1;
        }
        if out.error.is_some() {
            break;
        }
    }
    (out, conn)
}

/// Fed whole.
pub fn whole(limits: Limits, input: &[u8]) -> Outcome {
    feed(limits, input, &[]).0
}

/// Fed one byte at a time.
pub fn bytewise(limits: Limits, input: &[u8]) -> Outcome {
    let cuts: Vec<usize> = (1..input.len()).collect();
    feed(limits, input, &cuts).0
}

/// Fed whole and byte at a time, checked to agree; the continues are
/// compared only for being at most one per request.
pub fn parse(limits: Limits, input: &[u8]) -> Outcome {
    let a = whole(limits, input);
    let b = bytewise(limits, input);
    assert_eq!(a.requests, b.requests, "whole vs bytewise requests");
    assert_eq!(a.error, b.error, "whole vs bytewise error");
    a
}
