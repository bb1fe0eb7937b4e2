//! Every SockJS transport of the ready server over loopback, byte for
//! byte: xhr, xhr_streaming (chunked), eventsource, htmlfile, jsonp and
//! jsonp_send, websocket, the raw `/websocket`, and the plain WebSocket
//! endpoint `/ws`; `streamBytesLimit`; one receiver at a time; a client
//! that goes away mid-stream.
//!
//! The heartbeat and disconnect delay are long here (the timing tests use
//! short ones), so that no `h` frame can slip between the bytes expected.

#![allow(clippy::too_many_lines, reason = "scenario tests read top to bottom")]

use std::time::Duration;

use adapter_tokio::{CloseCode, Message};
use sockway_tests::loopback::{
    frame_messages, serve_options, within, xhr_streaming_prelude, Client, TestServer, JAVASCRIPT,
    NO_CACHE, TEXT_HTML, TEXT_PLAIN, WAIT,
};
use sockway_tests::runtime::ServerRuntime;

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

/// The raw bytes of the next chunk, as text.
async fn raw_chunk(c: &mut Client) -> String {
    String::from_utf8(c.read_raw_chunk().await).expect("UTF-8 frames")
}

/// A chunked head with the transport's `Content-Type` and CORS line, and
/// `X-Accel-Buffering: no` so that proxies pass each chunk on at once.
fn streaming_head(content_type: &str, cors: bool) -> String {
    let cors = if cors {
        "Access-Control-Allow-Origin: *\r\n"
    } else {
        ""
    };
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nCache-Control: {NO_CACHE}\r\n{cors}X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
}

/// `xhr_send` of `payload` on `session` of `/echo`: 204.
async fn send(c: &mut Client, session: &str, payload: &str) {
    let res = c
        .post(&format!("/echo/000/{session}/xhr_send"), payload)
        .await;
    assert_eq!(res.status(), 204, "{}{}", res.head.raw, res.text());
}

/// The htmlfile page head for `callback`, before its padding.
fn htmlfile_head(callback: &str) -> String {
    format!(
        "<!doctype html>\n<html><head>\n  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n</head><body><h2>Don't panic!</h2>\n  <script>\n    document.domain = document.domain;\n    var c = parent.{callback};\n    c.start();\n    function p(d) {{c.message(d);}};\n    window.onload = function() {{c.stop();}};\n  </script>"
    )
}

// ---- xhr -------------------------------------------------------------------------

async fn xhr_polling_exact_bytes<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    c.request("POST", "/echo/000/x/xhr", &[], b"").await;
    let expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {JAVASCRIPT}\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 2\r\n\r\no\n"
    );
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );
    c.request("POST", "/echo/000/x/xhr_send", &[], br#"["x"]"#)
        .await;
    let expected = format!(
        "HTTP/1.1 204 No Content\r\nContent-Type: {TEXT_PLAIN}\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\n\r\n"
    );
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );
    c.request("POST", "/echo/000/x/xhr", &[], b"").await;
    let expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {JAVASCRIPT}\r\nCache-Control: {NO_CACHE}\r\nAccess-Control-Allow-Origin: *\r\nContent-Length: 7\r\n\r\na[\"x\"]\n"
    );
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );

    // A poll with nothing to say waits; a send from elsewhere answers it,
    // and nothing before.
    let mut c = server.waiting_poll("/echo/000/x/xhr").await;
    let mut other = server.client().await;
    send(&mut other, "x", r#"["late \"one\""]"#).await;
    let res = c.read_response().await;
    assert_eq!(res.text(), "a[\"late \\\"one\\\"\"]\n");
    assert_eq!(res.header("Content-Length"), "18");
}

async fn characters_are_escaped_as_the_protocol_says<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/esc/xhr", "").await.text(), "o\n");
    // U+2028, U+200C, U+FFF0, NUL, a tab and a non-BMP character.
    send(
        &mut c,
        "esc",
        "[\"\\u2028\\u200C\u{fff0}\\u0000\\t\u{1f600}é\"]",
    )
    .await;
    let res = c.post("/echo/000/esc/xhr", "").await;
    assert_eq!(
        res.text(),
        "a[\"\\u2028\\u200c\\ufff0\\u0000\\t\\ud83d\\ude00é\"]\n"
    );
    assert_eq!(
        frame_messages(res.text().trim_end()),
        ["\u{2028}\u{200c}\u{fff0}\u{0}\t\u{1f600}é"]
    );
}

