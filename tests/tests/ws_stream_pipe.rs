//! Each adapter's WebSocket stream over an in-memory pipe
//! (`tokio::io::duplex` for tokio, `sockway_tests::pipe` over `futures-io`
//! for async-std): tiny buffers that cut every read and write into pieces,
//! raw peers that send exactly the bytes a test needs, and the core's
//! timers as the stream runs them (the close timeout, the liveness check;
//! in tokio's simulated time for tokio, whose timers are tokio's; in real
//! time for async-std).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use adapter_core::ws_proto::frame::OpCode;
use adapter_core::ws_proto::{ProtocolError, Timeout};
use adapter_core::{
    AcceptOptions, ClientRequest, CloseCode, CloseFrame, ConnectOptions, Error, Event, Message,
    MessageKind, WebSocketConfig,
};
use bytes::Bytes;
use sockway_tests::adapter::{Adapter, Transport};
use sockway_tests::peer::{
    client_frame, pattern, raw_client_handshake, raw_server_handshake, read_n, read_server_frame,
    server_frame, upgrade_request, within,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadBuf};

async fn echo_through_seven_byte_pipes<A: Adapter>() {
    within(async {
        let (a, b) = A::pipe(7);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            while let Some(message) = ws.recv().await {
                ws.send(message.unwrap()).await.unwrap();
            }
        });
        let (mut ws, _) = b
            .connect(ClientRequest::new("localhost", "/"))
            .await
            .unwrap();
        for message in [
            Message::from("small"),
            Message::from("ü".repeat(1000)),
            Message::Binary(Bytes::from(pattern(100_000))),
        ] {
            ws.send(message.clone()).await.unwrap();
            assert_eq!(ws.recv().await.unwrap().unwrap(), message);
        }
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(ws.recv().await.is_none());
        server.await.unwrap();
    })
    .await;
}

async fn frames_sent_with_the_request_are_not_lost<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(64 * 1024);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            ws.recv().await.unwrap().unwrap()
        });
        let mut bytes = upgrade_request("13");
        bytes.extend(client_frame(OpCode::Text, true, b"early"));
        b.write_all(&bytes).await.unwrap();
        assert_eq!(server.await.unwrap(), Message::from("early"));
    })
    .await;
}

async fn pings_are_answered_by_a_server_that_only_reads<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            ws.recv().await.unwrap().unwrap()
        });
        raw_client_handshake(&mut b).await;
        b.write_all(&client_frame(OpCode::Ping, true, b"hb"))
            .await
            .unwrap();
        // The pong comes while the server is still waiting for a message.
        assert_eq!(read_server_frame(&mut b).await, (0x8a, b"hb".to_vec()));
        b.write_all(&client_frame(OpCode::Binary, true, b"data"))
            .await
            .unwrap();
        assert_eq!(
            server.await.unwrap(),
            Message::Binary(Bytes::from_static(b"data"))
        );
    })
    .await;
}

async fn invalid_utf8_fails_before_the_rest_of_the_frame_arrives<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            let first = ws.recv().await;
            let second = ws.recv().await;
            (first, second)
        });
        raw_client_handshake(&mut b).await;
        // A 20-byte text frame whose 6th byte is not UTF-8; only 8 bytes sent.
        let mut payload = b"hello".to_vec();
        payload.push(0xff);
        payload.extend_from_slice(&[b'x'; 14]);
        let frame = client_frame(OpCode::Text, true, &payload);
        b.write_all(&frame[..2 + 4 + 8]).await.unwrap();
        // Close 1007 comes at once, then the server's end of file.
        assert_eq!(
            read_server_frame(&mut b).await,
            (0x88, 1007u16.to_be_bytes().to_vec())
        );
        let mut rest = Vec::new();
        b.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
        drop(b);
        let (first, second) = server.await.unwrap();
        assert!(
            matches!(
                first,
                Some(Err(Error::Protocol(ProtocolError::InvalidUtf8)))
            ),
            "{first:?}"
        );
        assert!(second.is_none());
    })
    .await;
}

async fn a_cancelled_read_loses_nothing<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            let mut cancelled = 0;
            loop {
                match tokio::time::timeout(Duration::from_millis(10), ws.recv()).await {
                    Ok(message) => return (message.unwrap().unwrap(), cancelled),
                    Err(_) => cancelled += 1,
                }
            }
        });
        raw_client_handshake(&mut b).await;
        let frame = client_frame(OpCode::Text, true, "half and half".as_bytes());
        for piece in frame.chunks(3) {
            b.write_all(piece).await.unwrap();
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let (message, cancelled) = server.await.unwrap();
        assert_eq!(message, Message::from("half and half"));
        assert!(cancelled >= 5, "{cancelled}");
    })
    .await;
}

