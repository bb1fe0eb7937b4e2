//! Property tests: any chunking of the input gives the same requests, and
//! a chunked body encoded by this crate decodes back whatever the splits.

mod common;

use bytes::BytesMut;
use common::{cuts, feed, whole, within};
use http_proto::{encode_chunk, encode_last_chunk, Limits};
use proptest::prelude::*;

/// Every vector of interest, good and bad.
const VECTORS: &[&[u8]] = &[
    b"GET /info HTTP/1.1\r\nHost: a\r\n\r\nPOST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\n",
    b"\r\nGET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
    b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nzX",
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\n",
    b"GET / HTTP/3\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n40\r\n",
];

fn small() -> Limits {
    Limits::default()
        .max_head_size(120)
        .max_body_size(40)
        .max_chunk_line(16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_gives_the_same_requests(i in 0..VECTORS.len(), seed in cuts(400)) {
        let input = VECTORS[i];
        let cuts = within(seed, input);
        for limits in [Limits::default(), small()] {
            let want = whole(limits, input);
            let (got, _) = feed(limits, input, &cuts);
            prop_assert_eq!(&got.requests, &want.requests);
            prop_assert_eq!(&got.error, &want.error);
        }
    }

    #[test]
    fn chunked_round_trip(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
        seed in cuts(600),
    ) {
        let mut input = BytesMut::from(&b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"[..]);
        for p in &pieces {
            encode_chunk(p, &mut input);
        }
        encode_last_chunk(&mut input);
        input.extend_from_slice(b"GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
        let cuts = within(seed, &input);
        let (out, conn) = feed(Limits::default(), &input, &cuts);
        prop_assert_eq!(out.error, None);
        prop_assert_eq!(out.requests.len(), 2);
        prop_assert_eq!(out.requests[0].body.to_vec(), pieces.concat());
        prop_assert_eq!(out.requests[1].target.as_str(), "/next");
        prop_assert_eq!(conn.buffered(), 0);
    }
}

#[test]
fn every_vector_bytewise_matches_whole() {
    for limits in [Limits::default(), small()] {
        for input in VECTORS {
            assert_eq!(common::bytewise(limits, input), {
                let mut w = whole(limits, input);
                w.continues = common::bytewise(limits, input).continues;
                w
            });
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary bytes after a valid prefix: whatever they give (requests,
    /// an error, or waiting), every chunking gives the same.
    #[test]
    fn arbitrary_input_any_split(
        prefix in 0..VECTORS.len(),
        tail in proptest::collection::vec(
            prop_oneof![Just(b'\r'), Just(b'\n'), Just(b':'), Just(b' '), Just(b'0'), Just(b'a'), any::<u8>()],
            0..120,
        ),
        seed in cuts(300),
    ) {
        let mut input = VECTORS[prefix][..VECTORS[prefix].len() / 2].to_vec();
        input.extend_from_slice(&tail);
        let cuts = within(seed, &input);
        for limits in [Limits::default(), small()] {
            let want = whole(limits, &input);
            let (got, _) = feed(limits, &input, &cuts);
            prop_assert_eq!(&got.requests, &want.requests);
            prop_assert_eq!(&got.error, &want.error);
        }
    }
}
