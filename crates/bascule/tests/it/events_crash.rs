//! Event delivery survives a crash (issue 13, acceptance): the real `bascule demo` process is
//! killed with SIGKILL while it is retrying pushes to a TPP's receiver that keeps failing, then
//! restarted on the same data. Every event the outbox held at the kill reaches the receiver
//! afterwards with the `jti` it was first pushed with: nothing is lost, and no event that was
//! delivered is delivered again.
//!
//! The demo runs with a short first back-off and a 2 s lease (`BASCULE_*` settings), so the
//! events the dead process had claimed are picked up soon after the restart.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use bascule_testkit::receiver::Receiver;
use bascule_tls::CertificateAuthority;
use base64::Engine;
use serde_json::{Value, json};

use crate::crash::{Server, Tpp, open_db, parties, scalar, strings};

const PAYMENTS: usize = 6;
const SETTINGS: [(&str, &str); 3] = [
    ("BASCULE_EVENTS_INTERVAL_MS", "50"),
    ("BASCULE_EVENT_FIRST_BACKOFF_MS", "100"),
    ("BASCULE_EVENT_LEASE_SECONDS", "2"),
];

/// The `jti` of a SET, read without verification (the push tests verify signatures).
fn jti(set: &str) -> anyhow::Result<String> {
    let payload = set.split('.').nth(1).context("a SET has three parts")?;
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?)?;
    Ok(claims["jti"]
        .as_str()
        .context("a SET has a jti")?
        .to_owned())
}

/// Waits up to `within` for `sql` (a count) to reach `at_least`.
async fn wait_for_count(
    db_path: &std::path::Path,
    sql: &'static str,
    at_least: i64,
    within: Duration,
) -> anyhow::Result<i64> {
    let deadline = Instant::now() + within;
    loop {
        let db = open_db(db_path).await?;
        let n = scalar(&db, sql, &[]).await?;
        db.close().await;
        if n >= at_least || Instant::now() > deadline {
            return Ok(n);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_server_killed_in_the_middle_of_retries_loses_no_event_after_restart()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let db_path = data.join("bascule.db");
    let mut server = Server::start_with(
        &data,
        "127.0.0.1:0",
        dir.path().join("first.log"),
        &SETTINGS,
    )?;
    let listen = format!("127.0.0.1:{}", server.port()?);

    // The TPP's receiver, trusted by the bank through its sandbox CA; it fails every push until
    // the bank has been killed and restarted.
    let ca =
        CertificateAuthority::load_or_create(&data.join("ca"), time::OffsetDateTime::now_utc())?;
    let failing = Arc::new(AtomicBool::new(true));
    let fails = failing.clone();
    let receiver = Receiver::with_ca(&ca, time::OffsetDateTime::now_utc(), move |_| {
        fails.load(Ordering::SeqCst)
    })
    .await;

    let tpp = Tpp::load(&data.join("tpp"), &server.url)?;
    let cc = tpp.client_credentials().await?;
    let subscription = json!({"Data": {"CallbackUrl": receiver.url, "Version": "3.1"}});
    let (status, body) = tpp
        .post_signed(
            "/open-banking/v3.1/event-subscriptions",
            &cc,
            "events-crash-subscription",
            subscription.to_string().as_bytes(),
        )
        .await?;
    ensure!(status == 201, "POST /event-subscriptions: {status} {body}");

    // Payments: each status change is an event for the TPP.
    let db = open_db(&db_path).await?;
    let parties = parties(&db).await?;
    db.close().await;
    for i in 0..PAYMENTS {
        let p = tpp.prepare(&cc, &parties, "EVKILL", i).await?;
        let (status, body) = tpp
            .post("/domestic-payments", &p.token, &p.key, &p.body)
            .await?;
        ensure!(status == 201, "payment {i}: {status} {body}");
    }
    let client = tpp.client_id.as_str();

    // Kill once every event has been pushed and failed at least twice.
    let total = scalar(
        &open_db(&db_path).await?,
        "SELECT COUNT(*) FROM event_outbox",
        &[],
    )
    .await?;
    ensure!(
        total >= PAYMENTS as i64,
        "{total} events for {PAYMENTS} payments"
    );
    let retried = wait_for_count(
        &db_path,
        "SELECT COUNT(*) FROM event_outbox WHERE attempts >= 2",
        total,
        Duration::from_secs(30),
    )
    .await?;
    ensure!(
        retried == total,
        "only {retried} of {total} events were retried in 30 s\n{}",
        server.log_tail()
    );
    server.kill()?;

    let db = open_db(&db_path).await?;
    let at_kill: BTreeSet<String> = strings(
        &db,
        "SELECT jti FROM event_outbox WHERE client_id = $1",
        &[client],
    )
    .await?
    .into_iter()
    .collect();
    let done = scalar(
        &db,
        "SELECT COUNT(*) FROM event_outbox WHERE status = 'done'",
        &[],
    )
    .await?;
    db.close().await;
    ensure!(at_kill.len() as i64 == total, "events of another client");
    ensure!(
        done == 0,
        "{done} events delivered to a receiver that failed"
    );

    // Before the kill the receiver saw only the outbox's jtis, each more than once.
    let mut before: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(n) = receiver.next_within(Duration::from_millis(10)).await {
        ensure!(n.answered == 503, "the receiver was failing");
        *before.entry(jti(&n.jwt)?).or_default() += 1;
    }
    let seen: BTreeSet<String> = before.keys().cloned().collect();
    ensure!(
        seen == at_kill,
        "pushed before the kill: {seen:?}, outbox: {at_kill:?}"
    );
    ensure!(before.values().all(|&n| n >= 2), "retries: {before:?}");

    failing.store(false, Ordering::SeqCst);
    let server = Server::start_with(&data, &listen, dir.path().join("second.log"), &SETTINGS)?;
    let delivered = wait_for_count(
        &db_path,
        "SELECT COUNT(*) FROM event_outbox WHERE status = 'done'",
        total,
        Duration::from_secs(30),
    )
    .await?;
    ensure!(
        delivered == total,
        "{delivered} of {total} events delivered in 30 s after the restart\n{}",
        server.log_tail()
    );

    let mut after: BTreeMap<String, usize> = BTreeMap::new();
    while let Some(n) = receiver.next_within(Duration::from_millis(500)).await {
        if n.answered == 202 {
            *after.entry(jti(&n.jwt)?).or_default() += 1;
        }
    }
    let received: BTreeSet<String> = after.keys().cloned().collect();
    ensure!(
        received == at_kill,
        "lost: {:?}, unknown: {:?}",
        at_kill.difference(&received).collect::<Vec<_>>(),
        received.difference(&at_kill).collect::<Vec<_>>()
    );
    ensure!(
        after.values().all(|&n| n == 1),
        "an event delivered twice: {after:?}"
    );
    println!(
        "{total} events: each pushed {}..{} times before the SIGKILL, all delivered once after the restart",
        before.values().min().unwrap_or(&0),
        before.values().max().unwrap_or(&0)
    );
    Ok(())
}
