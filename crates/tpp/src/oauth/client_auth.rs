//! Client authentication at the token, PAR and revocation endpoints: `tls_client_auth`
//! (RFC 8705 §2; the transport certificate does the work) or `private_key_jwt` (OIDC Core §9,
//! RFC 7523 §2.2).

use bascule_jose::SigningKey;
use serde_json::{Map, Value};

use crate::TppError;

/// `client_assertion_type` for `private_key_jwt`.
pub const CLIENT_ASSERTION_TYPE_JWT_BEARER: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Client assertion lifetime: `exp = now + 60`.
pub const CLIENT_ASSERTION_LIFETIME_SECS: i64 = 60;

/// How the client authenticates a call to an OAuth endpoint.
#[derive(Clone, Debug)]
pub enum ClientAuth<'a> {
    /// mTLS with the transport certificate; the form carries `client_id`.
    TlsClientAuth { client_id: &'a str },
    /// A client assertion signed with `key` at `now` (unix seconds).
    PrivateKeyJwt {
        client_id: &'a str,
        key: &'a SigningKey,
        now: i64,
        /// The assertion's `aud`; `None` means the URL of the endpoint being called (the
        /// token, PAR or revocation endpoint). The issuer or an array also work at most banks.
        audience: Option<Value>,
        /// Also send `client_id` in the form (optional with an assertion, RFC 7523 §3).
        send_client_id: bool,
    },
}

impl<'a> ClientAuth<'a> {
    /// `tls_client_auth`.
    pub fn tls(client_id: &'a str) -> Self {
        ClientAuth::TlsClientAuth { client_id }
    }

    /// `private_key_jwt` with `aud` = the endpoint URL and no `client_id` form field.
    pub fn private_key_jwt(client_id: &'a str, key: &'a SigningKey, now: i64) -> Self {
        ClientAuth::PrivateKeyJwt {
            client_id,
            key,
            now,
            audience: None,
            send_client_id: false,
        }
    }

    /// Sets the assertion's `aud` (ignored for `tls_client_auth`).
    pub fn with_audience(mut self, aud: impl Into<Value>) -> Self {
        if let ClientAuth::PrivateKeyJwt { audience, .. } = &mut self {
            *audience = Some(aud.into());
        }
        self
    }

    /// Whether to send `client_id` next to the assertion (ignored for `tls_client_auth`, which
    /// always sends it).
    pub fn with_client_id_field(mut self, send: bool) -> Self {
        if let ClientAuth::PrivateKeyJwt { send_client_id, .. } = &mut self {
            *send_client_id = send;
        }
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &'a str {
        match self {
            ClientAuth::TlsClientAuth { client_id }
            | ClientAuth::PrivateKeyJwt { client_id, .. } => client_id,
        }
    }

    /// The form fields authenticating a call to `endpoint` (the URL is the default assertion
    /// audience).
    pub fn form_fields(&self, endpoint: &str) -> Result<Vec<(&'static str, String)>, TppError> {
        match self {
            ClientAuth::TlsClientAuth { client_id } => {
                Ok(vec![("client_id", (*client_id).to_owned())])
            }
            ClientAuth::PrivateKeyJwt {
                client_id,
                key,
                now,
                audience,
                send_client_id,
            } => {
                let aud = audience.clone().unwrap_or_else(|| endpoint.into());
                let mut fields = Vec::with_capacity(3);
                if *send_client_id {
                    fields.push(("client_id", (*client_id).to_owned()));
                }
                fields.push((
                    "client_assertion_type",
                    CLIENT_ASSERTION_TYPE_JWT_BEARER.to_owned(),
                ));
                fields.push((
                    "client_assertion",
                    client_assertion(client_id, key, aud, *now)?,
                ));
                Ok(fields)
            }
        }
    }
}

/// A client assertion's claims (RFC 7523 §3): `iss` = `sub` = `client_id`, `aud`, `iat` = now,
/// `exp` = now + 60, a UUID v4 `jti`. Edit and sign them yourself for negative tests.
pub fn client_assertion_claims(
    client_id: &str,
    aud: impl Into<Value>,
    now_unix: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), client_id.into());
    claims.insert("sub".into(), client_id.into());
    claims.insert("aud".into(), aud.into());
    claims.insert("iat".into(), now_unix.into());
    claims.insert(
        "exp".into(),
        now_unix
            .saturating_add(CLIENT_ASSERTION_LIFETIME_SECS)
            .into(),
    );
    claims.insert(
        "jti".into(),
        uuid::Uuid::new_v4().hyphenated().to_string().into(),
    );
    claims
}

/// The signed client assertion (header `typ: JWT`) over [`client_assertion_claims`].
pub fn client_assertion(
    client_id: &str,
    key: &SigningKey,
    aud: impl Into<Value>,
    now_unix: i64,
) -> Result<String, TppError> {
    Ok(key.sign_jwt(
        &client_assertion_claims(client_id, aud, now_unix),
        Some("JWT"),
    )?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bascule_jose::{Algorithm, VerifyingKeys, verify_jwt};
    use serde_json::json;

    #[test]
    fn client_assertion_claims_follow_rfc7523() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let jwt = client_assertion("c1", &key, "https://bank.example/token", 100).unwrap();
        let keys = VerifyingKeys::from_signing_key(&key).unwrap();
        let (header, claims): (_, Value) = verify_jwt(&jwt, &keys, &[Algorithm::ES256]).unwrap();
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let jti = claims["jti"].as_str().unwrap().to_owned();
        assert_eq!(jti.len(), 36);
        assert_eq!(
            claims,
            json!({"iss": "c1", "sub": "c1", "aud": "https://bank.example/token",
                   "iat": 100, "exp": 160, "jti": jti})
        );
        let other = client_assertion_claims("c1", vec!["a", "b"], 100);
        assert_eq!(other["aud"], json!(["a", "b"]));
        assert_ne!(other["jti"], json!(jti));
    }

    #[test]
    fn form_fields_per_method() {
        let key = SigningKey::generate(Algorithm::ES256).unwrap();
        let tls = ClientAuth::tls("c1").with_audience("ignored");
        assert_eq!(
            tls.form_fields("https://bank.example/token").unwrap(),
            [("client_id", "c1".to_owned())]
        );

        let pkj = ClientAuth::private_key_jwt("c1", &key, 100);
        assert_eq!(pkj.client_id(), "c1");
        let fields = pkj.form_fields("https://bank.example/token").unwrap();
        let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["client_assertion_type", "client_assertion"]);
        assert_eq!(fields[0].1, CLIENT_ASSERTION_TYPE_JWT_BEARER);
        let (_, claims) = bascule_jose::decode_unverified(&fields[1].1).unwrap();
        assert_eq!(claims["aud"], "https://bank.example/token");

        let fields = pkj
            .with_audience("https://bank.example")
            .with_client_id_field(true)
            .form_fields("https://bank.example/par")
            .unwrap();
        assert_eq!(fields[0], ("client_id", "c1".to_owned()));
        let (_, claims) = bascule_jose::decode_unverified(&fields[2].1).unwrap();
        assert_eq!(claims["aud"], "https://bank.example");
    }
}
