//! The shared fixture of the PIS integration tests.
//!
//! [`Bank::start`]`(backend)` runs the real server (`bascule_testkit::spawn_app`: TLS, sandbox,
//! a `ManualClock` at 2026-01-05 09:00 UTC only the test moves) with:
//!
//! - [`Bank::customer`]: Grace (personal), with an `Everyday` current account (£500 arranged
//!   overdraft, £1,000 paid in: £1,300 available after £200 moved to her `Holiday` pot) and
//!   a `Bills` current account (empty, no overdraft);
//! - [`Bank::stranger`]: Alan, another customer with one current account: the creditor of the
//!   fixture's payments (an on-us payment);
//! - [`Bank::tpp`]: a TPP enrolled with the sandbox directory (all roles) and registered by DCR
//!   with `tls_client_auth`; [`Bank::other_tpp`] registers another organisation.
//!
//! Then, per test:
//!
//! - [`Bank::cc_token`]: a client-credentials token (`payments` scope);
//! - [`initiation`]: a domestic Initiation paying Alan `amount`;
//! - [`Bank::create_consent`]: `POST /domestic-payment-consents` (signed, fresh idempotency
//!   key), asserting 201 and the schema → the body;
//! - [`Bank::authorise`]: headless sandbox approval of a consent with the debtor account chosen,
//!   code redeemed → the consent-bound access token;
//! - [`Bank::authorised_consent`]: both in one call → (ConsentId, token);
//! - [`Bank::pay`]: `POST /domestic-payments` for a consent (signed, fresh key);
//! - [`Call`] + [`Bank::call`]: any request, with control over the body bytes, the signature
//!   (`Jws::Sign` default, `Jws::None`, `Jws::Raw(..)`, `Jws::Header(..)` to sign with a
//!   custom JOSE header) and the idempotency key;
//! - [`Bank::sign`] / [`Bank::jose_header`]: the TPP's detached signature of some bytes;
//! - [`Bank::verify_response`]: checks a reply's `x-jws-signature` with the bank's JWKS;
//! - [`valid`]: asserts a body validates against the spec's declared response schema.

#![allow(dead_code)]

use anyhow::Context;
use bascule_domain::{AccountId, CustomerId, Pence};
use bascule_store::Backend;
use bascule_testkit::api::{Api, Session};
use bascule_testkit::tpp::{access_token, approve};
use serde_json::{Map, Value, json};

// What the tests name, from the testkit where it lives.
#[allow(unused_imports)]
pub use bascule_testkit::{
    Tpp,
    api::{CUSTOMER_IP, Call, Jws, Reply, fresh_key},
    people::CustomerIds as Customer,
    tpp::{IAT, ISS, REDIRECT, TAN},
};

pub const SPEC: &str = "v3.1.11/payment-initiation-openapi.json";
pub const BASE: &str = "/open-banking/v3.1/pisp";
const API: Api = Api::new(BASE, SPEC, true);

pub struct Stranger {
    pub id: CustomerId,
    pub account: AccountId,
    /// The 14-digit sort code and account number of `account`.
    pub identification: String,
}

bascule_testkit::api_fixture!(API);

pub use bascule_testkit::api::domestic_initiation as initiation;

pub fn risk() -> Value {
    json!({"PaymentContextCode": "PartyToParty"})
}

impl Bank {
    async fn try_start(backend: Backend) -> anyhow::Result<Bank> {
        let session = Session::start(backend, API, "Acme Payments Ltd", true).await?;
        let alan = &session.alan;
        let identification = alan
            .account
            .identification
            .context("a current account has a sort code and number")?
            .to_string();
        Ok(Bank {
            customer: session.grace.ids()?,
            stranger: Stranger {
                id: alan.customer.id.clone(),
                account: alan.account.id.clone(),
                identification,
            },
            session,
        })
    }

    pub async fn other_tpp(&self) -> Tpp {
        Tpp::tls(&self.app, "Other Payments Ltd").await
    }

    /// An Initiation paying Alan `amount`.
    pub fn initiation(&self, amount: &str) -> Value {
        initiation(&self.stranger.identification, amount)
    }

    /// The valid JOSE header of the fixture TPP at the bank's now (without alg/kid).
    pub fn jose_header(&self) -> Map<String, Value> {
        self.tpp.jose_header(self.now())
    }

