//! What real clients need of the server, over loopback on every runtime:
//! a session closed as it opens still sends `o` first, each frame in a
//! chunk of its own; an immediate reply to a message sent by `xhr_send`
//! reaches the next poll; eventsource carries CORS; sessions answer only
//! their own client (by address behind a trusted proxy, or by principal).

#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

use std::time::Duration;

use adapter_core::server::{Server, Session, SockJsEndpoint};
use adapter_core::sockjs_proto::{AllowedOrigins, SockJsConfig};
use futures_util::StreamExt as _;
use sockway_tests::loopback::{
    frame_messages, serve_options, xhr_streaming_prelude, Client, TestServer,
};
use sockway_tests::runtime::{self as rt, ServerRuntime};

fn ready<R: ServerRuntime>() -> TestServer {
    TestServer::ready::<R>(&serve_options(
        Duration::from_secs(30),
        Duration::from_secs(10),
    ))
}

/// `data` as one chunk, framing included.
fn chunk(data: &str) -> String {
    format!("{:X}\r\n{data}\r\n", data.len())
}

async fn raw_chunk(c: &mut Client) -> String {
    String::from_utf8(c.read_raw_chunk().await).expect("UTF-8 frames")
}

// ---- a session closed as it opens ---------------------------------------------------

async fn close_sends_o_then_the_close_frame_each_in_a_chunk_of_its_own<R: ServerRuntime>() {
    let server = ready::<R>();
    // (transport, method, the prelude, `o` and the close frame as written)
    let cases = [
        (
            "xhr_streaming",
            "POST",
            xhr_streaming_prelude(),
            "o\n".to_owned(),
            "c[3000,\"Go away!\"]\n".to_owned(),
        ),
        (
            "eventsource",
            "GET",
            "\r\n".to_owned(),
            "data: o\r\n\r\n".to_owned(),
            "data: c[3000,\"Go away!\"]\r\n\r\n".to_owned(),
        ),
        (
            "htmlfile?c=cb",
            "GET",
            String::new(),
            "<script>\np(\"o\");\n</script>\r\n".to_owned(),
            "<script>\np(\"c[3000,\\\"Go away!\\\"]\");\n</script>\r\n".to_owned(),
        ),
    ];
    for (i, (transport, method, prelude, open, close)) in cases.into_iter().enumerate() {
        let target = format!("/close/000/c{i}/{transport}");
        for round in ["first", "second"] {
            let mut c = server.client().await;
            c.request(method, &target, &[], b"").await;
            let head = c.read_head().await;
            assert!(head.is_chunked(), "{transport}");
            assert_eq!(head.header("X-Accel-Buffering"), "no", "{transport}");
            let first = raw_chunk(&mut c).await;
            if prelude.is_empty() {
                // htmlfile: the page head, padded past 1024 bytes.
                let (size, data) = first.split_once("\r\n").unwrap();
                assert_eq!(usize::from_str_radix(size, 16).unwrap(), data.len() - 2);
                assert!(
                    data.len() > 1024 && data.ends_with("\r\n\r\n\r\n"),
                    "{data:?}"
                );
            } else {
                assert_eq!(first, chunk(&prelude), "{transport}");
            }
            if round == "first" {
                // The session opened and closed at once: `o` first.
                assert_eq!(raw_chunk(&mut c).await, chunk(&open), "{transport}");
            }
            // Later requests get the close frame alone.
            assert_eq!(
                raw_chunk(&mut c).await,
                chunk(&close),
                "{transport} {round}"
            );
            assert_eq!(raw_chunk(&mut c).await, "0\r\n\r\n", "{transport} {round}");
        }
    }
    // Polling: `o`, then the close frame.
    let mut c = server.client().await;
    assert_eq!(c.post("/close/000/p/xhr", "").await.text(), "o\n");
    assert_eq!(
        c.post("/close/000/p/xhr", "").await.text(),
        "c[3000,\"Go away!\"]\n"
    );
}

// ---- an immediate reply reaches the next poll -----------------------------------------

/// An echo that does some asynchronous work (never sleeping) before each
/// reply, as handlers that await a channel, a lock or a database do.
async fn busy_echo(mut session: Session) {
    while let Some(message) = session.next().await {
        for _ in 0..2000 {
            rt::yield_now().await;
        }
        if session.send(message).is_err() {
            break;
        }
    }
}

