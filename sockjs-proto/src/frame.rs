//! SockJS frames, server to client.
//!
//! | frame | meaning | built with |
//! | --- | --- | --- |
//! | `o` | session open | [`OPEN`] |
//! | `h` | heartbeat | [`HEARTBEAT`] |
//! | `a["m1","m2"]` | messages | [`encode_messages`] |
//! | `c[3000,"Go away!"]` | close | [`encode_close`] |
//!
//! Frames are compared byte for byte by the protocol tests, so strings are
//! escaped exactly as the reference server (sockjs-node) escapes them: it
//! runs `JSON.stringify` and then replaces every UTF-16 code unit still
//! raw in `[\x00-\x1f\u200c-\u200f\u2028-\u202f\u2060-\u206f\ufff0-\uffff\ud800-\udfff]`
//! with `\uXXXX` (lowercase hex). See [`escape_json_string`].
//!
//! The htmlfile and jsonp transports carry each frame inside a JavaScript
//! string literal: [`encode_js_string`] (jsonp) and
//! [`encode_html_js_string`] (htmlfile, safe inside an HTML `<script>`
//! element).
//!
//! Every encoder appends to a caller-owned `String`, so a transport can reuse
//! one buffer and write its own framing (`<frame>\n`,
//! `data: <frame>\r\n\r\n`) around the frame without copying.

use ws_proto::CloseCode;

/// The open frame, sent once when a session is created.
pub const OPEN: &str = "o";

/// The heartbeat frame, sent when no other frame was written for a while.
pub const HEARTBEAT: &str = "h";

/// Appends `s` as a JSON string literal, quotes included, escaped exactly as
/// sockjs-node escapes messages and close reasons.
///
/// - `"` and `\` become `\"` and `\\`;
/// - U+0008, U+000C, `\n`, `\r` and `\t` become `\b`, `\f`, `\n`, `\r`, `\t`,
///   and the other characters below U+0020 become `\u00XX` (this is
///   `JSON.stringify`'s output, which sockjs-node keeps);
/// - U+200C–U+200F, U+2028–U+202F, U+2060–U+206F and U+FFF0–U+FFFF become
///   `\uXXXX`, four lowercase hex digits;
/// - a character outside the Basic Multilingual Plane is a surrogate pair in
///   UTF-16, and each surrogate is in the escaped range, so U+1F600 becomes
///   `\ud83d\ude00`;
/// - everything else, including U+007F–U+009F, U+00AD and U+FEFF, is written
///   raw, as UTF-8.
///
/// Runs of characters that need no escaping are copied in one go, eight
/// ASCII bytes at a time.
///
/// ```text
/// "a\u200cb\n😀"  →  "a\u200cb\n\ud83d\ude00"
/// ```
pub fn escape_json_string(s: &str, out: &mut String) {
    escape(s, out, Flavor::SockJs);
}

/// Appends a message frame: `a[` then every message escaped with
/// [`escape_json_string`], separated by `,`, then `]`.
///
/// No messages give `a[]`.
pub fn encode_messages<'a>(messages: impl IntoIterator<Item = &'a str>, out: &mut String) {
    out.push('a');
    encode_payload(messages, out);
}

/// Appends a client payload, what `xhr_send` and the websocket transport
/// take: `[` then every message escaped with [`escape_json_string`],
/// separated by `,`, then `]` (the message frame without its `a`).
pub fn encode_payload<'a>(messages: impl IntoIterator<Item = &'a str>, out: &mut String) {
    out.push('[');
    let mut first = true;
    for message in messages {
        if !first {
            out.push(',');
        }
        first = false;
        escape_json_string(message, out);
    }
    out.push(']');
}

/// Appends a close frame: `c[<code>,<reason>]`, the reason escaped with
/// [`escape_json_string`], e.g. `c[3000,"Go away!"]`.
pub fn encode_close(code: CloseCode, reason: &str, out: &mut String) {
    out.push_str("c[");
    push_decimal(code.0, out);
    out.push(',');
    escape_json_string(reason, out);
    out.push(']');
}

