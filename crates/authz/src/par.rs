//! Pushed authorisation requests (RFC 9126, FAPI 1.0 Advanced §5.2.2-14..18): the client
//! pushes its signed request object over mutual TLS and gets a one-time `request_uri`.

use std::collections::HashMap;

use bascule_registration::{Client, ClientAuthError};
use bascule_store::sqlx::{self, Row};
use bascule_tls::ClientCertificate;
use serde_json::{Value, json};

use crate::request::AuthorizationRequest;
use crate::{Authz, AuthzError, random_token};

const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl Authz {
    /// Authenticates the client at the token, PAR and revocation endpoints: a client
    /// assertion (`private_key_jwt`) or the certificate alone (`tls_client_auth`).
    pub(crate) async fn authenticate_client(
        &self,
        form: &HashMap<String, String>,
        cert: &ClientCertificate,
    ) -> Result<Client, AuthzError> {
        let registrar = &self.inner.registrar;
        let refused = |e: ClientAuthError| match e {
            ClientAuthError::Unavailable(m) => AuthzError::Internal(m),
            other => AuthzError::client(other.to_string()),
        };
        let client = match (
            form.get("client_assertion_type"),
            form.get("client_assertion"),
        ) {
            (Some(t), Some(assertion)) if t == CLIENT_ASSERTION_TYPE => {
                let config = &self.inner.config;
                let audiences = [
                    config.endpoint("/token"),
                    config.issuer.clone(),
                    config.endpoint("/par"),
                    config.endpoint("/revoke"),
                ];
                let audiences: Vec<&str> = audiences.iter().map(String::as_str).collect();
                registrar
                    .authenticate_private_key_jwt(assertion, &audiences, cert)
                    .await
                    .map_err(refused)?
            }
            (Some(_), _) | (None, Some(_)) => {
                return Err(AuthzError::client(
                    "client_assertion_type must be jwt-bearer, with client_assertion",
                ));
            }
            (None, None) => {
                let id = form
                    .get("client_id")
                    .ok_or_else(|| AuthzError::client("client_id is missing"))?;
                registrar
                    .authenticate_tls_client(id, cert)
                    .await
                    .map_err(refused)?
            }
        };
        if form
            .get("client_id")
            .is_some_and(|id| *id != client.client_id)
        {
            return Err(AuthzError::client(
                "client_id does not match the authenticated client",
            ));
        }
        Ok(client)
    }

    /// `POST /par`.
    pub async fn push(
        &self,
        form: &HashMap<String, String>,
        cert: &ClientCertificate,
    ) -> Result<Value, AuthzError> {
        let client = self.authenticate_client(form, cert).await?;
        if form.contains_key("request_uri") {
            return Err(AuthzError::request("request_uri may not be pushed"));
        }
        let jwt = form
            .get("request")
            .ok_or_else(|| AuthzError::request("FAPI: push a signed request object (request)"))?;
        let request = self
            .validate_request_object(&client, jwt, &HashMap::new(), true)
            .await
            .map_err(|e| e.error)?;
        let uri = format!("{REQUEST_URI_PREFIX}{}", random_token()?);
        let lifetime = self.inner.config.par_lifetime;
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO par_requests (request_uri, client_id, request, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&uri)
                .bind(&client.client_id)
                .bind(serde_json::to_string(&request).map_err(|e| AuthzError::Internal(e.to_string()))?)
                .bind(self.now() + lifetime),
            )
            .await?;
        Ok(json!({ "request_uri": uri, "expires_in": lifetime }))
    }

    /// The request behind a `request_uri`: the pushing client's, unexpired, and not yet used
    /// to finish an authorisation (it may be reused until then).
    pub(crate) async fn pushed_request(
        &self,
        client: &Client,
        uri: &str,
    ) -> Result<AuthorizationRequest, AuthzError> {
        let row = sqlx::query("SELECT client_id, request, expires_at, used_at FROM par_requests WHERE request_uri = $1")
            .bind(uri)
            .fetch_optional(self.inner.store.pool())
            .await?
            .ok_or_else(|| AuthzError::request("unknown request_uri"))?;
        if row.try_get::<String, _>("client_id")? != client.client_id {
            return Err(AuthzError::request(
                "the request_uri belongs to another client",
            ));
        }
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Err(AuthzError::request("the request_uri was already used"));
        }
        if row.try_get::<i64, _>("expires_at")? <= self.now() {
            return Err(AuthzError::request("the request_uri has expired"));
        }
        serde_json::from_str(&row.try_get::<String, _>("request")?)
            .map_err(|e| AuthzError::Internal(e.to_string()))
    }

    pub(crate) async fn mark_pushed_used(&self, uri: Option<&str>) -> Result<(), AuthzError> {
        if let Some(uri) = uri {
            self.inner
                .store
                .write(
                    sqlx::query("UPDATE par_requests SET used_at = $1 WHERE request_uri = $2 AND used_at IS NULL")
                        .bind(self.now())
                        .bind(uri),
                )
                .await?;
        }
        Ok(())
    }
}
