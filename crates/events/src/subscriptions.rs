//! `/event-subscriptions` (EVT v3.1.11; RES/event-notifications/event-subscription): a client's
//! one subscription — POST (409 if it has one), GET, PUT of the whole resource, DELETE — with a
//! client-credentials token of any of the event API's scopes; POST and PUT are signed
//! (`x-jws-signature`), as every response is. `CallbackUrl` is optional
//! (polling only); when given it must be https and, outside the sandbox, on a host of the
//! client's registered redirect URIs and not a loopback, link-local or private address: the
//! bank never makes a request to an address a TPP merely typed.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use bascule_api_kit::Envelope;
use bascule_api_kit::body::{self, field_error, text};
use bascule_api_kit::jws;
use bascule_authz::outbox::EventType;
use bascule_authz::{AccessToken, ConsentError};
use bascule_http::{Error, ObErrorCode};
use bascule_registration::addresses::{is_public_host, is_public_ip};
use bascule_store::sqlx::{self, Row, any::AnyRow};
use serde::{Deserialize, Serialize};

use crate::{BASE, Events};

pub(crate) fn routes() -> Router<Events> {
    Router::new()
        .route(
            &format!("{BASE}/event-subscriptions"),
            get(list).post(create),
        )
        .route(
            &format!("{BASE}/event-subscriptions/{{EventSubscriptionId}}"),
            put(change).delete(delete),
        )
}

/// The scopes the event APIs accept (EVT `security`).
const SCOPES: [&str; 3] = ["accounts", "payments", "fundsconfirmations"];

/// The calling client, if the token is a client-credentials token with one of [`SCOPES`].
pub(crate) fn client_of(token: &AccessToken) -> Result<&str, Error> {
    let mut refusal = None;
    for scope in SCOPES {
        match token.client_credentials(scope) {
            Ok(client) => return Ok(client),
            Err(e) => refusal = Some(e),
        }
    }
    Err(refusal
        .unwrap_or(ConsentError::MissingScope {
            scope: SCOPES.join(" "),
        })
        .into())
}

/// `OBEventSubscription1`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObEventSubscription1 {
    data: SubscriptionData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct SubscriptionData {
    callback_url: Option<String>,
    version: String,
    event_types: Option<Vec<String>>,
}

/// `OBEventSubscriptionResponse1`, the body of a PUT (the whole resource).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObEventSubscriptionResponse1 {
    data: ChangedData,
    #[allow(dead_code)]
    links: Option<serde_json::Value>,
    #[allow(dead_code)]
    meta: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ChangedData {
    event_subscription_id: String,
    callback_url: Option<String>,
    version: String,
    event_types: Option<Vec<String>>,
}

/// Which API made a client's one row of `event_subscriptions`. Both APIs share it so that the
/// outbox writer, the push worker and the operators' view know one place where a client's
/// events go; an event subscription supersedes a legacy callback URL (EVNP §Overview).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    EventSubscription,
    CallbackUrl,
}

impl Api {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Api::EventSubscription => "event-subscription",
            Api::CallbackUrl => "callback-url",
        }
    }

    fn parse(raw: &str) -> Api {
        if raw == Api::CallbackUrl.as_str() {
            Api::CallbackUrl
        } else {
            Api::EventSubscription
        }
    }

    /// What a client calls the row in this API's paths.
    fn resource(self) -> &'static str {
        match self {
            Api::EventSubscription => "event subscription",
            Api::CallbackUrl => "callback URL",
        }
    }
}

/// A client's row as stored.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Subscription {
    pub(crate) event_subscription_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) callback_url: Option<String>,
    pub(crate) version: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    event_types: Vec<String>,
    #[serde(skip)]
    pub(crate) api: Api,
}

