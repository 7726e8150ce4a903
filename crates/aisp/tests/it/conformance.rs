//! The Open Banking conformance suite's AIS rows that no other test names: each test carries
//! its row's id (`/// OB-301-...`) so the checklist maps to it. Where the suite's expected
//! status differs from the spec's, the test asserts the spec's (RW §403: a token of the wrong
//! kind, a permission or an account outside the consent → 403).

use bascule_store::Backend;
use serde_json::{Value, json};

use crate::support::{ALL_PERMISSIONS, BASE, Bank, CUSTOMER_IP, Reply, valid};

use bascule_testkit::api::INTERACTION_ID as SENT_ID;

/// A GET sent by the fixture TPP over its mTLS connection, the customer present, with only
/// the given headers besides (no `Authorization` and no `x-fapi-interaction-id` unless listed).
async fn bare_get(bank: &Bank, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = bank
        .tpp
        .http()
        .get(bank.app.url(&format!("{BASE}{path}")))
        .header("x-fapi-customer-ip-address", CUSTOMER_IP);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let raw = response.bytes().await.unwrap().to_vec();
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        raw,
        body,
    }
}

/// The interaction id sent by every `Bank::get` comes back unchanged.
fn assert_echoed(reply: &Reply) {
    assert_eq!(reply.header("x-fapi-interaction-id"), Some(SENT_ID));
}

/// Without one sent, the server makes one: an RFC 4122 UUID.
fn assert_generated(reply: &Reply) {
    let id = reply
        .header("x-fapi-interaction-id")
        .unwrap_or_else(|| panic!("no x-fapi-interaction-id: {:?}", reply.headers));
    assert_ne!(id, SENT_ID);
    assert!(uuid_shaped(id), "{id} is not a UUID");
}

fn uuid_shaped(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// An unknown account id, and another customer's account (whose existence is not disclosed),
/// on `operation` (the spec's path with `{AccountId}`): 400 `UK.OBIE.Resource.NotFound`.
async fn invalid_account_is_400(bank: &Bank, permissions: &[&str], operation: &str) {
    let c = &bank.customer;
    let (_, token) = bank.consented_token(permissions, &c.all_accounts()).await;
    for id in ["no-such-account", bank.stranger.account.as_str()] {
        let path = operation.replace("{AccountId}", id);
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 400, "{path}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.NotFound");
        assert_echoed(&reply);
        valid("GET", operation, &reply);
    }
}

/// OB-301-TRA-105700
#[tokio::test]
async fn transactions_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &[
            "ReadAccountsBasic",
            "ReadTransactionsBasic",
            "ReadTransactionsDetail",
            "ReadTransactionsCredits",
            "ReadTransactionsDebits",
        ],
        "/accounts/{AccountId}/transactions",
    )
    .await;
}

/// OB-301-PAR-103100
#[tokio::test]
async fn party_of_an_invalid_account_is_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadParty"],
        "/accounts/{AccountId}/party",
    )
    .await;
}

/// OB-301-PAR-103106
#[tokio::test]
async fn parties_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadParty"],
        "/accounts/{AccountId}/parties",
    )
    .await;
}

/// OB-301-PRO-103400
#[tokio::test]
async fn product_of_an_invalid_account_is_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadProducts"],
        "/accounts/{AccountId}/product",
    )
    .await;
}

/// OB-301-OFF-102800
#[tokio::test]
async fn offers_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadOffers"],
        "/accounts/{AccountId}/offers",
    )
    .await;
}

/// A client-credentials token on a PSU resource: 403 (the operation's security is
/// `PSUOAuth2Security`; RW §403 "wrong scope"), never the data.
async fn client_credentials_are_403(path: &str) {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let reply = bank.get(path, &cc).await;
    assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
    assert!(reply.body.get("Data").is_none(), "{path}: {:#}", reply.body);
    assert_echoed(&reply);
    valid("GET", path, &reply);
}

/// OB-301-BAL-101700
#[tokio::test]
async fn a_client_credentials_token_on_balances_is_403() {
    client_credentials_are_403("/balances").await;
}

/// OB-301-BEN-102203
#[tokio::test]
async fn a_client_credentials_token_on_beneficiaries_is_403() {
    client_credentials_are_403("/beneficiaries").await;
}

/// OB-301-SCP-103702
#[tokio::test]
async fn a_client_credentials_token_on_scheduled_payments_is_403() {
    client_credentials_are_403("/scheduled-payments").await;
}

/// OB-301-STO-104101
#[tokio::test]
async fn a_client_credentials_token_on_standing_orders_is_403() {
    client_credentials_are_403("/standing-orders").await;
}

