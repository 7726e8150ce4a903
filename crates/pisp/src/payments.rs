//! Domestic payments, version-neutral, settled exactly once: their [`Step`] in the shared
//! [`crate::pipeline`] (the row and the daily-limit reservation, settlement on the core).
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
//! The consent moves Authorised → Consumed inside the transaction of step 1 (see
//! [`crate::pipeline`]), so a payment that fails before it commits leaves the consent
//! re-usable; the UNIQUE `consent_id` still guarantees one payment per consent.

use bascule_authz::outbox::{self, EventType, Subject};
use bascule_core_banking::CoreBankingError;
use bascule_domain::Pence;
use bascule_http::Error;
use bascule_store::WriteTx;
use bascule_store::sqlx::{self, Row, any::AnyRow};

use crate::limits::day_of;
use crate::order::DomesticTerms;
use crate::pipeline::{InsertError, NewPayment, Record, Step, Stored};
use crate::{Pisp, db_error};

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
    pub record: Record<DomesticTerms>,
    pub amount: Pence,
    pub status: PaymentStatus,
    pub status_reason: Option<String>,
    pub limit_day: i64,
    pub limit_reserved: bool,
    pub ledger_transaction_id: Option<String>,
}

impl Stored for DomesticPayment {
    fn id(&self) -> &str {
        &self.record.id
    }
    fn client_id(&self) -> &str {
        &self.record.client_id
    }
}

fn payment(row: &AnyRow) -> Result<DomesticPayment, Error> {
    let get = |e: sqlx::Error| Error::internal(e);
    let status: String = row.try_get("status").map_err(get)?;
    Ok(DomesticPayment {
        record: Record::of_row(row)?,
        amount: Pence(row.try_get("amount_pence").map_err(get)?),
        status: PaymentStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored payment status {status}")))?,
        status_reason: row.try_get("status_reason").map_err(get)?,
        limit_day: row.try_get("limit_day").map_err(get)?,
        limit_reserved: row.try_get::<i64, _>("limit_reserved").map_err(get)? != 0,
        ledger_transaction_id: row.try_get("ledger_transaction_id").map_err(get)?,
    })
}

impl Step for DomesticTerms {
    type Payment = DomesticPayment;

    /// The row, Pending when the customer's daily limit takes the amount (reserved by a
    /// conditional UPDATE, so concurrent payments never exceed it together), else Rejected.
    async fn insert(
        pisp: &Pisp,
        tx: &mut WriteTx,
        new: &NewPayment<'_, Self>,
    ) -> Result<(), InsertError> {
        let amount = new.terms.transfer.amount.pence()?;
        let limit = pisp.config().limits.daily(new.debtor_account_type);
        let day = day_of(new.now);
        let at = new.now.unix_timestamp();
        sqlx::query(
            "INSERT INTO pisp_daily_totals (customer_id, day, total_pence) VALUES ($1, $2, 0) \
             ON CONFLICT DO NOTHING",
        )
        .bind(new.customer.as_str())
        .bind(day)
        .execute(&mut *tx.conn())
        .await?;
        let reserved = sqlx::query(
            "UPDATE pisp_daily_totals SET total_pence = total_pence + $1 \
             WHERE customer_id = $2 AND day = $3 AND total_pence + $1 <= $4",
        )
        .bind(amount.0)
        .bind(new.customer.as_str())
        .bind(day)
        .bind(limit.0)
        .execute(&mut *tx.conn())
        .await?
        .rows_affected()
            == 1;
        let (status, reason) = if reserved {
            (PaymentStatus::Pending, None)
        } else {
            (PaymentStatus::Rejected, Some(reasons::DAILY_LIMIT))
        };
        sqlx::query(
            "INSERT INTO pisp_domestic_payments (id, client_id, consent_id, customer_id, \
             debtor_account_id, amount_pence, terms, status, status_reason, limit_day, \
             limit_reserved, created_at, status_updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
        )
        .bind(new.id)
        .bind(new.client_id)
        .bind(new.consent.id.as_str())
        .bind(new.customer.as_str())
        .bind(new.debtor_id.as_str())
        .bind(amount.0)
        .bind(serde_json::to_string(new.terms).map_err(Error::internal)?)
        .bind(status.as_str())
        .bind(reason)
        .bind(day)
        .bind(i64::from(reserved))
        .bind(at)
        .execute(&mut *tx.conn())
        .await?;
        Ok(())
    }

