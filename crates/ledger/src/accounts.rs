//! Customers, products, accounts and pots: opening, reading and closing.

use bascule_core_banking::LedgerEventKind;
use bascule_domain::{
    Account, AccountId, AccountKind, AccountNumber, AccountStatus, AccountType, Currency, Customer,
    CustomerId, Pence, PostalAddress, ProductId, ProprietaryCode, SortCodeAccountNumber,
};
use bascule_store::WriteTx;
use rust_decimal::Decimal;
use sqlx::Row;
use time::Date;

use crate::posting::record_event;
use crate::rows::{self, account_columns, booked_balance_column, date_str, micros};
use crate::{Entry, EntryLine, Ledger, LedgerError, LineDetails, internal};

#[derive(Debug, Clone)]
pub struct NewCustomer {
    pub legal_name: String,
    pub date_of_birth: Date,
    pub email: String,
    pub phone: String,
    pub address: PostalAddress,
}

#[derive(Debug, Clone)]
pub struct NewProduct {
    pub name: String,
    pub kind: AccountKind,
    pub interest_rate: Option<Decimal>,
    pub monthly_fee: Pence,
    pub overdraft_rate: Option<Decimal>,
}

#[derive(Debug, Clone)]
pub struct NewCurrentAccount {
    pub customer: CustomerId,
    pub account_type: AccountType,
    pub nickname: Option<String>,
    pub overdraft_limit: Pence,
    pub product: Option<ProductId>,
}

#[derive(Debug, Clone)]
pub struct NewPot {
    pub parent: AccountId,
    pub name: String,
    pub goal: Option<Pence>,
    /// Gross annual rate as a fraction; `None` for a pot that earns nothing.
    pub interest_rate: Option<Decimal>,
    pub product: Option<ProductId>,
}

