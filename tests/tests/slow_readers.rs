//! Clients that stop reading while the server sends: the session is handled
//! by its overflow strategy or its send time limit, the server's memory
//! stays bounded, and other clients are served meanwhile.
//!
//! The server (the ready server plus the flooding endpoints of
//! `sockway_tests::stress::flood_server`) runs in a child process, on each
//! runtime in turn (`runtimes::*`), and mounted in axum (`stacks::axum`:
//! the ready server's `Router` with the flooding endpoints as its fallback,
//! on tokio; HTTP/1.1 and the writes of streaming responses are hyper's
//! there, the WebSocket connections sockway's, on the upgraded stream);
//! its RSS is read from `/proc`, and its handlers report what their
//! sessions went through. Every flooding handler sends 64 KiB
//! messages, each a fresh allocation, as fast as it can (bursts of 4, about
//! 250 MB/s at most): a send buffer without a bound would show as hundreds
//! of MiB within a second.

use std::net::SocketAddr;
use std::time::Duration;

use adapter_core::server::{Server, ServerBuilder, Session, WebSocketEndpoint};
use adapter_core::Executor;
use adapter_tokio::{connect, ClientRequest, Message, WebSocketStream};
use bytes::BytesMut;
use futures_util::StreamExt as _;
use sockway_tests::loopback::{AxumTestServer, TestServer};
use sockway_tests::runtime::{ServerMode, ServerRuntime, Tokio};
use sockway_tests::stress::{
    assert_serving, flood_index, peak_rss, read_response, read_until_closed, within, ChildServer,
    Ending, Rss, FLOOD, FLOOD_BUFFER, FLOOD_MESSAGE, FLOOD_SEND_TIME_LIMIT, MIB,
};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;

/// The most the server's RSS may grow while one client does not read. The
/// send buffer holds 1 MiB, the connection 64 KiB more; measured growth is
/// 0.3 to 2.5 MiB (debug build), while a buffer without a bound would grow
/// by tens of MiB within the first 50 ms of the flood.
const GROWTH_LIMIT_KIB: u64 = 16 * 1024;

#[test]
#[ignore = "the server child of the other tests, which run it"]
fn child_server() {
    sockway_tests::stress::child_main();
}

