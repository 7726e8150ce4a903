//! Payment Initiation benchmark: domestic payment submissions (detached-JWS verification,
//! idempotency, consent consumption, limit reservation, settlement on the ledger, a signed
//! response) with many connections; afterwards the ledger must hold exactly as many payments as
//! were accepted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_core_banking::{CoreBanking, TransactionQuery};
use bascule_domain::{Clock, Pence};
use bascule_store::Backend;
use bascule_testkit::spawn_app;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use crate::authz::{Tpp, client_credentials_token, code_from_redirect, enrol_and_register};
use crate::{fund, open_account, report};

const BASE: &str = "/open-banking/v3.1/pisp";
const REDIRECT: &str = "https://bench-tpp.example/cb";
const IAT: &str = "http://openbanking.org.uk/iat";
const ISS: &str = "http://openbanking.org.uk/iss";
const TAN: &str = "http://openbanking.org.uk/tan";

fn initiation(n: usize) -> Value {
    json!({
        "InstructionIdentification": format!("BENCH{n}"),
        "EndToEndIdentification": format!("BENCH.E2E.{n}"),
        "LocalInstrument": "UK.OBIE.FPS",
        "InstructedAmount": {"Amount": "1.00", "Currency": "GBP"},
        "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "20000012345678", "Name": "Bench Payee"},
        "RemittanceInformation": {"Reference": format!("BENCH-{n}")}
    })
}

fn signed(tpp: &Tpp, now: i64, body: &[u8]) -> anyhow::Result<String> {
    let mut header = Map::new();
    header.insert("typ".into(), json!("JOSE"));
    header.insert(IAT.into(), json!(now - 1));
    header.insert(
        ISS.into(),
        json!(format!(
            "{}/{}",
            tpp.files.organisation_id(),
            tpp.files.software_id()
        )),
    );
    header.insert(TAN.into(), json!("openbanking.org.uk"));
    header.insert("crit".into(), json!([IAT, ISS, TAN]));
    Ok(tpp.files.signing_key().sign_detached(header, body)?)
}

async fn post(
    tpp: &Tpp,
    url: &str,
    token: &str,
    now: i64,
    body: &Value,
    key: &str,
) -> anyhow::Result<(u16, Value)> {
    let bytes = serde_json::to_vec(body)?;
    let r = tpp
        .http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("x-idempotency-key", key)
        .header("x-jws-signature", signed(tpp, now, &bytes)?)
        .header("x-fapi-customer-ip-address", "198.51.100.7")
        .body(bytes)
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

pub async fn payments(backend: Backend, count: usize, connections: usize) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let dir = tempfile::tempdir()?;
    let tpp = Arc::new(enrol_and_register(&app, dir.path()).await?);
    let (customer, account) =
        open_account(&app.ledger, "Bench Payer", "payer@example.com", None).await?;
    fund(&app.ledger, &account.id, Pence::from_pounds(1_000_000)).await?;
    let now = app.clock.now().unix_timestamp();
    let cc = client_credentials_token(&app, &tpp, "payments").await?;

    // Authorised consents, one per payment, prepared before the clock starts.
    let preparing = Instant::now();
    let mut prepared = Vec::with_capacity(count);
    for n in 0..count {
        let (status, consent) = post(
            &tpp,
            &app.url(&format!("{BASE}/domestic-payment-consents")),
            &cc,
            now,
            &json!({"Data": {"Initiation": initiation(n)}, "Risk": {"PaymentContextCode": "PartyToParty"}}),
            &format!("consent-{n}"),
        )
        .await?;
        anyhow::ensure!(status == 201, "consent: {status} {consent}");
        let consent_id = consent["Data"]["ConsentId"]
            .as_str()
            .context("ConsentId")?
            .to_owned();
        let claims = json!({
            "iss": tpp.client_id, "aud": app.base_url, "client_id": tpp.client_id,
            "response_type": "code id_token", "redirect_uri": REDIRECT,
            "scope": "openid payments", "state": "s", "nonce": "n", "iat": now, "nbf": now, "exp": now + 300,
            "claims": {"id_token": {"openbanking_intent_id": {"value": consent_id, "essential": true}}},
            "bascule_sandbox": {"decision": "Authorised", "customer": customer.as_str(), "accounts": [account.id.as_str()]},
        });
        let request = tpp.files.signing_key().sign_jwt(&claims, Some("JWT"))?;
        let mut url = reqwest::Url::parse(&app.url("/authorize"))?;
        url.query_pairs_mut()
            .append_pair("client_id", &tpp.client_id)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", "openid payments")
            .append_pair("request", &request);
        let redirect = tpp.http.get(url).send().await?;
        let code = code_from_redirect(&redirect)?;
        let tokens: Value = tpp
            .http
            .post(app.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", tpp.client_id.as_str()),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ])
            .send()
            .await?
            .json()
            .await?;
        let token = tokens["access_token"]
            .as_str()
            .context("access token")?
            .to_owned();
        prepared.push((n, consent_id, token));
    }
    println!(
        "prepared {count} authorised consents in {:.1}s",
        preparing.elapsed().as_secs_f64()
    );

    let queue = Arc::new(Mutex::new(prepared));
    let url = app.url(&format!("{BASE}/domestic-payments"));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (tpp, queue, url) = (tpp.clone(), queue.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut accepted = 0usize;
            loop {
                let Some((n, consent_id, token)) = queue.lock().await.pop() else { break };
                let body = json!({"Data": {"ConsentId": consent_id, "Initiation": initiation(n)}, "Risk": {"PaymentContextCode": "PartyToParty"}});
                let t = Instant::now();
                let (status, reply) = post(&tpp, &url, &token, now, &body, &format!("payment-{n}")).await?;
                latencies.push(t.elapsed());
                anyhow::ensure!(status == 201, "payment: {status} {reply}");
                if reply["Data"]["Status"] == "AcceptedSettlementCompleted" {
                    accepted += 1;
                }
            }
            Ok::<_, anyhow::Error>((latencies, accepted))
        }));
    }
    let mut all = Vec::new();
    let mut accepted = 0;
    for t in tasks {
        let (l, a) = t.await??;
        all.extend(l);
        accepted += a;
    }
    let elapsed = started.elapsed();
    report(
        &format!("domestic payment submissions, {connections} connections"),
        backend,
        all,
        elapsed,
    );
    // The funding credit is the account's only other line.
    let page = app
        .ledger
        .transactions(
            &account.id,
            &TransactionQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?;
    let debits = page.total.saturating_sub(1);
    println!(
        "accepted {accepted} payments; the ledger holds {debits} debits on the payer's account"
    );
    anyhow::ensure!(
        debits as usize == accepted,
        "ledger debits differ from accepted payments"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
    Ok(())
}
