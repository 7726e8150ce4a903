//! Payment Initiation benchmark: domestic payment submissions (detached-JWS verification,
//! idempotency, consent consumption, limit reservation, settlement on the ledger, a signed
//! response) with many connections; afterwards the ledger must hold exactly as many payments as
//! were accepted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_core_banking::{CoreBanking, TransactionQuery};
use bascule_domain::{AccountId, Clock, CustomerId, Pence};
use bascule_store::Backend;
use bascule_testkit::tpp::{access_token, approve};
use bascule_testkit::{TestApp, Tpp, spawn_app};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::authz::bench_tpp;
use crate::{bench_customer, report};

const BASE: &str = "/open-banking/v3.1/pisp";

pub(crate) fn initiation(n: usize) -> Value {
    json!({
        "InstructionIdentification": format!("BENCH{n}"),
        "EndToEndIdentification": format!("BENCH.E2E.{n}"),
        "LocalInstrument": "UK.OBIE.FPS",
        "InstructedAmount": {"Amount": "1.00", "Currency": "GBP"},
        "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber", "Identification": "20000012345678", "Name": "Bench Payee"},
        "RemittanceInformation": {"Reference": format!("BENCH-{n}")}
    })
}

pub(crate) async fn post(
    tpp: &Tpp,
    url: &str,
    token: &str,
    now: i64,
    body: &Value,
    key: &str,
) -> anyhow::Result<(u16, Value)> {
    let bytes = serde_json::to_vec(body)?;
    let r = tpp
        .http()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("x-idempotency-key", key)
        .header(
            "x-jws-signature",
            tpp.sign_detached(tpp.jose_header(now), &bytes),
        )
        .header("x-fapi-customer-ip-address", "198.51.100.7")
        .body(bytes)
        .send()
        .await?;
    let status = r.status().as_u16();
    let text = r.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// `count` domestic payment consents of £1.00 from `account`, each authorised headlessly by
/// `customer` → (n, ConsentId, its access token), for [`initiation`]`(n)`.
pub(crate) async fn prepare(
    app: &TestApp,
    tpp: &Tpp,
    customer: &CustomerId,
    account: &AccountId,
    cc: &str,
    now: i64,
    count: usize,
) -> anyhow::Result<Vec<(usize, String, String)>> {
    let preparing = Instant::now();
    let mut prepared = Vec::with_capacity(count);
    for n in 0..count {
        let (status, consent) = post(
            tpp,
            &app.url(&format!("{BASE}/domestic-payment-consents")),
            cc,
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
        let approval = approve(customer, std::slice::from_ref(account));
        let tokens = tpp.authorise(app, &consent_id, "payments", approval).await;
        let token = access_token(&tokens);
        prepared.push((n, consent_id, token));
    }
    println!(
        "prepared {count} authorised consents in {:.1}s",
        preparing.elapsed().as_secs_f64()
    );
    Ok(prepared)
}

pub async fn payments(backend: Backend, count: usize, connections: usize) -> anyhow::Result<()> {
    let app = spawn_app(backend).await?;
    let tpp = Arc::new(bench_tpp(&app).await?);
    let (customer, account) = bench_customer(
        &app.ledger,
        "Bench Payer",
        "payer@example.com",
        Pence::from_pounds(1_000_000),
    )
    .await?;
    let now = app.clock.now().unix_timestamp();
    let cc = tpp.client_credentials(&app, "payments").await;

    // Authorised consents, one per payment, prepared before the clock starts.
    let prepared = prepare(&app, &tpp, &customer.id, &account.id, &cc, now, count).await?;
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
