//! The WebSocket handshake of the websocket transports, with SockJS's
//! answers to a bad one.

use ws_proto::handshake::{HandshakeError, UpgradeRequest};

use crate::http::{text, Request, Response};

/// Validates the upgrade of a websocket transport request.
///
/// SockJS answers a missing or wrong `Upgrade` with 400 `Can "Upgrade" only
/// to "WebSocket".` and a `Connection` without `upgrade` with 400
/// `"Connection" must be "Upgrade".`; other faults get ws-proto's answer
/// (400, or 426 with `Sec-WebSocket-Version: 13`). `Sec-WebSocket-Version`
/// 7 and 8 (hybi-07 and hybi-08, which frame exactly as RFC 6455 does) are
/// accepted as 13 is, as sockjs-node does.
pub(crate) fn validate(req: &Request) -> Result<UpgradeRequest, Response> {
    // SockJS's own answers come first, whatever else is wrong.
    if !lists(req, "upgrade", "websocket") {
        return Err(text(400, "Can \"Upgrade\" only to \"WebSocket\"."));
    }
    if !lists(req, "connection", "upgrade") {
        return Err(text(400, "\"Connection\" must be \"Upgrade\"."));
    }
    let mut head = req.to_ws_request();
    for h in &mut head.headers {
        if h.name.eq_ignore_ascii_case("sec-websocket-version")
            && (h.value == b"7" || h.value == b"8")
        {
            h.value = b"13".to_vec();
        }
    }
    UpgradeRequest::validate(head).map_err(|e| match e {
        HandshakeError::Upgrade => text(400, "Can \"Upgrade\" only to \"WebSocket\"."),
        HandshakeError::Connection => text(400, "\"Connection\" must be \"Upgrade\"."),
        HandshakeError::Version => {
            let mut res = text(426, &e.to_string());
            res.header("Sec-WebSocket-Version", "13");
            res
        }
        other => text(other.status(), &other.to_string()),
    })
}

/// Whether some `name` header lists `token` (case-insensitive).
fn lists(req: &Request, name: &str, token: &str) -> bool {
    req.headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}
