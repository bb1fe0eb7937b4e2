//! Each adapter's WebSocket stream, client against server over loopback TCP
//! (127.0.0.1): `accept`, `accept_with`, `connect` and `connect_url` (with
//! a URL or a request) of `adapter_tokio` and of `adapter_async_std`.

use std::future::Future;
use std::sync::{Arc, Mutex};

use adapter_core::http;
use adapter_core::ws_proto::handshake::{HandshakeError, InvalidRequest, ResponseError};
use adapter_core::ws_proto::{ProtocolError, SendError};
use adapter_core::{
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, Error, Event, Io, Message, WebSocketStream,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use sockway_tests::adapter::{Adapter, Stream, Transport};
use sockway_tests::peer::{pattern, read_head, upgrade_request, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Binds 127.0.0.1 on a free port and runs `serve` on the first
/// connection, a TCP stream of the adapter.
async fn server<A, F, Fut, T>(serve: F) -> (String, JoinHandle<T>)
where
    A: Adapter,
    F: FnOnce(A::Tcp) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    let listener = A::bind("127.0.0.1:0").await.unwrap();
    let addr = A::local_addr(&listener).to_string();
    let task = tokio::spawn(async move {
        let tcp = A::accept_tcp(&listener).await.unwrap();
        within(serve(tcp)).await
    });
    (addr, task)
}

/// Echoes messages until the stream ends; returns the events it saw.
async fn echo<A: Adapter>(mut ws: Stream<A, A::Tcp>) -> (Vec<Event>, Option<Error>) {
    let mut events = Vec::new();
    while let Some(event) = ws.next_event().await {
        match event {
            Ok(Event::Message(message)) => {
                events.push(Event::Message(message.clone()));
                let _ = ws.send(message).await;
            }
            Ok(event) => events.push(event),
            Err(e) => return (events, Some(e)),
        }
    }
    (events, None)
}

async fn echo_server<A: Adapter>() -> (String, JoinHandle<(Vec<Event>, Option<Error>)>) {
    server::<A, _, _, _>(|tcp| async move { echo::<A>(tcp.accept().await.unwrap()).await }).await
}

async fn drain<S: Io>(ws: &mut WebSocketStream<S>) -> Vec<Message> {
    let mut messages = Vec::new();
    while let Some(message) = ws.recv().await {
        messages.push(message.expect("a clean end"));
    }
    messages
}

async fn echoes_text_binary_and_a_4_mib_message<A: Adapter>() {
    within(async {
        let (addr, server) = echo_server::<A>().await;
        let (mut ws, response) = A::connect_url(&format!("ws://{addr}/echo")).await.unwrap();
        assert_eq!(response.protocol, None);

        let big = Bytes::from(pattern(4 * 1024 * 1024));
        let sent = [
            Message::from("hello"),
            Message::from(String::new()),
            Message::from("ünïcödé ✓"),
            Message::Binary(Bytes::from_static(&[0, 1, 2, 255])),
            Message::Binary(big),
        ];
        for message in &sent {
            ws.send(message.clone()).await.unwrap();
            let echo = ws.recv().await.unwrap().unwrap();
            assert_eq!(&echo, message);
        }

        ws.close(CloseCode::NORMAL, "done").await.unwrap();
        assert!(drain(&mut ws).await.is_empty());
        assert_eq!(
            ws.peer_close_frame(),
            Some(&CloseFrame::new(CloseCode::NORMAL, "done"))
        );

        let (events, error) = server.await.unwrap();
        assert!(error.is_none(), "{error:?}");
        assert_eq!(events.len(), sent.len() + 1);
        assert_eq!(
            events.last(),
            Some(&Event::Close(Some(CloseFrame::new(
                CloseCode::NORMAL,
                "done"
            ))))
        );
    })
    .await;
}

async fn many_messages_through_sink_and_stream<A: Adapter>() {
    within(async {
        let (addr, server) = echo_server::<A>().await;
        let (ws, _) = A::connect_url(&format!("ws://{addr}/")).await.unwrap();
        let (mut sink, mut stream) = ws.split();
        let writer = tokio::spawn(async move {
            for i in 0..500 {
                sink.feed(Message::from(format!("message {i}")))
                    .await
                    .unwrap();
            }
            sink.flush().await.unwrap();
            sink
        });
        for i in 0..500 {
            let echo = stream.next().await.unwrap().unwrap();
            assert_eq!(echo, Message::from(format!("message {i}")));
        }
        let mut sink = writer.await.unwrap();
        // Sink::close starts the close handshake with 1000; the stream ends.
        sink.close().await.unwrap();
        assert!(stream.next().await.is_none());
        let (_, error) = server.await.unwrap();
        assert!(error.is_none(), "{error:?}");
    })
    .await;
}

async fn ping_is_answered_with_pong_while_the_server_reads<A: Adapter>() {
    within(async {
        let (addr, server) = echo_server::<A>().await;
        let (mut ws, _) = A::connect_url(&format!("ws://{addr}/")).await.unwrap();
        ws.ping(b"are you there").await.unwrap();
        match ws.next_event().await {
            Some(Ok(Event::Pong(payload))) => assert_eq!(&payload[..], b"are you there"),
            other => panic!("expected a pong, got {other:?}"),
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        drain(&mut ws).await;
        let (events, _) = server.await.unwrap();
        assert_eq!(events[0], Event::Ping(Bytes::from_static(b"are you there")));
    })
    .await;
}

async fn close_from_the_client_is_seen_with_code_and_reason<A: Adapter>() {
    within(async {
        let (addr, server) = echo_server::<A>().await;
        let (mut ws, _) = A::connect_url(&format!("ws://{addr}/")).await.unwrap();
        let start = tokio::time::Instant::now();
        ws.close(CloseCode(4001), "client leaves").await.unwrap();
        // Sending after close is a local error.
        assert!(matches!(
            ws.send("late").await,
            Err(Error::Send(SendError::Closed))
        ));
        assert!(drain(&mut ws).await.is_empty());
        // The server closed the transport at once: no close timeout (5 s) ran.
        assert!(start.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(ws.peer_close_frame().map(|f| f.code), Some(CloseCode(4001)));
        let (events, error) = server.await.unwrap();
        assert!(error.is_none(), "{error:?}");
        assert_eq!(
            events,
            [Event::Close(Some(CloseFrame::new(
                CloseCode(4001),
                "client leaves"
            )))]
        );
    })
    .await;
}

async fn close_from_the_server_is_seen_with_code_and_reason<A: Adapter>() {
    within(async {
        let (addr, server) = server::<A, _, _, _>(|tcp| async move {
            let mut ws = tcp.accept().await.unwrap();
            ws.send("last words").await.unwrap();
            ws.close(CloseCode::GOING_AWAY, "server shutting down")
                .await
                .unwrap();
            let mut events = Vec::new();
            while let Some(event) = ws.next_event().await {
                events.push(event.unwrap());
            }
            events
        })
        .await;
        let (mut ws, _) = A::connect_url(&format!("ws://{addr}/")).await.unwrap();
        let messages = drain(&mut ws).await;
        assert_eq!(messages, [Message::from("last words")]);
        assert_eq!(
            ws.peer_close_frame(),
            Some(&CloseFrame::new(
                CloseCode::GOING_AWAY,
                "server shutting down"
            ))
        );
        let events = server.await.unwrap();
        assert_eq!(
            events,
            [Event::Close(Some(CloseFrame::new(
                CloseCode::GOING_AWAY,
                "server shutting down"
            )))]
        );
    })
    .await;
}

async fn wrong_version_is_refused_with_426<A: Adapter>() {
    within(async {
        let (addr, server) =
            server::<A, _, _, _>(|tcp| async move { tcp.accept().await.err() }).await;
        // A raw client, whatever the adapter.
        let mut raw = TcpStream::connect(&addr).await.unwrap();
        raw.write_all(&upgrade_request("8")).await.unwrap();
        let mut answer = Vec::new();
        raw.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
            "{answer}"
        );
        assert!(answer.contains("Sec-WebSocket-Version: 13\r\n"), "{answer}");
        assert!(matches!(
            server.await.unwrap(),
            Some(Error::Handshake(HandshakeError::Version))
        ));
    })
    .await;
}

async fn a_client_refuses_a_non_101_answer<A: Adapter>() {
    within(async {
        // A raw server, whatever the adapter.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let _server = tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            read_head(&mut tcp).await;
            tcp.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                .await
                .unwrap();
        });
        let err = A::connect_url(&format!("ws://{addr}/")).await.unwrap_err();
        assert!(
            matches!(err, Error::Response(ResponseError::Status(404))),
            "{err:?}"
        );
    })
    .await;
}

