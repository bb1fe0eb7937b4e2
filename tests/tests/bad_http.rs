//! Bad HTTP over real sockets against the ready server (in-process, on
//! 127.0.0.1): heads that never end or trickle in (408 within the request
//! timeout), idle keep-alive connections (closed after the keep-alive
//! timeout), heads and bodies over the limits (431, 413 — from
//! `Content-Length` alone, without waiting for the body), malformed request
//! lines (400), unknown transfer codings (501) and other HTTP versions
//! (505). Each time the connection is closed, and other clients are served
//! meanwhile and after.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use adapter_core::http_proto::Limits;
use adapter_core::server::ServerBuilder;
use bytes::BytesMut;
use sockway_tests::runtime::{BackgroundServer, ServerRuntime};
use sockway_tests::stress::{
    assert_serving, read_response, read_until_closed, within, Ending, RawResponse,
};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The body limit of the servers here.
const BODY_LIMIT: u64 = 64 * 1024;

fn ready<R: ServerRuntime>() -> ServerBuilder<R> {
    sockway_cli::endpoints(&sockway_cli::ServeOptions::default())
}

/// Serves `builder` on 127.0.0.1 on `R`; dropping the server stops it.
fn start<R: ServerRuntime>(builder: ServerBuilder<R>) -> (SocketAddr, BackgroundServer) {
    let server = R::serve(builder);
    (server.addr, server)
}

/// A client that asks `GET /echo/info` on one keep-alive connection every
/// `every` until `stop`; every answer must be a 200. Returns how many.
fn steady_client(addr: SocketAddr, every: Duration, stop: Arc<AtomicBool>) -> JoinHandle<usize> {
    tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let mut buf = BytesMut::new();
        let mut served = 0;
        while !stop.load(Ordering::Relaxed) {
            tcp.write_all(b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .expect("the steady client's connection stays open");
            let response = within(
                Duration::from_secs(5),
                "the steady client's response",
                read_response(&mut tcp, &mut buf),
            )
            .await
            .expect("the steady client's connection stays open");
            assert_eq!(response.status, 200, "steady client: {}", response.head);
            served += 1;
            tokio::time::sleep(every).await;
        }
        served
    })
}

/// Writes `head`, then `trickle` one byte every 50 ms (and then `a`s,
/// forever if `endless`), until the write fails; returns the response and
/// how long it took from the first byte.
async fn trickle(
    addr: SocketAddr,
    head: &'static [u8],
    trickle: &'static [u8],
    endless: bool,
) -> (RawResponse, Duration, Ending) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    tcp.set_nodelay(true).expect("nodelay");
    let (mut rd, mut wr) = tcp.into_split();
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        if wr.write_all(head).await.is_err() {
            return;
        }
        let mut i = 0;
        loop {
            let byte = match trickle.get(i) {
                Some(b) => *b,
                None if endless => b'a',
                None => break,
            };
            if wr.write_all(&[byte]).await.is_err() {
                return;
            }
            i += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Never finishes: hold the connection open.
        std::future::pending::<()>().await;
        drop(wr);
    });
    let mut buf = BytesMut::new();
    let response = within(
        Duration::from_secs(5),
        "a 408",
        read_response(&mut rd, &mut buf),
    )
    .await
    .expect("a response before the connection ends");
    let took = started.elapsed();
    let (ending, _) = read_until_closed(&mut rd, Duration::from_secs(3)).await;
    writer.abort();
    (response, took, ending)
}

