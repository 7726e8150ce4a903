//! Accounts, balances, party and products: the end-to-end read, field presence by permission,
//! and the 400/403 rules for account ids.

use bascule_store::Backend;
use serde_json::Value;

use crate::support::{ALL_PERMISSIONS, Bank, valid};

fn account<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["Data"]["Account"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["AccountId"] == id)
        .unwrap_or_else(|| panic!("{id} not in {body:#}"))
}

#[tokio::test]
async fn a_tpp_reads_accounts_balances_party_and_products_on_both_backends() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let c = &bank.customer;
        let (_, token) = bank
            .consented_token(&ALL_PERMISSIONS, &c.all_accounts())
            .await;

        let accounts = bank.get("/accounts", &token).await;
        assert_eq!(accounts.status, 200, "{:#}", accounts.body);
        valid("GET", "/accounts", &accounts);
        assert_eq!(
            accounts.body["Data"]["Account"].as_array().unwrap().len(),
            3
        );
        let everyday = account(&accounts.body, c.everyday.as_str());
        assert_eq!(everyday["AccountSubType"], "CurrentAccount");
        assert_eq!(everyday["Nickname"], "Everyday");
        assert_eq!(
            everyday["Account"][0]["SchemeName"],
            "UK.OBIE.SortCodeAccountNumber"
        );
        assert_eq!(everyday["Account"][0]["Name"], "Grace Hopper");
        let pot = account(&accounts.body, c.pot.as_str());
        assert_eq!(pot["AccountSubType"], "Savings");
        assert_eq!(pot["Nickname"], "Holiday");
        assert!(
            accounts.body["Links"]["Self"]
                .as_str()
                .unwrap()
                .starts_with("https://")
        );

        let one = bank.get(&format!("/accounts/{}", c.pot), &token).await;
        assert_eq!(one.status, 200);
        valid("GET", "/accounts/{AccountId}", &one);

        let balances = bank.get("/balances", &token).await;
        assert_eq!(balances.status, 200, "{:#}", balances.body);
        valid("GET", "/balances", &balances);
        let b = bank
            .get(&format!("/accounts/{}/balances", c.everyday), &token)
            .await;
        valid("GET", "/accounts/{AccountId}/balances", &b);
        let list = b.body["Data"]["Balance"].as_array().unwrap();
        let booked = list.iter().find(|x| x["Type"] == "InterimBooked").unwrap();
        assert_eq!(booked["Amount"]["Amount"], "800.00");
        assert_eq!(booked["CreditDebitIndicator"], "Credit");
        let available = list
            .iter()
            .find(|x| x["Type"] == "InterimAvailable")
            .unwrap();
        assert_eq!(available["Amount"]["Amount"], "1300.00");
        assert_eq!(available["CreditLine"][0]["Type"], "Pre-Agreed");
        assert_eq!(available["CreditLine"][0]["Amount"]["Amount"], "500.00");

        let party = bank.get("/party", &token).await;
        assert_eq!(party.status, 200, "{:#}", party.body);
        valid("GET", "/party", &party);
        assert_eq!(party.body["Data"]["Party"]["PartyId"], c.id.as_str());
        let p = bank
            .get(&format!("/accounts/{}/party", c.everyday), &token)
            .await;
        valid("GET", "/accounts/{AccountId}/party", &p);
        assert_eq!(p.body["Data"]["Party"]["AccountRole"], "UK.OBIE.Principal");
        let ps = bank
            .get(&format!("/accounts/{}/parties", c.pot), &token)
            .await;
        valid("GET", "/accounts/{AccountId}/parties", &ps);
        assert_eq!(ps.body["Data"]["Party"].as_array().unwrap().len(), 1);

        let products = bank.get("/products", &token).await;
        assert_eq!(products.status, 200, "{:#}", products.body);
        valid("GET", "/products", &products);
        let product = bank
            .get(&format!("/accounts/{}/product", c.pot), &token)
            .await;
        valid("GET", "/accounts/{AccountId}/product", &product);
        let pot_product = &product.body["Data"]["Product"][0];
        assert_eq!(pot_product["ProductName"], "Easy Saver");
        let band =
            &pot_product["OtherProductType"]["CreditInterest"]["TierBandSet"][0]["TierBand"][0];
        // The pot's own 4% wins over its product's 3%.
        assert_eq!(band["BankInterestRate"], "4");
        assert_eq!(band["AER"], "4.07");
    }
}

#[tokio::test]
async fn identification_needs_read_accounts_detail() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsBasic"], std::slice::from_ref(&c.everyday))
        .await;
    let accounts = bank.get("/accounts", &token).await;
    valid("GET", "/accounts", &accounts);
    let everyday = account(&accounts.body, c.everyday.as_str());
    assert!(everyday.get("Account").is_none(), "{everyday:#}");
    assert_eq!(everyday["Nickname"], "Everyday");
}

#[tokio::test]
async fn only_selected_accounts_are_visible() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(
            &["ReadAccountsDetail", "ReadBalances"],
            std::slice::from_ref(&c.everyday),
        )
        .await;
    let accounts = bank.get("/accounts", &token).await;
    assert_eq!(
        accounts.body["Data"]["Account"].as_array().unwrap().len(),
        1
    );

    // The customer's own account not selected: 403.
    for (path, operation) in [
        (format!("/accounts/{}", c.bills), "/accounts/{AccountId}"),
        (
            format!("/accounts/{}/balances", c.pot),
            "/accounts/{AccountId}/balances",
        ),
    ] {
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
        valid("GET", operation, &reply);
    }
    // Unknown ids, and another customer's account (its existence is not disclosed): 400.
    for id in ["no-such-account", bank.stranger.account.as_str()] {
        let reply = bank.get(&format!("/accounts/{id}"), &token).await;
        assert_eq!(reply.status, 400, "{id}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.NotFound");
        valid("GET", "/accounts/{AccountId}", &reply);
    }
}

#[tokio::test]
async fn a_missing_permission_is_403() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsBasic"], std::slice::from_ref(&c.everyday))
        .await;
    for (path, operation) in [
        ("/balances".to_owned(), "/balances"),
        ("/party".to_owned(), "/party"),
        ("/products".to_owned(), "/products"),
        (
            format!("/accounts/{}/party", c.everyday),
            "/accounts/{AccountId}/party",
        ),
    ] {
        let reply = bank.get(&path, &token).await;
        assert_eq!(reply.status, 403, "{path}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
        valid("GET", operation, &reply);
    }
}

#[tokio::test]
async fn a_closed_pot_stays_listed_as_deleted() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let (_, token) = bank
        .consented_token(&["ReadAccountsBasic"], &c.all_accounts())
        .await;
    bank.app
        .ledger
        .move_between_pot(
            &c.everyday,
            &c.pot,
            bascule_domain::Pence(20_000),
            false,
            None,
        )
        .await
        .unwrap();
    bank.app.ledger.close_account(&c.pot).await.unwrap();
    let accounts = bank.get("/accounts", &token).await;
    assert_eq!(accounts.status, 200, "{:#}", accounts.body);
    valid("GET", "/accounts", &accounts);
    let pot = account(&accounts.body, c.pot.as_str());
    assert_eq!(pot["Status"], "Deleted");
    assert!(pot["StatusUpdateDateTime"].is_string());
}

#[tokio::test]
async fn a_client_credentials_token_cannot_read_resources() {
    let bank = Bank::start(Backend::Sqlite).await;
    let cc = bank.cc_token().await;
    let reply = bank.get("/accounts", &cc).await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    valid("GET", "/accounts", &reply);
}
