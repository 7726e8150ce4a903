//! The journeys in a real headless Chromium: the customer's browser on a desktop, the bank app
//! on a phone. Every page is checked with axe-core (WCAG 2.1 AA, zero violations) and written
//! as a screenshot to the test kit's screenshots folder (`target/screenshots`).

use std::time::Duration;

use anyhow::Context;
use bascule_store::Backend;
use bascule_testkit::browser::{Browser, Device};
use bascule_testkit::tpp::{REDIRECT, fragment_params};
use fantoccini::Locator;

use bascule_domain::Reauthentication;

use crate::support::{Bank, PASSCODE, PIS};

const WAIT: Duration = Duration::from_secs(20);

/// Accessible, and photographed as `name`.
async fn page(browser: &Browser, name: &str) -> anyhow::Result<()> {
    browser
        .assert_accessible()
        .await
        .with_context(|| format!("the {name} page"))?;
    browser.screenshot(name).await?;
    Ok(())
}

async fn attribute(browser: &Browser, css: &str, name: &str) -> anyhow::Result<Option<String>> {
    Ok(browser
        .client()
        .find(Locator::Css(css))
        .await?
        .attr(name)
        .await?)
}

/// The phone, signed into the bank app as Grace.
async fn graces_phone(bank: &Bank, shots: Option<&str>) -> anyhow::Result<Browser> {
    let phone = Browser::launch(Device::Phone).await?;
    phone.goto(&bank.app.url("/app")).await?;
    phone.wait_for("#passcode", WAIT).await?;
    if let Some(name) = shots {
        page(&phone, &format!("{name}-app-sign-in")).await?;
    }
    phone.fill("#passcode", PASSCODE).await?;
    phone.click("button.primary").await?;
    heading(&phone, "Hello Grace").await?;
    Ok(phone)
}

/// The desktop browser at the identification page of a new web journey.
async fn identification(bank: &Bank, consent: &str, scope: &str) -> anyhow::Result<Browser> {
    identification_on(Device::Desktop, bank, consent, scope).await
}

async fn identification_on(
    device: Device,
    bank: &Bank,
    consent: &str,
    scope: &str,
) -> anyhow::Result<Browser> {
    let browser = Browser::launch(device).await?;
    browser
        .goto(&bank.authorization_url("/authorize", consent, scope))
        .await?;
    browser.wait_for("#full_name", WAIT).await?;
    Ok(browser)
}

async fn identify(
    desktop: &Browser,
    name: &str,
    sort_code: &str,
    number: &str,
) -> anyhow::Result<()> {
    desktop.fill("#full_name", name).await?;
    if attribute(desktop, "#sort_code", "readonly")
        .await?
        .is_none()
    {
        desktop.fill("#sort_code", sort_code).await?;
        desktop.fill("#account_number", number).await?;
    }
    desktop
        .click("form[action$='/identify'] button.primary")
        .await?;
    Ok(())
}

/// Grace identifies on the desktop; the waiting page shows.
async fn graces_details(bank: &Bank, desktop: &Browser, shots: &str) -> anyhow::Result<()> {
    let e = bank.everyday;
    identify(
        desktop,
        "Grace Hopper",
        &e.sort_code.dashed(),
        e.account_number.as_str(),
    )
    .await?;
    desktop.wait_for("#waiting", WAIT).await?;
    page(desktop, &format!("{shots}-waiting")).await
}

/// The phone opens the newest request from its inbox.
async fn open_request(phone: &Browser, shots: &str) -> anyhow::Result<()> {
    phone.goto(&phone.current_url().await?).await?;
    phone.wait_for("ul.inbox a", WAIT).await?;
    page(phone, &format!("{shots}-app-inbox")).await?;
    phone.click("ul.inbox a").await?;
    phone.wait_for("button[value=approve]", WAIT).await?;
    page(phone, &format!("{shots}-app-approval")).await
}

async fn back_at_the_tpp(browser: &Browser) -> anyhow::Result<String> {
    browser
        .wait_for_url(|u| u.starts_with(REDIRECT), WAIT)
        .await
}

