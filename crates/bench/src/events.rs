//! `events`: time from a ledger posting to its SET's receipt by a local TPP receiver (HTTPS on
//! loopback), through the real server's outbox, ledger-feed job and push worker. The postings go
//! in waves, one per account of an authorised account-access consent, each wave waiting for all
//! its events, so every receipt answers exactly one posting. With `--fail-half` the receiver
//! answers 503 to half the notifications (pseudo-randomly): latency then counts to the
//! successful attempt, after the bank's back-off (`--first-backoff-ms`, doubling per retry).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use bascule_domain::{AccountId, Pence};
use bascule_store::Backend;
use bascule_testkit::api::{AIS, Call, EVENTS, Jws, consent_id};
use bascule_testkit::people::{open_current_account, pay_in};
use bascule_testkit::receiver::Receiver;
use bascule_testkit::spawn_app_with;
use bascule_testkit::tpp::approve;
use serde_json::json;

use crate::authz::bench_tpp;
use crate::{bench_customer, report};

pub async fn events(
    backend: Backend,
    count: usize,
    accounts: usize,
    fail_half: bool,
    first_backoff_ms: u64,
) -> anyhow::Result<()> {
    let app = spawn_app_with(backend, |c| c.event_first_backoff_ms = first_backoff_ms).await?;
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

    let waves = count.div_ceil(ids.len());
    let mut latencies = Vec::with_capacity(waves * ids.len());
    let mut attempts = 0usize;
    let started = Instant::now();
    for wave in 0..waves {
        let mut posted: HashMap<String, Instant> = HashMap::new();
        for id in &ids {
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
            let (_, claims) = bascule_jose::decode_unverified(&n.jwt)?;
            let rid = claims["events"]["urn:uk:org:openbanking:events:resource-update"]["subject"]
                ["http://openbanking.org.uk/rid"]
                .as_str()
                .context("a resource-update rid")?
                .to_owned();
            let at = posted
                .remove(&rid)
                .with_context(|| format!("an event for {rid}, not posted in wave {wave}"))?;
            latencies.push(n.received_at.saturating_duration_since(at));
        }
    }
    let elapsed = started.elapsed();
    ticking.abort();
    let delivered = latencies.len();
    report(
        &format!(
            "ledger posting → SET received, {} accounts per wave{}",
            ids.len(),
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
