//! Personal API benchmark: a customer's script reading a page of 100 transactions with a
//! personal token (TLS, no client certificate: the token lookup, the ownership check, the
//! ledger page and the JSON), against `GET /health/live` on the same server and connections in
//! the same run as the ceiling.

use std::sync::Arc;

use bascule_personal_api::Scope;
use bascule_store::Backend;
use bascule_testkit::spawn_app_with;

use crate::{hammer, reader_with_history, report};

pub async fn transactions(
    backend: Backend,
    postings: u64,
    seconds: u64,
    connections: usize,
) -> anyhow::Result<()> {
    // No per-token limit in the way of the measurement.
    let app = spawn_app_with(backend, |c| c.personal_rate_limit_per_minute = u32::MAX).await?;
    let (customer, account) = reader_with_history(
        &app,
        backend,
        postings,
        ("Bench Developer", "developer@example.com"),
    )
    .await?;
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
