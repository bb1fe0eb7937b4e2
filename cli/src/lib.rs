//! The ready server of the `sockway` command: the standard SockJS test
//! endpoints, a WebSocket echo and a demo page, on one listener.
//!
//! | path | what |
//! | --- | --- |
//! | `/echo` | SockJS echo; default options but `streamBytesLimit` 4096 |
//! | `/disabled_websocket_echo` | SockJS echo without the websocket transport |
//! | `/cookie_needed_echo` | SockJS echo with `sessionCookieNeeded` |
//! | `/close` | closes every session at once with `c[3000,"Go away!"]` |
//! | `/amplify` | a message `n` (0 to 19) answers with `2^n` `x` characters |
//! | `/broadcast` | every message goes to every open session |
//! | `/auth_echo` | SockJS echo behind an interceptor: a session opens only with `?token=let+me+in` (401 otherwise) |
//! | `/auth_info_echo` | the same, and the interceptor refuses `/info` too (`intercept_info`) |
//! | `/ws` | plain WebSocket echo (text and binary) |
//! | `/ws/broadcast` | plain WebSocket: every message (text or binary) goes to every open session of this path |
//! | `/` | a chat page on `/broadcast` that uses sockjs-client |
//!
//! The iframe page of every SockJS endpoint and the demo page load
//! sockjs-client from the same URL,
//! [`ServeOptions::client_library_url`] (a CDN by default).

use std::time::Duration;

use adapter_core::http::StatusCode;
use adapter_core::http_proto::{IpRange, Limits};
use adapter_core::server::{
    Attributes, Group, HandshakeRequest, Rejection, Server, ServerBuilder, Session, SockJsEndpoint,
    WebSocketEndpoint,
};
use adapter_core::sockjs_proto::{AllowedOrigins, SockJsConfig, DEFAULT_CLIENT_LIBRARY_URL};
use adapter_core::{CloseCode, Executor};
use futures_util::StreamExt as _;

pub mod load;
pub mod stack;

/// The demo page served at `/`, as served with the default options: it
/// loads sockjs-client from [`DEFAULT_CLIENT_LIBRARY_URL`].
pub const DEMO_PAGE: &str = include_str!("demo.html");

/// The demo page loading sockjs-client from `client_library_url` instead of
/// [`DEFAULT_CLIENT_LIBRARY_URL`]. The URL goes into a `src="..."`
/// attribute as it is: pass one that `SockJsConfig::validate` accepts (no
/// quotes, angle brackets, ampersands or whitespace).
pub fn demo_page(client_library_url: &str) -> String {
    DEMO_PAGE.replace(DEFAULT_CLIENT_LIBRARY_URL, client_library_url)
}

/// Options of the ready server.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Every endpoint's `heartbeatTime`.
    pub heartbeat_time: Duration,
    /// Every endpoint's `disconnectDelay`.
    pub disconnect_delay: Duration,
    /// Which origins the endpoints take.
    pub allowed_origins: AllowedOrigins,
    /// Where the iframe pages (`clientLibraryUrl`) and the demo page load
    /// sockjs-client from.
    pub client_library_url: String,
    /// The reverse proxies whose `Forwarded` or `X-Forwarded-For` headers
    /// name the client (for the binding of SockJS sessions to their
    /// client); none by default.
    pub trusted_proxies: Vec<IpRange>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            heartbeat_time: Duration::from_secs(25),
            disconnect_delay: Duration::from_secs(5),
            allowed_origins: AllowedOrigins::Any,
            client_library_url: DEFAULT_CLIENT_LIBRARY_URL.to_owned(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// Echoes every message back until the session closes, at the pace of the
/// client: while the send buffer is full, the next message is not read (on
/// a WebSocket, neither is the socket), so a client that sends without
/// reading is held back by TCP instead of filling the server's memory.
async fn echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send_async(message).await.is_err() {
            break;
        }
    }
}

/// Closes the session as soon as it opens.
async fn close(session: Session) {
    let _ = session.close(CloseCode::GO_AWAY, "Go away!");
}

/// A message `n` answers with `2^n` `x` characters; `n` outside 0..=19 (or
/// not a number) counts as 1.
pub fn amplified(message: &str) -> String {
    let n = message
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= 19)
        .unwrap_or(1);
    "x".repeat(1 << n)
}

async fn amplify(mut session: Session) {
    while let Some(message) = session.next().await {
        let text = String::from_utf8_lossy(message.as_bytes()).into_owned();
        if session.send_async(amplified(&text)).await.is_err() {
            break;
        }
    }
}

/// The token `/auth_echo` and `/auth_info_echo` let in: the query
/// parameter `token`, decoded (`?token=let+me+in` or `?token=let%20me%20in`).
pub const AUTH_TOKEN: &str = "let me in";

/// The interceptor of `/auth_echo` and `/auth_info_echo`: 401 without
/// [`AUTH_TOKEN`].
fn token_required(request: &HandshakeRequest, _: &mut Attributes) -> Result<(), Rejection> {
    match request.query_param("token") {
        Some(token) if token == AUTH_TOKEN => Ok(()),
        _ => Err(Rejection::new(StatusCode::UNAUTHORIZED)),
    }
}

