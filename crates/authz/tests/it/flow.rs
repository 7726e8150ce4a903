//! The whole authorisation (FAPI 1.0 Advanced test plan root and flow group): hybrid flow with
//! sandbox headless approval, code for tokens over mutual TLS, the ID token, PKCE, refresh
//! tokens that never outlive their consent, and access tokens bound to one certificate and one
//! consent (RFC 8705, OB-SPEC-NOTES §9).

use bascule_authz::TokenCheckError;
use bascule_domain::{ConsentEvent, ConsentKind, ConsentStatus};
use bascule_tpp::oauth::{ACR_SCA, IdTokenChecks, Pkce, half_hash, openbanking_claims};
use serde_json::{Value, json};
use time::Duration;

use crate::support::{Bank, Tpp, assert_oauth_error};

const REFRESH_TOKEN_EXPIRES_AT: &str = "http://openbanking.org.uk/refresh_token_expires_at";

/// `grant_type=refresh_token` for `tpp`.
async fn refresh(bank: &Bank, tpp: &Tpp, refresh_token: &str) -> (u16, Value) {
    bank.token(
        tpp,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

/// An authorised account-access consent of `tpp` and the token response for it.
async fn authorised(bank: &Bank, tpp: &Tpp) -> (bascule_domain::Consent, Value) {
    let consent = bank.consent_for(tpp, ConsentKind::AccountAccess).await;
    let tokens = bank.tokens(tpp, &bank.request_for(tpp, &consent)).await;
    (consent, tokens)
}

fn str<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}: {body}"))
}

#[tokio::test]
async fn fapi1_advanced_final_happy_path_with_two_clients() {
    for backend in bascule_testkit::BACKENDS {
        happy_path_with_two_clients(backend).await;
    }
}

async fn happy_path_with_two_clients(backend: bascule_store::Backend) {
    let bank = Bank::start_on(backend).await;
    let second = bank.second_client().await;
    let authz = &bank.app.state().authz;
    let keys = bank.server_keys().await;
    let issuer = bank.issuer();
    let mut issued = Vec::new();

    for tpp in [&bank.tpp, &second] {
        let consent = bank.consent_for(tpp, ConsentKind::AccountAccess).await;
        let request = bank.request_for(tpp, &consent);
        let code = bank.code(tpp, &request).await;
        let (status, body) = bank.redeem(tpp, &code, &[]).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(str(&body, "token_type"), "Bearer");
        assert!(body["expires_in"].as_i64().unwrap() > 0, "{body}");
        assert_eq!(str(&body, "scope"), "openid accounts");
        let access = str(&body, "access_token");
        str(&body, "refresh_token");

        // The ID token: signed with a key of /jwks, for this client, with the nonce of the
        // request, at_hash over the access token and the Open Banking claims.
        let mut checks = IdTokenChecks::new(&issuer, &tpp.client_id, bank.now());
        checks.nonce = request.get_str("nonce");
        checks.access_token = Some(access);
        let claims =
            bascule_tpp::oauth::verify_id_token(str(&body, "id_token"), &keys, &checks).unwrap();
        assert_eq!(claims["openbanking_intent_id"], consent.id.as_str());
        assert_eq!(claims["acr"], ACR_SCA);
        assert_eq!(claims["at_hash"], half_hash(access).as_str());
        assert_eq!(claims["nonce"], request.get_str("nonce").unwrap());
        assert_eq!(
            claims[REFRESH_TOKEN_EXPIRES_AT],
            consent.expires_at.unwrap().unix_timestamp()
        );

        // The token works over its own certificate and stands for the authorised consent.
        let checked = authz.check_access_token(access, &tpp.x5t()).await.unwrap();
        assert_eq!(checked.client_id(), tpp.client_id);
        assert!(checked.has_scope("accounts"));
        let bound = checked.consent.expect("the token's consent");
        assert_eq!(bound.id, consent.id);
        assert_eq!(bound.status, ConsentStatus::Authorised);
        assert_eq!(bound.customer_id.as_ref(), Some(&bank.customer.id));
        assert_eq!(bound.accounts, bank.customer.accounts);

        let cc = bank.client_credentials(tpp).await;
        issued.push((tpp, access.to_owned(), cc));
    }

    // Each token is bound to its own client's certificate: presented over the other client's
    // certificate it is refused (ensure-mtls-holder-of-key-required for resources).
    let [(a, a_access, a_cc), (b, b_access, _)] = &issued[..] else {
        panic!(
            "expected one set of tokens per client, got {}",
            issued.len()
        )
    };
    assert_ne!(a.x5t(), b.x5t());
    for (token, other) in [(a_access, b), (b_access, a), (a_cc, b)] {
        assert!(matches!(
            authz.check_access_token(token, &other.x5t()).await,
            Err(TokenCheckError::WrongCertificate)
        ));
    }
    let (status, body) = bank
        .get_registration(b.http(), &a.client_id, &format!("Bearer {a_cc}"))
        .await;
    assert_eq!(status, 401, "{body}");
    // Over A's own certificate, the same token still reads A's registration.
    let (status, body) = bank
        .get_registration(a.http(), &a.client_id, &format!("Bearer {a_cc}"))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], a.client_id.as_str());
}

