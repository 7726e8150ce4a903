//! Domestic payment consents and payments: the main path on both backends, and each rule.

use bascule_domain::Pence;
use bascule_store::Backend;
use serde_json::json;

use crate::support::{Bank, Call, valid};

/// OB-301-DOP-100100
/// OB-301-DOP-100400
/// OB-301-DOP-100500
/// OB-301-DOP-100600
/// OB-301-DOP-100700
/// OB-313-DOP-100100
async fn main_path(backend: Backend) {
    let bank = Bank::start(backend).await;
    let before = bank.booked(&bank.customer.everyday).await;
    let consent = bank.create_consent(bank.initiation("12.34")).await;
    let data = &consent["Data"];
    assert_eq!(data["Status"], "AwaitingAuthorisation");
    assert_eq!(data["Initiation"], bank.initiation("12.34"));
    let id = data["ConsentId"].as_str().unwrap().to_owned();

    let token = bank.authorise(&id, &bank.customer.everyday).await;
    let cc = bank.cc_token().await;
    let read = bank
        .get(&format!("/domestic-payment-consents/{id}"), &cc)
        .await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    valid("GET", "/domestic-payment-consents/{ConsentId}", &read);
    bank.verify_response(&read);
    assert_eq!(read.body["Data"]["Status"], "Authorised");
    assert!(read.body["Data"]["Debtor"]["Identification"].is_string());

    let funds = bank
        .get(
            &format!("/domestic-payment-consents/{id}/funds-confirmation"),
            &token,
        )
        .await;
    assert_eq!(funds.status, 200, "{:#}", funds.body);
    valid(
        "GET",
        "/domestic-payment-consents/{ConsentId}/funds-confirmation",
        &funds,
    );
    assert_eq!(
        funds.body["Data"]["FundsAvailableResult"]["FundsAvailable"],
        true
    );

    let paid = bank.pay(&id, &token, bank.initiation("12.34")).await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    valid("POST", "/domestic-payments", &paid);
    bank.verify_response(&paid);
    assert_eq!(paid.body["Data"]["Status"], "AcceptedSettlementCompleted");
    assert_eq!(paid.body["Data"]["ConsentId"], id.as_str());
    let payment_id = paid.body["Data"]["DomesticPaymentId"].as_str().unwrap();
    assert_eq!(
        bank.booked(&bank.customer.everyday).await,
        Pence(before.0 - 1234)
    );

    let got = bank
        .get(&format!("/domestic-payments/{payment_id}"), &cc)
        .await;
    assert_eq!(got.status, 200, "{:#}", got.body);
    valid("GET", "/domestic-payments/{DomesticPaymentId}", &got);
    assert_eq!(got.body["Data"], paid.body["Data"]);
    let details = bank
        .get(
            &format!("/domestic-payments/{payment_id}/payment-details"),
            &cc,
        )
        .await;
    assert_eq!(details.status, 200, "{:#}", details.body);
    valid(
        "GET",
        "/domestic-payments/{DomesticPaymentId}/payment-details",
        &details,
    );

    let consumed = bank
        .get(&format!("/domestic-payment-consents/{id}"), &cc)
        .await;
    assert_eq!(consumed.body["Data"]["Status"], "Consumed");

    // The consent pays once.
    let again = bank.pay(&id, &token, bank.initiation("12.34")).await;
    assert_eq!(again.status, 400, "{:#}", again.body);
    valid("POST", "/domestic-payments", &again);
    assert_eq!(again.error_code(), "UK.OBIE.Resource.InvalidConsentStatus");
    bank.verify_response(&again);
    assert_eq!(
        bank.booked(&bank.customer.everyday).await,
        Pence(before.0 - 1234)
    );
    assert_eq!(bank.payment_count().await, 1);
}

#[tokio::test]
async fn consent_authorise_pay_settles_once_on_sqlite() {
    main_path(Backend::Sqlite).await;
}

#[tokio::test]
async fn consent_authorise_pay_settles_once_on_postgres() {
    main_path(Backend::Postgres).await;
}

#[tokio::test]
async fn a_payment_must_match_its_consent() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (id, token) = bank.authorised_consent(bank.initiation("10.00")).await;
    for changed in [
        bank.initiation("10.01"),
        {
            let mut i = bank.initiation("10.00");
            i["CreditorAccount"]["Name"] = json!("Someone Else");
            i
        },
        {
            let mut i = bank.initiation("10.00");
            i["RemittanceInformation"]["Reference"] = json!("OTHER");
            i
        },
    ] {
        let reply = bank.pay(&id, &token, changed).await;
        assert_eq!(reply.status, 400, "{:#}", reply.body);
        valid("POST", "/domestic-payments", &reply);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    }
    // The same amount written differently is the same payment.
    let ok = bank.pay(&id, &token, bank.initiation("10.0")).await;
    assert_eq!(ok.status, 201, "{:#}", ok.body);
    assert_eq!(bank.payment_count().await, 1);
}

