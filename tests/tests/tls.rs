//! TLS (feature `tls`) over loopback: the ready server with
//! `ServerBuilder::tls` on each runtime, and `wss://` clients through
//! `connect_url_with` (given a URL or a request with headers) trusting a
//! CA made in the test.
//!
//! - `runtimes::*`: the server on tokio, async-std and smol; the client is
//!   the same runtime's (`Runtime::connect_stream`, through
//!   `adapter_core::connect_url_with::<R>`).
//! - `adapters::*`: each adapter's own `connect_url_with` against a tokio
//!   TLS server.
//!
//! Every wait is bounded; the one timer (the handshake timeout) is a short
//! configured one.

use std::time::Duration;

use adapter_core::server::ServerBuilder;
use adapter_core::{
    Clock, CloseCode, CloseFrame, ConnectOptions, Error, IntoClientRequest, Io, Message, Response,
    Runtime, TlsConnector, WebSocketStream,
};
use sockway_cli::ServeOptions;
use sockway_tests::adapter::Adapter;
use sockway_tests::loopback::{within, TestServer, WAIT};
use sockway_tests::request::{full_report, full_request, reporting, SPOKEN};
use sockway_tests::runtime::{ServerRuntime, Tokio};
use sockway_tests::tls::TestCerts;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// The ready server (`/ws` echo, the SockJS `/echo`) over TLS on `R`, with
/// `configure`'s options.
fn tls_server<R: ServerRuntime>(
    certs: &TestCerts,
    configure: impl FnOnce(ServerBuilder<R>) -> ServerBuilder<R>,
) -> TestServer {
    let builder = sockway_cli::endpoints::<R>(&ServeOptions::default()).tls(certs.acceptor());
    TestServer::start(configure(builder))
}

fn wss(server: &TestServer, path: &str) -> String {
    format!("wss://{}{path}", server.addr)
}

/// `R`'s own client to a URL or with a request, trusting `connector`.
async fn connect<R: Runtime>(
    request: impl IntoClientRequest,
    connector: TlsConnector,
) -> Result<(WebSocketStream<R::Stream>, Response), Error> {
    let options = ConnectOptions::default()
        .tls(connector)
        .clock(Clock::of::<R>());
    within(
        WAIT,
        "connect_url_with",
        adapter_core::connect_url_with::<R>(request, options),
    )
    .await
}

/// Sends `message` and expects it back.
async fn round_trip<S: Io>(ws: &mut WebSocketStream<S>, message: Message) {
    within(WAIT, "send", ws.send(message.clone()))
        .await
        .expect("sent");
    let echo = within(WAIT, "the echo", ws.recv())
        .await
        .expect("an echo")
        .expect("a clean echo");
    assert!(
        echo == message,
        "the echo of {} bytes differs",
        message.len()
    );
}

/// Closes with 1000 and expects the server's close back.
async fn close_normally<S: Io>(mut ws: WebSocketStream<S>) {
    within(WAIT, "close", ws.close(CloseCode::NORMAL, ""))
        .await
        .expect("closed");
    if let Some(message) = within(WAIT, "the end of the stream", ws.recv()).await {
        panic!("after our close: {message:?}");
    }
    assert_eq!(
        ws.peer_close_frame(),
        Some(&CloseFrame::new(CloseCode::NORMAL, ""))
    );
}

/// A `wss://` echo on `/ws` works: the server serves.
async fn serves_wss<R: Runtime>(server: &TestServer, certs: &TestCerts) {
    let (mut ws, _) = connect::<R>(&wss(server, "/ws"), certs.connector())
        .await
        .expect("a wss connection");
    round_trip(&mut ws, Message::from("still serving")).await;
    close_normally(ws).await;
}

/// Reads until end of file, an error or `WAIT`; what was read.
async fn read_until_closed(tcp: &mut TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match within(WAIT, "the server closes", tcp.read(&mut buf)).await {
            Ok(0) | Err(_) => return seen,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
}

// ---- on every runtime ---------------------------------------------------------

async fn wss_echoes_text_binary_and_a_1_mib_message<R: ServerRuntime>() {
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b);
    let (mut ws, response) = connect::<R>(&wss(&server, "/ws"), certs.connector())
        .await
        .expect("a wss connection");
    assert_eq!(response.protocol, None);
    round_trip(&mut ws, Message::from("hello over TLS")).await;
    round_trip(&mut ws, Message::from(vec![0u8, 1, 2, 255])).await;
    // Many TLS records each way.
    round_trip(&mut ws, Message::from(vec![b'x'; 1 << 20])).await;
    close_normally(ws).await;
}

