//! An axum application with sockway mounted in it, on one port:
//!
//! | path | what |
//! | --- | --- |
//! | `GET /api/health` | a REST route (JSON) |
//! | `POST /api/login` | form `name=...`: sets the `sid` session cookie |
//! | `GET /api/me` | who the session cookie says you are (401 without) |
//! | `/chat` | SockJS chat: the user comes from the session cookie, checked by an axum middleware; the endpoint's interceptor reads it from the request's extensions |
//! | `/echo` | SockJS echo, for anyone |
//! | `/ws` | a raw WebSocket echo |
//! | `/`, `/chat.js` | static files (`examples/axum_app/`): a chat page |
//!
//! ```text
//! cargo run -p sockway --features axum --example axum_app -- 127.0.0.1:8080
//! ```
//!
//! It prints `listening on http://ADDR` once it accepts connections, and
//! stops gracefully on Ctrl-C (every session closed with 1001).

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt as _;
use axum::{Form, Json, Router};
use futures_util::StreamExt as _;
use sockway::http_proto::Limits;
use sockway::service::Endpoints;
use sockway::sockjs_proto::SockJsConfig;
use sockway::tokio::server::{
    Attributes, HandshakeRequest, Rejection, Server, Session, SessionSender, SockJsEndpoint,
    WebSocketEndpoint,
};

/// The user a valid session cookie names: put into the request's
/// extensions by [`authenticate`].
#[derive(Debug, Clone)]
struct User(String);

/// Session cookies and the users they name.
#[derive(Clone, Default)]
struct Logins {
    users: Arc<Mutex<HashMap<String, String>>>,
    counter: Arc<AtomicU64>,
}

impl Logins {
    fn user(&self, sid: &str) -> Option<String> {
        let users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.get(sid).cloned()
    }

    /// A new session id: 128 bits from the process's random hash keys (an
    /// example's token; a real application uses its session store's).
    fn login(&self, name: String) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let (a, b) = (RandomState::new(), RandomState::new());
        let sid = format!("{:016x}{:016x}", a.hash_one(n), b.hash_one(n));
        let mut users = self.users.lock().unwrap_or_else(PoisonError::into_inner);
        users.insert(sid.clone(), name);
        sid
    }
}

/// The axum middleware: a request whose `sid` cookie names a user carries
/// that [`User`] in its extensions; any other gets 401.
async fn authenticate(State(logins): State<Logins>, mut req: Request, next: Next) -> Response {
    let user = req
        .headers()
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix("sid="))
        .find_map(|sid| logins.user(sid));
    match user {
        Some(name) => {
            req.extensions_mut().insert(User(name));
            next.run(req).await
        }
        None => (StatusCode::UNAUTHORIZED, "log in first").into_response(),
    }
}

#[derive(serde::Deserialize)]
struct LoginForm {
    name: String,
}

async fn login(State(logins): State<Logins>, Form(form): Form<LoginForm>) -> Response {
    let name = form.name.trim();
    let valid = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    if !valid {
        return (
            StatusCode::BAD_REQUEST,
            "a name: 1 to 32 letters, digits, _ or -",
        )
            .into_response();
    }
    let sid = logins.login(name.to_owned());
    let cookie = format!("sid={sid}; Path=/; HttpOnly; SameSite=Lax");
    (
        [(SET_COOKIE, cookie)],
        Json(serde_json::json!({ "name": name })),
    )
        .into_response()
}

async fn me(axum::Extension(User(name)): axum::Extension<User>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "name": name }))
}

/// The chat's interceptor: the session's user comes from the extension
/// the middleware set (a request without one never gets here; refused
/// anyway, should the route lose its middleware).
fn chat_user(request: &HandshakeRequest, attributes: &mut Attributes) -> Result<(), Rejection> {
    let Some(User(name)) = request.extensions().get::<User>() else {
        return Err(Rejection::new(StatusCode::UNAUTHORIZED));
    };
    attributes.insert("user", name.clone());
    Ok(())
}

/// The chat room: every message goes to every member, as `name: text`.
#[derive(Clone, Default)]
struct Room {
    members: Arc<Mutex<HashMap<u64, SessionSender>>>,
}

impl Room {
    fn broadcast(&self, text: &str) {
        let members: Vec<SessionSender> = {
            let members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
            members.values().cloned().collect()
        };
        for member in members {
            // A member that is closing or overflowing is its own business.
            let _ = member.send(text.to_owned());
        }
    }

    async fn join(self, mut session: Session) {
        let user = session.attributes().get("user").unwrap_or("?").to_owned();
        let id = session.id();
        {
            let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
            members.insert(id, session.sender());
        }
        self.broadcast(&format!("* {user} joined"));
        while let Some(message) = session.next().await {
            let text = String::from_utf8_lossy(message.as_bytes()).into_owned();
            self.broadcast(&format!("{user}: {text}"));
        }
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        self.broadcast(&format!("* {user} left"));
    }
}

async fn echo(mut session: Session) {
    while let Some(message) = session.next().await {
        if session.send_async(message).await.is_err() {
            break;
        }
    }
}

/// The application, and the handles that shut its endpoints down.
pub(crate) fn app(
) -> Result<(Router, Vec<sockway::tokio::server::ServerHandle>), sockway::tokio::server::BuildError>
{
    let logins = Logins::default();
    let room = Room::default();
    let chat = Endpoints::sockjs(
        SockJsEndpoint::new(move |session| room.clone().join(session)).interceptor(chat_user),
    )?;
    // The server's options apply to a mounted endpoint too: room here for
    // messages of several megabytes over xhr_send (1 MiB by default).
    let echo_sockjs = Endpoints::new(
        Server::builder()
            .http_limits(Limits::default().max_body_size(16 * 1024 * 1024))
            // streamBytesLimit 4096 as in the SockJS protocol's test
            // server: streaming responses end and reconnect often.
            .sockjs(
                "/",
                SockJsEndpoint::new(echo).config(SockJsConfig::default().stream_bytes_limit(4096)),
            ),
    )?;
    let ws = Endpoints::websocket(WebSocketEndpoint::new(echo))?;
    let handles = vec![chat.handle(), echo_sockjs.handle(), ws.handle()];
    let static_files = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/axum_app");
    let authenticated = Router::new()
        .route("/api/me", get(me))
        .nest_service("/chat", chat)
        .layer(middleware::from_fn_with_state(logins.clone(), authenticate));
    let router = Router::new()
        .route(
            "/api/health",
            get(|| async { Json(serde_json::json!({ "ok": true })) }),
        )
        .route("/api/login", post(login))
        .merge(authenticated)
        .nest_service("/echo", echo_sockjs)
        .route_service("/ws", ws)
        .fallback_service(tower_http::services::ServeDir::new(static_files))
        .with_state(logins);
    Ok((router, handles))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let (router, handles) = app().map_err(std::io::Error::from)?;
    // Nagle's algorithm off: SockJS streams and WebSocket messages are
    // small writes, which it would hold back for the client's delayed ACK.
    let listener = tokio::net::TcpListener::bind(&addr).await?.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    #[allow(clippy::print_stdout)]
    {
        println!(
            "listening on http://{}",
            axum::serve::Listener::local_addr(&listener)?
        );
    }
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        let _ = tokio::signal::ctrl_c().await;
        for handle in &handles {
            handle.shutdown();
        }
    })
    .await
}
