//! TLS (feature `tls`): the roots a client trusts ([`TlsConnector`]) and
//! the certificate a server presents ([`TlsAcceptor`]), as rustls
//! configurations on the ring provider.
//!
//! | entry point | what |
//! | --- | --- |
//! | [`TlsConnector::native_roots`] | the platform's root certificates (what [`connect_url`](crate::connect_url) uses for `wss://` by default) |
//! | [`TlsConnector::from_pem_file`], [`TlsConnector::from_pem`] | the CA certificates of a PEM file, or of PEM bytes |
//! | [`TlsAcceptor::from_pem_files`], [`TlsAcceptor::from_pem`] | a certificate chain and its private key |
//! | `from_config` (both) | a rustls configuration of the application's |
//!
//! Decisions taken:
//!
//! - The crypto provider is ring's, passed to every configuration built
//!   here (`builder_with_provider`): nothing depends on a process-wide
//!   default provider, and the build needs no cmake (aws-lc-rs would).
//! - Protocol versions: rustls's safe defaults (TLS 1.3 and 1.2).
//! - ALPN: a client offers none (HTTP/1.1 and WebSocket need none); a
//!   server answers `http/1.1` to a client that offers it.
//! - PEM is read with `rustls-pki-types` (`PemObject`). Text outside the
//!   PEM sections is skipped, so a file with comments, or a key file that
//!   also holds the chain, is fine.
//!
//! Both types exist without the feature, so that the signatures that take
//! them ([`Runtime::connect_stream`](crate::Runtime::connect_stream),
//! [`ConnectOptions::tls`](crate::ConnectOptions::tls), the server
//! builder's `tls`) are the same in every build; without it they cannot be
//! made.

use std::fmt;
use std::io;
use std::path::PathBuf;
#[cfg(feature = "tls")]
use std::{
    path::Path,
    sync::{Arc, OnceLock},
};

#[cfg(feature = "tls")]
use rustls_pki_types::pem::{self, PemObject as _};
#[cfg(feature = "tls")]
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// What a client trusts when it connects over TLS: a rustls
/// [`ClientConfig`](https://docs.rs/rustls/0.23/rustls/client/struct.ClientConfig.html)
/// (feature `tls`). Cheap to clone.
///
/// Without the `tls` feature the type exists (signatures name it) but has
/// no value.
#[derive(Clone)]
pub struct TlsConnector {
    #[cfg(feature = "tls")]
    config: Arc<rustls::ClientConfig>,
    #[cfg(not(feature = "tls"))]
    never: std::convert::Infallible,
}

/// What a server presents when it accepts TLS: a rustls
/// [`ServerConfig`](https://docs.rs/rustls/0.23/rustls/server/struct.ServerConfig.html)
/// (feature `tls`). Cheap to clone.
///
/// Without the `tls` feature the type exists (signatures name it) but has
/// no value.
#[derive(Clone)]
pub struct TlsAcceptor {
    #[cfg(feature = "tls")]
    config: Arc<rustls::ServerConfig>,
    #[cfg(not(feature = "tls"))]
    never: std::convert::Infallible,
}

impl fmt::Debug for TlsConnector {
    #[cfg(feature = "tls")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the whole configuration: a verifier's Debug lists every root.
        f.debug_struct("TlsConnector")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }

    #[cfg(not(feature = "tls"))]
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

impl fmt::Debug for TlsAcceptor {
    #[cfg(feature = "tls")]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the whole configuration (its keys, and more than a line).
        f.debug_struct("TlsAcceptor")
            .field("alpn_protocols", &self.config.alpn_protocols)
            .finish_non_exhaustive()
    }

    #[cfg(not(feature = "tls"))]
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.never {}
    }
}

/// Where PEM came from, for the messages of [`TlsError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PemSource {
    /// A file, by the path it was given as.
    File(PathBuf),
    /// Bytes given in memory (`from_pem`).
    Memory,
}

impl fmt::Display for PemSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Memory => f.write_str("the PEM given"),
        }
    }
}

