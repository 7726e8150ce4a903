//! Detached JWS as Open Banking profiles it (RW §Message Signing): `x-jws-signature:
//! <b64url(header)>..<b64url(signature)>` over the exact body bytes, PS256 only, with the three
//! critical claims `http://openbanking.org.uk/iat`, `…/iss`, `…/tan` and no `b64` (gone since
//! v3.1.4).
//!
//! Shared by the APIs that sign (payments, event subscriptions): everything here is `pub` and
//! depends only on `bascule_authz`, `bascule_registration`, `bascule_jose` and `bascule_http`:
//!
//! - [`verify_request`]: the whole check of a request's signature for a client — returns `Ok`
//!   or 400 with the exact `UK.OBIE.Signature.*` code ([`SignatureError`] says which);
//! - [`refuse_unexpected`]: 400 `UK.OBIE.Signature.Unexpected` when a route that takes no
//!   signature gets one;
//! - [`ResponseSigner`] + [`sign_responses`]: a middleware signing every response body (errors
//!   included) with the bank's current key: `router.route_layer(from_fn_with_state(signer,
//!   sign_responses))` outside the error-format layer;
//! - [`JwsConfig`]: the trusted `tan` values, the bank's own `iss` and `tan`.
//!
//! It lives in the API kit rather than in `crates/http` because it needs the TPP's JWKS
//! (registration) and the bank's signing key (authz), which sit above the HTTP edge.
//!
//! Error codes (v3.1.11 `OBError1` enum, descriptions of the standard error codes):
//! - no header → `Signature.Missing`;
//! - not `header..signature`, bad base64url, header not a JSON object → `Signature.Malformed`;
//! - `alg`, `kid`, `crit`, or one of the three claims absent → `Signature.MissingClaim`;
//! - `alg` not PS256, `kid` not in the TPP's JWKS, `crit` not exactly the three, `iat` in the
//!   future or not a number, `iss` not `{org_id}/{software_id}` of the caller, `tan` not
//!   trusted, `b64` present, `typ` not `JOSE` → `Signature.InvalidClaim`;
//! - the signature does not verify over the body → `Signature.Invalid`.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bascule_authz::Authz;
use bascule_domain::Clock;
use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use bascule_jose::{Algorithm, JoseError, VerifyingKeys};
use bascule_registration::{Client, Registrar};
use serde_json::{Map, Value, json};

pub const HEADER: &str = "x-jws-signature";
pub const CLAIM_IAT: &str = "http://openbanking.org.uk/iat";
pub const CLAIM_ISS: &str = "http://openbanking.org.uk/iss";
pub const CLAIM_TAN: &str = "http://openbanking.org.uk/tan";
/// The `crit` list, exactly (order free).
pub const CRIT: [&str; 3] = [CLAIM_IAT, CLAIM_ISS, CLAIM_TAN];
/// The Open Banking Directory's trust anchor.
pub const OB_TRUST_ANCHOR: &str = "openbanking.org.uk";
/// The trust anchor of Bascule's sandbox directory (its TPPs' keys are published there).
pub const SANDBOX_TRUST_ANCHOR: &str = "sandbox.bascule.dev";

/// Response bodies larger than this are not buffered for signing (none of ours come close).
const MAX_SIGNED_BODY: usize = 4 * 1024 * 1024;

/// What the bank accepts in, and puts on, detached signatures.
#[derive(Debug, Clone)]
pub struct JwsConfig {
    /// `tan` values accepted on requests.
    pub trusted_tans: Vec<String>,
    /// `iss` on the bank's responses: its Open Banking organisation id.
    pub bank_iss: String,
    /// `tan` on the bank's responses.
    pub bank_tan: String,
    /// Clock skew allowed on a request's `iat` (seconds in the future).
    pub iat_leeway_seconds: i64,
}

impl JwsConfig {
    pub fn new(organisation_id: impl Into<String>) -> Self {
        Self {
            trusted_tans: vec![OB_TRUST_ANCHOR.into(), SANDBOX_TRUST_ANCHOR.into()],
            bank_iss: organisation_id.into(),
            bank_tan: OB_TRUST_ANCHOR.into(),
            iat_leeway_seconds: 30,
        }
    }
}

/// Why a signature was refused; `code()` is the OB error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("x-jws-signature is required")]
    Missing,
    #[error("x-jws-signature is malformed: {0}")]
    Malformed(String),
    #[error("x-jws-signature lacks {0}")]
    MissingClaim(String),
    #[error("x-jws-signature has an invalid {0}")]
    InvalidClaim(String),
    #[error("x-jws-signature does not verify over the body")]
    Invalid,
    #[error("x-jws-signature is not expected on this request")]
    Unexpected,
}

