//! The unattended-access allowance: a call without `x-fapi-customer-ip-address` (the customer
//! is not present, RW §Request Headers) counts against its consent's allowance of
//! `limit` calls per rolling 24 hours (RTS Art. 36(5)); over it the call is refused with 429
//! and `Retry-After` saying when the oldest call leaves the window. Calls with the header are
//! not limited by this rule.
//!
//! Stored as `limit` slots per consent, each holding the time of the call that last took it.
//! A call takes a slot whose time has left the window by compare-and-set, so any number of
//! nodes sharing the database admit at most `limit` calls per window, on SQLite and PostgreSQL
//! alike.

use std::sync::Arc;

use bascule_domain::Clock;
use bascule_http::Error;
use bascule_store::Store;
use bascule_store::sqlx::{self, Row};

const WINDOW_SECONDS: i64 = 24 * 3600;

#[derive(Clone)]
pub struct UnattendedAccess {
    store: Store,
    clock: Arc<dyn Clock>,
    limit: u32,
}

impl UnattendedAccess {
    pub fn new(store: Store, clock: Arc<dyn Clock>, limit: u32) -> Self {
        Self {
            store,
            clock,
            limit,
        }
    }

    /// Admits one unattended call on `consent_id` now, or refuses it with 429 + Retry-After.
    pub async fn admit(&self, consent_id: &str) -> Result<(), Error> {
        if self.limit == 0 {
            return Err(Error::TooManyRequests {
                retry_after_seconds: WINDOW_SECONDS as u64,
            });
        }
        let now = self.clock.now().unix_timestamp();
        let window_start = now - WINDOW_SECONDS;
        // Racing callers may take the same free slot; the loser re-reads and tries another.
        for _ in 0..8 {
            let slots = self.slots(consent_id).await?;
            let free = slots.iter().find(|(_, at)| *at <= window_start);
            let Some((slot, previous)) = free.copied() else {
                let oldest = slots.iter().map(|(_, at)| *at).min().unwrap_or(now);
                let retry_after = (oldest + WINDOW_SECONDS - now).max(1);
                return Err(Error::TooManyRequests {
                    retry_after_seconds: retry_after as u64,
                });
            };
            let taken = self
                .store
                .write(
                    sqlx::query(
                        "UPDATE aisp_unattended_calls SET called_at = $1 \
                         WHERE consent_id = $2 AND slot = $3 AND called_at = $4",
                    )
                    .bind(now)
                    .bind(consent_id)
                    .bind(slot)
                    .bind(previous),
                )
                .await
                .map_err(Error::internal)?;
            if taken == 1 {
                return Ok(());
            }
        }
        Err(Error::Unavailable(
            "unattended allowance contended; try again".into(),
        ))
    }

    /// The consent's `limit` slots as (slot, last call), created empty on first use.
    async fn slots(&self, consent_id: &str) -> Result<Vec<(i64, i64)>, Error> {
        let read = || async {
            sqlx::query(
                "SELECT slot, called_at FROM aisp_unattended_calls \
                 WHERE consent_id = $1 AND slot < $2 ORDER BY slot",
            )
            .bind(consent_id)
            .bind(i64::from(self.limit))
            .fetch_all(self.store.pool())
            .await
            .map_err(Error::internal)?
            .iter()
            .map(|r| Ok((r.try_get("slot")?, r.try_get("called_at")?)))
            .collect::<Result<Vec<(i64, i64)>, sqlx::Error>>()
            .map_err(Error::internal)
        };
        let slots = read().await?;
        if slots.len() == self.limit as usize {
            return Ok(slots);
        }
        for slot in 0..i64::from(self.limit) {
            self.store
                .write(
                    sqlx::query(
                        "INSERT INTO aisp_unattended_calls (consent_id, slot, called_at) \
                         VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                    )
                    .bind(consent_id)
                    .bind(slot),
                )
                .await
                .map_err(Error::internal)?;
        }
        read().await
    }
}
