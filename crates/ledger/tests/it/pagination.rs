//! Keyset pagination over an account's transactions, with many rows sharing one booking time.

use std::collections::HashSet;

use bascule_core_banking::{
    CoreBanking, PageDirection, TransactionCursor, TransactionPage, TransactionQuery,
};
use bascule_domain::{AccountId, CreditDebit, Merchant, Pence, Transaction, TransactionId};
use bascule_ledger::Ledger;
use bascule_testkit::{BACKENDS, test_ledger};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::support;

const SAME_INSTANT_CREDITS: usize = 30;
const SAME_INSTANT_DEBITS: usize = 17;
const LATER: usize = 5;

fn cursor(t: &Transaction) -> TransactionCursor {
    TransactionCursor {
        booked_at: t.booked_at,
        id: t.id.clone(),
    }
}

fn key(t: &Transaction) -> (OffsetDateTime, TransactionId) {
    (t.booked_at, t.id.clone())
}

struct Fixture {
    ledger: Ledger,
    account: AccountId,
    t0: OffsetDateTime,
    t1: OffsetDateTime,
    t2: OffsetDateTime,
}

/// 1 + 30 credits and 17 debits at 09:00, a released authorisation (never listed), then 5
/// credits at 10:00 and 5 debits the next day: 58 listed rows.
async fn fixture(ledger: Ledger) -> anyhow::Result<Fixture> {
    let t0 = datetime!(2026-01-05 09:00 UTC);
    let acc = support::open_account(&ledger, "Pager", Pence(0)).await?;
    let other = support::open_account(&ledger, "Other", Pence(0)).await?;
    support::fund(&ledger, &acc.id, 1_000_000).await?;
    for i in 0..SAME_INSTANT_CREDITS {
        support::fund(&ledger, &acc.id, 100 + i as i64).await?;
    }
    for i in 0..SAME_INSTANT_DEBITS {
        ledger
            .transfer(&acc.id, &other.id, Pence(50 + i as i64), "out", None)
            .await?;
    }
    let auth = ledger
        .authorise_card(
            &acc.id,
            Pence(999),
            Merchant {
                name: "Never settles".into(),
                category_code: "5999".into(),
            },
        )
        .await?;
    ledger.release_card(&auth).await?;
    let clock_t1 = t0 + Duration::hours(1);
    let clock_t2 = t0 + Duration::days(1);
    Ok(Fixture {
        ledger,
        account: acc.id,
        t0,
        t1: clock_t1,
        t2: clock_t2,
    })
}

async fn page(f: &Fixture, query: TransactionQuery) -> anyhow::Result<TransactionPage> {
    Ok(f.ledger.transactions(&f.account, &query).await?)
}

/// Walks every page in `direction` and checks each page's flags; returns the rows in order.
async fn walk(
    f: &Fixture,
    base: &TransactionQuery,
    direction: PageDirection,
    limit: u32,
    context: &str,
) -> anyhow::Result<Vec<Transaction>> {
    let mut seen: Vec<Transaction> = Vec::new();
    let mut cursor_at: Option<TransactionCursor> = None;
    let mut total = None;
    for pages in 0.. {
        anyhow::ensure!(pages < 10_000, "{context}: paging does not end");
        let p = page(
            f,
            TransactionQuery {
                cursor: cursor_at.clone(),
                direction,
                limit,
                ..base.clone()
            },
        )
        .await?;
        let expected_total = *total.get_or_insert(p.total);
        anyhow::ensure!(p.total == expected_total, "{context}: total changed");
        anyhow::ensure!(
            p.transactions.windows(2).all(|w| key(&w[0]) < key(&w[1])),
            "{context}: a page is not in ascending (booked_at, id) order"
        );
        anyhow::ensure!(
            p.transactions.len() <= limit as usize,
            "{context}: page over the limit"
        );
        let first_page = pages == 0;
        let (behind, ahead) = match direction {
            PageDirection::Forward => (p.has_before, p.has_after),
            PageDirection::Backward => (p.has_after, p.has_before),
        };
        let so_far = seen.len() + p.transactions.len();
        anyhow::ensure!(
            behind != first_page,
            "{context}: page {pages} says rows behind it: {behind}"
        );
        anyhow::ensure!(
            ahead == (so_far < expected_total as usize),
            "{context}: page {pages} says rows ahead: {ahead} after {so_far} of {expected_total}"
        );
        let next = match direction {
            PageDirection::Forward => p.transactions.last().map(cursor),
            PageDirection::Backward => p.transactions.first().map(cursor),
        };
        match direction {
            PageDirection::Forward => seen.extend(p.transactions),
            PageDirection::Backward => {
                let mut rows = p.transactions;
                rows.append(&mut seen);
                seen = rows;
            }
        }
        if !ahead {
            break;
        }
        cursor_at = next;
    }
    let ids: HashSet<_> = seen.iter().map(|t| t.id.clone()).collect();
    anyhow::ensure!(
        ids.len() == seen.len(),
        "{context}: a row was visited twice"
    );
    anyhow::ensure!(
        seen.windows(2).all(|w| key(&w[0]) < key(&w[1])),
        "{context}: the walk is not in order"
    );
    anyhow::ensure!(
        total == Some(seen.len() as u64),
        "{context}: visited {} of {total:?}",
        seen.len()
    );
    Ok(seen)
}

