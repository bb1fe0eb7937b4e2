//! The top-level API when several runtime features are on.
//!
//! Cargo turns on, for a crate, every feature that any crate of the build
//! asks of it: `tokio` is a default feature, so asking for `async-std`
//! without `default-features = false` turns both on. Which runtime should
//! `sockway::server::Server` or `sockway::connect_url` then run on? The
//! facade does not guess: the names of the top-level API that depend on
//! the runtime are defined here so that using one fails to compile, with a
//! message that says what to write instead: the runtime's own path
//! (`sockway::tokio::…`, `sockway::async_std::…`, `sockway::smol::…`,
//! which work whatever else is on) or the features that leave one runtime
//! on. Merely having several runtime features on compiles, and what is the
//! same on every runtime (messages, options, errors, the server's endpoints
//! and sessions, the SockJS client's session) stays usable at the top
//! level.

/// The bound that nothing implements: the top-level items that depend on
/// the runtime require it, so that a use of one fails to compile with this
/// trait's message, which names the paths to write instead.
macro_rules! runtime_chosen {
    ($message:literal, $paths:literal, $features:literal) => {
        /// Implemented by nothing: the top-level items that depend on the
        /// runtime require it, so that a use of one fails to compile with a
        /// message that names the paths to write instead (see the [module
        /// docs](self)).
        #[diagnostic::on_unimplemented(
                    message = $message,
                    label = "this top-level name depends on the runtime, and several are on",
                    note = $paths,
                    note = $features
                )]
        pub trait RuntimeChosen: Sized {
            /// The runtime.
            type Runtime;
            /// The runtime's wrapper of a transport `S`.
            type Io<S>;
            /// The runtime's plain-or-TLS stream.
            type MaybeTlsStream;
            /// What a function of the runtime returns.
            type Unavailable;
            /// Cannot be called: nothing implements the trait.
            fn unavailable(self) -> Self::Unavailable;
        }
    };
}

#[cfg(all(feature = "tokio", feature = "async-std", not(feature = "smol")))]
runtime_chosen!(
    "sockway's top-level API names no runtime: the features `tokio` and `async-std` are both on",
    "write the runtime's path: `sockway::tokio::…` or `sockway::async_std::…` (`sockway::tokio::server::Server`, `sockway::async_std::connect_url`, `sockway::tokio::sockjs::connect`, …)",
    "or keep one runtime feature: `tokio` is a default feature, so async-std alone is `sockway = {{ version = \"0.1\", default-features = false, features = [\"async-std\"] }}`"
);

#[cfg(all(feature = "tokio", feature = "smol", not(feature = "async-std")))]
runtime_chosen!(
    "sockway's top-level API names no runtime: the features `tokio` and `smol` are both on",
    "write the runtime's path: `sockway::tokio::…` or `sockway::smol::…` (`sockway::tokio::server::Server`, `sockway::smol::connect_url`, `sockway::tokio::sockjs::connect`, …)",
    "or keep one runtime feature: `tokio` is a default feature, so smol alone is `sockway = {{ version = \"0.1\", default-features = false, features = [\"smol\"] }}`"
);

#[cfg(all(feature = "async-std", feature = "smol", not(feature = "tokio")))]
runtime_chosen!(
    "sockway's top-level API names no runtime: the features `async-std` and `smol` are both on",
    "write the runtime's path: `sockway::async_std::…` or `sockway::smol::…` (`sockway::async_std::server::Server`, `sockway::smol::connect_url`, `sockway::smol::sockjs::connect`, …)",
    "or keep one runtime feature: `features = [\"async-std\"]` or `features = [\"smol\"]` (with `default-features = false`)"
);

#[cfg(all(feature = "tokio", feature = "async-std", feature = "smol"))]
runtime_chosen!(
    "sockway's top-level API names no runtime: the features `tokio`, `async-std` and `smol` are all on",
    "write the runtime's path: `sockway::tokio::…`, `sockway::async_std::…` or `sockway::smol::…` (`sockway::tokio::server::Server`, `sockway::async_std::connect_url`, `sockway::smol::sockjs::connect`, …)",
    "or keep one runtime feature: `tokio` is a default feature, so async-std alone is `sockway = {{ version = \"0.1\", default-features = false, features = [\"async-std\"] }}` (smol alone: `[\"smol\"]`)"
);

/// The runtime the top-level API would need, of which several are on.
#[derive(Debug)]
pub enum SeveralRuntimes {}

/// Not available with several runtime features on: a use fails to compile.
/// Write the runtime's `MaybeTlsStream` (`sockway::tokio::MaybeTlsStream`,
/// `sockway::async_std::MaybeTlsStream`, `sockway::smol::MaybeTlsStream`).
pub type MaybeTlsStream = <SeveralRuntimes as RuntimeChosen>::MaybeTlsStream;

