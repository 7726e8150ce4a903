//! Request headers on AIS routes: x-fapi-auth-date and x-fapi-customer-ip-address formats,
//! Accept (406), Content-Type (415), and the interaction id echoed.

use bascule_store::Backend;
use serde_json::json;

use crate::support::{Bank, Call, valid};

#[tokio::test]
async fn malformed_fapi_headers_are_400_header_invalid() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsBasic"],
            std::slice::from_ref(&bank.customer.everyday),
        )
        .await;
    for (name, value) in [
        ("x-fapi-auth-date", "2026-01-05T09:00:00Z"),
        ("x-fapi-customer-ip-address", "not-an-ip"),
    ] {
        let mut call = Call::new(reqwest::Method::GET, "/accounts", &token).header(name, value);
        if name == "x-fapi-customer-ip-address" {
            call = call.unattended();
        }
        let reply = bank.call(call).await;
        assert_eq!(reply.status, 400, "{name}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Header.Invalid");
        valid("GET", "/accounts", &reply);
    }
    let ok = Call::new(reqwest::Method::GET, "/accounts", &token)
        .header("x-fapi-auth-date", "Mon, 05 Jan 2026 08:59:00 GMT");
    assert_eq!(bank.call(ok).await.status, 200);
}

#[tokio::test]
async fn accept_and_content_type_are_negotiated() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsBasic"],
            std::slice::from_ref(&bank.customer.everyday),
        )
        .await;
    let xml =
        Call::new(reqwest::Method::GET, "/accounts", &token).header("accept", "application/xml");
    let reply = bank.call(xml).await;
    assert_eq!(reply.status, 406);
    assert!(reply.header("x-fapi-interaction-id").is_some());

    let cc = bank.cc_token().await;
    let text = Call::new(reqwest::Method::POST, "/account-access-consents", &cc)
        .header("content-type", "text/plain");
    assert_eq!(bank.call(text).await.status, 415);
    let json_ok = Call::new(reqwest::Method::POST, "/account-access-consents", &cc)
        .json(json!({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}));
    assert_eq!(bank.call(json_ok).await.status, 201);
}

#[tokio::test]
async fn unknown_aisp_paths_are_404() {
    let bank = Bank::start(Backend::Sqlite).await;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsBasic"],
            std::slice::from_ref(&bank.customer.everyday),
        )
        .await;
    let reply = bank
        .get(
            &format!("/accounts/{}/foobar", bank.customer.everyday),
            &token,
        )
        .await;
    assert_eq!(reply.status, 404);
}
