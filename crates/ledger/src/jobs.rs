//! The clock-driven daily jobs: standing orders and scheduled payments that fall due, daily
//! interest accrual on pots and its monthly payment, and monthly statements. Every step is
//! idempotent, so running the jobs twice — or after a crash, or after the clock jumped 40
//! days — does each thing exactly once.

use std::collections::BTreeMap;

use bascule_core_banking::Creditor;
use bascule_domain::{AccountId, Pence, ProprietaryCode, StatementId, interest};
use rust_decimal::Decimal;
use sqlx::Row;
use time::{Date, Duration, OffsetDateTime, Time};

use crate::arrangements::{scheduled_payment, standing_order};
use crate::rows::{date_str, get, micros, parse_date, parse_rate};
use crate::{Entry, EntryLine, Ledger, LedgerError, LineDetails, internal};

/// What one run of the daily jobs did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobReport {
    pub standing_orders_paid: u32,
    pub scheduled_payments_paid: u32,
    pub payments_refused: u32,
    pub interest_days_accrued: u32,
    pub interest_payments: u32,
    pub statements: u32,
}

fn midnight(d: Date) -> OffsetDateTime {
    d.with_time(Time::MIDNIGHT).assume_utc()
}

fn first_of_month(d: Date) -> Date {
    d.replace_day(1).unwrap_or(d)
}

fn next_month(d: Date) -> Date {
    let first = first_of_month(d);
    first + Duration::days(i64::from(first.month().length(first.year())))
}

/// A payment the bank declines (no funds, account closed, an instruction that cannot be paid)
/// is a refusal for that instruction only; only storage failures stop the jobs.
fn refused(e: &LedgerError) -> bool {
    matches!(
        e,
        LedgerError::InsufficientFunds
            | LedgerError::AccountNotEnabled(_)
            | LedgerError::Invalid(_)
            | LedgerError::NotFound(_)
            | LedgerError::Rule(_)
            | LedgerError::IdempotencyConflict
    )
}

impl Ledger {
    /// Runs every daily job up to the clock's current time. Days are UTC calendar days.
    pub async fn run_daily_jobs(&self) -> Result<JobReport, LedgerError> {
        let today = self.clock.now().date();
        let mut report = JobReport::default();
        self.pay_standing_orders(today, &mut report).await?;
        self.pay_scheduled_payments(today, &mut report).await?;
        self.accrue_and_pay_interest(today, &mut report).await?;
        self.issue_statements(today, &mut report).await?;
        Ok(report)
    }

    async fn pay_standing_orders(
        &self,
        today: Date,
        report: &mut JobReport,
    ) -> Result<(), LedgerError> {
        loop {
            let rows = sqlx::query(
                "SELECT * FROM standing_orders WHERE status = 'Active' AND next_payment_on <= $1 \
                 ORDER BY next_payment_on, id LIMIT 100",
            )
            .bind(date_str(today))
            .fetch_all(self.store.pool())
            .await?;
            if rows.is_empty() {
                return Ok(());
            }
            for row in rows {
                let so = standing_order(&row)?;
                let Some(due) = so.next_payment_on else {
                    continue;
                };
                let creditor = Creditor {
                    name: so.creditor_name.clone(),
                    identification: so.creditor,
                };
                // The key makes a crash between paying and advancing the schedule harmless.
                let paid = self
                    .send_payment(
                        &so.account_id,
                        &creditor,
                        so.amount,
                        &so.reference,
                        ProprietaryCode::StandingOrder,
                        Some(format!("so:{}:{}", so.id, date_str(due))),
                    )
                    .await;
                match paid {
                    Ok(_) => report.standing_orders_paid += 1,
                    Err(e) if refused(&e) => {
                        tracing::info!(standing_order = %so.id, due = %due, error = %e, "standing order payment refused");
                        report.payments_refused += 1;
                    }
                    Err(e) => return Err(e),
                }
                let next = so.frequency.next_after(due);
                let finished = so.final_payment_on.is_some_and(|f| next > f);
                self.store.write(sqlx::query(
                    "UPDATE standing_orders SET next_payment_on = $1, last_payment_on = $2, \
                     status = $3 WHERE id = $4",
                )
                .bind((!finished).then(|| date_str(next)))
                .bind(date_str(due))
                .bind(if finished { "Inactive" } else { "Active" })
                .bind(so.id.as_str())
                ).await?;
            }
        }
    }

