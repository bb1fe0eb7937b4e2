#![doc = include_str!("../README.md")]

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::{BufMut as _, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use adapter_core::{
    http, http_proto, sockjs_proto, ws_proto, AcceptOptions, ClientRequest, CloseCode, CloseFrame,
    CloseState, ConnectOptions, Error, Event, IntoClientRequest, Limits, Message, MessageKind,
    PemSource, Response, TlsAcceptor, TlsConnector, TlsError, UpgradeRequest, Utf8Bytes,
    WebSocketConfig,
};
// SIGINT and SIGTERM, for a graceful stop: the same on every runtime.
pub use adapter_core::{StopSignal, StopSignals};

/// rustls (feature `tls`).
#[cfg(feature = "tls")]
pub use adapter_core::rustls;

mod stream;

pub use stream::MaybeTlsStream;

/// A WebSocket connection over a tokio transport `S` (a `TcpStream`,
/// [`MaybeTlsStream`], a `tokio::io::DuplexStream`), after the opening
/// handshake: a `Stream` of messages and a `Sink` for them, with
/// the methods of [`adapter_core::WebSocketStream`], listed below.
///
/// Name it with the transport alone: `connect_url` returns a
/// `WebSocketStream<MaybeTlsStream>`, and `accept` on a `TcpStream` a
/// `WebSocketStream<TcpStream>`. The [`TokioIo`] wrapper is already in the
/// alias.
pub type WebSocketStream<S> = adapter_core::WebSocketStream<TokioIo<S>>;

#[cfg(feature = "hyper")]
pub mod service;

/// The server: SockJS and WebSocket endpoints on one tokio listener.
pub mod server {
    pub use adapter_core::server::{
        AllowedOrigins, Attributes, BuildError, CloseStatus, Delivery, Group, Handler,
        HandshakeInterceptor, HandshakeOutcome, HandshakeRequest, OverflowStrategy, Rejection,
        SendError, ServerHandle, Session, SessionSender, SessionTransport, SockJsEndpoint,
        WebSocketEndpoint,
    };

    /// A WebSocket and SockJS server on a tokio listener, with its tasks
    /// on tokio: [`adapter_core::server::Server`] on [`Tokio`](super::Tokio);
    /// its methods are listed below. `Server::builder()` mounts the
    /// endpoints and binds; `serve` runs it until its [`ServerHandle`]
    /// shuts it down.
    pub type Server = adapter_core::server::Server<super::Tokio>;

    /// Builds a [`Server`]: endpoints at paths (`sockjs`, `websocket`,
    /// `page`), HTTP limits and time limits, trusted proxies, TLS; then
    /// `bind` (or `listener`). It is [`adapter_core::server::ServerBuilder`]
    /// on [`Tokio`](super::Tokio); its methods are listed below.
    pub type ServerBuilder = adapter_core::server::ServerBuilder<super::Tokio>;
}

/// The SockJS client on tokio: [`connect`](sockjs::connect) opens a
/// session over websocket, xhr-streaming or xhr-polling, falling back in
/// that order; see [`adapter_core::client`].
pub mod sockjs {
    adapter_core::sockjs_client_api!(super::Tokio);
}

/// The listen backlog of [`server::ServerBuilder::bind`].
const LISTEN_BACKLOG: u32 = 1024;

/// The tokio runtime, for the adapter core: TCP from `tokio::net`, timers
/// from `tokio::time` (so a paused test clock applies), tasks from
/// `tokio::spawn`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokio;

impl adapter_core::Runtime for Tokio {
    type Tcp = TokioIo<tokio::net::TcpStream>;
    type Listener = tokio::net::TcpListener;
    type Sleep = tokio::time::Sleep;
    type Stream = TokioIo<MaybeTlsStream>;
    type ServerTls = TokioIo<MaybeTlsStream>;

    fn now() -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(deadline: Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline.into())
    }

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        // Room for bursts of new clients while the accept loop catches up.
        socket.listen(LISTEN_BACKLOG)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<(Self::Tcp, SocketAddr)> {
        let (tcp, addr) = listener.accept().await?;
        Ok((TokioIo(tcp), addr))
    }

    fn connect(host: &str, port: u16) -> impl Future<Output = io::Result<Self::Tcp>> + Send {
        let host = host.to_owned();
        async move {
            let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo(tcp))
        }
    }

    fn set_nodelay(tcp: &Self::Tcp) -> io::Result<()> {
        tcp.0.set_nodelay(true)
    }

    async fn connect_stream(
        host: &str,
        port: u16,
        tls: Option<&TlsConnector>,
        local: Option<std::net::IpAddr>,
    ) -> io::Result<Self::Stream> {
        stream::connect(host, port, tls, local).await.map(TokioIo)
    }

    async fn accept_tls(tcp: Self::Tcp, acceptor: &TlsAcceptor) -> io::Result<Self::ServerTls> {
        stream::accept(tcp.0, acceptor).await.map(TokioIo)
    }
}

