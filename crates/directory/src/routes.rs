//! The directory's public endpoints: its own SSA-signing keys and each software's (and
//! organisation's) signing keys, active and revoked, as JWKS.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bascule_http::Error;
use bascule_jose::Jwks;

use crate::{Directory, DirectoryError};

impl From<DirectoryError> for Error {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::NotFound(_) => Error::NotFound,
            DirectoryError::Invalid(m) => {
                Error::bad_request(bascule_http::ObErrorCode::FieldInvalid, m)
            }
            other => Error::internal(other),
        }
    }
}

// Short caching: a revoked key must stop verifying soon after revocation.
const CACHE: &str = "public, max-age=60";

fn jwks_response(jwks: Jwks) -> impl IntoResponse {
    ([(header::CACHE_CONTROL, CACHE)], Json(jwks))
}

impl Directory {
    pub fn router<S>(&self) -> Router<S> {
        Router::new()
            .route("/directory/jwks", get(directory_jwks))
            .route(
                "/directory/organisations/{org}/jwks",
                get(|State(d), Path(org)| published_keys(d, org, None, false)),
            )
            .route(
                "/directory/organisations/{org}/jwks/revoked",
                get(|State(d), Path(org)| published_keys(d, org, None, true)),
            )
            .route(
                "/directory/organisations/{org}/software/{software}/jwks",
                get(|State(d), Path((org, software))| {
                    published_keys(d, org, Some(software), false)
                }),
            )
            .route(
                "/directory/organisations/{org}/software/{software}/jwks/revoked",
                get(|State(d), Path((org, software))| published_keys(d, org, Some(software), true)),
            )
            .with_state(self.clone())
    }
}

async fn directory_jwks(State(d): State<Directory>) -> impl IntoResponse {
    jwks_response(d.jwks())
}

/// The published keys of an organisation's software (all of it, or one), live or revoked.
async fn published_keys(
    d: Directory,
    org: String,
    software: Option<String>,
    revoked: bool,
) -> Result<impl IntoResponse, Error> {
    match &software {
        Some(software) if d.software(software).await?.organisation_id != org => {
            return Err(Error::NotFound);
        }
        Some(_) => {}
        None => {
            d.organisation(&org).await?;
        }
    }
    Ok(jwks_response(
        d.software_jwks(&org, software.as_deref(), revoked).await?,
    ))
}
