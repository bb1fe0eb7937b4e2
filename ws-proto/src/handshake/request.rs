//! A client's request from an `http::Request`: what the application says
//! (target, host, subprotocols, its own headers), apart from what the
//! handshake writes itself.

use http::header::{HOST, SEC_WEBSOCKET_PROTOCOL};
use http::{Method, Request, Uri, Version};

use super::{ClientRequest, InvalidRequest};

/// The headers the handshake writes itself, so that an application's copy
/// would contradict or repeat it (`Host` aside: an `http::Request` may name
/// it).
const RESERVED: [&str; 8] = [
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// Whether `name` (any case) is a header the handshake writes itself.
pub(super) fn is_reserved(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

impl TryFrom<&Request<()>> for ClientRequest {
    type Error = InvalidRequest;

    /// The request that `request` describes: a GET over HTTP/1.1; the
    /// target from the URI's path and query (`/` when empty); `Host` from
    /// the request's `Host` header, or else from the URI's authority
    /// without the port when it is the scheme's default (80 for `ws` and
    /// `http`, 443 for `wss` and `https`); the subprotocols from its
    /// `Sec-WebSocket-Protocol` headers (comma-separated, in order); every
    /// other header as it is (`Cookie`, `Authorization`, `Origin`, ...),
    /// but those the handshake writes itself, which are refused
    /// ([`InvalidRequest::ReservedHeader`]).
    ///
    /// ```
    /// use ws_proto::handshake::ClientRequest;
    ///
    /// let request = http::Request::get("wss://example.com:443/chat?room=1")
    ///     .header("Sec-WebSocket-Protocol", "v2.chat, v1.chat")
    ///     .header("Cookie", "session=abc")
    ///     .body(())
    ///     .unwrap();
    /// let request = ClientRequest::try_from(&request).unwrap();
    /// assert_eq!(request.host, "example.com");
    /// assert_eq!(request.target, "/chat?room=1");
    /// assert_eq!(request.protocols, ["v2.chat", "v1.chat"]);
    /// assert_eq!(request.headers, [("cookie".to_owned(), "session=abc".to_owned())]);
    /// ```
    fn try_from(request: &Request<()>) -> Result<Self, InvalidRequest> {
        if request.method() != Method::GET {
            return Err(InvalidRequest::Method(request.method().clone()));
        }
        if request.version() != Version::HTTP_11 {
            return Err(InvalidRequest::Version(request.version()));
        }
        let mut hosts = request.headers().get_all(HOST).iter();
        let host = match (hosts.next(), hosts.next()) {
            (Some(host), None) => text(&HOST, host)?.to_owned(),
            (None, _) => authority_host(request.uri()).ok_or(InvalidRequest::Target)?,
            (Some(_), Some(_)) => return Err(InvalidRequest::Target),
        };
        let mut out = ClientRequest::new(host, target(request.uri()));
        for (name, value) in request.headers() {
            if *name == HOST {
                continue;
            }
            let value = text(name, value)?;
            if *name == SEC_WEBSOCKET_PROTOCOL {
                let offered = value.split(',').map(str::trim).filter(|p| !p.is_empty());
                out.protocols.extend(offered.map(str::to_owned));
            } else if is_reserved(name.as_str()) {
                return Err(InvalidRequest::ReservedHeader(name.as_str().to_owned()));
            } else {
                out.headers
                    .push((name.as_str().to_owned(), value.to_owned()));
            }
        }
        Ok(out)
    }
}

/// A header's value as text: UTF-8, or the header is refused.
fn text<'a>(
    name: &http::HeaderName,
    value: &'a http::HeaderValue,
) -> Result<&'a str, InvalidRequest> {
    std::str::from_utf8(value.as_bytes())
        .map_err(|_| InvalidRequest::Header(name.as_str().to_owned()))
}

/// `Host` from the URI's authority: the host (bracketed if IPv6), and the
/// port unless it is the scheme's default. `None` without a host, or with
/// userinfo (credentials go in a header, not in the URI).
fn authority_host(uri: &Uri) -> Option<String> {
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || authority.host().is_empty() {
        return None;
    }
    let default = match uri.scheme_str().map(str::to_ascii_lowercase).as_deref() {
        Some("ws" | "http") => Some(80),
        Some("wss" | "https") => Some(443),
        _ => None,
    };
    Some(match authority.port_u16() {
        Some(port) if Some(port) != default => format!("{}:{port}", authority.host()),
        _ => authority.host().to_owned(),
    })
}

/// The request target: the URI's path (`/` when empty) and query.
fn target(uri: &Uri) -> String {
    let path = match uri.path() {
        "" => "/",
        path => path,
    };
    match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    }
}
