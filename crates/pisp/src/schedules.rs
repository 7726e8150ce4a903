//! Domestic scheduled payments and domestic standing orders ("payment orders"),
//! version-neutral: their consents, and the orders that hand them to the core's own schedules.
//!
//! The money does not move here. A scheduled payment or a standing order is accepted when the
//! core has it on its schedule (`CoreBanking::schedule_payment` / `create_standing_order`);
//! the core pays it on its day (the built-in ledger's daily jobs, once per day per order),
//! and the payments show through the AIS scheduled-payments / standing-orders endpoints and
//! the account's transactions.
//!
//! Exactly once, as for domestic payments (see [`crate::payments`]):
//! 1. one transaction writes the idempotency row and the order row (`InitiationPending`; its
//!    `consent_id` is UNIQUE: a consent makes one order);
//! 2. the core is called with the order's id as `request_id`: the core creates one schedule
//!    per request id, so calling again (a retry, recovery, a concurrent GET) never doubles it;
//! 3. the row moves to `InitiationCompleted` (with the core's id) or `InitiationFailed` by
//!    compare-and-set;
//! 4. rows left `InitiationPending` are re-driven by [`Pisp::recover_orders`] and before a GET
//!    answers.

use bascule_authz::AccessToken;
use bascule_core_banking::CoreBankingError;
use bascule_domain::{
    AccountId, Consent, ConsentKind, ConsentStatus, CustomerId, SortCodeAccountNumber,
};
use bascule_http::{Error, ObErrorCode};
use bascule_store::sqlx::{self, Row, any::AnyRow};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::idempotency::IdempotencyKey;
use crate::initiation::Risk;
use crate::schedule_initiation::{ScheduledInitiation, StandingOrderInitiation};
use crate::{Pisp, core_error, db_error};

/// The two kinds of payment order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderKind {
    ScheduledPayment,
    StandingOrder,
}

impl OrderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ScheduledPayment => "ScheduledPayment",
            Self::StandingOrder => "StandingOrder",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::ScheduledPayment, Self::StandingOrder]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    pub fn consent_kind(&self) -> ConsentKind {
        match self {
            Self::ScheduledPayment => ConsentKind::DomesticScheduledPayment,
            Self::StandingOrder => ConsentKind::DomesticStandingOrder,
        }
    }

    /// The idempotency scope of the order POST.
    pub fn resource_type(&self) -> &'static str {
        match self {
            Self::ScheduledPayment => "domestic-scheduled-payments",
            Self::StandingOrder => "domestic-standing-orders",
        }
    }

    /// The idempotency scope of the consent POST.
    pub fn consent_resource_type(&self) -> &'static str {
        match self {
            Self::ScheduledPayment => "domestic-scheduled-payment-consents",
            Self::StandingOrder => "domestic-standing-order-consents",
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::ScheduledPayment => "domestic scheduled payment",
            Self::StandingOrder => "domestic standing order",
        }
    }
}

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

/// An Initiation of a payment order: what the generic service needs of it.
pub trait OrderInitiation: Serialize + DeserializeOwned + Clone + Send + Sync {
    const KIND: OrderKind;
    /// The schema's and the bank's rules (`today`: dates must not be past); the debtor the
    /// TPP named, if any.
    fn check(&self, today: Option<Date>) -> Result<Option<SortCodeAccountNumber>, Error>;
    fn same_meaning_as(&self, other: &Self) -> bool;
}

impl OrderInitiation for ScheduledInitiation {
    const KIND: OrderKind = OrderKind::ScheduledPayment;

    fn check(&self, today: Option<Date>) -> Result<Option<SortCodeAccountNumber>, Error> {
        Ok(self.validate(today)?.debtor)
    }

    fn same_meaning_as(&self, other: &Self) -> bool {
        self.same_meaning(other)
    }
}

impl OrderInitiation for StandingOrderInitiation {
    const KIND: OrderKind = OrderKind::StandingOrder;

