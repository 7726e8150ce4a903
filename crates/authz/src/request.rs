//! Authorisation requests: the signed request object and the FAPI 1.0 Advanced rules on it
//! (Part 2 §5.2.2), plus Open Banking's intent binding (`openbanking_intent_id`). Only the
//! request object's parameters are used; the query merely has to agree with it.

use std::collections::HashMap;

use bascule_jose::{Algorithm, JoseError, decode_unverified, verify_jwt};
use bascule_registration::Client;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Authz, AuthzError};

/// Clock skew tolerated on `nbf`/`exp`.
const LEEWAY: i64 = 30;
/// FAPI 1.0 Advanced §5.2.2-13/17: `exp` at most 60 minutes after `nbf`, `nbf` at most 60 old.
const SIXTY_MINUTES: i64 = 3600;
const MAX_PARAM: usize = 2048;
pub const ACR_SCA: &str = "urn:openbanking:psd2:sca";
pub const ACR_CA: &str = "urn:openbanking:psd2:ca";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseType {
    /// `code id_token`: the hybrid flow, the ID token a detached signature over code and state.
    CodeIdToken,
    /// `code` with a JARM response.
    Code,
}

impl ResponseType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CodeIdToken => "code id_token",
            Self::Code => "code",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        let mut parts: Vec<&str> = raw.split_whitespace().collect();
        parts.sort_unstable();
        match parts.as_slice() {
            ["code", "id_token"] => Some(Self::CodeIdToken),
            ["code"] => Some(Self::Code),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    Fragment,
    /// JARM in the query (`query.jwt`, the default of `jwt` for `code`).
    QueryJwt,
    /// JARM in the fragment.
    FragmentJwt,
}

/// A validated authorisation request, as kept while the customer decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub response_type: ResponseType,
    pub response_mode: ResponseMode,
    pub code_challenge: Option<String>,
    pub consent_id: String,
    /// The client asked for `acr` as an essential claim.
    pub acr_essential: bool,
    pub acr_values: Vec<String>,
    /// Sandbox only: a decision to apply without a browser (see `SandboxDecision`).
    pub sandbox: Option<Value>,
}

/// Why a request failed, and whether the client may be told through its redirect URI.
#[derive(Debug)]
pub struct RequestError {
    pub error: AuthzError,
    /// Set once the redirect URI is known to be the client's (verified request object,
    /// registered URI): only then does the error go back to the client.
    pub redirect: Option<(String, Option<String>, ResponseMode)>,
}

impl From<AuthzError> for RequestError {
    fn from(error: AuthzError) -> Self {
        RequestError {
            error,
            redirect: None,
        }
    }
}

fn str_claim<'a>(
    claims: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, AuthzError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_PARAM => Ok(Some(s)),
        Some(_) => Err(AuthzError::request_object(format!(
            "{name} must be a string"
        ))),
    }
}

