//! One throwaway database per test: a SQLite file in a temporary directory, or a PostgreSQL
//! database with a random name on the local server, dropped when the test ends.

use std::sync::Arc;

use anyhow::Context;
use bascule_domain::{ManualClock, RandomIds, SortCode};
use bascule_ledger::{Ledger, LedgerConfig};
use bascule_store::sqlx::{self, Connection};
use bascule_store::{Backend, Store, StoreOptions, sqlite_url};
use tempfile::TempDir;
use time::macros::datetime;

/// Both backends: every store and ledger test runs on each.
pub const BACKENDS: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

/// The PostgreSQL server tests use: `BASCULE_TEST_POSTGRES_URL`, or the local one.
pub fn postgres_admin_url() -> String {
    std::env::var("BASCULE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    pub dir: TempDir,
    pg_name: Option<String>,
}

pub async fn test_database(backend: Backend) -> anyhow::Result<TestDatabase> {
    let dir = tempfile::tempdir()?;
    match backend {
        Backend::Sqlite => Ok(TestDatabase {
            url: sqlite_url(&dir.path().join("bascule.db")),
            backend,
            dir,
            pg_name: None,
        }),
        Backend::Postgres => {
            sqlx::any::install_default_drivers();
            let admin = postgres_admin_url();
            let name = format!("bascule_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .with_context(|| {
                    format!(
                        "PostgreSQL is required for the test suite and is not reachable at {admin} \
                     (set BASCULE_TEST_POSTGRES_URL, or run scripts/test.sh which starts one)"
                    )
                })?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await?;
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            Ok(TestDatabase {
                url: format!("{base}/{name}"),
                backend,
                dir,
                pg_name: Some(name),
            })
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        let admin = postgres_admin_url();
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(&mut conn)
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

/// A ledger on a fresh database, with a clock that stands at 2026-01-05 09:00 UTC until moved.
pub async fn test_ledger(
    backend: Backend,
) -> anyhow::Result<(Ledger, Arc<ManualClock>, TestDatabase)> {
    let db = test_database(backend).await?;
    // A few connections each: tests run in parallel, and PostgreSQL's max_connections (100 by
    // default) is shared by all of them.
    let options = StoreOptions {
        max_connections: 4,
        ..StoreOptions::default()
    };
    let store = Store::connect(&db.url, &options).await?;
    let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC)));
    let ledger = Ledger::open(
        store,
        clock.clone(),
        Arc::new(RandomIds),
        LedgerConfig {
            sort_code: SortCode::parse("04-99-99")?,
        },
    )
    .await?;
    Ok((ledger, clock, db))
}
