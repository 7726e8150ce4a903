//! The authorization response at the redirect URI: the hybrid flow's fragment (OIDC Core
//! §3.3.2.5), a plain error, or a JARM response JWT (JARM §4.4); and ID token validation with
//! the detached-signature hashes FAPI 1.0 Part 2 §5.2.2.1 relies on (`c_hash`, `s_hash`,
//! `at_hash`).

use aws_lc_rs::digest::{SHA256, digest};
use bascule_jose::{
    Algorithm, ClaimChecks, VerifyingKeys, base64url_encode, check_claims, verify_jwt,
};
use serde_json::{Map, Value};

use crate::TppError;
use crate::client::parse_url;

/// Clock skew allowed on `exp`, `nbf` and `iat` by [`IdTokenChecks::new`] and [`parse_jarm`].
pub const CLOCK_SKEW_SECS: i64 = 60;

const ALGORITHMS: [Algorithm; 2] = [Algorithm::PS256, Algorithm::ES256];

/// What the bank sent back to the redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizationResponse {
    /// The PSU authorised: a code, the `state` if the request had one, and (hybrid flow) the
    /// ID token to check with [`verify_id_token`] (giving it `code` and `state`).
    Code {
        code: String,
        state: Option<String>,
        id_token: Option<String>,
    },
    /// The bank refused or the PSU cancelled (`access_denied`, ...; RFC 6749 §4.1.2.1).
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
    },
    /// A JARM response (`response_mode=jwt`): verify it with [`parse_jarm`].
    Jarm { response: String },
}

impl AuthorizationResponse {
    /// Parses the URL the PSU's browser was redirected to: the fragment when it holds a
    /// response (hybrid flow, and its errors), else the query (JARM `response=`, or errors
    /// with `response_mode=query`). Parameters of the registered redirect URI itself are
    /// ignored.
    pub fn from_redirect(url: &str) -> Result<Self, TppError> {
        let url = parse_url(url)?;
        let is_response = |params: &Map<String, Value>| {
            ["code", "error", "response", "id_token"]
                .iter()
                .any(|k| params.contains_key(*k))
        };
        let fragment = url.fragment().map(form_params).unwrap_or_default();
        let params = if is_response(&fragment) {
            fragment
        } else {
            form_params(url.query().unwrap_or_default())
        };
        if let Some(response) = str_param(&params, "response") {
            return Ok(Self::Jarm { response });
        }
        Self::from_params(&params).map_err(TppError::InvalidAuthorizationResponse)
    }

    /// From decoded response parameters (query, fragment or JARM claims).
    fn from_params(params: &Map<String, Value>) -> Result<Self, String> {
        let state = str_param(params, "state");
        if let Some(error) = str_param(params, "error") {
            return Ok(Self::Error {
                error,
                description: str_param(params, "error_description"),
                state,
            });
        }
        match str_param(params, "code") {
            Some(code) => Ok(Self::Code {
                code,
                state,
                id_token: str_param(params, "id_token"),
            }),
            None => Err("neither code nor error".into()),
        }
    }
}

/// Decodes `a=1&b=2` (application/x-www-form-urlencoded) into a map of strings; the first of
/// repeated names wins.
fn form_params(encoded: &str) -> Map<String, Value> {
    let mut params = Map::new();
    // Url parses a query string for us; a dummy base keeps the code on one, tested, decoder.
    let mut url = match reqwest::Url::parse("https://x.invalid/") {
        Ok(url) => url,
        Err(_) => return params,
    };
    url.set_query(Some(encoded));
    for (k, v) in url.query_pairs() {
        params
            .entry(k.into_owned())
            .or_insert_with(|| Value::String(v.into_owned()));
    }
    params
}

