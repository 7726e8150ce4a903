//! Booked transactions and closed accounts as events: a job follows the core's commit-ordered
//! change feed (`CoreBanking::events_since`) and, for every subscribed client holding an
//! authorised, unexpired account-access consent that covers the account, writes a
//! `resource-update` of each account with newly booked transactions (when the consent grants a
//! `ReadTransactions*` permission: a TPP that may not read transactions does not learn of one),
//! and an
//! `account-access-consent-linked-account-update` of the consent when one of its accounts closed
//! (EVNP §Account Access Consent Linked Account Update) — no other client hears of the account.
//! The events and the feed cursor's advance commit in one transaction, the cursor by
//! compare-and-set, so a crash replays a batch at most and two nodes never both write it.
//! A fresh bank starts the cursor at the feed's end: history is not news.

use std::collections::BTreeSet;

use bascule_authz::outbox::{self, EventType, FeedCursor, Subject};
use bascule_core_banking::{LedgerEvent, LedgerEventKind};
use bascule_domain::aisp::AccountAccessConsent;
use bascule_domain::{AccountId, AccountStatus};

use crate::{Events, EventsError};

/// This job's place in the feed.
const CURSOR: FeedCursor = FeedCursor::new("ledger-transactions");
/// Feed rows read per round.
const BATCH: u32 = 500;

impl Events {
    /// One round of the feed job. Returns how many events it wrote.
    pub async fn follow_ledger(&self) -> Result<usize, EventsError> {
        let Some(after) = CURSOR
            .position(self.store(), self.inner.core_banking.as_ref())
            .await?
        else {
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
        let closed = self.closed(&changes).await?;
        let mut audience = BTreeSet::new();
        if !booked.is_empty() || !closed.is_empty() {
            let accounts: Vec<&str> = booked
                .iter()
                .copied()
                .chain(closed.iter().map(String::as_str))
                .collect();
            for c in self
                .authz()
                .consents()
                .subscribed_access_to(&accounts)
                .await?
            {
                // Only a consent that may read transactions hears that one was booked.
                let sees_transactions = serde_json::from_str::<AccountAccessConsent>(&c.details)
                    .ok()
                    .and_then(|d| d.permission_set().ok())
                    .is_some_and(|p| p.transactions().is_some());
                for account in &c.accounts {
                    if sees_transactions && booked.contains(account.as_str()) {
                        audience.insert((
                            c.client_id.clone(),
                            EventType::ResourceUpdate,
                            Subject::account(account.as_str()),
                        ));
                    }
                }
                if c.accounts.iter().any(|a| closed.contains(a.as_str())) {
                    audience.insert((
                        c.client_id.clone(),
                        EventType::LinkedAccountUpdate,
                        Subject::consent(c.kind, &c.id),
                    ));
                }
            }
        }
        let now = self.now();
        let mut tx = self.store().begin().await?;
        let mut written = 0;
        for (client_id, event, subject) in &audience {
            if outbox::record_in(&mut tx, now, client_id, *event, subject)
                .await?
                .is_some()
            {
                written += 1;
            }
        }
        if !CURSOR.advance_in(&mut tx, after, last).await? {
            // Another node took this batch: its events are the ones that count.
            return Ok(0);
        }
        tx.commit().await?;
        Ok(written)
    }

    /// The accounts whose status changed in `changes` and that are closed now.
    async fn closed(&self, changes: &[LedgerEvent]) -> Result<BTreeSet<String>, EventsError> {
        let changed: Vec<AccountId> = changes
            .iter()
            .filter(|c| c.kind == LedgerEventKind::AccountStatusChanged)
            .map(|c| c.account_id.clone())
            .collect();
        if changed.is_empty() {
            return Ok(BTreeSet::new());
        }
        let accounts = self
            .inner
            .core_banking
            .accounts(&changed)
            .await
            .map_err(|e| EventsError::CoreBanking(e.to_string()))?;
        Ok(accounts
            .into_iter()
            .filter(|a| a.status == AccountStatus::Closed)
            .map(|a| a.id.to_string())
            .collect())
    }
}
