//! Bascule's authorisation server: FAPI 1.0 Advanced (Final) as UK Open Banking uses it.
//!
//! It owns consents' lifecycle (the APIs create consents; the customer authorises them here),
//! discovery and the server's signing keys, pushed authorisation requests, the authorize
//! endpoint with signed request objects and PKCE, the seam where the customer's decision comes
//! in (the consent journey, or sandbox headless approval), authorisation codes, access and
//! refresh tokens bound to the client's certificate and to one consent, ID tokens, revocation,
//! and the token check every resource server uses.

mod authorize;
mod check;
pub mod consents;
mod discovery;
mod error;
mod id_token;
mod keys;
pub mod outbox;
mod par;
mod request;
mod routes;
mod token;
mod tokens;
mod usage;

use std::sync::Arc;

use bascule_core_banking::SharedCoreBanking;
use bascule_domain::{Clock, CustomerId, Reauthentication};
use bascule_registration::Registrar;
use bascule_store::Store;

pub use authorize::{Decision, Outcome as AuthorizeOutcome, SandboxDecision};
pub use check::{AccessToken, TokenCheckError};
pub use consents::{
    Authorisation, ConsentError, ConsentStore, Consents, NewConsent, Outcome, Revocation,
    RevokedBy, WhenRevoked,
};
pub use error::AuthzError;
pub use keys::ServerKeys;
pub use request::{ACR_SCA, AuthorizationRequest, ResponseMode, ResponseType};
pub use tokens::TokenInfo;
pub use usage::Usage;

/// Settings of the authorisation server.
#[derive(Debug, Clone)]
pub struct AuthzConfig {
    /// The issuer: the server's public URL, which is also the request objects' `aud`.
    pub issuer: String,
    /// Access tokens live this long (seconds). 24 hours by default, as the seed has it.
    pub access_token_lifetime: i64,
    pub code_lifetime: i64,
    pub par_lifetime: i64,
    pub id_token_lifetime: i64,
    /// How long a customer has to decide once the authorize request arrived.
    pub session_lifetime: i64,
    /// Issue a new refresh token on every refresh (and retire the old one).
    pub rotate_refresh_tokens: bool,
    /// Sandbox: the customer a headless approval acts for when the request names none.
    pub sandbox_customer: Option<CustomerId>,
    /// The server runs in sandbox mode: headless approval is possible (for sandbox clients).
    pub sandbox: bool,
    /// Whether the bank suspends account access 90 days after the customer's last strong
    /// authentication, or leaves reconfirmation to the TPP (the token check applies it).
    pub reauthentication: Reauthentication,
}

impl AuthzConfig {
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            access_token_lifetime: 24 * 3600,
            code_lifetime: 60,
            par_lifetime: 90,
            id_token_lifetime: 300,
            session_lifetime: 1800,
            rotate_refresh_tokens: false,
            sandbox_customer: None,
            sandbox: false,
            reauthentication: Reauthentication::default(),
        }
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }
}

/// The authorisation server. Cheap to clone.
#[derive(Clone)]
pub struct Authz {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    registrar: Registrar,
    keys: ServerKeys,
    consents: ConsentStore,
    core_banking: SharedCoreBanking,
    config: AuthzConfig,
    usage: usage::ConsentUsage,
}

impl Authz {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        registrar: Registrar,
        keys: ServerKeys,
        core_banking: SharedCoreBanking,
        config: AuthzConfig,
    ) -> Self {
        let consents = ConsentStore::new(store.clone(), clock.clone());
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                registrar,
                keys,
                consents,
                core_banking,
                config,
                usage: usage::ConsentUsage::default(),
            }),
        }
    }

    pub fn consents(&self) -> &ConsentStore {
        &self.inner.consents
    }

    pub fn keys(&self) -> &ServerKeys {
        &self.inner.keys
    }

    pub fn config(&self) -> &AuthzConfig {
        &self.inner.config
    }

    pub fn registrar(&self) -> &Registrar {
        &self.inner.registrar
    }

    fn now(&self) -> i64 {
        self.inner.clock.now().unix_timestamp()
    }
}

/// 256 bits from the system's CSPRNG, base64url: codes, tokens, request URIs, session ids.
pub(crate) fn random_token() -> Result<String, AuthzError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| AuthzError::Internal("no randomness".into()))?;
    Ok(bascule_jose::base64url_encode(&bytes))
}

/// What a code or token is stored as.
pub(crate) fn token_hash(token: &str) -> String {
    bascule_jose::sha256_base64url(token.as_bytes())
}
