//! The axum example application (examples/axum_app.rs), served on
//! loopback: its REST routes and static files next to the mounted
//! endpoints on one port; the chat's user from the session cookie that the
//! axum middleware checks, read by the endpoint's interceptor from the
//! request's extensions; the public SockJS echo and the raw WebSocket
//! echo. Every wait is bounded.

#![allow(dead_code)]

#[path = "../examples/axum_app.rs"]
mod axum_app;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use sockway::Message;
use tokio::net::TcpStream;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

/// Serves the application on a free loopback port.
async fn serve() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let (router, _handles) = axum_app::app().expect("valid endpoints");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    (addr, task)
}

struct Answer {
    status: u16,
    cookie: Option<String>,
    body: String,
}

/// One request on a connection of its own.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> Answer {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("a handshake");
    tokio::spawn(conn);
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    if let Some(sid) = cookie {
        req = req.header("cookie", format!("sid={sid}"));
    }
    if method == "POST" && path == "/api/login" {
        req = req.header("content-type", "application/x-www-form-urlencoded");
    }
    let req = req
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .expect("a request");
    let res = timeout(LIMIT, sender.send_request(req))
        .await
        .expect("an answer in time")
        .expect("an answer");
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sid="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    let body = timeout(LIMIT, res.into_body().collect())
        .await
        .expect("a body in time")
        .expect("a body")
        .to_bytes();
    Answer {
        status,
        cookie,
        body: String::from_utf8(body.to_vec()).expect("UTF-8"),
    }
}

async fn login(addr: SocketAddr, name: &str) -> String {
    let res = call(addr, "POST", "/api/login", None, &format!("name={name}")).await;
    assert_eq!(res.status, 200, "{}", res.body);
    res.cookie.expect("a session cookie")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_static_files_and_endpoints_share_one_port() {
    let (addr, server) = serve().await;
    let health = call(addr, "GET", "/api/health", None, "").await;
    assert_eq!(
        (health.status, health.body.as_str()),
        (200, "{\"ok\":true}")
    );
    let page = call(addr, "GET", "/", None, "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("/chat.js"), "{}", page.body);
    let script = call(addr, "GET", "/chat.js", None, "").await;
    assert!(
        script.body.contains("new SockJS('/chat'"),
        "{}",
        script.body
    );
    // The public SockJS echo, nested at /echo.
    let info = call(addr, "GET", "/echo/info", None, "").await;
    assert_eq!(info.status, 200);
    assert!(info.body.contains("\"websocket\":true"), "{}", info.body);
    assert_eq!(
        call(addr, "POST", "/echo/000/e1/xhr", None, "").await.body,
        "o\n"
    );
    assert_eq!(
        call(addr, "POST", "/echo/000/e1/xhr_send", None, "[\"echoed\"]")
            .await
            .status,
        204
    );
    assert_eq!(
        call(addr, "POST", "/echo/000/e1/xhr", None, "").await.body,
        "a[\"echoed\"]\n"
    );
    // The raw WebSocket echo at /ws.
    let (mut ws, _) = timeout(
        LIMIT,
        sockway::tokio::connect_url(&format!("ws://{addr}/ws")),
    )
    .await
    .expect("in time")
    .expect("an upgrade");
    ws.send(Message::from("raw")).await.expect("sent");
    let echoed = timeout(LIMIT, ws.next())
        .await
        .expect("in time")
        .expect("a message")
        .expect("valid");
    assert_eq!(echoed.as_bytes(), b"raw");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chat_takes_its_user_from_the_session_cookie() {
    let (addr, server) = serve().await;
    // No cookie, or one the application never gave: the middleware refuses.
    assert_eq!(call(addr, "GET", "/chat/info", None, "").await.status, 401);
    assert_eq!(
        call(addr, "POST", "/chat/000/x/xhr", Some("forged"), "")
            .await
            .status,
        401
    );
    assert_eq!(call(addr, "GET", "/api/me", None, "").await.status, 401);
    let bad = call(addr, "POST", "/api/login", None, "name=no%20spaces").await;
    assert_eq!(bad.status, 400);

    let alice = login(addr, "alice").await;
    let bob = login(addr, "bob").await;
    assert_ne!(alice, bob);
    let me = call(addr, "GET", "/api/me", Some(&alice), "").await;
    assert_eq!(me.body, "{\"name\":\"alice\"}");
    assert_eq!(
        call(addr, "GET", "/chat/info", Some(&alice), "")
            .await
            .status,
        200
    );

    let poll = |sid: &str, session: &'static str| {
        let sid = sid.to_owned();
        async move {
            call(
                addr,
                "POST",
                &format!("/chat/000/{session}/xhr"),
                Some(&sid),
                "",
            )
            .await
            .body
        }
    };
    assert_eq!(poll(&alice, "a1").await, "o\n");
    assert_eq!(poll(&alice, "a1").await, "a[\"* alice joined\"]\n");
    assert_eq!(poll(&bob, "b1").await, "o\n");
    assert_eq!(poll(&bob, "b1").await, "a[\"* bob joined\"]\n");
    let sent = call(
        addr,
        "POST",
        "/chat/000/a1/xhr_send",
        Some(&alice),
        "[\"hi\"]",
    )
    .await;
    assert_eq!(sent.status, 204);
    // The name is the one the cookie gave, on every member's session.
    assert_eq!(poll(&bob, "b1").await, "a[\"alice: hi\"]\n");
    assert_eq!(
        poll(&alice, "a1").await,
        "a[\"* bob joined\",\"alice: hi\"]\n"
    );
    // Every request of a session is authenticated: without the cookie,
    // a send is refused before it reaches the endpoint.
    let anonymous = call(addr, "POST", "/chat/000/a1/xhr_send", None, "[\"x\"]").await;
    assert_eq!(anonymous.status, 401);
    server.abort();
}
