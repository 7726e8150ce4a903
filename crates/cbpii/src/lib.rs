//! The Open Banking Confirmation of Funds API (CBPII): funds-confirmation consents and funds
//! confirmations, served as v3.1.11 first, each wire version a mapping of one version-neutral
//! service.
//!
//! # Architecture
//!
//! ```text
//! crates/cbpii (this crate)
//!   lib.rs                    Cbpii (state: Authz, CoreBanking, Store, clock, CbpiiConfig),
//!                             Cbpii::router() — every version's routes, OB error format
//!   headers.rs                request-header rules for every CBPII route: x-fapi-auth-date,
//!                             x-fapi-customer-ip-address (400 Header.Invalid), Accept (406),
//!                             Content-Type (415) — the same rules as the AIS routes
//!   access.rs                 `FundsAccess`: the extractor of POST /funds-confirmations. Turns
//!                             the certificate-bound AccessToken into the client's authorised,
//!                             unexpired funds-confirmation consent and its details (403 / 401)
//!   consents.rs               version-neutral consent service: `FundsConfirmationConsent`
//!                             (the DebtorAccount, stored in Consent.details), create / read /
//!                             delete for a client
//!   confirmations.rs          version-neutral funds check: the consent's authorised account
//!                             must be its DebtorAccount, currency GBP, then
//!                             CoreBanking::check_funds (available balance, arranged overdraft
//!                             included) → yes/no, stored in `cbpii_funds_confirmations`
//!   v3_1_11/                  the v3.1.11 wire mapping, base `/open-banking/v3.1/cbpii`; strict
//!                             bodies, DateTime, Links and Meta come from `bascule_api_kit`
//!     mod.rs                  router
//!     consents.rs             /funds-confirmation-consents[/{ConsentId}]
//!     funds_confirmations.rs  /funds-confirmations
//! ```
//!
//! The balance itself never leaves the bank: the answer is `FundsAvailable` true or false.
//! No `x-jws-signature` and no `x-idempotency-key` on this API (COF declares neither).
//!
//! # Headers returned (RW §Response Headers)
//!
//! - `x-fapi-interaction-id` on every response (`bascule_http::interaction_layer`);
//! - `Content-Type: application/json` on every body (400/403/500 carry `OBErrorResponse1`;
//!   401, 404, 405, 406, 415 and 429 are bare, as the v3.1.11 file declares them);
//! - `WWW-Authenticate: Bearer error="invalid_token"` with 401.

mod access;
mod confirmations;
mod consents;
pub mod v3_1_11;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use bascule_authz::Authz;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::Clock;
use bascule_store::Store;
use time::OffsetDateTime;

pub(crate) use bascule_api_kit::core_error;

pub use access::FundsAccess;
pub use confirmations::{FundsCheck, FundsConfirmation};
pub use consents::{DebtorAccount, FundsConfirmationConsent, summary};

/// The bank's CBPII settings.
#[derive(Debug, Clone)]
pub struct CbpiiConfig {
    /// The server's public URL (`https://host[:port]`): `Links` are absolute (RW §Links).
    pub public_url: String,
}

impl CbpiiConfig {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
        }
    }
}

/// The Confirmation of Funds API. Cheap to clone.
#[derive(Clone)]
pub struct Cbpii {
    inner: Arc<Inner>,
}

struct Inner {
    authz: Authz,
    core_banking: SharedCoreBanking,
    store: Store,
    clock: Arc<dyn Clock>,
    config: CbpiiConfig,
}

impl Cbpii {
    pub fn new(
        authz: Authz,
        core_banking: SharedCoreBanking,
        store: Store,
        clock: Arc<dyn Clock>,
        config: CbpiiConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                authz,
                core_banking,
                store,
                clock,
                config,
            }),
        }
    }

    /// Every CBPII route of every served version, speaking Open Banking errors.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        bascule_api_kit::open_banking(v3_1_11::router()).with_state(self.clone())
    }

    pub fn authz(&self) -> &Authz {
        &self.inner.authz
    }

    pub fn core_banking(&self) -> &SharedCoreBanking {
        &self.inner.core_banking
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &CbpiiConfig {
        &self.inner.config
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }
}

impl FromRef<Cbpii> for Authz {
    fn from_ref(cbpii: &Cbpii) -> Authz {
        cbpii.inner.authz.clone()
    }
}

/// `Links` are absolute on the server's public URL (RW §Links).
impl bascule_api_kit::LinkBase for Cbpii {
    fn public_url(&self) -> &str {
        &self.inner.config.public_url
    }
}
