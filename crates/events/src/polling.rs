//! Aggregated polling, `POST /events` (EVT v3.1.11; RES/event-notifications/events;
//! draft-ietf-secevent-http-poll): the client acknowledges (`ack`) or refuses (`setErrs`) SETs
//! it holds, then receives up to `maxEvents` of its pending ones, oldest first. It reads the
//! same outbox as the push worker: an acknowledged or refused event is `done` and is never
//! pushed or polled again. With `returnImmediately: false` and nothing pending the request is
//! held as a long poll (draft-ietf-secevent-http-poll §2.4) until an event is written or
//! [`LONG_POLL`] passes; otherwise the bank answers at once (EVT leaves the default open).

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use bascule_api_kit::body::{self, field_error, text};
use bascule_authz::AccessToken;
use bascule_http::{Error, ObErrorCode};
use bascule_store::sqlx;
use serde::{Deserialize, Serialize};

use crate::set::{COLUMNS, Pending};
use crate::subscriptions::client_of;
use crate::{BASE, Events};

/// SETs returned when the client names no `maxEvents`, and the most it may ask for.
const DEFAULT_MAX_EVENTS: i64 = 20;
const MAX_EVENTS: i64 = 100;
/// How long a long poll is held at most (below the server's shutdown drain), and how often it
/// looks for new events meanwhile (events may be written by any node, so the outbox is read
/// again rather than waited on). Each client holds at most one at a time per node.
pub(crate) const LONG_POLL: std::time::Duration = std::time::Duration::from_secs(8);
const LONG_POLL_STEP: std::time::Duration = std::time::Duration::from_millis(250);

pub(crate) fn routes() -> Router<Events> {
    Router::new().route(&format!("{BASE}/events"), post(poll))
}

/// `OBEventPolling1`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ObEventPolling1 {
    max_events: Option<i64>,
    return_immediately: Option<bool>,
    ack: Option<Vec<String>>,
    set_errs: Option<BTreeMap<String, SetError>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetError {
    err: String,
    description: String,
}

/// `OBEventPollingResponse1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ObEventPollingResponse1 {
    more_available: bool,
    sets: BTreeMap<String, String>,
}

async fn poll(
    State(events): State<Events>,
    token: AccessToken,
    body: Bytes,
) -> Result<Json<ObEventPollingResponse1>, Error> {
    let client_id = client_of(&token)?;
    let request: ObEventPolling1 = body::parse(&body, "OBEventPolling1")?;
    let max = request.max_events.unwrap_or(DEFAULT_MAX_EVENTS);
    if max < 0 {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "maxEvents must not be negative",
            "maxEvents",
        ));
    }
    let acks = request.ack.unwrap_or_default();
    for (i, jti) in acks.iter().enumerate() {
        text(jti, 128, &format!("ack[{i}]"))?;
    }
    let refused = request.set_errs.unwrap_or_default();
    for (jti, e) in &refused {
        text(&e.err, 40, &format!("setErrs.{jti}.err"))?;
        text(&e.description, 256, &format!("setErrs.{jti}.description"))?;
    }
    let now = events.now_ms();
    if !acks.is_empty() || !refused.is_empty() {
        let mut tx = events.store().begin().await.map_err(Error::internal)?;
        for jti in &acks {
            tx.execute(done(client_id, jti, now, None))
                .await
                .map_err(Error::internal)?;
        }
        for (jti, e) in &refused {
            tracing::info!(%client_id, %jti, err = %e.err, "TPP refused an event");
            let reason = format!("{}: {}", e.err, e.description);
            tx.execute(done(client_id, jti, now, Some(reason)))
                .await
                .map_err(Error::internal)?;
        }
        tx.commit().await.map_err(Error::internal)?;
    }
    let limit = max.min(MAX_EVENTS);
    let mut rows = events.pending_for(client_id, limit + 1).await?;
    // One long poll per client at a time on this node: a second one is answered at once.
    let holding = (rows.is_empty() && limit > 0 && request.return_immediately == Some(false))
        .then(|| events.hold_long_poll(client_id))
        .flatten();
    if holding.is_some() {
        let deadline = tokio::time::Instant::now() + LONG_POLL;
        while rows.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(LONG_POLL_STEP).await;
            rows = events.pending_for(client_id, limit + 1).await?;
        }
    }
    let take = usize::try_from(limit).unwrap_or(0);
    let more_available = rows.len() > take;
    let mut sets = BTreeMap::new();
    for row in rows.iter().take(take) {
        let pending = Pending::of_row(row).map_err(Error::internal)?;
        let set = events.sign(&pending).map_err(Error::internal)?;
        sets.insert(pending.jti, set);
    }
    Ok(Json(ObEventPollingResponse1 {
        more_available,
        sets,
    }))
}

/// A client's long poll in progress; dropping it lets the client hold another.
pub(crate) struct LongPoll {
    events: Events,
    client_id: String,
}

impl Drop for LongPoll {
    fn drop(&mut self) {
        let mut held = self
            .events
            .inner
            .long_polls
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        held.remove(&self.client_id);
    }
}

impl Events {
    /// The client's long poll, unless it already holds one here.
    fn hold_long_poll(&self, client_id: &str) -> Option<LongPoll> {
        let mut held = self
            .inner
            .long_polls
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        held.insert(client_id.to_owned()).then(|| LongPoll {
            events: self.clone(),
            client_id: client_id.to_owned(),
        })
    }

    /// Up to `limit` of the client's events not yet delivered or acknowledged, oldest first.
    async fn pending_for(
        &self,
        client_id: &str,
        limit: i64,
    ) -> Result<Vec<bascule_store::sqlx::any::AnyRow>, Error> {
        // COLUMNS is a constant: nothing from the request is in the SQL text.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM event_outbox WHERE client_id = $1 AND status <> 'done' \
             AND channel = 'open-banking' ORDER BY seq LIMIT $2"
        )))
        .bind(client_id)
        .bind(limit)
        .fetch_all(self.store().pool())
        .await
        .map_err(Error::internal)
    }
}

/// The client's event `jti` is answered: never sent again.
fn done<'a>(
    client_id: &'a str,
    jti: &'a str,
    now_ms: i64,
    refusal: Option<String>,
) -> sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments> {
    sqlx::query(
        "UPDATE event_outbox SET status = 'done', done_ms = $1, \
         last_error = COALESCE($2, last_error) \
         WHERE client_id = $3 AND jti = $4 AND status <> 'done' AND channel = 'open-banking'",
    )
    .bind(now_ms)
    .bind(refusal)
    .bind(client_id)
    .bind(jti)
}
