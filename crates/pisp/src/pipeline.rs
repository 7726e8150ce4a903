//! One create → replay → settle → recover pipeline for every payment kind. What the kinds
//! share lives here once: the consent's checks, the idempotent create, the consent consumed in
//! the payment's own transaction, the lookup for a client, and recovery. What differs is a
//! [`Step`] per kind: its row (and, for domestic payments, the daily-limit reservation beside
//! it), and how it is settled on the core ([`crate::payments`] and [`crate::schedules`]).
//!
//! Exactly once (the rationale is in [`crate::payments`]): one transaction writes the
//! idempotency row, the kind's Pending row and the consent's Authorised → Consumed; a payment
//! that fails before that commit leaves no row and its consent Authorised and re-usable.
//! Settlement is keyed by the payment's id on the core; rows left Pending are re-driven.

use std::future::Future;

use bascule_authz::{AccessToken, WhenRevoked};
use bascule_domain::{AccountId, AccountType, Consent, ConsentStatus, CustomerId};
use bascule_http::{Error, ObErrorCode};
use bascule_store::WriteTx;
use bascule_store::sqlx::{self, Row, any::AnyRow};
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::idempotency::IdempotencyKey;
use crate::order::{ConsentTerms, Terms};
use crate::{Pisp, core_error, db_error};

/// A stored payment of some kind, as the pipeline sees it.
pub trait Stored: Send + Sync {
    fn id(&self) -> &str;
    fn client_id(&self) -> &str;
}

/// What every stored payment row holds, whatever its kind.
#[derive(Debug, Clone)]
pub struct Record<T> {
    pub id: String,
    pub client_id: String,
    pub consent_id: String,
    pub customer_id: CustomerId,
    pub debtor_account_id: AccountId,
    pub terms: T,
    pub created_at: OffsetDateTime,
    pub status_updated_at: OffsetDateTime,
}

pub(crate) fn ts(s: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(s).map_err(Error::internal)
}

impl<T: Terms> Record<T> {
    /// The shared columns of a payment or payment-order row.
    pub(crate) fn of_row(row: &AnyRow) -> Result<Self, Error> {
        let get = |e: sqlx::Error| Error::internal(e);
        let terms: String = row.try_get("terms").map_err(get)?;
        Ok(Record {
            id: row.try_get("id").map_err(get)?,
            client_id: row.try_get("client_id").map_err(get)?,
            consent_id: row.try_get("consent_id").map_err(get)?,
            customer_id: CustomerId::parse(row.try_get::<String, _>("customer_id").map_err(get)?)
                .map_err(Error::internal)?,
            debtor_account_id: AccountId::parse(
                row.try_get::<String, _>("debtor_account_id").map_err(get)?,
            )
            .map_err(Error::internal)?,
            terms: serde_json::from_str(&terms).map_err(Error::internal)?,
            created_at: ts(row.try_get("created_at").map_err(get)?)?,
            status_updated_at: ts(row.try_get("status_updated_at").map_err(get)?)?,
        })
    }
}

/// Why a kind's row could not be written: the database's refusal (a unique key, for the
/// pipeline to read) or anything else.
#[derive(Debug)]
pub enum InsertError {
    Db(sqlx::Error),
    Other(Error),
}

impl From<sqlx::Error> for InsertError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e)
    }
}

impl From<Error> for InsertError {
    fn from(e: Error) -> Self {
        Self::Other(e)
    }
}

/// What a new payment's row is made of.
pub struct NewPayment<'a, T> {
    pub id: &'a str,
    pub client_id: &'a str,
    pub consent: &'a Consent,
    pub customer: &'a CustomerId,
    pub debtor_id: &'a AccountId,
    pub debtor_account_type: AccountType,
    pub terms: &'a T,
    pub now: OffsetDateTime,
}

/// One kind's part of the pipeline.
pub trait Step: Terms {
    type Payment: Stored;

    /// Writes the kind's Pending row (and what it reserves alongside) inside `tx`.
    fn insert(
        pisp: &Pisp,
        tx: &mut WriteTx,
        new: &NewPayment<'_, Self>,
    ) -> impl Future<Output = Result<(), InsertError>> + Send;

