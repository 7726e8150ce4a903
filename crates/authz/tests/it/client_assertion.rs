//! `private_key_jwt` client authentication (FAPI 1.0 Advanced test plan, private_key_jwt group;
//! OIDC Core §9, RFC 7523 §3) at the token and PAR endpoints. The client authenticates with an
//! assertion signed by its software key, and still over mutual TLS.

use bascule_domain::ConsentKind;
use bascule_tpp::oauth::{CLIENT_ASSERTION_TYPE_JWT_BEARER, Pkce, client_assertion_claims};
use serde_json::{Map, Value, json};

use crate::support::{Bank, Tpp, assert_oauth_error};

/// The assertion claims `tpp` would send for `aud`, made now: `iss` = `sub` = its client id,
/// `iat`, `exp` = now + 60, a UUID v4 `jti`.
fn claims(bank: &Bank, tpp: &Tpp, aud: impl Into<Value>) -> Map<String, Value> {
    client_assertion_claims(&tpp.client_id, aud, bank.now())
}

/// `POST /token` (client credentials) over `tpp`'s mTLS connection, authenticated by
/// `assertion` alone.
async fn token_with(bank: &Bank, tpp: &Tpp, assertion: &str) -> (u16, Value) {
    bank.post_form(
        tpp.http(),
        &bank.app.url("/token"),
        &[
            ("grant_type", "client_credentials"),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER),
            ("client_assertion", assertion),
        ],
    )
    .await
}

/// `POST /par` over `tpp`'s mTLS connection with a valid signed request object (PKCE, a new
/// consent), authenticated by `assertion`.
async fn par_with(bank: &Bank, tpp: &Tpp, assertion: &str) -> (u16, Value) {
    let consent = bank.consent_for(tpp, ConsentKind::AccountAccess).await;
    let request = bank
        .request_for(tpp, &consent)
        .pkce(&Pkce::generate().unwrap());
    let jwt = tpp.sign(&request);
    bank.par(
        tpp,
        &[
            ("request", jwt.as_str()),
            ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER),
            ("client_assertion", assertion),
        ],
    )
    .await
}

/// Decodes a PEM block's base64 body (standard alphabet) with the base64url decoder.
fn pem_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    bascule_jose::base64url_decode(&body).unwrap()
}

#[tokio::test]
async fn client_assertion_for_the_token_endpoint_authenticates_a_private_key_jwt_client() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, bank.app.url("/token")));
    let (status, body) = token_with(&bank, &tpp, &jwt).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let checked = bank
        .app
        .state()
        .authz
        .check_access_token(token, &tpp.x5t())
        .await
        .unwrap();
    assert_eq!(checked.client_id(), tpp.client_id);
}

#[tokio::test]
async fn ensure_client_assertion_in_token_endpoint_without_assertion_is_invalid_client() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let url = bank.app.url("/token");
    // The certificate and client_id alone: not how this client authenticates.
    let answer = bank
        .post_form(
            tpp.http(),
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", tpp.client_id.as_str()),
            ],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
    // The assertion type without an assertion.
    let answer = bank
        .post_form(
            tpp.http(),
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", tpp.client_id.as_str()),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE_JWT_BEARER),
            ],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
    // An assertion of another type.
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, url.clone()));
    let answer = bank
        .post_form(
            tpp.http(),
            &url,
            &[
                ("grant_type", "client_credentials"),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer",
                ),
                ("client_assertion", jwt.as_str()),
            ],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_signed_client_assertion_with_rs256_fails() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    // The very key the software JWKS publishes, but PKCS#1 v1.5 (RS256), which FAPI forbids.
    let der = pem_der(&tpp.key().to_pkcs8_pem().unwrap());
    let key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let header = json!({"alg": "RS256", "kid": tpp.key().kid(), "typ": "JWT"});
    let claims = Value::Object(claims(&bank, &tpp, bank.app.url("/token")));
    let input = format!(
        "{}.{}",
        bascule_jose::base64url_encode(&serde_json::to_vec(&header).unwrap()),
        bascule_jose::base64url_encode(&serde_json::to_vec(&claims).unwrap())
    );
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let jwt = format!("{input}.{}", bascule_jose::base64url_encode(&signature));

    assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_client_assertion_with_exp_is_5_minutes_in_past_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let mut claims = claims(&bank, &tpp, bank.app.url("/token"));
    claims.insert("iat".into(), json!(bank.now() - 360));
    claims.insert("exp".into(), json!(bank.now() - 300));
    let jwt = tpp.sign_claims(&claims);
    assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_client_assertion_with_wrong_aud_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    for aud in [
        json!("https://another-bank.example/token"),
        json!(bank.app.url("/authorize")),
        json!([]),
    ] {
        let jwt = tpp.sign_claims(&claims(&bank, &tpp, aud));
        assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
    }
}

