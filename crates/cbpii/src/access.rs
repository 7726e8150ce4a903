//! What a funds-confirmation request may use: the extractor `POST /funds-confirmations` takes.
//! It checks the certificate-bound access token (via `bascule_authz::AccessToken`), insists on
//! the `fundsconfirmations` scope and on an authorised, unexpired funds-confirmation consent of
//! the calling client (403 otherwise, RW §403; 401 once the consent is no longer usable), and
//! reads the consent's details.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bascule_authz::AccessToken;
use bascule_domain::{Consent, ConsentKind};
use bascule_http::{Error, ObErrorCode};

use crate::Cbpii;
use crate::consents::FundsConfirmationConsent;

/// A funds-confirmation request that passed the token and consent checks.
#[derive(Debug, Clone)]
pub struct FundsAccess {
    pub token: AccessToken,
    pub consent: Consent,
    pub details: FundsConfirmationConsent,
}

impl FromRequestParts<Cbpii> for FundsAccess {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, cbpii: &Cbpii) -> Result<Self, Error> {
        let token = AccessToken::from_request_parts(parts, cbpii).await?;
        token.require_scope(ConsentKind::FundsConfirmation.scope())?;
        let Some(consent) = token.consent.clone() else {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "Funds confirmations need an access token the customer authorised",
            ));
        };
        if consent.kind != ConsentKind::FundsConfirmation || consent.client_id != token.client_id()
        {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The access token is not for a funds-confirmation consent of this client",
            ));
        }
        // The token check refuses unusable consents already; this guards against a consent
        // that expired between the two reads.
        if !consent.is_usable_at(cbpii.now()) {
            return Err(Error::Unauthorised("consent no longer usable".into()));
        }
        let details = FundsConfirmationConsent::of(&consent)?;
        Ok(FundsAccess {
            token,
            consent,
            details,
        })
    }
}
