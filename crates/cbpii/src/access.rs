//! What a funds-confirmation request may use: the extractor `POST /funds-confirmations` takes.
//! It checks the certificate-bound access token (via `bascule_authz::AccessToken`), insists on
//! the `fundsconfirmations` scope and on an authorised, unexpired funds-confirmation consent of
//! the calling client (403 otherwise, RW §403; 401 once the consent is no longer usable), and
//! reads the consent's details.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bascule_authz::AccessToken;
use bascule_domain::{Consent, ConsentKind};
use bascule_http::Error;

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
        let consent = token
            .usable_consent(ConsentKind::FundsConfirmation, cbpii.now())?
            .clone();
        let details = FundsConfirmationConsent::of(&consent)?;
        Ok(FundsAccess {
            token,
            consent,
            details,
        })
    }
}
