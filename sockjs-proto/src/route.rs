//! URL routing under an endpoint prefix.

use crate::transport::Transport;

/// What a request path under the endpoint's prefix asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The prefix itself, with or without a trailing slash: the greeting.
    Greeting,
    /// `/info`.
    Info,
    /// `/iframe.html`, `/iframe-<version>.html`, ...
    Iframe,
    /// `/websocket`: a raw WebSocket, with no SockJS framing.
    RawWebSocket,
    /// `/<server>/<session>/<transport>`.
    Transport {
        /// The session id chosen by the client.
        session: String,
        /// The transport.
        transport: Transport,
    },
    /// Anything else under the prefix.
    NotFound,
}

impl Route {
    /// Routes `path` (without the query), or returns `None` if it is not
    /// under `prefix` at all.
    pub fn parse(prefix: &str, path: &str) -> Option<Self> {
        let rest = path.strip_prefix(prefix)?;
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        Some(match rest {
            "" | "/" => Self::Greeting,
            "/info" => Self::Info,
            "/websocket" => Self::RawWebSocket,
            r if r.strip_prefix('/').is_some_and(is_iframe_name) => Self::Iframe,
            r => Self::session_path(r).unwrap_or(Self::NotFound),
        })
    }

    fn session_path(rest: &str) -> Option<Self> {
        let mut parts = rest.strip_prefix('/')?.split('/');
        let (server, session, transport) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || !valid_id(server) || !valid_id(session) {
            return None;
        }
        Some(Self::Transport {
            session: session.to_owned(),
            transport: Transport::from_name(transport)?,
        })
    }
}

/// A server or session id: non-empty, no dot.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && !id.contains('.')
}

/// `iframe[0-9-.a-z_]*.html`.
fn is_iframe_name(name: &str) -> bool {
    name.strip_prefix("iframe")
        .and_then(|n| n.strip_suffix(".html"))
        .is_some_and(|v| {
            v.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b"-._".contains(&b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Option<Route> {
        Route::parse("/echo", path)
    }

    #[test]
    fn greeting_info_and_raw_websocket() {
        assert_eq!(route("/echo"), Some(Route::Greeting));
        assert_eq!(route("/echo/"), Some(Route::Greeting));
        assert_eq!(route("/echo/info"), Some(Route::Info));
        assert_eq!(route("/echo/websocket"), Some(Route::RawWebSocket));
        assert_eq!(route("/echoes"), None);
        assert_eq!(route("/other"), None);
    }

    #[test]
    fn iframe_names() {
        for ok in [
            "/iframe.html",
            "/iframe-a.html",
            "/iframe-.html",
            "/iframe-0.1.2.html",
            "/iframe-0.1.2abc-dirty.2144.html",
        ] {
            assert_eq!(route(&format!("/echo{ok}")), Some(Route::Iframe), "{ok}");
        }
        for bad in [
            "/iframe.htm",
            "/iframe",
            "/IFRAME.HTML",
            "/IFRAME",
            "/iframe.HTML",
            "/iframe.xml",
            "/iframe-/.html",
        ] {
            assert_eq!(
                route(&format!("/echo{bad}")),
                Some(Route::NotFound),
                "{bad}"
            );
        }
    }

    #[test]
    fn session_paths() {
        assert_eq!(
            route("/echo/000/abc/xhr"),
            Some(Route::Transport {
                session: "abc".into(),
                transport: Transport::Xhr
            })
        );
        assert_eq!(
            route("/echo/abcdefgh_i-j%20/abcdefg_i-j%20/xhr_send"),
            Some(Route::Transport {
                session: "abcdefg_i-j%20".into(),
                transport: Transport::XhrSend
            })
        );
        for bad in [
            "/echo//xhr",
            "/echo/a./a/xhr",
            "/echo/a/a./xhr",
            "/echo/./././xhr",
            "/echo///xhr",
            "/echo/a/a/nope",
            "/echo/a/a/xhr/",
            "/echo/a",
            "/echo/a.html",
            "/echo//",
            "/echo///",
            "/echo/a/a",
            "/echo/a/a/",
        ] {
            assert_eq!(route(bad), Some(Route::NotFound), "{bad}");
        }
    }
}
