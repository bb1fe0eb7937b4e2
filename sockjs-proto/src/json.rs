//! Client payloads: the JSON that `xhr_send`, `jsonp_send` and the
//! websocket transport receive.
//!
//! | entry point | accepts |
//! | --- | --- |
//! | [`parse_messages`] | `xhr_send` and `jsonp_send` bodies: a JSON array of strings |
//! | [`parse_ws_messages`] | a websocket message: a JSON array of strings, or one JSON string |
//! | [`jsonp_send_body`] | unwraps a `jsonp_send` body sent as a form, `d=<urlencoded JSON>` |
//! | [`parse_close`] | the payload of a close frame the client receives: `[code,"reason"]` |
//!
//! The parser is strict RFC 8259 for the little it accepts: whitespace
//! (space, tab, `\n`, `\r`) around tokens, the escapes
//! `\" \\ \/ \b \f \n \r \t \uXXXX` (hex digits in either case), no raw
//! control characters inside strings, valid UTF-8, no trailing commas, no
//! single quotes, nothing after the closing bracket. It runs in linear time,
//! without recursion (there is no nesting beyond the one array), never
//! panics, and allocates only the output, at most proportional to the input.
//!
//! # Lone surrogates
//!
//! JSON may escape a lone UTF-16 surrogate: a high surrogate (`\ud800` to
//! `\udbff`) not followed by a low one's escape, or a low surrogate
//! (`\udc00` to `\udfff`) without a high one before it. sockjs-node, working
//! in UTF-16, passes such a string on; a Rust `String` cannot hold it.
//! **Each lone surrogate is replaced by U+FFFD REPLACEMENT CHARACTER**, as
//! `String::from_utf16_lossy` does, and the rest of the payload is kept:
//! rejecting the whole batch would drop the other messages with it. A valid
//! pair (`\ud83d\ude00`) decodes to its one character (U+1F600).

use std::borrow::Cow;
use std::fmt;

use http_proto::query::decode_bytes;

/// Why a client payload was refused.
///
/// Both answer HTTP 500 ([`PayloadError::http_status`]) with
/// [`PayloadError::as_str`] as the body, the texts of the reference server
/// and of the protocol tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadError {
    /// There is no payload: an empty body, or a form body without a
    /// non-empty `d` field. Body: `Payload expected.`
    Empty,
    /// The payload is not what the transport accepts: not JSON, not an
    /// array of strings, or not UTF-8. Body: `Broken JSON encoding.`
    Broken,
}

impl PayloadError {
    /// The response body: `Payload expected.` or `Broken JSON encoding.`
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            PayloadError::Empty => "Payload expected.",
            PayloadError::Broken => "Broken JSON encoding.",
        }
    }

    /// The HTTP status of the response: 500 for both.
    #[must_use]
    pub const fn http_status(self) -> u16 {
        500
    }
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for PayloadError {}

/// Parses an `xhr_send` or `jsonp_send` body: a JSON array of strings, with
/// optional whitespace around its tokens.
///
/// A single JSON string is not accepted here (the websocket transport
/// accepts one: [`parse_ws_messages`]).
///
/// # Lone surrogates
///
/// An escaped lone surrogate (`\ud83d` not followed by a low surrogate's
/// escape, or `\ude00` alone) cannot be held by a Rust `String`: it becomes
/// U+FFFD REPLACEMENT CHARACTER, as with `String::from_utf16_lossy`, and the
/// payload is accepted with all its other messages. A valid pair
/// (`\ud83d\ude00`) decodes to its one character.
///
/// # Errors
///
/// - [`PayloadError::Empty`] if `body` is empty (zero bytes).
/// - [`PayloadError::Broken`] for anything else that is not one JSON array
///   of strings: invalid JSON or UTF-8, whitespace only, an object, a string,
///   `null`, a number or any other non-string inside the array, a trailing
///   comma, single quotes, a raw control character inside a string,
///   anything after the `]`.
///
/// sockjs-node answers `Payload expected.` rather than `Broken JSON
/// encoding.` for valid JSON that is not an array (`{}`, `"a"`, `null`),
/// and passes non-string array elements to the application; both are HTTP
/// 500 here, and the application only ever receives strings.
pub fn parse_messages(body: &[u8]) -> Result<Vec<String>, PayloadError> {
    if body.is_empty() {
        return Err(PayloadError::Empty);
    }
    let mut parser = Parser::new(body);
    parser.skip_whitespace();
    let mut messages = Vec::new();
    parser.array(&mut messages)?;
    parser.end()?;
    Ok(messages)
}

/// Parses a message received on the websocket transport: a JSON array of
/// strings, or a single JSON string (then one message).
///
/// An empty message (zero bytes) and `[]` give no messages: the transport
/// ignores them. Lone surrogates become U+FFFD as in [`parse_messages`].
///
/// # Errors
///
/// [`PayloadError::Broken`] for anything else, whitespace only included;
/// the transport then ends the connection.
pub fn parse_ws_messages(text: &str) -> Result<Vec<String>, PayloadError> {
    parse_ws_messages_into(text)
}

