//! `sockway serve`'s `/ws/broadcast` on every stack: every message, text
//! or binary, reaches every open WebSocket of the path, its author's
//! included, once and in order; a closed one leaves the room; `/ws` stays
//! an echo outside it.

use std::time::Duration;

use adapter_tokio::{CloseCode, MaybeTlsStream, Message, WebSocketStream};

mod common;

/// The bound of every wait.
const LIMIT: Duration = Duration::from_secs(20);

type Ws = WebSocketStream<MaybeTlsStream>;

async fn open(addr: &str, path: &str) -> Ws {
    let (ws, _) = tokio::time::timeout(
        LIMIT,
        adapter_tokio::connect_url(format!("ws://{addr}{path}")),
    )
    .await
    .expect("the handshake in time")
    .expect("the handshake");
    ws
}

/// The next message, within `wait`: `None` when none came.
async fn next_within(ws: &mut Ws, wait: Duration) -> Option<Message> {
    match tokio::time::timeout(wait, ws.recv()).await {
        Ok(Some(Ok(message))) => Some(message),
        Ok(other) => panic!("the connection ended: {other:?}"),
        Err(_) => None,
    }
}

async fn next(ws: &mut Ws) -> Message {
    next_within(ws, LIMIT).await.expect("a message in time")
}

fn text(message: &Message) -> &str {
    match message {
        Message::Text(t) => t.as_str(),
        Message::Binary(b) => panic!("a binary message {b:?}"),
    }
}

/// Each member joins in its handler, which may run after its client saw
/// the handshake's answer: `members[0]` sends probes until one reaches
/// every member, then every member reads until that probe.
async fn settle(members: &mut [Ws]) {
    let (author, others) = members.split_first_mut().expect("members");
    tokio::time::timeout(LIMIT, async {
        for n in 0u32.. {
            let probe = format!("probe-{n}");
            author.send(probe.clone()).await.expect("send");
            let mut heard = 0;
            for ws in others.iter_mut() {
                // Earlier probes may come first.
                while let Some(m) = next_within(ws, Duration::from_millis(100)).await {
                    assert!(text(&m).starts_with("probe-"), "{m:?}");
                    if text(&m) == probe {
                        heard += 1;
                        break;
                    }
                }
            }
            loop {
                let m = next(author).await;
                if text(&m) == probe {
                    break;
                }
                assert!(text(&m).starts_with("probe-"), "{m:?}");
            }
            if heard == others.len() {
                return;
            }
        }
    })
    .await
    .expect("every member joined in time");
}

async fn check(addr: &str) {
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(open(addr, "/ws/broadcast").await);
    }
    let mut echo = open(addr, "/ws").await;
    settle(&mut members).await;

    members[1].send("one").await.expect("send");
    members[2].send(vec![0u8, 1, 2]).await.expect("send");
    members[1].send("two").await.expect("send");
    for ws in &mut members {
        // Each author's messages in its order; the binary one may come
        // anywhere between.
        let mut got = Vec::new();
        for _ in 0..3 {
            got.push(next(ws).await);
        }
        let texts: Vec<&str> = got
            .iter()
            .filter_map(|m| match m {
                Message::Text(t) => Some(t.as_str()),
                Message::Binary(_) => None,
            })
            .collect();
        assert_eq!(texts, ["one", "two"], "{got:?}");
        assert!(
            got.iter()
                .any(|m| matches!(m, Message::Binary(b) if b.as_ref() == [0, 1, 2])),
            "{got:?}"
        );
        assert!(next_within(ws, Duration::from_millis(100)).await.is_none());
    }

    // One leaves; the others still get every message, and the echo none.
    let mut gone = members.pop().expect("three");
    gone.close(CloseCode::NORMAL, "").await.expect("close");
    members[0].send("three").await.expect("send");
    for ws in &mut members {
        assert_eq!(text(&next(ws).await), "three");
    }
    echo.send("mine").await.expect("send");
    assert_eq!(text(&next(&mut echo).await), "mine");
    assert!(next_within(&mut echo, Duration::from_millis(100))
        .await
        .is_none());
}

#[test]
fn every_message_reaches_every_member_on_every_stack() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    for stack in ["own", "axum", "hyper"] {
        let (_server, line) = common::serve(&["--stack", stack]);
        let addr = line
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("expected the listening line, got {line:?}"))
            .to_owned();
        runtime.block_on(check(&addr));
    }
}
