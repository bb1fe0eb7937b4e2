//! What an adapter provides: a byte stream ([`Io`]) and a runtime
//! ([`Runtime`]: TCP, timers, spawning). Everything else is written once,
//! here, over these two traits.

use std::future::{poll_fn, Future};
use std::io::{self, IoSlice};
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::BytesMut;

use crate::tls::{TlsAcceptor, TlsConnector};

/// A byte stream: a TCP connection, a TLS stream, an in-memory pipe.
///
/// Adapters implement it for a wrapper around their runtime's I/O traits
/// (`tokio::io::AsyncRead + AsyncWrite`, `futures_io::AsyncRead +
/// AsyncWrite`).
pub trait Io: Unpin {
    /// The wrapped transport.
    type Inner;

    /// The wrapped transport.
    fn get_ref(&self) -> &Self::Inner;

    /// The wrapped transport.
    fn get_mut(&mut self) -> &mut Self::Inner;

    /// Reads at most `limit` bytes, appending them to `buf`; `Ok(0)` is the
    /// end of the stream.
    fn poll_read_buf(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        limit: usize,
    ) -> Poll<io::Result<usize>>;

    /// Reads into `buf`; `Ok(0)` is the end of the stream.
    fn poll_read(&mut self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes some of `buf`.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// Writes some of `bufs` (gathered, where the transport can).
    fn poll_write_vectored(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;

    /// Whether [`poll_write_vectored`](Self::poll_write_vectored) gathers.
    fn is_write_vectored(&self) -> bool;

    /// Flushes buffered writes.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Shuts the write side down (after flushing).
    fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
}

/// A boxed task.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// An async runtime's TCP and timers ([`Executor`] adds tasks).
pub trait Runtime: Send + Sync + 'static {
    /// A TCP connection.
    type Tcp: Io + Send + 'static;
    /// A TCP listener.
    type Listener: Send + Sync + 'static;
    /// A timer that completes at a deadline.
    type Sleep: Future<Output = ()> + Send + 'static;
    /// A client connection: plain TCP, or TLS over TCP.
    type Stream: Io + Send + 'static;
    /// A connection accepted on a TLS listener, after its handshake.
    type ServerTls: Io + Send + 'static;

    /// The runtime's clock (a runtime with a test clock pauses it).
    fn now() -> Instant;

    /// A timer for `deadline`.
    fn sleep_until(deadline: Instant) -> Self::Sleep;

    /// Binds a listener.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self::Listener>> + Send;

    /// The address a listener is bound to.
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;

    /// Accepts a connection.
    fn accept(
        listener: &Self::Listener,
    ) -> impl Future<Output = io::Result<(Self::Tcp, SocketAddr)>> + Send + '_;

    /// Connects to `host:port`, with Nagle's algorithm off.
    fn connect(host: &str, port: u16) -> impl Future<Output = io::Result<Self::Tcp>> + Send;

    /// Turns Nagle's algorithm off on an accepted connection.
    fn set_nodelay(tcp: &Self::Tcp) -> io::Result<()>;

    /// Connects to host:port with Nagle's algorithm off, from the local
    /// address `local` when given (any port; the address family must match
    /// the host's), then, with `tls`, runs the TLS handshake (SNI = host).
    ///
    /// An adapter built without its own `tls` feature answers a request
    /// for TLS with [`io::ErrorKind::Unsupported`] (this crate's `tls`
    /// feature may be on through another adapter). A failed handshake is
    /// an [`io::ErrorKind::InvalidData`] error whose inner error is the
    /// `rustls::Error` (a certificate that is not trusted, a protocol
    /// alert).
    fn connect_stream(
        host: &str,
        port: u16,
        tls: Option<&TlsConnector>,
        local: Option<IpAddr>,
    ) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Runs the server's side of the TLS handshake on an accepted
    /// connection; unbounded in time (the server bounds it). An adapter
    /// built without its own `tls` feature answers with
    /// [`io::ErrorKind::Unsupported`].
    fn accept_tls(
        tcp: Self::Tcp,
        acceptor: &TlsAcceptor,
    ) -> impl Future<Output = io::Result<Self::ServerTls>> + Send;
}

/// A runtime that runs tasks: what a server needs beyond a client.
pub trait Executor: Runtime {
    /// Runs `task` to completion in the background.
    ///
    /// Generic rather than boxed: a runtime that keeps a task's future in
    /// the task's own allocation keeps a connection's in one.
    fn spawn(task: impl Future<Output = ()> + Send + 'static);
}

// ---- helpers over the traits -------------------------------------------------

/// Writes all of `data`.
pub(crate) async fn write_all<S: Io>(io: &mut S, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| io.poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
    }
    poll_fn(|cx| io.poll_flush(cx)).await
}

/// Shuts the write side down.
pub(crate) async fn shutdown<S: Io>(io: &mut S) -> io::Result<()> {
    poll_fn(|cx| io.poll_shutdown(cx)).await
}

/// Connects from the local address `local` (any port) to the first of
/// `addrs` (the addresses of `host`) in `local`'s family that takes the
/// connection, each tried with `connect` (which binds to `local` and
/// connects): what a [`Runtime::connect_stream`] with a local address does
/// once it has resolved the host. The error of the last try, or
/// [`io::ErrorKind::AddrNotAvailable`] when no address is in the family.
pub async fn connect_from<T, F, Fut>(
    host: &str,
    local: IpAddr,
    addrs: impl IntoIterator<Item = SocketAddr>,
    mut connect: F,
) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last = None;
    for addr in addrs {
        if addr.is_ipv4() != local.is_ipv4() {
            continue;
        }
        match connect(addr).await {
            Ok(tcp) => return Ok(tcp),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{host} has no address in the family of {local}"),
        )
    }))
}
