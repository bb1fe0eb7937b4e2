//! A client connection, plain or TLS, as one type; and the TLS handshakes
//! on either side (feature `tls`, with futures-rustls).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use adapter_core::{TlsAcceptor, TlsConnector};
use async_net::TcpStream;
use futures_io::{AsyncRead, AsyncWrite};

/// A TCP connection, plain or with TLS: what `connect_url` connects over
/// (`ws://` or `wss://`), so that its stream is a
/// `WebSocketStream<MaybeTlsStream>` either way; and what the server serves
/// a TLS connection on. The same on every runtime here.
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP, client's or server's side (feature `tls`).
    #[cfg(feature = "tls")]
    Tls(Box<futures_rustls::TlsStream<TcpStream>>),
}

impl MaybeTlsStream {
    /// The TCP connection under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(tcp) => tcp,
            #[cfg(feature = "tls")]
            Self::Tls(tls) => tls.get_ref().0,
        }
    }
}

/// Connects, with Nagle's algorithm off, and runs the client's handshake
/// when asked for TLS.
pub(crate) async fn connect(
    host: &str,
    port: u16,
    tls: Option<&TlsConnector>,
    local: Option<std::net::IpAddr>,
) -> io::Result<MaybeTlsStream> {
    #[cfg(not(feature = "tls"))]
    if tls.is_some() {
        return Err(unsupported());
    }
    let tcp = match local {
        None => TcpStream::connect((host, port)).await?,
        Some(local) => connect_from(local, host, port).await?,
    };
    tcp.set_nodelay(true)?;
    #[cfg(feature = "tls")]
    if let Some(tls) = tls {
        let name = futures_rustls::pki_types::ServerName::try_from(host.to_owned())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let tls = futures_rustls::TlsConnector::from(std::sync::Arc::clone(tls.config()))
            .connect(name, tcp)
            .await?;
        return Ok(MaybeTlsStream::Tls(Box::new(tls.into())));
    }
    Ok(MaybeTlsStream::Plain(tcp))
}

/// Connects from `local` (any port) to the first address of `host` in the
/// same family: the socket is bound with `socket2`, and the connect that it
/// starts without blocking completes on async-io's reactor.
async fn connect_from(local: std::net::IpAddr, host: &str, port: u16) -> io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let addrs = async_net::resolve((host, port)).await?;
    adapter_core::connect_from(host, local, addrs, |addr| async move {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.bind(&std::net::SocketAddr::new(local, 0).into())?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => return Err(e),
            _ => {}
        }
        let stream = async_io::Async::new(std::net::TcpStream::from(socket))?;
        stream.writable().await?;
        match stream.get_ref().take_error()? {
            None => Ok(TcpStream::from(stream)),
            Some(e) => Err(e),
        }
    })
    .await
}

/// Runs the server's handshake.
#[cfg(feature = "tls")]
pub(crate) async fn accept(tcp: TcpStream, acceptor: &TlsAcceptor) -> io::Result<MaybeTlsStream> {
    let tls = futures_rustls::TlsAcceptor::from(std::sync::Arc::clone(acceptor.config()))
        .accept(tcp)
        .await?;
    Ok(MaybeTlsStream::Tls(Box::new(tls.into())))
}

/// Runs the server's handshake: not without the feature.
#[cfg(not(feature = "tls"))]
#[allow(clippy::unused_async)]
pub(crate) async fn accept(_tcp: TcpStream, _acceptor: &TlsAcceptor) -> io::Result<MaybeTlsStream> {
    Err(unsupported())
}

#[cfg(not(feature = "tls"))]
fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "TLS needs adapter-async-std's `tls` feature (sockway's `tls`)",
    )
}

/// Calls the same method on whichever stream it is.
macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            MaybeTlsStream::Plain($s) => $e,
            #[cfg(feature = "tls")]
            MaybeTlsStream::Tls($s) => $e,
        }
    };
}

impl AsyncRead for MaybeTlsStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        each!(self.get_mut(), s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for MaybeTlsStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self.get_mut(), s => Pin::new(s).poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self.get_mut(), s => Pin::new(s).poll_write_vectored(cx, bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self.get_mut(), s => Pin::new(s).poll_flush(cx))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self.get_mut(), s => Pin::new(s).poll_close(cx))
    }
}

/// A build without this crate's `tls` feature, where adapter-core's is on
/// (a dev-dependency turns it on, as another adapter would).
#[cfg(all(test, not(feature = "tls")))]
mod tests {
    use super::*;

    #[test]
    fn tls_without_the_feature_is_unsupported_and_names_it() {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let connector = TlsConnector::from_pem(cert.cert.pem()).unwrap();
        let acceptor =
            TlsAcceptor::from_pem(cert.cert.pem(), cert.signing_key.serialize_pem()).unwrap();
        smol::block_on(async {
            let listener = async_net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let err = connect("127.0.0.1", addr.port(), Some(&connector), None)
                .await
                .unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported);
            assert!(
                err.to_string()
                    .contains("adapter-async-std's `tls` feature"),
                "{err}"
            );
            // Plain TCP still connects.
            let plain = connect("127.0.0.1", addr.port(), None, None).await.unwrap();
            assert!(matches!(plain, MaybeTlsStream::Plain(_)));
            let (tcp, _) = listener.accept().await.unwrap();
            let err = accept(tcp, &acceptor).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        });
    }
}
