use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};
use rustls_pki_types::CertificateDer;

use crate::{IssuedCertificate, TlsError};

static PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The aws-lc-rs provider with TLS 1.2 cipher suites cut down to what FAPI 1.0 Advanced §8.5
/// allows. It allows exactly four: TLS_DHE_RSA_WITH_AES_128_GCM_SHA256,
/// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_DHE_RSA_WITH_AES_256_GCM_SHA384 and
/// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384; rustls has no DHE, which leaves the two ECDHE_RSA
/// suites (so the server certificate is RSA). TLS 1.3 suites are left as they are.
pub fn fapi_crypto_provider() -> Arc<CryptoProvider> {
    let fapi_tls12 = [
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ]
    .map(|s| s.suite());
    let mut provider = aws_lc_rs::default_provider();
    provider.cipher_suites.retain(|suite| match suite {
        SupportedCipherSuite::Tls13(_) => true,
        SupportedCipherSuite::Tls12(_) => fapi_tls12.contains(&suite.suite()),
    });
    Arc::new(provider)
}

/// Client certificates the bank no longer accepts, by `x5t#S256` thumbprint. The directory
/// fills it when it revokes an organisation or software; every later handshake presenting one
/// of them fails, whatever its chain says.
#[derive(Debug, Default)]
pub struct RevokedCertificates(RwLock<HashSet<String>>);

impl RevokedCertificates {
    pub fn is_revoked(&self, thumbprint: &str) -> bool {
        self.0
            .read()
            .map(|s| s.contains(thumbprint))
            .unwrap_or(true)
    }

    pub fn revoke(&self, thumbprint: impl Into<String>) {
        if let Ok(mut s) = self.0.write() {
            s.insert(thumbprint.into());
        }
    }

    /// Replaces the whole list (a periodic reload from the shared database).
    pub fn replace(&self, thumbprints: HashSet<String>) {
        if let Ok(mut s) = self.0.write() {
            *s = thumbprints;
        }
    }

    pub fn len(&self) -> usize {
        self.0.read().map(|s| s.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// WebPKI chain verification, then the revocation list.
#[derive(Debug)]
struct RevocationCheckingVerifier {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    revoked: Arc<RevokedCertificates>,
}

impl rustls::server::danger::ClientCertVerifier for RevocationCheckingVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        let verified = self
            .inner
            .verify_client_cert(end_entity, intermediates, now)?;
        if !self.revoked.is_empty()
            && self
                .revoked
                .is_revoked(&crate::certificate::thumbprint_s256(end_entity.as_ref()))
        {
            return Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Revoked,
            ));
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// rustls server config: TLS 1.2 and 1.3 only, FAPI TLS 1.2 suites, ALPN h2 + http/1.1.
///
/// Client certificates are verified against `client_roots` when presented but are optional,
/// so one listener serves pages without a client certificate and APIs with one (the API
/// layer requires it). `client_roots` must not be empty.
pub fn server_config(
    server: &IssuedCertificate,
    client_roots: &[CertificateDer<'static>],
    revoked: Arc<RevokedCertificates>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = fapi_crypto_provider();
    let mut roots = RootCertStore::empty();
    for root in client_roots {
        roots.add(root.clone())?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
    let verifier = Arc::new(RevocationCheckingVerifier {
        inner: verifier,
        revoked,
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(server.certificate_chain()?, server.private_key_der()?)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// rustls client config trusting only `ca`, presenting `identity` as the client certificate
/// if given. Same protocol versions and suites as the server; no ALPN (HTTP/1.1), set
/// `alpn_protocols` on a clone if h2 is wanted.
pub fn client_config(
    ca: &CertificateDer<'static>,
    identity: Option<&IssuedCertificate>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone())?;
    let builder = ClientConfig::builder_with_provider(fapi_crypto_provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)?
        .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.certificate_chain()?, identity.private_key_der()?)?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}
