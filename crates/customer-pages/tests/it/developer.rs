//! Developer tokens in the bank app (`/app/developer`): made with a name, an access level and
//! a lifetime; a token that moves money only after the passcode; shown once; listed with when
//! it was last used; revoked at once. The tokens then work (or stop working) on the personal
//! API.

use bascule_store::Backend;
use bascule_testkit::web::{Page, WebClient};

use crate::support::{Bank, PASSCODE};

/// The token a "token made" page shows.
fn shown_token(page: &Page) -> String {
    let start = page.body.find("value=\"bpt_").expect("a token on the page") + 7;
    let end = start + page.body[start..].find('"').unwrap();
    page.body[start..end].to_owned()
}

async fn make(phone: &WebClient, name: &str, scope: &str, passcode: &str) -> Page {
    let form = phone.get("/app/developer").await;
    assert_eq!(form.status, 200, "{}", form.body);
    phone
        .post(
            "/app/developer/tokens",
            &[
                ("csrf", &form.csrf()),
                ("name", name),
                ("scope", scope),
                ("days", "30"),
                ("passcode", passcode),
            ],
        )
        .await
}

/// `GET /personal/v1/accounts` with `token`: its status, the reply checked against the
/// personal API's OpenAPI file.
async fn accounts_status(bank: &Bank, token: &str) -> u16 {
    let response = bank
        .app
        .client
        .get(bank.app.url("/personal/v1/accounts"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    let spec: serde_json::Value = serde_json::from_str(bascule_personal_api::OPENAPI).unwrap();
    bascule_testkit::openapi::validate_response_in(&spec, "/accounts", "GET", status, &body)
        .unwrap();
    status
}

#[tokio::test]
async fn a_customer_makes_uses_and_revokes_a_token_and_moving_money_needs_the_passcode() {
    let bank = Bank::start(Backend::Sqlite).await;
    let phone = bank.graces_app().await;
    let home = phone.get("/app").await;
    home.assert_says("href=\"/app/developer\"");

    let made = make(&phone, "Budget spreadsheet", "read", "").await;
    assert_eq!(made.status, 200, "{}", made.body);
    made.assert_says("Copy it now");
    let token = shown_token(&made);
    assert_eq!(accounts_status(&bank, &token).await, 200);

    // Listed without its secret, with when it was last used.
    let list = phone.get("/app/developer").await;
    list.assert_says("Budget spreadsheet");
    list.assert_says("Read only");
    assert!(!list.body.contains(&token), "the token is shown once");
    assert!(!list.body.contains("<dd>Never</dd>"), "it was used");

    // Moving money needs the passcode: none or a wrong one makes nothing.
    for wrong in ["", "000000"] {
        let refused = make(&phone, "Saver bot", "read_move", wrong).await;
        refused.assert_says("That passcode is not right");
        assert!(!refused.body.contains("value=\"bpt_"));
    }
    let mover = make(&phone, "Saver bot", "read_move", PASSCODE).await;
    mover.assert_says("Read, and move money between my pots");
    let mover = shown_token(&mover);
    assert_eq!(accounts_status(&bank, &mover).await, 200);

    // A webhook the script registers is listed under its token and can be deleted here.
    let registered = bank
        .app
        .client
        .post(bank.app.url("/personal/v1/webhooks"))
        .bearer_auth(&mover)
        .json(
            &serde_json::json!({"account_id": bank.grace.everyday.id.as_str(),
                                  "url": "https://hooks.example/saver"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status().as_u16(), 201);
    let list = phone.get("/app/developer").await;
    list.assert_says("https://hooks.example/saver");
    let webhook: serde_json::Value = registered.json().await.unwrap();
    let webhook_id = webhook["webhook"]["id"].as_str().unwrap();
    let deleted = phone
        .post(
            &format!("/app/developer/webhooks/{webhook_id}/delete"),
            &[("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(deleted.redirect(), "/app/developer");
    assert!(
        !phone
            .get("/app/developer")
            .await
            .body
            .contains("hooks.example")
    );

    // Revoked: refused on the very next request.
    let tokens = bank
        .app
        .state()
        .personal
        .tokens_of(&bank.grace.customer.id)
        .await
        .unwrap();
    let id = &tokens
        .iter()
        .find(|t| t.name == "Budget spreadsheet")
        .unwrap()
        .id;
    let list = phone.get("/app/developer").await;
    let revoked = phone
        .post(
            &format!("/app/developer/tokens/{id}/revoke"),
            &[("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(revoked.redirect(), "/app/developer");
    phone.get("/app/developer").await.assert_says("Revoked");
    assert_eq!(accounts_status(&bank, &token).await, 401);
    assert_eq!(accounts_status(&bank, &mover).await, 200);

    // A form without its CSRF token makes nothing; a name too long is said plainly.
    let forged = phone
        .post(
            "/app/developer/tokens",
            &[("name", "x"), ("scope", "read"), ("days", "30")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let long = make(&phone, &"n".repeat(61), "read", "").await;
    long.assert_says("a name of 1 to 60 characters");
}