async fn a_client_waits_for_the_servers_eof_at_most_the_close_timeout<A: Adapter>() {
    // Simulated time on tokio; a real second on async-std.
    const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
    within(async {
        let (a, mut b) = A::pipe(1024);
        // A server that echoes the close but never ends the transport.
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut b).await;
            let close = read_n(&mut b, 2 + 4 + 2).await;
            assert_eq!(close[0], 0x88);
            b.write_all(&server_frame(OpCode::Close, true, &4000u16.to_be_bytes()))
                .await
                .unwrap();
            // Hold the transport open until the client ends it.
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap();
        });
        let options = ConnectOptions::default().close_timeout(CLOSE_TIMEOUT);
        let (mut ws, _) = a
            .connect_with(ClientRequest::new("localhost", "/"), options)
            .await
            .unwrap();
        ws.close(CloseCode(4000), "").await.unwrap();
        let start = tokio::time::Instant::now();
        assert!(ws.recv().await.is_none());
        let waited = start.elapsed();
        assert!(
            waited >= CLOSE_TIMEOUT && waited < CLOSE_TIMEOUT + Duration::from_secs(1),
            "{waited:?}"
        );
        assert_eq!(
            ws.peer_close_frame(),
            Some(&CloseFrame::new(CloseCode(4000), ""))
        );
        // The client shut its side down: the server's read ends.
        server.await.unwrap();
    })
    .await;
}

async fn a_client_with_a_ping_interval_drops_a_silent_server<A: Adapter>() {
    // Simulated time on tokio; real time on async-std.
    const INTERVAL: Duration = Duration::from_millis(300);
    const PONG_TIMEOUT: Duration = Duration::from_millis(200);
    within(async {
        let (a, mut b) = A::pipe(1024);
        // A server that reads the ping but never answers anything.
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut b).await;
            let ping = read_n(&mut b, 2 + 4).await;
            assert_eq!(ping[..2], [0x89, 0x80], "an empty masked ping");
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap();
            rest
        });
        let config = WebSocketConfig::default()
            .ping_interval(INTERVAL)
            .pong_timeout(PONG_TIMEOUT);
        let options = ConnectOptions::default().config(config);
        let start = tokio::time::Instant::now();
        let (mut ws, _) = a
            .connect_with(ClientRequest::new("localhost", "/"), options)
            .await
            .unwrap();
        let end = ws.recv().await;
        let waited = start.elapsed();
        assert!(
            matches!(
                end,
                Some(Err(Error::Protocol(ProtocolError::Timeout(Timeout::Pong))))
            ),
            "{end:?}"
        );
        let least = INTERVAL + PONG_TIMEOUT;
        assert!(
            waited >= least && waited < least + Duration::from_millis(400),
            "{waited:?}"
        );
        assert!(ws.recv().await.is_none());
        // Nothing more went out: no close frame after the ping.
        drop(ws);
        assert_eq!(server.await.unwrap(), b"");
    })
    .await;
}

async fn an_unanswered_close_ends_the_stream_after_the_close_timeout<A: Adapter>() {
    const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);
    within(async {
        let (a, mut b) = A::pipe(1024);
        // A server that reads the close frame and never answers it.
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut b).await;
            let close = read_n(&mut b, 2 + 4 + 2).await;
            assert_eq!(close[0], 0x88);
            let mut rest = Vec::new();
            b.read_to_end(&mut rest).await.unwrap();
        });
        let options = ConnectOptions::default().close_timeout(CLOSE_TIMEOUT);
        let (mut ws, _) = a
            .connect_with(ClientRequest::new("localhost", "/"), options)
            .await
            .unwrap();
        ws.close(CloseCode::NORMAL, "").await.unwrap();
        let start = tokio::time::Instant::now();
        let end = ws.recv().await;
        let waited = start.elapsed();
        assert!(
            matches!(
                end,
                Some(Err(Error::Protocol(ProtocolError::Timeout(Timeout::Close))))
            ),
            "{end:?}"
        );
        assert!(
            waited >= CLOSE_TIMEOUT && waited < CLOSE_TIMEOUT + Duration::from_millis(400),
            "{waited:?}"
        );
        assert!(ws.recv().await.is_none());
        drop(ws);
        server.await.unwrap();
    })
    .await;
}

