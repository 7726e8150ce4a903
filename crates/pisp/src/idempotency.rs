//! `x-idempotency-key` (RW §Idempotency): scoped per client and resource type, kept at least
//! 24 hours. The same key with the same body (SHA-256 of the exact bytes) returns the original
//! resource with 201 and creates nothing; the same key with another body is refused with 400
//! [`CONFLICT_CODE`] and changes nothing.
//!
//! Exactly one of any number of concurrent identical requests creates: the creator inserts the
//! key's row first with `INSERT … ON CONFLICT DO NOTHING` **in the transaction that writes the
//! resource** ([`IdempotencyKey::insert`]); on PostgreSQL a concurrent insert of the same key
//! waits for that transaction and then inserts nothing, on SQLite the single writer orders
//! them. A request whose insert did nothing reads the winner's row ([`IdempotencyKey::read`])
//! and answers from it.
//!
//! Where the resource cannot be written in the same transaction (a consent is created by the
//! authorisation server's store), the row is committed first as a claim, the resource created,
//! then the response recorded ([`IdempotencyKey::complete`]); waiting requests poll for it, and
//! a claim whose holder died (older than [`STALE_CLAIM`]) is taken over by compare-and-set. The
//! worst a crash leaves is an orphan consent nobody was told about, awaiting authorisation
//! until it expires.
//!
//! The error code for a reused key with another body: RW says only that the ASPSP must not
//! change the resource (and may treat it as fraud); Bascule answers 400
//! `UK.OBIE.Header.Invalid` at `x-idempotency-key`, since it is the header's reuse that is
//! wrong.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use bascule_store::Store;
use bascule_store::sqlx::{self, AnyConnection, Row};

use crate::db_error;
use crate::headers::IDEMPOTENCY_KEY;

pub const CONFLICT_CODE: ObErrorCode = ObErrorCode::HeaderInvalid;
/// A claim older than this whose response is still missing belongs to a dead request.
pub const STALE_CLAIM: Duration = Duration::from_secs(30);
/// How long a request waits for a concurrent identical one to answer.
pub const WAIT_FOR_WINNER: Duration = Duration::from_secs(20);

/// One request's idempotency identity.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub client_id: String,
    pub resource_type: &'static str,
    pub key: String,
    pub body_hash: String,
}

/// What the first request with a key left behind.
#[derive(Debug, Clone)]
pub struct Record {
    pub body_hash: String,
    pub resource_id: Option<String>,
    pub response_status: Option<u16>,
    pub response_body: Option<String>,
    pub claimed_at_ms: i64,
}

