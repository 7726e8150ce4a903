use std::time::{Duration, Instant};

use bascule_domain::Pence;
use bascule_testkit::people::pay_in;
use serde_json::json;

use crate::support::{Bank, LINKED_ACCOUNT_UPDATE, RESOURCE_UPDATE, Receiver, rid};

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_payment_status_change_reaches_the_tpp_as_a_signed_set_within_a_second() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let receiver = Receiver::start(&bank.app, 0).await;
        bank.subscribe(&bank.tpp, Some(&receiver.url)).await;

        let payment = bank.pay(&bank.tpp, "10.00").await;
        let paid = Instant::now();
        let n = receiver.next(SECOND).await;
        assert!(paid.elapsed() < SECOND, "{backend:?}: {:?}", paid.elapsed());

        assert_eq!(n.content_type.as_deref(), Some("application/jwt"));
        assert!(n.interaction_id.is_some_and(|i| !i.is_empty()));
        assert_eq!(n.financial_id.as_deref(), Some("0015800001BASCULE"));
        let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
        assert_eq!(rid(&claims, RESOURCE_UPDATE), payment);
        let subject = &claims["events"][RESOURCE_UPDATE]["subject"];
        assert_eq!(
            subject["http://openbanking.org.uk/rty"],
            json!("domestic-payment")
        );
        let link = bank.app.url(&format!(
            "/open-banking/v3.1/pisp/domestic-payments/{payment}"
        ));
        assert_eq!(claims["sub"], json!(link));
        assert_eq!(
            subject["http://openbanking.org.uk/rlk"][0]["link"],
            json!(link)
        );
        assert_eq!(claims["toe"], json!(bank.now()));
        // Delivered: never sent again.
        assert!(receiver.next_within(SECOND / 2).await.is_none());
        let metrics = bank
            .app
            .client
            .get(bank.app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let attempts = format!(
            "event_push_attempts_total{{client_id=\"{}\"}}",
            bank.tpp.client_id
        );
        assert!(metrics.contains(&attempts), "no {attempts} in\n{metrics}");
        assert!(metrics.contains("event_delivery_seconds"));
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn a_transaction_booked_on_a_consented_account_reaches_the_tpp_within_a_second() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let receiver = Receiver::start(&bank.app, 0).await;
        bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
        let everyday = bank.customer.everyday.clone();
        bank.account_consent(&bank.tpp, std::slice::from_ref(&everyday))
            .await;

        pay_in(&bank.app.ledger, &everyday, Pence(2_500), "REFUND")
            .await
            .unwrap();
        let booked = Instant::now();
        let n = receiver.next(SECOND).await;
        assert!(
            booked.elapsed() < SECOND,
            "{backend:?}: {:?}",
            booked.elapsed()
        );

        let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
        assert_eq!(rid(&claims, RESOURCE_UPDATE), everyday.as_str());
        assert_eq!(
            claims["events"][RESOURCE_UPDATE]["subject"]["http://openbanking.org.uk/rty"],
            json!("account")
        );
        assert_eq!(
            claims["sub"],
            json!(
                bank.app
                    .url(&format!("/open-banking/v3.1/aisp/accounts/{everyday}"))
            )
        );
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn a_tpp_with_no_consent_on_an_account_never_hears_of_it() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let bills = bank.customer.bills.clone();
    // The fixture TPP may see Everyday; the other only Bills.
    let seeing = Receiver::start(&bank.app, 0).await;
    bank.subscribe(&bank.tpp, Some(&seeing.url)).await;
    bank.account_consent(&bank.tpp, std::slice::from_ref(&everyday))
        .await;
    let other = bank.other_tpp().await;
    let blind = Receiver::start(&bank.app, 0).await;
    bank.subscribe(&other, Some(&blind.url)).await;
    bank.account_consent(&other, std::slice::from_ref(&bills))
        .await;

    pay_in(&bank.app.ledger, &everyday, Pence(2_500), "REFUND")
        .await
        .unwrap();
    let n = seeing.next(SECOND).await;
    let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
    assert_eq!(rid(&claims, RESOURCE_UPDATE), everyday.as_str());

    assert!(
        blind.next_within(2 * SECOND).await.is_none(),
        "a TPP without a consent on Everyday heard of it"
    );
    let polled = bank.poll(&other, json!({"returnImmediately": true})).await;
    assert_eq!(polled.body["sets"], json!({}), "{:#}", polled.body);
    bank.shutdown().await;
}