    /// `tpp`'s detached signature of `bytes` with `header`.
    pub fn sign_with(&self, tpp: &Tpp, header: Map<String, Value>, bytes: &[u8]) -> String {
        tpp.sign_detached(header, bytes)
    }

    pub fn sign(&self, bytes: &[u8]) -> String {
        self.sign_with(&self.tpp, self.jose_header(), bytes)
    }

    /// A client-credentials token (`payments`) of the fixture TPP.
    pub async fn cc_token(&self) -> String {
        self.cc_token_for(&self.tpp).await
    }

    pub async fn cc_token_for(&self, tpp: &Tpp) -> String {
        tpp.client_credentials(&self.app, "payments").await
    }

    /// The consent request body for `initiation`.
    pub fn consent_body(initiation: Value) -> Value {
        json!({"Data": {"Initiation": initiation}, "Risk": risk()})
    }

    /// `POST /domestic-payment-consents` for `initiation`, asserting 201, the schema and the
    /// response signature.
    pub async fn create_consent(&self, initiation: Value) -> Value {
        let token = self.cc_token().await;
        let reply = self
            .call(Call::post(
                "/domestic-payment-consents",
                &token,
                &Self::consent_body(initiation),
            ))
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        valid("POST", "/domestic-payment-consents", &reply);
        self.verify_response(&reply);
        reply.body
    }

    /// Headless sandbox approval of `consent_id` by Grace paying from `debtor`, then the code
    /// redeemed: the consent-bound access token.
    pub async fn authorise(&self, consent_id: &str, debtor: &AccountId) -> String {
        let approval = approve(&self.customer.id, std::slice::from_ref(debtor));
        access_token(
            &self
                .tpp
                .authorise(&self.app, consent_id, "payments", approval)
                .await,
        )
    }

    /// A consent for `initiation` authorised from Grace's Everyday: (ConsentId, token).
    pub async fn authorised_consent(&self, initiation: Value) -> (String, String) {
        let consent = self.create_consent(initiation).await;
        let id = consent["Data"]["ConsentId"]
            .as_str()
            .expect("ConsentId")
            .to_owned();
        let token = self.authorise(&id, &self.customer.everyday).await;
        (id, token)
    }

    /// The payment request body for `consent_id` and `initiation`.
    pub fn payment_body(consent_id: &str, initiation: Value) -> Value {
        json!({"Data": {"ConsentId": consent_id, "Initiation": initiation}, "Risk": risk()})
    }

    /// `POST /domestic-payments` (signed, fresh key).
    pub async fn pay(&self, consent_id: &str, token: &str, initiation: Value) -> Reply {
        self.call(Call::post(
            "/domestic-payments",
            token,
            &Self::payment_body(consent_id, initiation),
        ))
        .await
    }

    /// Asserts the reply's `x-jws-signature` verifies over its body with the bank's JWKS and
    /// carries the Open Banking claims.
    #[track_caller]
    pub fn verify_response(&self, reply: &Reply) {
        let signature = reply
            .header("x-jws-signature")
            .unwrap_or_else(|| panic!("no x-jws-signature on a {} reply", reply.status));
        let keys = bascule_jose::VerifyingKeys::from_jwks(&self.app.state().authz.keys().jwks())
            .expect("bank keys");
        let header = bascule_jose::verify_detached(
            signature,
            &reply.raw,
            &keys,
            &[bascule_jose::Algorithm::PS256],
            &[IAT, ISS, TAN],
        )
        .expect("the response signature verifies");
        assert_eq!(
            header.other[ISS],
            json!(self.app.state().config.bank.organisation_id)
        );
        assert_eq!(header.other[TAN], json!("openbanking.org.uk"));
    }

    /// Grace's Everyday balance booked in the ledger.
    pub async fn booked(&self, account: &AccountId) -> Pence {
        self.app
            .state()
            .core_banking
            .balances(std::slice::from_ref(account))
            .await
            .expect("balances")[0]
            .booked
    }

    /// Credits `account` with `pence` from outside (salary).
    pub async fn credit(&self, account: &AccountId, pence: i64) {
        bascule_testkit::people::pay_in(&self.app.ledger, account, Pence(pence), "BONUS")
            .await
            .expect("crediting");
    }

    /// Rows in the PIS payments table (all clients).
    pub async fn payment_count(&self) -> i64 {
        bascule_store::sqlx::query_scalar("SELECT COUNT(*) FROM pisp_domestic_payments")
            .fetch_one(self.app.state().store.pool())
            .await
            .expect("count")
    }
}
