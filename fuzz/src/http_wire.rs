//! Checks a server's byte stream as an HTTP/1.1 client reads it: responses
//! one after another, each a status line and headers that parse, then a
//! body framed as the head says (Content-Length, chunked, or until the
//! connection closes), up to a `101` after which the stream is another
//! protocol's. Used by `server_conns`.

/// What a stream of responses turned out to be.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Wire {
    /// Complete responses, interim (`1xx` but `101`) ones included.
    pub responses: usize,
    /// A `101 Switching Protocols` ended the HTTP part: where the other
    /// protocol's bytes start.
    pub upgraded: Option<usize>,
    /// A response said the connection closes after it.
    pub closed: bool,
    /// Bytes of a response not complete yet.
    pub partial: usize,
}

/// Reads `bytes` as responses to requests none of which is `HEAD`. `Err`
/// names the first thing a client could not read.
pub fn read(all: &[u8]) -> Result<Wire, String> {
    let mut bytes = all;
    let mut wire = Wire::default();
    while !bytes.is_empty() {
        if wire.closed {
            return Err(format!(
                "{} bytes after a response that closes the connection",
                bytes.len()
            ));
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut res = httparse::Response::new(&mut headers);
        let head = match res.parse(bytes) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                wire.partial = bytes.len();
                return Ok(wire);
            }
            Err(e) => return Err(format!("a head that does not parse: {e}")),
        };
        let code = res.code.ok_or("no status")?;
        if res.version != Some(1) && res.version != Some(0) {
            return Err("not HTTP/1.x".into());
        }
        if res.reason.is_none_or(str::is_empty) {
            return Err(format!("status {code} without a reason phrase"));
        }
        let value = |name: &str| {
            res.headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).to_ascii_lowercase())
                .collect::<Vec<_>>()
        };
        for h in res.headers.iter() {
            if h.value.iter().any(|&b| b == b'\r' || b == b'\n') {
                return Err(format!("header {} with CR or LF", h.name));
            }
        }
        let lengths = value("content-length");
        let chunked = value("transfer-encoding")
            .iter()
            .any(|v| v.contains("chunked"));
        let closes = value("connection").iter().any(|v| v.contains("close"));
        if lengths.len() > 1 || (chunked && !lengths.is_empty()) {
            return Err(format!("status {code}: conflicting body framing"));
        }
        let rest = &bytes[head..];
        if code == 101 {
            wire.responses += 1;
            wire.upgraded = Some(all.len() - rest.len());
            return Ok(wire);
        }
        if (100..200).contains(&code) || code == 204 || code == 304 {
            if !lengths.is_empty() && lengths[0] != "0" || chunked {
                return Err(format!("status {code} with a body"));
            }
            wire.responses += 1;
            bytes = rest;
            continue;
        }
        let body = if chunked {
            let Some(n) = chunked_len(rest)? else {
                wire.partial = bytes.len();
                return Ok(wire);
            };
            n
        } else if let Some(length) = lengths.first() {
            let n: usize = length
                .trim()
                .parse()
                .map_err(|_| format!("Content-Length {length:?}"))?;
            if rest.len() < n {
                wire.partial = bytes.len();
                return Ok(wire);
            }
            n
        } else {
            // Until the connection closes: nothing can follow.
            if !closes && res.version == Some(1) {
                return Err(format!(
                    "status {code}: no length, not chunked, and the connection stays"
                ));
            }
            wire.responses += 1;
            wire.closed = true;
            return Ok(wire);
        };
        wire.responses += 1;
        wire.closed = closes;
        bytes = &rest[body..];
    }
    Ok(wire)
}

/// The length of a complete chunked body at the start of `bytes` (its last
/// chunk and empty trailer included); `None` while incomplete.
fn chunked_len(bytes: &[u8]) -> Result<Option<usize>, String> {
    let mut at = 0;
    loop {
        let Some(eol) = find_crlf(&bytes[at..]) else {
            return Ok(None);
        };
        let line = std::str::from_utf8(&bytes[at..at + eol]).map_err(|_| "a chunk size")?;
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("chunk size {line:?}"))?;
        at += eol + 2;
        if size == 0 {
            // The last chunk: an empty trailer.
            return match bytes.get(at..at + 2) {
                None => Ok(None),
                Some(b"\r\n") => Ok(Some(at + 2)),
                Some(_) => Err("a trailer after the last chunk".into()),
            };
        }
        if bytes.len() < at + size + 2 {
            return Ok(None);
        }
        if &bytes[at + size..at + size + 2] != b"\r\n" {
            return Err("a chunk not ended by CRLF".into());
        }
        at += size + 2;
    }
}

fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}
