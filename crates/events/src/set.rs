//! An outbox row as the Security Event Token (RFC 8417) the TPP receives: claims per ENT
//! `OBEventNotification1` (`iss`, `iat`, `jti`, `aud`, `sub`, `txn`, `toe`, `events`), signed
//! PS256 by the bank's current server key (its `kid` is in `/jwks`). The row is the record;
//! the SET is built at each sending, with the same `jti`.

use bascule_authz::outbox::{EventType, PERSONAL_WEBHOOK};
use bascule_store::sqlx::{Row, any::AnyRow};
use serde_json::{Value, json};

use crate::{Events, EventsError};

/// The `rlk` version of the links Bascule serves (EVNP: links to every supported version).
const LINK_VERSION: &str = "v3.1.11";

/// The SET's `typ` (RFC 8417 §2.3).
const TYP: &str = "secevent+jwt";

/// An event waiting in the outbox.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub jti: String,
    pub client_id: String,
    pub event_type: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_path: String,
    pub txn: String,
    pub toe: i64,
    pub attempts: i64,
    pub created_ms: i64,
    pub retry_from_ms: i64,
    /// A personal webhook's JSON body; `None` for an Open Banking SET.
    pub payload: Option<String>,
}

/// The outbox columns [`Pending::of_row`] reads.
pub(crate) const COLUMNS: &str = "jti, client_id, event_type, resource_type, resource_id, \
     resource_path, txn, toe, attempts, created_ms, retry_from_ms, channel, payload";

impl Pending {
    pub fn of_row(row: &AnyRow) -> Result<Pending, EventsError> {
        Ok(Pending {
            jti: row.try_get("jti")?,
            client_id: row.try_get("client_id")?,
            event_type: row.try_get("event_type")?,
            resource_type: row.try_get("resource_type")?,
            resource_id: row.try_get("resource_id")?,
            resource_path: row.try_get("resource_path")?,
            txn: row.try_get("txn")?,
            toe: row.try_get("toe")?,
            attempts: row.try_get("attempts")?,
            created_ms: row.try_get("created_ms")?,
            retry_from_ms: row.try_get("retry_from_ms")?,
            payload: {
                let channel: String = row.try_get("channel")?;
                let payload: Option<String> = row.try_get("payload")?;
                (channel == PERSONAL_WEBHOOK).then(|| payload.unwrap_or_default())
            },
        })
    }

    /// The claims (ENT `OBEventNotification1`).
    pub fn claims(&self, issuer: &str, iat: i64) -> Value {
        let link = format!("{issuer}{}", self.resource_path);
        let subject = json!({
            "subject_type": "http://openbanking.org.uk/rid_http://openbanking.org.uk/rty",
            "http://openbanking.org.uk/rid": self.resource_id,
            "http://openbanking.org.uk/rty": self.resource_type,
            "http://openbanking.org.uk/rlk": [{"version": LINK_VERSION, "link": link}],
        });
        // Both event kinds carry the subject (ENT OBEventResourceUpdate1; EVNP
        // OBEventConsentAuthorizationRevoked1, where it is required without a resource-update).
        let urn = EventType::parse_urn(&self.event_type)
            .map(|t| t.urn())
            .unwrap_or(EventType::ResourceUpdate.urn());
        json!({
            "iss": issuer,
            "iat": iat,
            "jti": self.jti,
            "aud": self.client_id,
            "sub": link,
            "txn": self.txn,
            "toe": self.toe,
            "events": { urn: { "subject": subject } },
        })
    }
}

impl Events {
    /// The row's SET, signed now.
    pub(crate) fn sign(&self, event: &Pending) -> Result<String, EventsError> {
        let key = self
            .authz()
            .keys()
            .current()
            .map_err(|e| EventsError::Signing(e.to_string()))?;
        let claims = event.claims(&self.config().public_url, self.now().unix_timestamp());
        key.sign_jwt(&claims, Some(TYP))
            .map_err(|e| EventsError::Signing(e.to_string()))
    }
}
