//! Pushed authorisation requests (RFC 9126; FAPI 1.0 Advanced Part 2 §5.2.2-14..18): the PAR
//! endpoint's answers and refusals, and the one-time, short-lived, client-bound `request_uri`
//! at the authorize endpoint.

use bascule_domain::{ConsentKind, ConsentStatus};
use bascule_tpp::oauth::{Pkce, RequestObject};
use serde_json::json;
use time::Duration;

use crate::support::{Bank, REQUEST_URI_PREFIX, Tpp, UNREGISTERED_REDIRECT};

/// A pushable request for a fresh consent of `tpp`: the fixture's request plus PKCE (S256).
async fn pushable(bank: &Bank, tpp: &Tpp) -> RequestObject {
    let consent = bank.consent_for(tpp, ConsentKind::AccountAccess).await;
    bank.request_for(tpp, &consent)
        .pkce(&Pkce::generate().unwrap())
}

/// `GET /authorize?client_id=..&request_uri=..`.
async fn authorize_uri(
    bank: &Bank,
    client_id: &str,
    request_uri: &str,
) -> crate::support::Authorize {
    bank.authorize(&[("client_id", client_id), ("request_uri", request_uri)])
        .await
}

#[tokio::test]
async fn par_endpoint_with_pkce_answers_201_with_a_request_uri_and_expires_in() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp).await;
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 201, "{body}");
    let uri = body["request_uri"].as_str().unwrap();
    assert!(uri.starts_with(REQUEST_URI_PREFIX), "{uri}");
    assert!(uri.len() > REQUEST_URI_PREFIX.len() + 20, "{uri}");
    let expires_in = body["expires_in"].as_i64().unwrap();
    assert!((10..=600).contains(&expires_in), "{expires_in}");
}

#[tokio::test]
async fn par_authorize_with_client_id_and_request_uri_succeeds() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp).await;
    let uri = bank.push_ok(&bank.tpp, &bank.tpp.sign(&request)).await;
    let params = authorize_uri(&bank, &bank.tpp.client_id, &uri)
        .await
        .assert_code();
    assert_eq!(Some(params["state"].as_str()), request.get_str("state"));
}

#[tokio::test]
async fn par_ensure_reused_request_uri_prior_to_auth_completion_succeeds() {
    let bank = Bank::start().await;
    // No headless decision: the first authorize leaves a journey pending for the customer.
    let request = pushable(&bank, &bank.tpp).await.without("bascule_sandbox");
    let uri = bank.push_ok(&bank.tpp, &bank.tpp.sign(&request)).await;
    for attempt in 1..=2 {
        let answer = authorize_uri(&bank, &bank.tpp.client_id, &uri).await;
        // The customer's journey starts: the browser goes to the identification page.
        assert_eq!(answer.status, 303, "attempt {attempt}: {answer:?}");
        let location = answer.location.as_deref().unwrap_or_default();
        assert!(
            location.starts_with("/consent/"),
            "attempt {attempt}: {location}"
        );
    }
}

#[tokio::test]
async fn par_attempt_reuse_request_uri_after_completion_shows_an_error_page() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp).await;
    let uri = bank.push_ok(&bank.tpp, &bank.tpp.sign(&request)).await;
    authorize_uri(&bank, &bank.tpp.client_id, &uri)
        .await
        .assert_code();
    authorize_uri(&bank, &bank.tpp.client_id, &uri)
        .await
        .assert_error_page_saying("already used");
}

#[tokio::test]
async fn par_attempt_to_use_expired_request_uri_shows_an_error_page() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent).pkce(&Pkce::generate().unwrap());
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 201, "{body}");
    let expires_in = body["expires_in"].as_i64().unwrap();
    bank.app.clock.advance(Duration::seconds(expires_in + 1));
    authorize_uri(
        &bank,
        &bank.tpp.client_id,
        body["request_uri"].as_str().unwrap(),
    )
    .await
    .assert_error_page_saying("expired");
    assert_eq!(
        bank.consent_status(&consent).await,
        ConsentStatus::AwaitingAuthorisation
    );
}

#[tokio::test]
async fn par_attempt_to_use_request_uri_for_different_client_shows_an_error_page() {
    let bank = Bank::start().await;
    let other = bank.second_client().await;
    let request = pushable(&bank, &bank.tpp).await;
    let uri = bank.push_ok(&bank.tpp, &bank.tpp.sign(&request)).await;
    authorize_uri(&bank, &other.client_id, &uri)
        .await
        .assert_error_page_saying("another client");
    // Still the owner's to use.
    authorize_uri(&bank, &bank.tpp.client_id, &uri)
        .await
        .assert_code();
}

