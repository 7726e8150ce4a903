//! The token endpoint (RFC 6749 §3.2) over mutual TLS: `client_credentials`,
//! `authorization_code` (single use, PKCE, bound to client and redirect URI) and
//! `refresh_token` (alive exactly as long as its consent). Every access token is bound to the
//! presenting certificate.

use std::collections::HashMap;

use bascule_domain::ConsentStatus;
use bascule_store::sqlx::{self, Row};
use bascule_tls::ClientCertificate;
use serde_json::{Value, json};

use crate::id_token::IdTokenClaims;
use crate::tokens::{TokenInfo, TokenKind};
use crate::{Authz, AuthzError, token_hash};

fn pkce_s256(verifier: &str) -> String {
    bascule_jose::sha256_base64url(verifier.as_bytes())
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

impl Authz {
    /// `POST /token`: the JSON answer, or the OAuth error.
    pub async fn token(
        &self,
        form: &HashMap<String, String>,
        cert: &ClientCertificate,
    ) -> Result<Value, AuthzError> {
        let client = self.authenticate_client(form, cert).await?;
        let grant = form.get("grant_type").map(String::as_str).unwrap_or("");
        // An unknown grant is unsupported_grant_type (RFC 6749 §5.2) whatever the client
        // registered; unauthorized_client is for a supported grant it did not register.
        match grant {
            "client_credentials" | "authorization_code" | "refresh_token" => {}
            "" => return Err(AuthzError::request("grant_type is missing")),
            other => {
                return Err(AuthzError::oauth(
                    axum::http::StatusCode::BAD_REQUEST,
                    bascule_http::OAuthErrorCode::UnsupportedGrantType,
                    format!("{other} is not supported"),
                ));
            }
        }
        if !client.grant_types.iter().any(|g| g == grant) {
            return Err(AuthzError::unauthorized_client(format!(
                "the client is not registered for {grant}"
            )));
        }
        match grant {
            "client_credentials" => self.client_credentials(&client, form, cert).await,
            "authorization_code" => self.authorization_code(&client, form, cert).await,
            _ => self.refresh(&client, form, cert).await,
        }
    }

    async fn client_credentials(
        &self,
        client: &bascule_registration::Client,
        form: &HashMap<String, String>,
        cert: &ClientCertificate,
    ) -> Result<Value, AuthzError> {
        let registered: Vec<String> = client
            .scopes
            .iter()
            .filter(|s| *s != "openid")
            .cloned()
            .collect();
        let scopes: Vec<String> = match form.get("scope") {
            Some(requested) => {
                let requested: Vec<String> =
                    requested.split_whitespace().map(str::to_owned).collect();
                if let Some(s) = requested.iter().find(|s| !registered.contains(s)) {
                    return Err(AuthzError::scope(format!(
                        "scope {s} is not available to this client"
                    )));
                }
                requested
            }
            None => registered,
        };
        let lifetime = self.inner.config.access_token_lifetime;
        let info = TokenInfo {
            client_id: client.client_id.clone(),
            consent_id: None,
            customer_id: None,
            scopes: scopes.clone(),
            cnf: Some(cert.thumbprint_s256.clone()),
            expires_at: Some(self.now() + lifetime),
        };
        let access = self.issue_token(TokenKind::Access, &info, None).await?;
        Ok(json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": lifetime,
            "scope": scopes.join(" "),
        }))
    }

    async fn authorization_code(
        &self,
        client: &bascule_registration::Client,
        form: &HashMap<String, String>,
        cert: &ClientCertificate,
    ) -> Result<Value, AuthzError> {
        let code = form
            .get("code")
            .ok_or_else(|| AuthzError::request("code is missing"))?;
        let hash = token_hash(code);
        let now = self.now();
        let row = sqlx::query("SELECT * FROM authorization_codes WHERE code_hash = $1")
            .bind(&hash)
            .fetch_optional(self.inner.store.pool())
            .await?
            .ok_or_else(|| AuthzError::grant("unknown authorisation code"))?;
        if row.try_get::<String, _>("client_id")? != client.client_id {
            return Err(AuthzError::grant("the code was issued to another client"));
        }
        // Single use (RFC 6749 §4.1.2): a second presentation revokes what the first obtained.
        let claimed = self
            .inner
            .store
            .write(
                sqlx::query("UPDATE authorization_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
                    .bind(now)
                    .bind(&hash),
            )
            .await?;
        if claimed != 1 {
            // The code authorised its consent (a consent is authorised once), so every token of
            // the consent descends from it, including access tokens obtained by refresh.
            let consent_id: String = row.try_get("consent_id")?;
            let revoked = self.revoke_tokens_of_code(&hash).await?
                + self.revoke_tokens_of_consent(&consent_id).await?;
            tracing::warn!(client_id = %client.client_id, revoked, "authorisation code reused; its tokens are revoked");
            return Err(AuthzError::grant("the authorisation code was already used"));
        }
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Err(AuthzError::grant("the authorisation code has expired"));
        }
        let redirect_uri: String = row.try_get("redirect_uri")?;
        if form.get("redirect_uri") != Some(&redirect_uri) {
            return Err(AuthzError::grant(
                "redirect_uri must be the one of the authorisation request",
            ));
        }
        if let Some(challenge) = row.try_get::<Option<String>, _>("code_challenge")? {
            let verifier = form
                .get("code_verifier")
                .ok_or_else(|| AuthzError::grant("PKCE: code_verifier is required"))?;
            if !constant_time_eq(&pkce_s256(verifier), &challenge) {
                return Err(AuthzError::grant("PKCE: code_verifier does not match"));
            }
        }
        let consent_id: String = row.try_get("consent_id")?;
        let consent = self
            .inner
            .consents
            .get(&consent_id)
            .await?
            .filter(|c| c.status == ConsentStatus::Authorised)
            .ok_or_else(|| AuthzError::grant("the consent is no longer authorised"))?;
        let scopes: Vec<String> = row
            .try_get::<String, _>("scopes")?
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        let customer: String = row.try_get("customer_id")?;
        let consent_expiry = consent.expires_at.map(|e| e.unix_timestamp());
        let lifetime = self.inner.config.access_token_lifetime;
        let access_expiry = consent_expiry.map_or(now + lifetime, |e| e.min(now + lifetime));
        let mut info = TokenInfo {
            client_id: client.client_id.clone(),
            consent_id: Some(consent_id.clone()),
            customer_id: Some(customer),
            scopes: scopes.clone(),
            cnf: Some(cert.thumbprint_s256.clone()),
            expires_at: Some(access_expiry),
        };
        let access = self
            .issue_token(TokenKind::Access, &info, Some(&hash))
            .await?;
        // Lasting consents get a refresh token that ends with the consent; payments are one-shot.
        let refresh = if consent.kind.is_single_use() {
            None
        } else {
            info.expires_at = consent_expiry;
            Some(
                self.issue_token(TokenKind::Refresh, &info, Some(&hash))
                    .await?,
            )
        };
        let id_token = self.sign_id_token(&IdTokenClaims {
            client_id: &client.client_id,
            consent_id: &consent_id,
            nonce: row.try_get::<Option<String>, _>("nonce")?.as_deref(),
            acr: &row.try_get::<String, _>("acr")?,
            auth_time: row.try_get("auth_time")?,
            code: None,
            state: None,
            access_token: Some(&access),
            refresh_token_expires_at: refresh.as_ref().and(consent_expiry),
        })?;
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": access_expiry - now,
            "scope": scopes.join(" "),
            "id_token": id_token,
        });
        if let Some(r) = refresh {
            body["refresh_token"] = json!(r);
        }
        Ok(body)
    }

    async fn refresh(
        &self,
        client: &bascule_registration::Client,
        form: &HashMap<String, String>,
        cert: &ClientCertificate,
    ) -> Result<Value, AuthzError> {
        let token = form
            .get("refresh_token")
            .ok_or_else(|| AuthzError::request("refresh_token is missing"))?;
        let info = self
            .find_token(TokenKind::Refresh, token)
            .await?
            .filter(|i| i.client_id == client.client_id)
            .ok_or_else(|| AuthzError::grant("unknown, expired or revoked refresh token"))?;
        let consent_id = info
            .consent_id
            .clone()
            .ok_or_else(|| AuthzError::grant("not a consent's refresh token"))?;
        let now = self.now();
        let consent = self.inner.consents.get(&consent_id).await?;
        let usable = consent
            .as_ref()
            .is_some_and(|c| c.is_usable_at(self.inner.clock.now()));
        if !usable {
            // A refresh token never outlives its consent.
            self.revoke_tokens_of_consent(&consent_id).await?;
            return Err(AuthzError::grant("the consent is no longer authorised"));
        }
        let lifetime = self.inner.config.access_token_lifetime;
        let access_expiry = info
            .expires_at
            .map_or(now + lifetime, |e| e.min(now + lifetime));
        let access_info = TokenInfo {
            cnf: Some(cert.thumbprint_s256.clone()),
            expires_at: Some(access_expiry),
            ..info.clone()
        };
        let access = self
            .issue_token(TokenKind::Access, &access_info, None)
            .await?;
        let mut body = json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": access_expiry - now,
            "scope": info.scopes.join(" "),
        });
        if self.inner.config.rotate_refresh_tokens {
            self.revoke_token(token, &client.client_id).await?;
            let next = self.issue_token(TokenKind::Refresh, &info, None).await?;
            body["refresh_token"] = json!(next);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
