//! The SockJS client of each runtime against the ready server over
//! loopback: every transport echoes in order, streams cut at
//! `streamBytesLimit` lose nothing, websocket disabled, a proxy that
//! buffers responses (streaming falls back to polling), a sticky load
//! balancer that routes by a cookie, an endpoint that never answers, a
//! server that closes mid-stream, and the server's close.
//!
//! The client runs on the runtime under test (its own `block_on` on a
//! blocking thread), the server on the same runtime in a thread of its
//! own.

use std::net::SocketAddr;
use std::time::Duration;

use adapter_core::client::{connect, ClientError, ClientOptions, Failure};
use adapter_core::sockjs_proto::Transport;
use adapter_core::{CloseCode, Error};
use sockway_tests::client::{self, echo_run, on, only};
use sockway_tests::loopback::{serve_options, within, TestServer};
use sockway_tests::runtime::ServerRuntime;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The longest any one test step may take.
const LIMIT: Duration = Duration::from_secs(20);

fn ready<R: ServerRuntime>() -> TestServer {
    TestServer::ready::<R>(&serve_options(
        Duration::from_secs(25),
        Duration::from_secs(5),
    ))
}

async fn each_transport_echoes_in_order<R: ServerRuntime>() {
    let server = ready::<R>();
    client::every_transport_echoes_in_order::<R>(&format!("http://{}", server.addr)).await;
}

async fn the_default_order_opens_the_websocket<R: ServerRuntime>() {
    let server = ready::<R>();
    let base = format!("http://{}", server.addr);
    client::the_default_order_opens::<R>(&base, "/echo", Transport::WebSocket).await;
}

async fn websocket_disabled_opens_xhr_streaming<R: ServerRuntime>() {
    let server = ready::<R>();
    let base = format!("http://{}", server.addr);
    client::the_default_order_opens::<R>(
        &base,
        "/disabled_websocket_echo",
        Transport::XhrStreaming,
    )
    .await;
}

async fn the_cookie_endpoint_echoes<R: ServerRuntime>() {
    let server = ready::<R>();
    client::the_cookie_endpoint_echoes::<R>(&format!("http://{}", server.addr)).await;
}

async fn the_servers_close_ends_the_stream<R: ServerRuntime>() {
    let server = ready::<R>();
    client::the_servers_close_ends_the_stream::<R>(&format!("http://{}", server.addr)).await;
}

async fn an_endpoint_that_never_answers_fails_at_the_info_timeout<R: ServerRuntime>() {
    // Accepts connections and reads them, never answering.
    let silent = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = silent.local_addr().expect("address");
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let url = format!("http://{addr}/echo");
    let result = on::<R, _>(async move {
        let mut options = ClientOptions::default();
        options.config_mut().info_timeout = Duration::from_millis(300);
        connect::<R>(&url, options).await.map(|_| ())
    })
    .await;
    hold.abort();
    let Err(Error::SockJs(closed)) = result else {
        panic!("{result:?}");
    };
    assert_eq!(closed.code, CloseCode(1002));
    assert_eq!(closed.error, Some(ClientError::Info(Failure::Timeout)));
}

async fn a_closed_port_fails_with_the_connection_error<R: ServerRuntime>() {
    let unused = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = unused.local_addr().expect("address");
    drop(unused);
    let url = format!("http://{addr}/echo");
    let result = on::<R, _>(async move {
        connect::<R>(&url, ClientOptions::default())
            .await
            .map(|_| ())
    })
    .await;
    let Err(Error::SockJs(closed)) = result else {
        panic!("{result:?}");
    };
    assert!(
        matches!(
            closed.error,
            Some(ClientError::Info(Failure::Connection(_)))
        ),
        "{closed:?}"
    );
}

async fn a_buffering_proxy_makes_streaming_fall_back_to_polling<R: ServerRuntime>() {
    let server = ready::<R>();
    let proxy = Proxy::start(server.addr, Mode::Buffering).await;
    let url = format!("http://{}/disabled_websocket_echo", proxy.addr);
    on::<R, _>(async move {
        let options = ClientOptions::default().transport_timeout(Duration::from_millis(500));
        let mut session = connect::<R>(&url, options).await.expect("open");
        assert_eq!(session.transport(), Transport::Xhr);
        echo_run(&mut session, 20).await;
    })
    .await;
}

async fn a_sticky_balancer_gets_its_cookie_back<R: ServerRuntime>() {
    let server = ready::<R>();
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let proxy = Proxy::start(server.addr, Mode::Sticky).await;
        let url = format!("http://{}/echo", proxy.addr);
        on::<R, _>(async move {
            let mut session = connect::<R>(&url, only(transport)).await.expect("open");
            echo_run(&mut session, 10).await;
        })
        .await;
    }
}

async fn a_server_that_dies_mid_stream_ends_the_session_with_1006<R: ServerRuntime>() {
    let server = ready::<R>();
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let proxy = Proxy::start(server.addr, Mode::Pass).await;
        let url = format!("http://{}/echo", proxy.addr);
        let kill = proxy.kill.clone();
        on::<R, _>(async move {
            let mut session = connect::<R>(&url, only(transport)).await.expect("open");
            echo_run(&mut session, 3).await;
            kill.notify_waiters();
            assert!(session.recv().await.is_none());
            let closed = session.close_status().expect("closed");
            assert_eq!(closed.code, CloseCode(1006), "{transport:?}: {closed:?}");
            assert!(!closed.was_clean);
        })
        .await;
    }
}

