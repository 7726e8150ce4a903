use std::time::Duration;

use bascule_domain::Pence;
use bascule_testkit::people::pay_in;
use serde_json::{Value, json};

use crate::support::{Bank, RESOURCE_UPDATE, Receiver, rid};

/// Polls (acknowledging nothing) until `n` SETs are pending, for at most 2 s → the reply body.
async fn until_pending(bank: &Bank, n: usize) -> Value {
    for _ in 0..40 {
        let reply = bank.poll(&bank.tpp, json!({"maxEvents": 10})).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        if reply.body["sets"].as_object().map(|s| s.len()) == Some(n) {
            return reply.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never {n} pending events");
}

fn jtis(body: &Value) -> Vec<String> {
    body["sets"].as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn polling_returns_pending_sets_and_acknowledged_ones_never_again() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        bank.subscribe(&bank.tpp, None).await;
        let everyday = bank.customer.everyday.clone();
        bank.account_consent(&bank.tpp, std::slice::from_ref(&everyday))
            .await;
        pay_in(&bank.app.ledger, &everyday, Pence(100), "ONE")
            .await
            .unwrap();
        let first = until_pending(&bank, 1).await;
        pay_in(&bank.app.ledger, &everyday, Pence(200), "TWO")
            .await
            .unwrap();
        let both = until_pending(&bank, 2).await;
        assert_eq!(both["moreAvailable"], json!(false));
        for (jti, set) in both["sets"].as_object().unwrap() {
            let claims = bank
                .verify_resource_update(&bank.tpp, set.as_str().unwrap())
                .await;
            assert_eq!(claims["jti"], json!(jti));
            assert_eq!(rid(&claims, RESOURCE_UPDATE), everyday.as_str());
        }

        let one = bank.poll(&bank.tpp, json!({"maxEvents": 1})).await;
        assert_eq!(one.body["moreAvailable"], json!(true));
        assert_eq!(jtis(&one.body), jtis(&first), "oldest first");

        let acked = bank
            .poll(&bank.tpp, json!({"ack": jtis(&first), "maxEvents": 10}))
            .await;
        let rest = jtis(&acked.body);
        assert_eq!(rest.len(), 1);
        assert!(!rest.contains(&jtis(&first)[0]));

        let refused = bank
            .poll(
                &bank.tpp,
                json!({"setErrs": {rest[0].clone(): {"err": "jwtAud", "description": "not ours"}},
                       "maxEvents": 0}),
            )
            .await;
        assert_eq!(refused.body, json!({"moreAvailable": false, "sets": {}}));
        let after = bank.poll(&bank.tpp, json!({})).await;
        assert_eq!(after.body["sets"], json!({}));
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn an_event_acknowledged_by_polling_is_not_pushed_again() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let receiver = Receiver::start(&bank.app, usize::MAX).await;
    bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
    bank.pay(&bank.tpp, "3.00").await;
    let failed = receiver.next(Duration::from_secs(1)).await;
    assert_eq!(failed.answered, 503);

    let pending = until_pending(&bank, 1).await;
    let jti = jtis(&pending);
    let claims = bank.verify(&bank.tpp, &failed.jwt).await;
    assert_eq!(jti, vec![claims["jti"].as_str().unwrap().to_owned()]);
    bank.poll(&bank.tpp, json!({"ack": jti, "maxEvents": 0}))
        .await;

    bank.app.clock.advance(time::Duration::hours(1));
    assert!(
        receiver.next_within(Duration::from_secs(1)).await.is_none(),
        "an acknowledged event was pushed again"
    );
    bank.shutdown().await;
}

#[tokio::test]
async fn polling_refuses_a_negative_max_events_and_unknown_fields() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    for body in [json!({"maxEvents": -1}), json!({"acks": []})] {
        let reply = bank.poll(&bank.tpp, body.clone()).await;
        assert_eq!(reply.status, 400, "{body}: {:#}", reply.body);
    }
    bank.shutdown().await;
}

#[tokio::test]
async fn a_long_poll_is_answered_as_soon_as_an_event_is_written() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    bank.subscribe(&bank.tpp, None).await;
    let everyday = bank.customer.everyday.clone();
    bank.account_consent(&bank.tpp, std::slice::from_ref(&everyday))
        .await;

    let asked = std::time::Instant::now();
    let (reply, _) = tokio::join!(
        bank.poll(
            &bank.tpp,
            json!({"returnImmediately": false, "maxEvents": 5})
        ),
        async {
            tokio::time::sleep(Duration::from_millis(600)).await;
            pay_in(&bank.app.ledger, &everyday, Pence(100), "LONG")
                .await
                .unwrap();
        }
    );
    let waited = asked.elapsed();
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    assert_eq!(jtis(&reply.body).len(), 1, "{:#}", reply.body);
    assert!(
        waited >= Duration::from_millis(600) && waited < Duration::from_secs(5),
        "held {waited:?}"
    );

    // Asked to answer at once, with nothing new: an empty answer straight away.
    let asked = std::time::Instant::now();
    let reply = bank
        .poll(
            &bank.tpp,
            json!({"returnImmediately": true, "ack": jtis(&reply.body)}),
        )
        .await;
    assert_eq!(reply.body["sets"], json!({}));
    assert!(asked.elapsed() < Duration::from_secs(2));
    bank.shutdown().await;
}