/// OB-301-DIR-102502
#[tokio::test]
async fn a_client_credentials_token_on_direct_debits_is_403() {
    client_credentials_are_403("/direct-debits").await;
}

/// OB-301-PAR-103102
#[tokio::test]
async fn a_client_credentials_token_on_party_is_403() {
    client_credentials_are_403("/party").await;
}

/// OB-301-PRO-102802
#[tokio::test]
async fn a_client_credentials_token_on_products_is_403() {
    client_credentials_are_403("/products").await;
}

/// OB-301-OFF-102802
#[tokio::test]
async fn a_client_credentials_token_on_offers_is_403() {
    client_credentials_are_403("/offers").await;
}

/// OB-301-ACC-100000
///
/// Basic only: the account's basic fields, none of the detail ones (`Account[]`,
/// `Servicer`); the interaction id echoed, or a fresh UUID when none is sent.
#[tokio::test]
async fn a_basic_only_consent_reads_one_account_without_its_identification() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let c = &bank.customer;
        let (_, token) = bank
            .consented_token(&["ReadAccountsBasic"], std::slice::from_ref(&c.everyday))
            .await;
        let path = format!("/accounts/{}", c.everyday);
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        valid("GET", "/accounts/{AccountId}", &reply);
        assert_echoed(&reply);
        let list = reply.body["Data"]["Account"].as_array().unwrap();
        assert_eq!(list.len(), 1);
        let account = &list[0];
        assert_eq!(account["AccountId"], c.everyday.as_str());
        assert_eq!(account["Nickname"], "Everyday");
        assert_eq!(account["AccountSubType"], "CurrentAccount");
        assert!(account.get("Account").is_none(), "{account:#}");
        assert!(account.get("Servicer").is_none(), "{account:#}");

        let bare = bare_get(
            &bank,
            &path,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
        assert_eq!(bare.status, 200, "{:#}", bare.body);
        valid("GET", "/accounts/{AccountId}", &bare);
        assert_generated(&bare);
    }
}

/// OB-301-ACC-100500
///
/// "Incorrect permissions" on `/accounts/{id}` (neither `ReadAccountsBasic` nor
/// `ReadAccountsDetail`): such a consent cannot be made (AISP §Permissions: the POST is 400),
/// so the only token without accounts permissions is a client-credentials one, and a token
/// lacking a permission is 403 (RW §403), not the suite's 401.
#[tokio::test]
async fn a_token_without_accounts_permissions_cannot_read_one_account() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let cc = bank.cc_token().await;
    let refused = bank
        .post(
            "/account-access-consents",
            &cc,
            json!({"Data": {"Permissions": ["ReadBalances"]}, "Risk": {}}),
        )
        .await;
    assert_eq!(refused.status, 400, "{:#}", refused.body);
    assert_eq!(refused.error_code(), "UK.OBIE.Field.Invalid");
    valid("POST", "/account-access-consents", &refused);

    let path = format!("/accounts/{}", c.everyday);
    let reply = bank.get(&path, &cc).await;
    assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
    assert!(reply.body.get("Data").is_none(), "{:#}", reply.body);
    valid("GET", "/accounts/{AccountId}", &reply);
}

/// OB-301-ACC-100600
///
/// The bulk row: a client-credentials token on `/accounts` and `/accounts/{id}`, 403.
#[tokio::test]
async fn a_client_credentials_token_cannot_read_one_account() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    for (path, operation) in [
        (
            format!("/accounts/{}", bank.customer.everyday),
            "/accounts/{AccountId}",
        ),
        ("/accounts".to_owned(), "/accounts"),
    ] {
        let reply = bank.get(&path, &cc).await;
        assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
        assert!(reply.body.get("Data").is_none(), "{:#}", reply.body);
        valid("GET", operation, &reply);
    }
}

/// No `Authorization` header at all: 401 with no body, the interaction id echoed or made.
async fn no_token_is_401(path: &str) {
    let bank = Bank::start(Backend::Sqlite).await;
    let reply = bare_get(&bank, path, &[("x-fapi-interaction-id", SENT_ID)]).await;
    assert_eq!(reply.status, 401, "{path}: {:?}", reply.body);
    // The spec's 401 declares no content, only the interaction id.
    assert!(reply.raw.is_empty(), "{:?}", reply.body);
    assert_echoed(&reply);
    let anonymous = bare_get(&bank, path, &[]).await;
    assert_eq!(anonymous.status, 401, "{path}: {:?}", anonymous.body);
    assert_generated(&anonymous);
}