/// `/broadcast` and `/ws/broadcast` (a group each): every session joins
/// the group, and every message goes to all of its open sessions (the
/// author's included). A member that is closing or over its send buffer is
/// its own business; the others still get the message.
async fn broadcast(room: Group, mut session: Session) {
    room.join(&session);
    while let Some(message) = session.next().await {
        let _ = room.send(message);
    }
}

/// One endpoint or page of the ready server, at its path.
pub enum Mount {
    /// A SockJS endpoint at a prefix.
    SockJs(&'static str, SockJsEndpoint),
    /// A WebSocket endpoint at a path.
    WebSocket(&'static str, WebSocketEndpoint),
    /// A page: its path, content type and body.
    Page(&'static str, &'static str, String),
}

/// The ready server's endpoints and pages, in the order they are mounted.
pub fn mounts(options: &ServeOptions) -> Vec<Mount> {
    let base = SockJsConfig::default()
        .heartbeat_time(options.heartbeat_time)
        .disconnect_delay(options.disconnect_delay)
        .allowed_origins(options.allowed_origins.clone())
        .client_library_url(options.client_library_url.clone())
        .session_cookie_needed(false)
        // Bursts of hundreds of messages between two polls are fine here:
        // the send buffer's byte limit bounds memory.
        .http_message_cache_size(1024);
    let room = Group::new();
    let ws_room = Group::new();
    vec![
        Mount::SockJs(
            "/echo",
            SockJsEndpoint::new(echo).config(base.clone().stream_bytes_limit(4096)),
        ),
        Mount::SockJs(
            "/disabled_websocket_echo",
            SockJsEndpoint::new(echo).config(base.clone().web_socket_enabled(false)),
        ),
        Mount::SockJs(
            "/cookie_needed_echo",
            SockJsEndpoint::new(echo).config(base.clone().session_cookie_needed(true)),
        ),
        Mount::SockJs("/close", SockJsEndpoint::new(close).config(base.clone())),
        Mount::SockJs(
            "/amplify",
            SockJsEndpoint::new(amplify).config(base.clone()),
        ),
        Mount::SockJs(
            "/broadcast",
            SockJsEndpoint::new(move |session| broadcast(room.clone(), session))
                .config(base.clone()),
        ),
        Mount::SockJs(
            "/auth_echo",
            SockJsEndpoint::new(echo)
                .config(base.clone())
                .interceptor(token_required),
        ),
        Mount::SockJs(
            "/auth_info_echo",
            SockJsEndpoint::new(echo)
                .config(base)
                .interceptor(token_required)
                .intercept_info(true),
        ),
        Mount::WebSocket(
            "/ws",
            WebSocketEndpoint::new(echo)
                .allowed_origins(options.allowed_origins.clone())
                // Room for the largest messages a conformance run echoes.
                // The send buffer keeps its default (512 KiB): the echo
                // waits for room, and one message always fits.
                .inbox_limit(64 * 1024 * 1024),
        ),
        Mount::WebSocket(
            "/ws/broadcast",
            WebSocketEndpoint::new(move |session| broadcast(ws_room.clone(), session))
                .allowed_origins(options.allowed_origins.clone()),
        ),
        Mount::Page(
            "/",
            "text/html; charset=UTF-8",
            demo_page(&options.client_library_url),
        ),
    ]
}

/// A builder with the ready server's HTTP options and no endpoint.
pub fn base<R: Executor>(options: &ServeOptions) -> ServerBuilder<R> {
    Server::builder()
        .trusted_proxies(options.trusted_proxies.iter().copied())
        // Room for multi-megabyte messages over xhr_send.
        .http_limits(Limits::default().max_body_size(16 * 1024 * 1024))
}

/// The ready server's endpoints on a builder, for any runtime.
pub fn endpoints<R: Executor>(options: &ServeOptions) -> ServerBuilder<R> {
    mounts(options)
        .into_iter()
        .fold(base(options), |builder, mount| match mount {
            Mount::SockJs(prefix, endpoint) => builder.sockjs(prefix, endpoint),
            Mount::WebSocket(path, endpoint) => builder.websocket(path, endpoint),
            Mount::Page(path, content_type, body) => builder.page(path, content_type, body),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_page_loads_sockjs_client_from_the_configured_url() {
        let script = format!("<script src=\"{DEFAULT_CLIENT_LIBRARY_URL}\"></script>");
        assert_eq!(DEMO_PAGE.matches(DEFAULT_CLIENT_LIBRARY_URL).count(), 1);
        assert!(DEMO_PAGE.contains(&script), "{script} not in the demo page");
        let page = demo_page("/static/sockjs.min.js");
        assert!(page.contains("<script src=\"/static/sockjs.min.js\"></script>"));
        assert!(!page.contains(DEFAULT_CLIENT_LIBRARY_URL));
        assert_eq!(demo_page(DEFAULT_CLIENT_LIBRARY_URL), DEMO_PAGE);
    }
}