#[tokio::test]
async fn web_flow_approve_choosing_everyday_and_the_holiday_pot() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank
        .account_consent(&[
            "ReadAccountsDetail",
            "ReadBalances",
            "ReadTransactionsDetail",
            "ReadTransactionsCredits",
        ])
        .await;
    let desktop = identification(&bank, &consent, "accounts").await?;
    page(&desktop, "web-approve-identify").await?;
    graces_details(&bank, &desktop, "web-approve").await?;
    let phone = graces_phone(&bank, Some("web-approve")).await?;
    open_request(&phone, "web-approve").await?;
    let g = &bank.grace;
    let pot = g.pot.as_ref().context("the pot")?;
    phone
        .click(&format!("input[value='{}']", g.everyday.id.as_str()))
        .await?;
    phone
        .click(&format!("input[value='{}']", pot.id.as_str()))
        .await?;
    phone.click("button[value=approve]").await?;
    heading(&phone, "Approved").await?;
    page(&phone, "web-approve-app-done").await?;

    let at_tpp = back_at_the_tpp(&desktop).await?;
    let tokens = bank.tpp.redeem(&bank.app, &at_tpp).await;
    let accounts = bank
        .read(
            "/accounts",
            tokens["access_token"].as_str().context("a token")?,
        )
        .await;
    let shared: Vec<&str> = accounts.body["Data"]["Account"]
        .as_array()
        .context("accounts")?
        .iter()
        .filter_map(|a| a["AccountId"].as_str())
        .collect();
    anyhow::ensure!(
        shared.len() == 2 && shared.contains(&pot.id.as_str()),
        "{shared:?}"
    );
    desktop.close().await?;
    phone.close().await
}

#[tokio::test]
async fn web_flow_reject_in_the_app_sends_access_denied() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let desktop = identification(&bank, &consent, "accounts").await?;
    page(&desktop, "web-reject-identify").await?;
    graces_details(&bank, &desktop, "web-reject").await?;
    let phone = graces_phone(&bank, None).await?;
    open_request(&phone, "web-reject").await?;
    phone.click("button[value=reject]").await?;
    heading(&phone, "Declined").await?;
    page(&phone, "web-reject-app-done").await?;
    let at_tpp = back_at_the_tpp(&desktop).await?;
    let params = fragment_params(&at_tpp);
    anyhow::ensure!(
        params.get("error").map(String::as_str) == Some("access_denied"),
        "{at_tpp}"
    );
    desktop.close().await?;
    phone.close().await
}

#[tokio::test]
async fn wrong_details_send_no_push_and_say_the_same_whatever_was_wrong() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let desktop = identification(&bank, &consent, "accounts").await?;
    let e = bank.everyday;
    let (sc, an) = (e.sort_code.dashed(), e.account_number.as_str().to_owned());
    let mut messages = Vec::new();
    for (name, sort_code, number) in [
        ("Grace Hoper", sc.as_str(), an.as_str()),
        ("Grace Hopper", "04-00-05", an.as_str()),
        ("Grace Hopper", sc.as_str(), "12345678"),
    ] {
        identify(&desktop, name, sort_code, number).await?;
        messages.push(settled_text(&desktop, ".error").await?);
    }
    page(&desktop, "web-wrong-details").await?;
    // On a phone-sized browser too: the same message, still no push.
    let phone = identification_on(Device::Phone, &bank, &consent, "accounts").await?;
    identify(&phone, "Grace Hopper", &sc, "87654321").await?;
    messages.push(settled_text(&phone, ".error").await?);
    page(&phone, "web-wrong-details").await?;
    anyhow::ensure!(messages.iter().all(|m| m == &messages[0]), "{messages:?}");
    anyhow::ensure!(bank.approval_requests().await == 0);
    phone.close().await?;
    desktop.close().await
}