/// OB-301-ACC-101000
#[tokio::test]
async fn one_account_without_a_token_is_401() {
    no_token_is_401("/accounts/any-account").await;
}

/// OB-301-ACC-101100
#[tokio::test]
async fn accounts_without_a_token_are_401() {
    no_token_is_401("/accounts").await;
}

/// OB-301-BAL-101400
#[tokio::test]
async fn balances_of_an_account_without_read_balances_are_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsBasic"], std::slice::from_ref(&c.everyday))
        .await;
    let reply = bank
        .get(&format!("/accounts/{}/balances", c.everyday), &token)
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    assert!(reply.body.get("Data").is_none(), "{:#}", reply.body);
    valid("GET", "/accounts/{AccountId}/balances", &reply);
}

/// OB-301-BAL-101500
///
/// Bulk balances without `ReadBalances` (a consent cannot lack both accounts permissions, so
/// it has `ReadAccountsDetail` only): the suite expects 401, the spec's answer is 403.
#[tokio::test]
async fn bulk_balances_without_read_balances_are_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsDetail"], std::slice::from_ref(&c.everyday))
        .await;
    let reply = bank.get("/balances", &token).await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    valid("GET", "/balances", &reply);
}

/// OB-301-BEN-102000
///
/// Bulk beneficiaries with neither beneficiaries permission (the row's "without
/// ReadAccountsBasic" cannot be: the consent needs one accounts permission, here Detail): the
/// suite expects 401, the spec's answer is 403.
#[tokio::test]
async fn bulk_beneficiaries_without_a_beneficiaries_permission_are_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsDetail", "ReadBalances"],
            std::slice::from_ref(&c.everyday),
        )
        .await;
    let reply = bank.get("/beneficiaries", &token).await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    valid("GET", "/beneficiaries", &reply);
}

/// OB-301-BEN-102100
#[tokio::test]
async fn beneficiaries_of_an_account_without_a_beneficiaries_permission_are_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsBasic"], std::slice::from_ref(&c.everyday))
        .await;
    let reply = bank
        .get(&format!("/accounts/{}/beneficiaries", c.everyday), &token)
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    assert!(reply.body.get("Data").is_none(), "{:#}", reply.body);
    valid("GET", "/accounts/{AccountId}/beneficiaries", &reply);
}

/// OB-301-ACC-100400
/// OB-301-ACC-100800
///
/// Bulk accounts with Detail: identification present; the interaction id echoed when sent,
/// generated when not.
#[tokio::test]
async fn bulk_accounts_carry_the_interaction_id() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsDetail"], &c.all_accounts())
        .await;
    let reply = bank.get("/accounts", &token).await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    valid("GET", "/accounts", &reply);
    assert_echoed(&reply);
    assert!(
        reply.body["Data"]["Account"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["Account"][0]["Identification"].is_string())
    );
    let bare = bare_get(
        &bank,
        "/accounts",
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await;
    assert_eq!(bare.status, 200, "{:#}", bare.body);
    valid("GET", "/accounts", &bare);
    assert_generated(&bare);
}

/// OB-301-TRA-105500
/// OB-301-TRA-105600
///
/// Transactions, per account and bulk: the interaction id echoed when sent, generated when not.
#[tokio::test]
async fn transactions_carry_the_interaction_id() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&ALL_PERMISSIONS, &c.all_accounts())
        .await;
    for (path, operation) in [
        (
            format!("/accounts/{}/transactions", c.everyday),
            "/accounts/{AccountId}/transactions",
        ),
        ("/transactions".to_owned(), "/transactions"),
    ] {
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 200, "{path}: {:#}", reply.body);
        valid("GET", operation, &reply);
        assert_echoed(&reply);
        assert!(
            !reply.body["Data"]["Transaction"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        let bare = bare_get(
            &bank,
            &path,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
        assert_eq!(bare.status, 200, "{path}: {:#}", bare.body);
        valid("GET", operation, &bare);
        assert_generated(&bare);
    }
}

/// OB-301-PAR-103103
///
/// "Incorrect permissions for Bulk Party": the suite's row calls `/beneficiaries` and expects
/// 401; the party endpoint without `ReadParty`/`ReadPartyPSU` is what the row names, and the
/// spec's answer is 403 (a permission outside the consent, RW §403).
#[tokio::test]
async fn bulk_party_without_a_party_permission_is_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsDetail"], std::slice::from_ref(&c.everyday))
        .await;
    for path in ["/party", "/beneficiaries"] {
        let reply = bank.get(path, &token).await;
        assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
        assert!(reply.body.get("Data").is_none(), "{:#}", reply.body);
        valid("GET", path, &reply);
    }
}
