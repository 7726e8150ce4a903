//! The unattended-access allowance: 4 calls per consent per rolling 24 h without
//! `x-fapi-customer-ip-address`.

use bascule_store::Backend;
use time::Duration;

use crate::support::{Bank, Call};

#[tokio::test]
async fn the_fifth_unattended_call_in_a_day_is_429_until_the_window_moves() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let consent = bank
            .create_consent(&["ReadAccountsBasic"], serde_json::json!({}))
            .await;
        let id = consent["Data"]["ConsentId"].as_str().unwrap();
        let tokens = bank
            .authorise_tokens(id, std::slice::from_ref(&bank.customer.everyday))
            .await;
        let token = tokens["access_token"].as_str().unwrap().to_owned();
        let unattended = || Call::new(reqwest::Method::GET, "/accounts", &token).unattended();
        for i in 0..4 {
            let reply = bank.call(unattended()).await;
            assert_eq!(reply.status, 200, "call {i}: {:#}", reply.body);
            bank.app.clock.advance(Duration::hours(1));
        }
        let refused = bank.call(unattended()).await;
        assert_eq!(refused.status, 429);
        // The first call (4 h ago) leaves the window in 20 h.
        assert_eq!(refused.header("retry-after"), Some("72000"));
        assert!(refused.header("x-fapi-interaction-id").is_some());
        // The customer present is not limited by this rule.
        assert_eq!(bank.get("/accounts", &token).await.status, 200);
        // 24 h after the first call it leaves the window; the allowance is the consent's, so a
        // refreshed token (the access token lives 24 h) shares it.
        bank.app.clock.advance(Duration::hours(20));
        let token = bank
            .refresh(tokens["refresh_token"].as_str().unwrap())
            .await;
        let unattended = || Call::new(reqwest::Method::GET, "/accounts", &token).unattended();
        let freed = bank.call(unattended()).await;
        assert_eq!(freed.status, 200, "{:#}", freed.body);
        assert_eq!(bank.call(unattended()).await.status, 429);
    }
}

#[tokio::test]
async fn each_consent_has_its_own_allowance() {
    let bank = Bank::start(Backend::Sqlite).await;
    let accounts = [bank.customer.everyday.clone()];
    let (_, first) = bank
        .consented_token(&["ReadAccountsBasic"], &accounts)
        .await;
    let (_, second) = bank
        .consented_token(&["ReadAccountsBasic"], &accounts)
        .await;
    for _ in 0..4 {
        let call = Call::new(reqwest::Method::GET, "/accounts", &first).unattended();
        assert_eq!(bank.call(call).await.status, 200);
    }
    let call = Call::new(reqwest::Method::GET, "/accounts", &first).unattended();
    assert_eq!(bank.call(call).await.status, 429);
    let call = Call::new(reqwest::Method::GET, "/accounts", &second).unattended();
    assert_eq!(bank.call(call).await.status, 200);
}
