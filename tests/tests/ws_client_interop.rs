//! sockway's WebSocket clients (`connect_url` and `connect` of
//! `adapter_tokio` and of `adapter_async_std`, each test once per adapter)
//! against another implementation's server: the Node `ws` echo server of
//! `tests/interop/ws-echo-server.js`, whose URL comes from `WS_ECHO_URL`.
//!
//! Ignored by default (they need Node and the npm packages of
//! `tests/interop/`); `scripts/interop.sh` starts the server and runs them:
//!
//! ```sh
//! node tests/interop/ws-echo-server.js --listen 127.0.0.1:0   # prints the URL
//! WS_ECHO_URL=ws://127.0.0.1:PORT cargo test -p sockway-tests \
//!     --test ws_client_interop -- --ignored
//! ```

use std::future::Future;
use std::time::Duration;

use adapter_core::{
    ClientRequest, CloseCode, CloseFrame, Event, Io, Message, MessageKind, WebSocketStream,
};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use sockway_tests::adapter::{Adapter, Stream, Transport};

/// How long any one test may take.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The echo server's URL, `ws://HOST:PORT`.
fn echo_url() -> String {
    match std::env::var("WS_ECHO_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "WS_ECHO_URL is not set: start `node tests/interop/ws-echo-server.js \
             --listen 127.0.0.1:0` and set WS_ECHO_URL to the URL it prints \
             (scripts/interop.sh does both)"
        ),
    }
}

/// Runs `test` within [`TEST_TIMEOUT`].
async fn within<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test timed out")
}

async fn open<A: Adapter>() -> Stream<A, A::Client> {
    let url = echo_url();
    let (ws, response) = A::connect_url(&url)
        .await
        .unwrap_or_else(|e| panic!("connecting to {url}: {e}"));
    assert_eq!(response.protocol, None, "no subprotocol was offered");
    ws
}

/// `len` bytes of a repeating pattern that is also ASCII text.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Sends `message` and checks that the next message is the same.
async fn round_trip<S: Io>(ws: &mut WebSocketStream<S>, message: Message) {
    let (kind, len) = (message.kind(), message.len());
    ws.send(message.clone())
        .await
        .unwrap_or_else(|e| panic!("sending {kind:?} of {len} bytes: {e}"));
    let echo = ws
        .recv()
        .await
        .unwrap_or_else(|| panic!("the stream ended before the echo of {kind:?} of {len} bytes"))
        .unwrap_or_else(|e| panic!("reading the echo of {kind:?} of {len} bytes: {e}"));
    assert_eq!(echo.kind(), kind, "the echo of {len} bytes");
    assert!(
        echo == message,
        "the echo of {kind:?} of {len} bytes differs (got {} bytes)",
        echo.len()
    );
}

/// Closes with 1000 and reads until the stream ends, expecting no more
/// messages and the server's echo of the close.
async fn close_normally<S: Io>(mut ws: WebSocketStream<S>) {
    ws.close(CloseCode::NORMAL, "").await.expect("closing");
    if let Some(message) = ws.recv().await {
        panic!("a message after our close: {:?}", message.map(|m| m.len()));
    }
    assert_eq!(
        ws.peer_close_frame(),
        Some(&CloseFrame::new(CloseCode::NORMAL, ""))
    );
}

/// Payload lengths around the frame header's length encodings: 7 bits
/// (up to 125), 16 bits (126 to 65535), 64 bits (65536 on).
const BOUNDARIES: [usize; 9] = [0, 1, 2, 124, 125, 126, 127, 65535, 65536];

async fn text_echo_at_length_boundaries<A: Adapter>() {
    within(async {
        let mut ws = open::<A>().await;
        for len in BOUNDARIES.into_iter().chain([65537]) {
            let text = String::from_utf8(pattern(len)).expect("ASCII");
            round_trip(&mut ws, Message::from(text)).await;
        }
        // Multi-byte characters, one of them across the 125/126 boundary.
        round_trip(&mut ws, Message::from("ünïcödé ✓ 🦀")).await;
        let mut text = "x".repeat(124);
        text.push('é');
        round_trip(&mut ws, Message::from(text)).await;
        close_normally(ws).await;
    })
    .await;
}

async fn binary_echo_at_length_boundaries_and_16_mib<A: Adapter>() {
    within(async {
        let mut ws = open::<A>().await;
        for len in BOUNDARIES.into_iter().chain([65537]) {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
            round_trip(&mut ws, Message::Binary(Bytes::from(data))).await;
        }
        // Every byte value, then 16 MiB (the client's default frame limit).
        round_trip(
            &mut ws,
            Message::Binary((0..=255u8).collect::<Vec<_>>().into()),
        )
        .await;
        let big: Vec<u8> = (0..16 * 1024 * 1024)
            .map(|i: usize| (i ^ (i >> 8) ^ (i >> 16)) as u8)
            .collect();
        round_trip(&mut ws, Message::Binary(Bytes::from(big))).await;
        close_normally(ws).await;
    })
    .await;
}