#[tokio::test]
async fn an_expired_consent_cannot_pay() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (id, token) = bank.authorised_consent(bank.initiation("5.00")).await;
    // Payment consents live an hour (PispConfig::consent_lifetime); the customer's token lives
    // no longer than its consent, so the payment is refused at the token (401, RW §401).
    bank.app.clock.advance(time::Duration::hours(2));
    let reply = bank.pay(&id, &token, bank.initiation("5.00")).await;
    assert_eq!(reply.status, 401, "{:#}", reply.body);
    assert_eq!(bank.payment_count().await, 0);
    let cc = bank.cc_token().await;
    let read = bank
        .get(&format!("/domestic-payment-consents/{id}"), &cc)
        .await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    valid("GET", "/domestic-payment-consents/{ConsentId}", &read);
    assert_eq!(read.body["Data"]["Status"], "Rejected");
}

#[tokio::test]
async fn insufficient_funds_reject_the_payment_and_funds_confirmation_says_no() {
    let bank = Bank::start(Backend::Sqlite).await;
    let before = bank.booked(&bank.customer.everyday).await;
    // £800 booked + £500 overdraft available: £2,000 is too much.
    let (id, token) = bank.authorised_consent(bank.initiation("2000.00")).await;
    let funds = bank
        .get(
            &format!("/domestic-payment-consents/{id}/funds-confirmation"),
            &token,
        )
        .await;
    assert_eq!(funds.status, 200, "{:#}", funds.body);
    valid(
        "GET",
        "/domestic-payment-consents/{ConsentId}/funds-confirmation",
        &funds,
    );
    bank.verify_response(&funds);
    // Exactly the yes/no and when it was asked (the bank's clock): no balance, no shortfall.
    assert_eq!(
        funds.body["Data"],
        json!({"FundsAvailableResult": {
            "FundsAvailableDateTime": "2026-01-05T09:00:00+00:00",
            "FundsAvailable": false
        }})
    );
    assert_eq!(funds.body["Meta"], json!({}));
    assert_eq!(
        funds.body["Links"],
        json!({"Self": bank.app.url(&format!(
            "/open-banking/v3.1/pisp/domestic-payment-consents/{id}/funds-confirmation"
        ))})
    );
    let reply = bank.pay(&id, &token, bank.initiation("2000.00")).await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
    valid("POST", "/domestic-payments", &reply);
    assert_eq!(reply.body["Data"]["Status"], "Rejected");
    assert_eq!(bank.booked(&bank.customer.everyday).await, before);
    let cc = bank.cc_token().await;
    let pid = reply.body["Data"]["DomesticPaymentId"].as_str().unwrap();
    let details = bank
        .get(&format!("/domestic-payments/{pid}/payment-details"), &cc)
        .await;
    valid(
        "GET",
        "/domestic-payments/{DomesticPaymentId}/payment-details",
        &details,
    );
    assert_eq!(
        details.body["Data"]["PaymentStatus"][0]["StatusDetail"]["StatusReasonDescription"],
        "InsufficientFunds"
    );
}

#[tokio::test]
async fn the_daily_limit_rejects_what_goes_over_it() {
    let bank = Bank::start(Backend::Sqlite).await;
    bank.credit(&bank.customer.everyday, 3_000_000).await;
    let (a, ta) = bank.authorised_consent(bank.initiation("6000.00")).await;
    let first = bank.pay(&a, &ta, bank.initiation("6000.00")).await;
    assert_eq!(
        first.body["Data"]["Status"], "AcceptedSettlementCompleted",
        "{:#}",
        first.body
    );
    let (b, tb) = bank.authorised_consent(bank.initiation("5000.00")).await;
    let second = bank.pay(&b, &tb, bank.initiation("5000.00")).await;
    assert_eq!(second.status, 201, "{:#}", second.body);
    assert_eq!(second.body["Data"]["Status"], "Rejected");
    // Still within the limit: £4,000 more is fine.
    let (c, tc) = bank.authorised_consent(bank.initiation("4000.00")).await;
    let third = bank.pay(&c, &tc, bank.initiation("4000.00")).await;
    assert_eq!(
        third.body["Data"]["Status"], "AcceptedSettlementCompleted",
        "{:#}",
        third.body
    );
}

#[tokio::test]
async fn another_clients_payment_is_forbidden_and_unknown_ids_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (id, token) = bank.authorised_consent(bank.initiation("1.00")).await;
    let paid = bank.pay(&id, &token, bank.initiation("1.00")).await;
    let pid = paid.body["Data"]["DomesticPaymentId"].as_str().unwrap();
    let other = bank.other_tpp().await;
    let other_cc = bank.cc_token_for(&other).await;
    let reply = bank
        .call(Call::get(&format!("/domestic-payments/{pid}"), &other_cc).via(&other))
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    let cc = bank.cc_token().await;
    let unknown = bank.get("/domestic-payments/nope", &cc).await;
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.error_code(), "UK.OBIE.Resource.NotFound");
    valid("GET", "/domestic-payments/{DomesticPaymentId}", &unknown);
}