/// A server and its RSS once warmed up (KiB).
async fn flood_server<M: ServerMode>() -> (ChildServer, u64) {
    let server = ChildServer::spawn::<M>("child_server", FLOOD).await;
    assert_serving(server.addr()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = server.rss_kib();
    (server, before)
}

/// A connection whose receive buffer is small (64 KiB), so that a client
/// that does not read stops the server's writes early.
async fn slow_socket(addr: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(64 * 1024)
        .expect("a receive buffer size");
    socket.connect(addr).await.expect("connect")
}

/// A WebSocket to `path` that the test reads only when it chooses to.
async fn slow_websocket(addr: SocketAddr, path: &str) -> WebSocketStream<TcpStream> {
    let tcp = slow_socket(addr).await;
    let (ws, _) = within(
        Duration::from_secs(5),
        "the handshake",
        connect(tcp, ClientRequest::new(addr.to_string(), path)),
    )
    .await
    .expect("a WebSocket");
    ws
}

/// `name=<number>` in an event.
fn field(event: &str, name: &str) -> u64 {
    event
        .split_whitespace()
        .find_map(|w| w.strip_prefix(name)?.strip_prefix('='))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {event:?}"))
}

#[allow(clippy::print_stderr)]
fn report<M: ServerMode>(what: &str, rss: &Rss) {
    eprintln!("{}: {what}: {rss}", M::MODE);
    assert!(
        rss.peak <= rss.before + GROWTH_LIMIT_KIB,
        "{what}: memory grew past {GROWTH_LIMIT_KIB} KiB: {rss}"
    );
}

async fn websocket_overflow_with_terminate_closes_the_session_with_4500<M: ServerMode>() {
    let (mut server, before) = flood_server::<M>().await;
    let addr = server.addr();
    let pid = server.pid();
    let mut ws = slow_websocket(addr, "/flood/terminate").await;

    // Nothing is read: the send buffer (1 MiB) fills and the next send
    // fails with `Overflow`, which closes the session.
    let (overflow, peak) = peak_rss(
        pid,
        server.event("terminate send-error", Duration::from_secs(10)),
    )
    .await;
    assert!(
        overflow.contains("send-error Overflow") && overflow.ends_with("open=false"),
        "{overflow}"
    );
    let sent = field(&overflow, "sent");
    assert!(
        sent * FLOOD_MESSAGE as u64 > FLOOD_BUFFER as u64,
        "overflowed after {sent} messages"
    );
    // Another client is served meanwhile.
    assert_serving(addr).await;

    // Reading now: what was written before the overflow, in order and none
    // dropped (the messages carry their index), then the close frame 4500.
    let mut received = 0u64;
    within(Duration::from_secs(10), "the rest and the close", async {
        while let Some(message) = ws.recv().await {
            let Message::Binary(message) = message.expect("a clean close") else {
                panic!("a binary message");
            };
            assert_eq!(flood_index(&message), received, "in order, none dropped");
            received += 1;
        }
    })
    .await;
    assert!(received <= sent, "{received} received, {sent} sent");
    let close = ws.peer_close_frame().expect("a close frame");
    assert_eq!(
        (u16::from(close.code), close.reason.as_str()),
        (4500, "Send buffer overflow")
    );
    let closed = server
        .event("terminate closed", Duration::from_secs(5))
        .await;
    assert!(closed.starts_with("terminate closed 4500"), "{closed}");
    assert_serving(addr).await;
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<M>(
        &format!(
            "WebSocket, Terminate, 1 MiB buffer: overflow after {sent} sends of 64 KiB, \
             {received} delivered; the handler saw {closed:?}"
        ),
        &rss,
    );
}

/// Checks what a client of `/flood/drop-oldest` received, by index, after
/// `sent` messages: every index once, in the order sent, ending with the
/// newest (`sent - 1`); the newest form an unbroken run as long as the
/// send buffer holds (at least half of it: the buffer keeps the newest
/// that fit, and the `done` after them may push one more out), and what
/// comes before that run was written to the socket before it filled.
#[track_caller]
fn assert_drop_oldest_survivors(indices: &[u64], sent: u64) {
    assert!(
        indices.windows(2).all(|w| w[0] < w[1]),
        "out of order or repeated: {indices:?}"
    );
    assert_eq!(
        indices.last(),
        Some(&(sent - 1)),
        "the newest message survives: {indices:?}"
    );
    let newest = indices
        .iter()
        .rev()
        .zip((0..sent).rev())
        .take_while(|(got, want)| *got == want)
        .count();
    let buffered = FLOOD_BUFFER / FLOOD_MESSAGE;
    assert!(
        (buffered / 2..=buffered + 1).contains(&newest),
        "the newest {newest} messages, for a buffer of {buffered}: {indices:?}"
    );
}

async fn websocket_overflow_with_drop_oldest_keeps_the_session_open<M: ServerMode>() {
    let (mut server, before) = flood_server::<M>().await;
    let addr = server.addr();
    let pid = server.pid();
    let mut ws = slow_websocket(addr, "/flood/drop-oldest").await;

    // Nothing is read for the flooding window (1.5 s): every send is taken,
    // the oldest waiting messages are dropped, the session stays open.
    let flooding = async {
        let serving = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_serving(addr).await;
        };
        let (flooded, ()) = tokio::join!(
            server.event("drop-oldest flooded", Duration::from_secs(10)),
            serving
        );
        flooded
    };
    let (flooded, peak) = peak_rss(pid, flooding).await;
    assert!(
        flooded.contains("failures=0") && flooded.ends_with("open=true"),
        "{flooded}"
    );
    let sent = field(&flooded, "sent");
    // Far more than the buffer and the socket buffers hold.
    assert!(
        sent * FLOOD_MESSAGE as u64 > 64 * MIB as u64,
        "only {sent} messages sent"
    );

    // Reading now: the messages that went to the socket before it filled,
    // then the newest ones that waited in the send buffer (the oldest of
    // those were dropped to make room), then `done`; the session is alive.
    // The messages carry their index.
    let mut indices = Vec::new();
    within(Duration::from_secs(10), "the rest and done", async {
        loop {
            match ws.recv().await.expect("open").expect("no error") {
                Message::Binary(b) => indices.push(flood_index(&b)),
                Message::Text(t) => {
                    assert_eq!(t.as_str(), "done");
                    break;
                }
            }
        }
    })
    .await;
    let received = indices.len() as u64;
    assert!(
        received < sent,
        "{received} of {sent} delivered: none dropped"
    );
    assert_drop_oldest_survivors(&indices, sent);
    within(Duration::from_secs(5), "a normal close", async {
        ws.close(adapter_tokio::CloseCode::NORMAL, "bye")
            .await
            .expect("close");
        while ws.recv().await.is_some() {}
    })
    .await;
    let closed = server
        .event("drop-oldest closed", Duration::from_secs(5))
        .await;
    assert!(closed.starts_with("drop-oldest closed 1000"), "{closed}");
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<M>(
        &format!(
            "WebSocket, DropOldest, 1 MiB buffer: {sent} sends of 64 KiB in 1.5 s, none failed, \
             {received} delivered"
        ),
        &rss,
    );
}

