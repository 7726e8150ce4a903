//! Interest on pots (daily accrual on the end-of-day balance, paid monthly, rounded down) and
//! monthly statements, driven by moving the clock and running the daily jobs.

use bascule_core_banking::{CoreBanking, TransactionQuery};
use bascule_domain::{AccountId, Pence, ProprietaryCode, Statement, TransactionStatus, interest};
use bascule_ledger::Ledger;
use bascule_testkit::{BACKENDS, test_ledger};
use rust_decimal::Decimal;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::support;

async fn interest_lines(
    ledger: &Ledger,
    pot: &AccountId,
) -> anyhow::Result<Vec<bascule_domain::Transaction>> {
    let page = ledger
        .transactions(
            pot,
            &TransactionQuery {
                limit: 1_000,
                ..Default::default()
            },
        )
        .await?;
    Ok(page
        .transactions
        .into_iter()
        .filter(|t| t.code == ProprietaryCode::Interest)
        .collect())
}

/// The sum of an account's postings before `t`, from its booked lines.
async fn balance_before(
    ledger: &Ledger,
    account: &AccountId,
    t: OffsetDateTime,
) -> anyhow::Result<i64> {
    let page = ledger
        .transactions(
            account,
            &TransactionQuery {
                limit: 10_000,
                ..Default::default()
            },
        )
        .await?;
    Ok(page
        .transactions
        .iter()
        .filter(|l| l.status == TransactionStatus::Booked && l.booked_at < t)
        .map(|l| match l.credit_debit {
            bascule_domain::CreditDebit::Credit => l.amount.0,
            bascule_domain::CreditDebit::Debit => -l.amount.0,
        })
        .sum())
}

