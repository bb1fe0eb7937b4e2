//! The WebSocket client given a request (`connect_url` with an
//! `http::Request<()>`) over loopback, on every runtime: the client of `R`
//! (`adapter_core::connect_url_with::<R>`, what each adapter's
//! `connect_url` runs, on `R`'s own executor) against a server on `R`.
//! Headers and cookies reach the server's handshake interceptor, a
//! subprotocol is negotiated, and a request the handshake cannot send is
//! refused with its typed error before anything is connected.

use adapter_core::http::{self, Method};
use adapter_core::server::Server;
use adapter_core::ws_proto::handshake::{InvalidRequest, ResponseError};
use adapter_core::{Clock, CloseCode, ConnectOptions, Error, Message, Runtime};
use sockway_tests::client::on;
use sockway_tests::loopback::TestServer;
use sockway_tests::request::{full_report, full_request, reporting, SPOKEN};
use sockway_tests::runtime::ServerRuntime;

fn options<R: Runtime>() -> ConnectOptions {
    ConnectOptions::default().clock(Clock::of::<R>())
}

async fn headers_cookies_and_a_subprotocol_reach_the_server<R: ServerRuntime>() {
    let server = TestServer::start(Server::<R>::builder().websocket("/ws", reporting()));
    let url = server.ws_url("/ws?room=1");
    on::<R, _>(async move {
        // The same URL without the request's headers: the interceptor
        // refuses it.
        let refused = adapter_core::connect_url_with::<R>(&url, options::<R>())
            .await
            .map(drop)
            .unwrap_err();
        assert!(
            matches!(refused, Error::Response(ResponseError::Status(401))),
            "{refused:?}"
        );

        let (mut ws, response) =
            adapter_core::connect_url_with::<R>(full_request(&url), options::<R>())
                .await
                .expect("the upgrade");
        assert_eq!(response.protocol.as_deref(), Some(SPOKEN));
        assert_eq!(
            response.headers.get(http::header::SEC_WEBSOCKET_PROTOCOL),
            Some(&http::HeaderValue::from_static(SPOKEN))
        );
        let report = ws.recv().await.expect("a report").expect("a clean report");
        assert_eq!(report.as_text(), Some(full_report("/ws?room=1").as_str()));
        ws.send("after the handshake").await.expect("sent");
        let echo = ws.recv().await.expect("an echo").expect("a clean echo");
        assert_eq!(echo, Message::from("after the handshake"));
        ws.close(CloseCode::NORMAL, "").await.expect("closed");
        assert!(ws.recv().await.is_none());
    })
    .await;
}

async fn a_request_the_handshake_cannot_send_is_refused_before_connecting<R: ServerRuntime>() {
    // Nothing listens there: a request that got as far as connecting would
    // fail with an I/O error instead.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("its address")
        .port();
    let url = format!("ws://127.0.0.1:{port}/ws");
    let with = |name: &str, value: &str| {
        let request = full_request(&url);
        let (mut parts, ()) = request.into_parts();
        parts.headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a name"),
            http::HeaderValue::from_str(value).expect("a value"),
        );
        http::Request::from_parts(parts, ())
    };
    let mut post = full_request(&url);
    *post.method_mut() = Method::POST;
    let cases = [
        (
            with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            InvalidRequest::ReservedHeader("sec-websocket-key".into()),
        ),
        (
            with("Sec-WebSocket-Version", "8"),
            InvalidRequest::ReservedHeader("sec-websocket-version".into()),
        ),
        (
            with("Upgrade", "h2c"),
            InvalidRequest::ReservedHeader("upgrade".into()),
        ),
        (
            with("Connection", "keep-alive"),
            InvalidRequest::ReservedHeader("connection".into()),
        ),
        (
            with("Sec-WebSocket-Extensions", "permessage-deflate"),
            InvalidRequest::ReservedHeader("sec-websocket-extensions".into()),
        ),
        (
            with("Sec-WebSocket-Protocol", "not a token"),
            InvalidRequest::Protocol("not a token".into()),
        ),
        (post, InvalidRequest::Method(Method::POST)),
    ];
    on::<R, _>(async move {
        for (request, expected) in cases {
            match adapter_core::connect_url_with::<R>(request, options::<R>()).await {
                Err(Error::InvalidRequest(refused)) => assert_eq!(refused, expected),
                other => panic!("expected {expected:?}, got {:?}", other.map(drop)),
            }
        }
    })
    .await;
}

sockway_tests::for_each_runtime! {
    headers_cookies_and_a_subprotocol_reach_the_server,
    a_request_the_handshake_cannot_send_is_refused_before_connecting,
}
