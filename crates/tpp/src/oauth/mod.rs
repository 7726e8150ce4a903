//! The FAPI 1.0 Advanced / UK Open Banking OAuth client: discovery, signed request objects
//! with the Open Banking intent binding, PKCE, PAR, client authentication, the token and
//! revocation endpoints, the authorization response (hybrid fragment or JARM), ID token checks
//! and resource calls with the access token (OB-SPEC-NOTES §9, FAPI 1.0 Part 2 §5.2.3).
//!
//! Time is always passed in (`now_unix`, seconds since the epoch): nothing here reads a clock,
//! so tests (and conformance tests of a bank) can build tokens at any instant.
//!
//! ```no_run
//! # async fn run() -> Result<(), bascule_tpp::TppError> {
//! use bascule_tpp::oauth::{AuthorizationResponse, ClientAuth, IdTokenChecks, RequestObject};
//! use bascule_tpp::{TppClient, TppFiles};
//!
//! let files = TppFiles::load("./my-tpp")?;
//! let client = TppClient::new(&files)?;
//! let now = 1_760_000_000;
//! let bank = client.discover("https://bank.example").await?;
//! let keys = client.provider_keys(&bank.jwks_uri).await?;
//! let auth = ClientAuth::tls("my-client-id");
//!
//! // A client-credentials token creates the consent (not shown); the PSU then authorises it.
//! let request = RequestObject::new("my-client-id", &bank.issuer, "https://tpp.example/cb",
//!     "openid accounts", now)?
//!     .intent("urn-alphabank-intent-58923");
//! let jwt = request.sign(client.signing_key())?;
//! let url = request.authorization_url(&bank.authorization_endpoint, &jwt)?;
//! println!("send the PSU to {url}");
//!
//! // ...the bank redirects back to https://tpp.example/cb#code=...&id_token=...&state=...
//! let redirect = "https://tpp.example/cb#code=c&id_token=t&state=s";
//! let AuthorizationResponse::Code { code, state, id_token } =
//!     AuthorizationResponse::from_redirect(redirect)?
//! else {
//!     return Ok(());
//! };
//! let mut checks = IdTokenChecks::new(&bank.issuer, "my-client-id", now);
//! checks.nonce = request.get_str("nonce");
//! checks.code = Some(&code);
//! checks.state = state.as_deref();
//! bascule_tpp::oauth::verify_id_token(id_token.as_deref().unwrap_or_default(), &keys, &checks)?;
//! let tokens = client
//!     .token_authorization_code(&bank.token_endpoint, &auth, &code, "https://tpp.example/cb", None)
//!     .await?;
//! let accounts = client.get("https://bank.example/open-banking/v4.0/aisp/accounts",
//!     &tokens.access_token).await?;
//! println!("{}", accounts.body);
//! # Ok(())
//! # }
//! ```

mod client_auth;
mod discovery;
mod pkce;
mod request_object;
mod resource;
mod response;
mod token;

pub use client_auth::{
    CLIENT_ASSERTION_LIFETIME_SECS, CLIENT_ASSERTION_TYPE_JWT_BEARER, ClientAuth, client_assertion,
    client_assertion_claims,
};
pub use discovery::{ProviderMetadata, WELL_KNOWN_OPENID_CONFIGURATION};
pub use pkce::{PKCE_METHOD_S256, Pkce, s256_challenge};
pub use request_object::{
    ACR_CA, ACR_SCA, REQUEST_OBJECT_LIFETIME_SECS, RequestObject, authorization_url,
    openbanking_claims, par_authorization_url,
};
pub use resource::ResourceResponse;
pub use response::{
    AuthorizationResponse, CLOCK_SKEW_SECS, IdTokenChecks, half_hash, parse_jarm, verify_id_token,
};
pub use token::{PushedAuthorizationResponse, TokenResponse};

use bascule_jose::base64url_encode;
use serde_json::Value;

use crate::TppError;

/// How much of an unexpected error body a `TppError` keeps (a bank's HTML error page is long).
const MAX_ERROR_BODY: usize = 4096;

/// base64url of `len` bytes from the system CSPRNG (aws-lc-rs).
pub(crate) fn random_base64url(len: usize) -> Result<String, TppError> {
    let mut bytes = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| TppError::Random)?;
    Ok(base64url_encode(&bytes))
}

/// An OAuth endpoint's error answer: a 400/401 with an RFC 6749 §5.2 body becomes
/// [`TppError::OAuth`], anything else [`TppError::Status`].
pub(crate) async fn oauth_error(response: reqwest::Response) -> TppError {
    match error_answer(response, &[400, 401]).await {
        ErrorAnswer::Coded(status, error, description) => TppError::OAuth {
            status,
            error,
            description,
        },
        ErrorAnswer::Other(e) => e,
    }
}

/// An error answer as RFC 6749 §5.2 and RFC 7591 §3.2.2 both shape it, or not.
pub(crate) enum ErrorAnswer {
    /// Status, `error` and `error_description` of a JSON error body.
    Coded(u16, String, Option<String>),
    /// [`TppError::Status`] with the start of whatever else came back.
    Other(TppError),
}

/// Reads `response` as an error answer: coded when its status is one of `coded` and its body
/// a JSON object with a string `error`.
pub(crate) async fn error_answer(response: reqwest::Response, coded: &[u16]) -> ErrorAnswer {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    if coded.contains(&status)
        && let Ok(Value::Object(body)) = serde_json::from_str::<Value>(&text)
        && let Some(Value::String(error)) = body.get("error")
    {
        let description = body
            .get("error_description")
            .and_then(Value::as_str)
            .map(str::to_owned);
        return ErrorAnswer::Coded(status, error.clone(), description);
    }
    ErrorAnswer::Other(TppError::Status {
        status,
        body: truncate(text, MAX_ERROR_BODY),
    })
}

pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut cut = max;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The JSON body of an expected-status response, or [`TppError::InvalidResponse`].
pub(crate) async fn json_body<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<T, TppError> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    serde_json::from_str(&text).map_err(|e| TppError::InvalidResponse {
        status,
        reason: format!("unexpected body: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo".into(), 2), "h…");
        assert_eq!(truncate("short".into(), 10), "short");
    }
}