fn str_param(params: &Map<String, Value>, name: &str) -> Option<String> {
    params.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// Verifies a JARM response JWT (signature PS256/ES256 with the bank's keys, `iss` = `issuer`,
/// `aud` contains `client_id`, `exp` present and not passed, with [`CLOCK_SKEW_SECS`]) and
/// returns its [`AuthorizationResponse::Code`] or [`AuthorizationResponse::Error`]. Encrypted
/// (JWE) responses are not supported.
pub fn parse_jarm(
    response_jwt: &str,
    provider_keys: &VerifyingKeys,
    client_id: &str,
    issuer: &str,
    now_unix: i64,
) -> Result<AuthorizationResponse, TppError> {
    let (_, claims): (_, Value) = verify_jwt(response_jwt, provider_keys, &ALGORITHMS)?;
    let mut checks = ClaimChecks::at(now_unix);
    checks.leeway = CLOCK_SKEW_SECS;
    checks.issuer = Some(issuer);
    checks.audience = Some(client_id);
    checks.require_exp = true;
    check_claims(&claims, &checks).map_err(bascule_jose::JoseError::from)?;
    let Value::Object(params) = &claims else {
        return Err(invalid("JARM response", "claims are not an object"));
    };
    AuthorizationResponse::from_params(params).map_err(|reason| invalid("JARM response", reason))
}

/// What [`verify_id_token`] checks beyond the signature. Build with [`IdTokenChecks::new`] and
/// set the optional fields.
#[derive(Clone, Copy, Debug)]
pub struct IdTokenChecks<'a> {
    /// Expected `iss`.
    pub issuer: &'a str,
    /// Must be in `aud` (and equal `azp` if present).
    pub client_id: &'a str,
    /// Current time, unix seconds.
    pub now: i64,
    /// Clock skew allowed on `exp` and `iat`.
    pub leeway: i64,
    /// The request object's `nonce`: the claim must equal it. `None` skips the check (an ID
    /// token from a refresh has none).
    pub nonce: Option<&'a str>,
    /// The authorization code received with the token: `c_hash` must be present and match.
    pub code: Option<&'a str>,
    /// The `state` received with the token: `s_hash` must be present and match.
    pub state: Option<&'a str>,
    /// The access token issued with the ID token: `at_hash`, optional at the token endpoint
    /// (OIDC Core §3.3.2.11), must match when present.
    pub access_token: Option<&'a str>,
}

impl<'a> IdTokenChecks<'a> {
    /// Issuer, audience and time checks only, with [`CLOCK_SKEW_SECS`] leeway.
    pub fn new(issuer: &'a str, client_id: &'a str, now: i64) -> Self {
        Self {
            issuer,
            client_id,
            now,
            leeway: CLOCK_SKEW_SECS,
            nonce: None,
            code: None,
            state: None,
            access_token: None,
        }
    }
}

/// Verifies an ID token (OIDC Core §3.1.3.7, §3.3.2.12; FAPI 1.0 Part 2 §5.2.2.1): signature
/// PS256/ES256 with the bank's keys, `iss`, `aud`, `exp` and `iat` present and valid, a `sub`,
/// `azp` if present, and `nonce`, `c_hash`, `s_hash`, `at_hash` as [`IdTokenChecks`] says.
/// Returns the claims (`openbanking_intent_id`, `acr`, ...).
pub fn verify_id_token(
    id_token: &str,
    provider_keys: &VerifyingKeys,
    checks: &IdTokenChecks<'_>,
) -> Result<Value, TppError> {
    const ID_TOKEN: &str = "ID token";
    let (_, claims): (_, Value) = verify_jwt(id_token, provider_keys, &ALGORITHMS)?;
    let mut registered = ClaimChecks::at(checks.now);
    registered.leeway = checks.leeway;
    registered.issuer = Some(checks.issuer);
    registered.audience = Some(checks.client_id);
    registered.require_exp = true;
    registered.require_iat = true;
    check_claims(&claims, &registered).map_err(bascule_jose::JoseError::from)?;

    match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => {}
        _ => return Err(invalid(ID_TOKEN, "no sub")),
    }
    if let Some(azp) = claims.get("azp")
        && azp.as_str() != Some(checks.client_id)
    {
        return Err(invalid(ID_TOKEN, "azp is not the client id"));
    }
    if let Some(nonce) = checks.nonce {
        match claims.get("nonce").and_then(Value::as_str) {
            Some(n) if n == nonce => {}
            Some(_) => return Err(invalid(ID_TOKEN, "nonce does not match")),
            None => return Err(invalid(ID_TOKEN, "no nonce")),
        }
    }
    for (claim, value, required) in [
        ("c_hash", checks.code, true),
        ("s_hash", checks.state, true),
        ("at_hash", checks.access_token, false),
    ] {
        let Some(value) = value else { continue };
        match claims.get(claim).and_then(Value::as_str) {
            Some(hash) if hash == half_hash(value) => {}
            Some(_) => return Err(invalid(ID_TOKEN, format!("{claim} does not match"))),
            None if required => return Err(invalid(ID_TOKEN, format!("no {claim}"))),
            None => {}
        }
    }
    Ok(claims)
}

