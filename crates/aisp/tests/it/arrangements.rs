//! Beneficiaries, direct debits, standing orders, scheduled payments, statements and offers:
//! bulk and per-account reads, Basic vs Detail, the permission each needs, statements against
//! the consent window and the statement filters, the statement file. Every 200 body is
//! validated against the spec.

use bascule_domain::{AccountId, Pence};
use bascule_store::Backend;
use serde_json::{Value, json};
use time::macros::datetime;

use crate::support::{ALL_PERMISSIONS, Bank, Reply, valid};

fn list<'a>(reply: &'a Reply, key: &str) -> &'a Vec<Value> {
    reply.body["Data"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {:#}", reply.body))
}

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

/// Grace's arrangements on Everyday (see [`bascule_testkit::people::arrangements`]).
pub(crate) async fn arrangements(bank: &Bank) {
    bascule_testkit::people::arrangements(&bank.app.ledger, &bank.customer.everyday)
        .await
        .unwrap();
}

/// The id of the offer `arrangements` made.
async fn offer_id(bank: &Bank) -> String {
    let offers = bank
        .app
        .state()
        .core_banking
        .offers(std::slice::from_ref(&bank.customer.everyday))
        .await
        .unwrap();
    offers[0].id.to_string()
}

#[tokio::test]
async fn arrangements_are_read_bulk_and_per_account_with_basic_and_detail_views() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        arrangements(&bank).await;
        let c = &bank.customer;
        let accounts = c.all_accounts();
        let detail = token_with(&bank, &ALL_PERMISSIONS, json!({}), &accounts).await;
        let basic = token_with(
            &bank,
            &[
                "ReadAccountsBasic",
                "ReadBeneficiariesBasic",
                "ReadDirectDebits",
                "ReadStandingOrdersBasic",
                "ReadScheduledPaymentsBasic",
                "ReadOffers",
            ],
            json!({}),
            &accounts,
        )
        .await;
        let ident = bascule_testkit::people::payee().unwrap().to_string();

        // (resource, Data key, the one Detail-only field)
        let resources = [
            ("beneficiaries", "Beneficiary", Some("CreditorAccount")),
            ("direct-debits", "DirectDebit", None),
            ("standing-orders", "StandingOrder", Some("CreditorAccount")),
            (
                "scheduled-payments",
                "ScheduledPayment",
                Some("CreditorAccount"),
            ),
        ];
        for (resource, key, detail_only) in resources {
            let bulk_path = format!("/{resource}");
            let account_path = format!("/accounts/{}/{resource}", c.everyday);
            let spec_account_path = format!("/accounts/{{AccountId}}/{resource}");
            for (token, is_detail) in [(&detail, true), (&basic, false)] {
                let bulk = bank.get(&bulk_path, token).await;
                assert_eq!(bulk.status, 200, "{resource}: {:#}", bulk.body);
                valid("GET", &bulk_path, &bulk);
                assert_eq!(list(&bulk, key).len(), 1, "{resource}: {:#}", bulk.body);
                let one = bank.get(&account_path, token).await;
                assert_eq!(one.status, 200);
                valid("GET", &spec_account_path, &one);
                assert_eq!(list(&one, key), list(&bulk, key));
                let item = &list(&one, key)[0];
                assert_eq!(item["AccountId"], c.everyday.as_str());
                if let Some(field) = detail_only {
                    assert_eq!(
                        item.get(field).is_some(),
                        is_detail,
                        "{resource} {field}: {item}"
                    );
                    if is_detail {
                        assert_eq!(item[field]["Identification"], ident);
                        assert_eq!(item[field]["SchemeName"], "UK.OBIE.SortCodeAccountNumber");
                    }
                }
                // An account with none: an empty list, not an error.
                let empty = bank
                    .get(&format!("/accounts/{}/{resource}", c.bills), token)
                    .await;
                assert_eq!(empty.status, 200);
                valid("GET", &spec_account_path, &empty);
                assert!(list(&empty, key).is_empty());
            }
            // Another customer's account is not found; without the permission, 403.
            let foreign = bank
                .get(
                    &format!("/accounts/{}/{resource}", bank.stranger.account),
                    &detail,
                )
                .await;
            assert_eq!(foreign.status, 400, "{resource}");
            assert_eq!(foreign.error_code(), "UK.OBIE.Resource.NotFound");
            let accounts_only =
                token_with(&bank, &["ReadAccountsBasic"], json!({}), &accounts).await;
            let refused = bank.get(&bulk_path, &accounts_only).await;
            assert_eq!(refused.status, 403, "{resource}");
            valid("GET", &bulk_path, &refused);
        }

        let details = bank.get("/standing-orders", &detail).await;
        let so = &list(&details, "StandingOrder")[0];
        assert_eq!(so["Frequency"], "IntrvlMnthDay:01:28");
        assert_eq!(so["FirstPaymentDateTime"], "2026-01-28T00:00:00+00:00");
        assert_eq!(so["FinalPaymentDateTime"], "2026-12-28T00:00:00+00:00");
        assert_eq!(
            so["FirstPaymentAmount"],
            json!({"Amount": "650.00", "Currency": "GBP"})
        );
        assert_eq!(so["CreditorAccount"]["Name"], "Landlord");
        let dds = bank.get("/direct-debits", &detail).await;
        valid("GET", "/direct-debits", &dds);
        let dd = &list(&dds, "DirectDebit")[0];
        assert_eq!(dd["MandateIdentification"], "GYM-000123");
        assert_eq!(dd["Name"], "PureGym Ltd");
        assert_eq!(dd["DirectDebitStatusCode"], "Active");
        assert_eq!(dd["PreviousPaymentAmount"]["Amount"], "24.99");
        let bens = bank.get("/beneficiaries", &basic).await;
        valid("GET", "/beneficiaries", &bens);
        let ben = &list(&bens, "Beneficiary")[0];
        assert_eq!(ben["BeneficiaryType"], "Trusted");
        assert_eq!(ben["Reference"], "BIRTHDAY");
        let sps = bank.get("/scheduled-payments", &detail).await;
        valid("GET", "/scheduled-payments", &sps);
        let sp = &list(&sps, "ScheduledPayment")[0];
        assert_eq!(sp["ScheduledPaymentDateTime"], "2026-03-01T00:00:00+00:00");
        assert_eq!(sp["ScheduledType"], "Execution");
        assert_eq!(sp["InstructedAmount"]["Amount"], "120.00");

        // Offers: Everyday's, in bulk and on the account; none on the pot (an empty list).
        let offered = json!({"Offer": [{
            "AccountId": c.everyday.as_str(),
            "OfferId": offer_id(&bank).await,
            "OfferType": "LimitIncrease",
            "Description": "Raise your arranged overdraft to £1,000",
            "StartDateTime": "2026-01-01T00:00:00+00:00",
            "EndDateTime": "2026-06-30T23:59:59+00:00",
            "Amount": {"Amount": "1000.00", "Currency": "GBP"}
        }]});
        for (path, spec_path, expected) in [
            ("/offers".to_owned(), "/offers", &offered),
            (
                format!("/accounts/{}/offers", c.everyday),
                "/accounts/{AccountId}/offers",
                &offered,
            ),
            (
                format!("/accounts/{}/offers", c.pot),
                "/accounts/{AccountId}/offers",
                &json!({"Offer": []}),
            ),
        ] {
            let offers = bank.get(&path, &basic).await;
            assert_eq!(offers.status, 200, "{:#}", offers.body);
            valid("GET", spec_path, &offers);
            assert_eq!(&offers.body["Data"], expected, "{path}");
        }
    }
}

