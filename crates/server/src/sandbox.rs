//! Sandbox tools for TPP developers: see the client certificate exactly as the bank sees it.

use axum::Json;
use axum::Router;
use axum::routing::get;
use bascule_http::MutualTls;
use serde_json::json;
use time::format_description::well_known::Rfc3339;

use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/sandbox/tls/client-certificate", get(client_certificate))
}

/// What the bank learnt from the TLS handshake: the subject DN a client registers as
/// `tls_client_auth_subject_dn`, and the `x5t#S256` thumbprint its tokens will be bound to.
async fn client_certificate(MutualTls(cert): MutualTls) -> Json<serde_json::Value> {
    Json(json!({
        "subject_dn": cert.subject_dn,
        "x5t#S256": cert.thumbprint_s256,
        "not_after": cert.not_after.format(&Rfc3339).ok(),
        "chain_length": cert.chain.len(),
    }))
}