async fn websocket_stuck_write_ends_the_session_at_the_send_time_limit<M: ServerMode>() {
    let (mut server, before) = flood_server::<M>().await;
    let addr = server.addr();
    let pid = server.pid();
    let started = Instant::now();
    let mut ws = slow_websocket(addr, "/flood/stall").await;

    // DropOldest: the buffer never overflows; the write stuck for the send
    // time limit (500 ms) ends the session.
    let waiting = async {
        let (closed, ()) = tokio::join!(
            server.event("stall closed", Duration::from_secs(10)),
            assert_serving(addr)
        );
        closed
    };
    let (closed, peak) = peak_rss(pid, waiting).await;
    let took = started.elapsed();
    assert_eq!(closed, "stall closed 4500 Send time limit exceeded");
    assert!(
        took >= FLOOD_SEND_TIME_LIMIT && took < FLOOD_SEND_TIME_LIMIT + Duration::from_secs(3),
        "closed after {took:?}"
    );
    let failed = server
        .event("stall send-error", Duration::from_secs(5))
        .await;
    assert!(
        failed.contains("send-error Closed") && failed.ends_with("open=false"),
        "{failed}"
    );
    // The connection is closed: reading it now gives what was in the
    // buffers, then the end.
    let (ending, bytes) = read_until_closed(ws.get_mut(), Duration::from_secs(10)).await;
    assert!(matches!(ending, Ending::Eof | Ending::Reset));
    assert_serving(addr).await;
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<M>(
        &format!(
            "WebSocket, 500 ms send time limit: closed after {took:?}, {bytes} bytes were in flight"
        ),
        &rss,
    );
}

