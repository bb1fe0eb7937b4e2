//! The input of the `sockjs_client` target ([`Setup`] and the [`Op`]s,
//! decoded with `arbitrary`), the client's configuration it gives, and the
//! bytes a SockJS server writes (HTTP chunks, WebSocket frames, SockJS
//! frames, `/info` bodies) that the harness (`sockjs_client.rs`) sends for
//! its ops.
//!
//! `fuzz/make_seeds.py` encodes these types by hand for the hand-made
//! seeds: a change to a type (a field, a variant, their order) must be made
//! there too.

use std::time::Duration;

use arbitrary::Arbitrary;
use sockjs_proto::client::ClientConfig;
use sockjs_proto::frame::escape_json_string;
use sockjs_proto::Transport;

/// A transport the client may try.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub enum TransportChoice {
    /// `websocket`.
    WebSocket,
    /// `xhr_streaming`.
    XhrStreaming,
    /// `xhr` (polling).
    Xhr,
}

impl TransportChoice {
    /// The transport.
    pub fn transport(self) -> Transport {
        match self {
            Self::WebSocket => Transport::WebSocket,
            Self::XhrStreaming => Transport::XhrStreaming,
            Self::Xhr => Transport::Xhr,
        }
    }
}

/// The session's bound on opening.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum ConnectTimeout {
    /// 30 s.
    Default,
    /// No bound.
    Unbounded,
    /// This many milliseconds.
    Ms(u16),
}

/// The client's configuration, and how the harness runs.
#[derive(Debug, Clone, Arbitrary)]
pub struct Setup {
    /// The transports in order, duplicates dropped; none: the default.
    pub transports: Vec<TransportChoice>,
    /// `max_frame_size`: 16 times this, 0 for the default (1 MiB).
    pub max_frame_size: u8,
    /// `max_buffered_messages`: 16 times this, 0 for the default (1 MiB).
    pub max_buffered_messages: u8,
    /// `send_buffer_limit`: 8 times this, 0 for the default (1 MiB).
    pub send_buffer_limit: u8,
    /// `info_timeout` in ms: 0 for the default (8 s).
    pub info_timeout: u16,
    /// `transport_timeout` in ms.
    pub transport_timeout: u16,
    /// `close_timeout` in ms; `None` for the default (5 s).
    pub close_timeout: Option<u16>,
    /// `connect_timeout`.
    pub connect_timeout: ConnectTimeout,
    /// The WebSocket's liveness pings: every `1 + n` ms.
    pub ping_interval: Option<u16>,
    /// The WebSocket's close handshake bound in ms: 0 for the default (5 s).
    pub ws_close_timeout: u16,
    /// `https://h.example/echo?x=1` instead of `http://127.0.0.1:8081/echo`.
    pub tls_and_query: bool,
    /// A configured cookie.
    pub cookie: bool,
    /// Connect every connection as soon as it is asked for.
    pub auto_connect: bool,
    /// The most bytes handed to one `receive` (0: as many as it takes).
    pub piece: u8,
}

/// Text for messages and reasons.
#[derive(Debug, Clone, Arbitrary)]
pub enum Text {
    /// One of a few words (escapes, separators, non-ASCII).
    Word(u8),
    /// Arbitrary bytes, read as UTF-8 with replacements.
    Bytes(Vec<u8>),
    /// `len` times the character `ch` picks.
    Repeat {
        /// Which character.
        ch: u8,
        /// How many.
        len: u16,
    },
}

const WORDS: [&str; 12] = [
    "",
    "hello",
    "message 1 \u{e9}\"\\\n",
    "\u{2028}\u{200c}\u{fff0}",
    "\u{0}\u{1f}\u{7f}",
    "a\"]",
    "😀",
    "c[3000,\"x\"]",
    "\r\n",
    "\\ud800",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "h",
];

impl Text {
    /// The text.
    pub fn render(&self) -> String {
        match self {
            Text::Word(i) => WORDS[usize::from(*i) % WORDS.len()].to_owned(),
            Text::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
            Text::Repeat { ch, len } => {
                let ch = ['x', '\n', 'é', '\u{2028}', '"', '😀'][usize::from(*ch) % 6];
                std::iter::repeat_n(ch, usize::from(*len)).collect()
            }
        }
    }
}

/// A SockJS frame the server writes.
#[derive(Debug, Clone, Arbitrary)]
pub enum Frame {
    /// `o`.
    Open,
    /// `h`.
    Heartbeat,
    /// `a[...]`.
    Messages(Vec<Text>),
    /// `a[...]` of the messages the server got and did not echo yet.
    Echo,
    /// `c[code,"reason"]`.
    Close {
        /// The code.
        code: u16,
        /// The reason.
        reason: Text,
    },
    /// `a["xxx..."]`, one message of `len` bytes: past a small frame limit.
    Long {
        /// The message's length.
        len: u16,
    },
    /// These bytes as a frame.
    Raw(Vec<u8>),
}

