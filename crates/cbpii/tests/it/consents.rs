//! `/funds-confirmation-consents`: creation rules, reading back, ownership, deletion revoking
//! tokens, expiry.

use bascule_domain::{Clock, ConsentStatus};
use bascule_store::Backend;
use serde_json::json;
use time::Duration;
use time::format_description::well_known::Rfc3339;

use crate::support::{Bank, Call, INTERACTION_ID, consent_body, valid};

/// OB-301-CBPII-000001
/// OB-301-CBPII-000002
/// OB-301-CBPII-000003
/// OB-312-CBPII-000100
#[tokio::test]
async fn a_consent_is_created_awaiting_authorisation_read_back_and_authorised() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let expiry = bank.app.clock.now() + Duration::days(90);
        let body = bank
            .create_consent(
                &everyday.identification,
                json!({"ExpirationDateTime": expiry.format(&Rfc3339).unwrap()}),
            )
            .await;
        let data = &body["Data"];
        assert_eq!(data["Status"], "AwaitingAuthorisation");
        assert_eq!(data["CreationDateTime"], "2026-01-05T09:00:00+00:00");
        assert_eq!(data["StatusUpdateDateTime"], "2026-01-05T09:00:00+00:00");
        assert_eq!(data["ExpirationDateTime"], "2026-04-05T09:00:00+00:00");
        assert_eq!(
            data["DebtorAccount"],
            json!({
                "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": everyday.identification,
                "Name": "Grace Hopper",
            })
        );
        assert_eq!(body["Meta"], json!({}));
        let id = data["ConsentId"].as_str().unwrap();
        let self_link = body["Links"]["Self"].as_str().unwrap();
        assert!(self_link.starts_with("https://"), "{self_link}");
        assert!(
            self_link.ends_with(&format!(
                "/open-banking/v3.1/cbpii/funds-confirmation-consents/{id}"
            )),
            "{self_link}"
        );

        let token = bank.cc_token().await;
        let path = format!("/funds-confirmation-consents/{id}");
        let read = bank.get(&path, &token).await;
        assert_eq!(read.status, 200, "{:#}", read.body);
        valid("GET", "/funds-confirmation-consents/{ConsentId}", &read);
        assert_eq!(read.body["Data"], body["Data"]);
        assert_eq!(read.header("x-fapi-interaction-id"), Some(INTERACTION_ID));

        bank.app.clock.advance(Duration::minutes(3));
        bank.authorise(id, &everyday).await;
        let read = bank.get(&path, &token).await;
        assert_eq!(read.body["Data"]["Status"], "Authorised");
        assert_eq!(
            read.body["Data"]["StatusUpdateDateTime"],
            "2026-01-05T09:03:00+00:00"
        );
        valid("GET", "/funds-confirmation-consents/{ConsentId}", &read);
    }
}

#[tokio::test]
async fn bad_consent_requests_get_400_with_the_ob_code() {
    let bank = Bank::start(Backend::Sqlite).await;
    let token = bank.cc_token().await;
    let good = bank.customer.everyday.identification.clone();
    let with_data = |extra: serde_json::Value| {
        let mut body = consent_body(&good);
        body["Data"]
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let account = |a: serde_json::Value| json!({"Data": {"DebtorAccount": a}});
    let cases = [
        (json!({}), "UK.OBIE.Field.Missing"),
        (json!({"Data": {}}), "UK.OBIE.Field.Missing"),
        (
            account(json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber"})),
            "UK.OBIE.Field.Missing",
        ),
        (
            account(json!({"Identification": good})),
            "UK.OBIE.Field.Missing",
        ),
        (
            {
                let mut b = consent_body(&good);
                b["Risk"] = json!({});
                b
            },
            "UK.OBIE.Field.Unexpected",
        ),
        (
            with_data(json!({"ExpirationDatetime": "2027-01-01T00:00:00Z"})),
            "UK.OBIE.Field.Unexpected",
        ),
        (
            account(
                json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": good, "Nickname": "x"}),
            ),
            "UK.OBIE.Field.Unexpected",
        ),
        (
            account(
                json!({"SchemeName": "UK.OBIE.IBAN", "Identification": "GB29NWBK60161331926819"}),
            ),
            "UK.OBIE.Unsupported.Scheme",
        ),
        (
            account(
                json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "12-34-56 12345678"}),
            ),
            "UK.OBIE.Unsupported.AccountIdentifier",
        ),
        (
            account(
                json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": good, "SecondaryIdentification": "ROLL-1"}),
            ),
            "UK.OBIE.Field.Invalid",
        ),
        (
            with_data(json!({"ExpirationDateTime": "2026-01-05T08:00:00+00:00"})),
            "UK.OBIE.Field.Invalid",
        ),
        (
            with_data(json!({"ExpirationDateTime": "next week"})),
            "UK.OBIE.Field.InvalidDate",
        ),
        (
            json!(["not", "an", "object"]),
            "UK.OBIE.Resource.InvalidFormat",
        ),
    ];
    for (body, code) in cases {
        let reply = bank
            .post("/funds-confirmation-consents", &token, body.clone())
            .await;
        assert_eq!(reply.status, 400, "{body} → {:#}", reply.body);
        assert_eq!(reply.error_code(), code, "{body} → {:#}", reply.body);
        valid("POST", "/funds-confirmation-consents", &reply);
    }
}

