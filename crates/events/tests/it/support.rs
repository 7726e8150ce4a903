//! The shared fixture of the event tests.
//!
//! [`Bank::start`]`(backend)` runs the real server (sandbox mode, a `ManualClock` only the test
//! moves) with Grace (Everyday, Bills, Holiday pot), Alan, and a TPP registered by DCR. Then:
//!
//! - [`Receiver::start`]: the TPP's event receiver, HTTPS on loopback with a certificate from
//!   the bank's sandbox CA, recording every notification, failing the first `fail_first`;
//! - [`Bank::subscribe`]: `POST /event-subscriptions` (asserting 201 and the schema);
//! - [`Bank::account_consent`]: an account-access consent authorised for some of Grace's
//!   accounts;
//! - [`Bank::pay`]: a domestic payment from Grace's Everyday to Alan, consent to payment;
//! - [`Bank::verify`]: a SET verified against the bank's `/jwks` and validated against ENT
//!   `OBEventNotification1` → its claims.

#![allow(dead_code)]

use std::ops::Deref;

use bascule_domain::AccountId;
use bascule_jose::{Algorithm, Jwks, VerifyingKeys, verify_jwt};
use bascule_store::Backend;
use bascule_testkit::Tpp;
use bascule_testkit::api::{Call, Jws, Reply, Session, consent_id, domestic_initiation};
use bascule_testkit::people::CustomerIds;
pub use bascule_testkit::receiver::Receiver;
use bascule_testkit::tpp::{IAT, ISS, TAN};
use bascule_testkit::tpp::{access_token, approve};
use serde_json::{Value, json};

pub const NOTIFICATION_SPEC: &str = "v3.1.11/event-notifications-openapi.json";
pub use bascule_testkit::api::{AIS, EVENTS, PIS};
pub const RESOURCE_UPDATE: &str = "urn:uk:org:openbanking:events:resource-update";
pub const REVOKED: &str = "urn:uk:org:openbanking:events:consent-authorization-revoked";
pub const LINKED_ACCOUNT_UPDATE: &str =
    "urn:uk:org:openbanking:events:account-access-consent-linked-account-update";

/// The bank, Grace and Alan, and the fixture TPP.
pub struct Bank {
    session: Session,
    pub customer: CustomerIds,
    /// Alan's account's 14-digit sort code and account number.
    pub alan_identification: String,
}

impl Deref for Bank {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.session
    }
}

/// Asserts the reply validates against the events spec for `method path`.
#[track_caller]
pub fn valid(method: &str, path: &str, reply: &Reply) {
    EVENTS.assert_valid(method, path, reply);
}

impl Bank {
    pub async fn start(backend: Backend) -> Bank {
        let session = Session::start(backend, EVENTS, "Acme Events Ltd", true)
            .await
            .unwrap();
        let customer = session.grace.ids().unwrap();
        let alan_identification = session.alan.account.identification.unwrap().to_string();
        Bank {
            session,
            customer,
            alan_identification,
        }
    }

    /// A TPP of another organisation, registered by DCR.
    pub async fn other_tpp(&self) -> Tpp {
        Tpp::tls(&self.app, "Other Events Ltd").await
    }

    pub async fn shutdown(self) {
        self.session.app.shutdown().await.unwrap();
    }

    pub async fn cc(&self, tpp: &Tpp, scope: &str) -> String {
        tpp.client_credentials(&self.app, scope).await
    }

    /// `POST /event-subscriptions` by `tpp` with `data`, the reply as it is.
    pub async fn post_subscription(&self, tpp: &Tpp, data: Value) -> Reply {
        let token = self.cc(tpp, "accounts").await;
        EVENTS
            .send(
                &self.app,
                tpp,
                Call::new(reqwest::Method::POST, "/event-subscriptions", &token)
                    .json(json!({ "Data": data }))
                    .jws(Jws::Sign),
            )
            .await
    }

