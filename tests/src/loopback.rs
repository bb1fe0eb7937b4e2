//! Loopback helpers: a server started in-process on `127.0.0.1:0` (on its
//! own listener, or mounted in axum: [`AxumTestServer`]), and a
//! raw HTTP/1.1 client that writes requests by hand and reads responses
//! byte for byte (heads, `Content-Length`, chunked and close-delimited
//! bodies, single chunks of a stream).
//!
//! Every read is bounded: a read that does not complete within the
//! client's [`wait`](Client::wait) panics with what was buffered so far.

use std::fmt::Write as _;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use adapter_core::server::{ServerBuilder, ServerHandle};
use adapter_tokio::service::Endpoints;
use bytes::{Buf as _, BytesMut};
use sockway_cli::ServeOptions;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::runtime::{join_within, BackgroundServer, ServerRuntime, Tokio};

/// The default bound of one wait (a read, a connect, a handler's report).
pub const WAIT: Duration = Duration::from_secs(5);

/// The `xhr_streaming` prelude: 2048 `h` and a line feed.
pub fn xhr_streaming_prelude() -> String {
    format!("{}\n", "h".repeat(2048))
}

/// Awaits `future` for at most `limit`; panics, naming `what`, when it
/// takes longer.
pub async fn within<F: Future>(limit: Duration, what: &str, future: F) -> F::Output {
    let Ok(output) = tokio::time::timeout(limit, future).await else {
        panic!("{what}: not done within {limit:?}");
    };
    output
}

/// The ready server's options with these timings (and any origin allowed,
/// as `sockway serve` does by default).
pub fn serve_options(heartbeat: Duration, disconnect_delay: Duration) -> ServeOptions {
    ServeOptions {
        heartbeat_time: heartbeat,
        disconnect_delay,
        ..ServeOptions::default()
    }
}

/// Endpoints mounted in axum, as the `Router`'s fallback service (which
/// hands the paths over as they are: the same paths as on the own
/// listener), served by `axum::serve` with
/// `into_make_service_with_connect_info::<SocketAddr>()` on
/// `127.0.0.1:<ephemeral>`, on a tokio runtime of its own (2 workers) in a
/// thread of its own. Dropping it shuts the endpoints down, stops axum and
/// joins the thread.
#[derive(Debug)]
pub struct AxumTestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Shuts the endpoints down.
    pub handle: ServerHandle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl AxumTestServer {
    /// Mounts the endpoints of `builder` in axum and serves them.
    pub fn start(builder: ServerBuilder<Tokio>) -> Self {
        let endpoints = Endpoints::new(builder).expect("valid endpoints");
        let handle = endpoints.handle();
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("server-axum".to_owned())
            .spawn(move || {
                Tokio::block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("a listener");
                    let _ = ready_tx.send(listener.local_addr().expect("an address"));
                    let router = axum::Router::new().fallback_service(endpoints);
                    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
                        let _ = tcp.set_nodelay(true);
                    });
                    axum::serve(
                        listener,
                        router.into_make_service_with_connect_info::<SocketAddr>(),
                    )
                    .with_graceful_shutdown(async move {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("serving");
                });
            })
            .expect("a server thread");
        let addr = ready_rx.recv().expect("the server thread reports");
        Self {
            addr,
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for AxumTestServer {
    fn drop(&mut self) {
        self.handle.shutdown();
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            join_within(thread, Duration::from_secs(15), &self.addr.to_string());
        }
    }
}

/// A server serving on `127.0.0.1:<ephemeral>` on its runtime, in a
/// thread of its own (see [`ServerRuntime::serve`]); the test's client side
/// stays on the test's runtime. Dropping it shuts the server down.
#[derive(Debug)]
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Stops it.
    pub handle: ServerHandle,
    server: BackgroundServer,
}

impl TestServer {
    /// Builds the server from `builder` on a fresh loopback listener and
    /// serves it on `R`.
    pub fn start<R: ServerRuntime>(builder: ServerBuilder<R>) -> Self {
        let server = R::serve(builder);
        Self {
            addr: server.addr,
            handle: server.handle.clone(),
            server,
        }
    }

    /// The ready server (`sockway_cli::endpoints`) with `options`, on `R`.
    pub fn ready<R: ServerRuntime>(options: &ServeOptions) -> Self {
        Self::start(sockway_cli::endpoints::<R>(options))
    }

