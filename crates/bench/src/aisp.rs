//! Account API benchmark: what a TPP's reads cost through the whole stack (mutual TLS, the
//! certificate-bound token check, the consent guard, the ledger query, the v3.1.11 mapping),
//! with 10k or 1M postings in the ledger.

use std::sync::Arc;

use anyhow::Context;

use bascule_store::Backend;
use bascule_testkit::spawn_app;
use bascule_testkit::tpp::{access_token, approve};
use serde_json::{Value, json};

use crate::authz::bench_tpp;
use crate::{hammer, reader_with_history, report};

const BASE: &str = "/open-banking/v3.1/aisp";

pub async fn accounts(
    backend: Backend,
    postings: u64,
    seconds: u64,
    connections: usize,
) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let tpp = Arc::new(bench_tpp(&app).await?);
    let (customer, account) = reader_with_history(
        &app,
        backend,
        postings,
        ("Bench Reader", "reader@example.com"),
    )
    .await?;

    // Consent, authorisation (PAR + headless approval) and the consent-bound token.
    let cc = tpp.client_credentials(&app, "accounts").await;
    let consent: Value = tpp
        .http()
        .post(app.url(&format!("{BASE}/account-access-consents")))
        .bearer_auth(&cc)
        .header("x-fapi-customer-ip-address", "198.51.100.7")
        .json(&json!({"Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits"]}, "Risk": {}}))
        .send()
        .await?
        .json()
        .await?;
    let consent_id = consent["Data"]["ConsentId"].as_str().context("ConsentId")?;
    let approval = approve(&customer.id, std::slice::from_ref(&account.id));
    let tokens = tpp.authorise(&app, consent_id, "accounts", approval).await;
    let token: Arc<str> = access_token(&tokens).into();

    for (what, path) in [
        (
            "GET transactions (page of 100)",
            format!("{BASE}/accounts/{}/transactions", account.id),
        ),
        ("GET /accounts", format!("{BASE}/accounts")),
    ] {
        let url = app.url(&path);
        let probe = tpp
            .http()
            .get(&url)
            .bearer_auth(&*token)
            .header("x-fapi-customer-ip-address", "198.51.100.7")
            .send()
            .await?;
        anyhow::ensure!(probe.status() == 200, "{what}: {}", probe.status());
        let (tpp, token) = (tpp.clone(), token.clone());
        let (all, elapsed) = hammer(connections, seconds, move || {
            tpp.http()
                .get(&url)
                .bearer_auth(&*token)
                // The customer is present: the unattended-access limit does not apply.
                .header("x-fapi-customer-ip-address", "198.51.100.7")
        })
        .await?;
        report(
            &format!("{what}, {postings} postings, {connections} connections"),
            backend,
            all,
            elapsed,
        );
    }
    Ok(())
}