#[tokio::test]
async fn ensure_valid_pkce_succeeds() {
    let bank = Bank::start().await;
    let pkce = Pkce::generate().unwrap();
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank
        .code(&bank.tpp, &bank.request(&consent).pkce(&pkce))
        .await;
    let (status, body) = bank
        .redeem(&bank.tpp, &code, &[("code_verifier", pkce.verifier())])
        .await;
    assert_eq!(status, 200, "{body}");
    str(&body, "access_token");
}

#[tokio::test]
async fn ensure_pkce_code_verifier_required() {
    let bank = Bank::start().await;
    let pkce = Pkce::generate().unwrap();
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank
        .code(&bank.tpp, &bank.request(&consent).pkce(&pkce))
        .await;
    assert_oauth_error(
        &bank.redeem(&bank.tpp, &code, &[]).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn incorrect_pkce_code_verifier_rejected() {
    let bank = Bank::start().await;
    let pkce = Pkce::generate().unwrap();
    let other = Pkce::generate().unwrap();
    // Another valid verifier, and the challenge itself (a "plain" verifier).
    for verifier in [other.verifier(), pkce.challenge()] {
        let consent = bank.consent(ConsentKind::AccountAccess).await;
        let code = bank
            .code(&bank.tpp, &bank.request(&consent).pkce(&pkce))
            .await;
        assert_oauth_error(
            &bank
                .redeem(&bank.tpp, &code, &[("code_verifier", verifier)])
                .await,
            400,
            "invalid_grant",
        );
    }
}

#[tokio::test]
async fn test_essential_acr_sca_claim_is_in_both_id_tokens() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent).claim(
        "claims",
        openbanking_claims(consent.id.as_str(), &[ACR_SCA]),
    );
    let keys = bank.server_keys().await;
    let issuer = bank.issuer();

    let jwt = bank.tpp.sign(&request);
    let front = bank
        .authorize_with(&bank.tpp, &request, &jwt)
        .await
        .assert_code();
    let mut checks = IdTokenChecks::new(&issuer, &bank.tpp.client_id, bank.now());
    checks.nonce = request.get_str("nonce");
    checks.code = Some(&front["code"]);
    checks.state = front.get("state").map(String::as_str);
    let claims = bascule_tpp::oauth::verify_id_token(&front["id_token"], &keys, &checks).unwrap();
    assert_eq!(claims["acr"], ACR_SCA);

    let (status, body) = bank.redeem(&bank.tpp, &front["code"], &[]).await;
    assert_eq!(status, 200, "{body}");
    let mut checks = IdTokenChecks::new(&issuer, &bank.tpp.client_id, bank.now());
    checks.nonce = request.get_str("nonce");
    let claims =
        bascule_tpp::oauth::verify_id_token(str(&body, "id_token"), &keys, &checks).unwrap();
    assert_eq!(claims["acr"], ACR_SCA);
}

#[tokio::test]
async fn access_token_type_header_case_sensitivity_lowercase_bearer_is_accepted() {
    let bank = Bank::start().await;
    let token = bank.client_credentials(&bank.tpp).await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let (status, body) = bank
            .get_registration(
                bank.tpp.http(),
                &bank.tpp.client_id,
                &format!("{scheme} {token}"),
            )
            .await;
        assert_eq!(status, 200, "{scheme}: {body}");
        assert_eq!(body["client_id"], bank.tpp.client_id.as_str());
    }
}