    fn check(&self, today: Option<Date>) -> Result<Option<SortCodeAccountNumber>, Error> {
        Ok(self.validate(today)?.debtor)
    }

    fn same_meaning_as(&self, other: &Self) -> bool {
        self.same_meaning(other)
    }
}

/// What a scheduled-payment or standing-order consent holds besides its lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OrderConsentDetails<I> {
    pub permission: String,
    pub initiation: I,
    pub risk: Risk,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_refund_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sca_support_data: Option<Value>,
}

impl<I: OrderInitiation> OrderConsentDetails<I> {
    pub fn from_json(raw: &str) -> Result<Self, Error> {
        serde_json::from_str(raw)
            .map_err(|e| Error::internal(format!("stored payment order consent details: {e}")))
    }
}

/// A scheduled payment or standing order as Bascule keeps it.
#[derive(Debug, Clone)]
pub struct DomesticOrder {
    pub id: String,
    pub kind: OrderKind,
    pub client_id: String,
    pub consent_id: String,
    pub customer_id: CustomerId,
    pub debtor_account_id: AccountId,
    /// The Initiation as the consent holds it (JSON).
    pub initiation: String,
    pub status: OrderStatus,
    pub status_reason: Option<String>,
    /// The core's id of the schedule (scheduled payment or standing order id).
    pub core_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub status_updated_at: OffsetDateTime,
}

impl DomesticOrder {
    pub fn initiation<I: OrderInitiation>(&self) -> Result<I, Error> {
        serde_json::from_str(&self.initiation).map_err(Error::internal)
    }
}

fn ts(s: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(s).map_err(Error::internal)
}

fn order(row: &AnyRow) -> Result<DomesticOrder, Error> {
    let get = |e: sqlx::Error| Error::internal(e);
    let status: String = row.try_get("status").map_err(get)?;
    let kind: String = row.try_get("kind").map_err(get)?;
    Ok(DomesticOrder {
        id: row.try_get("id").map_err(get)?,
        kind: OrderKind::parse(&kind)
            .ok_or_else(|| Error::internal(format!("stored order kind {kind}")))?,
        client_id: row.try_get("client_id").map_err(get)?,
        consent_id: row.try_get("consent_id").map_err(get)?,
        customer_id: CustomerId::parse(row.try_get::<String, _>("customer_id").map_err(get)?)
            .map_err(Error::internal)?,
        debtor_account_id: AccountId::parse(
            row.try_get::<String, _>("debtor_account_id").map_err(get)?,
        )
        .map_err(Error::internal)?,
        initiation: row.try_get("initiation").map_err(get)?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored order status {status}")))?,
        status_reason: row.try_get("status_reason").map_err(get)?,
        core_id: row.try_get("core_id").map_err(get)?,
        created_at: ts(row.try_get("created_at").map_err(get)?)?,
        status_updated_at: ts(row.try_get("status_updated_at").map_err(get)?)?,
    })
}

