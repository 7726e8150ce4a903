//! What a resource request may see: the extractor every AIS resource handler takes. It checks
//! the certificate-bound access token (via `bascule_authz::AccessToken`), insists on an
//! authorised account-access consent of the calling client, reads the consent's permissions and
//! selected accounts, and counts the call against the unattended allowance when the customer is
//! not present. Handlers then ask it for a permission (403 without) and for a path's account
//! (400 unknown, 403 outside the consent: RW §HTTP Status Codes).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bascule_authz::AccessToken;
use bascule_domain::aisp::{AccountAccessConsent, Permissions};
use bascule_domain::{Account, AccountId, Consent, ConsentKind};
use bascule_http::{Error, ObErrorCode};
use time::OffsetDateTime;

use crate::{Aisp, core_error, headers};

/// An AIS resource request that passed the token, consent and unattended-access checks.
#[derive(Debug, Clone)]
pub struct Access {
    pub token: AccessToken,
    pub consent: Consent,
    pub details: AccountAccessConsent,
    pub permissions: Permissions,
    /// `x-fapi-customer-ip-address` was sent: the customer is present.
    pub customer_present: bool,
}

impl FromRequestParts<Aisp> for Access {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, aisp: &Aisp) -> Result<Self, Error> {
        let token = AccessToken::from_request_parts(parts, aisp).await?;
        let consent = token
            .usable_consent(ConsentKind::AccountAccess, aisp.now())?
            .clone();
        let details = AccountAccessConsent::from_json(&consent.details)?;
        let permissions = details.permission_set().map_err(Error::internal)?;
        let customer_present = headers::customer_ip_address(&parts.headers)?.is_some();
        if !customer_present {
            aisp.unattended().admit(consent.id.as_str()).await?;
        }
        Ok(Access {
            token,
            consent,
            details,
            permissions,
            customer_present,
        })
    }
}

impl Access {
    /// The grant, or 403 when the consent lacks it (RW §403: permission not in the consent).
    pub fn require<T>(&self, grant: Option<T>, needed: &str) -> Result<T, Error> {
        grant.ok_or_else(|| {
            Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                format!("The consent does not grant {needed}"),
            )
        })
    }

    /// 403 unless `granted`.
    pub fn require_that(&self, granted: bool, needed: &str) -> Result<(), Error> {
        self.require(granted.then_some(()), needed)
    }

    /// The accounts the customer selected, in the order they chose them.
    pub fn accounts(&self) -> &[AccountId] {
        &self.consent.accounts
    }

    /// The account a path names: 400 `UK.OBIE.Resource.NotFound` when there is no such account
    /// (or it is another customer's — its existence is not disclosed), 403 when it is the
    /// customer's but was not selected in this consent.
    pub async fn account(&self, aisp: &Aisp, raw: &str) -> Result<Account, Error> {
        let not_found = || {
            Error::bad_request(
                ObErrorCode::ResourceNotFound,
                "No account with this AccountId",
            )
        };
        let id = AccountId::parse(raw).map_err(|_| not_found())?;
        let found = aisp
            .core_banking()
            .accounts(std::slice::from_ref(&id))
            .await
            .map_err(core_error)?
            .into_iter()
            .next()
            .ok_or_else(not_found)?;
        if self.consent.accounts.contains(&id) {
            return Ok(found);
        }
        if found.customer_id.is_some() && found.customer_id == self.consent.customer_id {
            Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The account was not selected in this consent",
            ))
        } else {
            Err(not_found())
        }
    }

    /// The booking-time window every transaction or statement query is clamped to: the
    /// consent's `TransactionFromDateTime`/`ToDateTime`, narrowed by the bank's history rule.
    pub fn transaction_window(
        &self,
        aisp: &Aisp,
    ) -> (Option<OffsetDateTime>, Option<OffsetDateTime>) {
        let history = aisp
            .config()
            .history
            .earliest_visible(self.consent.authorised_at, aisp.now());
        let from = match (self.details.transaction_from, history) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        (from, self.details.transaction_to)
    }
}

/// Stored details are ours; failing to read them is a bug, not the client's error.
impl From<StoredDetailsError> for Error {
    fn from(e: StoredDetailsError) -> Self {
        Error::internal(e.0)
    }
}

pub(crate) struct StoredDetailsError(String);

pub(crate) trait DetailsJson: Sized {
    fn from_json(raw: &str) -> Result<Self, StoredDetailsError>;
    fn to_json(&self) -> String;
}

impl DetailsJson for AccountAccessConsent {
    fn from_json(raw: &str) -> Result<Self, StoredDetailsError> {
        serde_json::from_str(raw)
            .map_err(|e| StoredDetailsError(format!("stored consent details: {e}")))
    }

    fn to_json(&self) -> String {
        // Enums and integers only: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}
