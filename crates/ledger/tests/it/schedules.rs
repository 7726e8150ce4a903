//! Standing orders and scheduled payments, executed by the daily jobs as the clock moves.

use bascule_core_banking::{CoreBanking, TransactionQuery};
use bascule_domain::{AccountId, Frequency, Pence, ProprietaryCode, ScheduleStatus};
use bascule_ledger::{Ledger, NewScheduledPayment, NewStandingOrder};
use bascule_testkit::{BACKENDS, test_ledger};
use time::macros::{date, datetime};

use crate::support;

async fn lines_with_code(
    ledger: &Ledger,
    account: &AccountId,
    code: ProprietaryCode,
) -> anyhow::Result<Vec<bascule_domain::Transaction>> {
    let page = ledger
        .transactions(
            account,
            &TransactionQuery {
                limit: 1_000,
                ..Default::default()
            },
        )
        .await?;
    Ok(page
        .transactions
        .into_iter()
        .filter(|t| t.code == code)
        .collect())
}

#[tokio::test]
async fn a_monthly_standing_order_pays_each_due_date_once_even_across_a_clock_jump()
-> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let payer = support::open_account(&ledger, "Tenant", Pence(0)).await?;
        let landlord = support::open_account(&ledger, "Landlord", Pence(0)).await?;
        support::fund(&ledger, &payer.id, 10_000).await?;
        let so = ledger
            .add_standing_order(NewStandingOrder {
                account: payer.id.clone(),
                frequency: Frequency::Monthly { months: 1, day: 10 },
                reference: "RENT".into(),
                creditor_name: "Landlord".into(),
                creditor: landlord
                    .identification
                    .ok_or_else(|| anyhow::anyhow!("no identification"))?,
                amount: Pence(3_000),
                first_payment_on: date!(2026 - 01 - 10),
                final_payment_on: None,
            })
            .await?;

        // Not due yet.
        assert_eq!(ledger.run_daily_jobs().await?.standing_orders_paid, 0);
        clock.set(datetime!(2026-01-10 06:00 UTC));
        let first = ledger.run_daily_jobs().await?;
        assert_eq!(first.standing_orders_paid, 1, "{backend:?}: {first:?}");
        assert_eq!(
            ledger.run_daily_jobs().await?.standing_orders_paid,
            0,
            "{backend:?}: the same day pays once"
        );

        // Jump over 10 February and 10 March: two payments, each once.
        clock.set(datetime!(2026-03-11 06:00 UTC));
        let jump = ledger.run_daily_jobs().await?;
        assert_eq!(jump.standing_orders_paid, 2, "{backend:?}: {jump:?}");
        assert_eq!(ledger.run_daily_jobs().await?.standing_orders_paid, 0);
        let paid = lines_with_code(&ledger, &payer.id, ProprietaryCode::StandingOrder).await?;
        assert_eq!(paid.len(), 3, "{backend:?}: {paid:?}");
        assert!(
            paid.iter()
                .all(|t| t.amount == Pence(3_000) && t.reference.as_deref() == Some("RENT"))
        );
        let received =
            lines_with_code(&ledger, &landlord.id, ProprietaryCode::StandingOrder).await?;
        assert_eq!(received.len(), 3, "{backend:?}: the landlord banks here");
        assert_eq!(ledger.booked_balance(&payer.id).await?, Pence(1_000));
        assert_eq!(ledger.booked_balance(&landlord.id).await?, Pence(9_000));

        // 10 April: £10 left for £30 rent — refused, and the schedule moves on to May.
        clock.set(datetime!(2026-04-10 06:00 UTC));
        let refused = ledger.run_daily_jobs().await?;
        assert_eq!(
            (refused.standing_orders_paid, refused.payments_refused),
            (0, 1),
            "{backend:?}: {refused:?}"
        );
        let now = ledger
            .standing_orders(std::slice::from_ref(&payer.id))
            .await?;
        assert_eq!(now.len(), 1);
        assert_eq!(now[0].id, so.id);
        assert_eq!(now[0].status, ScheduleStatus::Active, "{backend:?}");
        assert_eq!(now[0].next_payment_on, Some(date!(2026 - 05 - 10)));
        assert_eq!(now[0].last_payment_on, Some(date!(2026 - 04 - 10)));
        assert_eq!(ledger.booked_balance(&payer.id).await?, Pence(1_000));

        support::fund(&ledger, &payer.id, 5_000).await?;
        clock.set(datetime!(2026-05-10 06:00 UTC));
        let may = ledger.run_daily_jobs().await?;
        assert_eq!(may.standing_orders_paid, 1, "{backend:?}: {may:?}");
        assert_eq!(ledger.booked_balance(&payer.id).await?, Pence(3_000));
        assert_eq!(
            lines_with_code(&ledger, &payer.id, ProprietaryCode::StandingOrder)
                .await?
                .len(),
            4,
            "{backend:?}"
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_standing_order_stops_after_its_final_payment() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let payer = support::open_account(&ledger, "Saver", Pence(0)).await?;
        support::fund(&ledger, &payer.id, 100_000).await?;
        ledger
            .add_standing_order(NewStandingOrder {
                account: payer.id.clone(),
                frequency: Frequency::Monthly { months: 1, day: 31 },
                reference: "GYM".into(),
                creditor_name: "Gym Ltd".into(),
                creditor: support::external_creditor()?,
                amount: Pence(2_500),
                first_payment_on: date!(2026 - 01 - 31),
                final_payment_on: Some(date!(2026 - 03 - 31)),
            })
            .await?;
        clock.set(datetime!(2026-06-01 06:00 UTC));
        let report = ledger.run_daily_jobs().await?;
        // 31 January, 28 February (clamped), 31 March.
        assert_eq!(report.standing_orders_paid, 3, "{backend:?}: {report:?}");
        let so = ledger
            .standing_orders(std::slice::from_ref(&payer.id))
            .await?;
        assert_eq!(so[0].status, ScheduleStatus::Inactive, "{backend:?}");
        assert_eq!(so[0].next_payment_on, None, "{backend:?}");
        assert_eq!(ledger.booked_balance(&payer.id).await?, Pence(92_500));
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

#[tokio::test]
async fn a_scheduled_payment_executes_once_on_its_date() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let payer = support::open_account(&ledger, "Payer", Pence(0)).await?;
        support::fund(&ledger, &payer.id, 20_000).await?;
        let sp = ledger
            .add_scheduled_payment(NewScheduledPayment {
                account: payer.id.clone(),
                execute_on: date!(2026 - 01 - 20),
                amount: Pence(7_500),
                reference: "INVOICE 42".into(),
                creditor_name: "Plumber".into(),
                creditor: support::external_creditor()?,
            })
            .await?;
        // A second one that will be refused for lack of funds.
        let poor = ledger
            .add_scheduled_payment(NewScheduledPayment {
                account: payer.id.clone(),
                execute_on: date!(2026 - 01 - 21),
                amount: Pence(50_000),
                reference: "TOO MUCH".into(),
                creditor_name: "Car dealer".into(),
                creditor: support::external_creditor()?,
            })
            .await?;
        clock.set(datetime!(2026-01-19 23:00 UTC));
        assert_eq!(ledger.run_daily_jobs().await?.scheduled_payments_paid, 0);
        assert_eq!(
            ledger
                .scheduled_payments(std::slice::from_ref(&payer.id))
                .await?
                .len(),
            2
        );

        clock.set(datetime!(2026-01-20 00:30 UTC));
        let report = ledger.run_daily_jobs().await?;
        assert_eq!(report.scheduled_payments_paid, 1, "{backend:?}: {report:?}");
        clock.set(datetime!(2026-01-25 00:30 UTC));
        let later = ledger.run_daily_jobs().await?;
        assert_eq!(
            (later.scheduled_payments_paid, later.payments_refused),
            (0, 1),
            "{backend:?}: {later:?}"
        );
        assert_eq!(ledger.run_daily_jobs().await?, Default::default());
        let paid: Vec<_> = lines_with_code(&ledger, &payer.id, ProprietaryCode::FasterPayment)
            .await?
            .into_iter()
            .filter(|t| t.credit_debit == bascule_domain::CreditDebit::Debit)
            .collect();
        assert_eq!(paid.len(), 1, "{backend:?}: {paid:?}");
        assert_eq!(paid[0].reference.as_deref(), Some("INVOICE 42"));
        assert_eq!(ledger.booked_balance(&payer.id).await?, Pence(12_500));
        let active = ledger
            .scheduled_payments(std::slice::from_ref(&payer.id))
            .await?;
        assert!(
            active.iter().all(|p| p.id != sp.id && p.id != poor.id),
            "{backend:?}: executed or refused payments are no longer scheduled: {active:?}"
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}
