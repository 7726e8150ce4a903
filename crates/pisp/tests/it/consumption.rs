//! A payment consent is consumed in the payment's own transaction: a payment refused before
//! it commits leaves the consent Authorised and re-usable; two payments racing for one consent
//! make one payment; the stored terms echo the Initiation exactly as the TPP spelt it.

use bascule_store::Backend;
use serde_json::json;

use crate::support::{Bank, Call, valid};

async fn consent_status(bank: &Bank, id: &str) -> String {
    let cc = bank.cc_token().await;
    let reply = bank
        .get(&format!("/domestic-payment-consents/{id}"), &cc)
        .await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    reply.body["Data"]["Status"]
        .as_str()
        .expect("Status")
        .to_owned()
}

#[tokio::test]
async fn a_payment_refused_before_commit_leaves_its_consent_authorised_and_reusable() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (id, token) = bank.authorised_consent(bank.initiation("25.00")).await;

    // Refused after the consent was found and checked, before anything was written.
    let refused = bank.pay(&id, &token, bank.initiation("25.01")).await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
    assert_eq!(refused.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    assert_eq!(bank.payment_count().await, 0);
    assert_eq!(consent_status(&bank, &id).await, "Authorised");

    let body = Bank::payment_body(&id, bank.initiation("25.00"));
    let paid = bank
        .call(Call::post("/domestic-payments", &token, &body).key("consume-1"))
        .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    valid("POST", "/domestic-payments", &paid);
    assert_eq!(consent_status(&bank, &id).await, "Consumed");

    // A replay still answers with the payment; a new payment on the consent is refused.
    let replay = bank
        .call(Call::post("/domestic-payments", &token, &body).key("consume-1"))
        .await;
    assert_eq!(replay.status, 201, "{:#}", replay.body);
    assert_eq!(replay.raw, paid.raw);
    let again = bank.pay(&id, &token, bank.initiation("25.00")).await;
    assert_eq!(again.status, 400, "{:#}", again.body);
    assert_eq!(again.error_code(), "UK.OBIE.Resource.InvalidConsentStatus");
    assert_eq!(bank.payment_count().await, 1);
}

async fn racing_payments_make_one(backend: Backend) {
    let bank = Bank::start(backend).await;
    let (id, token) = bank.authorised_consent(bank.initiation("3.00")).await;
    let (a, b) = tokio::join!(
        bank.pay(&id, &token, bank.initiation("3.00")),
        bank.pay(&id, &token, bank.initiation("3.00")),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 400], "{:#} {:#}", a.body, b.body);
    let loser = if a.status == 400 { &a } else { &b };
    assert_eq!(loser.error_code(), "UK.OBIE.Resource.InvalidConsentStatus");
    assert_eq!(bank.payment_count().await, 1);
    assert_eq!(consent_status(&bank, &id).await, "Consumed");
}

#[tokio::test]
async fn two_payments_racing_for_one_consent_make_one_on_sqlite() {
    racing_payments_make_one(Backend::Sqlite).await;
}

#[tokio::test]
async fn two_payments_racing_for_one_consent_make_one_on_postgres() {
    racing_payments_make_one(Backend::Postgres).await;
}

#[tokio::test]
async fn the_initiation_is_echoed_as_the_tpp_spelt_it() {
    let bank = Bank::start(Backend::Sqlite).await;
    let mut initiation = bank.initiation("0007.50");
    initiation["SupplementaryData"] = json!({"z": 1, "a": {"y": [2, 1]}});
    let created = bank.create_consent(initiation.clone()).await;
    assert_eq!(created["Data"]["Initiation"], initiation);
    let id = created["Data"]["ConsentId"].as_str().expect("ConsentId");
    let cc = bank.cc_token().await;
    let read = bank
        .get(&format!("/domestic-payment-consents/{id}"), &cc)
        .await;
    assert_eq!(read.body["Data"]["Initiation"], initiation);
    let raw = String::from_utf8(read.raw.clone()).expect("UTF-8");
    assert!(raw.contains(r#""Amount":"0007.50""#), "{raw}");

    let token = bank.authorise(id, &bank.customer.everyday).await;
    // The same amount spelt otherwise is the same payment; each echoes its consent's spelling.
    let mut respelt = initiation.clone();
    respelt["InstructedAmount"]["Amount"] = json!("7.5");
    let paid = bank.pay(id, &token, respelt).await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    assert_eq!(paid.body["Data"]["Initiation"], initiation);
}
