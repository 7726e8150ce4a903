//! Registered clients and their storage.

use bascule_store::sqlx::{self, Row, any::AnyRow};
use serde::{Deserialize, Serialize};

use crate::{Registrar, RegistrationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    TlsClientAuth,
    PrivateKeyJwt,
}

impl TokenEndpointAuthMethod {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::TlsClientAuth => "tls_client_auth",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "tls_client_auth" => Some(Self::TlsClientAuth),
            "private_key_jwt" => Some(Self::PrivateKeyJwt),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientStatus {
    Active,
    Deleted,
}

/// A registered OAuth client, as the authorisation server needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    pub software_id: String,
    pub organisation_id: String,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub tls_client_auth_subject_dn: Option<String>,
    pub token_endpoint_auth_signing_alg: Option<String>,
    pub jwks_uri: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub id_token_signed_response_alg: String,
    pub request_object_signing_alg: String,
    pub roles: Vec<String>,
    /// Registered in sandbox mode: sandbox conveniences (headless approval) apply.
    pub sandbox: bool,
    /// The registration response as issued (returned by `GET /register/{ClientId}`).
    pub registration: serde_json::Value,
    pub status: ClientStatus,
}

impl Client {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    fn registered_text(&self, keys: &[&str]) -> Option<&str> {
        keys.iter()
            .filter_map(|k| self.registration.get(*k).and_then(|v| v.as_str()))
            .map(str::trim)
            .find(|v| !v.is_empty())
    }

    /// The name a customer is shown (CEG: the TPP's Client Name): the software statement's
    /// `software_client_name`, else the registration's `client_name`, else the software id.
    pub fn display_name(&self) -> &str {
        self.registered_text(&["software_client_name", "client_name"])
            .unwrap_or(&self.software_id)
    }

    /// The software statement's logo, when it is an https URL.
    pub fn logo_uri(&self) -> Option<&str> {
        self.registered_text(&["software_logo_uri", "logo_uri"])
            .filter(|u| u.starts_with("https://") && !u.contains(['"', '\'', ' ', ';']))
    }
}

