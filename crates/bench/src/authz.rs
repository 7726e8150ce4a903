//! Authorisation-server benchmarks against the real server over mutual TLS on loopback:
//! client-credentials tokens under many connections, and complete headless authorisations
//! (PAR → authorize → code → token) one after another.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_directory::{EnrolRequest, Role};
use bascule_domain::{Clock, ConsentKind};
use bascule_store::Backend;
use bascule_testkit::{TestApp, spawn_app};
use bascule_tls::IssuedCertificate;
use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
use serde_json::{Value, json};

use crate::{open_account, report};

pub(crate) struct Tpp {
    pub client_id: String,
    pub files: TppFiles,
    pub http: reqwest::Client,
}

pub(crate) async fn enrol_and_register(
    app: &TestApp,
    dir: &std::path::Path,
) -> anyhow::Result<Tpp> {
    let directory = app.state().directory.clone().context("sandbox directory")?;
    let enrolment = directory
        .enrol(&EnrolRequest {
            organisation_name: "Bench TPP Ltd".into(),
            software_name: "Bench App".into(),
            roles: Role::ALL.to_vec(),
            redirect_uris: vec!["https://bench-tpp.example/cb".into()],
            ..EnrolRequest::default()
        })
        .await?;
    enrolment.write_to(dir, &app.ca_pem, &app.base_url)?;
    let files = TppFiles::load(dir)?;
    let registration = TppClient::new(&files)?
        .register(
            &app.url("/register"),
            &app.state().config.bank.organisation_id,
            &RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth),
            app.clock.now().unix_timestamp(),
        )
        .await?;
    let identity =
        IssuedCertificate::read_from(&dir.join("transport.pem"), &dir.join("transport.key"))?;
    let ca = rustls_pki_types::CertificateDer::from_pem_slice(app.ca_pem.as_bytes())?;
    let tls = bascule_tls::client_config(&ca, Some(&identity))?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls(Arc::unwrap_or_clone(tls))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(128)
        .build()?;
    Ok(Tpp {
        client_id: registration.client_id,
        files,
        http,
    })
}

use rustls_pki_types::pem::PemObject;

/// `/token` client_credentials with `connections` concurrent clients for `seconds`.
pub async fn tokens(backend: Backend, seconds: u64, connections: usize) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let dir = tempfile::tempdir()?;
    let tpp = Arc::new(enrol_and_register(&app, dir.path()).await?);
    let url = app.url("/token");
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (tpp, url, stop) = (tpp.clone(), url.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = tpp
                    .http
                    .post(&url)
                    .form(&[
                        ("grant_type", "client_credentials"),
                        ("client_id", &tpp.client_id),
                        ("scope", "accounts"),
                    ])
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 200, "token request failed: {}", r.status());
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
        &format!("token client_credentials, {connections} connections"),
        backend,
        all,
        started.elapsed(),
    );
    Ok(())
}

/// A client-credentials access token for `scope`.
pub(crate) async fn client_credentials_token(
    app: &TestApp,
    tpp: &Tpp,
    scope: &str,
) -> anyhow::Result<String> {
    let token: Value = tpp
        .http
        .post(app.url("/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", tpp.client_id.as_str()),
            ("scope", scope),
        ])
        .send()
        .await?
        .json()
        .await?;
    Ok(token["access_token"]
        .as_str()
        .context("cc token")?
        .to_owned())
}

/// The authorisation code in the fragment of the bank's redirect back to the TPP.
pub(crate) fn code_from_redirect(redirect: &reqwest::Response) -> anyhow::Result<String> {
    let location = redirect
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .context("location")?;
    Ok(location
        .split_once('#')
        .and_then(|(_, f)| f.split('&').find_map(|p| p.strip_prefix("code=")))
        .context("code")?
        .to_owned())
}

/// Complete headless authorisations, one after another, for `seconds`.
pub async fn authorisations(backend: Backend, seconds: u64) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let dir = tempfile::tempdir()?;
    let tpp = enrol_and_register(&app, dir.path()).await?;
    let (customer, account) =
        open_account(&app.ledger, "Bench Customer", "bench@example.com", None).await?;
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
            "response_type": "code id_token", "redirect_uri": "https://bench-tpp.example/cb",
            "scope": "openid accounts", "state": "s", "nonce": "n", "iat": now, "nbf": now, "exp": now + 300,
            "code_challenge": challenge, "code_challenge_method": "S256",
            "claims": {"id_token": {"openbanking_intent_id": {"value": consent.id.as_str(), "essential": true}}},
            "bascule_sandbox": {"decision": "Authorised", "customer": customer.as_str(), "accounts": [account.id.as_str()]},
        });
        let request = key.sign_jwt(&claims, Some("JWT"))?;
        let pushed: Value = tpp
            .http
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
        let redirect = tpp.http.get(authorize).send().await?;
        let code = code_from_redirect(&redirect)?;
        let token = tpp
            .http
            .post(app.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", &tpp.client_id),
                ("code", &code),
                ("redirect_uri", "https://bench-tpp.example/cb"),
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