async fn eof_before_the_close_handshake_is_unexpected_eof_on_the_server<A: Adapter>() {
    within(async {
        let (addr, server) = echo_server::<A>().await;
        let (mut ws, _) = A::connect_url(&format!("ws://{addr}/")).await.unwrap();
        ws.send("one").await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), Message::from("one"));
        drop(ws);
        let (events, error) = server.await.unwrap();
        assert_eq!(events.len(), 1);
        assert!(
            matches!(error, Some(Error::Protocol(ProtocolError::UnexpectedEof))),
            "{error:?}"
        );
    })
    .await;
}

async fn eof_before_the_close_handshake_is_unexpected_eof_on_the_client<A: Adapter>() {
    within(async {
        let (addr, server) = server::<A, _, _, _>(|tcp| async move {
            let ws = tcp.accept().await.unwrap();
            drop(ws);
        })
        .await;
        let (mut ws, _) = A::connect_url(&format!("ws://{addr}/")).await.unwrap();
        server.await.unwrap();
        let error = ws.recv().await.unwrap().unwrap_err();
        assert!(
            matches!(error, Error::Protocol(ProtocolError::UnexpectedEof)),
            "{error:?}"
        );
        assert!(ws.recv().await.is_none());
    })
    .await;
}

async fn subprotocol_is_chosen_from_the_offer_and_the_request_is_visible<A: Adapter>() {
    within(async {
        let seen = Arc::new(Mutex::new(None));
        let target = Arc::clone(&seen);
        let options = AcceptOptions::default().protocol(move |request| {
            *target.lock().unwrap() = Some(request.request().uri().to_string());
            request.protocols().iter().find(|p| *p == "chat").cloned()
        });
        let (addr, server) =
            server::<A, _, _, _>(
                move |tcp| async move { tcp.accept_with(options).await.map(drop) },
            )
            .await;
        let tcp = A::connect_tcp(&addr).await.unwrap();
        let request = ClientRequest::new(addr.clone(), "/room/7?x=1")
            .protocol("superchat")
            .protocol("chat");
        let (_ws, response) = tcp.connect(request).await.unwrap();
        assert_eq!(response.protocol.as_deref(), Some("chat"));
        server.await.unwrap().unwrap();
        assert_eq!(seen.lock().unwrap().as_deref(), Some("/room/7?x=1"));
    })
    .await;
}