impl SignatureError {
    pub fn code(&self) -> ObErrorCode {
        match self {
            Self::Missing => ObErrorCode::SignatureMissing,
            Self::Malformed(_) => ObErrorCode::SignatureMalformed,
            Self::MissingClaim(_) => ObErrorCode::SignatureMissingClaim,
            Self::InvalidClaim(_) => ObErrorCode::SignatureInvalidClaim,
            Self::Invalid => ObErrorCode::SignatureInvalid,
            Self::Unexpected => ObErrorCode::SignatureUnexpected,
        }
    }
}

impl From<SignatureError> for Error {
    fn from(e: SignatureError) -> Error {
        Error::BadRequest(vec![ObErrorDetail::new(e.code(), e.to_string()).at(HEADER)])
    }
}

/// The JOSE header of a detached signature, checked against the profile (before any key).
#[derive(Debug, Clone)]
pub struct ObJwsHeader {
    pub kid: String,
    pub iat: i64,
    pub iss: String,
    pub tan: String,
}

/// `{org_id}/{software_id}`: the `iss` a TPP signs with (RW §Message Signing).
pub fn tpp_iss(client: &Client) -> String {
    format!("{}/{}", client.organisation_id, client.software_id)
}

/// Checks the header of `token` against the profile: structure, alg, kid, crit, and the
/// claims against `expected_iss`, `config.trusted_tans` and `now`.
pub fn check_header(
    token: &str,
    expected_iss: &str,
    config: &JwsConfig,
    now: i64,
) -> Result<ObJwsHeader, SignatureError> {
    let malformed = |m: &str| SignatureError::Malformed(m.to_owned());
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(malformed("expected header..signature"));
    };
    if !payload_b64.is_empty() {
        return Err(malformed("the payload must be detached (empty)"));
    }
    if header_b64.is_empty() || signature_b64.is_empty() {
        return Err(malformed("empty header or signature"));
    }
    bascule_jose::base64url_decode(signature_b64)
        .map_err(|_| malformed("the signature is not base64url"))?;
    let header_bytes = bascule_jose::base64url_decode(header_b64)
        .map_err(|_| malformed("the header is not base64url"))?;
    let header: Map<String, Value> = serde_json::from_slice(&header_bytes)
        .map_err(|_| malformed("the header is not a JSON object"))?;
    let missing = |c: &str| SignatureError::MissingClaim(c.to_owned());
    let invalid = |c: &str| SignatureError::InvalidClaim(c.to_owned());

    if header.contains_key("b64") {
        return Err(invalid(
            "b64 (unencoded payloads are not used since v3.1.4)",
        ));
    }
    match header.get("alg") {
        None => return Err(missing("alg")),
        Some(Value::String(a)) if a == "PS256" => {}
        Some(_) => return Err(invalid("alg (PS256 only)")),
    }
    let kid = match header.get("kid") {
        None => return Err(missing("kid")),
        Some(Value::String(k)) if !k.is_empty() => k.clone(),
        Some(_) => return Err(invalid("kid")),
    };
    if let Some(typ) = header.get("typ")
        && typ != "JOSE"
    {
        return Err(invalid("typ (JOSE)"));
    }
    if let Some(cty) = header.get("cty")
        && !matches!(cty.as_str(), Some("json" | "application/json"))
    {
        return Err(invalid("cty"));
    }
    let crit = match header.get("crit") {
        None => return Err(missing("crit")),
        Some(Value::Array(c)) => c,
        Some(_) => return Err(invalid("crit")),
    };
    let crit_names: Vec<&str> = crit.iter().filter_map(Value::as_str).collect();
    if crit_names.len() != crit.len()
        || crit_names.len() != CRIT.len()
        || !CRIT.iter().all(|c| crit_names.contains(c))
    {
        return Err(invalid("crit (exactly the iat, iss and tan claims)"));
    }
    let iat = match header.get(CLAIM_IAT) {
        None => return Err(missing(CLAIM_IAT)),
        Some(v) => v.as_i64().ok_or_else(|| invalid(CLAIM_IAT))?,
    };
    if iat > now + config.iat_leeway_seconds {
        return Err(invalid("http://openbanking.org.uk/iat (in the future)"));
    }
    let iss = match header.get(CLAIM_ISS) {
        None => return Err(missing(CLAIM_ISS)),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid(CLAIM_ISS)),
    };
    if iss != expected_iss {
        return Err(invalid(
            "http://openbanking.org.uk/iss (not the calling TPP)",
        ));
    }
    let tan = match header.get(CLAIM_TAN) {
        None => return Err(missing(CLAIM_TAN)),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(invalid(CLAIM_TAN)),
    };
    if !config.trusted_tans.contains(&tan) {
        return Err(invalid(
            "http://openbanking.org.uk/tan (not a trusted anchor)",
        ));
    }
    Ok(ObJwsHeader { kid, iat, iss, tan })
}