/// The body of an `/info` answer.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum InfoBody {
    /// JSON, with `Content-Length`.
    Json,
    /// JSON, chunked in two.
    Chunked,
    /// Not JSON.
    NotJson,
    /// A JSON object without `websocket`.
    NoWebSocket,
    /// 17 KiB of JSON: over the client's bound.
    Huge,
}

/// A response status.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Status {
    /// 200.
    Ok,
    /// 204.
    NoContent,
    /// 404.
    NotFound,
    /// 500.
    ServerError,
    /// 101 without an upgrade's headers.
    Switching,
    /// 100, an interim answer.
    Continue,
    /// 302.
    Found,
}

impl Status {
    /// The status line's code and reason.
    pub fn line(self) -> &'static str {
        match self {
            Status::Ok => "200 OK",
            Status::NoContent => "204 No Content",
            Status::NotFound => "404 Not Found",
            Status::ServerError => "500 Internal Server Error",
            Status::Switching => "101 Switching Protocols",
            Status::Continue => "100 Continue",
            Status::Found => "302 Found",
        }
    }
}

/// A WebSocket frame the server writes.
#[derive(Debug, Clone, Arbitrary)]
pub enum WsFrame {
    /// A ping with `len % 126` bytes.
    Ping(u8),
    /// An unsolicited pong.
    Pong,
    /// A close frame with this code and reason (`len % 124` bytes).
    Close {
        /// The code.
        code: u16,
        /// The reason's length.
        len: u8,
    },
    /// A close frame without a code.
    CloseEmpty,
    /// A binary message.
    Binary(Vec<u8>),
    /// A text message of these bytes (perhaps not UTF-8).
    Text(Vec<u8>),
    /// A SockJS frame in two fragments.
    Fragmented(Frame),
    /// A masked frame: servers must not mask.
    Masked,
}

/// What the server writes on a connection.
#[derive(Debug, Clone, Arbitrary)]
pub enum Reply {
    /// The proper answer to the oldest request not answered on the
    /// connection: `/info` (WebSocket on), the 101 and `o`, a streaming
    /// head with the prelude and `o` (or the echo once the session opened),
    /// a poll's `o` (or echo, or `h`), 204 to `xhr_send`; 404 to anything
    /// else.
    Answer,
    /// An `/info` answer.
    Info {
        /// `"websocket"`.
        websocket: bool,
        /// `"cookie_needed"`, and a `Set-Cookie`.
        cookie: bool,
        /// The body.
        body: InfoBody,
    },
    /// A head: a chunked body left open (`chunked`), or no body.
    Head {
        /// The status.
        status: Status,
        /// Open a chunked body.
        chunked: bool,
        /// A `Set-Cookie: JSESSIONID=...`.
        set_cookie: bool,
    },
    /// The streaming prelude (2048 `h` and `\n`) in the open body.
    Prelude,
    /// Frames: as chunks of the open body, as WebSocket text messages after
    /// a 101, or else as a whole 200 response (a poll's answer).
    Frames(Vec<Frame>),
    /// The end of the open body (its last chunk), or after a 101 a close
    /// frame with 1000.
    End,
    /// A WebSocket frame.
    Ws(WsFrame),
}

