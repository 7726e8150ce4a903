//! Domestic payments, version-neutral, settled exactly once.
//!
//! # Why this gives "exactly once" without one transaction around everything
//!
//! The money moves behind the `CoreBanking` trait: the boundary a bank's own core sits behind,
//! usually another system with its own database, so no database transaction of ours can span
//! it. Instead:
//!
//! 1. **One transaction** writes the idempotency row (`INSERT … ON CONFLICT DO NOTHING`, the
//!    loser of a race reads the winner's payment), the daily-limit reservation and the payment
//!    row in status `Pending` (its `consent_id` is UNIQUE: a consent pays once). Nothing has
//!    been answered yet; a crash before the commit leaves no payment, and no 201 was sent.
//! 2. **Settlement** calls `CoreBanking::post_payment` with the idempotency key
//!    `{client_id}:{DomesticPaymentId}`. The core settles a key exactly once and replays the
//!    first result for the same key, so settling the same payment again, after a crash or
//!    concurrently, never moves money twice.
//! 3. **Status** moves from `Pending` to `AcceptedSettlementCompleted` or `Rejected` by
//!    compare-and-set (`WHERE status = 'Pending'`), so concurrent settlers agree.
//! 4. **Recovery** re-drives every `Pending` row: when `Pisp` starts, every
//!    `recovery_interval`, and before a GET of a Pending payment answers. A kill -9 between 1
//!    and 3 therefore ends in one completed payment; a retry with the same idempotency key
//!    after a restart finds the row of step 1 and answers with that payment.
//!
//! The consent is consumed (`ConsentEvent::Consume`) after step 1 and again by recovery; the
//! UNIQUE `consent_id` is what guarantees one payment per consent even before that lands.

use bascule_core_banking::{CoreBankingError, Creditor, PaymentInstruction};
use bascule_domain::{
    AccountId, Consent, ConsentEvent, ConsentStatus, CustomerId, Pence, ProprietaryCode,
};
use bascule_http::{Error, ObErrorCode};
use bascule_store::sqlx::{self, Row, any::AnyRow};
use time::OffsetDateTime;

use crate::consents::ConsentDetails;
use crate::idempotency::IdempotencyKey;
use crate::initiation::{DomesticInitiation, Risk};
use crate::limits::day_of;
use crate::{Pisp, core_error, db_error};

/// The idempotency scope of `POST /domestic-payments`.
pub const RESOURCE_TYPE: &str = "domestic-payments";

/// Where a payment stands (v3.1.11 names; v4 maps them to ISO codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    AcceptedSettlementCompleted,
    Rejected,
}

impl PaymentStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::AcceptedSettlementCompleted => "AcceptedSettlementCompleted",
            Self::Rejected => "Rejected",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::AcceptedSettlementCompleted,
            Self::Rejected,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// Why a payment was rejected.
pub mod reasons {
    pub const INSUFFICIENT_FUNDS: &str = "InsufficientFunds";
    pub const DAILY_LIMIT: &str = "DailyLimitExceeded";
    pub const ACCOUNT_NOT_ENABLED: &str = "DebtorAccountNotEnabled";
    pub const REFUSED_BY_CORE: &str = "RefusedByCore";
}

#[derive(Debug, Clone)]
pub struct DomesticPayment {
    pub id: String,
    pub client_id: String,
    pub consent_id: String,
    pub customer_id: CustomerId,
    pub debtor_account_id: AccountId,
    pub amount: Pence,
    pub initiation: DomesticInitiation,
    pub status: PaymentStatus,
    pub status_reason: Option<String>,
    pub limit_day: i64,
    pub limit_reserved: bool,
    pub ledger_transaction_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub status_updated_at: OffsetDateTime,
}

fn ts(s: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(s).map_err(Error::internal)
}

fn payment(row: &AnyRow) -> Result<DomesticPayment, Error> {
    let get = |e: sqlx::Error| Error::internal(e);
    let status: String = row.try_get("status").map_err(get)?;
    let initiation: String = row.try_get("initiation").map_err(get)?;
    Ok(DomesticPayment {
        id: row.try_get("id").map_err(get)?,
        client_id: row.try_get("client_id").map_err(get)?,
        consent_id: row.try_get("consent_id").map_err(get)?,
        customer_id: CustomerId::parse(row.try_get::<String, _>("customer_id").map_err(get)?)
            .map_err(Error::internal)?,
        debtor_account_id: AccountId::parse(
            row.try_get::<String, _>("debtor_account_id").map_err(get)?,
        )
        .map_err(Error::internal)?,
        amount: Pence(row.try_get("amount_pence").map_err(get)?),
        initiation: serde_json::from_str(&initiation).map_err(Error::internal)?,
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored payment status {status}")))?,
        status_reason: row.try_get("status_reason").map_err(get)?,
        limit_day: row.try_get("limit_day").map_err(get)?,
        limit_reserved: row.try_get::<i64, _>("limit_reserved").map_err(get)? != 0,
        ledger_transaction_id: row.try_get("ledger_transaction_id").map_err(get)?,
        created_at: ts(row.try_get("created_at").map_err(get)?)?,
        status_updated_at: ts(row.try_get("status_updated_at").map_err(get)?)?,
    })
}

