//! The Open Banking Account and Transaction API (AIS): account-access consents and every
//! account-information resource, served as v3.1.11 first, each wire version a mapping of one
//! version-neutral domain.
//!
//! # Architecture
//!
//! ```text
//! bascule_domain::aisp        Permission, Permissions (the AISP combination rules), Level,
//!                             AccountAccessConsent (the details stored in Consent.details)
//!        ▲
//! crates/aisp (this crate)
//!   lib.rs                    Aisp (state: Authz, CoreBanking, Store, clock, AispConfig),
//!                             Aisp::router() — every version's routes, OB error format
//!   headers.rs                request-header rules for every AIS route: x-fapi-auth-date,
//!                             x-fapi-customer-ip-address (400 Header.Invalid), Accept (406),
//!                             Content-Type (415)
//!   access.rs                 `Access`: the extractor every resource handler takes. Turns the
//!                             certificate-bound AccessToken into the consent's permissions and
//!                             selected accounts; `require(..)`, `account(..)` give 403 / 400
//!   unattended.rs             the unattended-access allowance (4 calls per consent per rolling
//!                             24 h without x-fapi-customer-ip-address), stored, so it holds
//!                             across nodes → 429 + Retry-After
//!   consents.rs               version-neutral consent service: create / read / delete for a
//!                             client (the rules come from the domain)
//!   v3_1_11/                  the v3.1.11 wire mapping, base `/open-banking/v3.1/aisp`
//!     mod.rs                  router: merges each resource module's `routes()`
//!     wire.rs                 the wire vocabulary: the API kit's Links, Meta, DateTime,
//!                             Amount, CashAccount, and OBCreditDebitCode
//!     consents.rs             /account-access-consents[/{ConsentId}] (the handlers are the
//!                             API kit's `consent_routes`)
//!     per_account.rs          `AccountResource`: the bulk `/{resource}` and per-account
//!                             `/accounts/{AccountId}/{resource}` routes most resources share
//!     accounts.rs             /accounts[/{AccountId}]
//!     balances.rs             /balances, /accounts/{AccountId}/balances
//!     parties.rs              /party, /accounts/{AccountId}/party|parties
//!     products.rs             /products, /accounts/{AccountId}/product
//!     transactions.rs, statements.rs, beneficiaries.rs, direct_debits.rs,
//!     standing_orders.rs, scheduled_payments.rs, offers.rs
//!                             one module per resource, each owning its routes and wire types
//! ```
//!
//! A handler's shape: `async fn h(State(aisp), access: Access, ...) -> Result<Json<T>, Error>`;
//! `access.require(Permissions::balances-ish)?` for the permission, `access.account(&raw)` for a
//! path's AccountId (400 `UK.OBIE.Resource.NotFound` unknown, 403 not in the consent),
//! `access.accounts()` for the bulk endpoints, then core banking, then a `From`/`map` into the
//! version's wire struct. Field-level rules (Basic vs Detail, ReadPAN, Credits/Debits) are
//! decided from `access.permissions` in the mapping, never in SQL. Errors are
//! `bascule_http::Error`, rendered once as OBErrorResponse1.
//!
//! A v4.0 mapping adds `v4_0/` beside `v3_1_11/` reusing `access`, `consents` and the domain.
//!
//! # Headers returned (RW §Response Headers)
//!
//! - `x-fapi-interaction-id` on every response, the client's echoed or a new UUID
//!   (`bascule_http::interaction_layer`);
//! - `Content-Type: application/json` on every body (400/403/500 carry `OBErrorResponse1`;
//!   401, 404, 405, 406, 415 and 429 are bare, as the v3.1.11 file declares them);
//! - `Retry-After: <seconds>` with 429: when the oldest unattended call of the consent leaves
//!   the rolling 24 h window. Fair-usage policy: 4 calls per consent per 24 h without
//!   `x-fapi-customer-ip-address` (`AispConfig::unattended_limit_per_day`); calls with it are
//!   not limited by this rule;
//! - `WWW-Authenticate: Bearer error="invalid_token"` with 401.

mod access;
mod consents;
mod currencies;
use bascule_http::ob_headers as headers;
mod transactions;
mod unattended;
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

