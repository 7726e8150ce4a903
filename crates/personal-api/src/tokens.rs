//! Personal tokens: what a customer makes in the bank app to call the personal API. A token is
//! `bpt_` and 64 random hex digits, shown once; the bank keeps only its SHA-256, so a database
//! leak gives no usable token, and looks the hash up on every request (a revoked or expired
//! token fails on the very next one). `last_used_at` is written at most once a minute per
//! token, not on every request.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use bascule_domain::CustomerId;
use bascule_http::{Error, ObErrorCode};
use bascule_store::StoreError;
use bascule_store::sqlx::{self, Row, any::AnyRow};
use time::OffsetDateTime;

use crate::PersonalApi;

/// The longest a token may live (the bank app offers up to this).
pub const MAX_LIFETIME_DAYS: u32 = 90;
/// How stale `last_used_at` may be before a request writes it again.
const LAST_USED_RESOLUTION: i64 = 60;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read accounts, balances, transactions and pots; manage webhooks.
    Read,
    /// Read, and move money between the customer's own current account and pots.
    ReadMove,
}

impl Scope {
    pub fn as_str(&self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::ReadMove => "read_move",
        }
    }

    pub fn parse(raw: &str) -> Option<Scope> {
        [Scope::Read, Scope::ReadMove]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }

    /// The customer's words for it.
    pub fn label(&self) -> &'static str {
        match self {
            Scope::Read => "Read only",
            Scope::ReadMove => "Read, and move money between my pots",
        }
    }

    pub fn moves_money(&self) -> bool {
        *self == Scope::ReadMove
    }
}

