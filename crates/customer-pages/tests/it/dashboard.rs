//! The customer's Open Banking connections over HTTP, with the clock: the list grouped by TPP,
//! revoke, change accounts, both reauthentication policies, the bank's own suspension, refresh
//! all on the same ConsentId and refresh token, the reminder 30 days ahead (once, on one node or
//! two), hidden balances, standing orders and scheduled payments with what is left to pay.

use bascule_domain::{Clock, ConsentStatus, Reauthentication, SuspensionReason};
use bascule_store::Backend;
use bascule_testkit::api::Reply;
use bascule_testkit::web::{Page, WebClient};
use bascule_testkit::{BACKENDS, Tpp};
use time::Duration;

use crate::support::{AIS, Bank, PASSCODE};

const BANK_SCA: Reauthentication = Reauthentication::BankScaEvery90Days;
const TPP_RECONFIRMS: Reauthentication = Reauthentication::TppReconfirms;

fn refresh_token(tokens: &serde_json::Value) -> String {
    tokens["refresh_token"].as_str().unwrap().to_owned()
}

async fn post_with_passcode(phone: &WebClient, path: &str, passcode: &str) -> Page {
    let page = phone.get(path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    phone
        .post(path, &[("csrf", &page.csrf()), ("passcode", passcode)])
        .await
}

#[tokio::test]
async fn connections_are_listed_by_tpp_with_clusters_accounts_pots_and_dates() {
    for backend in BACKENDS {
        let bank = Bank::start_policy(backend, BANK_SCA).await;
        let g = &bank.grace;
        let pot = g.pot.as_ref().unwrap();
        bank.connect(&bank.tpp, None, &[g.everyday.id.clone(), pot.id.clone()])
            .await;
        let other = Tpp::tls(&bank.app, "Lend Well Ltd").await;
        bank.connect(
            &other,
            Some("2026-12-31T00:00:00+00:00"),
            std::slice::from_ref(&g.bills.id),
        )
        .await;

        let phone = bank.graces_app().await;
        let home = phone.get("/app").await;
        home.assert_says("href=\"/app/connections\"");
        let list = phone.get("/app/connections").await;
        assert_eq!(list.status, 200, "{}", list.body);
        list.assert_says("<h2>Budget Buddy Ltd app</h2>");
        list.assert_says("<h2>Lend Well Ltd app</h2>");
        list.assert_says("Your Account Details");
        list.assert_says("Holiday pot");
        list.assert_says("Granted on");
        list.assert_says("5 January 2026");
        // 90 days after the strong authentication, before the consent's own expiry.
        list.assert_says("<dt>Refresh by</dt><dd>5 April 2026</dd>");
        assert!(!list.body.contains("Refresh all"), "nothing is due yet");
    }
}

#[tokio::test]
async fn revoking_asks_first_with_the_advice_then_the_tpps_tokens_die_at_once() {
    for backend in BACKENDS {
        let bank = Bank::start(backend).await;
        let g = &bank.grace;
        let (consent, tokens) = bank
            .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
            .await;
        let access = tokens["access_token"].as_str().unwrap();
        assert_eq!(bank.accounts_as(&bank.tpp, access).await.status, 200);

        let phone = bank.graces_app().await;
        let path = format!("/app/connections/{consent}/revoke");
        let confirm = phone.get(&path).await;
        confirm.assert_says("Stop sharing with Budget Buddy Ltd app?");
        confirm.assert_says("Contact Budget Buddy Ltd app to find out what stopping means");
        assert_eq!(
            bank.consent(&consent).await.status,
            ConsentStatus::Authorised
        );

        let done = phone.post(&path, &[("csrf", &confirm.csrf())]).await;
        done.assert_says("Connection stopped");
        assert_eq!(bank.consent(&consent).await.status, ConsentStatus::Revoked);
        assert_eq!(bank.accounts_as(&bank.tpp, access).await.status, 401);
        let (status, _) = bank
            .tpp
            .token(
                &bank.app,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh_token(&tokens)),
                ],
            )
            .await;
        assert_eq!(status, 400, "the refresh token died with the consent");
        assert!(!phone.get("/app/connections").await.body.contains(&consent));
    }
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_revokes_nothing() {
    let bank = Bank::start(Backend::Sqlite).await;
    let g = &bank.grace;
    let (consent, _) = bank
        .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
        .await;
    let phone = bank.graces_app().await;
    let refused = phone
        .post(
            &format!("/app/connections/{consent}/revoke"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        bank.consent(&consent).await.status,
        ConsentStatus::Authorised
    );
}

#[tokio::test]
async fn changing_the_accounts_keeps_the_consent_id_and_the_tpps_refresh_token() {
    for backend in BACKENDS {
        let bank = Bank::start(backend).await;
        let g = &bank.grace;
        let (consent, tokens) = bank
            .connect(
                &bank.tpp,
                None,
                &[g.everyday.id.clone(), g.bills.id.clone()],
            )
            .await;
        let phone = bank.graces_app().await;
        let path = format!("/app/connections/{consent}/accounts");
        let form = phone.get(&path).await;
        form.assert_says("Which accounts can Budget Buddy Ltd app see?");
        let csrf = form.csrf();
        let wrong = phone
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("account", g.bills.id.as_str()),
                    ("passcode", "000000"),
                ],
            )
            .await;
        wrong.assert_says("That passcode is not right");
        assert_eq!(bank.consent(&consent).await.accounts.len(), 2);

        let done = phone
            .post(
                &path,
                &[
                    ("csrf", &csrf),
                    ("account", g.bills.id.as_str()),
                    ("passcode", PASSCODE),
                ],
            )
            .await;
        done.assert_says("Accounts changed");
        assert_eq!(
            bank.consent(&consent).await.accounts,
            vec![g.bills.id.clone()]
        );

        let reply = read_after_refresh(&bank, &bank.tpp, &tokens).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        let seen = reply.body["Data"]["Account"].as_array().unwrap();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["AccountId"], g.bills.id.as_str());
    }
}

