//! Messages and the events a [`Connection`](crate::Connection) reports.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;

use crate::close::CloseFrame;

/// Bytes that are known to be valid UTF-8: the payload of a text message,
/// shared with the input buffer it was decoded from, never copied to become
/// a string.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps `bytes` after checking that they are UTF-8.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Self, Bytes> {
        if crate::utf8::validate(&bytes).is_ok() {
            Ok(Self(bytes))
        } else {
            Err(bytes)
        }
    }

    /// Wraps bytes that the caller has already validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Self {
        debug_assert!(std::str::from_utf8(&bytes).is_ok());
        Self(bytes)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor validates the bytes as UTF-8
        // (`try_from_bytes`, `From<String>`, `From<&str>`), or is
        // `from_validated`, which the connection calls only after its UTF-8
        // validator accepted every byte of the message. `Bytes` is immutable,
        // so the contents cannot change afterwards.
        #[allow(unsafe_code)]
        unsafe {
            std::str::from_utf8_unchecked(&self.0)
        }
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Unwraps the underlying bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl Deref for Utf8Bytes {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Utf8Bytes {
    fn from(s: String) -> Self {
        Self(Bytes::from(s))
    }
}

impl From<&str> for Utf8Bytes {
    fn from(s: &str) -> Self {
        Self(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<&'static str> for Message {
    fn from(s: &'static str) -> Self {
        Message::Text(Utf8Bytes(Bytes::from_static(s.as_bytes())))
    }
}

impl From<String> for Message {
    fn from(s: String) -> Self {
        Message::Text(s.into())
    }
}

impl From<Utf8Bytes> for Message {
    fn from(t: Utf8Bytes) -> Self {
        Message::Text(t)
    }
}

impl From<Vec<u8>> for Message {
    fn from(v: Vec<u8>) -> Self {
        Message::Binary(v.into())
    }
}

impl From<Bytes> for Message {
    fn from(b: Bytes) -> Self {
        Message::Binary(b)
    }
}

impl PartialEq<str> for Utf8Bytes {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Utf8Bytes {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A complete data message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    /// A text message: from a `&str` (copied), a `String` or a
    /// [`Utf8Bytes`] (neither copied).
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert_eq!(Message::text("hello").as_text(), Some("hello"));
    /// ```
    pub fn text(text: impl Into<Utf8Bytes>) -> Self {
        Self::Text(text.into())
    }

    /// A binary message: from a `Vec<u8>` or [`Bytes`] (neither copied), or
    /// a `&'static [u8]`.
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert_eq!(Message::binary(vec![1, 2]).as_bytes(), [1, 2]);
    /// ```
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Self::Binary(bytes.into())
    }

    /// Whether this is a text message.
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert!(Message::from("hi").is_text());
    /// assert!(!Message::from(vec![0xff]).is_text());
    /// ```
    pub fn is_text(&self) -> bool {
        matches!(self, Self::Text(_))
    }

    /// Whether this is a binary message.
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert!(Message::from(vec![0xff]).is_binary());
    /// assert!(!Message::from("hi").is_binary());
    /// ```
    pub fn is_binary(&self) -> bool {
        matches!(self, Self::Binary(_))
    }

    /// The text of a text message; `None` for a binary message, even one
    /// whose bytes happen to be UTF-8 (check those with
    /// [`Utf8Bytes::try_from_bytes`]).
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert_eq!(Message::from("h\u{e9}llo").as_text(), Some("h\u{e9}llo"));
    /// assert_eq!(Message::from(b"hello".to_vec()).as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t.as_str()),
            Self::Binary(_) => None,
        }
    }

    /// The text of a text message, without a copy: the [`Utf8Bytes`] share
    /// the buffer the message was decoded from. A binary message comes back
    /// unchanged as the error, so nothing is lost.
    ///
    /// ```
    /// use ws_proto::{Message, Utf8Bytes};
    ///
    /// let text: Utf8Bytes = Message::from("hello").into_text().unwrap();
    /// assert_eq!(text, "hello");
    ///
    /// let binary = Message::from(vec![1, 2, 3]);
    /// assert_eq!(binary.clone().into_text(), Err(binary));
    /// ```
    pub fn into_text(self) -> Result<Utf8Bytes, Self> {
        match self {
            Self::Text(t) => Ok(t),
            other @ Self::Binary(_) => Err(other),
        }
    }

    /// The payload of a binary message; `None` for a text message (whose
    /// bytes [`as_bytes`](Self::as_bytes) gives).
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert_eq!(Message::from(vec![1, 2]).as_binary().map(|b| &b[..]), Some(&[1, 2][..]));
    /// assert_eq!(Message::from("hi").as_binary(), None);
    /// ```
    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Self::Binary(b) => Some(b),
            Self::Text(_) => None,
        }
    }

    /// The payload of a binary message, without a copy. A text message comes
    /// back unchanged as the error.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use ws_proto::Message;
    ///
    /// let payload = Bytes::from_static(&[0, 255]);
    /// assert_eq!(Message::from(payload.clone()).into_binary(), Ok(payload));
    /// assert_eq!(Message::from("hi").into_binary(), Err(Message::from("hi")));
    /// ```
    pub fn into_binary(self) -> Result<Bytes, Self> {
        match self {
            Self::Binary(b) => Ok(b),
            other @ Self::Text(_) => Err(other),
        }
    }

    /// The payload's bytes, text or binary.
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert_eq!(Message::from("hi").as_bytes(), b"hi");
    /// assert_eq!(Message::from(vec![1, 2]).as_bytes(), [1, 2]);
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Binary(b) => b,
        }
    }

    /// The payload, text or binary, without a copy.
    ///
    /// ```
    /// use ws_proto::Message;
    ///
    /// assert_eq!(Message::from("hi").into_bytes(), &b"hi"[..]);
    /// assert_eq!(Message::from(vec![1, 2]).into_bytes(), &[1, 2][..]);
    /// ```
    pub fn into_bytes(self) -> Bytes {
        match self {
            Self::Text(t) => t.into_bytes(),
            Self::Binary(b) => b,
        }
    }

    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The kind of message.
    pub fn kind(&self) -> MessageKind {
        match self {
            Self::Text(_) => MessageKind::Text,
            Self::Binary(_) => MessageKind::Binary,
        }
    }
}

/// Text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text.
    Text,
    /// Arbitrary bytes.
    Binary,
}

/// One data frame, reported as it arrives in
/// [streaming mode](crate::WebSocketConfig::streaming).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// The kind of the message this fragment belongs to.
    pub kind: MessageKind,
    /// The frame's payload. For text, the bytes seen so far are a valid
    /// UTF-8 prefix, but a character may be cut at either end.
    pub payload: Bytes,
    /// Whether this fragment starts a message.
    pub first: bool,
    /// Whether this fragment ends the message; the text of a message is
    /// known to be complete and valid UTF-8 when its final fragment arrives.
    pub fin: bool,
}

/// What the peer sent, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub enum Event {
    /// A complete message (the default, assembling mode).
    Message(Message),
    /// A data frame (streaming mode).
    Fragment(Fragment),
    /// A ping. With [`WebSocketConfig::auto_pong`](crate::WebSocketConfig)
    /// (the default) the pong is already queued.
    Ping(Bytes),
    /// A pong.
    Pong(Bytes),
    /// The peer's close frame: `None` when it carried no status code. If the
    /// close was the peer's idea, the echo is already queued. Either way the
    /// close handshake is now complete on our side.
    Close(Option<CloseFrame>),
}
