//! The WebSocket functions of each runtime's module.
//!
//! They call the adapter's functions of the same name. They are written
//! here rather than re-exported so that their signatures show the types a
//! user writes: rustdoc shows an item inlined from another crate with its
//! type aliases spelt out (`WebSocketStream<TokioIo<S>>`, which
//! `WebSocketStream<S>` already is).

/// `accept`, `accept_with`, `connect`, `connect_with`, `connect_url` and
/// `connect_url_with` over the adapter `$adapter`, for transports that
/// implement `$read + $write + Unpin`. The module that expands it has
/// `WebSocketStream` and `MaybeTlsStream` (the adapter's) and the
/// runtime-independent types in scope.
macro_rules! websocket_api {
    ($adapter:ident, $read:path, $write:path) => {
        /// Accepts a WebSocket connection on `io` (a TCP connection, a TLS
        /// stream, an in-memory pipe) with the default [`AcceptOptions`]
        /// and no subprotocol.
        ///
        /// # Errors
        ///
        /// As [`accept_with`].
        pub async fn accept<S>(io: S) -> Result<WebSocketStream<S>, Error>
        where
            S: $read + $write + Unpin,
        {
            ::$adapter::accept(io).await
        }

        /// Accepts a WebSocket connection on `io`: reads and validates the
        /// client's upgrade request and answers 101 with the subprotocol
        /// that [`AcceptOptions::protocol`] chooses; the bytes that came
        /// after the request go to the connection.
        ///
        /// # Errors
        ///
        /// A request that is not a valid upgrade is answered with the HTTP
        /// response the core builds for it (400, 405, 426 or 431), the
        /// transport is shut down, and [`Error::Handshake`] is returned;
        /// [`Error::Io`] when the transport fails or ends first.
        pub async fn accept_with<S>(
            io: S,
            options: AcceptOptions,
        ) -> Result<WebSocketStream<S>, Error>
        where
            S: $read + $write + Unpin,
        {
            ::$adapter::accept_with(io, options).await
        }

        /// Opens a WebSocket connection on `io` with the default
        /// [`ConnectOptions`]: sends the upgrade `request` and validates
        /// the answer. Returns the stream and the server's [`Response`]
        /// (its headers and the subprotocol it chose).
        ///
        /// # Errors
        ///
        /// As [`connect_with`].
        pub async fn connect<S>(
            io: S,
            request: ClientRequest,
        ) -> Result<(WebSocketStream<S>, Response), Error>
        where
            S: $read + $write + Unpin,
        {
            ::$adapter::connect(io, request).await
        }

        /// Opens a WebSocket connection on `io` with `options` (the
        /// response's [`Limits`], the connection's [`WebSocketConfig`], the
        /// close timeout). The handshake key and the masking keys come from a
        /// ChaCha generator seeded by the operating system.
        ///
        /// # Errors
        ///
        /// [`Error::InvalidRequest`] when `request` cannot be written,
        /// [`Error::Response`] when the answer does not complete the
        /// upgrade, [`Error::Io`] when the transport fails.
        pub async fn connect_with<S>(
            io: S,
            request: ClientRequest,
            options: ConnectOptions,
        ) -> Result<(WebSocketStream<S>, Response), Error>
        where
            S: $read + $write + Unpin,
        {
            ::$adapter::connect_with(io, request, options).await
        }

        /// Connects to a `ws://host[:port][/path][?query]` URL over TCP,
        /// or to a `wss://` URL over TLS (feature `tls`, trusting the
        /// platform's roots), with the default options. IPv6 literal hosts
        /// go in brackets: `ws://[::1]:9001/`.
        ///
        /// `request` is the URL (`&str`, `String`, `http::Uri`) or an
        /// `http::Request<()>` whose headers (`Cookie`, `Authorization`,
        /// `Origin`, ...) go with the upgrade request and whose
        /// `Sec-WebSocket-Protocol` offers subprotocols, the one chosen in
        /// the [`Response`]: see [`IntoClientRequest`].
        ///
        /// The stream is a [`WebSocketStream<MaybeTlsStream>`](WebSocketStream):
        /// write that type to keep it in a struct or pass it on.
        ///
        /// # Errors
        ///
        /// As [`connect_url_with`].
        pub async fn connect_url(
            request: impl IntoClientRequest,
        ) -> Result<(WebSocketStream<MaybeTlsStream>, Response), Error> {
            ::$adapter::connect_url(request).await
        }

        /// Connects to a `ws://` or `wss://` URL, or with an
        /// `http::Request<()>` for one ([`IntoClientRequest`]), with
        /// `options`. A
        /// `wss://` URL trusts the roots of [`ConnectOptions::tls`] (the
        /// platform's by default) and sends the host as SNI.
        ///
        /// # Errors
        ///
        /// [`Error::InvalidUrl`] for a URL that is not `ws://` or
        /// `wss://`, or `wss://` without the `tls` feature;
        /// [`Error::InvalidRequest`] for a request that carries a header
        /// the handshake writes itself, or is not a GET or not HTTP/1.1
        /// (before anything is connected); [`Error::Tls`]
        /// when the platform's roots cannot be loaded; [`Error::Io`] when
        /// the host cannot be reached; then as [`connect_with`].
        pub async fn connect_url_with(
            request: impl IntoClientRequest,
            options: ConnectOptions,
        ) -> Result<(WebSocketStream<MaybeTlsStream>, Response), Error> {
            ::$adapter::connect_url_with(request, options).await
        }
    };
}

pub(crate) use websocket_api;