/// Wall-clock milliseconds: claims measure real elapsed time, not the bank's business clock.
fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl IdempotencyKey {
    pub fn new(client_id: &str, resource_type: &'static str, key: &str, body: &[u8]) -> Self {
        Self {
            client_id: client_id.to_owned(),
            resource_type,
            key: key.to_owned(),
            body_hash: bascule_jose::sha256_base64url(body),
        }
    }

    /// Inserts the key's row on `conn` (inside the caller's transaction); `true` when this
    /// request is the first with the key, `false` when a row already exists.
    pub async fn insert(
        &self,
        conn: &mut AnyConnection,
        resource_id: Option<&str>,
        now: i64,
    ) -> Result<bool, Error> {
        let inserted = sqlx::query(
            "INSERT INTO pisp_idempotency (client_id, resource_type, idempotency_key, body_hash, \
             resource_id, claimed_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&self.client_id)
        .bind(self.resource_type)
        .bind(&self.key)
        .bind(&self.body_hash)
        .bind(resource_id)
        .bind(wall_ms())
        .bind(now)
        .execute(conn)
        .await
        .map_err(db_error)?
        .rows_affected();
        Ok(inserted == 1)
    }

    pub async fn read(&self, store: &Store) -> Result<Option<Record>, Error> {
        let row = sqlx::query(
            "SELECT body_hash, resource_id, response_status, response_body, claimed_at \
             FROM pisp_idempotency \
             WHERE client_id = $1 AND resource_type = $2 AND idempotency_key = $3",
        )
        .bind(&self.client_id)
        .bind(self.resource_type)
        .bind(&self.key)
        .fetch_optional(store.pool())
        .await
        .map_err(db_error)?;
        row.map(|r| -> Result<Record, sqlx::Error> {
            Ok(Record {
                body_hash: r.try_get("body_hash")?,
                resource_id: r.try_get("resource_id")?,
                response_status: r
                    .try_get::<Option<i64>, _>("response_status")?
                    .and_then(|s| u16::try_from(s).ok()),
                response_body: r.try_get("response_body")?,
                claimed_at_ms: r.try_get("claimed_at")?,
            })
        })
        .transpose()
        .map_err(db_error)
    }

    /// 400 when the key was first used with another body.
    pub fn check_same_body(&self, record: &Record) -> Result<(), Error> {
        if record.body_hash == self.body_hash {
            return Ok(());
        }
        Err(Error::BadRequest(vec![
            ObErrorDetail::new(
                CONFLICT_CODE,
                "x-idempotency-key was already used with a different request body",
            )
            .at(IDEMPOTENCY_KEY),
        ]))
    }

    /// Records the first answer (and the resource it made).
    pub async fn complete(
        &self,
        store: &Store,
        resource_id: &str,
        status: u16,
        body: &str,
    ) -> Result<(), Error> {
        store
            .write(
                sqlx::query(
                    "UPDATE pisp_idempotency SET resource_id = $1, response_status = $2, \
                     response_body = $3 \
                     WHERE client_id = $4 AND resource_type = $5 AND idempotency_key = $6",
                )
                .bind(resource_id)
                .bind(i64::from(status))
                .bind(body)
                .bind(&self.client_id)
                .bind(self.resource_type)
                .bind(&self.key),
            )
            .await
            .map_err(db_error)?;
        Ok(())
    }

    /// Takes over a stale claim (its holder died before answering): compare-and-set on
    /// `claimed_at`, so one of several waiting retries wins.
    pub async fn take_over(&self, store: &Store, record: &Record) -> Result<bool, Error> {
        if record.response_status.is_some()
            || wall_ms() - record.claimed_at_ms < STALE_CLAIM.as_millis() as i64
        {
            return Ok(false);
        }
        let changed = store
            .write(
                sqlx::query(
                    "UPDATE pisp_idempotency SET claimed_at = $1 \
                     WHERE client_id = $2 AND resource_type = $3 AND idempotency_key = $4 \
                     AND claimed_at = $5 AND response_status IS NULL",
                )
                .bind(wall_ms())
                .bind(&self.client_id)
                .bind(self.resource_type)
                .bind(&self.key)
                .bind(record.claimed_at_ms),
            )
            .await
            .map_err(db_error)?;
        Ok(changed == 1)
    }

    /// Claims the key in its own transaction (for resources written elsewhere): `Ok(None)`
    /// when this request should create, `Ok(Some(record))` with the winner's answer otherwise
    /// (after waiting for it), 400 on a body conflict.
    pub async fn claim_or_wait(&self, store: &Store, now: i64) -> Result<Option<Record>, Error> {
        let mut tx = store.begin().await.map_err(db_error)?;
        let inserted = self.insert(tx.conn(), None, now).await?;
        tx.commit().await.map_err(db_error)?;
        if inserted {
            return Ok(None);
        }
        let started = std::time::Instant::now();
        loop {
            let record = self
                .read(store)
                .await?
                .ok_or_else(|| Error::internal("idempotency row vanished"))?;
            self.check_same_body(&record)?;
            if record.response_status.is_some() {
                return Ok(Some(record));
            }
            if self.take_over(store, &record).await? {
                return Ok(None);
            }
            if started.elapsed() > WAIT_FOR_WINNER {
                return Err(Error::Unavailable(
                    "an identical request is still in progress; retry later".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Deletes records created before `before` (unix seconds; keep ≥ 24 h).
pub async fn purge(store: &Store, before: i64) -> Result<u64, Error> {
    store
        .write(sqlx::query("DELETE FROM pisp_idempotency WHERE created_at < $1").bind(before))
        .await
        .map_err(db_error)
}