    async fn pay_scheduled_payments(
        &self,
        today: Date,
        report: &mut JobReport,
    ) -> Result<(), LedgerError> {
        let rows = sqlx::query(
            "SELECT * FROM scheduled_payments WHERE status = 'Active' AND execute_on <= $1 \
             ORDER BY execute_on, id",
        )
        .bind(date_str(today))
        .fetch_all(self.store.pool())
        .await?;
        for row in rows {
            let sp = scheduled_payment(&row)?;
            let creditor = Creditor {
                name: sp.creditor_name.clone(),
                identification: sp.creditor,
            };
            let paid = self
                .send_payment(
                    &sp.account_id,
                    &creditor,
                    sp.amount,
                    &sp.reference,
                    ProprietaryCode::FasterPayment,
                    Some(format!("sp:{}", sp.id)),
                )
                .await;
            match paid {
                Ok(_) => report.scheduled_payments_paid += 1,
                Err(e) if refused(&e) => {
                    tracing::info!(scheduled_payment = %sp.id, error = %e, "scheduled payment refused");
                    report.payments_refused += 1;
                }
                Err(e) => return Err(e),
            }
            self.store
                .write(
                    sqlx::query("UPDATE scheduled_payments SET status = 'Inactive' WHERE id = $1")
                        .bind(sp.id.as_str()),
                )
                .await?;
        }
        Ok(())
    }

    async fn accrue_and_pay_interest(
        &self,
        today: Date,
        report: &mut JobReport,
    ) -> Result<(), LedgerError> {
        let yesterday = date_str(today - Duration::days(1));
        // A run that accrued every pot to yesterday and paid everything due leaves nothing for
        // another run the same day: skip the scan over every pot.
        let done: Option<String> =
            sqlx::query_scalar("SELECT last_day FROM job_runs WHERE job = 'interest'")
                .fetch_optional(self.store.pool())
                .await?;
        if done.is_some_and(|d| d >= yesterday) {
            return Ok(());
        }
        let pots = sqlx::query(
            "SELECT id, opened_on, interest_rate, closed_at FROM accounts \
             WHERE kind = 'Savings' AND interest_rate IS NOT NULL AND interest_settled = 0 \
             ORDER BY id",
        )
        .fetch_all(self.store.pool())
        .await?;
        let this_month = first_of_month(today);
        let mut complete = true;
        for pot in pots {
            let id = crate::rows::id(&pot, "id", AccountId::parse)?;
            let Some(rate) = parse_rate(get(&pot, "interest_rate")?)? else {
                continue;
            };
            let opened = parse_date(&get::<String>(&pot, "opened_on")?)?;
            let closed: Option<i64> = get(&pot, "closed_at")?;
            let last: Option<String> =
                sqlx::query_scalar("SELECT MAX(day) FROM interest_accruals WHERE account_id = $1")
                    .bind(id.as_str())
                    .fetch_one(self.store.pool())
                    .await?;
            let start = match last {
                Some(d) => parse_date(&d)? + Duration::days(1),
                None => opened,
            };
            // A day accrues once it is over; a closed pot stops accruing the day it closed.
            let mut end = today - Duration::days(1);
            if let Some(c) = closed {
                end = end.min(crate::rows::from_micros(c)?.date() - Duration::days(1));
            }
            if start <= end {
                report.interest_days_accrued += self.accrue(&id, rate, start, end).await?;
            }
            let (paid, all_paid) = self.pay_interest(&id, today).await?;
            report.interest_payments += paid;
            complete &= all_paid;
            // A closed pot accrued to its last day, with its last month paid, is done for good.
            if closed.is_some() && all_paid && end < this_month {
                self.store
                    .write(
                        sqlx::query("UPDATE accounts SET interest_settled = 1 WHERE id = $1")
                            .bind(id.as_str()),
                    )
                    .await?;
            }
        }
        if complete {
            self.store
                .write(
                    sqlx::query(
                        "INSERT INTO job_runs (job, last_day) VALUES ('interest', $1) \
                         ON CONFLICT (job) DO UPDATE SET last_day = excluded.last_day \
                         WHERE job_runs.last_day < excluded.last_day",
                    )
                    .bind(&yesterday),
                )
                .await?;
        }
        Ok(())
    }

