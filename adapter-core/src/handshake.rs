//! Opening a stream: the server's and the client's side of the opening
//! handshake, over any transport.
//!
//! These futures are not cancel-safe: a cancelled handshake leaves the
//! transport in an unknown state, so drop it (a timeout around the whole
//! handshake is the usual way to bound it).

use std::io;

use std::future::poll_fn;

use bytes::BytesMut;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use ws_proto::handshake::{
    ClientHandshake, ClientRequest, HandshakeError, Response, ServerHandshake,
};
use ws_proto::Connection;

use crate::options::{filled, AcceptOptions, ConnectOptions};
use crate::request::{prepare, IntoClientRequest, Prepared};
use crate::runtime::{shutdown, write_all, Io, Runtime};
use crate::{Error, WebSocketStream};

/// The most bytes read at once while the head is incomplete.
const HEAD_READ: usize = 4096;

/// Accepts a WebSocket connection on `io` with the default options and no
/// subprotocol.
pub async fn accept<S>(io: S) -> Result<WebSocketStream<S>, Error>
where
    S: Io,
{
    accept_with(io, AcceptOptions::default()).await
}

/// Accepts a WebSocket connection on `io`: reads and validates the upgrade
/// request, answers 101 with the subprotocol that
/// [`AcceptOptions::protocol`] chooses, and hands the bytes that followed
/// the request to the connection.
///
/// A request that is not a valid upgrade is answered with the HTTP response
/// the core builds for it ([`HandshakeError::response`]: 400, 405, 426 or
/// 431), the transport is shut down, and [`Error::Handshake`] is returned.
pub async fn accept_with<S>(mut io: S, options: AcceptOptions) -> Result<WebSocketStream<S>, Error>
where
    S: Io,
{
    let mut handshake = ServerHandshake::new(options.limits);
    let mut scratch = BytesMut::new();
    let upgrade = loop {
        match handshake.poll_request() {
            Ok(Some(upgrade)) => break upgrade,
            Ok(None) => {}
            Err(e) => {
                reject(&mut io, &e).await;
                return Err(e.into());
            }
        }
        let cap = handshake.receive_capacity().max(1);
        read_some(&mut io, &mut scratch, cap).await?;
        handshake.receive(&scratch);
    };
    let protocol = options
        .protocol
        .as_ref()
        .and_then(|choose| choose(&upgrade));
    let response = upgrade.accept(protocol.as_deref(), http::HeaderMap::new())?;
    let mut head = BytesMut::new();
    http_proto::encode_response(
        &response,
        http_proto::BodyKind::None,
        http_proto::Exchange::default(),
        &mut head,
    )
    .map_err(|e| io::Error::other(e.to_string()))?;
    write_all(&mut io, &head).await?;
    let mut conn = Connection::server(filled(&options.config, options.close_timeout));
    conn.receive(upgrade.trailing());
    Ok(WebSocketStream::new(io, conn, options.settings))
}

/// Writes the refusal and shuts the transport down, best-effort: the
/// handshake error is what the caller gets either way.
async fn reject<S: Io>(io: &mut S, error: &HandshakeError) {
    if write_all(io, &error.response()).await.is_ok() {
        let _ = shutdown(io).await;
    }
}

/// Reads at most `cap` bytes (and at most [`HEAD_READ`]) into `scratch`,
/// replacing what it held. End of file is an error: the head is incomplete.
async fn read_some<S: Io>(io: &mut S, scratch: &mut BytesMut, cap: usize) -> Result<(), Error> {
    scratch.clear();
    let limit = cap.min(HEAD_READ);
    let n = poll_fn(|cx| io.poll_read_buf(cx, scratch, limit)).await?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the transport ended during the opening handshake",
        )
        .into());
    }
    Ok(())
}

/// Opens a WebSocket connection on `io` with the default options: sends the
/// upgrade request and validates the answer. Returns the stream and the
/// server's response (its headers and selected subprotocol).
pub async fn connect<S>(
    io: S,
    request: ClientRequest,
) -> Result<(WebSocketStream<S>, Response), Error>
where
    S: Io,
{
    connect_with(io, request, ConnectOptions::default()).await
}

