//! The Open Banking conformance suite's AIS rows as tests: each carries its rows' ids
//! (`/// OB-301-...`) so `conformance/cases.txt` maps to it (rows proven by a deeper test
//! elsewhere carry their id there). Where the suite's expected status differs from the spec's,
//! the test asserts the spec's (RW §403: a token of the wrong kind, a permission or an account
//! outside the consent → 403) and CONFORMANCE.md records the decision.

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

/// One "data returned with permission X, status and headers" or "interaction id played back"
/// row: its ids, the consent's permissions, the call, the spec operation its reply is
/// validated against, and the `Data` array that must not be empty (`None` where the data is
/// a single object).
struct ReadRow {
    ids: &'static [&'static str],
    permissions: &'static [&'static str],
    path: String,
    operation: &'static str,
    list: Option<&'static str>,
}

/// OB-301-ACC-100200
/// OB-301-ACC-100300
/// OB-301-ACC-100700
/// OB-313-ACC-000100
/// OB-301-BAL-101200
/// OB-301-BAL-101300
/// OB-301-BAL-101702
/// OB-301-BAL-101703
/// OB-301-BEN-101800
/// OB-301-BEN-101900
/// OB-301-BEN-102204
/// OB-301-BEN-102205
/// OB-301-DIR-102300
/// OB-301-DIR-102400
/// OB-301-DIR-102503
/// OB-301-DIR-102504
/// OB-301-OFF-102600
/// OB-301-OFF-102700
/// OB-301-OFF-102803
/// OB-301-OFF-102804
/// OB-301-PAR-102900
/// OB-301-PAR-102901
/// OB-301-PAR-102902
/// OB-301-PAR-103000
/// OB-301-PAR-103104
/// OB-301-PAR-103105
/// OB-301-PAR-103108
/// OB-301-PRO-103200
/// OB-301-PRO-103300
/// OB-301-PRO-103402
/// OB-301-PRO-103403
/// OB-301-SCP-103500
/// OB-301-SCP-103600
/// OB-301-SCP-103703
/// OB-301-SCP-103704
/// OB-301-STO-103800
/// OB-301-STO-103900
/// OB-301-STO-103901
/// OB-301-STO-104102
/// OB-301-STO-104103
///
/// Each row's call with a consent holding only the row's permissions (none sends
/// `x-fapi-financial-id`, OB-313): 200, the reply valid against its own operation's schema,
/// the data present, the interaction id echoed when sent and a fresh UUID when not. Bulk
/// `/party` is the PSU's own party, `ReadPartyPSU` (AISP §Permissions), where the suite's
/// PAR-103105 asks with `ReadParty` (CONFORMANCE.md).
#[tokio::test]
async fn each_resource_returns_its_data_with_the_interaction_id() {
    let bank = Bank::start(Backend::Sqlite).await;
    crate::arrangements::arrangements(&bank).await;
    let c = &bank.customer;
    let e = c.everyday.as_str();
    let rows = [
        ReadRow {
            ids: &["OB-301-ACC-100200", "OB-301-ACC-100700"],
            permissions: &["ReadAccountsDetail"],
            path: format!("/accounts/{e}"),
            operation: "/accounts/{AccountId}",
            list: Some("Account"),
        },
        ReadRow {
            ids: &["OB-301-ACC-100300", "OB-313-ACC-000100"],
            permissions: &["ReadAccountsBasic"],
            path: "/accounts".into(),
            operation: "/accounts",
            list: Some("Account"),
        },
        ReadRow {
            ids: &["OB-301-BAL-101200", "OB-301-BAL-101702"],
            permissions: &["ReadAccountsBasic", "ReadBalances"],
            path: format!("/accounts/{e}/balances"),
            operation: "/accounts/{AccountId}/balances",
            list: Some("Balance"),
        },
        ReadRow {
            ids: &["OB-301-BAL-101300", "OB-301-BAL-101703"],
            permissions: &["ReadAccountsBasic", "ReadBalances"],
            path: "/balances".into(),
            operation: "/balances",
            list: Some("Balance"),
        },
        ReadRow {
            ids: &["OB-301-BEN-101800", "OB-301-BEN-102204"],
            permissions: &["ReadAccountsBasic", "ReadBeneficiariesBasic"],
            path: format!("/accounts/{e}/beneficiaries"),
            operation: "/accounts/{AccountId}/beneficiaries",
            list: Some("Beneficiary"),
        },
        ReadRow {
            ids: &["OB-301-BEN-101900", "OB-301-BEN-102205"],
            permissions: &["ReadAccountsBasic", "ReadBeneficiariesBasic"],
            path: "/beneficiaries".into(),
            operation: "/beneficiaries",
            list: Some("Beneficiary"),
        },
        ReadRow {
            ids: &["OB-301-DIR-102300", "OB-301-DIR-102503"],
            permissions: &["ReadAccountsBasic", "ReadDirectDebits"],
            path: format!("/accounts/{e}/direct-debits"),
            operation: "/accounts/{AccountId}/direct-debits",
            list: Some("DirectDebit"),
        },
        ReadRow {
            ids: &["OB-301-DIR-102400", "OB-301-DIR-102504"],
            permissions: &["ReadAccountsBasic", "ReadDirectDebits"],
            path: "/direct-debits".into(),
            operation: "/direct-debits",
            list: Some("DirectDebit"),
        },
        ReadRow {
            ids: &["OB-301-OFF-102600", "OB-301-OFF-102803"],
            permissions: &["ReadAccountsBasic", "ReadOffers"],
            path: format!("/accounts/{e}/offers"),
            operation: "/accounts/{AccountId}/offers",
            list: Some("Offer"),
        },
        ReadRow {
            ids: &["OB-301-OFF-102700", "OB-301-OFF-102804"],
            permissions: &["ReadAccountsBasic", "ReadOffers"],
            path: "/offers".into(),
            operation: "/offers",
            list: Some("Offer"),
        },
        ReadRow {
            ids: &[
                "OB-301-PAR-102900",
                "OB-301-PAR-103000",
                "OB-301-PAR-103104",
            ],
            permissions: &["ReadAccountsBasic", "ReadParty"],
            path: format!("/accounts/{e}/party"),
            operation: "/accounts/{AccountId}/party",
            list: None,
        },
        ReadRow {
            ids: &["OB-301-PAR-102901", "OB-301-PAR-103105"],
            permissions: &["ReadAccountsBasic", "ReadPartyPSU"],
            path: "/party".into(),
            operation: "/party",
            list: None,
        },
        ReadRow {
            ids: &["OB-301-PAR-102902", "OB-301-PAR-103108"],
            permissions: &["ReadAccountsBasic", "ReadParty"],
            path: format!("/accounts/{e}/parties"),
            operation: "/accounts/{AccountId}/parties",
            list: Some("Party"),
        },
        ReadRow {
            ids: &["OB-301-PRO-103200", "OB-301-PRO-103402"],
            permissions: &["ReadAccountsBasic", "ReadProducts"],
            // The pot has a product of its own (Easy Saver); the current accounts have none.
            path: format!("/accounts/{}/product", c.pot),
            operation: "/accounts/{AccountId}/product",
            list: Some("Product"),
        },
        ReadRow {
            ids: &["OB-301-PRO-103300", "OB-301-PRO-103403"],
            permissions: &["ReadAccountsBasic", "ReadProducts"],
            path: "/products".into(),
            operation: "/products",
            list: Some("Product"),
        },
        ReadRow {
            ids: &["OB-301-SCP-103500", "OB-301-SCP-103703"],
            permissions: &["ReadAccountsBasic", "ReadScheduledPaymentsDetail"],
            path: format!("/accounts/{e}/scheduled-payments"),
            operation: "/accounts/{AccountId}/scheduled-payments",
            list: Some("ScheduledPayment"),
        },
        ReadRow {
            ids: &["OB-301-SCP-103600", "OB-301-SCP-103704"],
            permissions: &["ReadAccountsBasic", "ReadScheduledPaymentsDetail"],
            path: "/scheduled-payments".into(),
            operation: "/scheduled-payments",
            list: Some("ScheduledPayment"),
        },
        ReadRow {
            ids: &["OB-301-STO-103800", "OB-301-STO-104102"],
            permissions: &["ReadAccountsBasic", "ReadStandingOrdersDetail"],
            path: format!("/accounts/{e}/standing-orders"),
            operation: "/accounts/{AccountId}/standing-orders",
            list: Some("StandingOrder"),
        },
        ReadRow {
            ids: &[
                "OB-301-STO-103900",
                "OB-301-STO-103901",
                "OB-301-STO-104103",
            ],
            permissions: &["ReadAccountsBasic", "ReadStandingOrdersDetail"],
            path: "/standing-orders".into(),
            operation: "/standing-orders",
            list: Some("StandingOrder"),
        },
    ];
    for row in &rows {
        let (_, token) = bank
            .consented_token(row.permissions, &c.all_accounts())
            .await;
        let ids = row.ids;
        let reply = bank.get(&row.path, &token).await;
        assert_eq!(reply.status, 200, "{ids:?} {}: {:#}", row.path, reply.body);
        valid("GET", row.operation, &reply);
        assert_echoed(&reply);
        match row.list {
            Some(key) => assert!(
                !reply.body["Data"][key]
                    .as_array()
                    .unwrap_or_else(|| panic!("{ids:?}: no Data.{key} in {:#}", reply.body))
                    .is_empty(),
                "{ids:?}: {:#}",
                reply.body
            ),
            None => assert!(reply.body["Data"].is_object(), "{ids:?}"),
        }
        let bare = bare_get(
            &bank,
            &row.path,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await;
        assert_eq!(bare.status, 200, "{ids:?}: {:#}", bare.body);
        valid("GET", row.operation, &bare);
        assert_generated(&bare);
    }
    // PAR-103105 as the suite sends it: `/party` with `ReadParty` but not `ReadPartyPSU`.
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsBasic", "ReadParty"],
            std::slice::from_ref(&c.everyday),
        )
        .await;
    let reply = bank.get("/party", &token).await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    valid("GET", "/party", &reply);
    assert_echoed(&reply);
}

