//! `events`: time from a change to its SET's receipt by a local TPP receiver (HTTPS on
//! loopback), through the real server's outbox and push worker.
//!
//! - `--source postings` (default): ledger postings, through the ledger-feed job. They go in
//!   waves, one per account of an authorised account-access consent, each wave waiting for all
//!   its events, so every receipt answers exactly one posting.
//! - `--source payments`: domestic payment submissions (`--concurrency` at once), whose status
//!   change writes the event in the payment's own transaction; latency counts from the start of
//!   the POST to the receipt of the payment's first delivered SET.
//!
//! With `--fail-half` the receiver answers 503 to half the notifications (pseudo-randomly):
//! latency then counts to the successful attempt, after the bank's back-off
//! (`--first-backoff-ms`, doubling per retry up to `--max-backoff-ms`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_domain::{AccountId, Clock, CustomerId, Pence};
use bascule_store::Backend;
use bascule_testkit::api::{AIS, Call, EVENTS, Jws, consent_id};
use bascule_testkit::people::{open_current_account, pay_in};
use bascule_testkit::receiver::Receiver;
use bascule_testkit::tpp::approve;
use bascule_testkit::{TestApp, Tpp, spawn_app_with};
use serde_json::json;
use tokio::sync::Mutex;

use crate::authz::bench_tpp;
use crate::{bench_customer, report};

/// What causes the events the bench times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    Postings,
    Payments,
}

pub async fn events(
    backend: Backend,
    source: Source,
    count: usize,
    accounts: usize,
    concurrency: usize,
    fail_half: bool,
    (first_backoff_ms, max_backoff_ms): (u64, u64),
) -> anyhow::Result<()> {
    let app = spawn_app_with(backend, |c| {
        c.event_first_backoff_ms = first_backoff_ms;
        c.event_max_backoff_ms = max_backoff_ms;
    })
    .await?;
    // The bank's clock follows real time, so back-off delays elapse as they would in a bank.
    let clock = app.clock.clone();
    let ticking = tokio::spawn(async move {
        let mut last = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            let now = Instant::now();
            clock.advance(time::Duration::try_from(now - last).unwrap_or_default());
            last = now;
        }
    });
    let tpp = bench_tpp(&app).await?;
    let (customer, first) =
        bench_customer(&app.ledger, "Bench Saver", "saver@example.com", Pence::ZERO).await?;
    let mut ids: Vec<AccountId> = vec![first.id];
    for _ in 1..accounts.max(1) {
        ids.push(
            open_current_account(&app.ledger, &customer.id, None, Pence::ZERO)
                .await?
                .id,
        );
    }
    let cc = tpp.client_credentials(&app, "accounts").await;
    // Postings are news to the TPP only through an account-access consent; payments are its own.
    if source == Source::Postings {
        let consent = AIS
            .send(
                &app,
                &tpp,
                Call::new(reqwest::Method::POST, "/account-access-consents", &cc).json(json!({
                    "Data": {"Permissions": ["ReadAccountsDetail", "ReadTransactionsDetail",
                                             "ReadTransactionsCredits"]},
                    "Risk": {}
                })),
            )
            .await;
        anyhow::ensure!(consent.status == 201, "consent: {}", consent.body);
        let consent = consent_id(&consent.body);
        tpp.authorise(&app, &consent, "accounts", approve(&customer.id, &ids))
            .await;
    }
    // Half the pushes fail, pseudo-randomly by their number (Fibonacci hashing's top bit).
    let receiver = Receiver::failing(&app, move |n| {
        fail_half && (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 63 == 1
    })
    .await;
    let subscribed = EVENTS
        .send(
            &app,
            &tpp,
            Call::new(reqwest::Method::POST, "/event-subscriptions", &cc)
                .json(json!({"Data": {"CallbackUrl": receiver.url, "Version": "3.1"}}))
                .jws(Jws::Sign),
        )
        .await;
    anyhow::ensure!(
        subscribed.status == 201,
        "subscription: {}",
        subscribed.body
    );

    let (latencies, attempts, elapsed) = match source {
        Source::Postings => postings(&app, &receiver, &ids, count).await?,
        Source::Payments => {
            let payer = &ids[0];
            pay_in(&app.ledger, payer, Pence::from_pounds(1_000_000), "FUNDS").await?;
            payments(
                &app,
                &tpp,
                &receiver,
                &customer.id,
                payer,
                count,
                concurrency,
            )
            .await?
        }
    };
    ticking.abort();
    let delivered = latencies.len();
    report(
        &format!(
            "{} → SET received{}",
            match source {
                Source::Postings => format!("ledger posting, {} accounts per wave", ids.len()),
                Source::Payments => format!("payment submission, {concurrency} at once"),
            },
            if fail_half {
                ", receiver failing half"
            } else {
                ""
            }
        ),
        backend,
        latencies,
        elapsed,
    );
    println!(
        "{delivered} events delivered in {:.1}s = {:.0} deliveries/s ({attempts} attempts)",
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64()
    );
    app.shutdown().await?;
    Ok(())
}