/// A request with headers over `wss://`: its headers reach the server's
/// interceptor and its subprotocol is negotiated, as over `ws://`.
async fn a_wss_request_brings_its_headers_and_subprotocols<R: ServerRuntime>() {
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b.websocket("/report", reporting()));
    let request = full_request(&wss(&server, "/report"));
    let (mut ws, response) = connect::<R>(request, certs.connector())
        .await
        .expect("a wss connection");
    assert_eq!(response.protocol.as_deref(), Some(SPOKEN));
    let report = within(WAIT, "the report", ws.recv())
        .await
        .expect("a report")
        .expect("a clean report");
    assert_eq!(report.as_text(), Some(full_report("/report").as_str()));
    round_trip(&mut ws, Message::from("over TLS")).await;
    close_normally(ws).await;
}

async fn sockjs_over_https_and_wss<R: ServerRuntime>() {
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b);
    // /info over HTTPS, with tokio's TLS client.
    let connector = certs.connector();
    let stream = within(
        WAIT,
        "an HTTPS connection",
        Tokio::connect_stream("127.0.0.1", server.addr.port(), Some(&connector), None),
    )
    .await
    .expect("a TLS connection");
    let mut https = stream.into_inner();
    let request = format!(
        "GET /echo/info HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr
    );
    https.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    within(WAIT, "the answer", https.read_to_string(&mut answer))
        .await
        .expect("an answer ended by close_notify");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\"websocket\":true"), "{answer}");
    // The websocket transport over wss.
    let (mut ws, _) = connect::<R>(&wss(&server, "/echo/000/tls/websocket"), connector)
        .await
        .expect("a wss connection");
    let text = |m: Option<Result<Message, Error>>| match m {
        Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    };
    assert_eq!(text(within(WAIT, "o", ws.recv()).await), "o");
    within(WAIT, "send", ws.send("[\"x\"]"))
        .await
        .expect("sent");
    assert_eq!(text(within(WAIT, "a", ws.recv()).await), "a[\"x\"]");
}

async fn a_plain_client_fails_cleanly_and_the_server_goes_on<R: ServerRuntime>() {
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b);
    // A ws:// client on the TLS port: its request is no ClientHello.
    let options = ConnectOptions::default().clock(Clock::of::<R>());
    let plain = within(
        WAIT,
        "a plain client",
        adapter_core::connect_url_with::<R>(&server.ws_url("/ws"), options),
    )
    .await;
    match plain {
        Err(Error::Io(_) | Error::Response(_)) => {}
        other => panic!("expected an I/O or response error, got {other:?}"),
    }
    // Plain HTTP: no HTTP answer (a TLS alert at most), and the close.
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    tcp.write_all(b"GET /echo/info HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sent");
    let answer = read_until_closed(&mut tcp).await;
    assert!(!answer.starts_with(b"HTTP/"), "{answer:?}");
    serves_wss::<R>(&server, &certs).await;
}

async fn a_client_that_does_not_trust_the_ca_fails<R: ServerRuntime>() {
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b);
    let stranger = TestCerts::new();
    let err = connect::<R>(&wss(&server, "/ws"), stranger.connector())
        .await
        .expect_err("an untrusted certificate");
    let Error::Io(e) = &err else {
        panic!("expected an I/O error, got {err:?}");
    };
    let rustls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<adapter_core::rustls::Error>());
    assert!(
        matches!(
            rustls,
            Some(adapter_core::rustls::Error::InvalidCertificate(
                adapter_core::rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{e:?}"
    );
    serves_wss::<R>(&server, &certs).await;
}

async fn a_client_that_sends_no_client_hello_is_dropped_at_the_request_timeout<R: ServerRuntime>() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b.request_timeout(TIMEOUT));
    let started = Instant::now();
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let seen = read_until_closed(&mut silent).await;
    assert!(seen.is_empty(), "{seen:?}");
    assert!(
        started.elapsed() >= TIMEOUT,
        "dropped after {:?}, before the timeout",
        started.elapsed()
    );
    // One that sends half a record is dropped too.
    let mut partial = TcpStream::connect(server.addr).await.expect("connect");
    partial
        .write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        .await
        .expect("sent");
    assert!(read_until_closed(&mut partial).await.is_empty());
    serves_wss::<R>(&server, &certs).await;
}