// ---- xhr_streaming -----------------------------------------------------------------

async fn xhr_streaming_exact_chunks<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut stream = server.client().await;
    stream
        .request("POST", "/echo/000/xs/xhr_streaming", &[], b"")
        .await;
    let head = stream.read_head().await;
    assert_eq!(head.raw, streaming_head(JAVASCRIPT, true));
    // The prelude in a chunk of its own, then every frame in its own.
    assert_eq!(
        raw_chunk(&mut stream).await,
        chunk(&xhr_streaming_prelude())
    );
    assert_eq!(raw_chunk(&mut stream).await, chunk("o\n"));
    let mut c = server.client().await;
    for (payload, frame) in [
        (r#"["x"]"#, "a[\"x\"]\n"),
        (r#"["hello world"]"#, "a[\"hello world\"]\n"),
        (r#"[""]"#, "a[\"\"]\n"),
    ] {
        send(&mut c, "xs", payload).await;
        assert_eq!(raw_chunk(&mut stream).await, chunk(frame));
    }
    // Nothing else is written meanwhile: the next chunk is a marker's.
    send(&mut c, "xs", r#"["marker"]"#).await;
    assert_eq!(raw_chunk(&mut stream).await, chunk("a[\"marker\"]\n"));
    stream.expect_nothing_buffered();
}

async fn a_second_receiver_gets_2010_and_the_first_is_undisturbed<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut first = server.client().await;
    first
        .request("POST", "/echo/000/two/xhr_streaming", &[], b"")
        .await;
    first.read_head().await;
    assert_eq!(raw_chunk(&mut first).await, chunk(&xhr_streaming_prelude()));
    assert_eq!(raw_chunk(&mut first).await, chunk("o\n"));
    let mut c = server.client().await;
    let res = c.post("/echo/000/two/xhr", "").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text(), "c[2010,\"Another connection still open\"]\n");
    // A second stream: its prelude, the 2010 frame, each a chunk of its
    // own, and its end.
    c.request("POST", "/echo/000/two/xhr_streaming", &[], b"")
        .await;
    assert_eq!(c.read_head().await.raw, streaming_head(JAVASCRIPT, true));
    assert_eq!(raw_chunk(&mut c).await, chunk(&xhr_streaming_prelude()));
    assert_eq!(
        raw_chunk(&mut c).await,
        chunk("c[2010,\"Another connection still open\"]\n")
    );
    assert_eq!(raw_chunk(&mut c).await, "0\r\n\r\n");
    send(&mut c, "two", r#"["still"]"#).await;
    assert_eq!(raw_chunk(&mut first).await, chunk("a[\"still\"]\n"));
}

// ---- eventsource, htmlfile, jsonp ----------------------------------------------------

async fn eventsource_exact_chunks<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut stream = server.client().await;
    stream
        .request("GET", "/echo/000/es/eventsource", &[], b"")
        .await;
    let head = stream.read_head().await;
    // Browsers read an EventSource from another origin with CORS.
    assert_eq!(head.raw, streaming_head("text/event-stream", true));
    assert_eq!(raw_chunk(&mut stream).await, "2\r\n\r\n\r\n");
    assert_eq!(raw_chunk(&mut stream).await, chunk("data: o\r\n\r\n"));
    let mut c = server.client().await;
    send(&mut c, "es", r#"["x"]"#).await;
    assert_eq!(
        raw_chunk(&mut stream).await,
        "10\r\ndata: a[\"x\"]\r\n\r\n\r\n"
    );
    // Line breaks stay inside the JSON: one data line per frame.
    send(&mut c, "es", r#"["  \n\r "]"#).await;
    assert_eq!(
        raw_chunk(&mut stream).await,
        chunk("data: a[\"  \\n\\r \"]\r\n\r\n")
    );
}

async fn htmlfile_exact_chunks<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut stream = server.client().await;
    stream
        .request("GET", "/echo/000/hf/htmlfile?c=%63allback", &[], b"")
        .await;
    let head = stream.read_head().await;
    assert_eq!(head.raw, streaming_head(TEXT_HTML, false));
    let first = String::from_utf8(stream.read_chunk().await.expect("a chunk")).unwrap();
    let page_head = htmlfile_head("callback");
    let rest = first
        .strip_prefix(&page_head)
        .unwrap_or_else(|| panic!("the htmlfile head in {first:?}"));
    let padding = rest
        .strip_suffix("\r\n\r\n")
        .unwrap_or_else(|| panic!("the prelude's end in {rest:?}"));
    assert!(padding.bytes().all(|b| b == b' '), "{padding:?}");
    let prelude = page_head.len() + padding.len() + 4;
    assert!(prelude > 1024, "prelude of {prelude} bytes");
    // The open frame in a chunk of its own.
    assert_eq!(
        raw_chunk(&mut stream).await,
        chunk("<script>\np(\"o\");\n</script>\r\n")
    );

    let mut c = server.client().await;
    send(&mut c, "hf", r#"["x"]"#).await;
    assert_eq!(
        raw_chunk(&mut stream).await,
        chunk("<script>\np(\"a[\\\"x\\\"]\");\n</script>\r\n")
    );
    // A message cannot end the script element.
    send(&mut c, "hf", r#"["</script>"]"#).await;
    let frame = raw_chunk(&mut stream).await;
    let inner = frame
        .split_once("<script>\np(")
        .and_then(|(_, f)| f.split_once(");\n</script>\r\n"))
        .map(|(inner, _)| inner)
        .expect("one script element");
    assert!(!inner.contains('<') && !inner.contains('>'), "{inner}");
}

async fn jsonp_and_jsonp_send_exact_bytes<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    c.request("GET", "/echo/000/jp/jsonp?c=cb", &[], b"").await;
    let expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {JAVASCRIPT}\r\nCache-Control: {NO_CACHE}\r\nContent-Length: 14\r\n\r\n/**/cb(\"o\");\r\n"
    );
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );
    c.request(
        "POST",
        "/echo/000/jp/jsonp_send",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"d=%5B%22x%22%5D",
    )
    .await;
    let expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {TEXT_PLAIN}\r\nCache-Control: {NO_CACHE}\r\nContent-Length: 2\r\n\r\nok"
    );
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );
    c.request("GET", "/echo/000/jp/jsonp?c=cb", &[], b"").await;
    let expected = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {JAVASCRIPT}\r\nCache-Control: {NO_CACHE}\r\nContent-Length: 21\r\n\r\n/**/cb(\"a[\\\"x\\\"]\");\r\n"
    );
    assert_eq!(
        String::from_utf8(c.read_exact(expected.len()).await).unwrap(),
        expected
    );
    // A raw JSON body works too.
    let res = c
        .roundtrip(
            "POST",
            "/echo/000/jp/jsonp_send",
            &[("Content-Type", "text/plain")],
            br#"["raw"]"#,
        )
        .await;
    assert_eq!(res.text(), "ok");
    let res = c.get("/echo/000/jp/jsonp?c=jQuery_1.2-3").await;
    assert_eq!(res.text(), "/**/jQuery_1.2-3(\"a[\\\"raw\\\"]\");\r\n");
    // Form decoding: `+` is a space, other fields are ignored.
    let res = c
        .roundtrip(
            "POST",
            "/echo/000/jp/jsonp_send",
            &[(
                "Content-Type",
                "application/x-www-form-urlencoded; charset=UTF-8",
            )],
            b"x=1&d=%5B%22a+b%22%5D",
        )
        .await;
    assert_eq!(res.text(), "ok");
    let res = c.get("/echo/000/jp/jsonp?c=cb").await;
    assert_eq!(res.text(), "/**/cb(\"a[\\\"a b\\\"]\");\r\n");
}