fn mismatch(message: &str) -> Error {
    Error::bad_request(ObErrorCode::ResourceConsentMismatch, message)
}

impl Pisp {
    /// Creates (or, for a repeated idempotency key, finds) the payment of `consent` for
    /// `initiation`/`risk`, settles it, and returns it in its current state.
    pub async fn create_domestic_payment(
        &self,
        key: &IdempotencyKey,
        consent: &Consent,
        initiation: &DomesticInitiation,
        risk: &Risk,
    ) -> Result<DomesticPayment, Error> {
        // A replay first: its consent is consumed by now, which must not turn it into a 400.
        if let Some(found) = self.replay(key).await? {
            return Ok(found);
        }
        let details = ConsentDetails::from_json(&consent.details)?;
        if !details.initiation.same_meaning(initiation) {
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
            return Err(Error::bad_request(
                ObErrorCode::ResourceInvalidConsentStatus,
                format!("The consent is {status}, not Authorised"),
            ));
        }
        let executable = initiation.validate()?;
        let debtor_id = Pisp::debtor_of(consent)?.clone();
        let debtor = self
            .core_banking()
            .accounts(std::slice::from_ref(&debtor_id))
            .await
            .map_err(core_error)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("the consent's debtor account does not exist"))?;
        if let Some(wanted) = executable.debtor
            && debtor.identification != Some(wanted)
        {
            return Err(mismatch(
                "The consent's debtor account is not Data.Initiation.DebtorAccount",
            ));
        }
        let customer = consent
            .customer_id
            .clone()
            .ok_or_else(|| Error::internal("an authorised consent without a customer"))?;
        let limit = self.config().limits.daily(debtor.account_type);

