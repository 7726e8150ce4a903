//! Account API benchmark: what a TPP's reads cost through the whole stack (mutual TLS, the
//! certificate-bound token check, the consent guard, the ledger query, the v3.1.11 mapping),
//! with 10k or 1M postings in the ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_domain::{Clock, Pence};
use bascule_store::Backend;
use bascule_testkit::spawn_app;
use serde_json::{Value, json};

use crate::authz::{Tpp, client_credentials_token, code_from_redirect, enrol_and_register};
use crate::{bulk_load, open_account, open_funded_accounts, report};

const BASE: &str = "/open-banking/v3.1/aisp";

/// A GET of `url` with the consent's token, the customer present: the unattended-access limit
/// does not apply.
fn read(tpp: &Tpp, url: &str, token: &str) -> reqwest::RequestBuilder {
    tpp.http
        .get(url)
        .bearer_auth(token)
        .header("x-fapi-customer-ip-address", "198.51.100.7")
}
const REDIRECT: &str = "https://bench-tpp.example/cb";

pub async fn accounts(
    backend: Backend,
    postings: u64,
    seconds: u64,
    connections: usize,
) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let dir = tempfile::tempdir()?;
    let tpp = Arc::new(enrol_and_register(&app, dir.path()).await?);

    let (customer, account) = open_account(
        &app.ledger,
        "Bench Reader",
        "reader@example.com",
        Some("Main"),
    )
    .await?;
    // The reader's account holds about 1,000 lines whatever the ledger's size, so 10k and 1M
    // postings compare the cost of a big ledger, not of a longer history.
    let mut ids = vec![account.id.clone()];
    let others = usize::try_from(postings / 1000).unwrap_or(1).max(2) - 1;
    ids.extend(open_funded_accounts(&app.ledger, others, Pence::ZERO).await?);
    let loading = Instant::now();
    bulk_load(&app.ledger, &ids, postings, app.clock.now()).await?;
    if backend == Backend::Postgres {
        // As after any bulk load: fresh statistics, or the planner guesses from an empty table.
        bascule_store::sqlx::query("ANALYZE")
            .execute(app.ledger.store().pool())
            .await?;
    }
    println!(
        "loaded {postings} postings in {:.1}s",
        loading.elapsed().as_secs_f64()
    );

    // Consent, authorisation (PAR + headless approval) and the consent-bound token.
    let cc = &client_credentials_token(&app, &tpp, "accounts").await?;
    let consent: Value = tpp
        .http
        .post(app.url(&format!("{BASE}/account-access-consents")))
        .bearer_auth(cc)
        .header("x-fapi-customer-ip-address", "198.51.100.7")
        .json(&json!({"Data": {"Permissions": ["ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail", "ReadTransactionsCredits", "ReadTransactionsDebits"]}, "Risk": {}}))
        .send()
        .await?
        .json()
        .await?;
    let consent_id = consent["Data"]["ConsentId"].as_str().context("ConsentId")?;
    let now = app.clock.now().unix_timestamp();
    let verifier = "bench-verifier-0123456789-0123456789-0123456789";
    let claims = json!({
        "iss": tpp.client_id, "aud": app.base_url, "client_id": tpp.client_id,
        "response_type": "code id_token", "redirect_uri": REDIRECT,
        "scope": "openid accounts", "state": "s", "nonce": "n", "iat": now, "nbf": now, "exp": now + 300,
        "code_challenge": bascule_jose::sha256_base64url(verifier.as_bytes()), "code_challenge_method": "S256",
        "claims": {"id_token": {"openbanking_intent_id": {"value": consent_id, "essential": true}}},
        "bascule_sandbox": {"decision": "Authorised", "customer": customer.as_str(), "accounts": [account.id.as_str()]},
    });
    let request = tpp.files.signing_key().sign_jwt(&claims, Some("JWT"))?;
    let pushed: Value = tpp
        .http
        .post(app.url("/par"))
        .form(&[("client_id", tpp.client_id.as_str()), ("request", &request)])
        .send()
        .await?
        .json()
        .await?;
    let authorize = bascule_tpp::oauth::par_authorization_url(
        &app.url("/authorize"),
        &tpp.client_id,
        pushed["request_uri"].as_str().context("request_uri")?,
    )?;
    let redirect = tpp.http.get(authorize).send().await?;
    let code = code_from_redirect(&redirect)?;
    let tokens: Value = tpp
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", tpp.client_id.as_str()),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ])
        .send()
        .await?
        .json()
        .await?;
    let token: Arc<str> = tokens["access_token"]
        .as_str()
        .context("access token")?
        .into();

    for (what, path) in [
        (
            "GET transactions (page of 100)",
            format!("{BASE}/accounts/{}/transactions", account.id),
        ),
        ("GET /accounts", format!("{BASE}/accounts")),
    ] {
        let url = app.url(&path);
        let probe = read(&tpp, &url, &token).send().await?;
        anyhow::ensure!(probe.status() == 200, "{what}: {}", probe.status());
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..connections.max(1) {
            let (tpp, url, token, stop) = (tpp.clone(), url.clone(), token.clone(), stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = read(&tpp, &url, &token).send().await?;
                    anyhow::ensure!(r.status() == 200, "read failed: {}", r.status());
                    r.bytes().await?;
                    latencies.push(t.elapsed());
                }
                Ok::<_, anyhow::Error>(latencies)
            }));
        }
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await??);
        }
        report(
            &format!("{what}, {postings} postings, {connections} connections"),
            backend,
            all,
            started.elapsed(),
        );
    }
    Ok(())
}
