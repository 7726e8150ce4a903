//! Personal webhooks: a customer's https URL for one of their accounts, and the job that turns
//! the core's change feed into `transaction.created` (a transaction first seen: a card payment
//! authorised, or anything booked) and `transaction.updated` (a pending card payment settled or
//! released, same id) messages. A message carries the transaction as it is when the job reads
//! it, so a payment authorised and settled within one round is announced already booked. Each message is a row of the event outbox written in the transaction that
//! moves this job's feed cursor (compare-and-set, so two nodes never both write a batch); the
//! events push worker delivers it with retries and signs it per Standard Webhooks with the
//! webhook's secret. A webhook hears of changes that happen from its creation on (by the bank's
//! clock), not of older ones the job reaches later.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bascule_authz::outbox::{self, FeedCursor};
use bascule_core_banking::LedgerEventKind;
use bascule_domain::{AccountId, CustomerId, TransactionId};
use bascule_http::Error;
use bascule_registration::addresses::is_public_host;
use bascule_store::placeholders;
use bascule_store::sqlx::{self, Row};

use crate::wire::{TransactionJson, WebhookJson, WebhookPayload, datetime};
use crate::{PersonalApi, PersonalError};

/// This job's place in the feed.
const CURSOR: FeedCursor = FeedCursor::new("personal-webhooks");
/// Feed rows read per round.
const BATCH: u32 = 500;
/// Webhooks one customer may have.
const MAX_WEBHOOKS: i64 = 20;

pub const CREATED: &str = "transaction.created";
pub const UPDATED: &str = "transaction.updated";

fn webhook_of(row: &bascule_store::sqlx::any::AnyRow) -> Result<WebhookJson, sqlx::Error> {
    let created: i64 = row.try_get("created_at")?;
    Ok(WebhookJson {
        id: row.try_get("id")?,
        account_id: row.try_get("account_id")?,
        url: row.try_get("url")?,
        created: time::OffsetDateTime::from_unix_timestamp(created)
            .map(datetime)
            .unwrap_or_default(),
    })
}

