//! `/account-access-consents`: creation rules, reading back, deletion revoking tokens.

use bascule_domain::Clock;
use bascule_store::Backend;
use serde_json::json;
use time::Duration;

use crate::support::{Bank, valid};

#[tokio::test]
async fn a_consent_is_created_awaiting_authorisation_and_read_back() {
    let bank = Bank::start(Backend::Sqlite).await;
    let expiry = bank.app.clock.now() + Duration::days(90);
    let body = bank
        .create_consent(
            &["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits"],
            json!({
                "ExpirationDateTime": expiry.format(&time::format_description::well_known::Rfc3339).unwrap(),
                "TransactionFromDateTime": "2025-01-01T00:00:00+00:00",
            }),
        )
        .await;
    let data = &body["Data"];
    assert_eq!(data["Status"], "AwaitingAuthorisation");
    assert_eq!(data["CreationDateTime"], "2026-01-05T09:00:00+00:00");
    assert_eq!(data["TransactionFromDateTime"], "2025-01-01T00:00:00+00:00");
    assert!(data.get("TransactionToDateTime").is_none());
    let id = data["ConsentId"].as_str().unwrap();
    assert!(body["Links"]["Self"].as_str().unwrap().ends_with(&format!(
        "/open-banking/v3.1/aisp/account-access-consents/{id}"
    )));

    let token = bank.cc_token().await;
    let read = bank
        .get(&format!("/account-access-consents/{id}"), &token)
        .await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    valid("GET", "/account-access-consents/{ConsentId}", &read);
    assert_eq!(read.body["Data"], body["Data"]);
    assert_eq!(
        read.header("x-fapi-interaction-id"),
        Some("93bac548-d2de-4546-b106-880a5018460d")
    );

    bank.authorise(id, std::slice::from_ref(&bank.customer.everyday))
        .await;
    let read = bank
        .get(&format!("/account-access-consents/{id}"), &token)
        .await;
    assert_eq!(read.body["Data"]["Status"], "Authorised");
    valid("GET", "/account-access-consents/{ConsentId}", &read);
}

#[tokio::test]
async fn bad_consent_requests_get_400_with_the_ob_code() {
    let bank = Bank::start(Backend::Sqlite).await;
    let token = bank.cc_token().await;
    let cases = [
        (
            json!({"Data": {"Permissions": []}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic", "ReadTransactionsBasic"]}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic", "ReadTransactionsDebits"]}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            json!({"Data": {"Permissions": ["ReadBalances"]}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAllTheThings"]}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}, "Extra": true}),
            "UK.OBIE.Field.Unexpected",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic"], "ExpirationDatetime": "2027-01-01T00:00:00Z"}, "Risk": {}}),
            "UK.OBIE.Field.Unexpected",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic"]}}),
            "UK.OBIE.Field.Missing",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic"], "ExpirationDateTime": "2026-01-05T08:00:00+00:00"}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic"], "ExpirationDateTime": "next week"}, "Risk": {}}),
            "UK.OBIE.Field.InvalidDate",
        ),
        (
            json!({"Data": {"Permissions": ["ReadAccountsBasic"], "TransactionFromDateTime": "2026-01-02T00:00:00Z", "TransactionToDateTime": "2026-01-01T00:00:00Z"}, "Risk": {}}),
            "UK.OBIE.Field.Invalid",
        ),
    ];
    for (body, code) in cases {
        let reply = bank
            .post("/account-access-consents", &token, body.clone())
            .await;
        assert_eq!(reply.status, 400, "{body} → {:#}", reply.body);
        assert_eq!(reply.error_code(), code, "{body} → {:#}", reply.body);
        valid("POST", "/account-access-consents", &reply);
    }
}

#[tokio::test]
async fn consents_are_managed_with_client_credentials_tokens_only() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (id, psu_token) = bank
        .consented_token(
            &["ReadAccountsBasic"],
            std::slice::from_ref(&bank.customer.everyday),
        )
        .await;
    let reply = bank
        .get(&format!("/account-access-consents/{id}"), &psu_token)
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    let reply = bank
        .get(&format!("/account-access-consents/{id}"), "not-a-token")
        .await;
    assert_eq!(reply.status, 401);
}

#[tokio::test]
async fn unknown_consent_is_400_and_another_clients_is_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let body = bank.create_consent(&["ReadAccountsBasic"], json!({})).await;
    let id = body["Data"]["ConsentId"].as_str().unwrap();
    let token = bank.cc_token().await;
    let unknown = bank
        .get("/account-access-consents/no-such-consent", &token)
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error_code(), "UK.OBIE.Resource.NotFound");
    valid("GET", "/account-access-consents/{ConsentId}", &unknown);

    let other = bank.other_tpp().await;
    let other_token = bank.cc_token_for(&other).await;
    let foreign = bank
        .call(
            crate::support::Call::new(
                reqwest::Method::GET,
                &format!("/account-access-consents/{id}"),
                &other_token,
            )
            .via(&other),
        )
        .await;
    assert_eq!(foreign.status, 403, "{:#}", foreign.body);
    valid("GET", "/account-access-consents/{ConsentId}", &foreign);
    let delete = bank
        .call(
            crate::support::Call::new(
                reqwest::Method::DELETE,
                &format!("/account-access-consents/{id}"),
                &other_token,
            )
            .via(&other),
        )
        .await;
    assert_eq!(delete.status, 403);
}

#[tokio::test]
async fn deleting_a_consent_revokes_it_and_its_tokens() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let (id, token) = bank
            .consented_token(
                &["ReadAccountsBasic"],
                std::slice::from_ref(&bank.customer.everyday),
            )
            .await;
        assert_eq!(bank.get("/accounts", &token).await.status, 200);
        let cc = bank.cc_token().await;
        let deleted = bank
            .delete(&format!("/account-access-consents/{id}"), &cc)
            .await;
        assert_eq!(deleted.status, 204, "{:#}", deleted.body);
        assert_eq!(deleted.body, serde_json::Value::Null);
        assert_eq!(bank.get("/accounts", &token).await.status, 401);
        let read = bank
            .get(&format!("/account-access-consents/{id}"), &cc)
            .await;
        assert_eq!(read.status, 400);
        assert_eq!(read.error_code(), "UK.OBIE.Resource.NotFound");
        let status = bank
            .app
            .state()
            .authz
            .consents()
            .get(&id)
            .await
            .unwrap()
            .unwrap()
            .status;
        assert_eq!(status, bascule_domain::ConsentStatus::Revoked);
    }
}

#[tokio::test]
async fn an_expired_consent_stops_access() {
    let bank = Bank::start(Backend::Sqlite).await;
    let expiry = bank.app.clock.now() + Duration::hours(2);
    let body = bank
        .create_consent(
            &["ReadAccountsBasic"],
            json!({"ExpirationDateTime": expiry.format(&time::format_description::well_known::Rfc3339).unwrap()}),
        )
        .await;
    let id = body["Data"]["ConsentId"].as_str().unwrap();
    let token = bank
        .authorise(id, std::slice::from_ref(&bank.customer.everyday))
        .await;
    assert_eq!(bank.get("/accounts", &token).await.status, 200);
    bank.app.clock.advance(Duration::hours(2));
    assert_eq!(bank.get("/accounts", &token).await.status, 401);
    // v3.1.11 has no Expired status: an authorised consent reads Authorised past its expiry.
    let cc = bank.cc_token().await;
    let read = bank
        .get(&format!("/account-access-consents/{id}"), &cc)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["Data"]["Status"], "Authorised");
    valid("GET", "/account-access-consents/{ConsentId}", &read);
}