impl Ledger {
    pub(crate) async fn ensure_internal_accounts(&self) -> Result<(), LedgerError> {
        let mut tx = self.store.begin().await?;
        let today = date_str(self.clock.now().date());
        for code in internal::ALL {
            // Two nodes starting together both try: the second finds the row and does nothing.
            sqlx::query(
                "INSERT INTO accounts (id, internal_code, kind, account_type, currency, \
                 opened_on, status, overdraft_limit, created_seq) \
                 VALUES ($1, $1, 'Internal', 'Business', 'GBP', $2, 'Enabled', 0, 0) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(code)
            .bind(&today)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_product(&self, new: NewProduct) -> Result<ProductId, LedgerError> {
        let id = ProductId::generate(self.ids.as_ref());
        self.store.write(sqlx::query(
            "INSERT INTO products (id, name, kind, interest_rate, monthly_fee, overdraft_rate) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.as_str())
        .bind(&new.name)
        .bind(new.kind.as_str())
        .bind(new.interest_rate.map(|r| r.to_string()))
        .bind(new.monthly_fee.0)
        .bind(new.overdraft_rate.map(|r| r.to_string()))
        ).await?;
        Ok(id)
    }

    pub async fn create_customer(&self, new: NewCustomer) -> Result<Customer, LedgerError> {
        if new.legal_name.trim().is_empty() {
            return Err(LedgerError::Invalid("a customer needs a legal name".into()));
        }
        let id = CustomerId::generate(self.ids.as_ref());
        self.store.write(sqlx::query(
            "INSERT INTO customers (id, legal_name, date_of_birth, email, phone, address_lines, \
             town, postcode, country, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id.as_str())
        .bind(&new.legal_name)
        .bind(date_str(new.date_of_birth))
        .bind(&new.email)
        .bind(&new.phone)
        .bind(new.address.lines.join("\n"))
        .bind(&new.address.town)
        .bind(&new.address.postcode)
        .bind(&new.address.country)
        .bind(micros(self.clock.now()))
        ).await?;
        Ok(Customer {
            id,
            legal_name: new.legal_name,
            date_of_birth: new.date_of_birth,
            email: new.email,
            phone: new.phone,
            address: new.address,
        })
    }

    /// Every customer of the bank, in the order they joined.
    pub async fn customer_ids(&self) -> Result<Vec<CustomerId>, LedgerError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM customers ORDER BY created_at, id")
                .fetch_all(self.store.pool())
                .await?;
        ids.into_iter()
            .map(|id| CustomerId::parse(id).map_err(|e| LedgerError::Invalid(e.to_string())))
            .collect()
    }

    /// Whether the bank on `store` has any customers yet. It asks the store, not an open ledger,
    /// because opening one writes the bank's internal accounts.
    pub async fn has_customers(store: &bascule_store::Store) -> Result<bool, LedgerError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
            .fetch_one(store.pool())
            .await?;
        Ok(n > 0)
    }

    pub async fn open_current_account(
        &self,
        new: NewCurrentAccount,
    ) -> Result<Account, LedgerError> {
        if new.overdraft_limit.is_negative() {
            return Err(LedgerError::Invalid(
                "overdraft limit must not be negative".into(),
            ));
        }
        let mut tx = self.store.begin().await?;
        let serial: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = 'account_number' RETURNING value",
        )
        .fetch_one(tx.conn())
        .await?;
        let number = u32::try_from(serial)
            .ok()
            .and_then(|s| AccountNumber::issue(s).ok())
            .ok_or_else(|| LedgerError::Invalid("account numbers exhausted".into()))?;
        let account = Account {
            id: AccountId::generate(self.ids.as_ref()),
            customer_id: Some(new.customer),
            kind: AccountKind::CurrentAccount,
            account_type: new.account_type,
            currency: Currency::GBP,
            identification: Some(SortCodeAccountNumber {
                sort_code: self.config.sort_code,
                account_number: number,
            }),
            nickname: new.nickname,
            opened_on: self.clock.now().date(),
            status: AccountStatus::Enabled,
            closed_at: None,
            pot: None,
            interest_rate: None,
            overdraft_limit: new.overdraft_limit,
            product_id: new.product,
        };
        let seq = self.insert_account(&mut tx, &account).await?;
        tx.commit().await?;
        self.notify(Some(seq));
        Ok(account)
    }

    pub async fn open_pot(&self, new: NewPot) -> Result<Account, LedgerError> {
        if new.name.trim().is_empty() {
            return Err(LedgerError::Invalid("a pot needs a name".into()));
        }
        if new.interest_rate.is_some_and(|r| r < Decimal::ZERO) {
            return Err(LedgerError::Invalid(
                "interest rate must not be negative".into(),
            ));
        }
        let parent = self.account(&new.parent).await?;
        if parent.kind != AccountKind::CurrentAccount || !parent.accepts_postings() {
            return Err(LedgerError::Invalid(
                "a pot hangs off an open current account".into(),
            ));
        }
        let account = Account {
            id: AccountId::generate(self.ids.as_ref()),
            customer_id: parent.customer_id.clone(),
            kind: AccountKind::Savings,
            account_type: parent.account_type,
            currency: Currency::GBP,
            identification: None,
            nickname: Some(new.name.clone()),
            opened_on: self.clock.now().date(),
            status: AccountStatus::Enabled,
            closed_at: None,
            pot: Some(bascule_domain::Pot {
                parent: parent.id,
                name: new.name,
                goal: new.goal,
            }),
            interest_rate: new.interest_rate,
            overdraft_limit: Pence::ZERO,
            product_id: new.product,
        };
        let mut tx = self.store.begin().await?;
        // Lock the parent and re-check it is open in this transaction: a concurrent close of
        // the parent either waits for this pot (and then sees it) or has closed it already.
        let parent_open = sqlx::query(
            "UPDATE accounts SET status = status WHERE id = $1 AND status = 'Enabled' RETURNING id",
        )
        .bind(account.pot.as_ref().map(|p| p.parent.as_str()))
        .fetch_optional(tx.conn())
        .await?;
        if parent_open.is_none() {
            return Err(LedgerError::Invalid(
                "a pot hangs off an open current account".into(),
            ));
        }
        let seq = self.insert_account(&mut tx, &account).await?;
        tx.commit().await?;
        self.notify(Some(seq));
        Ok(account)
    }

    async fn insert_account(&self, tx: &mut WriteTx, a: &Account) -> Result<i64, LedgerError> {
        let now = micros(self.clock.now());
        let pot = a.pot.as_ref();
        // Opening order, numbered in the opening transaction (a count of rows would race).
        let created_seq: i64 = sqlx::query_scalar(
            "UPDATE counters SET value = value + 1 WHERE name = 'account_seq' RETURNING value",
        )
        .fetch_one(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO accounts (id, customer_id, kind, account_type, currency, sort_code, \
             account_number, nickname, opened_on, status, parent_account_id, pot_name, pot_goal, \
             interest_rate, overdraft_limit, product_id, created_seq) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(a.id.as_str())
        .bind(a.customer_id.as_ref().map(|c| c.as_str()))
        .bind(a.kind.as_str())
        .bind(a.account_type.as_str())
        .bind(a.currency.as_str())
        .bind(a.identification.map(|i| i.sort_code.to_string()))
        .bind(a.identification.map(|i| i.account_number.to_string()))
        .bind(a.nickname.as_deref())
        .bind(date_str(a.opened_on))
        .bind(a.status.as_str())
        .bind(pot.map(|p| p.parent.as_str()))
        .bind(pot.map(|p| p.name.as_str()))
        .bind(pot.and_then(|p| p.goal).map(|g| g.0))
        .bind(a.interest_rate.map(|r| r.to_string()))
        .bind(a.overdraft_limit.0)
        .bind(a.product_id.as_ref().map(|p| p.as_str()))
        .bind(created_seq)
        .execute(tx.conn())
        .await?;
        record_event(tx, LedgerEventKind::AccountOpened, &a.id, None, now).await
    }

    pub async fn account(&self, id: &AccountId) -> Result<Account, LedgerError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM accounts WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.store.pool())
        .await?
        .ok_or(LedgerError::NotFound("account"))?;
        Ok(rows::account(&row)?)
    }

    /// Disables or re-enables an account; a disabled account keeps its balance but takes no postings.
    pub async fn set_enabled(&self, id: &AccountId, enabled: bool) -> Result<(), LedgerError> {
        let (to, from) = if enabled {
            ("Enabled", "Disabled")
        } else {
            ("Disabled", "Enabled")
        };
        self.change_status(id, to, from, None).await
    }

    /// Closes an account for good. Its id, history and statements stay; a pot's money goes back
    /// to its parent in the same database transaction; any other account must be empty with
    /// nothing pending and no open pots.
    pub async fn close_account(&self, id: &AccountId) -> Result<(), LedgerError> {
        let account = self.account(id).await?;
        if account.status == AccountStatus::Closed {
            return Ok(());
        }
        if account.kind == AccountKind::Internal {
            return Err(LedgerError::Invalid("internal accounts never close".into()));
        }
        let mut tx = self.store.begin().await?;
        // Lock the account (and a pot's parent) first, in account-id order like every posting:
        // what is read below is then the final word, and a pot being opened under a current
        // account concurrently has either committed (and is seen) or waits for this.
        let mut locks = vec![id];
        if let Some(pot) = &account.pot {
            locks.push(&pot.parent);
        }
        locks.sort();
        for lock in locks {
            sqlx::query("UPDATE accounts SET status = status WHERE id = $1")
                .bind(lock.as_str())
                .execute(tx.conn())
                .await?;
        }
        let row = sqlx::query(
            "SELECT booked_balance, pending_debits, status FROM accounts WHERE id = $1 \
             AND status <> 'Closed'",
        )
        .bind(id.as_str())
        .fetch_optional(tx.conn())
        .await?;
        let Some(row) = row else {
            // Closed meanwhile by someone else.
            return Ok(());
        };
        let balance: i64 = row.try_get("booked_balance")?;
        let pending: i64 = row.try_get("pending_debits")?;
        let from: String = row.try_get("status")?;
        let mut last_seq = None;
        match &account.pot {
            Some(pot) => {
                if pending != 0 {
                    return Err(LedgerError::Invalid(
                        "a pot with pending card payments cannot close".into(),
                    ));
                }
                if balance > 0 {
                    let entry = Entry {
                        idempotency_key: None,
                        code: ProprietaryCode::PotTransfer,
                        lines: vec![
                            EntryLine {
                                account: id.clone(),
                                amount: Pence(-balance),
                                check_funds: false,
                                honour_disabled: true,
                                details: LineDetails {
                                    description: "Pot closed".into(),
                                    ..LineDetails::default()
                                },
                            },
                            EntryLine {
                                account: pot.parent.clone(),
                                amount: Pence(balance),
                                check_funds: false,
                                honour_disabled: false,
                                details: LineDetails {
                                    description: format!("Moved from {}", pot.name),
                                    ..LineDetails::default()
                                },
                            },
                        ],
                    };
                    last_seq = self.post_in(&mut tx, &entry, None).await?.1;
                }
            }
            None => {
                let open_pots: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM accounts WHERE parent_account_id = $1 \
                     AND status <> 'Closed'",
                )
                .bind(id.as_str())
                .fetch_one(tx.conn())
                .await?;
                if open_pots > 0 {
                    return Err(LedgerError::Invalid(
                        "close the account's pots before the account".into(),
                    ));
                }
            }
        }
        let closed_at = Some(micros(self.clock.now()));
        let seq = self
            .change_status_in(&mut tx, id, "Closed", &from, closed_at)
            .await?;
        tx.commit().await?;
        self.notify(last_seq);
        self.notify(Some(seq));
        Ok(())
    }