fn mismatch(message: &str) -> Error {
    Error::bad_request(ObErrorCode::ResourceConsentMismatch, message)
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

    /// Creates a payment-order consent with `details` unless `key` already did: the response
    /// body `render` made the first time (see [`Pisp::create_consent_idempotent`]).
    pub async fn create_order_consent<I: OrderInitiation>(
        &self,
        key: &IdempotencyKey,
        details: &OrderConsentDetails<I>,
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
                I::KIND.consent_kind(),
                &key.client_id,
                Some(now + self.config().consent_lifetime),
                serde_json::to_string(details).map_err(Error::internal)?,
            )
            .await
            .map_err(Error::internal)?;
        let body = render(&consent)?;
        key.complete(self.store(), consent.id.as_str(), 201, &body)
            .await?;
        Ok(body)
    }

    /// The client's `I` consent `raw_id` with its details: 400 `Resource.NotFound` when
    /// unknown (or another kind), 403 when another client's.
    pub async fn order_consent_of_client<I: OrderInitiation>(
        &self,
        client_id: &str,
        raw_id: &str,
    ) -> Result<(Consent, OrderConsentDetails<I>), Error> {
        let consent = self
            .authz()
            .consents()
            .get(raw_id)
            .await
            .map_err(Error::internal)?
            .filter(|c| c.kind == I::KIND.consent_kind())
            .ok_or_else(|| {
                Error::bad_request(
                    ObErrorCode::ResourceNotFound,
                    format!("No {} consent with this ConsentId", I::KIND.name()),
                )
            })?;
        if consent.client_id != client_id {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The consent belongs to another client",
            ));
        }
        let details = OrderConsentDetails::from_json(&consent.details)?;
        Ok((consent, details))
    }

    /// Creates (or, for a repeated idempotency key, finds) the order of `consent` for
    /// `initiation`/`risk`, hands it to the core, and returns it in its current state.
    pub async fn create_order<I: OrderInitiation>(
        &self,
        key: &IdempotencyKey,
        consent: &Consent,
        initiation: &I,
        risk: &Risk,
    ) -> Result<DomesticOrder, Error> {
        if let Some(found) = self.order_replay(key).await? {
            return Ok(found);
        }
        let details = OrderConsentDetails::<I>::from_json(&consent.details)?;
        if !details.initiation.same_meaning_as(initiation) {
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
        let wanted_debtor = initiation.check(Some(self.today()))?;
        let debtor_id = Pisp::debtor_of(consent)?.clone();
        let debtor = self
            .core_banking()
            .accounts(std::slice::from_ref(&debtor_id))
            .await
            .map_err(core_error)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("the consent's debtor account does not exist"))?;
        if let Some(wanted) = wanted_debtor
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

        let id = uuid::Uuid::new_v4().to_string();
        let at = now.unix_timestamp();
        let mut tx = self.store().begin().await.map_err(db_error)?;
        if !key.insert(tx.conn(), Some(&id), at).await? {
            drop(tx);
            return self
                .order_replay(key)
                .await?
                .ok_or_else(|| Error::internal("idempotency row without its order"));
        }
        let inserted = sqlx::query(
            "INSERT INTO pisp_domestic_schedules (id, kind, client_id, consent_id, customer_id, \
             debtor_account_id, initiation, status, created_at, status_updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(&id)
        .bind(I::KIND.as_str())
        .bind(&key.client_id)
        .bind(consent.id.as_str())
        .bind(customer.as_str())
        .bind(debtor_id.as_str())
        .bind(serde_json::to_string(&details.initiation).map_err(Error::internal)?)
        .bind(OrderStatus::InitiationPending.as_str())
        .bind(at)
        .execute(&mut *tx.conn())
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(Error::bad_request(
                    ObErrorCode::ResourceInvalidConsentStatus,
                    "The consent has already been used",
                ));
            }
            Err(e) => return Err(db_error(e)),
        }
        tx.commit().await.map_err(db_error)?;
        self.consume_consent(consent.id.as_str()).await;
        let created = self
            .order_by_id(&id)
            .await?
            .ok_or_else(|| Error::internal("order vanished"))?;
        self.drive_order(created).await
    }

    async fn order_replay(&self, key: &IdempotencyKey) -> Result<Option<DomesticOrder>, Error> {
        let Some(record) = key.read(self.store()).await? else {
            return Ok(None);
        };
        key.check_same_body(&record)?;
        let id = record
            .resource_id
            .ok_or_else(|| Error::internal("order idempotency row without an order"))?;
        let found = self
            .order_by_id(&id)
            .await?
            .ok_or_else(|| Error::internal("idempotency row without its order"))?;
        self.drive_order(found).await.map(Some)
    }

    pub async fn order_by_id(&self, id: &str) -> Result<Option<DomesticOrder>, Error> {
        sqlx::query("SELECT * FROM pisp_domestic_schedules WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store().pool())
            .await
            .map_err(db_error)?
            .as_ref()
            .map(order)
            .transpose()
    }

    /// The client's `kind` order `id`, driven first if it was left pending: 400
    /// `Resource.NotFound` when unknown (or another kind), 403 when another client's.
    pub async fn order_of_client(
        &self,
        kind: OrderKind,
        token: &AccessToken,
        id: &str,
    ) -> Result<DomesticOrder, Error> {
        let client_id = crate::consents::client_credentials(token)?;
        let found = self
            .order_by_id(id)
            .await?
            .filter(|o| o.kind == kind)
            .ok_or_else(|| {
                Error::bad_request(
                    ObErrorCode::ResourceNotFound,
                    format!("No {} with this id", kind.name()),
                )
            })?;
        if found.client_id != client_id {
            return Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "The payment order belongs to another client",
            ));
        }
        self.drive_order(found).await
    }

    /// Hands a pending order to the core (idempotent: the order id is the request id) and
    /// records the outcome.
    pub async fn drive_order(&self, o: DomesticOrder) -> Result<DomesticOrder, Error> {
        if o.status != OrderStatus::InitiationPending {
            return Ok(o);
        }
        self.consume_consent(&o.consent_id).await;
        let request_id = uuid::Uuid::parse_str(&o.id).map_err(Error::internal)?;
        let debtor = o.debtor_account_id.clone();
        let result = match o.kind {
            OrderKind::ScheduledPayment => {
                let i: ScheduledInitiation = o.initiation()?;
                let instruction = i.validate(None)?.instruction(request_id, debtor);
                self.core_banking()
                    .schedule_payment(&instruction)
                    .await
                    .map(|id| id.to_string())
            }
            OrderKind::StandingOrder => {
                let i: StandingOrderInitiation = o.initiation()?;
                let instruction = i.validate(None)?.instruction(request_id, debtor);
                self.core_banking()
                    .create_standing_order(&instruction)
                    .await
                    .map(|id| id.to_string())
            }
        };
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
                tracing::warn!(error = %e, order = %o.id, "core refused a payment order");
                (
                    OrderStatus::InitiationFailed,
                    Some(reasons::REFUSED_BY_CORE),
                    None,
                )
            }
            Err(e) => {
                // The core is unreachable: the order stays pending, recovery retries.
                tracing::warn!(error = %e, order = %o.id, "payment order left pending");
                return Ok(o);
            }
        };
        self.store()
            .write(
                sqlx::query(
                    "UPDATE pisp_domestic_schedules SET status = $1, status_reason = $2, \
                     core_id = $3, status_updated_at = $4 \
                     WHERE id = $5 AND status = 'InitiationPending'",
                )
                .bind(status.as_str())
                .bind(reason)
                .bind(core_id)
                .bind(self.now().unix_timestamp())
                .bind(&o.id),
            )
            .await
            .map_err(db_error)?;
        self.order_by_id(&o.id)
            .await?
            .ok_or_else(|| Error::internal("order vanished"))
    }

    /// Drives every order left pending (by a crash, or an unavailable core). Returns how many
    /// were looked at.
    pub async fn recover_orders(&self) -> Result<usize, Error> {
        let rows =
            sqlx::query("SELECT * FROM pisp_domestic_schedules WHERE status = 'InitiationPending'")
                .fetch_all(self.store().pool())
                .await
                .map_err(db_error)?;
        let pending: Vec<DomesticOrder> = rows.iter().map(order).collect::<Result<_, _>>()?;
        let n = pending.len();
        for o in pending {
            let id = o.id.clone();
            if let Err(e) = self.drive_order(o).await {
                tracing::warn!(error = ?e, order = %id, "recovery could not drive an order");
            }
        }
        Ok(n)
    }
}
