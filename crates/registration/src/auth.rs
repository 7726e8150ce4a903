//! Client authentication at the token endpoint (FAPI 1.0 Advanced §5.2.2-14): `tls_client_auth`
//! by the certificate's subject DN (RFC 8705 §2.1), or `private_key_jwt` by a client assertion
//! (RFC 7523) signed with a key from the software's JWKS. Both run over mutual TLS; the chain and
//! revocation were checked at the handshake.

use bascule_jose::{Algorithm, decode_unverified, verify_jwt};
use bascule_tls::ClientCertificate;
use serde::Deserialize;
use serde_json::Value;

use crate::client::{Client, TokenEndpointAuthMethod};
use crate::{Registrar, dn};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    #[error("unknown client")]
    UnknownClient,
    #[error("the client authenticates with {0}")]
    WrongMethod(&'static str),
    #[error("the certificate is not the client's")]
    CertificateMismatch,
    #[error("the client assertion is invalid: {0}")]
    InvalidAssertion(&'static str),
    #[error("the client assertion was already used")]
    Replayed,
    #[error("client authentication is unavailable: {0}")]
    Unavailable(String),
}

#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
}

impl Registrar {
    /// `tls_client_auth`: the client is registered for this method and the connection's
    /// certificate carries its registered subject DN.
    pub async fn authenticate_tls_client(
        &self,
        client_id: &str,
        cert: &ClientCertificate,
    ) -> Result<Client, ClientAuthError> {
        let client = self
            .client(client_id)
            .await
            .map_err(|e| ClientAuthError::Unavailable(e.to_string()))?
            .ok_or(ClientAuthError::UnknownClient)?;
        if client.token_endpoint_auth_method != TokenEndpointAuthMethod::TlsClientAuth {
            return Err(ClientAuthError::WrongMethod(
                client.token_endpoint_auth_method.as_str(),
            ));
        }
        self.still_approved(&client).await?;
        let registered = client.tls_client_auth_subject_dn.as_deref().unwrap_or("");
        if !dn::same(registered, &cert.subject_dn) {
            return Err(ClientAuthError::CertificateMismatch);
        }
        Ok(client)
    }

    /// `private_key_jwt`: the assertion is signed by the client's software key, `iss` = `sub` =
    /// the client id, `aud` names one of `audiences` (the token endpoint or the issuer), it has
    /// not expired, and its `jti` was never seen. The connection's certificate must still belong
    /// to the client's organisation (FAPI: mTLS everywhere).
    pub async fn authenticate_private_key_jwt(
        &self,
        assertion: &str,
        audiences: &[&str],
        cert: &ClientCertificate,
    ) -> Result<Client, ClientAuthError> {
        let (_, unverified) = decode_unverified(assertion)
            .map_err(|_| ClientAuthError::InvalidAssertion("not a JWT"))?;
        let client_id = unverified
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(ClientAuthError::InvalidAssertion("iss is missing"))?;
        let client = self
            .client(client_id)
            .await
            .map_err(|e| ClientAuthError::Unavailable(e.to_string()))?
            .ok_or(ClientAuthError::UnknownClient)?;
        if client.token_endpoint_auth_method != TokenEndpointAuthMethod::PrivateKeyJwt {
            return Err(ClientAuthError::WrongMethod(
                client.token_endpoint_auth_method.as_str(),
            ));
        }
        if !crate::register::certificate_belongs_to(cert, &client.organisation_id) {
            return Err(ClientAuthError::CertificateMismatch);
        }
        self.still_approved(&client).await?;
        let header_kid = bascule_jose::decode_unverified(assertion)
            .ok()
            .and_then(|(h, _)| h.kid);
        let keys = self
            .inner
            .jwks
            .keys(&client.jwks_uri, header_kid.as_deref())
            .await
            .map_err(|e| ClientAuthError::Unavailable(e.to_string()))?;
        let allowed: Vec<Algorithm> = client
            .token_endpoint_auth_signing_alg
            .as_deref()
            .and_then(|a| Algorithm::parse(a).ok())
            .map(|a| vec![a])
            .unwrap_or_else(|| vec![Algorithm::PS256, Algorithm::ES256]);
        let (_, claims): (_, AssertionClaims) = verify_jwt(assertion, &keys, &allowed)
            .map_err(|_| ClientAuthError::InvalidAssertion("signature or algorithm"))?;
        if claims.iss.as_deref() != Some(client_id) || claims.sub.as_deref() != Some(client_id) {
            return Err(ClientAuthError::InvalidAssertion(
                "iss and sub must be the client id",
            ));
        }
        let aud_ok = match &claims.aud {
            Some(Value::String(a)) => audiences.contains(&a.as_str()),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|a| audiences.contains(&a)),
            _ => false,
        };
        if !aud_ok {
            return Err(ClientAuthError::InvalidAssertion(
                "aud must be the token endpoint or issuer",
            ));
        }
        let now = self.inner.clock.now().unix_timestamp();
        let exp = claims
            .exp
            .ok_or(ClientAuthError::InvalidAssertion("exp is missing"))?;
        if exp <= now - 60 {
            return Err(ClientAuthError::InvalidAssertion("expired"));
        }
        // FAPI 1.0 Advanced §5.2.2-16 (via private_key_jwt lifetimes): no assertion for the far future.
        if exp > now + 3600 || claims.iat.is_some_and(|iat| iat > now + 60) {
            return Err(ClientAuthError::InvalidAssertion(
                "lifetime too long or issued in the future",
            ));
        }
        let jti = claims
            .jti
            .filter(|j| !j.is_empty() && j.len() <= 256)
            .ok_or(ClientAuthError::InvalidAssertion("jti is missing"))?;
        if !self
            .first_use(client_id, &jti, exp + 60)
            .await
            .map_err(|e| ClientAuthError::Unavailable(e.to_string()))?
        {
            return Err(ClientAuthError::Replayed);
        }
        Ok(client)
    }

    /// A client of software the sandbox directory has revoked (itself or with its
    /// organisation) is no longer a client: it reads as unknown. Without this, a revoked
    /// software's `private_key_jwt` client still authenticated over a sibling software's
    /// certificate while its keys sat in the JWKS cache, and a node whose in-memory revocation
    /// list lags the database would let a revoked certificate's client in.
    async fn still_approved(&self, client: &Client) -> Result<(), ClientAuthError> {
        if let Some(directory) = &self.inner.directory
            && !directory
                .is_active(&client.software_id)
                .await
                .map_err(|e| ClientAuthError::Unavailable(e.to_string()))?
        {
            return Err(ClientAuthError::UnknownClient);
        }
        Ok(())
    }
}
