//! The supervisor of background work (issue 10, item 7): the daily jobs, revocation refresh,
//! payment recovery, the idempotency purge, the connection reminders, the consent-usage flush
//! the event workers (delivery, the ledger feed) and the personal webhooks' feed run under the running server, show in
//! `/metrics`, and are gone once it has shut down.

use bascule_store::Backend;
use bascule_testkit::spawn_app;

const JOBS: [&str; 10] = [
    "daily_jobs",
    "revocation_refresh",
    "payment_recovery",
    "idempotency_purge",
    "connection_reminders",
    "consent_usage_flush",
    "event_delivery",
    "event_queue_metrics",
    "event_feed",
    "personal_webhook_feed",
];

#[tokio::test]
async fn the_server_s_background_jobs_show_in_metrics_and_stop_on_shutdown() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    let jobs = app.background_jobs();
    assert_eq!(jobs.running(), JOBS.len(), "one task per job");

    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    for job in JOBS {
        for series in [
            "background_job_runs_total",
            "background_job_failures_total",
            "background_jobs_running",
        ] {
            let line = format!("{series}{{job=\"{job}\"}}");
            assert!(metrics.contains(&line), "no {line} in\n{metrics}");
        }
    }

    app.shutdown().await?;
    assert_eq!(jobs.running(), 0, "shutdown waited for every job's task");
    Ok(())
}

#[tokio::test]
async fn a_bank_s_own_core_runs_no_ledger_jobs() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    let core = app.state().core_banking.clone();
    let own = bascule_testkit::spawn_server_on_core(Backend::Sqlite, core).await?;
    assert!(own.state().ledger.is_none());
    let metrics = own
        .client
        .get(own.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    assert!(metrics.contains("background_job_runs_total{job=\"payment_recovery\"}"));
    assert_eq!(
        own.background_jobs().running(),
        JOBS.len() - 1,
        "everything but the daily ledger jobs"
    );
    own.shutdown().await?;
    app.shutdown().await?;
    Ok(())
}