/// Opens a WebSocket connection on `io` with `options`.
///
/// The handshake key and the masking keys come from a ChaCha generator
/// seeded by the operating system's CSPRNG (RFC 6455 §5.3 and §4.1).
pub async fn connect_with<S>(
    mut io: S,
    request: ClientRequest,
    options: ConnectOptions,
) -> Result<(WebSocketStream<S>, Response), Error>
where
    S: Io,
{
    let mut rng = StdRng::try_from_os_rng().map_err(io::Error::other)?;
    let mut key = [0u8; 16];
    rng.fill_bytes(&mut key);
    let mut handshake = ClientHandshake::new(&request, key, options.limits)?;
    write_all(&mut io, handshake.request()).await?;
    let mut scratch = BytesMut::new();
    let response = loop {
        if let Some(response) = handshake.poll_response()? {
            break response;
        }
        let cap = handshake.receive_capacity().max(1);
        read_some(&mut io, &mut scratch, cap).await?;
        handshake.receive(&scratch);
    };
    let config = filled(&options.config, options.close_timeout);
    let mut conn = Connection::client(config, move || rng.next_u32().to_ne_bytes());
    conn.receive(&response.trailing);
    Ok((WebSocketStream::new(io, conn, options.settings), response))
}

/// Connects to a `ws://host[:port][/path][?query]` URL over TCP, or to a
/// `wss://` URL over TLS (feature `tls`, trusting the platform's roots),
/// with the default options. IPv6 literal hosts go in brackets:
/// `ws://[::1]:9001/`.
///
/// `request` is the URL (`&str`, `String`, `http::Uri`), or an
/// `http::Request<()>` whose headers (`Cookie`, `Authorization`, `Origin`,
/// ...) go with the upgrade request and whose `Sec-WebSocket-Protocol`
/// offers subprotocols: see [`IntoClientRequest`]. The response names the
/// subprotocol the server chose ([`Response::protocol`]) and carries its
/// headers.
pub async fn connect_url<R: Runtime>(
    request: impl IntoClientRequest,
) -> Result<(WebSocketStream<R::Stream>, Response), Error> {
    connect_url_with::<R>(request, ConnectOptions::default()).await
}

/// Connects to a `ws://` or `wss://` URL, or with an `http::Request<()>`
/// for one, with `options`; see [`connect_url`]. A `wss://` URL trusts
/// [`ConnectOptions::tls`] (the platform's roots by default) and sends the
/// host as SNI; without the `tls` feature it is refused with
/// [`Error::InvalidUrl`].
///
/// A request the handshake cannot send (a header it writes itself, such as
/// `Upgrade` or `Sec-WebSocket-Key`; a method other than GET) is refused
/// with [`Error::InvalidRequest`] before anything is connected.
pub async fn connect_url_with<R: Runtime>(
    request: impl IntoClientRequest,
    options: ConnectOptions,
) -> Result<(WebSocketStream<R::Stream>, Response), Error> {
    let Prepared { url, to, request } = prepare(request)?;
    // Refused before connecting, as everything else about the request.
    request.validate()?;
    let tls = if to.tls {
        Some(crate::tls::trusted(&url, options.tls.as_ref())?)
    } else {
        None
    };
    let connected = async {
        let stream = R::connect_stream(&to.host, to.port, tls.as_ref(), None).await?;
        connect_with(stream, request, options).await
    }
    .await;
    match &connected {
        Ok((_, response)) => tracing::debug!(
            target: CLIENT_LOG_TARGET,
            url = %url,
            protocol = response.protocol.as_deref(),
            "websocket connected"
        ),
        Err(error) => tracing::debug!(
            target: CLIENT_LOG_TARGET,
            url = %url,
            %error,
            "websocket connect failed"
        ),
    }
    connected
}

/// The target of the clients' events (the SockJS client's too).
pub(crate) const CLIENT_LOG_TARGET: &str = "sockway::client";

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "tls"))]
    #[test]
    fn wss_without_the_feature_says_which_feature() {
        let err = crate::tls::trusted("wss://example.com/", None).unwrap_err();
        match err {
            Error::InvalidUrl { url, reason } => {
                assert_eq!(url, "wss://example.com/");
                assert!(reason.contains("`tls` feature"), "{reason}");
            }
            other => panic!("expected InvalidUrl, got {other:?}"),
        }
    }

    #[cfg(feature = "tls")]
    #[test]
    fn wss_uses_the_connector_of_the_options() {
        use crate::TlsConnector;

        let ca = rcgen::generate_simple_self_signed(vec!["ca".to_owned()]).unwrap();
        let connector = TlsConnector::from_pem(ca.cert.pem()).unwrap();
        let options = ConnectOptions::default().tls(connector.clone());
        let chosen = crate::tls::trusted("wss://example.com/", options.tls.as_ref()).unwrap();
        assert!(std::sync::Arc::ptr_eq(chosen.config(), connector.config()));
    }
}
