//! The query string of a request target, read as HTML forms and
//! `URLSearchParams` read it (the WHATWG URL standard's
//! `application/x-www-form-urlencoded` parser), which is also what
//! sockjs-node reads its `c=` callbacks with (Node's `querystring`).
//!
//! - Pairs are separated by `&`; empty pairs are skipped; a pair without
//!   `=` is a name with an empty value.
//! - In names and values, `+` is a space and `%XX` (two hex digits) is the
//!   byte `XX`; a `%` not followed by two hex digits stays as it is.
//! - The bytes are then read as UTF-8, each invalid sequence replaced by
//!   U+FFFD.
//!
//! So `c=%63allback` is `callback`, `d=a+b` is `a b`, `c=%zz` is `%zz`
//! (which a callback check then refuses, as sockjs-node does) and `%2B` is
//! a `+`.

use std::borrow::Cow;

/// Every `(name, value)` pair of `query` (without its `?`), decoded, in
/// order.
pub fn pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(name), decode(value))
    })
}

/// The decoded value of the first parameter called `name` (compared after
/// decoding) in `query` (without its `?`).
pub fn param<'a>(query: &'a str, name: &str) -> Option<Cow<'a, str>> {
    pairs(query).find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Decodes one name or value: `+` to a space, `%XX` to its byte, the rest
/// as it is, then UTF-8 with replacement.
pub fn decode(s: &str) -> Cow<'_, str> {
    if !s.bytes().any(|b| b == b'+' || b == b'%') {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    let digit = |b: u8| char::from(b).to_digit(16);
                    Some(digit(h[0])? * 16 + digit(h[1])?)
                });
                if let Some(byte) = hex {
                    out.push(byte as u8);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test per row: `name: input => decoded;`.
    macro_rules! decodes {
        ($($name:ident: $input:expr => $want:expr;)*) => {$(
            #[test]
            fn $name() {
                assert_eq!(decode($input), $want);
            }
        )*};
    }

    decodes! {
        plain_text_is_borrowed_as_is: "jQuery_1.2-3" => "jQuery_1.2-3";
        percent_escapes_are_bytes: "%63allback" => "callback";
        upper_and_lower_hex: "%2f%2F" => "//";
        plus_is_a_space: "a+b" => "a b";
        an_escaped_plus_is_a_plus: "a%2Bb" => "a+b";
        a_bad_escape_stays: "%zz" => "%zz";
        a_short_escape_at_the_end_stays: "a%4" => "a%4";
        a_lone_percent_stays: "%" => "%";
        utf8_sequences_decode: "%C3%A9" => "\u{e9}";
        invalid_utf8_is_replaced: "%C3(" => "\u{fffd}(";
        a_sign_digit_is_no_hex: "%+1" => "% 1";
    }

    #[test]
    fn parameters_are_found_by_decoded_name_first_one_wins() {
        let q = "x=1&c=%63allback&d=a+b&&flag&c=second&%63=third";
        assert_eq!(param(q, "c").as_deref(), Some("callback"));
        assert_eq!(param(q, "d").as_deref(), Some("a b"));
        assert_eq!(param(q, "x").as_deref(), Some("1"));
        assert_eq!(param(q, "flag").as_deref(), Some(""));
        assert_eq!(param(q, "y"), None);
        assert_eq!(param("", "c"), None);
        let all: Vec<(String, String)> = pairs(q)
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        assert_eq!(all.len(), 6);
        assert_eq!(all[5], ("c".to_owned(), "third".to_owned()));
    }
}