async fn slow_heads_and_bodies_get_408_within_the_request_timeout<R: ServerRuntime>() {
    let request_timeout = Duration::from_millis(500);
    let (addr, _server) = start(
        ready::<R>()
            .request_timeout(request_timeout)
            .keep_alive_timeout(Duration::from_secs(10)),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let steady = steady_client(addr, Duration::from_millis(50), Arc::clone(&stop));
    let cases: [(&str, &'static [u8], &'static [u8], bool); 3] = [
        (
            "a head sent byte by byte forever",
            b"",
            b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
            true,
        ),
        (
            "a head that stops half-way",
            b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sl",
            b"",
            false,
        ),
        (
            "a body sent byte by byte",
            b"POST /echo/000/slow/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n",
            b"[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"]",
            false,
        ),
    ];
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|(what, head, slow, endless)| {
            tokio::spawn(async move { (what, trickle(addr, head, slow, endless).await) })
        })
        .collect();
    for task in tasks {
        let (what, (response, took, ending)) = task.await.expect("a slow client");
        assert_eq!(response.status, 408, "{what}: {}", response.head);
        assert_eq!(response.header("connection"), Some("close"), "{what}");
        assert!(
            took + Duration::from_millis(100) >= request_timeout
                && took < request_timeout + Duration::from_secs(1),
            "{what}: 408 after {took:?}, the request timeout is {request_timeout:?}"
        );
        // Closed right after the 408: end of file, or a reset when the
        // client's last bytes were still unread.
        assert!(matches!(ending, Ending::Eof | Ending::Reset), "{what}");
    }
    stop.store(true, Ordering::Relaxed);
    let served = within(Duration::from_secs(5), "the steady client", steady)
        .await
        .expect("the steady client was served every time");
    assert!(served >= 5, "the steady client was served {served} times");
    assert_serving(addr).await;
}

async fn idle_connections_are_closed_after_the_keep_alive_timeout<R: ServerRuntime>() {
    let keep_alive = Duration::from_millis(600);
    let (addr, _server) = start(
        ready::<R>()
            .request_timeout(Duration::from_secs(5))
            .keep_alive_timeout(keep_alive),
    );
    let stop = Arc::new(AtomicBool::new(false));
    // Busy, never idle for the keep-alive timeout: stays open throughout.
    let steady = steady_client(addr, Duration::from_millis(100), Arc::clone(&stop));

    // Connected, nothing sent.
    let silent = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        let started = Instant::now();
        let (ending, bytes) = read_until_closed(&mut tcp, Duration::from_secs(5)).await;
        (started.elapsed(), ending, bytes)
    });
    // One request, then idle.
    let after_request = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("write");
        let mut buf = BytesMut::new();
        let response = read_response(&mut tcp, &mut buf).await.expect("a response");
        assert_eq!(response.status, 200);
        let started = Instant::now();
        let (ending, bytes) = read_until_closed(&mut tcp, Duration::from_secs(5)).await;
        (started.elapsed(), ending, bytes)
    });
    for (what, task) in [("silent", silent), ("after a request", after_request)] {
        let (took, ending, bytes) = task.await.expect("an idle client");
        assert_eq!((ending, bytes), (Ending::Eof, 0), "{what}: closed quietly");
        assert!(
            took + Duration::from_millis(100) >= keep_alive
                && took < keep_alive + Duration::from_secs(1),
            "{what}: closed after {took:?}, the keep-alive timeout is {keep_alive:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let served = within(Duration::from_secs(5), "the steady client", steady)
        .await
        .expect("the steady client was served every time");
    assert!(served >= 5, "the steady client was served {served} times");
    assert_serving(addr).await;
}

/// The server of the refusal tests: the ready server with a 64 KiB body
/// limit and a request timeout long enough to tell an answer at once from
/// one that waited for the body.
fn limited_server<R: ServerRuntime>() -> (SocketAddr, BackgroundServer) {
    start(
        ready::<R>()
            .http_limits(Limits::default().max_body_size(BODY_LIMIT))
            .request_timeout(Duration::from_secs(10)),
    )
}

/// Sends `request` (then `endless` again and again until the write fails,
/// if given) on a new connection; expects `status`, `Connection: close` and
/// the connection closed; then a normal client must still be served.
/// Returns how long the answer took and how the connection ended.
async fn expect_refusal(
    addr: SocketAddr,
    what: &str,
    request: Vec<u8>,
    endless: Option<Vec<u8>>,
    status: u16,
) -> (Duration, Ending) {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = tcp.into_split();
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        let mut written = 0usize;
        if wr.write_all(&request).await.is_err() {
            return written;
        }
        written += request.len();
        if let Some(more) = endless {
            // Bounded only by the server: 1 GiB would be a bug.
            while written < 1 << 30 && wr.write_all(&more).await.is_ok() {
                written += more.len();
            }
        }
        // Keep the write side open: the server must close.
        std::future::pending::<()>().await;
        written
    });
    let mut buf = BytesMut::new();
    let response = within(
        Duration::from_secs(5),
        &format!("{what}: the answer"),
        read_response(&mut rd, &mut buf),
    )
    .await
    .unwrap_or_else(|| panic!("{what}: the connection ended without an answer"));
    let took = started.elapsed();
    assert_eq!(response.status, status, "{what}: {}", response.head);
    assert_eq!(
        response.header("connection"),
        Some("close"),
        "{what}: {}",
        response.head
    );
    let (ending, _) = read_until_closed(&mut rd, Duration::from_secs(3)).await;
    writer.abort();
    assert_serving(addr).await;
    (took, ending)
}

