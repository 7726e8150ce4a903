//! The built-in ledger as a `CoreBanking` implementation: the reads the APIs make, funds
//! checks, payments, and the change feed.

use async_trait::async_trait;
use bascule_core_banking::{
    AccountBalance, CoreBanking, CoreBankingError, LedgerEvent, LedgerEventKind, OwnMovement,
    PageDirection, PaymentInstruction, PaymentOutcome, Result, ScheduledPaymentInstruction,
    StandingOrderInstruction, TransactionPage, TransactionQuery,
};
use bascule_domain::{
    Account, AccountId, AccountKind, Beneficiary, Currency, Customer, CustomerId,
    DirectDebitMandate, Offer, Pence, PostalAddress, Product, ProductId, ScheduledPayment,
    ScheduledPaymentId, SortCodeAccountNumber, StandingOrder, StandingOrderId, Statement,
    StatementId, Transaction, TransactionId,
};
use bascule_store::{StoreError, placeholders};
use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;
use tokio::sync::broadcast;

use crate::arrangements::{beneficiary, direct_debit, offer, scheduled_payment, standing_order};
use crate::rows::{
    self, account_columns, booked_balance_column, from_micros, get, micros, parse_date, parse_rate,
    transaction_columns,
};
use crate::{Ledger, LedgerError, NewScheduledPayment, NewStandingOrder};

fn customer(row: &AnyRow) -> Result<Customer, LedgerError> {
    let lines: String = get(row, "address_lines")?;
    Ok(Customer {
        id: rows::id(row, "id", CustomerId::parse)?,
        legal_name: get(row, "legal_name")?,
        date_of_birth: parse_date(&get::<String>(row, "date_of_birth")?)?,
        email: get(row, "email")?,
        phone: get(row, "phone")?,
        address: PostalAddress {
            lines: lines.lines().map(str::to_owned).collect(),
            town: get(row, "town")?,
            postcode: get(row, "postcode")?,
            country: get(row, "country")?,
        },
    })
}

fn statement(row: &AnyRow) -> Result<Statement, LedgerError> {
    Ok(Statement {
        id: rows::id(row, "id", StatementId::parse)?,
        account_id: rows::id(row, "account_id", AccountId::parse)?,
        starts_at: from_micros(get(row, "starts_at")?)?,
        ends_at: from_micros(get(row, "ends_at")?)?,
        created_at: from_micros(get(row, "created_at")?)?,
        opening_balance: Pence(get(row, "opening_balance")?),
        closing_balance: Pence(get(row, "closing_balance")?),
        total_credits: Pence(get(row, "total_credits")?),
        total_debits: Pence(get(row, "total_debits")?),
    })
}

fn product(row: &AnyRow) -> Result<Product, LedgerError> {
    let kind: String = get(row, "kind")?;
    Ok(Product {
        id: rows::id(row, "product_id", ProductId::parse)?,
        name: get(row, "name")?,
        kind: AccountKind::parse(&kind).ok_or_else(|| StoreError::corrupt("product kind"))?,
        interest_rate: parse_rate(get(row, "interest_rate")?)?,
        monthly_fee: Pence(get(row, "monthly_fee")?),
        overdraft_rate: parse_rate(get(row, "overdraft_rate")?)?,
    })
}

macro_rules! txn_filter {
    () => {
        " FROM transactions WHERE account_id = $1 AND status <> 'Released' \
          AND booked_at >= $2 AND booked_at <= $3 AND ($4 = '' OR credit_debit = $4)"
    };
}

