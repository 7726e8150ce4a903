//! The signed request object (FAPI 1.0 Advanced Part 2 §5.2.2, OIDC Core §6.1): what the
//! authorisation server must refuse, what it must accept, and that only the request object's
//! parameters count.
//!
//! A refused request object is answered with the bank's error page (400, no redirect) while
//! the redirect URI cannot be trusted (no valid signature, no registered redirect URI); once it
//! can be, the error goes back to the client's redirect URI.

use bascule_domain::{ConsentKind, ConsentStatus};
use bascule_tpp::oauth::{IdTokenChecks, RequestObject, half_hash, verify_id_token};
use serde_json::{Value, json};

use crate::support::{Authorize, Bank, REDIRECT, SCOPE, unsigned};

/// The fixture's request for a fresh consent.
async fn request(bank: &Bank) -> RequestObject {
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    bank.request(&consent)
}

/// The request's ID token, verified (signature, iss, aud, exp, c_hash, s_hash when a state
/// came back), without checking the nonce; returns its claims.
async fn id_token_claims(bank: &Bank, answer: &Authorize) -> Value {
    let params = answer.assert_code();
    let keys = bank.server_keys().await;
    let issuer = bank.issuer();
    let mut checks = IdTokenChecks::new(&issuer, &bank.tpp.client_id, bank.now());
    checks.code = Some(&params["code"]);
    checks.state = params.get("state").map(String::as_str);
    verify_id_token(&params["id_token"], &keys, &checks).unwrap()
}

/// Asserts an `invalid_request_object` error sent back to the client with the request's state.
#[track_caller]
fn assert_invalid_request_object(answer: &Authorize, request: &RequestObject) -> String {
    let params = answer.assert_error_redirect("invalid_request_object");
    assert_eq!(
        params.get("state").map(String::as_str),
        request.get_str("state")
    );
    params.get("error_description").cloned().unwrap_or_default()
}

#[tokio::test]
async fn ensure_request_object_with_multiple_aud_succeeds() {
    let bank = Bank::start().await;
    let request = request(&bank)
        .await
        .audience(json!(["https://someone-else.example", bank.issuer()]));
    bank.authorize_request(&request).await.assert_code();
}

#[tokio::test]
async fn ensure_request_object_without_exp_fails() {
    let bank = Bank::start().await;
    let request = request(&bank).await.without("exp");
    let answer = bank.authorize_request(&request).await;
    assert_invalid_request_object(&answer, &request);
}

#[tokio::test]
async fn ensure_request_object_without_nbf_fails() {
    let bank = Bank::start().await;
    let request = request(&bank).await.without("nbf");
    let answer = bank.authorize_request(&request).await;
    assert_invalid_request_object(&answer, &request);
}

#[tokio::test]
async fn ensure_request_object_without_scope_fails_even_with_scope_in_the_query() {
    let bank = Bank::start().await;
    let request = request(&bank).await.without("scope");
    let jwt = bank.tpp.sign(&request);
    let answer = bank
        .authorize(&[
            ("client_id", &bank.tpp.client_id),
            ("response_type", "code id_token"),
            ("scope", SCOPE),
            ("redirect_uri", REDIRECT),
            ("request", &jwt),
        ])
        .await;
    assert_invalid_request_object(&answer, &request);
}

#[tokio::test]
async fn ensure_request_object_without_nonce_fails() {
    let bank = Bank::start().await;
    let request = request(&bank).await.without("nonce");
    let answer = bank.authorize_request(&request).await;
    // The hybrid flow needs a nonce (OIDC Core §3.3.2.11): an invalid request.
    let params = answer.assert_error_redirect("invalid_request");
    assert_eq!(
        params.get("state").map(String::as_str),
        request.get_str("state")
    );
}

