//! The signed request object (FAPI 1.0 Part 2 §5.2.2-1, §5.2.3; OIDC Core §6.1) with the Open
//! Banking intent binding, and the front-channel authorization URLs (with and without PAR).

use bascule_jose::SigningKey;
use reqwest::Url;
use serde_json::{Map, Value, json};

use super::random_base64url;
use super::{PKCE_METHOD_S256, Pkce};
use crate::client::parse_url;
use crate::{ResponseType, TppError};

/// Default request object lifetime: `exp = now + 300` (FAPI allows at most 60 minutes after
/// `nbf`).
pub const REQUEST_OBJECT_LIFETIME_SECS: i64 = 300;
/// `acr` value for strong customer authentication.
pub const ACR_SCA: &str = "urn:openbanking:psd2:sca";
/// `acr` value for customer authentication without SCA (an exemption applied).
pub const ACR_CA: &str = "urn:openbanking:psd2:ca";

/// The claims of a request object, built with defaults and adjustable claim by claim (including
/// into invalid shapes, for negative conformance tests). Sign it with [`RequestObject::sign`].
///
/// Defaults from [`RequestObject::new`]: `iss` = `client_id` = the client id, `aud` = the
/// issuer, `response_type` `code id_token`, `redirect_uri`, `scope`, a random `state` and
/// `nonce` (base64url of 32 bytes each), `iat` = `nbf` = now, `exp` = now + 300 and a UUID v4
/// `jti`.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestObject {
    claims: Map<String, Value>,
}

impl RequestObject {
    /// A hybrid-flow (`code id_token`) request object; see the type's documentation.
    pub fn new(
        client_id: &str,
        issuer: &str,
        redirect_uri: &str,
        scope: &str,
        now_unix: i64,
    ) -> Result<Self, TppError> {
        let mut claims = Map::new();
        claims.insert("iss".into(), client_id.into());
        claims.insert("aud".into(), issuer.into());
        claims.insert(
            "response_type".into(),
            ResponseType::CodeIdToken.as_str().into(),
        );
        claims.insert("client_id".into(), client_id.into());
        claims.insert("redirect_uri".into(), redirect_uri.into());
        claims.insert("scope".into(), scope.into());
        claims.insert("state".into(), random_base64url(32)?.into());
        claims.insert("nonce".into(), random_base64url(32)?.into());
        claims.insert("iat".into(), now_unix.into());
        claims.insert("nbf".into(), now_unix.into());
        claims.insert(
            "exp".into(),
            now_unix.saturating_add(REQUEST_OBJECT_LIFETIME_SECS).into(),
        );
        claims.insert(
            "jti".into(),
            uuid::Uuid::new_v4().hyphenated().to_string().into(),
        );
        Ok(Self { claims })
    }

    /// `code id_token` (hybrid, ID token as detached signature; removes `response_mode`) or
    /// `code` with `response_mode=jwt` (JARM).
    pub fn response_type(mut self, response_type: ResponseType) -> Self {
        self.claims
            .insert("response_type".into(), response_type.as_str().into());
        match response_type {
            ResponseType::CodeIdToken => {
                self.claims.remove("response_mode");
            }
            ResponseType::Code => {
                self.claims.insert("response_mode".into(), "jwt".into());
            }
        }
        self
    }

    /// Replaces `aud`: a string, or an array (`ensure-request-object-with-multiple-aud-succeeds`;
    /// the PAR endpoint alongside the issuer).
    pub fn audience(self, audience: impl Into<Value>) -> Self {
        self.claim("aud", audience)
    }

    /// Replaces `state`.
    pub fn state(self, state: &str) -> Self {
        self.claim("state", state)
    }

    /// Replaces `nonce`.
    pub fn nonce(self, nonce: &str) -> Self {
        self.claim("nonce", nonce)
    }

    /// Adds `code_challenge` and `code_challenge_method=S256`.
    pub fn pkce(self, pkce: &Pkce) -> Self {
        self.claim("code_challenge", pkce.challenge())
            .claim("code_challenge_method", PKCE_METHOD_S256)
    }