async fn a_close_stuck_behind_unread_output_is_given_up_after_the_close_timeout<A: Adapter>() {
    const CLOSE_TIMEOUT: Duration = Duration::from_millis(500);
    const MOMENT: Duration = Duration::from_millis(10);
    within(async {
        let (a, mut b) = A::pipe(1024);
        // A server that completes the handshake and then reads nothing.
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut b).await;
            b
        });
        let options = ConnectOptions::default().close_timeout(CLOSE_TIMEOUT);
        let (mut ws, _) = a
            .connect_with(ClientRequest::new("localhost", "/"), options)
            .await
            .unwrap();
        let server = server.await.unwrap();
        // Both writes get stuck; their frames stay queued (cancel-safe).
        let big = Message::Binary(Bytes::from(pattern(1024 * 1024)));
        let sent = tokio::time::timeout(MOMENT, ws.send(big)).await;
        assert!(sent.is_err(), "the server reads nothing: {sent:?}");
        let closed = tokio::time::timeout(MOMENT, ws.close(CloseCode::NORMAL, "")).await;
        assert!(closed.is_err(), "{closed:?}");
        let start = tokio::time::Instant::now();
        let end = ws.recv().await;
        let waited = start.elapsed();
        assert!(
            matches!(
                end,
                Some(Err(Error::Protocol(ProtocolError::Timeout(Timeout::Close))))
            ),
            "{end:?}"
        );
        assert!(
            waited >= CLOSE_TIMEOUT && waited < CLOSE_TIMEOUT + Duration::from_millis(400),
            "{waited:?}"
        );
        assert!(ws.recv().await.is_none());
        drop(server);
    })
    .await;
}

async fn eof_in_the_middle_of_a_frame_is_unexpected_eof<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            ws.recv().await
        });
        raw_client_handshake(&mut b).await;
        let frame = client_frame(OpCode::Binary, true, &[1; 100]);
        b.write_all(&frame[..50]).await.unwrap();
        drop(b);
        let result = server.await.unwrap();
        assert!(
            matches!(
                result,
                Some(Err(Error::Protocol(ProtocolError::UnexpectedEof)))
            ),
            "{result:?}"
        );
    })
    .await;
}

async fn eof_during_the_handshake_is_an_io_error<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        b.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        drop(b);
        let err = a.accept().await.unwrap_err();
        assert!(
            matches!(&err, Error::Io(e) if e.kind() == io::ErrorKind::UnexpectedEof),
            "{err:?}"
        );
    })
    .await;
}

async fn streaming_mode_hands_out_fragments_through_next_event<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            let options =
                AcceptOptions::default().config(WebSocketConfig::default().streaming(true));
            let mut ws = a.accept_with(options).await.unwrap();
            let mut fragments = Vec::new();
            while let Some(Ok(event)) = ws.next_event().await {
                if let Event::Fragment(f) = event {
                    let fin = f.fin;
                    fragments.push(f);
                    if fin {
                        break;
                    }
                }
            }
            fragments
        });
        raw_client_handshake(&mut b).await;
        b.write_all(&client_frame(OpCode::Binary, false, b"one"))
            .await
            .unwrap();
        b.write_all(&client_frame(OpCode::Continuation, true, b"two"))
            .await
            .unwrap();
        let fragments = server.await.unwrap();
        assert_eq!(fragments.len(), 2);
        assert_eq!(fragments[0].kind, MessageKind::Binary);
        assert_eq!(&fragments[0].payload[..], b"one");
        assert!(fragments[0].first && !fragments[0].fin);
        assert_eq!(&fragments[1].payload[..], b"two");
        assert!(!fragments[1].first && fragments[1].fin);
    })
    .await;
}

async fn a_client_masks_every_frame<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            raw_server_handshake(&mut b).await;
            let head = read_n(&mut b, 2).await;
            assert_eq!(head, [0x81, 0x80 | 5]);
            let key = read_n(&mut b, 4).await;
            let mut payload = read_n(&mut b, 5).await;
            adapter_core::ws_proto::mask::apply_mask(&mut payload, key.try_into().unwrap(), 0);
            payload
        });
        let (mut ws, _) = a
            .connect(ClientRequest::new("localhost", "/"))
            .await
            .unwrap();
        ws.send("hello").await.unwrap();
        assert_eq!(server.await.unwrap(), b"hello");
    })
    .await;
}

