//! The endpoints nested in an axum `Router` with `nest_service`: a SockJS
//! endpoint routes the path the client sent under the prefix, also where
//! axum's prefix stripping drops the `/` of an empty segment (`/echo//`
//! reaches the service as `/`, as `/echo/` does). The router is called as
//! a service, with no socket.

use adapter_tokio::server::{Server, Session, SockJsEndpoint, WebSocketEndpoint};
use adapter_tokio::service::Endpoints;
use axum::body::Body;
use http_body_util::BodyExt as _;
use hyper::{Request, StatusCode};
use tower_service::Service as _;

async fn idle(_: Session) {}

/// The status and body of `GET path` through `router`.
async fn get(router: &mut axum::Router, path: &str) -> (StatusCode, String) {
    let req = Request::get(path).body(Body::empty()).expect("a request");
    let res = router.call(req).await.expect("infallible");
    let status = res.status();
    let body = res.into_body().collect().await.expect("a body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn a_nested_sockjs_endpoint_routes_the_path_the_client_sent() {
    let sockjs = Endpoints::new(Server::builder().sockjs("/", SockJsEndpoint::new(idle)))
        .expect("valid endpoints");
    let ws = Endpoints::new(Server::builder().websocket("", WebSocketEndpoint::new(idle)))
        .expect("valid endpoints");
    let mut router = axum::Router::new()
        .nest_service("/echo", sockjs.clone())
        .nest_service("/{tenant}/chat", sockjs)
        .route_service("/ws", ws);
    for prefix in ["/echo", "/acme/chat"] {
        for (path, status, body) in [
            ("", StatusCode::OK, "Welcome to SockJS!\n"),
            ("/", StatusCode::OK, "Welcome to SockJS!\n"),
            ("/?t=1", StatusCode::OK, "Welcome to SockJS!\n"),
            ("//", StatusCode::NOT_FOUND, "Not Found"),
            ("//?t=1", StatusCode::NOT_FOUND, "Not Found"),
            ("///", StatusCode::NOT_FOUND, "Not Found"),
            ("//info", StatusCode::NOT_FOUND, "Not Found"),
            ("/a//b/xhr", StatusCode::NOT_FOUND, "Not Found"),
            ("/iframe.html", StatusCode::OK, "<!DOCTYPE html>"),
        ] {
            let (got, text) = get(&mut router, &format!("{prefix}{path}")).await;
            assert_eq!(got, status, "{prefix}{path}");
            assert!(text.starts_with(body), "{prefix}{path}: {text}");
        }
        let (got, text) = get(&mut router, &format!("{prefix}/info")).await;
        assert_eq!(got, StatusCode::OK, "{prefix}/info");
        assert!(
            text.starts_with("{\"websocket\":true"),
            "{prefix}/info: {text}"
        );
    }
    // A service routed at its exact path keeps it: a plain WebSocket
    // endpoint refuses a request that is no upgrade.
    let (got, _) = get(&mut router, "/ws").await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
}
