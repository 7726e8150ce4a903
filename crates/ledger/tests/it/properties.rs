//! Property tests: random sequences of money movements, including ones that must be refused,
//! checked after every step against a model of what each account should hold.

use bascule_core_banking::{CoreBanking, Creditor, TransactionQuery};
use bascule_domain::{
    AccountId, CreditDebit, LedgerTransactionId, Merchant, Pence, ProprietaryCode,
    SortCodeAccountNumber, TransactionId, TransactionStatus,
};
use bascule_ledger::{Entry, EntryLine, Ledger, LedgerError, LineDetails};
use std::sync::Arc;

use bascule_domain::{ManualClock, RandomIds, SortCode};
use bascule_ledger::LedgerConfig;
use bascule_store::{Backend, Store, StoreOptions};
use bascule_testkit::{BACKENDS, TestDatabase, test_database};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use time::macros::datetime;

use crate::support::{self, Counts};

/// Accounts 0..=2 are current accounts (1 has a £200 overdraft), 3 is account 0's pot and 4 a
/// closed account.
const CURRENT: usize = 3;
const POT: usize = 3;
const CLOSED: usize = 4;
const OVERDRAFT: i64 = 20_000;
const OPENING: i64 = 100_000;

#[derive(Debug, Clone)]
enum Op {
    Transfer { from: usize, to: usize, amount: i64 },
    PotIn { amount: i64 },
    PotOut { amount: i64 },
    Inbound { to: usize, amount: i64 },
    Outbound { from: usize, amount: i64 },
    PayCustomer { from: usize, to: usize, amount: i64 },
    Authorise { account: usize, amount: i64 },
    Settle { pick: usize, delta: i64 },
    Release { pick: usize },
    Overdraw { from: usize, extra: i64 },
    Unbalanced { shape: u8, amount: i64, skew: i64 },
    NonPositive { api: u8, amount: i64 },
    Toggle { account: usize },
    Closed { outgoing: bool, amount: i64 },
    Replay,
}

fn op() -> impl Strategy<Value = Op> {
    let amount = 1i64..50_000;
    prop_oneof![
        4 => (0..CURRENT, 1..CURRENT, amount.clone())
            .prop_map(|(from, step, amount)| Op::Transfer { from, to: (from + step) % CURRENT, amount }),
        2 => amount.clone().prop_map(|amount| Op::PotIn { amount }),
        2 => amount.clone().prop_map(|amount| Op::PotOut { amount }),
        2 => (0..=POT, amount.clone()).prop_map(|(to, amount)| Op::Inbound { to, amount }),
        2 => (0..CURRENT, amount.clone()).prop_map(|(from, amount)| Op::Outbound { from, amount }),
        2 => (0..CURRENT, 1..CURRENT, amount.clone())
            .prop_map(|(from, step, amount)| Op::PayCustomer { from, to: (from + step) % CURRENT, amount }),
        3 => (0..CURRENT, amount.clone()).prop_map(|(account, amount)| Op::Authorise { account, amount }),
        3 => (any::<usize>(), prop_oneof![Just(0i64), -2_000i64..2_000])
            .prop_map(|(pick, delta)| Op::Settle { pick, delta }),
        1 => any::<usize>().prop_map(|pick| Op::Release { pick }),
        2 => (0..CURRENT, 0i64..10_000).prop_map(|(from, extra)| Op::Overdraw { from, extra }),
        1 => (0u8..3, amount.clone(), prop_oneof![-500i64..0, 1i64..500])
            .prop_map(|(shape, amount, skew)| Op::Unbalanced { shape, amount, skew }),
        1 => (0u8..6, -5_000i64..=0).prop_map(|(api, amount)| Op::NonPositive { api, amount }),
        1 => (0..=POT).prop_map(|account| Op::Toggle { account }),
        1 => (any::<bool>(), amount.clone()).prop_map(|(outgoing, amount)| Op::Closed { outgoing, amount }),
        1 => Just(Op::Replay),
    ]
}