#[tokio::test]
async fn ensure_request_object_without_redirect_uri_fails_even_with_it_in_the_query() {
    let bank = Bank::start().await;
    let request = request(&bank).await.without("redirect_uri");
    let jwt = bank.tpp.sign(&request);
    let answer = bank
        .authorize(&[
            ("client_id", &bank.tpp.client_id),
            ("response_type", "code id_token"),
            ("scope", SCOPE),
            ("redirect_uri", REDIRECT),
            ("request", &jwt),
        ])
        .await;
    // Only the request object's redirect URI is trusted; without one there is nowhere safe
    // to send an error.
    answer.assert_error_page_saying("redirect_uri is required in the request object");
}

#[tokio::test]
async fn ensure_expired_request_object_fails() {
    let bank = Bank::start().await;
    let now = bank.now();
    let request = request(&bank)
        .await
        .claim("iat", now - 900)
        .claim("nbf", now - 900)
        .claim("exp", now - 600);
    let answer = bank.authorize_request(&request).await;
    let description = assert_invalid_request_object(&answer, &request);
    assert!(description.contains("expired"), "{description}");
}

#[tokio::test]
async fn ensure_request_object_with_exp_over_60_fails() {
    let bank = Bank::start().await;
    let now = bank.now();
    // exp 70 minutes after nbf (FAPI 1.0 Part 2 §5.2.2-13: at most 60).
    let request = request(&bank).await.claim("exp", now + 70 * 60);
    let answer = bank.authorize_request(&request).await;
    let description = assert_invalid_request_object(&answer, &request);
    assert!(description.contains("60 minutes"), "{description}");
}

#[tokio::test]
async fn ensure_request_object_with_nbf_over_60_fails() {
    let bank = Bank::start().await;
    let now = bank.now();
    // nbf 60 min 10 s in the past (§5.2.2-17: at most 60). So that only this rule can refuse
    // it, the lifetime stays under 60 minutes (exp - nbf = 59 min 55 s) and exp, 15 s ago, is
    // within the server's clock-skew leeway (30 s) rather than expired.
    let request = request(&bank)
        .await
        .claim("iat", now - 3610)
        .claim("nbf", now - 3610)
        .claim("exp", now - 15);
    let answer = bank.authorize_request(&request).await;
    let description = assert_invalid_request_object(&answer, &request);
    assert!(
        description.contains("nbf") && description.contains("in the past"),
        "{description}"
    );
}

#[tokio::test]
async fn ensure_request_object_with_bad_aud_fails() {
    let bank = Bank::start().await;
    let request = request(&bank)
        .await
        .audience("https://not-this-bank.example");
    let answer = bank.authorize_request(&request).await;
    let description = assert_invalid_request_object(&answer, &request);
    assert!(description.contains("aud"), "{description}");
}

/// An RS256 JWS over `claims` with the TPP's own RSA signing key (and its `kid`): the key is
/// right, only the algorithm is not one FAPI allows.
fn sign_rs256(bank: &Bank, claims: &serde_json::Map<String, Value>) -> String {
    use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    let pem = std::fs::read_to_string(
        bank.tpp
            .files
            .dir()
            .join(&bank.tpp.files.manifest().signing_key),
    )
    .unwrap();
    // PEM body: standard base64, read through the base64url decoder.
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>()
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_");
    let der = bascule_jose::base64url_decode(&body).unwrap();
    let key = RsaKeyPair::from_pkcs8(&der).unwrap();
    let b64 = |v: &Value| bascule_jose::base64url_encode(&serde_json::to_vec(v).unwrap());
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": bank.tpp.key().kid()});
    let input = format!("{}.{}", b64(&header), b64(&Value::Object(claims.clone())));
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", bascule_jose::base64url_encode(&signature))
}

