//! Endpoints for authenticated users only: a handshake interceptor checks
//! the token a client presents and refuses the session with 401 without a
//! valid one; the user it names goes into the session's attributes, where
//! the handler finds it.
//!
//! ```text
//! cargo run -p sockway --example authenticated -- 127.0.0.1:8080
//! ```
//!
//! | path | what |
//! | --- | --- |
//! | `/chat` | SockJS: answers `welcome, NAME`, then echoes each message as `NAME: MESSAGE` |
//! | `/ws` | the same over a plain WebSocket |
//!
//! The token goes in `Authorization: Bearer TOKEN` (servers, command-line
//! clients), or for browsers, which cannot set headers on a WebSocket, in
//! the query (`?token=TOKEN`) or a cookie (`token=TOKEN`). The tokens
//! here are fixed; a real application verifies a signed token (a JWT) or
//! looks the token up in its session store instead. In a browser:
//!
//! ```text
//! new SockJS("http://127.0.0.1:8080/chat?token=alice-secret-token")
//! ```

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::StreamExt as _;
use sockway::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use sockway::http::{HeaderValue, StatusCode};
use sockway::tokio::server::{
    Attributes, HandshakeInterceptor, HandshakeRequest, Rejection, Server, Session, SockJsEndpoint,
    WebSocketEndpoint,
};
use sockway::Message;

/// The tokens this example accepts, and the user each one names.
const TOKENS: [(&str, &str); 2] = [("alice-secret-token", "alice"), ("bob-secret-token", "bob")];

/// The session attribute that holds the user's name.
const USER: &str = "user";

/// Checks the token of every request that opens a session. (A SockJS
/// session is then bound to the client's address; to bind it to the user
/// instead, name the user with `SockJsEndpoint::principal` too.)
struct TokenAuth {
    users: Arc<HashMap<String, String>>,
}

impl TokenAuth {
    /// The token the request presents: a bearer token, else `?token=`,
    /// else the `token` cookie.
    fn token(request: &HandshakeRequest) -> Option<String> {
        if let Some(bearer) = request
            .header(AUTHORIZATION)
            .and_then(|value| value.strip_prefix("Bearer "))
        {
            return Some(bearer.trim().to_owned());
        }
        if let Some(token) = request.query_param("token") {
            return Some(token.into_owned());
        }
        request.cookie("token").map(str::to_owned)
    }
}

impl HandshakeInterceptor for TokenAuth {
    fn before_handshake(
        &self,
        request: &HandshakeRequest,
        attributes: &mut Attributes,
    ) -> Result<(), Rejection> {
        let user = Self::token(request).and_then(|token| self.users.get(&token));
        match user {
            Some(user) => {
                attributes.insert(USER, user.clone());
                Ok(())
            }
            // No session: the client gets this response instead.
            None => Err(Rejection::new(StatusCode::UNAUTHORIZED)
                .header(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))),
        }
    }
}

/// Greets the user the interceptor found, then echoes under their name.
async fn chat(mut session: Session) {
    // Always there: the interceptor refused every session without it.
    let user = session.attributes().get(USER).unwrap_or("?").to_owned();
    if session.send(format!("welcome, {user}")).is_err() {
        return;
    }
    while let Some(message) = session.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        if session.send(format!("{user}: {text}")).is_err() {
            break;
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let users: HashMap<String, String> = TOKENS
        .iter()
        .map(|&(token, user)| (token.to_owned(), user.to_owned()))
        .collect();
    let users = Arc::new(users);
    let server = Server::builder()
        .sockjs(
            "/chat",
            SockJsEndpoint::new(chat).interceptor(TokenAuth {
                users: Arc::clone(&users),
            }),
        )
        .websocket(
            "/ws",
            WebSocketEndpoint::new(chat).interceptor(TokenAuth { users }),
        )
        .shutdown_on_signals()
        .bind(addr)
        .await?;
    println!("listening on http://{}", server.local_addr()?);
    server.serve().await
}