/// How a refused operation is allowed to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Invalid,
    Insufficient,
    NotEnabled,
    Rule,
    NotFound,
}

fn refusal(e: &LedgerError) -> Option<Refusal> {
    match e {
        LedgerError::Invalid(_) => Some(Refusal::Invalid),
        LedgerError::InsufficientFunds => Some(Refusal::Insufficient),
        LedgerError::AccountNotEnabled(_) => Some(Refusal::NotEnabled),
        LedgerError::Rule(_) => Some(Refusal::Rule),
        LedgerError::NotFound(_) => Some(Refusal::NotFound),
        // The model never reuses a key for a different entry.
        LedgerError::Store(_) | LedgerError::IdempotencyConflict => None,
    }
}

#[derive(Debug, Clone)]
struct Model {
    booked: [i64; 5],
    pending: [i64; 5],
    overdraft: [i64; 5],
    enabled: [bool; 5],
    /// Open card holds: (account index, transaction id, held amount).
    holds: Vec<(usize, TransactionId, i64)>,
    /// Authorisations already settled or released.
    finished: Vec<TransactionId>,
    /// The last keyed transfer that posted: to replay.
    last_keyed: Option<(usize, usize, i64, String, LedgerTransactionId)>,
}

impl Model {
    fn available(&self, i: usize) -> i64 {
        self.booked[i] - self.pending[i] + self.overdraft[i]
    }

    /// The refusals a debit of `amount` from `from` with a credit to `to` may meet, or none.
    fn debit_refusals(&self, from: usize, to: Option<usize>, amount: i64) -> Vec<Refusal> {
        let mut out = Vec::new();
        let to_ok = to.is_none_or(|t| self.enabled[t]);
        if !self.enabled[from] || !to_ok {
            out.push(Refusal::NotEnabled);
        }
        if self.enabled[from] && self.available(from) < amount {
            out.push(Refusal::Insufficient);
        }
        out
    }
}

/// What an operation is expected to do: refused with one of these, or succeed adding these rows.
enum Expect {
    Refused(Vec<Refusal>),
    /// New (ledger transactions, postings, customer lines).
    Writes(i64, i64, i64),
    /// A toggle: no money, but an event.
    StatusOnly,
}

struct World {
    ledger: Ledger,
    ids: Vec<AccountId>,
    /// Sort code and number of each current account.
    idents: Vec<SortCodeAccountNumber>,
    model: Model,
    key_seq: u64,
}

fn merchant() -> Merchant {
    Merchant {
        name: "Corner Shop".into(),
        category_code: "5411".into(),
    }
}

impl World {
    async fn new(ledger: Ledger) -> anyhow::Result<World> {
        let mut ids = Vec::new();
        let mut idents = Vec::new();
        for (name, od) in [("Ada", 0), ("Bea", OVERDRAFT), ("Cy", 0)] {
            let a = support::open_account(&ledger, name, Pence(od)).await?;
            support::fund(&ledger, &a.id, OPENING).await?;
            idents.push(
                a.identification
                    .ok_or_else(|| anyhow::anyhow!("a current account has a sort code"))?,
            );
            ids.push(a.id);
        }
        let pot = support::open_pot(&ledger, &ids[0], "Rainy day", None).await?;
        ids.push(pot.id);
        let closed = support::open_account(&ledger, "Dee", Pence(0)).await?;
        ledger.close_account(&closed.id).await?;
        ids.push(closed.id);
        Ok(World {
            ledger,
            ids,
            idents,
            model: Model {
                booked: [OPENING, OPENING, OPENING, 0, 0],
                pending: [0; 5],
                overdraft: [0, OVERDRAFT, 0, 0, 0],
                enabled: [true, true, true, true, false],
                holds: Vec::new(),
                finished: Vec::new(),
                last_keyed: None,
            },
            key_seq: 0,
        })
    }