    async fn accrue(
        &self,
        pot: &AccountId,
        rate: Decimal,
        start: Date,
        end: Date,
    ) -> Result<u32, LedgerError> {
        let opening: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings \
             WHERE account_id = $1 AND posted_at < $2",
        )
        .bind(pot.as_str())
        .bind(micros(midnight(start)))
        .fetch_one(self.store.pool())
        .await?;
        let moves = sqlx::query(
            "SELECT amount, posted_at FROM postings WHERE account_id = $1 AND posted_at >= $2 \
             AND posted_at < $3 ORDER BY posted_at, id",
        )
        .bind(pot.as_str())
        .bind(micros(midnight(start)))
        .bind(micros(midnight(end + Duration::days(1))))
        .fetch_all(self.store.pool())
        .await?;
        let mut moves = moves.iter().peekable();
        let mut balance = opening;
        let mut tx = self.store.begin().await?;
        let mut day = start;
        let mut days = 0;
        while day <= end {
            let day_ends = micros(midnight(day + Duration::days(1)));
            while let Some(m) =
                moves.next_if(|m| m.try_get::<i64, _>("posted_at").is_ok_and(|t| t < day_ends))
            {
                balance += m.try_get::<i64, _>("amount")?;
            }
            let accrued = interest::daily_accrual(Pence(balance), rate);
            // Another node accruing the same pot at the same time writes the same rows.
            sqlx::query(
                "INSERT INTO interest_accruals (account_id, day, balance, accrued) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(pot.as_str())
            .bind(date_str(day))
            .bind(balance)
            .bind(accrued.to_string())
            .execute(tx.conn())
            .await?;
            days += 1;
            day += Duration::days(1);
        }
        tx.commit().await?;
        Ok(days)
    }

