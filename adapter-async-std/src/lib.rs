#![doc = include_str!("../README.md")]

use std::future::Future;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;
use futures_io::{AsyncRead, AsyncWrite};

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

/// A WebSocket connection over a `futures-io` transport `S` (a
/// `TcpStream` of async-net, async-std or smol, [`MaybeTlsStream`]), after
/// the opening handshake: a `Stream` of messages and a `Sink` for them,
/// with the methods of [`adapter_core::WebSocketStream`], listed below.
///
/// Name it with the transport alone: `connect_url` returns a
/// `WebSocketStream<MaybeTlsStream>`, and `accept` on a `TcpStream` a
/// `WebSocketStream<TcpStream>`. The [`FuturesIo`] wrapper is already in
/// the alias.
pub type WebSocketStream<S> = adapter_core::WebSocketStream<FuturesIo<S>>;

/// The server: SockJS and WebSocket endpoints on one listener, with its
/// tasks on async-std's executor ([`AsyncStd`]).
#[cfg(feature = "async-std")]
pub mod server {
    pub use adapter_core::server::{
        AllowedOrigins, Attributes, BuildError, CloseStatus, Delivery, Group, Handler,
        HandshakeInterceptor, HandshakeOutcome, HandshakeRequest, OverflowStrategy, Rejection,
        SendError, ServerHandle, Session, SessionSender, SessionTransport, SockJsEndpoint,
        WebSocketEndpoint,
    };

    /// A WebSocket and SockJS server on async-net's listener, with its
    /// tasks on async-std's executor: [`adapter_core::server::Server`] on
    /// [`AsyncStd`](super::AsyncStd); its methods are listed below.
    /// `Server::builder()` mounts the endpoints and binds; `serve` runs it
    /// until its [`ServerHandle`] shuts it down.
    pub type Server = adapter_core::server::Server<super::AsyncStd>;

    /// Builds a [`Server`]: endpoints at paths (`sockjs`, `websocket`,
    /// `page`), HTTP limits and time limits, trusted proxies, TLS; then
    /// `bind` (or `listener`). It is [`adapter_core::server::ServerBuilder`]
    /// on [`AsyncStd`](super::AsyncStd); its methods are listed below.
    pub type ServerBuilder = adapter_core::server::ServerBuilder<super::AsyncStd>;
}

/// The server: SockJS and WebSocket endpoints on one listener, with its
/// tasks on smol's executor ([`Smol`]); the same endpoints, sessions and
/// options as the async-std server's.
#[cfg(feature = "smol")]
pub mod smol_server {
    pub use adapter_core::server::{
        AllowedOrigins, Attributes, BuildError, CloseStatus, Delivery, Group, Handler,
        HandshakeInterceptor, HandshakeOutcome, HandshakeRequest, OverflowStrategy, Rejection,
        SendError, ServerHandle, Session, SessionSender, SessionTransport, SockJsEndpoint,
        WebSocketEndpoint,
    };

    /// A WebSocket and SockJS server on async-net's listener, with its
    /// tasks on smol's executor: [`adapter_core::server::Server`] on
    /// [`Smol`](super::Smol); its methods are listed below.
    /// `Server::builder()` mounts the endpoints and binds; `serve` runs it
    /// until its [`ServerHandle`] shuts it down.
    pub type Server = adapter_core::server::Server<super::Smol>;

    /// Builds a [`Server`]: endpoints at paths (`sockjs`, `websocket`,
    /// `page`), HTTP limits and time limits, trusted proxies, TLS; then
    /// `bind` (or `listener`). It is [`adapter_core::server::ServerBuilder`]
    /// on [`Smol`](super::Smol); its methods are listed below.
    pub type ServerBuilder = adapter_core::server::ServerBuilder<super::Smol>;
}

/// The SockJS client with its task on async-std's executor: [`connect`](sockjs::connect)
/// opens a session over websocket, xhr-streaming or xhr-polling, falling
/// back in that order; see [`adapter_core::client`].
#[cfg(feature = "async-std")]
pub mod sockjs {
    adapter_core::sockjs_client_api!(super::AsyncStd);
}

/// The SockJS client with its task on smol's executor: [`connect`](smol_sockjs::connect)
/// opens a session over websocket, xhr-streaming or xhr-polling, falling
/// back in that order; see [`adapter_core::client`].
#[cfg(feature = "smol")]
pub mod smol_sockjs {
    adapter_core::sockjs_client_api!(super::Smol);
}

