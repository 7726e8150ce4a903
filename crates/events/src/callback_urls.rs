//! `/callback-urls`, the legacy Callback URL API (v3.1.6 file; RES/event-notifications/
//! callback-url), for TPPs that have not moved to event subscriptions: one URL per client
//! (409 for a second), resource-update events only, pushed to `{Url}/event-notifications` like
//! any other. POST and PUT are signed, as every response is. The URL obeys the same rules as a
//! subscription's `CallbackUrl`, and the row is the client's one row of `event_subscriptions`:
//! an event subscription created later supersedes it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use axum::{Json, Router};
use bascule_api_kit::Envelope;
use bascule_api_kit::body::{self, text};
use bascule_api_kit::jws;
use bascule_authz::AccessToken;
use bascule_authz::outbox::EventType;
use bascule_http::Error;
use serde::{Deserialize, Serialize};

use crate::subscriptions::{Api, NewRow, Subscription, client_of};
use crate::{BASE, Events};

pub(crate) fn routes() -> Router<Events> {
    Router::new()
        .route(&format!("{BASE}/callback-urls"), get(list).post(create))
        .route(
            &format!("{BASE}/callback-urls/{{CallbackUrlId}}"),
            put(change).delete(delete),
        )
}

/// `OBCallbackUrl1`, the body of POST and PUT.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObCallbackUrl1 {
    data: CallbackUrlData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CallbackUrlData {
    url: String,
    version: String,
}

/// `OBCallbackUrlResponseData1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CallbackUrl {
    callback_url_id: String,
    url: String,
    version: String,
}

impl CallbackUrl {
    fn of(row: Subscription) -> Option<CallbackUrl> {
        Some(CallbackUrl {
            callback_url_id: row.event_subscription_id,
            url: row.callback_url?,
            version: row.version,
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ManyData {
    callback_url: Vec<CallbackUrl>,
}

fn one(events: &Events, data: CallbackUrl) -> Envelope<CallbackUrl> {
    let path = format!("{BASE}/callback-urls/{}", data.callback_url_id);
    Envelope::to(events, &path, data)
}

/// A callback URL hears of resource updates only (Callback URL API Profile §Overview).
fn event_types() -> Vec<String> {
    vec![EventType::ResourceUpdate.code().to_owned()]
}

impl Events {
    /// The signed body of a POST or PUT by `client_id`, checked → (Url, Version).
    async fn callback_terms(
        &self,
        client_id: &str,
        headers: &HeaderMap,
        raw: &[u8],
    ) -> Result<(String, String), Error> {
        self.verify_signature(client_id, headers, raw).await?;
        let request: ObCallbackUrl1 = body::parse(raw, "OBCallbackUrl1")?;
        let CallbackUrlData { url, version } = request.data;
        text(&version, 10, "Data.Version")?;
        self.check_callback(client_id, &url, "Data.Url").await?;
        Ok((url, version))
    }
}

async fn create(
    State(events): State<Events>,
    token: AccessToken,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<impl IntoResponse, Error> {
    let client_id = client_of(&token)?;
    let (url, version) = events.callback_terms(client_id, &headers, &raw).await?;
    let id = uuid::Uuid::new_v4().to_string();
    let types = event_types();
    // A client with a callback URL, or with the event subscription that supersedes one, gets
    // 409 (RES/event-notifications/callback-url §POST).
    events
        .insert(
            client_id,
            NewRow {
                id: &id,
                api: Api::CallbackUrl,
                callback_url: Some(&url),
                version: &version,
                event_types: &types,
            },
            None,
        )
        .await?;
    let data = CallbackUrl {
        callback_url_id: id,
        url,
        version,
    };
    Ok((StatusCode::CREATED, Json(one(&events, data))))
}

async fn list(
    State(events): State<Events>,
    token: AccessToken,
    headers: HeaderMap,
) -> Result<Json<Envelope<ManyData>>, Error> {
    let client_id = client_of(&token)?;
    jws::refuse_unexpected(&headers)?;
    let callback_url = events
        .subscription_of(client_id)
        .await?
        .filter(|row| row.api == Api::CallbackUrl)
        .and_then(CallbackUrl::of)
        .into_iter()
        .collect();
    let path = format!("{BASE}/callback-urls");
    Ok(Json(Envelope::to(
        &events,
        &path,
        ManyData { callback_url },
    )))
}

async fn change(
    State(events): State<Events>,
    token: AccessToken,
    Path(id): Path<String>,
    headers: HeaderMap,
    raw: Bytes,
) -> Result<Json<Envelope<CallbackUrl>>, Error> {
    let client_id = client_of(&token)?;
    let (url, version) = events.callback_terms(client_id, &headers, &raw).await?;
    events
        .own_subscription(client_id, &id, Api::CallbackUrl)
        .await?;
    let types = event_types();
    events
        .update(
            client_id,
            NewRow {
                id: &id,
                api: Api::CallbackUrl,
                callback_url: Some(&url),
                version: &version,
                event_types: &types,
            },
        )
        .await?;
    let data = CallbackUrl {
        callback_url_id: id,
        url,
        version,
    };
    Ok(Json(one(&events, data)))
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
        .own_subscription(client_id, &id, Api::CallbackUrl)
        .await?;
    events.remove(client_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