#[tokio::test]
async fn paging_both_ways_visits_every_row_once_with_exact_flags_even_at_one_instant()
-> anyhow::Result<()> {
    for backend in BACKENDS {
        let (ledger, clock, _db) = test_ledger(backend).await?;
        let f = fixture(ledger).await?;
        clock.set(f.t1);
        for i in 0..LATER {
            support::fund(&f.ledger, &f.account, 1_000 + i as i64).await?;
        }
        clock.set(f.t2);
        let other = support::open_account(&f.ledger, "Later", Pence(0)).await?;
        for i in 0..LATER {
            f.ledger
                .transfer(&f.account, &other.id, Pence(10 + i as i64), "later", None)
                .await?;
        }
        let all_rows = 1 + SAME_INSTANT_CREDITS + SAME_INSTANT_DEBITS + 2 * LATER;
        let everything = TransactionQuery::default();
        let reference = walk(&f, &everything, PageDirection::Forward, 10_000, "one page").await?;
        assert_eq!(reference.len(), all_rows, "{backend:?}");
        assert_eq!(
            reference.iter().filter(|t| t.booked_at == f.t0).count(),
            1 + SAME_INSTANT_CREDITS + SAME_INSTANT_DEBITS,
            "{backend:?}"
        );
        for limit in [1, 2, 7, 29, 58, 100] {
            for direction in [PageDirection::Forward, PageDirection::Backward] {
                let context = format!("{backend:?} {direction:?} limit {limit}");
                let rows = walk(&f, &everything, direction, limit, &context).await?;
                assert_eq!(
                    rows.iter().map(|t| &t.id).collect::<Vec<_>>(),
                    reference.iter().map(|t| &t.id).collect::<Vec<_>>(),
                    "{context}"
                );
            }
        }

        // Turning round mid-way: forward three pages of 5, then back from the first row of
        // the third page: exactly the first ten rows, and there is something after them.
        let mut cursor_at = None;
        let mut third_first = None;
        for _ in 0..3 {
            let p = page(
                &f,
                TransactionQuery {
                    cursor: cursor_at.clone(),
                    limit: 5,
                    ..Default::default()
                },
            )
            .await?;
            third_first = p.transactions.first().map(cursor);
            cursor_at = p.transactions.last().map(cursor);
        }
        let back = page(
            &f,
            TransactionQuery {
                cursor: third_first,
                direction: PageDirection::Backward,
                limit: 100,
                ..Default::default()
            },
        )
        .await?;
        assert_eq!(
            back.transactions.iter().map(|t| &t.id).collect::<Vec<_>>(),
            reference[..10].iter().map(|t| &t.id).collect::<Vec<_>>(),
            "{backend:?}"
        );
        assert!(!back.has_before && back.has_after, "{backend:?}");

        // Filters: the time window is inclusive at both ends, and credit/debit splits the rest.
        let cases = [
            (Some(f.t1), Some(f.t1), None, LATER),
            (
                Some(f.t0),
                Some(f.t0),
                None,
                1 + SAME_INSTANT_CREDITS + SAME_INSTANT_DEBITS,
            ),
            (Some(f.t1), None, None, 2 * LATER),
            (
                None,
                Some(f.t1),
                Some(CreditDebit::Credit),
                1 + SAME_INSTANT_CREDITS + LATER,
            ),
            (
                None,
                None,
                Some(CreditDebit::Debit),
                SAME_INSTANT_DEBITS + LATER,
            ),
            (
                Some(f.t0 + Duration::microseconds(1)),
                Some(f.t2 - Duration::microseconds(1)),
                None,
                LATER,
            ),
            (Some(f.t2), None, Some(CreditDebit::Credit), 0),
        ];
        for (from, to, cd, expected) in cases {
            let filter = TransactionQuery {
                from,
                to,
                credit_debit: cd,
                ..Default::default()
            };
            for (limit, direction) in [(3, PageDirection::Forward), (4, PageDirection::Backward)] {
                let context = format!("{backend:?} {from:?}..{to:?} {cd:?} {direction:?}");
                let rows = walk(&f, &filter, direction, limit, &context).await?;
                assert_eq!(rows.len(), expected, "{context}");
                assert!(
                    rows.iter().all(|t| from.is_none_or(|x| t.booked_at >= x)
                        && to.is_none_or(|x| t.booked_at <= x)
                        && cd.is_none_or(|c| t.credit_debit == c)),
                    "{context}: a row outside the filter"
                );
                let want: Vec<_> = reference
                    .iter()
                    .filter(|t| {
                        from.is_none_or(|x| t.booked_at >= x)
                            && to.is_none_or(|x| t.booked_at <= x)
                            && cd.is_none_or(|c| t.credit_debit == c)
                    })
                    .map(|t| &t.id)
                    .collect();
                assert_eq!(
                    rows.iter().map(|t| &t.id).collect::<Vec<_>>(),
                    want,
                    "{context}"
                );
            }
        }
    }
    Ok(())
}
