//! Payment consents, version-neutral: the token rules for them, their debtor account, the
//! funds check. The consent itself lives in the authorisation server's store
//! (`bascule_authz::ConsentStore`); its terms are [`crate::order::ConsentTerms`], stored as
//! JSON in `Consent.details`, created and read through [`crate::pipeline`].

use bascule_authz::AccessToken;
use bascule_domain::{AccountId, Consent, ConsentKind, ConsentStatus, Pence};
use bascule_http::{Error, ObErrorCode};

use crate::{Pisp, core_error};

/// Consents are created and read with a client-credentials token carrying `payments`.
pub fn client_credentials(token: &AccessToken) -> Result<&str, Error> {
    token.require_scope("payments")?;
    if token.consent.is_some() {
        return Err(Error::forbidden(
            ObErrorCode::ResourceConsentMismatch,
            "This call needs a client-credentials token",
        ));
    }
    Ok(token.client_id())
}

/// The consent an authorization-code token is bound to, if it is a `kind` consent of the
/// token's client (403 otherwise).
pub fn bound_consent(token: &AccessToken, kind: ConsentKind) -> Result<&Consent, Error> {
    token.require_scope("payments")?;
    match &token.consent {
        Some(c) if c.kind == kind && c.client_id == token.client_id() => Ok(c),
        _ => Err(Error::forbidden(
            ObErrorCode::ResourceConsentMismatch,
            "This call needs an access token the customer authorised for this kind of consent",
        )),
    }
}

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
