//! The authenticated example, run as a child process: a valid token (a
//! bearer header, `?token=` or a cookie) opens a session whose handler
//! knows the user's name, on the SockJS endpoint and on the WebSocket one;
//! no token or a bad one gets 401, which the WebSocket client reports as
//! the typed handshake error and the SockJS client as the failure of
//! every transport it tried.

#![cfg(all(unix, feature = "tokio"))]

mod common;

use common::{Example, LIMIT};
use futures_util::StreamExt as _;
use sockway::http::header::AUTHORIZATION;
use sockway::http::HeaderValue;
use sockway::tokio::sockjs::{self, ClientError, ClientOptions, Failure, Transport};
use sockway::ws_proto::handshake::ResponseError;
use sockway::{ClientRequest, Error, Message};
use tokio::time::timeout;

const ALICE: &str = "alice-secret-token";

/// The next message's text.
async fn next_text(session: &mut sockjs::ClientSession) -> String {
    let message = timeout(LIMIT, session.next())
        .await
        .expect("a message in time")
        .expect("a message");
    String::from_utf8(message.as_bytes().to_vec()).expect("UTF-8")
}

/// A SockJS session over every transport with `options`: greeted by name,
/// and its messages echoed under the name.
async fn sockjs_session_knows_alice(url: &str, options: ClientOptions) {
    for transport in [
        Transport::WebSocket,
        Transport::XhrStreaming,
        Transport::Xhr,
    ] {
        let options = options.clone().transports([transport]);
        let mut session = timeout(LIMIT, sockjs::connect_with(url, options))
            .await
            .expect("the session opens in time")
            .unwrap_or_else(|e| panic!("{transport:?}: {e}"));
        assert_eq!(next_text(&mut session).await, "welcome, alice");
        session.send_async("hi").await.expect("a send");
        assert_eq!(next_text(&mut session).await, "alice: hi");
        session.close(1000, "done").expect("a close");
        session.closed().await;
    }
}

/// The SockJS client's refusal: every transport failed with 401.
async fn sockjs_refused(url: &str, options: ClientOptions) {
    let refused = timeout(LIMIT, sockjs::connect_with(url, options))
        .await
        .expect("the answer in time");
    let Err(Error::SockJs(closed)) = refused else {
        panic!("expected the session to be refused, got {refused:?}");
    };
    // sockjs-client's code when no transport opens.
    assert_eq!(closed.code.0, 2000, "{closed}");
    let Some(ClientError::AllTransportsFailed(failures)) = &closed.error else {
        panic!("expected every transport to fail: {closed}");
    };
    // The websocket transport reads the refusal as a failed handshake.
    assert_eq!(
        failures,
        &[
            (
                Transport::WebSocket,
                Failure::Handshake(ResponseError::Status(401))
            ),
            (Transport::XhrStreaming, Failure::Status(401)),
            (Transport::Xhr, Failure::Status(401)),
        ],
        "{closed}"
    );
}

/// A WebSocket to `/ws` with `header` (name, value), if any.
async fn websocket(
    addr: &str,
    target: &str,
    header: Option<(&str, &str)>,
) -> Result<sockway::tokio::WebSocketStream<tokio::net::TcpStream>, Error> {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut request = ClientRequest::new(addr, target);
    if let Some((name, value)) = header {
        request = request.header(name, value);
    }
    timeout(LIMIT, sockway::tokio::connect(tcp, request))
        .await
        .expect("the answer in time")
        .map(|(ws, _response)| ws)
}

/// The next text message on `ws`.
async fn ws_text(ws: &mut sockway::tokio::WebSocketStream<tokio::net::TcpStream>) -> String {
    match timeout(LIMIT, ws.recv()).await.expect("a message in time") {
        Some(Ok(Message::Text(text))) => text.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// The WebSocket greets alice and echoes under her name.
async fn websocket_knows_alice(mut ws: sockway::tokio::WebSocketStream<tokio::net::TcpStream>) {
    assert_eq!(ws_text(&mut ws).await, "welcome, alice");
    ws.send("hi").await.expect("a send");
    assert_eq!(ws_text(&mut ws).await, "alice: hi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_opens_sessions_that_know_the_user() {
    let (_server, addr) = Example::serve("authenticated");
    let chat = format!("http://{addr}/chat");
    let bearer = HeaderValue::from_str(&format!("Bearer {ALICE}")).expect("a header value");
    sockjs_session_knows_alice(
        &chat,
        ClientOptions::default().header(AUTHORIZATION, bearer),
    )
    .await;
    sockjs_session_knows_alice(&format!("{chat}?token={ALICE}"), ClientOptions::default()).await;
    sockjs_session_knows_alice(&chat, ClientOptions::default().cookie("token", ALICE)).await;

    let bearer = format!("Bearer {ALICE}");
    websocket_knows_alice(
        websocket(&addr, "/ws", Some(("Authorization", &bearer)))
            .await
            .expect("a bearer token opens it"),
    )
    .await;
    websocket_knows_alice(
        websocket(&addr, &format!("/ws?token={ALICE}"), None)
            .await
            .expect("?token= opens it"),
    )
    .await;
    websocket_knows_alice(
        websocket(&addr, "/ws", Some(("Cookie", &format!("token={ALICE}"))))
            .await
            .expect("the cookie opens it"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_a_bad_one_is_refused_with_401() {
    let (_server, addr) = Example::serve("authenticated");
    let chat = format!("http://{addr}/chat");
    sockjs_refused(&chat, ClientOptions::default()).await;
    let bad = HeaderValue::from_static("Bearer not-a-token");
    sockjs_refused(&chat, ClientOptions::default().header(AUTHORIZATION, bad)).await;
    sockjs_refused(&format!("{chat}?token=nope"), ClientOptions::default()).await;
    sockjs_refused(&chat, ClientOptions::default().cookie("token", "nope")).await;

    for (target, header) in [
        ("/ws", None),
        ("/ws", Some(("Authorization", "Bearer not-a-token"))),
        ("/ws", Some(("Authorization", "Basic YWxpY2U6cHc="))),
        ("/ws?token=nope", None),
        ("/ws", Some(("Cookie", "token=nope"))),
    ] {
        match websocket(&addr, target, header).await {
            Err(Error::Response(ResponseError::Status(401))) => {}
            other => panic!(
                "{target} {header:?}: expected 401, got {:?}",
                other.map(|_| ())
            ),
        }
    }
}