#[tokio::test]
async fn at_day_90_the_bank_suspends_access_and_one_refresh_all_restores_every_connection() {
    for backend in BACKENDS {
        let bank = Bank::start_policy(backend, BANK_SCA).await;
        let g = &bank.grace;
        let (first, first_tokens) = bank
            .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
            .await;
        let other = Tpp::tls(&bank.app, "Lend Well Ltd").await;
        let (second, second_tokens) = bank
            .connect(&other, None, std::slice::from_ref(&g.bills.id))
            .await;

        bank.app.clock.advance(Duration::days(90));
        let reply = read_after_refresh(&bank, &bank.tpp, &first_tokens).await;
        assert_eq!(reply.status, 403, "{:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Reauthenticate");
        AIS.assert_valid("GET", "/accounts", &reply);
        // The consent keeps its id and its status; only access waits for the customer.
        assert_eq!(bank.consent(&first).await.status, ConsentStatus::Authorised);

        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        list.assert_says("Paused: refresh to continue");
        list.assert_says("2 connections need");
        let wrong = post_with_passcode(&phone, "/app/connections/refresh", "999999").await;
        wrong.assert_says("That passcode is not right");
        let done = post_with_passcode(&phone, "/app/connections/refresh", PASSCODE).await;
        done.assert_says("2 connections refreshed");

        // The same refresh tokens, the same ConsentIds: nothing to do on the TPPs' side.
        for (tpp, tokens, consent) in [
            (&bank.tpp, &first_tokens, &first),
            (&other, &second_tokens, &second),
        ] {
            let reply = read_after_refresh(&bank, tpp, tokens).await;
            assert_eq!(reply.status, 200, "{:#}", reply.body);
            let c = bank.consent(consent).await;
            assert_eq!(c.id.as_str(), consent.as_str());
            assert_eq!(c.authorised_at, Some(bank.app.clock.now()));
        }
        assert!(!phone.get("/app/connections").await.body.contains("Paused"));
    }
}

