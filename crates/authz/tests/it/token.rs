//! The token endpoint (FAPI 1.0 Advanced test plan, token endpoint group; RFC 6749 §3.2, §4.1.3,
//! §4.4, §5; RFC 8705), revocation (RFC 7009) and registration management (DCR, RFC 7592) with
//! the client's own client-credentials token.

use bascule_domain::ConsentKind;
use bascule_tpp::RegistrationRequest;
use serde_json::Value;
use time::Duration;

use crate::support::{Bank, REDIRECT, assert_oauth_error};

/// The DCR specification the registration answers follow.
const DCR: &str = "v4.0/client-registration-openapi.json";

#[tokio::test]
async fn client_credentials_over_mtls_issues_a_certificate_bound_bearer_token_not_cached() {
    let bank = Bank::start().await;
    let url = bank.app.url("/token");
    let response = bank
        .tpp
        .http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "accounts payments"),
            ("client_id", bank.tpp.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()[reqwest::header::CACHE_CONTROL],
        "no-store"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert_eq!(body["expires_in"], 86400, "{body}");
    assert_eq!(body["scope"], "accounts payments", "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(body.get("id_token").is_none(), "{body}");
    let token = body["access_token"].as_str().unwrap();
    // 256 bits, base64url: far above FAPI's 128-bit floor.
    assert!(token.len() >= 43, "{token}");

    let authz = &bank.app.state().authz;
    let checked = authz
        .check_access_token(token, &bank.tpp.x5t())
        .await
        .unwrap();
    assert_eq!(checked.client_id(), bank.tpp.client_id);
    assert!(checked.consent.is_none());
    assert!(checked.has_scope("accounts") && checked.has_scope("payments"));
    assert_eq!(checked.info.cnf.as_deref(), Some(bank.tpp.x5t().as_str()));
}

#[tokio::test]
async fn client_credentials_without_scope_grants_the_registered_scopes_except_openid() {
    let bank = Bank::start().await;
    let (status, body) = bank
        .token(&bank.tpp, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "{body}");
    let scopes: Vec<&str> = body["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains(&"accounts"), "{body}");
    assert!(!scopes.contains(&"openid"), "{body}");
}

#[tokio::test]
async fn client_credentials_scope_beyond_the_registration_is_invalid_scope() {
    let bank = Bank::start().await;
    let answer = bank
        .token(
            &bank.tpp,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "accounts admin"),
            ],
        )
        .await;
    assert_oauth_error(&answer, 400, "invalid_scope");
}

#[tokio::test]
async fn client_credentials_never_grants_openid() {
    let bank = Bank::start().await;
    let answer = bank
        .token(
            &bank.tpp,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "openid accounts"),
            ],
        )
        .await;
    assert_oauth_error(&answer, 400, "invalid_scope");
}

