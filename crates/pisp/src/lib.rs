//! The Open Banking Payment Initiation API (PIS): domestic payment consents and domestic
//! payments that settle on the bank's core exactly once, with `x-idempotency-key` and detached
//! JWS (`x-jws-signature`) on requests and responses, served as v3.1.11 first.
//!
//! # Architecture
//!
//! ```text
//! crates/pisp (this crate)
//!   lib.rs               Pisp (state: Authz, Registrar, CoreBanking, Store, clock, PispConfig),
//!                        Pisp::router() — every version's routes, OB error format, response
//!                        signing; starts the recovery loop (payments::Recovery)
//!   jws.rs   (pub)       detached JWS, Open Banking profile: `verify_request` (PS256, kid in the
//!                        TPP's JWKS, crit = iat/iss/tan, no b64 → 400 UK.OBIE.Signature.*),
//!                        `sign_body`, the `sign_responses` middleware, `JwsConfig`
//!   headers.rs           request-header rules: x-fapi-auth-date, x-fapi-customer-ip-address
//!                        (400 Header.Invalid), Accept (406), Content-Type (415),
//!                        x-idempotency-key (required on POSTs: 400 Header.Missing/Invalid)
//!   idempotency.rs       the (client, resource type, key) table: `claim` inside the creating
//!                        transaction (INSERT … ON CONFLICT DO NOTHING), `Claim::{New,Existing}`,
//!                        body-hash conflict → 400, waiting for a concurrent winner
//!   request.rs           `PispRequest`: the extractor a POST handler takes — token, client,
//!                        verified JWS over the exact body bytes, idempotency key, body Bytes
//!   order.rs   (pub)     what is stored, version-neutral: the terms of each payment kind
//!                        (`DomesticTerms`, `ScheduledTerms`, `StandingOrderTerms`: decimals,
//!                        sort code + account number, instants) and a consent's
//!                        `ConsentTerms<T>` (JSON in Consent.details); `Terms`, `PaymentKind`
//!   pipeline.rs          one create → replay → settle → recover pipeline for every kind:
//!                        consent checks, the idempotent create whose transaction also consumes
//!                        the consent, lookup for a client, recovery; a `Step` per kind
//!   customer_orders.rs   the customer's standing orders and scheduled payments still to pay,
//!                        with the core's schedule, in plain words (the bank's dashboard)
//!   consents.rs          the payments scope, a consent's debtor account, the funds check
//!                        (lookups and token rules: the consent service in bascule-authz)
//!   initiation.rs        the v3.1.11 domestic `Initiation`/`Risk` (serde, strict) and their
//!                        rules; schedule_initiation.rs the same for payment orders
//!   payments.rs          domestic payments' Step: the row + daily-limit reservation in the
//!                        pipeline's transaction, settlement through CoreBanking::post_payment
//!                        keyed by the payment id; the exactly-once rationale is written there
//!   schedules.rs         scheduled payments' and standing orders' Step: handed to the core's
//!                        schedules with the order id as request id
//!   limits.rs            PaymentLimits: per-customer-type daily limit (personal/business)
//!   v3_1_11/             the v3.1.11 wire mapping, base `/open-banking/v3.1/pisp`
//!     mod.rs             router: merges each resource module's `routes()`
//!     wire.rs            Links, Meta, DateTime (+00:00), status names, the response envelope
//!     terms.rs           wire Initiation/Risk ↔ the stored terms, both ways, byte for byte
//!     legacy.rs          rows stored as v3.1.11 JSON before migration 0009, converted once
//!     payment_orders.rs  what every kind's consent, order and payment-details share
//!     domestic_payment_consents.rs   /domestic-payment-consents[/{ConsentId}[/funds-confirmation]]
//!     domestic_payments.rs           /domestic-payments[/{DomesticPaymentId}[/payment-details]]
//! ```
//!
//! Adding a payment kind: a consent kind already exists in `bascule_domain::ConsentKind`; add
//! its terms to `order.rs` (and a `PaymentKind`), its `pipeline::Step` (its row, its
//! settlement), its wire Initiation with a mapping in `v3_1_11/terms.rs`, and
//! `v3_1_11/<kind>.rs` with `routes()` merged in `v3_1_11/mod.rs`. A new wire version maps its
//! own Initiation to the same terms. POST handlers take `PispRequest` (token + JWS +
//! idempotency key + body), GET handlers take `jws::Unsigned` (the token of a request that
//! carries no signature); response signing is already applied to every route by
//! `Pisp::router`.
//!
//! A handler's shape: `async fn h(State(pisp), req: PispRequest, ...) -> Result<Response, Error>`;
//! token rules first (401/403), then the signature (400 Signature.*), then idempotency (replay
//! or conflict), then the body (400 Field.*), then the service. Errors are
//! `bascule_http::Error`, rendered once as OBErrorResponse1 — and signed like any other body.
//!
//! # Headers returned
//!
//! `x-fapi-interaction-id` on every response; `x-jws-signature` on every response with a body
//! (errors included), signed with the authorisation server's current PS256 key, `iss` = the
//! bank's organisation id, `tan` = [`jws::JwsConfig::bank_tan`].

