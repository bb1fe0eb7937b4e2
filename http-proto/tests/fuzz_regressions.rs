//! Regressions found by the `http_requests` fuzz target (its corpus keeps
//! the inputs as `seed-regression-*` too).

mod common;

use common::{bytewise, poll, whole};
use http_proto::{Limits, RequestError, ServerConn};

/// A declined upgrade of a request without keep-alive (here `Connection:
/// upgrade, close`) used to resume reading: the pipelined request after it
/// came out, though nothing is read after a request without keep-alive.
#[test]
fn declined_upgrade_without_keep_alive_reads_nothing_more() {
    for (head, keep_alive) in [
        (
            &b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: upgrade, close\r\n\r\n"[..],
            false,
        ),
        (
            &b"GET / HTTP/1.0\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"[..],
            false,
        ),
        (
            &b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n"[..],
            true,
        ),
    ] {
        let mut conn = ServerConn::new(Limits::default());
        conn.receive(head);
        conn.receive(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        let request = poll(&mut conn).unwrap().expect("the upgrade request");
        assert!(request.upgrade);
        assert_eq!(request.keep_alive, keep_alive);
        assert_eq!(poll(&mut conn), Ok(None));
        conn.decline_upgrade();
        let next = poll(&mut conn).unwrap();
        if keep_alive {
            assert_eq!(next.expect("the next request").target, "/next");
        } else {
            assert_eq!(next, None, "read past a request without keep-alive");
            assert_eq!(conn.receive_capacity(), 0);
            assert_eq!(conn.buffered(), 0);
            conn.receive(b"GET /more HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(poll(&mut conn), Ok(None));
        }
    }
}

/// Only SP and HTAB may come between a chunk size and its extensions (RFC
/// 9112 §7.1.1 BWS); a form feed (which `trim_ascii_start` skipped) is
/// refused.
#[test]
fn chunk_extension_whitespace_is_sp_or_htab_only() {
    let request = |line: &[u8]| {
        let mut input =
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        input.extend_from_slice(line);
        input.extend_from_slice(b"\r\nabc\r\n0\r\n\r\n");
        input
    };
    for bad in [&b"3\x0c;x"[..], b"3\x0b;x", b"3 \x0c;x"] {
        for out in [
            whole(Limits::default(), &request(bad)),
            bytewise(Limits::default(), &request(bad)),
        ] {
            assert!(out.requests.is_empty(), "{bad:?} accepted");
            assert_eq!(out.error, Some(RequestError::BadChunk), "{bad:?}");
        }
    }
    for good in [&b"3;x"[..], b"3 ;x", b"3\t; x=y", b"3 \t ;x"] {
        let out = whole(Limits::default(), &request(good));
        assert_eq!(out.error, None, "{good:?}");
        assert_eq!(&out.requests[0].body[..], b"abc");
    }
}