#[tokio::test]
async fn ensure_client_assertion_with_no_sub_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let mut claims = claims(&bank, &tpp, bank.app.url("/token"));
    claims.remove("sub");
    let jwt = tpp.sign_claims(&claims);
    assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_client_assertion_with_wrong_iss_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    // An unknown issuer, and another (tls_client_auth) client's id, signed with my key.
    for iss in ["not-a-client-of-this-bank", bank.tpp.client_id.as_str()] {
        let mut claims = claims(&bank, &tpp, bank.app.url("/token"));
        claims.insert("iss".into(), json!(iss));
        let jwt = tpp.sign_claims(&claims);
        assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
    }
}

#[tokio::test]
async fn ensure_client_assertion_with_wrong_sub_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let mut claims = claims(&bank, &tpp, bank.app.url("/token"));
    claims.insert("sub".into(), json!(bank.tpp.client_id));
    let jwt = tpp.sign_claims(&claims);
    assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_client_assertion_with_iss_aud_succeeds() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, bank.issuer()));
    let (status, body) = token_with(&bank, &tpp, &jwt).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn test_array_as_audience_for_client_jwt_assertion_succeeds() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let aud = json!(["https://another-bank.example/token", bank.app.url("/token")]);
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, aud));
    let (status, body) = token_with(&bank, &tpp, &jwt).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn replayed_client_assertion_with_the_same_jti_is_invalid_client() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, bank.app.url("/token")));
    let (status, body) = token_with(&bank, &tpp, &jwt).await;
    assert_eq!(status, 200, "{body}");
    assert_oauth_error(&token_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
    // A new assertion (new jti) with the same claims otherwise is fine.
    let mut fresh = claims(&bank, &tpp, bank.app.url("/token"));
    fresh.insert(
        "jti".into(),
        json!(uuid::Uuid::new_v4().hyphenated().to_string()),
    );
    let (status, body) = token_with(&bank, &tpp, &tpp.sign_claims(&fresh)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn client_assertion_over_another_organisations_certificate_is_invalid_client() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    // My assertion, sent over the fixture client's connection (another organisation).
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, bank.app.url("/token")));
    assert_oauth_error(
        &token_with(&bank, &bank.tpp, &jwt).await,
        401,
        "invalid_client",
    );
}

#[tokio::test]
async fn par_token_endpoint_url_as_audience_for_client_jwt_assertion_succeeds() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, bank.app.url("/token")));
    let (status, body) = par_with(&bank, &tpp, &jwt).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["request_uri"].is_string(), "{body}");
}

#[tokio::test]
async fn par_test_pushed_authorization_url_as_audience_for_client_jwt_assertion_succeeds() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, bank.app.url("/par")));
    let (status, body) = par_with(&bank, &tpp, &jwt).await;
    assert_eq!(status, 201, "{body}");
    assert!(body["request_uri"].is_string(), "{body}");
}

#[tokio::test]
async fn par_ensure_client_assertion_with_wrong_aud_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let jwt = tpp.sign_claims(&claims(&bank, &tpp, "https://another-bank.example/par"));
    assert_oauth_error(&par_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}

#[tokio::test]
async fn par_ensure_client_assertion_with_wrong_iss_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let mut claims = claims(&bank, &tpp, bank.app.url("/par"));
    claims.insert("iss".into(), json!("not-a-client-of-this-bank"));
    let jwt = tpp.sign_claims(&claims);
    assert_oauth_error(&par_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}

#[tokio::test]
async fn par_ensure_client_assertion_with_wrong_sub_fails() {
    let bank = Bank::start().await;
    let tpp = bank.private_key_jwt_client().await;
    let mut claims = claims(&bank, &tpp, bank.app.url("/par"));
    claims.insert("sub".into(), json!(bank.tpp.client_id));
    let jwt = tpp.sign_claims(&claims);
    assert_oauth_error(&par_with(&bank, &tpp, &jwt).await, 401, "invalid_client");
}