    /// A creditor: a current account of this bank by its sort code and number, or (`None`)
    /// someone at another bank.
    fn creditor(&self, i: Option<usize>) -> anyhow::Result<Creditor> {
        Ok(match i {
            Some(i) => Creditor {
                name: format!("Customer {i}"),
                identification: self.idents[i],
            },
            None => Creditor {
                name: "Elsewhere Ltd".into(),
                identification: support::external_creditor()?,
            },
        })
    }

    /// Runs one operation: returns the expectation (from the model, before it ran) and the result.
    async fn run(&mut self, op: &Op) -> anyhow::Result<(Expect, Result<(), LedgerError>)> {
        let l = self.ledger.clone();
        let id = |i: usize| self.ids[i].clone();
        let m = self.model.clone();
        Ok(match op {
            Op::Transfer { from, to, amount } => {
                let refusals = m.debit_refusals(*from, Some(*to), *amount);
                self.key_seq += 1;
                // Keys are unique to this case's accounts: cases share a database.
                let key = format!("prop-{}-{}", self.ids[0], self.key_seq);
                let r = l
                    .transfer(
                        &id(*from),
                        &id(*to),
                        Pence(*amount),
                        "prop",
                        Some(key.clone()),
                    )
                    .await;
                if let Ok(p) = &r {
                    self.model.booked[*from] -= amount;
                    self.model.booked[*to] += amount;
                    self.model.last_keyed =
                        Some((*from, *to, *amount, key, p.ledger_transaction_id.clone()));
                }
                (expect(refusals, (1, 2, 2)), r.map(drop))
            }
            Op::PotIn { amount } | Op::PotOut { amount } => {
                let into = matches!(op, Op::PotIn { .. });
                let (from, to) = if into { (0, POT) } else { (POT, 0) };
                let refusals = m.debit_refusals(from, Some(to), *amount);
                let r = l
                    .move_between_pot(&id(0), &id(POT), Pence(*amount), into, None)
                    .await;
                if r.is_ok() {
                    self.model.booked[from] -= amount;
                    self.model.booked[to] += amount;
                }
                (expect(refusals, (1, 2, 2)), r.map(drop))
            }
            Op::Inbound { to, amount } => {
                let refusals = if m.enabled[*to] {
                    vec![]
                } else {
                    vec![Refusal::NotEnabled]
                };
                let r = l
                    .receive_payment(
                        &id(*to),
                        Pence(*amount),
                        support::outsider(),
                        None,
                        ProprietaryCode::FasterPayment,
                        None,
                    )
                    .await;
                if r.is_ok() {
                    self.model.booked[*to] += amount;
                }
                (expect(refusals, (1, 2, 1)), r.map(drop))
            }
            Op::Outbound { from, amount } => {
                let refusals = m.debit_refusals(*from, None, *amount);
                let r = l
                    .send_payment(
                        &id(*from),
                        &self.creditor(None)?,
                        Pence(*amount),
                        "out",
                        ProprietaryCode::FasterPayment,
                        None,
                    )
                    .await;
                if r.is_ok() {
                    self.model.booked[*from] -= amount;
                }
                (expect(refusals, (1, 2, 1)), r.map(drop))
            }
            Op::PayCustomer { from, to, amount } => {
                let refusals = m.debit_refusals(*from, Some(*to), *amount);
                let r = l
                    .send_payment(
                        &id(*from),
                        &self.creditor(Some(*to))?,
                        Pence(*amount),
                        "rent",
                        ProprietaryCode::FasterPayment,
                        None,
                    )
                    .await;
                if r.is_ok() {
                    self.model.booked[*from] -= amount;
                    self.model.booked[*to] += amount;
                }
                (expect(refusals, (1, 2, 2)), r.map(drop))
            }
            Op::Authorise { account, amount } => {
                let refusals = m.debit_refusals(*account, None, *amount);
                let r = l
                    .authorise_card(&id(*account), Pence(*amount), merchant())
                    .await;
                if let Ok(t) = &r {
                    self.model.pending[*account] += amount;
                    self.model.holds.push((*account, t.clone(), *amount));
                }
                (expect(refusals, (0, 0, 1)), r.map(drop))
            }
            Op::Settle { pick, delta } => {
                if m.holds.is_empty() {
                    // Nothing open: settling a finished authorisation again must find nothing.
                    let Some(done) = pick_from(&m.finished, *pick) else {
                        return Ok((Expect::Writes(0, 0, 0), Ok(())));
                    };
                    let r = l.settle_card(&done, Pence(100)).await;
                    return Ok((Expect::Refused(vec![Refusal::NotFound]), r.map(drop)));
                }
                let k = pick % m.holds.len();
                let (acc, txn, held) = m.holds[k].clone();
                let settled = (held + delta).max(1);
                // The bank honours what it authorised, even on an account disabled since.
                let refusals = vec![];
                let r = l.settle_card(&txn, Pence(settled)).await;
                if let Ok(posted) = &r {
                    self.model.pending[acc] -= held;
                    self.model.booked[acc] -= settled;
                    self.model.holds.remove(k);
                    self.model.finished.push(txn.clone());
                    anyhow::ensure!(
                        posted.transactions == vec![(id(acc), txn.clone())],
                        "settlement must book the pending line's id: {posted:?}"
                    );
                    self.check_settled_line(acc, &txn, settled).await?;
                }
                (expect(refusals, (1, 2, 0)), r.map(drop))
            }
            Op::Release { pick } => {
                if m.holds.is_empty() {
                    return Ok((Expect::Writes(0, 0, 0), Ok(())));
                }
                let k = pick % m.holds.len();
                let (acc, txn, held) = m.holds[k].clone();
                let r = l.release_card(&txn).await;
                if r.is_ok() {
                    self.model.pending[acc] -= held;
                    self.model.holds.remove(k);
                    self.model.finished.push(txn);
                }
                (Expect::Writes(0, 0, 0), r)
            }
            Op::Overdraw { from, extra } => {
                let to = (from + 1) % CURRENT;
                let amount = m.available(*from).max(0) + 1 + extra;
                let refusals = m.debit_refusals(*from, Some(to), amount);
                let r = l
                    .transfer(&id(*from), &id(to), Pence(amount), "too much", None)
                    .await;
                (Expect::Refused(refusals), r.map(drop))
            }
            Op::Unbalanced {
                shape,
                amount,
                skew,
            } => {
                let leg = |i: usize, pence: i64| EntryLine {
                    account: id(i),
                    amount: Pence(pence),
                    check_funds: false,
                    honour_disabled: false,
                    details: LineDetails::default(),
                };
                let lines = match shape {
                    0 => vec![leg(0, -amount), leg(1, amount + skew)],
                    1 => vec![leg(2, -amount)],
                    _ => vec![leg(0, 0), leg(1, 0)],
                };
                let r = l
                    .post(Entry {
                        idempotency_key: None,
                        code: ProprietaryCode::Transfer,
                        lines,
                    })
                    .await;
                (Expect::Refused(vec![Refusal::Rule]), r.map(drop))
            }
            Op::NonPositive { api, amount } => {
                let a = Pence(*amount);
                let r = match api {
                    0 => l.transfer(&id(0), &id(1), a, "x", None).await.map(drop),
                    1 => l
                        .receive_payment(
                            &id(0),
                            a,
                            support::outsider(),
                            None,
                            ProprietaryCode::Salary,
                            None,
                        )
                        .await
                        .map(drop),
                    2 => l
                        .send_payment(
                            &id(0),
                            &self.creditor(None)?,
                            a,
                            "x",
                            ProprietaryCode::FasterPayment,
                            None,
                        )
                        .await
                        .map(drop),
                    3 => l.authorise_card(&id(0), a, merchant()).await.map(drop),
                    4 => l
                        .move_between_pot(&id(0), &id(POT), a, true, None)
                        .await
                        .map(drop),
                    _ => match m.holds.first() {
                        Some((_, txn, _)) => l.settle_card(txn, a).await.map(drop),
                        None => l.transfer(&id(2), &id(1), a, "x", None).await.map(drop),
                    },
                };
                (Expect::Refused(vec![Refusal::Invalid]), r)
            }
            Op::Toggle { account } => {
                let enable = !m.enabled[*account];
                let r = l.set_enabled(&id(*account), enable).await;
                if r.is_ok() {
                    self.model.enabled[*account] = enable;
                }
                (Expect::StatusOnly, r)
            }
            Op::Closed { outgoing, amount } => {
                let r = if *outgoing {
                    l.transfer(&id(CLOSED), &id(2), Pence(*amount), "x", None)
                        .await
                } else {
                    l.receive_payment(
                        &id(CLOSED),
                        Pence(*amount),
                        support::outsider(),
                        None,
                        ProprietaryCode::FasterPayment,
                        None,
                    )
                    .await
                };
                (Expect::Refused(vec![Refusal::NotEnabled]), r.map(drop))
            }
            Op::Replay => {
                let Some((from, to, amount, key, ltx)) = m.last_keyed.clone() else {
                    return Ok((Expect::Writes(0, 0, 0), Ok(())));
                };
                let r = l
                    .transfer(&id(from), &id(to), Pence(amount), "prop", Some(key))
                    .await;
                if let Ok(p) = &r {
                    anyhow::ensure!(
                        p.replayed && p.ledger_transaction_id == ltx,
                        "a reused key must replay the first posting: {p:?}"
                    );
                }
                (Expect::Writes(0, 0, 0), r.map(drop))
            }
        })
    }