#[tokio::test]
async fn refreshing_one_connection_leaves_the_others_due() {
    let bank = Bank::start_policy(Backend::Sqlite, BANK_SCA).await;
    let g = &bank.grace;
    let (first, _) = bank
        .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
        .await;
    let other = Tpp::tls(&bank.app, "Lend Well Ltd").await;
    let (second, _) = bank
        .connect(&other, None, std::slice::from_ref(&g.bills.id))
        .await;
    bank.app.clock.advance(Duration::days(70));
    let phone = bank.graces_app().await;
    let done = post_with_passcode(
        &phone,
        &format!("/app/connections/{first}/refresh"),
        PASSCODE,
    )
    .await;
    done.assert_says("Refreshed");
    let now = bank.app.clock.now();
    assert_eq!(bank.consent(&first).await.authorised_at, Some(now));
    assert_ne!(bank.consent(&second).await.authorised_at, Some(now));
    phone
        .get("/app/connections")
        .await
        .assert_says("1 connection needs");
}

#[tokio::test]
async fn under_tpp_reconfirms_nothing_is_suspended_at_day_90_and_access_stops_at_expiry() {
    for backend in BACKENDS {
        let bank = Bank::start_policy(backend, TPP_RECONFIRMS).await;
        let g = &bank.grace;
        let (consent, tokens) = bank
            .connect(
                &bank.tpp,
                Some("2026-05-05T09:00:00+00:00"),
                std::slice::from_ref(&g.everyday.id),
            )
            .await;
        bank.app.clock.advance(Duration::days(100));
        let fresh = bank.tpp.refresh(&bank.app, &refresh_token(&tokens)).await;
        let access = fresh["access_token"].as_str().unwrap().to_owned();
        assert_eq!(bank.accounts_as(&bank.tpp, &access).await.status, 200);

        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        list.assert_says("<dt>Active until</dt><dd>5 May 2026</dd>");
        assert!(!list.body.contains("Refresh all"), "{}", list.body);
        phone
            .get(&format!("/app/connections/{consent}/refresh"))
            .await
            .assert_says("Nothing to refresh");

        bank.app.clock.advance(Duration::days(21));
        assert_eq!(bank.accounts_as(&bank.tpp, &access).await.status, 401);
    }
}

#[tokio::test]
async fn a_connection_granted_61_days_ago_gets_exactly_one_reminder_linking_to_its_refresh() {
    for backend in BACKENDS {
        let bank = Bank::start_policy(backend, BANK_SCA).await;
        let g = &bank.grace;
        let (consent, _) = bank
            .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
            .await;
        let pages = &bank.app.state().pages;
        bank.app.clock.advance(Duration::days(59));
        assert_eq!(pages.send_reminders().await.unwrap(), 0, "31 days ahead");
        bank.app.clock.advance(Duration::days(2));
        assert_eq!(pages.send_reminders().await.unwrap(), 1);
        assert_eq!(
            pages.send_reminders().await.unwrap(),
            0,
            "a second run sends none"
        );

        let phone = bank.graces_app().await;
        let home = phone.get("/app").await;
        home.assert_says("Refresh Budget Buddy Ltd app by 5 April 2026");
        home.assert_says(&format!("href=\"/app/connections/{consent}/refresh\""));

        // A refresh starts a new cycle: one more reminder 60 days after it, not before.
        post_with_passcode(
            &phone,
            &format!("/app/connections/{consent}/refresh"),
            PASSCODE,
        )
        .await
        .assert_says("Refreshed");
        assert_eq!(pages.send_reminders().await.unwrap(), 0);
        bank.app.clock.advance(Duration::days(61));
        assert_eq!(pages.send_reminders().await.unwrap(), 1);
    }
}

#[tokio::test]
async fn under_tpp_reconfirms_the_reminder_comes_30_days_before_expiry() {
    let bank = Bank::start_policy(Backend::Sqlite, TPP_RECONFIRMS).await;
    let g = &bank.grace;
    bank.connect(
        &bank.tpp,
        Some("2026-06-05T09:00:00+00:00"),
        std::slice::from_ref(&g.everyday.id),
    )
    .await;
    let pages = &bank.app.state().pages;
    bank.app.clock.advance(Duration::days(91));
    assert_eq!(pages.send_reminders().await.unwrap(), 0, "no 90-day cycle");
    bank.app.clock.advance(Duration::days(40));
    assert_eq!(pages.send_reminders().await.unwrap(), 1);
    assert_eq!(pages.send_reminders().await.unwrap(), 0);
    let phone = bank.graces_app().await;
    phone
        .get("/app")
        .await
        .assert_says("Budget Buddy Ltd app stops on 5 June 2026");
}

