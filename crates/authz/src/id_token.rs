//! ID tokens (OIDC Core §2, FAPI 1.0 Advanced §5.2.2.1) and JARM responses, signed with the
//! server's current key. Open Banking adds `openbanking_intent_id` and `acr`, and
//! `http://openbanking.org.uk/refresh_token_expires_at` when the refresh token expires.

use serde_json::{Map, Value, json};

use crate::{Authz, AuthzError};

/// `c_hash`, `s_hash`, `at_hash`: the left half of the SHA-256 of the ASCII value, base64url
/// (OIDC Core §3.3.2.11 for PS256/ES256).
pub(crate) fn half_hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    bascule_jose::base64url_encode(&digest.as_ref()[..16])
}

pub(crate) struct IdTokenClaims<'a> {
    pub client_id: &'a str,
    pub consent_id: &'a str,
    pub nonce: Option<&'a str>,
    pub acr: &'a str,
    pub auth_time: i64,
    pub code: Option<&'a str>,
    pub state: Option<&'a str>,
    pub access_token: Option<&'a str>,
    pub refresh_token_expires_at: Option<i64>,
}

impl Authz {
    pub(crate) fn sign_id_token(&self, c: &IdTokenClaims<'_>) -> Result<String, AuthzError> {
        let now = self.now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.inner.config.issuer));
        // The intent is the subject: the customer's identity never leaves the bank.
        claims.insert("sub".into(), json!(c.consent_id));
        claims.insert("aud".into(), json!(c.client_id));
        claims.insert("iat".into(), json!(now));
        claims.insert(
            "exp".into(),
            json!(now + self.inner.config.id_token_lifetime),
        );
        claims.insert("auth_time".into(), json!(c.auth_time));
        claims.insert("openbanking_intent_id".into(), json!(c.consent_id));
        claims.insert("acr".into(), json!(c.acr));
        if let Some(n) = c.nonce {
            claims.insert("nonce".into(), json!(n));
        }
        if let Some(code) = c.code {
            claims.insert("c_hash".into(), json!(half_hash(code)));
        }
        if let Some(state) = c.state {
            claims.insert("s_hash".into(), json!(half_hash(state)));
        }
        if let Some(at) = c.access_token {
            claims.insert("at_hash".into(), json!(half_hash(at)));
        }
        if let Some(exp) = c.refresh_token_expires_at {
            claims.insert(
                "http://openbanking.org.uk/refresh_token_expires_at".into(),
                json!(exp),
            );
        }
        let key = self.inner.keys.current()?;
        key.sign_jwt(&Value::Object(claims), Some("JWT"))
            .map_err(|e| AuthzError::Internal(e.to_string()))
    }

    /// A JARM response (the authorisation response as a signed JWT).
    pub(crate) fn sign_jarm(
        &self,
        client_id: &str,
        params: &[(&str, String)],
    ) -> Result<String, AuthzError> {
        let now = self.now();
        let mut claims = Map::new();
        claims.insert("iss".into(), json!(self.inner.config.issuer));
        claims.insert("aud".into(), json!(client_id));
        claims.insert("exp".into(), json!(now + 300));
        claims.insert("iat".into(), json!(now));
        for (k, v) in params {
            claims.insert((*k).to_owned(), json!(v));
        }
        let key = self.inner.keys.current()?;
        key.sign_jwt(&Value::Object(claims), Some("JWT"))
            .map_err(|e| AuthzError::Internal(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_hash_matches_the_oidc_example() {
        // OIDC Core Appendix A.3 c_hash (RS256 hashes with SHA-256, as PS256 does).
        assert_eq!(
            half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
    }
}
