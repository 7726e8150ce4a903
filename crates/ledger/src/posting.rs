//! The one way money moves: a balanced entry written wholly or not at all, once per
//! idempotency key.

use bascule_core_banking::LedgerEventKind;
use bascule_domain::{
    AccountId, Counterparty, CreditDebit, LedgerTransactionId, Leg, Merchant, Pence,
    ProprietaryCode, TransactionId, validate_legs,
};
use bascule_store::WriteTx;
use sqlx::Row;
use time::OffsetDateTime;

use crate::rows::{from_micros, micros};
use crate::{Ledger, LedgerError, internal};

/// What an idempotency key stands for: the code and the legs, sorted, as a canonical string.
/// Descriptions and references are not part of it (they do not move money).
pub(crate) fn fingerprint(code: ProprietaryCode, legs: &[Leg]) -> String {
    let mut sorted: Vec<(&str, i64)> = legs
        .iter()
        .map(|l| (l.account.as_str(), l.amount.0))
        .collect();
    sorted.sort_unstable();
    let mut out = String::from(code.as_str());
    for (account, amount) in sorted {
        out.push_str(&format!("|{account}:{amount}"));
    }
    out
}

/// What the customer sees of a posting on their account.
#[derive(Debug, Clone, Default)]
pub struct LineDetails {
    pub description: String,
    pub reference: Option<String>,
    pub merchant: Option<Merchant>,
    pub counterparty: Option<Counterparty>,
    pub value_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct EntryLine {
    pub account: AccountId,
    pub amount: Pence,
    /// Refuse the entry if this debit would take the account below its available balance.
    /// Off for the bank's side and for settlements the bank must honour.
    pub check_funds: bool,
    /// Post even if the account has been Disabled since (never if Closed): what the bank
    /// already promised, such as settling a card payment it authorised.
    pub honour_disabled: bool,
    pub details: LineDetails,
}

#[derive(Debug, Clone)]
pub struct Entry {
    pub idempotency_key: Option<String>,
    pub code: ProprietaryCode,
    pub lines: Vec<EntryLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub ledger_transaction_id: LedgerTransactionId,
    /// The customer-visible line written on each customer account, in entry order.
    pub transactions: Vec<(AccountId, TransactionId)>,
    pub posted_at: OffsetDateTime,
    pub replayed: bool,
}

/// A line to book in place of an existing pending one (card settlement keeps the id).
pub(crate) struct Settles<'a> {
    pub account: &'a AccountId,
    pub transaction: &'a TransactionId,
}

impl Ledger {
    /// Posts a balanced entry in its own database transaction.
    pub async fn post(&self, entry: Entry) -> Result<Posted, LedgerError> {
        let mut tx = self.store.begin().await?;
        // A concurrent twin with the same key is settled inside `post_in` (its INSERT waits for
        // the twin and then replays it), so there is nothing to retry here.
        let (posted, last_seq) = self.post_in(&mut tx, &entry, None).await?;
        tx.commit().await?;
        self.notify(last_seq);
        Ok(posted)
    }

    /// `post` inside a transaction the caller holds and commits: for tests that need a
    /// posting in flight (what other writers and readers of the change feed see meanwhile).
    #[doc(hidden)]
    pub async fn post_within(
        &self,
        tx: &mut WriteTx,
        entry: &Entry,
    ) -> Result<Posted, LedgerError> {
        Ok(self.post_in(tx, entry, None).await?.0)
    }

