//! Transactions: the pending → booked id, keyset pagination (rows sharing a timestamp, both
//! directions, across accounts), the consent window, Credits/Debits, Basic vs Detail, pots'
//! moves and interest, a closed pot's history, statement transactions. Every 200 body is
//! validated against the spec.

use std::collections::HashSet;

use bascule_core_banking::Creditor;
use bascule_domain::{AccountId, Counterparty, Merchant, Pence, ProprietaryCode};
use bascule_store::Backend;
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use crate::support::{ALL_PERMISSIONS, BASE, Bank, Reply, valid};

const ACCOUNT_TXNS: &str = "/accounts/{AccountId}/transactions";

fn txns(reply: &Reply) -> &Vec<Value> {
    reply.body["Data"]["Transaction"]
        .as_array()
        .unwrap_or_else(|| panic!("no transactions in {:#}", reply.body))
}

fn find<'a>(reply: &'a Reply, id: &str) -> &'a Value {
    txns(reply)
        .iter()
        .find(|t| t["TransactionId"] == id)
        .unwrap_or_else(|| panic!("{id} not in {:#}", reply.body))
}

fn ids(reply: &Reply) -> Vec<String> {
    txns(reply)
        .iter()
        .map(|t| t["TransactionId"].as_str().unwrap().to_owned())
        .collect()
}

/// A link as a path relative to the AIS base, for `Bank::get`.
fn relative(bank: &Bank, link: &Value) -> String {
    let link = link.as_str().unwrap();
    let prefix = bank.app.url(BASE);
    link.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{link} is not under {prefix}"))
        .to_owned()
}

fn payer(name: &str) -> Counterparty {
    Counterparty {
        name: name.into(),
        sort_code: None,
        account_number: None,
    }
}

/// A consent for `permissions` on `accounts` with extra consent `data` (the transaction
/// window): the access token.
async fn token_with(
    bank: &Bank,
    permissions: &[&str],
    data: Value,
    accounts: &[AccountId],
) -> String {
    let consent = bank.create_consent(permissions, data).await;
    bank.authorise(consent["Data"]["ConsentId"].as_str().unwrap(), accounts)
        .await
}

#[tokio::test]
async fn a_pending_card_payment_keeps_its_transaction_id_when_it_is_booked() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let everyday = bank.customer.everyday.clone();
        let (_, token) = bank
            .consented_token(&ALL_PERMISSIONS, std::slice::from_ref(&everyday))
            .await;
        bank.app.clock.advance(Duration::minutes(5));
        let id = bank
            .app
            .ledger
            .authorise_card(
                &everyday,
                Pence(1_250),
                Merchant {
                    name: "Pret A Manger".into(),
                    category_code: "5814".into(),
                },
            )
            .await
            .unwrap();
        let path = format!("/accounts/{everyday}/transactions");

        let pending = bank.get(&path, &token).await;
        assert_eq!(pending.status, 200, "{:#}", pending.body);
        valid("GET", ACCOUNT_TXNS, &pending);
        let t = find(&pending, id.as_str());
        assert_eq!(t["Status"], "Pending");
        assert_eq!(t["TransactionMutability"], "Mutable");
        assert_eq!(t["CreditDebitIndicator"], "Debit");
        assert_eq!(t["Amount"], json!({"Amount": "12.50", "Currency": "GBP"}));
        assert_eq!(t["MerchantDetails"]["MerchantCategoryCode"], "5814");
        assert!(
            t.get("Balance").is_none(),
            "a pending line has no running balance"
        );

        bank.app.clock.advance(Duration::hours(20));
        bank.app
            .ledger
            .settle_card(&id, Pence(1_300))
            .await
            .unwrap();
        let booked = bank.get(&path, &token).await;
        assert_eq!(booked.status, 200);
        valid("GET", ACCOUNT_TXNS, &booked);
        let t = find(&booked, id.as_str());
        assert_eq!(t["Status"], "Booked");
        assert_eq!(t["TransactionMutability"], "Immutable");
        assert_eq!(t["Amount"]["Amount"], "13.00");
        assert_eq!(t["ProprietaryBankTransactionCode"]["Code"], "CARD_PURCHASE");
        // £1,000 in, £200 to the pot, £13 out.
        assert_eq!(
            t["Balance"],
            json!({"CreditDebitIndicator": "Credit", "Type": "InterimBooked",
                   "Amount": {"Amount": "787.00", "Currency": "GBP"}})
        );
        assert!(
            t["BookingDateTime"].as_str().unwrap().ends_with("+00:00"),
            "date-times carry an offset: {t}"
        );
        // Exactly one line for the payment, before and after.
        assert_eq!(txns(&pending).len(), txns(&booked).len());
    }
}