    /// The payment `id`, if it is of this kind.
    fn load(
        pisp: &Pisp,
        id: &str,
    ) -> impl Future<Output = Result<Option<Self::Payment>, Error>> + Send;

    /// Drives a Pending payment to its final status (idempotent); any other as it is.
    fn settle(
        pisp: &Pisp,
        payment: Self::Payment,
    ) -> impl Future<Output = Result<Self::Payment, Error>> + Send;

    /// Every payment of this kind left Pending.
    fn pending(pisp: &Pisp) -> impl Future<Output = Result<Vec<Self::Payment>, Error>> + Send;
}

/// The rows `read` can decode; one it cannot is logged and left out, so a single unreadable
/// row never stops the recovery of every other one.
pub(crate) fn readable_rows<R>(rows: &[AnyRow], read: fn(&AnyRow) -> Result<R, Error>) -> Vec<R> {
    rows.iter()
        .filter_map(|row| {
            read(row)
                .map_err(|e| tracing::warn!(error = ?e, "pending row unreadable; not recovered"))
                .ok()
        })
        .collect()
}

fn mismatch(message: &str) -> Error {
    Error::bad_request(ObErrorCode::ResourceConsentMismatch, message)
}

fn invalid_status(message: impl Into<String>) -> Error {
    Error::bad_request(ObErrorCode::ResourceInvalidConsentStatus, message)
}

