//! A text message escaped once, for a broadcast to many sessions.

use ws_proto::{QueueItem, Utf8Bytes};

use crate::frame::escape_json_string;

/// A text message with its JSON string (quotes included, escaped by
/// [`escape_json_string`]), made once and shared by every session it is
/// sent to.
///
/// [`Server::send_prepared`](crate::Server::send_prepared) puts a
/// reference to it in a session's message cache, where
/// [`Server::send`](crate::Server::send) would copy the text, and the
/// session's next frame copies the escaped string into its `a[...]`
/// instead of escaping the text again: for a message sent to `n`
/// sessions, the escaping runs once instead of `n` times. The raw
/// `/websocket` transport sends the text itself, shared as well.
///
/// Cloning is cheap (two reference counts). In a session's cache it counts
/// the text's length, as the same message given to `send` does, so the
/// limits (`send_buffer_size_limit`, `httpMessageCacheSize`) are the same
/// whichever way a message came.
///
/// ```
/// use sockjs_proto::PreparedText;
///
/// let prepared = PreparedText::new("say \"hi\"\n");
/// assert_eq!(prepared.text(), "say \"hi\"\n");
/// assert_eq!(prepared.json(), r#""say \"hi\"\n""#);
/// assert_eq!(prepared.len(), 9);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreparedText {
    text: Utf8Bytes,
    json: Utf8Bytes,
}

impl PreparedText {
    /// Escapes `text` once.
    pub fn new(text: impl Into<Utf8Bytes>) -> Self {
        let text = text.into();
        let mut json = String::with_capacity(text.len() + 2);
        escape_json_string(&text, &mut json);
        Self {
            text,
            json: json.into(),
        }
    }

    /// The text.
    pub fn text(&self) -> &Utf8Bytes {
        &self.text
    }

    /// The text as a JSON string literal, quotes included, as it goes
    /// into an `a[...]` frame.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The text's length in bytes (what the session's limits count).
    pub fn len(&self) -> usize {
        self.text.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// A message waiting in a session's cache: the application's text, or a
/// prepared one shared with other sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pending {
    Text(Utf8Bytes),
    Prepared(PreparedText),
}

impl Pending {
    /// Appends the message as a JSON string.
    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Self::Text(text) => escape_json_string(text.as_str(), out),
            Self::Prepared(prepared) => out.push_str(prepared.json()),
        }
    }

    /// The message as a WebSocket message (the raw transport): no copy.
    pub(crate) fn into_message(self) -> ws_proto::Message {
        match self {
            Self::Text(text) => ws_proto::Message::Text(text),
            Self::Prepared(prepared) => ws_proto::Message::Text(prepared.text),
        }
    }
}

impl QueueItem for Pending {
    fn queued_size(&self) -> usize {
        match self {
            Self::Text(text) => text.len(),
            Self::Prepared(prepared) => prepared.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::encode_messages;

    #[test]
    fn the_json_is_what_a_message_frame_holds() {
        for text in [
            "",
            "plain",
            "a\u{200c}b\n\u{1f600}",
            "\"\\\u{0}\u{7f}",
            "</script>",
        ] {
            let prepared = PreparedText::new(text);
            let mut frame = String::new();
            encode_messages([text], &mut frame);
            assert_eq!(format!("a[{}]", prepared.json()), frame, "{text:?}");
            assert_eq!(prepared.text(), text);
            assert_eq!(prepared.len(), text.len());
            assert_eq!(prepared.is_empty(), text.is_empty());
        }
    }

    #[test]
    fn both_kinds_count_the_text_and_write_the_same_json() {
        let text = "h\u{e9}\u{2028}";
        let plain = Pending::Text(text.into());
        let prepared = Pending::Prepared(PreparedText::new(text));
        assert_eq!(plain.queued_size(), 6);
        assert_eq!(prepared.queued_size(), 6);
        let (mut a, mut b) = (String::new(), String::new());
        plain.write_json(&mut a);
        prepared.write_json(&mut b);
        assert_eq!(a, b);
        assert_eq!(plain.into_message(), prepared.into_message());
    }

    #[test]
    fn clones_share_the_text_and_the_json() {
        let prepared = PreparedText::new("x".repeat(100));
        let clone = prepared.clone();
        assert_eq!(clone.text().as_ptr(), prepared.text().as_ptr());
        assert_eq!(clone.json().as_ptr(), prepared.json().as_ptr());
    }
}