async fn protocols_shorthand_picks_the_clients_first_supported_choice<A: Adapter>() {
    within(async {
        let options = AcceptOptions::default().protocols(["v2", "v1"]);
        let (addr, server) =
            server::<A, _, _, _>(
                move |tcp| async move { tcp.accept_with(options).await.map(drop) },
            )
            .await;
        let tcp = A::connect_tcp(&addr).await.unwrap();
        let request = ClientRequest::new(addr.clone(), "/")
            .protocol("v1")
            .protocol("v2");
        let (_ws, response) = tcp.connect(request).await.unwrap();
        assert_eq!(response.protocol.as_deref(), Some("v1"));
        server.await.unwrap().unwrap();
    })
    .await;
}

async fn connect_url_sends_the_headers_and_subprotocols_of_a_request<A: Adapter>() {
    within(async {
        let seen = Arc::new(Mutex::new(None));
        let target = Arc::clone(&seen);
        let options = AcceptOptions::default().protocol(move |request| {
            *target.lock().unwrap() = Some(request.request().clone());
            request.protocols().iter().find(|p| *p == "v2").cloned()
        });
        let (addr, server) =
            server::<A, _, _, _>(
                move |tcp| async move { tcp.accept_with(options).await.map(drop) },
            )
            .await;
        let request = http::Request::get(format!("ws://{addr}/room?x=1"))
            .header("Cookie", "session=abc")
            .header("Authorization", "Basic dTpw")
            .header("Origin", "http://app.test")
            .header("Sec-WebSocket-Protocol", "v1, v2")
            .body(())
            .unwrap();
        let (_ws, response) = A::connect_request(request).await.unwrap();
        assert_eq!(response.protocol.as_deref(), Some("v2"));
        server.await.unwrap().unwrap();
        let seen = seen
            .lock()
            .unwrap()
            .take()
            .expect("the server saw the request");
        assert_eq!(seen.uri(), "/room?x=1");
        let header = |name: &str| -> Vec<&str> {
            let values = seen.headers().get_all(name).iter();
            values.map(|v| v.to_str().unwrap()).collect()
        };
        assert_eq!(header("host"), [addr.as_str()]);
        assert_eq!(header("cookie"), ["session=abc"]);
        assert_eq!(header("authorization"), ["Basic dTpw"]);
        assert_eq!(header("origin"), ["http://app.test"]);
        assert_eq!(header("sec-websocket-protocol"), ["v1, v2"]);
        assert_eq!(header("upgrade"), ["websocket"]);
        assert_eq!(header("sec-websocket-version"), ["13"]);
    })
    .await;
}