    /// A new connection to the server.
    pub async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    /// A poll (`POST target`, an `xhr` URL of an open session with nothing
    /// to send) that is known to wait on the server: two are sent on two
    /// connections, the one that comes second is refused at once with
    /// `c[2010,...]`, the other one is returned, its answer not read.
    /// (Sending one poll and waiting a while would not tell whether the
    /// server had taken it yet.)
    pub async fn waiting_poll(&self, target: &str) -> Client {
        let mut a = self.client().await;
        let mut b = self.client().await;
        a.request("POST", target, &[], b"").await;
        b.request("POST", target, &[], b"").await;
        let a_answered = tokio::select! {
            res = a.read_response() => {
                assert_eq!(res.text(), "c[2010,\"Another connection still open\"]\n");
                true
            }
            res = b.read_response() => {
                assert_eq!(res.text(), "c[2010,\"Another connection still open\"]\n");
                false
            }
        };
        let waiting = if a_answered { b } else { a };
        waiting.expect_nothing_buffered();
        waiting
    }

    /// `ws://127.0.0.1:<port><path>`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Starts a graceful shutdown and waits (at most `limit`) for
    /// `serve` to return; returns how long that took.
    pub async fn shutdown(self, limit: Duration) -> Duration {
        self.server.shutdown(limit).await
    }
}

/// A response head.
#[derive(Debug, Clone)]
pub struct Head {
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// The header fields, in order.
    pub headers: Vec<(String, String)>,
    /// The head exactly as received, the blank line included.
    pub raw: String,
}

impl Head {
    /// Every value of the header `name` (case-insensitive).
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The value of the header `name`, if present; panics if repeated.
    #[track_caller]
    pub fn get(&self, name: &str) -> Option<&str> {
        match self.values(name)[..] {
            [] => None,
            [v] => Some(v),
            ref vs => panic!("{name} repeated: {vs:?} in\n{}", self.raw),
        }
    }

    /// The one value of the header `name`; panics if missing or repeated.
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        self.get(name)
            .unwrap_or_else(|| panic!("no {name} in\n{}", self.raw))
    }

    /// Whether the body is chunked.
    pub fn is_chunked(&self) -> bool {
        self.get("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }

    /// The `Content-Length`, if any.
    pub fn content_length(&self) -> Option<usize> {
        self.get("content-length").map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("bad Content-Length {v:?}"))
        })
    }
}

/// A whole response.
#[derive(Debug, Clone)]
pub struct Response {
    /// Its head.
    pub head: Head,
    /// Its body, de-chunked.
    pub body: Vec<u8>,
}

impl Response {
    /// The status.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The body as text.
    #[track_caller]
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    /// See [`Head::header`].
    #[track_caller]
    pub fn header(&self, name: &str) -> &str {
        self.head.header(name)
    }

    /// See [`Head::get`].
    #[track_caller]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.head.get(name)
    }
}

/// One raw HTTP/1.1 connection.
#[derive(Debug)]
pub struct Client {
    io: TcpStream,
    buf: BytesMut,
    host: String,
    eof: bool,
    /// The bound of each read.
    pub wait: Duration,
}

impl Client {
    /// Connects to `addr`.
    pub async fn connect(addr: SocketAddr) -> Self {
        let io = within(WAIT, "connect", TcpStream::connect(addr))
            .await
            .expect("connect to the test server");
        io.set_nodelay(true).expect("TCP_NODELAY");
        Self {
            io,
            buf: BytesMut::new(),
            host: addr.to_string(),
            eof: false,
            wait: WAIT,
        }
    }

    /// The client's local address (what the server sees as the peer).
    pub fn local_addr(&self) -> SocketAddr {
        self.io.local_addr().expect("a local address")
    }

    /// Writes `bytes` as they are.
    pub async fn send(&mut self, bytes: impl AsRef<[u8]>) {
        within(self.wait, "write", self.io.write_all(bytes.as_ref()))
            .await
            .expect("write to the server");
    }

