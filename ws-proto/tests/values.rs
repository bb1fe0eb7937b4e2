//! The public value types on their own: `CloseCode`, `Utf8Bytes` and
//! `Message` (conversions, comparisons, `Display`, `Debug`, lengths).

use bytes::Bytes;
use ws_proto::{CloseCode, Message, MessageKind, Utf8Bytes};

#[test]
fn a_close_code_converts_to_and_from_u16_and_displays_as_its_number() {
    for (code, shown) in [(1000, "1000"), (4999, "4999"), (0, "0"), (65535, "65535")] {
        assert_eq!(u16::from(CloseCode(code)), code);
        assert_eq!(CloseCode::from(code), CloseCode(code));
        assert_eq!(CloseCode(code).to_string(), shown);
    }
    assert_eq!(format!("[{:>6}]", CloseCode::NORMAL), "[  1000]");
}

/// Every constructor, read back through every accessor.
#[test]
fn utf8_bytes_reads_back_as_the_text_it_was_made_from() {
    let table: [(&str, Utf8Bytes); 5] = [
        ("h\u{e9}llo", Utf8Bytes::from("h\u{e9}llo")),
        ("\u{1d11e} x", Utf8Bytes::from(String::from("\u{1d11e} x"))),
        (
            "caf\u{e9}",
            Utf8Bytes::try_from_bytes(Bytes::from_static("caf\u{e9}".as_bytes()))
                .expect("valid UTF-8"),
        ),
        ("a\"b\n", Utf8Bytes::from("a\"b\n")),
        ("", Utf8Bytes::default()),
    ];
    for (text, t) in table {
        assert_eq!(t.as_str(), text);
        assert_eq!(&*t, text, "Deref");
        assert!(t == *text, "PartialEq<str> {text:?}");
        assert!(t == text, "PartialEq<&str> {text:?}");
        assert_eq!(t.to_string(), text, "Display");
        assert_eq!(format!("{t:?}"), format!("{text:?}"), "Debug");
        assert_eq!(t.as_bytes(), text.as_bytes());
        assert_eq!(t.clone().into_bytes(), text.as_bytes());
    }
}

#[test]
fn utf8_bytes_is_unequal_to_other_text() {
    let t = Utf8Bytes::from("abc");
    for other in ["abd", "ab", "abcd", "", "ABC"] {
        assert!(t != *other, "PartialEq<str> {other:?}");
        assert!(t != other, "PartialEq<&str> {other:?}");
    }
}

#[test]
fn invalid_utf8_is_handed_back_unchanged() {
    let bad = Bytes::from_static(b"ab\xffc");
    assert_eq!(Utf8Bytes::try_from_bytes(bad.clone()), Err(bad));
}

#[test]
fn a_message_tells_its_length_kind_and_emptiness() {
    let table = [
        (Message::from(""), 0, MessageKind::Text),
        (Message::from("h\u{e9}"), 3, MessageKind::Text),
        (Message::from(String::from("four")), 4, MessageKind::Text),
        (Message::from(Vec::new()), 0, MessageKind::Binary),
        (Message::from(vec![1, 2, 3, 4, 5]), 5, MessageKind::Binary),
        (
            Message::from(Bytes::from_static(b"x")),
            1,
            MessageKind::Binary,
        ),
    ];
    for (message, len, kind) in table {
        assert_eq!(message.len(), len, "{message:?}");
        assert_eq!(message.as_bytes().len(), len, "{message:?}");
        assert_eq!(message.is_empty(), len == 0, "{message:?}");
        assert_eq!(message.kind(), kind, "{message:?}");
    }
}

/// The kind-specific accessors against each kind: the right one gives the
/// payload (the same bytes, not a copy), the other gives nothing or the
/// message back unchanged.
#[test]
fn a_message_gives_its_payload_to_the_accessors_of_its_kind_only() {
    let text = Utf8Bytes::from("h\u{e9}llo");
    let message = Message::text(text.clone());
    assert_eq!(message, Message::from(text.clone()));
    assert!(message.is_text() && !message.is_binary());
    assert_eq!(message.as_text(), Some("h\u{e9}llo"));
    assert_eq!(message.as_binary(), None);
    assert_eq!(message.clone().into_binary(), Err(message.clone()));
    let back = message.clone().into_text().expect("text");
    assert_eq!(
        back.as_bytes().as_ptr(),
        text.as_bytes().as_ptr(),
        "no copy"
    );
    let all = message.into_bytes();
    assert_eq!(all.as_ptr(), text.as_bytes().as_ptr(), "no copy");

    let payload = Bytes::from(vec![b'h', b'i', 0xff]);
    let message = Message::binary(payload.clone());
    assert!(message.is_binary() && !message.is_text());
    assert_eq!(message.as_text(), None);
    assert_eq!(message.as_binary(), Some(&payload));
    assert_eq!(message.clone().into_text(), Err(message.clone()));
    let back = message.clone().into_binary().expect("binary");
    assert_eq!(back.as_ptr(), payload.as_ptr(), "no copy");
    assert_eq!(message.into_bytes().as_ptr(), payload.as_ptr(), "no copy");

    // Bytes that are UTF-8 in a binary message are still binary.
    let utf8_binary = Message::binary(&b"plain"[..]);
    assert_eq!(utf8_binary.as_text(), None);
    assert_eq!(utf8_binary.as_bytes(), b"plain");
}