/// OB-301-ACC-001000
/// OB-301-ACC-101101
/// OB-301-BAL-101701
/// OB-301-BEN-102201
/// OB-301-DIR-102501
/// OB-301-OFF-102801
/// OB-301-PAR-103101
/// OB-301-PAR-103107
/// OB-301-PRO-103401
/// OB-301-SCP-103701
/// OB-301-STO-104100
///
/// A path the API does not have (RW §404: "endpoint not implemented or not in the spec"):
/// 404, with the interaction id, whatever the consent holds.
#[tokio::test]
async fn paths_outside_the_spec_are_404() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&ALL_PERMISSIONS, std::slice::from_ref(&c.everyday))
        .await;
    let e = c.everyday.as_str();
    for (id, path) in [
        ("OB-301-ACC-001000", "/foobar".to_owned()),
        ("OB-301-ACC-101101", format!("/accounts/{e}/foobar")),
        (
            "OB-301-BAL-101701",
            format!("/accounts/{e}/balances/foobar"),
        ),
        (
            "OB-301-BEN-102201",
            format!("/accounts/{e}/beneficiaries/foobar"),
        ),
        (
            "OB-301-DIR-102501",
            format!("/accounts/{e}/direct-debits/foobar"),
        ),
        ("OB-301-OFF-102801", format!("/accounts/{e}/offers/foobar")),
        ("OB-301-PAR-103101", format!("/accounts/{e}/party/foobar")),
        ("OB-301-PAR-103107", format!("/accounts/{e}/parties/foobar")),
        ("OB-301-PRO-103401", format!("/accounts/{e}/product/foobar")),
        (
            "OB-301-SCP-103701",
            format!("/accounts/{e}/scheduled-payments/foobar"),
        ),
        (
            "OB-301-STO-104100",
            format!("/accounts/{e}/standing-orders/foobar"),
        ),
    ] {
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 404, "{id} {path}: {:?}", reply.body);
        assert_echoed(&reply);
    }
}