impl Subscription {
    fn of_row(row: &AnyRow) -> Result<Subscription, Error> {
        let get = |e: sqlx::Error| Error::internal(e);
        let types: String = row.try_get("event_types").map_err(get)?;
        let api: String = row.try_get("api").map_err(get)?;
        Ok(Subscription {
            event_subscription_id: row.try_get("id").map_err(get)?,
            callback_url: row.try_get("callback_url").map_err(get)?,
            version: row.try_get("version").map_err(get)?,
            event_types: types.split_whitespace().map(str::to_owned).collect(),
            api: Api::parse(&api),
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManyData {
    event_subscription: Vec<Subscription>,
}

fn one(events: &Events, s: Subscription) -> Envelope<Subscription> {
    let path = format!("{BASE}/event-subscriptions/{}", s.event_subscription_id);
    Envelope::to(events, &path, s)
}

/// What the client asked for, checked: the callback URL's rules, the version, the event types.
struct Terms {
    callback_url: Option<String>,
    version: String,
    event_types: Vec<String>,
}

impl Events {
    /// The request's `x-jws-signature` over `body`, by `client_id` (RW §Message Signing).
    pub(crate) async fn verify_signature(
        &self,
        client_id: &str,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Error> {
        jws::verify_request(
            self.authz().registrar(),
            client_id,
            headers,
            body,
            &self.config().jws,
            self.now().unix_timestamp(),
        )
        .await
        .map(|_| ())
    }

    async fn terms(
        &self,
        client_id: &str,
        callback_url: Option<String>,
        version: String,
        event_types: Option<Vec<String>>,
    ) -> Result<Terms, Error> {
        text(&version, 10, "Data.Version")?;
        let event_types = event_types.unwrap_or_default();
        for (i, t) in event_types.iter().enumerate() {
            if EventType::parse_code(t).is_none() {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    format!("{t} is not an event type this bank raises"),
                    &format!("Data.EventTypes[{i}]"),
                ));
            }
        }
        if let Some(url) = &callback_url {
            self.check_callback(client_id, url, "Data.CallbackUrl")
                .await?;
        }
        Ok(Terms {
            callback_url,
            version,
            event_types,
        })
    }

    /// The callback URL rules of the module doc, for the field at `at`.
    pub(crate) async fn check_callback(
        &self,
        client_id: &str,
        raw: &str,
        at: &str,
    ) -> Result<(), Error> {
        let invalid = |message: &str| field_error(ObErrorCode::FieldInvalid, message, at);
        let url = url::Url::parse(raw).map_err(|_| invalid("CallbackUrl is not a URL"))?;
        if url.scheme() != "https" {
            return Err(invalid("The callback must be an https URL"));
        }
        if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "The callback must not carry credentials or a fragment",
            ));
        }
        let Some(host) = url.host() else {
            return Err(invalid("The callback has no host"));
        };
        if self.config().sandbox {
            return Ok(());
        }
        if !is_public_host(&host) {
            return Err(invalid(
                "The callback must not be a loopback, link-local or private address",
            ));
        }
        let client = self
            .authz()
            .registrar()
            .client(client_id)
            .await
            .map_err(Error::internal)?
            .ok_or_else(|| Error::Unauthorised("unknown client".into()))?;
        let host = host.to_string();
        let registered = client.redirect_uris.iter().any(|r| {
            url::Url::parse(r)
                .ok()
                .and_then(|r| r.host_str().map(|h| h.eq_ignore_ascii_case(&host)))
                .unwrap_or(false)
        });
        if registered {
            Ok(())
        } else {
            Err(invalid(
                "The callback must be on a host of the client's registered redirect URIs",
            ))
        }
    }

    /// The client's one row, made by either API.
    pub(crate) async fn subscription_of(
        &self,
        client_id: &str,
    ) -> Result<Option<Subscription>, Error> {
        sqlx::query("SELECT * FROM event_subscriptions WHERE client_id = $1")
            .bind(client_id)
            .fetch_optional(self.store().pool())
            .await
            .map_err(Error::internal)?
            .as_ref()
            .map(Subscription::of_row)
            .transpose()
    }

