//! What [`connect_url`](crate::connect_url) takes: a `ws://` or `wss://`
//! URL (a string or an `http::Uri`), or a whole `http::Request<()>` with
//! the application's headers and subprotocols.

use http::{Request, Uri};
use ws_proto::handshake::ClientRequest;

use crate::url::WsUrl;
use crate::Error;

/// A request to open a WebSocket connection with: what
/// [`connect_url`](crate::connect_url) and
/// [`connect_url_with`](crate::connect_url_with) take.
///
/// Implemented for a URL (`&str`, `String`, `http::Uri`), which opens a
/// plain GET on it, and for an `http::Request<()>`, whose URI says where to
/// connect and whose headers go with the upgrade request:
///
/// - `Cookie`, `Authorization`, `Origin`, `User-Agent` and any other header
///   of the application's, as they are;
/// - `Sec-WebSocket-Protocol` (one header or several, comma-separated): the
///   subprotocols to offer, most preferred first; the one the server
///   chose is [`Response::protocol`](crate::Response::protocol);
/// - `Host`, when it should not be the URI's authority.
///
/// The handshake writes `Upgrade`, `Connection`, `Sec-WebSocket-Key` and
/// `Sec-WebSocket-Version` itself: a request that carries one of them (or
/// `Sec-WebSocket-Extensions`, `Content-Length`, `Transfer-Encoding`) is
/// refused with [`Error::InvalidRequest`] holding
/// [`InvalidRequest::ReservedHeader`](ws_proto::handshake::InvalidRequest::ReservedHeader),
/// as is a method other than GET; nothing is sent. A URI that is not
/// `ws://` or `wss://` is [`Error::InvalidUrl`].
///
/// ```
/// use adapter_core::http::Request;
/// use adapter_core::IntoClientRequest as _;
///
/// let request = Request::get("ws://127.0.0.1:8081/ws")
///     .header("Cookie", "session=abc")
///     .header("Sec-WebSocket-Protocol", "v2.chat, v1.chat")
///     .body(())
///     .unwrap();
/// assert_eq!(request.clone().into_client_request().unwrap().uri(), request.uri());
/// ```
pub trait IntoClientRequest {
    /// The request: a GET on a `ws://` or `wss://` URI, with the
    /// application's headers.
    fn into_client_request(self) -> Result<Request<()>, Error>;
}

impl IntoClientRequest for &str {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        // The URL's own checks first, for their reasons (a fragment, user
        // information, a missing host), which `Uri` would not all give.
        WsUrl::parse(self)?;
        let uri = Uri::try_from(self).map_err(|_| Error::InvalidUrl {
            url: self.to_owned(),
            reason: "not a valid URI",
        })?;
        uri.into_client_request()
    }
}

impl IntoClientRequest for &String {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for String {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        self.as_str().into_client_request()
    }
}

impl IntoClientRequest for Uri {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        let mut request = Request::new(());
        *request.uri_mut() = self;
        Ok(request)
    }
}

impl IntoClientRequest for &Uri {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        self.clone().into_client_request()
    }
}

impl IntoClientRequest for Request<()> {
    fn into_client_request(self) -> Result<Request<()>, Error> {
        Ok(self)
    }
}

/// Where to connect, and the upgrade request to send there.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The URI, as errors name it.
    pub(crate) url: String,
    /// Scheme, host and port.
    pub(crate) to: WsUrl,
    /// Host, target, subprotocols and headers.
    pub(crate) request: ClientRequest,
}

/// Reads `request` into where to connect and what to send, before anything
/// is connected.
pub(crate) fn prepare(request: impl IntoClientRequest) -> Result<Prepared, Error> {
    let request = request.into_client_request()?;
    let url = request.uri().to_string();
    let to = WsUrl::parse(&url)?;
    let request = ClientRequest::try_from(&request)?;
    Ok(Prepared { url, to, request })
}

#[cfg(test)]
mod tests {
    use super::*;

    use ws_proto::handshake::InvalidRequest;

