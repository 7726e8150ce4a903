use std::collections::BTreeMap;
use std::time::Duration;

use bascule_domain::{Clock, Merchant, Pence};
use bascule_testkit::receiver::{Notification, Receiver};
use serde_json::{Value, json};

use crate::support::{Bank, spec};

const SECOND: Duration = Duration::from_secs(1);

fn header(n: &Notification, name: &str) -> String {
    n.headers[name].to_str().unwrap().to_owned()
}

/// The notification's body, its Standard Webhooks signature checked with `secret`.
fn verified(bank: &Bank, n: &Notification, secret: &str) -> Value {
    let id = header(n, "webhook-id");
    let timestamp: i64 = header(n, "webhook-timestamp").parse().unwrap();
    bascule_jose::webhooks::verify(
        secret,
        &id,
        timestamp,
        n.jwt.as_bytes(),
        &header(n, "webhook-signature"),
        bank.app.clock.now().unix_timestamp(),
        300,
    )
    .unwrap_or_else(|e| panic!("{e}: {n:?}"));
    assert_eq!(n.content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_str(&n.jwt).unwrap();
    if let Err(e) = bascule_testkit::openapi::validate_in(spec(), "WebhookPayload", &body) {
        panic!("{e}\n{body:#}");
    }
    body
}

/// The JSON value's shape: its keys, recursively, and each leaf's type (null where the
/// example or the delivery has no value: an optional field counts as present either way).
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().take(1).map(shape).collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => json!("string-or-null"),
    }
}

fn same_shape(example: &Value, real: &Value) -> bool {
    match (example, real) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_shape(v, w)))
        }
        (e, r) => {
            let (e, r) = (shape(e), shape(r));
            e == r || e == json!("string-or-null") || r == json!("string-or-null")
        }
    }
}