impl Authz {
    /// Validates a request object sent by `client`, against the query parameters that came
    /// with it (`query` is empty for a pushed request).
    pub(crate) async fn validate_request_object(
        &self,
        client: &Client,
        request_jwt: &str,
        query: &HashMap<String, String>,
        pushed: bool,
    ) -> Result<AuthorizationRequest, RequestError> {
        let now = self.now();
        let issuer = &self.inner.config.issuer;
        let (header, _) = decode_unverified(request_jwt)
            .map_err(|_| AuthzError::request_object("the request object is not a JWT"))?;
        let allowed: Vec<Algorithm> = Algorithm::parse(&client.request_object_signing_alg)
            .map(|a| vec![a])
            .unwrap_or_else(|_| vec![Algorithm::PS256, Algorithm::ES256]);
        let keys = self
            .inner
            .registrar
            .client_keys(client, header.kid.as_deref())
            .await
            .map_err(|e| AuthzError::Internal(format!("client keys: {e}")))?;
        let (_, claims): (_, Value) = verify_jwt(request_jwt, &keys, &allowed).map_err(|e| match e {
            JoseError::AlgorithmNotAllowed(_) => AuthzError::request_object(
                "request objects must be signed with the client's registered algorithm (PS256 or ES256)",
            ),
            _ => AuthzError::request_object("the request object's signature does not verify with the client's keys"),
        })?;
        let Value::Object(claims) = claims else {
            return Err(AuthzError::request_object(
                "the request object's claims must be an object",
            )
            .into());
        };

        // The redirect URI first: once it is trusted, later errors can go back to the client.
        let redirect_uri = str_claim(&claims, "redirect_uri")?
            .ok_or_else(|| {
                AuthzError::request_object("redirect_uri is required in the request object")
            })?
            .to_owned();
        if !client.redirect_uris.contains(&redirect_uri) {
            return Err(
                AuthzError::request("redirect_uri is not registered for this client").into(),
            );
        }
        if query
            .get("redirect_uri")
            .is_some_and(|q| *q != redirect_uri)
        {
            return Err(AuthzError::request(
                "redirect_uri differs between the query and the request object",
            )
            .into());
        }
        // Only the request object's state is used (state-only-outside-request-object-not-used).
        let state = str_claim(&claims, "state")?.map(str::to_owned);
        let response_type_raw = str_claim(&claims, "response_type")?;
        let response_type = response_type_raw.and_then(ResponseType::parse);
        let response_mode = match (response_type, str_claim(&claims, "response_mode")?) {
            (Some(ResponseType::CodeIdToken), None | Some("fragment")) => {
                Some(ResponseMode::Fragment)
            }
            (Some(ResponseType::CodeIdToken), Some("jwt" | "fragment.jwt")) => {
                Some(ResponseMode::FragmentJwt)
            }
            (Some(ResponseType::Code), Some("jwt" | "query.jwt")) => Some(ResponseMode::QueryJwt),
            (Some(ResponseType::Code), Some("fragment.jwt")) => Some(ResponseMode::FragmentJwt),
            _ => None,
        };
        let redirect_mode = response_mode.unwrap_or(ResponseMode::Fragment);
        let fail = |error: AuthzError| RequestError {
            error,
            redirect: Some((redirect_uri.clone(), state.clone(), redirect_mode)),
        };

        // JAR (RFC 9101 §4): a request object never holds request or request_uri (nor may a
        // pushed request, RFC 9126 §2.1).
        if claims.contains_key("request") || claims.contains_key("request_uri") {
            return Err(fail(AuthzError::request_object(
                "a request object may not contain request or request_uri",
            )));
        }
        let Some(response_type) = response_type else {
            return Err(fail(AuthzError::oauth(
                axum::http::StatusCode::BAD_REQUEST,
                bascule_http::OAuthErrorCode::UnsupportedResponseType,
                "response_type must be \"code id_token\", or \"code\" with response_mode jwt",
            )));
        };
        let Some(response_mode) = response_mode else {
            return Err(fail(AuthzError::oauth(
                axum::http::StatusCode::BAD_REQUEST,
                bascule_http::OAuthErrorCode::UnsupportedResponseType,
                "FAPI: response_type code needs response_mode jwt (JARM), and the hybrid flow answers in the fragment",
            )));
        };
        if !pushed {
            match query.get("response_type").map(|r| ResponseType::parse(r)) {
                Some(Some(q)) if q == response_type => {}
                _ => {
                    return Err(fail(AuthzError::request(
                        "response_type must be in the query too and equal the request object's",
                    )));
                }
            }
        }
        if str_claim(&claims, "client_id")?.is_some_and(|c| c != client.client_id)
            || str_claim(&claims, "iss")?.is_some_and(|i| i != client.client_id)
        {
            return Err(fail(AuthzError::request_object(
                "client_id and iss must be the client's id",
            )));
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == issuer,
            Some(Value::Array(items)) => items.iter().any(|a| a.as_str() == Some(issuer.as_str())),
            _ => false,
        };
        if !aud_ok {
            return Err(fail(AuthzError::request_object(format!(
                "aud must be the issuer {issuer}"
            ))));
        }
        let exp = claims.get("exp").and_then(Value::as_i64);
        let nbf = claims.get("nbf").and_then(Value::as_i64);
        let (Some(exp), Some(nbf)) = (exp, nbf) else {
            return Err(fail(AuthzError::request_object(
                "the request object needs exp and nbf",
            )));
        };
        if exp <= now - LEEWAY {
            return Err(fail(AuthzError::request_object(
                "the request object has expired",
            )));
        }
        if nbf > now + LEEWAY {
            return Err(fail(AuthzError::request_object(
                "the request object is not valid yet",
            )));
        }
        if exp - nbf > SIXTY_MINUTES {
            return Err(fail(AuthzError::request_object(
                "exp may be at most 60 minutes after nbf",
            )));
        }
        if nbf < now - SIXTY_MINUTES {
            return Err(fail(AuthzError::request_object(
                "nbf may be at most 60 minutes in the past",
            )));
        }

        let scope = str_claim(&claims, "scope")?.ok_or_else(|| {
            fail(AuthzError::request_object(
                "scope is required in the request object",
            ))
        })?;
        let scopes: Vec<String> = scope.split_whitespace().map(str::to_owned).collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(fail(AuthzError::scope("scope must include openid")));
        }
        if let Some(s) = scopes.iter().find(|s| !client.has_scope(s)) {
            return Err(fail(AuthzError::scope(format!(
                "scope {s} is not registered for this client"
            ))));
        }
        if !pushed
            && query
                .get("scope")
                .is_some_and(|q| !q.split_whitespace().any(|s| s == "openid"))
        {
            return Err(fail(AuthzError::request(
                "the query's scope must include openid",
            )));
        }
        let nonce = str_claim(&claims, "nonce")?.map(str::to_owned);
        if nonce.is_none() {
            return Err(fail(AuthzError::request("nonce is required")));
        }