async fn heads_over_the_limits_get_431<R: ServerRuntime>() {
    let (addr, _server) = limited_server::<R>();
    let max_head = Limits::default().max_head_size;

    // A head that never ends: 431 once it passes the limit.
    let mut head = b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 1000));
    let (_, _) = expect_refusal(
        addr,
        "a head that never ends",
        head,
        Some(vec![b'a'; 4096]),
        431,
    )
    .await;

    // A complete head just over the limit.
    let mut head = b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Long: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', max_head));
    head.extend_from_slice(b"\r\n\r\n");
    expect_refusal(addr, "a head over the limit", head, None, 431).await;

    // More header fields than the limit (64), in a small head.
    let mut head = b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_vec();
    for i in 0..100 {
        head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    head.extend_from_slice(b"\r\n");
    assert!(head.len() < max_head);
    let (_, ending) = expect_refusal(addr, "100 header fields", head, None, 431).await;
    assert_eq!(ending, Ending::Eof, "100 header fields: closed cleanly");
}

async fn bodies_over_the_limit_get_413<R: ServerRuntime>() {
    let (addr, _server) = limited_server::<R>();

    // Decided from Content-Length alone: the body is never sent, and the
    // answer must not wait for it (the request timeout is 10 s).
    for length in [BODY_LIMIT + 1, 1 << 40, u64::MAX] {
        let head = format!(
            "POST /echo/000/big/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: text/plain\r\nContent-Length: {length}\r\n\r\n"
        );
        let what = format!("Content-Length: {length}");
        let (took, ending) = expect_refusal(addr, &what, head.into_bytes(), None, 413).await;
        assert!(took < Duration::from_secs(2), "{what}: 413 after {took:?}");
        assert_eq!(ending, Ending::Eof, "{what}: closed cleanly");
    }

    // Content-Length over the limit, and the client sends the body anyway.
    let head = format!(
        "POST /echo/000/big/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Content-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
        4 * BODY_LIMIT
    );
    expect_refusal(
        addr,
        "Content-Length over the limit, body sent",
        head.into_bytes(),
        Some(vec![b'x'; 16 * 1024]),
        413,
    )
    .await;

    // A chunked body that grows past the limit, 16 KiB chunks forever.
    let head = b"POST /echo/000/big/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\n\
                 Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        .to_vec();
    let mut chunk = b"4000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b'x', 0x4000));
    chunk.extend_from_slice(b"\r\n");
    expect_refusal(addr, "an endless chunked body", head, Some(chunk), 413).await;

    // One chunk that alone is over the limit: refused at its size line.
    let head = format!(
        "POST /echo/000/big/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        BODY_LIMIT + 1
    );
    let (took, _) = expect_refusal(
        addr,
        "one chunk over the limit",
        head.into_bytes(),
        None,
        413,
    )
    .await;
    assert!(
        took < Duration::from_secs(2),
        "one chunk over the limit: 413 after {took:?}"
    );
}

