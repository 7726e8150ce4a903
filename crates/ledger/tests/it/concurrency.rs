//! Idempotency keys and concurrent writers: a key posts once however often and however
//! concurrently it is sent, and opposite transfers between the same accounts never deadlock.

use bascule_core_banking::{CoreBanking, Creditor, PaymentInstruction};
use bascule_domain::{Merchant, Pence, ProprietaryCode};
use bascule_ledger::{Entry, EntryLine, Ledger, LedgerError, LineDetails, internal};
use bascule_testkit::{BACKENDS, test_ledger};

use crate::support;

async fn postings_with_key(ledger: &Ledger, key: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM postings p JOIN ledger_transactions t \
         ON t.id = p.ledger_transaction_id WHERE t.idempotency_key = $1",
    )
    .bind(key)
    .fetch_one(ledger.store().pool())
    .await?)
}

fn salary(account: &bascule_domain::AccountId, key: &str, pence: i64) -> Entry {
    Entry {
        idempotency_key: Some(key.to_owned()),
        code: ProprietaryCode::Salary,
        lines: vec![
            EntryLine {
                account: internal::account(internal::PAYMENTS_CLEARING),
                amount: Pence(-pence),
                check_funds: false,
                honour_disabled: false,
                details: LineDetails::default(),
            },
            EntryLine {
                account: account.clone(),
                amount: Pence(pence),
                check_funds: false,
                honour_disabled: false,
                details: LineDetails {
                    description: "Salary".into(),
                    ..LineDetails::default()
                },
            },
        ],
    }
}