/// [`parse_ws_messages`] into any collection: the server's websocket
/// transport takes a [`ws_proto::Fifo`], which holds the usual lone
/// message without allocating.
pub(crate) fn parse_ws_messages_into<C: Default + Extend<String>>(
    text: &str,
) -> Result<C, PayloadError> {
    let mut messages = C::default();
    if text.is_empty() {
        return Ok(messages);
    }
    let mut parser = Parser::new_text(text);
    parser.skip_whitespace();
    if parser.peek() == Some(b'"') {
        messages.extend([parser.string()?]);
    } else {
        parser.array(&mut messages)?;
    }
    parser.end()?;
    Ok(messages)
}

/// Parses the payload of a close frame (what follows the `c` of
/// `c[3000,"Go away!"]`): a JSON array of an integer code from 0 to 65535
/// and a string reason, with optional whitespace around its tokens. Lone
/// surrogates in the reason become U+FFFD as in [`parse_messages`].
///
/// # Errors
///
/// [`PayloadError::Broken`] for anything else: another shape, a code with a
/// sign, a fraction, an exponent or leading zeros, a code above 65535.
pub fn parse_close(payload: &[u8]) -> Result<(u16, String), PayloadError> {
    let mut parser = Parser::new(payload);
    parser.skip_whitespace();
    parser.expect(b'[')?;
    parser.skip_whitespace();
    let code = parser.code()?;
    parser.skip_whitespace();
    parser.expect(b',')?;
    parser.skip_whitespace();
    let reason = parser.string()?;
    parser.skip_whitespace();
    parser.expect(b']')?;
    parser.end()?;
    Ok((code, reason))
}

/// The JSON payload of a `jsonp_send` body, to hand to [`parse_messages`].
///
/// When `content_type` is `application/x-www-form-urlencoded` (compared
/// case-insensitively, parameters such as `; charset=UTF-8` allowed), the
/// body is a form: it is split on `&`, and the value of the first field
/// named `d` is decoded by the workspace's one form decoder,
/// [`http_proto::query::decode_bytes`] (`+` a space, `%XX` a byte, a `%`
/// without two hex digits after it kept as it is, as sockjs-node's
/// `querystring` keeps it), to bytes that [`parse_messages`] then reads
/// (and refuses unless they are UTF-8). Otherwise the body is the payload
/// itself, whatever the content type (or none), as for `xhr_send`.
///
/// The result borrows `body` unless percent-decoding changed something.
///
/// # Errors
///
/// [`PayloadError::Empty`] for an empty body, and for a form without a `d`
/// field or with an empty one (bodies `""`, `d=`, `p=p`).
pub fn jsonp_send_body<'a>(
    body: &'a [u8],
    content_type: Option<&str>,
) -> Result<Cow<'a, [u8]>, PayloadError> {
    if !content_type.is_some_and(is_form_content_type) {
        return if body.is_empty() {
            Err(PayloadError::Empty)
        } else {
            Ok(Cow::Borrowed(body))
        };
    }
    for field in body.split(|&b| b == b'&') {
        let (name, value) = match field.iter().position(|&b| b == b'=') {
            Some(eq) => (&field[..eq], &field[eq + 1..]),
            None => (field, &field[field.len()..]),
        };
        // The name may be percent-encoded too (`%64`).
        if *decode_bytes(name) == *b"d" {
            let value = decode_bytes(value);
            return if value.is_empty() {
                Err(PayloadError::Empty)
            } else {
                Ok(value)
            };
        }
    }
    Err(PayloadError::Empty)
}

