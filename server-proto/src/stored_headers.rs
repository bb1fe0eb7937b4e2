//! The headers of the request that opened a session, as the session keeps
//! them for its whole life: packed in one buffer, and made into a
//! [`HeaderMap`] only when the application asks.
//!
//! A `HeaderMap` of a handshake's few headers costs several hundred bytes
//! in allocations (its entries, its index, a buffer per value), kept by
//! every session though most handlers never look; the packed bytes cost
//! the headers' own length.

use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue};

/// Headers packed as `name:value\n` each (a name holds no `:`, a value no
/// `\n`), with the map built from them on first use.
pub(crate) struct StoredHeaders {
    packed: Box<[u8]>,
    /// Boxed: an empty `OnceLock<HeaderMap>` is a hundred bytes.
    map: OnceLock<Box<HeaderMap>>,
}

impl StoredHeaders {
    pub(crate) fn new(headers: &HeaderMap) -> Self {
        let len = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 2)
            .sum();
        let mut packed = Vec::with_capacity(len);
        for (name, value) in headers {
            packed.extend_from_slice(name.as_str().as_bytes());
            packed.push(b':');
            packed.extend_from_slice(value.as_bytes());
            packed.push(b'\n');
        }
        Self {
            packed: packed.into_boxed_slice(),
            map: OnceLock::new(),
        }
    }

    /// The headers, in their order.
    pub(crate) fn map(&self) -> &HeaderMap {
        self.map.get_or_init(|| Box::new(unpack(&self.packed)))
    }
}

/// The map of packed headers. Every field came from a valid `HeaderMap`,
/// so each parses again; one that did not would be left out.
fn unpack(packed: &[u8]) -> HeaderMap {
    let fields = packed.split(|&b| b == b'\n').filter(|f| !f.is_empty());
    let mut map = HeaderMap::with_capacity(fields.clone().count());
    for field in fields {
        let Some(colon) = field.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&field[..colon], &field[colon + 1..]);
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            map.append(name, value);
        }
    }
    map
}

impl std::fmt::Debug for StoredHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&http_proto::debug::Headers(self.map()), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_is_the_headers_in_their_order_with_repeats_and_raw_bytes() {
        let mut headers = HeaderMap::new();
        headers.append("host", HeaderValue::from_static("example.com:8080"));
        headers.append("cookie", HeaderValue::from_static("a=1"));
        headers.append("x-raw", HeaderValue::from_bytes(b"a\xff: b\tc").unwrap());
        headers.append("cookie", HeaderValue::from_static("b=2; c=3"));
        headers.append("x-empty", HeaderValue::from_static(""));
        let stored = StoredHeaders::new(&headers);
        assert_eq!(stored.map(), &headers);
        let order: Vec<_> = stored
            .map()
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        let expected: Vec<_> = headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        assert_eq!(order, expected);
        assert_eq!(http_proto::headers::cookie(stored.map(), "c"), Some("3"));
    }

    #[test]
    fn no_headers() {
        let stored = StoredHeaders::new(&HeaderMap::new());
        assert!(stored.map().is_empty());
        assert_eq!(format!("{stored:?}"), "{}");
    }
}
