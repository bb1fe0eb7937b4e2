//! Response encoding: exact bytes, framing choices, refused headers.

use bytes::BytesMut;
use http_proto::{encode_chunk, encode_head, encode_last_chunk, EncodeError, Framing};

fn head(
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    framing: Framing,
    version: u8,
    keep_alive: bool,
) -> Result<(Framing, String), EncodeError> {
    let mut out = BytesMut::new();
    let f = encode_head(
        status, reason, headers, framing, version, keep_alive, &mut out,
    )?;
    Ok((f, String::from_utf8(out.to_vec()).unwrap()))
}

#[test]
fn content_length_response() {
    let (f, s) = head(
        200,
        "OK",
        &[("Content-Type", "text/plain")],
        Framing::Length(5),
        1,
        true,
    )
    .unwrap();
    assert_eq!(f, Framing::Length(5));
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n"
    );
}

#[test]
fn chunked_response_and_chunks() {
    let mut out = BytesMut::new();
    let f = encode_head(200, "OK", &[], Framing::Chunked, 1, true, &mut out).unwrap();
    assert_eq!(f, Framing::Chunked);
    encode_chunk(b"hello world!", &mut out);
    encode_chunk(b"", &mut out);
    encode_last_chunk(&mut out);
    assert_eq!(
        &out[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nC\r\nhello world!\r\n0\r\n\r\n"
    );
}

#[test]
fn http10_never_gets_chunked() {
    let (f, s) = head(200, "OK", &[], Framing::Chunked, 0, true).unwrap();
    assert_eq!(f, Framing::CloseDelimited);
    assert_eq!(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

#[test]
fn close_delimited_closes() {
    let (f, s) = head(200, "OK", &[], Framing::CloseDelimited, 1, true).unwrap();
    assert_eq!(f, Framing::CloseDelimited);
    assert_eq!(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

#[test]
fn keep_alive_headers() {
    let (_, s) = head(200, "OK", &[], Framing::Length(0), 1, false).unwrap();
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let (_, s) = head(200, "OK", &[], Framing::Length(0), 0, true).unwrap();
    assert_eq!(
        s,
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
    );
}

#[test]
fn no_framing_for_101_204_304() {
    let (_, s) = head(
        101,
        "Switching Protocols",
        &[("Upgrade", "websocket"), ("Connection", "Upgrade")],
        Framing::None,
        1,
        true,
    )
    .unwrap();
    assert_eq!(
        s,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    );
    let (_, s) = head(204, "No Content", &[], Framing::None, 1, true).unwrap();
    assert_eq!(s, "HTTP/1.1 204 No Content\r\n\r\n");
}

#[test]
fn header_injection_is_refused_and_nothing_written() {
    let cases: &[(&[(&str, &str)], EncodeError)] = &[
        (
            &[("X", "a\r\nSet-Cookie: x")],
            EncodeError::HeaderValue("X".into()),
        ),
        (&[("X", "a\nb")], EncodeError::HeaderValue("X".into())),
        (&[("X", "a\0b")], EncodeError::HeaderValue("X".into())),
        (&[("X Y", "a")], EncodeError::HeaderName("X Y".into())),
        (&[("X:Y", "a")], EncodeError::HeaderName("X:Y".into())),
        (&[("X\r\n", "a")], EncodeError::HeaderName("X\r\n".into())),
        (&[("", "a")], EncodeError::HeaderName(String::new())),
        (
            &[("Content-Length", "1")],
            EncodeError::FramingHeader("Content-Length".into()),
        ),
        (
            &[("transfer-encoding", "chunked")],
            EncodeError::FramingHeader("transfer-encoding".into()),
        ),
    ];
    for (headers, want) in cases {
        let mut out = BytesMut::from(&b"before"[..]);
        let e = encode_head(200, "OK", headers, Framing::Length(0), 1, true, &mut out).unwrap_err();
        assert_eq!(&e, want);
        assert_eq!(&out[..], b"before");
    }
    let mut out = BytesMut::new();
    assert_eq!(
        encode_head(200, "OK\r\nX: y", &[], Framing::None, 1, true, &mut out),
        Err(EncodeError::Reason)
    );
    assert_eq!(
        encode_head(99, "x", &[], Framing::None, 1, true, &mut out),
        Err(EncodeError::Status(99))
    );
    assert_eq!(
        encode_head(1000, "x", &[], Framing::None, 1, true, &mut out),
        Err(EncodeError::Status(1000))
    );
    assert!(out.is_empty());
}
