//! The personal developer API (`/personal/v1`): a bank's own customers code against their own
//! accounts, no TPP licence needed.
//!
//! - **Personal tokens** ([`tokens`]): made in the bank app, named, read-only or read and move
//!   money between the customer's own pots, at most 90 days; the secret is shown once and only
//!   its SHA-256 is kept; revoked at once.
//! - **The JSON API** ([`routes`]): accounts (pots included), balances, transactions with
//!   cursor pagination and date filters, pots, and moves between a current account and its
//!   pots keyed by a required `dedupe_id` (the ledger's idempotency key, so the same id never
//!   moves money twice). Bearer token over TLS, no client certificate. Another customer's
//!   account answers 404 as if it did not exist. Errors are `{"error": {"code", "message"}}`
//!   with a stable code; each token is rate-limited ([`limits`]). Its OpenAPI file is served
//!   at `/personal/v1/openapi.json`.
//! - **Webhooks** ([`webhooks`]): a customer registers an https URL for an account and gets
//!   `transaction.created` (and `transaction.updated` when a pending card payment settles, same
//!   id) as JSON, signed per Standard Webhooks. The feed job writes each message into the event
//!   outbox in the transaction that moves its cursor; the events push worker delivers it with
//!   retries.

pub mod limits;
pub mod routes;
pub mod tokens;
pub mod webhooks;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::middleware::from_fn_with_state;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::Clock;
use bascule_http::{ErrorFormat, error_format};
use bascule_store::{Store, StoreError};
use time::OffsetDateTime;

pub use limits::RateLimit;
pub use tokens::{IssuedToken, Scope, TokenError, TokenInfo};

/// The API's base path.
pub const BASE: &str = "/personal/v1";

/// The OpenAPI description the bank serves and the tests check every response against.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// Settings of the personal API.
#[derive(Debug, Clone, Default)]
pub struct PersonalConfig {
    /// Requests per token per window.
    pub rate_limit: RateLimit,
    /// Sandbox: webhooks may point at local receivers (the push worker's client decides what
    /// it may reach; this only relaxes the URL check at registration).
    pub sandbox: bool,
}

/// Why background work of the personal API failed.
#[derive(Debug, thiserror::Error)]
pub enum PersonalError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("core banking: {0}")]
    CoreBanking(#[from] bascule_core_banking::CoreBankingError),
    #[error(transparent)]
    Feed(#[from] bascule_authz::outbox::FeedError),
}

impl From<bascule_store::sqlx::Error> for PersonalError {
    fn from(e: bascule_store::sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

/// The personal API. Cheap to clone.
#[derive(Clone)]
pub struct PersonalApi {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    core: SharedCoreBanking,
    clock: Arc<dyn Clock>,
    config: PersonalConfig,
    limiter: limits::Limiter,
}

impl PersonalApi {
    pub fn new(
        store: Store,
        core: SharedCoreBanking,
        clock: Arc<dyn Clock>,
        config: PersonalConfig,
    ) -> Self {
        let limiter = limits::Limiter::new(config.rate_limit);
        Self {
            inner: Arc::new(Inner {
                store,
                core,
                clock,
                config,
                limiter,
            }),
        }
    }

    /// Every route, speaking the personal API's errors.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        routes::routes()
            .route_layer(from_fn_with_state(ErrorFormat::Personal, error_format))
            .with_state(self.clone())
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn core(&self) -> &SharedCoreBanking {
        &self.inner.core
    }

    pub fn config(&self) -> &PersonalConfig {
        &self.inner.config
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }
}
