//! `Sec-WebSocket-Accept` (RFC 6455 §4.2.2) against values computed by
//! another implementation (`accept_key_vectors.txt`, Python's `hashlib` and
//! `base64`), so that a wrong `accept_key` cannot pass because our client
//! and server agree with each other.

use ws_proto::handshake::accept_key;

/// The (key, accept) pairs of `accept_key_vectors.txt`.
fn vectors() -> Vec<(&'static str, &'static str)> {
    include_str!("accept_key_vectors.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_once(' ').expect("a key and its accept value"))
        .collect()
}

#[test]
fn accept_key_matches_an_independent_implementation() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 10);
    for (key, accept) in vectors {
        assert_eq!(accept_key(key.as_bytes()), accept, "key {key}");
    }
}
