//! `POST /register` (DCR): mutual TLS, a signed request JWT as the body.
//!
//! `GET`/`PUT`/`DELETE /register/{ClientId}` need a client-credentials access token; they are
//! mounted with the authorisation server's token check, which owns access tokens.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use bascule_http::{Error, MutualTls};

use crate::{Registrar, RegistrationError};

const MAX_REQUEST: usize = 64 * 1024;

impl Registrar {
    pub fn router<S>(&self) -> Router<S> {
        Router::new()
            .route("/register", post(register))
            .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST))
            .with_state(self.clone())
    }
}

/// DCR accepts `application/jose` (v3.2+) and `application/jwt` (earlier TPPs).
fn jose_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|ct| ct == "application/jose" || ct == "application/jwt")
}

async fn register(
    State(registrar): State<Registrar>,
    MutualTls(cert): MutualTls,
    headers: HeaderMap,
    body: String,
) -> Result<impl IntoResponse, Error> {
    if !jose_content_type(&headers) {
        return Err(RegistrationError::metadata(
            "the request body must be a signed JWT with Content-Type application/jose",
        )
        .into());
    }
    let registration = registrar.register(&cert, &body).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(registration),
    ))
}