impl Ledger {
    /// Rows of `table` whose account is one of `accounts`, in a stable order.
    async fn by_accounts<T>(
        &self,
        sql_head: &str,
        order: &str,
        accounts: &[AccountId],
        decode: fn(&AnyRow) -> Result<T, LedgerError>,
    ) -> Result<Vec<T>, LedgerError> {
        if accounts.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{sql_head} IN ({}) ORDER BY {order}",
            placeholders(1, accounts.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in accounts {
            q = q.bind(a.as_str());
        }
        q.fetch_all(self.store.pool())
            .await?
            .iter()
            .map(decode)
            .collect()
    }

    async fn accounts_in(&self, ids: &[AccountId]) -> Result<Vec<Account>, LedgerError> {
        let found = self
            .by_accounts(
                concat!("SELECT ", account_columns!(), " FROM accounts WHERE id"),
                "id",
                ids,
                |r| Ok(rows::account(r)?),
            )
            .await?;
        // Callers get their own order back, whatever the database returned.
        Ok(ids
            .iter()
            .filter_map(|id| found.iter().find(|a| &a.id == id).cloned())
            .collect())
    }
}

#[async_trait]
impl CoreBanking for Ledger {
    async fn customer(&self, id: &CustomerId) -> Result<Customer> {
        let row = sqlx::query("SELECT * FROM customers WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.store.pool())
            .await
            .map_err(LedgerError::from)?
            .ok_or(CoreBankingError::NotFound("customer"))?;
        Ok(customer(&row)?)
    }

    async fn find_by_identification(
        &self,
        identification: &SortCodeAccountNumber,
    ) -> Result<Option<(Customer, Account)>> {
        let Some(id) = self.account_by_identification(identification).await? else {
            return Ok(None);
        };
        let account = self.account(&id).await?;
        let Some(owner) = &account.customer_id else {
            return Ok(None);
        };
        let customer = self.customer(owner).await?;
        Ok(Some((customer, account)))
    }

    async fn accounts_of_customer(&self, id: &CustomerId) -> Result<Vec<Account>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE customer_id = $1 ORDER BY created_seq, id"
        ))
        .bind(id.as_str())
        .fetch_all(self.store.pool())
        .await
        .map_err(LedgerError::from)?;
        Ok(rows
            .iter()
            .map(rows::account)
            .collect::<Result<_, _>>()
            .map_err(LedgerError::from)?)
    }

    async fn accounts(&self, ids: &[AccountId]) -> Result<Vec<Account>> {
        Ok(self.accounts_in(ids).await?)
    }

    async fn balances(&self, ids: &[AccountId]) -> Result<Vec<AccountBalance>> {
        let at = self.clock.now();
        let found = self
            .by_accounts(
                concat!(
                    "SELECT id, currency, ",
                    booked_balance_column!(),
                    " AS booked_balance, pending_debits, pending_credits, \
                     overdraft_limit FROM accounts WHERE id"
                ),
                "id",
                ids,
                |r| {
                    let currency: String = get(r, "currency")?;
                    let booked = Pence(get(r, "booked_balance")?);
                    let pending_debits = Pence(get(r, "pending_debits")?);
                    let overdraft_limit = Pence(get(r, "overdraft_limit")?);
                    Ok(AccountBalance {
                        account_id: rows::id(r, "id", AccountId::parse)?,
                        currency: Currency::parse(&currency)
                            .map_err(|_| StoreError::corrupt("currency"))?,
                        booked,
                        pending_debits,
                        pending_credits: Pence(get(r, "pending_credits")?),
                        overdraft_limit,
                        available: booked - pending_debits + overdraft_limit,
                        // Filled in below: one clock reading for the whole answer.
                        at: time::OffsetDateTime::UNIX_EPOCH,
                    })
                },
            )
            .await?;
        Ok(ids
            .iter()
            .filter_map(|id| found.iter().find(|b| &b.account_id == id).cloned())
            .map(|b| AccountBalance { at, ..b })
            .collect())
    }

    async fn transactions(
        &self,
        account: &AccountId,
        query: &TransactionQuery,
    ) -> Result<TransactionPage> {
        let from = query.from.map(micros).unwrap_or(i64::MIN);
        let to = query.to.map(micros).unwrap_or(i64::MAX);
        let cd = query.credit_debit.map(|c| c.as_str()).unwrap_or("");
        let limit = i64::from(query.limit.clamp(1, 10_000));
        let forward = query.direction == PageDirection::Forward;
        let pool = self.store.pool();
        let map_err = |e: sqlx::Error| CoreBankingError::from(LedgerError::from(e));

        let total: i64 = sqlx::query_scalar(concat!("SELECT COUNT(*)", txn_filter!()))
            .bind(account.as_str())
            .bind(from)
            .bind(to)
            .bind(cd)
            .fetch_one(pool)
            .await
            .map_err(map_err)?;

        let rows = match (&query.cursor, forward) {
            (None, true) => sqlx::query(concat!(
                "SELECT ", transaction_columns!(), txn_filter!(),
                " ORDER BY booked_at, id LIMIT $5"
            )),
            (None, false) => sqlx::query(concat!(
                "SELECT ", transaction_columns!(), txn_filter!(),
                " ORDER BY booked_at DESC, id DESC LIMIT $5"
            )),
            (Some(_), true) => sqlx::query(concat!(
                "SELECT ", transaction_columns!(), txn_filter!(),
                " AND (booked_at > $6 OR (booked_at = $6 AND id > $7)) ORDER BY booked_at, id LIMIT $5"
            )),
            (Some(_), false) => sqlx::query(concat!(
                "SELECT ", transaction_columns!(), txn_filter!(),
                " AND (booked_at < $6 OR (booked_at = $6 AND id < $7)) \
                  ORDER BY booked_at DESC, id DESC LIMIT $5"
            )),
        }
        .bind(account.as_str())
        .bind(from)
        .bind(to)
        .bind(cd)
        .bind(limit + 1);
        let rows = match &query.cursor {
            Some(c) => rows.bind(micros(c.booked_at)).bind(c.id.as_str()),
            None => rows,
        }
        .fetch_all(pool)
        .await
        .map_err(map_err)?;

        let more_ahead = rows.len() as i64 > limit;
        let mut transactions = rows
            .iter()
            .take(limit as usize)
            .map(rows::transaction)
            .collect::<Result<Vec<_>, _>>()
            .map_err(LedgerError::from)?;
        if !forward {
            transactions.reverse();
        }
        // Is there anything on the cursor's other side (the cursor row itself included)?
        let behind = match &query.cursor {
            None => false,
            Some(c) => {
                let sql = if forward {
                    concat!(
                        "SELECT id",
                        txn_filter!(),
                        " AND (booked_at < $5 OR (booked_at = $5 AND id <= $6)) LIMIT 1"
                    )
                } else {
                    concat!(
                        "SELECT id",
                        txn_filter!(),
                        " AND (booked_at > $5 OR (booked_at = $5 AND id >= $6)) LIMIT 1"
                    )
                };
                sqlx::query(sql)
                    .bind(account.as_str())
                    .bind(from)
                    .bind(to)
                    .bind(cd)
                    .bind(micros(c.booked_at))
                    .bind(c.id.as_str())
                    .fetch_optional(pool)
                    .await
                    .map_err(map_err)?
                    .is_some()
            }
        };
        let (has_before, has_after) = if forward {
            (behind, more_ahead)
        } else {
            (more_ahead, behind)
        };
        Ok(TransactionPage {
            transactions,
            total: u64::try_from(total).unwrap_or(0),
            has_before,
            has_after,
        })
    }

    async fn beneficiaries(&self, accounts: &[AccountId]) -> Result<Vec<Beneficiary>> {
        Ok(self
            .by_accounts(
                "SELECT * FROM beneficiaries WHERE account_id",
                "account_id, id",
                accounts,
                beneficiary,
            )
            .await?)
    }

    async fn offers(&self, accounts: &[AccountId]) -> Result<Vec<Offer>> {
        Ok(self
            .by_accounts(
                "SELECT * FROM offers WHERE account_id",
                "account_id, id",
                accounts,
                offer,
            )
            .await?)
    }

    async fn standing_orders(&self, accounts: &[AccountId]) -> Result<Vec<StandingOrder>> {
        Ok(self
            .by_accounts(
                "SELECT * FROM standing_orders WHERE account_id",
                "account_id, id",
                accounts,
                standing_order,
            )
            .await?)
    }

    async fn direct_debits(&self, accounts: &[AccountId]) -> Result<Vec<DirectDebitMandate>> {
        Ok(self
            .by_accounts(
                "SELECT * FROM direct_debits WHERE account_id",
                "account_id, id",
                accounts,
                direct_debit,
            )
            .await?)
    }

    async fn scheduled_payments(&self, accounts: &[AccountId]) -> Result<Vec<ScheduledPayment>> {
        Ok(self
            .by_accounts(
                "SELECT * FROM scheduled_payments WHERE status = 'Active' AND account_id",
                "account_id, execute_on, id",
                accounts,
                scheduled_payment,
            )
            .await?)
    }

    async fn statements(&self, accounts: &[AccountId]) -> Result<Vec<Statement>> {
        Ok(self
            .by_accounts(
                "SELECT * FROM statements WHERE account_id",
                "account_id, starts_at",
                accounts,
                statement,
            )
            .await?)
    }

    async fn statement(&self, id: &StatementId) -> Result<Statement> {
        let row = sqlx::query("SELECT * FROM statements WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(self.store.pool())
            .await
            .map_err(LedgerError::from)?
            .ok_or(CoreBankingError::NotFound("statement"))?;
        Ok(statement(&row)?)
    }

    async fn products(&self, accounts: &[AccountId]) -> Result<Vec<(AccountId, Product)>> {
        Ok(self
            .by_accounts(
                "SELECT a.id AS account_id, p.id AS product_id, p.name, p.kind, p.interest_rate, \
                 p.monthly_fee, p.overdraft_rate FROM accounts a \
                 JOIN products p ON p.id = a.product_id WHERE a.id",
                "a.id",
                accounts,
                |r| Ok((rows::id(r, "account_id", AccountId::parse)?, product(r)?)),
            )
            .await?)
    }

    async fn transactions_by_id(&self, ids: &[TransactionId]) -> Result<Vec<Transaction>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {} FROM transactions WHERE id IN ({})",
            transaction_columns!(),
            placeholders(1, ids.len())
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in ids {
            q = q.bind(id.as_str());
        }
        let rows = q
            .fetch_all(self.store.pool())
            .await
            .map_err(|e| CoreBankingError::from(LedgerError::from(e)))?;
        Ok(rows
            .iter()
            .map(rows::transaction)
            .collect::<Result<Vec<_>, _>>()
            .map_err(LedgerError::from)?)
    }

    async fn move_own_money(&self, movement: &OwnMovement) -> Result<PaymentOutcome> {
        let (from, to) = (
            self.account(&movement.from).await?,
            self.account(&movement.to).await?,
        );
        let (parent, pot, into_pot) = match (&from.pot, &to.pot) {
            (None, Some(p)) if p.parent == from.id => (&from.id, &to.id, true),
            (Some(p), None) if p.parent == to.id => (&to.id, &from.id, false),
            _ => {
                return Err(CoreBankingError::Invalid(
                    "money moves between a current account and one of its own pots".into(),
                ));
            }
        };
        let posted = self
            .move_between_pot(
                parent,
                pot,
                movement.amount,
                into_pot,
                // Its own namespace, as for payments.
                Some(format!("own-move:{}", movement.idempotency_key)),
            )
            .await?;
        let debtor_transaction_id = posted
            .transactions
            .iter()
            .find(|(a, _)| *a == movement.from)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| CoreBankingError::Unavailable("a move without its debit".into()))?;
        Ok(PaymentOutcome {
            ledger_transaction_id: posted.ledger_transaction_id,
            debtor_transaction_id,
            booked_at: posted.posted_at,
            replayed: posted.replayed,
        })
    }

    async fn check_funds(&self, account: &AccountId, amount: Pence) -> Result<bool> {
        let balance = self.balances(std::slice::from_ref(account)).await?;
        let b = balance
            .first()
            .ok_or(CoreBankingError::NotFound("account"))?;
        Ok(b.available.0 >= amount.0)
    }

    async fn post_payment(&self, payment: &PaymentInstruction) -> Result<PaymentOutcome> {
        let posted = self
            .send_payment(
                &payment.debtor,
                &payment.creditor,
                payment.amount,
                &payment.reference,
                payment.code,
                // Its own namespace: a caller's key can never replay (or block) one of the
                // ledger's own jobs (`so:`, `sp:`, `interest:`, `card-settle:` ...).
                Some(format!("payment:{}", payment.idempotency_key)),
            )
            .await?;
        let debtor_transaction_id: TransactionId = posted
            .transactions
            .iter()
            .find(|(a, _)| *a == payment.debtor)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                CoreBankingError::Unavailable("payment posted without a debit line".into())
            })?;
        Ok(PaymentOutcome {
            ledger_transaction_id: posted.ledger_transaction_id,
            debtor_transaction_id,
            booked_at: posted.posted_at,
            replayed: posted.replayed,
        })
    }

    async fn schedule_payment(
        &self,
        i: &ScheduledPaymentInstruction,
    ) -> Result<ScheduledPaymentId> {
        // The request id is the schedule's id: a retry finds the first one.
        let new = NewScheduledPayment {
            account: i.debtor.clone(),
            execute_on: i.execute_on,
            amount: i.amount,
            reference: i.reference.clone(),
            creditor_name: i.creditor.name.clone(),
            creditor: i.creditor.identification,
        };
        let id = ScheduledPaymentId::from_uuid(i.request_id);
        Ok(self.add_scheduled_payment_with_id(id, new).await?.id)
    }

    async fn create_standing_order(&self, i: &StandingOrderInstruction) -> Result<StandingOrderId> {
        let new = NewStandingOrder {
            account: i.debtor.clone(),
            frequency: i.frequency,
            reference: i.reference.clone(),
            creditor_name: i.creditor.name.clone(),
            creditor: i.creditor.identification,
            amount: i.amount,
            first_payment_on: i.first_payment_on,
            final_payment_on: i.final_payment_on,
        };
        let id = StandingOrderId::from_uuid(i.request_id);
        Ok(self.add_standing_order_with_id(id, new).await?.id)
    }

    async fn events_since(&self, after_seq: i64, limit: u32) -> Result<Vec<LedgerEvent>> {
        // Feed order is (xid, seq): on PostgreSQL `seq` is taken at INSERT, so a transaction
        // that started writing earlier can commit an event numbered after one still in flight.
        // Only rows of finished transactions are read (`xid` below the horizon), and a new row
        // always has an `xid` at or above it, so what has been delivered never gains a row
        // before its end. On SQLite every `xid` is 0 and this is plain `seq` order.
        let horizon = self
            .store
            .visible_xid_horizon()
            .await
            .map_err(LedgerError::from)?;
        let cursor_xid: Option<i64> = sqlx::query_scalar(
            "SELECT xid FROM ledger_events WHERE seq <= $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(after_seq)
        .fetch_optional(self.store.pool())
        .await
        .map_err(LedgerError::from)?;
        let rows = sqlx::query(
            "SELECT seq, kind, account_id, transaction_id, occurred_at FROM ledger_events \
             WHERE xid < $1 AND (xid > $2 OR (xid = $2 AND seq > $3)) \
             ORDER BY xid, seq LIMIT $4",
        )
        .bind(horizon)
        .bind(cursor_xid.unwrap_or(-1))
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(self.store.pool())
        .await
        .map_err(LedgerError::from)?;
        rows.iter()
            .map(|r| {
                let kind: String = get(r, "kind")?;
                Ok(LedgerEvent {
                    seq: get(r, "seq")?,
                    kind: LedgerEventKind::parse(&kind)
                        .ok_or_else(|| StoreError::corrupt("event kind"))?,
                    account_id: rows::id(r, "account_id", AccountId::parse)?,
                    transaction_id: get::<Option<String>>(r, "transaction_id")?
                        .map(TransactionId::parse)
                        .transpose()
                        .map_err(|_| StoreError::corrupt("event transaction"))?,
                    occurred_at: from_micros(get(r, "occurred_at")?)?,
                })
            })
            .collect::<Result<_, LedgerError>>()
            .map_err(Into::into)
    }

    fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.changes.subscribe()
    }
}