    async fn check_settled_line(
        &self,
        acc: usize,
        txn: &TransactionId,
        settled: i64,
    ) -> anyhow::Result<()> {
        let page = self
            .ledger
            .transactions(
                &self.ids[acc],
                &TransactionQuery {
                    limit: 10_000,
                    ..Default::default()
                },
            )
            .await?;
        let lines: Vec<_> = page.transactions.iter().filter(|t| &t.id == txn).collect();
        anyhow::ensure!(
            lines.len() == 1,
            "settled line {txn} appears {} times",
            lines.len()
        );
        let line = lines[0];
        anyhow::ensure!(
            line.status == TransactionStatus::Booked
                && line.amount == Pence(settled)
                && line.credit_debit == CreditDebit::Debit
                && line.code == ProprietaryCode::CardPurchase,
            "settled line is not the booked settlement: {line:?}"
        );
        Ok(())
    }

    async fn check_model(&self, context: &str) -> anyhow::Result<()> {
        support::assert_clean(&self.ledger, context).await?;
        let balances = self.ledger.balances(&self.ids).await?;
        anyhow::ensure!(
            balances.len() == self.ids.len(),
            "{context}: missing balances"
        );
        for (i, b) in balances.iter().enumerate() {
            let m = &self.model;
            anyhow::ensure!(
                b.booked == Pence(m.booked[i])
                    && b.pending_debits == Pence(m.pending[i])
                    && b.available == Pence(m.available(i))
                    && b.available == b.booked - b.pending_debits + b.overdraft_limit,
                "{context}: account {i} is {b:?}, the model says booked {} pending {} available {}",
                m.booked[i],
                m.pending[i],
                m.available(i)
            );
        }
        Ok(())
    }
}