pub use access::Access;
pub use consents::summary;
pub use unattended::UnattendedAccess;

/// How much transaction history a consent sees (issue 6 §7, "like Monzo": full history only
/// shortly after strong authentication, the last 90 days after).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryRule {
    /// Everything within the consent's transaction window, always.
    #[default]
    Full,
    /// Full history within `full_within_minutes` of the customer's strong authentication
    /// (`Consent.authorised_at`); afterwards only the last `recent_days` days.
    RecentAfterSca {
        full_within_minutes: i64,
        recent_days: i64,
    },
}

impl HistoryRule {
    /// The earliest booking time a request at `now` may see, given when the customer last
    /// authenticated strongly; `None` means no limit from this rule.
    pub fn earliest_visible(
        &self,
        authorised_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Option<OffsetDateTime> {
        match *self {
            HistoryRule::Full => None,
            HistoryRule::RecentAfterSca {
                full_within_minutes,
                recent_days,
            } => {
                let fresh = authorised_at
                    .is_some_and(|a| now - a <= time::Duration::minutes(full_within_minutes));
                (!fresh).then(|| now - time::Duration::days(recent_days))
            }
        }
    }
}

/// The bank's AIS settings.
#[derive(Debug, Clone)]
pub struct AispConfig {
    /// The server's public URL (`https://host[:port]`): `Links` are absolute (RW §Links).
    pub public_url: String,
    /// Calls without `x-fapi-customer-ip-address` allowed per consent per rolling 24 h (RTS
    /// Art. 36(5); OB signals PSU presence only by that header).
    pub unattended_limit_per_day: u32,
    /// Records per page of paginated resources (RW §Pagination: 25 to 1000).
    pub page_size: u32,
    pub history: HistoryRule,
}

impl AispConfig {
    pub fn new(public_url: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            unattended_limit_per_day: 4,
            page_size: 100,
            history: HistoryRule::Full,
        }
    }
}

/// The Account and Transaction API. Cheap to clone.
#[derive(Clone)]
pub struct Aisp {
    inner: Arc<Inner>,
}

struct Inner {
    authz: Authz,
    core_banking: SharedCoreBanking,
    clock: Arc<dyn Clock>,
    unattended: UnattendedAccess,
    config: AispConfig,
}

impl Aisp {
    pub fn new(
        authz: Authz,
        core_banking: SharedCoreBanking,
        store: Store,
        clock: Arc<dyn Clock>,
        config: AispConfig,
    ) -> Self {
        let unattended =
            UnattendedAccess::new(store, clock.clone(), config.unattended_limit_per_day);
        Self {
            inner: Arc::new(Inner {
                authz,
                core_banking,
                clock,
                unattended,
                config,
            }),
        }
    }

    /// Every AIS route of every served version, speaking Open Banking errors.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        bascule_api_kit::open_banking(v3_1_11::router()).with_state(self.clone())
    }

    pub fn authz(&self) -> &Authz {
        &self.inner.authz
    }

    pub fn core_banking(&self) -> &SharedCoreBanking {
        &self.inner.core_banking
    }

    pub fn config(&self) -> &AispConfig {
        &self.inner.config
    }

    pub fn unattended(&self) -> &UnattendedAccess {
        &self.inner.unattended
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }
}

impl FromRef<Aisp> for Authz {
    fn from_ref(aisp: &Aisp) -> Authz {
        aisp.inner.authz.clone()
    }
}

/// `Links` are absolute on the server's public URL (RW §Links).
impl bascule_api_kit::LinkBase for Aisp {
    fn public_url(&self) -> &str {
        &self.inner.config.public_url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn history_rule_limits_only_after_the_fresh_window() {
        let now = datetime!(2026-01-05 09:00 UTC);
        let rule = HistoryRule::RecentAfterSca {
            full_within_minutes: 5,
            recent_days: 90,
        };
        assert_eq!(
            rule.earliest_visible(Some(now - time::Duration::minutes(4)), now),
            None
        );
        assert_eq!(
            rule.earliest_visible(Some(now - time::Duration::minutes(6)), now),
            Some(now - time::Duration::days(90))
        );
        assert_eq!(HistoryRule::Full.earliest_visible(None, now), None);
    }
}
