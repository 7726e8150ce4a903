//! The token check every resource server uses: one extractor that yields the client, the
//! consent and the customer behind an access token, or refuses with the right error. Tokens are
//! accepted only over the connection whose certificate they are bound to (FAPI 1.0 Advanced
//! §6.2.1-1, RFC 8705 §3): a token presented with another certificate is invalid.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use bascule_domain::{Consent, ConsentKind};
use bascule_http::{Error, MutualTls, ObErrorCode};
use time::OffsetDateTime;

use crate::Authz;
use crate::consents::ConsentError;
use crate::tokens::{TokenInfo, TokenKind};

#[derive(Debug, thiserror::Error)]
pub enum TokenCheckError {
    #[error("no bearer token")]
    Missing,
    #[error("the token is unknown, expired or revoked")]
    Invalid,
    #[error("the token is bound to another certificate")]
    WrongCertificate,
    #[error("the token's consent is no longer usable")]
    ConsentNotUsable,
    /// The bank suspended the consent (its 90-day rule, or its own suspension for a security
    /// event or a joint holder's request): the customer must authenticate again before the
    /// consent gives access again (RW §403; U028).
    #[error("The customer must authenticate again with the bank before this consent gives access")]
    Reauthenticate,
}

/// 401 with no body for a token that does not give access; 403 `UK.OBIE.Reauthenticate` for a
/// consent the bank suspended until the customer authenticates again (RW §401, §403).
impl From<TokenCheckError> for Error {
    fn from(e: TokenCheckError) -> Self {
        match e {
            TokenCheckError::Reauthenticate => {
                Error::forbidden(ObErrorCode::Reauthenticate, e.to_string())
            }
            other => Error::Unauthorised(other.to_string()),
        }
    }
}

/// A verified access token.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub info: TokenInfo,
    /// The consent the customer authorised (none for client-credentials tokens).
    pub consent: Option<Consent>,
}

impl AccessToken {
    pub fn client_id(&self) -> &str {
        &self.info.client_id
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.info.has_scope(scope)
    }

    /// 403 unless the token carries `scope` (RW §403: wrong scope).
    pub fn require_scope(&self, scope: &str) -> Result<(), Error> {
        Ok(self.scoped(scope)?)
    }

    fn scoped(&self, scope: &str) -> Result<(), ConsentError> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(ConsentError::MissingScope {
                scope: scope.to_owned(),
            })
        }
    }

    /// The calling client, if this is a client-credentials token carrying `scope`: how consents
    /// are created, read and deleted (RW §Security).
    pub fn client_credentials(&self, scope: &str) -> Result<&str, ConsentError> {
        self.scoped(scope)?;
        if self.consent.is_some() {
            return Err(ConsentError::NotClientCredentials);
        }
        Ok(self.client_id())
    }

    /// The consent the customer authorised this token for, if it is a `kind` consent of the
    /// token's client and the token carries `kind`'s scope (403 otherwise). Its status is as the
    /// token check read it: a payment consent may be consumed already.
    pub fn bound_consent(&self, kind: ConsentKind) -> Result<&Consent, ConsentError> {
        self.scoped(kind.scope())?;
        let consent = self.consent.as_ref().ok_or(ConsentError::NotBound)?;
        if consent.kind != kind {
            return Err(ConsentError::WrongKind { kind: consent.kind });
        }
        if consent.client_id != self.client_id() {
            return Err(ConsentError::OtherClient);
        }
        Ok(consent)
    }

    /// [`Self::bound_consent`] that still gives access at `now` (401 otherwise): the token check
    /// refused unusable consents already, this guards against one that expired since.
    pub fn usable_consent(
        &self,
        kind: ConsentKind,
        now: OffsetDateTime,
    ) -> Result<&Consent, ConsentError> {
        let consent = self.bound_consent(kind)?;
        if !consent.is_usable_at(now) {
            return Err(ConsentError::NotUsable);
        }
        Ok(consent)
    }
}

impl Authz {
    /// Checks a bearer token presented over a connection with certificate thumbprint `x5t`.
    pub async fn check_access_token(
        &self,
        token: &str,
        x5t: &str,
    ) -> Result<AccessToken, TokenCheckError> {
        let info = self
            .find_token(TokenKind::Access, token)
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "token lookup failed");
                TokenCheckError::Invalid
            })?
            .ok_or(TokenCheckError::Invalid)?;
        match &info.cnf {
            Some(cnf)
                if aws_lc_rs::constant_time::verify_slices_are_equal(
                    cnf.as_bytes(),
                    x5t.as_bytes(),
                )
                .is_ok() => {}
            _ => return Err(TokenCheckError::WrongCertificate),
        }
        let consent = match &info.consent_id {
            Some(id) => {
                let c = self
                    .inner
                    .consents
                    .get(id)
                    .await
                    .map_err(|_: ConsentError| TokenCheckError::Invalid)?
                    .ok_or(TokenCheckError::ConsentNotUsable)?;
                let now = self.inner.clock.now();
                if !c.is_usable_at(now) && !c.kind.is_single_use() {
                    return Err(TokenCheckError::ConsentNotUsable);
                }
                if self.inner.config.reauthentication.suspended_at(&c, now) {
                    return Err(TokenCheckError::Reauthenticate);
                }
                self.inner.usage.record(c.id.as_str(), now.unix_timestamp());
                Some(c)
            }
            None => None,
        };
        Ok(AccessToken { info, consent })
    }
}

/// The `Authorization: Bearer` value; the scheme is case-insensitive (RFC 7235 §2.1).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl<S> FromRequestParts<S> for AccessToken
where
    S: Send + Sync,
    Authz: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let MutualTls(cert) = MutualTls::from_request_parts(parts, state).await?;
        let token = bearer(&parts.headers)
            .ok_or_else(|| Error::Unauthorised(TokenCheckError::Missing.to_string()))?;
        let authz = Authz::from_ref(state);
        authz
            .check_access_token(token, &cert.thumbprint_s256)
            .await
            .map_err(Error::from)
    }
}
