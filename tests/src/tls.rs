//! Certificates for the TLS tests, made in the test: a CA, and a server
//! certificate it signed for `127.0.0.1` and `localhost`.

use std::sync::atomic::{AtomicUsize, Ordering};

use adapter_core::{TlsAcceptor, TlsConnector};

/// Numbers the CAs of a test process: each has a name of its own (a client
/// that trusts another CA then fails with `UnknownIssuer`, not with a bad
/// signature from a CA of the same name).
static CAS: AtomicUsize = AtomicUsize::new(0);

/// A CA and a server certificate it signed, in PEM.
#[derive(Debug, Clone)]
pub struct TestCerts {
    /// The CA's certificate (what a client trusts).
    pub ca: String,
    /// The server's certificate chain (its certificate only).
    pub chain: String,
    /// The server certificate's private key.
    pub key: String,
}

impl TestCerts {
    /// A new CA (of a name of its own) and server certificate (ECDSA P-256
    /// keys).
    pub fn new() -> Self {
        let n = CAS.fetch_add(1, Ordering::Relaxed);
        let ca_key = rcgen::KeyPair::generate().expect("a CA key");
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, format!("sockway test CA {n}"));
        let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).expect("a CA certificate");
        let key = rcgen::KeyPair::generate().expect("a server key");
        let server =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
                .expect("server params")
                .signed_by(&key, &ca)
                .expect("a server certificate");
        Self {
            ca: ca.pem(),
            chain: server.pem(),
            key: key.serialize_pem(),
        }
    }

    /// The server's side: the chain and key.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from_pem(&self.chain, &self.key).expect("a TLS acceptor")
    }

    /// A client's side that trusts the CA (and nothing else).
    pub fn connector(&self) -> TlsConnector {
        TlsConnector::from_pem(&self.ca).expect("a TLS connector")
    }
}

impl Default for TestCerts {
    fn default() -> Self {
        Self::new()
    }
}