    /// The entry posted under `key`, if any. A replay must be the same entry: a different
    /// fingerprint is an `IdempotencyConflict`.
    pub(crate) async fn replay(
        &self,
        tx: &mut WriteTx,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<Posted>, LedgerError> {
        let Some(row) = sqlx::query(
            "SELECT id, posted_at, fingerprint FROM ledger_transactions WHERE idempotency_key = $1",
        )
        .bind(key)
        .fetch_optional(tx.conn())
        .await?
        else {
            return Ok(None);
        };
        let stored: Option<String> = row.try_get("fingerprint")?;
        if stored.is_some_and(|f| f != fingerprint) {
            return Err(LedgerError::IdempotencyConflict);
        }
        let ltx: String = row.try_get("id")?;
        let posted_at = from_micros(row.try_get("posted_at")?)?;
        let lines = sqlx::query(
            "SELECT account_id, id FROM transactions WHERE ledger_transaction_id = $1 ORDER BY id",
        )
        .bind(&ltx)
        .fetch_all(tx.conn())
        .await?;
        let mut transactions = Vec::with_capacity(lines.len());
        for line in lines {
            transactions.push((
                crate::rows::id(&line, "account_id", AccountId::parse)?,
                crate::rows::id(&line, "id", TransactionId::parse)?,
            ));
        }
        Ok(Some(Posted {
            ledger_transaction_id: LedgerTransactionId::parse(ltx)
                .map_err(|_| bascule_store::StoreError::corrupt("ledger transaction id"))?,
            transactions,
            posted_at,
            replayed: true,
        }))
    }

    /// Writes the entry inside `tx`. Returns the result and the last event number written.
    pub(crate) async fn post_in(
        &self,
        tx: &mut WriteTx,
        entry: &Entry,
        settles: Option<Settles<'_>>,
    ) -> Result<(Posted, Option<i64>), LedgerError> {
        let legs: Vec<Leg> = entry
            .lines
            .iter()
            .map(|l| Leg {
                account: l.account.clone(),
                amount: l.amount,
            })
            .collect();
        validate_legs(&legs)?;
        let fingerprint = fingerprint(entry.code, &legs);
        let now = self.clock.now();
        let at = micros(now);
        let ltx = LedgerTransactionId::generate(self.ids.as_ref());
        // The first write, so the key is claimed before anything else is touched: on
        // PostgreSQL a concurrent twin's INSERT waits here for this transaction and, once it
        // commits, inserts nothing and replays it; if it rolls back, the twin goes ahead.
        let claimed: Option<String> = sqlx::query_scalar(
            "INSERT INTO ledger_transactions (id, idempotency_key, code, fingerprint, posted_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        )
        .bind(ltx.as_str())
        .bind(entry.idempotency_key.as_deref())
        .bind(entry.code.as_str())
        .bind(&fingerprint)
        .bind(at)
        .fetch_optional(tx.conn())
        .await?;
        if claimed.is_none() {
            let key = entry.idempotency_key.as_deref().ok_or_else(|| {
                bascule_store::StoreError::corrupt("ledger transaction not written")
            })?;
            let done = self
                .replay(tx, key, &fingerprint)
                .await?
                .ok_or_else(|| bascule_store::StoreError::corrupt("idempotency key vanished"))?;
            return Ok((done, None));
        }

        // Rows are locked in account-id order, so two entries touching the same accounts in
        // opposite directions queue instead of deadlocking on PostgreSQL.
        let mut order: Vec<usize> = (0..entry.lines.len()).collect();
        order.sort_by(|a, b| entry.lines[*a].account.cmp(&entry.lines[*b].account));

        let mut transactions = Vec::new();
        let mut last_seq = None;
        for i in order {
            let line = &entry.lines[i];
            // The bank's own accounts keep no cached balance (nothing checks their funds), so
            // no payment waits for another on their rows: their balance is the postings' sum.
            let internal = internal::ALL.contains(&line.account.as_str());
            let mut booked = None;
            if !internal {
                let row = sqlx::query(
                    "UPDATE accounts SET booked_balance = booked_balance + $1 \
                     WHERE id = $2 AND kind <> 'Internal' \
                       AND (status = 'Enabled' OR ($4 = 1 AND status = 'Disabled')) \
                       AND ($3 = 0 OR $1 >= 0 \
                         OR booked_balance + $1 - pending_debits + overdraft_limit >= 0) \
                     RETURNING booked_balance, customer_id",
                )
                .bind(line.amount.0)
                .bind(line.account.as_str())
                .bind(i64::from(line.check_funds))
                .bind(i64::from(line.honour_disabled))
                .fetch_optional(tx.conn())
                .await?;
                let Some(row) = row else {
                    return Err(self.why_refused(tx, &line.account).await?);
                };
                let balance_after: i64 = row.try_get("booked_balance")?;
                let customer: Option<String> = row.try_get("customer_id")?;
                booked = customer.map(|_| balance_after);
            }
            sqlx::query(
                "INSERT INTO postings (ledger_transaction_id, account_id, amount, posted_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(ltx.as_str())
            .bind(line.account.as_str())
            .bind(line.amount.0)
            .bind(at)
            .execute(tx.conn())
            .await?;
            let Some(balance_after) = booked else {
                continue;
            };
            let settled = settles.as_ref().filter(|s| *s.account == line.account);
            let txn_id = match settled {
                Some(s) => {
                    let updated = sqlx::query(
                        "UPDATE transactions SET status = 'Booked', ledger_transaction_id = $1, \
                         credit_debit = $2, amount = $3, booked_at = $4, balance_after = $5 \
                         WHERE id = $6 AND status = 'Pending'",
                    )
                    .bind(ltx.as_str())
                    .bind(CreditDebit::of(line.amount).as_str())
                    .bind(line.amount.abs().0)
                    .bind(at)
                    .bind(balance_after)
                    .bind(s.transaction.as_str())
                    .execute(tx.conn())
                    .await?;
                    if updated.rows_affected() != 1 {
                        return Err(LedgerError::Invalid("transaction is not pending".into()));
                    }
                    s.transaction.clone()
                }
                None => {
                    let id = TransactionId::generate(self.ids.as_ref());
                    insert_transaction(
                        tx,
                        &id,
                        &line.account,
                        Some(&ltx),
                        "Booked",
                        line.amount,
                        now,
                        entry.code,
                        &line.details,
                        Some(balance_after),
                    )
                    .await?;
                    id
                }
            };
            last_seq = Some(
                record_event(
                    tx,
                    LedgerEventKind::TransactionBooked,
                    &line.account,
                    Some(&txn_id),
                    at,
                )
                .await?,
            );
            transactions.push((i, line.account.clone(), txn_id));
        }
        transactions.sort_by_key(|(i, _, _)| *i);
        let posted = Posted {
            ledger_transaction_id: ltx,
            transactions: transactions.into_iter().map(|(_, a, t)| (a, t)).collect(),
            posted_at: now,
            replayed: false,
        };
        Ok((posted, last_seq))
    }

    async fn why_refused(
        &self,
        tx: &mut WriteTx,
        account: &AccountId,
    ) -> Result<LedgerError, LedgerError> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM accounts WHERE id = $1")
                .bind(account.as_str())
                .fetch_optional(tx.conn())
                .await?;
        Ok(match status.as_deref() {
            None => LedgerError::NotFound("account"),
            Some("Enabled") => LedgerError::InsufficientFunds,
            Some(_) => LedgerError::AccountNotEnabled(account.clone()),
        })
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_transaction(
    tx: &mut WriteTx,
    id: &TransactionId,
    account: &AccountId,
    ltx: Option<&LedgerTransactionId>,
    status: &str,
    signed_amount: Pence,
    now: OffsetDateTime,
    code: ProprietaryCode,
    details: &LineDetails,
    balance_after: Option<i64>,
) -> Result<(), LedgerError> {
    let counterparty = details.counterparty.as_ref();
    sqlx::query(
        "INSERT INTO transactions (id, account_id, ledger_transaction_id, status, credit_debit, \
         amount, booked_at, value_at, description, reference, code, merchant_name, \
         merchant_category_code, counterparty_name, counterparty_sort_code, \
         counterparty_account_number, balance_after) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
    )
    .bind(id.as_str())
    .bind(account.as_str())
    .bind(ltx.map(|l| l.as_str()))
    .bind(status)
    .bind(CreditDebit::of(signed_amount).as_str())
    .bind(signed_amount.abs().0)
    .bind(micros(now))
    .bind(micros(details.value_at.unwrap_or(now)))
    .bind(details.description.as_str())
    .bind(details.reference.as_deref())
    .bind(code.as_str())
    .bind(details.merchant.as_ref().map(|m| m.name.as_str()))
    .bind(details.merchant.as_ref().map(|m| m.category_code.as_str()))
    .bind(counterparty.map(|c| c.name.as_str()))
    .bind(
        counterparty
            .and_then(|c| c.sort_code)
            .map(|s| s.to_string()),
    )
    .bind(
        counterparty
            .and_then(|c| c.account_number)
            .map(|n| n.to_string()),
    )
    .bind(balance_after)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Appends to the change feed in the same transaction as the change itself.
pub(crate) async fn record_event(
    tx: &mut WriteTx,
    kind: LedgerEventKind,
    account: &AccountId,
    transaction: Option<&TransactionId>,
    at: i64,
) -> Result<i64, LedgerError> {
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO ledger_events (kind, account_id, transaction_id, occurred_at) \
         VALUES ($1, $2, $3, $4) RETURNING seq",
    )
    .bind(kind.as_str())
    .bind(account.as_str())
    .bind(transaction.map(|t| t.as_str()))
    .bind(at)
    .fetch_one(tx.conn())
    .await?;
    Ok(seq)
}