    async fn load(pisp: &Pisp, id: &str) -> Result<Option<DomesticPayment>, Error> {
        pisp.stored_terms_ready().await?;
        sqlx::query("SELECT * FROM pisp_domestic_payments WHERE id = $1")
            .bind(id)
            .fetch_optional(pisp.store().pool())
            .await
            .map_err(db_error)?
            .as_ref()
            .map(payment)
            .transpose()
    }

    /// Settles on the core with the idempotency key `{client_id}:{id}` (see the module doc).
    async fn settle(pisp: &Pisp, p: DomesticPayment) -> Result<DomesticPayment, Error> {
        if p.status != PaymentStatus::Pending {
            return Ok(p);
        }
        let instruction = p.record.terms.instruction(
            format!("{}:{}", p.record.client_id, p.record.id),
            p.record.debtor_account_id.clone(),
        )?;
        let (status, reason, ledger_id) = match pisp.core_banking().post_payment(&instruction).await
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
                tracing::warn!(error = %e, payment = %p.record.id, "core refused a payment");
                (
                    PaymentStatus::Rejected,
                    Some(reasons::REFUSED_BY_CORE),
                    None,
                )
            }
            Err(e) => {
                // Unavailable, or a key clash that needs a human: stays Pending, recovery
                // retries.
                tracing::warn!(error = %e, payment = %p.record.id, "payment left pending");
                return Ok(p);
            }
        };
        let now = pisp.now().unix_timestamp();
        let mut tx = pisp.store().begin().await.map_err(db_error)?;
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
        .bind(&p.record.id)
        .execute(&mut *tx.conn())
        .await
        .map_err(db_error)?
        .rows_affected();
        if changed == 1 {
            // The status change and its event commit together (EVNP §Resource Update).
            outbox::record_in(
                &mut tx,
                pisp.now(),
                &p.record.client_id,
                EventType::ResourceUpdate,
                &Subject::payment(RESOURCE_TYPE, &p.record.id),
            )
            .await
            .map_err(db_error)?;
        }
        if changed == 1 && status == PaymentStatus::Rejected && p.limit_reserved {
            sqlx::query(
                "UPDATE pisp_daily_totals SET total_pence = total_pence - $1 \
                 WHERE customer_id = $2 AND day = $3",
            )
            .bind(p.amount.0)
            .bind(p.record.customer_id.as_str())
            .bind(p.limit_day)
            .execute(&mut *tx.conn())
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Self::load(pisp, &p.record.id)
            .await?
            .ok_or_else(|| Error::internal("payment vanished"))
    }

    async fn pending(pisp: &Pisp) -> Result<Vec<DomesticPayment>, Error> {
        pisp.stored_terms_ready().await?;
        let rows = sqlx::query("SELECT * FROM pisp_domestic_payments WHERE status = 'Pending'")
            .fetch_all(pisp.store().pool())
            .await
            .map_err(db_error)?;
        Ok(crate::pipeline::readable_rows(&rows, payment))
    }
}

impl Pisp {
    /// The domestic payment `id` as stored, whoever's it is.
    pub async fn payment_by_id(&self, id: &str) -> Result<Option<DomesticPayment>, Error> {
        DomesticTerms::load(self, id).await
    }

    /// Settles every domestic payment left Pending (by a crash, or an unavailable core).
    /// Returns how many were looked at.
    pub async fn recover(&self) -> Result<usize, Error> {
        self.recover_kind::<DomesticTerms>().await
    }

    /// Settles every payment and payment order left pending.
    pub async fn recover_all(&self) -> Result<usize, Error> {
        Ok(self.recover().await? + self.recover_orders().await?)
    }
}