async fn xhr_streaming_slow_reader_session_ends<M: ServerMode>() {
    let (mut server, before) = flood_server::<M>().await;
    let addr = server.addr();
    let pid = server.pid();
    let mut tcp = slow_socket(addr).await;
    tcp.write_all(
        b"POST /flood-sockjs/000/slow/xhr_streaming HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Length: 0\r\n\r\n",
    )
    .await
    .expect("write");

    // Nothing is read, not even the response head.
    let waiting = async {
        let (failed, ()) = tokio::join!(
            server.event("sockjs send-error", Duration::from_secs(10)),
            assert_serving(addr)
        );
        failed
    };
    let (failed, peak) = peak_rss(pid, waiting).await;
    assert!(
        failed.contains("send-error Overflow") && failed.ends_with("open=false"),
        "{failed}"
    );
    let sent = field(&failed, "sent");
    let closed = server.event("sockjs closed", Duration::from_secs(5)).await;
    assert_eq!(closed, "sockjs closed 4500 Send buffer overflow");
    let (ending, peak) = if M::MOUNTED {
        // Mounted, the response's writes are hyper's, and the send time
        // limit bounds sockway's own writes only: hyper has no limit on a
        // stuck write, so it keeps the connection (and the stream, and its
        // closed session) as long as the client neither reads nor goes
        // (measured: still open 4 s on). Memory stays bounded meanwhile;
        // once the client goes (a reset: it leaves unread data), hyper's
        // write fails and drops the stream, which lets the session go.
        let ((), held) = peak_rss(
            pid,
            tokio::time::sleep(FLOOD_SEND_TIME_LIMIT + Duration::from_millis(700)),
        )
        .await;
        let sessions = server.sockjs_sessions().await;
        drop(tcp);
        (
            format!("{sessions} session(s) held while the client neither read nor went"),
            peak.max(held),
        )
    } else {
        // Still not reading: the stuck write gives up after the send time
        // limit (500 ms) and the connection is closed. (A client that reads
        // again before gets the rest of the stream with the close frame: see
        // the next test.)
        tokio::time::sleep(FLOOD_SEND_TIME_LIMIT + Duration::from_millis(700)).await;
        let (ending, bytes) = read_until_closed(&mut tcp, Duration::from_secs(10)).await;
        assert!(matches!(ending, Ending::Eof | Ending::Reset));
        (format!("{bytes} bytes were in flight"), peak)
    };
    // The session goes after the disconnect delay (1 s).
    let gone = Instant::now();
    let deadline = gone + Duration::from_secs(5);
    while server.sockjs_sessions().await > 0 {
        assert!(Instant::now() < deadline, "the session is removed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let removed = gone.elapsed();
    assert_serving(addr).await;
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<M>(
        &format!(
            "SockJS xhr_streaming, 1 MiB buffer, {FLOOD_SEND_TIME_LIMIT:?} send time limit: \
             overflow after {sent} sends of 64 KiB, {ending}; session removed {removed:.2?} after"
        ),
        &rss,
    );
}

async fn xhr_streaming_reader_that_comes_back_gets_the_close_frame<M: ServerMode>() {
    let (mut server, before) = flood_server::<M>().await;
    let addr = server.addr();
    let pid = server.pid();
    let mut tcp = slow_socket(addr).await;
    tcp.write_all(
        b"POST /flood-sockjs-patient/000/back/xhr_streaming HTTP/1.1\r\nHost: 127.0.0.1\r\n\
          Content-Length: 0\r\n\r\n",
    )
    .await
    .expect("write");
    let (failed, peak) = peak_rss(
        pid,
        server.event("sockjs-patient send-error", Duration::from_secs(10)),
    )
    .await;
    assert!(failed.contains("send-error Overflow"), "{failed}");
    let sent = field(&failed, "sent");
    // Reading again (within the send time limit, 10 s): the frames written
    // before the overflow, the close frame (4500), the end of the
    // response; the connection stays open for the next request.
    let mut buf = BytesMut::new();
    let (close, bytes) = within(Duration::from_secs(10), "the close frame", async {
        let mut total = 0u64;
        loop {
            let n = tcp.read_buf(&mut buf).await.expect("read");
            assert!(n > 0, "the stream ended before its close frame");
            total += n as u64;
            if buf.ends_with(b"\r\n0\r\n\r\n") {
                let text = String::from_utf8_lossy(&buf[buf.len() - 200..]).into_owned();
                let at = text.rfind("\nc[").expect("a close frame before the end");
                let close = text[at + 1..].split('\n').next().unwrap_or_default();
                return (close.to_owned(), total);
            }
            if buf.len() > 256 * 1024 {
                // Keep the tail only: the frames before do not matter.
                buf = buf.split_off(buf.len() - 1024);
            }
        }
    })
    .await;
    assert!(
        close.starts_with("c[4500,\"Send buffer overflow\"]"),
        "{close}"
    );
    tcp.write_all(b"GET /echo/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut rest = BytesMut::new();
    let info = within(
        Duration::from_secs(5),
        "the next request",
        read_response(&mut tcp, &mut rest),
    )
    .await
    .expect("the connection goes on");
    assert_eq!(info.status, 200);
    let closed = server
        .event("sockjs-patient closed", Duration::from_secs(5))
        .await;
    assert_eq!(closed, "sockjs-patient closed 4500 Send buffer overflow");
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<M>(
        &format!(
            "SockJS xhr_streaming, 1 MiB buffer, reader back: overflow after {sent} sends of 64 KiB, \
             {bytes} bytes read after, ending with {close}"
        ),
        &rss,
    );
}

/// Messages sent at once past the driver's write limit (64 KiB in the
/// connection) wait in the session's outbox; the driver must come back for
/// them as the client reads, not only when the application sends again.
/// Bursts of 32 messages of 64 KiB, and of 200 of 1 KiB, to a client that
/// reads at once.
async fn websocket_burst_past_the_write_limit_is_delivered_in_full<R: ServerRuntime>() {
    let server = TestServer::start(burst_endpoints(Server::<R>::builder()));
    assert_bursts_delivered(server.addr).await;
}

/// The same, mounted in axum (on the upgraded stream that hyper hands
/// over). In this process, on a runtime of its own, as the runtimes'
/// instances are: the endpoints are the test's own, not the child's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_websocket_burst_past_the_write_limit_is_delivered_in_full() {
    let server = AxumTestServer::start(burst_endpoints(Server::<Tokio>::builder()));
    assert_bursts_delivered(server.addr).await;
}

/// `/burst/large` and `/burst/small` on `builder`: each sends its burst at
/// once, then `done`.
fn burst_endpoints<R: Executor>(builder: ServerBuilder<R>) -> ServerBuilder<R> {
    let burst = |count: usize, size: usize| {
        move |mut session: Session| async move {
            for i in 0..count {
                session
                    .send(Message::Binary(vec![i as u8; size].into()))
                    .expect("room in the send buffer");
            }
            session.send("done").expect("room in the send buffer");
            while session.next().await.is_some() {}
        }
    };
    builder
        .websocket(
            "/burst/large",
            WebSocketEndpoint::new(burst(32, FLOOD_MESSAGE)).send_buffer_size_limit(4 * MIB),
        )
        .websocket(
            "/burst/small",
            WebSocketEndpoint::new(burst(200, 1024)).send_buffer_size_limit(4 * MIB),
        )
}

/// Every message of both bursts reaches a client of the server on `addr`
/// that reads at once, in order, within 3 s.
async fn assert_bursts_delivered(addr: SocketAddr) {
    let mut stranded = Vec::new();
    for (path, count, size) in [
        ("/burst/large", 32_usize, FLOOD_MESSAGE),
        ("/burst/small", 200, 1024),
    ] {
        let (mut ws, _) = adapter_tokio::connect_url(&format!("ws://{addr}{path}"))
            .await
            .expect("a WebSocket");
        let mut received = Vec::new();
        let reading = tokio::time::timeout(Duration::from_secs(3), async {
            loop {
                match ws.recv().await.expect("open").expect("no error") {
                    Message::Binary(b) => {
                        assert_eq!(b.len(), size);
                        received.push(b[0]);
                    }
                    Message::Text(t) => {
                        assert_eq!(t.as_str(), "done");
                        break;
                    }
                }
            }
        })
        .await;
        if reading.is_err() {
            stranded.push(format!(
                "{path}: {} of {count} messages of {size} bytes and no `done` within 3 s",
                received.len()
            ));
            continue;
        }
        assert_eq!(received, (0..count).map(|i| i as u8).collect::<Vec<_>>());
    }
    assert!(
        stranded.is_empty(),
        "the rest stayed in the outbox: {stranded:#?}"
    );
}

/// The most a client that never reads may write into the ready server's
/// WebSocket echo before TCP holds it back: the send buffer (512 KiB), the
/// connection's output (64 KiB), one message in the handler, and the
/// kernel's socket buffers both ways (a few MiB each on loopback). A server
/// that kept reading would take far more: before the echo waited for room,
/// it buffered 64 MiB, then read and dropped what came after.
const HELD_BACK_LIMIT: usize = 48 * MIB;

/// The ready server's WebSocket echo (`/ws`) to a client that sends 64 KiB
/// messages and never reads: the echo waits for room in the send buffer
/// before it reads the next message, so the server stops reading the
/// socket. The client's writes stall early, the server's memory stays
/// flat, the session stays open, and once the client reads, every echo
/// arrives, in order.
async fn websocket_echo_holds_back_a_client_that_does_not_read<M: ServerMode>() {
    use adapter_core::ws_proto::frame::OpCode;
    use sockway_tests::peer::{client_frame, read_head, KEY};
    use sockway_tests::stress::read_server_frame;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let (server, before) = flood_server::<M>().await;
    let addr = server.addr();
    let mut tcp = slow_socket(addr).await;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    tcp.write_all(request.as_bytes())
        .await
        .expect("the upgrade");
    let head = within(Duration::from_secs(5), "the 101", read_head(&mut tcp)).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    let (mut rd, mut wr) = tcp.into_split();

    // The writer: message `i` carries `i` in its first 8 bytes.
    let written = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let most = 8 * HELD_BACK_LIMIT / FLOOD_MESSAGE;
    let writer = tokio::spawn({
        let (written, stop) = (Arc::clone(&written), Arc::clone(&stop));
        async move {
            for i in 0..most {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let mut payload = vec![0x5a_u8; FLOOD_MESSAGE];
                payload[..8].copy_from_slice(&(i as u64).to_le_bytes());
                let frame = client_frame(OpCode::Binary, true, &payload);
                if wr.write_all(&frame).await.is_err() {
                    break;
                }
                written.store(i + 1, Ordering::SeqCst);
            }
            written.load(Ordering::SeqCst)
        }
    });

    // Until the writes stall: no progress for a whole second.
    let pid = server.pid();
    let ((), peak) = peak_rss(pid, async {
        let mut last = usize::MAX;
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = written.load(Ordering::SeqCst);
            if now == last || now == most {
                return;
            }
            last = now;
        }
        panic!("the client's writes never stalled");
    })
    .await;
    let stalled_at = written.load(Ordering::SeqCst);
    assert!(
        stalled_at > 0 && stalled_at * FLOOD_MESSAGE < HELD_BACK_LIMIT,
        "the server took {stalled_at} messages of 64 KiB ({} MiB) from a client that does \
         not read",
        stalled_at * FLOOD_MESSAGE / MIB
    );
    assert_serving(addr).await;

    // Now the client reads: every echo, in order, and the writer finishes
    // the message it was in.
    stop.store(true, Ordering::SeqCst);
    let (indices_tx, mut indices) = tokio::sync::mpsc::unbounded_channel();
    // It ends at the end of the connection: once the writer is done, the
    // client's side is shut down, and the server may close its own after
    // the last echo (mounted in axum it does so before the reader is
    // aborted); an echo missing at that point fails the count below.
    let reader = tokio::spawn(async move {
        let mut buf = BytesMut::new();
        while let Some(frame) = read_server_frame(&mut rd, &mut buf).await {
            assert!(frame.fin && frame.opcode == 2, "a binary echo: {frame:?}");
            let payload = frame.payload;
            assert_eq!(payload.len(), FLOOD_MESSAGE);
            let index = u64::from_le_bytes(payload[..8].try_into().expect("8 bytes"));
            if indices_tx.send(index).is_err() {
                return;
            }
        }
    });
    let sent = within(Duration::from_secs(10), "the writer's end", writer)
        .await
        .expect("the writer");
    for expected in 0..sent as u64 {
        let index = within(Duration::from_secs(10), "an echo", indices.recv())
            .await
            .expect("an echo before the end of the connection");
        assert_eq!(index, expected, "every echo once, in order");
    }
    reader.abort();
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<M>(
        &format!(
            "WebSocket echo to a client that does not read: its writes stalled after \
             {stalled_at} messages of 64 KiB; {sent} echoed once it read"
        ),
        &rss,
    );
}

sockway_tests::for_each_stack! {
    websocket_overflow_with_terminate_closes_the_session_with_4500: multi_thread,
    websocket_overflow_with_drop_oldest_keeps_the_session_open: multi_thread,
    websocket_stuck_write_ends_the_session_at_the_send_time_limit: multi_thread,
    xhr_streaming_slow_reader_session_ends: multi_thread,
    xhr_streaming_reader_that_comes_back_gets_the_close_frame: multi_thread,
    websocket_echo_holds_back_a_client_that_does_not_read: multi_thread,
}

sockway_tests::for_each_runtime! {
    websocket_overflow_with_terminate_closes_the_session_with_4500: multi_thread,
    websocket_overflow_with_drop_oldest_keeps_the_session_open: multi_thread,
    websocket_stuck_write_ends_the_session_at_the_send_time_limit: multi_thread,
    xhr_streaming_slow_reader_session_ends: multi_thread,
    xhr_streaming_reader_that_comes_back_gets_the_close_frame: multi_thread,
    websocket_burst_past_the_write_limit_is_delivered_in_full: multi_thread,
    websocket_echo_holds_back_a_client_that_does_not_read: multi_thread,
}
