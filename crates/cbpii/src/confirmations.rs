//! Funds confirmations, version-neutral: "could this account pay this amount now?", answered
//! yes or no from the available balance (booked − pending debits + arranged overdraft,
//! `CoreBanking::check_funds`) and never with the balance itself. Each answer is stored with
//! its id (`cbpii_funds_confirmations`): the bank's record of what it told whom.
//!
//! Rules, in order:
//! - the account the customer authorised must be the consent's `DebtorAccount` (the customer
//!   may not swap accounts at authorisation) — 403 `UK.OBIE.Resource.ConsentMismatch`;
//! - the amount's currency must be the account's (GBP) — 400 `UK.OBIE.Unsupported.Currency`;
//!   an amount finer than a penny is 400 `UK.OBIE.Field.Invalid`;
//! - a disabled or closed account has no funds available;
//! - a `Reference` the CBPII already used on this consent is 400
//!   `UK.OBIE.Rules.DuplicateReference` (OB codeset U013), enforced by a unique index so racing
//!   duplicates cannot both pass.

use bascule_domain::{Amount, Consent, Currency, IdSource, RandomIds};
use bascule_http::{Error, ObErrorCode};
use bascule_store::sqlx;
use time::OffsetDateTime;

use crate::consents::FundsConfirmationConsent;
use crate::{Cbpii, core_error};
use bascule_api_kit::body::field_error;

/// A funds-confirmation request, parsed by a wire version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsCheck {
    pub reference: String,
    pub amount: Amount,
    pub currency: Currency,
}

/// The bank's answer, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundsConfirmation {
    pub id: String,
    pub consent_id: String,
    pub created_at: OffsetDateTime,
    pub funds_available: bool,
    pub reference: String,
    pub amount: Amount,
    pub currency: Currency,
}

fn consent_mismatch(message: &str) -> Error {
    Error::forbidden(ObErrorCode::ResourceConsentMismatch, message)
}

impl Cbpii {
    /// Answers `check` against the account of `consent` (authorised, of the calling client:
    /// the caller's `FundsAccess` made sure) and records the answer.
    pub async fn confirm_funds(
        &self,
        consent: &Consent,
        details: &FundsConfirmationConsent,
        check: &FundsCheck,
    ) -> Result<FundsConfirmation, Error> {
        let mismatch = || {
            consent_mismatch(
                "The account the customer authorised is not the consent's DebtorAccount",
            )
        };
        let [account_id] = consent.accounts.as_slice() else {
            return Err(mismatch());
        };
        let account = self
            .core_banking()
            .accounts(std::slice::from_ref(account_id))
            .await
            .map_err(core_error)?
            .into_iter()
            .next()
            .ok_or_else(mismatch)?;
        if account.identification != Some(details.debtor_account.identification)
            || account.customer_id != consent.customer_id
        {
            return Err(mismatch());
        }
        if check.currency != account.currency {
            return Err(field_error(
                ObErrorCode::UnsupportedCurrency,
                format!(
                    "The account holds {}; funds can be confirmed in that currency only",
                    account.currency
                ),
                "Data.InstructedAmount.Currency",
            ));
        }
        let pence = check.amount.to_pence().map_err(|e| {
            field_error(
                ObErrorCode::FieldInvalid,
                e.to_string(),
                "Data.InstructedAmount.Amount",
            )
        })?;
        let funds_available = account.accepts_postings()
            && self
                .core_banking()
                .check_funds(&account.id, pence)
                .await
                .map_err(core_error)?;

        let confirmation = FundsConfirmation {
            id: RandomIds.next_uuid().hyphenated().to_string(),
            consent_id: consent.id.to_string(),
            created_at: self.now(),
            funds_available,
            reference: check.reference.clone(),
            amount: check.amount,
            currency: check.currency,
        };
        let stored = self
            .store()
            .write(
                sqlx::query(
                    "INSERT INTO cbpii_funds_confirmations (id, consent_id, client_id, reference, \
                     amount, currency, funds_available, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(&confirmation.id)
                .bind(&confirmation.consent_id)
                .bind(&consent.client_id)
                .bind(&confirmation.reference)
                .bind(confirmation.amount.to_string())
                .bind(confirmation.currency.as_str().to_owned())
                .bind(i64::from(funds_available))
                .bind(confirmation.created_at.unix_timestamp()),
            )
            .await;
        match stored {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => {
                return Err(field_error(
                    ObErrorCode::RulesDuplicateReference,
                    "This Reference was already used for a funds confirmation on this consent",
                    "Data.Reference",
                ));
            }
            Err(e) => return Err(Error::internal(e)),
        }
        tracing::info!(
            consent_id = %confirmation.consent_id,
            funds_confirmation_id = %confirmation.id,
            funds_available,
            "funds confirmation answered"
        );
        Ok(confirmation)
    }
}

/// One answer the bank gave a CBPII, as the customer's dashboard lists it (PSRs reg. 68(6):
/// the customer may ask which CBPII asked and what it was told).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenAnswer {
    pub consent_id: String,
    pub reference: String,
    pub amount: String,
    pub currency: String,
    pub funds_available: bool,
    pub at: OffsetDateTime,
}

/// Every answer given on `customer`'s funds-confirmation consents, newest first: one query.
pub async fn answers_for_customer(
    store: &bascule_store::Store,
    customer: &bascule_domain::CustomerId,
) -> Result<Vec<GivenAnswer>, bascule_store::StoreError> {
    use bascule_store::sqlx::Row;
    let rows = sqlx::query(
        "SELECT f.consent_id, f.reference, f.amount, f.currency, \
         CAST(f.funds_available AS BIGINT) AS funds_available, f.created_at \
         FROM cbpii_funds_confirmations f JOIN consents c ON c.id = f.consent_id \
         WHERE c.customer_id = $1 ORDER BY f.created_at DESC, f.id",
    )
    .bind(customer.as_str())
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(GivenAnswer {
                consent_id: r.try_get("consent_id")?,
                reference: r.try_get("reference")?,
                amount: r.try_get("amount")?,
                currency: r.try_get("currency")?,
                funds_available: r.try_get::<i64, _>("funds_available")? != 0,
                at: OffsetDateTime::from_unix_timestamp(r.try_get("created_at")?)
                    .map_err(|e| bascule_store::StoreError::corrupt(e.to_string()))?,
            })
        })
        .collect()
}