impl Pisp {
    /// Creates a consent for `details` unless `key` already did: returns the response body
    /// `render` made the first time (a replay returns it unchanged).
    pub async fn create_consent<T: Terms>(
        &self,
        key: &IdempotencyKey,
        details: &ConsentTerms<T>,
        render: impl Fn(&Consent) -> Result<String, Error>,
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
                T::KIND.consent_kind(),
                &key.client_id,
                Some(now + self.config().consent_lifetime),
                details.to_json()?,
            )
            .await?;
        let body = render(&consent)?;
        key.complete(self.store(), consent.id.as_str(), 201, &body)
            .await?;
        Ok(body)
    }

    /// The client's `T` consent `raw_id` with its terms: 400 `Resource.NotFound` when
    /// unknown (or another kind), 403 when another client's (RW §403).
    pub async fn consent_of_client<T: Terms>(
        &self,
        client_id: &str,
        raw_id: &str,
    ) -> Result<(Consent, ConsentTerms<T>), Error> {
        self.stored_terms_ready().await?;
        let consent = self
            .authz()
            .consents()
            .of_client(
                T::KIND.consent_kind(),
                client_id,
                raw_id,
                WhenRevoked::Readable,
            )
            .await?;
        let details = ConsentTerms::from_json(&consent.details)?;
        Ok((consent, details))
    }

    /// The terms of the consent an access token is bound to.
    pub async fn terms_of<T: Terms>(&self, consent: &Consent) -> Result<ConsentTerms<T>, Error> {
        self.stored_terms_ready().await?;
        ConsentTerms::from_json(&consent.details)
    }

    /// Creates (or, for a repeated idempotency key, finds) the payment of `consent` for
    /// `terms`/`risk`, settles it, and returns it in its current state. `check_day`: the
    /// wire's rules that depend on the bank's day (dates not past), checked once a replay is
    /// ruled out.
    pub async fn create_payment<T: Step>(
        &self,
        key: &IdempotencyKey,
        consent: &Consent,
        terms: &T,
        risk: &Value,
        check_day: impl FnOnce(Date) -> Result<(), Error>,
    ) -> Result<T::Payment, Error> {
        // A replay first: its consent is consumed by now, which must not turn it into a 400.
        if let Some(found) = self.replay::<T>(key).await? {
            return Ok(found);
        }
        let details = self.terms_of::<T>(consent).await?;
        if details.terms != *terms {
            return Err(mismatch(
                "Data.Initiation does not match the consent's Initiation",
            ));
        }
        if details.risk != *risk {
            return Err(mismatch("Risk does not match the consent's Risk"));
        }
        let now = self.now();
        if consent.status != ConsentStatus::Authorised || !consent.is_usable_at(now) {
            let status = if consent.status == ConsentStatus::Authorised {
                ConsentStatus::Expired
            } else {
                consent.status
            };
            return Err(invalid_status(format!(
                "The consent is {status}, not Authorised"
            )));
        }
        check_day(self.today())?;
        let debtor_id = Pisp::debtor_of(consent)?.clone();
        let debtor = self
            .core_banking()
            .accounts(std::slice::from_ref(&debtor_id))
            .await
            .map_err(core_error)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("the consent's debtor account does not exist"))?;
        if let Some(wanted) = terms.debtor()
            && debtor.identification != Some(wanted.identification)
        {
            return Err(mismatch(
                "The consent's debtor account is not Data.Initiation.DebtorAccount",
            ));
        }
        let customer = consent
            .customer_id
            .clone()
            .ok_or_else(|| Error::internal("an authorised consent without a customer"))?;

        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.store().begin().await.map_err(db_error)?;
        if !key
            .insert(tx.conn(), Some(&id), now.unix_timestamp())
            .await?
        {
            drop(tx);
            return self
                .replay::<T>(key)
                .await?
                .ok_or_else(|| Error::internal("idempotency row without its payment"));
        }
        // Consumed in this transaction: if anything below fails, the consent stays Authorised.
        // A consent consumed (or revoked) meanwhile: 400 InvalidConsentStatus, never a 500.
        self.authz()
            .consents()
            .consume_in(&mut tx, &consent.id)
            .await?;
        let new = NewPayment {
            id: &id,
            client_id: &key.client_id,
            consent,
            customer: &customer,
            debtor_id: &debtor_id,
            debtor_account_type: debtor.account_type,
            // The consent's spelling of the same terms: the payment echoes what was consented.
            terms: &details.terms,
            now,
        };
        match T::insert(self, &mut tx, &new).await {
            Ok(()) => {}
            Err(InsertError::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                return Err(invalid_status("The consent has already been used"));
            }
            Err(InsertError::Db(e)) => return Err(db_error(e)),
            Err(InsertError::Other(e)) => return Err(e),
        }
        tx.commit().await.map_err(db_error)?;
        let created = T::load(self, &id)
            .await?
            .ok_or_else(|| Error::internal("payment vanished"))?;
        T::settle(self, created).await
    }

    /// The payment an earlier request with `key` created, settled if it was left Pending;
    /// 400 when the key was used with another body.
    async fn replay<T: Step>(&self, key: &IdempotencyKey) -> Result<Option<T::Payment>, Error> {
        let Some(record) = key.read(self.store()).await? else {
            return Ok(None);
        };
        key.check_same_body(&record)?;
        let id = record
            .resource_id
            .ok_or_else(|| Error::internal("payment idempotency row without a payment"))?;
        let found = T::load(self, &id)
            .await?
            .ok_or_else(|| Error::internal("idempotency row without its payment"))?;
        T::settle(self, found).await.map(Some)
    }

    /// The client's `T` payment `id`, settled first if it was left Pending: 400
    /// `Resource.NotFound` when unknown (or another kind), 403 when another client's (RW §403).
    /// `token`: the client's client-credentials token.
    pub async fn payment_of_client<T: Step>(
        &self,
        token: &AccessToken,
        id: &str,
    ) -> Result<T::Payment, Error> {
        let client_id = token.client_credentials(crate::consents::SCOPE)?;
        let found = T::load(self, id).await?.ok_or_else(|| {
            Error::bad_request(
                ObErrorCode::ResourceNotFound,
                format!("No {} with this id", T::KIND.name()),
            )
        })?;
        if found.client_id() != client_id {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The payment belongs to another client",
            ));
        }
        T::settle(self, found).await
    }

    /// Settles every `T` payment left Pending (by a crash, or an unavailable core). Returns how
    /// many were looked at.
    pub async fn recover_kind<T: Step>(&self) -> Result<usize, Error> {
        let pending = T::pending(self).await?;
        let n = pending.len();
        for p in pending {
            let id = p.id().to_owned();
            if let Err(e) = T::settle(self, p).await {
                tracing::warn!(error = ?e, payment = %id, kind = T::KIND.name(),
                    "recovery could not settle a payment");
            }
        }
        Ok(n)
    }
}
