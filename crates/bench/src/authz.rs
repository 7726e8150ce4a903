//! Authorisation-server benchmarks against the real server over mutual TLS on loopback:
//! client-credentials tokens under many connections, and complete headless authorisations
//! (PAR → authorize → code → token) one after another.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_domain::{Clock, ConsentKind, Pence};
use bascule_store::Backend;
use bascule_testkit::tpp::REDIRECT;
use bascule_testkit::{TestApp, Tpp, spawn_app};
use bascule_tpp::TokenEndpointAuthMethod;
use serde_json::{Value, json};

use crate::{bench_customer, hammer, report};

/// The bench's TPP: enrolled with the sandbox directory, registered with `tls_client_auth`.
pub(crate) async fn bench_tpp(app: &TestApp) -> anyhow::Result<Tpp> {
    Tpp::register(app, "Bench TPP Ltd", TokenEndpointAuthMethod::TlsClientAuth).await
}

/// `/token` client_credentials with `connections` concurrent clients for `seconds`.
pub async fn tokens(backend: Backend, seconds: u64, connections: usize) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let tpp = Arc::new(bench_tpp(&app).await?);
    let url = app.url("/token");
    let (all, elapsed) = hammer(connections, seconds, move || {
        tpp.http().post(&url).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", tpp.client_id.as_str()),
            ("scope", "accounts"),
        ])
    })
    .await?;
    report(
        &format!("token client_credentials, {connections} connections"),
        backend,
        all,
        elapsed,
    );
    Ok(())
}

/// Complete headless authorisations, one after another, for `seconds`.
pub async fn authorisations(backend: Backend, seconds: u64) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let tpp = bench_tpp(&app).await?;
    let (customer, account) = bench_customer(
        &app.ledger,
        "Bench Customer",
        "bench@example.com",
        Pence::ZERO,
    )
    .await?;
    let authz = app.state().authz.clone();
    let key = tpp.files.signing_key();
    let started = Instant::now();
    let mut latencies = Vec::new();
    let verifier = "bench-verifier-0123456789-0123456789-0123456789";
    let challenge = bascule_jose::sha256_base64url(verifier.as_bytes());
    while started.elapsed() < Duration::from_secs(seconds) {
        let t = Instant::now();
        let now = app.clock.now().unix_timestamp();
        let consent = authz
            .consents()
            .create(
                ConsentKind::AccountAccess,
                &tpp.client_id,
                Some(app.clock.now() + time::Duration::days(90)),
                "{}".into(),
            )
            .await?;
        let claims = json!({
            "iss": tpp.client_id, "aud": app.base_url, "client_id": tpp.client_id,
            "response_type": "code id_token", "redirect_uri": REDIRECT,
            "scope": "openid accounts", "state": "s", "nonce": "n", "iat": now, "nbf": now, "exp": now + 300,
            "code_challenge": challenge, "code_challenge_method": "S256",
            "claims": {"id_token": {"openbanking_intent_id": {"value": consent.id.as_str(), "essential": true}}},
            "bascule_sandbox": {"decision": "Authorised", "customer": customer.id.as_str(), "accounts": [account.id.as_str()]},
        });
        let request = key.sign_jwt(&claims, Some("JWT"))?;
        let pushed: Value = tpp
            .http()
            .post(app.url("/par"))
            .form(&[("client_id", tpp.client_id.as_str()), ("request", &request)])
            .send()
            .await?
            .json()
            .await?;
        let request_uri = pushed["request_uri"].as_str().context("request_uri")?;
        let authorize = bascule_tpp::oauth::par_authorization_url(
            &app.url("/authorize"),
            &tpp.client_id,
            request_uri,
        )?;
        let redirect = tpp.http().get(authorize).send().await?;
        let location = redirect
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .context("location")?;
        let fragment = location
            .split_once('#')
            .map(|(_, f)| f)
            .context("fragment")?;
        let code = fragment
            .split('&')
            .find_map(|p| p.strip_prefix("code="))
            .context("code")?;
        let token = tpp
            .http()
            .post(app.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", &tpp.client_id),
                ("code", code),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier),
            ])
            .send()
            .await?;
        anyhow::ensure!(
            token.status() == 200,
            "token exchange failed: {}",
            token.status()
        );
        token.bytes().await?;
        latencies.push(t.elapsed());
    }
    report(
        "full headless authorisation (consent, PAR, authorize, token)",
        backend,
        latencies,
        started.elapsed(),
    );
    Ok(())
}
