//! The WebSocket handshake of the websocket transports, with SockJS's
//! answers to a bad one.

use http::header::{Entry, HeaderValue, CONNECTION, SEC_WEBSOCKET_VERSION, UPGRADE};
use http_proto::headers::has_token;
use ws_proto::handshake::{HandshakeError, UpgradeRequest};

use crate::http::{text, Build as _, Req, Response};

/// Validates the upgrade of a websocket transport request.
///
/// SockJS answers a missing or wrong `Upgrade` with 400 `Can "Upgrade" only
/// to "WebSocket".` and a `Connection` without `upgrade` with 400
/// `"Connection" must be "Upgrade".`; other faults get ws-proto's answer
/// (400, or 426 with `Sec-WebSocket-Version: 13`). `Sec-WebSocket-Version`
/// 7 and 8 (hybi-07 and hybi-08, which frame exactly as RFC 6455 does) are
/// accepted as 13 is, as sockjs-node does.
pub(crate) fn validate(req: Req<'_>) -> Result<UpgradeRequest, Box<Response>> {
    // SockJS's own answers come first, whatever else is wrong.
    let headers = req.headers();
    if !has_token(headers, UPGRADE, "websocket") {
        return Err(Box::new(text(
            400,
            "Can \"Upgrade\" only to \"WebSocket\".",
        )));
    }
    if !has_token(headers, CONNECTION, "upgrade") {
        return Err(Box::new(text(400, "\"Connection\" must be \"Upgrade\".")));
    }
    let hybi = headers
        .get_all(SEC_WEBSOCKET_VERSION)
        .iter()
        .any(|v| v == "7" || v == "8");
    let validated = if hybi {
        let mut head = http::Request::new(());
        *head.method_mut() = req.method().clone();
        *head.uri_mut() = req.http.uri().clone();
        *head.version_mut() = req.http.version();
        *head.headers_mut() = headers.clone();
        if let Entry::Occupied(mut versions) = head.headers_mut().entry(SEC_WEBSOCKET_VERSION) {
            for value in versions.iter_mut() {
                if value == "7" || value == "8" {
                    *value = HeaderValue::from_static("13");
                }
            }
        }
        UpgradeRequest::validate(&head)
    } else {
        UpgradeRequest::validate(req.http)
    };
    validated.map_err(|e| {
        Box::new(match e {
            HandshakeError::Upgrade => text(400, "Can \"Upgrade\" only to \"WebSocket\"."),
            HandshakeError::Connection => text(400, "\"Connection\" must be \"Upgrade\"."),
            HandshakeError::Version => {
                let mut res = text(426, &e.to_string());
                res.header(SEC_WEBSOCKET_VERSION, "13");
                res
            }
            other => text(other.status(), &other.to_string()),
        })
    })
}