async fn shutdown_closes_tls_sessions_and_drops_handshakes<R: ServerRuntime>() {
    let certs = TestCerts::new();
    // The default timeouts: whatever ends below, the shutdown ends it.
    let server = tls_server::<R>(&certs, |b| b);
    // In its handshake when the shutdown comes: accepted before the
    // session below (the listener accepts in order).
    let mut silent = TcpStream::connect(server.addr).await.expect("connect");
    let (mut ws, _) = connect::<R>(&wss(&server, "/ws"), certs.connector())
        .await
        .expect("a wss connection");
    round_trip(&mut ws, Message::from("before the shutdown")).await;
    let reader = tokio::spawn(async move {
        while let Some(message) = ws.recv().await {
            message.expect("a clean end");
        }
        ws.peer_close_frame().cloned()
    });
    let took = server.shutdown(WAIT).await;
    assert!(took < WAIT, "{took:?}");
    let close = within(WAIT, "the session's end", reader)
        .await
        .expect("the reader");
    assert_eq!(close.map(|c| c.code), Some(CloseCode::GOING_AWAY));
    assert!(read_until_closed(&mut silent).await.is_empty());
}

/// The SockJS client of `R` (`adapter_core::client::connect`, run on `R`)
/// over `https://` on every transport, trusting the test's CA; and one
/// that trusts another CA fails to open with the certificate error.
async fn the_sockjs_client_over_https<R: ServerRuntime>() {
    use adapter_core::client::{connect, ClientError, ClientOptions, Failure};
    use adapter_core::sockjs_proto::Transport;
    let certs = TestCerts::new();
    let server = tls_server::<R>(&certs, |b| b);
    let url = format!("https://{}/echo", server.addr);
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let options = ClientOptions::default()
            .transports([transport])
            .tls(certs.connector());
        let url = url.clone();
        let task = tokio::task::spawn_blocking(move || {
            R::block_on(async move {
                let mut session = connect::<R>(&url, options).await.expect("open");
                assert_eq!(session.transport(), transport);
                for i in 0..50 {
                    session
                        .send_async(format!("message {i}"))
                        .await
                        .expect("sent");
                }
                for i in 0..50 {
                    let echo = session.recv().await.expect("an echo");
                    assert_eq!(echo.as_bytes(), format!("message {i}").as_bytes());
                }
            });
        });
        within(WAIT, "the session", task).await.expect("ran");
    }
    let stranger = TestCerts::new();
    let options = ClientOptions::default().tls(stranger.connector());
    let task = tokio::task::spawn_blocking(move || {
        R::block_on(async move { connect::<R>(&url, options).await.map(|_| ()) })
    });
    let result = within(WAIT, "the refusal", task).await.expect("ran");
    let Err(Error::SockJs(closed)) = result else {
        panic!("{result:?}");
    };
    let Some(ClientError::Info(Failure::Connection(why))) = &closed.error else {
        panic!("{closed:?}");
    };
    assert!(why.contains("UnknownIssuer"), "{why}");
}

sockway_tests::for_each_runtime! {
    wss_echoes_text_binary_and_a_1_mib_message,
    a_wss_request_brings_its_headers_and_subprotocols,
    sockjs_over_https_and_wss,
    the_sockjs_client_over_https: multi_thread,
    a_plain_client_fails_cleanly_and_the_server_goes_on,
    a_client_that_does_not_trust_the_ca_fails,
    a_client_that_sends_no_client_hello_is_dropped_at_the_request_timeout,
    shutdown_closes_tls_sessions_and_drops_handshakes,
}

// ---- each adapter's connect_url_with ------------------------------------------

async fn connect_url_with_wss_trusts_the_given_roots<A: Adapter>() {
    let certs = TestCerts::new();
    let server = tls_server::<Tokio>(&certs, |b| b);
    let options = ConnectOptions::default().tls(certs.connector());
    let (mut ws, _) = within(
        WAIT,
        "connect",
        A::connect_url_with(&wss(&server, "/ws"), options),
    )
    .await
    .expect("a wss connection");
    round_trip(&mut ws, Message::from(format!("through {}", A::NAME))).await;
    close_normally(ws).await;
    // By default, the platform's roots: no CA of theirs signed this one
    // (or there are none here).
    let err = within(WAIT, "connect", A::connect_url(&wss(&server, "/ws")))
        .await
        .expect_err("the test CA is no platform root");
    assert!(matches!(err, Error::Io(_) | Error::Tls(_)), "{err:?}");
}

sockway_tests::for_each_adapter! {
    connect_url_with_wss_trusts_the_given_roots,
}
