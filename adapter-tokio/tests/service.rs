//! The endpoints as a tower service on hyper, over loopback: HTTP/2 with
//! prior knowledge (h2c), where the HTTP transports work and websocket
//! requests are refused cleanly (there is no `Upgrade`); HTTP/1.1, where
//! the websocket transport upgrades; a request body over the limit.
//! Every wait is bounded.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use adapter_tokio::server::{Server, Session, SockJsEndpoint, WebSocketEndpoint};
use adapter_tokio::service::Endpoints;
use adapter_tokio::{http_proto::Limits, Message};
use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

async fn echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send_async(message).await.is_err() {
            break;
        }
    }
}

/// Serves `/echo` (SockJS) and `/ws` (WebSocket) as one service on hyper's
/// HTTP/1.1 + HTTP/2 server, on a free loopback port, until the returned
/// task is aborted.
async fn serve() -> (SocketAddr, JoinHandle<()>) {
    let service = Endpoints::new(
        Server::builder()
            .http_limits(Limits::default().max_body_size(64 * 1024))
            .sockjs("/echo", SockJsEndpoint::new(echo))
            .websocket("/ws", WebSocketEndpoint::new(echo)),
    )
    .expect("valid endpoints");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("an address");
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, remote)) = listener.accept().await else {
                return;
            };
            let _ = tcp.set_nodelay(true);
            let service = service.clone();
            let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                req.extensions_mut().insert(remote);
                tower_service_call(service.clone(), req)
            });
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    (addr, task)
}

async fn tower_service_call(
    mut service: Endpoints,
    req: Request<Incoming>,
) -> Result<hyper::Response<adapter_tokio::service::Body>, Infallible> {
    use tower_service::Service as _;
    service.call(req).await
}

type Sender = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

/// An HTTP/2 connection with prior knowledge.
async fn h2(addr: SocketAddr) -> Sender {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .expect("an h2c handshake");
    tokio::spawn(conn);
    sender
}

fn req(method: &str, addr: SocketAddr, path: &str, body: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"))
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .expect("a request")
}

/// Sends a request and reads its whole answer.
async fn call(sender: &mut Sender, request: Request<Full<Bytes>>) -> (u16, String) {
    let res = timeout(LIMIT, sender.send_request(request))
        .await
        .expect("an answer in time")
        .expect("an answer");
    let status = res.status().as_u16();
    let body = timeout(LIMIT, res.into_body().collect())
        .await
        .expect("a body in time")
        .expect("a body")
        .to_bytes();
    (status, String::from_utf8(body.to_vec()).expect("UTF-8"))
}

/// Reads a streaming body until what came satisfies `done`.
async fn read_until(body: &mut Incoming, done: impl Fn(&str) -> bool) -> String {
    let mut seen = String::new();
    while !done(&seen) {
        let frame = timeout(LIMIT, body.frame())
            .await
            .expect("in time")
            .expect("more body")
            .expect("a frame");
        if let Ok(data) = frame.into_data() {
            seen.push_str(std::str::from_utf8(&data).expect("UTF-8"));
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_h2c_the_http_transports_work_and_websocket_is_refused() {
    let (addr, server) = serve().await;
    let mut h2 = h2(addr).await;

    // xhr-polling: open, send, poll.
    assert_eq!(
        call(&mut h2, req("POST", addr, "/echo/000/p1/xhr", "")).await,
        (200, "o\n".to_owned())
    );
    assert_eq!(
        call(
            &mut h2,
            req("POST", addr, "/echo/000/p1/xhr_send", "[\"polled\"]")
        )
        .await,
        (204, String::new())
    );
    assert_eq!(
        call(&mut h2, req("POST", addr, "/echo/000/p1/xhr", "")).await,
        (200, "a[\"polled\"]\n".to_owned())
    );

    // xhr-streaming: the prelude and the open frame, then an echo, on one
    // HTTP/2 stream while another stream carries the send.
    let res = timeout(
        LIMIT,
        h2.send_request(req("POST", addr, "/echo/000/s1/xhr_streaming", "")),
    )
    .await
    .expect("in time")
    .expect("an answer");
    assert_eq!(res.status(), 200);
    let mut body = res.into_body();
    let seen = read_until(&mut body, |seen| seen.ends_with("o\n")).await;
    assert_eq!(seen, format!("{}\no\n", "h".repeat(2048)));
    assert_eq!(
        call(
            &mut h2,
            req("POST", addr, "/echo/000/s1/xhr_send", "[\"streamed\"]")
        )
        .await,
        (204, String::new())
    );
    let seen = read_until(&mut body, |seen| seen.ends_with('\n')).await;
    assert_eq!(seen, "a[\"streamed\"]\n");
    drop(body);

    // websocket: no Upgrade in HTTP/2, answered as SockJS answers a GET
    // that is no upgrade; no session opens; the connection goes on.
    assert_eq!(
        call(&mut h2, req("GET", addr, "/echo/000/w1/websocket", "")).await,
        (400, "Can \"Upgrade\" only to \"WebSocket\".".to_owned())
    );
    let (status, _) = call(&mut h2, req("GET", addr, "/ws", "")).await;
    assert_eq!(status, 400, "the plain WebSocket endpoint refuses too");
    let (status, info) = call(&mut h2, req("GET", addr, "/echo/info", "")).await;
    assert_eq!(status, 200);
    assert!(info.contains("\"websocket\":true"), "{info}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_http1_websockets_upgrade_through_the_service() {
    let (addr, server) = serve().await;
    // The plain WebSocket endpoint.
    let (mut ws, _) = timeout(
        LIMIT,
        adapter_tokio::connect_url(&format!("ws://{addr}/ws")),
    )
    .await
    .expect("in time")
    .expect("an upgrade");
    ws.send(Message::from("through hyper")).await.expect("sent");
    let echoed = timeout(LIMIT, ws.next())
        .await
        .expect("in time")
        .expect("a message")
        .expect("valid");
    assert_eq!(echoed.as_bytes(), b"through hyper");
    // The SockJS websocket transport.
    let (mut sj, _) = timeout(
        LIMIT,
        adapter_tokio::connect_url(&format!("ws://{addr}/echo/000/u1/websocket")),
    )
    .await
    .expect("in time")
    .expect("an upgrade");
    let open = timeout(LIMIT, sj.next())
        .await
        .expect("in time")
        .expect("o")
        .expect("valid");
    assert_eq!(open.as_bytes(), b"o");
    sj.send(Message::from("[\"framed\"]")).await.expect("sent");
    let echoed = timeout(LIMIT, sj.next())
        .await
        .expect("in time")
        .expect("a")
        .expect("valid");
    assert_eq!(echoed.as_bytes(), b"a[\"framed\"]");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_body_over_the_limit_is_refused_with_413() {
    let (addr, server) = serve().await;
    let mut h2 = h2(addr).await;
    assert_eq!(
        call(&mut h2, req("POST", addr, "/echo/000/b1/xhr", ""))
            .await
            .0,
        200
    );
    let big = format!("[\"{}\"]", "x".repeat(64 * 1024));
    let (status, _) = call(&mut h2, req("POST", addr, "/echo/000/b1/xhr_send", &big)).await;
    assert_eq!(status, 413);
    server.abort();
}