#[tokio::test]
async fn two_nodes_on_one_postgresql_running_the_reminder_job_together_send_each_reminder_once() {
    let bank = Bank::start_policy(Backend::Postgres, BANK_SCA).await;
    let g = &bank.grace;
    bank.connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
        .await;
    let other = Tpp::tls(&bank.app, "Lend Well Ltd").await;
    bank.connect(&other, None, std::slice::from_ref(&g.bills.id))
        .await;
    let url = bank.app.db.url.clone();
    let second = bascule_testkit::spawn_app_with(Backend::Postgres, |c| {
        c.database_url = Some(url);
        c.reauthentication = BANK_SCA;
    })
    .await
    .unwrap();
    bank.app.clock.advance(Duration::days(61));
    second.clock.advance(Duration::days(61));
    let (a, b) = (&bank.app.state().pages, &second.state().pages);
    let mut sent = 0;
    for _ in 0..3 {
        let (x, y) = tokio::join!(a.send_reminders(), b.send_reminders());
        sent += x.unwrap() + y.unwrap();
    }
    assert_eq!(sent, 2, "one reminder per connection across both nodes");
    let phone = bank.graces_app().await;
    let home = phone.get("/app").await;
    assert_eq!(
        home.body.matches("Refresh Budget Buddy Ltd app by").count(),
        1
    );
    assert_eq!(home.body.matches("Refresh Lend Well Ltd app by").count(), 1);
    second.shutdown().await.unwrap();
}

#[tokio::test]
async fn hidden_balances_show_only_when_tapped_and_tpps_still_see_them() {
    for backend in BACKENDS {
        let bank = Bank::start(backend).await;
        let g = &bank.grace;
        let (_, tokens) = bank
            .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
            .await;
        let phone = bank.graces_app().await;
        let home = phone.get("/app").await;
        home.assert_says("Your accounts");
        home.assert_says("Holiday pot");
        home.assert_says("<span class=\"balance\">£800.00</span>");

        let hidden = phone
            .post(
                "/app/settings/balances",
                &[("csrf", &home.csrf()), ("hide", "yes")],
            )
            .await;
        assert_eq!(hidden.redirect(), "/app");
        let home = phone.get("/app").await;
        home.assert_says("<summary>Show balance");
        assert!(
            !home.body.contains("<span class=\"balance\">"),
            "{}",
            home.body
        );

        let access = tokens["access_token"].as_str().unwrap();
        let reply = bank
            .call(
                bascule_testkit::api::Call::get(
                    &format!("/accounts/{}/balances", g.everyday.id.as_str()),
                    access,
                )
                .via(&bank.tpp),
            )
            .await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
    }
}

/// PSRs reg. 68(6): the customer sees which CBPII asked and the yes or no it was given.
#[tokio::test]
async fn a_funds_confirmation_connection_lists_every_check_and_the_answer_given() {
    use bascule_testkit::api::{Call, consent_id};
    use serde_json::json;
    let bank = Bank::start(Backend::Sqlite).await;
    let g = &bank.grace;
    let everyday = g.everyday.identification.unwrap();
    let cbpii = bascule_testkit::api::Api::new(
        "/open-banking/v3.1/cbpii",
        "v3.1.11/confirmation-funds-openapi.json",
        false,
    );
    let cc = bank
        .tpp
        .client_credentials(&bank.app, "fundsconfirmations")
        .await;
    let created = cbpii
        .send(
            &bank.app,
            &bank.tpp,
            Call::post(
                "/funds-confirmation-consents",
                &cc,
                &json!({"Data": {"DebtorAccount": {
                    "SchemeName": "UK.OBIE.SortCodeAccountNumber",
                    "Identification": everyday.to_string()
                }}}),
            ),
        )
        .await;
    assert_eq!(created.status, 201, "{:#}", created.body);
    let consent = consent_id(&created.body);
    let tokens = bank
        .tpp
        .authorise(
            &bank.app,
            &consent,
            "fundsconfirmations",
            bascule_testkit::tpp::approve(&g.customer.id, std::slice::from_ref(&g.everyday.id)),
        )
        .await;
    let token = tokens["access_token"].as_str().unwrap();
    for (reference, amount) in [("Coffee-1", "3.50"), ("Car-2", "9999.00")] {
        let answer = cbpii
            .send(
                &bank.app,
                &bank.tpp,
                Call::post(
                    "/funds-confirmations",
                    token,
                    &json!({"Data": {
                        "ConsentId": consent,
                        "Reference": reference,
                        "InstructedAmount": {"Amount": amount, "Currency": "GBP"}
                    }}),
                ),
            )
            .await;
        assert_eq!(answer.status, 201, "{:#}", answer.body);
    }
    let phone = bank.graces_app().await;
    let list = phone.get("/app/connections").await;
    list.assert_says("made (2)");
    list.assert_says("£3.50, reference Coffee-1: <strong>Yes, enough money</strong>");
    list.assert_says("£9,999.00, reference Car-2: <strong>No, not enough money</strong>");
}