/// Verifies the signature itself over `body` with `keys` (after [`check_header`]).
pub fn check_signature(
    token: &str,
    body: &[u8],
    header: &ObJwsHeader,
    keys: &VerifyingKeys,
) -> Result<(), SignatureError> {
    if !keys.contains_kid(&header.kid) {
        return Err(SignatureError::InvalidClaim(
            "kid (not in the TPP's JWKS)".into(),
        ));
    }
    bascule_jose::verify_detached(token, body, keys, &[Algorithm::PS256], &CRIT)
        .map(|_| ())
        .map_err(|e| match e {
            JoseError::BadSignature => SignatureError::Invalid,
            JoseError::Malformed(m) => SignatureError::Malformed(m),
            JoseError::UnknownKey(_) => SignatureError::InvalidClaim("kid".into()),
            JoseError::AlgorithmNotAllowed(_) => {
                SignatureError::InvalidClaim("alg (the key is not PS256)".into())
            }
            other => SignatureError::InvalidClaim(other.to_string()),
        })
}

/// The whole request check for client `client_id`: the `x-jws-signature` in `headers` over the
/// exact `body` bytes. 400 `UK.OBIE.Signature.*` on failure.
pub async fn verify_request(
    registrar: &Registrar,
    client_id: &str,
    headers: &HeaderMap,
    body: &[u8],
    config: &JwsConfig,
    now: i64,
) -> Result<ObJwsHeader, Error> {
    let token = match headers.get(HEADER) {
        None => return Err(SignatureError::Missing.into()),
        Some(v) => v
            .to_str()
            .map_err(|_| SignatureError::Malformed("not ASCII".into()))?
            .trim(),
    };
    let client = registrar
        .client(client_id)
        .await
        .map_err(Error::internal)?
        .ok_or_else(|| Error::Unauthorised("the client is no longer registered".into()))?;
    let header = check_header(token, &tpp_iss(&client), config, now)?;
    let keys: Arc<VerifyingKeys> = registrar
        .client_keys(&client, Some(&header.kid))
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, client_id, "software JWKS unavailable for a signature");
            SignatureError::InvalidClaim("kid (the TPP's JWKS could not be read)".into())
        })?;
    check_signature(token, body, &header, &keys)?;
    Ok(header)
}

/// 400 `UK.OBIE.Signature.Unexpected` when a request that takes no signature carries one.
pub fn refuse_unexpected(headers: &HeaderMap) -> Result<(), Error> {
    if headers.contains_key(HEADER) {
        return Err(SignatureError::Unexpected.into());
    }
    Ok(())
}

/// The header the bank signs its bodies with, at `now`.
pub fn bank_header(config: &JwsConfig, now: i64) -> Map<String, Value> {
    let mut header = Map::new();
    header.insert("typ".into(), json!("JOSE"));
    header.insert("cty".into(), json!("application/json"));
    header.insert(CLAIM_IAT.into(), json!(now));
    header.insert(CLAIM_ISS.into(), json!(config.bank_iss));
    header.insert(CLAIM_TAN.into(), json!(config.bank_tan));
    header.insert("crit".into(), json!(CRIT));
    header
}

/// Signs response bodies with the authorisation server's current key. Cheap to clone.
#[derive(Clone)]
pub struct ResponseSigner {
    pub authz: Authz,
    pub config: JwsConfig,
    pub clock: Arc<dyn Clock>,
}

impl ResponseSigner {
    /// The `x-jws-signature` value for `body`.
    pub fn sign(&self, body: &[u8]) -> Result<String, Error> {
        let key = self.authz.keys().current().map_err(Error::internal)?;
        key.sign_detached(
            bank_header(&self.config, self.clock.now().unix_timestamp()),
            body,
        )
        .map_err(Error::internal)
    }
}