/// January to March in the ledger, then statements for January and February.
async fn two_statements(bank: &Bank) {
    bank.app.clock.set(datetime!(2026-02-10 12:00 UTC));
    bank.app
        .ledger
        .move_between_pot(
            &bank.customer.everyday,
            &bank.customer.pot,
            Pence(1_000),
            true,
            None,
        )
        .await
        .unwrap();
    bank.app.clock.set(datetime!(2026-03-02 06:00 UTC));
    bank.app.ledger.run_daily_jobs().await.unwrap();
}

#[tokio::test]
async fn statements_show_amounts_with_detail_and_respect_the_consent_window() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        two_statements(&bank).await;
        let c = &bank.customer;
        let everyday = std::slice::from_ref(&c.everyday);
        let detail = token_with(
            &bank,
            &["ReadAccountsBasic", "ReadStatementsDetail"],
            json!({}),
            everyday,
        )
        .await;
        let basic = token_with(
            &bank,
            &["ReadAccountsBasic", "ReadStatementsBasic"],
            json!({}),
            everyday,
        )
        .await;
        let path = format!("/accounts/{}/statements", c.everyday);

        let d = bank.get(&path, &detail).await;
        assert_eq!(d.status, 200, "{:#}", d.body);
        valid("GET", "/accounts/{AccountId}/statements", &d);
        let statements = list(&d, "Statement");
        assert_eq!(statements.len(), 2, "{:#}", d.body);
        let january = &statements[0];
        assert_eq!(january["Type"], "RegularPeriodic");
        assert_eq!(january["StartDateTime"], "2026-01-01T00:00:00+00:00");
        assert_eq!(january["EndDateTime"], "2026-01-31T23:59:59+00:00");
        let amount = |s: &Value, kind: &str| {
            s["StatementAmount"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["Type"] == kind)
                .cloned()
                .unwrap_or_else(|| panic!("no {kind} in {s}"))
        };
        // January: £1,000 salary in, £200 to the pot: £800 at the end.
        assert_eq!(
            amount(january, "UK.OBIE.PreviousClosingBalance")["Amount"]["Amount"],
            "0.00"
        );
        assert_eq!(
            amount(january, "UK.OBIE.ClosingBalance")["Amount"]["Amount"],
            "800.00"
        );
        assert_eq!(
            amount(january, "UK.OBIE.TotalCredits")["Amount"]["Amount"],
            "1000.00"
        );
        let debits = amount(january, "UK.OBIE.TotalDebits");
        assert_eq!(debits["Amount"]["Amount"], "200.00");
        assert_eq!(debits["CreditDebitIndicator"], "Debit");
        assert_eq!(
            amount(&statements[1], "UK.OBIE.ClosingBalance")["Amount"]["Amount"],
            "790.00"
        );

        let b = bank.get(&path, &basic).await;
        valid("GET", "/accounts/{AccountId}/statements", &b);
        assert_eq!(list(&b, "Statement").len(), 2);
        assert!(
            list(&b, "Statement")
                .iter()
                .all(|s| s.get("StatementAmount").is_none())
        );
        let bulk = bank.get("/statements", &basic).await;
        valid("GET", "/statements", &bulk);
        assert_eq!(list(&bulk, "Statement"), list(&b, "Statement"));

        // One statement by id; filters keep statements wholly between from and to.
        let sid = january["StatementId"].as_str().unwrap();
        let one = bank.get(&format!("{path}/{sid}"), &detail).await;
        assert_eq!(one.status, 200);
        valid(
            "GET",
            "/accounts/{AccountId}/statements/{StatementId}",
            &one,
        );
        assert_eq!(&list(&one, "Statement")[0], january);
        for (query, expected) in [
            ("fromStatementDateTime=2026-02-01T00:00:00", 1),
            ("toStatementDateTime=2026-02-15", 1),
            ("fromStatementDateTime=20160101T104012.345Z", 2),
            (
                "fromStatementDateTime=2026-01-15T00:00:00&toStatementDateTime=2026-03-01",
                1,
            ),
        ] {
            let r = bank.get(&format!("/statements?{query}"), &basic).await;
            assert_eq!(r.status, 200, "{query}: {:#}", r.body);
            valid("GET", "/statements", &r);
            assert_eq!(list(&r, "Statement").len(), expected, "{query}");
        }

        // A consent whose window covers only February sees only February's statement.
        let february_only = token_with(
            &bank,
            &["ReadAccountsBasic", "ReadStatementsBasic"],
            json!({"TransactionFromDateTime": "2026-02-01T00:00:00+00:00"}),
            everyday,
        )
        .await;
        let w = bank.get(&path, &february_only).await;
        valid("GET", "/accounts/{AccountId}/statements", &w);
        assert_eq!(list(&w, "Statement").len(), 1);
        assert_eq!(
            list(&w, "Statement")[0]["StartDateTime"],
            "2026-02-01T00:00:00+00:00"
        );
        assert_eq!(
            w.body["Meta"]["FirstAvailableDateTime"],
            "2026-02-01T00:00:00+00:00"
        );
        let outside = bank.get(&format!("{path}/{sid}"), &february_only).await;
        assert_eq!(outside.status, 403);
        valid(
            "GET",
            "/accounts/{AccountId}/statements/{StatementId}",
            &outside,
        );

        // The file: ReadStatementsDetail is needed; no statement documents are produced (404).
        let file = format!("{path}/{sid}/file");
        let refused = bank.get(&file, &basic).await;
        assert_eq!(refused.status, 403);
        assert_eq!(bank.get(&file, &detail).await.status, 404);
        let unknown = bank.get(&format!("{path}/nope/file"), &detail).await;
        assert_eq!(unknown.status, 400);

        // Statements need a statements permission.
        let accounts_only = token_with(&bank, &["ReadAccountsBasic"], json!({}), everyday).await;
        assert_eq!(bank.get("/statements", &accounts_only).await.status, 403);
    }
}

#[tokio::test]
async fn a_statement_of_another_account_is_not_found() {
    let bank = Bank::start(Backend::Sqlite).await;
    two_statements(&bank).await;
    let c = &bank.customer;
    let token = token_with(&bank, &ALL_PERMISSIONS, json!({}), &c.all_accounts()).await;
    let pot_statements = bank
        .get(&format!("/accounts/{}/statements", c.pot), &token)
        .await;
    let sid = list(&pot_statements, "Statement")[0]["StatementId"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = bank
        .get(
            &format!("/accounts/{}/statements/{sid}", c.everyday),
            &token,
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.error_code(), "UK.OBIE.Resource.NotFound");
    valid(
        "GET",
        "/accounts/{AccountId}/statements/{StatementId}",
        &wrong,
    );
}
