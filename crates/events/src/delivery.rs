//! The push worker (EVNP §Real Time Event Notification; ENT `POST /event-notifications`): each
//! round claims due `push` rows with a lease — on PostgreSQL under `FOR UPDATE SKIP LOCKED`, so
//! two nodes never claim one row, and a node that dies frees its rows when the lease ends — then
//! POSTs each row's SET to its client's callback in a task of its own, so a slow or dead
//! receiver holds only its own rows (and at most the client's timeout), never a request or
//! another TPP. 2xx is delivered (`done`); anything else is retried with exponential back-off
//! and jitter until the retry period ends, after which the event waits for polling (`poll`) —
//! or, for a personal webhook's message, which nobody polls, is `failed` until re-driven.
//! The same `jti` goes out on every attempt: it is the row's key. A delivered row keeps the
//! name of the node that delivered it (`lease_owner`).

use std::collections::HashMap;
use std::time::Duration;

use bascule_store::sqlx::{self, Row};

use crate::set::{COLUMNS, Pending};
use crate::{Events, EventsError};

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Rows claimed and handed to a push task.
    pub claimed: usize,
}

/// Where a claimed row is pushed. (No `Debug`: it holds a webhook's signing secret.)
#[derive(Clone)]
enum Target {
    /// A TPP's callback (`{url}/event-notifications`, a signed SET).
    Callback(String),
    /// A customer's personal webhook (the URL itself, Standard Webhooks signatures).
    Webhook { url: String, secret: String },
}