async fn fragments_are_echoed_as_one_message<A: Adapter>() {
    within(async {
        let mut ws = open::<A>().await;

        // Text in three fragments, one cutting a character in two.
        let text = "fragmented ✓ text";
        let cut = text.find('✓').expect("in the text") + 1;
        let parts = [
            &text.as_bytes()[..5],
            &text.as_bytes()[5..cut],
            &text.as_bytes()[cut..],
        ];
        for (i, part) in parts.iter().enumerate() {
            let fin = i == parts.len() - 1;
            ws.send_fragment(MessageKind::Text, Bytes::copy_from_slice(part), fin)
                .await
                .expect("a text fragment");
        }
        let echo = ws.recv().await.expect("an echo").expect("a message");
        assert_eq!(echo, Message::from(text));

        // Binary with an empty fragment and a ping between fragments: the
        // pong and then the whole message come back.
        ws.send_fragment(MessageKind::Binary, Bytes::from_static(b"\x00\x01"), false)
            .await
            .expect("a binary fragment");
        ws.send_fragment(MessageKind::Binary, Bytes::new(), false)
            .await
            .expect("an empty fragment");
        ws.ping(b"between fragments").await.expect("a ping");
        ws.send_fragment(MessageKind::Binary, Bytes::from(pattern(70_000)), true)
            .await
            .expect("the last fragment");
        let mut want = b"\x00\x01".to_vec();
        want.extend(pattern(70_000));
        let mut pong = false;
        loop {
            match ws.next_event().await.expect("an event").expect("no error") {
                Event::Pong(payload) => {
                    assert_eq!(&payload[..], b"between fragments");
                    pong = true;
                }
                Event::Message(message) => {
                    assert_eq!(message, Message::Binary(Bytes::from(want)));
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(pong, "the pong did not come before the message");
        close_normally(ws).await;
    })
    .await;
}

async fn ping_is_answered_with_a_pong_carrying_its_payload<A: Adapter>() {
    within(async {
        let mut ws = open::<A>().await;
        let payloads: [&[u8]; 3] = [b"", b"are you there?", &[0xA5; 125]];
        for payload in payloads {
            ws.ping(payload).await.expect("a ping");
            match ws.next_event().await.expect("an event").expect("no error") {
                Event::Pong(got) => assert_eq!(&got[..], payload),
                other => panic!("expected a pong, got {other:?}"),
            }
        }
        // A ping of 126 bytes is refused locally: control frames carry at
        // most 125.
        assert!(ws.ping(&[0; 126]).await.is_err());
        close_normally(ws).await;
    })
    .await;
}

async fn subprotocol_negotiation<A: Adapter>() {
    within(async {
        // ws-echo-server.js sets no `handleProtocols`, so `ws` selects the
        // first subprotocol the client offers.
        let url = echo_url();
        let host = url
            .strip_prefix("ws://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("WS_ECHO_URL is not ws://HOST:PORT: {url}"))
            .to_owned();
        let tcp = A::connect_tcp(&host).await.expect("TCP");
        let request = ClientRequest::new(host, "/")
            .protocol("chat.v2")
            .protocol("chat");
        let (mut ws, response) = tcp.connect(request).await.expect("the handshake");
        assert_eq!(response.protocol.as_deref(), Some("chat.v2"));
        let selected: Vec<_> = response
            .headers
            .get_all("sec-websocket-protocol")
            .iter()
            .collect();
        assert_eq!(selected.len(), 1, "{:?}", response.headers);
        round_trip(&mut ws, Message::from("with a subprotocol")).await;
        close_normally(ws).await;
    })
    .await;
}

async fn close_initiated_by_the_client_is_echoed<A: Adapter>() {
    within(async {
        let mut ws = open::<A>().await;
        round_trip(&mut ws, Message::from("before closing")).await;
        let reason = "client is done: ✓";
        ws.close(CloseCode(4000), reason).await.expect("closing");
        // Sending after our close frame is refused.
        assert!(ws.send(Message::from("too late")).await.is_err());
        let want = CloseFrame::new(CloseCode(4000), reason);
        match ws.next_event().await.expect("an event").expect("no error") {
            Event::Close(frame) => assert_eq!(frame, Some(want.clone())),
            other => panic!("expected the close echo, got {other:?}"),
        }
        // The server then ends the connection: the stream ends cleanly.
        assert!(ws.next_event().await.is_none());
        assert_eq!(ws.peer_close_frame(), Some(&want));
    })
    .await;
}

async fn many_messages_in_order<A: Adapter>() {
    within(async {
        const COUNT: usize = 5000;
        let ws = open::<A>().await;
        let (mut sink, mut stream) = ws.split();
        let message = |i: usize| {
            if i % 3 == 0 {
                Message::Binary(Bytes::from(i.to_le_bytes().repeat(i % 17)))
            } else {
                Message::from(format!("message {i} {}", "x".repeat(i % 200)))
            }
        };
        let writer = tokio::spawn(async move {
            for i in 0..COUNT {
                sink.feed(message(i)).await.expect("feeding");
            }
            sink.flush().await.expect("flushing");
            sink
        });
        for i in 0..COUNT {
            let echo = stream
                .next()
                .await
                .unwrap_or_else(|| panic!("the stream ended at {i}"))
                .expect("a message");
            assert_eq!(echo, message(i), "message {i}");
        }
        let mut sink = writer.await.expect("the writer");
        // Sink::close starts the close handshake with 1000; the stream ends.
        sink.close().await.expect("closing");
        assert!(stream.next().await.is_none());
    })
    .await;
}

sockway_tests::for_each_adapter! {
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    text_echo_at_length_boundaries,
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    binary_echo_at_length_boundaries_and_16_mib,
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    fragments_are_echoed_as_one_message,
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    ping_is_answered_with_a_pong_carrying_its_payload,
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    subprotocol_negotiation,
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    close_initiated_by_the_client_is_echoed,
    #[ignore = "needs Node and tests/interop's npm packages; scripts/interop.sh runs it"]
    many_messages_in_order,
}