/// Middleware: every response with a body leaves with `x-jws-signature` over it.
pub async fn sign_responses(
    State(signer): State<ResponseSigner>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let (mut parts, body) = response.into_parts();
    let bytes = match to_bytes(body, MAX_SIGNED_BODY).await {
        Ok(b) => b,
        Err(e) => return Error::internal(format!("response body: {e}")).into_response(),
    };
    if !bytes.is_empty() {
        match signer
            .sign(&bytes)
            .and_then(|s| HeaderValue::from_str(&s).map_err(|e| Error::internal(e.to_string())))
        {
            Ok(value) => {
                parts.headers.insert(HEADER, value);
            }
            Err(e) => {
                tracing::error!(error = ?e, "could not sign a response");
                return e.into_response();
            }
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use bascule_jose::SigningKey;

    const ISS: &str = "org1/soft1";
    const NOW: i64 = 1_767_600_000;

    fn config() -> JwsConfig {
        JwsConfig::new("bankorg")
    }

    fn header_with(f: impl FnOnce(&mut Map<String, Value>)) -> Map<String, Value> {
        let mut h = Map::new();
        h.insert(CLAIM_IAT.into(), json!(NOW - 5));
        h.insert(CLAIM_ISS.into(), json!(ISS));
        h.insert(CLAIM_TAN.into(), json!(OB_TRUST_ANCHOR));
        h.insert("crit".into(), json!(CRIT));
        h.insert("typ".into(), json!("JOSE"));
        f(&mut h);
        h
    }

    fn raw_token(header: &Value) -> String {
        format!(
            "{}..{}",
            bascule_jose::base64url_encode(header.to_string().as_bytes()),
            bascule_jose::base64url_encode(b"sig")
        )
    }

    fn err(token: &str) -> SignatureError {
        check_header(token, ISS, &config(), NOW).unwrap_err()
    }

    #[test]
    fn a_good_signature_verifies_and_a_changed_body_does_not() {
        let key = SigningKey::generate(Algorithm::PS256).unwrap();
        let keys = VerifyingKeys::from_signing_key(&key).unwrap();
        let body = br#"{"Data":{}}"#;
        let token = key.sign_detached(header_with(|_| {}), body).unwrap();
        let h = check_header(&token, ISS, &config(), NOW).unwrap();
        assert_eq!(h.kid, key.kid());
        check_signature(&token, body, &h, &keys).unwrap();
        assert_eq!(
            check_signature(&token, br#"{"Data":{} }"#, &h, &keys),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn each_header_defect_gets_its_code() {
        let base = || {
            let mut h = Value::Object(header_with(|_| {}));
            h["alg"] = json!("PS256");
            h["kid"] = json!("k1");
            h
        };
        assert!(check_header(&raw_token(&base()), ISS, &config(), NOW).is_ok());
        let code = |mutate: &dyn Fn(&mut Value)| {
            let mut h = base();
            mutate(&mut h);
            err(&raw_token(&h)).code()
        };
        use ObErrorCode as C;
        let drop = |name: &'static str| {
            move |h: &mut Value| {
                h.as_object_mut().unwrap().remove(name);
            }
        };
        assert_eq!(code(&drop("alg")), C::SignatureMissingClaim);
        assert_eq!(code(&drop("kid")), C::SignatureMissingClaim);
        assert_eq!(code(&drop("crit")), C::SignatureMissingClaim);
        assert_eq!(code(&drop(CLAIM_IAT)), C::SignatureMissingClaim);
        assert_eq!(code(&drop(CLAIM_ISS)), C::SignatureMissingClaim);
        assert_eq!(code(&drop(CLAIM_TAN)), C::SignatureMissingClaim);
        assert_eq!(
            code(&|h| h["alg"] = json!("RS256")),
            C::SignatureInvalidClaim
        );
        assert_eq!(code(&|h| h["b64"] = json!(false)), C::SignatureInvalidClaim);
        assert_eq!(
            code(&|h| h["crit"] = json!([CLAIM_IAT, CLAIM_ISS])),
            C::SignatureInvalidClaim
        );
        assert_eq!(
            code(&|h| h[CLAIM_IAT] = json!(NOW + 3600)),
            C::SignatureInvalidClaim
        );
        assert_eq!(
            code(&|h| h[CLAIM_ISS] = json!("org1")),
            C::SignatureInvalidClaim
        );
        assert_eq!(
            code(&|h| h[CLAIM_TAN] = json!("evil.example")),
            C::SignatureInvalidClaim
        );
        assert_eq!(err("abc").code(), C::SignatureMalformed);
        assert_eq!(err("a.b.c").code(), C::SignatureMalformed);
        assert_eq!(err("!!..sig").code(), C::SignatureMalformed);
    }
}
