//! Calls to an Open Banking API as a TPP makes them: a [`Call`] built up (bearer token, FAPI
//! headers, a JSON or raw body, a detached signature, an idempotency key), sent over a TPP's
//! mTLS connection with [`send`], answered by a [`Reply`] checked with [`assert_valid`] against
//! the spec's declared response schema.

use serde_json::{Map, Value, json};

use crate::tpp::Tpp;
use crate::{TestApp, TestServer, people};

/// The `x-fapi-interaction-id` every call sends unless it sets its own.
pub const INTERACTION_ID: &str = "93bac548-d2de-4546-b106-880a5018460d";
/// The `x-fapi-customer-ip-address` of a call made while the customer is present.
pub const CUSTOMER_IP: &str = "198.51.100.7";

/// A response: status, headers, the raw body and its JSON (`Null` when empty, a string when
/// not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub raw: Vec<u8>,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first `Errors[].ErrorCode`.
    pub fn error_code(&self) -> &str {
        self.body["Errors"][0]["ErrorCode"].as_str().unwrap_or("")
    }
}

/// How a [`Call`] signs its body.
#[derive(Debug, Clone)]
pub enum Jws {
    /// The TPP's valid signature over the exact body bytes.
    Sign,
    /// No `x-jws-signature`.
    None,
    /// This header value as is.
    Raw(String),
    /// Signed with the TPP's key but this JOSE header (`alg`/`kid` are set by the key).
    Header(Map<String, Value>),
}

/// One request, built up then sent with [`send`].
pub struct Call<'a> {
    pub method: reqwest::Method,
    /// Relative to the API's base path.
    pub path: String,
    pub token: &'a str,
    pub body: Option<Vec<u8>>,
    pub jws: Jws,
    pub idempotency_key: Option<String>,
    pub headers: Vec<(String, String)>,
    /// Sends `x-fapi-customer-ip-address` (where the API's fixture sends it at all).
    pub customer_present: bool,
    /// The TPP making the call, when not the fixture's own.
    pub tpp: Option<&'a Tpp>,
}

impl<'a> Call<'a> {
    /// `method path` with `token`, the customer present, no body, no signature, no key.
    pub fn new(method: reqwest::Method, path: &str, token: &'a str) -> Self {
        Call {
            method,
            path: path.to_owned(),
            token,
            body: None,
            jws: Jws::None,
            idempotency_key: None,
            headers: Vec::new(),
            customer_present: true,
            tpp: None,
        }
    }

    pub fn get(path: &str, token: &'a str) -> Self {
        Self::new(reqwest::Method::GET, path, token)
    }

    /// A signed POST of `body` with a fresh idempotency key.
    pub fn post(path: &str, token: &'a str, body: &Value) -> Self {
        Self::new(reqwest::Method::POST, path, token)
            .json(body.clone())
            .jws(Jws::Sign)
            .key(&fresh_key())
    }

    /// Without `x-fapi-customer-ip-address`: counts against the unattended allowance.
    pub fn unattended(mut self) -> Self {
        self.customer_present = false;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    pub fn raw_body(mut self, bytes: &[u8]) -> Self {
        self.body = Some(bytes.to_vec());
        self
    }

    pub fn jws(mut self, jws: Jws) -> Self {
        self.jws = jws;
        self
    }

    pub fn key(mut self, key: &str) -> Self {
        self.idempotency_key = Some(key.to_owned());
        self
    }

    pub fn no_key(mut self) -> Self {
        self.idempotency_key = None;
        self
    }

    pub fn via(mut self, tpp: &'a Tpp) -> Self {
        self.tpp = Some(tpp);
        self
    }
}

/// A domestic Initiation paying `identification` (14 digits) `amount` (e.g. "12.34").
pub fn domestic_initiation(identification: &str, amount: &str) -> Value {
    json!({
        "InstructionIdentification": "ACME412",
        "EndToEndIdentification": "FRESCO.21302.GFX.20",
        "LocalInstrument": "UK.OBIE.FPS",
        "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
        "CreditorAccount": {
            "SchemeName": "UK.OBIE.SortCodeAccountNumber",
            "Identification": identification,
            "Name": "Alan Turing"
        },
        "RemittanceInformation": {"Reference": "FRESCO-101", "Unstructured": "Internal ops code 5120101"}
    })
}

/// The `Data.ConsentId` of a consent response.
pub fn consent_id(response: &Value) -> String {
    response["Data"]["ConsentId"]
        .as_str()
        .unwrap_or_else(|| panic!("no Data.ConsentId in {response}"))
        .to_owned()
}

/// A fresh idempotency key.
pub fn fresh_key() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("key-{t:x}-{n}")
}