/// 1,000 payments into Bills, a second apart except 50 that share one instant (they straddle
/// the boundary between the first two pages of 100).
async fn thousand_transactions(bank: &Bank) -> HashSet<String> {
    let mut all = HashSet::new();
    for i in 0..1000 {
        if !(75..125).contains(&i) {
            bank.app.clock.advance(Duration::seconds(1));
        }
        let posted = bank
            .app
            .ledger
            .receive_payment(
                &bank.customer.bills,
                Pence(100 + i),
                payer("Pocket money"),
                None,
                ProprietaryCode::FasterPayment,
                None,
            )
            .await
            .unwrap();
        all.insert(posted.transactions[0].1.to_string());
    }
    all
}

/// Follows `Next` (or `Prev`) from `start` to the end: every id seen, in order, checking each
/// page against the spec and that `Next` never equals `Self`.
async fn walk(bank: &Bank, token: &str, start: &str, spec_path: &str, link: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let mut path = start.to_owned();
    let mut pages = 0;
    loop {
        let page = bank.get(&path, token).await;
        assert_eq!(page.status, 200, "{path}: {:#}", page.body);
        valid("GET", spec_path, &page);
        let links = &page.body["Links"];
        assert_ne!(links["Next"], links["Self"], "Next must never be Self");
        assert_ne!(links["Prev"], links["Self"], "Prev must never be Self");
        let mut page_ids = ids(&page);
        assert!(page_ids.len() <= 100, "at most a page's worth");
        if link == "Prev" {
            page_ids.extend(seen);
            seen = page_ids;
        } else {
            seen.extend(page_ids);
        }
        pages += 1;
        assert!(pages <= 50, "runaway pagination");
        match links.get(link) {
            Some(next) => path = relative(bank, next),
            None => break,
        }
    }
    seen
}

fn exactly_once(seen: &[String], expected: &HashSet<String>, what: &str) {
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "{what}: a transaction was repeated"
    );
    assert_eq!(
        seen.len(),
        expected.len(),
        "{what}: a transaction was dropped"
    );
    assert!(
        seen.iter().all(|id| expected.contains(id)),
        "{what}: a stranger"
    );
}

