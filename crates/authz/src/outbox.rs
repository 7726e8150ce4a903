//! The event outbox's writer: an event notification (EVNP) is a row written inside the
//! transaction of the change that caused it, so a change and its event commit together or not
//! at all. It lives here, below the APIs, so the consent service and the payment pipeline can
//! both write events; delivery (push, polling) is `bascule-events`' business.
//!
//! A row is written only for a client whose event subscription asks for the type, and starts
//! as `push` when the subscription has a callback, `poll` otherwise.

use bascule_domain::{ConsentId, ConsentKind};
use bascule_store::sqlx::{self, Row};
use bascule_store::{Store, StoreError, WriteTx};
use time::OffsetDateTime;

/// The event types Bascule raises (`OBEventType1Code` in a subscription, the URN in a SET).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    ResourceUpdate,
    ConsentAuthorizationRevoked,
    /// An account shared by an account-access consent moved out of its scope (closed).
    LinkedAccountUpdate,
}

impl EventType {
    pub const ALL: [EventType; 3] = [
        Self::ResourceUpdate,
        Self::ConsentAuthorizationRevoked,
        Self::LinkedAccountUpdate,
    ];

    /// The subscription's name for it (CS `OBEventType1Code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::ResourceUpdate => "UK.OBIE.Resource-Update",
            Self::ConsentAuthorizationRevoked => "UK.OBIE.Consent-Authorization-Revoked",
            Self::LinkedAccountUpdate => "UK.OBIE.Account-Access-Consent-Linked-Account-Update",
        }
    }

    /// The key of the SET's `events` claim (ENT `OBEvent1`).
    pub fn urn(&self) -> &'static str {
        match self {
            Self::ResourceUpdate => "urn:uk:org:openbanking:events:resource-update",
            Self::ConsentAuthorizationRevoked => {
                "urn:uk:org:openbanking:events:consent-authorization-revoked"
            }
            Self::LinkedAccountUpdate => {
                "urn:uk:org:openbanking:events:account-access-consent-linked-account-update"
            }
        }
    }

    pub fn parse_code(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.code() == raw)
    }

    pub fn parse_urn(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.urn() == raw)
    }
}

/// What changed, as the SET's subject names it (ENT `OBEventSubject1`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    /// `http://openbanking.org.uk/rty`, e.g. `domestic-payment`.
    pub resource_type: &'static str,
    /// `http://openbanking.org.uk/rid`.
    pub resource_id: String,
    /// The resource's server-absolute path (the SET's `sub` and `rlk` are this on the public URL).
    pub path: String,
}

/// The v3.1.11 APIs' base, where the resources events name live.
pub const API_BASE: &str = "/open-banking/v3.1";

impl Subject {
    /// A consent of `kind` (RES/event-notifications: `rty` is the consent resource's name).
    pub fn consent(kind: ConsentKind, id: &ConsentId) -> Subject {
        let (api, resource_type) = match kind {
            ConsentKind::AccountAccess => ("aisp", "account-access-consent"),
            ConsentKind::DomesticPayment => ("pisp", "domestic-payment-consent"),
            ConsentKind::DomesticScheduledPayment => ("pisp", "domestic-scheduled-payment-consent"),
            ConsentKind::DomesticStandingOrder => ("pisp", "domestic-standing-order-consent"),
            ConsentKind::FundsConfirmation => ("cbpii", "funds-confirmation-consent"),
        };
        Subject {
            resource_type,
            resource_id: id.to_string(),
            path: format!("{API_BASE}/{api}/{resource_type}s/{id}"),
        }
    }

    /// A PIS resource of the collection `collection` (`domestic-payments`, the API's path
    /// segment): its `rty` is the singular (`domestic-payment`).
    pub fn payment(collection: &'static str, id: &str) -> Subject {
        Subject {
            resource_type: collection.strip_suffix('s').unwrap_or(collection),
            resource_id: id.to_owned(),
            path: format!("{API_BASE}/pisp/{collection}/{id}"),
        }
    }

    /// An account whose transactions changed.
    pub fn account(id: &str) -> Subject {
        Subject {
            resource_type: "account",
            resource_id: id.to_owned(),
            path: format!("{API_BASE}/aisp/accounts/{id}"),
        }
    }
}

/// The types a subscription stored as `event_types` asks for (empty: every type).
pub fn subscribed_types(stored: &str) -> Vec<EventType> {
    let named: Vec<EventType> = stored
        .split_whitespace()
        .filter_map(EventType::parse_code)
        .collect();
    if stored.trim().is_empty() {
        EventType::ALL.to_vec()
    } else {
        named
    }
}

/// Writes the event for `client_id` inside `tx`, if the client subscribed to `event`. Returns
/// its `jti`, or `None` when nobody asked for it.
pub async fn record_in(
    tx: &mut WriteTx,
    now: OffsetDateTime,
    client_id: &str,
    event: EventType,
    subject: &Subject,
) -> Result<Option<String>, StoreError> {
    let subscription = sqlx::query(
        "SELECT callback_url, event_types FROM event_subscriptions WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(row) = subscription else {
        return Ok(None);
    };
    let callback: Option<String> = row.try_get("callback_url")?;
    let types: String = row.try_get("event_types")?;
    if !subscribed_types(&types).contains(&event) {
        return Ok(None);
    }
    let jti = uuid::Uuid::new_v4().to_string();
    let ms = unix_ms(now);
    tx.execute(
        sqlx::query(
            "INSERT INTO event_outbox (jti, client_id, event_type, resource_type, resource_id, \
             resource_path, txn, toe, created_ms, retry_from_ms, status, attempts, \
             next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $6, $1, $7, $8, $8, $9, 0, $8)",
        )
        .bind(jti.as_str())
        .bind(client_id)
        .bind(event.urn())
        .bind(subject.resource_type)
        .bind(subject.resource_id.as_str())
        .bind(subject.path.as_str())
        .bind(now.unix_timestamp())
        .bind(ms)
        .bind(if callback.is_some() { "push" } else { "poll" }),
    )
    .await?;
    Ok(Some(jti))
}