#[tokio::test]
async fn consent_bodies_are_validated_strictly() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let mut extra = Bank::consent_body(bank.initiation("1.00"));
    extra["Data"]["Initiation"]["Surprise"] = json!(1);
    let mut no_risk = Bank::consent_body(bank.initiation("1.00"));
    no_risk.as_object_mut().unwrap().remove("Risk");
    let mut eur = Bank::consent_body(bank.initiation("1.00"));
    eur["Data"]["Initiation"]["InstructedAmount"]["Currency"] = json!("EUR");
    for (body, code) in [
        (extra, "UK.OBIE.Field.Unexpected"),
        (no_risk, "UK.OBIE.Field.Missing"),
        (eur, "UK.OBIE.Unsupported.Currency"),
    ] {
        let reply = bank
            .call(Call::post("/domestic-payment-consents", &cc, &body))
            .await;
        assert_eq!(reply.status, 400, "{:#}", reply.body);
        valid("POST", "/domestic-payment-consents", &reply);
        assert_eq!(reply.error_code(), code);
    }
}

/// OB-301-DOP-100100
/// OB-301-DOP-100300
/// OB-301-DOP-100600
/// OB-301-DOP-100700
///
/// The suite's minimal domestic payment: no `LocalInstrument`, no `RemittanceInformation`,
/// `Risk: {}`. The consent is made (201, AwaitingAuthorisation, the interaction id echoed),
/// authorised, paid (201) and read back; the creditor's reference is then the
/// EndToEndIdentification.
#[tokio::test]
async fn the_minimal_domestic_payment_is_consented_paid_and_read() {
    let bank = Bank::start(Backend::Sqlite).await;
    let initiation = json!({
        "InstructionIdentification": "MIN-1",
        "EndToEndIdentification": "MIN-E2E-1",
        "InstructedAmount": {"Amount": "1.50", "Currency": "GBP"},
        "CreditorAccount": {
            "SchemeName": "UK.OBIE.SortCodeAccountNumber",
            "Identification": bank.stranger.identification,
            "Name": "Alan Turing"
        }
    });
    let cc = bank.cc_token().await;
    let consent = bank
        .call(Call::post(
            "/domestic-payment-consents",
            &cc,
            &json!({"Data": {"Initiation": initiation}, "Risk": {}}),
        ))
        .await;
    assert_eq!(consent.status, 201, "{:#}", consent.body);
    valid("POST", "/domestic-payment-consents", &consent);
    bank.verify_response(&consent);
    assert_eq!(
        consent.header("x-fapi-interaction-id"),
        Some(bascule_testkit::api::INTERACTION_ID)
    );
    let data = &consent.body["Data"];
    assert_eq!(data["Status"], "AwaitingAuthorisation");
    assert_eq!(data["Initiation"], initiation);
    assert!(data["Initiation"].get("LocalInstrument").is_none());
    assert_eq!(consent.body["Risk"], json!({}));
    let id = data["ConsentId"].as_str().unwrap().to_owned();

    let token = bank.authorise(&id, &bank.customer.everyday).await;
    let paid = bank
        .call(Call::post(
            "/domestic-payments",
            &token,
            &json!({"Data": {"ConsentId": id, "Initiation": initiation}, "Risk": {}}),
        ))
        .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    valid("POST", "/domestic-payments", &paid);
    bank.verify_response(&paid);
    assert_eq!(
        paid.header("x-fapi-interaction-id"),
        Some(bascule_testkit::api::INTERACTION_ID)
    );
    assert_eq!(paid.body["Data"]["Status"], "AcceptedSettlementCompleted");
    assert_eq!(paid.body["Data"]["Initiation"], initiation);
    let payment_id = paid.body["Data"]["DomesticPaymentId"].as_str().unwrap();

    let got = bank
        .get(&format!("/domestic-payments/{payment_id}"), &cc)
        .await;
    assert_eq!(got.status, 200, "{:#}", got.body);
    valid("GET", "/domestic-payments/{DomesticPaymentId}", &got);
    assert_eq!(got.body["Data"], paid.body["Data"]);
    let on_core = bank
        .app
        .state()
        .core_banking
        .transactions(
            &bank.stranger.account,
            &bascule_core_banking::TransactionQuery {
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .transactions;
    assert!(
        on_core
            .iter()
            .any(|t| t.reference.as_deref() == Some("MIN-E2E-1")),
        "{on_core:#?}"
    );
}
