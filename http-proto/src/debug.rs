//! `Debug` for header fields and heads that reads as text.
//!
//! The `http` crate's `Debug` writes every byte of a header value outside
//! visible ASCII as an escape (`"J\xc3\xb6rg"`). The wrappers here write a
//! value that is UTF-8 as the text it is (`"Jörg"`, control characters
//! escaped as `str`'s `Debug` does), a value that is not as a byte string
//! (`b"a\xffb"`), and a value marked sensitive as `Sensitive`, as the
//! `http` crate does. The types of this workspace that hold headers print
//! them this way.
//!
//! ```
//! use http::{HeaderMap, HeaderValue};
//! use http_proto::debug::Headers;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("x-name", HeaderValue::from_bytes("Jörg".as_bytes()).unwrap());
//! headers.insert("x-raw", HeaderValue::from_bytes(b"a\xffb").unwrap());
//! assert_eq!(
//!     format!("{:?}", Headers(&headers)),
//!     r#"{"x-name": "Jörg", "x-raw": b"a\xffb"}"#
//! );
//! ```

use std::fmt;

use http::{HeaderMap, HeaderValue, Request, Response};

/// A header map whose `Debug` writes values as text (see the module doc):
/// a map from each name to each of its values, in order, a name repeated
/// for each of its values.
#[derive(Clone, Copy)]
pub struct Headers<'a>(pub &'a HeaderMap);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, value)| (name, Value(value))))
            .finish()
    }
}

/// One header value whose `Debug` writes it as text when it is UTF-8.
#[derive(Clone, Copy)]
pub struct Value<'a>(pub &'a HeaderValue);

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_sensitive() {
            return f.write_str("Sensitive");
        }
        if let Ok(text) = std::str::from_utf8(self.0.as_bytes()) {
            return fmt::Debug::fmt(text, f);
        }
        f.write_str("b\"")?;
        for &byte in self.0.as_bytes() {
            fmt::Display::fmt(&byte.escape_ascii(), f)?;
        }
        f.write_str("\"")
    }
}

/// A request head (method, URI, version, headers as [`Headers`]); the body
/// is left out.
#[derive(Clone, Copy)]
pub struct RequestHead<'a, B>(pub &'a Request<B>);

impl<B> fmt::Debug for RequestHead<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", self.0.method())
            .field("uri", self.0.uri())
            .field("version", &self.0.version())
            .field("headers", &Headers(self.0.headers()))
            .finish_non_exhaustive()
    }
}

/// A response head (status, version, headers as [`Headers`]); the body is
/// left out.
#[derive(Clone, Copy)]
pub struct ResponseHead<'a, B>(pub &'a Response<B>);

impl<B> fmt::Debug for ResponseHead<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.0.status())
            .field("version", &self.0.version())
            .field("headers", &Headers(self.0.headers()))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(bytes: &[u8]) -> String {
        format!("{:?}", Value(&HeaderValue::from_bytes(bytes).unwrap()))
    }

    #[test]
    fn values_are_text_when_they_are_utf8_and_bytes_otherwise() {
        for (bytes, shown) in [
            (&b"a=b; Path=/"[..], r#""a=b; Path=/""#),
            ("Jörg ✓".as_bytes(), r#""Jörg ✓""#),
            (b"", r#""""#),
            (b"say \"hi\"\\", r#""say \"hi\"\\""#),
            (b"a\tb", r#""a\tb""#),
            (b"caf\xe9", r#"b"caf\xe9""#),
            (b"a\xffb\"\\", r#"b"a\xffb\"\\""#),
            (b"\xc3", r#"b"\xc3""#),
        ] {
            assert_eq!(value(bytes), shown, "{bytes:?}");
        }
    }

    #[test]
    fn sensitive_values_stay_hidden() {
        let mut secret = HeaderValue::from_static("Bearer t0k3n");
        secret.set_sensitive(true);
        assert_eq!(format!("{:?}", Value(&secret)), "Sensitive");
    }

    #[test]
    fn a_map_lists_every_value_of_a_name_in_order() {
        let mut headers = HeaderMap::new();
        headers.append("set-cookie", HeaderValue::from_static("a=1"));
        headers.append("set-cookie", HeaderValue::from_static("b=2"));
        headers.append(
            "x-name",
            HeaderValue::from_bytes("Jörg".as_bytes()).unwrap(),
        );
        assert_eq!(
            format!("{:?}", Headers(&headers)),
            r#"{"set-cookie": "a=1", "set-cookie": "b=2", "x-name": "Jörg"}"#
        );
        assert_eq!(format!("{:?}", Headers(&HeaderMap::new())), "{}");
    }

    #[test]
    fn heads_show_their_line_and_headers_without_the_body() {
        let request = Request::get("/chat?room=1")
            .header("Cookie", "n=Jörg")
            .body(vec![1u8, 2, 3])
            .unwrap();
        assert_eq!(
            format!("{:?}", RequestHead(&request)),
            r#"Request { method: GET, uri: /chat?room=1, version: HTTP/1.1, headers: {"cookie": "n=Jörg"}, .. }"#
        );
        let response = Response::builder()
            .status(101)
            .header("Upgrade", "websocket")
            .body(())
            .unwrap();
        assert_eq!(
            format!("{:?}", ResponseHead(&response)),
            r#"Response { status: 101, version: HTTP/1.1, headers: {"upgrade": "websocket"}, .. }"#
        );
    }
}