#[tokio::test]
async fn each_connection_shows_when_it_was_last_used_and_how_often_in_the_last_day() {
    let bank = Bank::start(Backend::Sqlite).await;
    let g = &bank.grace;
    let (_, tokens) = bank
        .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
        .await;
    let phone = bank.graces_app().await;
    phone
        .get("/app/connections")
        .await
        .assert_says("<dt>Last used</dt><dd>Not used yet</dd>");
    let access = tokens["access_token"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(bank.accounts_as(&bank.tpp, access).await.status, 200);
    }
    // What the nodes counted in memory reaches the database with the background flush.
    bank.app.state().authz.flush_consent_usage().await.unwrap();
    let list = phone.get("/app/connections").await;
    list.assert_says("3 times in the last 24 hours");
    bank.app.clock.advance(Duration::hours(25));
    bank.app.state().authz.flush_consent_usage().await.unwrap();
    // A day later the app's session has ended: Grace signs in again.
    let phone = bank.graces_app().await;
    let later = phone.get("/app/connections").await;
    later.assert_says("0 times in the last 24 hours");
}

/// The dashboard's payment connections: a standing order and a scheduled payment, each with
/// its TPP, showing what is left to pay as the ledger pays them.
#[tokio::test]
async fn standing_orders_and_scheduled_payments_show_what_remains_to_be_paid() {
    for backend in BACKENDS {
        let bank = Bank::start(backend).await;
        let g = &bank.grace;
        bank.connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
            .await;
        let rent = bank.monthly_to_alan("10.00", Some("2026-03-15T06:00:00+00:00"));
        bank.payment_order(&bank.tpp, "/domestic-standing-orders", rent)
            .await;
        let other = Tpp::tls(&bank.app, "Pay Later Ltd").await;
        let invoice = bank.scheduled_to_alan("25.00", "2026-02-10T10:00:00+00:00");
        bank.payment_order(&other, "/domestic-scheduled-payments", invoice)
            .await;
        let open_ended = bank.monthly_to_alan("3.00", None);
        bank.payment_order(&other, "/domestic-standing-orders", open_ended)
            .await;

        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        assert_eq!(list.status, 200, "{}", list.body);
        // Each order sits with the TPP that set it up.
        let budget = section(&list, "Budget Buddy Ltd app");
        assert!(budget.contains("Your Account Details"), "{budget}");
        assert!(budget.contains("Standing order to Alan Turing"), "{budget}");
        for fact in [
            "<dt>From</dt><dd>Everyday",
            "<dt>Each payment</dt><dd>£10.00</dd>",
            "<dt>How often</dt><dd>Every month on day 15</dd>",
            "<dt>Next payment</dt><dd>15 January 2026</dd>",
            "<dt>Payments left</dt><dd>3 payments, until 15 March 2026</dd>",
            "<dt>Reference</dt><dd>RENT</dd>",
        ] {
            assert!(budget.contains(fact), "{fact}: {budget}");
        }
        let later = section(&list, "Pay Later Ltd app");
        for fact in [
            "Scheduled payment to Alan Turing",
            "<strong>Not paid yet</strong>",
            "<dt>Amount</dt><dd>£25.00</dd>",
            "<dt>Payment date</dt><dd>10 February 2026</dd>",
            "<dt>Reference</dt><dd>INVOICE-77</dd>",
            "<dt>Each payment</dt><dd>£3.00</dd>",
            "<dt>Payments left</dt><dd>No end date</dd>",
        ] {
            assert!(later.contains(fact), "{fact}: {later}");
        }

        // The clock passes the first payment day and the ledger pays it: one fewer left.
        bank.app.clock.advance(Duration::days(11));
        bank.app.ledger.run_daily_jobs().await.unwrap();
        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        list.assert_says("<dt>Next payment</dt><dd>15 February 2026</dd>");
        list.assert_says("<dt>Payments left</dt><dd>2 payments, until 15 March 2026</dd>");
        list.assert_says("Scheduled payment to Alan Turing");

        // Past 10 February the scheduled payment is paid and leaves the list.
        bank.app.clock.advance(Duration::days(26));
        bank.app.ledger.run_daily_jobs().await.unwrap();
        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        assert!(
            !list.body.contains("Scheduled payment to Alan Turing"),
            "{}",
            list.body
        );
        list.assert_says("<dt>Payments left</dt><dd>2 payments, until 15 March 2026</dd>");
        bank.app.clock.advance(Duration::days(5));
        bank.app.ledger.run_daily_jobs().await.unwrap();
        let phone = bank.graces_app().await;
        phone
            .get("/app/connections")
            .await
            .assert_says("<dt>Payments left</dt><dd>1 payment, on 15 March 2026</dd>");
    }
}