/// The outbox channel of a personal webhook's deliveries (the Open Banking SETs' is the
/// column's default, `open-banking`).
pub const PERSONAL_WEBHOOK: &str = "personal-webhook";

/// A personal webhook's message, written inside `tx`: `id` (`webhook-id`, the row's key, the
/// same on every attempt) carrying `payload` for the webhook `webhook_id`, about the
/// transaction `transaction_id`. Pushed by the same worker as the SETs, never polled.
pub async fn record_webhook_in(
    tx: &mut WriteTx,
    now: OffsetDateTime,
    id: &str,
    webhook_id: &str,
    event_type: &str,
    transaction_id: &str,
    payload: &str,
) -> Result<(), StoreError> {
    let ms = unix_ms(now);
    tx.execute(
        sqlx::query(
            "INSERT INTO event_outbox (jti, client_id, event_type, resource_type, resource_id, \
             resource_path, txn, toe, created_ms, retry_from_ms, status, attempts, \
             next_attempt_ms, channel, payload) \
             VALUES ($1, $2, $3, 'transaction', $4, '', $1, $5, $6, $6, 'push', 0, $6, $7, $8)",
        )
        .bind(id)
        .bind(webhook_id)
        .bind(event_type)
        .bind(transaction_id)
        .bind(now.unix_timestamp())
        .bind(ms)
        .bind(PERSONAL_WEBHOOK)
        .bind(payload),
    )
    .await?;
    Ok(())
}

/// Why a feed follower could not find or move its place.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("core banking: {0}")]
    Core(#[from] bascule_core_banking::CoreBankingError),
}

impl From<sqlx::Error> for FeedError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

/// A follower's place in the core's change feed (`event_feed_cursors`): the Open Banking
/// events' and the personal webhooks' jobs each keep one. The place moves by compare-and-set
/// in the transaction that writes what the batch caused, so a crash replays a batch at most
/// and two nodes never both write it.
#[derive(Debug, Clone, Copy)]
pub struct FeedCursor {
    name: &'static str,
}

/// Feed rows read per page when a fresh cursor looks for the feed's end.
const FEED_PAGE: u32 = 500;

impl FeedCursor {
    pub const fn new(name: &'static str) -> Self {
        Self { name }
    }

    /// The last change the follower handled; `None` the first time, when the cursor is placed
    /// at the feed's end instead (a fresh bank's history is not news) and nothing is to be
    /// read this round.
    pub async fn position(
        &self,
        store: &Store,
        core: &dyn bascule_core_banking::CoreBanking,
    ) -> Result<Option<i64>, FeedError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM event_feed_cursors WHERE name = $1")
                .bind(self.name)
                .fetch_optional(store.pool())
                .await?;
        if at.is_some() {
            return Ok(at);
        }
        let mut end = 0;
        loop {
            let page = core.events_since(end, FEED_PAGE).await?;
            match page.last() {
                Some(c) => end = c.seq,
                None => break,
            }
        }
        store
            .write(
                sqlx::query(
                    "INSERT INTO event_feed_cursors (name, seq) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(self.name)
                .bind(end),
            )
            .await?;
        Ok(None)
    }

    /// Moves the cursor from `from` to `to` inside `tx`. False when another node already moved
    /// it: that node's writes for the batch are the ones that count, so `tx` must roll back.
    pub async fn advance_in(
        &self,
        tx: &mut WriteTx,
        from: i64,
        to: i64,
    ) -> Result<bool, StoreError> {
        let moved = tx
            .execute(
                sqlx::query("UPDATE event_feed_cursors SET seq = $1 WHERE name = $2 AND seq = $3")
                    .bind(to)
                    .bind(self.name)
                    .bind(from),
            )
            .await?;
        Ok(moved == 1)
    }
}

/// Unix milliseconds: the outbox's clock resolution.
pub fn unix_ms(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_without_types_gets_every_type() {
        assert_eq!(subscribed_types(""), EventType::ALL.to_vec());
        assert_eq!(
            subscribed_types("UK.OBIE.Consent-Authorization-Revoked"),
            vec![EventType::ConsentAuthorizationRevoked]
        );
        for t in EventType::ALL {
            assert_eq!(EventType::parse_code(t.code()), Some(t));
            assert_eq!(EventType::parse_urn(t.urn()), Some(t));
        }
    }

    #[test]
    fn subjects_name_the_v3_1_resource() {
        let s = Subject::payment("domestic-payments", "p-1");
        assert_eq!(s.path, "/open-banking/v3.1/pisp/domestic-payments/p-1");
        assert_eq!(s.resource_type, "domestic-payment");
        let id = ConsentId::parse("aac-1".to_owned()).unwrap();
        let c = Subject::consent(ConsentKind::AccountAccess, &id);
        assert_eq!(
            c.path,
            "/open-banking/v3.1/aisp/account-access-consents/aac-1"
        );
        assert_eq!(c.resource_type, "account-access-consent");
    }
}
