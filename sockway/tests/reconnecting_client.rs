//! The reconnecting_client example, run as a child process against a
//! SockJS echo server that the test stops and starts again on the same
//! port: it reconnects with a growing, jittered backoff that starts over
//! after a success, delivers what it is given after the reconnect, and
//! stops with status 0 on a clean close from the server, on Ctrl-C and at
//! the end of its input.

#![cfg(all(unix, feature = "tokio"))]

mod common;

use std::net::SocketAddr;

use common::{Example, LIMIT};
use futures_util::StreamExt as _;
use sockway::tokio::server::{CloseStatus, Server, ServerHandle, Session, SockJsEndpoint};
use sockway::Message;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// An echo server; `stop` is closed cleanly (3000 "bye"). How each session
/// ended goes to `closes`.
struct EchoServer {
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
    addr: SocketAddr,
    closes: mpsc::UnboundedReceiver<CloseStatus>,
}

impl EchoServer {
    async fn start(addr: &str) -> Self {
        let (tx, closes) = mpsc::unbounded_channel();
        let echo = move |mut session: Session| {
            let tx = tx.clone();
            async move {
                while let Some(message) = session.next().await {
                    if matches!(&message, Message::Text(t) if t.as_str() == "stop") {
                        let _ = session.close(3000, "bye");
                    } else if session.send(message).is_err() {
                        break;
                    }
                }
                if let Some(status) = session.close_status() {
                    let _ = tx.send(status);
                }
            }
        };
        let server = Server::builder()
            .sockjs("/echo", SockJsEndpoint::new(echo))
            .bind(addr)
            .await
            .expect("bind");
        let addr = server.local_addr().expect("an address");
        Self {
            handle: server.handle(),
            task: tokio::spawn(server.serve()),
            addr,
            closes,
        }
    }

    /// Shuts it down (every session gets 1001) and waits for the end.
    async fn stop(self) {
        self.handle.shutdown();
        tokio::time::timeout(LIMIT, self.task)
            .await
            .expect("the shutdown ends in time")
            .expect("the server task")
            .expect("the server");
    }
}

/// Reads `reconnecting in N ms (attempt K)`; checks that N is within the
/// backoff's bounds for K (between half and all of 100 ms * 2^(K-1), at
/// most 10 s) and returns K.
fn reconnecting(client: &mut Example) -> u32 {
    let line = client.line_where(|l| l.starts_with("reconnecting in "));
    let parsed = line
        .strip_prefix("reconnecting in ")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|rest| rest.split_once(" ms (attempt "))
        .and_then(|(ms, attempt)| Some((ms.parse::<u64>().ok()?, attempt.parse::<u32>().ok()?)));
    let (ms, attempt) = parsed.unwrap_or_else(|| panic!("not a reconnecting line: {line:?}"));
    let bound = (100u64 << (attempt - 1).min(16)).min(10_000);
    assert!(
        (bound / 2..=bound).contains(&ms),
        "attempt {attempt} waits {ms} ms, outside {}..={bound}",
        bound / 2
    );
    attempt
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_with_backoff_and_delivers_after_the_reconnect() {
    let server = EchoServer::start("127.0.0.1:0").await;
    let addr = server.addr;
    let mut client = Example::start("reconnecting_client", &[&format!("http://{addr}/echo")]);
    assert_eq!(client.next_line(), "connected over websocket");
    client.write_line("one");
    assert_eq!(client.next_line(), "< one");

    // The server goes away: the client retries, waiting longer each time.
    server.stop().await;
    assert_eq!(client.next_line(), "closed: 1001 Server shutting down");
    assert_eq!(reconnecting(&mut client), 1);
    assert!(client.next_line().starts_with("connect failed: 1002"));
    assert_eq!(reconnecting(&mut client), 2);

    // Back on the same port: the client reconnects, and what it is given
    // now reaches the server.
    let server = EchoServer::start(&addr.to_string()).await;
    let connected = client.line_where(|l| l.starts_with("connected over "));
    assert_eq!(connected, "connected over websocket");
    client.write_line("two");
    assert_eq!(client.next_line(), "< two");

    // The success reset the backoff: the next loss starts at attempt 1.
    server.stop().await;
    assert_eq!(client.next_line(), "closed: 1001 Server shutting down");
    assert_eq!(reconnecting(&mut client), 1);
    let mut server = EchoServer::start(&addr.to_string()).await;
    client.line_where(|l| l.starts_with("connected over "));
    client.write_line("three");
    assert_eq!(client.next_line(), "< three");

    // A clean close from the server stops it.
    client.write_line("stop");
    assert_eq!(client.next_line(), "closed cleanly: 3000 bye");
    assert_eq!(client.next_line(), "stopped");
    let status = client.wait_exit(LIMIT);
    assert!(status.success(), "{status}; printed: {:#?}", client.seen());
    let closed = tokio::time::timeout(LIMIT, server.closes.recv())
        .await
        .expect("the session's end in time")
        .expect("a close status");
    assert_eq!(closed.code.0, 3000);
    server.stop().await;
}

/// Starts the client on a new server, with one echo done.
async fn connected_client() -> (EchoServer, Example) {
    let server = EchoServer::start("127.0.0.1:0").await;
    let url = format!("http://{}/echo", server.addr);
    let mut client = Example::start("reconnecting_client", &[&url]);
    assert_eq!(client.next_line(), "connected over websocket");
    client.write_line("hello");
    assert_eq!(client.next_line(), "< hello");
    (server, client)
}

/// How the server saw the client's close.
async fn close_seen_by(server: &mut EchoServer) -> CloseStatus {
    tokio::time::timeout(LIMIT, server.closes.recv())
        .await
        .expect("the session's end in time")
        .expect("a close status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_closes_the_session_cleanly_and_exits_with_0() {
    let (mut server, mut client) = connected_client().await;
    client.signal("INT");
    assert_eq!(client.next_line(), "stopped");
    let status = client.wait_exit(LIMIT);
    assert!(status.success(), "{status}");
    let closed = close_seen_by(&mut server).await;
    assert_eq!(closed.code.0, 1000, "{closed:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_its_input_closes_the_session_cleanly() {
    let (mut server, mut client) = connected_client().await;
    client.close_stdin();
    assert_eq!(client.next_line(), "stopped");
    let status = client.wait_exit(LIMIT);
    assert!(status.success(), "{status}");
    let closed = close_seen_by(&mut server).await;
    assert_eq!(closed.code.0, 1000, "{closed:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_waiting_to_reconnect_exits_with_0() {
    let (server, mut client) = connected_client().await;
    server.stop().await;
    assert_eq!(client.next_line(), "closed: 1001 Server shutting down");
    reconnecting(&mut client);
    client.signal("INT");
    client.line_where(|l| l == "stopped");
    let status = client.wait_exit(LIMIT);
    assert!(status.success(), "{status}; printed: {:#?}", client.seen());
}