/// `GET /accounts` as `tpp` with an access token fresh from the refresh token in `tokens`.
async fn read_after_refresh(bank: &Bank, tpp: &Tpp, tokens: &serde_json::Value) -> Reply {
    let fresh = tpp.refresh(&bank.app, &refresh_token(tokens)).await;
    bank.accounts_as(tpp, fresh["access_token"].as_str().unwrap())
        .await
}

/// The bank suspends `consent` for `reason`.
async fn suspend(bank: &Bank, consent: &str, reason: SuspensionReason) {
    let id = bascule_domain::ConsentId::parse(consent.to_owned()).unwrap();
    let consents = bank.app.state().authz.consents();
    consents.suspend(&id, reason).await.unwrap();
}

/// The part of the connections page under the TPP `name`'s heading.
fn section<'a>(page: &'a Page, name: &str) -> &'a str {
    let start = page
        .body
        .find(&format!("<h2>{name}</h2>"))
        .unwrap_or_else(|| panic!("no {name}: {}", page.body));
    let rest = &page.body[start..];
    let end = rest
        .find("<section class=\"tpp-group\">")
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Under `tpp_reconfirms` the bank suspends one connection itself (a security event): the TPP
/// gets 403 Reauthenticate on the same ConsentId, the customer refreshes it with one passcode,
/// and the same refresh token works again with the ExpirationDateTime the TPP asked for.
#[tokio::test]
async fn a_connection_the_bank_suspends_comes_back_with_one_refresh_and_keeps_its_expiry() {
    for backend in BACKENDS {
        let bank = Bank::start_policy(backend, TPP_RECONFIRMS).await;
        let g = &bank.grace;
        let expiry = "2026-12-31T00:00:00+00:00";
        let (paused, paused_tokens) = bank
            .connect(
                &bank.tpp,
                Some(expiry),
                std::slice::from_ref(&g.everyday.id),
            )
            .await;
        let other = Tpp::tls(&bank.app, "Lend Well Ltd").await;
        let (kept, kept_tokens) = bank
            .connect(&other, Some(expiry), std::slice::from_ref(&g.bills.id))
            .await;
        let expires_at = bank.consent(&paused).await.expires_at;
        assert!(expires_at.is_some());

        // Not suspended: under tpp_reconfirms nothing to refresh.
        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        assert!(!list.body.contains("/refresh\""), "{}", list.body);
        phone
            .get(&format!("/app/connections/{paused}/refresh"))
            .await
            .assert_says("Nothing to refresh");

        bank.app.clock.advance(Duration::days(10));
        suspend(&bank, &paused, SuspensionReason::SecurityEvent).await;

        let reply = read_after_refresh(&bank, &bank.tpp, &paused_tokens).await;
        assert_eq!(reply.status, 403, "{:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Reauthenticate");
        AIS.assert_valid("GET", "/accounts", &reply);
        let held = bank.consent(&paused).await;
        assert_eq!(held.status, ConsentStatus::Authorised);
        assert_eq!(held.expires_at, expires_at);
        // The other TPP's connection carries on.
        let reply = read_after_refresh(&bank, &other, &kept_tokens).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);

        // Ten days on, the app's session has ended: Grace signs in again.
        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        let budget = section(&list, "Budget Buddy Ltd app");
        assert!(
            budget.contains("<strong>Paused by the bank: refresh to continue</strong>"),
            "{budget}"
        );
        assert!(budget.contains("keep your accounts safe"), "{budget}");
        assert!(
            budget.contains(&format!("href=\"/app/connections/{paused}/refresh\"")),
            "{budget}"
        );
        list.assert_says("1 connection needs");
        let lend = section(&list, "Lend Well Ltd app");
        assert!(!lend.contains("/refresh\""), "{lend}");
        assert!(lend.contains("<dt>Active until</dt><dd>31 December 2026</dd>"));

        let done = post_with_passcode(&phone, "/app/connections/refresh", PASSCODE).await;
        done.assert_says("Budget Buddy Ltd app can carry on using your connection");

        // The same refresh token and ConsentId, the TPP's ExpirationDateTime unchanged.
        let reply = read_after_refresh(&bank, &bank.tpp, &paused_tokens).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        let held = bank.consent(&paused).await;
        assert_eq!(held.id.as_str(), paused.as_str());
        assert_eq!(held.expires_at, expires_at);
        assert_eq!(held.bank_suspension, None);
        assert_ne!(bank.consent(&kept).await.authorised_at, held.authorised_at);
        let list = phone.get("/app/connections").await;
        assert!(!list.body.contains("Paused"), "{}", list.body);
        assert!(!list.body.contains("/refresh\""), "{}", list.body);
    }
}

