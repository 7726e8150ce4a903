use bascule_personal_api::Scope;
use serde_json::json;

use crate::support::Bank;

#[tokio::test]
async fn a_token_reads_only_its_owners_accounts_and_another_customers_id_is_404() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let token = bank.reader().await;
        let accounts = bank.get("/accounts", &token).await;
        assert_eq!(accounts.status, 200, "{:#}", accounts.body);
        let ids: Vec<&str> = accounts.body["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        let grace = &bank.grace;
        let pot = bank.pot();
        assert_eq!(
            ids,
            vec![
                grace.everyday.id.as_str(),
                grace.bills.id.as_str(),
                pot.as_str()
            ],
            "{backend:?}"
        );
        let listed_pot = &accounts.body["accounts"][2];
        assert_eq!(listed_pot["type"], json!("pot"));
        assert_eq!(
            listed_pot["parent_account_id"],
            json!(grace.everyday.id.as_str())
        );

        let alans = bank.alan.account.id.to_string();
        for path in [
            format!("/accounts/{alans}"),
            format!("/accounts/{alans}/balance"),
            format!("/accounts/{alans}/transactions"),
            "/accounts/no-such-account/balance".to_owned(),
        ] {
            let reply = bank.get(&path, &token).await;
            assert_eq!(reply.status, 404, "{path}: {:#}", reply.body);
            assert_eq!(reply.code(), "not_found");
        }
        let webhook = bank
            .post(
                "/webhooks",
                &token,
                json!({"account_id": alans, "url": "https://example.com/hook"}),
            )
            .await;
        assert_eq!(webhook.status, 404, "{:#}", webhook.body);
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn a_revoked_expired_or_unknown_token_is_refused_at_once() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let issued = bank.token(Scope::Read, 7).await;
    assert_eq!(bank.get("/accounts", &issued.secret).await.status, 200);
    let personal = &bank.app.state().personal;
    assert!(
        personal
            .revoke_token(&bank.grace.customer.id, &issued.info.id)
            .await
            .unwrap()
    );
    let revoked = bank.get("/accounts", &issued.secret).await;
    assert_eq!(revoked.status, 401, "revoked: {:#}", revoked.body);
    assert_eq!(revoked.code(), "unauthorized");
    assert!(revoked.headers.contains_key("www-authenticate"));

    // Another customer cannot revoke Grace's token.
    let other = bank.token(Scope::Read, 7).await;
    assert!(
        !personal
            .revoke_token(&bank.alan.customer.id, &other.info.id)
            .await
            .unwrap()
    );
    assert_eq!(bank.get("/accounts", &other.secret).await.status, 200);
    bank.app.clock.advance(time::Duration::days(7));
    assert_eq!(
        bank.get("/accounts", &other.secret).await.status,
        401,
        "expired after its 7 days"
    );

    for token in ["bpt_0000", "not-a-token", ""] {
        assert_eq!(bank.get("/accounts", token).await.status, 401, "{token}");
    }
    let none = bank
        .call(reqwest::Method::GET, "/accounts", None, None)
        .await;
    assert_eq!(none.status, 401);
    // The listing shows what happened, and the secrets are nowhere in it.
    let listed = personal.tokens_of(&bank.grace.customer.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|t| t.revoked_at.is_some()));
    assert!(listed.iter().all(|t| t.last_used_at.is_some()));
    bank.shutdown().await;
}

#[tokio::test]
async fn a_token_lives_at_most_ninety_days_and_needs_a_name() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let personal = &bank.app.state().personal;
    let grace = &bank.grace.customer.id;
    assert!(
        personal
            .issue_token(grace, "t", Scope::Read, 91)
            .await
            .is_err()
    );
    assert!(
        personal
            .issue_token(grace, "t", Scope::Read, 0)
            .await
            .is_err()
    );
    assert!(
        personal
            .issue_token(grace, "  ", Scope::Read, 30)
            .await
            .is_err()
    );
    let ok = personal
        .issue_token(grace, "t", Scope::Read, 90)
        .await
        .unwrap();
    assert_eq!(
        ok.info.expires_at - ok.info.created_at,
        time::Duration::days(90)
    );
    bank.shutdown().await;
}

#[tokio::test]
async fn a_token_past_its_rate_limit_gets_429_with_retry_after() {
    let bank = Bank::start_with(bascule_store::Backend::Sqlite, |c| {
        c.personal_rate_limit_per_minute = 3
    })
    .await;
    let token = bank.reader().await;
    let other = bank.reader().await;
    for _ in 0..3 {
        assert_eq!(bank.get("/pots", &token).await.status, 200);
    }
    let limited = bank.get("/pots", &token).await;
    assert_eq!(limited.status, 429, "{:#}", limited.body);
    assert_eq!(limited.code(), "rate_limited");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(bank.get("/pots", &other).await.status, 200, "per token");
    bank.app.clock.advance(time::Duration::seconds(61));
    assert_eq!(bank.get("/pots", &token).await.status, 200);
    bank.shutdown().await;
}

#[tokio::test]
async fn the_bank_serves_the_apis_openapi_file() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let served: serde_json::Value = bank
        .app
        .client
        .get(bank.app.url("/personal/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(&served, crate::support::spec());
    bank.shutdown().await;
}
