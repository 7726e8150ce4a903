//! Account-access consents, version-neutral: create one for a client (the rules are the
//! domain's), read one back for the client that owns it, delete one (the consent is revoked and
//! every token tied to it dies). Each wire version only parses and renders.

use bascule_api_kit::summary::ConsentSummary;
use bascule_authz::{ConsentError, RevokedBy, WhenRevoked};
use bascule_domain::aisp::AccountAccessConsent;
use bascule_domain::{Consent, ConsentKind, ConsentStatus};
use bascule_http::Error;

use crate::Aisp;
use crate::access::DetailsJson;

impl Aisp {
    /// Stores a new consent awaiting the customer's authorisation.
    pub async fn create_consent(
        &self,
        client_id: &str,
        details: &AccountAccessConsent,
    ) -> Result<Consent, Error> {
        Ok(self
            .authz()
            .consents()
            .create(
                ConsentKind::AccountAccess,
                client_id,
                details.expiration,
                details.to_json(),
            )
            .await?)
    }

    /// The client's account-access consent `raw_id` with its details. Unknown ids, other kinds
    /// and deleted consents are 400 `UK.OBIE.Resource.NotFound` (RW §HTTP Status Codes; AISP:
    /// a deleted consent is gone); another client's consent is 403 (RW §403).
    pub async fn consent_of_client(
        &self,
        client_id: &str,
        raw_id: &str,
    ) -> Result<(Consent, AccountAccessConsent), Error> {
        let consent = self
            .authz()
            .consents()
            .of_client(
                ConsentKind::AccountAccess,
                client_id,
                raw_id,
                WhenRevoked::Gone,
            )
            .await?;
        let details = AccountAccessConsent::from_json(&consent.details)?;
        Ok((consent, details))
    }

    /// Deletes (revokes) the client's consent and, in the same transaction, every token issued
    /// for it. An expired or rejected consent is already closed: deleting it only kills its
    /// tokens.
    pub async fn delete_consent(&self, client_id: &str, raw_id: &str) -> Result<(), Error> {
        let (consent, _) = self.consent_of_client(client_id, raw_id).await?;
        let revocation = self
            .authz()
            .consents()
            .revoke(&consent.id, RevokedBy::Tpp)
            .await?;
        // Another DELETE revoked it first: the consent is gone, as for a DELETE after that one.
        if !revocation.revoked_now && revocation.consent.status == ConsentStatus::Revoked {
            return Err(ConsentError::NotFound {
                kind: Some(ConsentKind::AccountAccess),
            }
            .into());
        }
        Ok(())
    }
}

/// What an account-access consent asks of the customer, in cluster language.
pub fn summary(consent: &Consent) -> Result<ConsentSummary, Error> {
    let details = AccountAccessConsent::from_json(&consent.details)?;
    Ok(bascule_api_kit::summary::account_access(
        &details.permissions,
        consent.expires_at,
    ))
}