#[tokio::test]
async fn pages_return_each_of_a_thousand_transactions_exactly_once_both_ways() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let bills = bank.customer.bills.clone();
        let expected = thousand_transactions(&bank).await;
        let (_, token) = bank
            .consented_token(&ALL_PERMISSIONS, &bank.customer.all_accounts())
            .await;
        let path = format!("/accounts/{bills}/transactions");

        let first = bank.get(&path, &token).await;
        valid("GET", ACCOUNT_TXNS, &first);
        assert_eq!(first.body["Meta"]["TotalPages"], 10);
        assert_eq!(txns(&first).len(), 100);
        let links = &first.body["Links"];
        assert_eq!(links["Self"], bank.app.url(&format!("{BASE}{path}")));
        assert_eq!(links["First"], links["Self"]);
        assert!(links.get("Prev").is_none(), "no page before the first");
        for l in ["Next", "Last"] {
            assert!(
                links[l].as_str().unwrap().starts_with("https://"),
                "{l} absolute"
            );
        }

        let forwards = walk(&bank, &token, &path, ACCOUNT_TXNS, "Next").await;
        exactly_once(&forwards, &expected, "Next");
        let last = relative(&bank, &first.body["Links"]["Last"]);
        let backwards = walk(&bank, &token, &last, ACCOUNT_TXNS, "Prev").await;
        exactly_once(&backwards, &expected, "Prev");
        // Both ways list the same order: booking time, then id.
        assert_eq!(forwards, backwards);

        // The last page has no Next; filters travel with the links.
        let filtered = format!("{path}?fromBookingDateTime=2026-01-05T09:00:00");
        let page = bank.get(&filtered, &token).await;
        let next = page.body["Links"]["Next"].as_str().unwrap();
        assert!(
            next.contains("fromBookingDateTime=2026-01-05T09:00:00"),
            "{next}"
        );

        // Bulk: every consented account, account by account, each row once.
        let mut everything = expected.clone();
        for account in [&bank.customer.everyday, &bank.customer.pot] {
            let r = bank
                .get(&format!("/accounts/{account}/transactions"), &token)
                .await;
            valid("GET", ACCOUNT_TXNS, &r);
            everything.extend(ids(&r));
        }
        let bulk = walk(&bank, &token, "/transactions", "/transactions", "Next").await;
        exactly_once(&bulk, &everything, "bulk Next");
        let bulk_first = bank.get("/transactions", &token).await;
        assert_eq!(bulk_first.body["Meta"]["TotalPages"], 11);
        let last = relative(&bank, &bulk_first.body["Links"]["Last"]);
        let bulk_back = walk(&bank, &token, &last, "/transactions", "Prev").await;
        assert_eq!(bulk, bulk_back);

        let forged = bank.get(&format!("{path}?page=not-a-token"), &token).await;
        assert_eq!(forged.status, 400);
        assert_eq!(forged.error_code(), "UK.OBIE.Field.Invalid");
        valid("GET", ACCOUNT_TXNS, &forged);
    }
}

#[tokio::test]
async fn the_consent_window_clamps_every_query() {
    let bank = Bank::start(Backend::Sqlite).await;
    let bills = bank.customer.bills.clone();
    // One payment at 12:00 on each of 2026-01-06 .. 2026-01-10.
    let mut by_day = Vec::new();
    for day in 6..=10 {
        bank.app
            .clock
            .set(datetime!(2026-01-01 12:00 UTC) + Duration::days(day - 1));
        let posted = bank
            .app
            .ledger
            .receive_payment(
                &bills,
                Pence(1_000),
                payer("Gran"),
                None,
                ProprietaryCode::FasterPayment,
                None,
            )
            .await
            .unwrap();
        by_day.push(posted.transactions[0].1.to_string());
    }
    let token = token_with(
        &bank,
        &[
            "ReadAccountsBasic",
            "ReadTransactionsBasic",
            "ReadTransactionsCredits",
        ],
        json!({"TransactionFromDateTime": "2026-01-07T00:00:00+00:00",
               "TransactionToDateTime": "2026-01-09T23:59:59+00:00"}),
        std::slice::from_ref(&bills),
    )
    .await;
    let path = format!("/accounts/{bills}/transactions");

    let all = bank.get(&path, &token).await;
    valid("GET", ACCOUNT_TXNS, &all);
    assert_eq!(ids(&all), by_day[1..4].to_vec());
    assert_eq!(
        all.body["Meta"]["FirstAvailableDateTime"],
        "2026-01-07T00:00:00+00:00"
    );
    assert_eq!(
        all.body["Meta"]["LastAvailableDateTime"],
        "2026-01-09T23:59:59+00:00"
    );

    // Asking for more than the consent allows gets only what it allows.
    let wider = bank
        .get(
            &format!("{path}?fromBookingDateTime=2025-01-01T00:00:00&toBookingDateTime=2027-01-01"),
            &token,
        )
        .await;
    assert_eq!(ids(&wider), by_day[1..4].to_vec());
    // Asking for less gets less; a timezone sent is ignored (RW §Date Formats).
    let narrower = bank
        .get(
            &format!("{path}?fromBookingDateTime=2026-01-08T00:00:00%2B05:00"),
            &token,
        )
        .await;
    valid("GET", ACCOUNT_TXNS, &narrower);
    assert_eq!(ids(&narrower), by_day[2..4].to_vec());
    let bad = bank
        .get(&format!("{path}?toBookingDateTime=last-tuesday"), &token)
        .await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.error_code(), "UK.OBIE.Field.InvalidDate");
    valid("GET", ACCOUNT_TXNS, &bad);
}

