//! The customer's pages: what a person sees when a TPP sends them to the bank.
//!
//! - **Web flow** (`/authorize` in a browser): who is asking and for what, then full name, sort
//!   code and account number. Only when all three match one customer does the bank send an
//!   approval request to that customer's app ("the push"); the page waits and returns to the
//!   TPP once the app decides ([`journey`]).
//! - **The bank app** (`/app`): sign-in behind the [`AppSignIn`] trait (the demo's passcodes,
//!   [`Passcodes`]), an inbox of approval requests and the approval screen, where approving is
//!   the strong authentication ([`app`]).
//! - **Open Banking connections** (`/app/connections`, two taps from the app's home): every
//!   connection grouped by TPP, revoke, change accounts, refresh one or all ([`dashboard`]);
//!   reminders 30 days before access ends through a [`Notifier`] ([`reminders`]); hidden
//!   balances ([`settings`]).
//! - **Developer tokens** (`/app/developer`): the customer's personal API tokens, made (a
//!   token that moves money behind the passcode), shown once, listed and revoked
//!   ([`developer`]).
//! - **App-to-app** (`/app/authorize`, or `/authorize` in a browser already signed into the
//!   app): straight to the approval screen and back to the TPP, no identification step.
//!
//! Everything completes through the authorisation server's seam (`Authz::complete`); what a
//! consent asks is each API's own summary. Sessions live in the database so any node continues
//! a journey; every form carries a CSRF token; pages are never cached and never framed.

mod app;
mod approvals;
mod assets;
mod dashboard;
mod developer;
mod error;
mod journey;
mod limits;
mod pages;
mod reminders;
mod session;
mod settings;
mod sign_in;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use bascule_api_kit::summary::ConsentSummary;
use bascule_authz::Authz;
use bascule_core_banking::SharedCoreBanking;
use bascule_domain::{Clock, Consent, ConsentKind};
use bascule_store::Store;

pub use error::PageError;
pub use limits::Limits;
pub use reminders::{AppInbox, Notifier, REMINDER_NOTICE, Reminder};
pub use sign_in::{AppSignIn, Passcodes, SignInChoice};

/// Settings of the customer's pages.
#[derive(Debug, Clone)]
pub struct PagesConfig {
    /// The bank's name, as its pages show it.
    pub bank_name: String,
    /// How long an approval request waits for the customer's app (seconds; 5 minutes).
    pub approval_lifetime: i64,
    /// How long a browser session lives (seconds).
    pub session_lifetime: i64,
    pub limits: Limits,
}

impl PagesConfig {
    pub fn new(bank_name: impl Into<String>) -> Self {
        Self {
            bank_name: bank_name.into(),
            approval_lifetime: 300,
            session_lifetime: 12 * 3600,
            limits: Limits::default(),
        }
    }
}

/// The customer's pages. Cheap to clone.
#[derive(Clone)]
pub struct CustomerPages {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    authz: Authz,
    core_banking: SharedCoreBanking,
    sign_in: Arc<dyn AppSignIn>,
    notifier: Arc<dyn Notifier>,
    config: PagesConfig,
    /// The personal API whose tokens the app's developer page makes; without it the page
    /// says the bank does not offer one.
    personal: Option<bascule_personal_api::PersonalApi>,
}

impl CustomerPages {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        authz: Authz,
        core_banking: SharedCoreBanking,
        sign_in: Arc<dyn AppSignIn>,
        notifier: Arc<dyn Notifier>,
        config: PagesConfig,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                authz,
                core_banking,
                sign_in,
                notifier,
                config,
                personal: None,
            }),
        }
    }

    /// These pages with the personal API's token screens (`/app/developer`).
    pub fn with_personal_api(self, personal: bascule_personal_api::PersonalApi) -> Self {
        let inner = &*self.inner;
        Self {
            inner: Arc::new(Inner {
                store: inner.store.clone(),
                clock: inner.clock.clone(),
                authz: inner.authz.clone(),
                core_banking: inner.core_banking.clone(),
                sign_in: inner.sign_in.clone(),
                notifier: inner.notifier.clone(),
                config: inner.config.clone(),
                personal: Some(personal),
            }),
        }
    }

    pub fn config(&self) -> &PagesConfig {
        &self.inner.config
    }

    fn now(&self) -> i64 {
        self.inner.clock.now().unix_timestamp()
    }

    /// Every page route, with the security headers every page carries.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        Router::new()
            .route(
                "/authorize",
                get(journey::authorize_get).post(journey::authorize_post),
            )
            .route("/consent/{journey}", get(journey::identify_page))
            .route("/consent/{journey}/identify", post(journey::identify))
            .route("/consent/{journey}/wait", get(journey::wait_page))
            .route("/consent/{journey}/status", get(journey::status))
            .route("/consent/{journey}/continue", get(journey::resume))
            .route("/consent/{journey}/cancel", post(journey::cancel))
            .route("/app", get(app::home))
            .route("/app/sign-in", post(app::sign_in))
            .route("/app/sign-out", post(app::sign_out))
            .route("/app/authorize", get(app::authorize_in_app))
            .route("/app/journeys/{journey}", get(app::journey_in_app))
            .route(
                "/app/approvals/{approval}",
                get(app::approval_page).post(app::decide),
            )
            .route("/app/connections", get(dashboard::list))
            .route(
                "/app/connections/refresh",
                get(dashboard::refresh_all_page).post(dashboard::refresh_all),
            )
            .route(
                "/app/connections/{consent}/refresh",
                get(dashboard::refresh_one_page).post(dashboard::refresh_one),
            )
            .route(
                "/app/connections/{consent}/revoke",
                get(dashboard::revoke_page).post(dashboard::revoke),
            )
            .route(
                "/app/connections/{consent}/accounts",
                get(dashboard::accounts_page).post(dashboard::change_accounts),
            )
            .route("/app/settings/balances", post(settings::balances))
            .route("/app/developer", get(developer::page))
            .route("/app/developer/tokens", post(developer::create))
            .route("/app/developer/tokens/{id}/revoke", post(developer::revoke))
            .route(
                "/app/developer/webhooks/{id}/delete",
                post(developer::delete_webhook),
            )
            .route("/assets/site.css", get(assets::css))
            .route("/assets/wait.js", get(assets::wait_js))
            .layer(axum::middleware::from_fn(pages::security_headers))
            .with_state(self.clone())
    }
}

/// What a consent asks, from the API that owns its kind.
pub(crate) fn summary(consent: &Consent) -> Result<ConsentSummary, PageError> {
    let described = match consent.kind {
        ConsentKind::AccountAccess => bascule_aisp::summary(consent),
        ConsentKind::FundsConfirmation => bascule_cbpii::summary(consent),
        ConsentKind::DomesticPayment
        | ConsentKind::DomesticScheduledPayment
        | ConsentKind::DomesticStandingOrder => bascule_pisp::summary(consent),
    };
    described.map_err(|e| PageError::Internal(format!("describing a consent: {e:?}")))
}

/// 256 bits from the system's CSPRNG, base64url.
pub(crate) fn random_token() -> Result<String, PageError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| PageError::Internal("no randomness".into()))?;
    Ok(bascule_jose::base64url_encode(&bytes))
}

/// How a secret is stored.
pub(crate) fn hash(secret: &str) -> String {
    bascule_jose::sha256_base64url(secret.as_bytes())
}
