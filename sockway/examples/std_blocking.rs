//! A SockJS server on nothing but `std`: blocking sockets and threads, no
//! async runtime. The sans-IO cores (`http_proto`, `sockjs_proto`, and the
//! `ws_proto` inside it) never do I/O nor read a clock, so any event loop can
//! drive them; this one is about the simplest there is.
//!
//! ```text
//! cargo run -p sockway --no-default-features --example std_blocking -- 127.0.0.1:8082 --heartbeat-ms 25000
//! ```
//!
//! `/echo` echoes every message; `/close` closes each session with
//! `c[3000,"Go away!"]` as soon as it opens. Every transport of the core is
//! served (websocket, xhr, xhr-streaming, eventsource, htmlfile, jsonp, raw
//! `/echo/websocket`).
//!
//! How the threads share the cores:
//!
//! - Each endpoint is one `sockjs_proto::Server` in a `Mutex<Hub>`. Every
//!   call into it goes through [`Endpoint::call`]: lock, read the clock,
//!   call, then [`Hub::dispatch`] what the call produced: events to the
//!   application, wake-ups to connection threads, a deadline to the timer.
//! - A thread per TCP connection reads requests with `http_proto::ServerConn`
//!   and answers them. A request that gets a *receiver* (a stream, a long
//!   poll, a WebSocket) parks its thread on a [`Signal`] until the hub rings
//!   it: the receiver has output.
//! - A timer thread per endpoint sleeps until `poll_timeout()` and calls
//!   `handle_timeout` (heartbeats, expiry of sessions).
//! - An upgraded WebSocket gets a second thread that reads the socket into
//!   `receive_websocket` while the connection's thread writes its output.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher as _, Hasher as _};
use std::io::{self, ErrorKind, Read as _, Write as _};
use std::net::{IpAddr, Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use bytes::{Bytes, BytesMut};
use sockway::http_proto::http::{self, header, HeaderValue, StatusCode};
use sockway::http_proto::{self, encode_chunk, encode_last_chunk, BodyKind, Framing};
use sockway::sockjs_proto::{
    self, AllowedOrigins, Answer, CloseCode, CloseFrame, Config, Event, Output, ReceiverId,
    RequestContext,
};

/// A response of the core.
type Response = http::Response<Bytes>;

/// The most bytes taken from a socket in one read.
const READ_CHUNK: usize = 16 * 1024;
/// The largest request body: room for a 1 MiB message, JSON-escaped.
const MAX_BODY: u64 = 4 * 1024 * 1024;
/// From a request's first byte to its last.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle time allowed between two requests on a kept-alive connection.
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a client may take to accept one write.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a parked thread checks that its client is still there.
const CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// How long a closed WebSocket waits for the client's end of stream.
const LINGER: Duration = Duration::from_secs(2);
/// Open connections at most (a thread each, two for a WebSocket).
const MAX_CONNECTIONS: usize = 1000;

/// The monotonic clock. The workspace forbids reading clocks (the cores take
/// `now` as an argument); this example is the event loop, so it owns the
/// clock, and this is the one place that reads it.
#[allow(clippy::disallowed_methods)]
fn now() -> Instant {
    Instant::now()
}

/// The wall clock, for the `Expires` headers of the core (same reason).
#[allow(clippy::disallowed_methods)]
fn wall_clock() -> SystemTime {
    SystemTime::now()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A connection thread's doorbell. The flag stays set until the thread sees
/// it, so a ring between "no output yet" and "wait" is never lost.
#[derive(Default)]
struct Signal {
    rung: Mutex<bool>,
    bell: Condvar,
}

impl Signal {
    fn ring(&self) {
        *lock(&self.rung) = true;
        self.bell.notify_one();
    }

    /// Waits for a ring, at most `timeout`; `true` if it rang.
    fn wait(&self, timeout: Duration) -> bool {
        let rung = lock(&self.rung);
        let waited = self.bell.wait_timeout_while(rung, timeout, |rung| !*rung);
        std::mem::take(&mut *waited.unwrap_or_else(PoisonError::into_inner).0)
    }
}

// ---- one SockJS endpoint -----------------------------------------------------

/// What the lock guards: the core, and whom to ring for each receiver.
struct Hub {
    server: sockjs_proto::Server,
    wakers: HashMap<ReceiverId, Arc<Signal>>,
    /// The deadline the timer thread sleeps until.
    armed: Option<Instant>,
    /// The application: echo, or close every session as it opens.
    close_on_open: bool,
}

struct Endpoint {
    hub: Mutex<Hub>,
    /// Wakes the timer thread, which waits on it with `hub`'s lock.
    timer: Condvar,
}

impl Endpoint {
    /// Creates the endpoint and starts its timer thread.
    fn start(prefix: &str, config: Config, close_on_open: bool) -> Arc<Self> {
        // `/info`'s entropy, seeded from std's per-process random keys.
        let seed = RandomState::new().build_hasher().finish();
        let server = sockjs_proto::Server::new(prefix, config, seed).expect("a valid config");
        let hub = Hub {
            server,
            wakers: HashMap::new(),
            armed: None,
            close_on_open,
        };
        let endpoint = Arc::new(Self {
            hub: Mutex::new(hub),
            timer: Condvar::new(),
        });
        let timer = Arc::clone(&endpoint);
        thread::spawn(move || timer.run_timer());
        endpoint
    }

    /// Every call into the core: under the lock, with the time read under
    /// the lock too (so the core sees time go forward only), followed by a
    /// dispatch of what the call produced.
    fn call<T>(&self, f: impl FnOnce(&mut Hub, Instant) -> T) -> T {
        let mut hub = lock(&self.hub);
        let result = f(&mut hub, now());
        hub.dispatch(&self.timer);
        result
    }

    /// Sleeps until the core's next deadline and handles it, for ever. The
    /// sleep is cut short when `dispatch` sees an earlier deadline.
    fn run_timer(&self) {
        let mut hub = lock(&self.hub);
        loop {
            let deadline = hub.server.poll_timeout();
            hub.armed = deadline;
            let now = now();
            hub = match deadline {
                Some(at) if at <= now => {
                    hub.server.handle_timeout(now);
                    hub.dispatch(&self.timer);
                    hub
                }
                Some(at) => {
                    let waited = self.timer.wait_timeout(hub, at - now);
                    waited.unwrap_or_else(PoisonError::into_inner).0
                }
                None => self.timer.wait(hub).unwrap_or_else(PoisonError::into_inner),
            };
        }
    }

    /// The connection of `receiver` is done with it: tell the core, once.
    fn receiver_closed(&self, receiver: ReceiverId) {
        self.call(|hub, now| {
            hub.wakers.remove(&receiver);
            hub.server.receiver_closed(receiver, now);
        });
    }
}

impl Hub {
    /// Hands out what the core produced, in the order its docs give: events
    /// to the application, then wake-ups to the receivers' threads, then
    /// the next deadline to the timer.
    fn dispatch(&mut self, timer: &Condvar) {
        while let Some(event) = self.server.poll_event() {
            // (Errors say the session closed meanwhile: nothing to do.)
            match event {
                Event::Opened { session, .. } if self.close_on_open => {
                    let frame = CloseFrame::new(CloseCode::GO_AWAY, "Go away!");
                    let _ = self.server.close(session, frame);
                }
                Event::Message { session, text } => {
                    let _ = self.server.send(session, text);
                }
                _ => {}
            }
        }
        while let Some(receiver) = self.server.poll_wakeup() {
            if let Some(signal) = self.wakers.get(&receiver) {
                signal.ring();
            }
        }
        if let Some(at) = self.server.poll_timeout() {
            if self.armed.is_none_or(|armed| at < armed) {
                self.armed = Some(at);
                timer.notify_one();
            }
        }
    }
}

// ---- one connection -----------------------------------------------------------

struct Conn {
    sock: TcpStream,
    http: http_proto::ServerConn,
    /// Rung by the hub when a receiver of this connection has output.
    signal: Arc<Signal>,
}

impl Conn {
    /// Serves requests until either side closes the connection.
    fn serve(mut self, endpoints: &[Arc<Endpoint>]) {
        let _ = self.sock.set_nodelay(true);
        let _ = self.sock.set_write_timeout(Some(WRITE_TIMEOUT));
        loop {
            let req = match self.read_request() {
                Ok(Some(req)) => req,
                Ok(None) => break,
                Err(response) => {
                    let _ = self.sock.write_all(&response);
                    break;
                }
            };
            let path = req.uri().path();
            let endpoint = endpoints.iter().find(|e| lock(&e.hub).server.matches(path));
            let keep_alive = if let Some(endpoint) = endpoint {
                self.sockjs(&req, endpoint)
            } else {
                if http_proto::is_upgrade(&req) {
                    self.http.decline_upgrade();
                }
                let mut res = Response::new(Bytes::from_static(b"Not Found"));
                *res.status_mut() = StatusCode::NOT_FOUND;
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=UTF-8"),
                );
                self.respond(&res)
            };
            if !keep_alive {
                break;
            }
        }
        let _ = self.sock.shutdown(Shutdown::Both);
    }

    /// Reads the next request. `Ok(None)`: the client closed, or idled past
    /// the keep-alive timeout. `Err`: the response to write before closing.
    fn read_request(&mut self) -> Result<Option<http::Request<Bytes>>, Vec<u8>> {
        const TIMED_OUT: &[u8] =
            b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let mut started = (self.http.buffered() > 0).then(now);
        let mut buf = vec![0; READ_CHUNK];
        loop {
            match self.http.poll_request() {
                Ok(None) => {}
                Ok(Some(req)) => return Ok(Some(req)),
                Err(e) => return Err(e.response()),
            }
            if self.http.poll_continue() && self.sock.write_all(http_proto::CONTINUE_100).is_err() {
                return Ok(None);
            }
            let timeout = match started {
                Some(at) => (at + REQUEST_TIMEOUT).saturating_duration_since(now()),
                None => KEEP_ALIVE_TIMEOUT,
            };
            if timeout.is_zero() {
                return Err(TIMED_OUT.to_vec());
            }
            let _ = self.sock.set_read_timeout(Some(timeout));
            // At least one byte, so that a full buffer surfaces as its error.
            let cap = self.http.receive_capacity().clamp(1, READ_CHUNK);
            match self.sock.read(&mut buf[..cap]) {
                Ok(0) => return Ok(None),
                Ok(n) => {
                    self.http.receive(&buf[..n]);
                    started.get_or_insert_with(now);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    return started.map_or(Ok(None), |_| Err(TIMED_OUT.to_vec()));
                }
                Err(_) => return Ok(None),
            }
        }
    }

    /// Answers a request under an endpoint; `true` to keep the connection.
    fn sockjs(&mut self, req: &http::Request<Bytes>, endpoint: &Arc<Endpoint>) -> bool {
        let upgrade = http_proto::is_upgrade(req);
        let peer = self.sock.peer_addr().ok().map(|a| a.ip());
        let ctx = context(peer);
        let answer = endpoint.call(|hub, now| {
            let answer = hub.server.handle_request(req, &ctx, now);
            // Register before `dispatch` runs: a WebSocket's `o` is due at once.
            if let Answer::Stream { receiver, .. }
            | Answer::Poll { receiver, .. }
            | Answer::Upgrade { receiver, .. } = &answer
            {
                hub.wakers.insert(*receiver, Arc::clone(&self.signal));
            }
            answer
        });
        if upgrade && !matches!(answer, Answer::Upgrade { .. }) {
            // Answered in HTTP: the connection goes on in HTTP.
            self.http.decline_upgrade();
        }
        match answer {
            Answer::Response(res) => self.respond(&res),
            Answer::Stream { receiver, response } => self.stream(endpoint, receiver, &response),
            Answer::Poll { receiver, response } => self.long_poll(endpoint, receiver, response),
            Answer::Upgrade { receiver, response } => {
                let mut head = BytesMut::new();
                if self
                    .http
                    .encode_response(&response, BodyKind::None, &mut head)
                    .is_ok()
                {
                    self.websocket(endpoint, receiver, &head);
                } else {
                    endpoint.receiver_closed(receiver);
                }
                false
            }
        }
    }

    /// A streaming response: chunked, or close-delimited for HTTP/1.0.
    fn stream(&mut self, endpoint: &Endpoint, receiver: ReceiverId, res: &Response) -> bool {
        let mut out = BytesMut::new();
        // The core's headers are its own, checked values: this cannot fail.
        let head = self
            .http
            .encode_response(res, BodyKind::Stream, &mut out)
            .ok();
        let chunked = head == Some(Framing::Chunked);
        let body = |data: &[u8], out: &mut BytesMut| {
            if chunked {
                encode_chunk(data, out);
            } else {
                out.extend_from_slice(data);
            }
        };
        body(res.body(), &mut out);
        let mut alive = head.is_some() && self.sock.write_all(&out).is_ok();
        while alive {
            let Some(first) = self.next_output(endpoint, receiver, true) else {
                alive = false;
                break;
            };
            // Every frame in a chunk of its own; what is ready goes out in
            // one write.
            out.clear();
            let mut next = Some(first);
            let mut end = false;
            while let Some(output) = next.take() {
                body(&output.data, &mut out);
                end = output.end;
                if !end {
                    next = endpoint.call(|hub, now| hub.server.poll_output(receiver, now));
                }
            }
            if end && chunked {
                encode_last_chunk(&mut out);
            }
            alive = self.sock.write_all(&out).is_ok();
            if end {
                break;
            }
        }
        endpoint.receiver_closed(receiver);
        alive && self.http.keep_alive()
    }

    /// A long poll: the response waits for its body (one frame, with `end`).
    fn long_poll(&mut self, endpoint: &Endpoint, receiver: ReceiverId, mut res: Response) -> bool {
        let mut body = BytesMut::new();
        let mut keep_alive = false;
        while let Some(output) = self.next_output(endpoint, receiver, true) {
            body.extend_from_slice(&output.data);
            if output.end {
                *res.body_mut() = body.freeze();
                keep_alive = self.respond(&res);
                break;
            }
        }
        endpoint.receiver_closed(receiver);
        keep_alive
    }

    /// An upgraded connection: this thread writes what the core gives, a
    /// second one reads the socket into it.
    fn websocket(&mut self, endpoint: &Arc<Endpoint>, receiver: ReceiverId, head: &[u8]) {
        // The bytes the client sent right behind its handshake.
        let trailing = std::mem::take(&mut self.http).take_upgraded();
        let reader = match (self.sock.write_all(head), self.sock.try_clone()) {
            (Ok(()), Ok(read_half)) => {
                if !trailing.is_empty() {
                    endpoint
                        .call(|hub, now| hub.server.receive_websocket(receiver, &trailing, now));
                }
                // No read timeout: the core's heartbeats and close timeout rule.
                let _ = read_half.set_read_timeout(None);
                let (endpoint, signal) = (Arc::clone(endpoint), Arc::clone(&self.signal));
                Some(thread::spawn(move || {
                    read_websocket(read_half, &endpoint, receiver);
                    signal.ring();
                }))
            }
            _ => None,
        };
        if let Some(reader) = &reader {
            // Until the core ends the receiver (close handshake done, client
            // gone, close timed out) or the client stops taking bytes.
            while let Some(output) = self.next_output(endpoint, receiver, false) {
                if self.sock.write_all(&output.data).is_err() {
                    break;
                }
                if output.end {
                    // Let the client's end of stream arrive (for a while),
                    // so that unread input does not turn the close into a reset.
                    let _ = self.sock.shutdown(Shutdown::Write);
                    let deadline = now() + LINGER;
                    while !reader.is_finished() && now() < deadline {
                        self.signal.wait(CHECK_INTERVAL);
                    }
                    break;
                }
            }
        }
        // This unblocks the reader if it still waits; then the receiver is done.
        let _ = self.sock.shutdown(Shutdown::Both);
        if let Some(reader) = reader {
            let _ = reader.join();
        }
        endpoint.receiver_closed(receiver);
    }

    /// Waits for `receiver`'s next output. With `watch`, checks now and then
    /// that the client is still there: `None` if it went away.
    fn next_output(
        &self,
        endpoint: &Endpoint,
        receiver: ReceiverId,
        watch: bool,
    ) -> Option<Output> {
        loop {
            if let Some(output) = endpoint.call(|hub, now| hub.server.poll_output(receiver, now)) {
                return Some(output);
            }
            if !self.signal.wait(CHECK_INTERVAL) && watch && client_gone(&self.sock) {
                return None;
            }
        }
    }

    /// Writes a whole response, with `Content-Length` (no body for 204,
    /// 304 and answers to `HEAD`); `true` to keep the connection.
    fn respond(&mut self, res: &Response) -> bool {
        let mut out = BytesMut::new();
        let length = BodyKind::Length(res.body().len() as u64);
        if let Ok(Framing::Length(_)) = self.http.encode_response(res, length, &mut out) {
            out.extend_from_slice(res.body());
        }
        self.sock.write_all(&out).is_ok() && self.http.keep_alive()
    }
}

/// Reads an upgraded connection into the core until end of stream, never
/// more at once than the WebSocket's input buffer takes.
fn read_websocket(mut sock: TcpStream, endpoint: &Endpoint, receiver: ReceiverId) {
    let mut buf = vec![0; READ_CHUNK];
    loop {
        let cap = endpoint.call(|hub, _| hub.server.websocket_capacity(receiver));
        match sock.read(&mut buf[..cap.clamp(1, READ_CHUNK)]) {
            Ok(0) => break,
            Ok(n) => {
                endpoint.call(|hub, now| hub.server.receive_websocket(receiver, &buf[..n], now));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    endpoint.call(|hub, now| hub.server.receive_websocket_eof(receiver, now));
}

/// Whether the client of a parked stream or long poll went away, checked
/// without blocking or reading: a peek sees the end of stream, or bytes of
/// a next request, which stay in the socket (a client that sends some and
/// then leaves is noticed at the next write).
fn client_gone(sock: &TcpStream) -> bool {
    if sock.set_nonblocking(true).is_err() {
        return true;
    }
    let gone = match sock.peek(&mut [0]) {
        Ok(n) => n == 0,
        Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
    };
    sock.set_nonblocking(false).is_err() || gone
}

/// What the SockJS core needs besides the request: the date (for
/// `Expires`) and the client at `peer` (which the core binds each session
/// to).
fn context(peer: Option<IpAddr>) -> RequestContext {
    let ctx = RequestContext::new(wall_clock());
    match peer {
        Some(ip) => ctx.client_ip(ip),
        None => ctx,
    }
}

// ---- main -----------------------------------------------------------------------

#[allow(clippy::print_stdout, clippy::print_stderr)]
fn main() -> io::Result<()> {
    let usage = || -> ! {
        eprintln!("usage: std_blocking [ADDR (127.0.0.1:8082)] [--heartbeat-ms N (25000)]");
        std::process::exit(2)
    };
    let (mut addr, mut heartbeat_ms) = (None, 25_000);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--heartbeat-ms" {
            heartbeat_ms = args
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| usage());
        } else if addr.is_none() && !arg.starts_with('-') {
            addr = Some(arg);
        } else {
            usage();
        }
    }
    let config = Config::default()
        .stream_bytes_limit(4096)
        .session_cookie_needed(false)
        .allowed_origins(AllowedOrigins::Any)
        .heartbeat_time(Duration::from_millis(heartbeat_ms));
    let endpoints = Arc::new([
        Endpoint::start("/echo", config.clone(), false),
        Endpoint::start("/close", config, true),
    ]);

    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:8082"))?;
    println!("listening on http://{}", listener.local_addr()?);
    let open = Arc::new(AtomicUsize::new(0));
    for sock in listener.incoming() {
        let sock = match sock {
            Ok(sock) => sock,
            Err(e) => {
                eprintln!("accept: {e}"); // out of file descriptors, say
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if open.fetch_add(1, Ordering::Relaxed) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::Relaxed);
            continue; // dropped: closed at once
        }
        let (open, endpoints) = (Arc::clone(&open), Arc::clone(&endpoints));
        thread::spawn(move || {
            let limits = http_proto::Limits::default().max_body_size(MAX_BODY);
            let conn = Conn {
                sock,
                http: http_proto::ServerConn::new(limits),
                signal: Arc::default(),
            };
            conn.serve(&endpoints[..]);
            open.fetch_sub(1, Ordering::Relaxed);
        });
    }
    Ok(())
}
