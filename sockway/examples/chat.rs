//! A chat with rooms. Each client names itself when it connects; a
//! handshake interceptor checks the name (and the room to start in) and
//! refuses the session with 400 without a valid one. Every room is a
//! [`Group`]: a message is encoded once for all its members, and a member
//! whose session ends leaves by itself.
//!
//! ```text
//! cargo run -p sockway --example chat -- 127.0.0.1:8080
//! ```
//!
//! | path | what |
//! | --- | --- |
//! | `/chat` | SockJS |
//! | `/ws` | a plain WebSocket, in the same rooms |
//!
//! The name comes from the query (`?name=alice`, percent-decoded) or a
//! cookie (`name=alice`); the room from `?room=` (`lobby` when absent).
//! Names and rooms are 1 to 20 letters, digits, `-` or `_`. What a client
//! sends:
//!
//! | message | what happens |
//! | --- | --- |
//! | `/join ROOM` | leaves its room for `ROOM` |
//! | anything else | goes to everyone in its room (itself too) as `NAME: MESSAGE` |
//!
//! What it gets: `you joined ROOM (N here)` when it enters a room, `NAME
//! joined ROOM` and `NAME left ROOM` as others come and go, the room's
//! messages, and `not a room name: …` for a bad `/join`. In a browser:
//!
//! ```text
//! const sock = new SockJS("http://127.0.0.1:8080/chat?name=alice&room=rust");
//! sock.onmessage = (e) => console.log(e.data);
//! sock.onopen = () => sock.send("hello");
//! ```

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::StreamExt as _;
use sockway::http::StatusCode;
use sockway::tokio::server::{
    Attributes, Group, HandshakeRequest, Rejection, Server, Session, SockJsEndpoint,
    WebSocketEndpoint,
};
use sockway::Message;

/// The session attribute that holds the client's name.
const NAME: &str = "name";
/// The session attribute that holds the room it starts in.
const ROOM: &str = "room";
/// The room of a client that names none.
const LOBBY: &str = "lobby";

/// Whether `name` may name a user or a room: 1 to 20 letters, digits, `-`
/// or `_` (so that it cannot pass for a command or another user's line).
fn valid(name: &str) -> bool {
    (1..=20).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// The interceptor: the client's name from `?name=` or the `name` cookie,
/// and its first room from `?room=`, into the session's attributes.
fn identify(request: &HandshakeRequest, attributes: &mut Attributes) -> Result<(), Rejection> {
    let name = request
        .query_param(NAME)
        .map(std::borrow::Cow::into_owned)
        .or_else(|| request.cookie(NAME).map(str::to_owned));
    let room = request
        .query_param(ROOM)
        .map_or_else(|| LOBBY.to_owned(), std::borrow::Cow::into_owned);
    match name {
        Some(name) if valid(&name) && valid(&room) => {
            attributes.insert(NAME, name);
            attributes.insert(ROOM, room);
            Ok(())
        }
        // No session: the client gets this response instead.
        _ => Err(Rejection::new(StatusCode::BAD_REQUEST).body(
            "name yourself with ?name=NAME or a `name` cookie, and a room with ?room=ROOM: \
             1 to 20 letters, digits, - or _",
        )),
    }
}

/// The rooms that have members, by name. A room is made when its first
/// member joins and dropped when its last one leaves, so there are never
/// more rooms than sessions.
#[derive(Clone, Default)]
struct Rooms(Arc<Mutex<HashMap<String, Group>>>);

impl Rooms {
    /// Puts `session` in the room `name`; returns the room and how many
    /// are in it now.
    fn join(&self, name: &str, session: &Session) -> (Group, usize) {
        let mut rooms = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let room = rooms.entry(name.to_owned()).or_default();
        room.join(session);
        (room.clone(), room.len())
    }

    /// Takes the session `id` out of the room `name`, and the room out of
    /// the map when that left it empty. (Members that closed left by
    /// themselves: `is_empty` does not count them.)
    fn leave(&self, name: &str, id: u64) {
        let mut rooms = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(room) = rooms.get(name) {
            room.leave(id);
            if room.is_empty() {
                rooms.remove(name);
            }
        }
    }
}

/// One client: in one room at a time, until its session ends.
async fn chat(rooms: Rooms, mut session: Session) {
    let id = session.id();
    // Always there: the interceptor refused every session without them.
    let name = session.attributes().get(NAME).unwrap_or("?").to_owned();
    let mut room_name = session.attributes().get(ROOM).unwrap_or(LOBBY).to_owned();
    let mut room = enter(&rooms, &room_name, &name, &session);
    while let Some(message) = session.next().await {
        // Binary messages (from a plain WebSocket) are not chat lines.
        let Message::Text(text) = message else {
            continue;
        };
        if let Some(to) = text.as_str().strip_prefix("/join ") {
            let to = to.trim();
            if !valid(to) {
                // Only this client hears of it; a closed session ends the loop.
                let _ = session.send(format!("not a room name: {to}"));
                continue;
            }
            rooms.leave(&room_name, id);
            // The others get it; no one left means no one to tell.
            let _ = room.send(format!("{name} left {room_name}"));
            to.clone_into(&mut room_name);
            room = enter(&rooms, &room_name, &name, &session);
            continue;
        }
        // Members that did not take the message (closing, or over their
        // send buffer, which closes them) are out of the room now.
        let _ = room.send(format!("{name}: {text}"));
    }
    rooms.leave(&room_name, id);
    let _ = room.send(format!("{name} left {room_name}"));
}

/// Puts the session in the room `room_name`, tells the others, and
/// welcomes it; returns the room.
fn enter(rooms: &Rooms, room_name: &str, name: &str, session: &Session) -> Group {
    let (room, here) = rooms.join(room_name, session);
    let _ = room.send_except(format!("{name} joined {room_name}"), session.id());
    // A session that closed already ends at the handler's next read.
    let _ = session.send(format!("you joined {room_name} ({here} here)"));
    room
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    // SockJS and WebSocket clients share the rooms.
    let rooms = Rooms::default();
    let sockjs_rooms = rooms.clone();
    let server = Server::builder()
        .sockjs(
            "/chat",
            SockJsEndpoint::new(move |session| chat(sockjs_rooms.clone(), session))
                .before_handshake(identify),
        )
        .websocket(
            "/ws",
            WebSocketEndpoint::new(move |session| chat(rooms.clone(), session))
                .before_handshake(identify),
        )
        .shutdown_on_signals()
        .bind(addr)
        .await?;
    println!("listening on http://{}", server.local_addr()?);
    server.serve().await
}
