//! Access and refresh tokens: 256-bit random strings handed out once and stored only as
//! hashes, each bound to the client's certificate (`cnf.x5t#S256`, RFC 8705) and, when issued
//! through the customer, to one consent.

use bascule_store::sqlx::{self, Any, Row, any::AnyArguments, any::AnyRow, query::Query};

use crate::{Authz, AuthzError, random_token, token_hash};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Access,
    Refresh,
}

impl TokenKind {
    fn as_str(&self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

/// What a token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    pub client_id: String,
    pub consent_id: Option<String>,
    pub customer_id: Option<String>,
    pub scopes: Vec<String>,
    /// The `x5t#S256` of the certificate the token is bound to.
    pub cnf: Option<String>,
    /// Unix seconds; `None` never expires (a refresh token of a consent without expiry).
    pub expires_at: Option<i64>,
}

impl TokenInfo {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

fn info(row: &AnyRow) -> Result<TokenInfo, AuthzError> {
    let scopes: String = row.try_get("scopes")?;
    Ok(TokenInfo {
        client_id: row.try_get("client_id")?,
        consent_id: row.try_get("consent_id")?,
        customer_id: row.try_get("customer_id")?,
        scopes: scopes
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        cnf: row.try_get("cnf")?,
        expires_at: row.try_get("expires_at")?,
    })
}

/// The statement that kills a consent's live tokens: run alone, or inside the transaction that
/// revokes the consent (`ConsentStore::revoke_in`).
pub(crate) fn revoke_of_consent(now: i64, consent_id: &str) -> Query<'_, Any, AnyArguments> {
    sqlx::query(
        "UPDATE oauth_tokens SET revoked_at = $1 WHERE consent_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(consent_id)
}

impl Authz {
    /// Issues a token; returns the only copy of its value.
    pub(crate) async fn issue_token(
        &self,
        kind: TokenKind,
        info: &TokenInfo,
        code_hash: Option<&str>,
    ) -> Result<String, AuthzError> {
        let token = random_token()?;
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO oauth_tokens (token_hash, kind, client_id, consent_id, customer_id, \
                     scopes, cnf, code_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(token_hash(&token))
                .bind(kind.as_str())
                .bind(&info.client_id)
                .bind(info.consent_id.as_deref())
                .bind(info.customer_id.as_deref())
                .bind(info.scopes.join(" "))
                .bind(info.cnf.as_deref())
                .bind(code_hash)
                .bind(self.now())
                .bind(info.expires_at),
            )
            .await?;
        Ok(token)
    }

    /// A live (unrevoked, unexpired) token of `kind`.
    pub(crate) async fn find_token(
        &self,
        kind: TokenKind,
        token: &str,
    ) -> Result<Option<TokenInfo>, AuthzError> {
        let row = sqlx::query(
            "SELECT client_id, consent_id, customer_id, scopes, cnf, expires_at FROM oauth_tokens \
             WHERE token_hash = $1 AND kind = $2 AND revoked_at IS NULL \
               AND (expires_at IS NULL OR expires_at > $3)",
        )
        .bind(token_hash(token))
        .bind(kind.as_str())
        .bind(self.now())
        .fetch_optional(self.inner.store.pool())
        .await?;
        row.as_ref().map(info).transpose()
    }

    /// Revokes one token (RFC 7009); true if a live token of `client_id` was revoked.
    pub async fn revoke_token(&self, token: &str, client_id: &str) -> Result<bool, AuthzError> {
        let n = self
            .inner
            .store
            .write(
                sqlx::query(
                    "UPDATE oauth_tokens SET revoked_at = $1 \
                     WHERE token_hash = $2 AND client_id = $3 AND revoked_at IS NULL",
                )
                .bind(self.now())
                .bind(token_hash(token))
                .bind(client_id),
            )
            .await?;
        Ok(n > 0)
    }

    /// Revokes every token tied to a consent: when the consent is revoked or expires.
    pub async fn revoke_tokens_of_consent(&self, consent_id: &str) -> Result<u64, AuthzError> {
        Ok(self
            .inner
            .store
            .write(revoke_of_consent(self.now(), consent_id))
            .await?)
    }

    /// Revokes every token a code produced: a code presented twice is a sign of theft.
    pub(crate) async fn revoke_tokens_of_code(&self, code_hash: &str) -> Result<u64, AuthzError> {
        Ok(self
            .inner
            .store
            .write(
                sqlx::query(
                    "UPDATE oauth_tokens SET revoked_at = $1 WHERE code_hash = $2 AND revoked_at IS NULL",
                )
                .bind(self.now())
                .bind(code_hash),
            )
            .await?)
    }

    /// Revokes every token of a client (its registration was deleted, or the TPP revoked).
    pub async fn revoke_tokens_of_client(&self, client_id: &str) -> Result<u64, AuthzError> {
        Ok(self
            .inner
            .store
            .write(
                sqlx::query(
                    "UPDATE oauth_tokens SET revoked_at = $1 WHERE client_id = $2 AND revoked_at IS NULL",
                )
                .bind(self.now())
                .bind(client_id),
            )
            .await?)
    }

    /// Introspection for the bank's own systems: what a token is, if it is live.
    pub async fn introspect(&self, token: &str) -> Result<Option<TokenInfo>, AuthzError> {
        match self.find_token(TokenKind::Access, token).await? {
            Some(i) => Ok(Some(i)),
            None => self.find_token(TokenKind::Refresh, token).await,
        }
    }
}
