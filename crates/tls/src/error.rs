use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// Messages never contain key material: private-key parse failures are reported without
/// the underlying decoder's detail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The CA directory holds only one of `ca.crt.pem` / `ca.key.pem`; refusing to overwrite it.
    #[error("CA directory {} is incomplete: {missing} is missing", dir.display())]
    IncompleteCa { dir: PathBuf, missing: &'static str },
    /// PEM text could not be decoded.
    #[error("invalid PEM ({what}): {detail}")]
    Pem { what: &'static str, detail: String },
    /// A certificate could not be parsed or is unsuitable.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// The private key could not be parsed or is of an unsupported type.
    #[error("invalid or unsupported private key")]
    InvalidKey,
    /// The private key does not belong to the certificate it was paired with.
    #[error("private key does not match the certificate")]
    KeyMismatch,
    /// A caller-supplied value was unusable.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls rejected the configuration.
    #[error("TLS configuration rejected: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client-certificate verifier could not be built (e.g. no trust anchors).
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

impl TlsError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| TlsError::Io {
            action,
            path,
            source,
        }
    }
}