#[tokio::test]
async fn par_authorization_request_containing_request_uri_form_param_is_refused() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp).await;
    let jwt = bank.tpp.sign(&request);
    let uri = bank.push_ok(&bank.tpp, &jwt).await;
    let (status, body) = bank
        .par(
            &bank.tpp,
            &[
                ("client_id", &bank.tpp.client_id),
                ("request", &jwt),
                ("request_uri", &uri),
            ],
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
}

/// RFC 9126 §2.1: `request_uri` "MUST NOT be provided" in a pushed request, and JAR (RFC 9101
/// §4) forbids `request` and `request_uri` inside a request object: a pushed request object
/// carrying a `request_uri` claim is refused.
#[tokio::test]
async fn par_authorization_request_containing_request_uri_in_the_request_object_is_refused() {
    let bank = Bank::start().await;
    let first = pushable(&bank, &bank.tpp).await;
    let uri = bank.push_ok(&bank.tpp, &bank.tpp.sign(&first)).await;
    let request = pushable(&bank, &bank.tpp)
        .await
        .claim("request_uri", uri.as_str());
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request_object", "{body}");
}

#[tokio::test]
async fn par_attempt_invalid_http_method_get_is_405() {
    let bank = Bank::start().await;
    let response = bank
        .tpp
        .http()
        .get(bank.app.url("/par"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

#[tokio::test]
async fn par_ensure_pkce_required() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let request = bank.request(&consent);
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("PKCE"),
        "{body}"
    );
}

#[tokio::test]
async fn par_plain_pkce_rejected() {
    let bank = Bank::start().await;
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let verifier = Pkce::generate().unwrap();
    let request = bank
        .request(&consent)
        .claim("code_challenge", verifier.verifier())
        .claim("code_challenge_method", "plain");
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("S256"),
        "{body}"
    );
}

#[tokio::test]
async fn par_attempt_invalid_redirect_uri_is_refused() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp)
        .await
        .claim("redirect_uri", UNREGISTERED_REDIRECT);
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("redirect_uri"),
        "{body}"
    );
}

#[tokio::test]
async fn par_without_duplicate_parameters_succeeds_with_only_request_and_client_auth() {
    let bank = Bank::start().await;
    // private_key_jwt: the body is exactly request + client_assertion_type + client_assertion,
    // not even client_id.
    let tpp = bank.private_key_jwt_client().await;
    let request = pushable(&bank, &tpp).await;
    let jwt = tpp.sign(&request);
    let url = bank.app.url("/par");
    let auth = tpp.auth_fields(&url, bank.now());
    let names: Vec<&str> = auth.iter().map(|(k, _)| *k).collect();
    assert_eq!(names, ["client_assertion_type", "client_assertion"]);
    let mut form: Vec<(&str, &str)> = vec![("request", &jwt)];
    form.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
    let (status, body) = bank.par(&tpp, &form).await;
    assert_eq!(status, 201, "{body}");
    let params = authorize_uri(&bank, &tpp.client_id, body["request_uri"].as_str().unwrap())
        .await
        .assert_code();
    assert_eq!(Some(params["state"].as_str()), request.get_str("state"));
}

/// FAPI 1.0 Advanced Part 2 §5.2.2-15 requires the request object's `aud` to be, or to
/// contain, the issuer; RFC 9126 §3 applies JAR (RFC 9101 §4: `aud` is the issuer) to pushed
/// request objects unchanged. RFC 9126 §2 lets the PAR endpoint URL identify the server only
/// as the audience of a *client assertion* (private_key_jwt), not of the request object. So a
/// request object whose only audience is the PAR endpoint URL is refused, at the PAR endpoint,
/// with `invalid_request_object` — which is what the conformance module checks.
#[tokio::test]
async fn par_pushed_authorization_url_as_audience_in_request_object_is_refused() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp)
        .await
        .audience(bank.app.url("/par"));
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&request)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_request_object", "{body}");

    // With the issuer beside it, the same request is accepted.
    let both = request.audience(json!([bank.app.url("/par"), bank.issuer()]));
    let (status, body) = bank.push(&bank.tpp, &bank.tpp.sign(&both)).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn par_without_client_certificate_is_401() {
    let bank = Bank::start().await;
    let request = pushable(&bank, &bank.tpp).await;
    let jwt = bank.tpp.sign(&request);
    let (status, body) = bank
        .post_form(
            &bank.browser,
            &bank.app.url("/par"),
            &[("client_id", &bank.tpp.client_id), ("request", &jwt)],
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client", "{body}");
}
