//! Request headers on CBPII routes: x-fapi-auth-date and x-fapi-customer-ip-address formats,
//! Accept (406), Content-Type (415), and the interaction id echoed or generated.

use bascule_store::Backend;

use crate::support::{Bank, Call, confirmation_body, consent_body, valid};

#[tokio::test]
async fn malformed_fapi_headers_are_400_header_invalid() {
    let bank = Bank::start(Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let (id, token) = bank.consented_token(&everyday).await;
    for (name, value) in [
        ("x-fapi-auth-date", "2026-01-05T09:00:00Z"),
        ("x-fapi-customer-ip-address", "not-an-ip"),
    ] {
        let call = Call::new(reqwest::Method::POST, "/funds-confirmations", &token)
            .json(confirmation_body(&id, "r", "1.00"))
            .header(name, value);
        let reply = bank.call(call).await;
        assert_eq!(reply.status, 400, "{name}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Header.Invalid");
        assert_eq!(reply.body["Errors"][0]["Path"], name);
        valid("POST", "/funds-confirmations", &reply);
    }
    let ok = Call::new(reqwest::Method::POST, "/funds-confirmations", &token)
        .json(confirmation_body(&id, "r", "1.00"))
        .header("x-fapi-auth-date", "Mon, 05 Jan 2026 08:59:00 GMT")
        .header("x-fapi-customer-ip-address", "2001:db8::7")
        .header("x-customer-user-agent", "CardApp/1.0");
    let reply = bank.call(ok).await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
}

#[tokio::test]
async fn accept_and_content_type_are_negotiated() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let identification = bank.customer.everyday.identification.clone();
    let xml = Call::new(reqwest::Method::POST, "/funds-confirmation-consents", &cc)
        .json(consent_body(&identification))
        .header("accept", "application/xml");
    let reply = bank.call(xml).await;
    assert_eq!(reply.status, 406);
    assert!(reply.header("x-fapi-interaction-id").is_some());

    let text = Call::new(reqwest::Method::POST, "/funds-confirmation-consents", &cc)
        .header("content-type", "text/plain");
    assert_eq!(bank.call(text).await.status, 415);
    let json_ok = Call::new(reqwest::Method::POST, "/funds-confirmation-consents", &cc)
        .json(consent_body(&identification))
        .header("accept", "application/json; charset=utf-8");
    let reply = bank.call(json_ok).await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
    assert!(
        reply
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_are_404_and_405() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    // The spec has no GET of a funds confirmation.
    assert_eq!(bank.get("/funds-confirmations/abc", &cc).await.status, 404);
    assert_eq!(bank.get("/funds-confirmations", &cc).await.status, 405);
    let put = Call::new(
        reqwest::Method::PUT,
        "/funds-confirmation-consents/abc",
        &cc,
    )
    .json(serde_json::json!({}));
    assert_eq!(bank.call(put).await.status, 405);
}
