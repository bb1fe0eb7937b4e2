//! What the client reads: the server's frames (`o`, `h`, `a[…]`, `c[…]`)
//! and the lines that carry them on the HTTP transports.

use bytes::{Buf as _, BytesMut};
use ws_proto::{CloseCode, CloseFrame};

use crate::json::{parse_close, parse_messages};

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerFrame {
    /// `o`: the session is open.
    Open,
    /// `h`: a heartbeat.
    Heartbeat,
    /// `a[…]`: messages, in order.
    Messages(Vec<String>),
    /// `c[code,"reason"]`: the server closed the session.
    Close(CloseFrame),
}

/// A frame, or the bytes that carry frames, the client could not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// An empty frame.
    #[error("an empty frame")]
    Empty,
    /// The frame starts with a letter other than `o`, `h`, `a`, `c`.
    #[error("an unknown frame type {0:?}")]
    UnknownType(char),
    /// `o` or `h` followed by something.
    #[error("{0} frame with a payload")]
    TrailingPayload(char),
    /// The payload of `a` or `c` is not the JSON it must be.
    #[error("a {0} frame whose payload is not valid JSON of its shape")]
    BrokenJson(char),
    /// A binary WebSocket message: SockJS frames are text.
    #[error("a binary WebSocket message")]
    Binary,
    /// The bytes are not UTF-8.
    #[error("a frame that is not UTF-8")]
    NotUtf8,
    /// More than the limit of bytes arrived without the end of a frame.
    #[error("a frame longer than {0} bytes")]
    TooLong(usize),
    /// A response ended in the middle of a frame.
    #[error("the response ended inside a frame")]
    Truncated,
    /// `o` on a session that is already open.
    #[error("a second open frame")]
    SecondOpen,
    /// A frame other than `o` (or `c`) before the session opened.
    #[error("a frame before the open frame")]
    NotOpenYet,
}

impl ServerFrame {
    /// Reads one frame: the text of a WebSocket message, or one line of an
    /// HTTP transport without its `\n`.
    ///
    /// # Errors
    ///
    /// A [`FrameError`] for anything that is not one of the four frames;
    /// lone surrogates in messages and reasons become U+FFFD (see
    /// [`json`](crate::json)).
    pub fn parse(frame: &[u8]) -> Result<Self, FrameError> {
        let (&kind, payload) = frame.split_first().ok_or(FrameError::Empty)?;
        match kind {
            b'o' | b'h' if !payload.is_empty() => {
                Err(FrameError::TrailingPayload(char::from(kind)))
            }
            b'o' => Ok(Self::Open),
            b'h' => Ok(Self::Heartbeat),
            b'a' => parse_messages(payload)
                .map(Self::Messages)
                .map_err(|_| FrameError::BrokenJson('a')),
            b'c' => parse_close(payload)
                .map(|(code, reason)| Self::Close(CloseFrame::new(CloseCode(code), reason)))
                .map_err(|_| FrameError::BrokenJson('c')),
            _ => Err(std::str::from_utf8(frame)
                .ok()
                .and_then(|s| s.chars().next())
                .map_or(FrameError::NotUtf8, FrameError::UnknownType)),
        }
    }
}

/// The longest streaming prelude taken whatever the frame limit.
const MAX_PRELUDE: usize = 4096;

/// Splits a response body into `\n`-terminated lines, holding at most
/// `limit` bytes of a line that has not ended.
///
/// The streaming prelude (a line of `h`s, 2048 of them from this crate's
/// server and sockjs-node) is not a frame: a line of two or more `h`s and
/// nothing else is skipped. It may be longer than `limit`, up to 4096
/// bytes.
#[derive(Debug)]
pub(crate) struct Lines {
    buf: BytesMut,
    /// How much of `buf` holds no `\n`.
    scanned: usize,
    limit: usize,
}