async fn an_immediate_reply_to_xhr_send_reaches_the_next_poll<R: ServerRuntime>() {
    let config = SockJsConfig::default().session_cookie_needed(false);
    let server = TestServer::start(
        Server::<R>::builder().sockjs("/echo", SockJsEndpoint::new(busy_echo).config(config)),
    );
    let mut c = server.client().await;
    // sockjs-protocol's Protocol.test_simpleSession and XhrPolling, many
    // times: eight sends answered 204, then one poll with all eight echoes.
    for round in 0..20 {
        let session = format!("/echo/000/r{round}");
        assert_eq!(c.post(&format!("{session}/xhr"), "").await.text(), "o\n");
        let sent: Vec<String> = (0..8).map(|i| format!("m{round}.{i}")).collect();
        for m in &sent {
            let res = c
                .post(&format!("{session}/xhr_send"), &format!("[\"{m}\"]"))
                .await;
            assert_eq!(res.status(), 204);
        }
        let res = c.post(&format!("{session}/xhr"), "").await;
        assert_eq!(
            frame_messages(res.text().trim_end()),
            sent,
            "round {round}: every echo in the first poll"
        );
    }
}

async fn a_handler_that_stops_reading_holds_each_send_for_handler_wait_only<R: ServerRuntime>() {
    // A handler that reads once and then only pushes: a send waits for it
    // to come back for more, but no longer than `handler_wait`.
    let wait = Duration::from_millis(300);
    let endpoint = SockJsEndpoint::new(|mut session: Session| async move {
        while let Some(m) = session.next().await {
            let _ = session.send(m);
            // Stops reading, without dropping the session.
            rt::sleep(Duration::from_secs(60)).await;
        }
    })
    .config(SockJsConfig::default().session_cookie_needed(false))
    .handler_wait(wait);
    let server = TestServer::start(Server::<R>::builder().sockjs("/p", endpoint));
    let mut c = server.client().await;
    assert_eq!(c.post("/p/000/s/xhr", "").await.text(), "o\n");
    for m in ["a", "b"] {
        let started = tokio::time::Instant::now();
        let res = c.post("/p/000/s/xhr_send", &format!("[\"{m}\"]")).await;
        assert_eq!(res.status(), 204);
        let took = started.elapsed();
        // Held by the timer, and answered long before the handler reads
        // again (60 s). (The exact deadline is pinned on simulated time in
        // server-proto's tests; here the server's clock is read once per
        // turn of its connection's loop, which a busy machine may preempt
        // between that read and the request's: the deadline may start
        // that much before the request came, so half the wait is the floor.)
        assert!(
            took >= wait / 2 && took < Duration::from_secs(10),
            "{m}: {took:?}"
        );
    }
    // The reply the handler sent before it stopped is there.
    assert_eq!(c.post("/p/000/s/xhr", "").await.text(), "a[\"a\"]\n");
}

// ---- CORS on eventsource ---------------------------------------------------------------

async fn eventsource_carries_cors_for_a_cross_origin_page<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    c.request(
        "GET",
        "/echo/000/cors/eventsource",
        &[("Origin", "http://pages.example:3000")],
        b"",
    )
    .await;
    let head = c.read_head().await;
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Access-Control-Allow-Origin"),
        "http://pages.example:3000"
    );
    assert_eq!(head.header("Access-Control-Allow-Credentials"), "true");
    assert_eq!(head.header("Content-Type"), "text/event-stream");
    assert_eq!(raw_chunk(&mut c).await, chunk("\r\n"));
    assert_eq!(raw_chunk(&mut c).await, chunk("data: o\r\n\r\n"));
}

// ---- sessions bound to their client -----------------------------------------------------