fn pick_from(v: &[TransactionId], pick: usize) -> Option<TransactionId> {
    (!v.is_empty()).then(|| v[pick % v.len()].clone())
}

fn expect(refusals: Vec<Refusal>, writes: (i64, i64, i64)) -> Expect {
    if refusals.is_empty() {
        Expect::Writes(writes.0, writes.1, writes.2)
    } else {
        Expect::Refused(refusals)
    }
}

/// A ledger on an existing test database, as `test_ledger` makes one.
async fn open_ledger(db: &TestDatabase) -> anyhow::Result<Ledger> {
    let store = Store::connect(&db.url, &StoreOptions::default()).await?;
    Ok(Ledger::open(
        store,
        Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC))),
        Arc::new(RandomIds),
        LedgerConfig {
            sort_code: SortCode::parse("04-99-99")?,
        },
    )
    .await?)
}

/// Runs one generated sequence on its own fresh accounts. Cases share the backend's database
/// (creating a PostgreSQL database per case would dominate the run time); the audit and the
/// row counts are database-wide, so they still prove every case left the whole ledger sound.
async fn run_sequence(db: &TestDatabase, ops: &[Op]) -> anyhow::Result<()> {
    let backend = db.backend;
    let ledger = open_ledger(db).await?;
    let outcome = run_on(&ledger, backend, ops).await;
    ledger.store().close().await;
    outcome
}