#[tokio::test]
async fn credits_only_and_debits_only_consents_see_one_direction() {
    let bank = Bank::start(Backend::Sqlite).await;
    let everyday = bank.customer.everyday.clone();
    let accounts = std::slice::from_ref(&everyday);
    let credits = token_with(
        &bank,
        &[
            "ReadAccountsBasic",
            "ReadTransactionsBasic",
            "ReadTransactionsCredits",
        ],
        json!({}),
        accounts,
    )
    .await;
    let debits = token_with(
        &bank,
        &[
            "ReadAccountsBasic",
            "ReadTransactionsDetail",
            "ReadTransactionsDebits",
        ],
        json!({}),
        accounts,
    )
    .await;
    let path = format!("/accounts/{everyday}/transactions");
    let c = bank.get(&path, &credits).await;
    valid("GET", ACCOUNT_TXNS, &c);
    assert_eq!(txns(&c).len(), 1, "the salary only: {:#}", c.body);
    assert!(
        txns(&c)
            .iter()
            .all(|t| t["CreditDebitIndicator"] == "Credit")
    );
    let d = bank.get(&path, &debits).await;
    valid("GET", ACCOUNT_TXNS, &d);
    assert_eq!(txns(&d).len(), 1, "the move to the pot only: {:#}", d.body);
    assert!(
        txns(&d)
            .iter()
            .all(|t| t["CreditDebitIndicator"] == "Debit")
    );
    // Bulk too.
    let bulk = bank.get("/transactions", &debits).await;
    valid("GET", "/transactions", &bulk);
    assert_eq!(ids(&bulk), ids(&d));

    let none = token_with(
        &bank,
        &["ReadAccountsBasic", "ReadBalances"],
        json!({}),
        accounts,
    )
    .await;
    let refused = bank.get(&path, &none).await;
    assert_eq!(refused.status, 403);
    valid("GET", ACCOUNT_TXNS, &refused);
    assert_eq!(bank.get("/transactions", &none).await.status, 403);
}

