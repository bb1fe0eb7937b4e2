//! The query string of a request target, read as HTML forms and
//! `URLSearchParams` read it (the WHATWG URL standard's
//! `application/x-www-form-urlencoded` parser), which is also what
//! sockjs-node reads its `c=` callbacks and `jsonp_send` forms with (Node's
//! `querystring`). The one percent-decoder of the workspace: SockJS's
//! query parameters, the `jsonp_send` form body and the handshake
//! requests' and sessions' `query_param` all read through it.
//!
//! - Pairs are separated by `&`; empty pairs are skipped; a pair without
//!   `=` is a name with an empty value.
//! - In names and values, `+` is a space and `%XX` (two hex digits, either
//!   case) is the byte `XX`; a `%` not followed by two hex digits stays as
//!   it is, a literal `%`, and decoding goes on after it.
//! - [`decode`] then reads the bytes as UTF-8, each invalid sequence
//!   replaced by U+FFFD; [`decode_bytes`] hands the bytes on, for a caller
//!   with a rule of its own (a `jsonp_send` body's JSON parser refuses
//!   what is not UTF-8).
//!
//! So `c=%63allback` is `callback`, `d=a+b` is `a b`, `c=%zz` is `%zz`
//! (which a callback check then refuses, as sockjs-node does), `%2B` is a
//! `+` and `%FF` is U+FFFD.

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
/// as it is, then UTF-8 with replacement. Borrows `s` when there is nothing
/// to decode.
pub fn decode(s: &str) -> Cow<'_, str> {
    match decode_bytes(s.as_bytes()) {
        Cow::Borrowed(_) => Cow::Borrowed(s),
        Cow::Owned(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Cow::Owned(text),
            Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
        },
    }
}

/// Decodes one name or value to bytes: `+` to a space, `%XX` to its byte,
/// the rest (a `%` without two hex digits after it among it) as it is.
/// Borrows `raw` when it holds neither `+` nor `%`.
pub fn decode_bytes(raw: &[u8]) -> Cow<'_, [u8]> {
    if !raw.iter().any(|&b| b == b'+' || b == b'%') {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_digit);
                let lo = raw.get(i + 2).copied().and_then(hex_digit);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// The value of an ASCII hex digit, either case.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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
        a_bad_escape_then_a_good_one: "%%41" => "%A";
        a_short_escape_before_a_good_one: "%4%41" => "%4A";
        a_trailing_percent_stays: "100%" => "100%";
        lower_case_utf8_escapes: "%e2%82%ac" => "\u{20ac}";
        a_lone_continuation_byte_is_replaced: "%80" => "\u{fffd}";
        a_cut_sequence_is_one_replacement: "a%E2%82" => "a\u{fffd}";
        raw_non_ascii_stays: "\u{e9}+%C3%A9" => "\u{e9} \u{e9}";
    }

    #[test]
    fn nothing_to_decode_borrows() {
        assert!(matches!(decode("a.b_c-1"), Cow::Borrowed("a.b_c-1")));
        assert!(matches!(decode_bytes(b"xyz"), Cow::Borrowed(b"xyz")));
        assert!(matches!(decode("a+b"), Cow::Owned(_)));
    }

    #[test]
    fn bytes_are_handed_on_as_they_decode() {
        // Not UTF-8: the bytes themselves, for a caller with its own rule.
        assert_eq!(&*decode_bytes(b"%FF%fe+%zz"), b"\xff\xfe %zz");
        assert_eq!(&*decode_bytes(b"%5B%22x%22%5D"), br#"["x"]"#);
        assert_eq!(&*decode_bytes(b"%"), b"%");
        // And `decode` is `decode_bytes` read as UTF-8 with replacement.
        for raw in ["%FF", "a%C3%A9", "%zz+", "%e2%82"] {
            assert_eq!(
                decode(raw),
                String::from_utf8_lossy(&decode_bytes(raw.as_bytes())),
                "{raw}"
            );
        }
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
