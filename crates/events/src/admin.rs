//! What the bank's operators do with a TPP's events from the command line (`bascule events`):
//! list the ones not yet delivered or acknowledged, and re-drive them — pushed again at once,
//! with a fresh retry period, same `jti`.

use bascule_store::Store;
use bascule_store::sqlx::{self, Row};

use crate::EventsError;

/// An event the TPP has not had (or not acknowledged) yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StuckEvent {
    pub jti: String,
    pub event_type: String,
    pub resource_path: String,
    /// `push` (retrying) or `poll` (waiting for polling: retries ended, or no callback).
    pub status: String,
    pub attempts: i64,
    pub created_ms: i64,
    pub last_error: Option<String>,
}

/// The client's events not yet done, oldest first.
pub async fn stuck(store: &Store, client_id: &str) -> Result<Vec<StuckEvent>, EventsError> {
    let rows = sqlx::query(
        "SELECT jti, event_type, resource_path, status, attempts, created_ms, last_error \
         FROM event_outbox WHERE client_id = $1 AND status <> 'done' ORDER BY seq",
    )
    .bind(client_id)
    .fetch_all(store.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StuckEvent {
                jti: row.try_get("jti")?,
                event_type: row.try_get("event_type")?,
                resource_path: row.try_get("resource_path")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                created_ms: row.try_get("created_ms")?,
                last_error: row.try_get("last_error")?,
            })
        })
        .collect()
}

/// Pushes the client's pending events again from `now_ms`, with a fresh retry period, if it
/// has a callback. Returns how many will be pushed.
pub async fn redrive(store: &Store, client_id: &str, now_ms: i64) -> Result<u64, EventsError> {
    Ok(store
        .write(
            sqlx::query(
                "UPDATE event_outbox SET status = 'push', next_attempt_ms = $1, \
                 retry_from_ms = $1 \
                 WHERE client_id = $2 AND status <> 'done' AND (EXISTS (SELECT 1 FROM \
                 event_subscriptions s WHERE s.client_id = $2 AND s.callback_url IS NOT NULL) \
                 OR EXISTS (SELECT 1 FROM personal_webhooks w WHERE w.id = $2))",
            )
            .bind(now_ms)
            .bind(client_id),
        )
        .await?)
}
