use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::crypto::aws_lc_rs::{self, cipher_suite};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedCipherSuite};
use rustls_pki_types::CertificateDer;

use crate::{IssuedCertificate, TlsError};

static PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// The aws-lc-rs provider with TLS 1.2 cipher suites cut down to the four FAPI 1.0 allows
/// (ECDHE-RSA/ECDSA with AES-128-GCM-SHA256 and AES-256-GCM-SHA384). TLS 1.3 suites are
/// left as they are.
pub fn fapi_crypto_provider() -> Arc<CryptoProvider> {
    let fapi_tls12 = [
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
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

/// rustls server config: TLS 1.2 and 1.3 only, FAPI TLS 1.2 suites, ALPN h2 + http/1.1.
///
/// Client certificates are verified against `client_roots` when presented but are optional,
/// so one listener serves pages without a client certificate and APIs with one (the API
/// layer requires it). `client_roots` must not be empty.
pub fn server_config(
    server: &IssuedCertificate,
    client_roots: &[CertificateDer<'static>],
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = fapi_crypto_provider();
    let mut roots = RootCertStore::empty();
    for root in client_roots {
        roots.add(root.clone())?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()?;
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