    /// Host header and target of a URL given as a string.
    fn sent(url: &str) -> (String, String) {
        let prepared = prepare(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        (prepared.request.host, prepared.request.target)
    }

    fn pair(host: &str, target: &str) -> (String, String) {
        (host.to_owned(), target.to_owned())
    }

    #[test]
    fn a_url_gives_the_host_header_and_target() {
        assert_eq!(
            sent("ws://127.0.0.1:9002/runCase?case=1&agent=sockway"),
            pair("127.0.0.1:9002", "/runCase?case=1&agent=sockway")
        );
        assert_eq!(sent("ws://example.com"), pair("example.com", "/"));
        assert_eq!(sent("WS://example.com:80"), pair("example.com", "/"));
        assert_eq!(sent("ws://example.com:"), pair("example.com", "/"));
        assert_eq!(sent("ws://example.com?x=1"), pair("example.com", "/?x=1"));
        assert_eq!(
            sent("wss://example.com/chat?room=1"),
            pair("example.com", "/chat?room=1")
        );
        assert_eq!(sent("WSS://example.com:443"), pair("example.com", "/"));
        assert_eq!(sent("wss://example.com:80/"), pair("example.com:80", "/"));
        assert_eq!(sent("wss://[::1]:8443/"), pair("[::1]:8443", "/"));
        assert_eq!(sent("ws://[::1]:9001/chat"), pair("[::1]:9001", "/chat"));
        assert_eq!(sent("ws://[fe80::1]/"), pair("[fe80::1]", "/"));
    }

    #[test]
    fn every_form_of_a_url_connects_to_the_same_place() {
        let url = "wss://example.com:8443/a?b=c";
        let uri: Uri = url.parse().unwrap();
        let owned = url.to_owned();
        let forms = [
            prepare(url).unwrap(),
            prepare(url.to_owned()).unwrap(),
            prepare(&owned).unwrap(),
            prepare(&uri).unwrap(),
            prepare(uri.clone()).unwrap(),
            prepare(Request::get(uri).body(()).unwrap()).unwrap(),
        ];
        for prepared in forms {
            assert!(prepared.to.tls);
            assert_eq!(
                (prepared.to.host.as_str(), prepared.to.port),
                ("example.com", 8443)
            );
            assert_eq!(
                prepared.request,
                ClientRequest::new("example.com:8443", "/a?b=c")
            );
            assert_eq!(prepared.url, url);
        }
    }

    #[test]
    fn a_request_brings_its_headers_and_subprotocols() {
        let request = Request::get("ws://127.0.0.1:1/chat")
            .header("Cookie", "a=1")
            .header("Authorization", "Bearer x")
            .header("Sec-WebSocket-Protocol", "v2, v1")
            .body(())
            .unwrap();
        let prepared = prepare(request).unwrap();
        assert_eq!(
            prepared.request,
            ClientRequest::new("127.0.0.1:1", "/chat")
                .protocol("v2")
                .protocol("v1")
                .header("cookie", "a=1")
                .header("authorization", "Bearer x")
        );
    }

    #[test]
    fn a_request_that_cannot_be_sent_is_refused_before_connecting() {
        let with = |name: &str| {
            Request::get("ws://127.0.0.1:1/")
                .header(name, "x")
                .body(())
                .unwrap()
        };
        for name in [
            "upgrade",
            "connection",
            "sec-websocket-key",
            "sec-websocket-version",
        ] {
            match prepare(with(name)) {
                Err(Error::InvalidRequest(InvalidRequest::ReservedHeader(n))) => {
                    assert_eq!(n, name);
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let post = Request::post("ws://127.0.0.1:1/").body(()).unwrap();
        assert!(matches!(
            prepare(post),
            Err(Error::InvalidRequest(InvalidRequest::Method(_)))
        ));
        let origin_form = Request::get("/chat").header("Host", "a").body(()).unwrap();
        assert!(matches!(
            prepare(origin_form),
            Err(Error::InvalidUrl { .. })
        ));
        let http = Request::get("http://127.0.0.1:1/").body(()).unwrap();
        assert!(matches!(prepare(http), Err(Error::InvalidUrl { .. })));
    }

    #[test]
    fn a_string_keeps_the_reasons_of_the_url_parser() {
        for (url, reason) in [
            ("ws://host/#frag", "a WebSocket URL has no fragment"),
            ("ws://user@host/", "user information is not supported"),
            ("ws://host/a b", "not a valid URI"),
        ] {
            match prepare(url) {
                Err(Error::InvalidUrl { url: u, reason: r }) => {
                    assert_eq!((u.as_str(), r), (url, reason));
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    }
}
