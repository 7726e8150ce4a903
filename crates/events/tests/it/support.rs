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
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bascule_domain::AccountId;
use bascule_jose::{Algorithm, Jwks, VerifyingKeys, verify_jwt};
use bascule_store::Backend;
use bascule_testkit::api::{Api, Call, Jws, Reply, Session, consent_id, domestic_initiation};
use bascule_testkit::people::CustomerIds;
use bascule_testkit::tpp::{IAT, ISS, TAN};
use bascule_testkit::tpp::{access_token, approve};
use bascule_testkit::{TestApp, Tpp};
use serde_json::{Value, json};
use tokio::sync::{Mutex, mpsc, watch};

pub const SPEC: &str = "v3.1.11/events-openapi.json";
pub const NOTIFICATION_SPEC: &str = "v3.1.11/event-notifications-openapi.json";
pub const EVENTS: Api = Api::new("/open-banking/v3.1", SPEC, false);
pub use bascule_testkit::api::{AIS, PIS};
pub const RESOURCE_UPDATE: &str = "urn:uk:org:openbanking:events:resource-update";
pub const REVOKED: &str = "urn:uk:org:openbanking:events:consent-authorization-revoked";
pub const LINKED_ACCOUNT_UPDATE: &str =
    "urn:uk:org:openbanking:events:account-access-consent-linked-account-update";

/// One notification as the receiver got it.
#[derive(Debug, Clone)]
pub struct Notification {
    pub jwt: String,
    pub content_type: Option<String>,
    pub interaction_id: Option<String>,
    pub financial_id: Option<String>,
    /// The status the receiver answered.
    pub answered: u16,
}

struct ReceiverState {
    sent: mpsc::UnboundedSender<Notification>,
    fail_first: usize,
    seen: AtomicUsize,
}

/// A TPP's `POST /event-notifications` endpoint over one-way TLS (ENT; EVNP §Transport).
pub struct Receiver {
    /// The callback URL to subscribe with.
    pub url: String,
    received: Mutex<mpsc::UnboundedReceiver<Notification>>,
    _stop: watch::Sender<bool>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn notification(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let n = state.seen.fetch_add(1, Ordering::SeqCst);
    let status = if n < state.fail_first {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::ACCEPTED
    };
    let _ = state.sent.send(Notification {
        jwt: String::from_utf8_lossy(&body).into_owned(),
        content_type: header(&headers, "content-type"),
        interaction_id: header(&headers, "x-fapi-interaction-id"),
        financial_id: header(&headers, "x-fapi-financial-id"),
        answered: status.as_u16(),
    });
    let mut reply = HeaderMap::new();
    if let Some(id) = headers.get("x-fapi-interaction-id") {
        reply.insert("x-fapi-interaction-id", id.clone());
    }
    (status, reply)
}

impl Receiver {
    /// Serves on 127.0.0.1 with a `localhost` certificate from the bank's sandbox CA; answers
    /// 503 to the first `fail_first` notifications, 202 after.
    pub async fn start(app: &TestApp, fail_first: usize) -> Receiver {
        let ca = &app.state().ca;
        let now = bascule_domain::Clock::now(app.clock.as_ref());
        let cert = ca
            .issue_server_certificate(&["localhost".to_owned()], now)
            .unwrap();
        let tls = bascule_tls::server_config(
            &cert,
            &[ca.certificate_der()],
            Arc::new(bascule_tls::RevokedCertificates::default()),
        )
        .unwrap();
        let (sent, received) = mpsc::unbounded_channel();
        let state = Arc::new(ReceiverState {
            sent,
            fail_first,
            seen: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/tpp/event-notifications", post(notification))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (stop, mut stopped) = watch::channel(false);
        tokio::spawn(bascule_tls::serve(
            listener,
            tls,
            router,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
            Duration::from_millis(100),
        ));
        Receiver {
            url: format!("https://localhost:{port}/tpp"),
            received: Mutex::new(received),
            _stop: stop,
        }
    }

    /// The next notification within `within`, or `None`.
    pub async fn next_within(&self, within: Duration) -> Option<Notification> {
        let mut received = self.received.lock().await;
        tokio::time::timeout(within, received.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next notification, failing the test if none arrives within `within`.
    pub async fn next(&self, within: Duration) -> Notification {
        self.next_within(within)
            .await
            .unwrap_or_else(|| panic!("no notification within {within:?}"))
    }
}

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
        let token = self.cc(tpp, "accounts").await;
        let body = json!({
            "Data": {"Permissions": ["ReadAccountsDetail", "ReadTransactionsDetail",
                                     "ReadTransactionsCredits", "ReadTransactionsDebits"]},
            "Risk": {}
        });
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
