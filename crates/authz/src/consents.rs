//! The consent store: consents created by the APIs, moved through their lifecycle here.

use std::sync::Arc;

use bascule_domain::{
    AccountId, Clock, Consent, ConsentEvent, ConsentId, ConsentKind, ConsentStatus, CustomerId,
    RandomIds,
};
use bascule_store::sqlx::{self, Row, any::AnyRow};
use bascule_store::{Store, WriteTx};
use time::OffsetDateTime;

use crate::AuthzError;

#[derive(Clone)]
pub struct ConsentStore {
    store: Store,
    clock: Arc<dyn Clock>,
}

fn ts(us: i64) -> Result<OffsetDateTime, AuthzError> {
    OffsetDateTime::from_unix_timestamp(us)
        .map_err(|_| AuthzError::Internal("stored time out of range".into()))
}

fn consent(row: &AnyRow) -> Result<Consent, AuthzError> {
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let accounts: String = row.try_get("accounts")?;
    let corrupt = |what: &str| AuthzError::Internal(format!("stored consent {what}"));
    Ok(Consent {
        id: ConsentId::parse(id).map_err(|_| corrupt("id"))?,
        kind: ConsentKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        client_id: row.try_get("client_id")?,
        status: ConsentStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        created_at: ts(row.try_get("created_at")?)?,
        status_updated_at: ts(row.try_get("status_updated_at")?)?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(ts)
            .transpose()?,
        customer_id: row
            .try_get::<Option<String>, _>("customer_id")?
            .map(CustomerId::parse)
            .transpose()
            .map_err(|_| corrupt("customer"))?,
        accounts: accounts
            .split(',')
            .filter(|a| !a.is_empty())
            .map(AccountId::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| corrupt("accounts"))?,
        authorised_at: row
            .try_get::<Option<i64>, _>("authorised_at")?
            .map(ts)
            .transpose()?,
        details: row.try_get("details")?,
    })
}

impl ConsentStore {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// A new consent awaiting the customer's authorisation.
    pub async fn create(
        &self,
        kind: ConsentKind,
        client_id: &str,
        expires_at: Option<OffsetDateTime>,
        details: String,
    ) -> Result<Consent, AuthzError> {
        let now = self.clock.now();
        let id = ConsentId::generate(&RandomIds);
        let consent = Consent {
            id,
            kind,
            client_id: client_id.to_owned(),
            status: ConsentStatus::AwaitingAuthorisation,
            created_at: now,
            status_updated_at: now,
            expires_at,
            customer_id: None,
            accounts: Vec::new(),
            authorised_at: None,
            details,
        };
        self.store
            .write(
                sqlx::query(
                    "INSERT INTO consents (id, kind, client_id, status, created_at, \
                     status_updated_at, expires_at, accounts, details) \
                     VALUES ($1, $2, $3, $4, $5, $5, $6, '', $7)",
                )
                .bind(consent.id.as_str())
                .bind(kind.as_str())
                .bind(client_id)
                .bind(consent.status.as_str())
                .bind(now.unix_timestamp())
                .bind(expires_at.map(|e| e.unix_timestamp()))
                .bind(&consent.details),
            )
            .await?;
        Ok(consent)
    }

    /// The consent, with an authorised or waiting consent past its expiry reported (and
    /// recorded) as Expired.
    pub async fn get(&self, id: &str) -> Result<Option<Consent>, AuthzError> {
        let row = sqlx::query("SELECT * FROM consents WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        let Some(mut c) = row.as_ref().map(consent).transpose()? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if !c.status.is_final() && c.expires_at.is_some_and(|e| now >= e) {
            self.transition(&c.id, ConsentEvent::Expire).await.ok();
            c.status = ConsentStatus::Expired;
            c.status_updated_at = now;
        }
        Ok(Some(c))
    }

    /// Applies a lifecycle event; refused if the lifecycle does not allow it from the stored state.
    pub async fn transition(
        &self,
        id: &ConsentId,
        event: ConsentEvent,
    ) -> Result<Consent, AuthzError> {
        self.transition_with(id, event, None).await
    }

    /// Authorises a consent for a customer and the accounts they chose.
    pub async fn authorise(
        &self,
        id: &ConsentId,
        customer: &CustomerId,
        accounts: &[AccountId],
    ) -> Result<Consent, AuthzError> {
        self.transition_with(id, ConsentEvent::Authorise, Some((customer, accounts)))
            .await
    }

    async fn transition_with(
        &self,
        id: &ConsentId,
        event: ConsentEvent,
        authorisation: Option<(&CustomerId, &[AccountId])>,
    ) -> Result<Consent, AuthzError> {
        let current = self
            .get_raw(id)
            .await?
            .ok_or_else(|| AuthzError::request("unknown consent"))?;
        let next = current
            .status
            .apply(event)
            .map_err(|e| AuthzError::request(e.to_string()))?;
        let now = self.clock.now().unix_timestamp();
        let (customer, accounts) = match authorisation {
            Some((c, a)) => (
                Some(c.as_str().to_owned()),
                a.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(","),
            ),
            None => (
                current.customer_id.as_ref().map(|c| c.as_str().to_owned()),
                current
                    .accounts
                    .iter()
                    .map(|a| a.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        };
        // Compare-and-set on the status: two racing decisions cannot both win.
        let changed = self
            .store
            .write(
                sqlx::query(
                    "UPDATE consents SET status = $1, status_updated_at = $2, customer_id = $3, \
                     accounts = $4, authorised_at = CASE WHEN $5 = 1 THEN $2 ELSE authorised_at END \
                     WHERE id = $6 AND status = $7",
                )
                .bind(next.as_str())
                .bind(now)
                .bind(customer)
                .bind(accounts)
                .bind(i64::from(authorisation.is_some()))
                .bind(id.as_str())
                .bind(current.status.as_str()),
            )
            .await?;
        if changed != 1 {
            return Err(AuthzError::request("the consent changed meanwhile"));
        }
        self.get_raw(id)
            .await?
            .ok_or_else(|| AuthzError::Internal("consent vanished".into()))
    }

    async fn get_raw(&self, id: &ConsentId) -> Result<Option<Consent>, AuthzError> {
        let row = sqlx::query("SELECT * FROM consents WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.store.pool())
            .await?;
        row.as_ref().map(consent).transpose()
    }

    /// Consumes an Authorised, unexpired consent inside the caller's transaction, so the
    /// payment that uses it and the consumption commit together (or not at all). False when
    /// the consent is no longer Authorised or has expired: a lost race, a revocation.
    pub async fn consume_in(&self, tx: &mut WriteTx, id: &ConsentId) -> Result<bool, AuthzError> {
        let now = self.clock.now().unix_timestamp();
        let changed = sqlx::query(
            "UPDATE consents SET status = $1, status_updated_at = $2 \
             WHERE id = $3 AND status = $4 AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(ConsentStatus::Consumed.as_str())
        .bind(now)
        .bind(id.as_str())
        .bind(ConsentStatus::Authorised.as_str())
        .execute(&mut *tx.conn())
        .await
        .map_err(bascule_store::StoreError::from)?
        .rows_affected();
        Ok(changed == 1)
    }
}