impl PersonalApi {
    /// An https URL with a host, no credentials, no fragment; outside the sandbox not a
    /// loopback, private or otherwise internal address (names resolving there are refused at
    /// delivery by the push worker's resolver).
    pub(crate) fn check_webhook_url(&self, raw: &str) -> Result<(), Error> {
        let refuse = |m: &str| {
            Error::BadRequest(vec![
                bascule_http::ObErrorDetail::new(bascule_http::ObErrorCode::FieldInvalid, m)
                    .at("url"),
            ])
        };
        let url = url::Url::parse(raw).map_err(|_| refuse("url is not a URL"))?;
        if url.scheme() != "https" {
            return Err(refuse("url must be https"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(refuse("url must not carry credentials or a fragment"));
        }
        if raw.len() > 500 {
            return Err(refuse("url must be at most 500 characters"));
        }
        let Some(host) = url.host() else {
            return Err(refuse("url has no host"));
        };
        if !self.config().sandbox && !is_public_host(&host) {
            return Err(refuse("url must not be a local or private address"));
        }
        Ok(())
    }

    /// Registers `url` for the customer's `account` under the token `token_id` → the webhook
    /// and its secret (shown once). The webhook lives as long as the token: revoking the token
    /// deletes it, and nothing is sent once the token has expired.
    pub(crate) async fn add_webhook(
        &self,
        customer: &CustomerId,
        token_id: &str,
        account: &AccountId,
        url: &str,
    ) -> Result<(WebhookJson, String), Error> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM personal_webhooks WHERE customer_id = $1")
                .bind(customer.as_str())
                .fetch_one(self.store().pool())
                .await
                .map_err(Error::internal)?;
        if count >= MAX_WEBHOOKS {
            return Err(Error::ClientError(axum::http::StatusCode::CONFLICT));
        }
        let secret = bascule_jose::webhooks::new_secret().map_err(Error::internal)?;
        let now = self.now();
        let webhook = WebhookJson {
            id: format!("wh_{}", uuid::Uuid::new_v4().simple()),
            account_id: account.to_string(),
            url: url.to_owned(),
            created: datetime(now),
        };
        self.store()
            .write(
                sqlx::query(
                    "INSERT INTO personal_webhooks (id, customer_id, token_id, account_id, url, \
                     secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(webhook.id.as_str())
                .bind(customer.as_str())
                .bind(token_id)
                .bind(account.as_str())
                .bind(url)
                .bind(secret.as_str())
                .bind(now.unix_timestamp()),
            )
            .await
            .map_err(Error::internal)?;
        Ok((webhook, secret))
    }

    pub(crate) async fn webhooks_of(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<WebhookJson>, Error> {
        Ok(self
            .webhooks_by_token(customer)
            .await
            .map_err(Error::internal)?
            .into_iter()
            .map(|(_, w)| w)
            .collect())
    }

    /// The customer's webhooks, each with the token that registered it (the bank app lists
    /// them under their tokens).
    pub async fn webhooks_by_token(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<(String, WebhookJson)>, bascule_store::StoreError> {
        let rows = sqlx::query(
            "SELECT id, token_id, account_id, url, created_at FROM personal_webhooks \
             WHERE customer_id = $1 ORDER BY created_at, id",
        )
        .bind(customer.as_str())
        .fetch_all(self.store().pool())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push((row.try_get("token_id")?, webhook_of(row)?));
        }
        Ok(out)
    }

    /// Deletes the customer's webhook `id`; its undelivered messages are dropped with it. False
    /// when it is not theirs.
    pub async fn remove_webhook(
        &self,
        customer: &CustomerId,
        id: &str,
    ) -> Result<bool, bascule_store::StoreError> {
        let mut tx = self.store().begin().await?;
        let theirs: Option<String> = sqlx::query_scalar(
            "SELECT id FROM personal_webhooks WHERE id = $1 AND customer_id = $2",
        )
        .bind(id)
        .bind(customer.as_str())
        .fetch_optional(tx.conn())
        .await?;
        if theirs.is_none() {
            return Ok(false);
        }
        delete_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One round of the webhook feed job. Returns how many messages it wrote.
    pub async fn follow_ledger(&self) -> Result<usize, PersonalError> {
        let Some(after) = CURSOR.position(self.store(), self.core().as_ref()).await? else {
            return Ok(0);
        };
        let changes = self.core().events_since(after, BATCH).await?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(0);
        };
        let relevant: Vec<_> = changes
            .iter()
            .filter(|c| {
                matches!(
                    c.kind,
                    LedgerEventKind::TransactionPending
                        | LedgerEventKind::TransactionBooked
                        | LedgerEventKind::TransactionReleased
                ) && c.transaction_id.is_some()
            })
            .collect();
        let accounts: BTreeSet<&str> = relevant.iter().map(|c| c.account_id.as_str()).collect();
        let hooks = self.webhooks_on(&accounts).await?;
        let mut messages = Vec::new();
        if !hooks.is_empty() {
            let ids: Vec<TransactionId> = relevant
                .iter()
                .filter(|c| hooks.contains_key(c.account_id.as_str()))
                .filter_map(|c| c.transaction_id.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let transactions: HashMap<String, _> = self
                .core()
                .transactions_by_id(&ids)
                .await?
                .into_iter()
                .map(|t| (t.id.to_string(), t))
                .collect();
            let hooked: Vec<AccountId> = hooks
                .keys()
                .filter_map(|a| AccountId::parse(a.clone()).ok())
                .collect();
            let currencies: HashMap<String, _> = self
                .core()
                .accounts(&hooked)
                .await?
                .into_iter()
                .map(|a| (a.id.to_string(), a.currency))
                .collect();
            let mut announced = self.announced(&ids).await?;
            let now = self.now();
            for change in &relevant {
                let (Some(tid), Some(webhooks)) = (
                    change.transaction_id.as_ref(),
                    hooks.get(change.account_id.as_str()),
                ) else {
                    continue;
                };
                let (Some(t), Some(currency)) = (
                    transactions.get(tid.as_str()),
                    currencies.get(change.account_id.as_str()),
                ) else {
                    continue;
                };
                for (webhook, created_at) in webhooks {
                    // A webhook hears of what happens from its creation on.
                    if change.occurred_at.unix_timestamp() < *created_at {
                        continue;
                    }
                    let key = (webhook.clone(), tid.to_string());
                    // Settled or released: an update of what was announced; a release of
                    // something never announced is no news.
                    let kind = match (announced.contains(&key), change.kind) {
                        (true, LedgerEventKind::TransactionPending) => continue,
                        (true, _) => UPDATED,
                        (false, LedgerEventKind::TransactionReleased) => continue,
                        (false, _) => CREATED,
                    };
                    announced.insert(key);
                    let payload = WebhookPayload {
                        kind,
                        timestamp: datetime(now),
                        data: TransactionJson::of(t, *currency),
                    };
                    let body = serde_json::to_string(&payload).unwrap_or_default();
                    messages.push((webhook.clone(), kind, tid.to_string(), body));
                }
            }
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        for (webhook, kind, transaction, body) in &messages {
            let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
            outbox::record_webhook_in(&mut tx, now, &id, webhook, kind, transaction, body).await?;
        }
        if !CURSOR.advance_in(&mut tx, after, last).await? {
            // Another node took this batch: its messages are the ones that count.
            return Ok(0);
        }
        tx.commit().await?;
        Ok(messages.len())
    }

    /// The webhooks on each of `accounts` whose token is still active, with when each was made.
    async fn webhooks_on(
        &self,
        accounts: &BTreeSet<&str>,
    ) -> Result<BTreeMap<String, Vec<(String, i64)>>, PersonalError> {
        let mut out: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        if accounts.is_empty() {
            return Ok(out);
        }

        // Placeholders only: the account ids are bound.
        let sql = format!(
            "SELECT w.id, w.account_id, w.created_at FROM personal_webhooks w \
             JOIN personal_tokens t ON t.id = w.token_id \
             WHERE t.revoked_at IS NULL AND t.expires_at > $1 AND w.account_id IN ({}) \
             ORDER BY w.id",
            placeholders(2, accounts.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.now().unix_timestamp());
        for a in accounts {
            q = q.bind(*a);
        }
        for row in q.fetch_all(self.store().pool()).await? {
            out.entry(row.try_get("account_id")?)
                .or_default()
                .push((row.try_get("id")?, row.try_get("created_at")?));
        }
        Ok(out)
    }

    /// (webhook, transaction) pairs already announced, among `transactions`.
    async fn announced(
        &self,
        transactions: &[TransactionId],
    ) -> Result<BTreeSet<(String, String)>, PersonalError> {
        let mut out = BTreeSet::new();
        if transactions.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT client_id, resource_id FROM event_outbox WHERE channel = $1 \
             AND resource_id IN ({})",
            placeholders(2, transactions.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(outbox::PERSONAL_WEBHOOK);
        for t in transactions {
            q = q.bind(t.as_str());
        }
        for row in q.fetch_all(self.store().pool()).await? {
            out.insert((row.try_get("client_id")?, row.try_get("resource_id")?));
        }
        Ok(out)
    }
}

/// Deletes the webhook `id` inside `tx`; its undelivered messages are never sent.
pub(crate) async fn delete_in(
    tx: &mut bascule_store::WriteTx,
    id: &str,
) -> Result<(), bascule_store::StoreError> {
    tx.execute(sqlx::query("DELETE FROM personal_webhooks WHERE id = $1").bind(id))
        .await?;
    tx.execute(
        sqlx::query(
            "UPDATE event_outbox SET status = 'done', last_error = 'webhook deleted' \
             WHERE channel = $1 AND client_id = $2 AND status <> 'done'",
        )
        .bind(outbox::PERSONAL_WEBHOOK)
        .bind(id),
    )
    .await?;
    Ok(())
}