/// OB-301-TRA-105200
#[tokio::test]
async fn detail_fields_appear_only_with_read_transactions_detail() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let c = &bank.customer;
        let ledger = &bank.app.ledger;
        // A card purchase (merchant), a transfer to Bills (an identified counterparty), the
        // salary (a payer known by name only).
        let card = ledger
            .authorise_card(
                &c.everyday,
                Pence(4_599),
                Merchant {
                    name: "Waterstones".into(),
                    category_code: "5942".into(),
                },
            )
            .await
            .unwrap();
        ledger.settle_card(&card, Pence(4_599)).await.unwrap();
        let transfer = ledger
            .transfer(&c.everyday, &c.bills, Pence(10_000), "Rent share", None)
            .await
            .unwrap();
        let out_id = transfer.transactions[0].1.to_string();
        let bills = ledger.account(&c.bills).await.unwrap();
        let everyday = ledger.account(&c.everyday).await.unwrap();

        let basic = token_with(
            &bank,
            &[
                "ReadAccountsBasic",
                "ReadTransactionsBasic",
                "ReadTransactionsCredits",
                "ReadTransactionsDebits",
            ],
            json!({}),
            &c.all_accounts(),
        )
        .await;
        let detail = token_with(
            &bank,
            &[
                "ReadAccountsBasic",
                "ReadTransactionsBasic",
                "ReadTransactionsDetail",
                "ReadTransactionsCredits",
                "ReadTransactionsDebits",
            ],
            json!({}),
            &c.all_accounts(),
        )
        .await;

        let b = bank.get("/transactions", &basic).await;
        valid("GET", "/transactions", &b);
        for t in txns(&b) {
            for field in [
                "TransactionInformation",
                "MerchantDetails",
                "Balance",
                "CreditorAccount",
                "DebtorAccount",
            ] {
                assert!(t.get(field).is_none(), "Basic shows no {field}: {t}");
            }
            for field in [
                "TransactionId",
                "Status",
                "BookingDateTime",
                "ValueDateTime",
                "Amount",
                "ProprietaryBankTransactionCode",
            ] {
                assert!(t.get(field).is_some(), "Basic still shows {field}: {t}");
            }
        }

        let d = bank.get("/transactions", &detail).await;
        valid("GET", "/transactions", &d);
        assert_eq!(ids(&d), ids(&b), "the same lines, more detail");
        let card_line = find(&d, card.as_str());
        assert_eq!(
            card_line["MerchantDetails"],
            json!({"MerchantName": "Waterstones", "MerchantCategoryCode": "5942"})
        );
        assert_eq!(card_line["TransactionInformation"], "Waterstones");
        let out = find(&d, &out_id);
        let bills_ident = bills.identification.unwrap().to_string();
        assert_eq!(
            out["CreditorAccount"],
            json!({"SchemeName": "UK.OBIE.SortCodeAccountNumber",
                   "Identification": bills_ident, "Name": "Bills"})
        );
        assert_eq!(
            out["TransactionInformation"],
            "Transfer to Bills Rent share"
        );
        assert!(out.get("DebtorAccount").is_none());
        let incoming = find(&d, transfer.transactions[1].1.as_str());
        assert_eq!(incoming["AccountId"], c.bills.as_str());
        assert_eq!(
            incoming["DebtorAccount"]["Identification"],
            everyday.identification.unwrap().to_string()
        );
        assert_eq!(incoming["Balance"]["Amount"]["Amount"], "100.00");
        let salary = txns(&d)
            .iter()
            .find(|t| t["ProprietaryBankTransactionCode"]["Code"] == "SALARY")
            .unwrap();
        assert_eq!(salary["DebtorAccount"], json!({"Name": "Acme Payroll"}));
        assert!(txns(&d).iter().all(|t| t.get("Balance").is_some()));
    }
}