        let id = uuid::Uuid::new_v4().to_string();
        let day = day_of(now);
        let at = now.unix_timestamp();
        let mut tx = self.store().begin().await.map_err(db_error)?;
        if !key.insert(tx.conn(), Some(&id), at).await? {
            drop(tx);
            return self
                .replay(key)
                .await?
                .ok_or_else(|| Error::internal("idempotency row without its payment"));
        }
        sqlx::query(
            "INSERT INTO pisp_daily_totals (customer_id, day, total_pence) VALUES ($1, $2, 0) \
             ON CONFLICT DO NOTHING",
        )
        .bind(customer.as_str())
        .bind(day)
        .execute(&mut *tx.conn())
        .await
        .map_err(db_error)?;
        let reserved = sqlx::query(
            "UPDATE pisp_daily_totals SET total_pence = total_pence + $1 \
             WHERE customer_id = $2 AND day = $3 AND total_pence + $1 <= $4",
        )
        .bind(executable.amount.0)
        .bind(customer.as_str())
        .bind(day)
        .bind(limit.0)
        .execute(&mut *tx.conn())
        .await
        .map_err(db_error)?
        .rows_affected()
            == 1;
        let (status, reason) = if reserved {
            (PaymentStatus::Pending, None)
        } else {
            (PaymentStatus::Rejected, Some(reasons::DAILY_LIMIT))
        };
        let inserted = sqlx::query(
            "INSERT INTO pisp_domestic_payments (id, client_id, consent_id, customer_id, \
             debtor_account_id, amount_pence, initiation, status, status_reason, limit_day, \
             limit_reserved, created_at, status_updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(&id)
        .bind(&key.client_id)
        .bind(consent.id.as_str())
        .bind(customer.as_str())
        .bind(debtor_id.as_str())
        .bind(executable.amount.0)
        .bind(serde_json::to_string(&details.initiation).map_err(Error::internal)?)
        .bind(status.as_str())
        .bind(reason)
        .bind(day)
        .bind(i64::from(reserved))
        .bind(at)
        .execute(&mut *tx.conn())
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::bad_request(
                    ObErrorCode::ResourceInvalidConsentStatus,
                    "The consent has already been used for a payment",
                ));
            }
            Err(e) => return Err(db_error(e)),
        }
        tx.commit().await.map_err(db_error)?;
        self.consume_consent(consent.id.as_str()).await;
        let created = self
            .payment_by_id(&id)
            .await?
            .ok_or_else(|| Error::internal("payment vanished"))?;
        self.settle(created).await
    }

    /// The payment an earlier request with `key` created, settled if it was left Pending;
    /// 400 when the key was used with another body.
    async fn replay(&self, key: &IdempotencyKey) -> Result<Option<DomesticPayment>, Error> {
        let Some(record) = key.read(self.store()).await? else {
            return Ok(None);
        };
        key.check_same_body(&record)?;
        let id = record
            .resource_id
            .ok_or_else(|| Error::internal("payment idempotency row without a payment"))?;
        let found = self
            .payment_by_id(&id)
            .await?
            .ok_or_else(|| Error::internal("idempotency row without its payment"))?;
        self.settle(found).await.map(Some)
    }

    /// Marks a payment consent consumed; shared by every payment kind.
    pub(crate) async fn consume_consent(&self, consent_id: &str) {
        let Ok(id) = bascule_domain::ConsentId::parse(consent_id.to_owned()) else {
            return;
        };
        // Refused when already consumed (a replay, recovery): nothing to do then.
        if let Err(e) = self
            .authz()
            .consents()
            .transition(&id, ConsentEvent::Consume)
            .await
        {
            tracing::debug!(error = %e, consent_id, "consent not consumed (already?)");
        }
    }

    pub async fn payment_by_id(&self, id: &str) -> Result<Option<DomesticPayment>, Error> {
        sqlx::query("SELECT * FROM pisp_domestic_payments WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store().pool())
            .await
            .map_err(db_error)?
            .as_ref()
            .map(payment)
            .transpose()
    }

    /// The client's payment `id`, settled first if it was left Pending: 400 `Resource.NotFound`
    /// when unknown, 403 when another client's (RW §403).
    pub async fn payment_of_client(
        &self,
        client_id: &str,
        id: &str,
    ) -> Result<DomesticPayment, Error> {
        let found = self.payment_by_id(id).await?.ok_or_else(|| {
            Error::bad_request(
                ObErrorCode::ResourceNotFound,
                "No domestic payment with this DomesticPaymentId",
            )
        })?;
        if found.client_id != client_id {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The payment belongs to another client",
            ));
        }
        self.settle(found).await
    }

    /// Drives a Pending payment to its final status (idempotent: see the module doc).
    pub async fn settle(&self, p: DomesticPayment) -> Result<DomesticPayment, Error> {
        if p.status != PaymentStatus::Pending {
            return Ok(p);
        }
        self.consume_consent(&p.consent_id).await;
        let exec = p.initiation.validate()?;
        let instruction = PaymentInstruction {
            idempotency_key: format!("{}:{}", p.client_id, p.id),
            debtor: p.debtor_account_id.clone(),
            creditor: Creditor {
                name: exec.creditor_name.clone(),
                identification: exec.creditor,
            },
            amount: p.amount,
            reference: exec.reference.clone(),
            code: ProprietaryCode::FasterPayment,
        };
        let (status, reason, ledger_id) = match self.core_banking().post_payment(&instruction).await
        {
            Ok(outcome) => (
                PaymentStatus::AcceptedSettlementCompleted,
                None,
                Some(outcome.ledger_transaction_id.to_string()),
            ),
            Err(CoreBankingError::InsufficientFunds) => (
                PaymentStatus::Rejected,
                Some(reasons::INSUFFICIENT_FUNDS),
                None,
            ),
            Err(CoreBankingError::AccountNotEnabled(_)) => (
                PaymentStatus::Rejected,
                Some(reasons::ACCOUNT_NOT_ENABLED),
                None,
            ),
            Err(e @ (CoreBankingError::Invalid(_) | CoreBankingError::Rule(_))) => {
                tracing::warn!(error = %e, payment = %p.id, "core refused a payment");
                (
                    PaymentStatus::Rejected,
                    Some(reasons::REFUSED_BY_CORE),
                    None,
                )
            }
            Err(e) => {
                // Unavailable, or a key clash that needs a human: stays Pending, recovery
                // retries.
                tracing::warn!(error = %e, payment = %p.id, "payment left pending");
                return Ok(p);
            }
        };
        let now = self.now().unix_timestamp();
        let mut tx = self.store().begin().await.map_err(db_error)?;
        let changed = sqlx::query(
            "UPDATE pisp_domestic_payments SET status = $1, status_reason = $2, \
             ledger_transaction_id = $3, status_updated_at = $4, \
             limit_reserved = CASE WHEN $1 = 'Rejected' THEN 0 ELSE limit_reserved END \
             WHERE id = $5 AND status = 'Pending'",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(ledger_id)
        .bind(now)
        .bind(&p.id)
        .execute(&mut *tx.conn())
        .await
        .map_err(db_error)?
        .rows_affected();
        if changed == 1 && status == PaymentStatus::Rejected && p.limit_reserved {
            sqlx::query(
                "UPDATE pisp_daily_totals SET total_pence = total_pence - $1 \
                 WHERE customer_id = $2 AND day = $3",
            )
            .bind(p.amount.0)
            .bind(p.customer_id.as_str())
            .bind(p.limit_day)
            .execute(&mut *tx.conn())
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        self.payment_by_id(&p.id)
            .await?
            .ok_or_else(|| Error::internal("payment vanished"))
    }

    /// Settles every payment left Pending (by a crash, or an unavailable core). Returns how
    /// many were looked at.
    pub async fn recover(&self) -> Result<usize, Error> {
        let rows = sqlx::query("SELECT * FROM pisp_domestic_payments WHERE status = 'Pending'")
            .fetch_all(self.store().pool())
            .await
            .map_err(db_error)?;
        let pending: Vec<DomesticPayment> = rows.iter().map(payment).collect::<Result<_, _>>()?;
        let n = pending.len();
        for p in pending {
            let id = p.id.clone();
            if let Err(e) = self.settle(p).await {
                tracing::warn!(error = ?e, payment = %id, "recovery could not settle a payment");
            }
        }
        Ok(n)
    }
}
