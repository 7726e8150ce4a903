//! `/funds-confirmations`: yes and no from the available balance (arranged overdraft
//! included), the answers stored, and the rules about the consent, the account and the body.

use bascule_store::Backend;
use bascule_store::sqlx;
use serde_json::{Value, json};

use crate::support::{Bank, Call, confirmation_body, valid};

const PATH: &str = "/funds-confirmations";

async fn stored_answers(bank: &Bank, consent_id: &str) -> Vec<(String, String, i64)> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT reference, amount, funds_available FROM cbpii_funds_confirmations \
         WHERE consent_id = $1 ORDER BY reference",
    )
    .bind(consent_id)
    .fetch_all(bank.app.state().store.pool())
    .await
    .unwrap();
    rows
}

/// OB-301-CBPII-000004
#[tokio::test]
async fn funds_are_confirmed_from_the_available_balance_on_both_backends() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let (id, token) = bank.consented_token(&everyday).await;

        // £1,000 booked + £500 arranged overdraft = £1,500 available.
        for (reference, amount, available) in [
            ("a-balance", "1000.00", true),
            ("b-overdraft", "1500", true),
            ("c-over", "1500.01", false),
            ("d-far-over", "9999999999999", false),
        ] {
            let reply = bank.confirm(&token, &id, reference, amount).await;
            assert_eq!(reply.status, 201, "{amount}: {:#}", reply.body);
            valid("POST", PATH, &reply);
            let data = &reply.body["Data"];
            assert_eq!(data["FundsAvailable"], available, "{amount}");
            assert_eq!(data["ConsentId"], id.as_str());
            assert_eq!(data["Reference"], reference);
            assert_eq!(data["InstructedAmount"]["Currency"], "GBP");
            assert_eq!(data["CreationDateTime"], "2026-01-05T09:00:00+00:00");
            let fc_id = data["FundsConfirmationId"].as_str().unwrap();
            assert!(!fc_id.is_empty() && fc_id.len() <= 40);
            assert!(
                reply.body["Links"]["Self"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!(
                        "/open-banking/v3.1/cbpii/funds-confirmations/{fc_id}"
                    ))
            );
            assert_eq!(reply.body["Meta"], json!({}));
            // Never the balance: the answer has exactly the spec's fields.
            let mut keys: Vec<&str> = data
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            assert_eq!(
                keys,
                [
                    "ConsentId",
                    "CreationDateTime",
                    "FundsAvailable",
                    "FundsConfirmationId",
                    "InstructedAmount",
                    "Reference"
                ]
            );
        }
        assert_eq!(
            stored_answers(&bank, &id).await,
            [
                ("a-balance".to_owned(), "1000.00".to_owned(), 1),
                ("b-overdraft".to_owned(), "1500.00".to_owned(), 1),
                ("c-over".to_owned(), "1500.01".to_owned(), 0),
                ("d-far-over".to_owned(), "9999999999999.00".to_owned(), 0),
            ]
        );

        // An account without an overdraft and without money: nothing is available.
        let bills = bank.customer.bills.clone();
        let (bills_id, bills_token) = bank.consented_token(&bills).await;
        let reply = bank.confirm(&bills_token, &bills_id, "bills", "0.01").await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        assert_eq!(reply.body["Data"]["FundsAvailable"], false);
        valid("POST", PATH, &reply);
    }
}

#[tokio::test]
async fn a_reference_is_used_once_per_consent() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let (id, token) = bank.consented_token(&everyday).await;
        assert_eq!(
            bank.confirm(&token, &id, "card-txn-1", "5").await.status,
            201
        );
        let again = bank.confirm(&token, &id, "card-txn-1", "6").await;
        assert_eq!(again.status, 400, "{:#}", again.body);
        assert_eq!(again.error_code(), "UK.OBIE.Rules.DuplicateReference");
        valid("POST", PATH, &again);
        assert_eq!(stored_answers(&bank, &id).await.len(), 1);
        // Another consent may use the same reference.
        let (id2, token2) = bank.consented_token(&everyday).await;
        assert_eq!(
            bank.confirm(&token2, &id2, "card-txn-1", "5").await.status,
            201
        );
    }
}