    async fn change_status(
        &self,
        id: &AccountId,
        to: &str,
        from: &str,
        closed_at: Option<i64>,
    ) -> Result<(), LedgerError> {
        let mut tx = self.store.begin().await?;
        let seq = self
            .change_status_in(&mut tx, id, to, from, closed_at)
            .await?;
        tx.commit().await?;
        self.notify(Some(seq));
        Ok(())
    }

    async fn change_status_in(
        &self,
        tx: &mut WriteTx,
        id: &AccountId,
        to: &str,
        from: &str,
        closed_at: Option<i64>,
    ) -> Result<i64, LedgerError> {
        let updated = sqlx::query(
            "UPDATE accounts SET status = $1, closed_at = $2 WHERE id = $3 AND status = $4 \
             AND kind <> 'Internal' AND ($1 <> 'Closed' OR (booked_balance = 0 AND pending_debits = 0))",
        )
        .bind(to)
        .bind(closed_at)
        .bind(id.as_str())
        .bind(from)
        .execute(tx.conn())
        .await?;
        if updated.rows_affected() != 1 {
            return Err(LedgerError::Invalid(format!(
                "account cannot go from {from} to {to} (it must exist, and be empty to close)"
            )));
        }
        record_event(
            tx,
            LedgerEventKind::AccountStatusChanged,
            id,
            None,
            micros(self.clock.now()),
        )
        .await
    }

