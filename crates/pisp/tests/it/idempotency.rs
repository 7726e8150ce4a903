//! `x-idempotency-key`: replay returns the original, a changed body is refused, 100 concurrent
//! identical requests make one payment and one debit (both backends), and a Pending payment
//! left by a crash is settled exactly once by recovery.

use std::sync::Arc;

use bascule_domain::Pence;
use bascule_store::Backend;
use serde_json::json;

use crate::support::{Bank, Call, valid};

#[tokio::test]
async fn a_replay_returns_the_original_and_a_changed_body_is_refused() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let body = Bank::consent_body(bank.initiation("3.00"));
    let first = bank
        .call(Call::post("/domestic-payment-consents", &cc, &body).key("consent-1"))
        .await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    let replay = bank
        .call(Call::post("/domestic-payment-consents", &cc, &body).key("consent-1"))
        .await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body, first.body);
    bank.verify_response(&replay);
    let changed = Bank::consent_body(bank.initiation("4.00"));
    let conflict = bank
        .call(Call::post("/domestic-payment-consents", &cc, &changed).key("consent-1"))
        .await;
    assert_eq!(conflict.status, 400, "{:#}", conflict.body);
    valid("POST", "/domestic-payment-consents", &conflict);
    assert_eq!(conflict.error_code(), "UK.OBIE.Header.Invalid");

    // Missing and malformed keys.
    let missing = bank
        .call(Call::post("/domestic-payment-consents", &cc, &body).no_key())
        .await;
    assert_eq!(missing.error_code(), "UK.OBIE.Header.Missing");
    let long = bank
        .call(Call::post("/domestic-payment-consents", &cc, &body).key(&"k".repeat(41)))
        .await;
    assert_eq!(long.error_code(), "UK.OBIE.Header.Invalid");

    // Payments: the replay answers with the same payment, after the consent was consumed.
    let id = first.body["Data"]["ConsentId"].as_str().unwrap();
    let token = bank.authorise(id, &bank.customer.everyday).await;
    let pay = Bank::payment_body(id, bank.initiation("3.00"));
    let paid = bank
        .call(Call::post("/domestic-payments", &token, &pay).key("pay-1"))
        .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    let again = bank
        .call(Call::post("/domestic-payments", &token, &pay).key("pay-1"))
        .await;
    assert_eq!(again.status, 201, "{:#}", again.body);
    assert_eq!(again.body, paid.body);
    let mut other = pay.clone();
    other["Risk"] = json!({"PaymentContextCode": "EcommerceGoods"});
    let conflict = bank
        .call(Call::post("/domestic-payments", &token, &other).key("pay-1"))
        .await;
    assert_eq!(conflict.status, 400);
    assert_eq!(bank.payment_count().await, 1);
}

async fn concurrent_duplicates(backend: Backend) {
    let bank = Arc::new(Bank::start(backend).await);
    let before = bank.booked(&bank.customer.everyday).await;
    let (id, token) = bank.authorised_consent(bank.initiation("7.00")).await;
    let body = Bank::payment_body(&id, bank.initiation("7.00"));
    let bytes = body.to_string().into_bytes();
    let replies = futures::future::join_all((0..100).map(|_| {
        let bank = bank.clone();
        let token = token.clone();
        let body = body.clone();
        let bytes = bytes.clone();
        async move {
            bank.call(
                Call::post("/domestic-payments", &token, &body)
                    .raw_body(&bytes)
                    .key("same-key"),
            )
            .await
        }
    }))
    .await;
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{:#}", r.body);
            r.body["Data"]["DomesticPaymentId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(bank.payment_count().await, 1);
    assert_eq!(
        bank.booked(&bank.customer.everyday).await,
        Pence(before.0 - 700)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_identical_payments_make_one_on_sqlite() {
    concurrent_duplicates(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn concurrent_identical_payments_make_one_on_postgres() {
    concurrent_duplicates(Backend::Postgres).await;
}

#[tokio::test]
async fn recovery_settles_a_payment_left_pending_exactly_once() {
    let bank = Bank::start(Backend::Sqlite).await;
    let before = bank.booked(&bank.customer.everyday).await;
    let (id, token) = bank.authorised_consent(bank.initiation("9.00")).await;
    let paid = bank
        .call(
            Call::post(
                "/domestic-payments",
                &token,
                &Bank::payment_body(&id, bank.initiation("9.00")),
            )
            .key("crash-1"),
        )
        .await;
    assert_eq!(paid.status, 201);
    let pid = paid.body["Data"]["DomesticPaymentId"].as_str().unwrap();
    // Simulate a crash after settlement but before the status update: the row is Pending
    // again, the core has already posted under the payment's key.
    let store = &bank.app.state().store;
    store
        .write(
            bascule_store::sqlx::query(
                "UPDATE pisp_domestic_payments SET status = 'Pending' WHERE id = $1",
            )
            .bind(pid),
        )
        .await
        .unwrap();
    let pisp = &bank.app.state().pisp;
    assert_eq!(pisp.recover().await.unwrap(), 1);
    assert_eq!(pisp.recover().await.unwrap(), 0);
    let p = pisp.payment_by_id(pid).await.unwrap().unwrap();
    assert_eq!(p.status.as_str(), "AcceptedSettlementCompleted");
    assert_eq!(
        bank.booked(&bank.customer.everyday).await,
        Pence(before.0 - 900)
    );
    // A retry with the same key answers with the same payment.
    let retry = bank
        .call(
            Call::post(
                "/domestic-payments",
                &token,
                &Bank::payment_body(&id, bank.initiation("9.00")),
            )
            .key("crash-1"),
        )
        .await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body["Data"]["DomesticPaymentId"], pid);
}