// ---- WebSocket -------------------------------------------------------------------

/// The next message of `ws`, as text.
async fn next_text<S>(ws: &mut adapter_tokio::WebSocketStream<S>) -> String
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match within(WAIT, "a WebSocket message", ws.recv()).await {
        Some(Ok(Message::Text(t))) => t.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

async fn sockjs_websocket_opens_with_o_and_echoes_in_a_frames<R: ServerRuntime>() {
    let server = ready::<R>();
    let (mut ws, response) = within(
        WAIT,
        "connect",
        adapter_tokio::connect_url(&server.ws_url("/echo/000/wsx/websocket")),
    )
    .await
    .expect("a WebSocket");
    assert_eq!(response.protocol, None);
    assert_eq!(next_text(&mut ws).await, "o");
    ws.send(r#"["x"]"#).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "a[\"x\"]");
    // A single JSON string is taken too; empty messages and [] are ignored.
    ws.send("").await.unwrap();
    ws.send("[]").await.unwrap();
    ws.send(r#""y""#).await.unwrap();
    assert_eq!(next_text(&mut ws).await, "a[\"y\"]");
    // The client closes: the echo comes back, the connection ends.
    ws.close(CloseCode::NORMAL, "bye").await.unwrap();
    let end = within(WAIT, "the end of the WebSocket", ws.recv()).await;
    assert!(end.is_none(), "{end:?}");
    let frame = ws.peer_close_frame().expect("the server's close");
    assert_eq!(u16::from(frame.code), 1000);
    // The same session id may be used by another WebSocket.
    let (mut again, _) = adapter_tokio::connect_url(&server.ws_url("/echo/000/wsx/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut again).await, "o");
}

async fn sockjs_websocket_closes_on_broken_json_and_binary<R: ServerRuntime>() {
    let server = ready::<R>();
    for (bad, code) in [
        (Message::from("[\"x"), 1007),
        (Message::from(vec![1u8]), 1003),
    ] {
        let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/echo/000/bad/websocket"))
            .await
            .unwrap();
        assert_eq!(next_text(&mut ws).await, "o");
        ws.send(r#"["fine"]"#).await.unwrap();
        assert_eq!(next_text(&mut ws).await, "a[\"fine\"]");
        ws.send(bad).await.unwrap();
        let end = within(WAIT, "the end", ws.recv()).await;
        assert!(end.is_none(), "{end:?}");
        let frame = ws.peer_close_frame().expect("a close frame");
        assert_eq!(u16::from(frame.code), code);
    }
}

async fn sockjs_websocket_upgrade_head_is_exact<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    c.send(format!(
        "GET /echo/000/raw/websocket HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    ))
    .await;
    let head = c.read_head().await;
    assert_eq!(
        head.raw,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
    );
    // The first frame: unmasked text `o`.
    assert_eq!(c.read_exact(3).await, [0x81, 0x01, b'o']);
    // Not GET: 405 with Allow.
    let mut c = server.client().await;
    let res = c.post("/echo/000/raw/websocket", "").await;
    assert_eq!(res.status(), 405);
    assert_eq!(res.header("Allow"), "GET");
    // No Upgrade: 400, and the connection goes on in HTTP.
    let res = c.get("/echo/000/raw/websocket").await;
    assert_eq!(res.status(), 400);
    assert_eq!(res.text(), "Can \"Upgrade\" only to \"WebSocket\".");
    assert_eq!(c.get("/echo").await.status(), 200);
}

async fn raw_websocket_echoes_without_framing<R: ServerRuntime>() {
    let server = ready::<R>();
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/echo/websocket"))
        .await
        .unwrap();
    for text in ["hello", "[\"not\",\"sockjs\"]", "", "é\u{2028}"] {
        ws.send(text).await.unwrap();
        assert_eq!(next_text(&mut ws).await, text);
    }
    ws.close(CloseCode::NORMAL, "").await.unwrap();
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
}

async fn plain_websocket_endpoint_echoes_text_and_binary<R: ServerRuntime>() {
    let server = ready::<R>();
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/ws"))
        .await
        .unwrap();
    ws.send("hi").await.unwrap();
    assert_eq!(next_text(&mut ws).await, "hi");
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    ws.send(binary.clone()).await.unwrap();
    match within(WAIT, "the binary echo", ws.recv()).await {
        Some(Ok(Message::Binary(b))) => assert_eq!(b, binary),
        other => panic!("expected binary, got {other:?}"),
    }
    ws.send(Vec::new()).await.unwrap();
    match within(WAIT, "the empty echo", ws.recv()).await {
        Some(Ok(Message::Binary(b))) => assert!(b.is_empty()),
        other => panic!("expected binary, got {other:?}"),
    }
    ws.close(CloseCode::from(4000), "done").await.unwrap();
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    let frame = ws.peer_close_frame().expect("the server's close");
    assert_eq!(u16::from(frame.code), 4000);
}

// ---- streamBytesLimit ------------------------------------------------------------

async fn xhr_streaming_ends_at_the_stream_bytes_limit_and_the_next_one_continues<
    R: ServerRuntime,
>() {
    let server = ready::<R>();
    let mut stream = server.client().await;
    stream
        .request("POST", "/echo/000/lim/xhr_streaming", &[], b"")
        .await;
    stream.read_head().await;
    assert_eq!(
        raw_chunk(&mut stream).await,
        chunk(&xhr_streaming_prelude())
    );
    assert_eq!(raw_chunk(&mut stream).await, chunk("o\n"));
    let mut c = server.client().await;
    let msg = "x".repeat(128);
    // `o\n` is 2 bytes, each frame 134: 4022 after 30 frames, 4156 after
    // 31, which passes the 4096 of /echo.
    for i in 0..31 {
        if i == 30 {
            // The next request, pipelined: it waits in the server's buffer
            // until this response ends.
            stream
                .request("POST", "/echo/000/lim/xhr_streaming", &[], b"")
                .await;
        }
        send(&mut c, "lim", &format!("[\"{msg}\"]")).await;
        assert_eq!(
            raw_chunk(&mut stream).await,
            chunk(&format!("a[\"{msg}\"]\n")),
            "frame {i}"
        );
    }
    assert_eq!(raw_chunk(&mut stream).await, "0\r\n\r\n");
    // The next stream, on the same (kept-alive) connection: the prelude, no
    // `o`, then the next message.
    send(&mut c, "lim", r#"["next"]"#).await;
    let head = stream.read_head().await;
    assert!(head.is_chunked());
    assert_eq!(
        raw_chunk(&mut stream).await,
        chunk(&xhr_streaming_prelude())
    );
    assert_eq!(raw_chunk(&mut stream).await, chunk("a[\"next\"]\n"));
    send(&mut c, "lim", r#"["more"]"#).await;
    assert_eq!(raw_chunk(&mut stream).await, chunk("a[\"more\"]\n"));
    assert_eq!(server.handle.sockjs_sessions(), 1);
}

// ---- a client going away -----------------------------------------------------------

async fn a_client_gone_mid_stream_interrupts_the_session<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut stream = server.client().await;
    stream
        .request("POST", "/echo/000/gone/xhr_streaming", &[], b"")
        .await;
    stream.read_head().await;
    stream.read_chunk().await;
    stream.abort();
    // Until the server sees the connection closed, a poll is a second
    // receiver (2010); then the session is interrupted (1002).
    let mut c = server.client().await;
    let answer = within(WAIT, "the interruption", async {
        loop {
            let res = c.post("/echo/000/gone/xhr", "").await;
            if res.text() != "c[2010,\"Another connection still open\"]\n" {
                return res;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(answer.text(), "c[1002,\"Connection interrupted\"]\n");
    // And again, until the session is removed; sends are refused.
    let res = c.post("/echo/000/gone/xhr", "").await;
    assert_eq!(res.text(), "c[1002,\"Connection interrupted\"]\n");
    c.request("POST", "/echo/000/gone/xhr_streaming", &[], b"")
        .await;
    c.read_head().await;
    assert_eq!(raw_chunk(&mut c).await, chunk(&xhr_streaming_prelude()));
    assert_eq!(
        raw_chunk(&mut c).await,
        chunk("c[1002,\"Connection interrupted\"]\n")
    );
    assert_eq!(raw_chunk(&mut c).await, "0\r\n\r\n");
    let res = c.post("/echo/000/gone/xhr_send", r#"["x"]"#).await;
    assert_eq!(res.status(), 404, "{}", res.text());
}

async fn a_client_gone_during_a_poll_interrupts_the_session<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    assert_eq!(c.post("/echo/000/pg/xhr", "").await.text(), "o\n");
    server.waiting_poll("/echo/000/pg/xhr").await.abort();
    let mut c = server.client().await;
    let answer = within(WAIT, "the interruption", async {
        loop {
            let res = c.post("/echo/000/pg/xhr", "").await;
            if res.text() != "c[2010,\"Another connection still open\"]\n" {
                return res;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(answer.text(), "c[1002,\"Connection interrupted\"]\n");
}

// ---- the other endpoints of the ready server -------------------------------------

async fn cookie_needed_echo_sets_the_session_cookie<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    let res = c.post("/cookie_needed_echo/000/ck/xhr", "").await;
    assert_eq!(res.header("Set-Cookie"), "JSESSIONID=dummy; path=/");
    let res = c
        .roundtrip(
            "POST",
            "/cookie_needed_echo/000/ck/xhr_send",
            &[("Cookie", "a=b; JSESSIONID=abc")],
            br#"["x"]"#,
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.header("Set-Cookie"), "JSESSIONID=abc; path=/");
    // The ready /echo does not need it.
    let res = c.post("/echo/000/ck/xhr", "").await;
    assert_eq!(res.get("Set-Cookie"), None);
}

async fn close_amplify_and_broadcast_endpoints<R: ServerRuntime>() {
    let server = ready::<R>();
    let mut c = server.client().await;
    // /close: o, then the close frame, on every transport.
    assert_eq!(c.post("/close/000/cl/xhr", "").await.text(), "o\n");
    assert_eq!(
        c.post("/close/000/cl/xhr", "").await.text(),
        "c[3000,\"Go away!\"]\n"
    );
    let (mut ws, _) = adapter_tokio::connect_url(&server.ws_url("/close/000/clw/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut ws).await, "o");
    assert_eq!(next_text(&mut ws).await, "c[3000,\"Go away!\"]");
    assert!(within(WAIT, "the end", ws.recv()).await.is_none());
    let frame = ws.peer_close_frame().expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (3000, "Go away!")
    );

    // /amplify: 2^n x.
    assert_eq!(c.post("/amplify/000/am/xhr", "").await.text(), "o\n");
    let res = c.post("/amplify/000/am/xhr_send", r#"["4"]"#).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        c.post("/amplify/000/am/xhr", "").await.text(),
        format!("a[\"{}\"]\n", "x".repeat(16))
    );

    // /broadcast: to every open session.
    let (mut one, _) = adapter_tokio::connect_url(&server.ws_url("/broadcast/000/b1/websocket"))
        .await
        .unwrap();
    let (mut two, _) = adapter_tokio::connect_url(&server.ws_url("/broadcast/000/b2/websocket"))
        .await
        .unwrap();
    assert_eq!(next_text(&mut one).await, "o");
    assert_eq!(next_text(&mut two).await, "o");
    // The second session registers itself in its handler's task: ping
    // until a broadcast reaches it.
    within(WAIT, "both sessions registered", async {
        for n in 0.. {
            let ping = format!("ping-{n}");
            one.send(format!("[\"{ping}\"]")).await.unwrap();
            assert_eq!(frame_messages(&next_text(&mut one).await), [ping.as_str()]);
            if let Ok(got) = tokio::time::timeout(Duration::from_millis(50), two.recv()).await {
                match got {
                    Some(Ok(Message::Text(t))) => {
                        assert!(t.as_str().starts_with("a[\"ping-"), "{t:?}");
                        break;
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    })
    .await;
    two.send(r#"["from two"]"#).await.unwrap();
    for ws in [&mut one, &mut two] {
        // Late pings may come first.
        loop {
            let messages = frame_messages(&next_text(ws).await);
            assert!(
                messages
                    .iter()
                    .all(|m| m == "from two" || m.starts_with("ping-")),
                "{messages:?}"
            );
            if messages.last().is_some_and(|m| m == "from two") {
                break;
            }
        }
    }
}

sockway_tests::for_each_runtime! {
    xhr_polling_exact_bytes,
    characters_are_escaped_as_the_protocol_says,
    xhr_streaming_exact_chunks,
    a_second_receiver_gets_2010_and_the_first_is_undisturbed,
    eventsource_exact_chunks,
    htmlfile_exact_chunks,
    jsonp_and_jsonp_send_exact_bytes,
    sockjs_websocket_opens_with_o_and_echoes_in_a_frames,
    sockjs_websocket_closes_on_broken_json_and_binary,
    sockjs_websocket_upgrade_head_is_exact,
    raw_websocket_echoes_without_framing,
    plain_websocket_endpoint_echoes_text_and_binary,
    xhr_streaming_ends_at_the_stream_bytes_limit_and_the_next_one_continues,
    a_client_gone_mid_stream_interrupts_the_session,
    a_client_gone_during_a_poll_interrupts_the_session,
    cookie_needed_echo_sets_the_session_cookie,
    close_amplify_and_broadcast_endpoints,
}