    /// `tpp` subscribes to every event type with `callback` (none: polling only), asserting 201
    /// and the schema → the EventSubscriptionId.
    pub async fn subscribe(&self, tpp: &Tpp, callback: Option<&str>) -> String {
        let mut data = json!({"Version": "3.1"});
        if let Some(url) = callback {
            data["CallbackUrl"] = json!(url);
        }
        let reply = self.post_subscription(tpp, data).await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        valid("POST", "/event-subscriptions", &reply);
        self.verify_response(&reply);
        reply.body["Data"]["EventSubscriptionId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// `POST /events` by `tpp` with `body`.
    pub async fn poll(&self, tpp: &Tpp, body: Value) -> Reply {
        let token = self.cc(tpp, "accounts").await;
        let reply = EVENTS
            .send(
                &self.app,
                tpp,
                Call::new(reqwest::Method::POST, "/events", &token).json(body),
            )
            .await;
        valid("POST", "/events", &reply);
        reply
    }

    /// An account-access consent of `tpp` authorised by Grace for `accounts` → (ConsentId,
    /// access token).
    pub async fn account_consent(&self, tpp: &Tpp, accounts: &[AccountId]) -> (String, String) {
        let permissions = [
            "ReadAccountsDetail",
            "ReadTransactionsDetail",
            "ReadTransactionsCredits",
            "ReadTransactionsDebits",
        ];
        self.account_consent_with(tpp, accounts, &permissions).await
    }

    /// [`Bank::account_consent`] granting `permissions`.
    pub async fn account_consent_with(
        &self,
        tpp: &Tpp,
        accounts: &[AccountId],
        permissions: &[&str],
    ) -> (String, String) {
        let token = self.cc(tpp, "accounts").await;
        let body = json!({"Data": {"Permissions": permissions}, "Risk": {}});
        let reply = AIS
            .send(
                &self.app,
                tpp,
                Call::new(reqwest::Method::POST, "/account-access-consents", &token).json(body),
            )
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        let id = consent_id(&reply.body);
        let tokens = tpp
            .authorise(
                &self.app,
                &id,
                "accounts",
                approve(&self.customer.id, accounts),
            )
            .await;
        (id, access_token(&tokens))
    }

    /// `DELETE /account-access-consents/{consent}` by `tpp`, asserting 204.
    pub async fn delete_account_consent(&self, tpp: &Tpp, consent: &str) {
        let token = self.cc(tpp, "accounts").await;
        let deleted = AIS
            .send(
                &self.app,
                tpp,
                Call::new(
                    reqwest::Method::DELETE,
                    &format!("/account-access-consents/{consent}"),
                    &token,
                ),
            )
            .await;
        assert_eq!(deleted.status, 204, "{:#}", deleted.body);
    }

    /// A domestic payment of `amount` from Grace's Everyday to Alan by `tpp`: consent,
    /// headless approval, `POST /domestic-payments` (201) → the DomesticPaymentId.
    pub async fn pay(&self, tpp: &Tpp, amount: &str) -> String {
        let initiation = domestic_initiation(&self.alan_identification, amount);
        let risk = json!({"PaymentContextCode": "PartyToParty"});
        let token = self.cc(tpp, "payments").await;
        let consent = PIS
            .send(
                &self.app,
                tpp,
                Call::post(
                    "/domestic-payment-consents",
                    &token,
                    &json!({"Data": {"Initiation": initiation}, "Risk": risk}),
                ),
            )
            .await;
        assert_eq!(consent.status, 201, "{:#}", consent.body);
        let id = consent_id(&consent.body);
        let tokens = tpp
            .authorise(
                &self.app,
                &id,
                "payments",
                approve(
                    &self.customer.id,
                    std::slice::from_ref(&self.customer.everyday),
                ),
            )
            .await;
        let token = access_token(&tokens);
        let payment = PIS
            .send(
                &self.app,
                tpp,
                Call::post(
                    "/domestic-payments",
                    &token,
                    &json!({"Data": {"ConsentId": id, "Initiation": initiation}, "Risk": risk}),
                ),
            )
            .await;
        assert_eq!(payment.status, 201, "{:#}", payment.body);
        payment.body["Data"]["DomesticPaymentId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The reply's `x-jws-signature` verifies over its body with the bank's keys.
    pub fn verify_response(&self, reply: &Reply) {
        let signature = reply
            .header("x-jws-signature")
            .unwrap_or_else(|| panic!("no x-jws-signature on a {} reply", reply.status));
        let keys = VerifyingKeys::from_jwks(&self.app.state().authz.keys().jwks()).unwrap();
        bascule_jose::verify_detached(
            signature,
            &reply.raw,
            &keys,
            &[Algorithm::PS256],
            &[IAT, ISS, TAN],
        )
        .expect("the response signature verifies");
    }

    /// The bank's published keys.
    pub async fn jwks(&self) -> Jwks {
        self.app
            .client
            .get(self.app.url("/jwks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `jwt` verified (PS256, a `kid` of `/jwks`) → its claims, with the claims every SET has
    /// checked against the TPP and the bank.
    pub async fn verify(&self, tpp: &Tpp, jwt: &str) -> Value {
        let jwks = self.jwks().await;
        let keys = VerifyingKeys::from_jwks(&jwks).unwrap();
        let (header, claims): (_, Value) = verify_jwt(jwt, &keys, &[Algorithm::PS256]).unwrap();
        let kid = header.kid.clone().expect("a kid");
        assert!(
            jwks.keys
                .iter()
                .any(|k| k.kid.as_deref() == Some(kid.as_str())),
            "kid {kid} is not in /jwks"
        );
        assert_eq!(claims["iss"], json!(self.issuer()));
        assert_eq!(claims["aud"], json!(tpp.client_id));
        assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
        claims
    }

    /// [`Bank::verify`], and the claims valid against ENT `OBEventNotification1` (whose
    /// `events` holds a resource-update).
    pub async fn verify_resource_update(&self, tpp: &Tpp, jwt: &str) -> Value {
        let claims = self.verify(tpp, jwt).await;
        if let Err(e) =
            bascule_testkit::openapi::validate(NOTIFICATION_SPEC, "OBEventNotification1", &claims)
        {
            panic!("{e}\n{claims:#}");
        }
        claims
    }
}

/// The `rid` of a SET's event `urn`.
pub fn rid(claims: &Value, urn: &str) -> String {
    claims["events"][urn]["subject"]["http://openbanking.org.uk/rid"]
        .as_str()
        .unwrap_or_else(|| panic!("no {urn} subject in {claims:#}"))
        .to_owned()
}