#[tokio::test]
async fn a_payment_naming_grace_s_account_is_prefilled_and_locked() -> anyhow::Result<()> {
    let bank = Bank::start_with(Backend::Sqlite, PIS).await;
    let e = bank.everyday;
    let consent = bank.payment_consent(Some(&e)).await;
    let desktop = identification(&bank, &consent, "payments").await?;
    anyhow::ensure!(
        attribute(&desktop, "#sort_code", "readonly")
            .await?
            .is_some()
    );
    anyhow::ensure!(
        attribute(&desktop, "#account_number", "value")
            .await?
            .as_deref()
            == Some(e.account_number.as_str())
    );
    page(&desktop, "payment-prefilled-identify").await?;
    graces_details(&bank, &desktop, "payment-prefilled").await?;
    let phone = graces_phone(&bank, None).await?;
    open_request(&phone, "payment-prefilled").await?;
    let screen = phone.text("main").await?;
    for shown in ["Alan Turing", "£12.50", "DINNER-42", "From your account"] {
        anyhow::ensure!(screen.contains(shown), "{shown} missing: {screen}");
    }
    phone.click("button[value=approve]").await?;
    let at_tpp = back_at_the_tpp(&desktop).await?;
    anyhow::ensure!(fragment_params(&at_tpp).contains_key("code"), "{at_tpp}");
    desktop.close().await?;
    phone.close().await
}

#[tokio::test]
async fn a_payment_without_a_debtor_lets_grace_choose_the_paying_account() -> anyhow::Result<()> {
    let bank = Bank::start_with(Backend::Sqlite, PIS).await;
    let consent = bank.payment_consent(None).await;
    let desktop = identification(&bank, &consent, "payments").await?;
    graces_details(&bank, &desktop, "payment-choose").await?;
    let phone = graces_phone(&bank, None).await?;
    open_request(&phone, "payment-choose").await?;
    // Payments come from current accounts only: no pot to choose.
    let choices = phone.text("fieldset").await?;
    anyhow::ensure!(
        choices.contains("Bills") && !choices.contains("pot"),
        "{choices}"
    );
    phone
        .click(&format!("input[value='{}']", bank.grace.bills.id.as_str()))
        .await?;
    phone.click("button[value=approve]").await?;
    back_at_the_tpp(&desktop).await?;
    let stored = bank
        .app
        .state()
        .authz
        .consents()
        .get(&consent)
        .await?
        .context("the consent")?;
    anyhow::ensure!(stored.accounts == vec![bank.grace.bills.id.clone()]);
    desktop.close().await?;
    phone.close().await
}

#[tokio::test]
async fn app_to_app_straight_to_approval_choosing_only_the_pot() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank
        .account_consent(&["ReadAccountsBasic", "ReadBalances"])
        .await;
    let phone = graces_phone(&bank, Some("app-to-app")).await?;
    phone
        .goto(&bank.authorization_url("/app/authorize", &consent, "accounts"))
        .await?;
    phone.wait_for("button[value=approve]", WAIT).await?;
    page(&phone, "app-to-app-approval").await?;
    let pot = bank.grace.pot.as_ref().context("the pot")?;
    phone
        .click(&format!("input[value='{}']", pot.id.as_str()))
        .await?;
    phone.click("button[value=approve]").await?;
    let at_tpp = back_at_the_tpp(&phone).await?;
    let tokens = bank.tpp.redeem(&bank.app, &at_tpp).await;
    let accounts = bank
        .read(
            "/accounts",
            tokens["access_token"].as_str().context("a token")?,
        )
        .await;
    let n = accounts.body["Data"]["Account"].as_array().map(Vec::len);
    anyhow::ensure!(n == Some(1), "{:#}", accounts.body);
    // The same approval screen, desktop-sized.
    let desktop = Browser::launch(Device::Desktop).await?;
    desktop.goto(&bank.app.url("/app")).await?;
    desktop.wait_for("#passcode", WAIT).await?;
    page(&desktop, "app-to-app-sign-in").await?;
    desktop.close().await?;
    phone.close().await
}