fn is_form_content_type(content_type: &str) -> bool {
    let media_type = content_type
        .split_once(';')
        .map_or(content_type, |(media_type, _)| media_type);
    media_type
        .trim_matches([' ', '\t'])
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
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

/// A cursor over the payload. Every method leaves `pos` within
/// `0..=bytes.len()` and reads through `get`, so no input can panic it.
struct Parser<'a> {
    bytes: &'a [u8],
    /// The same input where it is known to be UTF-8 already (a websocket
    /// text message): a run is then sliced from it, not validated again.
    text: Option<&'a str>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Parser {
            bytes,
            text: None,
            pos: 0,
        }
    }

    fn new_text(text: &'a str) -> Self {
        Parser {
            bytes: text.as_bytes(),
            text: Some(text),
            pos: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Nothing but whitespace may follow.
    fn end(&mut self) -> Result<(), PayloadError> {
        self.skip_whitespace();
        if self.pos == self.bytes.len() {
            Ok(())
        } else {
            Err(PayloadError::Broken)
        }
    }

    /// Consumes `byte` at the cursor.
    fn expect(&mut self, byte: u8) -> Result<(), PayloadError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(PayloadError::Broken)
        }
    }

    /// A JSON integer from 0 to 65535 at the cursor: `0`, or digits not
    /// starting with `0`; no sign, fraction or exponent.
    fn code(&mut self) -> Result<u16, PayloadError> {
        let start = self.pos;
        let mut value: u32 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            value = value * 10 + u32::from(d - b'0');
            if value > u32::from(u16::MAX) {
                return Err(PayloadError::Broken);
            }
            self.pos += 1;
        }
        let digits = self.pos - start;
        let leading_zero = digits > 1 && self.bytes.get(start) == Some(&b'0');
        if digits == 0 || leading_zero || matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return Err(PayloadError::Broken);
        }
        u16::try_from(value).map_err(|_| PayloadError::Broken)
    }

    /// `[` string (`,` string)* `]` or `[` `]`, at the cursor.
    fn array(&mut self, messages: &mut impl Extend<String>) -> Result<(), PayloadError> {
        if self.peek() != Some(b'[') {
            return Err(PayloadError::Broken);
        }
        self.pos += 1;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            messages.extend([self.string()?]);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(PayloadError::Broken),
            }
        }
    }

    /// A JSON string at the cursor, quotes included.
    fn string(&mut self) -> Result<String, PayloadError> {
        if self.peek() != Some(b'"') {
            return Err(PayloadError::Broken);
        }
        self.pos += 1;
        let mut out = String::new();
        loop {
            // A run of bytes that are copied as they are. It ends on an
            // ASCII byte, never inside a UTF-8 sequence, so validating each
            // run validates the whole string.
            let start = self.pos;
            let rest = self.bytes.get(start..).unwrap_or_default();
            self.pos += rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(rest.len());
            // Both ends of a run are next to ASCII bytes (or the input's
            // ends): slicing a `str` there cannot fail.
            let run = match self.text {
                Some(text) => text.get(start..self.pos).ok_or(PayloadError::Broken)?,
                None => std::str::from_utf8(&self.bytes[start..self.pos])
                    .map_err(|_| PayloadError::Broken)?,
            };
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    // Every escape adds a character, so an empty `out` means
                    // no escape: allocate the run exactly.
                    if out.is_empty() {
                        return Ok(run.to_owned());
                    }
                    out.push_str(run);
                    return Ok(out);
                }
                Some(b'\\') => {
                    out.push_str(run);
                    self.pos += 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                // End of input, or a raw control character.
                _ => return Err(PayloadError::Broken),
            }
        }
    }

    /// The character of an escape whose `\` was just consumed.
    fn escape(&mut self) -> Result<char, PayloadError> {
        let Some(b) = self.peek() else {
            return Err(PayloadError::Broken);
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4(self.pos).ok_or(PayloadError::Broken)?;
                self.pos += 4;
                self.utf16(unit)
            }
            _ => return Err(PayloadError::Broken),
        };
        Ok(c)
    }

    /// The character of a `\uXXXX` escape whose code unit is `unit`,
    /// consuming the low half's escape when `unit` starts a valid pair.
    fn utf16(&mut self, unit: u16) -> char {
        match unit {
            0xD800..=0xDBFF => {
                let low = if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
                    self.hex4(self.pos + 2)
                } else {
                    None
                };
                match low {
                    Some(low @ 0xDC00..=0xDFFF) => {
                        self.pos += 6;
                        let c = 0x1_0000
                            + ((u32::from(unit) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER)
                    }
                    // A lone high surrogate; whatever follows is parsed on
                    // its own (and rejected there if it is a bad escape).
                    _ => char::REPLACEMENT_CHARACTER,
                }
            }
            // Non-surrogates always convert; lone low surrogates do not.
            _ => char::from_u32(u32::from(unit)).unwrap_or(char::REPLACEMENT_CHARACTER),
        }
    }

    /// Four hex digits at `at`, as a UTF-16 code unit.
    fn hex4(&self, at: usize) -> Option<u16> {
        let digits = self.bytes.get(at..at.checked_add(4)?)?;
        digits.iter().try_fold(0_u16, |unit, &d| {
            Some((unit << 4) | u16::from(hex_digit(d)?))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::escape_json_string;
    use proptest::prelude::*;
    use std::fmt::Write as _;

    #[allow(clippy::unnecessary_wraps)] // Compared with parse results.
    fn ok(items: &[&str]) -> Result<Vec<String>, PayloadError> {
        Ok(items.iter().map(|&s| s.to_owned()).collect())
    }

    /// What the jsonp_send handler does: unwrap the form, then parse.
    fn jsonp_send(body: &[u8], content_type: Option<&str>) -> Result<Vec<String>, PayloadError> {
        parse_messages(&jsonp_send_body(body, content_type)?)
    }

    const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

    #[test]
    fn close_payloads() {
        let ok = |code: u16, reason: &str| Ok((code, reason.to_owned()));
        assert_eq!(parse_close(br#"[3000,"Go away!"]"#), ok(3000, "Go away!"));
        assert_eq!(parse_close(b" [ 0 , \"\" ] "), ok(0, ""));
        assert_eq!(parse_close(br#"[65535,"\u00e9"]"#), ok(65535, "\u{e9}"));
        assert_eq!(parse_close(br#"[2010,"\ud800x"]"#), ok(2010, "\u{fffd}x"));
        for bad in [
            &b""[..],
            b"[]",
            b"[3000]",
            br#"[3000,"a""#,
            br#"[65536,"a"]"#,
            br#"[-1,"a"]"#,
            br#"[01,"a"]"#,
            br#"[1.0,"a"]"#,
            br#"[1e3,"a"]"#,
            br#"["1","a"]"#,
            br#"[1,"a",2]"#,
            br#"[1,"a"]x"#,
            br#"{"code":1}"#,
            br#"[99999999999999999999,"a"]"#,
        ] {
            assert_eq!(
                parse_close(bad),
                Err(PayloadError::Broken),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn error_texts_are_the_http_bodies() {
        assert_eq!(PayloadError::Empty.to_string(), "Payload expected.");
        assert_eq!(PayloadError::Broken.to_string(), "Broken JSON encoding.");
        assert_eq!(PayloadError::Empty.as_str(), "Payload expected.");
        assert_eq!(PayloadError::Broken.as_str(), "Broken JSON encoding.");
        assert_eq!(PayloadError::Empty.http_status(), 500);
        assert_eq!(PayloadError::Broken.http_status(), 500);
    }

    #[test]
    fn protocol_examples() {
        assert_eq!(parse_messages(br#"["a"]"#), ok(&["a"]));
        assert_eq!(parse_messages(br#"["x"]"#), ok(&["x"]));
        assert_eq!(parse_messages(br#"["x"#), Err(PayloadError::Broken));
        assert_eq!(parse_messages(b""), Err(PayloadError::Empty));
        assert_eq!(parse_messages(br#"["a","b"]"#), ok(&["a", "b"]));
        assert_eq!(parse_messages(br#" [ "a" , "b" ] "#), ok(&["a", "b"]));
        assert_eq!(parse_messages(br#"["\u0000\n\r "]"#), ok(&["\0\n\r "]));
        assert_eq!(parse_messages(br#"["  \u0000\n\r "]"#), ok(&["  \0\n\r "]));
        assert_eq!(parse_messages(br#"["%61bc"]"#), ok(&["%61bc"]));
        let big = format!(r#"["{}"]"#, "x".repeat(4096));
        assert_eq!(parse_messages(big.as_bytes()), Ok(vec!["x".repeat(4096)]));
    }

    #[test]
    fn empty_arrays_and_strings() {
        assert_eq!(parse_messages(b"[]"), ok(&[]));
        assert_eq!(parse_messages(b" \t\r\n[ \t\r\n] \t\r\n"), ok(&[]));
        assert_eq!(parse_messages(br#"[""]"#), ok(&[""]));
        assert_eq!(parse_messages(br#"["",""]"#), ok(&["", ""]));
    }

    #[test]
    fn whitespace_around_every_token() {
        assert_eq!(
            parse_messages(b"\n\t[\r\n\"a\"\t,\n \"b\" \r]\r\n\t "),
            ok(&["a", "b"])
        );
        // Whitespace inside strings is content.
        assert_eq!(parse_messages(br#"[" a b "]"#), ok(&[" a b "]));
    }

    #[test]
    fn every_short_escape() {
        assert_eq!(
            parse_messages(br#"["\"\\\/\b\f\n\r\t"]"#),
            ok(&["\"\\/\u{8}\u{c}\n\r\t"])
        );
        assert_eq!(parse_messages(br#"["a\nb\"c"]"#), ok(&["a\nb\"c"]));
    }

    #[test]
    fn unicode_escapes_in_either_case() {
        assert_eq!(parse_messages(br#"["\u0041"]"#), ok(&["A"]));
        assert_eq!(parse_messages(br#"["\u00e9\u00E9"]"#), ok(&["éé"]));
        assert_eq!(parse_messages(br#"["\uAbCd"]"#), ok(&["\u{abcd}"]));
        assert_eq!(
            parse_messages(br#"["\u200c\u2028"]"#),
            ok(&["\u{200c}\u{2028}"])
        );
        assert_eq!(
            parse_messages(br#"["\uffff\ufffd"]"#),
            ok(&["\u{ffff}\u{fffd}"])
        );
        assert_eq!(parse_messages(br#"["\u0000"]"#), ok(&["\0"]));
        assert_eq!(parse_messages(br#"["\u005c\u0022"]"#), ok(&["\\\""]));
    }

    #[test]
    fn raw_non_ascii_and_allowed_raw_characters() {
        assert_eq!(
            parse_messages("[\"héllo 世界 😀\"]".as_bytes()),
            ok(&["héllo 世界 😀"])
        );
        assert_eq!(
            parse_messages("[\"\u{7f}\u{2028}\u{feff}\"]".as_bytes()),
            ok(&["\u{7f}\u{2028}\u{feff}"])
        );
    }

    #[test]
    fn surrogate_pairs_decode_to_one_character() {
        assert_eq!(parse_messages(br#"["\ud83d\ude00"]"#), ok(&["😀"]));
        assert_eq!(parse_messages(br#"["\uD83D\uDE00"]"#), ok(&["😀"]));
        assert_eq!(parse_messages(br#"["\ud800\udc00"]"#), ok(&["\u{10000}"]));
        assert_eq!(parse_messages(br#"["\udbff\udfff"]"#), ok(&["\u{10ffff}"]));
        assert_eq!(parse_messages(br#"["a\ud834\udd1eb"]"#), ok(&["a𝄞b"]));
    }

    /// The documented choice: each lone surrogate becomes U+FFFD, and the
    /// rest of the payload is kept.
    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let cases: &[(&[u8], &[&str])] = &[
            (br#"["\ud83d"]"#, &["\u{fffd}"]),
            (br#"["\ude00"]"#, &["\u{fffd}"]),
            (br#"["\udbff"]"#, &["\u{fffd}"]),
            (br#"["\udc00"]"#, &["\u{fffd}"]),
            (br#"["a\ud83db"]"#, &["a\u{fffd}b"]),
            (br#"["\ud83d\u0041"]"#, &["\u{fffd}A"]),
            (br#"["\ud83d\n"]"#, &["\u{fffd}\n"]),
            (br#"["\ud83d\ud83d\ude00"]"#, &["\u{fffd}😀"]),
            (br#"["\ude00\ud83d"]"#, &["\u{fffd}\u{fffd}"]),
            (br#"["\ud83d","\ude00"]"#, &["\u{fffd}", "\u{fffd}"]),
            (br#"["a","\ud800","b"]"#, &["a", "\u{fffd}", "b"]),
            (br#"["\ud83d\\ude00"]"#, &["\u{fffd}\\ude00"]),
        ];
        for &(body, expected) in cases {
            let text = std::str::from_utf8(body).unwrap();
            assert_eq!(parse_messages(body), ok(expected), "{text}");
            assert_eq!(parse_ws_messages(text), ok(expected), "{text}");
        }
        assert_eq!(parse_ws_messages(r#""\ud83d""#), ok(&["\u{fffd}"]));
    }

    #[test]
    fn a_bad_escape_after_a_high_surrogate_is_still_rejected() {
        for body in [
            br#"["\ud83d\uzzzz"]"#.as_slice(),
            br#"["\ud83d\ude0"]"#,
            br#"["\ud83d\u"]"#,
            br#"["\ud83d\"#,
            br#"["\ud83d\x"]"#,
            br#"["\ud83d"#,
        ] {
            assert_eq!(
                parse_messages(body),
                Err(PayloadError::Broken),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    /// One test per row: a body that `parse_messages` rejects as broken.
    macro_rules! broken {
        ($($name:ident: $body:expr,)*) => {$(
            #[test]
            fn $name() {
                let body: &[u8] = $body;
                assert_eq!(
                    parse_messages(body),
                    Err(PayloadError::Broken),
                    "{:?}",
                    String::from_utf8_lossy(body)
                );
            }
        )*};
    }

    broken! {
        rejects_whitespace_only: b" \r\n\t",
        rejects_open_bracket: b"[",
        rejects_close_bracket: b"]",
        rejects_unclosed_array: br#"["a""#,
        rejects_unclosed_after_comma: br#"["a","#,
        rejects_unclosed_string: br#"["a"#,
        rejects_unclosed_after_backslash: br#"["a\"#,
        rejects_lone_comma: b"[,]",
        rejects_leading_comma: br#"[,"a"]"#,
        rejects_trailing_comma: br#"["a",]"#,
        rejects_double_comma: br#"["a",,"b"]"#,
        rejects_missing_comma: br#"["a" "b"]"#,
        rejects_single_quotes: b"['a']",
        rejects_object: b"{}",
        rejects_object_of_strings: br#"{"a":"b"}"#,
        rejects_single_string: br#""a""#,
        rejects_null: b"null",
        rejects_number: b"1",
        rejects_true: b"true",
        rejects_number_in_array: b"[1]",
        rejects_number_after_string: br#"["a",1]"#,
        rejects_null_in_array: b"[null]",
        rejects_bool_in_array: b"[true]",
        rejects_nested_array: b"[[]]",
        rejects_nested_array_of_strings: br#"[["a"]]"#,
        rejects_object_in_array: b"[{}]",
        rejects_trailing_garbage: br#"["a"]x"#,
        rejects_second_array: br#"["a"][]"#,
        rejects_extra_bracket: br#"["a"]]"#,
        rejects_trailing_nul: b"[\"a\"]\0",
        rejects_unknown_escape: br#"["\x"]"#,
        rejects_escaped_single_quote: br#"["\'"]"#,
        rejects_uppercase_escape_letter: br#"["\N"]"#,
        rejects_uppercase_u_escape: br#"["\U0041"]"#,
        rejects_short_unicode_escape: br#"["\u12"]"#,
        rejects_non_hex_unicode_escape: br#"["\u12g4"]"#,
        rejects_signed_unicode_escape: br#"["\u+123"]"#,
        rejects_raw_newline: b"[\"a\nb\"]",
        rejects_raw_tab: b"[\"a\tb\"]",
        rejects_raw_nul: b"[\"\0\"]",
        rejects_raw_unit_separator: b"[\"\x1f\"]",
        rejects_invalid_utf8: b"[\"\xff\"]",
        rejects_truncated_utf8: b"[\"\xe2\x82\"]",
        rejects_overlong_utf8: b"[\"\xc0\xaf\"]",
        rejects_utf8_encoded_surrogate: b"[\"\xed\xa0\x80\"]",
        rejects_utf8_beyond_unicode: b"[\"\xf4\x90\x80\x80\"]",
        rejects_invalid_utf8_outside_strings: b"[\xff\"a\"]",
        rejects_byte_order_mark: b"\xef\xbb\xbf[\"a\"]",
        rejects_vertical_tab_as_whitespace: b"\x0b[\"a\"]",
        rejects_form_feed_as_whitespace: b"[\x0c\"a\"]",
        rejects_no_break_space_as_whitespace: "\u{a0}[\"a\"]".as_bytes(),
        rejects_form_body_without_unwrapping: b"d=%5B%22x%22%5D",
    }

    #[test]
    fn websocket_messages() {
        assert_eq!(parse_ws_messages(""), ok(&[]));
        assert_eq!(parse_ws_messages("[]"), ok(&[]));
        assert_eq!(parse_ws_messages(" [ ] "), ok(&[]));
        assert_eq!(parse_ws_messages(r#"["a"]"#), ok(&["a"]));
        assert_eq!(parse_ws_messages(r#"["a","b"]"#), ok(&["a", "b"]));
        assert_eq!(parse_ws_messages(r#""a""#), ok(&["a"]));
        assert_eq!(parse_ws_messages(r#" "a" "#), ok(&["a"]));
        assert_eq!(parse_ws_messages(r#""""#), ok(&[""]));
        assert_eq!(parse_ws_messages(r#""\ud83d\ude00\n""#), ok(&["😀\n"]));
    }

    #[test]
    fn websocket_rejections() {
        for text in [
            r#"["a"#,
            " ",
            "\n",
            "1",
            "null",
            "{}",
            r#""a" "b""#,
            r#""a","b""#,
            r#"["a"],"#,
            r#""a"#,
            "'a'",
            "[1]",
            r#"["a",]"#,
            r#"[["a"]]"#,
            "\"a\nb\"",
        ] {
            assert_eq!(
                parse_ws_messages(text),
                Err(PayloadError::Broken),
                "{text:?}"
            );
        }
    }

    #[test]
    fn jsonp_send_protocol_examples() {
        assert_eq!(jsonp_send(b"d=%5B%22x%22%5D", FORM), ok(&["x"]));
        assert_eq!(jsonp_send(b"d=%5B%22b%22%5D", FORM), ok(&["b"]));
        assert_eq!(jsonp_send(b"d=%5B%22abc%22%5D", FORM), ok(&["abc"]));
        assert_eq!(jsonp_send(b"d=%5B%22x", FORM), Err(PayloadError::Broken));
        for body in [b"".as_slice(), b"d=", b"p=p"] {
            assert_eq!(jsonp_send(body, FORM), Err(PayloadError::Empty));
        }
        assert_eq!(
            jsonp_send(br#"["%61bc"]"#, Some("text/plain")),
            ok(&["%61bc"])
        );
    }

    #[test]
    fn jsonp_send_form_fields() {
        assert_eq!(
            jsonp_send(b"a=1&d=%5B%22b%22%5D&d=%5B%22c%22%5D", FORM),
            ok(&["b"])
        );
        assert_eq!(jsonp_send(b"d=%5B%22a+b%2Bc%22%5D", FORM), ok(&["a b+c"]));
        assert_eq!(jsonp_send(b"%64=%5B%22x%22%5D", FORM), ok(&["x"]));
        assert_eq!(jsonp_send(br#"d=["x","y"]"#, FORM), ok(&["x", "y"]));
        assert_eq!(jsonp_send(b"d=%5b%22%e2%82%ac%22%5d", FORM), ok(&["€"]));
        // `d` without `=` is an empty field, as in a query string.
        assert_eq!(jsonp_send(b"d", FORM), Err(PayloadError::Empty));
        assert_eq!(jsonp_send(b"d&d=%5B%5D", FORM), Err(PayloadError::Empty));
        assert_eq!(
            jsonp_send(b"dd=%5B%5D&D=%5B%5D", FORM),
            Err(PayloadError::Empty)
        );
        assert_eq!(jsonp_send(b"&&", FORM), Err(PayloadError::Empty));
        // A field that is not `d` is never decoded, so it cannot break.
        assert_eq!(jsonp_send(b"p=%zz&d=%5B%5D", FORM), ok(&[]));
        assert_eq!(jsonp_send(b"d=+", FORM), Err(PayloadError::Broken));
        assert_eq!(jsonp_send(b"d=%FF", FORM), Err(PayloadError::Broken));
    }

    #[test]
    fn jsonp_send_bad_percent_escapes_stay_as_they_are() {
        // A `%` without two hex digits after it is a literal `%`, as
        // sockjs-node's `querystring` reads it: here the JSON around it is
        // then broken...
        for body in [
            b"d=%".as_slice(),
            b"d=%5",
            b"d=%5G",
            b"d=%G5",
            b"d=%%",
            b"d=%5B%2",
        ] {
            let payload = jsonp_send_body(body, FORM).expect("a non-empty d");
            assert!(payload.contains(&b'%'), "{payload:?}");
            assert_eq!(
                jsonp_send(body, FORM),
                Err(PayloadError::Broken),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // ...and here it is part of a message.
        assert_eq!(jsonp_send(b"d=%5B%22%zz%22%5D", FORM), ok(&["%zz"]));
        assert_eq!(jsonp_send(br#"d=["100%"]"#, FORM), ok(&["100%"]));
        assert_eq!(jsonp_send(b"d=%5B%22%4%41%22%5D", FORM), ok(&["%4A"]));
    }

    #[test]
    fn jsonp_send_content_types() {
        let form = b"d=%5B%22x%22%5D";
        for ct in [
            "application/x-www-form-urlencoded",
            "Application/X-WWW-Form-Urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "application/x-www-form-urlencoded;charset=utf-8",
            " application/x-www-form-urlencoded ; charset=UTF-8",
        ] {
            assert_eq!(jsonp_send(form, Some(ct)), ok(&["x"]), "{ct}");
        }
        let raw = br#"["x"]"#;
        for ct in [
            None,
            Some(""),
            Some("text/plain"),
            Some("application/json"),
            Some("T"),
            Some("application/x-www-form-urlencodedx"),
            Some("multipart/form-data; boundary=x"),
        ] {
            assert_eq!(jsonp_send(raw, ct), ok(&["x"]), "{ct:?}");
            assert_eq!(jsonp_send(b"", ct), Err(PayloadError::Empty), "{ct:?}");
            assert_eq!(jsonp_send(form, ct), Err(PayloadError::Broken), "{ct:?}");
        }
    }

    #[test]
    fn jsonp_send_body_borrows_unless_decoding_changes_it() {
        assert!(matches!(
            jsonp_send_body(br#"["x"]"#, None),
            Ok(Cow::Borrowed(br#"["x"]"#))
        ));
        assert!(matches!(
            jsonp_send_body(br#"a=b&d=["x"]"#, FORM),
            Ok(Cow::Borrowed(br#"["x"]"#))
        ));
        assert!(matches!(
            jsonp_send_body(b"d=%5B%5D", FORM),
            Ok(Cow::Owned(v)) if v == b"[]"
        ));
    }

    #[test]
    fn long_payloads_parse_without_recursion() {
        let n = 100_000;
        let body = format!("[{}\"\"]", "\"a\",".repeat(n));
        let messages = parse_messages(body.as_bytes()).unwrap();
        assert_eq!(messages.len(), n + 1);
        let deep = "[".repeat(n);
        assert_eq!(parse_messages(deep.as_bytes()), Err(PayloadError::Broken));
        let escapes = format!("[\"{}\"]", r"\ud83d".repeat(n));
        assert_eq!(
            parse_messages(escapes.as_bytes()),
            Ok(vec!["\u{fffd}".repeat(n)])
        );
    }

    fn json_array(messages: &[String]) -> String {
        let mut out = String::from("[");
        for (i, m) in messages.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            escape_json_string(m, &mut out);
        }
        out.push(']');
        out
    }

    /// How one character of a message is written in a hand-rolled, valid
    /// but unusual JSON encoding.
    #[derive(Debug, Clone, Copy)]
    enum Spelling {
        /// Raw if JSON allows it, else as `Short`.
        Raw,
        /// `\n`, `\/` and the like where they exist, else as `Unicode`.
        Short,
        /// `\uXXXX`, a surrogate pair beyond the BMP.
        Unicode { upper: bool },
    }

    fn spell(c: char, spelling: Spelling, out: &mut String) {
        let short = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '/' => Some("\\/"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            _ => None,
        };
        let raw_ok = c >= ' ' && c != '"' && c != '\\';
        match (spelling, short) {
            (Spelling::Raw, _) if raw_ok => out.push(c),
            (Spelling::Raw | Spelling::Short, Some(short)) => out.push_str(short),
            (Spelling::Raw | Spelling::Short, None) => {
                spell(c, Spelling::Unicode { upper: false }, out);
            }
            (Spelling::Unicode { upper }, _) => {
                let mut buf = [0u16; 2];
                for &unit in c.encode_utf16(&mut buf).iter() {
                    if upper {
                        write!(out, "\\u{unit:04X}").unwrap();
                    } else {
                        write!(out, "\\u{unit:04x}").unwrap();
                    }
                }
            }
        }
    }

    fn spelled(messages: &[(String, Vec<Spelling>)], ws: &str) -> String {
        let mut out = format!("{ws}[{ws}");
        for (i, (m, spellings)) in messages.iter().enumerate() {
            if i > 0 {
                write!(out, "{ws},{ws}").unwrap();
            }
            out.push('"');
            for (j, c) in m.chars().enumerate() {
                let spelling = spellings.get(j).copied().unwrap_or(Spelling::Raw);
                spell(c, spelling, &mut out);
            }
            out.push('"');
        }
        write!(out, "{ws}]{ws}").unwrap();
        out
    }

    fn spelling() -> impl Strategy<Value = Spelling> {
        prop_oneof![
            Just(Spelling::Raw),
            Just(Spelling::Short),
            any::<bool>().prop_map(|upper| Spelling::Unicode { upper }),
        ]
    }

    fn message_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[\\x00-\\x1f\"\\\\/a\u{e9}\u{200c}\u{2028}\u{ffff}\u{1f600}]{0,12}",
        ]
    }

    /// Byte strings built from JSON-ish fragments, to reach deep into the
    /// parser more often than uniform random bytes do.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let fragments: Vec<&'static [u8]> = vec![
            b"[",
            b"]",
            b",",
            b"\"",
            b"\\",
            b"\\u",
            b"d83d",
            b"de00",
            b"\\ud83d",
            b"\\ude00",
            b"00e9",
            b"zz",
            b" ",
            b"\n",
            b"a",
            b"\0",
            b"\xff",
            b"\xe2\x82",
            b"\xac",
            b"n",
            b"%",
            b"%5B",
            b"d=",
            b"&",
            b"+",
        ];
        prop::collection::vec(prop::sample::select(fragments), 0..32)
            .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn escaped_messages_parse_back(messages in prop::collection::vec(any::<String>(), 0..8)) {
            let body = json_array(&messages);
            prop_assert_eq!(parse_messages(body.as_bytes()), Ok(messages.clone()));
            prop_assert_eq!(parse_ws_messages(&body), Ok(messages));
        }

        #[test]
        fn any_valid_spelling_parses_back(
            messages in prop::collection::vec(
                (message_text(), prop::collection::vec(spelling(), 0..16)),
                0..6,
            ),
            ws in "[ \t\r\n]{0,2}",
        ) {
            let body = spelled(&messages, &ws);
            let expected: Vec<String> = messages.into_iter().map(|(m, _)| m).collect();
            prop_assert_eq!(parse_messages(body.as_bytes()), Ok(expected));
        }

        #[test]
        fn single_strings_parse_back_on_websocket(s in any::<String>()) {
            let mut text = String::new();
            escape_json_string(&s, &mut text);
            prop_assert_eq!(parse_ws_messages(&text), Ok(vec![s]));
            prop_assert_eq!(parse_messages(text.as_bytes()), Err(PayloadError::Broken));
        }

        #[test]
        fn form_encoded_payloads_unwrap(messages in prop::collection::vec(any::<String>(), 0..4)) {
            let json = json_array(&messages);
            let mut form = String::from("x=1&d=");
            for b in json.bytes() {
                if b.is_ascii_alphanumeric() {
                    form.push(char::from(b));
                } else if b == b' ' {
                    form.push('+');
                } else {
                    write!(form, "%{b:02X}").unwrap();
                }
            }
            prop_assert_eq!(jsonp_send(form.as_bytes(), FORM), Ok(messages));
        }

        #[test]
        fn never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse_messages(&body);
            let _ = parse_ws_messages(&String::from_utf8_lossy(&body));
            let _ = jsonp_send(&body, FORM);
            let _ = jsonp_send(&body, None);
        }

        #[test]
        fn never_panics_on_jsonish_bytes(body in jsonish()) {
            let result = parse_messages(&body);
            if body.is_empty() {
                prop_assert_eq!(result, Err(PayloadError::Empty));
            }
            if let Ok(text) = std::str::from_utf8(&body) {
                let ws = parse_ws_messages(text);
                // Whatever the websocket accepts as an array, xhr_send does too.
                if text.trim_start_matches([' ', '\t', '\r', '\n']).starts_with('[') {
                    prop_assert_eq!(ws, parse_messages(&body));
                }
            }
            let _ = jsonp_send(&body, FORM);
        }
    }
}
