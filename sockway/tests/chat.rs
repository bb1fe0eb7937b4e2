//! The chat example, run as a child process: clients on every kind of
//! connection (SockJS over websocket, xhr-streaming and xhr polling, and a
//! plain WebSocket) share rooms; each hears exactly its room's lines, in
//! order, under the name its interceptor found (query, percent-decoded, or
//! cookie); `/join` moves a client, and one that leaves or disconnects is
//! announced and no longer counted. A missing or bad name gets 400.

#![cfg(all(unix, feature = "tokio"))]

mod common;

use common::client::{websocket, Client};
use common::{Example, LIMIT};
use sockway::tokio::sockjs::{self, ClientError, ClientOptions, Failure, Transport};
use sockway::ws_proto::handshake::ResponseError;
use sockway::Error;
use tokio::time::timeout;

/// A SockJS session to `/chat` + `query` over `transport`, with the
/// `name` cookie if any.
async fn sockjs_client(
    addr: &str,
    query: &str,
    transport: Transport,
    cookie: Option<&str>,
) -> Client {
    let mut options = ClientOptions::default().transports([transport]);
    if let Some(name) = cookie {
        options = options.cookie("name", name);
    }
    Client::sockjs(&format!("http://{addr}/chat{query}"), options).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_client_hears_its_room_and_only_its_room() {
    let (_server, addr) = Example::serve("chat");

    let mut alice = sockjs_client(&addr, "?name=alice&room=rust", Transport::WebSocket, None).await;
    alice.hears("you joined rust (1 here)").await;
    let mut bob = Client::websocket(&addr, "/ws?name=bob&room=rust").await;
    bob.hears("you joined rust (2 here)").await;
    alice.hears("bob joined rust").await;
    // The name from a cookie, the lobby by default.
    let mut carol = sockjs_client(&addr, "", Transport::XhrStreaming, Some("carol")).await;
    carol.hears("you joined lobby (1 here)").await;
    // The query percent-decoded.
    let mut zoe = sockjs_client(&addr, "?name=Zo%C3%AB&room=lobby", Transport::Xhr, None).await;
    zoe.hears("you joined lobby (2 here)").await;
    carol.hears("Zoë joined lobby").await;

    // A line goes to its room, its author included.
    bob.say("hi rust").await;
    bob.hears("bob: hi rust").await;
    alice.hears("bob: hi rust").await;
    // Sends to rooms are ordered per room only, so had bob's line reached
    // the lobby it would be heard before carol's own.
    carol.say("hi lobby").await;
    carol.hears("carol: hi lobby").await;
    zoe.hears("carol: hi lobby").await;

    // Moving: the old room hears of it, the new one too.
    carol.say("/join rust").await;
    carol.hears("you joined rust (3 here)").await;
    zoe.hears("carol left lobby").await;
    alice.hears("carol joined rust").await;
    bob.hears("carol joined rust").await;
    carol.say("/join no room!").await;
    carol.hears("not a room name: no room!").await;

    // Leaving: the room hears of it, and no longer counts the one gone.
    bob.close().await;
    alice.hears("bob left rust").await;
    carol.hears("bob left rust").await;
    let mut dave = Client::websocket(&addr, "/ws?name=dave&room=rust").await;
    dave.hears("you joined rust (3 here)").await;
    alice.hears("dave joined rust").await;
    carol.hears("dave joined rust").await;
    let mut erin = Client::websocket(&addr, "/ws?name=erin").await;
    erin.hears("you joined lobby (2 here)").await;
    zoe.hears("erin joined lobby").await;

    // Nothing else came in between: the next line each hears is this one.
    alice.say("bye").await;
    for client in [&mut alice, &mut carol, &mut dave] {
        client.hears("alice: bye").await;
    }
    zoe.say("anyone?").await;
    zoe.hears("Zoë: anyone?").await;
    erin.hears("Zoë: anyone?").await;

    for client in [alice, carol, dave, erin, zoe] {
        client.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_bad_name_or_room_is_refused_with_400() {
    let (_server, addr) = Example::serve("chat");
    for query in ["", "?name=", "?name=a%20b", "?name=alice&room=a/b"] {
        let url = format!("http://{addr}/chat{query}");
        let options = ClientOptions::default().transports([Transport::WebSocket, Transport::Xhr]);
        let refused = timeout(LIMIT, sockjs::connect_with(&url, options))
            .await
            .expect("the answer in time");
        let Err(Error::SockJs(closed)) = refused else {
            panic!("{url}: expected the session to be refused, got {refused:?}");
        };
        let Some(ClientError::AllTransportsFailed(failures)) = &closed.error else {
            panic!("{url}: expected every transport to fail: {closed}");
        };
        assert_eq!(
            failures,
            &[
                (
                    Transport::WebSocket,
                    Failure::Handshake(ResponseError::Status(400))
                ),
                (Transport::Xhr, Failure::Status(400)),
            ],
            "{url}"
        );
    }
    let long = "x".repeat(21);
    for target in [
        "/ws".to_owned(),
        "/ws?name=".to_owned(),
        format!("/ws?name={long}"),
        "/ws?name=%2Fjoin".to_owned(),
        "/ws?name=bob&room=".to_owned(),
    ] {
        match websocket(&addr, &target).await {
            Err(Error::Response(ResponseError::Status(400))) => {}
            other => panic!("{target}: expected 400, got {:?}", other.map(|_| ())),
        }
    }
    // Twenty is not too long.
    let mut client = Client::websocket(&addr, &format!("/ws?name={}", "x".repeat(20))).await;
    client.hears("you joined lobby (1 here)").await;
    client.close().await;
}