impl Lines {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            buf: BytesMut::new(),
            scanned: 0,
            limit,
        }
    }

    /// Appends body bytes.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next whole line, without its `\n` (and without a `\r` before
    /// it); `Ok(None)` until one is complete.
    pub(crate) fn next_line(&mut self) -> Result<Option<BytesMut>, FrameError> {
        loop {
            let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') else {
                self.scanned = self.buf.len();
                if self.too_long(self.buf.len()) {
                    return Err(FrameError::TooLong(self.limit));
                }
                return Ok(None);
            };
            let end = self.scanned + at;
            self.scanned = 0;
            if self.too_long(end) {
                return Err(FrameError::TooLong(self.limit));
            }
            let mut line = self.buf.split_to(end);
            self.buf.advance(1);
            if line.last() == Some(&b'\r') {
                line.truncate(line.len() - 1);
            }
            let prelude = line.len() > 1 && line.iter().all(|&b| b == b'h');
            if line.is_empty() || prelude {
                continue;
            }
            return Ok(Some(line));
        }
    }

    /// Whether a line of `len` bytes so far is over the limit: a prelude
    /// may be longer, up to [`MAX_PRELUDE`].
    fn too_long(&self, len: usize) -> bool {
        len > self.limit && (len > MAX_PRELUDE || self.buf[..len].iter().any(|&b| b != b'h'))
    }

    /// The body ended: anything after the last `\n` is a cut frame.
    pub(crate) fn finish(&mut self) -> Result<(), FrameError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            self.buf.clear();
            self.scanned = 0;
            Err(FrameError::Truncated)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_frames() {
        assert_eq!(ServerFrame::parse(b"o"), Ok(ServerFrame::Open));
        assert_eq!(ServerFrame::parse(b"h"), Ok(ServerFrame::Heartbeat));
        assert_eq!(
            ServerFrame::parse(br#"a["x","\u00e9\n"]"#),
            Ok(ServerFrame::Messages(vec!["x".into(), "\u{e9}\n".into()]))
        );
        assert_eq!(
            ServerFrame::parse(b"a[]"),
            Ok(ServerFrame::Messages(vec![]))
        );
        assert_eq!(
            ServerFrame::parse(br#"c[3000,"Go away!"]"#),
            Ok(ServerFrame::Close(CloseFrame::new(3000, "Go away!")))
        );
    }

    #[test]
    fn broken_frames() {
        for (frame, error) in [
            (&b""[..], FrameError::Empty),
            (b"x", FrameError::UnknownType('x')),
            ("é".as_bytes(), FrameError::UnknownType('é')),
            (b"\xff", FrameError::NotUtf8),
            (b"oo", FrameError::TrailingPayload('o')),
            (b"h ", FrameError::TrailingPayload('h')),
            (b"a", FrameError::BrokenJson('a')),
            (b"a[1]", FrameError::BrokenJson('a')),
            (br#"a["x"]]"#, FrameError::BrokenJson('a')),
            (b"a[\"\xff\"]", FrameError::BrokenJson('a')),
            (b"c", FrameError::BrokenJson('c')),
            (br#"c["3000","x"]"#, FrameError::BrokenJson('c')),
        ] {
            assert_eq!(ServerFrame::parse(frame), Err(error), "{frame:?}");
        }
    }

    fn lines_of(input: &[&[u8]], limit: usize) -> Result<Vec<Vec<u8>>, FrameError> {
        let mut lines = Lines::new(limit);
        let mut out = Vec::new();
        for piece in input {
            lines.push(piece);
            while let Some(line) = lines.next_line()? {
                out.push(line.to_vec());
            }
        }
        lines.finish()?;
        Ok(out)
    }

    #[test]
    fn lines_however_the_body_is_cut() {
        let body = format!(
            "{}\no\na[\"x\"]\r\nh\n\nc[3000,\"Go away!\"]\n",
            "h".repeat(2048)
        );
        let expected: Vec<Vec<u8>> = vec![
            b"o".to_vec(),
            br#"a["x"]"#.to_vec(),
            b"h".to_vec(),
            br#"c[3000,"Go away!"]"#.to_vec(),
        ];
        for piece in [1, 2, 3, 7, 100, body.len()] {
            let pieces: Vec<&[u8]> = body.as_bytes().chunks(piece).collect();
            assert_eq!(lines_of(&pieces, 4096), Ok(expected.clone()), "{piece}");
        }
    }

    #[test]
    fn a_line_over_the_limit_fails_before_it_ends() {
        assert_eq!(lines_of(&[b"a[\"123456"], 8), Err(FrameError::TooLong(8)));
        assert_eq!(
            lines_of(&[b"a[\"1234\"]\n"], 8),
            Err(FrameError::TooLong(8))
        );
        assert_eq!(
            lines_of(&[b"a[\"12\"]\n"], 8),
            Ok(vec![b"a[\"12\"]".to_vec()])
        );
        // The limit holds however the bytes come.
        let mut lines = Lines::new(8);
        for _ in 0..8 {
            lines.push(b"x");
            assert_eq!(lines.next_line(), Ok(None));
        }
        lines.push(b"x");
        assert_eq!(lines.next_line(), Err(FrameError::TooLong(8)));
    }

    #[test]
    fn the_prelude_passes_a_lower_limit() {
        let body = format!("{}\no\n", "h".repeat(2048));
        assert_eq!(lines_of(&[body.as_bytes()], 8), Ok(vec![b"o".to_vec()]));
        let long = format!("{}\n", "h".repeat(MAX_PRELUDE + 1));
        assert_eq!(lines_of(&[long.as_bytes()], 8), Err(FrameError::TooLong(8)));
        let mixed = format!("{}x\n", "h".repeat(100));
        assert_eq!(
            lines_of(&[mixed.as_bytes()], 8),
            Err(FrameError::TooLong(8))
        );
    }

    #[test]
    fn a_body_cut_inside_a_frame_is_truncated() {
        assert_eq!(lines_of(&[b"o\na[\"x"], 64), Err(FrameError::Truncated));
    }
}