impl adapter_core::Executor for Tokio {
    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) {
        drop(tokio::spawn(task));
    }
}

/// A tokio `AsyncRead + AsyncWrite` transport as the adapter core's
/// [`Io`](adapter_core::Io).
#[derive(Debug)]
pub struct TokioIo<S>(pub S);

impl<S> TokioIo<S> {
    /// Wraps a transport.
    pub fn new(io: S) -> Self {
        Self(io)
    }

    /// The transport.
    pub fn into_inner(self) -> S {
        self.0
    }
}

impl<S> adapter_core::Io for TokioIo<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    type Inner = S;

    fn get_ref(&self) -> &S {
        &self.0
    }

    fn get_mut(&mut self) -> &mut S {
        &mut self.0
    }

    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        limit: usize,
    ) -> Poll<io::Result<usize>> {
        buf.reserve(limit);
        // Reads into the spare capacity without zeroing it first.
        tokio_util::io::poll_read_buf(Pin::new(&mut self.0), cx, &mut buf.limit(limit))
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        match Pin::new(&mut self.0).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Accepts a WebSocket connection on `io` with the default options and no
/// subprotocol; see [`adapter_core::accept_with`].
pub async fn accept<S>(io: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with(io, AcceptOptions::default()).await
}

/// Accepts a WebSocket connection on `io`: reads and validates the upgrade
/// request and answers it (a bad one with its HTTP error); see
/// [`adapter_core::accept_with`].
pub async fn accept_with<S>(io: S, options: AcceptOptions) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    adapter_core::accept_with(
        TokioIo(io),
        options.clock(adapter_core::Clock::of::<Tokio>()),
    )
    .await
}

/// Opens a WebSocket connection on `io` with the default options; see
/// [`adapter_core::connect_with`].
pub async fn connect<S>(
    io: S,
    request: ClientRequest,
) -> Result<(WebSocketStream<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    connect_with(io, request, ConnectOptions::default()).await
}

/// Opens a WebSocket connection on `io` with `options`; see
/// [`adapter_core::connect_with`].
pub async fn connect_with<S>(
    io: S,
    request: ClientRequest,
    options: ConnectOptions,
) -> Result<(WebSocketStream<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    adapter_core::connect_with(
        TokioIo(io),
        request,
        options.clock(adapter_core::Clock::of::<Tokio>()),
    )
    .await
}

/// Connects to a `ws://host[:port][/path][?query]` URL over TCP, or to a
/// `wss://` URL over TLS (feature `tls`: the platform's roots), with the
/// default options (IPv6 literal hosts in brackets: `ws://[::1]:9001/`).
///
/// `request` is the URL (`&str`, `String`, `http::Uri`) or an
/// `http::Request<()>` with headers (`Cookie`, `Authorization`, `Origin`,
/// ...) and the subprotocols to offer (`Sec-WebSocket-Protocol`); see
/// [`IntoClientRequest`] and [`adapter_core::connect_url`].
pub async fn connect_url(
    request: impl IntoClientRequest,
) -> Result<(WebSocketStream<MaybeTlsStream>, Response), Error> {
    connect_url_with(request, ConnectOptions::default()).await
}

/// Connects to a `ws://` or `wss://` URL, or with an `http::Request<()>`
/// for one, with `options` (for `wss://`, the roots of
/// [`ConnectOptions::tls`]); see [`adapter_core::connect_url_with`].
pub async fn connect_url_with(
    request: impl IntoClientRequest,
    options: ConnectOptions,
) -> Result<(WebSocketStream<MaybeTlsStream>, Response), Error> {
    adapter_core::connect_url_with::<Tokio>(
        request,
        options.clock(adapter_core::Clock::of::<Tokio>()),
    )
    .await
}