/// A TLS configuration cannot be built: a file cannot be read, holds no
/// certificate or key, or rustls refuses what it holds
/// ([`Error::Tls`](crate::Error::Tls)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A PEM file cannot be read.
    #[error("cannot read {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        error: io::Error,
    },
    /// A PEM section is malformed (an unterminated section, bad base64).
    #[error("invalid PEM in {origin}: {reason}")]
    Pem {
        /// Where.
        origin: PemSource,
        /// What the PEM reader said.
        reason: String,
    },
    /// No `CERTIFICATE` section.
    #[error("no certificate in {origin} (expected a \"BEGIN CERTIFICATE\" PEM section)")]
    NoCertificate {
        /// Where.
        origin: PemSource,
    },
    /// No private key section (PKCS#8, PKCS#1 or SEC1).
    #[error("no private key in {origin} (expected a \"BEGIN PRIVATE KEY\", \"BEGIN RSA PRIVATE KEY\" or \"BEGIN EC PRIVATE KEY\" PEM section)")]
    NoPrivateKey {
        /// Where.
        origin: PemSource,
    },
    /// rustls refused a CA certificate (it does not parse as X.509).
    #[cfg(feature = "tls")]
    #[error("a CA certificate in {origin} cannot be trusted: {reason}")]
    CaRefused {
        /// Where.
        origin: PemSource,
        /// What rustls said.
        #[source]
        reason: rustls::Error,
    },
    /// rustls refused a server's certificate chain and key: a key of an
    /// unsupported kind, or one that does not match the certificate.
    #[cfg(feature = "tls")]
    #[error(
        "the certificate chain in {cert} and the private key in {key} cannot be used: {reason}"
    )]
    KeyRefused {
        /// Where the chain came from.
        cert: PemSource,
        /// Where the key came from.
        key: PemSource,
        /// What rustls said.
        #[source]
        reason: rustls::Error,
    },
    /// The crypto provider cannot make a configuration (no protocol version
    /// in common with its cipher suites).
    #[cfg(feature = "tls")]
    #[error("cannot configure TLS: {0}")]
    Config(#[source] rustls::Error),
    /// The platform's certificate store has no root certificate that
    /// rustls can use.
    #[error("no usable root certificate on this platform{}", describe(errors))]
    NoNativeRoots {
        /// What went wrong while loading them.
        errors: Vec<String>,
    },
}

/// `": a; b"`, or nothing.
fn describe(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}

// ---- with the feature -------------------------------------------------------

/// ring's provider, for every configuration built here.
///
/// rustls 0.23.48 deprecated it for want of post-quantum key exchange
/// (which only its aws-lc-rs provider has, at the cost of cmake in the
/// build); it is still maintained and what this crate chooses. An
/// application that wants X25519MLKEM768 builds its configuration with
/// that provider and passes it to `from_config`.
#[cfg(feature = "tls")]
#[allow(deprecated)]
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

#[cfg(feature = "tls")]
fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|error| {
        TlsError::Read {
            path: path.to_owned(),
            error,
        }
        .into()
    })
}

#[cfg(feature = "tls")]
fn pem_error(origin: &PemSource, error: &pem::Error) -> Error {
    TlsError::Pem {
        origin: origin.clone(),
        reason: error.to_string(),
    }
    .into()
}

/// Every certificate in `pem`; at least one.
#[cfg(feature = "tls")]
fn certificates(pem: &[u8], origin: &PemSource) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_error(origin, &e))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            origin: origin.clone(),
        }
        .into());
    }
    Ok(certs)
}

/// The first private key in `pem`.
#[cfg(feature = "tls")]
fn private_key(pem: &[u8], origin: &PemSource) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsError::NoPrivateKey {
            origin: origin.clone(),
        }
        .into(),
        e => pem_error(origin, &e),
    })
}

/// The platform's roots, loaded once for the process: what
/// What a `wss://` or `https://` URL trusts: the connector chosen, else
/// the platform's roots.
#[cfg(feature = "tls")]
pub(crate) fn trusted(_url: &str, chosen: Option<&TlsConnector>) -> Result<TlsConnector, Error> {
    match chosen {
        Some(connector) => Ok(connector.clone()),
        None => native_roots_once(),
    }
}

/// What a `wss://` or `https://` URL trusts: nothing without the feature.
#[cfg(not(feature = "tls"))]
pub(crate) fn trusted(url: &str, _chosen: Option<&TlsConnector>) -> Result<TlsConnector, Error> {
    Err(Error::InvalidUrl {
        url: url.to_owned(),
        reason:
            "wss:// and https:// need TLS: enable the `tls` feature (of sockway, or of the adapter)",
    })
}

