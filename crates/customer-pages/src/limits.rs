//! Rate limits on identification and sign-in, counted in the database so every node sees the
//! same counts. Wrong details from one address, or any attempts at one account, past a limit
//! in the window are refused with a clear page; the customer's own app is never locked by
//! what strangers type on the web.

use bascule_store::sqlx::{self, Row};

use crate::{CustomerPages, PageError, hash, random_token};

/// How many attempts the pages allow.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The window the counts cover (seconds).
    pub window: i64,
    /// Identifications with details that matched nobody, per client address.
    pub failures_per_address: i64,
    /// Identifications naming one account (matched or not): each success sends a push, and a
    /// customer must not be flooded with them.
    pub attempts_per_account: i64,
    /// Wrong passcodes for one customer from one address.
    pub sign_in_failures: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            window: 15 * 60,
            failures_per_address: 10,
            attempts_per_account: 5,
            sign_in_failures: 5,
        }
    }
}

/// What an attempt is about, as counted: never the details typed, only their hash.
pub(crate) enum Target<'a> {
    /// The sort code and account number typed.
    Account(&'a str),
    SignIn(&'a str),
}

impl Target<'_> {
    fn key(&self) -> String {
        match self {
            Target::Account(a) => hash(&format!("account:{a}")),
            Target::SignIn(c) => hash(&format!("sign-in:{c}")),
        }
    }
}

impl CustomerPages {
    /// Whether a new attempt from `address` on `target` must be refused.
    pub(crate) async fn limited(
        &self,
        address: &str,
        target: &Target<'_>,
    ) -> Result<bool, PageError> {
        let since = self.now() - self.inner.config.limits.window;
        let limits = &self.inner.config.limits;
        let count = |sql: &'static str, key: String| async move {
            let row = sqlx::query(sql)
                .bind(key)
                .bind(since)
                .fetch_one(self.inner.store.pool())
                .await?;
            Ok::<i64, PageError>(row.try_get::<i64, _>(0)?)
        };
        match target {
            Target::Account(_) => {
                let failures = count(
                    "SELECT COUNT(*) FROM identification_attempts WHERE ip = $1 AND at > $2 \
                     AND matched = 0",
                    address.to_owned(),
                )
                .await?;
                if failures >= limits.failures_per_address {
                    return Ok(true);
                }
                let on_account = count(
                    "SELECT COUNT(*) FROM identification_attempts WHERE target = $1 AND at > $2",
                    target.key(),
                )
                .await?;
                Ok(on_account >= limits.attempts_per_account)
            }
            Target::SignIn(_) => {
                let row = sqlx::query(
                    "SELECT COUNT(*) FROM identification_attempts WHERE ip = $1 AND target = $2 \
                     AND at > $3 AND matched = 0",
                )
                .bind(format!("sign-in:{address}"))
                .bind(target.key())
                .bind(since)
                .fetch_one(self.inner.store.pool())
                .await?;
                Ok(row.try_get::<i64, _>(0)? >= limits.sign_in_failures)
            }
        }
    }

    /// Counts an attempt. Rows older than a day from the same address go at the same time.
    pub(crate) async fn record_attempt(
        &self,
        address: &str,
        target: &Target<'_>,
        matched: bool,
    ) -> Result<(), PageError> {
        let now = self.now();
        let ip = match target {
            Target::Account(_) => address.to_owned(),
            // Sign-in failures are their own count: they never lock the web identification.
            Target::SignIn(_) => format!("sign-in:{address}"),
        };
        let mut tx = self.inner.store.begin().await?;
        tx.execute(
            sqlx::query("DELETE FROM identification_attempts WHERE ip = $1 AND at < $2")
                .bind(&ip)
                .bind(now - 24 * 3600),
        )
        .await?;
        tx.execute(
            sqlx::query(
                "INSERT INTO identification_attempts (id, ip, target, matched, at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(random_token()?)
            .bind(&ip)
            .bind(target.key())
            .bind(i64::from(matched))
            .bind(now),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