#[tokio::test]
async fn cancel_on_the_identification_page_returns_access_denied() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let desktop = identification(&bank, &consent, "accounts").await?;
    page(&desktop, "cancel-identify").await?;
    desktop.click("form[action$='/cancel'] button").await?;
    let at_tpp = back_at_the_tpp(&desktop).await?;
    anyhow::ensure!(
        fragment_params(&at_tpp).get("error").map(String::as_str) == Some("access_denied"),
        "{at_tpp}"
    );
    // The same page, phone-sized.
    let another = bank.account_consent(&["ReadAccountsBasic"]).await;
    let phone = identification_on(Device::Phone, &bank, &another, "accounts").await?;
    page(&phone, "cancel-identify").await?;
    desktop.close().await?;
    phone.close().await
}

#[tokio::test]
async fn a_request_expiring_while_the_page_waits_shows_a_clear_page() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let desktop = identification(&bank, &consent, "accounts").await?;
    graces_details(&bank, &desktop, "expiry").await?;
    bank.app.clock.advance(time::Duration::seconds(301));
    // The waiting page notices by itself and moves on.
    desktop
        .wait_for_url(|u| u.ends_with("/continue"), WAIT)
        .await?;
    heading(&desktop, "The request to your app expired").await?;
    page(&desktop, "expiry-expired").await?;
    let phone = graces_phone(&bank, None).await?;
    let inbox = phone.text("main").await?;
    anyhow::ensure!(inbox.contains("Nothing to approve right now"), "{inbox}");
    page(&phone, "expiry-app-inbox").await?;
    desktop.close().await?;
    phone.close().await
}