/// `c_hash`/`s_hash`/`at_hash` for PS256 and ES256: base64url of the left-most 128 bits of
/// SHA-256 over the ASCII value (OIDC Core §3.3.2.11).
pub fn half_hash(value: &str) -> String {
    let hash = digest(&SHA256, value.as_bytes());
    let bytes = hash.as_ref();
    base64url_encode(&bytes[..bytes.len() / 2])
}

fn invalid(token: &'static str, reason: impl Into<String>) -> TppError {
    TppError::InvalidToken {
        token,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bascule_jose::{ClaimError, JoseError, SigningKey};
    use serde_json::json;

    const NOW: i64 = 1_760_000_000;
    const ISSUER: &str = "https://bank.example";

    #[test]
    fn half_hash_matches_oidc_examples() {
        // OIDC Core Appendix A.3's c_hash (RS256 hashes with SHA-256 too).
        assert_eq!(
            half_hash("Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk"),
            "LDktKdoQak3Pk0cnXxCltA"
        );
        // The left half of the full SHA-256.
        let full =
            bascule_jose::base64url_decode(&bascule_jose::sha256_base64url(b"state-1")).unwrap();
        assert_eq!(half_hash("state-1"), base64url_encode(&full[..16]));
        assert_eq!(half_hash("").len(), 22);
    }

    #[test]
    fn fragment_query_and_jarm_redirects() {
        let hybrid = AuthorizationResponse::from_redirect(
            "https://tpp.example/cb?tenant=1#code=c%201&id_token=a.b.c&state=s",
        )
        .unwrap();
        assert_eq!(
            hybrid,
            AuthorizationResponse::Code {
                code: "c 1".into(),
                state: Some("s".into()),
                id_token: Some("a.b.c".into()),
            }
        );
        let denied = AuthorizationResponse::from_redirect(
            "https://tpp.example/cb#error=access_denied&error_description=PSU+cancelled&state=s",
        )
        .unwrap();
        assert_eq!(
            denied,
            AuthorizationResponse::Error {
                error: "access_denied".into(),
                description: Some("PSU cancelled".into()),
                state: Some("s".into()),
            }
        );
        let query_error =
            AuthorizationResponse::from_redirect("https://tpp.example/cb?error=invalid_request")
                .unwrap();
        assert_eq!(
            query_error,
            AuthorizationResponse::Error {
                error: "invalid_request".into(),
                description: None,
                state: None,
            }
        );
        let code_only =
            AuthorizationResponse::from_redirect("https://tpp.example/cb?code=x").unwrap();
        assert!(matches!(
            code_only,
            AuthorizationResponse::Code {
                state: None,
                id_token: None,
                ..
            }
        ));
        let jarm =
            AuthorizationResponse::from_redirect("https://tpp.example/cb?response=h.p.s").unwrap();
        assert_eq!(
            jarm,
            AuthorizationResponse::Jarm {
                response: "h.p.s".into()
            }
        );
        for bad in [
            "https://tpp.example/cb",
            "https://tpp.example/cb?state=s#x=1",
            "nope",
        ] {
            assert!(AuthorizationResponse::from_redirect(bad).is_err(), "{bad}");
        }
    }

    fn bank_key(alg: Algorithm) -> (SigningKey, VerifyingKeys) {
        let key = SigningKey::generate(alg).unwrap().with_kid("bank-1");
        let keys = VerifyingKeys::from_signing_key(&key).unwrap();
        (key, keys)
    }

    #[test]
    fn jarm_round_trip() {
        let (key, keys) = bank_key(Algorithm::PS256);
        let claims = json!({"iss": ISSUER, "aud": "client-1", "exp": NOW + 600,
                            "code": "code-1", "state": "s1"});
        let jwt = key.sign_jwt(&claims, None).unwrap();
        let redirect = format!("https://tpp.example/cb?response={jwt}");
        let AuthorizationResponse::Jarm { response } =
            AuthorizationResponse::from_redirect(&redirect).unwrap()
        else {
            panic!("not JARM")
        };
        assert_eq!(
            parse_jarm(&response, &keys, "client-1", ISSUER, NOW).unwrap(),
            AuthorizationResponse::Code {
                code: "code-1".into(),
                state: Some("s1".into()),
                id_token: None,
            }
        );

        let error = key
            .sign_jwt(
                &json!({"iss": ISSUER, "aud": "client-1", "exp": NOW + 600,
                        "error": "access_denied", "state": "s1"}),
                None,
            )
            .unwrap();
        assert!(matches!(
            parse_jarm(&error, &keys, "client-1", ISSUER, NOW).unwrap(),
            AuthorizationResponse::Error { error, .. } if error == "access_denied"
        ));

        let claim_err = |r: Result<AuthorizationResponse, TppError>| match r {
            Err(TppError::Jose(JoseError::Claim(e))) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            claim_err(parse_jarm(&jwt, &keys, "client-2", ISSUER, NOW)),
            ClaimError::WrongAudience
        );
        assert_eq!(
            claim_err(parse_jarm(&jwt, &keys, "client-1", "https://evil", NOW)),
            ClaimError::WrongIssuer
        );
        assert_eq!(
            claim_err(parse_jarm(&jwt, &keys, "client-1", ISSUER, NOW + 700)),
            ClaimError::Expired
        );
        let no_exp = key
            .sign_jwt(
                &json!({"iss": ISSUER, "aud": "client-1", "code": "c"}),
                None,
            )
            .unwrap();
        assert_eq!(
            claim_err(parse_jarm(&no_exp, &keys, "client-1", ISSUER, NOW)),
            ClaimError::Missing("exp")
        );
        let (_, other_keys) = bank_key(Algorithm::PS256);
        assert!(matches!(
            parse_jarm(&jwt, &other_keys, "client-1", ISSUER, NOW),
            Err(TppError::Jose(JoseError::BadSignature))
        ));
        let empty = key
            .sign_jwt(
                &json!({"iss": ISSUER, "aud": "client-1", "exp": NOW + 1}),
                None,
            )
            .unwrap();
        assert!(matches!(
            parse_jarm(&empty, &keys, "client-1", ISSUER, NOW),
            Err(TppError::InvalidToken { .. })
        ));
    }

    fn id_token_claims() -> Value {
        json!({
            "iss": ISSUER, "aud": "client-1", "sub": "aac-1", "iat": NOW, "exp": NOW + 300,
            "nonce": "n-1", "c_hash": half_hash("code-1"), "s_hash": half_hash("state-1"),
            "at_hash": half_hash("at-1"), "openbanking_intent_id": "aac-1",
            "acr": "urn:openbanking:psd2:sca",
        })
    }

    fn hybrid_checks() -> IdTokenChecks<'static> {
        let mut checks = IdTokenChecks::new(ISSUER, "client-1", NOW);
        checks.nonce = Some("n-1");
        checks.code = Some("code-1");
        checks.state = Some("state-1");
        checks.access_token = Some("at-1");
        checks
    }

    fn reason(result: Result<Value, TppError>) -> String {
        match result {
            Err(TppError::InvalidToken { reason, .. }) => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn id_token_with_matching_hashes_and_nonce_verifies() {
        for alg in [Algorithm::PS256, Algorithm::ES256] {
            let (key, keys) = bank_key(alg);
            let token = key.sign_jwt(&id_token_claims(), Some("JWT")).unwrap();
            let claims = verify_id_token(&token, &keys, &hybrid_checks()).unwrap();
            assert_eq!(claims["openbanking_intent_id"], "aac-1");
            // Nothing optional asked: still verifies.
            verify_id_token(&token, &keys, &IdTokenChecks::new(ISSUER, "client-1", NOW)).unwrap();
        }
    }

    #[test]
    fn id_token_with_wrong_hash_or_nonce_is_refused() {
        let (key, keys) = bank_key(Algorithm::ES256);
        let token = key.sign_jwt(&id_token_claims(), Some("JWT")).unwrap();
        let with = |f: &dyn Fn(&mut IdTokenChecks<'static>)| {
            let mut checks = hybrid_checks();
            f(&mut checks);
            verify_id_token(&token, &keys, &checks)
        };
        assert_eq!(
            reason(with(&|c| c.code = Some("code-2"))),
            "c_hash does not match"
        );
        assert_eq!(
            reason(with(&|c| c.state = Some("state-2"))),
            "s_hash does not match"
        );
        assert_eq!(
            reason(with(&|c| c.nonce = Some("n-2"))),
            "nonce does not match"
        );
        assert_eq!(
            reason(with(&|c| c.access_token = Some("at-2"))),
            "at_hash does not match"
        );

        let signed_without = |claim: &str| {
            let mut claims = id_token_claims();
            claims.as_object_mut().unwrap().remove(claim);
            key.sign_jwt(&claims, None).unwrap()
        };
        for (claim, expected) in [
            ("c_hash", "no c_hash"),
            ("s_hash", "no s_hash"),
            ("nonce", "no nonce"),
            ("sub", "no sub"),
        ] {
            let token = signed_without(claim);
            assert_eq!(
                reason(verify_id_token(&token, &keys, &hybrid_checks())),
                expected
            );
        }
        // at_hash is optional at the token endpoint.
        verify_id_token(&signed_without("at_hash"), &keys, &hybrid_checks()).unwrap();
        assert!(matches!(
            verify_id_token(&signed_without("iat"), &keys, &hybrid_checks()),
            Err(TppError::Jose(JoseError::Claim(ClaimError::Missing("iat"))))
        ));

        let mut claims = id_token_claims();
        claims["azp"] = json!("client-2");
        claims["aud"] = json!(["client-1", "client-2"]);
        let token = key.sign_jwt(&claims, None).unwrap();
        assert_eq!(
            reason(verify_id_token(&token, &keys, &hybrid_checks())),
            "azp is not the client id"
        );

        let mut wrong_aud = hybrid_checks();
        wrong_aud.client_id = "client-2";
        assert!(matches!(
            verify_id_token(&signed_without("azp"), &keys, &wrong_aud),
            Err(TppError::Jose(JoseError::Claim(ClaimError::WrongAudience)))
        ));
        let mut late = hybrid_checks();
        late.now = NOW + 300 + CLOCK_SKEW_SECS;
        assert!(matches!(
            verify_id_token(&signed_without("azp"), &keys, &late),
            Err(TppError::Jose(JoseError::Claim(ClaimError::Expired)))
        ));
    }
}
