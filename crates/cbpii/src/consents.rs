//! Funds-confirmation consents, version-neutral: what a consent holds (the debtor account and
//! an optional expiry), create one for a client, read one back for the client that owns it,
//! delete one (the consent is revoked and every token tied to it dies). Each wire version only
//! parses and renders.
//!
//! The consent's lifecycle is the shared one (`bascule_domain::ConsentStatus`, moved by the
//! authorisation server); its details travel in `Consent.details` as JSON. A revoked consent
//! stays readable (v3.1.11 reports `Revoked`): the customer can revoke it at the bank as well
//! as the CBPII through DELETE (COFP; RES/cbpii/funds-confirmation-consent), and the CBPII
//! learns which by reading it.

use bascule_api_kit::summary::{AccountChoice, ConsentSummary, Section};
use bascule_authz::{RevokedBy, WhenRevoked};
use bascule_domain::{Consent, ConsentKind, SortCodeAccountNumber};
use bascule_http::Error;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Cbpii;

/// The account a funds-confirmation consent applies to. Bascule's accounts are identified by
/// sort code and account number (`UK.OBIE.SortCodeAccountNumber`), so that is the one scheme a
/// consent may name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebtorAccount {
    pub identification: SortCodeAccountNumber,
    /// The account holder's name as the CBPII gave it; echoed, not checked.
    pub name: Option<String>,
}

/// What the CBPII asked for: confirmations against one account, until `expiration` (open
/// ended without one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsConfirmationConsent {
    pub debtor_account: DebtorAccount,
    pub expiration: Option<OffsetDateTime>,
}

/// The stored form in `Consent.details` (the expiry lives in `Consent.expires_at`).
#[derive(Debug, Serialize, Deserialize)]
struct StoredDetails {
    debtor_account: StoredAccount,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredAccount {
    scheme_name: String,
    identification: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

const SORT_CODE_ACCOUNT_NUMBER: &str = "SortCodeAccountNumber";

impl FundsConfirmationConsent {
    fn to_json(&self) -> String {
        let stored = StoredDetails {
            debtor_account: StoredAccount {
                scheme_name: SORT_CODE_ACCOUNT_NUMBER.into(),
                identification: self.debtor_account.identification.to_string(),
                name: self.debtor_account.name.clone(),
            },
        };
        // Strings only: serialising cannot fail.
        serde_json::to_string(&stored).unwrap_or_default()
    }

    /// The details of a stored consent; failing to read them is a bug, not the client's error.
    pub fn of(consent: &Consent) -> Result<Self, Error> {
        let stored: StoredDetails = serde_json::from_str(&consent.details)
            .map_err(|e| Error::internal(format!("stored funds-confirmation consent: {e}")))?;
        if stored.debtor_account.scheme_name != SORT_CODE_ACCOUNT_NUMBER {
            return Err(Error::internal("stored funds-confirmation consent: scheme"));
        }
        let identification = SortCodeAccountNumber::parse(&stored.debtor_account.identification)
            .map_err(|e| Error::internal(format!("stored funds-confirmation consent: {e}")))?;
        Ok(Self {
            debtor_account: DebtorAccount {
                identification,
                name: stored.debtor_account.name,
            },
            expiration: consent.expires_at,
        })
    }
}

impl Cbpii {
    /// Stores a new consent awaiting the customer's authorisation.
    pub async fn create_consent(
        &self,
        client_id: &str,
        request: &FundsConfirmationConsent,
    ) -> Result<Consent, Error> {
        Ok(self
            .authz()
            .consents()
            .create(
                ConsentKind::FundsConfirmation,
                client_id,
                request.expiration,
                request.to_json(),
            )
            .await?)
    }

    /// The client's funds-confirmation consent `raw_id` with its details. Unknown ids and other
    /// kinds of consent are 400 `UK.OBIE.Resource.NotFound` (RW §HTTP Status Codes); another
    /// client's consent is 403 (RW §403).
    pub async fn consent_of_client(
        &self,
        client_id: &str,
        raw_id: &str,
    ) -> Result<(Consent, FundsConfirmationConsent), Error> {
        let consent = self
            .authz()
            .consents()
            .of_client(
                ConsentKind::FundsConfirmation,
                client_id,
                raw_id,
                WhenRevoked::Readable,
            )
            .await?;
        let details = FundsConfirmationConsent::of(&consent)?;
        Ok((consent, details))
    }

    /// Deletes (revokes) the client's consent and, in the same transaction, every token issued
    /// for it. Deleting a consent that is already closed (rejected, expired, revoked — also by a
    /// concurrent DELETE) only kills its tokens.
    pub async fn delete_consent(&self, client_id: &str, raw_id: &str) -> Result<(), Error> {
        let (consent, _) = self.consent_of_client(client_id, raw_id).await?;
        self.authz()
            .consents()
            .revoke(&consent.id, RevokedBy::Tpp)
            .await?;
        Ok(())
    }
}

/// What a funds-confirmation consent asks of the customer: yes/no answers about one named
/// account, never a balance.
pub fn summary(consent: &Consent) -> Result<ConsentSummary, Error> {
    let details = FundsConfirmationConsent::of(consent)?;
    Ok(ConsentSummary {
        purpose: "wants to check, before you pay with it, that your account has enough money"
            .into(),
        sections: vec![Section {
            title: "What it will see".into(),
            lines: vec![
                "Only a yes or no answer to \"is there enough money for this amount?\"".into(),
                "Never your balance or your transactions".into(),
            ],
        }],
        payment: None,
        accounts: AccountChoice::Named(details.debtor_account.identification),
        until: consent.expires_at,
    })
}
