//! `bascule admin` against a running bank's database: a customer's connections listed, every
//! consent of a TPP revoked at once (its tokens die), one connection suspended by the bank, the
//! reminder job run on demand.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use bascule_store::Backend;
use bascule_testkit::Tpp;
use bascule_testkit::api::{Api, Call, Session, consent_id};
use bascule_testkit::tpp::approve;
use serde_json::json;

const AIS: Api = Api::new(
    "/open-banking/v3.1/aisp",
    "v3.1.11/account-info-openapi.json",
    true,
);

fn run_admin(session: &Session, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bascule"))
        .arg("admin")
        .arg("--data-dir")
        .arg(session.app.data_dir.path())
        .args(args)
        .env("BASCULE_DATABASE_URL", &session.app.db.url)
        .output()
        .expect("bascule admin runs")
}

fn admin(session: &Session, args: &[&str]) -> String {
    let out = run_admin(session, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

async fn connect(session: &Session, tpp: &Tpp) -> (String, String) {
    let token = tpp.client_credentials(&session.app, "accounts").await;
    let reply = session
        .call(
            Call::post(
                "/account-access-consents",
                &token,
                &json!({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}}),
            )
            .via(tpp),
        )
        .await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
    let consent = consent_id(&reply.body);
    let g = &session.grace;
    let tokens = tpp
        .authorise(
            &session.app,
            &consent,
            "accounts",
            approve(&g.customer.id, std::slice::from_ref(&g.everyday.id)),
        )
        .await;
    (consent, tokens["access_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn admin_lists_a_customers_connections_and_revokes_every_consent_of_a_tpp() {
    let session = Session::start(Backend::Sqlite, AIS, "Budget Buddy Ltd", false)
        .await
        .unwrap();
    let (first, first_token) = connect(&session, &session.tpp).await;
    let (second, second_token) = connect(&session, &session.tpp).await;
    let other = Tpp::tls(&session.app, "Lend Well Ltd").await;
    let (kept, kept_token) = connect(&session, &other).await;

    let listed = admin(
        &session,
        &[
            "connections",
            "--customer",
            session.grace.customer.id.as_str(),
        ],
    );
    for id in [&first, &second, &kept] {
        assert!(listed.contains(id.as_str()), "{listed}");
    }
    assert!(listed.contains("Budget Buddy Ltd app"), "{listed}");
    assert!(listed.contains("Lend Well Ltd app"), "{listed}");

    let revoked = admin(
        &session,
        &["revoke-tpp", "--client-id", &session.tpp.client_id],
    );
    assert!(revoked.contains("2 consents revoked now"), "{revoked}");
    for token in [&first_token, &second_token] {
        assert_eq!(session.get("/accounts", token).await.status, 401);
    }
    let still = session
        .call(Call::get("/accounts", &kept_token).via(&other))
        .await;
    assert_eq!(still.status, 200, "the other TPP keeps its access");

    let reminders = admin(&session, &["send-reminders"]);
    assert!(reminders.contains("reminders sent"), "{reminders}");
}

/// The bank suspends one connection: its TPP gets 403 Reauthenticate, the listing says why, and
/// the consent keeps its id, status and ExpirationDateTime; another TPP carries on.
#[tokio::test]
async fn admin_suspends_one_connection_until_the_customer_refreshes_it() {
    for backend in bascule_testkit::BACKENDS {
        let session = Session::start(backend, AIS, "Budget Buddy Ltd", false)
            .await
            .unwrap();
        let (paused, paused_token) = connect(&session, &session.tpp).await;
        let other = Tpp::tls(&session.app, "Lend Well Ltd").await;
        let (_, kept_token) = connect(&session, &other).await;
        let consents = session.app.state().authz.consents();
        let before = consents.get(&paused).await.unwrap().unwrap();

        let wrong = run_admin(
            &session,
            &["suspend", "--consent", &paused, "--reason", "bored"],
        );
        assert!(!wrong.status.success(), "an unknown reason is refused");
        let done = admin(
            &session,
            &[
                "suspend",
                "--consent",
                &paused,
                "--reason",
                "security-event",
            ],
        );
        assert!(
            done.contains("suspended by the bank (security-event)"),
            "{done}"
        );

        let reply = session.get("/accounts", &paused_token).await;
        assert_eq!(reply.status, 403, "{:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Reauthenticate");
        AIS.assert_valid("GET", "/accounts", &reply);
        let still = session
            .call(Call::get("/accounts", &kept_token).via(&other))
            .await;
        assert_eq!(still.status, 200, "the other TPP keeps its access");
        let after = consents.get(&paused).await.unwrap().unwrap();
        assert_eq!(after.status, before.status);
        assert_eq!(after.expires_at, before.expires_at);
        assert!(after.bank_suspension.is_some());

        let listed = admin(
            &session,
            &[
                "connections",
                "--customer",
                session.grace.customer.id.as_str(),
            ],
        );
        let line = listed
            .lines()
            .find(|l| l.starts_with(paused.as_str()))
            .unwrap_or_else(|| panic!("{listed}"));
        assert!(
            line.contains("suspended by the bank: security-event"),
            "{line}"
        );

        let joint = admin(
            &session,
            &["suspend", "--consent", &paused, "--reason", "joint-holder"],
        );
        assert!(joint.contains("(joint-holder)"), "{joint}");
        let refused = run_admin(
            &session,
            &[
                "suspend",
                "--consent",
                "no-such-consent",
                "--reason",
                "joint-holder",
            ],
        );
        assert!(!refused.status.success());
    }
}
