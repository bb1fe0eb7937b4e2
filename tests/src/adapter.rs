//! The adapters' WebSocket streams, for tests written once for both:
//! [`Tokio`] (`adapter_tokio`, over tokio's I/O traits) and [`AsyncIo`]
//! (`adapter_async_std`, over `futures-io`; what async-std and smol
//! clients use).
//!
//! An [`Adapter`] names its TCP types and an in-memory pipe, and connects
//! to URLs; a [`Transport`] of an adapter (any transport with that
//! adapter's I/O traits) is accepted or connected on through the adapter's
//! own `accept`, `accept_with`, `connect` and `connect_with`. The streams
//! are `adapter_core::WebSocketStream`s either way ([`Stream`]).
//!
//! Tests are instantiated per adapter by
//! [`for_each_adapter!`](crate::for_each_adapter). The raw peers of the
//! tests (bytes written by hand) use tokio's I/O traits whatever the
//! adapter: [`Adapter::Pipe`] implements them as well.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use adapter_async_std::FuturesIo;
use adapter_core::{
    http, AcceptOptions, ClientRequest, ConnectOptions, Error, Io, Response, WebSocketStream,
};
use adapter_tokio::TokioIo;

pub use adapter_async_std::AsyncIo;
pub use adapter_tokio::Tokio;

use crate::pipe::Pipe;

/// The stream an adapter opens on transport `S`.
pub type Stream<A, S> = WebSocketStream<<S as Transport<A>>::Io>;

/// A transport the adapter `A` opens WebSocket streams on, through its own
/// functions.
pub trait Transport<A>: Sized + Send + Unpin + 'static {
    /// The transport as the adapter core's [`Io`] (`TokioIo<Self>`,
    /// `FuturesIo<Self>`).
    type Io: Io<Inner = Self> + Send + 'static;

    /// The adapter's `accept`.
    fn accept(self) -> impl Future<Output = Result<WebSocketStream<Self::Io>, Error>> + Send;

    /// The adapter's `accept_with`.
    fn accept_with(
        self,
        options: AcceptOptions,
    ) -> impl Future<Output = Result<WebSocketStream<Self::Io>, Error>> + Send;

    /// The adapter's `connect`.
    fn connect(
        self,
        request: ClientRequest,
    ) -> impl Future<Output = Result<(WebSocketStream<Self::Io>, Response), Error>> + Send;

    /// The adapter's `connect_with`.
    fn connect_with(
        self,
        request: ClientRequest,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<(WebSocketStream<Self::Io>, Response), Error>> + Send;
}

impl<S> Transport<Tokio> for S
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    type Io = TokioIo<S>;

    fn accept(self) -> impl Future<Output = Result<WebSocketStream<Self::Io>, Error>> + Send {
        adapter_tokio::accept(self)
    }

    fn accept_with(
        self,
        options: AcceptOptions,
    ) -> impl Future<Output = Result<WebSocketStream<Self::Io>, Error>> + Send {
        adapter_tokio::accept_with(self, options)
    }

    fn connect(
        self,
        request: ClientRequest,
    ) -> impl Future<Output = Result<(WebSocketStream<Self::Io>, Response), Error>> + Send {
        adapter_tokio::connect(self, request)
    }

    fn connect_with(
        self,
        request: ClientRequest,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<(WebSocketStream<Self::Io>, Response), Error>> + Send {
        adapter_tokio::connect_with(self, request, options)
    }
}