#[tokio::test]
async fn ensure_signed_request_object_with_rs256_fails() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent);
    let jwt = sign_rs256(&bank, request.claims());
    bank.authorize_with(&bank.tpp, &request, &jwt)
        .await
        .assert_error_page_saying("registered algorithm");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_request_object_signature_algorithm_is_not_none() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent);
    let jwt = unsigned(request.claims());
    bank.authorize_with(&bank.tpp, &request, &jwt)
        .await
        .assert_error_page_saying("request object");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_request_object_with_invalid_signature_fails() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent);
    let jwt = bank.tpp.sign(&request);
    // Flip one bit in the middle of the signature.
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let mut bytes = bascule_jose::base64url_decode(signature).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    let tampered = format!("{input}.{}", bascule_jose::base64url_encode(&bytes));
    bank.authorize_with(&bank.tpp, &request, &tampered)
        .await
        .assert_error_page_saying("signature does not verify");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_matching_key_in_authorization_request_refuses_another_clients_key() {
    let bank = Bank::start().await;
    let other = bank.second_client().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    // This client's request, signed with the other client's (registered, valid) key.
    let request = bank.request(&consent);
    let jwt = other.sign(&request);
    bank.authorize_with(&bank.tpp, &request, &jwt)
        .await
        .assert_error_page_saying("signature does not verify");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_authorization_request_without_request_object_fails() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent);
    let claims = serde_json::to_string(&request.claims()["claims"]).unwrap();
    // Every parameter in the query, none signed.
    bank.authorize(&[
        ("client_id", &bank.tpp.client_id),
        ("response_type", "code id_token"),
        ("scope", SCOPE),
        ("redirect_uri", REDIRECT),
        ("state", request.get_str("state").unwrap()),
        ("nonce", request.get_str("nonce").unwrap()),
        ("claims", &claims),
    ])
    .await
    .assert_error_page_saying("signed request object");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_request_object_with_long_nonce_succeeds() {
    let bank = Bank::start().await;
    let nonce = "n".repeat(384);
    let request = request(&bank).await.nonce(&nonce);
    let answer = bank.authorize_request(&request).await;
    let claims = id_token_claims(&bank, &answer).await;
    assert_eq!(claims["nonce"], nonce);
}

#[tokio::test]
async fn ensure_request_object_with_64_char_nonce_success() {
    let bank = Bank::start().await;
    let nonce = "0123456789abcdef".repeat(4);
    assert_eq!(nonce.len(), 64);
    let request = request(&bank).await.nonce(&nonce);
    let answer = bank.authorize_request(&request).await;
    let claims = id_token_claims(&bank, &answer).await;
    assert_eq!(claims["nonce"], nonce);
}

#[tokio::test]
async fn ensure_request_object_with_long_state_succeeds() {
    let bank = Bank::start().await;
    let state = "s".repeat(384);
    let request = request(&bank).await.state(&state);
    let answer = bank.authorize_request(&request).await;
    let params = answer.assert_code();
    assert_eq!(params["state"], state);
    let claims = id_token_claims(&bank, &answer).await;
    assert_eq!(claims["s_hash"], half_hash(&state));
}

#[tokio::test]
async fn ensure_different_nonce_inside_and_outside_request_object_uses_the_inside_one() {
    let bank = Bank::start().await;
    let request = request(&bank).await.nonce("nonce-inside");
    let jwt = bank.tpp.sign(&request);
    let answer = bank
        .authorize(&[
            ("client_id", &bank.tpp.client_id),
            ("response_type", "code id_token"),
            ("scope", SCOPE),
            ("redirect_uri", REDIRECT),
            ("nonce", "nonce-outside"),
            ("request", &jwt),
        ])
        .await;
    let claims = id_token_claims(&bank, &answer).await;
    assert_eq!(claims["nonce"], "nonce-inside");
}

#[tokio::test]
async fn state_only_outside_request_object_not_used() {
    let bank = Bank::start().await;
    let request = request(&bank).await.without("state");
    let jwt = bank.tpp.sign(&request);
    let answer = bank
        .authorize(&[
            ("client_id", &bank.tpp.client_id),
            ("response_type", "code id_token"),
            ("scope", SCOPE),
            ("redirect_uri", REDIRECT),
            ("state", "state-outside"),
            ("request", &jwt),
        ])
        .await;
    let params = answer.assert_code();
    assert!(!params.contains_key("state"), "{params:?}");
    assert!(!answer.location().contains("state-outside"));
    let claims = id_token_claims(&bank, &answer).await;
    assert!(claims.get("s_hash").is_none(), "{claims}");
}
