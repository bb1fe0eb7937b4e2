//! What the server logs, with `tracing`, under targets a filter can name:
//!
//! | target | what |
//! | --- | --- |
//! | `sockway::server` | connections and requests: bad requests, time limits, paths with no endpoint |
//! | `sockway::server::sockjs` | SockJS endpoints: sessions, refusals (interceptors, origins, unknown sessions, limits) |
//! | `sockway::server::websocket` | plain WebSocket endpoints: sessions, refusals, protocol errors |
//!
//! Every session has a span named `session`, with the same fields on
//! every endpoint: `session` (its id, [`Session::id`](crate::Session::id)),
//! `transport` ([`SessionTransport::name`]), `path` (of the request that
//! opened it) and `remote` (the client's IP address). It is a root span
//! (a SockJS session outlives the connections that carry it), at info
//! level; the session's events (opened, closed, protocol errors) are
//! logged in it, at debug level. Refusals are logged at debug level too,
//! each with the status and why.
//!
//! The macros evaluate their fields only when the event is enabled: no
//! string is built on the way when the level is off.

use std::net::IpAddr;

use http::{Method, StatusCode};

use crate::session::{CloseStatus, SessionTransport};

/// The server's connections and requests.
pub(crate) const SERVER: &str = "sockway::server";
/// SockJS endpoints.
pub(crate) const SOCKJS: &str = "sockway::server::sockjs";
/// Plain WebSocket endpoints.
pub(crate) const WEBSOCKET: &str = "sockway::server::websocket";

/// Which part of the server an event is about: its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    /// The server as a whole (no endpoint at the path, bad HTTP).
    Server,
    /// A SockJS endpoint.
    SockJs,
    /// A plain WebSocket endpoint.
    WebSocket,
}

/// The span of a new session (a root: its events carry its fields
/// wherever they happen, on whichever connection or task).
pub(crate) fn session_span(
    id: u64,
    transport: SessionTransport,
    path: &str,
    remote: IpAddr,
) -> tracing::Span {
    let name = transport.name();
    match transport {
        SessionTransport::WebSocket => tracing::info_span!(
            target: WEBSOCKET, parent: None, "session",
            session = id, transport = %name, path = %path, remote = %remote,
        ),
        SessionTransport::SockJs(_) => tracing::info_span!(
            target: SOCKJS, parent: None, "session",
            session = id, transport = %name, path = %path, remote = %remote,
        ),
    }
}

/// A session opened.
pub(crate) fn opened(span: &tracing::Span, transport: SessionTransport) {
    match transport {
        SessionTransport::WebSocket => {
            tracing::debug!(target: WEBSOCKET, parent: span, "session opened");
        }
        SessionTransport::SockJs(_) => {
            tracing::debug!(target: SOCKJS, parent: span, "session opened");
        }
    }
}

/// A session closed, with the status its client got.
pub(crate) fn closed(span: &tracing::Span, transport: SessionTransport, status: &CloseStatus) {
    let (code, reason) = (status.code.0, status.reason.as_str());
    match transport {
        SessionTransport::WebSocket => {
            tracing::debug!(target: WEBSOCKET, parent: span, code, reason, "session closed");
        }
        SessionTransport::SockJs(_) => {
            tracing::debug!(target: SOCKJS, parent: span, code, reason, "session closed");
        }
    }
}

/// A request answered with an error status instead of what it asked for.
pub(crate) fn refused(
    part: Part,
    status: u16,
    method: &Method,
    path: &str,
    reason: &dyn std::fmt::Display,
) {
    // The reason is free text: a string (quoted by formatters), built only
    // when the event is enabled.
    match part {
        Part::Server => tracing::debug!(
            target: SERVER,
            status, method = %method, path = %path, reason = reason.to_string().as_str(),
            "refused"
        ),
        Part::SockJs => tracing::debug!(
            target: SOCKJS,
            status, method = %method, path = %path, reason = reason.to_string().as_str(),
            "refused"
        ),
        Part::WebSocket => tracing::debug!(
            target: WEBSOCKET,
            status, method = %method, path = %path, reason = reason.to_string().as_str(),
            "refused"
        ),
    }
}

/// A request read, about to be routed (at trace level).
pub(crate) fn request<B>(req: &http::Request<B>) {
    tracing::trace!(
        target: SERVER,
        method = %req.method(),
        uri = %req.uri(),
        "request"
    );
}

/// The answer to a path with no endpoint, if it is an error: no page
/// there (404), or not a method a page answers (405).
pub(crate) fn page_refused<B>(req: &http::Request<B>, status: StatusCode) {
    let reason = match status {
        StatusCode::NOT_FOUND => "no endpoint or page at this path",
        StatusCode::METHOD_NOT_ALLOWED => "a page answers GET and HEAD only",
        _ => return,
    };
    let status = status.as_u16();
    refused(
        Part::Server,
        status,
        req.method(),
        req.uri().path(),
        &reason,
    );
}

/// A request that could not be read (its head or body broke HTTP or a
/// limit): there is no method or path to name.
pub(crate) fn bad_request(status: u16, reason: &dyn std::fmt::Display) {
    tracing::debug!(target: SERVER, status, reason = reason.to_string().as_str(), "refused");
}

/// A handshake interceptor refused the request that would open a
/// session.
pub(crate) fn interceptor_refused(
    part: Part,
    rejection: &crate::Rejection,
    request: &crate::HandshakeRequest,
) {
    let reason = "refused by a handshake interceptor";
    let status = rejection.status().as_u16();
    refused(part, status, request.method(), request.path(), &reason);
}

/// Why the SockJS core answered `status` (with `body`, the text the
/// client gets: a short sentence on its error answers).
pub(crate) fn sockjs_reason(status: StatusCode, body: &[u8]) -> &str {
    /// Longer bodies are no reason.
    const MAX_REASON: usize = 200;
    if body.len() > MAX_REASON {
        return "refused by the SockJS endpoint";
    }
    match status {
        StatusCode::FORBIDDEN => "origin not allowed",
        StatusCode::NOT_FOUND => "no such SockJS URL or session, or the transport is off",
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed",
        _ => match std::str::from_utf8(body) {
            Ok(text) if !text.is_empty() => text.trim_end(),
            _ => "refused by the SockJS endpoint",
        },
    }
}
