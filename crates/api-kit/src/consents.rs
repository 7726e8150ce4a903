//! The consent endpoints a TPP manages with a client-credentials token (RW §Security): `POST`
//! creates one (201), `GET /{ConsentId}` reads it, `DELETE /{ConsentId}` revokes it (204).
//! Each API says who the client is, how its body reads, where its consents are kept and how
//! one renders; the three handlers are written here, once for every API and version.

use std::future::Future;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use bascule_domain::Consent;
use bascule_http::Error;
use serde::Serialize;

/// One kind of consent as one wire version serves it.
pub trait ConsentEndpoints: Send + Sync + 'static {
    /// The API's state.
    type State: Clone + Send + Sync + 'static;
    /// What the request proves about its caller (an access token, extracted first: 401).
    type Client: FromRequestParts<Self::State, Rejection = Error> + Send;
    /// The version-neutral request the body becomes, kept with the consent.
    type Details: Send + Sync;
    /// The wire response.
    type Response: Serialize;

    /// The client managing its consents, or 403 (e.g. a token bound to a consent).
    fn client_id(client: &Self::Client) -> Result<&str, Error>;

    /// The request body as `Details`, or 400 with the OB code of its first problem.
    fn parse(state: &Self::State, body: &[u8]) -> Result<Self::Details, Error>;

    fn create(
        state: &Self::State,
        client_id: &str,
        details: &Self::Details,
    ) -> impl Future<Output = Result<Consent, Error>> + Send;

    /// The client's consent `consent_id` (400 unknown, 403 another client's).
    fn read(
        state: &Self::State,
        client_id: &str,
        consent_id: &str,
    ) -> impl Future<Output = Result<(Consent, Self::Details), Error>> + Send;

    /// Revokes the client's consent `consent_id`.
    fn delete(
        state: &Self::State,
        client_id: &str,
        consent_id: &str,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    fn render(state: &Self::State, consent: &Consent, details: &Self::Details) -> Self::Response;
}

/// `POST {path}`, `GET|DELETE {path}/{ConsentId}`.
pub fn consent_routes<E: ConsentEndpoints>(path: &str) -> Router<E::State> {
    Router::new().route(path, post(create::<E>)).route(
        &format!("{path}/{{ConsentId}}"),
        get(read::<E>).delete(delete::<E>),
    )
}

async fn create<E: ConsentEndpoints>(
    State(state): State<E::State>,
    client: E::Client,
    body: Bytes,
) -> Result<Response, Error> {
    let client_id = E::client_id(&client)?;
    let details = E::parse(&state, &body)?;
    let consent = E::create(&state, client_id, &details).await?;
    let body = Json(E::render(&state, &consent, &details));
    Ok((StatusCode::CREATED, body).into_response())
}

async fn read<E: ConsentEndpoints>(
    State(state): State<E::State>,
    client: E::Client,
    Path(consent_id): Path<String>,
) -> Result<Response, Error> {
    let client_id = E::client_id(&client)?;
    let (consent, details) = E::read(&state, client_id, &consent_id).await?;
    Ok(Json(E::render(&state, &consent, &details)).into_response())
}

async fn delete<E: ConsentEndpoints>(
    State(state): State<E::State>,
    client: E::Client,
    Path(consent_id): Path<String>,
) -> Result<StatusCode, Error> {
    let client_id = E::client_id(&client)?;
    E::delete(&state, client_id, &consent_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