/// async-io's reactor and timers with async-net's TCP: what async-std and
/// smol both run on. It runs no tasks; [`AsyncStd`] and [`Smol`] add their
/// executors.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncIo;

/// [`AsyncIo`] with tasks on async-std's executor.
#[cfg(feature = "async-std")]
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStd;

/// [`AsyncIo`] with tasks on smol's executor.
#[cfg(feature = "smol")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Smol;

/// An async-io timer that completes with `()`.
#[derive(Debug)]
pub struct Sleep(async_io::Timer);

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

/// Implements the core's `Runtime` on async-io and async-net; the three
/// runtimes differ only in their executor.
macro_rules! async_io_runtime {
    ($runtime:ty) => {
        impl adapter_core::Runtime for $runtime {
            type Tcp = FuturesIo<async_net::TcpStream>;
            type Listener = async_net::TcpListener;
            type Sleep = Sleep;
            type Stream = FuturesIo<MaybeTlsStream>;
            type ServerTls = FuturesIo<MaybeTlsStream>;

            fn now() -> Instant {
                // The adapter is where the clock is read.
                #[allow(clippy::disallowed_methods)]
                Instant::now()
            }

            fn sleep_until(deadline: Instant) -> Sleep {
                Sleep(async_io::Timer::at(deadline))
            }

            fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send {
                async_net::TcpListener::bind(addr)
            }

            fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
                listener.local_addr()
            }

            async fn accept(listener: &Self::Listener) -> io::Result<(Self::Tcp, SocketAddr)> {
                let (tcp, addr) = listener.accept().await?;
                Ok((FuturesIo(tcp), addr))
            }

            fn connect(
                host: &str,
                port: u16,
            ) -> impl Future<Output = io::Result<Self::Tcp>> + Send {
                let host = host.to_owned();
                async move {
                    let tcp = async_net::TcpStream::connect((host.as_str(), port)).await?;
                    tcp.set_nodelay(true)?;
                    Ok(FuturesIo(tcp))
                }
            }

            fn set_nodelay(tcp: &Self::Tcp) -> io::Result<()> {
                tcp.0.set_nodelay(true)
            }

            async fn connect_stream(
                host: &str,
                port: u16,
                tls: Option<&adapter_core::TlsConnector>,
                local: Option<std::net::IpAddr>,
            ) -> io::Result<Self::Stream> {
                stream::connect(host, port, tls, local).await.map(FuturesIo)
            }

            async fn accept_tls(
                tcp: Self::Tcp,
                acceptor: &adapter_core::TlsAcceptor,
            ) -> io::Result<Self::ServerTls> {
                stream::accept(tcp.0, acceptor).await.map(FuturesIo)
            }
        }
    };
}

async_io_runtime!(AsyncIo);
#[cfg(feature = "async-std")]
async_io_runtime!(AsyncStd);
#[cfg(feature = "smol")]
async_io_runtime!(Smol);

#[cfg(feature = "async-std")]
impl adapter_core::Executor for AsyncStd {
    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) {
        drop(async_std::task::spawn(task));
    }
}

#[cfg(feature = "smol")]
impl adapter_core::Executor for Smol {
    fn spawn(task: impl std::future::Future<Output = ()> + Send + 'static) {
        smol::spawn(task).detach();
    }
}

/// A `futures-io` `AsyncRead + AsyncWrite` transport as the adapter core's
/// [`Io`](adapter_core::Io).
#[derive(Debug)]
pub struct FuturesIo<S>(pub S);

impl<S> FuturesIo<S> {
    /// Wraps a transport.
    pub fn new(io: S) -> Self {
        Self(io)
    }

    /// The transport.
    pub fn into_inner(self) -> S {
        self.0
    }
}

impl<S> adapter_core::Io for FuturesIo<S>
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
        // futures-io reads into initialized memory.
        let start = buf.len();
        buf.resize(start + limit, 0);
        let read = Pin::new(&mut self.0).poll_read(cx, &mut buf[start..]);
        let n = match &read {
            Poll::Ready(Ok(n)) => *n,
            _ => 0,
        };
        buf.truncate(start + n);
        read
    }

    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
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
        // futures-io does not say; TCP streams gather.
        true
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
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
        FuturesIo(io),
        options.clock(adapter_core::Clock::of::<AsyncIo>()),
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
        FuturesIo(io),
        request,
        options.clock(adapter_core::Clock::of::<AsyncIo>()),
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
    adapter_core::connect_url_with::<AsyncIo>(
        request,
        options.clock(adapter_core::Clock::of::<AsyncIo>()),
    )
    .await
}
