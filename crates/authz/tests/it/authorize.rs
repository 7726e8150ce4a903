//! The authorize endpoint: discovery, the hybrid flow's response and ID token, JARM, the
//! customer's refusal, redirect URI and response type / mode rules, and the Open Banking intent
//! binding (FAPI 1.0 Advanced test plan, "flow" modules that concern `/authorize`).

use bascule_domain::{ConsentKind, ConsentStatus};
use bascule_tpp::ResponseType;
use bascule_tpp::oauth::{IdTokenChecks, half_hash, verify_id_token};
use serde_json::{Value, json};

use crate::support::{Bank, REDIRECT, SCOPE, UNREGISTERED_REDIRECT, reject};

#[tokio::test]
async fn discovery_end_point_verification_publishes_the_fapi_metadata_without_a_certificate() {
    let bank = Bank::start().await;
    let issuer = bank.issuer();
    // A browser with no client certificate can read it.
    let response = bank
        .browser
        .get(bank.app.url("/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let d: Value = response.json().await.unwrap();

    assert_eq!(d["issuer"], issuer);
    assert_eq!(d["authorization_endpoint"], format!("{issuer}/authorize"));
    assert_eq!(d["token_endpoint"], format!("{issuer}/token"));
    assert_eq!(d["jwks_uri"], format!("{issuer}/jwks"));
    assert_eq!(d["registration_endpoint"], format!("{issuer}/register"));
    assert_eq!(
        d["pushed_authorization_request_endpoint"],
        format!("{issuer}/par")
    );
    assert_eq!(d["tls_client_certificate_bound_access_tokens"], true);
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["tls_client_auth", "private_key_jwt"])
    );
    let fapi_algs = json!(["PS256", "ES256"]);
    for name in [
        "id_token_signing_alg_values_supported",
        "request_object_signing_alg_values_supported",
        "token_endpoint_auth_signing_alg_values_supported",
        "authorization_signing_alg_values_supported",
    ] {
        assert_eq!(d[name], fapi_algs, "{name}");
    }
    assert_eq!(
        d["response_types_supported"],
        json!(["code id_token", "code"])
    );
    let modes = d["response_modes_supported"].as_array().unwrap();
    assert!(modes.contains(&json!("jwt")), "{modes:?}");
    assert!(modes.contains(&json!("fragment")), "{modes:?}");
    let claims = d["claims_supported"].as_array().unwrap();
    for claim in ["openbanking_intent_id", "acr", "sub", "iss", "aud"] {
        assert!(claims.contains(&json!(claim)), "{claim} in {claims:?}");
    }
    assert_eq!(
        d["acr_values_supported"],
        json!(["urn:openbanking:psd2:sca", "urn:openbanking:psd2:ca"])
    );
    assert_eq!(d["request_parameter_supported"], true);
    assert_eq!(d["claims_parameter_supported"], true);
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert!(
        d["scopes_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("openid"))
    );
}

#[tokio::test]
async fn hybrid_flow_id_token_verifies_with_hashes_nonce_intent_and_acr() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent);
    let params = bank.authorize_request(&request).await.assert_code();
    let (code, state, id_token) = (&params["code"], &params["state"], &params["id_token"]);
    assert_eq!(Some(state.as_str()), request.get_str("state"));

    let keys = bank.server_keys().await;
    let issuer = bank.issuer();
    let mut checks = IdTokenChecks::new(&issuer, &bank.tpp.client_id, bank.now());
    checks.nonce = request.get_str("nonce");
    checks.code = Some(code);
    checks.state = Some(state);
    let claims = verify_id_token(id_token, &keys, &checks).unwrap();
    assert_eq!(claims["iss"], issuer);
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == bank.tpp.client_id,
        Value::Array(a) => a == &vec![json!(bank.tpp.client_id)],
        _ => false,
    };
    assert!(aud_ok, "aud {}", claims["aud"]);
    assert_eq!(claims["c_hash"], half_hash(code));
    assert_eq!(claims["s_hash"], half_hash(state));
    assert_eq!(claims["openbanking_intent_id"], consent.id.as_str());
    assert_eq!(claims["acr"], "urn:openbanking:psd2:sca");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::Authorised
    );
}

#[tokio::test]
async fn user_rejects_authentication_redirects_access_denied_with_state_and_rejects_the_consent() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank
        .request(&consent)
        .claim("bascule_sandbox", reject())
        .state("rejected-state");
    let params = bank
        .authorize_request(&request)
        .await
        .assert_error_redirect("access_denied");
    assert_eq!(params["state"], "rejected-state");
    assert!(!params.contains_key("id_token"), "{params:?}");
    assert_eq!(bank.consent_status(&consent).await, ConsentStatus::Rejected);
}

