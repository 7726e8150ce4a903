//! Domestic scheduled payments and domestic standing orders ("payment orders"),
//! version-neutral: their [`Step`]s in the shared [`crate::pipeline`], which hand them to the
//! core's own schedules.
//!
//! The money does not move here. A scheduled payment or a standing order is accepted when the
//! core has it on its schedule (`CoreBanking::schedule_payment` / `create_standing_order`);
//! the core pays it on its day (the built-in ledger's daily jobs, once per day per order),
//! and the payments show through the AIS scheduled-payments / standing-orders endpoints and
//! the account's transactions.
//!
//! Exactly once, as for domestic payments (see [`crate::payments`]):
//! 1. one transaction writes the idempotency row, the order row (`InitiationPending`; its
//!    `consent_id` is UNIQUE: a consent makes one order) and consumes the consent;
//! 2. the core is called with the order's id as `request_id`: the core creates one schedule
//!    per request id, so calling again (a retry, recovery, a concurrent GET) never doubles it;
//! 3. the row moves to `InitiationCompleted` (with the core's id) or `InitiationFailed` by
//!    compare-and-set;
//! 4. rows left `InitiationPending` are re-driven by [`Pisp::recover_orders`] and before a GET
//!    answers.

use bascule_authz::outbox::{self, EventType, Subject};
use bascule_core_banking::{
    CoreBankingError, ScheduledPaymentInstruction, StandingOrderInstruction,
};
use bascule_domain::AccountId;
use bascule_http::Error;
use bascule_store::WriteTx;
use bascule_store::sqlx::{self, Row, any::AnyRow};
use time::Date;
use uuid::Uuid;

use crate::order::{PaymentKind, ScheduledTerms, StandingOrderTerms, Terms};
use crate::pipeline::{InsertError, NewPayment, Record, Step, Stored};
use crate::{Pisp, db_error};

/// Where an order stands (v3.1.11 `OBExternalStatus1Code` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    InitiationPending,
    InitiationCompleted,
    InitiationFailed,
}

impl OrderStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InitiationPending => "InitiationPending",
            Self::InitiationCompleted => "InitiationCompleted",
            Self::InitiationFailed => "InitiationFailed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::InitiationPending,
            Self::InitiationCompleted,
            Self::InitiationFailed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// The `kind` column of `pisp_domestic_schedules`.
pub(crate) fn kind_column(kind: PaymentKind) -> &'static str {
    match kind {
        PaymentKind::StandingOrder => "StandingOrder",
        PaymentKind::Scheduled | PaymentKind::Domestic => "ScheduledPayment",
    }
}

/// A scheduled payment or standing order as Bascule keeps it; `T` is its kind's terms.
#[derive(Debug, Clone)]
pub struct DomesticOrder<T> {
    pub record: Record<T>,
    pub status: OrderStatus,
    pub status_reason: Option<String>,
    /// The core's id of the schedule (scheduled payment or standing order id).
    pub core_id: Option<String>,
}

impl<T: Terms> Stored for DomesticOrder<T> {
    fn id(&self) -> &str {
        &self.record.id
    }
    fn client_id(&self) -> &str {
        &self.record.client_id
    }
}

pub(crate) fn order<T: Terms>(row: &AnyRow) -> Result<DomesticOrder<T>, Error> {
    let get = |e: sqlx::Error| Error::internal(e);
    let status: String = row.try_get("status").map_err(get)?;
    Ok(DomesticOrder {
        record: Record::of_row(row)?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored order status {status}")))?,
        status_reason: row.try_get("status_reason").map_err(get)?,
        core_id: row.try_get("core_id").map_err(get)?,
    })
}

/// Why the core refused an order.
pub mod reasons {
    pub const ACCOUNT_NOT_ENABLED: &str = "DebtorAccountNotEnabled";
    pub const REFUSED_BY_CORE: &str = "RefusedByCore";
}

impl Pisp {
    /// The bank's current day (UTC).
    pub fn today(&self) -> Date {
        self.now().date()
    }

    /// Drives every order left pending (by a crash, or an unavailable core). Returns how many
    /// were looked at.
    pub async fn recover_orders(&self) -> Result<usize, Error> {
        Ok(self.recover_kind::<ScheduledTerms>().await?
            + self.recover_kind::<StandingOrderTerms>().await?)
    }
}

/// What differs between payment orders: what the core is asked to put on its schedules.
pub trait OrderTerms: Terms {
    fn order(&self, request_id: Uuid, debtor: AccountId) -> Result<OrderInstruction, Error>;
}

/// A payment order for the core, under its request id (one schedule per request id).
pub enum OrderInstruction {
    Scheduled(ScheduledPaymentInstruction),
    StandingOrder(StandingOrderInstruction),
}

impl OrderInstruction {
    /// The core's id of the schedule it made (or had made for this request id).
    async fn submit(&self, pisp: &Pisp) -> Result<String, CoreBankingError> {
        let core = pisp.core_banking();
        match self {
            Self::Scheduled(i) => core.schedule_payment(i).await.map(|id| id.to_string()),
            Self::StandingOrder(i) => core.create_standing_order(i).await.map(|id| id.to_string()),
        }
    }
}

