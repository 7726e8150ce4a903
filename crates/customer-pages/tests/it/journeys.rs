//! The journeys over HTTP, each hop asserted: the web flow with identification and the push,
//! the bank app, app-to-app, and every way out (wrong details, limits, cancel, expiry, a
//! consent revoked while waiting, reload and double click).

use bascule_store::Backend;
use bascule_testkit::BACKENDS;
use bascule_testkit::tpp::{REDIRECT, fragment_params};
use bascule_testkit::web::{Page, WebClient};
use serde_json::Value;

use crate::support::{Bank, PIS, data, journey_path};

const WRONG_DETAILS: &str = "We couldn&#39;t match those details to an account";

async fn approve_in_app(bank: &Bank, phone: &WebClient, accounts: &[&str]) -> Page {
    let (path, screen) = bank.open_first_request(phone).await;
    let csrf = screen.csrf();
    let mut form = vec![("csrf", csrf.as_str()), ("decision", "approve")];
    for a in accounts {
        form.push(("account", a));
    }
    phone.post(&path, &form).await
}

fn status_of(page: &Page) -> &str {
    page.body.trim()
}

#[tokio::test]
async fn web_flow_identify_push_approve_with_a_pot_then_the_tpp_reads_what_it_was_given() {
    for backend in BACKENDS {
        let bank = Bank::start(backend).await;
        let consent = bank
            .account_consent(&["ReadAccountsDetail", "ReadBalances"])
            .await;
        let web = WebClient::new(&bank.app);
        let page = bank.start_journey(&web, &consent, "accounts").await;
        page.assert_says("Budget Buddy Ltd");
        page.assert_says("Your Account Details");
        page.assert_says("Your account balances");
        let e = bank.everyday;
        let waiting = bank
            .identify(
                &web,
                &page,
                "grace hopper",
                &e.sort_code.dashed(),
                e.account_number.as_str(),
            )
            .await;
        let journey = journey_path(&page);
        assert_eq!(waiting.redirect(), format!("{journey}/wait"));
        let wait = web.follow(waiting).await;
        wait.assert_says("Approve in your banking app");
        assert_eq!(
            status_of(&web.get(&format!("{journey}/status")).await),
            r#"{"state":"waiting"}"#
        );

        let phone = bank.graces_app().await;
        let (_, screen) = bank.open_first_request(&phone).await;
        screen.assert_says("Holiday pot");
        screen.assert_says("Bills");
        let g = &bank.grace;
        let pot = g.pot.as_ref().unwrap();
        let done = approve_in_app(&bank, &phone, &[g.everyday.id.as_str(), pot.id.as_str()]).await;
        assert_eq!(done.status, 200, "{}", done.body);
        done.assert_says("Go back to your browser");
        assert_eq!(
            status_of(&web.get(&format!("{journey}/status")).await),
            r#"{"state":"decided"}"#
        );

        let back = web.get(&format!("{journey}/continue")).await;
        let to = back.redirect();
        assert!(to.starts_with(&format!("{REDIRECT}#")), "{to}");
        let params = fragment_params(to);
        assert!(params.contains_key("id_token"), "{params:?}");
        let tokens = bank.tpp.redeem(&bank.app, to).await;
        let token = tokens["access_token"].as_str().unwrap();
        let accounts = bank.read("/accounts", token).await;
        assert_eq!(accounts.status, 200, "{:#}", accounts.body);
        let ids: Vec<&str> = data(&accounts)["Account"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["AccountId"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 2, "{ids:?}");
        assert!(ids.contains(&pot.id.as_str()), "the pot is shared: {ids:?}");
        assert!(ids.contains(&g.everyday.id.as_str()));
        bank.session.api.assert_valid("GET", "/accounts", &accounts);

        // The browser's way back is spent: the journey has ended.
        let again = web.get(&format!("{journey}/continue")).await;
        assert_eq!(again.status, 404, "{}", again.body);
        let _ = backend;
    }
}

#[tokio::test]
async fn no_approval_request_is_created_unless_name_sort_code_and_account_number_all_match() {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let web = WebClient::new(&bank.app);
    let page = bank.start_journey(&web, &consent, "accounts").await;
    let e = bank.everyday;
    let alan = bank.alan.account.identification.unwrap();
    let (sc, an) = (e.sort_code.dashed(), e.account_number.as_str().to_owned());
    let wrong: Vec<(&str, String, String)> = vec![
        ("Grace Hoper", sc.clone(), an.clone()),
        ("Grace Hopper", "04-00-05".into(), an.clone()),
        ("Grace Hopper", sc.clone(), "12345678".into()),
        ("Alan Turing", sc.clone(), an.clone()),
        (
            "Grace Hopper",
            alan.sort_code.dashed(),
            alan.account_number.as_str().into(),
        ),
        ("", sc.clone(), an.clone()),
        ("Grace Hopper", "not a sort code".into(), an.clone()),
    ];
    let mut bodies = Vec::new();
    for (name, sort_code, account) in &wrong {
        let answer = bank.identify(&web, &page, name, sort_code, account).await;
        assert_eq!(
            answer.status, 200,
            "{name} {sort_code} {account}: {}",
            answer.body
        );
        answer.assert_says(WRONG_DETAILS);
        // Never which field was wrong: the same page whatever it was (but the name typed).
        bodies.push(answer.body.replace(&format!("value=\"{name}\""), ""));
        assert_eq!(
            bank.approval_requests().await,
            0,
            "{name} {sort_code} {account}"
        );
    }
    let error_of = |b: &str| {
        let s = b.find("role=\"alert\"").unwrap();
        b[s..s + 200].to_owned()
    };
    for b in &bodies {
        assert_eq!(error_of(b), error_of(&bodies[0]));
    }
    let right = bank.identify(&web, &page, "Grace Hopper", &sc, &an).await;
    assert!(right.redirect().ends_with("/wait"));
    assert_eq!(bank.approval_requests().await, 1);
}

#[tokio::test]
async fn twenty_wrong_attempts_from_one_address_are_limited_and_the_customers_app_still_approves() {
    let bank = Bank::start(Backend::Sqlite).await;
    let e = bank.everyday;
    // A journey the real customer identified first.
    let mine = bank.account_consent(&["ReadAccountsBasic"]).await;
    let web = WebClient::new(&bank.app);
    let page = bank.start_journey(&web, &mine, "accounts").await;
    let journey = journey_path(&page);
    let sent = bank
        .identify(
            &web,
            &page,
            "Grace Hopper",
            &e.sort_code.dashed(),
            e.account_number.as_str(),
        )
        .await;
    assert!(sent.redirect().ends_with("/wait"));

    // Someone else guessing from the same address.
    let theirs = bank.account_consent(&["ReadAccountsBasic"]).await;
    let attacker = WebClient::new(&bank.app);
    let guess = bank.start_journey(&attacker, &theirs, "accounts").await;
    let mut statuses = Vec::new();
    for n in 0..20 {
        let answer = bank
            .identify(
                &attacker,
                &guess,
                "Grace Hopper",
                "04-00-04",
                &format!("{:08}", 10_000_000 + n),
            )
            .await;
        statuses.push(answer.status);
        if answer.status == 429 {
            answer.assert_says("Too many attempts");
            answer.assert_says("you can still approve requests in your banking app");
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses[19], 429);
    // Limited means limited, even with the right details.
    let right = bank
        .identify(
            &attacker,
            &guess,
            "Grace Hopper",
            &e.sort_code.dashed(),
            e.account_number.as_str(),
        )
        .await;
    assert_eq!(right.status, 429);
    assert_eq!(bank.approval_requests().await, 1);

    // Grace's app is not locked: she approves, and her browser returns to the TPP.
    let phone = bank.graces_app().await;
    let done = approve_in_app(&bank, &phone, &[bank.grace.everyday.id.as_str()]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let back = web.get(&format!("{journey}/continue")).await;
    assert!(
        back.redirect().starts_with(&format!("{REDIRECT}#code=")),
        "{:?}",
        back.location
    );
}

#[tokio::test]
async fn cancel_goes_back_to_the_tpp_with_access_denied_and_the_consent_is_rejected() {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let web = WebClient::new(&bank.app);
    let page = bank.start_journey(&web, &consent, "accounts").await;
    let journey = journey_path(&page);
    // A form without its CSRF token is refused.
    let forged = web.post(&format!("{journey}/cancel"), &[]).await;
    assert_eq!(forged.status, 403);
    let back = web
        .post(&format!("{journey}/cancel"), &[("csrf", &page.csrf())])
        .await;
    let params = fragment_params(back.redirect());
    assert_eq!(
        params.get("error").map(String::as_str),
        Some("access_denied")
    );
    let status = bank.consent(&consent).await.status;
    assert_eq!(status.as_str(), "Rejected");
}

#[tokio::test]
async fn app_to_app_goes_straight_to_the_approval_screen_and_back_to_the_tpp() {
    for backend in BACKENDS {
        let bank = Bank::start(backend).await;
        let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
        let phone = bank.graces_app().await;
        let start = phone
            .get(&bank.authorization_url("/app/authorize", &consent, "accounts"))
            .await;
        assert!(start.redirect().starts_with("/app/journeys/"), "{start:?}");
        let screen = phone.follow(start).await;
        assert_eq!(screen.status, 200, "{}", screen.body);
        screen.assert_says("Approve Budget Buddy Ltd");
        let path = screen
            .body
            .split("action=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_owned();
        let pot = bank.grace.pot.as_ref().unwrap();
        let back = phone
            .post(
                &path,
                &[
                    ("csrf", &screen.csrf()),
                    ("decision", "approve"),
                    ("account", pot.id.as_str()),
                ],
            )
            .await;
        let to = back.redirect();
        assert!(to.starts_with(&format!("{REDIRECT}#code=")), "{to}");
        let token = bank.tpp.redeem(&bank.app, to).await;
        let accounts = bank
            .read("/accounts", token["access_token"].as_str().unwrap())
            .await;
        assert_eq!(data(&accounts)["Account"].as_array().unwrap().len(), 1);
        // A second press of Approve decides nothing more.
        let twice = phone
            .post(
                &path,
                &[
                    ("csrf", &screen.csrf()),
                    ("decision", "approve"),
                    ("account", pot.id.as_str()),
                ],
            )
            .await;
        twice.assert_says("Already decided");
    }
}

#[tokio::test]
async fn a_payment_naming_the_debtor_account_is_prefilled_locked_and_shows_payee_amount_reference()
{
    let bank = Bank::start_with(Backend::Sqlite, PIS).await;
    let e = bank.everyday;
    let consent = bank.payment_consent(Some(&e)).await;
    let web = WebClient::new(&bank.app);
    let page = bank.start_journey(&web, &consent, "payments").await;
    page.assert_says(&format!("value=\"{}\" readonly", e.sort_code.dashed()));
    page.assert_says(&format!("value=\"{}\" readonly", e.account_number.as_str()));
    page.assert_says("£12.50");
    // What the form sends for a locked account is ignored: the named account is used.
    let alan = bank.alan.account.identification.unwrap();
    let sent = bank
        .identify(
            &web,
            &page,
            "Grace Hopper",
            &alan.sort_code.dashed(),
            alan.account_number.as_str(),
        )
        .await;
    assert!(sent.redirect().ends_with("/wait"), "{}", sent.body);
    let phone = bank.graces_app().await;
    let (path, screen) = bank.open_first_request(&phone).await;
    for shown in [
        "Alan Turing",
        "£12.50",
        "DINNER-42",
        "From your account",
        "Now",
    ] {
        screen.assert_says(shown);
    }
    let done = phone
        .post(&path, &[("csrf", &screen.csrf()), ("decision", "approve")])
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let back = web.get(&format!("{}/continue", journey_path(&page))).await;
    bank.tpp.redeem(&bank.app, back.redirect()).await;
    let stored = bank.consent(&consent).await;
    assert_eq!(stored.status.as_str(), "Authorised");
    assert_eq!(stored.accounts, vec![bank.grace.everyday.id.clone()]);
}

#[tokio::test]
async fn an_approval_request_expires_after_five_minutes_and_cannot_be_approved_then() {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let web = WebClient::new(&bank.app);
    let page = bank.start_journey(&web, &consent, "accounts").await;
    let journey = journey_path(&page);
    let e = bank.everyday;
    bank.identify(
        &web,
        &page,
        "Grace Hopper",
        &e.sort_code.dashed(),
        e.account_number.as_str(),
    )
    .await;
    let phone = bank.graces_app().await;
    let (path, screen) = bank.open_first_request(&phone).await;
    bank.app.clock.advance(time::Duration::seconds(301));
    assert_eq!(
        status_of(&web.get(&format!("{journey}/status")).await),
        r#"{"state":"decided"}"#
    );
    let expired = web.get(&format!("{journey}/continue")).await;
    expired.assert_says("The request to your app expired");
    let late = phone
        .post(
            &path,
            &[
                ("csrf", &screen.csrf()),
                ("decision", "approve"),
                ("account", bank.grace.everyday.id.as_str()),
            ],
        )
        .await;
    late.assert_says("This request expired");
    let status = bank.consent(&consent).await.status;
    assert_eq!(status.as_str(), "AwaitingAuthorisation");
    // A new push can be sent from the same page.
    let again = web.get(&journey).await;
    assert_eq!(again.status, 200);
    again.assert_says("Send to my app");
}

#[tokio::test]
async fn a_consent_revoked_while_the_customer_decides_cannot_be_approved() {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let web = WebClient::new(&bank.app);
    let page = bank.start_journey(&web, &consent, "accounts").await;
    let e = bank.everyday;
    bank.identify(
        &web,
        &page,
        "Grace Hopper",
        &e.sort_code.dashed(),
        e.account_number.as_str(),
    )
    .await;
    let token = bank.tpp.client_credentials(&bank.app, "accounts").await;
    let deleted = bank
        .delete(&format!("/account-access-consents/{consent}"), &token)
        .await;
    assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    let phone = bank.graces_app().await;
    let inbox = phone.get("/app").await;
    inbox.assert_says("Nothing to approve right now");
    let back = web.get(&format!("{}/continue", journey_path(&page))).await;
    assert_eq!(back.status, 200);
    back.assert_says("can no longer be approved");
}

#[tokio::test]
async fn pages_are_never_cached_or_framed_and_the_session_cookie_is_locked_down() {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let web = WebClient::new(&bank.app);
    let start = web
        .get(&bank.authorization_url("/authorize", &consent, "accounts"))
        .await;
    let cookie = start.headers["set-cookie"].to_str().unwrap();
    for part in [
        "__Host-bascule_session=",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
        "Path=/",
    ] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let page = web.follow(start).await;
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(page.headers["cache-control"], "no-store");
    assert!(!page.body.contains("<script>"), "no inline script");
    // Another browser cannot use this journey.
    let other = WebClient::new(&bank.app);
    let stolen = other.get(&journey_path(&page)).await;
    assert_eq!(stolen.status, 404);
    let _: Option<Value> = None;
}

#[tokio::test]
async fn headless_approval_is_refused_once_the_bank_is_no_longer_in_sandbox_mode() {
    let bank = Bank::start(Backend::Sqlite).await;
    let consent = bank.account_consent(&["ReadAccountsBasic"]).await;
    let grace = &bank.grace;
    let claim =
        bascule_testkit::tpp::approve(&grace.customer.id, std::slice::from_ref(&grace.everyday.id));
    let url =
        bank.tpp
            .authorization_url(&bank.app, "/authorize", &consent, "accounts", Some(claim));
    let params: std::collections::HashMap<String, String> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    // The same bank, its mode switched off: the client was registered in sandbox mode, but
    // the server's mode now is what counts.
    let state = bank.app.state();
    let live = &state.authz;
    let mut production = live.config().clone();
    production.sandbox = false;
    let authz = bascule_authz::Authz::new(
        state.store.clone(),
        state.clock.clone(),
        live.registrar().clone(),
        live.keys().clone(),
        state.core_banking.clone(),
        production,
    );
    match authz.authorize(&params).await.unwrap() {
        bascule_authz::AuthorizeOutcome::Redirect(to) => {
            let p = fragment_params(&to);
            assert_eq!(
                p.get("error").map(String::as_str),
                Some("invalid_request"),
                "{to}"
            );
            assert!(p["error_description"].contains("sandbox mode"), "{to}");
        }
        other => panic!("expected an error redirect, got {other:?}"),
    }
    // In sandbox mode the same request is approved at once.
    let answer = WebClient::new(&bank.app).get(url.as_str()).await;
    assert!(
        answer.redirect().starts_with(&format!("{REDIRECT}#code=")),
        "{answer:?}"
    );
}
