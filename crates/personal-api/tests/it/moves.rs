use std::sync::Arc;

use serde_json::json;

use crate::support::Bank;

#[tokio::test]
async fn a_read_only_token_cannot_move_money() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let token = bank.reader().await;
    let before = bank.booked(&bank.grace.everyday.id).await;
    let reply = bank
        .post(
            "/moves",
            &token,
            json!({"from_account_id": bank.grace.everyday.id.as_str(), "to_account_id": bank.pot(),
                   "amount": "10.00", "dedupe_id": "ro-1"}),
        )
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    assert_eq!(reply.code(), "forbidden");
    assert_eq!(bank.booked(&bank.grace.everyday.id).await, before);
    bank.shutdown().await;
}

#[tokio::test]
async fn a_move_repeated_with_the_same_dedupe_id_moves_money_once() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let token = bank.mover().await;
        let everyday = bank.grace.everyday.id.clone();
        let pot = bank.pot();
        let body = json!({"from_account_id": everyday.as_str(), "to_account_id": pot,
                          "amount": "25.50", "dedupe_id": "save-1"});
        let first = bank.post("/moves", &token, body.clone()).await;
        assert_eq!(first.status, 201, "{backend:?}: {:#}", first.body);
        assert_eq!(first.body["move"]["amount"], json!("25.50"));
        let again = bank.post("/moves", &token, body.clone()).await;
        assert_eq!(again.status, 200, "{:#}", again.body);
        assert_eq!(
            again.body["move"]["transaction_id"],
            first.body["move"]["transaction_id"]
        );
        assert_eq!(bank.booked(&everyday).await, 80_000 - 2_550, "{backend:?}");

        // The same dedupe_id for another move is refused, and moves nothing.
        let other = bank
            .post(
                "/moves",
                &token,
                json!({"from_account_id": everyday.as_str(), "to_account_id": pot,
                       "amount": "1.00", "dedupe_id": "save-1"}),
            )
            .await;
        assert_eq!(other.status, 409, "{:#}", other.body);
        assert_eq!(other.code(), "conflict");

        // Out of the pot, back to Everyday.
        let back = bank
            .post(
                "/moves",
                &token,
                json!({"from_account_id": pot, "to_account_id": everyday.as_str(),
                       "amount": "5.50", "dedupe_id": "back-1"}),
            )
            .await;
        assert_eq!(back.status, 201, "{:#}", back.body);
        assert_eq!(bank.booked(&everyday).await, 80_000 - 2_000);

        // 50 at once with one new dedupe_id: one move.
        let bank = Arc::new(bank);
        let body = json!({"from_account_id": everyday.as_str(), "to_account_id": pot,
                          "amount": "3.00", "dedupe_id": "burst"});
        let replies = futures::future::join_all((0..50).map(|_| {
            let (bank, token, body) = (bank.clone(), token.clone(), body.clone());
            async move { bank.post("/moves", &token, body).await.status }
        }))
        .await;
        assert_eq!(
            replies.iter().filter(|s| **s == 201).count(),
            1,
            "{backend:?}: {replies:?}"
        );
        assert!(
            replies.iter().all(|s| *s == 201 || *s == 200),
            "{replies:?}"
        );
        assert_eq!(bank.booked(&everyday).await, 80_000 - 2_300, "{backend:?}");
        Arc::try_unwrap(bank).ok().unwrap().shutdown().await;
    }
}

#[tokio::test]
async fn a_move_is_refused_between_accounts_that_are_not_a_pot_and_its_account_or_not_yours() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let token = bank.mover().await;
    let everyday = bank.grace.everyday.id.to_string();
    let bills = bank.grace.bills.id.to_string();
    let alans = bank.alan.account.id.to_string();
    let pot = bank.pot();
    for (body, status, code) in [
        (
            json!({"from_account_id": everyday, "to_account_id": bills, "amount": "1.00", "dedupe_id": "a"}),
            400,
            "invalid_field",
        ),
        (
            json!({"from_account_id": everyday, "to_account_id": alans, "amount": "1.00", "dedupe_id": "b"}),
            404,
            "not_found",
        ),
        (
            json!({"from_account_id": everyday, "to_account_id": pot, "amount": "0.00", "dedupe_id": "c"}),
            400,
            "invalid_field",
        ),
        (
            json!({"from_account_id": everyday, "to_account_id": pot, "amount": "1.001", "dedupe_id": "d"}),
            400,
            "invalid_field",
        ),
        (
            json!({"from_account_id": pot, "to_account_id": everyday, "amount": "5000.00", "dedupe_id": "e"}),
            400,
            "invalid_field",
        ),
        (
            json!({"from_account_id": everyday, "to_account_id": pot, "amount": "1.00"}),
            400,
            "missing_field",
        ),
        (
            json!({"from_account_id": everyday, "to_account_id": pot, "amount": "1.00", "dedupe_id": "f", "note": "x"}),
            400,
            "unexpected_field",
        ),
    ] {
        let reply = bank.post("/moves", &token, body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:#}", reply.body);
        assert_eq!(reply.code(), code, "{body}");
        if code.ends_with("_field") && status == 400 {
            assert!(reply.body["error"]["field"].is_string(), "{:#}", reply.body);
        }
    }
    assert_eq!(bank.booked(&bank.grace.everyday.id).await, 80_000);
    bank.shutdown().await;
}