/// Appends `frame` as a JSON string literal, quotes included, exactly as
/// sockjs-node's `JSON.stringify(frame)` does for the jsonp
/// (`callback("…")`) and htmlfile (`p("…")`) transports.
///
/// Only `"`, `\` and the characters below U+0020 are escaped (with the short
/// forms `\b \f \n \r \t` where they exist, else `\u00XX`); everything else
/// is written raw. A frame built by this module has already escaped
/// U+2028/U+2029 and the other characters that browsers mangle; the
/// backslashes of those escapes are escaped again:
///
/// ```text
/// a["x"]                →  "a[\"x\"]"
/// c[3000,"Go away!"]    →  "c[3000,\"Go away!\"]"
/// a["\u200c"]           →  "a[\"\\u200c\"]"
/// ```
pub fn encode_js_string(frame: &str, out: &mut String) {
    escape(frame, out, Flavor::Json);
}

/// Like [`encode_js_string`], and also escapes `<`, `>`, `&`, U+2028 and
/// U+2029 as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`: the result is
/// safe inside an HTML `<script>` element, as the htmlfile transport writes
/// it.
///
/// sockjs-node writes `JSON.stringify(frame)` there, so a message containing
/// `</script>` ends the script element early and the rest of the message is
/// parsed as HTML in the server's origin. The escapes decode to the same
/// string in the browser, so the client receives the same frame; only the
/// bytes on the wire differ from sockjs-node's, and only for frames that
/// contain these characters (none of the protocol tests' frames do).
pub fn encode_html_js_string(frame: &str, out: &mut String) {
    escape(frame, out, Flavor::Html);
}

/// Which characters an escaper replaces.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Flavor {
    /// `JSON.stringify` then SockJS's extra set: messages and close reasons.
    SockJs,
    /// `JSON.stringify` alone: a frame inside a JavaScript string.
    Json,
    /// `JSON.stringify`, then `<`, `>`, `&`, U+2028, U+2029.
    Html,
}

/// Byte classes for the escaper's lookup tables.
const PLAIN: u8 = 0;
/// An ASCII byte that is escaped.
const ESCAPE: u8 = 1;
/// The first byte of a multi-byte character that may need escaping.
const CHECK: u8 = 2;

const fn byte_classes(flavor: Flavor) -> [u8; 256] {
    let mut table = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = ESCAPE;
        b += 1;
    }
    table[b'"' as usize] = ESCAPE;
    table[b'\\' as usize] = ESCAPE;
    match flavor {
        Flavor::SockJs => {
            // U+2000-U+2FFF, U+F000-U+FFFF, and everything beyond the BMP.
            table[0xE2] = CHECK;
            table[0xEF] = CHECK;
            let mut lead = 0xF0;
            while lead <= 0xF4 {
                table[lead] = CHECK;
                lead += 1;
            }
        }
        Flavor::Json => {}
        Flavor::Html => {
            table[b'<' as usize] = ESCAPE;
            table[b'>' as usize] = ESCAPE;
            table[b'&' as usize] = ESCAPE;
            // U+2028 and U+2029.
            table[0xE2] = CHECK;
        }
    }
    table
}

static SOCKJS_CLASSES: [u8; 256] = byte_classes(Flavor::SockJs);
static JSON_CLASSES: [u8; 256] = byte_classes(Flavor::Json);
static HTML_CLASSES: [u8; 256] = byte_classes(Flavor::Html);

impl Flavor {
    fn classes(self) -> &'static [u8; 256] {
        match self {
            Flavor::SockJs => &SOCKJS_CLASSES,
            Flavor::Json => &JSON_CLASSES,
            Flavor::Html => &HTML_CLASSES,
        }
    }

    /// Whether a non-ASCII character is escaped (as UTF-16 `\uXXXX` units).
    fn escapes(self, c: char) -> bool {
        match self {
            Flavor::SockJs => matches!(
                c,
                '\u{200c}'..='\u{200f}'
                    | '\u{2028}'..='\u{202f}'
                    | '\u{2060}'..='\u{206f}'
                    | '\u{fff0}'..='\u{10ffff}'
            ),
            Flavor::Json => false,
            Flavor::Html => matches!(c, '\u{2028}' | '\u{2029}'),
        }
    }
}

