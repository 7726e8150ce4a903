//! Closing accounts: a pot's money goes home, its id and history stay readable, and nothing
//! posts to it again.

use bascule_core_banking::{CoreBanking, TransactionQuery};
use bascule_domain::{AccountStatus, Merchant, Pence, ProprietaryCode, TransactionStatus};
use bascule_ledger::LedgerError;
use bascule_testkit::{BACKENDS, test_ledger};
use rust_decimal::Decimal;
use time::Duration;
use time::macros::datetime;

use crate::support;

#[tokio::test]
async fn closing_a_pot_returns_its_money_and_keeps_its_id_and_history() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Holder", Pence(0)).await?;
        support::fund(&ledger, &main.id, 60_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Holiday", None).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(30_000), true, None)
            .await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(5_000), false, None)
            .await?;
        clock.advance(Duration::hours(2));
        ledger.close_account(&pot.id).await?;

        assert_eq!(
            ledger.booked_balance(&pot.id).await?,
            Pence(0),
            "{backend:?}"
        );
        assert_eq!(
            ledger.booked_balance(&main.id).await?,
            Pence(60_000),
            "{backend:?}"
        );
        let read = ledger.accounts(std::slice::from_ref(&pot.id)).await?;
        assert_eq!(read.len(), 1, "{backend:?}: a closed pot is still readable");
        assert_eq!(read[0].id, pot.id);
        assert_eq!(read[0].status, AccountStatus::Closed, "{backend:?}");
        assert_eq!(read[0].closed_at, Some(clock_now(&ledger)), "{backend:?}");
        assert_eq!(
            read[0].pot.as_ref().map(|p| &p.parent),
            Some(&main.id),
            "{backend:?}"
        );
        let customer = main
            .customer_id
            .clone()
            .ok_or_else(|| anyhow::anyhow!("owner"))?;
        let all = ledger.accounts_of_customer(&customer).await?;
        assert!(
            all.iter()
                .any(|a| a.id == pot.id && a.status == AccountStatus::Closed),
            "{backend:?}"
        );
        let history = ledger
            .transactions(
                &pot.id,
                &TransactionQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await?;
        assert_eq!(
            history.total, 3,
            "{backend:?}: in, out, and the closing sweep"
        );
        assert!(history.transactions.iter().all(
            |t| t.code == ProprietaryCode::PotTransfer && t.status == TransactionStatus::Booked
        ));
        let sweep = history
            .transactions
            .last()
            .ok_or_else(|| anyhow::anyhow!("no sweep"))?;
        assert_eq!(sweep.amount, Pence(25_000), "{backend:?}");
        assert_eq!(sweep.balance_after, Some(Pence(0)), "{backend:?}");

        // Nothing posts to a closed pot, through any door.
        let before = support::counts(&ledger).await?;
        let refusals = [
            ledger
                .move_between_pot(&main.id, &pot.id, Pence(100), true, None)
                .await
                .err(),
            ledger
                .transfer(&main.id, &pot.id, Pence(100), "x", None)
                .await
                .err(),
            ledger
                .receive_payment(
                    &pot.id,
                    Pence(100),
                    support::outsider(),
                    None,
                    ProprietaryCode::FasterPayment,
                    None,
                )
                .await
                .err(),
            ledger
                .authorise_card(
                    &pot.id,
                    Pence(100),
                    Merchant {
                        name: "Shop".into(),
                        category_code: "5411".into(),
                    },
                )
                .await
                .err(),
        ];
        for r in refusals {
            assert!(
                matches!(&r, Some(LedgerError::AccountNotEnabled(id)) if *id == pot.id),
                "{backend:?}: {r:?}"
            );
        }
        assert_eq!(support::counts(&ledger).await?, before, "{backend:?}");
        assert!(
            ledger.set_enabled(&pot.id, true).await.is_err(),
            "{backend:?}: closed is for good"
        );
        // Closing again is a no-op; a current account with money in it does not close.
        ledger.close_account(&pot.id).await?;
        assert!(matches!(
            ledger.close_account(&main.id).await,
            Err(LedgerError::Invalid(_))
        ));
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

fn clock_now(ledger: &bascule_ledger::Ledger) -> time::OffsetDateTime {
    ledger.clock().now()
}

/// A pot closed mid-month has earned interest it can no longer receive: the month's interest
/// goes to the parent account, and the daily jobs carry on.
#[tokio::test]
async fn interest_earned_by_a_pot_closed_mid_month_is_paid_to_its_parent() -> anyhow::Result<()> {
    let rate: Decimal = "0.0365".parse()?;
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Holder", Pence(0)).await?;
        support::fund(&ledger, &main.id, 100_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Short-lived", Some(rate)).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(100_000), true, None)
            .await?;
        // Closed on 15 January: 5..=14 January earned 10 days × 10p.
        clock.set(datetime!(2026-01-15 12:00 UTC));
        ledger.close_account(&pot.id).await?;
        clock.set(datetime!(2026-02-02 09:00 UTC));
        let report = ledger.run_daily_jobs().await?;
        assert_eq!(report.interest_days_accrued, 10, "{backend:?}: {report:?}");
        assert_eq!(report.interest_payments, 1, "{backend:?}: {report:?}");
        assert_eq!(
            ledger.booked_balance(&main.id).await?,
            Pence(100_100),
            "{backend:?}"
        );
        assert_eq!(
            ledger.booked_balance(&pot.id).await?,
            Pence(0),
            "{backend:?}"
        );
        let again = ledger.run_daily_jobs().await?;
        assert_eq!(again.interest_payments, 0, "{backend:?}: {again:?}");
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

/// A current account with a pot still open does not close (the pot would be orphaned).
#[tokio::test]
async fn a_current_account_with_open_pots_does_not_close() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Holder", Pence(0)).await?;
        let pot = support::open_pot(&ledger, &main.id, "Empty", None).await?;
        let refused = ledger.close_account(&main.id).await;
        assert!(
            matches!(refused, Err(LedgerError::Invalid(_))),
            "{backend:?}: {refused:?}"
        );
        assert_eq!(
            ledger.account(&main.id).await?.status,
            AccountStatus::Enabled
        );
        ledger.close_account(&pot.id).await?;
        ledger.close_account(&main.id).await?;
        assert_eq!(
            ledger.account(&main.id).await?.status,
            AccountStatus::Closed
        );
        // And no pot opens under a closed account.
        assert!(
            support::open_pot(&ledger, &main.id, "Late", None)
                .await
                .is_err()
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

/// Closing a pot moves its money home and closes it in one transaction: a close that is
/// refused moves nothing, and a later close (after more money arrived) sweeps it all — no
/// replay of an earlier attempt's sweep.
#[tokio::test]
async fn a_refused_pot_close_moves_nothing_and_a_later_close_sweeps_everything()
-> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Holder", Pence(0)).await?;
        support::fund(&ledger, &main.id, 10_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Holiday", None).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(4_000), true, None)
            .await?;
        let auth = ledger
            .authorise_card(
                &pot.id,
                Pence(500),
                Merchant {
                    name: "Shop".into(),
                    category_code: "5411".into(),
                },
            )
            .await?;
        let before = support::counts(&ledger).await?;
        let refused = ledger.close_account(&pot.id).await;
        assert!(
            matches!(refused, Err(LedgerError::Invalid(_))),
            "{backend:?}: {refused:?}"
        );
        assert_eq!(support::counts(&ledger).await?, before, "{backend:?}");
        assert_eq!(ledger.booked_balance(&pot.id).await?, Pence(4_000));
        assert_eq!(ledger.booked_balance(&main.id).await?, Pence(6_000));
        assert_eq!(
            ledger.account(&pot.id).await?.status,
            AccountStatus::Enabled
        );

        ledger.release_card(&auth).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(1_000), true, None)
            .await?;
        ledger.close_account(&pot.id).await?;
        assert_eq!(
            ledger.booked_balance(&pot.id).await?,
            Pence(0),
            "{backend:?}"
        );
        assert_eq!(
            ledger.booked_balance(&main.id).await?,
            Pence(10_000),
            "{backend:?}"
        );
        assert_eq!(ledger.account(&pot.id).await?.status, AccountStatus::Closed);
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

/// A disabled pot still closes: its money goes home.
#[tokio::test]
async fn a_disabled_pot_closes_and_its_money_goes_home() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let main = support::open_account(&ledger, "Holder", Pence(0)).await?;
        support::fund(&ledger, &main.id, 10_000).await?;
        let pot = support::open_pot(&ledger, &main.id, "Frozen", None).await?;
        ledger
            .move_between_pot(&main.id, &pot.id, Pence(3_000), true, None)
            .await?;
        ledger.set_enabled(&pot.id, false).await?;
        ledger.close_account(&pot.id).await?;
        assert_eq!(ledger.booked_balance(&main.id).await?, Pence(10_000));
        assert_eq!(ledger.account(&pot.id).await?.status, AccountStatus::Closed);
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}