    /// Binds the request to an Open Banking consent: the `claims` request asking for
    /// `openbanking_intent_id` (essential, with this value) in the ID token and userinfo, and an
    /// essential `acr` of SCA or CA ([`openbanking_claims`]).
    pub fn intent(self, consent_id: &str) -> Self {
        self.claim("claims", openbanking_claims(consent_id, &[ACR_SCA, ACR_CA]))
    }

    /// Sets (or replaces) any claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a claim (`.without("exp")` for `ensure-request-object-without-exp-fails`).
    pub fn without(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// The claims as they will be signed.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// A string claim, e.g. `get_str("nonce")` or `get_str("state")` to check the response.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The compact JWS over the claims, header `typ: JWT` (Open Banking does not use
    /// `oauth-authz-req+jwt`) with `alg` and `kid` from `key`.
    pub fn sign(&self, key: &SigningKey) -> Result<String, TppError> {
        Ok(key.sign_jwt(&self.claims, Some("JWT"))?)
    }

    /// [`authorization_url`] with `client_id`, `response_type`, `scope` and `redirect_uri`
    /// duplicated from these claims (whichever are strings).
    pub fn authorization_url(&self, endpoint: &str, request_jwt: &str) -> Result<Url, TppError> {
        let mut url = parse_url(endpoint)?;
        {
            let mut query = url.query_pairs_mut();
            for name in ["response_type", "client_id", "scope", "redirect_uri"] {
                if let Some(value) = self.get_str(name) {
                    query.append_pair(name, value);
                }
            }
            query.append_pair("request", request_jwt);
        }
        Ok(url)
    }
}

/// The Open Banking `claims` request parameter: `openbanking_intent_id` (essential, value
/// `consent_id`) in `id_token` and `userinfo`, and in `id_token` an essential `acr` with
/// `acr_values` (omitted when empty: `acr` is a MAY for TPPs).
pub fn openbanking_claims(consent_id: &str, acr_values: &[&str]) -> Value {
    let intent = json!({"value": consent_id, "essential": true});
    let mut id_token = json!({"openbanking_intent_id": intent});
    if !acr_values.is_empty() {
        id_token["acr"] = json!({"essential": true, "values": acr_values});
    }
    json!({"id_token": id_token, "userinfo": {"openbanking_intent_id": intent}})
}

/// The front-channel URL without PAR: `endpoint?response_type=..&client_id=..&scope=..
/// [&redirect_uri=..]&request=JWT`. FAPI 1.0 Part 2 §5.2.2 (and OIDC Core §6.1) needs
/// `response_type`, `client_id` and `scope` duplicated outside the request object. Query
/// parameters already in `endpoint` are kept; add more with `Url::query_pairs_mut`.
pub fn authorization_url(
    endpoint: &str,
    client_id: &str,
    request_jwt: &str,
    response_type: &str,
    scope: &str,
    redirect_uri: Option<&str>,
) -> Result<Url, TppError> {
    let mut url = parse_url(endpoint)?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", response_type)
            .append_pair("client_id", client_id)
            .append_pair("scope", scope);
        if let Some(redirect_uri) = redirect_uri {
            query.append_pair("redirect_uri", redirect_uri);
        }
        query.append_pair("request", request_jwt);
    }
    Ok(url)
}

