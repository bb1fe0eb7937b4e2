//! The two transports on the wire: the request that opens a session, the
//! bytes the client must read (the open, a heartbeat).

use std::fmt::Write as _;

/// The `h`s of the xhr-streaming prelude (a newline ends it).
const PRELUDE: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    WebSocket,
    XhrStreaming,
}

impl Transport {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::WebSocket => "websocket",
            Self::XhrStreaming => "xhr-streaming",
        }
    }

    /// The request that opens session `i` (an 8-character id, as
    /// sockjs-client makes them), into `out`.
    pub(crate) fn request(self, i: usize, out: &mut String) {
        out.clear();
        let written = match self {
            Self::WebSocket => write!(
                out,
                "GET /echo/000/{i:08}/websocket HTTP/1.1\r\nHost: localhost\r\n\
                 Upgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
                 Sec-WebSocket-Version: 13\r\n\r\n"
            ),
            Self::XhrStreaming => write!(
                out,
                "POST /echo/000/{i:08}/xhr_streaming HTTP/1.1\r\nHost: localhost\r\n\
                 Content-Length: 0\r\n\r\n"
            ),
        };
        written.expect("a String takes any write");
    }

    /// A heartbeat as the client reads it: a WebSocket text frame (final,
    /// unmasked, one byte) `h`; the chunk `h\n` of the chunked stream.
    pub(crate) fn heartbeat(self) -> &'static [u8] {
        match self {
            Self::WebSocket => &[0x81, 0x01, b'h'],
            Self::XhrStreaming => b"2\r\nh\n\r\n",
        }
    }

    /// Checks what the client read when its session opened (`body` is
    /// scratch space).
    pub(crate) fn check_open(self, bytes: &[u8], body: &mut Vec<u8>) -> Result<(), String> {
        let end = find(bytes, b"\r\n\r\n").ok_or("no complete response head")? + 4;
        let head = std::str::from_utf8(&bytes[..end]).map_err(|_| "a head not in ASCII")?;
        let rest = &bytes[end..];
        let status = head.split("\r\n").next().unwrap_or_default();
        match self {
            Self::WebSocket => {
                if !status.starts_with("HTTP/1.1 101 ") {
                    return Err(format!("status line {status:?}, expected 101"));
                }
                if rest != [0x81, 0x01, b'o'] {
                    return Err(format!("{rest:?} after the 101, expected the `o` frame"));
                }
            }
            Self::XhrStreaming => {
                if !status.starts_with("HTTP/1.1 200 ") {
                    return Err(format!("status line {status:?}, expected 200"));
                }
                let chunked = head.split("\r\n").any(|line| {
                    line.split_once(':').is_some_and(|(name, value)| {
                        name.trim().eq_ignore_ascii_case("transfer-encoding")
                            && value.trim().eq_ignore_ascii_case("chunked")
                    })
                });
                if !chunked {
                    return Err("the stream is not chunked".to_owned());
                }
                dechunk(rest, body)?;
                let prelude = body.len() == PRELUDE + 3
                    && body[..PRELUDE].iter().all(|&b| b == b'h')
                    && &body[PRELUDE..] == b"\no\n";
                if !prelude {
                    return Err(format!(
                        "a stream body of {} bytes, expected the prelude and `o`",
                        body.len()
                    ));
                }
            }
        }
        Ok(())
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Decodes whole chunks of a chunked body into `out`.
fn dechunk(mut bytes: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    while !bytes.is_empty() {
        let line = find(bytes, b"\r\n").ok_or("a chunk without its size line")?;
        let size = std::str::from_utf8(&bytes[..line])
            .ok()
            .and_then(|s| usize::from_str_radix(s, 16).ok())
            .ok_or("a chunk size not in hex")?;
        let data = bytes
            .get(line + 2..line + 2 + size)
            .ok_or("a truncated chunk")?;
        if bytes.get(line + 2 + size..line + 4 + size) != Some(b"\r\n") {
            return Err("a chunk without its CRLF".to_owned());
        }
        out.extend_from_slice(data);
        bytes = &bytes[line + 4 + size..];
    }
    Ok(())
}