#[tokio::test]
async fn consents_need_a_client_credentials_token_with_the_fundsconfirmations_scope() {
    let bank = Bank::start(Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let (id, psu_token) = bank.consented_token(&everyday).await;
    let path = format!("/funds-confirmation-consents/{id}");
    let reply = bank.get(&path, &psu_token).await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    valid("GET", "/funds-confirmation-consents/{ConsentId}", &reply);

    let accounts_token = bank.cc_token_for(&bank.tpp, "accounts").await;
    for reply in [
        bank.get(&path, &accounts_token).await,
        bank.post(
            "/funds-confirmation-consents",
            &accounts_token,
            consent_body(&everyday.identification),
        )
        .await,
    ] {
        assert_eq!(reply.status, 403, "{:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    }
    let reply = bank.get(&path, "not-a-token").await;
    assert_eq!(reply.status, 401);
    assert!(reply.header("x-fapi-interaction-id").is_some());
}

#[tokio::test]
async fn unknown_consent_is_400_and_another_clients_is_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let body = bank
        .create_consent(&bank.customer.everyday.identification, json!({}))
        .await;
    let id = body["Data"]["ConsentId"].as_str().unwrap();
    let token = bank.cc_token().await;
    let unknown = bank
        .get("/funds-confirmation-consents/no-such-consent", &token)
        .await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error_code(), "UK.OBIE.Resource.NotFound");
    valid("GET", "/funds-confirmation-consents/{ConsentId}", &unknown);

    let other = bank.other_tpp().await;
    let other_token = bank.cc_token_for(&other, "fundsconfirmations").await;
    let path = format!("/funds-confirmation-consents/{id}");
    let foreign = bank
        .call(Call::new(reqwest::Method::GET, &path, &other_token).via(&other))
        .await;
    assert_eq!(foreign.status, 403, "{:#}", foreign.body);
    assert_eq!(foreign.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    valid("GET", "/funds-confirmation-consents/{ConsentId}", &foreign);
    let delete = bank
        .call(Call::new(reqwest::Method::DELETE, &path, &other_token).via(&other))
        .await;
    assert_eq!(delete.status, 403);
    valid(
        "DELETE",
        "/funds-confirmation-consents/{ConsentId}",
        &delete,
    );
    // Still there, untouched.
    assert_eq!(
        bank.get(&path, &token).await.body["Data"]["Status"],
        "AwaitingAuthorisation"
    );
}

/// OB-301-CBPII-000005
#[tokio::test]
async fn deleting_a_consent_revokes_it_and_its_tokens() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let (id, token) = bank.consented_token(&everyday).await;
        let yes = bank.confirm(&token, &id, "before", "10.00").await;
        assert_eq!(yes.status, 201, "{:#}", yes.body);

        let cc = bank.cc_token().await;
        let path = format!("/funds-confirmation-consents/{id}");
        let deleted = bank.delete(&path, &cc).await;
        assert_eq!(deleted.status, 204, "{:#}", deleted.body);
        assert_eq!(deleted.body, serde_json::Value::Null);
        assert_eq!(
            deleted.header("x-fapi-interaction-id"),
            Some(INTERACTION_ID)
        );

        let after = bank.confirm(&token, &id, "after", "10.00").await;
        assert_eq!(after.status, 401, "{:#}", after.body);
        // The CBPII sees the consent revoked.
        let read = bank.get(&path, &cc).await;
        assert_eq!(read.status, 200, "{:#}", read.body);
        assert_eq!(read.body["Data"]["Status"], "Revoked");
        valid("GET", "/funds-confirmation-consents/{ConsentId}", &read);
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
        assert_eq!(status, ConsentStatus::Revoked);
        // Deleting again only confirms it.
        assert_eq!(bank.delete(&path, &cc).await.status, 204);
    }
}

#[tokio::test]
async fn an_expired_consent_stops_confirmations() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let expiry = bank.app.clock.now() + Duration::hours(2);
        let body = bank
            .create_consent(
                &everyday.identification,
                json!({"ExpirationDateTime": expiry.format(&Rfc3339).unwrap()}),
            )
            .await;
        let id = body["Data"]["ConsentId"].as_str().unwrap();
        let token = bank.authorise(id, &everyday).await;
        assert_eq!(bank.confirm(&token, id, "r1", "1.00").await.status, 201);
        bank.app.clock.advance(Duration::hours(2));
        let refused = bank.confirm(&token, id, "r2", "1.00").await;
        assert_eq!(refused.status, 401, "{:#}", refused.body);
        // v3.1.11 has no Expired status: an authorised consent reads Authorised past its expiry.
        let cc = bank.cc_token().await;
        let read = bank
            .get(&format!("/funds-confirmation-consents/{id}"), &cc)
            .await;
        assert_eq!(read.status, 200);
        assert_eq!(read.body["Data"]["Status"], "Authorised");
        valid("GET", "/funds-confirmation-consents/{ConsentId}", &read);
    }
}