pub mod consents;
pub mod customer_orders;
use bascule_http::ob_headers as headers;
pub mod idempotency;
pub mod initiation;
pub mod jws;
pub mod limits;
pub mod order;
pub mod payments;
pub mod pipeline;
mod request;
pub mod schedule_initiation;
pub mod schedules;
pub mod summary;
pub mod v3_1_11;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::FromRef;
use axum::middleware::{from_fn, from_fn_with_state};
use bascule_authz::Authz;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::Clock;
use bascule_http::{Error, ErrorFormat, error_format};
use bascule_registration::Registrar;
use bascule_store::Store;
use time::OffsetDateTime;

pub use jws::JwsConfig;
pub use limits::PaymentLimits;
pub use request::PispRequest;
pub use summary::summary;

/// The bank's PIS settings.
#[derive(Debug, Clone)]
pub struct PispConfig {
    /// The server's public URL (`https://host[:port]`): `Links` are absolute (RW §Links).
    pub public_url: String,
    pub jws: JwsConfig,
    pub limits: PaymentLimits,
    /// How long a payment consent may wait for authorisation and then for its payment
    /// (payment consents are short-lived, PISP §Consent Revocation). Default 1 hour.
    pub consent_lifetime: time::Duration,
    /// How often the recovery loop re-drives payments left Pending (e.g. by a crash).
    pub recovery_interval: Duration,
    /// How long idempotency records are kept (RW §Idempotency: at least 24 h).
    pub idempotency_retention: time::Duration,
}

impl PispConfig {
    /// Defaults for a bank whose Open Banking Directory organisation id is `organisation_id`.
    pub fn new(public_url: impl Into<String>, organisation_id: impl Into<String>) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            jws: JwsConfig::new(organisation_id),
            limits: PaymentLimits::default(),
            consent_lifetime: time::Duration::hours(1),
            recovery_interval: Duration::from_secs(30),
            idempotency_retention: time::Duration::hours(48),
        }
    }
}

/// The Payment Initiation API. Cheap to clone.
#[derive(Clone)]
pub struct Pisp {
    inner: Arc<Inner>,
}

struct Inner {
    authz: Authz,
    core_banking: SharedCoreBanking,
    store: Store,
    clock: Arc<dyn Clock>,
    config: PispConfig,
    /// Set once rows stored in the v3.1.11 format have been converted (v3_1_11::legacy).
    terms_converted: tokio::sync::OnceCell<()>,
}

impl Pisp {
    /// Builds the API. Payments left Pending are settled by [`Pisp::recover`] and
    /// [`Pisp::recover_orders`], which the server's supervisor runs every `recovery_interval`.
    pub fn new(
        authz: Authz,
        core_banking: SharedCoreBanking,
        store: Store,
        clock: Arc<dyn Clock>,
        config: PispConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                authz,
                core_banking,
                store,
                clock,
                config,
                terms_converted: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// Every PIS route of every served version, speaking Open Banking errors, every body
    /// signed.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        v3_1_11::router()
            .route_layer(from_fn(headers::check_request_headers))
            .route_layer(from_fn_with_state(ErrorFormat::OpenBanking, error_format))
            .route_layer(from_fn_with_state(self.signer(), jws::sign_responses))
            .with_state(self.clone())
    }

    /// Signs this API's response bodies with the bank's key.
    pub fn signer(&self) -> jws::ResponseSigner {
        jws::ResponseSigner {
            authz: self.inner.authz.clone(),
            config: self.inner.config.jws.clone(),
            clock: self.inner.clock.clone(),
        }
    }

    pub fn authz(&self) -> &Authz {
        &self.inner.authz
    }

    pub fn registrar(&self) -> &Registrar {
        self.inner.authz.registrar()
    }

    pub fn core_banking(&self) -> &SharedCoreBanking {
        &self.inner.core_banking
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &PispConfig {
        &self.inner.config
    }

    pub fn now(&self) -> OffsetDateTime {
        self.inner.clock.now()
    }

    /// The absolute URL of `path` on this server (for `Links`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.config.public_url)
    }

    /// Before the first read of stored terms in this process: rows an earlier release stored
    /// in the v3.1.11 format are converted (once per database; a no-op after that).
    pub async fn stored_terms_ready(&self) -> Result<(), Error> {
        self.inner
            .terms_converted
            .get_or_try_init(|| async { v3_1_11::legacy::convert(self.store()).await.map(drop) })
            .await
            .map(drop)
    }
}

impl FromRef<Pisp> for Authz {
    fn from_ref(pisp: &Pisp) -> Authz {
        pisp.inner.authz.clone()
    }
}

pub(crate) use bascule_api_kit::core_error;

/// A database failure: ours, never the client's.
pub(crate) fn db_error(e: impl std::fmt::Display) -> Error {
    Error::internal(e)
}