/// The front-channel URL after PAR (RFC 9126 §4): `endpoint?client_id=..&request_uri=..`.
pub fn par_authorization_url(
    endpoint: &str,
    client_id: &str,
    request_uri: &str,
) -> Result<Url, TppError> {
    let mut url = parse_url(endpoint)?;
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("request_uri", request_uri);
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use bascule_jose::{Algorithm, VerifyingKeys, verify_jwt};

    const NOW: i64 = 1_760_000_000;

    fn sample() -> RequestObject {
        RequestObject::new(
            "client-1",
            "https://bank.example",
            "https://tpp.example/cb",
            "openid accounts",
            NOW,
        )
        .unwrap()
    }

    #[test]
    fn request_object_has_the_fapi_and_openbanking_claims() {
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let request = sample().intent("aac-123").pkce(&pkce);
        let claims = Value::Object(request.claims().clone());
        let state = request.get_str("state").unwrap();
        let nonce = request.get_str("nonce").unwrap();
        assert_eq!(state.len(), 43);
        assert_eq!(nonce.len(), 43);
        assert_ne!(state, nonce);
        let jti = claims["jti"].as_str().unwrap().to_owned();
        assert_eq!(
            claims,
            json!({
                "iss": "client-1",
                "aud": "https://bank.example",
                "response_type": "code id_token",
                "client_id": "client-1",
                "redirect_uri": "https://tpp.example/cb",
                "scope": "openid accounts",
                "state": state,
                "nonce": nonce,
                "iat": NOW,
                "nbf": NOW,
                "exp": NOW + 300,
                "jti": jti,
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                "code_challenge_method": "S256",
                "claims": {
                    "id_token": {
                        "openbanking_intent_id": {"value": "aac-123", "essential": true},
                        "acr": {"essential": true, "values": [
                            "urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"]},
                    },
                    "userinfo": {
                        "openbanking_intent_id": {"value": "aac-123", "essential": true},
                    },
                },
            })
        );
        assert_ne!(sample().get_str("nonce"), Some(nonce), "fresh per request");
    }

    #[test]
    fn builder_overrides_and_removes_claims() {
        let request = sample()
            .response_type(ResponseType::Code)
            .audience(json!(["https://bank.example", "https://bank.example/par"]))
            .state("s1")
            .nonce("n1")
            .claim("exp", NOW + 3601)
            .without("nbf");
        let claims = request.claims();
        assert_eq!(claims["response_type"], "code");
        assert_eq!(claims["response_mode"], "jwt");
        assert_eq!(claims["aud"][1], "https://bank.example/par");
        assert_eq!(claims["state"], "s1");
        assert_eq!(claims["nonce"], "n1");
        assert_eq!(claims["exp"], NOW + 3601);
        assert!(!claims.contains_key("nbf"));
        let back = request.response_type(ResponseType::CodeIdToken);
        assert!(!back.claims().contains_key("response_mode"));

        let no_acr = openbanking_claims("c", &[]);
        assert!(no_acr["id_token"].get("acr").is_none());
        assert_eq!(no_acr["userinfo"]["openbanking_intent_id"]["value"], "c");
    }

    #[test]
    fn signed_request_object_verifies_with_typ_jwt() {
        let key = SigningKey::generate(Algorithm::PS256).unwrap();
        let request = sample().intent("c");
        let jwt = request.sign(&key).unwrap();
        let keys = VerifyingKeys::from_signing_key(&key).unwrap();
        let (header, claims): (_, Value) = verify_jwt(&jwt, &keys, &[Algorithm::PS256]).unwrap();
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        assert_eq!(claims, Value::Object(request.claims().clone()));
    }

    #[test]
    fn authorization_urls_duplicate_the_oauth_parameters() {
        let url = authorization_url(
            "https://bank.example/authorize?x=1",
            "client 1",
            "a.b.c",
            "code id_token",
            "openid accounts",
            Some("https://tpp.example/cb"),
        )
        .unwrap();
        assert_eq!(
            url.as_str(),
            "https://bank.example/authorize?x=1&response_type=code+id_token&client_id=client+1\
             &scope=openid+accounts&redirect_uri=https%3A%2F%2Ftpp.example%2Fcb&request=a.b.c"
        );
        let from_request = sample().authorization_url("https://bank.example/authorize", "a.b.c");
        let pairs: Vec<(String, String)> = from_request
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "response_type",
                "client_id",
                "scope",
                "redirect_uri",
                "request"
            ]
        );
        assert_eq!(pairs[0].1, "code id_token");

        let par = par_authorization_url(
            "https://bank.example/authorize",
            "client-1",
            "urn:ietf:params:oauth:request_uri:abc",
        )
        .unwrap();
        assert_eq!(
            par.as_str(),
            "https://bank.example/authorize?client_id=client-1\
             &request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Aabc"
        );
        assert!(par_authorization_url("nope", "c", "u").is_err());
    }
}