/// OB-301-CBPII-000009
///
/// DELETE of a consent id the bank never issued: 400 `UK.OBIE.Resource.NotFound` (RW §400:
/// an unknown resource id), with the interaction id, and nothing else is touched.
#[tokio::test]
async fn deleting_an_unknown_consent_is_400_not_found() {
    let bank = Bank::start(Backend::Sqlite).await;
    let body = bank
        .create_consent(&bank.customer.everyday.identification, json!({}))
        .await;
    let id = body["Data"]["ConsentId"].as_str().unwrap();
    let cc = bank.cc_token().await;
    let reply = bank
        .delete("/funds-confirmation-consents/no-such-consent", &cc)
        .await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Resource.NotFound");
    assert_eq!(reply.header("x-fapi-interaction-id"), Some(INTERACTION_ID));
    valid("DELETE", "/funds-confirmation-consents/{ConsentId}", &reply);
    let still = bank
        .get(&format!("/funds-confirmation-consents/{id}"), &cc)
        .await;
    assert_eq!(still.body["Data"]["Status"], "AwaitingAuthorisation");
}

/// OB-301-CBPII-000006
/// OB-301-CBPII-000007
/// OB-301-CBPII-000008
///
/// A debtor account with an invalid name (over the schema's 350 characters), an invalid
/// identification, an unknown scheme name: each 400 with its code, nothing created.
#[tokio::test]
async fn a_consent_with_an_invalid_debtor_account_is_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    let token = bank.cc_token().await;
    let good = bank.customer.everyday.identification.clone();
    let long_name = "N".repeat(351);
    for (id, account, code) in [
        (
            "OB-301-CBPII-000006",
            json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": good, "Name": long_name}),
            "UK.OBIE.Field.Invalid",
        ),
        (
            "OB-301-CBPII-000007",
            json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "not-an-account"}),
            "UK.OBIE.Unsupported.AccountIdentifier",
        ),
        (
            "OB-301-CBPII-000008",
            json!({"SchemeName": "UK.OBIE.NoSuchScheme", "Identification": good}),
            "UK.OBIE.Unsupported.Scheme",
        ),
    ] {
        let reply = bank
            .post(
                "/funds-confirmation-consents",
                &token,
                json!({"Data": {"DebtorAccount": account}}),
            )
            .await;
        assert_eq!(reply.status, 400, "{id}: {:#}", reply.body);
        assert_eq!(reply.error_code(), code, "{id}: {:#}", reply.body);
        assert_eq!(reply.header("x-fapi-interaction-id"), Some(INTERACTION_ID));
        valid("POST", "/funds-confirmation-consents", &reply);
    }
}

/// OB-301-CBPII-000009
/// OB-301-CBPII-000010
/// OB-301-CBPII-000011
/// OB-301-CBPII-000012
///
/// `ExpirationDateTime` with milliseconds and `Z`, milliseconds and an offset, whole seconds
/// and `Z`, whole seconds and an offset (the second of the suite's two 000009 rows, then
/// 000010 to 000012): each 201 with the instant kept to the second (the bank's consent times are whole
/// seconds) and rendered with its zone.
#[tokio::test]
async fn a_consent_takes_each_iso_8601_form_of_its_expiry() {
    let bank = Bank::start(Backend::Sqlite).await;
    let account = bank.customer.everyday.identification.clone();
    for (id, sent, kept) in [
        (
            "OB-301-CBPII-000009",
            "2026-06-01T10:00:00.999Z",
            "2026-06-01T10:00:00+00:00",
        ),
        (
            "OB-301-CBPII-000010",
            "2026-06-01T10:00:00.999-07:00",
            "2026-06-01T17:00:00+00:00",
        ),
        (
            "OB-301-CBPII-000011",
            "2026-06-01T10:00:00Z",
            "2026-06-01T10:00:00+00:00",
        ),
        (
            "OB-301-CBPII-000012",
            "2026-06-01T10:00:00-07:00",
            "2026-06-01T17:00:00+00:00",
        ),
    ] {
        let body = bank
            .create_consent(&account, json!({"ExpirationDateTime": sent}))
            .await;
        assert_eq!(body["Data"]["Status"], "AwaitingAuthorisation", "{id}");
        assert_eq!(body["Data"]["ExpirationDateTime"], kept, "{id}");
    }
}