#[tokio::test]
async fn under_the_90_day_rule_the_banks_own_suspension_works_too() {
    for backend in BACKENDS {
        let bank = Bank::start_policy(backend, BANK_SCA).await;
        let g = &bank.grace;
        let (consent, tokens) = bank
            .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
            .await;
        bank.app.clock.advance(Duration::days(5));
        suspend(&bank, &consent, SuspensionReason::JointHolderRequest).await;
        let reply = read_after_refresh(&bank, &bank.tpp, &tokens).await;
        assert_eq!(reply.status, 403, "{:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Reauthenticate");

        let phone = bank.graces_app().await;
        let list = phone.get("/app/connections").await;
        list.assert_says("Paused by the bank: refresh to continue");
        list.assert_says("someone who holds a shared account with you asked us");
        let done = post_with_passcode(
            &phone,
            &format!("/app/connections/{consent}/refresh"),
            PASSCODE,
        )
        .await;
        done.assert_says("Refreshed");
        let reply = read_after_refresh(&bank, &bank.tpp, &tokens).await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        // The refresh was also the strong authentication: the next 90 days start now.
        let held = bank.consent(&consent).await;
        assert_eq!(held.authorised_at, Some(bank.app.clock.now()));
    }
}

#[tokio::test]
async fn only_an_authorised_account_access_consent_can_be_suspended() {
    let bank = Bank::start(Backend::Sqlite).await;
    let g = &bank.grace;
    let consents = bank.app.state().authz.consents();
    let (consent, _) = bank
        .connect(&bank.tpp, None, std::slice::from_ref(&g.everyday.id))
        .await;
    let id = bascule_domain::ConsentId::parse(consent.clone()).unwrap();
    consents
        .revoke(&id, bascule_authz::RevokedBy::Customer)
        .await
        .unwrap();
    let refused = consents
        .suspend(&id, SuspensionReason::SecurityEvent)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, bascule_authz::ConsentError::WrongStatus { .. }),
        "{refused:?}"
    );
    let waiting = bank.account_consent(&["ReadAccountsBasic"]).await;
    let waiting = bascule_domain::ConsentId::parse(waiting).unwrap();
    assert!(
        consents
            .suspend(&waiting, SuspensionReason::SecurityEvent)
            .await
            .is_err()
    );
    let payment = bank.payment_consent(None).await;
    let payment = bascule_domain::ConsentId::parse(payment).unwrap();
    let refused = consents
        .suspend(&payment, SuspensionReason::SecurityEvent)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, bascule_authz::ConsentError::WrongKind { .. }),
        "{refused:?}"
    );
}