/// OB-301-BAL-101600
#[tokio::test]
async fn balances_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadBalances"],
        "/accounts/{AccountId}/balances",
    )
    .await;
}

/// OB-301-BEN-102200
#[tokio::test]
async fn beneficiaries_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadBeneficiariesBasic"],
        "/accounts/{AccountId}/beneficiaries",
    )
    .await;
}

/// OB-301-DIR-102500
#[tokio::test]
async fn direct_debits_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadDirectDebits"],
        "/accounts/{AccountId}/direct-debits",
    )
    .await;
}

/// OB-301-SCP-103700
#[tokio::test]
async fn scheduled_payments_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadScheduledPaymentsDetail"],
        "/accounts/{AccountId}/scheduled-payments",
    )
    .await;
}

/// OB-301-STO-104000
#[tokio::test]
async fn standing_orders_of_an_invalid_account_are_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    invalid_account_is_400(
        &bank,
        &["ReadAccountsBasic", "ReadStandingOrdersDetail"],
        "/accounts/{AccountId}/standing-orders",
    )
    .await;
}

/// OB-301-TRA-105300
/// OB-301-TRA-105400
///
/// "Incorrect permissions" for transactions (no transactions permission; the consent must
/// hold an accounts one): the suite expects 401, the spec's answer is 403 (a permission
/// outside the consent, RW §403), per account and bulk.
#[tokio::test]
async fn transactions_without_a_transactions_permission_are_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsDetail", "ReadBalances"],
            std::slice::from_ref(&c.everyday),
        )
        .await;
    for (path, operation) in [
        (
            format!("/accounts/{}/transactions", c.everyday),
            "/accounts/{AccountId}/transactions",
        ),
        ("/transactions".to_owned(), "/transactions"),
    ] {
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
        assert!(reply.body.get("Data").is_none(), "{:#}", reply.body);
        valid("GET", operation, &reply);
        assert_echoed(&reply);
    }
}