#[tokio::test]
async fn the_consent_id_must_be_the_tokens_consent() {
    let bank = Bank::start(Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let (id, token) = bank.consented_token(&everyday).await;
    let (other_id, _) = bank.consented_token(&everyday).await;
    for wrong in [other_id.as_str(), "no-such-consent"] {
        let reply = bank.confirm(&token, wrong, "r", "1.00").await;
        assert_eq!(reply.status, 400, "{wrong}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
        assert_eq!(reply.body["Errors"][0]["Path"], "Data.ConsentId");
        valid("POST", PATH, &reply);
    }

    // Another client's consent: 403, with either client's token.
    let other = bank.other_tpp().await;
    let foreign = bank
        .create_consent_by(
            &other,
            crate::support::consent_body(&everyday.identification),
        )
        .await;
    let foreign_id = foreign["Data"]["ConsentId"].as_str().unwrap();
    let reply = bank.confirm(&token, foreign_id, "r", "1.00").await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    valid("POST", PATH, &reply);
    let other_token = bank
        .authorise_by(&other, foreign_id, &bank.customer.id, &everyday.id)
        .await;
    let reply = bank
        .call(
            Call::new(reqwest::Method::POST, PATH, &other_token)
                .json(confirmation_body(&id, "r", "1.00"))
                .via(&other),
        )
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    // The owner's own token still works, and the other TPP's works on its own consent.
    assert_eq!(bank.confirm(&token, &id, "r", "1.00").await.status, 201);
    let reply = bank
        .call(
            Call::new(reqwest::Method::POST, PATH, &other_token)
                .json(confirmation_body(foreign_id, "r", "1.00"))
                .via(&other),
        )
        .await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
}

#[tokio::test]
async fn only_a_customer_authorised_funds_confirmation_token_confirms_funds() {
    let bank = Bank::start(Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let (id, _) = bank.consented_token(&everyday).await;
    let cc = bank.cc_token().await;
    let reply = bank.confirm(&cc, &id, "r", "1.00").await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    valid("POST", PATH, &reply);
    let reply = bank.confirm("not-a-token", &id, "r", "1.00").await;
    assert_eq!(reply.status, 401);
    // A consent still awaiting authorisation has no token at all; the request is refused the
    // same way with a client-credentials token.
    let waiting = bank
        .create_consent(&everyday.identification, json!({}))
        .await;
    let waiting_id = waiting["Data"]["ConsentId"].as_str().unwrap();
    assert_eq!(bank.confirm(&cc, waiting_id, "r", "1.00").await.status, 403);
}

#[tokio::test]
async fn the_authorised_account_must_be_the_debtor_account() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    // The consent names Everyday; the customer shares Bills.
    let body = bank
        .create_consent(&c.everyday.identification, json!({}))
        .await;
    let id = body["Data"]["ConsentId"].as_str().unwrap();
    let token = bank.authorise(id, &c.bills).await;
    let reply = bank.confirm(&token, id, "r", "1.00").await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    valid("POST", PATH, &reply);

    // The consent names someone else's account; Grace shares her own.
    let body = bank
        .create_consent(&bank.stranger.account.identification, json!({}))
        .await;
    let id = body["Data"]["ConsentId"].as_str().unwrap();
    let token = bank.authorise(id, &c.everyday).await;
    let reply = bank.confirm(&token, id, "r", "1.00").await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
}

#[tokio::test]
async fn bad_bodies_and_currencies_get_400_with_the_ob_code() {
    let bank = Bank::start(Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let (id, token) = bank.consented_token(&everyday).await;
    let with_amount = |amount: Value| json!({"Data": {"ConsentId": id, "Reference": "r", "InstructedAmount": amount}});
    let cases = [
        (
            with_amount(json!({"Amount": "10.00", "Currency": "EUR"})),
            "UK.OBIE.Unsupported.Currency",
            "Data.InstructedAmount.Currency",
        ),
        (
            with_amount(json!({"Amount": "10.00", "Currency": "gbp"})),
            "UK.OBIE.Field.Invalid",
            "Data.InstructedAmount.Currency",
        ),
        (
            with_amount(json!({"Amount": "10.001", "Currency": "GBP"})),
            "UK.OBIE.Field.Invalid",
            "Data.InstructedAmount.Amount",
        ),
        (
            with_amount(json!({"Amount": "1e3", "Currency": "GBP"})),
            "UK.OBIE.Field.Invalid",
            "Data.InstructedAmount.Amount",
        ),
        (
            with_amount(json!({"Amount": 10, "Currency": "GBP"})),
            "UK.OBIE.Field.Invalid",
            "Data.InstructedAmount.Amount",
        ),
        (
            with_amount(json!({"Amount": "10.00"})),
            "UK.OBIE.Field.Missing",
            "Data.InstructedAmount.Currency",
        ),
        (
            with_amount(json!({"Amount": "10.00", "Currency": "GBP", "Sign": "-"})),
            "UK.OBIE.Field.Unexpected",
            "Data.InstructedAmount.Sign",
        ),
        (
            json!({"Data": {"ConsentId": id, "InstructedAmount": {"Amount": "1", "Currency": "GBP"}}}),
            "UK.OBIE.Field.Missing",
            "Data.Reference",
        ),
        (
            json!({"Data": {"ConsentId": id, "Reference": "x".repeat(36), "InstructedAmount": {"Amount": "1", "Currency": "GBP"}}}),
            "UK.OBIE.Field.Invalid",
            "Data.Reference",
        ),
        (
            {
                let mut b = confirmation_body(&id, "r", "1.00");
                b["Risk"] = json!({});
                b
            },
            "UK.OBIE.Field.Unexpected",
            "Risk",
        ),
    ];
    for (body, code, path) in cases {
        let reply = bank.post(PATH, &token, body.clone()).await;
        assert_eq!(reply.status, 400, "{body} → {:#}", reply.body);
        assert_eq!(reply.error_code(), code, "{body} → {:#}", reply.body);
        assert_eq!(reply.body["Errors"][0]["Path"], path, "{body}");
        valid("POST", PATH, &reply);
    }
    let raw = bank
        .call(
            Call::new(reqwest::Method::POST, PATH, &token)
                .header("content-type", "application/json")
                .json(json!("not an object")),
        )
        .await;
    assert_eq!(raw.status, 400);
    assert_eq!(raw.error_code(), "UK.OBIE.Resource.InvalidFormat");
    // Nothing above was answered or stored.
    assert!(stored_answers(&bank, &id).await.is_empty());
}
