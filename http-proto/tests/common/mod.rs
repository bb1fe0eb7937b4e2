//! Feeding helpers shared by the test files.
#![allow(dead_code, unreachable_pub)]

use http_proto::{Limits, Request, RequestError, ServerConn};

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
            match conn.poll_request() {
                Ok(Some(r)) => out.requests.push(r),
                Ok(None) => break,
                Err(e) => {
                    // The error repeats and input is dropped.
                    assert_eq!(conn.poll_request(), Err(e.clone()));
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
