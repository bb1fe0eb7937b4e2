//! Reading header fields of a [`HeaderMap`]: values, comma-separated lists
//! (RFC 9110 §5.6.1) and tokens in them, names compared case-insensitively.

use http::header::AsHeaderName;
use http::HeaderMap;

/// Every value of the header `name`, as bytes, in order.
pub fn values<K: AsHeaderName>(headers: &HeaderMap, name: K) -> impl Iterator<Item = &[u8]> {
    headers
        .get_all(name)
        .into_iter()
        .map(http::HeaderValue::as_bytes)
}

/// Every element of the comma-separated lists in the headers `name`,
/// trimmed, empty elements skipped.
pub fn list<K: AsHeaderName>(headers: &HeaderMap, name: K) -> impl Iterator<Item = &[u8]> {
    values(headers, name)
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .filter(|e| !e.is_empty())
}

/// Whether the lists in the headers `name` hold `token` (case-insensitive).
pub fn has_token<K: AsHeaderName>(headers: &HeaderMap, name: K, token: &str) -> bool {
    list(headers, name).any(|e| e.eq_ignore_ascii_case(token.as_bytes()))
}

/// The first value of the header `name`, if it is UTF-8 (ASCII, with
/// `obs-text` bytes only where they form UTF-8).
pub fn str_value<K: AsHeaderName>(headers: &HeaderMap, name: K) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
}

/// The value of the cookie `name` in the `Cookie` headers (RFC 6265
/// `name=value` pairs separated by `;`, spaces around them ignored), if
/// the header is UTF-8.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| std::str::from_utf8(v.as_bytes()).ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k.trim() == name).then(|| v.trim())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (n, v) in pairs {
            m.append(*n, http::HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn lists_span_fields_and_skip_empty_elements() {
        let m = map(&[
            ("connection", "keep-alive,, Upgrade "),
            ("Connection", "close"),
        ]);
        let got: Vec<&[u8]> = list(&m, "CONNECTION").collect();
        assert_eq!(got, [&b"keep-alive"[..], b"Upgrade", b"close"]);
        assert!(has_token(&m, "connection", "upgrade"));
        assert!(!has_token(&m, "connection", "upgrad"));
        assert_eq!(values(&m, "connection").count(), 2);
        assert_eq!(str_value(&m, "Connection"), Some("keep-alive,, Upgrade "));
        assert_eq!(str_value(&m, "host"), None);
    }

    #[test]
    fn cookies_are_found_among_several_headers() {
        let m = map(&[("cookie", "a=1; JSESSIONID=abcdef"), ("Cookie", "b = 2 ;c")]);
        assert_eq!(cookie(&m, "JSESSIONID"), Some("abcdef"));
        assert_eq!(cookie(&m, "a"), Some("1"));
        assert_eq!(cookie(&m, "b"), Some("2"));
        assert_eq!(cookie(&m, "c"), None);
        assert_eq!(cookie(&HeaderMap::new(), "a"), None);
    }

    #[test]
    fn a_value_that_is_not_utf8_has_no_str() {
        let mut m = HeaderMap::new();
        m.insert("x", http::HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(str_value(&m, "x"), None);
        assert_eq!(values(&m, "x").next(), Some(&b"\xff"[..]));
    }
}