fn escape(s: &str, out: &mut String, flavor: Flavor) {
    let bytes = s.as_bytes();
    let classes = flavor.classes();
    out.reserve(s.len() + 2);
    out.push('"');
    // `start..i` is a run of plain input not copied yet; both are always
    // on character boundaries.
    let mut start = 0;
    let mut i = 0;
    loop {
        i = plain_run_end(bytes, i, classes, flavor == Flavor::Html);
        let Some(&b) = bytes.get(i) else { break };
        if classes[usize::from(b)] == ESCAPE {
            out.push_str(&s[start..i]);
            push_ascii_escape(b, out);
            i += 1;
            start = i;
        } else {
            // CHECK: `i` is the first byte of a multi-byte character.
            let Some(c) = s[i..].chars().next() else {
                break;
            };
            if flavor.escapes(c) {
                out.push_str(&s[start..i]);
                let mut units = [0; 2];
                for &unit in c.encode_utf16(&mut units).iter() {
                    push_unicode_escape(unit, out);
                }
                start = i + c.len_utf8();
            }
            i += c.len_utf8();
        }
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// The index of the first byte at or after `i` that is not [`PLAIN`], or
/// `bytes.len()`.
fn plain_run_end(bytes: &[u8], mut i: usize, classes: &[u8; 256], html: bool) -> usize {
    loop {
        // Eight ASCII bytes at a time while none of them is special.
        while let Some(word) = bytes
            .get(i..i + 8)
            .and_then(|chunk| <[u8; 8]>::try_from(chunk).ok())
        {
            if needs_attention(u64::from_le_bytes(word), html) {
                break;
            }
            i += 8;
        }
        // Then byte by byte, at most eight, before trying words again.
        let end = bytes.len().min(i + 8);
        while i < end {
            if classes[usize::from(bytes[i])] != PLAIN {
                return i;
            }
            i += 1;
        }
        if i == bytes.len() {
            return i;
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any byte of `word` is zero (exact as a yes/no answer).
const fn has_zero_byte(word: u64) -> bool {
    word.wrapping_sub(ONES) & !word & HIGHS != 0
}

/// Whether any byte of `word` equals `byte`.
const fn has_byte(word: u64, byte: u8) -> bool {
    has_zero_byte(word ^ (ONES * byte as u64))
}

/// Whether `word` holds a byte that the byte loop must look at: a non-ASCII
/// byte, a control character, `"`, `\`, or (for HTML) `<`, `>`, `&`.
const fn needs_attention(word: u64, html: bool) -> bool {
    let non_ascii = word & HIGHS != 0;
    // Some byte below 0x20: exact for a yes/no answer since 0x20 <= 0x80.
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0;
    non_ascii
        || control
        || has_byte(word, b'"')
        || has_byte(word, b'\\')
        || (html && (has_byte(word, b'<') || has_byte(word, b'>') || has_byte(word, b'&')))
}

/// `JSON.stringify`'s escape of an ASCII byte.
fn push_ascii_escape(b: u8, out: &mut String) {
    match b {
        b'"' => out.push_str("\\\""),
        b'\\' => out.push_str("\\\\"),
        0x08 => out.push_str("\\b"),
        0x0C => out.push_str("\\f"),
        b'\n' => out.push_str("\\n"),
        b'\r' => out.push_str("\\r"),
        b'\t' => out.push_str("\\t"),
        _ => push_unicode_escape(u16::from(b), out),
    }
}

/// `\uXXXX` with four lowercase hex digits.
fn push_unicode_escape(unit: u16, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 0xF)]));
    }
}