async fn malformed_request_lines_get_400<R: ServerRuntime>() {
    let (addr, _server) = limited_server::<R>();
    let cases: [(&str, &[u8]); 5] = [
        (
            "a method with a bad character",
            b"G@T /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ),
        (
            "a TLS ClientHello",
            b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n",
        ),
        ("a request line of one word", b"HELLO\r\n\r\n"),
        (
            "a bare LF in a header name",
            b"GET /echo/info HTTP/1.1\r\nHo\nst: x\r\n\r\n",
        ),
        ("no Host in HTTP/1.1", b"GET /echo/info HTTP/1.1\r\n\r\n"),
    ];
    for (what, request) in cases {
        let (_, ending) = expect_refusal(addr, what, request.to_vec(), None, 400).await;
        assert_eq!(ending, Ending::Eof, "{what}: closed cleanly");
    }
}

/// A request line whose third part is no `HTTP/x.y` at all is malformed
/// (400, RFC 9112 §3): 505 is for an HTTP version the server does not
/// support.
async fn request_lines_without_an_http_version_get_400<R: ServerRuntime>() {
    let (addr, _server) = limited_server::<R>();
    let cases: [(&str, &[u8]); 3] = [
        (
            "a space in the target",
            b"GET /echo/info x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ),
        (
            "a version that is no HTTP version",
            b"GET /echo/info FOO/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        ),
        ("no version (HTTP/0.9)", b"GET /echo/info\r\n\r\n"),
    ];
    let mut wrong = Vec::new();
    for (what, request) in cases {
        let mut tcp = TcpStream::connect(addr).await.expect("connect");
        tcp.write_all(request).await.expect("write");
        let mut buf = BytesMut::new();
        let response = within(
            Duration::from_secs(5),
            what,
            read_response(&mut tcp, &mut buf),
        )
        .await
        .unwrap_or_else(|| panic!("{what}: the connection ended without an answer"));
        let (ending, _) = read_until_closed(&mut tcp, Duration::from_secs(3)).await;
        assert_eq!(ending, Ending::Eof, "{what}: closed cleanly");
        if response.status != 400 {
            wrong.push(format!(
                "{what}: {}",
                response.head.lines().next().unwrap_or_default()
            ));
        }
    }
    assert_serving(addr).await;
    assert!(wrong.is_empty(), "answered other than 400: {wrong:#?}");
}

async fn unknown_transfer_codings_get_501<R: ServerRuntime>() {
    let (addr, _server) = limited_server::<R>();
    for coding in ["gzip", "gzip, chunked", "x-custom"] {
        let request = format!(
            "POST /echo/000/te/xhr_send HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Transfer-Encoding: {coding}\r\n\r\n"
        );
        let what = format!("Transfer-Encoding: {coding}");
        let (_, ending) = expect_refusal(addr, &what, request.into_bytes(), None, 501).await;
        assert_eq!(ending, Ending::Eof, "{what}: closed cleanly");
    }
}

async fn other_http_versions_get_505<R: ServerRuntime>() {
    let (addr, _server) = limited_server::<R>();
    let cases: [(&str, &[u8]); 3] = [
        (
            "HTTP/2.0",
            b"GET /echo/info HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n",
        ),
        (
            "HTTP/3.0",
            b"GET /echo/info HTTP/3.0\r\nHost: 127.0.0.1\r\n\r\n",
        ),
        ("the HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
    ];
    for (what, request) in cases {
        expect_refusal(addr, what, request.to_vec(), None, 505).await;
    }
}

sockway_tests::for_each_runtime! {
    slow_heads_and_bodies_get_408_within_the_request_timeout: multi_thread,
    idle_connections_are_closed_after_the_keep_alive_timeout: multi_thread,
    heads_over_the_limits_get_431: multi_thread,
    bodies_over_the_limit_get_413: multi_thread,
    malformed_request_lines_get_400: multi_thread,
    request_lines_without_an_http_version_get_400: multi_thread,
    unknown_transfer_codings_get_501: multi_thread,
    other_http_versions_get_505: multi_thread,
}