impl<S> Transport<AsyncIo> for S
where
    S: futures_io::AsyncRead + futures_io::AsyncWrite + Send + Unpin + 'static,
{
    type Io = FuturesIo<S>;

    fn accept(self) -> impl Future<Output = Result<WebSocketStream<Self::Io>, Error>> + Send {
        adapter_async_std::accept(self)
    }

    fn accept_with(
        self,
        options: AcceptOptions,
    ) -> impl Future<Output = Result<WebSocketStream<Self::Io>, Error>> + Send {
        adapter_async_std::accept_with(self, options)
    }

    fn connect(
        self,
        request: ClientRequest,
    ) -> impl Future<Output = Result<(WebSocketStream<Self::Io>, Response), Error>> + Send {
        adapter_async_std::connect(self, request)
    }

    fn connect_with(
        self,
        request: ClientRequest,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<(WebSocketStream<Self::Io>, Response), Error>> + Send {
        adapter_async_std::connect_with(self, request, options)
    }
}

/// An adapter's WebSocket stream, its TCP and an in-memory pipe.
pub trait Adapter: Sized + Send + Sync + 'static {
    /// `tokio` or `async-std`.
    const NAME: &'static str;

    /// A TCP connection of the adapter's runtime.
    type Tcp: Transport<Self>;
    /// What the adapter's `connect_url` connects over: TCP, plain or TLS.
    type Client: Transport<Self>;
    /// A TCP listener of the adapter's runtime.
    type Listener: Send + Sync + 'static;
    /// One end of an in-memory pipe ([`pipe`](Self::pipe)): the adapter's
    /// transport, and tokio's I/O traits for raw peers.
    type Pipe: Transport<Self> + tokio::io::AsyncRead + tokio::io::AsyncWrite;

    /// Two connected ends of a pipe that buffers at most `max_buf` bytes
    /// each way (a write waits for room; so small a buffer cuts every read
    /// and write into pieces).
    fn pipe(max_buf: usize) -> (Self::Pipe, Self::Pipe);

    /// Binds a listener.
    fn bind(addr: &str) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// The listener's address.
    fn local_addr(listener: &Self::Listener) -> SocketAddr;

    /// Accepts a TCP connection.
    fn accept_tcp(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<Self::Tcp>> + Send + '_;

    /// Connects to `addr` (`host:port`) over TCP, with Nagle's algorithm
    /// off.
    fn connect_tcp(addr: &str) -> impl Future<Output = io::Result<Self::Tcp>> + Send;

    /// The adapter's `connect_url`.
    fn connect_url(
        url: &str,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send;

    /// The adapter's `connect_url_with`.
    fn connect_url_with(
        url: &str,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send;

    /// The adapter's `connect_url`, given a request with headers.
    fn connect_request(
        request: http::Request<()>,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send;
}

impl Adapter for Tokio {
    const NAME: &'static str = "tokio";

    type Tcp = tokio::net::TcpStream;
    type Client = adapter_tokio::MaybeTlsStream;
    type Listener = tokio::net::TcpListener;
    /// `tokio::io::duplex`.
    type Pipe = tokio::io::DuplexStream;

    fn pipe(max_buf: usize) -> (Self::Pipe, Self::Pipe) {
        tokio::io::duplex(max_buf)
    }

    fn bind(addr: &str) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        tokio::net::TcpListener::bind(addr.to_owned())
    }

    fn local_addr(listener: &Self::Listener) -> SocketAddr {
        listener.local_addr().expect("a local address")
    }

    async fn accept_tcp(listener: &Self::Listener) -> io::Result<Self::Tcp> {
        Ok(listener.accept().await?.0)
    }

    async fn connect_tcp(addr: &str) -> io::Result<Self::Tcp> {
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }

    fn connect_url(
        url: &str,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send {
        adapter_tokio::connect_url(url)
    }

    fn connect_url_with(
        url: &str,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send {
        adapter_tokio::connect_url_with(url, options)
    }

    fn connect_request(
        request: http::Request<()>,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send {
        adapter_tokio::connect_url(request)
    }
}

impl Adapter for AsyncIo {
    const NAME: &'static str = "async-std";

    type Tcp = async_net::TcpStream;
    type Client = adapter_async_std::MaybeTlsStream;
    type Listener = async_net::TcpListener;
    /// [`Pipe`]: `futures-io` (and tokio) over a shared buffer.
    type Pipe = Pipe;

    fn pipe(max_buf: usize) -> (Self::Pipe, Self::Pipe) {
        crate::pipe::pipe(max_buf)
    }

    fn bind(addr: &str) -> impl Future<Output = io::Result<Self::Listener>> + Send {
        async_net::TcpListener::bind(addr.to_owned())
    }

    fn local_addr(listener: &Self::Listener) -> SocketAddr {
        listener.local_addr().expect("a local address")
    }

    async fn accept_tcp(listener: &Self::Listener) -> io::Result<Self::Tcp> {
        Ok(listener.accept().await?.0)
    }

    async fn connect_tcp(addr: &str) -> io::Result<Self::Tcp> {
        let tcp = async_net::TcpStream::connect(addr.to_owned()).await?;
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }

    fn connect_url(
        url: &str,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send {
        adapter_async_std::connect_url(url)
    }

    fn connect_url_with(
        url: &str,
        options: ConnectOptions,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send {
        adapter_async_std::connect_url_with(url, options)
    }

    fn connect_request(
        request: http::Request<()>,
    ) -> impl Future<Output = Result<(Stream<Self, Self::Client>, Response), Error>> + Send {
        adapter_async_std::connect_url(request)
    }
}
