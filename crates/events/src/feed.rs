//! Booked transactions as events: a job follows the core's commit-ordered change feed
//! (`CoreBanking::events_since`) and, for each account with newly booked transactions, writes a
//! `resource-update` of the account for every subscribed client holding an authorised,
//! unexpired account-access consent that covers it — no other client hears of the account.
//! The events and the feed cursor's advance commit in one transaction, the cursor by
//! compare-and-set, so a crash replays a batch at most and two nodes never both write it.
//! A fresh bank starts the cursor at the feed's end: history is not news.

use std::collections::BTreeSet;

use bascule_authz::outbox::{self, EventType, Subject};
use bascule_core_banking::LedgerEventKind;
use bascule_store::sqlx;

use crate::{Events, EventsError};

/// The cursor's name in `event_feed_cursors`.
const CURSOR: &str = "ledger-transactions";
/// Feed rows read per round.
const BATCH: u32 = 500;

impl Events {
    /// One round of the feed job. Returns how many events it wrote.
    pub async fn follow_ledger(&self) -> Result<usize, EventsError> {
        let Some(after) = self.cursor().await? else {
            self.start_cursor_at_end().await?;
            return Ok(0);
        };
        let changes = self
            .inner
            .core_banking
            .events_since(after, BATCH)
            .await
            .map_err(|e| EventsError::CoreBanking(e.to_string()))?;
        let Some(last) = changes.last().map(|c| c.seq) else {
            return Ok(0);
        };
        let booked: BTreeSet<&str> = changes
            .iter()
            .filter(|c| c.kind == LedgerEventKind::TransactionBooked)
            .map(|c| c.account_id.as_str())
            .collect();
        let audience = if booked.is_empty() {
            Vec::new()
        } else {
            self.consented(&booked).await?
        };
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let mut written = 0;
        for (client_id, account) in &audience {
            let subject = Subject::account(account);
            if outbox::record_in(&mut tx, now, client_id, EventType::ResourceUpdate, &subject)
                .await?
                .is_some()
            {
                written += 1;
            }
        }
        let moved = tx
            .execute(
                sqlx::query("UPDATE event_feed_cursors SET seq = $1 WHERE name = $2 AND seq = $3")
                    .bind(last)
                    .bind(CURSOR)
                    .bind(after),
            )
            .await?;
        if moved != 1 {
            // Another node took this batch: its events are the ones that count.
            return Ok(0);
        }
        tx.commit().await?;
        Ok(written)
    }

    async fn cursor(&self) -> Result<Option<i64>, EventsError> {
        Ok(
            sqlx::query_scalar("SELECT seq FROM event_feed_cursors WHERE name = $1")
                .bind(CURSOR)
                .fetch_optional(self.store().pool())
                .await?,
        )
    }

    async fn start_cursor_at_end(&self) -> Result<(), EventsError> {
        let mut end = 0;
        loop {
            let page = self
                .inner
                .core_banking
                .events_since(end, BATCH)
                .await
                .map_err(|e| EventsError::CoreBanking(e.to_string()))?;
            match page.last() {
                Some(c) => end = c.seq,
                None => break,
            }
        }
        self.store()
            .write(
                sqlx::query(
                    "INSERT INTO event_feed_cursors (name, seq) VALUES ($1, $2) \
                     ON CONFLICT (name) DO NOTHING",
                )
                .bind(CURSOR)
                .bind(end),
            )
            .await?;
        Ok(())
    }

    /// (client, account) for each booked account in an authorised, unexpired account-access
    /// consent of a subscribed client.
    async fn consented(
        &self,
        booked: &BTreeSet<&str>,
    ) -> Result<Vec<(String, String)>, EventsError> {
        let accounts: Vec<&str> = booked.iter().copied().collect();
        let consents = self
            .authz()
            .consents()
            .subscribed_access_to(&accounts)
            .await?;
        let mut out = BTreeSet::new();
        for c in &consents {
            for account in c.accounts.iter().filter(|a| booked.contains(a.as_str())) {
                out.insert((c.client_id.clone(), account.to_string()));
            }
        }
        Ok(out.into_iter().collect())
    }
}