/// Where and how an API's calls go.
#[derive(Debug, Clone, Copy)]
pub struct Api {
    /// The base path, e.g. `/open-banking/v3.1/aisp`.
    pub base: &'static str,
    /// The spec the replies are validated against, e.g. `v3.1.11/account-info-openapi.json`.
    pub spec: &'static str,
    /// Whether calls send `x-fapi-customer-ip-address` when the customer is present.
    pub customer_ip: bool,
}

/// The v3.1.11 Account and Transaction API, as a test that is not the AIS crate's calls it.
pub const AIS: Api = Api::new(
    "/open-banking/v3.1/aisp",
    "v3.1.11/account-info-openapi.json",
    true,
);

/// The v3.1.11 Payment Initiation API, as a test that is not the PIS crate's calls it.
pub const PIS: Api = Api::new(
    "/open-banking/v3.1/pisp",
    "v3.1.11/payment-initiation-openapi.json",
    true,
);

/// The v3.1.11 event subscription and polling APIs.
pub const EVENTS: Api = Api::new("/open-banking/v3.1", "v3.1.11/events-openapi.json", false);

impl Api {
    pub const fn new(base: &'static str, spec: &'static str, customer_ip: bool) -> Api {
        Api {
            base,
            spec,
            customer_ip,
        }
    }

    /// Sends `call` over its TPP's mTLS connection (`default_tpp` unless [`Call::via`]).
    pub async fn send(&self, app: &TestServer, default_tpp: &Tpp, call: Call<'_>) -> Reply {
        let tpp = call.tpp.unwrap_or(default_tpp);
        let mut request = tpp
            .http()
            .request(
                call.method.clone(),
                app.url(&format!("{}{}", self.base, call.path)),
            )
            .bearer_auth(call.token)
            .header("x-fapi-interaction-id", INTERACTION_ID);
        if self.customer_ip && call.customer_present {
            request = request.header("x-fapi-customer-ip-address", CUSTOMER_IP);
        }
        if let Some(key) = &call.idempotency_key {
            request = request.header("x-idempotency-key", key);
        }
        let body = call.body.clone().unwrap_or_default();
        let now = bascule_domain::Clock::now(app.clock.as_ref()).unix_timestamp();
        let signature = match &call.jws {
            Jws::Sign => Some(tpp.sign_detached(tpp.jose_header(now), &body)),
            Jws::None => None,
            Jws::Raw(v) => Some(v.clone()),
            Jws::Header(h) => Some(tpp.sign_detached(h.clone(), &body)),
        };
        if let Some(s) = signature {
            request = request.header("x-jws-signature", s);
        }
        for (k, v) in &call.headers {
            request = request.header(k, v);
        }
        if let Some(bytes) = call.body {
            request = request
                .header("content-type", "application/json")
                .body(bytes);
        }
        let response = request.send().await.expect("an API request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await.expect("a body").to_vec();
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()))
        };
        Reply {
            status,
            headers,
            raw,
            body,
        }
    }

    /// Asserts the reply validates against what the spec declares for its status of `method
    /// path` (`path` as the spec writes it, e.g. `/accounts/{AccountId}`).
    #[track_caller]
    pub fn assert_valid(&self, method: &str, path: &str, reply: &Reply) {
        assert_valid(self.spec, method, path, reply);
    }
}

/// Asserts `reply`'s body validates against what `spec` declares for its status of `method
/// path`.
#[track_caller]
pub fn assert_valid(spec: &str, method: &str, path: &str, reply: &Reply) {
    if let Err(e) = crate::openapi::validate_response(spec, path, method, reply.status, &reply.body)
    {
        panic!("{method} {path} {}: {e}\n{:#}", reply.status, reply.body);
    }
}

