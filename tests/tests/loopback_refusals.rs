//! Refusals on SockJS endpoints over loopback, on every runtime and
//! mounted in axum: an interceptor's refusal (and the endpoint's own 403,
//! 404, 405) carries the CORS headers of the endpoint's answers on the
//! paths whose answers carry them, so that a page on an allowed origin
//! reads the status; an origin that is not allowed is granted nothing;
//! `/info` is refused only with `intercept_info`.

use adapter_core::http_proto::http::StatusCode;
use adapter_core::server::{Rejection, Server, ServerBuilder, Session, SockJsEndpoint};
use adapter_core::sockjs_proto::{AllowedOrigins, SockJsConfig};
use adapter_core::Executor;
use futures_util::StreamExt as _;
use sockway_tests::loopback::{AxumTestServer, Client, Response, TestServer};
use sockway_tests::runtime::{ServerRuntime, Tokio};

const PAGE: &str = "http://page.test";
const TOKEN: &str = "token=let+me+in";

async fn echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send(message).is_err() {
            break;
        }
    }
}

/// An echo whose interceptor lets in only `?token=let+me+in` (401
/// otherwise), with `config`.
fn guarded(config: SockJsConfig) -> SockJsEndpoint {
    SockJsEndpoint::new(echo)
        .config(config.session_cookie_needed(false))
        .before_handshake(|req, attrs| match req.query_param("token") {
            Some(token) if token == "let me in" => {
                attrs.insert("user", "guest");
                Ok(())
            }
            _ => Err(Rejection::new(StatusCode::UNAUTHORIZED)),
        })
}

/// `/auth` (any origin), `/auth_info` (the same, `/info` intercepted) and
/// `/same` (its own origin only).
fn endpoints<R: Executor>() -> ServerBuilder<R> {
    let any = SockJsConfig::default().allowed_origins(AllowedOrigins::Any);
    Server::<R>::builder()
        .sockjs("/auth", guarded(any.clone()))
        .sockjs("/auth_info", guarded(any).intercept_info(true))
        .sockjs("/same", guarded(SockJsConfig::default()))
}

/// What a browser needs to show a page on `origin` a response to a
/// request with credentials (sockjs-client's XHRs send them).
#[track_caller]
fn assert_readable_from(res: &Response, origin: &str, what: &str) {
    assert_eq!(
        res.get("Access-Control-Allow-Origin"),
        Some(origin),
        "{what}: {}",
        res.head.raw
    );
    assert_eq!(
        res.get("Access-Control-Allow-Credentials"),
        Some("true"),
        "{what}"
    );
    assert_eq!(res.get("Vary"), Some("Origin"), "{what}");
}

#[track_caller]
fn assert_grants_nothing(res: &Response, what: &str) {
    assert_eq!(
        res.get("Access-Control-Allow-Origin"),
        None,
        "{what}: {}",
        res.head.raw
    );
    assert_eq!(res.get("Access-Control-Allow-Credentials"), None, "{what}");
}

