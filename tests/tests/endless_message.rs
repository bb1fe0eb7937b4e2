//! WebSocket clients that send a message that never ends: a frame header
//! claiming 2^63 − 1 bytes, or fragments of the largest frame size forever.
//! The server answers close 1009 (message too big) as soon as the limit is
//! passed — before buffering what is over it — and closes the connection;
//! its memory stays bounded by the endpoint's message limit, and other
//! clients are served.
//!
//! The server runs in a child process (this test binary again, running only
//! [`child_server`]), on each runtime in turn, whose RSS is read from
//! `/proc`.

use std::time::Duration;

use adapter_core::WebSocketConfig;
use bytes::{Bytes, BytesMut};
use sockway_tests::runtime::ServerRuntime;
use sockway_tests::stress::{
    assert_serving, frame_header, peak_rss, read_server_frame, within, ws_upgrade, ChildServer,
    Rss, FLOOD, SMALL_FRAME, SMALL_MESSAGE,
};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

#[test]
#[ignore = "the server child of the other tests, which run it"]
fn child_server() {
    sockway_tests::stress::child_main();
}

/// A server and its RSS once warmed up (KiB).
async fn server<R: ServerRuntime>() -> (ChildServer, u64) {
    let server = ChildServer::spawn::<R>("child_server", FLOOD).await;
    assert_serving(server.addr()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = server.rss_kib();
    (server, before)
}

/// What the client saw: the close frame's code and reason, and whether the
/// connection ended (end of file or reset) after it.
#[derive(Debug)]
struct Seen {
    close: Option<(u16, String)>,
    ended: bool,
}

/// Sends `first`, then `again` forever (until a write fails), on a
/// WebSocket to `path`, while reading what the server sends: the close
/// frame, then the end of the connection.
async fn endless(tcp: TcpStream, first: Vec<u8>, again: Option<(Vec<u8>, Bytes)>) -> Seen {
    let (mut rd, mut wr) = tcp.into_split();
    let writer = tokio::spawn(async move {
        if wr.write_all(&first).await.is_err() {
            return;
        }
        if let Some((header, payload)) = again {
            while wr.write_all(&header).await.is_ok() && wr.write_all(&payload).await.is_ok() {}
        }
        // Keep the write side open: the server must close.
        std::future::pending::<()>().await;
    });
    let mut buf = BytesMut::new();
    let mut seen = Seen {
        close: None,
        ended: false,
    };
    within(
        Duration::from_secs(30),
        "the close frame and the end",
        async {
            while let Some(frame) = read_server_frame(&mut rd, &mut buf).await {
                if let Some(code) = frame.close_code() {
                    seen.close = Some((code, frame.close_reason()));
                }
            }
            seen.ended = true;
        },
    )
    .await;
    writer.abort();
    seen
}

async fn a_frame_header_claiming_2_pow_63_bytes_gets_1009_or_1002<R: ServerRuntime>() {
    let (server, before) = server::<R>().await;
    let addr = server.addr();
    let pid = server.pid();
    let (seen, peak) = peak_rss(pid, async {
        // 2^63 − 1: over any frame limit: 1009 at the header.
        let (tcp, _) = ws_upgrade(addr, "/ws").await;
        let mut first = frame_header(2, true, (1 << 63) - 1, Some([0; 4]));
        first.extend_from_slice(&[0; 1024]);
        let too_big = endless(tcp, first, None).await;
        // 2^63: a 64-bit length with its top bit set is a protocol error.
        let (tcp, _) = ws_upgrade(addr, "/ws").await;
        let first = frame_header(2, true, 1 << 63, Some([0; 4]));
        let invalid = endless(tcp, first, None).await;
        (too_big, invalid)
    })
    .await;
    let (too_big, invalid) = seen;
    assert_eq!(
        too_big.close.as_ref().map(|c| c.0),
        Some(1009),
        "{too_big:?}"
    );
    assert!(too_big.ended, "{too_big:?}");
    assert_eq!(
        invalid.close.as_ref().map(|c| c.0),
        Some(1002),
        "{invalid:?}"
    );
    assert!(invalid.ended, "{invalid:?}");
    assert_serving(addr).await;
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<R>(
        "frame headers claiming 2^63 − 1 and 2^63 bytes",
        &rss,
        4 * 1024,
    );
}

async fn endless_fragments_past_the_message_limit_get_1009<R: ServerRuntime>() {
    let (mut server, before) = server::<R>().await;
    let addr = server.addr();
    let pid = server.pid();
    // `/small`: 64 KiB frames, 1 MiB messages. Fragments of 64 KiB forever.
    let (seen, peak) = peak_rss(pid, async {
        let (tcp, _) = ws_upgrade(addr, "/small").await;
        let mut first = frame_header(2, false, SMALL_FRAME as u64, Some([0; 4]));
        first.extend(std::iter::repeat_n(0u8, SMALL_FRAME));
        let again = (
            frame_header(0, false, SMALL_FRAME as u64, Some([0; 4])),
            Bytes::from(vec![0u8; SMALL_FRAME]),
        );
        let (seen, ()) = tokio::join!(endless(tcp, first, Some(again)), assert_serving(addr));
        seen
    })
    .await;
    let (code, reason) = seen.close.clone().expect("a close frame");
    assert_eq!(code, 1009, "{seen:?}");
    assert!(seen.ended, "{seen:?}");
    let closed = server.event("small closed", Duration::from_secs(5)).await;
    assert_serving(addr).await;
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<R>(
        &format!(
            "endless 64 KiB fragments, 1 MiB message limit: close {code} {reason:?}; the handler \
             saw {closed:?}"
        ),
        &rss,
        // The message limit and a little.
        (SMALL_MESSAGE as u64 / 1024) * 4 + 4 * 1024,
    );
}

async fn endless_maximal_frames_on_the_ready_server_get_1009<R: ServerRuntime>() {
    let (server, before) = server::<R>().await;
    let addr = server.addr();
    let pid = server.pid();
    let limits = WebSocketConfig::default();
    let frame = limits.max_frame_size;
    // The ready server's `/ws`: 16 MiB frames, 64 MiB messages. Fragments
    // of 16 MiB forever.
    let (seen, peak) = peak_rss(pid, async {
        let (tcp, _) = ws_upgrade(addr, "/ws").await;
        let mut first = frame_header(2, false, frame as u64, Some([0; 4]));
        first.extend(std::iter::repeat_n(0u8, frame));
        let again = (
            frame_header(0, false, frame as u64, Some([0; 4])),
            Bytes::from(vec![0u8; frame]),
        );
        let (seen, ()) = tokio::join!(endless(tcp, first, Some(again)), assert_serving(addr));
        seen
    })
    .await;
    let (code, reason) = seen.close.clone().expect("a close frame");
    assert_eq!(code, 1009, "{seen:?}");
    assert!(seen.ended, "{seen:?}");
    assert_serving(addr).await;
    let rss = Rss {
        before,
        peak,
        after: server.rss_kib(),
    };
    report::<R>(
        &format!(
            "endless 16 MiB fragments, 64 MiB message limit (the ready server's /ws): \
             close {code} {reason:?}"
        ),
        &rss,
        // The message being assembled (64 MiB), what it grows from, and the
        // read buffer of one frame.
        ((limits.max_message_size * 2 + limits.max_frame_size * 2) / 1024) as u64,
    );
}

#[allow(clippy::print_stderr)]
fn report<R: ServerRuntime>(what: &str, rss: &Rss, limit_kib: u64) {
    eprintln!("{}: {what}: {rss}", R::NAME);
    assert!(
        rss.peak <= rss.before + limit_kib,
        "{what}: memory grew past {limit_kib} KiB: {rss}"
    );
}

sockway_tests::for_each_runtime! {
    a_frame_header_claiming_2_pow_63_bytes_gets_1009_or_1002: multi_thread,
    endless_fragments_past_the_message_limit_get_1009: multi_thread,
    endless_maximal_frames_on_the_ready_server_get_1009: multi_thread,
}