/// [`connect_url`](crate::connect_url) trusts for `wss://` unless told
/// otherwise. A failure is not kept (the next call tries again).
#[cfg(feature = "tls")]
pub(crate) fn native_roots_once() -> Result<TlsConnector, Error> {
    static NATIVE: OnceLock<TlsConnector> = OnceLock::new();
    if let Some(connector) = NATIVE.get() {
        return Ok(connector.clone());
    }
    let connector = TlsConnector::native_roots()?;
    Ok(NATIVE.get_or_init(|| connector).clone())
}

#[cfg(feature = "tls")]
impl TlsConnector {
    /// Trusts the platform's root certificates (the system store, or the
    /// files that `SSL_CERT_FILE` / `SSL_CERT_DIR` name), loaded now with
    /// `rustls-native-certs`. Certificates that do not parse are skipped;
    /// [`TlsError::NoNativeRoots`] if none is left.
    pub fn native_roots() -> Result<Self, Error> {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = rustls::RootCertStore::empty();
        let (added, _unparsable) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            return Err(TlsError::NoNativeRoots {
                errors: found.errors.iter().map(ToString::to_string).collect(),
            }
            .into());
        }
        Self::from_roots(roots)
    }

    /// Trusts the CA certificates in the PEM file at `path` (and no
    /// other).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        Self::from_pem_at(&read(path)?, &PemSource::File(path.to_owned()))
    }

    /// Trusts the CA certificates in `pem` (and no other).
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        Self::from_pem_at(pem.as_ref(), &PemSource::Memory)
    }

    fn from_pem_at(pem: &[u8], origin: &PemSource) -> Result<Self, Error> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in certificates(pem, origin)? {
            roots.add(cert).map_err(|reason| TlsError::CaRefused {
                origin: origin.clone(),
                reason,
            })?;
        }
        Self::from_roots(roots)
    }

    fn from_roots(roots: rustls::RootCertStore) -> Result<Self, Error> {
        let config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self::from_config(Arc::new(config)))
    }

    /// A configuration of the application's (client certificates, its own
    /// verifier, ALPN, another crypto provider), used as it is.
    pub fn from_config(config: Arc<rustls::ClientConfig>) -> Self {
        Self { config }
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<rustls::ClientConfig> {
        &self.config
    }
}

#[cfg(feature = "tls")]
impl TlsAcceptor {
    /// Presents the certificate chain in the PEM file `cert_chain` (the
    /// server's certificate first, then the intermediates) with the
    /// private key in the PEM file `private_key` (PKCS#8, PKCS#1 or SEC1;
    /// the first key there).
    pub fn from_pem_files(
        cert_chain: impl AsRef<Path>,
        private_key: impl AsRef<Path>,
    ) -> Result<Self, Error> {
        let (cert_path, key_path) = (cert_chain.as_ref(), private_key.as_ref());
        Self::from_pem_at(
            (&read(cert_path)?, &PemSource::File(cert_path.to_owned())),
            (&read(key_path)?, &PemSource::File(key_path.to_owned())),
        )
    }

    /// Presents the certificate chain in the PEM `cert_chain` with the
    /// private key in the PEM `private_key`; see
    /// [`from_pem_files`](Self::from_pem_files).
    pub fn from_pem(
        cert_chain: impl AsRef<[u8]>,
        private_key: impl AsRef<[u8]>,
    ) -> Result<Self, Error> {
        Self::from_pem_at(
            (cert_chain.as_ref(), &PemSource::Memory),
            (private_key.as_ref(), &PemSource::Memory),
        )
    }

    fn from_pem_at(
        (cert_pem, cert_origin): (&[u8], &PemSource),
        (key_pem, key_origin): (&[u8], &PemSource),
    ) -> Result<Self, Error> {
        let certs = certificates(cert_pem, cert_origin)?;
        let key = private_key(key_pem, key_origin)?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|reason| TlsError::KeyRefused {
                cert: cert_origin.clone(),
                key: key_origin.clone(),
                reason,
            })?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self::from_config(Arc::new(config)))
    }

    /// A configuration of the application's (client authentication,
    /// certificates chosen by SNI, another crypto provider), used as it is.
    pub fn from_config(config: Arc<rustls::ServerConfig>) -> Self {
        Self { config }
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }
}

#[cfg(all(test, feature = "tls"))]
mod tests {
    use super::*;

