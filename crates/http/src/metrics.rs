//! Prometheus metrics: requests by route and status, latency histograms, and whatever gauges
//! the server sets (the database pool) — rendered on `/metrics`.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// Installs the process-wide recorder on first use; later servers in the same process (tests)
/// share it.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .ok()?;
            builder.install_recorder().ok()
        })
        .as_ref()
}

pub(crate) fn record_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    // Clients choose the method string: bound the label so they cannot grow the registry.
    let method = match method {
        "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH" | "OPTIONS" => method,
        _ => "OTHER",
    };
    let labels = [
        ("method", method.to_owned()),
        ("route", route.to_owned()),
        ("status", status.to_string()),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_owned(),
        "route" => route.to_owned()
    )
    .record(elapsed.as_secs_f64());
}

/// Current database pool figures, set just before rendering.
pub fn set_pool_gauges(open: u32, idle: usize) {
    metrics::gauge!("db_pool_connections").set(f64::from(open));
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
}

pub fn render() -> String {
    handle()
        .map(|h| {
            // Without the HTTP-listener feature nobody else drains histogram buffers.
            h.run_upkeep();
            h.render()
        })
        .unwrap_or_default()
}
