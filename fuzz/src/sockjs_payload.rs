//! `sockjs_payload`: arbitrary bytes as a client payload, through
//! [`parse_messages`] (an `xhr_send` / `jsonp_send` body),
//! [`parse_ws_messages`] (a websocket message, when the bytes are UTF-8) and
//! [`jsonp_send_body`] (with and without a form content type).
//!
//! Checks:
//!
//! - nothing panics;
//! - accepted messages survive a round trip: `[` + every message escaped by
//!   [`escape_json_string`], `,`-separated, + `]` parses back to the same
//!   messages, with both parsers;
//! - what [`parse_messages`] accepts, [`parse_ws_messages`] accepts too, with
//!   the same messages (an array is a valid websocket message);
//! - `serde_json` as a reference: an input it reads as an array of strings
//!   (it refuses lone surrogates) gives the same messages here; an input
//!   accepted here that holds no escaped surrogate at all is accepted by
//!   `serde_json` too, with the same messages (and a single JSON string for
//!   [`parse_ws_messages`] likewise);
//! - [`jsonp_send_body`] without a form content type gives the body itself
//!   (or `Empty` for an empty one); with one, never an empty payload.

use sockjs_proto::frame::escape_json_string;
use sockjs_proto::json::{jsonp_send_body, parse_messages, parse_ws_messages, PayloadError};

/// Runs one input.
pub fn run(data: &[u8]) {
    let parsed = parse_messages(data);
    if data.is_empty() {
        assert_eq!(parsed, Err(PayloadError::Empty));
    }
    if let Ok(messages) = &parsed {
        round_trip(messages);
        let text = std::str::from_utf8(data).expect("an accepted payload is UTF-8");
        assert_eq!(parse_ws_messages(text).as_ref(), Ok(messages));
    }
    check_against_serde_array(data, &parsed);

    if let Ok(text) = std::str::from_utf8(data) {
        let ws = parse_ws_messages(text);
        if text.is_empty() {
            assert_eq!(ws, Ok(Vec::new()));
        }
        if let Ok(messages) = &ws {
            round_trip(messages);
        }
        if !text.is_empty() && !has_escaped_surrogate(data) {
            let reference = serde_json::from_str::<Vec<String>>(text)
                .or_else(|_| serde_json::from_str::<String>(text).map(|s| vec![s]));
            match (&ws, reference) {
                (Ok(ours), Ok(theirs)) => assert_eq!(ours, &theirs),
                (Err(_), Err(_)) => {}
                (ours, theirs) => {
                    panic!("parse_ws_messages: {ours:?}, serde_json: {theirs:?}")
                }
            }
        }
    }

    match jsonp_send_body(data, None) {
        Ok(body) => assert_eq!(&*body, data),
        Err(e) => {
            assert!(data.is_empty());
            assert_eq!(e, PayloadError::Empty);
        }
    }
    match jsonp_send_body(data, Some("text/plain")) {
        Ok(body) => assert_eq!(&*body, data),
        Err(e) => assert!(data.is_empty() && e == PayloadError::Empty),
    }
    for content_type in [
        "application/x-www-form-urlencoded",
        "Application/X-WWW-Form-Urlencoded ; charset=UTF-8",
    ] {
        if let Ok(payload) = jsonp_send_body(data, Some(content_type)) {
            assert!(!payload.is_empty(), "a form gave an empty payload");
            if let Ok(messages) = parse_messages(&payload) {
                round_trip(&messages);
            }
        }
    }
}

/// `[` + escaped messages + `]`, parsed back by both parsers.
fn round_trip(messages: &[String]) {
    let mut encoded = String::from("[");
    for (i, m) in messages.iter().enumerate() {
        if i > 0 {
            encoded.push(',');
        }
        escape_json_string(m, &mut encoded);
    }
    encoded.push(']');
    assert_eq!(
        parse_messages(encoded.as_bytes()).as_deref(),
        Ok(messages),
        "round trip through {encoded:?}"
    );
    assert_eq!(parse_ws_messages(&encoded).as_deref(), Ok(messages));
    // Every message is also one websocket message on its own.
    for m in messages {
        let mut one = String::new();
        escape_json_string(m, &mut one);
        assert_eq!(parse_ws_messages(&one), Ok(vec![m.clone()]));
    }
}

/// `parse_messages` against `serde_json`'s `Vec<String>`.
fn check_against_serde_array(data: &[u8], parsed: &Result<Vec<String>, PayloadError>) {
    match serde_json::from_slice::<Vec<String>>(data) {
        Ok(theirs) => assert_eq!(parsed.as_ref(), Ok(&theirs), "serde_json accepts"),
        Err(e) => {
            if let Ok(ours) = parsed {
                assert!(
                    has_escaped_surrogate(data),
                    "accepted {ours:?}, serde_json refuses: {e}"
                );
            }
        }
    }
}

/// Whether `data` may hold an escaped UTF-16 surrogate (`\uD800` to
/// `\uDFFF`, either case). Over-approximate: `\\uD800` counts too, which
/// only skips a comparison.
fn has_escaped_surrogate(data: &[u8]) -> bool {
    data.windows(4).any(|w| {
        w[0] == b'\\'
            && w[1] == b'u'
            && w[2].eq_ignore_ascii_case(&b'd')
            && matches!(w[3].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
    })
}