    /// The booked balance: cached on customer accounts, the sum of postings on the bank's
    /// internal accounts (which keep no cached balance).
    pub async fn booked_balance(&self, id: &AccountId) -> Result<Pence, LedgerError> {
        let b: Option<i64> = sqlx::query_scalar(concat!(
            "SELECT ",
            booked_balance_column!(),
            " AS booked_balance FROM accounts WHERE id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.store.pool())
        .await?;
        b.map(Pence).ok_or(LedgerError::NotFound("account"))
    }

    /// Every customer account's cached balance against the sum of its postings: the ledger's
    /// own audit (internal accounts keep no cached balance). Returns the accounts that disagree
    /// (none, unless something is badly wrong).
    pub async fn audit(&self) -> Result<LedgerAudit, LedgerError> {
        let mismatched: Vec<String> = sqlx::query_scalar(
            "SELECT a.id FROM accounts a LEFT JOIN \
               (SELECT account_id, SUM(amount) AS total FROM postings GROUP BY account_id) p \
               ON p.account_id = a.id \
             WHERE a.kind <> 'Internal' AND a.booked_balance <> COALESCE(p.total, 0)",
        )
        .fetch_all(self.store.pool())
        .await?;
        let unbalanced: Vec<String> = sqlx::query_scalar(
            "SELECT ledger_transaction_id FROM postings GROUP BY ledger_transaction_id \
             HAVING SUM(amount) <> 0",
        )
        .fetch_all(self.store.pool())
        .await?;
        let total: i64 =
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings")
                .fetch_one(self.store.pool())
                .await?;
        let lines_without_posting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM transactions t WHERE t.status = 'Booked' AND NOT EXISTS \
             (SELECT 1 FROM postings p WHERE p.ledger_transaction_id = t.ledger_transaction_id \
              AND p.account_id = t.account_id)",
        )
        .fetch_one(self.store.pool())
        .await?;
        Ok(LedgerAudit {
            mismatched_balances: mismatched,
            unbalanced_transactions: unbalanced,
            postings_sum: total,
            booked_lines_without_posting: lines_without_posting,
        })
    }
}

/// The result of `Ledger::audit`: all empty and zero in a healthy ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerAudit {
    pub mismatched_balances: Vec<String>,
    pub unbalanced_transactions: Vec<String>,
    pub postings_sum: i64,
    pub booked_lines_without_posting: i64,
}

impl LedgerAudit {
    pub fn is_clean(&self) -> bool {
        self.mismatched_balances.is_empty()
            && self.unbalanced_transactions.is_empty()
            && self.postings_sum == 0
            && self.booked_lines_without_posting == 0
    }
}
