//! The WebSocket client's requests (`connect_url` with an
//! `http::Request<()>`): an endpoint that reports what its handshake
//! interceptor saw of the request, and the request that it expects.

use adapter_core::http::{Request, StatusCode};
use adapter_core::server::{Attributes, HandshakeRequest, Rejection, Session, WebSocketEndpoint};
use adapter_core::sockjs_proto::AllowedOrigins;
use futures_util::StreamExt as _;

/// The subprotocols [`full_request`] offers, in its order.
pub const OFFERED: &str = "v1.chat, v2.chat";

/// The one subprotocol the [`reporting`] endpoint speaks.
pub const SPOKEN: &str = "v2.chat";

/// The origin [`full_request`] comes from, the one the endpoint allows.
pub const ORIGIN: &str = "http://app.test";

/// The first message of a [`reporting`] endpoint to [`full_request`] on
/// `target`.
pub fn full_report(target: &str) -> String {
    format!(
        "session=abc theme=dark authorization=Bearer t0k3n origin={ORIGIN} \
         client=sockway-tests protocol={SPOKEN} target={target}"
    )
}

/// A GET on `url` with a bearer token, two cookies, an `Origin`, a header
/// of the application's and two subprotocols.
pub fn full_request(url: &str) -> Request<()> {
    Request::get(url)
        .header("Authorization", "Bearer t0k3n")
        .header("Cookie", "session=abc; theme=dark")
        .header("Origin", ORIGIN)
        .header("X-Client", "sockway-tests")
        .header("Sec-WebSocket-Protocol", OFFERED)
        .body(())
        .expect("a valid request")
}

/// A WebSocket endpoint whose interceptor refuses a request without
/// `Authorization: Bearer t0k3n` (401) and copies the cookies and headers
/// of [`full_request`] into the session's attributes; the session's first
/// message reports them (as [`full_report`] spells them), with the
/// subprotocol chosen and the target, then it echoes. It allows
/// [`ORIGIN`] and speaks [`SPOKEN`].
pub fn reporting() -> WebSocketEndpoint {
    WebSocketEndpoint::new(|mut session: Session| async move {
        let seen = |name: &str| session.attributes().get(name).unwrap_or("-").to_owned();
        let report = format!(
            "session={} theme={} authorization={} origin={} client={} protocol={} target={}",
            seen("session"),
            seen("theme"),
            seen("authorization"),
            seen("origin"),
            seen("client"),
            session.protocol().unwrap_or("-"),
            session.uri(),
        );
        let _ = session.send(report);
        while let Some(message) = session.next().await {
            let _ = session.send(message);
        }
    })
    .protocols([SPOKEN])
    .allowed_origins(AllowedOrigins::from_list([ORIGIN]))
    .interceptor(|request: &HandshakeRequest, attributes: &mut Attributes| {
        let Some(authorization) = request.header("authorization") else {
            return Err(Rejection::new(StatusCode::UNAUTHORIZED));
        };
        if authorization != "Bearer t0k3n" {
            return Err(Rejection::new(StatusCode::UNAUTHORIZED));
        }
        attributes.insert("authorization", authorization);
        for cookie in ["session", "theme"] {
            if let Some(value) = request.cookie(cookie) {
                attributes.insert(cookie, value);
            }
        }
        for (header, name) in [("origin", "origin"), ("x-client", "client")] {
            if let Some(value) = request.header(header) {
                attributes.insert(name, value);
            }
        }
        Ok(())
    })
}