        let code_challenge = match (
            str_claim(&claims, "code_challenge")?,
            str_claim(&claims, "code_challenge_method")?,
        ) {
            (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => Some(c.to_owned()),
            (Some(_), Some("S256")) => {
                return Err(fail(AuthzError::request(
                    "code_challenge must be 43 to 128 characters",
                )));
            }
            (Some(_), _) => {
                return Err(fail(AuthzError::request(
                    "PKCE: only code_challenge_method S256 is allowed",
                )));
            }
            (None, _) if pushed => {
                return Err(fail(AuthzError::request(
                    "PKCE (S256) is required with pushed authorisation requests",
                )));
            }
            (None, _) => None,
        };

        // Open Banking: the consent (intent) this authorisation is for.
        let id_token_claims = claims.get("claims").and_then(|c| c.get("id_token"));
        let consent_id = id_token_claims
            .and_then(|c| c.get("openbanking_intent_id"))
            .and_then(|c| c.get("value"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                fail(AuthzError::request(
                    "claims.id_token.openbanking_intent_id.value is required",
                ))
            })?
            .to_owned();
        let acr = id_token_claims.and_then(|c| c.get("acr"));
        let acr_essential = acr
            .and_then(|a| a.get("essential"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let acr_values: Vec<String> = acr
            .and_then(|a| a.get("values").or_else(|| a.get("value").map(|_| a)))
            .map(|v| match v {
                Value::Array(items) => items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                Value::Object(o) => o
                    .get("value")
                    .and_then(Value::as_str)
                    .map(|s| vec![s.to_owned()])
                    .unwrap_or_default(),
                Value::String(s) => vec![s.clone()],
                _ => Vec::new(),
            })
            .unwrap_or_default();
        if acr_essential
            && !acr_values.is_empty()
            && !acr_values.iter().any(|v| v == ACR_SCA || v == ACR_CA)
        {
            return Err(fail(AuthzError::oauth(
                axum::http::StatusCode::BAD_REQUEST,
                bascule_http::OAuthErrorCode::AccessDenied,
                "the essential acr values cannot be satisfied",
            )));
        }

        Ok(AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri,
            scopes,
            state,
            nonce,
            response_type,
            response_mode,
            code_challenge,
            consent_id,
            acr_essential,
            acr_values,
            sandbox: claims.get("bascule_sandbox").cloned(),
        })
    }
}