    /// The client's row `id` made by `api`: 400 `Resource.NotFound` when it has none of that
    /// id (ids are not paths: RW §HTTP Status Codes), 403 when it is another client's.
    pub(crate) async fn own_subscription(
        &self,
        client_id: &str,
        id: &str,
        api: Api,
    ) -> Result<Subscription, Error> {
        let not_found = || {
            Error::bad_request(
                ObErrorCode::ResourceNotFound,
                format!("No {} with this id", api.resource()),
            )
        };
        if let Some(s) = self.subscription_of(client_id).await?
            && s.event_subscription_id == id
        {
            return if s.api == api {
                Ok(s)
            } else {
                Err(not_found())
            };
        }
        let exists = sqlx::query("SELECT client_id FROM event_subscriptions WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store().pool())
            .await
            .map_err(Error::internal)?
            .is_some();
        if exists {
            Err(Error::forbidden(
                ObErrorCode::ResourceConsentMismatch,
                format!("The {} belongs to another client", api.resource()),
            ))
        } else {
            Err(not_found())
        }
    }
}

/// The client pushes go out with: trusting the sandbox CA in sandbox mode (local receivers);
/// otherwise the platform's roots, and names resolved by [`PublicOnly`].
pub fn callback_client(
    sandbox_root: Option<&rustls_pki_types::CertificateDer<'static>>,
    sandbox: bool,
) -> Result<reqwest::Client, bascule_registration::RegistrationError> {
    let resolver: Option<std::sync::Arc<dyn reqwest::dns::Resolve>> =
        (!sandbox).then(|| std::sync::Arc::new(PublicOnly) as _);
    bascule_registration::outbound_https_client(sandbox_root, resolver)
}

/// The callback client's resolver outside sandbox mode: a callback host name that resolves
/// to a loopback, private or link-local address is never called (a TPP cannot aim the bank's
/// pushes at its internal network through DNS).
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<std::net::SocketAddr> =
                found.filter(|a| is_public_ip(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

async fn create(
    State(events): State<Events>,
    token: AccessToken,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, Error> {
    let client_id = client_of(&token)?;
    events.verify_signature(client_id, &headers, &body).await?;
    let request: ObEventSubscription1 = body::parse(&body, "OBEventSubscription1")?;
    let d = request.data;
    let terms = events
        .terms(client_id, d.callback_url, d.version, d.event_types)
        .await?;
    let id = uuid::Uuid::new_v4().to_string();
    let row = NewRow {
        id: &id,
        api: Api::EventSubscription,
        callback_url: terms.callback_url.as_deref(),
        version: &terms.version,
        event_types: &terms.event_types,
    };
    // An event subscription supersedes the client's legacy callback URL (EVNP §Overview).
    events
        .insert(client_id, row, Some(Api::CallbackUrl))
        .await?;
    let subscription = Subscription {
        event_subscription_id: id,
        callback_url: terms.callback_url,
        version: terms.version,
        event_types: terms.event_types,
        api: Api::EventSubscription,
    };
    Ok((StatusCode::CREATED, Json(one(&events, subscription))))
}

async fn list(
    State(events): State<Events>,
    token: AccessToken,
    headers: HeaderMap,
) -> Result<Json<Envelope<ManyData>>, Error> {
    let client_id = client_of(&token)?;
    jws::refuse_unexpected(&headers)?;
    let subscriptions = events.subscription_of(client_id).await?;
    let event_subscription = subscriptions
        .into_iter()
        .filter(|s| s.api == Api::EventSubscription)
        .collect();
    let path = format!("{BASE}/event-subscriptions");
    Ok(Json(Envelope::to(
        &events,
        &path,
        ManyData { event_subscription },
    )))
}

async fn change(
    State(events): State<Events>,
    token: AccessToken,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Envelope<Subscription>>, Error> {
    let client_id = client_of(&token)?;
    events.verify_signature(client_id, &headers, &body).await?;
    let request: ObEventSubscriptionResponse1 = body::parse(&body, "OBEventSubscriptionResponse1")?;
    let d = request.data;
    if d.event_subscription_id != id {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Data.EventSubscriptionId is not the subscription of the path",
            "Data.EventSubscriptionId",
        ));
    }
    events
        .own_subscription(client_id, &id, Api::EventSubscription)
        .await?;
    let terms = events
        .terms(client_id, d.callback_url, d.version, d.event_types)
        .await?;
    events
        .update(
            client_id,
            NewRow {
                id: &id,
                api: Api::EventSubscription,
                callback_url: terms.callback_url.as_deref(),
                version: &terms.version,
                event_types: &terms.event_types,
            },
        )
        .await?;
    Ok(Json(one(
        &events,
        Subscription {
            event_subscription_id: id,
            callback_url: terms.callback_url,
            version: terms.version,
            event_types: terms.event_types,
            api: Api::EventSubscription,
        },
    )))
}

/// A client's row as either API writes it.
pub(crate) struct NewRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) api: Api,
    pub(crate) callback_url: Option<&'a str>,
    pub(crate) version: &'a str,
    pub(crate) event_types: &'a [String],
}

impl Events {
    /// Creates the client's one row; a row of `supersedes` is replaced, any other is a 409
    /// (EVT and the Callback URL API: one per TPP).
    pub(crate) async fn insert(
        &self,
        client_id: &str,
        row: NewRow<'_>,
        supersedes: Option<Api>,
    ) -> Result<(), Error> {
        let mut tx = self.store().begin().await.map_err(Error::internal)?;
        if let Some(old) = supersedes {
            tx.execute(
                sqlx::query("DELETE FROM event_subscriptions WHERE client_id = $1 AND api = $2")
                    .bind(client_id)
                    .bind(old.as_str()),
            )
            .await
            .map_err(Error::internal)?;
        }
        let inserted = tx
            .execute(
                sqlx::query(
                    "INSERT INTO event_subscriptions (id, client_id, callback_url, version, \
                     event_types, created_at, api) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(row.id)
                .bind(client_id)
                .bind(row.callback_url)
                .bind(row.version)
                .bind(row.event_types.join(" "))
                .bind(self.now().unix_timestamp())
                .bind(row.api.as_str()),
            )
            .await;
        match inserted {
            Ok(_) => {}
            Err(e) if e.is_unique_violation() => {
                return Err(Error::ClientError(StatusCode::CONFLICT));
            }
            Err(e) => return Err(Error::internal(e)),
        }
        if row.callback_url.is_none() {
            tx.execute(to_polling(client_id))
                .await
                .map_err(Error::internal)?;
        }
        tx.commit().await.map_err(Error::internal)
    }

    /// Replaces the client's row `row.id` (checked to be its own by the caller).
    pub(crate) async fn update(&self, client_id: &str, row: NewRow<'_>) -> Result<(), Error> {
        let mut tx = self.store().begin().await.map_err(Error::internal)?;
        tx.execute(
            sqlx::query(
                "UPDATE event_subscriptions SET callback_url = $1, version = $2, \
                 event_types = $3 WHERE id = $4 AND client_id = $5 AND api = $6",
            )
            .bind(row.callback_url)
            .bind(row.version)
            .bind(row.event_types.join(" "))
            .bind(row.id)
            .bind(client_id)
            .bind(row.api.as_str()),
        )
        .await
        .map_err(Error::internal)?;
        if row.callback_url.is_none() {
            tx.execute(to_polling(client_id))
                .await
                .map_err(Error::internal)?;
        }
        tx.commit().await.map_err(Error::internal)
    }

    /// Deletes the client's row `id`; what waited for a push waits for polling.
    pub(crate) async fn remove(&self, client_id: &str, id: &str) -> Result<(), Error> {
        let mut tx = self.store().begin().await.map_err(Error::internal)?;
        tx.execute(
            sqlx::query("DELETE FROM event_subscriptions WHERE id = $1 AND client_id = $2")
                .bind(id)
                .bind(client_id),
        )
        .await
        .map_err(Error::internal)?;
        tx.execute(to_polling(client_id))
            .await
            .map_err(Error::internal)?;
        tx.commit().await.map_err(Error::internal)
    }
}

/// Events waiting for a push that will not happen (no callback any more) wait for polling.
fn to_polling(client_id: &str) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query("UPDATE event_outbox SET status = 'poll' WHERE client_id = $1 AND status = 'push'")
        .bind(client_id)
}

async fn delete(
    State(events): State<Events>,
    token: AccessToken,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let client_id = client_of(&token)?;
    jws::refuse_unexpected(&headers)?;
    events
        .own_subscription(client_id, &id, Api::EventSubscription)
        .await?;
    events.remove(client_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that resolves to loopback is refused at delivery, whatever the subscription said.
    #[tokio::test]
    async fn a_callback_name_resolving_to_a_private_address_is_never_called() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let refused = PublicOnly.resolve(name).await;
        assert!(
            refused.is_err(),
            "localhost must not resolve for a production push"
        );
        let client = callback_client(None, false).unwrap();
        let error = client
            .post("https://localhost:9/event-notifications")
            .send()
            .await
            .unwrap_err();
        assert!(
            format!("{error:?}").contains("no public address"),
            "{error:?}"
        );
    }
}