    /// A CA, and a certificate for 127.0.0.1 that it signed: (CA PEM,
    /// chain PEM, key PEM).
    fn certs() -> (String, String, String) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        (ca.pem(), leaf.pem(), key.serialize_pem())
    }

    fn tls_error(result: Result<impl fmt::Debug, Error>) -> TlsError {
        match result {
            Err(Error::Tls(e)) => e,
            other => panic!("expected Error::Tls, got {other:?}"),
        }
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("adapter-core-tls-{name}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, name: &str, content: &str) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, content).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn good_files_make_both_sides_with_http11_alpn_on_the_server() {
        let (ca, chain, key) = certs();
        let dir = TempDir::new("good");
        let acceptor =
            TlsAcceptor::from_pem_files(dir.file("cert.pem", &chain), dir.file("key.pem", &key))
                .unwrap();
        assert_eq!(acceptor.config().alpn_protocols, vec![b"http/1.1".to_vec()]);
        let connector = TlsConnector::from_pem_file(dir.file("ca.pem", &ca)).unwrap();
        assert!(connector.config().alpn_protocols.is_empty());
        // Comments around the sections, and the chain in the key file.
        let mixed = format!("# the key\n{key}\n# and the chain\n{chain}");
        TlsAcceptor::from_pem(&chain, mixed).unwrap();
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = TempDir::new("missing");
        let (_, chain, _) = certs();
        let missing = dir.0.join("nope.pem");
        let e = tls_error(TlsAcceptor::from_pem_files(
            dir.file("cert.pem", &chain),
            &missing,
        ));
        assert!(matches!(&e, TlsError::Read { path, error }
            if *path == missing && error.kind() == io::ErrorKind::NotFound));
        assert!(e.to_string().contains("nope.pem"), "{e}");
        let e = tls_error(TlsConnector::from_pem_file(&missing));
        assert!(matches!(&e, TlsError::Read { path, .. } if *path == missing));
    }

    #[test]
    fn a_file_without_the_section_is_named() {
        let (_, chain, key) = certs();
        let dir = TempDir::new("sections");
        let junk = dir.file("junk.pem", "not PEM at all\n");
        let cert = dir.file("cert.pem", &chain);
        let e = tls_error(TlsAcceptor::from_pem_files(
            &junk,
            dir.file("key.pem", &key),
        ));
        assert!(
            matches!(&e, TlsError::NoCertificate { origin } if *origin == PemSource::File(junk.clone()))
        );
        assert!(e.to_string().contains("junk.pem"), "{e}");
        // The chain given as the key.
        let e = tls_error(TlsAcceptor::from_pem_files(&cert, &cert));
        assert!(
            matches!(&e, TlsError::NoPrivateKey { origin } if *origin == PemSource::File(cert.clone()))
        );
        assert!(e.to_string().contains("cert.pem"), "{e}");
        let e = tls_error(TlsConnector::from_pem_file(&junk));
        assert!(matches!(e, TlsError::NoCertificate { .. }));
        let e = tls_error(TlsConnector::from_pem(""));
        assert!(matches!(
            e,
            TlsError::NoCertificate {
                origin: PemSource::Memory
            }
        ));
    }

    #[test]
    fn malformed_pem_is_a_pem_error() {
        let e = tls_error(TlsConnector::from_pem(
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        ));
        assert!(
            matches!(
                e,
                TlsError::Pem {
                    origin: PemSource::Memory,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = tls_error(TlsConnector::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n",
        ));
        assert!(matches!(e, TlsError::Pem { .. }), "{e:?}");
    }

    #[test]
    fn a_key_of_another_certificate_is_refused() {
        let (_, chain, _) = certs();
        let (_, _, other_key) = certs();
        let e = tls_error(TlsAcceptor::from_pem(&chain, &other_key));
        assert!(matches!(e, TlsError::KeyRefused { .. }), "{e:?}");
    }

    #[test]
    fn a_ca_that_is_no_certificate_is_refused() {
        // Base64 of bytes that are no X.509 certificate.
        let e = tls_error(TlsConnector::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ));
        assert!(matches!(e, TlsError::CaRefused { .. }), "{e:?}");
    }

    #[test]
    fn native_roots_load_or_say_why() {
        match TlsConnector::native_roots() {
            Ok(connector) => assert!(connector.config().alpn_protocols.is_empty()),
            Err(Error::Tls(TlsError::NoNativeRoots { .. })) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
}