#[tokio::test]
async fn a_tpp_that_may_not_read_transactions_never_hears_of_one() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let receiver = Receiver::start(&bank.app, 0).await;
    bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
    bank.account_consent_with(
        &bank.tpp,
        std::slice::from_ref(&everyday),
        &["ReadAccountsDetail", "ReadBalances"],
    )
    .await;
    pay_in(&bank.app.ledger, &everyday, Pence(2_500), "REFUND")
        .await
        .unwrap();
    assert!(
        receiver.next_within(2 * SECOND).await.is_none(),
        "a consent without ReadTransactions* heard of a booked transaction"
    );

    // The same TPP with a transactions permission on the account does hear of the next one.
    bank.account_consent(&bank.tpp, std::slice::from_ref(&everyday))
        .await;
    pay_in(&bank.app.ledger, &everyday, Pence(2_500), "REFUND")
        .await
        .unwrap();
    let n = receiver.next(SECOND).await;
    let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
    assert_eq!(rid(&claims, RESOURCE_UPDATE), everyday.as_str());
    bank.shutdown().await;
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_the_same_jti_once_more() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let receiver = Receiver::start(&bank.app, 3).await;
    bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
    let payment = bank.pay(&bank.tpp, "1.00").await;

    let mut jtis = Vec::new();
    for attempt in 1..=4 {
        let n = receiver.next(SECOND).await;
        assert_eq!(n.answered, if attempt < 4 { 503 } else { 202 });
        let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
        assert_eq!(rid(&claims, RESOURCE_UPDATE), payment);
        jtis.push(claims["jti"].as_str().unwrap().to_owned());
        if attempt < 4 {
            // Backing off: no retry before the bank's clock has moved past it.
            assert!(
                receiver.next_within(SECOND / 2).await.is_none(),
                "retried before the back-off ended (attempt {attempt})"
            );
            bank.app.clock.advance(time::Duration::seconds(10));
        }
    }
    assert!(jtis.iter().all(|j| *j == jtis[0]), "{jtis:?}");
    // Delivered at the 4th attempt: nothing more, however long the bank waits.
    bank.app.clock.advance(time::Duration::hours(2));
    assert!(receiver.next_within(SECOND).await.is_none());
    bank.shutdown().await;
}

#[tokio::test]
async fn closing_a_shared_account_tells_only_the_tpps_whose_consent_covers_it() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let bills = bank.customer.bills.clone();
        let receiver = Receiver::start(&bank.app, 0).await;
        bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
        let (consent, _) = bank
            .account_consent(&bank.tpp, &[everyday.clone(), bills.clone()])
            .await;
        let other = bank.other_tpp().await;
        let blind = Receiver::start(&bank.app, 0).await;
        bank.subscribe(&other, Some(&blind.url)).await;
        bank.account_consent(&other, std::slice::from_ref(&everyday))
            .await;

        bank.app.ledger.close_account(&bills).await.unwrap();
        let n = receiver.next(SECOND).await;
        let claims = bank.verify(&bank.tpp, &n.jwt).await;
        assert_eq!(rid(&claims, LINKED_ACCOUNT_UPDATE), consent, "{backend:?}");
        assert_eq!(
            claims["events"][LINKED_ACCOUNT_UPDATE]["subject"]["http://openbanking.org.uk/rty"],
            json!("account-access-consent")
        );
        assert!(
            blind.next_within(SECOND).await.is_none(),
            "{backend:?}: a TPP without Bills in its consent heard of its closing"
        );
        bank.shutdown().await;
    }
}
