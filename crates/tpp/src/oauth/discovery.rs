//! OpenID Provider discovery (OIDD §4) and the provider's signing keys.

use bascule_jose::{Jwks, VerifyingKeys};
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::json_body;
use crate::client::{interaction_id, parse_url};
use crate::{INTERACTION_ID, TppClient, TppError};

/// The discovery document's path below the issuer.
pub const WELL_KNOWN_OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";

/// The provider metadata a FAPI client uses; everything else the bank publishes is in `other`
/// (e.g. `mtls_endpoint_aliases`, `*_signing_alg_values_supported`, `acr_values_supported`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ProviderMetadata {
    /// An endpoint to call with the transport certificate: the `mtls_endpoint_aliases` entry
    /// for `name` (RFC 8705 §5) if the bank publishes one, else the top-level `name`.
    pub fn mtls_endpoint(&self, name: &str) -> Option<&str> {
        if let Some(alias) = self
            .other
            .get("mtls_endpoint_aliases")
            .and_then(|aliases| aliases.get(name))
            .and_then(Value::as_str)
        {
            return Some(alias);
        }
        match name {
            "authorization_endpoint" => Some(&self.authorization_endpoint),
            "token_endpoint" => Some(&self.token_endpoint),
            "jwks_uri" => Some(&self.jwks_uri),
            "registration_endpoint" => self.registration_endpoint.as_deref(),
            "pushed_authorization_request_endpoint" => {
                self.pushed_authorization_request_endpoint.as_deref()
            }
            "revocation_endpoint" => self.revocation_endpoint.as_deref(),
            "introspection_endpoint" => self.introspection_endpoint.as_deref(),
            "userinfo_endpoint" => self.userinfo_endpoint.as_deref(),
            other => self.other.get(other).and_then(Value::as_str),
        }
    }
}

impl TppClient {
    /// `GET {issuer}/.well-known/openid-configuration` and check that the document's `issuer`
    /// is exactly `issuer` (OIDD §4.3; a trailing `/` on the argument is ignored). Expects
    /// `200`. Sending the transport certificate is harmless: discovery needs none.
    pub async fn discover(&self, issuer: &str) -> Result<ProviderMetadata, TppError> {
        let issuer = issuer.trim_end_matches('/');
        let metadata = self
            .provider_metadata(&format!("{issuer}{WELL_KNOWN_OPENID_CONFIGURATION}"))
            .await?;
        if metadata.issuer != issuer {
            return Err(TppError::InvalidResponse {
                status: StatusCode::OK.as_u16(),
                reason: format!(
                    "discovery issuer {:?} is not the issuer asked for, {issuer:?}",
                    metadata.issuer
                ),
            });
        }
        Ok(metadata)
    }

    /// `GET` a discovery document at any URL, without the issuer check of
    /// [`discover`](Self::discover).
    pub async fn provider_metadata(&self, url: &str) -> Result<ProviderMetadata, TppError> {
        let response = self.get_json_document(url).await?;
        json_body(response).await
    }

    /// `GET jwks_uri` and parse the provider's PS256/ES256 signing keys (others are skipped).
    pub async fn provider_keys(&self, jwks_uri: &str) -> Result<VerifyingKeys, TppError> {
        let response = self.get_json_document(jwks_uri).await?;
        let jwks: Jwks = json_body(response).await?;
        Ok(VerifyingKeys::from_jwks(&jwks)?)
    }

    async fn get_json_document(&self, url: &str) -> Result<reqwest::Response, TppError> {
        let response = self
            .http()
            .get(parse_url(url)?)
            .header(ACCEPT, "application/json")
            .header(INTERACTION_ID, interaction_id())
            .send()
            .await?;
        if response.status() != StatusCode::OK {
            return Err(super::oauth_error(response).await);
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_keeps_unknown_members_and_prefers_mtls_aliases() {
        let doc = json!({
            "issuer": "https://bank.example",
            "authorization_endpoint": "https://bank.example/authorize",
            "token_endpoint": "https://bank.example/token",
            "jwks_uri": "https://bank.example/jwks",
            "pushed_authorization_request_endpoint": "https://bank.example/par",
            "tls_client_certificate_bound_access_tokens": true,
            "mtls_endpoint_aliases": {"token_endpoint": "https://mtls.bank.example/token"},
        });
        let metadata: ProviderMetadata = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(metadata.registration_endpoint, None);
        assert_eq!(
            metadata.pushed_authorization_request_endpoint.as_deref(),
            Some("https://bank.example/par")
        );
        assert_eq!(
            metadata.other["tls_client_certificate_bound_access_tokens"],
            true
        );
        assert_eq!(
            metadata.mtls_endpoint("token_endpoint"),
            Some("https://mtls.bank.example/token")
        );
        assert_eq!(
            metadata.mtls_endpoint("pushed_authorization_request_endpoint"),
            Some("https://bank.example/par")
        );
        assert_eq!(metadata.mtls_endpoint("revocation_endpoint"), None);
        assert_eq!(serde_json::to_value(&metadata).unwrap(), doc);

        let mut missing = doc;
        missing.as_object_mut().unwrap().remove("token_endpoint");
        assert!(serde_json::from_value::<ProviderMetadata>(missing).is_err());
    }
}