async fn connections_come_from_the_local_address<R: ServerRuntime>() {
    // The runtime's connect, bound to 127.0.0.2 (loopback is 127.0.0.0/8).
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let local: std::net::IpAddr = "127.0.0.2".parse().expect("an address");
    let raw = tokio::task::spawn_blocking(move || {
        R::block_on(async move {
            R::connect_stream("127.0.0.1", port, None, Some(local))
                .await
                .map(|_| ())
        })
    });
    let (_tcp, peer) = within(LIMIT, "accept", listener.accept())
        .await
        .expect("accepted");
    assert_eq!(peer.ip(), local);
    within(LIMIT, "connect", raw)
        .await
        .expect("ran")
        .expect("connected");
    // And a whole session, through ClientOptions::local_address.
    let server = ready::<R>();
    let url = format!("http://{}/echo", server.addr);
    on::<R, _>(async move {
        let options = only(Transport::Xhr).local_address(local);
        let mut session = connect::<R>(&url, options).await.expect("open");
        echo_run(&mut session, 5).await;
    })
    .await;
}

sockway_tests::for_each_runtime! {
    connections_come_from_the_local_address: multi_thread,
    each_transport_echoes_in_order: multi_thread,
    the_default_order_opens_the_websocket: multi_thread,
    websocket_disabled_opens_xhr_streaming: multi_thread,
    the_servers_close_ends_the_stream: multi_thread,
    the_cookie_endpoint_echoes: multi_thread,
    an_endpoint_that_never_answers_fails_at_the_info_timeout: multi_thread,
    a_closed_port_fails_with_the_connection_error: multi_thread,
    a_buffering_proxy_makes_streaming_fall_back_to_polling: multi_thread,
    a_sticky_balancer_gets_its_cookie_back: multi_thread,
    a_server_that_dies_mid_stream_ends_the_session_with_1006: multi_thread,
}

// ---- a proxy stand-in ------------------------------------------------------

/// What the proxy does with each connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Passes bytes both ways, until told to kill every connection.
    Pass,
    /// One request per connection (`Connection: close` added), and the
    /// answer held until the server ends it: a proxy that buffers whole
    /// responses, which no streaming response gets through.
    Buffering,
    /// A load balancer with sticky sessions: `/info` answers carry
    /// `Set-Cookie: LB=node-1`, and any other request without that cookie
    /// gets 503.
    Sticky,
}

struct Proxy {
    addr: SocketAddr,
    kill: std::sync::Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    async fn start(server: SocketAddr, mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let kill = std::sync::Arc::new(tokio::sync::Notify::new());
        let notify = kill.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { return };
                        conns.spawn(relay(client, server, mode));
                    }
                    () = notify.notified() => conns.abort_all(),
                }
            }
        });
        Self { addr, kill, task }
    }
}

/// Reads up to the end of a request head.
async fn read_head(client: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).await.ok()? == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.push(byte[0]);
    }
    Some(head)
}

/// `head` with `line` added after the first line.
fn with_header(head: &[u8], line: &str) -> Vec<u8> {
    let at = head.windows(2).position(|w| w == b"\r\n").unwrap_or(0) + 2;
    [&head[..at], line.as_bytes(), &head[at..]].concat()
}

async fn relay(mut client: TcpStream, server: SocketAddr, mode: Mode) {
    let Ok(mut upstream) = TcpStream::connect(server).await else {
        return;
    };
    if mode == Mode::Pass {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return;
    }
    let Some(head) = read_head(&mut client).await else {
        return;
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let info = text.lines().next().is_some_and(|l| l.contains("/info"));
    if mode == Mode::Sticky && !info && !text.contains("LB=node-1") {
        let refusal =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let _ = client.write_all(refusal.as_bytes()).await;
        return;
    }
    let upgrade = text.to_ascii_lowercase().contains("upgrade: websocket");
    let head = if upgrade {
        head
    } else {
        with_header(&head, "Connection: close\r\n")
    };
    if upstream.write_all(&head).await.is_err() {
        return;
    }
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    // The request's body, and what a WebSocket sends, pass at once.
    let up = tokio::spawn(async move {
        let _ = tokio::io::copy(&mut client_read, &mut upstream_write).await;
    });
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let mut head_done = false;
    while let Ok(n) = upstream_read.read(&mut buf).await {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
        if mode == Mode::Sticky && !head_done {
            if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                head_done = true;
                if info {
                    let rest = answer.split_off(end + 4);
                    answer = [
                        with_header(&answer, "Set-Cookie: LB=node-1; Path=/\r\n"),
                        rest,
                    ]
                    .concat();
                }
            }
        }
        if mode == Mode::Sticky && head_done {
            if client_write.write_all(&answer).await.is_err() {
                break;
            }
            answer.clear();
        }
    }
    let _ = client_write.write_all(&answer).await;
    let _ = client_write.shutdown().await;
    up.abort();
}
