//! The shared fixture of the AIS integration tests.
//!
//! [`Bank::start`]`(backend)` runs the real server (`bascule_testkit::spawn_app`: TLS, sandbox,
//! a `ManualClock` at 2026-01-05 09:00 UTC only the test moves) with:
//!
//! - [`Bank::customer`]: Grace, with an `Everyday` current account (£500 arranged overdraft,
//!   £1,000 paid in), a `Bills` current account, and a `Holiday` pot under Everyday earning
//!   4% gross on its own product (£200 moved in);
//! - [`Bank::stranger`]: another customer with one current account (foreign-account tests);
//! - [`Bank::tpp`]: a TPP enrolled with the sandbox directory (all roles) and registered by DCR
//!   with `tls_client_auth`; [`Bank::other_tpp`] registers another organisation.
//!
//! Then, per test:
//!
//! - [`Bank::cc_token`]: a client-credentials token (`accounts` scope);
//! - [`Bank::create_consent`]: `POST /account-access-consents` with permissions → the body;
//! - [`Bank::authorise`]: headless sandbox approval of a consent for chosen accounts, code
//!   redeemed → the consent-bound access token;
//! - [`Bank::consented_token`]: both in one call; [`Bank::authorise_tokens`] and
//!   [`Bank::refresh`] when a test outlives the 24 h access token;
//! - [`Bank::get`] / [`Bank::post`] / [`Bank::delete`] / [`Bank::call`]: AIS calls over the
//!   TPP's mTLS connection (paths relative to `/open-banking/v3.1/aisp`), **with**
//!   `x-fapi-customer-ip-address` unless [`Call::unattended`] — so tests do not spend the
//!   unattended allowance by accident;
//! - [`valid`]: asserts a body validates against the spec's declared response schema.

#![allow(dead_code)]

use bascule_domain::{AccountId, CustomerId};
use bascule_store::Backend;

use bascule_testkit::api::{Api, Session, consent_id};
use bascule_testkit::tpp::{access_token, approve};
use serde_json::{Value, json};

// What the tests name, from the testkit where it lives.
#[allow(unused_imports)]
pub use bascule_testkit::{
    Tpp,
    api::{CUSTOMER_IP, Call, Reply},
    people::CustomerIds as Customer,
    tpp::REDIRECT,
};

pub const SPEC: &str = "v3.1.11/account-info-openapi.json";
pub const BASE: &str = "/open-banking/v3.1/aisp";
const API: Api = Api::new(BASE, SPEC, true);

/// Every permission that makes a valid consent together.
pub const ALL_PERMISSIONS: [&str; 21] = [
    "ReadAccountsBasic",
    "ReadAccountsDetail",
    "ReadBalances",
    "ReadBeneficiariesBasic",
    "ReadBeneficiariesDetail",
    "ReadDirectDebits",
    "ReadOffers",
    "ReadPAN",
    "ReadParty",
    "ReadPartyPSU",
    "ReadProducts",
    "ReadScheduledPaymentsBasic",
    "ReadScheduledPaymentsDetail",
    "ReadStandingOrdersBasic",
    "ReadStandingOrdersDetail",
    "ReadStatementsBasic",
    "ReadStatementsDetail",
    "ReadTransactionsBasic",
    "ReadTransactionsCredits",
    "ReadTransactionsDebits",
    "ReadTransactionsDetail",
];

pub struct Stranger {
    pub id: CustomerId,
    pub account: AccountId,
}

bascule_testkit::api_fixture!(API);

impl Bank {
    async fn try_start(backend: Backend) -> anyhow::Result<Bank> {
        let session = Session::start(backend, API, "Acme Budgeting Ltd", true).await?;
        Ok(Bank {
            customer: session.grace.ids()?,
            stranger: Stranger {
                id: session.alan.customer.id.clone(),
                account: session.alan.account.id.clone(),
            },
            session,
        })
    }

    pub async fn other_tpp(&self) -> Tpp {
        Tpp::tls(&self.app, "Other Insights Ltd").await
    }

    /// A client-credentials token of the fixture TPP.
    pub async fn cc_token(&self) -> String {
        self.cc_token_for(&self.tpp).await
    }

    pub async fn cc_token_for(&self, tpp: &Tpp) -> String {
        tpp.client_credentials(&self.app, "accounts").await
    }

    /// `POST /account-access-consents` asking for `permissions` (and `data` merged into
    /// `Data`), asserting 201; returns the response body.
    pub async fn create_consent(&self, permissions: &[&str], data: Value) -> Value {
        let token = self.cc_token().await;
        let mut body = json!({"Data": {"Permissions": permissions}, "Risk": {}});
        if let (Some(d), Value::Object(extra)) = (body["Data"].as_object_mut(), data) {
            d.extend(extra);
        }
        let reply = self
            .call(Call::new(reqwest::Method::POST, "/account-access-consents", &token).json(body))
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        valid("POST", "/account-access-consents", &reply);
        reply.body
    }

    /// Headless sandbox approval of `consent_id` by the fixture customer sharing `accounts`,
    /// then the code redeemed: the consent-bound access token.
    pub async fn authorise(&self, consent_id: &str, accounts: &[AccountId]) -> String {
        access_token(&self.authorise_tokens(consent_id, accounts).await)
    }

    /// [`Bank::authorise`], returning the whole token response (`refresh_token` too).
    pub async fn authorise_tokens(&self, consent_id: &str, accounts: &[AccountId]) -> Value {
        self.tpp
            .authorise(
                &self.app,
                consent_id,
                "accounts",
                approve(&self.customer.id, accounts),
            )
            .await
    }

    /// A new access token from `refresh_token` (same consent).
    pub async fn refresh(&self, refresh_token: &str) -> String {
        access_token(&self.tpp.refresh(&self.app, refresh_token).await)
    }

    /// A consent with `permissions`, authorised for `accounts`: (ConsentId, access token).
    pub async fn consented_token(
        &self,
        permissions: &[&str],
        accounts: &[AccountId],
    ) -> (String, String) {
        let id = consent_id(&self.create_consent(permissions, json!({})).await);
        let token = self.authorise(&id, accounts).await;
        (id, token)
    }
}