/// Waits until the page's heading is `title` (the next page has loaded).
async fn heading(browser: &Browser, title: &str) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let now = browser.text("h1").await.unwrap_or_default();
        if now == title {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "expected the page {title:?}, still at {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of `css` once the page that shows it has loaded (a read during navigation can
/// meet the old page's element or none: tried again until `WAIT`).
async fn settled_text(browser: &Browser, css: &str) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if browser.wait_for(css, WAIT).await.is_ok()
            && let Ok(text) = browser.text(css).await
        {
            return Ok(text);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "no {css} appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// How many elements `css` matches on the page.
async fn count(browser: &Browser, css: &str) -> anyhow::Result<usize> {
    Ok(browser.client().find_all(Locator::Css(css)).await?.len())
}

/// `GET /accounts` as `tpp` after refreshing its `tokens`: the status the TPP gets.
async fn tpp_reads(bank: &Bank, tpp: &bascule_testkit::Tpp, tokens: &serde_json::Value) -> u16 {
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, body) = tpp
        .token(
            &bank.app,
            &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
        )
        .await;
    if status != 200 {
        return 401;
    }
    bank.accounts_as(tpp, body["access_token"].as_str().unwrap())
        .await
        .status
}

#[tokio::test]
async fn dashboard_lists_three_tpps_refreshes_all_revokes_one_changes_accounts_hides_balances()
-> anyhow::Result<()> {
    let bank = Bank::start_policy(Backend::Sqlite, Reauthentication::BankScaEvery90Days).await;
    let g = &bank.grace;
    let lend = bascule_testkit::Tpp::tls(&bank.app, "Lend Well Ltd").await;
    let save = bascule_testkit::Tpp::tls(&bank.app, "Save Smart Ltd").await;
    let everyday = std::slice::from_ref(&g.everyday.id);
    let (budget_id, budget) = bank.connect(&bank.tpp, None, everyday).await;
    let (lend_id, lend_tokens) = bank.connect(&lend, None, everyday).await;
    let (_, save_tokens) = bank
        .connect(
            &save,
            None,
            &[g.bills.id.clone(), g.pot.clone().unwrap().id],
        )
        .await;
    // Payment connections: a standing order (Save Smart) and a scheduled payment (Lend Well).
    let rent = bank.monthly_to_alan("10.00", Some("2026-12-15T06:00:00+00:00"));
    bank.payment_order(&save, "/domestic-standing-orders", rent)
        .await;
    let invoice = bank.scheduled_to_alan("25.00", "2026-06-01T10:00:00+00:00");
    bank.payment_order(&lend, "/domestic-scheduled-payments", invoice)
        .await;
    bank.app.clock.advance(time::Duration::days(90));
    // The ledger pays what fell due meanwhile (January to March): 9 of 12 payments are left.
    bank.app.ledger.run_daily_jobs().await?;
    assert_eq!(tpp_reads(&bank, &bank.tpp, &budget).await, 403);

    let phone = graces_phone(&bank, None).await?;
    page(&phone, "dashboard-app-home").await?;
    phone.click("a[href='/app/connections']").await?;
    phone.wait_for(".tpp-group", WAIT).await?;
    anyhow::ensure!(count(&phone, ".tpp-group h2").await? == 3, "three TPPs");
    anyhow::ensure!(count(&phone, ".status.paused").await? == 3, "all paused");
    anyhow::ensure!(
        count(&phone, ".connection.payment").await? == 2,
        "a standing order and a scheduled payment"
    );
    let listed = phone.text("main").await?;
    for said in [
        "Standing order to Alan Turing",
        "15 April 2026",
        "9 payments, until 15 December 2026",
        "Scheduled payment to Alan Turing",
        "1 June 2026",
    ] {
        anyhow::ensure!(listed.contains(said), "{said}: {listed}");
    }
    page(&phone, "dashboard-connections-paused").await?;
    phone
        .screenshot_full_page("dashboard-connections-paused-full")
        .await?;

    // Refresh all: one passcode, every connection on its own ConsentId and refresh token.
    phone.click("a[href='/app/connections/refresh']").await?;
    phone.wait_for("#passcode", WAIT).await?;
    page(&phone, "dashboard-refresh-all").await?;
    phone.fill("#passcode", PASSCODE).await?;
    phone.click("button.primary").await?;
    heading(&phone, "Refreshed").await?;
    page(&phone, "dashboard-refreshed").await?;
    for (tpp, tokens) in [
        (&bank.tpp, &budget),
        (&lend, &lend_tokens),
        (&save, &save_tokens),
    ] {
        assert_eq!(tpp_reads(&bank, tpp, tokens).await, 200);
    }

    // Revoke one, after its confirmation: that TPP gets 401, the others carry on.
    phone.goto(&bank.app.url("/app/connections")).await?;
    phone.wait_for(".tpp-group", WAIT).await?;
    anyhow::ensure!(count(&phone, ".status.paused").await? == 0, "none paused");
    page(&phone, "dashboard-connections").await?;
    phone.screenshot_full_page("dashboard-connections").await?;
    phone
        .click(&format!("a[href='/app/connections/{lend_id}/revoke']"))
        .await?;
    phone
        .wait_for("form[action$='/revoke'] button", WAIT)
        .await?;
    page(&phone, "dashboard-revoke-confirm").await?;
    phone.click("form[action$='/revoke'] button").await?;
    heading(&phone, "Connection stopped").await?;
    page(&phone, "dashboard-revoked").await?;
    assert_eq!(tpp_reads(&bank, &lend, &lend_tokens).await, 401);
    assert_eq!(tpp_reads(&bank, &bank.tpp, &budget).await, 200);

    // Change the accounts Budget Buddy sees: Bills instead of Everyday.
    phone
        .goto(
            &bank
                .app
                .url(&format!("/app/connections/{budget_id}/accounts")),
        )
        .await?;
    phone.wait_for("#passcode", WAIT).await?;
    page(&phone, "dashboard-change-accounts").await?;
    phone
        .click(&format!("input[value='{}']", g.everyday.id.as_str()))
        .await?;
    phone
        .click(&format!("input[value='{}']", g.bills.id.as_str()))
        .await?;
    phone.fill("#passcode", PASSCODE).await?;
    phone.click("button.primary").await?;
    heading(&phone, "Accounts changed").await?;
    page(&phone, "dashboard-accounts-changed").await?;
    assert_eq!(
        bank.consent(&budget_id).await.accounts,
        vec![g.bills.id.clone()]
    );

    // The bank pauses Budget Buddy itself (a joint holder asked): the dashboard says so and
    // why, and one refresh lifts it on the same ConsentId and refresh token.
    let id = bascule_domain::ConsentId::parse(budget_id.clone())?;
    bank.app
        .state()
        .authz
        .consents()
        .suspend(&id, bascule_domain::SuspensionReason::JointHolderRequest)
        .await?;
    assert_eq!(tpp_reads(&bank, &bank.tpp, &budget).await, 403);
    phone.goto(&bank.app.url("/app/connections")).await?;
    phone.wait_for(".paused-because", WAIT).await?;
    let paused = settled_text(&phone, ".status.paused").await?;
    anyhow::ensure!(
        paused == "Paused by the bank: refresh to continue",
        "{paused}"
    );
    page(&phone, "dashboard-paused-by-bank").await?;
    phone
        .screenshot_full_page("dashboard-paused-by-bank")
        .await?;
    phone
        .click(&format!("a[href='/app/connections/{budget_id}/refresh']"))
        .await?;
    phone.wait_for("#passcode", WAIT).await?;
    page(&phone, "dashboard-refresh-paused-by-bank").await?;
    phone.fill("#passcode", PASSCODE).await?;
    phone.click("button.primary").await?;
    heading(&phone, "Refreshed").await?;
    assert_eq!(tpp_reads(&bank, &bank.tpp, &budget).await, 200);
    assert_eq!(bank.consent(&budget_id).await.bank_suspension, None);

    // Hide balances: the home shows them only when tapped.
    phone.goto(&bank.app.url("/app")).await?;
    phone.wait_for("ul.accounts", WAIT).await?;
    phone
        .click("form[action='/app/settings/balances'] button")
        .await?;
    phone.wait_for("details.balance", WAIT).await?;
    page(&phone, "dashboard-balances-hidden").await?;
    anyhow::ensure!(!phone.text("ul.accounts").await?.contains('£'), "hidden");
    phone.click("details.balance summary").await?;
    anyhow::ensure!(phone.text("ul.accounts").await?.contains('£'), "tapped");
    page(&phone, "dashboard-balance-tapped").await?;
    phone.close().await?;
    Ok(())
}

#[tokio::test]
async fn developer_tokens_are_made_shown_once_and_revoked_on_a_phone() -> anyhow::Result<()> {
    let bank = Bank::start(Backend::Sqlite).await;
    let phone = graces_phone(&bank, None).await?;
    phone.click("a[href='/app/developer']").await?;
    heading(&phone, "Developer tokens").await?;
    page(&phone, "developer-empty").await?;
    phone.fill("#name", "Budget spreadsheet").await?;
    phone.click("#scope-move").await?;
    phone.fill("#passcode", PASSCODE).await?;
    phone
        .click("form[action='/app/developer/tokens'] button")
        .await?;
    heading(&phone, "Your new token").await?;
    page(&phone, "developer-token-made").await?;
    let token = phone.value("#token").await?;
    anyhow::ensure!(token.starts_with("bpt_"), "{token}");
    let status = bank
        .app
        .client
        .get(bank.app.url("/personal/v1/pots"))
        .bearer_auth(&token)
        .send()
        .await?
        .status();
    anyhow::ensure!(status == 200, "the token works: {status}");

    phone.click("a[href='/app/developer']").await?;
    heading(&phone, "Developer tokens").await?;
    let listed = phone.text("main").await?;
    anyhow::ensure!(
        listed.contains("Read, and move money between my pots") && !listed.contains(&token),
        "{listed}"
    );
    page(&phone, "developer-listed").await?;
    phone.click("form[action$='/revoke'] button").await?;
    heading(&phone, "Developer tokens").await?;
    phone.wait_for("main", WAIT).await?;
    anyhow::ensure!(phone.text("main").await?.contains("Revoked"));
    page(&phone, "developer-revoked").await?;
    let status = bank
        .app
        .client
        .get(bank.app.url("/personal/v1/pots"))
        .bearer_auth(&token)
        .send()
        .await?
        .status();
    anyhow::ensure!(status == 401, "revoked at once: {status}");
    phone.close().await?;
    Ok(())
}