#[tokio::test]
async fn pots_show_moves_and_interest_and_a_closed_pot_keeps_its_history() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let c = &bank.customer;
        let ledger = &bank.app.ledger;
        bank.app.clock.advance(Duration::minutes(1));
        ledger
            .move_between_pot(&c.everyday, &c.pot, Pence(5_000), false, None)
            .await
            .unwrap();
        // Into February: January's interest is paid into the pot, January's statements issued.
        bank.app.clock.set(datetime!(2026-02-02 06:00 UTC));
        let report = ledger.run_daily_jobs().await.unwrap();
        assert!(report.interest_payments >= 1, "{report:?}");

        let token = token_with(&bank, &ALL_PERMISSIONS, json!({}), &c.all_accounts()).await;
        let path = format!("/accounts/{}/transactions", c.pot);
        let pot = bank.get(&path, &token).await;
        valid("GET", ACCOUNT_TXNS, &pot);
        let codes: Vec<(&str, &str)> = txns(&pot)
            .iter()
            .map(|t| {
                (
                    t["ProprietaryBankTransactionCode"]["Code"]
                        .as_str()
                        .unwrap(),
                    t["CreditDebitIndicator"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            codes,
            [
                ("POT_TRANSFER", "Credit"),
                ("POT_TRANSFER", "Debit"),
                ("INTEREST", "Credit")
            ],
            "{:#}",
            pot.body
        );
        let interest = &txns(&pot)[2];
        assert_ne!(interest["Amount"]["Amount"], "0.00");

        bank.app.clock.advance(Duration::minutes(1));
        ledger.close_account(&c.pot).await.unwrap();
        let accounts = bank.get("/accounts", &token).await;
        valid("GET", "/accounts", &accounts);
        let listed = accounts.body["Data"]["Account"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["AccountId"] == c.pot.as_str())
            .expect("a closed pot stays listed");
        assert_ne!(listed["Status"], "Enabled");
        let after = bank.get(&path, &token).await;
        assert_eq!(after.status, 200, "{:#}", after.body);
        valid("GET", ACCOUNT_TXNS, &after);
        let mut before_ids = ids(&pot);
        let after_ids = ids(&after);
        assert_eq!(
            after_ids.len(),
            before_ids.len() + 1,
            "history kept, closing move added"
        );
        before_ids.push(after_ids[after_ids.len() - 1].clone());
        assert_eq!(after_ids, before_ids);
        let closing = &txns(&after)[after_ids.len() - 1];
        assert_eq!(closing["CreditDebitIndicator"], "Debit");
        assert_eq!(closing["Balance"]["Amount"]["Amount"], "0.00");

        // The bulk read covers the pot's lines as well as the current accounts'.
        let bulk = walk(&bank, &token, "/transactions", "/transactions", "Next").await;
        assert!(after_ids.iter().all(|id| bulk.contains(id)));
    }
}

#[tokio::test]
async fn statement_transactions_are_those_booked_in_the_statement_period() {
    let bank = Bank::start(Backend::Sqlite).await;
    let c = &bank.customer;
    let ledger = &bank.app.ledger;
    // January already has the salary and the pot move; one more on 31 January, one in February.
    bank.app.clock.set(datetime!(2026-01-31 23:59:59 UTC));
    let january = ledger
        .send_payment(
            &c.everyday,
            &Creditor {
                name: "Landlord".into(),
                identification: bascule_domain::SortCodeAccountNumber::parse("40123412345678")
                    .unwrap(),
            },
            Pence(2_000),
            "JAN RENT",
            ProprietaryCode::FasterPayment,
            None,
        )
        .await
        .unwrap();
    bank.app.clock.set(datetime!(2026-02-01 00:00 UTC));
    ledger
        .receive_payment(
            &c.everyday,
            Pence(300),
            payer("Refund"),
            None,
            ProprietaryCode::FasterPayment,
            None,
        )
        .await
        .unwrap();
    bank.app.clock.set(datetime!(2026-02-03 09:00 UTC));
    ledger.run_daily_jobs().await.unwrap();
    let token = token_with(&bank, &ALL_PERMISSIONS, json!({}), &c.all_accounts()).await;

    let statements = bank
        .get(&format!("/accounts/{}/statements", c.everyday), &token)
        .await;
    assert_eq!(statements.status, 200, "{:#}", statements.body);
    let statement = &statements.body["Data"]["Statement"][0];
    assert_eq!(statement["StartDateTime"], "2026-01-01T00:00:00+00:00");
    let sid = statement["StatementId"].as_str().unwrap();
    let path = format!("/accounts/{}/statements/{sid}/transactions", c.everyday);
    let reply = bank.get(&path, &token).await;
    assert_eq!(reply.status, 200, "{:#}", reply.body);
    valid(
        "GET",
        "/accounts/{AccountId}/statements/{StatementId}/transactions",
        &reply,
    );
    let listed = ids(&reply);
    assert_eq!(listed.len(), 3, "salary, pot move, rent: {:#}", reply.body);
    assert_eq!(listed[2], january.transactions[0].1.as_str());
    assert_eq!(
        reply.body["Meta"]["LastAvailableDateTime"],
        "2026-01-31T23:59:59+00:00"
    );

    // A statement of another account, or nonsense, is not found (400).
    let wrong = bank
        .get(
            &format!("/accounts/{}/statements/{sid}/transactions", c.bills),
            &token,
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.error_code(), "UK.OBIE.Resource.NotFound");
    let nonsense = bank
        .get(
            &format!("/accounts/{}/statements/no-such/transactions", c.everyday),
            &token,
        )
        .await;
    assert_eq!(nonsense.status, 400);
}
