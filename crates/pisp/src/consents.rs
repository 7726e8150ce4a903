//! Payment consents, version-neutral: their scope, their debtor account, the funds check
//! (token rules and lookups are the consent service's, `bascule_authz::ConsentStore`). The consent itself lives in the authorisation server's store
//! (`bascule_authz::ConsentStore`); its terms are [`crate::order::ConsentTerms`], stored as
//! JSON in `Consent.details`, created and read through [`crate::pipeline`].

use bascule_domain::{AccountId, Consent, ConsentStatus, Pence};
use bascule_http::{Error, ObErrorCode};

use crate::{Pisp, core_error};

/// The scope every Payment Initiation call's token carries (consents are created and read
/// with a client-credentials token carrying it).
pub const SCOPE: &str = "payments";

impl Pisp {
    /// The account a consent debits: the one the customer selected at authorisation.
    pub fn debtor_of(consent: &Consent) -> Result<&AccountId, Error> {
        consent.accounts.first().ok_or_else(|| {
            Error::bad_request(
                ObErrorCode::ResourceInvalidConsentStatus,
                "The consent has no debtor account selected",
            )
        })
    }

    /// Whether the consent's amount could be paid from its debtor account now. Needs an
    /// Authorised consent (400 `Resource.InvalidConsentStatus` otherwise, PIS §4 Rules); never
    /// reveals the balance.
    pub async fn funds_available(&self, consent: &Consent, amount: Pence) -> Result<bool, Error> {
        if consent.status != ConsentStatus::Authorised || !consent.is_usable_at(self.now()) {
            return Err(Error::bad_request(
                ObErrorCode::ResourceInvalidConsentStatus,
                format!("The consent is {}, not Authorised", consent.status),
            ));
        }
        let debtor = Self::debtor_of(consent)?;
        self.core_banking()
            .check_funds(debtor, amount)
            .await
            .map_err(core_error)
    }
}