impl OrderTerms for ScheduledTerms {
    fn order(&self, request_id: Uuid, debtor: AccountId) -> Result<OrderInstruction, Error> {
        self.instruction(request_id, debtor)
            .map(OrderInstruction::Scheduled)
    }
}

impl OrderTerms for StandingOrderTerms {
    fn order(&self, request_id: Uuid, debtor: AccountId) -> Result<OrderInstruction, Error> {
        self.instruction(request_id, debtor)
            .map(OrderInstruction::StandingOrder)
    }
}

impl<T: OrderTerms> Step for T {
    type Payment = DomesticOrder<T>;

    async fn insert(
        _: &Pisp,
        tx: &mut WriteTx,
        new: &NewPayment<'_, Self>,
    ) -> Result<(), InsertError> {
        sqlx::query(
            "INSERT INTO pisp_domestic_schedules (id, kind, client_id, consent_id, customer_id, \
             debtor_account_id, terms, status, created_at, status_updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(new.id)
        .bind(kind_column(T::KIND))
        .bind(new.client_id)
        .bind(new.consent.id.as_str())
        .bind(new.customer.as_str())
        .bind(new.debtor_id.as_str())
        .bind(serde_json::to_string(new.terms).map_err(Error::internal)?)
        .bind(OrderStatus::InitiationPending.as_str())
        .bind(new.now.unix_timestamp())
        .execute(&mut *tx.conn())
        .await?;
        Ok(())
    }

    async fn load(pisp: &Pisp, id: &str) -> Result<Option<DomesticOrder<T>>, Error> {
        pisp.stored_terms_ready().await?;
        sqlx::query("SELECT * FROM pisp_domestic_schedules WHERE id = $1 AND kind = $2")
            .bind(id)
            .bind(kind_column(T::KIND))
            .fetch_optional(pisp.store().pool())
            .await
            .map_err(db_error)?
            .as_ref()
            .map(order)
            .transpose()
    }

    /// Hands a pending order to the core (idempotent: the order id is the request id) and
    /// records the outcome by compare-and-set.
    async fn settle(pisp: &Pisp, o: DomesticOrder<T>) -> Result<DomesticOrder<T>, Error> {
        if o.status != OrderStatus::InitiationPending {
            return Ok(o);
        }
        let request_id = Uuid::parse_str(&o.record.id).map_err(Error::internal)?;
        let instruction = o
            .record
            .terms
            .order(request_id, o.record.debtor_account_id.clone())?;
        let result = instruction.submit(pisp).await;
        let (status, reason, core_id) = match result {
            Ok(id) => (OrderStatus::InitiationCompleted, None, Some(id)),
            Err(CoreBankingError::AccountNotEnabled(_)) => (
                OrderStatus::InitiationFailed,
                Some(reasons::ACCOUNT_NOT_ENABLED),
                None,
            ),
            Err(
                e @ (CoreBankingError::Invalid(_)
                | CoreBankingError::Rule(_)
                | CoreBankingError::NotFound(_)
                | CoreBankingError::IdempotencyConflict
                | CoreBankingError::InsufficientFunds),
            ) => {
                tracing::warn!(error = %e, order = %o.record.id, "core refused a payment order");
                (
                    OrderStatus::InitiationFailed,
                    Some(reasons::REFUSED_BY_CORE),
                    None,
                )
            }
            Err(e) => {
                // The core is unreachable: the order stays pending, recovery retries.
                tracing::warn!(error = %e, order = %o.record.id, "payment order left pending");
                return Ok(o);
            }
        };
        let now = pisp.now();
        let mut tx = pisp.store().begin().await.map_err(db_error)?;
        let changed = tx
            .execute(
                sqlx::query(
                    "UPDATE pisp_domestic_schedules SET status = $1, status_reason = $2, \
                     core_id = $3, status_updated_at = $4 \
                     WHERE id = $5 AND status = 'InitiationPending'",
                )
                .bind(status.as_str())
                .bind(reason)
                .bind(core_id)
                .bind(now.unix_timestamp())
                .bind(&o.record.id),
            )
            .await
            .map_err(db_error)?;
        if changed == 1 {
            // The status change and its event commit together (EVNP §Resource Update).
            outbox::record_in(
                &mut tx,
                now,
                &o.record.client_id,
                EventType::ResourceUpdate,
                &Subject::payment(T::KIND.resource_type(), &o.record.id),
            )
            .await
            .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
        Self::load(pisp, &o.record.id)
            .await?
            .ok_or_else(|| Error::internal("order vanished"))
    }

    async fn pending(pisp: &Pisp) -> Result<Vec<DomesticOrder<T>>, Error> {
        pisp.stored_terms_ready().await?;
        let rows = sqlx::query(
            "SELECT * FROM pisp_domestic_schedules WHERE status = 'InitiationPending' \
             AND kind = $1",
        )
        .bind(kind_column(T::KIND))
        .fetch_all(pisp.store().pool())
        .await
        .map_err(db_error)?;
        Ok(crate::pipeline::readable_rows(&rows, order))
    }
}