#[tokio::test]
async fn a_card_payment_yields_transaction_created_then_updated_with_the_same_id() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let token = bank.reader().await;
        let receiver = Receiver::start(&bank.app, 0).await;
        let everyday = bank.grace.everyday.id.clone();
        bank.app.clock.advance(time::Duration::seconds(1));
        let registered = bank
            .post(
                "/webhooks",
                &token,
                json!({"account_id": everyday.as_str(),
                       "url": format!("{}/event-notifications", receiver.url)}),
            )
            .await;
        assert_eq!(registered.status, 201, "{:#}", registered.body);
        let secret = registered.body["secret"].as_str().unwrap().to_owned();
        let listed = bank.get("/webhooks", &token).await;
        assert_eq!(listed.body["webhooks"][0], registered.body["webhook"]);
        assert!(
            listed.body.to_string().find("whsec_").is_none(),
            "the secret is shown once"
        );

        let merchant = Merchant {
            name: "Coffee Corner".into(),
            category_code: "5814".into(),
        };
        // Later than Grace's opening lines, so it heads the transactions page.
        bank.app.clock.advance(time::Duration::minutes(1));
        let card = bank
            .app
            .ledger
            .authorise_card(&everyday, Pence(420), merchant)
            .await
            .unwrap();
        let created = receiver.next(2 * SECOND).await;
        assert_eq!(created.answered, 202);
        let created_id = header(&created, "webhook-id");
        let created = verified(&bank, &created, &secret);
        assert_eq!(created["type"], json!("transaction.created"), "{backend:?}");
        assert_eq!(created["data"]["id"], json!(card.as_str()));
        assert_eq!(created["data"]["status"], json!("pending"));
        assert_eq!(created["data"]["amount"], json!("-4.20"));
        assert_eq!(created["data"]["merchant"]["name"], json!("Coffee Corner"));

        bank.app
            .ledger
            .settle_card(&card, Pence(450))
            .await
            .unwrap();
        let updated = receiver.next(2 * SECOND).await;
        let updated_id = header(&updated, "webhook-id");
        let updated = verified(&bank, &updated, &secret);
        assert_eq!(updated["type"], json!("transaction.updated"));
        assert_eq!(
            updated["data"]["id"],
            json!(card.as_str()),
            "same transaction"
        );
        assert_eq!(updated["data"]["status"], json!("booked"));
        assert_eq!(updated["data"]["amount"], json!("-4.50"));
        assert_ne!(updated_id, created_id, "each message has its own id");

        // The same transaction through the API is the webhook's data.
        let page = bank
            .get(
                &format!("/accounts/{everyday}/transactions?limit=1"),
                &token,
            )
            .await;
        assert_eq!(page.body["transactions"][0], updated["data"]);

        // The documented example is what a delivery looks like.
        let example = &spec()["webhooks"]["transaction"]["post"]["requestBody"]["content"]["application/json"]
            ["example"];
        assert!(
            same_shape(example, &created),
            "example {example:#}\nreal {created:#}"
        );
        assert!(
            receiver.next_within(SECOND / 2).await.is_none(),
            "nothing more"
        );
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn a_failing_receiver_gets_the_same_message_again_and_a_deleted_webhook_gets_nothing() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let token = bank.reader().await;
    let receiver = Receiver::start(&bank.app, 2).await;
    let everyday = bank.grace.everyday.id.clone();
    // Grace's opening lines are older than the webhook: it never hears of them.
    bank.app.clock.advance(time::Duration::seconds(1));
    let registered = bank
        .post(
            "/webhooks",
            &token,
            json!({"account_id": everyday.as_str(),
                   "url": format!("{}/event-notifications", receiver.url)}),
        )
        .await;
    let id = registered.body["webhook"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = registered.body["secret"].as_str().unwrap().to_owned();
    bascule_testkit::people::pay_in(&bank.app.ledger, &everyday, Pence(1_000), "GIFT")
        .await
        .unwrap();
    let mut ids = BTreeMap::new();
    for attempt in 0..3 {
        // The bank's clock moves past each back-off until the retry arrives (the failure is
        // recorded after the receiver answered, so one move is not enough to be sure).
        let mut n = None;
        for _ in 0..20 {
            n = receiver.next_within(SECOND / 5).await;
            if n.is_some() {
                break;
            }
            bank.app.clock.advance(time::Duration::seconds(10));
        }
        let n = n.expect("a delivery attempt");
        assert_eq!(n.answered, if attempt < 2 { 503 } else { 202 });
        let body = verified(&bank, &n, &secret);
        assert_eq!(body["data"]["reference"], json!("GIFT"));
        *ids.entry(header(&n, "webhook-id")).or_insert(0) += 1;
    }
    assert_eq!(ids.len(), 1, "one message id on every attempt: {ids:?}");

    let deleted = bank
        .call(
            reqwest::Method::DELETE,
            &format!("/webhooks/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(deleted.status, 204);
    bascule_testkit::people::pay_in(&bank.app.ledger, &everyday, Pence(1_000), "LATER")
        .await
        .unwrap();
    assert!(receiver.next_within(SECOND).await.is_none());
    let again = bank
        .call(
            reqwest::Method::DELETE,
            &format!("/webhooks/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(again.status, 404);
    for url in [
        "http://example.com/hook",
        "not a url",
        "https://user:pw@example.com/",
    ] {
        let refused = bank
            .post(
                "/webhooks",
                &token,
                json!({"account_id": everyday.as_str(), "url": url}),
            )
            .await;
        assert_eq!(refused.status, 400, "{url}: {:#}", refused.body);
        assert_eq!(refused.body["error"]["field"], json!("url"));
    }
    bank.shutdown().await;
}

#[tokio::test]
async fn a_webhook_stops_with_the_token_that_registered_it() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let issued = bank.token(bascule_personal_api::Scope::Read, 30).await;
    let other = bank.reader().await;
    let receiver = Receiver::start(&bank.app, 0).await;
    let everyday = bank.grace.everyday.id.clone();
    bank.app.clock.advance(time::Duration::seconds(1));
    let registered = bank
        .post(
            "/webhooks",
            &issued.secret,
            json!({"account_id": everyday.as_str(),
                   "url": format!("{}/event-notifications", receiver.url)}),
        )
        .await;
    assert_eq!(registered.status, 201, "{:#}", registered.body);
    assert_eq!(
        registered.headers["cache-control"], "no-store",
        "the secret is never cached"
    );
    assert!(
        bank.app
            .state()
            .personal
            .revoke_token(&bank.grace.customer.id, &issued.info.id)
            .await
            .unwrap()
    );
    let listed = bank.get("/webhooks", &other).await;
    assert_eq!(listed.body["webhooks"], json!([]), "deleted with its token");
    bascule_testkit::people::pay_in(&bank.app.ledger, &everyday, Pence(1_000), "AFTER")
        .await
        .unwrap();
    assert!(receiver.next_within(SECOND).await.is_none());
    bank.shutdown().await;
}