/// Not available with several runtime features on: a use fails to compile.
/// Write the runtime's `WebSocketStream` (`sockway::tokio::WebSocketStream`,
/// `sockway::async_std::WebSocketStream`, `sockway::smol::WebSocketStream`).
pub type WebSocketStream<S> =
    adapter_core::WebSocketStream<<SeveralRuntimes as RuntimeChosen>::Io<S>>;

/// Not available with several runtime features on: a call fails to
/// compile. Write the runtime's `accept` (`sockway::tokio::accept`, ...).
pub fn accept<S: RuntimeChosen>(io: S) -> S::Unavailable {
    io.unavailable()
}

/// Not available with several runtime features on: a call fails to
/// compile. Write the runtime's `accept_with` (`sockway::tokio::accept_with`,
/// ...).
pub fn accept_with<S: RuntimeChosen>(io: S, _options: crate::AcceptOptions) -> S::Unavailable {
    io.unavailable()
}

/// Not available with several runtime features on: a call fails to
/// compile. Write the runtime's `connect` (`sockway::tokio::connect`, ...).
pub fn connect<S: RuntimeChosen>(io: S, _request: crate::ClientRequest) -> S::Unavailable {
    io.unavailable()
}

/// Not available with several runtime features on: a call fails to
/// compile. Write the runtime's `connect_with`
/// (`sockway::tokio::connect_with`, ...).
pub fn connect_with<S: RuntimeChosen>(
    io: S,
    _request: crate::ClientRequest,
    _options: crate::ConnectOptions,
) -> S::Unavailable {
    io.unavailable()
}

/// Not available with several runtime features on: a call fails to
/// compile. Write the runtime's `connect_url` (`sockway::tokio::connect_url`,
/// ...).
pub fn connect_url<U: RuntimeChosen>(url: U) -> U::Unavailable {
    url.unavailable()
}

/// Not available with several runtime features on: a call fails to
/// compile. Write the runtime's `connect_url_with`
/// (`sockway::tokio::connect_url_with`, ...).
pub fn connect_url_with<U: RuntimeChosen>(
    url: U,
    _options: crate::ConnectOptions,
) -> U::Unavailable {
    url.unavailable()
}

/// The server's items with several runtime features on: the endpoints,
/// sessions and handles are the same on every runtime;
/// [`Server`](server::Server) and [`ServerBuilder`](server::ServerBuilder)
/// are not available (write the runtime's:
/// `sockway::tokio::server::Server`, ...).
pub mod server {
    use super::{RuntimeChosen, SeveralRuntimes};

    #[doc(no_inline)]
    pub use adapter_core::server::{
        AllowedOrigins, Attributes, BuildError, CloseStatus, Delivery, Group, Handler,
        HandshakeInterceptor, HandshakeOutcome, HandshakeRequest, OverflowStrategy, Rejection,
        SendError, ServerHandle, Session, SessionSender, SessionTransport, SockJsEndpoint,
        WebSocketEndpoint,
    };

    /// Not available with several runtime features on: a use fails to
    /// compile. Write the runtime's (`sockway::tokio::server::Server`,
    /// `sockway::async_std::server::Server`, `sockway::smol::server::Server`).
    pub type Server = adapter_core::server::Server<<SeveralRuntimes as RuntimeChosen>::Runtime>;

    /// Not available with several runtime features on: a use fails to
    /// compile. Write the runtime's
    /// (`sockway::tokio::server::ServerBuilder`, ...).
    pub type ServerBuilder =
        adapter_core::server::ServerBuilder<<SeveralRuntimes as RuntimeChosen>::Runtime>;
}

/// The SockJS client's items with several runtime features on: the
/// session, its options and errors are the same on every runtime;
/// [`connect`](sockjs::connect) and [`connect_with`](sockjs::connect_with)
/// are not available (write the runtime's: `sockway::tokio::sockjs::connect`,
/// ...).
pub mod sockjs {
    use super::RuntimeChosen;

    #[doc(no_inline)]
    pub use adapter_core::client::{
        ClientError, ClientOptions, ClientSender, ClientSession, Closed, Failure, SendError,
    };
    #[doc(no_inline)]
    pub use adapter_core::sockjs_proto::client::ClientConfig;
    #[doc(no_inline)]
    pub use adapter_core::sockjs_proto::Transport;

    /// Not available with several runtime features on: a call fails to
    /// compile. Write the runtime's (`sockway::tokio::sockjs::connect`,
    /// ...).
    pub fn connect<U: RuntimeChosen>(url: U) -> U::Unavailable {
        url.unavailable()
    }

    /// Not available with several runtime features on: a call fails to
    /// compile. Write the runtime's (`sockway::tokio::sockjs::connect_with`,
    /// ...).
    pub fn connect_with<U: RuntimeChosen>(url: U, _options: ClientOptions) -> U::Unavailable {
        url.unavailable()
    }
}