/// A token as the bank app lists it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub customer_id: CustomerId,
    pub name: String,
    pub scope: Scope,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl TokenInfo {
    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// A new token and its secret, which is shown once and never again.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub info: TokenInfo,
    pub secret: String,
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token needs a name of 1 to 60 characters")]
    Name,
    #[error("a token lives 1 to {MAX_LIFETIME_DAYS} days")]
    Lifetime,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn unix(at: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(at).map_err(|_| StoreError::corrupt("token time"))
}

fn token_of(row: &AnyRow) -> Result<TokenInfo, StoreError> {
    let scope: String = row.try_get("scope")?;
    let customer: String = row.try_get("customer_id")?;
    Ok(TokenInfo {
        id: row.try_get("id")?,
        customer_id: CustomerId::parse(customer)
            .map_err(|_| StoreError::corrupt("token customer"))?,
        name: row.try_get("name")?,
        scope: Scope::parse(&scope).ok_or_else(|| StoreError::corrupt("token scope"))?,
        created_at: unix(row.try_get("created_at")?)?,
        expires_at: unix(row.try_get("expires_at")?)?,
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(unix)
            .transpose()?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(unix)
            .transpose()?,
    })
}

/// The stored form of a secret.
fn hash(secret: &str) -> String {
    bascule_jose::sha256_base64url(secret.as_bytes())
}

impl PersonalApi {
    /// Makes a token for `customer`. The caller (the bank app) has already strongly
    /// authenticated the customer when `scope` moves money.
    pub async fn issue_token(
        &self,
        customer: &CustomerId,
        name: &str,
        scope: Scope,
        days: u32,
    ) -> Result<IssuedToken, TokenError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(TokenError::Name);
        }
        if !(1..=MAX_LIFETIME_DAYS).contains(&days) {
            return Err(TokenError::Lifetime);
        }
        let now = self.now().replace_nanosecond(0).unwrap_or(self.now());
        let secret = format!(
            "bpt_{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let info = TokenInfo {
            id: uuid::Uuid::new_v4().to_string(),
            customer_id: customer.clone(),
            name: name.to_owned(),
            scope,
            created_at: now,
            expires_at: now + time::Duration::days(i64::from(days)),
            last_used_at: None,
            revoked_at: None,
        };
        self.store()
            .write(
                sqlx::query(
                    "INSERT INTO personal_tokens (id, customer_id, name, token_hash, scope, \
                     created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(info.id.as_str())
                .bind(customer.as_str())
                .bind(info.name.as_str())
                .bind(hash(&secret))
                .bind(scope.as_str())
                .bind(info.created_at.unix_timestamp())
                .bind(info.expires_at.unix_timestamp()),
            )
            .await?;
        tracing::info!(token_id = %info.id, customer_id = %customer, scope = scope.as_str(), "personal token issued");
        Ok(IssuedToken { info, secret })
    }

    /// The customer's tokens, newest first (revoked and expired ones too, for the record).
    pub async fn tokens_of(&self, customer: &CustomerId) -> Result<Vec<TokenInfo>, StoreError> {
        sqlx::query(
            "SELECT * FROM personal_tokens WHERE customer_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(customer.as_str())
        .fetch_all(self.store().pool())
        .await?
        .iter()
        .map(token_of)
        .collect()
    }

    /// Revokes the customer's token `id` at once, and deletes the webhooks it registered
    /// (their undelivered messages with them). False when it is not theirs or already gone.
    pub async fn revoke_token(&self, customer: &CustomerId, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.store().begin().await?;
        let changed = tx
            .execute(
                sqlx::query(
                    "UPDATE personal_tokens SET revoked_at = $1 \
                     WHERE id = $2 AND customer_id = $3 AND revoked_at IS NULL",
                )
                .bind(self.now().unix_timestamp())
                .bind(id)
                .bind(customer.as_str()),
            )
            .await?;
        if changed > 0 {
            let webhooks: Vec<String> =
                sqlx::query_scalar("SELECT id FROM personal_webhooks WHERE token_id = $1")
                    .bind(id)
                    .fetch_all(tx.conn())
                    .await?;
            for webhook in &webhooks {
                crate::webhooks::delete_in(&mut tx, webhook).await?;
            }
            tracing::info!(token_id = %id, customer_id = %customer, webhooks = webhooks.len(), "personal token revoked");
        }
        tx.commit().await?;
        Ok(changed > 0)
    }

    /// The active token whose secret is `secret`, counted against its rate limit.
    async fn authenticate(&self, secret: &str) -> Result<Caller, Error> {
        let unauthorised = || Error::Unauthorised("no active personal token".into());
        if !secret.starts_with("bpt_") || secret.len() > 100 {
            return Err(unauthorised());
        }
        let row = sqlx::query("SELECT * FROM personal_tokens WHERE token_hash = $1")
            .bind(hash(secret))
            .fetch_optional(self.store().pool())
            .await
            .map_err(Error::internal)?
            .ok_or_else(unauthorised)?;
        let token = token_of(&row).map_err(Error::internal)?;
        let now = self.now();
        if !token.is_active_at(now) {
            return Err(unauthorised());
        }
        self.inner
            .limiter
            .admit(&token.id, now.unix_timestamp())
            .map_err(|retry_after_seconds| Error::TooManyRequests {
                retry_after_seconds,
            })?;
        let stale = token
            .last_used_at
            .is_none_or(|t| (now - t).whole_seconds() >= LAST_USED_RESOLUTION);
        if stale {
            self.store()
                .write(
                    sqlx::query("UPDATE personal_tokens SET last_used_at = $1 WHERE id = $2")
                        .bind(now.unix_timestamp())
                        .bind(token.id.as_str()),
                )
                .await
                .map_err(Error::internal)?;
        }
        Ok(Caller {
            token_id: token.id,
            customer_id: token.customer_id,
            scope: token.scope,
        })
    }
}

/// Who is calling: a customer, through one of their tokens.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub customer_id: CustomerId,
    pub scope: Scope,
}

impl Caller {
    /// 403 unless the token may move money.
    pub fn may_move_money(&self) -> Result<(), Error> {
        if self.scope.moves_money() {
            Ok(())
        } else {
            Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                "This token is read-only: make a token that can move money in the bank app",
            ))
        }
    }
}

impl FromRequestParts<PersonalApi> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, api: &PersonalApi) -> Result<Self, Error> {
        let secret = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(|| Error::Unauthorised("no bearer token".into()))?;
        api.authenticate(secret).await
    }
}
