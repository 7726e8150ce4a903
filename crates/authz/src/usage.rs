//! How often each consent is used, for the customer's dashboard ("last used", "calls in the
//! last 24 hours"). The token check counts in memory (a lock and a map update per call, no
//! write on the request's path); a background job adds each node's counts to per-minute rows
//! in one transaction, so the counts of several nodes add up. A node that dies loses at most
//! the calls of one flush interval — a display figure, never a limit.

use std::collections::HashMap;
use std::sync::Mutex;

use bascule_domain::CustomerId;
use bascule_store::StoreError;
use bascule_store::sqlx::{self, Row};

use crate::Authz;

/// Per-minute rows are kept this long: the dashboard's window is 24 hours.
const RETENTION_SECONDS: i64 = 25 * 3600;

/// Calls counted on this node since the last flush: (consent, minute) → (calls, last call).
#[derive(Default)]
pub(crate) struct ConsentUsage {
    pending: Mutex<HashMap<(String, i64), (i64, i64)>>,
}

impl ConsentUsage {
    pub(crate) fn record(&self, consent: &str, at: i64) {
        if let Ok(mut pending) = self.pending.lock() {
            let entry = pending
                .entry((consent.to_owned(), at - at.rem_euclid(60)))
                .or_insert((0, at));
            entry.0 += 1;
            entry.1 = entry.1.max(at);
        }
    }

    fn take(&self) -> HashMap<(String, i64), (i64, i64)> {
        self.pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}

/// A consent's use, as the dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub calls_since: i64,
    pub last_used_at: i64,
}

impl Authz {
    /// Adds this node's counts to the database; returns how many (consent, minute) rows it
    /// wrote. Run by the server's background jobs.
    pub async fn flush_consent_usage(&self) -> Result<usize, StoreError> {
        let counted = self.inner.usage.take();
        let now = self.now();
        let mut tx = self.inner.store.begin().await?;
        let mut last: HashMap<&str, i64> = HashMap::new();
        for ((consent, minute), (calls, at)) in &counted {
            tx.execute(
                sqlx::query(
                    "INSERT INTO consent_usage (consent_id, minute, calls) VALUES ($1, $2, $3) \
                     ON CONFLICT (consent_id, minute) DO UPDATE SET calls = consent_usage.calls + excluded.calls",
                )
                .bind(consent)
                .bind(minute)
                .bind(calls),
            )
            .await?;
            let l = last.entry(consent).or_insert(*at);
            *l = (*l).max(*at);
        }
        for (consent, at) in last {
            tx.execute(
                sqlx::query(
                    "INSERT INTO consent_last_use (consent_id, last_at) VALUES ($1, $2) \
                     ON CONFLICT (consent_id) DO UPDATE SET last_at = CASE \
                     WHEN excluded.last_at > consent_last_use.last_at THEN excluded.last_at \
                     ELSE consent_last_use.last_at END",
                )
                .bind(consent)
                .bind(at),
            )
            .await?;
        }
        tx.execute(
            sqlx::query("DELETE FROM consent_usage WHERE minute < $1")
                .bind(now - RETENTION_SECONDS),
        )
        .await?;
        tx.commit().await?;
        Ok(counted.len())
    }

    /// The use of each of `customer`'s consents that was ever used: calls since `since`
    /// (unix seconds) and the last use. One query.
    pub async fn consent_usage(
        &self,
        customer: &CustomerId,
        since: i64,
    ) -> Result<HashMap<String, Usage>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.consent_id, l.last_at, \
             CAST(COALESCE((SELECT SUM(u.calls) FROM consent_usage u \
                   WHERE u.consent_id = l.consent_id AND u.minute >= $2), 0) AS BIGINT) AS calls \
             FROM consent_last_use l JOIN consents c ON c.id = l.consent_id \
             WHERE c.customer_id = $1",
        )
        .bind(customer.as_str())
        .bind(since - since.rem_euclid(60))
        .fetch_all(self.inner.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("consent_id")?,
                    Usage {
                        calls_since: r.try_get("calls")?,
                        last_used_at: r.try_get("last_at")?,
                    },
                ))
            })
            .collect()
    }
}
