//! The authorisation server's endpoints. Discovery and JWKS need no client certificate; PAR,
//! token, revocation and registration management require one. `/authorize` is the customer's
//! (a person's browser): the customer pages mount it over [`Authz::authorize`].

use std::collections::HashMap;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bascule_http::{Error, ErrorFormat, MutualTls, error_format};

use crate::Authz;
use crate::check::AccessToken;

const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

impl Authz {
    /// Every route of the authorisation server, each area speaking its error format.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let oauth = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/par", post(par))
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route(
                "/register/{client_id}",
                get(read_registration)
                    .put(update_registration)
                    .delete(delete_registration),
            )
            .route_layer(axum::middleware::from_fn_with_state(
                ErrorFormat::OAuth,
                error_format,
            ));
        oauth.with_state(self.clone())
    }
}

async fn discovery(State(authz): State<Authz>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(authz.discovery()),
    )
}

async fn jwks(State(authz): State<Authz>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(authz.keys().jwks()),
    )
}

async fn par(
    State(authz): State<Authz>,
    MutualTls(cert): MutualTls,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    let body = authz.push(&form, &cert).await?;
    Ok((StatusCode::CREATED, NO_STORE, Json(body)).into_response())
}

async fn token(
    State(authz): State<Authz>,
    MutualTls(cert): MutualTls,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, Error> {
    let body = authz.token(&form, &cert).await?;
    Ok((NO_STORE, Json(body)).into_response())
}

/// RFC 7009: 200 whether or not the token was live, so nothing is learnt by probing.
async fn revoke(
    State(authz): State<Authz>,
    MutualTls(cert): MutualTls,
    Form(form): Form<HashMap<String, String>>,
) -> Result<StatusCode, Error> {
    let client = authz.authenticate_client(&form, &cert).await?;
    let token = form
        .get("token")
        .ok_or_else(|| Error::from(crate::AuthzError::request("token is missing")))?;
    authz.revoke_token(token, &client.client_id).await?;
    Ok(StatusCode::OK)
}

/// Registration management takes the client's own client-credentials token (DCR §GET/PUT/DELETE):
/// any other client id is unknown to it, and the token presented for it is revoked (RFC 7592
/// §2.1) — that token only: the client's other tokens, its customers' among them, live on.
async fn own_client(
    authz: &Authz,
    token: &AccessToken,
    headers: &HeaderMap,
    client_id: &str,
) -> Result<(), Error> {
    if token.consent.is_some() {
        return Err(Error::Unauthorised(
            "a client-credentials token is required".into(),
        ));
    }
    if token.client_id() != client_id {
        if let Some(presented) = crate::check::bearer(headers) {
            authz.revoke_token(presented, token.client_id()).await.ok();
        }
        return Err(Error::Unauthorised("unknown client".into()));
    }
    Ok(())
}

async fn read_registration(
    State(authz): State<Authz>,
    token: AccessToken,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Result<Response, Error> {
    own_client(&authz, &token, &headers, &client_id).await?;
    let client = authz
        .registrar()
        .client(&client_id)
        .await?
        .ok_or_else(|| Error::Unauthorised("unknown client".into()))?;
    Ok((NO_STORE, Json(client.registration)).into_response())
}

async fn update_registration(
    State(authz): State<Authz>,
    MutualTls(cert): MutualTls,
    token: AccessToken,
    headers: HeaderMap,
    Path(client_id): Path<String>,
    body: String,
) -> Result<Response, Error> {
    own_client(&authz, &token, &headers, &client_id).await?;
    let registration = authz.registrar().update(&client_id, &cert, &body).await?;
    Ok((NO_STORE, Json(registration)).into_response())
}

async fn delete_registration(
    State(authz): State<Authz>,
    token: AccessToken,
    headers: HeaderMap,
    Path(client_id): Path<String>,
) -> Result<StatusCode, Error> {
    own_client(&authz, &token, &headers, &client_id).await?;
    authz.registrar().delete(&client_id).await?;
    authz.revoke_tokens_of_client(&client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
