//! OAuth client registration and client authentication for Bascule's authorisation server.
//!
//! It owns the registered clients and the rules of Open Banking dynamic client registration
//! (DCR v3.3 prose, v3.4 OpenAPI): `POST /register` over mutual TLS with a request JWT signed
//! by the TPP's key and carrying a software statement (SSA) from a trusted directory. It also
//! owns the primitives the token endpoint authenticates clients with: `tls_client_auth`
//! (the certificate's subject DN) and `private_key_jwt` (a client assertion verified against
//! the software's JWKS, never accepted twice).

pub mod addresses;
mod auth;
mod client;
pub mod dn;
mod jwks;
mod register;
mod routes;

use std::sync::Arc;

use bascule_directory::Directory;
use bascule_domain::{Clock, IdSource};
use bascule_http::{Error, OAuthErrorCode};
use bascule_jose::VerifyingKeys;
use bascule_store::{Store, StoreError};

pub use auth::ClientAuthError;
pub use client::{Client, ClientStatus, TokenEndpointAuthMethod};
pub use jwks::{JwksCache, jwks_http_client, outbound_https_client};

/// The four errors RFC 7591 §3.2.2 (and the DCR spec's `RegistrationError`) allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationErrorCode {
    InvalidRedirectUri,
    InvalidClientMetadata,
    InvalidSoftwareStatement,
    UnapprovedSoftwareStatement,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    #[error("{code:?}: {description}")]
    Rejected {
        code: RegistrationErrorCode,
        description: String,
    },
    /// No client certificate, or a token that does not authorise the call (401).
    #[error("unauthorised: {0}")]
    Unauthorised(String),
    /// The client exists but belongs to someone else (403).
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl RegistrationError {
    pub fn metadata(d: impl Into<String>) -> Self {
        Self::Rejected {
            code: RegistrationErrorCode::InvalidClientMetadata,
            description: d.into(),
        }
    }
    pub fn software_statement(d: impl Into<String>) -> Self {
        Self::Rejected {
            code: RegistrationErrorCode::InvalidSoftwareStatement,
            description: d.into(),
        }
    }
    pub fn unapproved(d: impl Into<String>) -> Self {
        Self::Rejected {
            code: RegistrationErrorCode::UnapprovedSoftwareStatement,
            description: d.into(),
        }
    }
    pub fn redirect_uri(d: impl Into<String>) -> Self {
        Self::Rejected {
            code: RegistrationErrorCode::InvalidRedirectUri,
            description: d.into(),
        }
    }

    pub fn code(&self) -> Option<RegistrationErrorCode> {
        match self {
            Self::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<bascule_store::sqlx::Error> for RegistrationError {
    fn from(e: bascule_store::sqlx::Error) -> Self {
        RegistrationError::Store(StoreError::Database(e))
    }
}

impl From<RegistrationError> for Error {
    fn from(e: RegistrationError) -> Self {
        use axum::http::StatusCode;
        match e {
            RegistrationError::Rejected { code, description } => Error::oauth(
                StatusCode::BAD_REQUEST,
                match code {
                    RegistrationErrorCode::InvalidRedirectUri => OAuthErrorCode::InvalidRedirectUri,
                    RegistrationErrorCode::InvalidClientMetadata => {
                        OAuthErrorCode::InvalidClientMetadata
                    }
                    RegistrationErrorCode::InvalidSoftwareStatement => {
                        OAuthErrorCode::InvalidSoftwareStatement
                    }
                    RegistrationErrorCode::UnapprovedSoftwareStatement => {
                        OAuthErrorCode::UnapprovedSoftwareStatement
                    }
                },
                description,
            ),
            RegistrationError::Unauthorised(m) => Error::Unauthorised(m),
            RegistrationError::Forbidden => Error::oauth(
                StatusCode::FORBIDDEN,
                OAuthErrorCode::UnauthorizedClient,
                "not your client",
            ),
            RegistrationError::Store(e) => Error::internal(e),
            RegistrationError::Internal(m) => Error::Internal(m),
        }
    }
}

/// A directory whose SSAs this bank accepts: its `iss` and its signing keys.
#[derive(Clone)]
pub struct TrustedDirectory {
    pub issuer: String,
    pub keys: Arc<VerifyingKeys>,
}

#[derive(Clone)]
pub struct RegistrarConfig {
    /// The bank's organisation id: the `aud` of registration requests.
    pub audience: String,
    /// The authorisation server's issuer URL, also accepted as `aud`.
    pub issuer_url: String,
    /// How old an SSA may be, in seconds.
    pub ssa_max_age: i64,
    pub trusted_directories: Vec<TrustedDirectory>,
}

/// Registers clients and authenticates them. Cheap to clone.
#[derive(Clone)]
pub struct Registrar {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: RegistrarConfig,
    /// The sandbox directory, whose software status is checked at registration.
    directory: Option<Directory>,
    jwks: JwksCache,
}

impl Registrar {
    /// The verifying keys of a client's software (its JWKS, cached), refetched once if `kid`
    /// is unknown: for request objects and client assertions.
    pub async fn client_keys(
        &self,
        client: &Client,
        kid: Option<&str>,
    ) -> Result<Arc<VerifyingKeys>, RegistrationError> {
        self.inner.jwks.keys(&client.jwks_uri, kid).await
    }

    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        config: RegistrarConfig,
        directory: Option<Directory>,
        jwks: JwksCache,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                ids,
                config,
                directory,
                jwks,
            }),
        }
    }
}