/// Postings in waves of one per account → (latency of each, notifications seen).
async fn postings(
    app: &TestApp,
    receiver: &Receiver,
    ids: &[AccountId],
    count: usize,
) -> anyhow::Result<(Vec<Duration>, usize, Duration)> {
    let started = Instant::now();
    let waves = count.div_ceil(ids.len());
    let mut latencies = Vec::with_capacity(waves * ids.len());
    let mut attempts = 0usize;
    for wave in 0..waves {
        let mut posted: HashMap<String, Instant> = HashMap::new();
        for id in ids {
            posted.insert(id.to_string(), Instant::now());
            pay_in(&app.ledger, id, Pence(100), &format!("WAVE-{wave}")).await?;
        }
        while !posted.is_empty() {
            let n = receiver
                .next_within(Duration::from_secs(120))
                .await
                .with_context(|| {
                    format!(
                        "no notification within 120 s (wave {wave}, {} waiting, {attempts} attempts)",
                        posted.len()
                    )
                })?;
            attempts += 1;
            if n.answered != 202 {
                continue;
            }
            let rid = updated_resource(&n.jwt)?;
            let at = posted
                .remove(&rid)
                .with_context(|| format!("an event for {rid}, not posted in wave {wave}"))?;
            latencies.push(n.received_at.saturating_duration_since(at));
        }
    }
    Ok((latencies, attempts, started.elapsed()))
}

/// `count` domestic payments, `concurrency` at once → (latency of each from its POST to its
/// first delivered SET, notifications seen).
async fn payments(
    app: &TestApp,
    tpp: &Tpp,
    receiver: &Receiver,
    customer: &CustomerId,
    payer: &AccountId,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<(Vec<Duration>, usize, Duration)> {
    let now = app.clock.now().unix_timestamp();
    let cc = tpp.client_credentials(app, "payments").await;
    let prepared = crate::pisp::prepare(app, tpp, customer, payer, &cc, now, count).await?;
    let queue = Arc::new(Mutex::new(prepared));
    let url = app.url("/open-banking/v3.1/pisp/domestic-payments");
    let first_post = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (queue, url) = (queue.clone(), url.clone());
        tasks.push(async move {
            let mut started = Vec::new();
            loop {
                let Some((n, consent_id, token)) = queue.lock().await.pop() else {
                    break;
                };
                let body = json!({"Data": {"ConsentId": consent_id, "Initiation": crate::pisp::initiation(n)},
                                  "Risk": {"PaymentContextCode": "PartyToParty"}});
                let t = Instant::now();
                let (status, reply) =
                    crate::pisp::post(tpp, &url, &token, now, &body, &format!("payment-{n}")).await?;
                anyhow::ensure!(status == 201, "payment: {status} {reply}");
                let id = reply["Data"]["DomesticPaymentId"]
                    .as_str()
                    .context("DomesticPaymentId")?
                    .to_owned();
                started.push((id, t));
            }
            anyhow::Ok(started)
        });
    }
    let mut submitted: HashMap<String, Instant> = HashMap::new();
    for started in futures::future::join_all(tasks).await {
        submitted.extend(started?);
    }
    let mut latencies = Vec::with_capacity(count);
    let mut attempts = 0usize;
    while !submitted.is_empty() {
        let n = receiver
            .next_within(Duration::from_secs(120))
            .await
            .with_context(|| {
                format!(
                    "no notification within 120 s ({} payments waiting, {attempts} attempts)",
                    submitted.len()
                )
            })?;
        attempts += 1;
        if n.answered != 202 {
            continue;
        }
        // A payment's later status changes (if any) arrive after its first: counted once.
        if let Some(at) = submitted.remove(&updated_resource(&n.jwt)?) {
            latencies.push(n.received_at.saturating_duration_since(at));
        }
    }
    Ok((latencies, attempts, first_post.elapsed()))
}

/// The `rid` of a resource-update SET (read without verification: the tests verify).
fn updated_resource(jwt: &str) -> anyhow::Result<String> {
    let (_, claims) = bascule_jose::decode_unverified(jwt)?;
    Ok(
        claims["events"]["urn:uk:org:openbanking:events:resource-update"]["subject"]
            ["http://openbanking.org.uk/rid"]
            .as_str()
            .context("a resource-update rid")?
            .to_owned(),
    )
}
