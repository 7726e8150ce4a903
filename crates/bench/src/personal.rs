//! Personal API benchmark: a customer's script reading a page of 100 transactions with a
//! personal token (TLS, no client certificate: the token lookup, the ownership check, the
//! ledger page and the JSON), against `GET /health/live` on the same server and connections in
//! the same run as the ceiling.

use std::sync::Arc;
use std::time::Instant;

use bascule_domain::{Clock, Pence};
use bascule_personal_api::Scope;
use bascule_store::Backend;
use bascule_testkit::spawn_app_with;

use crate::{bench_customer, bulk_load, hammer, open_funded_accounts, report};

pub async fn transactions(
    backend: Backend,
    postings: u64,
    seconds: u64,
    connections: usize,
) -> anyhow::Result<()> {
    // No per-token limit in the way of the measurement.
    let app = spawn_app_with(backend, |c| c.personal_rate_limit_per_minute = u32::MAX).await?;
    let (customer, account) = bench_customer(
        &app.ledger,
        "Bench Developer",
        "developer@example.com",
        Pence::ZERO,
    )
    .await?;
    // About 1,000 lines on the customer's account whatever the ledger's size (as `accounts`).
    let mut ids = vec![account.id.clone()];
    let others = usize::try_from(postings / 1000).unwrap_or(1).max(2) - 1;
    ids.extend(open_funded_accounts(&app.ledger, others, Pence::ZERO).await?);
    let loading = Instant::now();
    bulk_load(&app.ledger, &ids, postings, app.clock.now()).await?;
    if backend == Backend::Postgres {
        bascule_store::sqlx::query("ANALYZE")
            .execute(app.ledger.store().pool())
            .await?;
    }
    println!(
        "loaded {postings} postings in {:.1}s",
        loading.elapsed().as_secs_f64()
    );
    let token: Arc<str> = app
        .state()
        .personal
        .issue_token(&customer.id, "bench", Scope::Read, 90)
        .await?
        .secret
        .into();
    let client = app.client.clone();
    for (what, path) in [
        ("GET /health/live (ceiling)", "/health/live".to_owned()),
        (
            "GET personal transactions (page of 100)",
            format!(
                "/personal/v1/accounts/{}/transactions?limit=100",
                account.id
            ),
        ),
    ] {
        let url = app.url(&path);
        let probe = client.get(&url).bearer_auth(&*token).send().await?;
        anyhow::ensure!(probe.status() == 200, "{what}: {}", probe.status());
        let (client, token) = (client.clone(), token.clone());
        let (all, elapsed) = hammer(connections, seconds, move || {
            client.get(&url).bearer_auth(&*token)
        })
        .await?;
        report(
            &format!("{what}, {postings} postings, {connections} connections"),
            backend,
            all,
            elapsed,
        );
    }
    app.shutdown().await?;
    Ok(())
}