async fn behind_a_trusted_proxy_sessions_are_bound_to_the_forwarded_address<R: ServerRuntime>() {
    let endpoint = SockJsEndpoint::new(busy_echo).config(
        SockJsConfig::default()
            .session_cookie_needed(false)
            .allowed_origins(AllowedOrigins::Any),
    );
    let server = TestServer::start(
        Server::<R>::builder()
            .trusted_proxies(["127.0.0.1"
                .parse::<adapter_core::http_proto::IpRange>()
                .unwrap()])
            .sockjs("/echo", endpoint),
    );
    let alice = [("X-Forwarded-For", "198.51.100.1")];
    let mallory = [("X-Forwarded-For", "203.0.113.66")];
    // Alice opens a session over xhr-polling; every request of hers comes on
    // a new connection (a new port), as browsers do.
    let mut c = server.client().await;
    let res = c.roundtrip("POST", "/echo/000/a/xhr", &alice, b"").await;
    assert_eq!(res.text(), "o\n");
    // Mallory learned the session id: her sends and polls get 404 and
    // change nothing.
    for (target, body) in [
        ("/echo/000/a/xhr_send", &br#"["evil"]"#[..]),
        ("/echo/000/a/xhr", b""),
        ("/echo/000/a/xhr_streaming", b""),
        ("/echo/000/a/eventsource", b""),
        ("/echo/000/a/jsonp_send", b"d=%5B%22evil%22%5D"),
    ] {
        let method = if target.ends_with("eventsource") {
            "GET"
        } else {
            "POST"
        };
        let mut m = server.client().await;
        let res = m.roundtrip(method, target, &mallory, body).await;
        assert_eq!(res.status(), 404, "{target}: {}", res.text());
    }
    for i in 0..5 {
        let mut c = server.client().await;
        let body = format!("[\"hi {i}\"]");
        let res = c
            .roundtrip("POST", "/echo/000/a/xhr_send", &alice, body.as_bytes())
            .await;
        assert_eq!(res.status(), 204);
        let mut c = server.client().await;
        let res = c.roundtrip("POST", "/echo/000/a/xhr", &alice, b"").await;
        assert_eq!(frame_messages(res.text().trim_end()), [format!("hi {i}")]);
    }
    // A peer that is not a trusted proxy cannot claim an address: without
    // a trusted proxy configured, the header is ignored.
    let server = TestServer::start(Server::<R>::builder().sockjs(
        "/echo",
        SockJsEndpoint::new(busy_echo).config(SockJsConfig::default().session_cookie_needed(false)),
    ));
    let mut c = server.client().await;
    assert_eq!(
        c.roundtrip("POST", "/echo/000/b/xhr", &alice, b"")
            .await
            .text(),
        "o\n"
    );
    let res = c
        .roundtrip("POST", "/echo/000/b/xhr_send", &mallory, br#"["x"]"#)
        .await;
    assert_eq!(res.status(), 204, "the same peer address: the same client");
}

async fn with_a_principal_resolver_sessions_are_bound_to_the_user<R: ServerRuntime>() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let endpoint = SockJsEndpoint::new(move |mut session: Session| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(session.principal().map(str::to_owned));
            while let Some(m) = session.next().await {
                let _ = session.send(m);
            }
        }
    })
    .config(SockJsConfig::default().session_cookie_needed(false))
    .principal(|req| req.cookie("user").map(str::to_owned))
    .before_handshake(|req, attributes| {
        // Interceptors see the principal.
        attributes.insert("seen", req.principal().unwrap_or("-"));
        Ok(())
    });
    let server = TestServer::start(Server::<R>::builder().sockjs("/u", endpoint));
    let alice = [("Cookie", "theme=dark; user=alice")];
    let bob = [("Cookie", "user=bob")];
    let mut c = server.client().await;
    assert_eq!(
        c.roundtrip("POST", "/u/000/s/xhr", &alice, b"")
            .await
            .text(),
        "o\n"
    );
    assert_eq!(rx.recv().await, Some(Some("alice".to_owned())));
    // Bob, from the same address: not his session. Nobody: neither.
    for headers in [&bob[..], &[]] {
        let res = c
            .roundtrip("POST", "/u/000/s/xhr_send", headers, br#"["x"]"#)
            .await;
        assert_eq!(res.status(), 404, "{headers:?}");
    }
    let res = c
        .roundtrip("POST", "/u/000/s/xhr_send", &alice, br#"["mine"]"#)
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        c.roundtrip("POST", "/u/000/s/xhr", &alice, b"")
            .await
            .text(),
        "a[\"mine\"]\n"
    );
}

sockway_tests::for_each_runtime! {
    close_sends_o_then_the_close_frame_each_in_a_chunk_of_its_own,
    an_immediate_reply_to_xhr_send_reaches_the_next_poll,
    a_handler_that_stops_reading_holds_each_send_for_handler_wait_only,
    eventsource_carries_cors_for_a_cross_origin_page,
    behind_a_trusted_proxy_sessions_are_bound_to_the_forwarded_address,
    with_a_principal_resolver_sessions_are_bound_to_the_user,
}