    /// Pays every completed month of accrued interest not yet paid. Returns the payments made
    /// and whether every such month is now paid (false if a payment was refused).
    async fn pay_interest(&self, pot: &AccountId, today: Date) -> Result<(u32, bool), LedgerError> {
        let rows = sqlx::query(
            "SELECT substr(day, 1, 7) AS month, accrued FROM interest_accruals \
             WHERE account_id = $1 AND day < $2 AND substr(day, 1, 7) NOT IN \
               (SELECT month FROM interest_payments WHERE account_id = $1)",
        )
        .bind(pot.as_str())
        .bind(date_str(first_of_month(today)))
        .fetch_all(self.store.pool())
        .await?;
        let mut months: BTreeMap<String, Decimal> = BTreeMap::new();
        for row in rows {
            let accrued: String = get(&row, "accrued")?;
            let accrued: Decimal = accrued
                .parse()
                .map_err(|_| bascule_store::StoreError::corrupt("accrual"))?;
            *months.entry(get(&row, "month")?).or_default() += accrued;
        }
        // A closed pot sent its money home to its parent, and interest it earned before closing
        // follows it there: a closed pot takes no postings.
        let row = sqlx::query("SELECT status, parent_account_id FROM accounts WHERE id = $1")
            .bind(pot.as_str())
            .fetch_one(self.store.pool())
            .await?;
        let status: String = get(&row, "status")?;
        let parent: Option<String> = get(&row, "parent_account_id")?;
        let payee = match (status.as_str(), parent) {
            ("Closed", Some(parent)) => AccountId::parse(parent)
                .map_err(|_| bascule_store::StoreError::corrupt("parent account"))?,
            _ => pot.clone(),
        };
        let mut paid = 0;
        let mut all_paid = true;
        for (month, accrued) in months {
            let amount = interest::monthly_payment(accrued);
            let mut tx = self.store.begin().await?;
            let mut ltx = None;
            let mut seq = None;
            let mut fresh = false;
            if amount.0 > 0 {
                let entry = Entry {
                    idempotency_key: Some(format!("interest:{pot}:{month}")),
                    code: ProprietaryCode::Interest,
                    lines: vec![
                        EntryLine {
                            account: internal::account(internal::INTEREST_EXPENSE),
                            amount: -amount,
                            check_funds: false,
                            honour_disabled: false,
                            details: LineDetails::default(),
                        },
                        EntryLine {
                            account: payee.clone(),
                            amount,
                            check_funds: false,
                            honour_disabled: false,
                            details: LineDetails {
                                description: format!("Interest for {month}"),
                                ..LineDetails::default()
                            },
                        },
                    ],
                };
                let (posted, last) = match self.post_in(&mut tx, &entry, None).await {
                    Ok(done) => done,
                    // The payee takes no postings now (disabled): the month stays unpaid and is
                    // paid on a later run, rather than failing every job for every account.
                    Err(e) if refused(&e) => {
                        all_paid = false;
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                // Another node paid this month first: its entry is replayed, nothing posted.
                fresh = !posted.replayed;
                ltx = Some(posted.ledger_transaction_id);
                seq = last;
            }
            sqlx::query(
                "INSERT INTO interest_payments (account_id, month, amount, ledger_transaction_id) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(pot.as_str())
            .bind(&month)
            .bind(amount.0)
            .bind(ltx.as_ref().map(|l| l.as_str()))
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
            self.notify(seq);
            paid += u32::from(fresh);
        }
        Ok((paid, all_paid))
    }

    async fn issue_statements(
        &self,
        today: Date,
        report: &mut JobReport,
    ) -> Result<(), LedgerError> {
        let accounts = sqlx::query(
            "SELECT a.id, a.opened_on, (SELECT MAX(s.starts_at) FROM statements s \
               WHERE s.account_id = a.id) AS last_start \
             FROM accounts a WHERE a.customer_id IS NOT NULL ORDER BY a.id",
        )
        .fetch_all(self.store.pool())
        .await?;
        let this_month = first_of_month(today);
        let now = micros(self.clock.now());
        for row in accounts {
            let id = crate::rows::id(&row, "id", AccountId::parse)?;
            let last: Option<i64> = get(&row, "last_start")?;
            let mut month = match last {
                Some(l) => next_month(crate::rows::from_micros(l)?.date()),
                None => first_of_month(parse_date(&get::<String>(&row, "opened_on")?)?),
            };
            while month < this_month {
                let (start, end) = (midnight(month), midnight(next_month(month)));
                let sums = sqlx::query(
                    "SELECT \
                       CAST(COALESCE(SUM(CASE WHEN posted_at < $2 THEN amount ELSE 0 END), 0) AS BIGINT) AS opening, \
                       CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS closing, \
                       CAST(COALESCE(SUM(CASE WHEN posted_at >= $2 AND amount > 0 THEN amount ELSE 0 END), 0) AS BIGINT) AS credits, \
                       CAST(COALESCE(SUM(CASE WHEN posted_at >= $2 AND amount < 0 THEN amount ELSE 0 END), 0) AS BIGINT) AS debits \
                     FROM postings WHERE account_id = $1 AND posted_at < $3",
                )
                .bind(id.as_str())
                .bind(micros(start))
                .bind(micros(end))
                .fetch_one(self.store.pool())
                .await?;
                let inserted = self.store.write(sqlx::query(
                    "INSERT INTO statements (id, account_id, starts_at, ends_at, created_at, \
                     opening_balance, closing_balance, total_credits, total_debits) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (account_id, starts_at) DO NOTHING",
                )
                .bind(StatementId::generate(self.ids.as_ref()).as_str())
                .bind(id.as_str())
                .bind(micros(start))
                .bind(micros(end) - 1)
                .bind(now)
                .bind(get::<i64>(&sums, "opening")?)
                .bind(get::<i64>(&sums, "closing")?)
                .bind(get::<i64>(&sums, "credits")?)
                .bind(-get::<i64>(&sums, "debits")?)
                ).await?;
                report.statements += u32::try_from(inserted).unwrap_or(0);
                month = next_month(month);
            }
        }
        Ok(())
    }
}
