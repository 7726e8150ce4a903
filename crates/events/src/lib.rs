//! Open Banking event notifications (EVNP, EVT, ENT) served as v3.1.11: a TPP subscribes once
//! (`/event-subscriptions`), then learns of changes as Security Event Tokens (RFC 8417) pushed
//! to its callback or fetched by aggregated polling (`POST /events`), both from one outbox.
//!
//! # Architecture
//!
//! ```text
//! bascule_authz::outbox       the writer: an event row in the transaction of its change
//!                             (revocations there, payment status changes in bascule-pisp)
//! crates/events (this crate)
//!   lib.rs                    Events (state), EventsConfig, Events::router()
//!   set.rs                    an outbox row → its signed SET (the bank's PS256 server key)
//!   subscriptions.rs          /event-subscriptions: one per client, callback URL rules
//!   callback_urls.rs          /callback-urls (legacy, v3.1.6): resource-update to one URL,
//!                             kept in the client's one subscription row
//!   polling.rs                POST /events: ack, setErrs, maxEvents
//!   delivery.rs               the push worker: claim with a lease, POST, back-off, give up
//!   feed.rs                   the ledger change feed → resource-update events for accounts in
//!                             authorised account-access consents, linked-account-update when
//!                             one closes
//!   admin.rs                  the operators' view: a TPP's stuck events, re-driven
//! ```
//!
//! Push and polling share the outbox: a row delivered by push or acknowledged by polling is
//! `done` and is never sent again; the `jti` is the row's key, the same on every attempt.

pub mod admin;
mod callback_urls;
mod delivery;
mod feed;
mod polling;
mod set;
mod subscriptions;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware::from_fn_with_state;
use bascule_api_kit::jws::{self, JwsConfig, ResponseSigner};
use bascule_authz::Authz;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::Clock;
use bascule_store::{Store, StoreError};
use time::OffsetDateTime;

pub use bascule_authz::outbox::unix_ms;
pub use delivery::DeliveryReport;
pub use subscriptions::{PublicOnly, callback_client};

/// Why background event work failed.
#[derive(Debug, thiserror::Error)]
pub enum EventsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("core banking: {0}")]
    CoreBanking(String),
    #[error(transparent)]
    Consents(#[from] bascule_authz::ConsentError),
    #[error("signing: {0}")]
    Signing(String),
    #[error(transparent)]
    Feed(#[from] bascule_authz::outbox::FeedError),
}

impl From<bascule_store::sqlx::Error> for EventsError {
    fn from(e: bascule_store::sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

/// The bank's event settings.
#[derive(Debug, Clone)]
pub struct EventsConfig {
    /// The server's public URL: the SETs' `iss`, and where `sub` and `rlk` point.
    pub public_url: String,
    /// The bank's Open Banking organisation id (`x-fapi-financial-id` on every push).
    pub financial_id: String,
    /// Sandbox: callbacks may be on any host, loopback and private addresses included (local
    /// receivers), and the sandbox CA is trusted for them.
    pub sandbox: bool,
    /// How long a push is retried before the event waits for polling only.
    pub retry_period: Duration,
    /// The first retry's delay; each next one doubles it (with jitter), up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// How long a claimed row belongs to the node that claimed it: a node that dies mid-push
    /// frees its rows after this.
    pub lease: Duration,
    /// Rows claimed per round.
    pub batch: u32,
    /// Detached signatures on `/event-subscriptions` (EVT: signed request and response).
    pub jws: JwsConfig,
}

impl EventsConfig {
    pub fn new(public_url: impl Into<String>, financial_id: impl Into<String>) -> Self {
        let financial_id = financial_id.into();
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            financial_id: financial_id.clone(),
            sandbox: false,
            retry_period: Duration::from_secs(24 * 3600),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            lease: Duration::from_secs(60),
            batch: 100,
            jws: JwsConfig::new(financial_id),
        }
    }
}

/// The event notification service. Cheap to clone.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    authz: Authz,
    core_banking: SharedCoreBanking,
    store: Store,
    clock: Arc<dyn Clock>,
    config: EventsConfig,
    /// Callbacks: https only, no redirects, bounded time (a dead receiver cannot hold a worker).
    http: reqwest::Client,
    /// This node's name on the leases it takes.
    node: String,
    /// Clients holding a long poll on this node (`POST /events`).
    long_polls: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Events {
    pub fn new(
        authz: Authz,
        core_banking: SharedCoreBanking,
        store: Store,
        clock: Arc<dyn Clock>,
        config: EventsConfig,
        http: reqwest::Client,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                authz,
                core_banking,
                store,
                clock,
                config,
                http,
                node: uuid::Uuid::new_v4().to_string(),
                long_polls: std::sync::Mutex::new(std::collections::HashSet::new()),
            }),
        }
    }

    /// Every event route of every served version, speaking Open Banking errors. Subscription
    /// responses are signed (errors too); polling's are not (EVT: no JWS on `/events`).
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let signer = ResponseSigner {
            authz: self.inner.authz.clone(),
            config: self.inner.config.jws.clone(),
            clock: self.inner.clock.clone(),
        };
        bascule_api_kit::open_banking(subscriptions::routes().merge(callback_urls::routes()))
            .route_layer(from_fn_with_state(signer, jws::sign_responses))
            .merge(bascule_api_kit::open_banking(polling::routes()))
            .with_state(self.clone())
    }

    pub fn authz(&self) -> &Authz {
        &self.inner.authz
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &EventsConfig {
        &self.inner.config
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    fn now_ms(&self) -> i64 {
        bascule_authz::outbox::unix_ms(self.now())
    }
}

impl FromRef<Events> for Authz {
    fn from_ref(events: &Events) -> Authz {
        events.inner.authz.clone()
    }
}

impl bascule_api_kit::LinkBase for Events {
    fn public_url(&self) -> &str {
        &self.inner.config.public_url
    }
}

/// The base of the v3.1.11 event APIs (EVT `servers`).
pub(crate) const BASE: &str = bascule_authz::outbox::API_BASE;