fn split(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

fn client(row: &AnyRow) -> Result<Client, RegistrationError> {
    let method: String = row.try_get("token_endpoint_auth_method")?;
    let status: String = row.try_get("status")?;
    let registration: String = row.try_get("registration")?;
    Ok(Client {
        client_id: row.try_get("client_id")?,
        software_id: row.try_get("software_id")?,
        organisation_id: row.try_get("organisation_id")?,
        token_endpoint_auth_method: TokenEndpointAuthMethod::parse(&method)
            .ok_or_else(|| RegistrationError::Internal(format!("stored auth method {method}")))?,
        tls_client_auth_subject_dn: row.try_get("tls_client_auth_subject_dn")?,
        token_endpoint_auth_signing_alg: row.try_get("token_endpoint_auth_signing_alg")?,
        jwks_uri: row.try_get("jwks_uri")?,
        redirect_uris: split(&row.try_get::<String, _>("redirect_uris")?, '\n'),
        scopes: split(&row.try_get::<String, _>("scope")?, ' '),
        grant_types: split(&row.try_get::<String, _>("grant_types")?, ' '),
        response_types: split(&row.try_get::<String, _>("response_types")?, ','),
        id_token_signed_response_alg: row.try_get("id_token_signed_response_alg")?,
        request_object_signing_alg: row.try_get("request_object_signing_alg")?,
        roles: split(&row.try_get::<String, _>("roles")?, ','),
        sandbox: row.try_get::<i64, _>("sandbox")? != 0,
        registration: serde_json::from_str(&registration)
            .map_err(|e| RegistrationError::Internal(e.to_string()))?,
        status: if status == "Active" {
            ClientStatus::Active
        } else {
            ClientStatus::Deleted
        },
    })
}

impl Registrar {
    /// An active client by id.
    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, RegistrationError> {
        let row =
            sqlx::query("SELECT * FROM oauth_clients WHERE client_id = $1 AND status = 'Active'")
                .bind(client_id)
                .fetch_optional(self.inner.store.pool())
                .await?;
        row.as_ref().map(client).transpose()
    }

    /// The active clients among `client_ids`, by id, in one query (a dashboard lists many
    /// connections; one lookup each would be N+1).
    pub async fn clients(
        &self,
        client_ids: &[&str],
    ) -> Result<std::collections::HashMap<String, Client>, RegistrationError> {
        let mut ids: Vec<&str> = client_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(std::collections::HashMap::new());
        }
        let placeholders = bascule_store::placeholders(1, ids.len());
        // Only placeholders are formatted into the statement; the ids are bound.
        let sql = format!(
            "SELECT * FROM oauth_clients WHERE status = 'Active' AND client_id IN ({placeholders})"
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(self.inner.store.pool()).await?;
        rows.iter()
            .map(|r| client(r).map(|c| (c.client_id.clone(), c)))
            .collect()
    }

    pub(crate) async fn save(&self, c: &Client, insert: bool) -> Result<(), RegistrationError> {
        let now = self.inner.clock.now().unix_timestamp();
        let sql = if insert {
            "INSERT INTO oauth_clients (client_id, software_id, organisation_id, \
             token_endpoint_auth_method, tls_client_auth_subject_dn, token_endpoint_auth_signing_alg, \
             jwks_uri, redirect_uris, scope, grant_types, response_types, id_token_signed_response_alg, \
             request_object_signing_alg, roles, sandbox, registration, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'Active', $17, $17)"
        } else {
            "UPDATE oauth_clients SET software_id = $2, organisation_id = $3, \
             token_endpoint_auth_method = $4, tls_client_auth_subject_dn = $5, \
             token_endpoint_auth_signing_alg = $6, jwks_uri = $7, redirect_uris = $8, scope = $9, \
             grant_types = $10, response_types = $11, id_token_signed_response_alg = $12, \
             request_object_signing_alg = $13, roles = $14, sandbox = $15, registration = $16, \
             updated_at = $17 WHERE client_id = $1 AND status = 'Active'"
        };
        let registration = serde_json::to_string(&c.registration)
            .map_err(|e| RegistrationError::Internal(e.to_string()))?;
        let affected = self
            .inner
            .store
            .write(
                sqlx::query(sql)
                    .bind(&c.client_id)
                    .bind(&c.software_id)
                    .bind(&c.organisation_id)
                    .bind(c.token_endpoint_auth_method.as_str())
                    .bind(c.tls_client_auth_subject_dn.as_deref())
                    .bind(c.token_endpoint_auth_signing_alg.as_deref())
                    .bind(&c.jwks_uri)
                    .bind(c.redirect_uris.join("\n"))
                    .bind(c.scopes.join(" "))
                    .bind(c.grant_types.join(" "))
                    .bind(c.response_types.join(","))
                    .bind(&c.id_token_signed_response_alg)
                    .bind(&c.request_object_signing_alg)
                    .bind(c.roles.join(","))
                    .bind(i64::from(c.sandbox))
                    .bind(registration)
                    .bind(now),
            )
            .await?;
        if affected != 1 {
            return Err(RegistrationError::Unauthorised("unknown client".into()));
        }
        Ok(())
    }

    /// Deletes a client: it can no longer authenticate (tokens tied to it die with it in the
    /// authorisation server).
    pub async fn delete(&self, client_id: &str) -> Result<(), RegistrationError> {
        let now = self.inner.clock.now().unix_timestamp();
        let affected = self
            .inner
            .store
            .write(
                sqlx::query(
                    "UPDATE oauth_clients SET status = 'Deleted', updated_at = $1 \
                     WHERE client_id = $2 AND status = 'Active'",
                )
                .bind(now)
                .bind(client_id),
            )
            .await?;
        if affected == 0 {
            return Err(RegistrationError::Unauthorised("unknown client".into()));
        }
        Ok(())
    }

    /// Records a JWT's `jti` for `issuer` until `expires_at`; false if it was already used.
    pub(crate) async fn first_use(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, RegistrationError> {
        let now = self.inner.clock.now().unix_timestamp();
        // Expired entries can go: a JWT past its exp is refused before it gets here.
        self.inner
            .store
            .write(sqlx::query("DELETE FROM jwt_replay WHERE expires_at < $1").bind(now))
            .await?;
        let inserted = self
            .inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO jwt_replay (issuer, jti, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (issuer, jti) DO NOTHING",
                )
                .bind(issuer)
                .bind(jti)
                .bind(expires_at),
            )
            .await?;
        Ok(inserted == 1)
    }
}
