//! A group over loopback: a plain WebSocket, a SockJS session on
//! xhr-streaming (sockway's client) and one on the SockJS websocket
//! transport in one room; what one says reaches the others and not
//! itself, a binary message reaches the WebSocket and skips SockJS, and
//! each member leaves the room as its session ends, however it ends.

use adapter_core::server::{Group, SendError, Server, Session, SockJsEndpoint, WebSocketEndpoint};
use adapter_core::sockjs_proto::{SockJsConfig, Transport};
use adapter_tokio::{CloseCode, Message, WebSocketStream};
use futures_util::StreamExt as _;
use sockway_tests::client::only;
use sockway_tests::loopback::{eventually, frame_messages, within, TestServer, WAIT};
use sockway_tests::runtime::ServerRuntime;

/// Each session joins the room and passes what it gets to the others.
fn room_handler(
    room: Group,
) -> impl Fn(Session) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
       + Send
       + Sync
       + Clone
       + 'static {
    move |mut session: Session| {
        let room = room.clone();
        Box::pin(async move {
            room.join(&session);
            while let Some(message) = session.next().await {
                let _ = room.send_except(message, session.id());
            }
        })
    }
}

async fn next_message<S>(ws: &mut WebSocketStream<S>) -> Message
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match within(WAIT, "a WebSocket message", ws.recv()).await {
        Some(Ok(message)) => message,
        other => panic!("expected a message, got {other:?}"),
    }
}

/// The messages of the next `a[...]` frame on a SockJS websocket
/// transport (heartbeats skipped).
async fn next_frame<S>(ws: &mut WebSocketStream<S>) -> Vec<String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match next_message(ws).await {
            Message::Text(t) if t.as_str() == "h" => {}
            Message::Text(t) => return frame_messages(t.as_str()),
            other @ Message::Binary(_) => panic!("a SockJS frame, not {other:?}"),
        }
    }
}

async fn websocket_and_sockjs_clients_share_a_room<R: ServerRuntime>() {
    let room = Group::new();
    let handler = room_handler(room.clone());
    let server = TestServer::start(
        Server::<R>::builder()
            .websocket("/room-ws", WebSocketEndpoint::new(handler.clone()))
            .sockjs(
                "/room",
                SockJsEndpoint::new(handler)
                    .config(SockJsConfig::default().session_cookie_needed(false)),
            ),
    );
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/room-ws"))
        .await
        .expect("a WebSocket");
    let mut streaming = adapter_tokio::sockjs::connect_with(
        &format!("http://{}/room", server.addr),
        only(Transport::XhrStreaming),
    )
    .await
    .expect("a SockJS session over xhr-streaming");
    let (mut sockjs_ws, _) = adapter_tokio::connect_url(&server.ws_url("/room/000/w/websocket"))
        .await
        .expect("the SockJS websocket transport");
    assert_eq!(next_message(&mut sockjs_ws).await, Message::from("o"));
    eventually(WAIT, "all three in the room", || room.len() == 3).await;

    // The plain WebSocket speaks: both SockJS sessions hear it.
    let hello = "hello \"room\"\n\u{2028}\u{1f600}";
    ws.send(hello).await.expect("sent");
    let heard = within(WAIT, "the streaming session hears", streaming.recv()).await;
    assert_eq!(heard, Some(Message::from(hello)));
    assert_eq!(next_frame(&mut sockjs_ws).await, [hello]);

    // A SockJS session speaks: the WebSocket and the other SockJS session
    // hear it; its author does not.
    streaming.send_async("from streaming").await.expect("sent");
    assert_eq!(next_message(&mut ws).await, Message::from("from streaming"));
    assert_eq!(next_frame(&mut sockjs_ws).await, ["from streaming"]);
    sockjs_ws.send(r#"["from sockjs ws"]"#).await.expect("sent");
    assert_eq!(next_message(&mut ws).await, Message::from("from sockjs ws"));
    let heard = within(WAIT, "the streaming session hears", streaming.recv()).await;
    assert_eq!(heard, Some(Message::from("from sockjs ws")));

    // Binary: the WebSocket gets it, the SockJS sessions are skipped and
    // stay.
    let delivery = room.send(vec![1u8, 2, 3]);
    assert_eq!(delivery.delivered, 1);
    assert_eq!(delivery.failed.len(), 2);
    assert!(delivery.failed.iter().all(|(_, e)| *e == SendError::Binary));
    assert_eq!(next_message(&mut ws).await, Message::from(vec![1u8, 2, 3]));
    assert_eq!(room.len(), 3);

    // Members leave as their sessions end: a WebSocket closed by its
    // client, a SockJS session closed by its client, a connection dropped.
    ws.close(CloseCode::NORMAL, "bye").await.expect("closed");
    // The client reads the echo of its close and the end of the connection.
    assert!(within(WAIT, "the close handshake", ws.recv())
        .await
        .is_none());
    eventually(WAIT, "the WebSocket left", || room.len() == 2).await;
    streaming.close(CloseCode::NORMAL, "bye").expect("open");
    eventually(WAIT, "the streaming session left", || room.len() == 1).await;
    drop(sockjs_ws);
    eventually(WAIT, "the dropped connection left", || room.is_empty()).await;
    let delivery = room.send("anyone?");
    assert_eq!((delivery.delivered, delivery.failed.len()), (0, 0));
}

sockway_tests::for_each_runtime! {
    websocket_and_sockjs_clients_share_a_room,
}
