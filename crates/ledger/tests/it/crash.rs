//! Crash safety: a process writing transfers is killed with SIGKILL mid-stream; the database it
//! leaves behind still balances and still holds every penny.
//!
//! The writer is this same test binary, re-run with `--ignored --exact` on
//! `crash_child_writes_transfers_until_killed`: ignored in a normal run, so the harness is never
//! counted as a passing test, and it refuses to run without `BASCULE_CRASH_CHILD_DB`.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bascule_domain::{AccountId, Pence, RandomIds, SortCode, SystemClock};
use bascule_ledger::{Ledger, LedgerConfig, LedgerError};
use bascule_store::{Store, StoreOptions};
use bascule_testkit::{BACKENDS, test_ledger};

use crate::support;

const CHILD_DB: &str = "BASCULE_CRASH_CHILD_DB";
const CHILD_ACCOUNTS: &str = "BASCULE_CRASH_CHILD_ACCOUNTS";
const ACCOUNTS: usize = 4;
const OPENING: i64 = 100_000;

async fn open_ledger(url: &str) -> anyhow::Result<Ledger> {
    let store = Store::connect(url, &StoreOptions::default()).await?;
    Ok(Ledger::open(
        store,
        Arc::new(SystemClock),
        Arc::new(RandomIds),
        LedgerConfig {
            sort_code: SortCode::parse("04-99-99")?,
        },
    )
    .await?)
}

/// The child: transfers between the given accounts from several tasks until it is killed
/// (or, should the parent vanish, for at most a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "the child process of the crash test, which runs it"]
async fn crash_child_writes_transfers_until_killed() -> anyhow::Result<()> {
    let url = std::env::var(CHILD_DB)
        .map_err(|_| anyhow::anyhow!("{CHILD_DB} is unset: this is the crash test's child"))?;
    let accounts: Vec<AccountId> = std::env::var(CHILD_ACCOUNTS)?
        .split(',')
        .map(AccountId::parse)
        .collect::<Result<_, _>>()?;
    let ledger = open_ledger(&url).await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut tasks = Vec::new();
    for worker in 0..4usize {
        let (ledger, accounts) = (ledger.clone(), accounts.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = worker;
            while Instant::now() < deadline {
                n += 7;
                let from = &accounts[n % accounts.len()];
                let to = &accounts[(n / 3 + 1 + n) % accounts.len()];
                if from == to {
                    continue;
                }
                let amount = Pence(1 + (n as i64 * 37) % 5_000);
                match ledger.transfer(from, to, amount, "crash test", None).await {
                    Ok(_) | Err(LedgerError::InsufficientFunds) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// The child's name as libtest knows it inside this binary (`crash::…`).
fn child_test_name() -> String {
    let path = module_path!();
    let module = path.split_once("::").map_or(path, |(_, rest)| rest);
    format!("{module}::crash_child_writes_transfers_until_killed")
}

async fn transfer_count(ledger: &Ledger) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM ledger_transactions WHERE code = 'TRANSFER'",
    )
    .fetch_one(ledger.store().pool())
    .await?)
}

#[tokio::test]
async fn a_writer_killed_mid_transfer_leaves_a_balanced_ledger_that_kept_every_penny()
-> anyhow::Result<()> {
    for backend in BACKENDS {
        // `_db` stays alive to the end: dropping it deletes the database.
        let (ledger, _clock, db) = test_ledger(backend).await?;
        let mut ids = Vec::new();
        for i in 0..ACCOUNTS {
            let a = support::open_account(&ledger, &format!("Crash {i}"), Pence(0)).await?;
            support::fund(&ledger, &a.id, OPENING).await?;
            ids.push(a.id.to_string());
        }
        let mut child = Command::new(std::env::current_exe()?)
            .args([
                "--ignored",
                "--exact",
                &child_test_name(),
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_DB, &db.url)
            .env(CHILD_ACCOUNTS, ids.join(","))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;

        // Let it get going, then kill it while its workers are mid-transfer.
        let started = Instant::now();
        let landed = loop {
            let n = transfer_count(&ledger).await?;
            if n >= 200 {
                break n;
            }
            if let Some(status) = child.try_wait()? {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    std::io::Read::read_to_string(&mut e, &mut err)?;
                }
                anyhow::bail!("{backend:?}: the child exited early ({status}): {err}");
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "{backend:?}: the child wrote only {n} transfers in a minute"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        child.kill()?;
        let status = child.wait()?;
        assert!(
            !status.success(),
            "{backend:?}: the child should have died by the signal"
        );

        // Reopen the database as a restarted server would.
        ledger.store().close().await;
        let reopened = open_ledger(&db.url).await?;
        support::assert_clean(&reopened, &format!("{backend:?} after SIGKILL")).await?;
        let mut total = 0;
        for id in &ids {
            let b = reopened
                .booked_balance(&AccountId::parse(id.as_str())?)
                .await?;
            assert!(b.0 >= 0, "{backend:?}: {id} went overdrawn: {b:?}");
            total += b.0;
        }
        assert_eq!(
            total,
            OPENING * ACCOUNTS as i64,
            "{backend:?}: internal transfers must conserve money"
        );
        let after = transfer_count(&reopened).await?;
        assert!(
            after >= landed,
            "{backend:?}: committed transfers were lost"
        );
        // Every transfer that survived is whole: two postings and two customer lines.
        let lines: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM transactions t JOIN ledger_transactions l \
             ON l.id = t.ledger_transaction_id WHERE l.code = 'TRANSFER'",
        )
        .fetch_one(reopened.store().pool())
        .await?;
        assert_eq!(lines, 2 * after, "{backend:?}");
        // And the reopened ledger keeps working.
        let again = reopened
            .transfer(
                &AccountId::parse(ids[0].as_str())?,
                &AccountId::parse(ids[1].as_str())?,
                Pence(1),
                "after the crash",
                None,
            )
            .await;
        assert!(
            matches!(again, Ok(_) | Err(LedgerError::InsufficientFunds)),
            "{backend:?}: {again:?}"
        );
        support::assert_clean(&reopened, &format!("{backend:?} after restart")).await?;
        reopened.store().close().await;
        drop(db);
    }
    Ok(())
}
