//! Bascule's benchmarks, run against the release build on a fresh database of either backend:
//!
//! * `transfers`: ledger transfers per second (each a balanced, funds-checked, durable posting
//!   with its customer-visible lines), with N concurrent writers;
//! * `reads`: latency of what an account-information call costs the ledger — one account's
//!   balance plus its latest 100 transactions — with 10k or 1M postings in the ledger;
//! * `events`: ledger posting → event notification received by a TPP (see `events.rs`).
//! * `personal`: a personal API token reading transaction pages (see `personal.rs`).

mod aisp;
mod authz;
mod events;
mod personal;
mod pisp;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_core_banking::{CoreBanking, PageDirection, TransactionQuery};
use bascule_domain::{
    Account, AccountId, Counterparty, Customer, Pence, PostalAddress, ProprietaryCode, RandomIds,
    SortCode, SystemClock,
};
use bascule_ledger::{Ledger, LedgerConfig, LedgerError, NewCustomer};
use bascule_store::{Backend, Store, StoreOptions, sqlx};
use bascule_testkit::people::open_current_account;
use bascule_testkit::test_database;
use clap::{Parser, Subcommand};
use time::macros::date;

#[derive(Parser)]
#[command(about = "Ledger benchmarks on SQLite and PostgreSQL")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Transfers per second between random accounts.
    Transfers {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
        #[arg(long, default_value_t = 200)]
        accounts: usize,
    },
    /// `/token` client_credentials over mutual TLS with many connections.
    Tokens {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Complete headless authorisations (consent, PAR, authorize, token) per second.
    Authorisations {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// GET one account's transactions (a page of 100) and GET /accounts through the Account
    /// API, with a certificate-bound token over mutual TLS, `postings` postings in the ledger.
    Accounts {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 10_000)]
        postings: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Domestic payment submissions (JWS, idempotency, settlement) with many connections.
    Payments {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// Ledger posting (or payment submission) → event notification received by a local TPP
    /// receiver (p50/p99), and deliveries per second; `--fail-half` makes the receiver refuse
    /// every other push.
    Events {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        /// What causes the events: ledger postings or domestic payment submissions.
        #[arg(long, value_enum, default_value = "postings")]
        source: events::Source,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Payment submissions in flight at once (`--source payments`).
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Accounts in the consent: postings (and events) per wave.
        #[arg(long, default_value_t = 100)]
        accounts: usize,
        #[arg(long)]
        fail_half: bool,
        /// The bank's first retry delay (`event_first_backoff_ms`).
        #[arg(long, default_value_t = 100)]
        first_backoff_ms: u64,
        /// The bank's longest retry delay (`event_max_backoff_ms`).
        #[arg(long, default_value_t = 2_000)]
        max_backoff_ms: u64,
    },
    /// A personal API token reading pages of 100 transactions (req/s, p50/p99), with
    /// `/health/live` on the same connections as the ceiling.
    Personal {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 10_000)]
        postings: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 64)]
        connections: usize,
    },
    /// JWS signing and verification per second on one thread (PS256, ES256).
    Jose {
        #[arg(long, default_value_t = 5_000)]
        iterations: usize,
    },
    /// Balance + latest 100 transactions of one account, with `postings` postings in the ledger.
    Reads {
        #[arg(long, default_value = "sqlite")]
        backend: Backend,
        #[arg(long, default_value_t = 10_000)]
        postings: u64,
        #[arg(long, default_value_t = 2_000)]
        iterations: usize,
        #[arg(long, default_value_t = 1_000)]
        accounts: usize,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().bench {
        Bench::Transfers {
            backend,
            seconds,
            concurrency,
            accounts,
        } => transfers(backend, seconds, concurrency, accounts).await,
        Bench::Reads {
            backend,
            postings,
            iterations,
            accounts,
        } => reads(backend, postings, iterations, accounts).await,
        Bench::Jose { iterations } => jose(iterations),
        Bench::Personal {
            backend,
            postings,
            seconds,
            connections,
        } => personal::transactions(backend, postings, seconds, connections).await,
        Bench::Events {
            backend,
            source,
            count,
            concurrency,
            accounts,
            fail_half,
            first_backoff_ms,
            max_backoff_ms,
        } => {
            events::events(
                backend,
                source,
                count,
                accounts,
                concurrency,
                fail_half,
                (first_backoff_ms, max_backoff_ms),
            )
            .await
        }
        Bench::Payments {
            backend,
            count,
            connections,
        } => pisp::payments(backend, count, connections).await,
        Bench::Accounts {
            backend,
            postings,
            seconds,
            connections,
        } => aisp::accounts(backend, postings, seconds, connections).await,
        Bench::Tokens {
            backend,
            seconds,
            connections,
        } => authz::tokens(backend, seconds, connections).await,
        Bench::Authorisations { backend, seconds } => authz::authorisations(backend, seconds).await,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// `connections` clients each sending the request `build` makes, back to back, for `seconds`,
/// every answer a 200 read to the end: all the latencies and the time it all took.
pub(crate) async fn hammer(
    connections: usize,
    seconds: u64,
    build: impl Fn() -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let build = Arc::new(build);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (build, stop) = (build.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = build().send().await?;
                anyhow::ensure!(r.status() == 200, "request failed: {}", r.status());
                r.bytes().await?;
                latencies.push(t.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, started.elapsed()))
}

fn report(what: &str, backend: Backend, mut latencies: Vec<Duration>, elapsed: Duration) {
    latencies.sort();
    println!(
        "{what} [{}]: {} ops in {:.1}s = {:.0} ops/s; p50 {:.3} ms, p99 {:.3} ms",
        backend.as_str(),
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

async fn ledger_on(url: &str) -> anyhow::Result<Ledger> {
    let store = Store::connect(
        url,
        &StoreOptions {
            max_connections: 16,
            ..StoreOptions::default()
        },
    )
    .await?;
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

pub(crate) async fn open_funded_accounts(
    ledger: &Ledger,
    n: usize,
    funds: Pence,
) -> anyhow::Result<Vec<AccountId>> {
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let (_, account) = bench_customer(
            ledger,
            &format!("Bench Customer {i}"),
            &format!("bench{i}@example.com"),
            funds,
        )
        .await?;
        ids.push(account.id);
    }
    Ok(ids)
}

/// A customer whose account holds about 1,000 lines whatever the ledger's size (`postings`
/// spread over enough other accounts), so a small and a big ledger compare the cost of the
/// ledger's size, not of a longer history. PostgreSQL gets fresh statistics after the load.
pub(crate) async fn reader_with_history(
    app: &bascule_testkit::TestApp,
    backend: Backend,
    postings: u64,
    (name, email): (&str, &str),
) -> anyhow::Result<(Customer, Account)> {
    let (customer, account) = bench_customer(&app.ledger, name, email, Pence::ZERO).await?;
    let mut ids = vec![account.id.clone()];
    let others = usize::try_from(postings / 1000).unwrap_or(1).max(2) - 1;
    ids.extend(open_funded_accounts(&app.ledger, others, Pence::ZERO).await?);
    let loading = Instant::now();
    bulk_load(
        &app.ledger,
        &ids,
        postings,
        bascule_domain::Clock::now(app.clock.as_ref()),
    )
    .await?;
    if backend == Backend::Postgres {
        // As after any bulk load: fresh statistics, or the planner guesses from an empty table.
        sqlx::query("ANALYZE")
            .execute(app.ledger.store().pool())
            .await?;
    }
    println!(
        "loaded {postings} postings in {:.1}s",
        loading.elapsed().as_secs_f64()
    );
    Ok((customer, account))
}

/// A customer with one personal current account (no overdraft), credited with `funds` when
/// there are any.
pub(crate) async fn bench_customer(
    ledger: &Ledger,
    legal_name: &str,
    email: &str,
    funds: Pence,
) -> anyhow::Result<(Customer, Account)> {
    let customer = ledger
        .create_customer(NewCustomer {
            legal_name: legal_name.into(),
            date_of_birth: date!(1980 - 01 - 01),
            email: email.into(),
            phone: "+447700900000".into(),
            address: PostalAddress {
                lines: vec!["1 Bench Street".into()],
                town: "London".into(),
                postcode: "E1 6AN".into(),
                country: "GB".into(),
            },
        })
        .await?;
    let account = open_current_account(ledger, &customer.id, None, Pence::ZERO).await?;
    if funds.0 > 0 {
        ledger
            .receive_payment(
                &account.id,
                funds,
                Counterparty {
                    name: "Funding".into(),
                    sort_code: None,
                    account_number: None,
                },
                None,
                ProprietaryCode::FasterPayment,
                None,
            )
            .await?;
    }
    Ok((customer, account))
}

async fn transfers(
    backend: Backend,
    seconds: u64,
    concurrency: usize,
    accounts: usize,
) -> anyhow::Result<()> {
    let db = test_database(backend).await?;
    let ledger = ledger_on(&db.url).await?;
    let ids = Arc::new(
        open_funded_accounts(&ledger, accounts.max(2), Pence::from_pounds(1_000_000)).await?,
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency.max(1) {
        let (ledger, ids, stop) = (ledger.clone(), ids.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = worker as u64;
            while !stop.load(Ordering::Relaxed) {
                // A cheap deterministic spread over account pairs.
                n = n
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let from = &ids[(n >> 33) as usize % ids.len()];
                let to = &ids[((n >> 17) as usize + 1) % ids.len()];
                if from == to {
                    continue;
                }
                let t = Instant::now();
                match ledger
                    .transfer(from, to, Pence(1 + (n % 500) as i64), "bench", None)
                    .await
                {
                    Ok(_) | Err(LedgerError::InsufficientFunds) => latencies.push(t.elapsed()),
                    Err(e) => return Err(anyhow::Error::from(e)),
                }
            }
            Ok(latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let elapsed = started.elapsed();
    report(&format!("transfers x{concurrency}"), backend, all, elapsed);
    anyhow::ensure!(
        ledger.audit().await?.is_clean(),
        "ledger audit failed after the run"
    );
    Ok(())
}

/// Fills the ledger with `postings` postings (half as many two-leg transfers between
/// `accounts` accounts, each with its customer-visible lines) in a few set-based statements —
/// the same rows the ledger writes, far faster than posting them one by one.
pub(crate) async fn bulk_load(
    ledger: &Ledger,
    ids: &[AccountId],
    postings: u64,
    end: time::OffsetDateTime,
) -> anyhow::Result<()> {
    let pool = ledger.store().pool();
    let mut tx = ledger.store().begin().await?;
    sqlx::query("CREATE TABLE bench_accounts (k BIGINT PRIMARY KEY, id TEXT NOT NULL)")
        .execute(tx.conn())
        .await?;
    for (k, id) in ids.iter().enumerate() {
        sqlx::query("INSERT INTO bench_accounts (k, id) VALUES ($1, $2)")
            .bind(k as i64)
            .bind(id.as_str())
            .execute(tx.conn())
            .await?;
    }
    let transfers = (postings / 2) as i64;
    let k = ids.len() as i64;
    // One transfer a second, the last a minute before `end`, in microseconds.
    let base = (end - time::Duration::seconds(transfers + 60)).unix_timestamp() * 1_000_000;
    sqlx::query(
        "CREATE TABLE bench_seq AS WITH RECURSIVE seq(n) AS \
         (SELECT CAST(0 AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < $1) SELECT n FROM seq",
    )
    .bind(transfers)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO ledger_transactions (id, idempotency_key, code, posted_at) \
         SELECT 'bench-' || n, NULL, 'TRANSFER', $1 + n * 1000000 FROM bench_seq",
    )
    .bind(base)
    .execute(tx.conn())
    .await?;
    for (leg, sign, pick) in [("d", -1i64, "n % $2"), ("c", 1, "(n + 1) % $2")] {
        let postings_sql = format!(
            "INSERT INTO postings (ledger_transaction_id, account_id, amount, posted_at) \
             SELECT 'bench-' || n, a.id, {sign} * (100 + n % 900), $1 + n * 1000000 \
             FROM bench_seq JOIN bench_accounts a ON a.k = {pick}"
        );
        sqlx::query(sqlx::AssertSqlSafe(postings_sql))
            .bind(base)
            .bind(k)
            .execute(tx.conn())
            .await?;
        let lines_sql = format!(
            "INSERT INTO transactions (id, account_id, ledger_transaction_id, status, credit_debit, \
             amount, booked_at, value_at, description, code) \
             SELECT 'bench-{leg}-' || n, a.id, 'bench-' || n, 'Booked', '{}', 100 + n % 900, \
             $1 + n * 1000000, $1 + n * 1000000, 'Bench transfer', 'TRANSFER' \
             FROM bench_seq JOIN bench_accounts a ON a.k = {pick}",
            if sign < 0 { "Debit" } else { "Credit" }
        );
        sqlx::query(sqlx::AssertSqlSafe(lines_sql))
            .bind(base)
            .bind(k)
            .execute(tx.conn())
            .await?;
    }
    sqlx::query(
        "UPDATE accounts SET booked_balance = \
         (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM postings p WHERE p.account_id = accounts.id)",
    )
    .execute(tx.conn())
    .await?;
    sqlx::query("DROP TABLE bench_seq")
        .execute(tx.conn())
        .await?;
    sqlx::query("DROP TABLE bench_accounts")
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    let _ = pool;
    Ok(())
}

async fn reads(
    backend: Backend,
    postings: u64,
    iterations: usize,
    accounts: usize,
) -> anyhow::Result<()> {
    let db = test_database(backend).await?;
    let ledger = ledger_on(&db.url).await?;
    let ids = open_funded_accounts(&ledger, accounts.max(2), Pence::ZERO).await?;
    let loading = Instant::now();
    bulk_load(&ledger, &ids, postings, time::OffsetDateTime::now_utc())
        .await
        .context("bulk load")?;
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE")
            .execute(ledger.store().pool())
            .await?;
    }
    println!(
        "loaded {postings} postings in {:.1}s",
        loading.elapsed().as_secs_f64()
    );
    anyhow::ensure!(
        ledger.audit().await?.is_clean(),
        "bulk-loaded ledger does not audit clean"
    );
    let query = TransactionQuery {
        limit: 100,
        direction: PageDirection::Backward,
        ..Default::default()
    };
    let mut latencies = Vec::with_capacity(iterations);
    let started = Instant::now();
    for i in 0..iterations {
        let account = &ids[i % ids.len()];
        let t = Instant::now();
        let balance = ledger.balances(std::slice::from_ref(account)).await?;
        let page = ledger.transactions(account, &query).await?;
        latencies.push(t.elapsed());
        anyhow::ensure!(
            balance.len() == 1 && !page.transactions.is_empty(),
            "empty read"
        );
    }
    report(
        &format!("balance + last 100 transactions, {postings} postings"),
        backend,
        latencies,
        started.elapsed(),
    );
    Ok(())
}

fn jose(iterations: usize) -> anyhow::Result<()> {
    use bascule_jose::{Algorithm, Jwks, SigningKey, VerifyingKeys, verify_jwt};
    let claims = serde_json::json!({"iss": "tpp-1", "aud": "https://bank", "exp": 1_700_000_000, "jti": "abc"});
    for alg in [Algorithm::PS256, Algorithm::ES256] {
        let key = SigningKey::generate(alg)?;
        let keys = VerifyingKeys::from_jwks(&Jwks {
            keys: vec![key.public_jwk()],
        })?;
        let started = Instant::now();
        let mut token = String::new();
        for _ in 0..iterations {
            token = key.sign_jwt(&claims, Some("JWT"))?;
        }
        let signing = iterations as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        for _ in 0..iterations {
            verify_jwt::<serde_json::Value>(&token, &keys, &[alg])?;
        }
        let verifying = iterations as f64 / started.elapsed().as_secs_f64();
        println!("{alg}: sign {signing:.0}/s, verify {verifying:.0}/s (one thread)");
    }
    Ok(())
}
