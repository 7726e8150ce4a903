//! The shared fixture of the CBPII integration tests (adapted from the AIS one).
//!
//! [`Bank::start`]`(backend)` runs the real server (`bascule_testkit::spawn_app`: TLS, sandbox,
//! a `ManualClock` at 2026-01-05 09:00 UTC only the test moves) with:
//!
//! - [`Bank::customer`]: Grace, with an `Everyday` current account (£500 arranged overdraft,
//!   £1,000 paid in: £1,500 available) and a `Bills` current account (no overdraft, empty);
//! - [`Bank::stranger`]: another customer with one current account;
//! - [`Bank::tpp`]: a TPP enrolled with the sandbox directory (all roles) and registered by DCR
//!   with `tls_client_auth`; [`Bank::other_tpp`] registers another organisation.
//!
//! Then, per test:
//!
//! - [`Bank::cc_token`]: a client-credentials token (`fundsconfirmations` scope);
//! - [`Bank::create_consent`]: `POST /funds-confirmation-consents` naming a debtor account;
//! - [`Bank::authorise`]: headless sandbox approval of a consent for a chosen account, code
//!   redeemed → the consent-bound access token;
//! - [`Bank::consented_token`]: both in one call;
//! - [`Bank::get`] / [`Bank::post`] / [`Bank::delete`] / [`Bank::call`]: CBPII calls over the
//!   TPP's mTLS connection (paths relative to `/open-banking/v3.1/cbpii`);
//! - [`valid`]: asserts a body validates against the spec's declared response schema.

#![allow(dead_code)]

use anyhow::Context;
use bascule_domain::{Account, AccountId, CustomerId};
use bascule_store::Backend;

use bascule_testkit::api::{Api, Session, consent_id};
use bascule_testkit::tpp::{access_token, approve};
use serde_json::{Value, json};

// What the tests name, from the testkit where it lives.
#[allow(unused_imports)]
pub use bascule_testkit::{
    Tpp,
    api::{Call, INTERACTION_ID, Reply},
    tpp::REDIRECT,
};

pub const SPEC: &str = "v3.1.11/confirmation-funds-openapi.json";
pub const BASE: &str = "/open-banking/v3.1/cbpii";
const API: Api = Api::new(BASE, SPEC, false);

/// An account and its 14-digit `UK.OBIE.SortCodeAccountNumber` identification.
#[derive(Debug, Clone)]
pub struct Acct {
    pub id: AccountId,
    pub identification: String,
}

impl Acct {
    fn of(account: &Account) -> anyhow::Result<Acct> {
        let identification = account
            .identification
            .as_ref()
            .context("a current account has a sort code and number")?
            .to_string();
        Ok(Acct {
            id: account.id.clone(),
            identification,
        })
    }
}

pub struct Customer {
    pub id: CustomerId,
    pub everyday: Acct,
    pub bills: Acct,
}

pub struct Stranger {
    pub id: CustomerId,
    pub account: Acct,
}

bascule_testkit::api_fixture!(API);

/// An `OBFundsConfirmationConsent1` body naming `identification`.
pub fn consent_body(identification: &str) -> Value {
    json!({"Data": {"DebtorAccount": {
        "SchemeName": "UK.OBIE.SortCodeAccountNumber",
        "Identification": identification,
        "Name": "Grace Hopper",
    }}})
}

/// An `OBFundsConfirmation1` body.
pub fn confirmation_body(consent_id: &str, reference: &str, amount: &str) -> Value {
    json!({"Data": {
        "ConsentId": consent_id,
        "Reference": reference,
        "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
    }})
}

impl Bank {
    async fn try_start(backend: Backend) -> anyhow::Result<Bank> {
        let session = Session::start(backend, API, "Acme Cards Ltd", false).await?;
        let (grace, alan) = (&session.grace, &session.alan);
        Ok(Bank {
            customer: Customer {
                id: grace.customer.id.clone(),
                everyday: Acct::of(&grace.everyday)?,
                bills: Acct::of(&grace.bills)?,
            },
            stranger: Stranger {
                id: alan.customer.id.clone(),
                account: Acct::of(&alan.account)?,
            },
            session,
        })
    }

    pub async fn other_tpp(&self) -> Tpp {
        Tpp::tls(&self.app, "Other Cards Ltd").await
    }

    /// A client-credentials token of the fixture TPP (`fundsconfirmations`).
    pub async fn cc_token(&self) -> String {
        self.cc_token_for(&self.tpp, "fundsconfirmations").await
    }

    pub async fn cc_token_for(&self, tpp: &Tpp, scope: &str) -> String {
        tpp.client_credentials(&self.app, scope).await
    }

    /// `POST /funds-confirmation-consents` for `body` by `tpp`, asserting 201 and the schema;
    /// returns the response body.
    pub async fn create_consent_by(&self, tpp: &Tpp, body: Value) -> Value {
        let token = self.cc_token_for(tpp, "fundsconfirmations").await;
        let reply = self
            .call(
                Call::new(
                    reqwest::Method::POST,
                    "/funds-confirmation-consents",
                    &token,
                )
                .json(body)
                .via(tpp),
            )
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        valid("POST", "/funds-confirmation-consents", &reply);
        reply.body
    }

    /// A consent of the fixture TPP naming `identification` (and `data` merged into `Data`).
    pub async fn create_consent(&self, identification: &str, data: Value) -> Value {
        let mut body = consent_body(identification);
        if let (Some(d), Value::Object(extra)) = (body["Data"].as_object_mut(), data) {
            d.extend(extra);
        }
        self.create_consent_by(&self.tpp, body).await
    }

    /// Headless sandbox approval of `consent_id` by `customer` sharing `account`, the code
    /// redeemed by `tpp`: the consent-bound access token.
    pub async fn authorise_by(
        &self,
        tpp: &Tpp,
        consent_id: &str,
        customer: &CustomerId,
        account: &AccountId,
    ) -> String {
        let approval = approve(customer, std::slice::from_ref(account));
        access_token(
            &tpp.authorise(&self.app, consent_id, "fundsconfirmations", approval)
                .await,
        )
    }

    /// Grace approves `consent_id` for `account` (fixture TPP).
    pub async fn authorise(&self, consent_id: &str, account: &Acct) -> String {
        self.authorise_by(&self.tpp, consent_id, &self.customer.id, &account.id)
            .await
    }

    /// A consent on `account`, authorised by Grace for it: (ConsentId, access token).
    pub async fn consented_token(&self, account: &Acct) -> (String, String) {
        let id = consent_id(
            &self
                .create_consent(&account.identification, json!({}))
                .await,
        );
        let token = self.authorise(&id, account).await;
        (id, token)
    }

    /// `POST /funds-confirmations` asking about `amount` GBP.
    pub async fn confirm(
        &self,
        token: &str,
        consent_id: &str,
        reference: &str,
        amount: &str,
    ) -> Reply {
        self.post(
            "/funds-confirmations",
            token,
            confirmation_body(consent_id, reference, amount),
        )
        .await
    }
}