fn push_decimal(n: u16, out: &mut String) {
    let mut digits = [0u8; 5];
    let mut len = 0;
    let mut n = n;
    loop {
        // `n % 10` is below 10, so the cast cannot truncate.
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in digits[..len].iter().rev() {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{parse_messages, parse_ws_messages};
    use proptest::prelude::*;
    use std::fmt::Write as _;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        escape_json_string(s, &mut out);
        out
    }

    fn js(frame: &str) -> String {
        let mut out = String::new();
        encode_js_string(frame, &mut out);
        out
    }

    fn html_js(frame: &str) -> String {
        let mut out = String::new();
        encode_html_js_string(frame, &mut out);
        out
    }

    fn messages(ms: &[&str]) -> String {
        let mut out = String::new();
        encode_messages(ms.iter().copied(), &mut out);
        out
    }

    fn close(code: u16, reason: &str) -> String {
        let mut out = String::new();
        encode_close(CloseCode(code), reason, &mut out);
        out
    }

    /// The reference model: `JSON.stringify` over UTF-16 code units, then
    /// one `\uXXXX` per remaining code unit in `extra`, character by
    /// character with no fast path.
    fn model(s: &str, extra: impl Fn(u16) -> bool) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            let mut buf = [0u16; 2];
            for &unit in c.encode_utf16(&mut buf).iter() {
                match unit {
                    0x22 => out.push_str("\\\""),
                    0x5C => out.push_str("\\\\"),
                    0x08 => out.push_str("\\b"),
                    0x0C => out.push_str("\\f"),
                    0x0A => out.push_str("\\n"),
                    0x0D => out.push_str("\\r"),
                    0x09 => out.push_str("\\t"),
                    0x00..=0x1F => write!(out, "\\u{unit:04x}").unwrap(),
                    _ if extra(unit) => write!(out, "\\u{unit:04x}").unwrap(),
                    // A surrogate that is not escaped: only in flavors that
                    // leave non-BMP characters raw; write the character once.
                    0xD800..=0xDBFF => out.push(c),
                    0xDC00..=0xDFFF => {}
                    _ => out.push(char::from_u32(u32::from(unit)).unwrap()),
                }
            }
        }
        out.push('"');
        out
    }

    fn in_sockjs_set(unit: u16) -> bool {
        matches!(
            unit,
            0x0000..=0x001F
                | 0x200C..=0x200F
                | 0x2028..=0x202F
                | 0x2060..=0x206F
                | 0xFFF0..=0xFFFF
                | 0xD800..=0xDFFF
        )
    }

    fn model_sockjs(s: &str) -> String {
        model(s, in_sockjs_set)
    }

    fn model_json(s: &str) -> String {
        model(s, |_| false)
    }

    fn model_html(s: &str) -> String {
        model(s, |u| matches!(u, 0x3C | 0x3E | 0x26 | 0x2028 | 0x2029))
    }

    #[test]
    fn open_and_heartbeat_frames() {
        assert_eq!(OPEN, "o");
        assert_eq!(HEARTBEAT, "h");
    }

    #[test]
    fn message_frames_from_the_protocol() {
        assert_eq!(messages(&["a"]), r#"a["a"]"#);
        assert_eq!(messages(&["x"]), r#"a["x"]"#);
        assert_eq!(messages(&["m1", "m2"]), r#"a["m1","m2"]"#);
        assert_eq!(messages(&["a", "a", "a"]), r#"a["a","a","a"]"#);
        assert_eq!(messages(&["%61bc"]), r#"a["%61bc"]"#);
        assert_eq!(messages(&[]), "a[]");
        assert_eq!(messages(&[""]), r#"a[""]"#);
    }

    #[test]
    fn message_frame_with_control_characters_from_the_eventsource_test() {
        assert_eq!(messages(&["  \0\n\r "]), r#"a["  \u0000\n\r "]"#);
    }

    #[test]
    fn message_frames_append_to_the_buffer() {
        let mut out = String::from("data: ");
        encode_messages(["x"], &mut out);
        out.push_str("\r\n\r\n");
        assert_eq!(out, "data: a[\"x\"]\r\n\r\n");
    }

    #[test]
    fn close_frames_from_the_protocol() {
        assert_eq!(close(3000, "Go away!"), r#"c[3000,"Go away!"]"#);
        assert_eq!(
            close(2010, "Another connection still open"),
            r#"c[2010,"Another connection still open"]"#
        );
        assert_eq!(
            close(1002, "Connection interrupted"),
            r#"c[1002,"Connection interrupted"]"#
        );
    }

    #[test]
    fn close_frame_codes_and_escaped_reasons() {
        assert_eq!(close(0, ""), r#"c[0,""]"#);
        assert_eq!(close(9, "x"), r#"c[9,"x"]"#);
        assert_eq!(close(10, "x"), r#"c[10,"x"]"#);
        assert_eq!(close(u16::MAX, "x"), r#"c[65535,"x"]"#);
        assert_eq!(
            close(4000, "say \"bye\"\n\u{2028}"),
            r#"c[4000,"say \"bye\"\n\u2028"]"#
        );
    }

    #[test]
    fn quotes_and_backslashes() {
        assert_eq!(escaped(r#"""#), r#""\"""#);
        assert_eq!(escaped(r"\"), r#""\\""#);
        assert_eq!(escaped(r#"a\"b"#), r#""a\\\"b""#);
        assert_eq!(escaped(r"\u200c"), r#""\\u200c""#);
        assert_eq!(escaped("/"), r#""/""#);
    }

    #[test]
    fn control_characters_use_json_stringify_forms() {
        assert_eq!(escaped("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(escaped("\0"), r#""\u0000""#);
        assert_eq!(escaped("\u{1}"), r#""\u0001""#);
        assert_eq!(escaped("\u{b}"), r#""\u000b""#);
        assert_eq!(escaped("\u{1b}"), r#""\u001b""#);
        assert_eq!(escaped("\u{1f}"), r#""\u001f""#);
    }

    #[test]
    fn plain_text_is_copied_raw() {
        assert_eq!(escaped(""), r#""""#);
        assert_eq!(escaped("hello world"), r#""hello world""#);
        assert_eq!(escaped("héllo ωορλδ 世界"), "\"héllo ωορλδ 世界\"");
        assert_eq!(escaped("<script>&amp;"), r#""<script>&amp;""#);
    }

    /// One test per row: a character at a boundary of an escaped range, and
    /// its exact output.
    macro_rules! boundaries {
        ($($name:ident: $c:literal => $expected:literal,)*) => {$(
            #[test]
            fn $name() {
                let c: char = $c;
                assert_eq!(escaped(&c.to_string()), $expected, "U+{:04X}", u32::from(c));
                assert_eq!(escaped(&c.to_string()), model_sockjs(&c.to_string()));
            }
        )*};
    }

    boundaries! {
        boundary_u001f_escaped: '\u{1f}' => r#""\u001f""#,
        boundary_u0020_raw: '\u{20}' => r#"" ""#,
        boundary_u007e_raw: '\u{7e}' => r#""~""#,
        boundary_u007f_raw: '\u{7f}' => "\"\u{7f}\"",
        boundary_u0080_raw: '\u{80}' => "\"\u{80}\"",
        boundary_u009f_raw: '\u{9f}' => "\"\u{9f}\"",
        boundary_u00ad_raw: '\u{ad}' => "\"\u{ad}\"",
        boundary_u00ff_raw: '\u{ff}' => "\"\u{ff}\"",
        boundary_u2000_raw: '\u{2000}' => "\"\u{2000}\"",
        boundary_u200b_raw: '\u{200b}' => "\"\u{200b}\"",
        boundary_u200c_escaped: '\u{200c}' => r#""\u200c""#,
        boundary_u200d_escaped: '\u{200d}' => r#""\u200d""#,
        boundary_u200f_escaped: '\u{200f}' => r#""\u200f""#,
        boundary_u2010_raw: '\u{2010}' => "\"\u{2010}\"",
        boundary_u2027_raw: '\u{2027}' => "\"\u{2027}\"",
        boundary_u2028_escaped: '\u{2028}' => r#""\u2028""#,
        boundary_u2029_escaped: '\u{2029}' => r#""\u2029""#,
        boundary_u202f_escaped: '\u{202f}' => r#""\u202f""#,
        boundary_u2030_raw: '\u{2030}' => "\"\u{2030}\"",
        boundary_u205f_raw: '\u{205f}' => "\"\u{205f}\"",
        boundary_u2060_escaped: '\u{2060}' => r#""\u2060""#,
        boundary_u206f_escaped: '\u{206f}' => r#""\u206f""#,
        boundary_u2070_raw: '\u{2070}' => "\"\u{2070}\"",
        boundary_u20ac_raw: '\u{20ac}' => "\"\u{20ac}\"",
        boundary_ud7ff_raw: '\u{d7ff}' => "\"\u{d7ff}\"",
        boundary_ue000_raw: '\u{e000}' => "\"\u{e000}\"",
        boundary_ufeff_raw: '\u{feff}' => "\"\u{feff}\"",
        boundary_uffef_raw: '\u{ffef}' => "\"\u{ffef}\"",
        boundary_ufff0_escaped: '\u{fff0}' => r#""\ufff0""#,
        boundary_ufffd_escaped: '\u{fffd}' => r#""\ufffd""#,
        boundary_uffff_escaped: '\u{ffff}' => r#""\uffff""#,
        boundary_u10000_pair: '\u{10000}' => r#""\ud800\udc00""#,
        boundary_u1f600_pair: '\u{1f600}' => r#""\ud83d\ude00""#,
        boundary_u10ffff_pair: '\u{10ffff}' => r#""\udbff\udfff""#,
    }

    #[test]
    fn non_bmp_characters_become_surrogate_pairs() {
        assert_eq!(escaped("a😀b"), r#""a\ud83d\ude00b""#);
        assert_eq!(escaped("😀😀"), r#""\ud83d\ude00\ud83d\ude00""#);
        assert_eq!(escaped("𝄞"), r#""\ud834\udd1e""#);
    }

    /// sockjs-protocol's `test_xhr_server_encodes`: every character in
    /// 255..65536 that matches the server's escapable set, sent in one
    /// message, comes back as exactly one `\uXXXX` each.
    #[test]
    fn protocol_server_killer_string() {
        let mut input = String::new();
        let mut expected = String::from("\"");
        for cp in 255..65536_u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            if matches!(
                c,
                '\u{0}'..='\u{1f}'
                    | '\u{200c}'..='\u{200f}'
                    | '\u{2028}'..='\u{202f}'
                    | '\u{2060}'..='\u{206f}'
                    | '\u{fff0}'..='\u{ffff}'
            ) {
                input.push(c);
                write!(expected, "\\u{cp:04x}").unwrap();
            }
        }
        expected.push('"');
        assert_eq!(input.chars().count(), 4 + 8 + 16 + 16);
        assert_eq!(escaped(&input), expected);
        let mut frame = String::new();
        encode_messages([input.as_str()], &mut frame);
        assert_eq!(frame, format!("a[{expected}]"));
    }

    #[test]
    fn every_bmp_character_matches_the_model() {
        for cp in 0..=0xFFFF_u32 {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let s = c.to_string();
            assert_eq!(escaped(&s), model_sockjs(&s), "U+{cp:04X}");
            assert_eq!(js(&s), model_json(&s), "U+{cp:04X}");
            assert_eq!(html_js(&s), model_html(&s), "U+{cp:04X}");
        }
    }

    /// A special character at every position of strings around the
    /// eight-byte word boundaries of the fast path.
    #[test]
    fn special_characters_at_every_word_position() {
        let specials = [
            "\"", "\\", "\n", "\0", "\u{1f}", "é", "\u{200c}", "\u{2019}", "\u{ffff}", "😀", "<",
            "&", "\u{7f}",
        ];
        for len in 0..=24 {
            for pos in 0..=len {
                for special in specials {
                    let s = format!("{}{special}{}", "x".repeat(pos), "y".repeat(len - pos));
                    assert_eq!(escaped(&s), model_sockjs(&s), "{s:?}");
                    assert_eq!(js(&s), model_json(&s), "{s:?}");
                    assert_eq!(html_js(&s), model_html(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn js_string_examples_from_the_protocol() {
        assert_eq!(js("o"), r#""o""#);
        assert_eq!(js("h"), r#""h""#);
        assert_eq!(js(r#"a["x"]"#), r#""a[\"x\"]""#);
        assert_eq!(js(r#"a["b"]"#), r#""a[\"b\"]""#);
        assert_eq!(js(r#"a["abc","%61bc"]"#), r#""a[\"abc\",\"%61bc\"]""#);
        assert_eq!(js(r#"c[3000,"Go away!"]"#), r#""c[3000,\"Go away!\"]""#);
        let msg = "x".repeat(4096);
        assert_eq!(js(&format!(r#"a["{msg}"]"#)), format!(r#""a[\"{msg}\"]""#));
    }

    #[test]
    fn js_string_escapes_the_frames_escapes_again() {
        let frame = messages(&["\u{200c}\n😀é\u{2028}"]);
        assert_eq!(frame, r#"a["\u200c\n\ud83d\ude00é\u2028"]"#);
        assert_eq!(js(&frame), r#""a[\"\\u200c\\n\\ud83d\\ude00é\\u2028\"]""#);
    }

    #[test]
    fn js_string_is_json_stringify() {
        assert_eq!(
            js("\u{8}\u{c}\n\r\t\0\u{1f}"),
            r#""\b\f\n\r\t\u0000\u001f""#
        );
        // JSON.stringify leaves these raw; frames built here never hold them.
        assert_eq!(
            js("\u{2028}\u{200c}\u{ffff}😀"),
            "\"\u{2028}\u{200c}\u{ffff}😀\""
        );
        assert_eq!(js("</script>"), r#""</script>""#);
    }

    #[test]
    fn html_js_string_cannot_end_the_script_element() {
        let frame = messages(&["</script><script>alert(1)</script>"]);
        let out = html_js(&frame);
        assert_eq!(
            out,
            r#""a[\"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e\"]""#
        );
        assert!(!out.contains('<'));
        assert_eq!(html_js("a&b\u{2028}\u{2029}"), r#""a\u0026b\u2028\u2029""#);
        assert_eq!(html_js(r#"a["x"]"#), js(r#"a["x"]"#));
        assert_eq!(html_js("o"), r#""o""#);
    }

    fn special_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(vec!['"', '\\', '<', '>', '&', '/']).prop_map(u32::from),
            0x00_u32..0x20,
            0x7F_u32..0xA0,
            0x2000_u32..0x2080,
            0xFFE0_u32..=0xFFFF,
            0xFE00_u32..0xFF00,
            0x1_0000_u32..0x1_0100,
            0x1_F600_u32..0x1_F650,
            0x10_FF00_u32..=0x10_FFFF,
        ]
        .prop_filter_map("not a surrogate", char::from_u32)
    }

    fn tricky_string() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                3 => any::<char>().prop_map(|c| c.to_string()),
                3 => special_char().prop_map(|c| c.to_string()),
                2 => "[a-z ]{1,12}",
            ],
            0..24,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn escaping_matches_the_model(s in tricky_string()) {
            prop_assert_eq!(escaped(&s), model_sockjs(&s));
            prop_assert_eq!(js(&s), model_json(&s));
            prop_assert_eq!(html_js(&s), model_html(&s));
        }

        #[test]
        fn escaping_matches_the_model_for_any_string(s in any::<String>()) {
            prop_assert_eq!(escaped(&s), model_sockjs(&s));
            prop_assert_eq!(js(&s), model_json(&s));
        }

        #[test]
        fn escaped_strings_are_json_that_decodes_back(s in tricky_string()) {
            let out = escaped(&s);
            prop_assert_eq!(parse_ws_messages(&out), Ok(vec![s.clone()]));
            // No character of the escapable set is left raw.
            for c in out.chars() {
                let mut buf = [0u16; 2];
                for &unit in c.encode_utf16(&mut buf).iter() {
                    prop_assert!(!in_sockjs_set(unit), "raw U+{:04X} in {:?}", u32::from(c), out);
                }
            }
        }

        #[test]
        fn message_frames_decode_back(ms in prop::collection::vec(tricky_string(), 0..6)) {
            let frame = messages(&ms.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert!(frame.starts_with('a'));
            prop_assert_eq!(parse_messages(&frame.as_bytes()[1..]), Ok(ms));
        }

        #[test]
        fn close_frames_carry_code_and_reason(code in any::<u16>(), reason in tricky_string()) {
            let frame = close(code, &reason);
            let prefix = format!("c[{code},");
            prop_assert!(frame.starts_with(&prefix));
            prop_assert!(frame.ends_with(']'));
            let reason_json = &frame[prefix.len()..frame.len() - 1];
            prop_assert_eq!(parse_ws_messages(reason_json), Ok(vec![reason]));
        }

        #[test]
        fn js_strings_decode_back_to_the_frame(ms in prop::collection::vec(tricky_string(), 0..4)) {
            let frame = messages(&ms.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(parse_ws_messages(&js(&frame)), Ok(vec![frame.clone()]));
            let html = html_js(&frame);
            prop_assert!(!html.contains(['<', '>', '&']));
            prop_assert_eq!(parse_ws_messages(&html), Ok(vec![frame]));
        }
    }
}
