//! Payment consents, version-neutral: create one idempotently for a client, read one back for
//! the client that owns it, check funds for it. The consent itself lives in the authorisation
//! server's store (`bascule_authz::ConsentStore`); its kind-specific details are
//! [`ConsentDetails`], stored as JSON in `Consent.details`. Each wire version only parses and
//! renders.

use bascule_authz::AccessToken;
use bascule_domain::{AccountId, Consent, ConsentKind, ConsentStatus};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::idempotency::IdempotencyKey;
use crate::initiation::{DomesticInitiation, Executable, Risk};
use crate::{Pisp, core_error};

/// What a domestic payment consent holds besides its lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConsentDetails {
    pub initiation: DomesticInitiation,
    pub risk: Risk,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_refund_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sca_support_data: Option<Value>,
}

impl ConsentDetails {
    pub fn from_json(raw: &str) -> Result<Self, Error> {
        serde_json::from_str(raw)
            .map_err(|e| Error::internal(format!("stored payment consent details: {e}")))
    }

    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(Error::internal)
    }
}

fn not_found() -> Error {
    Error::bad_request(
        ObErrorCode::ResourceNotFound,
        "No payment consent with this ConsentId",
    )
}

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
    /// Creates a `kind` consent with `details` unless `key` already did: returns the response
    /// body `render` made the first time (a replay returns it unchanged).
    pub async fn create_consent_idempotent(
        &self,
        kind: ConsentKind,
        key: &IdempotencyKey,
        details: &ConsentDetails,
        render: impl Fn(&Consent, &ConsentDetails) -> Result<String, Error>,
    ) -> Result<String, Error> {
        let now = self.now();
        if let Some(record) = key
            .claim_or_wait(self.store(), now.unix_timestamp())
            .await?
        {
            return record
                .response_body
                .ok_or_else(|| Error::internal("idempotency record without a response"));
        }
        let consent = self
            .authz()
            .consents()
            .create(
                kind,
                &key.client_id,
                Some(now + self.config().consent_lifetime),
                details.to_json()?,
            )
            .await
            .map_err(Error::internal)?;
        let body = render(&consent, details)?;
        key.complete(self.store(), consent.id.as_str(), 201, &body)
            .await?;
        Ok(body)
    }

    /// The client's `kind` consent `raw_id` with its details: 400 `Resource.NotFound` when
    /// unknown (or another kind), 403 when another client's (RW §403).
    pub async fn consent_of_client(
        &self,
        kind: ConsentKind,
        client_id: &str,
        raw_id: &str,
    ) -> Result<(Consent, ConsentDetails), Error> {
        let consent = self
            .authz()
            .consents()
            .get(raw_id)
            .await
            .map_err(Error::internal)?
            .filter(|c| c.kind == kind)
            .ok_or_else(not_found)?;
        if consent.client_id != client_id {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The consent belongs to another client",
            ));
        }
        let details = ConsentDetails::from_json(&consent.details)?;
        Ok((consent, details))
    }

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
    pub async fn funds_available(
        &self,
        consent: &Consent,
        executable: &Executable,
    ) -> Result<bool, Error> {
        if consent.status != ConsentStatus::Authorised || !consent.is_usable_at(self.now()) {
            return Err(Error::bad_request(
                ObErrorCode::ResourceInvalidConsentStatus,
                format!("The consent is {}, not Authorised", consent.status),
            ));
        }
        let debtor = Self::debtor_of(consent)?;
        self.core_banking()
            .check_funds(debtor, executable.amount)
            .await
            .map_err(core_error)
    }
}