#[tokio::test]
async fn ensure_mtls_holder_of_key_required_token_endpoint_refuses_a_connection_without_certificate()
 {
    let bank = Bank::start().await;
    let answer = bank
        .post_form(
            &bank.browser,
            &bank.app.url("/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", bank.tpp.client_id.as_str()),
            ],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_client_id_in_token_endpoint_another_clients_id_with_my_certificate_is_invalid_client()
 {
    let bank = Bank::start().await;
    let other = bank.second_client().await;
    // My certificate, the other client's id: the certificate is not that client's.
    let answer = bank
        .post_form(
            bank.tpp.http(),
            &bank.app.url("/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", other.client_id.as_str()),
            ],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_client_id_in_token_endpoint_missing_client_id_is_invalid_client() {
    let bank = Bank::start().await;
    let answer = bank
        .post_form(
            bank.tpp.http(),
            &bank.app.url("/token"),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
}

#[tokio::test]
async fn ensure_authorization_code_is_bound_to_client_another_client_cannot_redeem_it() {
    let bank = Bank::start().await;
    let other = bank.second_client().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank.code(&bank.tpp, &bank.request(&consent)).await;

    assert_oauth_error(&bank.redeem(&other, &code, &[]).await, 400, "invalid_grant");
    // The code's owner can still redeem it.
    let (status, body) = bank.redeem(&bank.tpp, &code, &[]).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn attempt_reuse_authorisation_code_after_one_second_fails_and_revokes_its_tokens() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank.code(&bank.tpp, &bank.request(&consent)).await;
    let (status, first) = bank.redeem(&bank.tpp, &code, &[]).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    // An access token obtained through the refresh token is also based on the code.
    let (status, refreshed) = bank
        .token(
            &bank.tpp,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_eq!(status, 200, "{refreshed}");
    let refreshed_access = refreshed["access_token"].as_str().unwrap();
    for token in [access, refreshed_access] {
        authz
            .check_access_token(token, &bank.tpp.x5t())
            .await
            .unwrap();
    }

    // One second later on the server's clock (still inside the code's 60-second life, so the
    // refusal is the reuse, not the expiry).
    bank.app.clock.advance(Duration::seconds(1));
    assert_oauth_error(
        &bank.redeem(&bank.tpp, &code, &[]).await,
        400,
        "invalid_grant",
    );

    // RFC 6749 §4.1.2: everything the code produced is revoked.
    for token in [access, refreshed_access] {
        assert!(
            authz
                .check_access_token(token, &bank.tpp.x5t())
                .await
                .is_err()
        );
    }
    let answer = bank
        .token(
            &bank.tpp,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    assert_oauth_error(&answer, 400, "invalid_grant");
}

#[tokio::test]
async fn expired_authorisation_code_is_invalid_grant() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank.code(&bank.tpp, &bank.request(&consent)).await;
    bank.app.clock.advance(Duration::seconds(61));
    assert_oauth_error(
        &bank.redeem(&bank.tpp, &code, &[]).await,
        400,
        "invalid_grant",
    );
}

#[tokio::test]
async fn authorisation_code_with_another_redirect_uri_is_invalid_grant() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank.code(&bank.tpp, &bank.request(&consent)).await;
    let answer = bank
        .token(
            &bank.tpp,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "https://tpp.example/elsewhere"),
            ],
        )
        .await;
    assert_oauth_error(&answer, 400, "invalid_grant");
    // Without redirect_uri, which the authorisation request carried: refused as well.
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let code = bank.code(&bank.tpp, &bank.request(&consent)).await;
    let answer = bank
        .token(
            &bank.tpp,
            &[("grant_type", "authorization_code"), ("code", &code)],
        )
        .await;
    assert_oauth_error(&answer, 400, "invalid_grant");
}

#[tokio::test]
async fn unknown_authorisation_code_is_invalid_grant() {
    let bank = Bank::start().await;
    let answer = bank.redeem(&bank.tpp, "not-a-code-we-issued", &[]).await;
    assert_oauth_error(&answer, 400, "invalid_grant");
}

#[tokio::test]
async fn unknown_grant_type_is_unsupported_grant_type() {
    let bank = Bank::start().await;
    for grant in [
        "password",
        "urn:ietf:params:oauth:grant-type:device_code",
        "implicit",
    ] {
        let answer = bank.token(&bank.tpp, &[("grant_type", grant)]).await;
        assert_oauth_error(&answer, 400, "unsupported_grant_type");
    }
}

#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let bank = Bank::start().await;
    let answer = bank.token(&bank.tpp, &[]).await;
    assert_oauth_error(&answer, 400, "invalid_request");
}

#[tokio::test]
async fn revocation_of_my_token_answers_200_and_the_token_stops_working() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let tokens = bank.tokens(&bank.tpp, &bank.request(&consent)).await;
    let access = tokens["access_token"].as_str().unwrap();
    let url = bank.app.url("/revoke");
    let mut form = vec![("token", access), ("token_type_hint", "access_token")];
    let auth = bank.tpp.auth_fields(&url, bank.now());
    form.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));

    let (status, body) = bank.post_form(bank.tpp.http(), &url, &form).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        authz
            .check_access_token(access, &bank.tpp.x5t())
            .await
            .is_err()
    );
    // RFC 7009 §2.2: revoking an already revoked (or unknown) token is still 200.
    let (status, body) = bank.post_form(bank.tpp.http(), &url, &form).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn revocation_of_another_clients_token_answers_200_and_has_no_effect() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let other = bank.second_client().await;
    let token = bank.client_credentials(&bank.tpp).await;
    let url = bank.app.url("/revoke");
    let auth = other.auth_fields(&url, bank.now());
    let mut form = vec![("token", token.as_str())];
    form.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));

    let (status, body) = bank.post_form(other.http(), &url, &form).await;
    assert_eq!(status, 200, "{body}");
    authz
        .check_access_token(&token, &bank.tpp.x5t())
        .await
        .unwrap();
}