/// OB-301-TRA-105110
/// OB-301-TRA-105120
///
/// Booking-time filters without a zone, with and without milliseconds: 200 and the window
/// applied (the salary, booked 2026-01-05 09:00 at the fixture's start, is inside).
#[tokio::test]
async fn booking_time_filters_accept_both_iso_8601_forms() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&ALL_PERMISSIONS, std::slice::from_ref(&c.everyday))
        .await;
    let path = format!("/accounts/{}/transactions", c.everyday);
    for (id, query, expect_rows) in [
        (
            "OB-301-TRA-105110",
            "fromBookingDateTime=2020-04-23T15:47:00&toBookingDateTime=2020-04-23T15:48:00",
            false,
        ),
        (
            "OB-301-TRA-105120",
            "fromBookingDateTime=2020-04-23T15:47:00.999&toBookingDateTime=2020-04-23T15:48:00.999",
            false,
        ),
        (
            "OB-301-TRA-105120",
            "fromBookingDateTime=2026-01-01T00:00:00.999&toBookingDateTime=2026-12-31T23:59:59.999",
            true,
        ),
    ] {
        let reply = bank.get(&format!("{path}?{query}"), &token).await;
        assert_eq!(reply.status, 200, "{id} {query}: {:#}", reply.body);
        valid("GET", "/accounts/{AccountId}/transactions", &reply);
        assert_echoed(&reply);
        let rows = reply.body["Data"]["Transaction"].as_array().unwrap();
        assert_eq!(!rows.is_empty(), expect_rows, "{id} {query}: {rows:#?}");
    }
}