#[tokio::test]
async fn posting_the_same_idempotency_key_twice_posts_once_and_replays() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let acc = support::open_account(&ledger, "Ada", Pence(0)).await?;
        let first = ledger
            .post(salary(&acc.id, "salary-2026-01", 250_000))
            .await?;
        let second = ledger
            .post(salary(&acc.id, "salary-2026-01", 250_000))
            .await?;
        assert!(!first.replayed && second.replayed, "{backend:?}");
        assert_eq!(
            first.ledger_transaction_id, second.ledger_transaction_id,
            "{backend:?}"
        );
        assert_eq!(first.transactions, second.transactions, "{backend:?}");
        assert_eq!(first.posted_at, second.posted_at, "{backend:?}");
        assert_eq!(postings_with_key(&ledger, "salary-2026-01").await?, 2);
        assert_eq!(ledger.booked_balance(&acc.id).await?, Pence(250_000));

        // send_payment, and the CoreBanking post_payment built on it.
        let creditor = Creditor {
            name: "Elsewhere".into(),
            identification: support::external_creditor()?,
        };
        let mut replays = Vec::new();
        for _ in 0..2 {
            replays.push(
                ledger
                    .send_payment(
                        &acc.id,
                        &creditor,
                        Pence(1_000),
                        "ONCE",
                        ProprietaryCode::FasterPayment,
                        Some("pay-1".into()),
                    )
                    .await?,
            );
        }
        assert_eq!(
            replays.iter().map(|p| p.replayed).collect::<Vec<_>>(),
            vec![false, true],
            "{backend:?}"
        );
        let instruction = PaymentInstruction {
            idempotency_key: "pisp-7".into(),
            debtor: acc.id.clone(),
            creditor,
            amount: Pence(2_000),
            reference: "PISP".into(),
            code: ProprietaryCode::FasterPayment,
        };
        let a = ledger.post_payment(&instruction).await?;
        let b = ledger.post_payment(&instruction).await?;
        assert!(!a.replayed && b.replayed, "{backend:?}");
        assert_eq!(a.debtor_transaction_id, b.debtor_transaction_id);
        assert_eq!(
            ledger.booked_balance(&acc.id).await?,
            Pence(250_000 - 1_000 - 2_000),
            "{backend:?}"
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_posts_with_one_idempotency_key_post_exactly_once() -> anyhow::Result<()> {
    const TASKS: usize = 16;
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let acc = support::open_account(&ledger, "Ada", Pence(0)).await?;
        let payer = support::open_account(&ledger, "Bob", Pence(0)).await?;
        support::fund(&ledger, &payer.id, 100_000).await?;
        for round in 0..3 {
            let key = format!("race-{round}");
            let mut tasks = Vec::new();
            for i in 0..TASKS {
                let (ledger, key, acc) = (ledger.clone(), key.clone(), acc.id.clone());
                tasks.push(tokio::spawn(async move {
                    // Half go through Ledger::post, half through receive_payment: the same entry
                    // under the same key, one posting.
                    if i % 2 == 0 {
                        ledger.post(salary(&acc, &key, 1_000)).await
                    } else {
                        ledger
                            .receive_payment(
                                &acc,
                                Pence(1_000),
                                support::outsider(),
                                Some("race".into()),
                                ProprietaryCode::Salary,
                                Some(key),
                            )
                            .await
                    }
                }));
            }
            let mut results = Vec::new();
            for t in tasks {
                results.push(t.await?);
            }
            let ok: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
            let errors: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
            assert!(errors.is_empty(), "{backend:?}: {errors:?}");
            assert_eq!(
                ok.iter().filter(|p| !p.replayed).count(),
                1,
                "{backend:?}: exactly one original"
            );
            assert!(
                ok.iter()
                    .all(|p| p.ledger_transaction_id == ok[0].ledger_transaction_id),
                "{backend:?}: every replay names the one posting"
            );
            assert_eq!(postings_with_key(&ledger, &key).await?, 2, "{backend:?}");
            // The key is spent on that entry: a different one under it is refused.
            let other = ledger
                .transfer(&payer.id, &acc.id, Pence(1_000), "race", Some(key.clone()))
                .await;
            assert!(
                matches!(other, Err(LedgerError::IdempotencyConflict)),
                "{backend:?}: {other:?}"
            );
        }
        assert_eq!(
            ledger.booked_balance(&acc.id).await?,
            Pence(3_000),
            "{backend:?}"
        );
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opposite_concurrent_transfers_between_two_accounts_neither_deadlock_nor_lose_money()
-> anyhow::Result<()> {
    const EACH_WAY: usize = 40;
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let a = support::open_account(&ledger, "Ada", Pence(0)).await?;
        let b = support::open_account(&ledger, "Bob", Pence(0)).await?;
        support::fund(&ledger, &a.id, 100_000).await?;
        support::fund(&ledger, &b.id, 100_000).await?;
        let mut tasks = Vec::new();
        for i in 0..EACH_WAY * 2 {
            let ledger = ledger.clone();
            let (from, to, pence) = if i % 2 == 0 {
                (a.id.clone(), b.id.clone(), 7)
            } else {
                (b.id.clone(), a.id.clone(), 3)
            };
            tasks.push(tokio::spawn(async move {
                ledger
                    .transfer(&from, &to, Pence(pence), "ping-pong", None)
                    .await
            }));
        }
        let mut failures = Vec::new();
        for t in tasks {
            if let Err(e) = t.await? {
                failures.push(e.to_string());
            }
        }
        assert!(failures.is_empty(), "{backend:?}: {failures:?}");
        let moved = EACH_WAY as i64 * (7 - 3);
        assert_eq!(ledger.booked_balance(&a.id).await?, Pence(100_000 - moved));
        assert_eq!(ledger.booked_balance(&b.id).await?, Pence(100_000 + moved));
        let page = ledger
            .transactions(
                &a.id,
                &bascule_core_banking::TransactionQuery {
                    limit: 1_000,
                    ..Default::default()
                },
            )
            .await?;
        assert_eq!(page.total as usize, 1 + EACH_WAY * 2, "{backend:?}");
        support::assert_clean(&ledger, backend.as_str()).await?;
    }
    Ok(())
}

/// A card network retrying a settlement, or a settlement racing a release: the hold must go
/// exactly once and the authorisation end settled or released, never both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_settlements_and_releases_of_one_authorisation_take_the_hold_once()
-> anyhow::Result<()> {
    const TASKS: usize = 8;
    for backend in BACKENDS {
        let (ledger, _clock, _db) = test_ledger(backend).await?;
        let acc = support::open_account(&ledger, "Ada", Pence(0)).await?;
        support::fund(&ledger, &acc.id, 100_000).await?;
        for round in 0..5 {
            let auth = ledger
                .authorise_card(
                    &acc.id,
                    Pence(1_000),
                    Merchant {
                        name: "Cafe".into(),
                        category_code: "5814".into(),
                    },
                )
                .await?;
            let mut tasks = Vec::new();
            for i in 0..TASKS {
                let (ledger, auth) = (ledger.clone(), auth.clone());
                tasks.push(tokio::spawn(async move {
                    if i == TASKS - 1 && round % 2 == 1 {
                        ledger.release_card(&auth).await.map(|()| false)
                    } else {
                        ledger.settle_card(&auth, Pence(1_200)).await.map(|_| true)
                    }
                }));
            }
            let mut outcomes = Vec::new();
            for t in tasks {
                match t.await? {
                    Ok(settled) => outcomes.push(settled),
                    Err(LedgerError::NotFound(_)) => {}
                    Err(e) => anyhow::bail!("{backend:?}: unexpected {e:?}"),
                }
            }
            assert_eq!(
                outcomes.len(),
                1,
                "{backend:?} round {round}: one settle or release wins, got {outcomes:?}"
            );
            let b = support::balance(&ledger, &acc.id).await?;
            assert_eq!(
                b.pending_debits,
                Pence(0),
                "{backend:?} round {round}: {b:?}"
            );
            support::assert_clean(&ledger, backend.as_str()).await?;
        }
    }
    Ok(())
}
