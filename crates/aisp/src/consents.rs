//! Account-access consents, version-neutral: create one for a client (the rules are the
//! domain's), read one back for the client that owns it, delete one (the consent is revoked and
//! every token tied to it dies). Each wire version only parses and renders.

use bascule_domain::aisp::AccountAccessConsent;
use bascule_domain::{Consent, ConsentEvent, ConsentKind, ConsentStatus};
use bascule_http::{Error, ObErrorCode};

use crate::Aisp;
use crate::access::DetailsJson;

fn not_found() -> Error {
    Error::bad_request(
        ObErrorCode::ResourceNotFound,
        "No account-access consent with this ConsentId",
    )
}

impl Aisp {
    /// Stores a new consent awaiting the customer's authorisation.
    pub async fn create_consent(
        &self,
        client_id: &str,
        details: &AccountAccessConsent,
    ) -> Result<Consent, Error> {
        self.authz()
            .consents()
            .create(
                ConsentKind::AccountAccess,
                client_id,
                details.expiration,
                details.to_json(),
            )
            .await
            .map_err(Error::internal)
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
            .get(raw_id)
            .await
            .map_err(Error::internal)?
            .filter(|c| c.kind == ConsentKind::AccountAccess)
            .ok_or_else(not_found)?;
        if consent.client_id != client_id {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The consent belongs to another client",
            ));
        }
        if consent.status == ConsentStatus::Revoked {
            return Err(not_found());
        }
        let details = AccountAccessConsent::from_json(&consent.details)?;
        Ok((consent, details))
    }

    /// Deletes (revokes) the client's consent and revokes every token issued for it.
    pub async fn delete_consent(&self, client_id: &str, raw_id: &str) -> Result<(), Error> {
        let (consent, _) = self.consent_of_client(client_id, raw_id).await?;
        // An expired or rejected consent is already closed: deleting it only kills its tokens.
        if !consent.status.is_final() {
            self.authz()
                .consents()
                .transition(&consent.id, ConsentEvent::Revoke)
                .await
                .map_err(Error::internal)?;
        }
        self.authz()
            .revoke_tokens_of_consent(consent.id.as_str())
            .await
            .map_err(Error::internal)?;
        Ok(())
    }
}
