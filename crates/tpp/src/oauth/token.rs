//! The token endpoint (RFC 6749 §4.1.3, §4.4, §6), token revocation (RFC 7009) and pushed
//! authorization requests (RFC 9126), each with client authentication.

use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{ClientAuth, json_body, oauth_error};
use crate::client::{interaction_id, parse_url};
use crate::{INTERACTION_ID, TppClient, TppError};

/// A successful token response (RFC 6749 §5.1). `token_type` is as sent (compare it
/// case-insensitively with `Bearer`); `expires_in` is optional in RFC 6749 (Open Banking asks
/// banks to send it). Any other member is in `extra`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("id_token", &self.id_token.is_some())
            .field("scope", &self.scope)
            .field("extra", &self.extra)
            .finish()
    }
}

/// A PAR endpoint's answer (RFC 9126 §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedAuthorizationResponse {
    /// `urn:ietf:params:oauth:request_uri:...`, for [`super::par_authorization_url`].
    pub request_uri: String,
    pub expires_in: i64,
}

impl TppClient {
    /// `POST token_endpoint` with `grant_type=client_credentials&scope=...` (Open Banking: to
    /// create and read consents).
    pub async fn token_client_credentials(
        &self,
        token_endpoint: &str,
        auth: &ClientAuth<'_>,
        scope: &str,
    ) -> Result<TokenResponse, TppError> {
        self.token(
            token_endpoint,
            auth,
            &[("grant_type", "client_credentials"), ("scope", scope)],
        )
        .await
    }

    /// `POST token_endpoint` with `grant_type=authorization_code&code=...&redirect_uri=...`
    /// and `code_verifier` when PKCE was used.
    pub async fn token_authorization_code(
        &self,
        token_endpoint: &str,
        auth: &ClientAuth<'_>,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
    ) -> Result<TokenResponse, TppError> {
        let mut params = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        if let Some(verifier) = code_verifier {
            params.push(("code_verifier", verifier));
        }
        self.token(token_endpoint, auth, &params).await
    }

    /// `POST token_endpoint` with `grant_type=refresh_token&refresh_token=...`.
    pub async fn token_refresh(
        &self,
        token_endpoint: &str,
        auth: &ClientAuth<'_>,
        refresh_token: &str,
    ) -> Result<TokenResponse, TppError> {
        self.token(
            token_endpoint,
            auth,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// `POST token_endpoint` with any `params` (another grant, e.g. jwt-bearer re-authentication,
    /// or a malformed request for a negative test) plus client authentication; expects `200`
    /// with a token response.
    pub async fn token(
        &self,
        token_endpoint: &str,
        auth: &ClientAuth<'_>,
        params: &[(&str, &str)],
    ) -> Result<TokenResponse, TppError> {
        let response = self.post_form(token_endpoint, auth, params).await?;
        if response.status() != StatusCode::OK {
            return Err(oauth_error(response).await);
        }
        json_body(response).await
    }

    /// `POST revocation_endpoint` with `token=...` (RFC 7009 §2.1); expects `200`.
    pub async fn revoke(
        &self,
        revocation_endpoint: &str,
        auth: &ClientAuth<'_>,
        token: &str,
    ) -> Result<(), TppError> {
        let response = self
            .post_form(revocation_endpoint, auth, &[("token", token)])
            .await?;
        if response.status() != StatusCode::OK {
            return Err(oauth_error(response).await);
        }
        Ok(())
    }

    /// `POST par_endpoint` with `request=JWT` (the signed request object, RFC 9126 §3) plus
    /// client authentication; expects `201`.
    pub async fn push_authorization_request(
        &self,
        par_endpoint: &str,
        auth: &ClientAuth<'_>,
        request_jwt: &str,
    ) -> Result<PushedAuthorizationResponse, TppError> {
        let response = self
            .post_form(par_endpoint, auth, &[("request", request_jwt)])
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(oauth_error(response).await);
        }
        json_body(response).await
    }

    /// A form POST to an OAuth endpoint: `params`, then the client authentication fields.
    async fn post_form(
        &self,
        endpoint: &str,
        auth: &ClientAuth<'_>,
        params: &[(&str, &str)],
    ) -> Result<reqwest::Response, TppError> {
        let url = parse_url(endpoint)?;
        let auth_fields = auth.form_fields(endpoint)?;
        let mut form: Vec<(&str, &str)> = params.to_vec();
        form.extend(auth_fields.iter().map(|(k, v)| (*k, v.as_str())));
        Ok(self
            .http()
            .post(url)
            .header(ACCEPT, "application/json")
            .header(INTERACTION_ID, interaction_id())
            .form(&form)
            .send()
            .await?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn token_response_keeps_extra_members_and_hides_tokens_in_debug() {
        let t: TokenResponse = serde_json::from_value(json!({
            "access_token": "at-secret", "token_type": "bearer", "expires_in": 300,
            "refresh_token": "rt-secret", "id_token": "x.y.z", "consent_id": "c1",
        }))
        .unwrap();
        assert_eq!(t.token_type, "bearer");
        assert_eq!(t.expires_in, Some(300));
        assert_eq!(t.scope, None);
        assert_eq!(t.extra["consent_id"], "c1");
        let debug = format!("{t:?}");
        assert!(!debug.contains("secret"), "{debug}");
        assert!(serde_json::from_value::<TokenResponse>(json!({"token_type": "Bearer"})).is_err());
    }
}