async fn refusals_carry_the_cors_headers_of_the_answers(connect: impl AsyncFnMut() -> Client) {
    let mut connect = connect;
    let origin = ("Origin", PAGE);

    // An interceptor's refusal on each CORS path, and the answer with the
    // token: the same CORS headers.
    for (method, transport) in [
        ("POST", "xhr"),
        ("POST", "xhr_streaming"),
        ("GET", "eventsource"),
    ] {
        let mut c = connect().await;
        let target = format!("/auth/000/r{transport}/{transport}");
        let res = c.roundtrip(method, &target, &[origin], b"").await;
        assert_eq!(
            (res.status(), res.text()),
            (401, "Unauthorized"),
            "{target}"
        );
        assert_readable_from(&res, PAGE, &target);
        // Without an Origin: `*`, as the answers.
        let res = c.roundtrip(method, &target, &[], b"").await;
        assert_eq!(res.status(), 401);
        assert_eq!(res.get("Access-Control-Allow-Origin"), Some("*"));
        assert_eq!(res.get("Access-Control-Allow-Credentials"), None);
        // The SockJS refusal kept the connection; the token opens.
        let target = format!("/auth/000/a{transport}/{transport}?{TOKEN}");
        c.request(method, &target, &[origin], b"").await;
        let head = c.read_head().await;
        assert_eq!(head.status, 200, "{target}");
        assert_eq!(head.get("Access-Control-Allow-Origin"), Some(PAGE));
        assert_eq!(head.get("Access-Control-Allow-Credentials"), Some("true"));
    }

    // The paths whose answers carry no CORS headers: the refusal neither.
    let mut c = connect().await;
    for target in ["/auth/000/j/jsonp?c=cb", "/auth/000/h/htmlfile?c=cb"] {
        let res = c.roundtrip("GET", target, &[origin], b"").await;
        assert_eq!(res.status(), 401, "{target}");
        assert_grants_nothing(&res, target);
    }
    let mut ws = connect().await;
    let res = ws
        .roundtrip(
            "GET",
            "/auth/000/w/websocket",
            &[
                origin,
                ("Upgrade", "websocket"),
                ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13"),
            ],
            b"",
        )
        .await;
    assert_eq!(res.status(), 401, "{}", res.head.raw);
    assert_grants_nothing(&res, "websocket");

    // What the interceptors do not see: a preflight (no credentials), an
    // unknown session's send (the endpoint's 404), and /info unless asked.
    let res = c
        .roundtrip(
            "OPTIONS",
            "/auth/000/p/xhr",
            &[origin, ("Access-Control-Request-Method", "POST")],
            b"",
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_readable_from(&res, PAGE, "preflight");
    let res = c
        .roundtrip("POST", "/auth/000/none/xhr_send", &[origin], b"[\"x\"]")
        .await;
    assert_eq!(res.status(), 404);
    assert_readable_from(&res, PAGE, "xhr_send");
    let res = c.roundtrip("GET", "/auth/info", &[origin], b"").await;
    assert_eq!(res.status(), 200);
    assert_readable_from(&res, PAGE, "/auth/info");
    let res = c.roundtrip("GET", "/auth_info/info", &[origin], b"").await;
    assert_eq!(
        (res.status(), res.text()),
        (401, "Unauthorized"),
        "intercepted /info"
    );
    assert_readable_from(&res, PAGE, "/auth_info/info");
    let res = c
        .roundtrip("GET", &format!("/auth_info/info?{TOKEN}"), &[origin], b"")
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text().starts_with("{\"websocket\":true"),
        "{}",
        res.text()
    );
    assert_readable_from(&res, PAGE, "/auth_info/info with the token");

    // An origin the endpoint does not allow gets nothing it could read:
    // the interceptor's refusal, the endpoint's own 403.
    let evil = ("Origin", "http://evil.test");
    let res = c.roundtrip("POST", "/same/000/e/xhr", &[evil], b"").await;
    assert_eq!(res.status(), 401);
    assert_grants_nothing(&res, "refusal from another origin");
    assert_eq!(res.get("Vary"), Some("Origin"));
    let target = format!("/same/000/e/xhr?{TOKEN}");
    let res = c.roundtrip("POST", &target, &[evil], b"").await;
    assert_eq!((res.status(), res.text()), (403, "Forbidden"));
    assert_grants_nothing(&res, "403");
    assert_eq!(res.get("Vary"), Some("Origin"));
    let res = c.roundtrip("GET", "/same/info", &[evil], b"").await;
    assert_eq!(res.status(), 403);
    assert_grants_nothing(&res, "403 on /info");
}

async fn on_each_runtime<R: ServerRuntime>() {
    let server = TestServer::start(endpoints::<R>());
    refusals_carry_the_cors_headers_of_the_answers(async || server.client().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mounted_in_axum() {
    let server = AxumTestServer::start(endpoints::<Tokio>());
    let addr = server.addr;
    refusals_carry_the_cors_headers_of_the_answers(async || Client::connect(addr).await).await;
}

sockway_tests::for_each_runtime! {
    on_each_runtime,
}