#[tokio::test]
async fn refresh_token_gives_a_new_access_token_bound_to_the_same_certificate_and_consent() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let (consent, tokens) = authorised(&bank, &bank.tpp).await;
    let refresh_token = str(&tokens, "refresh_token");
    bank.app.clock.advance(Duration::hours(1));

    let (status, body) = refresh(&bank, &bank.tpp, refresh_token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(str(&body, "token_type"), "Bearer");
    assert_eq!(str(&body, "scope"), "openid accounts");
    assert_eq!(body["expires_in"], 86400, "{body}");
    let access = str(&body, "access_token");
    assert_ne!(access, str(&tokens, "access_token"));
    let checked = authz
        .check_access_token(access, &bank.tpp.x5t())
        .await
        .unwrap();
    assert_eq!(checked.consent.unwrap().id, consent.id);
    assert!(
        authz
            .check_access_token(access, "not-my-x5t")
            .await
            .is_err()
    );
    // Refreshing again works: the refresh token lives as long as the consent.
    let (status, body) = refresh(&bank, &bank.tpp, refresh_token).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn refresh_token_near_consent_expiry_gives_an_access_token_ending_with_the_consent() {
    let bank = Bank::start().await;
    let (consent, tokens) = authorised(&bank, &bank.tpp).await;
    let expiry = consent.expires_at.unwrap();
    bank.app.clock.set(expiry - Duration::hours(1));
    let (status, body) = refresh(&bank, &bank.tpp, str(&tokens, "refresh_token")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 3600, "{body}");
}

#[tokio::test]
async fn refresh_token_is_rejected_after_the_consent_is_revoked() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let (consent, tokens) = authorised(&bank, &bank.tpp).await;
    authz
        .consents()
        .transition(&consent.id, ConsentEvent::Revoke)
        .await
        .unwrap();

    let answer = refresh(&bank, &bank.tpp, str(&tokens, "refresh_token")).await;
    assert_oauth_error(&answer, 400, "invalid_grant");
    assert!(
        authz
            .check_access_token(str(&tokens, "access_token"), &bank.tpp.x5t())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn refresh_token_is_rejected_after_the_consent_expires() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let (consent, tokens) = authorised(&bank, &bank.tpp).await;
    bank.app
        .clock
        .set(consent.expires_at.unwrap() + Duration::seconds(1));

    let answer = refresh(&bank, &bank.tpp, str(&tokens, "refresh_token")).await;
    assert_oauth_error(&answer, 400, "invalid_grant");
    assert!(
        authz
            .check_access_token(str(&tokens, "access_token"), &bank.tpp.x5t())
            .await
            .is_err()
    );
    assert_eq!(bank.consent_status(&consent).await, ConsentStatus::Expired);
}

#[tokio::test]
async fn refresh_token_with_another_clients_authentication_is_invalid_grant() {
    let bank = Bank::start().await;
    let other = bank.second_client().await;
    let (_, tokens) = authorised(&bank, &bank.tpp).await;
    let refresh_token = str(&tokens, "refresh_token");

    assert_oauth_error(
        &refresh(&bank, &other, refresh_token).await,
        400,
        "invalid_grant",
    );
    // The owner's refresh token is unaffected.
    let (status, body) = refresh(&bank, &bank.tpp, refresh_token).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn refresh_token_is_not_an_access_token_and_an_access_token_is_not_a_refresh_token() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let (_, tokens) = authorised(&bank, &bank.tpp).await;
    assert!(
        authz
            .check_access_token(str(&tokens, "refresh_token"), &bank.tpp.x5t())
            .await
            .is_err()
    );
    assert_oauth_error(
        &refresh(&bank, &bank.tpp, str(&tokens, "access_token")).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn payment_consent_gets_no_refresh_token() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let consent = bank.consent(ConsentKind::DomesticPayment).await;
    let request = bank
        .request(&consent)
        .claim("scope", "openid payments")
        .claim(
            "bascule_sandbox",
            json!({
                "decision": "Authorised",
                "customer": bank.customer.id.as_str(),
                "accounts": [bank.customer.accounts[0].as_str()],
            }),
        );
    let tokens = bank.tokens(&bank.tpp, &request).await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert_eq!(str(&tokens, "scope"), "openid payments");

    let keys = bank.server_keys().await;
    let issuer = bank.issuer();
    let mut checks = IdTokenChecks::new(&issuer, &bank.tpp.client_id, bank.now());
    checks.access_token = tokens["access_token"].as_str();
    let claims =
        bascule_tpp::oauth::verify_id_token(str(&tokens, "id_token"), &keys, &checks).unwrap();
    // No refresh token: no refresh_token_expires_at (RW §Token Expiry Time).
    assert!(claims.get(REFRESH_TOKEN_EXPIRES_AT).is_none(), "{claims}");
    assert_eq!(claims["openbanking_intent_id"], consent.id.as_str());

    let checked = authz
        .check_access_token(str(&tokens, "access_token"), &bank.tpp.x5t())
        .await
        .unwrap();
    assert!(checked.has_scope("payments"));
    assert_eq!(checked.consent.unwrap().id, consent.id);
}