async fn connect_url_refuses_a_request_with_a_header_of_the_handshake<A: Adapter>() {
    // Nothing listens there: a request that got as far as connecting would
    // fail with an I/O error instead.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let request = http::Request::get(format!("ws://127.0.0.1:{port}/"))
        .header("Cookie", "session=abc")
        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
        .body(())
        .unwrap();
    let err = within(A::connect_request(request))
        .await
        .map(drop)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidRequest(InvalidRequest::ReservedHeader(name)) if name == "sec-websocket-key"
        ),
        "{err:?}"
    );
}

async fn connect_url_refuses_other_schemes<A: Adapter>() {
    for url in ["http://127.0.0.1:1/", "https://127.0.0.1:1/", "127.0.0.1:1"] {
        let err = A::connect_url(url).await.unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{url}: {err:?}");
    }
}

async fn connect_url_reaches_an_ipv6_loopback_literal<A: Adapter>() {
    // Skipped where the machine has no IPv6 loopback.
    let Ok(listener) = A::bind("[::1]:0").await else {
        return;
    };
    within(async move {
        let port = A::local_addr(&listener).port();
        let server = tokio::spawn(async move {
            let tcp = A::accept_tcp(&listener).await.unwrap();
            echo::<A>(tcp.accept().await.unwrap()).await
        });
        let (mut ws, _) = A::connect_url(&format!("ws://[::1]:{port}/six"))
            .await
            .unwrap();
        ws.send("over ipv6").await.unwrap();
        assert_eq!(
            ws.recv().await.unwrap().unwrap(),
            Message::from("over ipv6")
        );
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(drain(&mut ws).await.is_empty());
        let (_, error) = server.await.unwrap();
        assert!(error.is_none(), "{error:?}");
    })
    .await;
}

sockway_tests::for_each_adapter! {
    echoes_text_binary_and_a_4_mib_message,
    many_messages_through_sink_and_stream,
    ping_is_answered_with_pong_while_the_server_reads,
    close_from_the_client_is_seen_with_code_and_reason,
    close_from_the_server_is_seen_with_code_and_reason,
    wrong_version_is_refused_with_426,
    a_client_refuses_a_non_101_answer,
    eof_before_the_close_handshake_is_unexpected_eof_on_the_server,
    eof_before_the_close_handshake_is_unexpected_eof_on_the_client,
    subprotocol_is_chosen_from_the_offer_and_the_request_is_visible,
    protocols_shorthand_picks_the_clients_first_supported_choice,
    connect_url_sends_the_headers_and_subprotocols_of_a_request,
    connect_url_refuses_a_request_with_a_header_of_the_handshake,
    connect_url_refuses_other_schemes,
    connect_url_reaches_an_ipv6_loopback_literal,
}
