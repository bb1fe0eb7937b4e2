//! Options for opening a stream as a server or as a client.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ws_proto::handshake::{Limits, UpgradeRequest};
use ws_proto::WebSocketConfig;

use crate::clock::Clock;
use crate::stream::Settings;
use crate::tls::TlsConnector;

/// Picks the subprotocol to answer an upgrade request with.
type ProtocolChooser = dyn Fn(&UpgradeRequest) -> Option<String> + Send + Sync;

/// How a server accepts connections: see [`accept_with`](crate::accept_with).
///
/// | option | default |
/// | --- | --- |
/// | [`config`](Self::config) | [`WebSocketConfig::default()`] |
/// | [`limits`](Self::limits) | [`Limits::default()`] |
/// | [`protocol`](Self::protocol) | no subprotocol |
/// | [`close_timeout`](Self::close_timeout) | [`WebSocketConfig::close_timeout`] (5 s) |
/// | [`write_buffer_size`](Self::write_buffer_size) | 128 KiB |
///
/// Cloning is cheap: build it once and clone it for every connection.
#[derive(Clone, Default)]
pub struct AcceptOptions {
    pub(crate) config: WebSocketConfig,
    pub(crate) limits: Limits,
    pub(crate) protocol: Option<Arc<ProtocolChooser>>,
    pub(crate) settings: Settings,
    pub(crate) close_timeout: Option<Duration>,
}

impl fmt::Debug for AcceptOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptOptions")
            .field("config", &self.config)
            .field("limits", &self.limits)
            .field("protocol", &self.protocol.as_ref().map(|_| "Fn"))
            .field("settings", &self.settings)
            .field("close_timeout", &self.close_timeout)
            .finish()
    }
}

impl AcceptOptions {
    /// The runtime's clock, for the connection's timers. Adapters set it;
    /// set it only when driving the core over a runtime of your own.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.settings.clock = Some(clock);
        self
    }

    /// The connection's limits and behaviour switches.
    #[must_use]
    pub fn config(mut self, config: WebSocketConfig) -> Self {
        self.config = config;
        self
    }

    /// The limits on the request head.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Chooses the subprotocol from the request: `choose` sees the request
    /// (target, headers, [`UpgradeRequest::protocols`]) and returns one of
    /// the offered subprotocols, or `None` for none. Returning one that was
    /// not offered fails the handshake with [`Error::Accept`](crate::Error::Accept).
    #[must_use]
    pub fn protocol(
        mut self,
        choose: impl Fn(&UpgradeRequest) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.protocol = Some(Arc::new(choose));
        self
    }

    /// Chooses the first subprotocol the client offered that is in
    /// `supported` (a shorthand for [`protocol`](Self::protocol)).
    #[must_use]
    pub fn protocols<I, P>(self, supported: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        let supported: Vec<String> = supported.into_iter().map(Into::into).collect();
        self.protocol(move |request| {
            request
                .protocols()
                .iter()
                .find(|offered| supported.contains(offered))
                .cloned()
        })
    }

    /// How long the close handshake may take once this end sent its close
    /// frame, until the client's close frame and end of file: sets
    /// [`WebSocketConfig::close_timeout`] (whatever [`config`](Self::config)
    /// gives, in either order).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = Some(timeout);
        self
    }

    /// How many bytes the stream's `Sink` buffers before it waits for the
    /// transport.
    #[must_use]
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.settings.write_buffer_size = bytes;
        self
    }
}

/// How a client connects: see [`connect_with`](crate::connect_with).
///
/// | option | default |
/// | --- | --- |
/// | [`config`](Self::config) | [`WebSocketConfig::default()`] |
/// | [`limits`](Self::limits) | [`Limits::default()`] |
/// | [`close_timeout`](Self::close_timeout) | [`WebSocketConfig::close_timeout`] (5 s) |
/// | [`write_buffer_size`](Self::write_buffer_size) | 128 KiB |
/// | [`tls`](Self::tls) | the platform's roots (`TlsConnector::native_roots`, loaded once), for `wss://` URLs |
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub(crate) config: WebSocketConfig,
    pub(crate) limits: Limits,
    pub(crate) settings: Settings,
    pub(crate) close_timeout: Option<Duration>,
    pub(crate) tls: Option<TlsConnector>,
}

impl ConnectOptions {
    /// The runtime's clock, for the connection's timers. Adapters set it;
    /// set it only when driving the core over a runtime of your own.
    #[must_use]
    pub fn clock(mut self, clock: Clock) -> Self {
        self.settings.clock = Some(clock);
        self
    }

    /// The connection's limits and behaviour switches.
    #[must_use]
    pub fn config(mut self, config: WebSocketConfig) -> Self {
        self.config = config;
        self
    }

    /// The limits on the response head.
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How long the close handshake may take once this end sent its close
    /// frame, until the server's close frame and end of file (after which
    /// the client closes the transport anyway): sets
    /// [`WebSocketConfig::close_timeout`] (whatever [`config`](Self::config)
    /// gives, in either order).
    #[must_use]
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = Some(timeout);
        self
    }

    /// How many bytes the stream's `Sink` buffers before it waits for the
    /// transport.
    #[must_use]
    pub fn write_buffer_size(mut self, bytes: usize) -> Self {
        self.settings.write_buffer_size = bytes;
        self
    }

    /// What [`connect_url_with`](crate::connect_url_with) trusts for a
    /// `wss://` URL (feature `tls`): the roots of a
    /// [`TlsConnector`], or a rustls configuration of the application's.
    /// Unused for `ws://` URLs, and by [`connect_with`](crate::connect_with),
    /// which takes a transport that is already connected.
    #[must_use]
    pub fn tls(mut self, connector: TlsConnector) -> Self {
        self.tls = Some(connector);
        self
    }
}

/// `config` with the options that fill it.
pub(crate) fn filled(config: &WebSocketConfig, close_timeout: Option<Duration>) -> WebSocketConfig {
    let mut config = config.clone();
    if let Some(timeout) = close_timeout {
        config.close_timeout = timeout;
    }
    config
}