/// Why a push did not count as delivered.
#[derive(Debug, thiserror::Error)]
enum PushError {
    #[error("the receiver answered {0}")]
    Status(u16),
    #[error("the receiver could not be reached: {0}")]
    Transport(String),
    #[error(transparent)]
    Events(#[from] EventsError),
}

/// `attempt` (1 for the first retry) doubles `first` each time up to `max`; half of it is
/// random ("equal jitter"), so receivers that came back are not hit by every node at once.
pub(crate) fn backoff(first: Duration, max: Duration, attempt: i64, random: u64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let full = first
        .checked_mul(2u32.saturating_pow(exponent))
        .unwrap_or(max)
        .min(max);
    let half = full / 2;
    let half_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
    let jitter = if half_ms == 0 {
        0
    } else {
        random % (half_ms + 1)
    };
    half + Duration::from_millis(jitter)
}

fn random_u64() -> u64 {
    // 128 random bits of a v4 UUID, folded: jitter needs no more than that.
    let bits = uuid::Uuid::new_v4().as_u128();
    (bits as u64) ^ ((bits >> 64) as u64)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Events {
    /// One round of the push worker: claims the due rows and starts their pushes (each in its
    /// own task). Returns at once; the pushes record their outcome when they end.
    pub async fn deliver_due(&self) -> Result<DeliveryReport, EventsError> {
        let claimed = self.claim().await?;
        if claimed.is_empty() {
            return Ok(DeliveryReport::default());
        }
        let callbacks = self.callbacks(&claimed).await?;
        let report = DeliveryReport {
            claimed: claimed.len(),
        };
        for event in claimed {
            let events = self.clone();
            let target = callbacks.get(&event.client_id).cloned().flatten();
            tokio::spawn(async move {
                let outcome = match target {
                    Some(target) => events.send(&event, &target).await,
                    // Unsubscribed meanwhile, or the callback removed: polling only.
                    None => Err(PushError::Status(0)),
                };
                if let Err(e) = events.record_outcome(&event, outcome).await {
                    tracing::warn!(error = %e, jti = %event.jti, "could not record a push");
                }
            });
        }
        Ok(report)
    }

    async fn claim(&self) -> Result<Vec<Pending>, EventsError> {
        let now = self.now_ms();
        // A read first: most rounds find nothing, and then take no write lock (SQLite's single
        // writer is the API requests' too).
        let due: Option<String> = sqlx::query_scalar(
            "SELECT jti FROM event_outbox WHERE status = 'push' AND next_attempt_ms <= $1 \
             AND (lease_until_ms IS NULL OR lease_until_ms < $1) LIMIT 1",
        )
        .bind(now)
        .fetch_optional(self.store().pool())
        .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let lease_until = now.saturating_add(ms(self.config().lease));
        let sql = format!(
            "UPDATE event_outbox SET lease_owner = $1, lease_until_ms = $2, \
             attempts = attempts + 1 \
             WHERE jti IN (SELECT jti FROM event_outbox WHERE status = 'push' \
             AND next_attempt_ms <= $3 AND (lease_until_ms IS NULL OR lease_until_ms < $3) \
             ORDER BY next_attempt_ms, seq LIMIT $4{}) \
             RETURNING {COLUMNS}",
            self.store().claim_clause()
        );
        let mut tx = self.store().begin().await?;
        // Constants only (the columns, the backend's claim clause): no input in the SQL text.
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(self.inner.node.as_str())
            .bind(lease_until)
            .bind(now)
            .bind(i64::from(self.config().batch))
            .fetch_all(tx.conn())
            .await?;
        tx.commit().await?;
        rows.iter().map(Pending::of_row).collect()
    }

    /// Where each claimed row goes: its client's callback URL (`None`: polling only), or its
    /// personal webhook's URL and secret (`None`: the webhook was deleted).
    async fn callbacks(
        &self,
        claimed: &[Pending],
    ) -> Result<HashMap<String, Option<Target>>, EventsError> {
        let mut out = HashMap::new();
        for event in claimed {
            if out.contains_key(&event.client_id) {
                continue;
            }
            let target = if event.payload.is_some() {
                // Only while the token that registered it is active.
                sqlx::query(
                    "SELECT w.url, w.secret FROM personal_webhooks w \
                     JOIN personal_tokens t ON t.id = w.token_id \
                     WHERE w.id = $1 AND t.revoked_at IS NULL AND t.expires_at > $2",
                )
                .bind(event.client_id.as_str())
                .bind(self.now().unix_timestamp())
                .fetch_optional(self.store().pool())
                .await?
                .map(|row| -> Result<Target, sqlx::Error> {
                    Ok(Target::Webhook {
                        url: row.try_get("url")?,
                        secret: row.try_get("secret")?,
                    })
                })
                .transpose()?
            } else {
                let url: Option<Option<String>> = sqlx::query(
                    "SELECT callback_url FROM event_subscriptions WHERE client_id = $1",
                )
                .bind(event.client_id.as_str())
                .fetch_optional(self.store().pool())
                .await?
                .map(|row| row.try_get("callback_url"))
                .transpose()?;
                url.flatten().map(Target::Callback)
            };
            out.insert(event.client_id.clone(), target);
        }
        Ok(out)
    }

    async fn send(&self, event: &Pending, target: &Target) -> Result<(), PushError> {
        match (target, &event.payload) {
            (Target::Callback(url), _) => self.push(event, url).await,
            (Target::Webhook { url, secret }, Some(payload)) => {
                self.push_webhook(event, url, secret, payload).await
            }
            (Target::Webhook { .. }, None) => Err(PushError::Status(0)),
        }
    }

    /// A personal webhook (Standard Webhooks): the JSON payload, signed with the webhook's
    /// secret over its id and this attempt's timestamp.
    async fn push_webhook(
        &self,
        event: &Pending,
        url: &str,
        secret: &str,
        payload: &str,
    ) -> Result<(), PushError> {
        let timestamp = self.now().unix_timestamp();
        let signature =
            bascule_jose::webhooks::sign(secret, &event.jti, timestamp, payload.as_bytes())
                .map_err(|e| EventsError::Signing(e.to_string()))?;
        let request = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", event.jti.as_str())
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(payload.to_owned());
        delivered(request).await
    }

    /// `POST {callback}/event-notifications` (ENT): the SET as `application/jwt`.
    async fn push(&self, event: &Pending, callback: &str) -> Result<(), PushError> {
        let set = self.sign(event)?;
        let url = format!("{}/event-notifications", callback.trim_end_matches('/'));
        let request = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/jwt")
            .header("x-fapi-interaction-id", uuid::Uuid::new_v4().to_string())
            .header("x-fapi-financial-id", self.config().financial_id.as_str())
            .body(set);
        delivered(request).await
    }

    async fn record_outcome(
        &self,
        event: &Pending,
        outcome: Result<(), PushError>,
    ) -> Result<(), EventsError> {
        let now = self.now_ms();
        let node = self.inner.node.as_str();
        // A personal webhook's deliveries count under one label, not one per webhook.
        let client = if event.payload.is_some() {
            bascule_authz::outbox::PERSONAL_WEBHOOK.to_owned()
        } else {
            event.client_id.clone()
        };
        metrics::counter!("event_push_attempts_total", "client_id" => client.clone()).increment(1);
        match outcome {
            Ok(()) => {
                log_delivered(event, now);
                self.store()
                    .write(
                        sqlx::query(
                            "UPDATE event_outbox SET status = 'done', done_ms = $1, \
                             lease_until_ms = NULL \
                             WHERE jti = $2 AND lease_owner = $3",
                        )
                        .bind(now)
                        .bind(event.jti.as_str())
                        .bind(node),
                    )
                    .await?;
            }
            Err(e) => {
                metrics::counter!("event_push_failures_total", "client_id" => client).increment(1);
                let config = self.config();
                let wait = backoff(
                    config.first_backoff,
                    config.max_backoff,
                    event.attempts,
                    random_u64(),
                );
                let next = now.saturating_add(ms(wait));
                let gives_up = next > event.retry_from_ms.saturating_add(ms(config.retry_period));
                tracing::info!(
                    jti = %event.jti,
                    client_id = %event.client_id,
                    attempts = event.attempts,
                    error = %e,
                    gives_up,
                    "event push failed"
                );
                self.store()
                    .write(
                        sqlx::query(
                            "UPDATE event_outbox SET next_attempt_ms = $1, last_error = $2, \
                             status = CASE WHEN $3 = 0 THEN status \
                               WHEN channel = 'open-banking' THEN 'poll' ELSE 'failed' END, \
                             lease_owner = NULL, lease_until_ms = NULL \
                             WHERE jti = $4 AND lease_owner = $5 AND status = 'push'",
                        )
                        .bind(next)
                        .bind(e.to_string())
                        .bind(i64::from(gives_up))
                        .bind(event.jti.as_str())
                        .bind(node),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

/// Sends a push: any 2xx is delivered.
async fn delivered(request: reqwest::RequestBuilder) -> Result<(), PushError> {
    let response = request
        .send()
        .await
        .map_err(|e| PushError::Transport(e.to_string()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(PushError::Status(status.as_u16()))
    }
}

fn log_delivered(event: &Pending, now_ms: i64) {
    let latency_ms = now_ms.saturating_sub(event.created_ms);
    metrics::histogram!("event_delivery_seconds").record(latency_ms as f64 / 1000.0);
    tracing::debug!(
        jti = %event.jti,
        client_id = %event.client_id,
        latency_ms,
        "event delivered"
    );
}

impl Events {
    /// The queue's gauges for `/metrics`: events not yet delivered or acknowledged, and the
    /// age of the oldest of them (seconds). A personal webhook's message whose retries ended
    /// (`failed`: nobody polls for it) waits for an operator's re-drive and is not counted.
    pub async fn record_queue_metrics(&self) -> Result<(), EventsError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS pending, MIN(created_ms) AS oldest FROM event_outbox \
             WHERE status = 'push' OR (status = 'poll' AND channel = 'open-banking')",
        )
        .fetch_one(self.store().pool())
        .await?;
        let pending: i64 = row.try_get("pending")?;
        let oldest: Option<i64> = row.try_get("oldest")?;
        let age_ms = oldest.map_or(0, |t| self.now_ms().saturating_sub(t).max(0));
        metrics::gauge!("event_outbox_pending").set(pending as f64);
        metrics::gauge!("event_outbox_oldest_pending_seconds").set(age_ms as f64 / 1000.0);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let first = Duration::from_secs(1);
        let max = Duration::from_secs(60);
        for attempt in 1..=10 {
            let full = (first * 2u32.pow(u32::try_from(attempt - 1).unwrap())).min(max);
            for random in [0, 7, u64::MAX] {
                let wait = backoff(first, max, attempt, random);
                assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
            }
        }
        assert_eq!(backoff(first, max, 1, 0), Duration::from_millis(500));
        assert_eq!(backoff(first, max, 40, 0), Duration::from_secs(30));
    }
}
