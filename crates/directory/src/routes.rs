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
                get(organisation_jwks),
            )
            .route(
                "/directory/organisations/{org}/jwks/revoked",
                get(organisation_revoked),
            )
            .route(
                "/directory/organisations/{org}/software/{software}/jwks",
                get(software_jwks),
            )
            .route(
                "/directory/organisations/{org}/software/{software}/jwks/revoked",
                get(software_revoked),
            )
            .with_state(self.clone())
    }
}

async fn directory_jwks(State(d): State<Directory>) -> impl IntoResponse {
    jwks_response(d.jwks())
}

async fn organisation_jwks(
    State(d): State<Directory>,
    Path(org): Path<String>,
) -> Result<impl IntoResponse, Error> {
    d.organisation(&org).await?;
    Ok(jwks_response(d.software_jwks(&org, None, false).await?))
}

async fn organisation_revoked(
    State(d): State<Directory>,
    Path(org): Path<String>,
) -> Result<impl IntoResponse, Error> {
    d.organisation(&org).await?;
    Ok(jwks_response(d.software_jwks(&org, None, true).await?))
}

async fn software_jwks(
    State(d): State<Directory>,
    Path((org, software)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    if d.software(&software).await?.organisation_id != org {
        return Err(Error::NotFound);
    }
    Ok(jwks_response(
        d.software_jwks(&org, Some(&software), false).await?,
    ))
}

async fn software_revoked(
    State(d): State<Directory>,
    Path((org, software)): Path<(String, String)>,
) -> Result<impl IntoResponse, Error> {
    if d.software(&software).await?.organisation_id != org {
        return Err(Error::NotFound);
    }
    Ok(jwks_response(
        d.software_jwks(&org, Some(&software), true).await?,
    ))
}