async fn a_peer_that_leaves_right_after_its_close_ends_the_stream_cleanly<A: Adapter>() {
    within(async {
        let (a, mut b) = A::pipe(1024);
        let server = tokio::spawn(async move {
            let mut ws = a.accept().await.unwrap();
            let mut events = Vec::new();
            while let Some(event) = ws.next_event().await {
                events.push(event.map_err(|e| e.to_string()));
            }
            events
        });
        raw_client_handshake(&mut b).await;
        let mut close = 1000u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"gone");
        b.write_all(&client_frame(OpCode::Close, true, &close))
            .await
            .unwrap();
        drop(b);
        assert_eq!(
            server.await.unwrap(),
            [Ok(Event::Close(Some(CloseFrame::new(
                CloseCode::NORMAL,
                "gone"
            ))))]
        );
    })
    .await;
}

/// A transport that records how many bytes each read asks for, over either
/// I/O traits.
struct Recording<P> {
    io: P,
    asks: Arc<Mutex<Vec<usize>>>,
}

impl<P: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Recording<P> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.asks.lock().unwrap().push(buf.remaining());
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<P: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Recording<P> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

impl<P: futures_io::AsyncRead + Unpin> futures_io::AsyncRead for Recording<P> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.asks.lock().unwrap().push(buf.len());
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<P: futures_io::AsyncWrite + Unpin> futures_io::AsyncWrite for Recording<P> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_close(cx)
    }
}

async fn reads_start_small_grow_for_a_large_message_and_shrink_when_idle<A: Adapter>()
where
    Recording<A::Pipe>: Transport<A>,
{
    within(async {
        let (a, b) = A::pipe(1024 * 1024);
        let asks = Arc::new(Mutex::new(Vec::new()));
        let recording = Recording {
            io: a,
            asks: Arc::clone(&asks),
        };
        let server = tokio::spawn(async move {
            let mut ws = recording.accept().await.unwrap();
            while let Some(message) = ws.recv().await {
                ws.send(message.unwrap()).await.unwrap();
            }
        });
        let (mut ws, _) = b
            .connect(ClientRequest::new("localhost", "/"))
            .await
            .unwrap();
        let take = |asks: &Arc<Mutex<Vec<usize>>>| std::mem::take(&mut *asks.lock().unwrap());

        ws.send("small").await.unwrap();
        ws.recv().await.unwrap().unwrap();
        let idle = take(&asks);
        assert!(idle.iter().all(|&n| n <= 8 * 1024), "{idle:?}");

        let big = Message::Binary(Bytes::from(pattern(8 * 1024 * 1024)));
        ws.send(big.clone()).await.unwrap();
        assert_eq!(ws.recv().await.unwrap().unwrap(), big);
        let transfer = take(&asks);
        let largest = transfer.iter().copied().max().unwrap();
        assert!(largest >= 512 * 1024, "{transfer:?}");

        // The next message starts from a small buffer again.
        ws.send("small again").await.unwrap();
        ws.recv().await.unwrap().unwrap();
        let after = take(&asks);
        assert!(after.iter().all(|&n| n <= 8 * 1024), "{after:?}");

        ws.close(CloseCode::NORMAL, "").await.unwrap();
        assert!(ws.recv().await.is_none());
        server.await.unwrap();
    })
    .await;
}

sockway_tests::for_each_adapter! {
    echo_through_seven_byte_pipes,
    frames_sent_with_the_request_are_not_lost,
    pings_are_answered_by_a_server_that_only_reads,
    invalid_utf8_fails_before_the_rest_of_the_frame_arrives,
    a_cancelled_read_loses_nothing: paused,
    a_client_waits_for_the_servers_eof_at_most_the_close_timeout: paused,
    a_client_with_a_ping_interval_drops_a_silent_server: paused,
    an_unanswered_close_ends_the_stream_after_the_close_timeout: paused,
    a_close_stuck_behind_unread_output_is_given_up_after_the_close_timeout: paused,
    eof_in_the_middle_of_a_frame_is_unexpected_eof,
    eof_during_the_handshake_is_an_io_error,
    streaming_mode_hands_out_fragments_through_next_event,
    a_client_masks_every_frame,
    a_peer_that_leaves_right_after_its_close_ends_the_stream_cleanly,
    reads_start_small_grow_for_a_large_message_and_shrink_when_idle,
}
