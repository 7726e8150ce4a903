//! Operations endpoints: liveness, readiness (the database answers) and Prometheus metrics.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bascule_http::Error;
use serde_json::json;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "live" }))
}

async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, Error> {
    state
        .store
        .ping()
        .await
        .map_err(|e| Error::Unavailable(e.to_string()))?;
    Ok(Json(
        json!({ "status": "ready", "database": state.store.backend().as_str() }),
    ))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (open, idle) = state.store.pool_stats();
    bascule_http::metrics::set_pool_gauges(open, idle);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        bascule_http::metrics::render(),
    )
}