async fn run_on(ledger: &Ledger, backend: Backend, ops: &[Op]) -> anyhow::Result<()> {
    let mut world = World::new(ledger.clone()).await?;
    world
        .check_model(&format!("{backend:?} after set-up"))
        .await?;
    for (step, op) in ops.iter().enumerate() {
        let context = format!("{backend:?} step {step} {op:?}");
        let before_balances = ledger.balances(&world.ids).await?;
        let before: Counts = support::counts(ledger).await?;
        let (expected, result) = world.run(op).await?;
        let after = support::counts(ledger).await?;
        match (&expected, &result) {
            (Expect::Refused(allowed), Err(e)) => {
                let kind = refusal(e);
                anyhow::ensure!(
                    kind.is_some_and(|k| allowed.contains(&k)),
                    "{context}: refused with {e:?}, expected one of {allowed:?}"
                );
                anyhow::ensure!(
                    after == before,
                    "{context}: a refused operation wrote rows: {before:?} -> {after:?}"
                );
                let after_balances = ledger.balances(&world.ids).await?;
                let strip = |v: &[bascule_core_banking::AccountBalance]| {
                    v.iter()
                        .map(|b| (b.booked, b.pending_debits, b.available))
                        .collect::<Vec<_>>()
                };
                anyhow::ensure!(
                    strip(&before_balances) == strip(&after_balances),
                    "{context}: a refused operation moved money"
                );
            }
            (Expect::Refused(allowed), Ok(())) => {
                anyhow::bail!("{context}: succeeded but should have been refused ({allowed:?})")
            }
            (Expect::Writes(ltx, postings, lines), Ok(())) => {
                let got = (
                    after.ledger_transactions - before.ledger_transactions,
                    after.postings - before.postings,
                    after.lines - before.lines,
                );
                anyhow::ensure!(
                    got == (*ltx, *postings, *lines),
                    "{context}: wrote (ledger transactions, postings, lines) {got:?}, expected {:?}",
                    (ltx, postings, lines)
                );
            }
            (Expect::StatusOnly, Ok(())) => {
                anyhow::ensure!(
                    after.ledger_transactions == before.ledger_transactions
                        && after.postings == before.postings
                        && after.events == before.events + 1,
                    "{context}: a status change posted money: {before:?} -> {after:?}"
                );
            }
            (_, Err(e)) => anyhow::bail!("{context}: failed unexpectedly: {e:?}"),
        }
        world.check_model(&context).await?;
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => panic!("tokio runtime: {e}"),
    }
}

#[test]
fn random_operation_sequences_keep_the_ledger_balanced_and_match_the_model() {
    let setup = runtime();
    let dbs: Vec<TestDatabase> = BACKENDS
        .into_iter()
        .map(|backend| setup.block_on(test_database(backend)))
        .collect::<anyhow::Result<_>>()
        .unwrap_or_else(|e| panic!("test databases: {e:?}"));
    drop(setup);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 16,
        max_shrink_iters: 64,
        ..ProptestConfig::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        let rt = runtime();
        for db in &dbs {
            let outcome = rt.block_on(run_sequence(db, &ops));
            prop_assert!(outcome.is_ok(), "{:?}: {:?}", db.backend, outcome.err());
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