#[tokio::test]
async fn ensure_registered_redirect_uri_shows_an_error_page_instead_of_redirecting() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank
        .request(&consent)
        .claim("redirect_uri", UNREGISTERED_REDIRECT);
    let answer = bank.authorize_request(&request).await;
    answer.assert_error_page_saying("redirect_uri is not registered");
    assert!(!answer.body.contains("attacker.example"), "{}", answer.body);
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_redirect_uri_in_authorization_request_is_required_or_an_error_page_shows() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    // Neither in the request object nor in the query.
    let request = bank.request(&consent).without("redirect_uri");
    bank.authorize_request(&request)
        .await
        .assert_error_page_saying("redirect_uri is required");
}

#[tokio::test]
async fn ensure_response_mode_query_is_refused_for_the_hybrid_flow() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent).claim("response_mode", "query");
    let jwt = bank.tpp.sign(&request);
    let answer = bank
        .authorize(&[
            ("client_id", &bank.tpp.client_id),
            ("response_type", "code id_token"),
            ("response_mode", "query"),
            ("scope", SCOPE),
            ("redirect_uri", REDIRECT),
            ("request", &jwt),
        ])
        .await;
    // Never a code in the query (where it would leak through logs and Referer): an error in
    // the fragment.
    let params = answer.assert_error_redirect("unsupported_response_type");
    assert_eq!(Some(params["state"].as_str()), request.get_str("state"));
    assert!(!answer.location().contains('?'), "{}", answer.location());
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_other_scope_order_succeeds() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent).claim("scope", "accounts openid");
    let params = bank.authorize_request(&request).await.assert_code();
    assert_eq!(Some(params["state"].as_str()), request.get_str("state"));
}

#[tokio::test]
async fn ensure_authorization_request_without_state_success_and_no_state_is_returned() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent).without("state");
    let params = bank.authorize_request(&request).await.assert_code();
    assert!(!params.contains_key("state"), "{params:?}");

    let keys = bank.server_keys().await;
    let issuer = bank.issuer();
    let mut checks = IdTokenChecks::new(&issuer, &bank.tpp.client_id, bank.now());
    checks.nonce = request.get_str("nonce");
    checks.code = Some(&params["code"]);
    let claims = verify_id_token(&params["id_token"], &keys, &checks).unwrap();
    assert!(claims.get("s_hash").is_none(), "{claims}");
}

#[tokio::test]
async fn ensure_server_handles_non_matching_intent_id_with_an_error_and_leaves_the_consent() {
    let bank = Bank::start().await;
    let other = bank.second_client().await;
    // The other client's consent, named in this client's request.
    let theirs = bank.consent_for(&other, ConsentKind::AccountAccess).await;
    let request = bank.request(&theirs);
    let params = bank
        .authorize_request(&request)
        .await
        .assert_error_redirect("invalid_request");
    assert_eq!(Some(params["state"].as_str()), request.get_str("state"));
    assert_eq!(
        bank.consent_status(&theirs).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn ensure_response_type_code_fails_without_jarm() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    // `code` with no response_mode: FAPI 1.0 Part 2 §5.2.2-2 allows it only with JARM.
    let request = bank.request(&consent).claim("response_type", "code");
    let answer = bank.authorize_request(&request).await;
    answer.assert_error_redirect("unsupported_response_type");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn response_type_code_with_response_mode_jwt_succeeds_and_the_jarm_response_verifies() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent).response_type(ResponseType::Code);
    let answer = bank.authorize_request(&request).await;
    // `jwt` with `code` means `query.jwt`: the response JWT in the query.
    let query = answer.query();
    assert_eq!(query.len(), 1, "only response=: {query:?}");
    let claims = bank.jarm(&query["response"], &bank.tpp.client_id).await;

    assert_eq!(claims["iss"], bank.issuer());
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == bank.tpp.client_id,
        Value::Array(a) => a.contains(&json!(bank.tpp.client_id)),
        _ => false,
    };
    assert!(aud_ok, "aud {}", claims["aud"]);
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > bank.now() && exp <= bank.now() + 600, "exp {exp}");
    assert!(claims["code"].as_str().is_some_and(|c| !c.is_empty()));
    assert_eq!(claims["state"].as_str(), request.get_str("state"));
    assert!(claims.get("id_token").is_none(), "{claims:?}");
    assert!(claims.get("error").is_none(), "{claims:?}");
}
