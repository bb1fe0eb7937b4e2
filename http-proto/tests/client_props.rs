//! The client half against the rest of the crate: any chunking of a
//! response gives the same events; requests from `encode_request` read
//! back through `ServerConn`, responses from `encode_response` through
//! `ClientConn`.

mod common;

use bytes::BytesMut;
use common::client::{feed, get, req, run};
use common::{cuts, whole, within, Request as Parsed};
use http::header::{HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_proto::{
    encode_chunk, encode_last_chunk, encode_request, encode_response, BodyKind, ClientConn,
    Exchange, Limits,
};
use proptest::prelude::*;

/// Responses of interest, good and bad, to the requests of `requests()`.
const VECTORS: &[&[u8]] = &[
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.0 200 OK\r\n\r\nclose-delimited",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nzX",
    b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
    b"HTTP/2 200 OK\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n40\r\n",
];

/// The requests every vector answers: `GET`, `HEAD`, `GET`, `GET`.
fn requests() -> Vec<Request<()>> {
    vec![get(), req("HEAD", &[]), get(), get()]
}

fn small() -> Limits {
    Limits::default()
        .max_head_size(60)
        .max_headers(4)
        .max_chunk_line(8)
}

#[test]
fn every_vector_bytewise_matches_whole() {
    for limits in [Limits::default(), small()] {
        for input in VECTORS {
            for eof in [false, true] {
                run(limits, &requests(), input, eof);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_gives_the_same_events(i in 0..VECTORS.len(), seed in cuts(400), eof: bool) {
        let input = VECTORS[i];
        let cuts = within(seed, input);
        for limits in [Limits::default(), small()] {
            let want = feed(limits, &requests(), input, &[], eof).0;
            let got = feed(limits, &requests(), input, &cuts, eof).0;
            prop_assert_eq!(got, want);
        }
    }

    /// Arbitrary bytes after a valid prefix: whatever they give, every
    /// chunking gives the same.
    #[test]
    fn arbitrary_input_any_split(
        prefix in 0..VECTORS.len(),
        tail in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), Just(b'0'), Just(b'a'), any::<u8>()],
            0..120,
        ),
        seed in cuts(300),
        eof: bool,
    ) {
        let mut input = VECTORS[prefix][..VECTORS[prefix].len() / 2].to_vec();
        input.extend_from_slice(&tail);
        let cuts = within(seed, &input);
        for limits in [Limits::default(), small()] {
            let want = feed(limits, &requests(), &input, &[], eof).0;
            let got = feed(limits, &requests(), &input, &cuts, eof).0;
            prop_assert_eq!(got, want);
        }
    }

    /// A chunked body encoded by this crate, cut anywhere, gives back the
    /// body, and the response after it.
    #[test]
    fn chunked_body_any_split(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
        seed in cuts(600),
    ) {
        let mut input = BytesMut::from(&b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
        for p in &pieces {
            encode_chunk(p, &mut input);
        }
        encode_last_chunk(&mut input);
        input.extend_from_slice(b"HTTP/1.1 204 No Content\r\n\r\n");
        let cuts = within(seed, &input);
        let (out, conn) = feed(Limits::default(), &[get(), get()], &input, &cuts, false);
        prop_assert_eq!(&out.error, &None);
        prop_assert_eq!(out.data(), pieces.concat());
        let data_events = usize::from(!out.data().is_empty());
        prop_assert_eq!(out.events.len(), 4 + data_events, "{:?}", out.events);
        prop_assert!(conn.keep_alive() && conn.is_idle());
        prop_assert_eq!(conn.buffered(), 0);
    }

    /// `encode_request` read back by `ServerConn`: the same method, target,
    /// fields (`Host` first when it came from the URI) and body.
    #[test]
    fn requests_read_back_by_the_server(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PUT"), Just("HEAD"), Just("DELETE"), Just("PATCH"), Just("OPTIONS"), Just("M-SEARCH")],
        path in "(/[a-z0-9%._~-]{0,6}){0,3}",
        query in proptest::option::of("[a-z0-9=&%]{0,8}"),
        own_host: bool,
        fields in proptest::collection::vec(("x-[a-z]{1,6}", "[ -~]{0,12}"), 0..4),
        body in proptest::option::of(proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..4)),
        streamed: bool,
    ) {
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        let target = format!("{path}{query}");
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("http://u:p@a.example:81{target}"));
        if own_host {
            builder = builder.header("host", "h.example");
        }
        for (name, value) in &fields {
            builder = builder.header(name.as_str(), value.trim());
        }
        let request = builder.body(()).unwrap();
        let data = body.clone().unwrap_or_default().concat();
        let kind = match &body {
            None => BodyKind::None,
            Some(_) if streamed => BodyKind::Stream,
            Some(_) => BodyKind::Length(data.len() as u64),
        };
        let mut wire = BytesMut::new();
        encode_request(&request, kind, &mut wire).unwrap();
        if kind == BodyKind::Stream {
            for piece in body.iter().flatten() {
                encode_chunk(piece, &mut wire);
            }
            encode_last_chunk(&mut wire);
        } else {
            wire.extend_from_slice(&data);
        }
        let out = whole(Limits::default(), &wire);
        prop_assert_eq!(&out.error, &None);
        prop_assert_eq!(out.requests.len(), 1);
        let got: &Parsed = &out.requests[0];
        prop_assert_eq!(got.method.as_str(), method);
        let want_target = if path.is_empty() { format!("/{query}") } else { target };
        prop_assert_eq!(&got.target, &want_target);
        prop_assert_eq!(got.version, 1);
        prop_assert_eq!(&got.body[..], &data[..]);
        let host = if own_host { "h.example" } else { "a.example:81" };
        prop_assert_eq!(got.header("host"), Some(host.as_bytes()));
        let mut want: Vec<(String, Vec<u8>)> = Vec::new();
        if !own_host {
            want.push(("host".into(), host.into()));
        }
        for (name, value) in request.headers() {
            want.push((name.as_str().into(), value.as_bytes().into()));
        }
        match kind {
            BodyKind::Length(n) => want.push(("content-length".into(), n.to_string().into())),
            BodyKind::None if matches!(method, "POST" | "PUT" | "PATCH") => {
                want.push(("content-length".into(), b"0".to_vec()));
            }
            BodyKind::None => {}
            BodyKind::Stream => want.push(("transfer-encoding".into(), b"chunked".to_vec())),
        }
        let fields: Vec<(String, Vec<u8>)> =
            got.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
        prop_assert_eq!(fields, want);
    }

    /// `encode_response` read back by `ClientConn`, for every body kind and
    /// exchange: the same status, fields and body, and the same keep-alive
    /// decision on both sides.
    #[test]
    fn responses_read_back_by_the_client(
        status in prop_oneof![Just(200u16), Just(201), Just(204), Just(304), Just(404), Just(500)],
        fields in proptest::collection::vec(("x-[a-z]{1,6}", "[ -~]{0,12}"), 0..4),
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..4),
        kind in 0..3u8,
        head: bool,
        http10: bool,
        keep_alive: bool,
        seed in cuts(300),
    ) {
        let mut res = Response::new(());
        *res.status_mut() = StatusCode::from_u16(status).unwrap();
        for (name, value) in &fields {
            res.headers_mut().append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value.trim()).unwrap(),
            );
        }
        let data = pieces.concat();
        let body = match kind {
            0 => BodyKind::None,
            1 => BodyKind::Length(data.len() as u64),
            _ => BodyKind::Stream,
        };
        let request = Request::builder()
            .method(if head { Method::HEAD } else { Method::GET })
            .version(if http10 { http::Version::HTTP_10 } else { http::Version::HTTP_11 })
            .header("connection", if keep_alive { "keep-alive" } else { "close" })
            .body(())
            .unwrap();
        let exchange = Exchange::of(&request);
        let mut wire = BytesMut::new();
        let encoded = encode_response(&res, body, exchange, &mut wire).unwrap();
        let sent: &[u8] = match encoded.framing {
            http_proto::Framing::None => &[],
            _ => &data,
        };
        match encoded.framing {
            http_proto::Framing::Chunked => {
                for piece in &pieces {
                    encode_chunk(piece, &mut wire);
                }
                encode_last_chunk(&mut wire);
            }
            _ => wire.extend_from_slice(sent),
        }
        // The client's request: the method and keep-alive of the exchange.
        let client_request = req(
            if head { "HEAD" } else { "GET" },
            if keep_alive { &[] } else { &[("connection", "close")] },
        );
        let cuts = within(seed, &wire);
        let closes = encoded.framing == http_proto::Framing::CloseDelimited;
        let (out, conn) = feed(Limits::default(), &[client_request], &wire, &cuts, closes);
        prop_assert_eq!(&out.error, &None);
        let common::client::Ev::Head { status: got, headers, .. } = &out.events[0] else {
            panic!("{:?}", out.events)
        };
        prop_assert_eq!(*got, status);
        for (name, value) in res.headers() {
            prop_assert!(headers.contains(&(name.as_str().to_owned(), value.as_bytes().to_vec())));
        }
        prop_assert_eq!(out.data(), sent.to_vec());
        prop_assert_eq!(out.events.last(), Some(&common::client::Ev::End));
        prop_assert!(conn.is_idle());
        prop_assert_eq!(conn.keep_alive(), encoded.keep_alive);
    }
}

/// One request of each body kind, read back whole by the server, one
/// after the other on one connection.
#[test]
fn pipelined_requests_read_back_by_the_server() {
    let mut conn = ClientConn::default();
    let mut wire = BytesMut::new();
    let post = Request::post("http://a/send").body(()).unwrap();
    conn.send_request(&post, BodyKind::Length(5), &mut wire)
        .unwrap();
    wire.extend_from_slice(b"hello");
    conn.send_request(&post, BodyKind::Stream, &mut wire)
        .unwrap();
    encode_chunk(b"chunked ", &mut wire);
    encode_chunk(b"body", &mut wire);
    encode_last_chunk(&mut wire);
    conn.send_request(&get(), BodyKind::None, &mut wire)
        .unwrap();
    let out = whole(Limits::default(), &wire);
    assert_eq!(out.error, None);
    let bodies: Vec<&[u8]> = out.requests.iter().map(|r| &r.body[..]).collect();
    assert_eq!(bodies, [&b"hello"[..], b"chunked body", b""]);
    assert_eq!(conn.outstanding(), 3);
}