/// One step.
#[derive(Debug, Clone, Arbitrary)]
pub enum Op {
    /// The connection `conn` (an index into those asked for, modulo their
    /// number) is connected.
    Connected {
        /// Which connection.
        conn: u8,
    },
    /// The connection `conn` failed (`connection_failed`).
    Fail {
        /// Which connection.
        conn: u8,
    },
    /// The server writes these bytes on `conn`.
    Receive {
        /// Which connection.
        conn: u8,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The server writes a well-formed piece on `conn`.
    Reply {
        /// Which connection.
        conn: u8,
        /// What.
        reply: Reply,
    },
    /// The server answers the WebSocket upgrade on `conn` with a 101 and
    /// the accept key of the key the client sent.
    AcceptUpgrade {
        /// Which connection.
        conn: u8,
    },
    /// The server closes `conn` (after the bytes it wrote).
    Eof {
        /// Which connection.
        conn: u8,
    },
    /// Later reads hand over at most `size` bytes (0: no bound).
    Piece {
        /// The size.
        size: u8,
    },
    /// Time moves `ms` on, stopping at every deadline on the way.
    Advance {
        /// How far.
        ms: u16,
    },
    /// Time moves `ms` on at once, past any deadline (a late timer).
    Leap {
        /// How far.
        ms: u16,
    },
    /// Time moves exactly to `poll_timeout()`.
    ToDeadline,
    /// The application sends.
    Send {
        /// The message.
        text: Text,
    },
    /// The application closes (having taken its events).
    Close {
        /// The code.
        code: u16,
        /// The reason.
        reason: Text,
    },
    /// The application takes every event.
    DrainEvents,
}

/// The client's configuration from `setup`.
pub fn config(setup: &Setup) -> ClientConfig {
    let mut transports: Vec<Transport> = Vec::new();
    for t in &setup.transports {
        if !transports.contains(&t.transport()) {
            transports.push(t.transport());
        }
    }
    let ms = |n: u16| Duration::from_millis(u64::from(n));
    let mut config = ClientConfig::default();
    if !transports.is_empty() {
        config = config.transports(transports);
    }
    if setup.max_frame_size > 0 {
        config = config.max_frame_size(16 * usize::from(setup.max_frame_size));
    }
    if setup.max_buffered_messages > 0 {
        config = config.max_buffered_messages(16 * usize::from(setup.max_buffered_messages));
    }
    if setup.send_buffer_limit > 0 {
        config = config.send_buffer_limit(8 * usize::from(setup.send_buffer_limit));
    }
    if setup.info_timeout > 0 {
        config = config.info_timeout(ms(setup.info_timeout));
    }
    config = config.transport_timeout(ms(setup.transport_timeout));
    if let Some(t) = setup.close_timeout {
        config = config.close_timeout(ms(t));
    }
    config = config.connect_timeout(match setup.connect_timeout {
        ConnectTimeout::Default => Some(Duration::from_secs(30)),
        ConnectTimeout::Unbounded => None,
        ConnectTimeout::Ms(t) => Some(ms(t)),
    });
    let mut ws = ws_proto::WebSocketConfig::default();
    if let Some(p) = setup.ping_interval {
        ws = ws
            .ping_interval(ms(p.saturating_add(1)))
            .pong_timeout(ms(p / 2 + 1));
    }
    if setup.ws_close_timeout > 0 {
        ws = ws.close_timeout(ms(setup.ws_close_timeout));
    }
    config = config.websocket(ws);
    if setup.cookie {
        config = config.cookie("pref", "1");
    }
    config
}

/// A server's WebSocket frame (unmasked unless `mask`).
pub fn ws_frame(opcode: u8, fin: bool, payload: &[u8], mask: bool) -> Vec<u8> {
    let mut out = vec![if fin { 0x80 } else { 0 } | opcode];
    let m = if mask { 0x80 } else { 0 };
    let n = payload.len();
    if n < 126 {
        out.push(m | n as u8);
    } else if n < 65536 {
        out.push(m | 0x7e);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(m | 0x7f);
        out.extend_from_slice(&(n as u64).to_be_bytes());
    }
    if mask {
        out.extend_from_slice(&[1, 2, 3, 4]);
        out.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| b ^ [1, 2, 3, 4][i % 4]),
        );
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// One HTTP chunk.
pub fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

pub fn json_string(s: &str) -> String {
    let mut out = String::new();
    escape_json_string(s, &mut out);
    out
}

/// `a[...]` of `messages`.
pub fn messages_frame<'a>(messages: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
    let mut out = String::from("a[");
    for (i, m) in messages.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        escape_json_string(m, &mut out);
    }
    out.push(']');
    out.into_bytes()
}

/// An `/info` response.
pub fn info_response(websocket: bool, cookie: bool, body: InfoBody) -> Vec<u8> {
    let json = format!(
        "{{\"websocket\":{websocket},\"origins\":[\"*:*\"],\"cookie_needed\":{cookie},\"entropy\":12345}}"
    );
    let set_cookie = if cookie {
        "Set-Cookie: JSESSIONID=dummy; Path=/\r\n"
    } else {
        ""
    };
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=UTF-8\r\n";
    let with_length = |body: &str| {
        format!(
            "{head}{set_cookie}Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    };
    match body {
        InfoBody::Json => with_length(&json),
        InfoBody::Chunked => {
            let mut out =
                format!("{head}{set_cookie}Transfer-Encoding: chunked\r\n\r\n").into_bytes();
            let (a, b) = json.as_bytes().split_at(json.len() / 2);
            out.extend(chunk(a));
            out.extend(chunk(b));
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }
        InfoBody::NotJson => with_length("<html>no</html>"),
        InfoBody::NoWebSocket => with_length("{\"origins\":[]}"),
        InfoBody::Huge => {
            let pad = "x".repeat(17 * 1024);
            with_length(&format!("{{\"websocket\":true,\"pad\":\"{pad}\"}}"))
        }
    }
}