#[tokio::test]
async fn a_pot_is_paid_each_completed_month_of_daily_interest_exactly_once() -> anyhow::Result<()> {
    let rate: Decimal = "0.0365".parse()?;
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        // 2026-01-05 09:00: open, fund and fill the pot with exactly £1000.00.
        let main = support::open_account(&ledger, "Saver", Pence(0)).await?;
        support::fund(&ledger, &main.id, 100_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Savings", Some(rate)).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(100_000), true, None)
            .await?;

        // 40 days on: 2026-02-14 09:00. Days 5..=31 January (27 days) and 1..=13 February are
        // over; January is complete and earns 27 × 10p.
        clock.advance(Duration::days(40));
        let report = ledger.run_daily_jobs().await?;
        assert_eq!(report.interest_days_accrued, 40, "{backend:?}: {report:?}");
        assert_eq!(report.interest_payments, 1, "{backend:?}: {report:?}");
        let paid = interest_lines(&ledger, &pot.id).await?;
        assert_eq!(paid.len(), 1, "{backend:?}: {paid:?}");
        assert_eq!(paid[0].amount, Pence(270), "{backend:?}");
        assert_eq!(paid[0].description, "Interest for 2026-01", "{backend:?}");
        assert_eq!(
            ledger.booked_balance(&pot.id).await?,
            Pence(100_270),
            "{backend:?}"
        );

        // Running again the same day pays nothing more.
        let again = ledger.run_daily_jobs().await?;
        assert_eq!(again.interest_payments, 0, "{backend:?}: {again:?}");
        assert_eq!(again.interest_days_accrued, 0, "{backend:?}: {again:?}");
        assert_eq!(
            interest_lines(&ledger, &pot.id).await?.len(),
            1,
            "{backend:?}"
        );

        // Another month: 2026-03-14. February earns 13 days on £1000.00 and, from the day
        // January's interest arrived, 15 days on £1002.70 — 280.405p, paid as 280p.
        clock.set(datetime!(2026-03-14 09:00 UTC));
        let feb: Decimal = interest::daily_accrual(Pence(100_000), rate) * Decimal::from(13)
            + interest::daily_accrual(Pence(100_270), rate) * Decimal::from(15);
        assert_eq!(feb, "280.405".parse::<Decimal>()?, "{backend:?}");
        let march = ledger.run_daily_jobs().await?;
        assert_eq!(march.interest_payments, 1, "{backend:?}: {march:?}");
        assert_eq!(march.interest_days_accrued, 28, "{backend:?}: {march:?}");
        let paid = interest_lines(&ledger, &pot.id).await?;
        assert_eq!(
            paid.iter().map(|t| t.amount).collect::<Vec<_>>(),
            vec![Pence(270), Pence(280)],
            "{backend:?}"
        );
        assert_eq!(
            ledger.run_daily_jobs().await?.interest_payments,
            0,
            "{backend:?}"
        );
        assert_eq!(
            ledger.booked_balance(&pot.id).await?,
            Pence(100_550),
            "{backend:?}"
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_clock_jump_over_several_months_pays_each_month_once() -> anyhow::Result<()> {
    let rate: Decimal = "0.0365".parse()?;
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Saver", Pence(0)).await?;
        support::fund(&ledger, &main.id, 100_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Savings", Some(rate)).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(100_000), true, None)
            .await?;
        // Straight to 2026-04-02: January, February and March are all complete, and every
        // payment lands on 2 April, so each month accrues on £1000.00 only.
        clock.set(datetime!(2026-04-02 09:00 UTC));
        let report = ledger.run_daily_jobs().await?;
        assert_eq!(report.interest_payments, 3, "{backend:?}: {report:?}");
        // All three land at the same instant, so their order on the account is by id: sort.
        let mut paid: Vec<_> = interest_lines(&ledger, &pot.id)
            .await?
            .into_iter()
            .map(|t| (t.description, t.amount))
            .collect();
        paid.sort();
        assert_eq!(
            paid,
            vec![
                ("Interest for 2026-01".to_owned(), Pence(270)),
                ("Interest for 2026-02".to_owned(), Pence(280)),
                ("Interest for 2026-03".to_owned(), Pence(310)),
            ],
            "{backend:?}"
        );
        assert_eq!(
            ledger.run_daily_jobs().await?.interest_payments,
            0,
            "{backend:?}"
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

fn check_statement(s: &Statement, opening: i64, closing: i64, context: &str) {
    assert_eq!(
        (s.opening_balance, s.closing_balance),
        (Pence(opening), Pence(closing)),
        "{context}: {s:?}"
    );
    assert_eq!(
        s.opening_balance + s.total_credits - s.total_debits,
        s.closing_balance,
        "{context}: credits and debits must explain the movement: {s:?}"
    );
}

#[tokio::test]
async fn monthly_statements_open_and_close_on_the_balances_the_postings_give() -> anyhow::Result<()>
{
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Payee", Pence(0)).await?;
        let other = support::open_account(&ledger, "Payer", Pence(0)).await?;
        support::fund(&ledger, &main.id, 50_000).await?;
        support::fund(&ledger, &other.id, 90_000).await?;
        clock.set(datetime!(2026-01-20 12:00 UTC));
        ledger
            .transfer(&main.id, &other.id, Pence(12_345), "January", None)
            .await?;
        // The last microsecond of January and the first of February.
        clock.set(datetime!(2026-01-31 23:59:59.999999 UTC));
        support::fund(&ledger, &main.id, 1_111).await?;
        clock.set(datetime!(2026-02-01 00:00 UTC));
        ledger
            .transfer(&other.id, &main.id, Pence(2_000), "February", None)
            .await?;
        clock.set(datetime!(2026-03-03 08:00 UTC));
        let report = ledger.run_daily_jobs().await?;
        assert_eq!(
            report.statements, 4,
            "{backend:?}: two months, two accounts"
        );
        assert_eq!(
            ledger.run_daily_jobs().await?.statements,
            0,
            "{backend:?}: statements are issued once"
        );

        let jan_end = datetime!(2026-02-01 00:00 UTC);
        let feb_end = datetime!(2026-03-01 00:00 UTC);
        let statements = ledger.statements(std::slice::from_ref(&main.id)).await?;
        assert_eq!(statements.len(), 2, "{backend:?}");
        let ctx = format!("{backend:?} main");
        check_statement(&statements[0], 0, 50_000 - 12_345 + 1_111, &ctx);
        check_statement(
            &statements[1],
            50_000 - 12_345 + 1_111,
            38_766 + 2_000,
            &ctx,
        );
        assert_eq!(
            statements[0].closing_balance.0,
            balance_before(&ledger, &main.id, jan_end).await?,
            "{backend:?}"
        );
        assert_eq!(
            statements[1].closing_balance.0,
            balance_before(&ledger, &main.id, feb_end).await?,
            "{backend:?}"
        );
        assert_eq!(statements[0].starts_at, datetime!(2026-01-01 00:00 UTC));
        assert_eq!(
            statements[0].ends_at,
            jan_end - Duration::microseconds(1),
            "{backend:?}"
        );
        assert_eq!(statements[0].total_credits, Pence(51_111), "{backend:?}");
        assert_eq!(statements[0].total_debits, Pence(12_345), "{backend:?}");

        let others = ledger.statements(std::slice::from_ref(&other.id)).await?;
        let ctx = format!("{backend:?} other");
        check_statement(&others[0], 0, 90_000 + 12_345, &ctx);
        check_statement(&others[1], 102_345, 100_345, &ctx);
        for s in statements.iter().chain(&others) {
            assert_eq!(ledger.statement(&s.id).await?, *s, "{backend:?}");
        }
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_disabled_pot_s_interest_waits_without_stopping_the_daily_jobs() -> anyhow::Result<()> {
    let rate: Decimal = "0.0365".parse()?;
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Saver", Pence(0)).await?;
        support::fund(&ledger, &main.id, 100_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Frozen", Some(rate)).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(100_000), true, None)
            .await?;
        ledger.set_enabled(&pot.id, false).await?;
        clock.set(datetime!(2026-02-03 09:00 UTC));
        let frozen = ledger.run_daily_jobs().await?;
        assert_eq!(frozen.interest_payments, 0, "{backend:?}: {frozen:?}");
        assert_eq!(
            frozen.statements, 2,
            "{backend:?}: the other jobs still ran"
        );
        ledger.set_enabled(&pot.id, true).await?;
        let thawed = ledger.run_daily_jobs().await?;
        assert_eq!(thawed.interest_payments, 1, "{backend:?}: {thawed:?}");
        assert_eq!(
            interest_lines(&ledger, &pot.id).await?.len(),
            1,
            "{backend:?}"
        );
        assert_eq!(ledger.booked_balance(&pot.id).await?, Pence(100_270));
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}