#[tokio::test]
async fn revocation_without_client_authentication_is_invalid_client() {
    let bank = Bank::start().await;
    let token = bank.client_credentials(&bank.tpp).await;
    let answer = bank
        .post_form(
            bank.tpp.http(),
            &bank.app.url("/revoke"),
            &[("token", token.as_str())],
        )
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
    bank.app
        .state()
        .authz
        .check_access_token(&token, &bank.tpp.x5t())
        .await
        .unwrap();
}

#[tokio::test]
async fn registration_read_with_my_client_credentials_token_returns_the_registration() {
    let bank = Bank::start().await;
    let token = bank.client_credentials(&bank.tpp).await;
    let (status, body) = bank
        .get_registration(
            bank.tpp.http(),
            &bank.tpp.client_id,
            &format!("Bearer {token}"),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["client_id"], bank.tpp.client_id.as_str(), "{body}");
    bascule_testkit::openapi::validate(DCR, "OBClientRegistration1", &body).unwrap();
}

#[tokio::test]
async fn registration_read_of_another_client_is_401_and_revokes_the_presented_token() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let other = bank.second_client().await;
    let token = bank.client_credentials(&bank.tpp).await;
    let untouched = bank.client_credentials(&bank.tpp).await;
    let (status, body) = bank
        .get_registration(
            bank.tpp.http(),
            &other.client_id,
            &format!("Bearer {token}"),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.get("client_id").is_none(), "{body}");
    // RFC 7592 §2.1: the token used for an unknown client is revoked...
    assert!(
        authz
            .check_access_token(&token, &bank.tpp.x5t())
            .await
            .is_err()
    );
    let (status, body) = bank
        .get_registration(
            bank.tpp.http(),
            &bank.tpp.client_id,
            &format!("Bearer {token}"),
        )
        .await;
    assert_eq!(status, 401, "{body}");
    // ...and only that token: the client's other tokens keep working.
    authz
        .check_access_token(&untouched, &bank.tpp.x5t())
        .await
        .unwrap();
}

#[tokio::test]
async fn registration_read_with_a_consent_access_token_is_401() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let tokens = bank.tokens(&bank.tpp, &bank.request(&consent)).await;
    let (status, body) = bank
        .get_registration(
            bank.tpp.http(),
            &bank.tpp.client_id,
            &format!("Bearer {}", tokens["access_token"].as_str().unwrap()),
        )
        .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn registration_delete_answers_204_and_the_client_can_no_longer_get_tokens() {
    let bank = Bank::start().await;
    let authz = &bank.app.state().authz;
    let token = bank.client_credentials(&bank.tpp).await;
    bank.tpp
        .sdk
        .delete_registration(&bank.app.url("/register"), &bank.tpp.client_id, &token)
        .await
        .unwrap();

    let answer = bank
        .token(&bank.tpp, &[("grant_type", "client_credentials")])
        .await;
    assert_oauth_error(&answer, 401, "invalid_client");
    assert!(
        authz
            .check_access_token(&token, &bank.tpp.x5t())
            .await
            .is_err()
    );
    let (status, body) = bank
        .get_registration(
            bank.tpp.http(),
            &bank.tpp.client_id,
            &format!("Bearer {token}"),
        )
        .await;
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn registration_update_with_a_fresh_signed_request_answers_200() {
    let bank = Bank::start().await;
    let token = bank.client_credentials(&bank.tpp).await;
    // Narrow the client to account information.
    let mut request = RegistrationRequest::from_files(&bank.tpp.files, bank.tpp.method);
    request.redirect_uris = vec![REDIRECT.into()];
    request.scope = "openid accounts".into();
    let registration = bank
        .tpp
        .sdk
        .update_registration(
            &bank.app.url("/register"),
            &bank.tpp.client_id,
            &token,
            &bank.app.state().config.bank.organisation_id,
            &request,
            bank.now(),
        )
        .await
        .unwrap();
    assert_eq!(registration.client_id, bank.tpp.client_id);
    assert_eq!(registration.str_field("scope"), Some("openid accounts"));
    // The client's tokens follow the updated registration.
    let (status, body) = bank
        .token(&bank.tpp, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "accounts", "{body}");
    let answer = bank
        .token(
            &bank.tpp,
            &[("grant_type", "client_credentials"), ("scope", "payments")],
        )
        .await;
    assert_oauth_error(&answer, 400, "invalid_scope");
}