/// The bank as one TPP sees one API: the server on the built-in ledger, the fixture's TPP, and
/// the calls to the API, over that TPP's connection unless [`Call::via`] names another.
/// The API crates' fixtures (`tests/it/support.rs`) dereference to it and add their resources.
pub struct Session {
    pub app: TestApp,
    pub tpp: Tpp,
    pub api: Api,
    /// The customer who consents (see [`people::grace`]).
    pub grace: people::Grace,
    /// Another customer (see [`people::alan`]).
    pub alan: people::Alan,
}

impl Session {
    /// The server on `backend`, Grace (with her pot when `with_pot`) and Alan, and a TPP of
    /// `organisation_name` registered with `tls_client_auth`.
    pub async fn start(
        backend: bascule_store::Backend,
        api: Api,
        organisation_name: &str,
        with_pot: bool,
    ) -> anyhow::Result<Session> {
        Self::start_with(backend, api, organisation_name, with_pot, |_| {}).await
    }

    /// [`Session::start`] after `adjust` had its say on the server's configuration.
    pub async fn start_with(
        backend: bascule_store::Backend,
        api: Api,
        organisation_name: &str,
        with_pot: bool,
        adjust: impl FnOnce(&mut bascule_server::Config),
    ) -> anyhow::Result<Session> {
        let app = crate::spawn_app_with(backend, adjust).await?;
        let grace = people::grace(&app.ledger, with_pot).await?;
        let alan = people::alan(&app.ledger).await?;
        let tpp = Tpp::register(
            &app,
            organisation_name,
            bascule_tpp::TokenEndpointAuthMethod::TlsClientAuth,
        )
        .await?;
        Ok(Session {
            app,
            tpp,
            api,
            grace,
            alan,
        })
    }

    /// The server's time, unix seconds (the `ManualClock`).
    pub fn now(&self) -> i64 {
        bascule_domain::Clock::now(self.app.clock.as_ref()).unix_timestamp()
    }

    /// The issuer: the audience of request objects, `iss` of ID tokens.
    pub fn issuer(&self) -> String {
        self.app.state().authz.config().issuer.clone()
    }

    /// `POST /token` for `tpp` with its client authentication and `form`, asserting 200.
    pub async fn token_request(&self, tpp: &Tpp, form: &[(&str, &str)]) -> Value {
        tpp.token_ok(&self.app, form).await
    }

    pub async fn call(&self, call: Call<'_>) -> Reply {
        self.api.send(&self.app, &self.tpp, call).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Call::get(path, token)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Call::new(reqwest::Method::DELETE, path, token))
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Call::new(reqwest::Method::POST, path, token).json(body))
            .await
    }
}

/// Declares an API crate's test fixture: `Bank` (a [`Session`], which it dereferences to, with
/// the crate's own `Customer` and `Stranger`) and `valid(method, path, reply)` checking a reply
/// against `$api`'s spec. The crate adds its own resources in an `impl Bank`.
#[macro_export]
macro_rules! api_fixture {
    ($api:expr) => {
        /// The bank and the fixture's TPP (`app`, `tpp`, `now()`, `call(..)`, `get(..)`,
        /// `post(..)`, `delete(..)`, `token_request(..)` come from the testkit's `Session`) with
        /// the customers.
        pub struct Bank {
            session: $crate::api::Session,
            pub customer: Customer,
            pub stranger: Stranger,
        }

        impl ::std::ops::Deref for Bank {
            type Target = $crate::api::Session;

            fn deref(&self) -> &$crate::api::Session {
                &self.session
            }
        }

        impl Bank {
            pub async fn start(backend: ::bascule_store::Backend) -> Bank {
                match Self::try_start(backend).await {
                    Ok(bank) => bank,
                    Err(e) => panic!("starting the fixture: {e:#}"),
                }
            }
        }

        /// Asserts the reply validates against what the spec declares for its status of
        /// `method path` (`path` as the spec writes it).
        #[track_caller]
        pub fn valid(method: &str, path: &str, reply: &$crate::api::Reply) {
            $api.assert_valid(method, path, reply);
        }
    };
}