/// OB-301-STA-105900
/// OB-301-STA-106000
/// OB-301-STA-106100
/// OB-301-STA-106200
/// OB-301-STA-106300
///
/// `fromStatementDateTime` in each ISO 8601 variant the suite sends (extended and basic
/// forms, fractions, `Z` and `+01`, a zone ignored as RW §Date Formats says for query
/// strings): 200, valid, the interaction id echoed.
#[tokio::test]
async fn statements_accept_each_iso_8601_variant_of_from_statement_date_time() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsBasic", "ReadStatementsBasic"],
            std::slice::from_ref(&c.everyday),
        )
        .await;
    for (id, from) in [
        ("OB-301-STA-105900", "2016-01-01T10:40:00"),
        ("OB-301-STA-106000", "20160101T104012.345Z"),
        ("OB-301-STA-106100", "2016-01-01T10:40:12.34567Z"),
        ("OB-301-STA-106200", "2016-01-01T10:40:12.34567%2B01"),
        ("OB-301-STA-106300", "20160101T104012.567%2B01"),
    ] {
        let reply = bank
            .get(&format!("/statements?fromStatementDateTime={from}"), &token)
            .await;
        assert_eq!(reply.status, 200, "{id} {from}: {:#}", reply.body);
        valid("GET", "/statements", &reply);
        assert_echoed(&reply);
        assert!(reply.body["Data"]["Statement"].is_array(), "{id}");
    }
}

/// OB-301-TRA-105000
/// OB-301-TRA-105100
///
/// One account's transactions: with `ReadTransactionsBasic` (no Detail) the lines carry no
/// detail fields; with `ReadTransactionsDetail` the same lines carry them. Both 200, valid,
/// with the interaction id.
#[tokio::test]
async fn one_accounts_transactions_show_detail_only_with_read_transactions_detail() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let basic_permissions = [
        "ReadAccountsBasic",
        "ReadTransactionsBasic",
        "ReadTransactionsDebits",
        "ReadTransactionsCredits",
    ];
    let (_, basic) = bank
        .consented_token(&basic_permissions, std::slice::from_ref(&c.everyday))
        .await;
    let mut detail_permissions = basic_permissions.to_vec();
    detail_permissions.push("ReadTransactionsDetail");
    let (_, detail) = bank
        .consented_token(&detail_permissions, std::slice::from_ref(&c.everyday))
        .await;
    let path = format!("/accounts/{}/transactions", c.everyday);
    let operation = "/accounts/{AccountId}/transactions";
    let lines = |reply: &Reply| {
        reply.body["Data"]["Transaction"]
            .as_array()
            .unwrap()
            .clone()
    };

    let b = bank.get(&path, &basic).await;
    assert_eq!(b.status, 200, "{:#}", b.body);
    valid("GET", operation, &b);
    assert_echoed(&b);
    assert!(!lines(&b).is_empty());
    for t in lines(&b) {
        assert!(t.get("TransactionInformation").is_none(), "{t}");
        assert!(t.get("Balance").is_none(), "{t}");
        assert!(t["Amount"]["Amount"].is_string(), "{t}");
    }
    let d = bank.get(&path, &detail).await;
    assert_eq!(d.status, 200, "{:#}", d.body);
    valid("GET", operation, &d);
    assert_echoed(&d);
    assert_eq!(lines(&d).len(), lines(&b).len());
    for t in lines(&d) {
        assert!(t["TransactionInformation"].is_string(), "{t}");
        assert!(t["Balance"]["Amount"]["Amount"].is_string(), "{t}");
    }
}

/// A booking-time or statement-time filter with characters outside ASCII (what schemathesis
/// sent, `«\u{622a2}Q}`, eight bytes in four characters): 400 `UK.OBIE.Field.InvalidDate`,
/// never a 500.
#[tokio::test]
async fn query_dates_outside_ascii_are_400_not_a_server_error() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&ALL_PERMISSIONS, std::slice::from_ref(&c.everyday))
        .await;
    for (path, operation) in [
        (
            "/transactions?toBookingDateTime=%C2%AB%F1%A2%8A%A2Q%7D".to_owned(),
            "/transactions",
        ),
        (
            format!(
                "/accounts/{}/transactions?fromBookingDateTime=20160101T1%C3%A90",
                c.everyday
            ),
            "/accounts/{AccountId}/transactions",
        ),
        (
            "/statements?fromStatementDateTime=%C2%AB%F1%A2%8A%A2Q%7D".to_owned(),
            "/statements",
        ),
    ] {
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 400, "{path}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Field.InvalidDate", "{path}");
        valid("GET", operation, &reply);
    }
}
