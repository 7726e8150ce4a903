//! Bascule's sandbox Open Banking directory: the trust anchor a TPP developer enrols with
//! locally, standing in for the Open Banking Directory. It owns organisations and their
//! software statements, issues each software a transport certificate (for mutual TLS) and a
//! signing key with its certificate (published in the software's JWKS), signs software
//! statement assertions (SSAs), and revokes: a revoked organisation's or software's
//! certificates fail every later TLS handshake with the bank.

mod enrol;
mod model;
mod routes;
mod ssa;

use std::path::Path;
use std::sync::Arc;

use bascule_domain::{Clock, IdSource};
use bascule_jose::{Algorithm, Jwks, SigningKey, VerifyingKeys};
use bascule_store::{Store, StoreError};
use bascule_tls::{CertificateAuthority, RevokedCertificates, TlsError};

pub use enrol::{EnrolRequest, Enrolment, TppManifest};
pub use model::{Organisation, Role, Software, Status};
pub use ssa::{SSA_ISSUER, SoftwareStatementClaims};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("certificates: {0}")]
    Tls(#[from] TlsError),
    #[error("signing: {0}")]
    Jose(#[from] bascule_jose::JoseError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl From<sqlx::Error> for DirectoryError {
    fn from(e: sqlx::Error) -> Self {
        DirectoryError::Store(StoreError::Database(e))
    }
}

use bascule_store::sqlx;

/// The directory. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    ca: Arc<CertificateAuthority>,
    key: SigningKey,
    verifying: VerifyingKeys,
    public_url: String,
    revoked: Arc<RevokedCertificates>,
}

impl Directory {
    /// Opens the directory on the bank's store and data directory. Its SSA signing key lives in
    /// `DATA_DIR/directory/ssa-signing.key.pem`, created on first use; `public_url` is where
    /// its JWKS endpoints are reached (it goes into every SSA).
    pub async fn open(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        ca: Arc<CertificateAuthority>,
        data_dir: &Path,
        public_url: String,
        revoked: Arc<RevokedCertificates>,
    ) -> Result<Directory, DirectoryError> {
        let key = load_or_create_key(&data_dir.join("directory"))?;
        let verifying = VerifyingKeys::from_jwks(&Jwks {
            keys: vec![key.public_jwk()],
        })?;
        let directory = Directory {
            inner: Arc::new(Inner {
                store,
                clock,
                ids,
                ca,
                key,
                verifying,
                public_url: public_url.trim_end_matches('/').to_owned(),
                revoked,
            }),
        };
        directory.refresh_revocations().await?;
        Ok(directory)
    }

    /// The directory's SSA-signing keys, as published on `/directory/jwks`.
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: vec![self.inner.key.public_jwk()],
        }
    }

    /// The same keys, parsed for verifying SSAs.
    pub fn verifying_keys(&self) -> &VerifyingKeys {
        &self.inner.verifying
    }

    pub fn public_url(&self) -> &str {
        &self.inner.public_url
    }

    pub fn ca(&self) -> &CertificateAuthority {
        &self.inner.ca
    }

    /// Reloads the revoked certificates from the shared database, so a revocation made on
    /// another node (or by the CLI) reaches this node's handshakes.
    pub async fn refresh_revocations(&self) -> Result<usize, DirectoryError> {
        let revoked: Vec<String> = sqlx::query_scalar(
            "SELECT thumbprint FROM directory_certificates WHERE status = 'Revoked'",
        )
        .fetch_all(self.inner.store.pool())
        .await?;
        let n = revoked.len();
        self.inner.revoked.replace(revoked.into_iter().collect());
        Ok(n)
    }
}

fn load_or_create_key(dir: &Path) -> Result<SigningKey, DirectoryError> {
    let path = dir.join("ssa-signing.key.pem");
    let io = |source| DirectoryError::Io {
        path: path.display().to_string(),
        source,
    };
    if path.exists() {
        let pem = std::fs::read_to_string(&path).map_err(io)?;
        return Ok(SigningKey::from_pkcs8_pem(&pem, Algorithm::PS256)?);
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let key = SigningKey::generate(Algorithm::PS256)?;
    enrol::write_private(&path, &key.to_pkcs8_pem()?).map_err(io)?;
    Ok(key)
}