    /// The bytes of an HTTP/1.1 request: the request line, `Host`, the
    /// `headers`, and `Content-Length` when there is a body or the method
    /// is `POST`.
    pub fn request_bytes(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<u8> {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (name, value) in headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        if !body.is_empty() || method == "POST" {
            let _ = write!(head, "Content-Length: {}\r\n", body.len());
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        bytes
    }

    /// Writes a request (see [`request_bytes`](Self::request_bytes)).
    pub async fn request(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) {
        let bytes = self.request_bytes(method, target, headers, body);
        self.send(bytes).await;
    }

    /// Writes a request and reads the whole response.
    pub async fn roundtrip(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        self.request(method, target, headers, body).await;
        self.read_response().await
    }

    /// `GET target` and its whole response.
    pub async fn get(&mut self, target: &str) -> Response {
        self.roundtrip("GET", target, &[], b"").await
    }

    /// `POST target` with `body` and its whole response.
    pub async fn post(&mut self, target: &str, body: &str) -> Response {
        self.roundtrip("POST", target, &[], body.as_bytes()).await
    }

    /// Reads more bytes into the buffer; `false` at the end of the stream
    /// (the server closed it cleanly). Panics if the read fails: a reset is
    /// not a clean end.
    async fn fill(&mut self, what: &str) -> bool {
        if self.eof {
            return false;
        }
        self.buf.reserve(16 * 1024);
        let Ok(read) = tokio::time::timeout(self.wait, self.io.read_buf(&mut self.buf)).await
        else {
            panic!(
                "{what}: nothing within {:?}; buffered: {:?}",
                self.wait,
                String::from_utf8_lossy(&self.buf)
            );
        };
        match read {
            Ok(0) => {
                self.eof = true;
                false
            }
            Ok(_) => true,
            Err(e) => panic!(
                "{what}: the connection failed ({e}), not closed cleanly; buffered: {:?}",
                String::from_utf8_lossy(&self.buf)
            ),
        }
    }

    /// Reads until the buffer holds `needle`; returns the bytes up to and
    /// including it.
    async fn read_until(&mut self, needle: &[u8], what: &str) -> Vec<u8> {
        loop {
            if let Some(at) = self.buf.windows(needle.len()).position(|w| w == needle) {
                return self.buf.split_to(at + needle.len()).to_vec();
            }
            assert!(
                self.fill(what).await,
                "{what}: the connection ended; buffered: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Exactly `n` bytes.
    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        while self.buf.len() < n {
            assert!(
                self.fill("read_exact").await,
                "read_exact({n}): the connection ended after {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
        self.buf.split_to(n).to_vec()
    }

    /// Whatever arrives next (the buffered bytes first); `None` at the
    /// (clean) end of the stream.
    pub async fn read_some(&mut self) -> Option<Vec<u8>> {
        if self.buf.is_empty() && !self.fill("read_some").await {
            return None;
        }
        Some(self.buf.split().to_vec())
    }

    /// Everything until the server closes the connection (cleanly: a reset
    /// fails the test).
    pub async fn read_to_end(&mut self) -> Vec<u8> {
        while self.fill("read_to_end").await {}
        self.buf.split().to_vec()
    }

    /// Asserts that the server closes the connection, cleanly (not a
    /// reset), with nothing more.
    pub async fn expect_eof(&mut self) {
        let rest = self.read_to_end().await;
        assert!(
            rest.is_empty(),
            "expected the end of the connection, got {:?}",
            String::from_utf8_lossy(&rest)
        );
    }

    /// Asserts that nothing was received that was not read yet. A test that
    /// checks that nothing more arrives reads a known later event first (a
    /// marker message, a heartbeat, the answer to a later request), rather
    /// than waiting a while for nothing.
    #[track_caller]
    pub fn expect_nothing_buffered(&self) {
        assert!(
            self.buf.is_empty(),
            "unexpected bytes {:?}",
            String::from_utf8_lossy(&self.buf)
        );
    }

    /// A response head.
    pub async fn read_head(&mut self) -> Head {
        let raw = self.read_until(b"\r\n\r\n", "response head").await;
        let raw = String::from_utf8(raw).expect("a UTF-8 head");
        let mut lines = raw.trim_end_matches("\r\n").split("\r\n");
        let status_line = lines.next().expect("a status line");
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default().to_owned();
        let status = parts
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let reason = parts.next().unwrap_or_default().to_owned();
        let headers = lines
            .map(|line| {
                let (name, value) = line
                    .split_once(':')
                    .unwrap_or_else(|| panic!("bad header line {line:?}"));
                (name.to_owned(), value.trim().to_owned())
            })
            .collect();
        Head {
            version,
            status,
            reason,
            headers,
            raw,
        }
    }

    /// One chunk of a chunked body, its framing checked: `Some(data)`, or
    /// `None` for the last chunk (`0\r\n\r\n`).
    pub async fn read_chunk(&mut self) -> Option<Vec<u8>> {
        let line = self.read_until(b"\r\n", "chunk size").await;
        let line = std::str::from_utf8(&line[..line.len() - 2]).expect("an ASCII chunk line");
        let size = usize::from_str_radix(line, 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
        if size == 0 {
            let end = self.read_exact(2).await;
            assert_eq!(end, b"\r\n", "no trailers after the last chunk");
            return None;
        }
        let mut data = self.read_exact(size + 2).await;
        assert_eq!(&data[size..], b"\r\n", "a chunk ends with CRLF");
        data.truncate(size);
        Some(data)
    }

    /// The raw bytes of the next chunk, framing included (`"7\r\n...\r\n"`
    /// or `"0\r\n\r\n"`).
    pub async fn read_raw_chunk(&mut self) -> Vec<u8> {
        let mut line = self.read_until(b"\r\n", "chunk size").await;
        let text = std::str::from_utf8(&line[..line.len() - 2]).expect("an ASCII chunk line");
        let size = usize::from_str_radix(text, 16)
            .unwrap_or_else(|_| panic!("bad chunk size line {text:?}"));
        let rest = self.read_exact(size + 2).await;
        line.extend_from_slice(&rest);
        line
    }

    /// The body of a response with `head`: by `Content-Length`, chunked, or
    /// until the end of the connection; empty for 1xx, 204 and 304.
    pub async fn read_body(&mut self, head: &Head) -> Vec<u8> {
        if matches!(head.status, 100..=199 | 204 | 304) {
            return Vec::new();
        }
        if head.is_chunked() {
            let mut body = Vec::new();
            while let Some(chunk) = self.read_chunk().await {
                body.extend_from_slice(&chunk);
            }
            body
        } else if let Some(n) = head.content_length() {
            self.read_exact(n).await
        } else {
            self.read_to_end().await
        }
    }

    /// A whole response.
    pub async fn read_response(&mut self) -> Response {
        let head = self.read_head().await;
        let body = self.read_body(&head).await;
        Response { head, body }
    }

    /// The bytes buffered and not yet read.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Drops `n` buffered bytes.
    pub fn skip(&mut self, n: usize) {
        self.buf.advance(n);
    }

    /// Closes the connection (both directions) at once.
    pub fn abort(self) {
        drop(self);
    }
}

// ---- SockJS ------------------------------------------------------------------

/// `Cache-Control` of a dynamic response.
pub const NO_CACHE: &str = "no-store, no-cache, no-transform, must-revalidate, max-age=0";
/// `Cache-Control` of a response cached for a year.
pub const ONE_YEAR: &str = "public, max-age=31536000";
/// `application/javascript; charset=UTF-8`.
pub const JAVASCRIPT: &str = "application/javascript; charset=UTF-8";
/// `text/plain; charset=UTF-8`.
pub const TEXT_PLAIN: &str = "text/plain; charset=UTF-8";
/// `text/html; charset=UTF-8`.
pub const TEXT_HTML: &str = "text/html; charset=UTF-8";

/// Polls `condition` every few milliseconds until it holds; panics, naming
/// `what`, if it does not within `limit`.
pub async fn eventually(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    within(limit, what, async {
        while !condition() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

/// The messages of an `a[...]` frame (a JSON array of strings).
#[track_caller]
pub fn frame_messages(frame: &str) -> Vec<String> {
    let inner = frame
        .strip_prefix("a[")
        .and_then(|f| f.strip_suffix(']'))
        .unwrap_or_else(|| panic!("not an a[...] frame: {frame:?}"));
    let mut messages = Vec::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ',' if !messages.is_empty() => {}
            '"' => {
                let mut s = String::new();
                let mut units: Vec<u16> = Vec::new();
                loop {
                    let c = chars
                        .next()
                        .unwrap_or_else(|| panic!("unterminated string in {frame:?}"));
                    if (c != '\\' || chars.peek() != Some(&'u')) && !units.is_empty() {
                        s.push_str(&String::from_utf16_lossy(&units));
                        units.clear();
                    }
                    match c {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('u') => {
                                let hex: String = chars.by_ref().take(4).collect();
                                units.push(
                                    u16::from_str_radix(&hex, 16)
                                        .unwrap_or_else(|_| panic!("bad \\u{hex} in {frame:?}")),
                                );
                            }
                            Some('n') => s.push('\n'),
                            Some('r') => s.push('\r'),
                            Some('t') => s.push('\t'),
                            Some('b') => s.push('\u{8}'),
                            Some('f') => s.push('\u{c}'),
                            Some(other) => s.push(other),
                            None => panic!("dangling escape in {frame:?}"),
                        },
                        other => s.push(other),
                    }
                }
                messages.push(s);
            }
            other => panic!("unexpected {other:?} in {frame:?}"),
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A [`Client`] and the server's end of its connection.
    async fn connected() -> (Client, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let client = Client::connect(listener.local_addr().expect("an address")).await;
        let (server, _) = listener.accept().await.expect("accept");
        (client, server)
    }

    #[tokio::test]
    async fn a_clean_close_ends_the_stream() {
        let (mut c, mut server) = connected().await;
        server.write_all(b"last").await.expect("write");
        drop(server);
        assert_eq!(c.read_to_end().await, b"last");
        c.expect_eof().await;
    }

    #[tokio::test]
    #[should_panic(expected = "not closed cleanly")]
    async fn a_reset_is_not_a_clean_close() {
        let (mut c, server) = connected().await;
        // The server closes with the client's bytes unread: the kernel
        // resets the connection instead of closing it (RFC 2525, 2.17).
        c.send("unread").await;
        let mut peeked = [0; 6];
        server.peek(&mut peeked).await.expect("the bytes arrived");
        drop(server);
        c.expect_eof().await;
    }
}
