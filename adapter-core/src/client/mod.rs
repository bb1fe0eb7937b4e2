//! The SockJS client: [`connect`] opens a session on a SockJS endpoint
//! over websocket, xhr-streaming or xhr-polling (falling back in that
//! order), and gives a [`ClientSession`] shaped as the server's sessions.
//!
//! The protocol is `sockjs-proto`'s sans-IO [`Client`]; a task spawned on
//! the runtime drives its connections, its one timer and its events.

mod driver;
mod session;
mod shared;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use rand::rngs::StdRng;
use rand::{RngCore as _, SeedableRng as _};
use sockjs_proto::client::{Client, ClientConfig, ClientConfigError, Entropy};
use sockjs_proto::Transport;

pub use session::{ClientSender, ClientSession};
pub use sockjs_proto::client::{ClientError, Closed, Failure, SendError};

use tracing::Instrument as _;

use crate::{Error, Executor, TlsConnector};

/// How a SockJS client connects: [`ClientConfig`] (transports, timeouts,
/// headers, cookies, limits) with builder methods for the usual ones.
///
/// | option | default |
/// | --- | --- |
/// | [`transports`](Self::transports) | websocket, xhr-streaming, xhr-polling |
/// | [`connect_timeout`](Self::connect_timeout) | 30 s, `/info` and every transport tried |
/// | [`info_timeout`](ClientConfig::info_timeout) | 8 s |
/// | [`transport_timeout`](Self::transport_timeout) | zero: twice the retransmission timeout |
/// | [`header`](Self::header), [`cookie`](Self::cookie) | none |
/// | [`max_message_size`](Self::max_message_size) | 1 MiB |
/// | [`send_buffer_limit`](Self::send_buffer_limit) | 1 MiB |
/// | [`tls`](Self::tls) | the platform's roots, for `https://` (feature `tls`) |
/// | [`local_address`](Self::local_address) | the system's choice |
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    config: ClientConfig,
    tls: Option<TlsConnector>,
    local: Option<IpAddr>,
}

impl ClientOptions {
    /// Options from a whole [`ClientConfig`].
    pub fn from_config(config: ClientConfig) -> Self {
        Self {
            config,
            tls: None,
            local: None,
        }
    }

    /// The local address every connection is made from (any port): a load
    /// generator spreads its users over 127.0.0.x this way when one
    /// address's ports run out. The system's choice by default.
    #[must_use]
    pub fn local_address(mut self, address: IpAddr) -> Self {
        self.local = Some(address);
        self
    }

    /// What an `https://` endpoint's certificate must chain to (feature
    /// `tls`); the platform's roots by default.
    #[must_use]
    pub fn tls(mut self, connector: TlsConnector) -> Self {
        self.tls = Some(connector);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The configuration, to change.
    pub fn config_mut(&mut self) -> &mut ClientConfig {
        &mut self.config
    }

    /// The transports to try, in order (websocket, xhr-streaming and xhr
    /// polling are the client's).
    #[must_use]
    pub fn transports(mut self, transports: impl IntoIterator<Item = Transport>) -> Self {
        self.config = self.config.transports(transports);
        self
    }

    /// The longest the session may take to open; `None` for no bound but
    /// the `/info` and per-transport timeouts.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config = self.config.connect_timeout(timeout);
        self
    }

    /// The least time each transport gets to open.
    #[must_use]
    pub fn transport_timeout(mut self, timeout: Duration) -> Self {
        self.config = self.config.transport_timeout(timeout);
        self
    }

    /// A header for every request (`Authorization`, `Origin`, ...).
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.config = self.config.header(name, value);
        self
    }

    /// A cookie for every request, before those the server sets.
    #[must_use]
    pub fn cookie(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.config = self.config.cookie(name, value);
        self
    }

    /// The largest message (frame) taken from the server.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_frame_size(bytes);
        self
    }

    /// The most bytes of sends waiting to go out.
    #[must_use]
    pub fn send_buffer_limit(mut self, bytes: usize) -> Self {
        self.config = self.config.send_buffer_limit(bytes);
        self
    }
}

/// Random bytes from a generator seeded by the operating system.
fn entropy() -> Entropy {
    let rng = Mutex::new(StdRng::from_os_rng());
    Arc::new(move |buf: &mut [u8]| {
        rng.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fill_bytes(buf);
    })
}

/// Opens a SockJS session on the endpoint at `url`
/// (`http://host:port/prefix`, or `https://` with the `tls` feature), and
/// returns once it is open.
///
/// # Errors
///
/// [`Error::ClientConfig`] for a URL or options the client cannot use;
/// [`Error::InvalidUrl`] for `https://` without the `tls` feature, and
/// [`Error::Tls`] when the platform's roots cannot be loaded;
/// [`Error::SockJs`] with how the session ended when it closed before
/// opening: `/info` failed (1002), no transport opened (2000, with each
/// one's failure), the connect timeout passed (2007), or the server closed
/// it at once.
pub async fn connect<R: Executor>(
    url: &str,
    options: ClientOptions,
) -> Result<ClientSession, Error> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| Error::ClientConfig(ClientConfigError::Url(url.to_owned())))?;
    let tls = if uri.scheme_str() == Some("https") {
        Some(crate::tls::trusted(url, options.tls.as_ref())?)
    } else {
        None
    };
    let limit = options.config.send_buffer_limit;
    let core = Client::new(&uri, options.config, entropy(), R::now())?;
    let shared = Arc::new(shared::Shared::new(limit));
    let span = driver::session_span(&uri);
    let driver = driver::Driver::<R>::new(core, Arc::clone(&shared), tls, options.local);
    R::spawn(driver.instrument(span));
    // Dropped before the open, the session's handle closes it.
    let session = ClientSession::new(Arc::clone(&shared));
    match std::future::poll_fn(|cx| shared.poll_opened(cx)).await {
        Ok(_) => Ok(session),
        Err(closed) => Err(Error::SockJs(closed)),
    }
}

/// The items of an adapter's `sockjs` module: the client's types, and
/// `connect` / `connect_with` on the adapter's runtime `$runtime`.
#[doc(hidden)]
#[macro_export]
macro_rules! sockjs_client_api {
    ($runtime:ty) => {
        pub use $crate::client::{
            ClientError, ClientOptions, ClientSender, ClientSession, Closed, Failure, SendError,
        };
        pub use $crate::sockjs_proto::client::ClientConfig;
        pub use $crate::sockjs_proto::Transport;

        /// Opens a session on the SockJS endpoint at `url`
        /// (`http://host:port/prefix`) with the default options; see
        /// [`ClientOptions`] and [`connect_with`].
        pub async fn connect(url: &str) -> Result<ClientSession, $crate::Error> {
            connect_with(url, ClientOptions::default()).await
        }

        /// Opens a session on the SockJS endpoint at `url` with `options`,
        /// and returns once it is open: `/info`, then the transports in
        /// order (websocket, xhr-streaming, xhr-polling by default).
        ///
        /// # Errors
        ///
        /// `Error::ClientConfig` for a URL or options the client cannot
        /// use; `Error::SockJs` with how the session ended when it closed
        /// before opening (1002 when `/info` failed, 2000 when no transport
        /// opened, each one's failure listed, 2007 at the connect timeout).
        pub async fn connect_with(
            url: &str,
            options: ClientOptions,
        ) -> Result<ClientSession, $crate::Error> {
            $crate::client::connect::<$runtime>(url, options).await
        }
    };
}
