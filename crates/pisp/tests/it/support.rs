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
use bascule_directory::{EnrolRequest, Role};
use bascule_domain::{
    AccountId, AccountType, Clock, CustomerId, Pence, PostalAddress, ProprietaryCode,
};
use bascule_domain::{AccountKind, Counterparty};
use bascule_ledger::{NewCurrentAccount, NewCustomer, NewPot, NewProduct};
use bascule_store::Backend;
use bascule_testkit::TestApp;
use bascule_tpp::oauth::{ClientAuth, RequestObject};
use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
use reqwest::Url;
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use time::macros::date;

pub const SPEC: &str = "v3.1.11/payment-initiation-openapi.json";
pub const BASE: &str = "/open-banking/v3.1/pisp";
pub const REDIRECT: &str = "https://tpp.example/cb";
pub const CUSTOMER_IP: &str = "198.51.100.7";
pub const IAT: &str = "http://openbanking.org.uk/iat";
pub const ISS: &str = "http://openbanking.org.uk/iss";
pub const TAN: &str = "http://openbanking.org.uk/tan";

pub struct Customer {
    pub id: CustomerId,
    pub everyday: AccountId,
    pub bills: AccountId,
    pub pot: AccountId,
}

pub struct Stranger {
    pub id: CustomerId,
    pub account: AccountId,
    /// The 14-digit sort code and account number of `account`.
    pub identification: String,
}

pub struct Tpp {
    pub client_id: String,
    pub files: TppFiles,
    pub sdk: TppClient,
    pub dir: TempDir,
}

impl Tpp {
    pub fn http(&self) -> &reqwest::Client {
        self.sdk.http()
    }

    /// The `iss` of its signatures: `{org_id}/{software_id}`.
    pub fn iss(&self) -> String {
        format!(
            "{}/{}",
            self.files.organisation_id(),
            self.files.software_id()
        )
    }
}

pub struct Bank {
    pub app: TestApp,
    pub customer: Customer,
    pub stranger: Stranger,
    pub tpp: Tpp,
    browser: reqwest::Client,
}

/// A response: status, headers, the raw body and its JSON (`Null` when empty).
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

/// One request, built up then sent with [`Bank::call`].
pub struct Call<'a> {
    pub method: reqwest::Method,
    pub path: String,
    pub token: &'a str,
    pub body: Option<Vec<u8>>,
    pub jws: Jws,
    pub idempotency_key: Option<String>,
    pub headers: Vec<(String, String)>,
    pub tpp: Option<&'a Tpp>,
}

/// A fresh idempotency key.
pub fn fresh_key() -> String {
    uuid_like()
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("key-{t:x}-{n}")
}

impl<'a> Call<'a> {
    pub fn get(path: &str, token: &'a str) -> Self {
        Call {
            method: reqwest::Method::GET,
            path: path.to_owned(),
            token,
            body: None,
            jws: Jws::None,
            idempotency_key: None,
            headers: Vec::new(),
            tpp: None,
        }
    }

    /// A signed POST of `body` with a fresh idempotency key.
    pub fn post(path: &str, token: &'a str, body: &Value) -> Self {
        Call {
            method: reqwest::Method::POST,
            path: path.to_owned(),
            token,
            body: Some(body.to_string().into_bytes()),
            jws: Jws::Sign,
            idempotency_key: Some(fresh_key()),
            headers: Vec::new(),
            tpp: None,
        }
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

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn via(mut self, tpp: &'a Tpp) -> Self {
        self.tpp = Some(tpp);
        self
    }
}

/// Asserts `body` validates against what the spec declares for `status` of `method path`
/// (`path` as the spec writes it, e.g. `/domestic-payments/{DomesticPaymentId}`).
#[track_caller]
pub fn valid(method: &str, path: &str, reply: &Reply) {
    if let Err(e) =
        bascule_testkit::openapi::validate_response(SPEC, path, method, reply.status, &reply.body)
    {
        panic!("{method} {path} {}: {e}\n{:#}", reply.status, reply.body);
    }
}

/// A domestic Initiation paying `identification` (14 digits) `amount` (e.g. "12.34").
pub fn initiation(identification: &str, amount: &str) -> Value {
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

pub fn risk() -> Value {
    json!({"PaymentContextCode": "PartyToParty"})
}

impl Bank {
    pub async fn start(backend: Backend) -> Bank {
        Self::try_start(backend)
            .await
            .expect("starting the PIS fixture")
    }

    async fn try_start(backend: Backend) -> anyhow::Result<Bank> {
        let app = bascule_testkit::spawn_app(backend).await?;
        let customer = grace(&app).await?;
        let stranger = stranger(&app).await?;
        let tpp = register(&app, "Acme Payments Ltd").await?;
        let browser = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(app.ca_pem.as_bytes())?])
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Bank {
            app,
            customer,
            stranger,
            tpp,
            browser,
        })
    }

    pub fn now(&self) -> i64 {
        self.app.clock.now().unix_timestamp()
    }

    pub fn issuer(&self) -> String {
        self.app.state().authz.config().issuer.clone()
    }

    pub async fn other_tpp(&self) -> Tpp {
        register(&self.app, "Other Payments Ltd")
            .await
            .expect("registering another TPP")
    }

    /// An Initiation paying Alan `amount`.
    pub fn initiation(&self, amount: &str) -> Value {
        initiation(&self.stranger.identification, amount)
    }

    /// The valid JOSE header of the fixture TPP at the bank's now (without alg/kid).
    pub fn jose_header(&self) -> Map<String, Value> {
        let mut h = Map::new();
        h.insert("typ".into(), json!("JOSE"));
        h.insert(IAT.into(), json!(self.now() - 1));
        h.insert(ISS.into(), json!(self.tpp.iss()));
        h.insert(TAN.into(), json!("openbanking.org.uk"));
        h.insert("crit".into(), json!([IAT, ISS, TAN]));
        h
    }

    /// The fixture TPP's detached signature of `bytes` with `header`.
    pub fn sign_with(&self, tpp: &Tpp, header: Map<String, Value>, bytes: &[u8]) -> String {
        tpp.files
            .signing_key()
            .sign_detached(header, bytes)
            .expect("signing")
    }

    pub fn sign(&self, bytes: &[u8]) -> String {
        self.sign_with(&self.tpp, self.jose_header(), bytes)
    }

    /// `POST /token` for `tpp` with `tls_client_auth` and `form`.
    pub async fn token_request(&self, tpp: &Tpp, form: &[(&str, &str)]) -> Value {
        let url = self.app.url("/token");
        let auth = ClientAuth::tls(&tpp.client_id)
            .form_fields(&url)
            .expect("client auth fields");
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
        let response = tpp
            .http()
            .post(&url)
            .form(&fields)
            .send()
            .await
            .expect("POST /token");
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("a JSON token response");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A client-credentials token (`payments`) of the fixture TPP.
    pub async fn cc_token(&self) -> String {
        self.cc_token_for(&self.tpp).await
    }

    pub async fn cc_token_for(&self, tpp: &Tpp) -> String {
        let body = self
            .token_request(
                tpp,
                &[("grant_type", "client_credentials"), ("scope", "payments")],
            )
            .await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
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
        let tpp = &self.tpp;
        let request = RequestObject::new(
            &tpp.client_id,
            &self.issuer(),
            REDIRECT,
            "openid payments",
            self.now(),
        )
        .expect("a request object")
        .intent(consent_id)
        .claim(
            "bascule_sandbox",
            json!({
                "decision": "Authorised",
                "customer": self.customer.id.as_str(),
                "accounts": [debtor.as_str()],
            }),
        );
        let jwt = request
            .sign(tpp.files.signing_key())
            .expect("signing the request object");
        let mut url = Url::parse(&self.app.url("/authorize")).expect("authorize URL");
        url.query_pairs_mut()
            .append_pair("client_id", &tpp.client_id)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", "openid payments")
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("request", &jwt);
        let response = self.browser.get(url).send().await.expect("GET /authorize");
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no redirect from /authorize: {}", response.status()));
        let fragment = Url::parse(&location)
            .expect("a redirect URL")
            .fragment()
            .unwrap_or_default()
            .to_owned();
        let mut params = Url::parse("https://x.invalid/").expect("URL");
        params.set_query(Some(&fragment));
        let code = params
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("no code in {location}"));
        let body = self
            .token_request(
                tpp,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                ],
            )
            .await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
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

    pub async fn call(&self, call: Call<'_>) -> Reply {
        let tpp = call.tpp.unwrap_or(&self.tpp);
        let mut request = tpp
            .http()
            .request(
                call.method.clone(),
                self.app.url(&format!("{BASE}{}", call.path)),
            )
            .bearer_auth(call.token)
            .header(
                "x-fapi-interaction-id",
                "93bac548-d2de-4546-b106-880a5018460d",
            )
            .header("x-fapi-customer-ip-address", CUSTOMER_IP);
        if let Some(key) = &call.idempotency_key {
            request = request.header("x-idempotency-key", key);
        }
        let body = call.body.clone().unwrap_or_default();
        let signature = match &call.jws {
            Jws::Sign => Some(self.sign_with(tpp, self.jose_header_for(tpp), &body)),
            Jws::None => None,
            Jws::Raw(v) => Some(v.clone()),
            Jws::Header(h) => Some(self.sign_with(tpp, h.clone(), &body)),
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
        let response = request.send().await.expect("a PIS request");
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

    fn jose_header_for(&self, tpp: &Tpp) -> Map<String, Value> {
        let mut h = self.jose_header();
        h.insert(ISS.into(), json!(tpp.iss()));
        h
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Call::get(path, token)).await
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
        self.app
            .ledger
            .receive_payment(
                account,
                Pence(pence),
                Counterparty {
                    name: "Acme Payroll".into(),
                    sort_code: None,
                    account_number: None,
                },
                Some("BONUS".into()),
                ProprietaryCode::Salary,
                None,
            )
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

fn address() -> PostalAddress {
    PostalAddress {
        lines: vec!["2 High Street".into()],
        town: "Bristol".into(),
        postcode: "BS1 4DJ".into(),
        country: "GB".into(),
    }
}

async fn grace(app: &TestApp) -> anyhow::Result<Customer> {
    let ledger = &app.ledger;
    let customer = ledger
        .create_customer(NewCustomer {
            legal_name: "Grace Hopper".into(),
            date_of_birth: date!(1986 - 12 - 09),
            email: "grace@example.com".into(),
            phone: "+447700900077".into(),
            address: address(),
        })
        .await?;
    let everyday = ledger
        .open_current_account(NewCurrentAccount {
            customer: customer.id.clone(),
            account_type: AccountType::Personal,
            nickname: Some("Everyday".into()),
            overdraft_limit: Pence(50_000),
            product: None,
        })
        .await?;
    let bills = ledger
        .open_current_account(NewCurrentAccount {
            customer: customer.id.clone(),
            account_type: AccountType::Personal,
            nickname: Some("Bills".into()),
            overdraft_limit: Pence(0),
            product: None,
        })
        .await?;
    let saver = ledger
        .create_product(NewProduct {
            name: "Easy Saver".into(),
            kind: AccountKind::Savings,
            interest_rate: Some(Decimal::new(3, 2)),
            monthly_fee: Pence(0),
            overdraft_rate: None,
        })
        .await?;
    let pot = ledger
        .open_pot(NewPot {
            parent: everyday.id.clone(),
            name: "Holiday".into(),
            goal: Some(Pence(100_000)),
            interest_rate: Some(Decimal::new(4, 2)),
            product: Some(saver),
        })
        .await?;
    ledger
        .receive_payment(
            &everyday.id,
            Pence(100_000),
            Counterparty {
                name: "Acme Payroll".into(),
                sort_code: None,
                account_number: None,
            },
            Some("SALARY".into()),
            ProprietaryCode::Salary,
            None,
        )
        .await?;
    ledger
        .move_between_pot(&everyday.id, &pot.id, Pence(20_000), true, None)
        .await?;
    Ok(Customer {
        id: customer.id,
        everyday: everyday.id,
        bills: bills.id,
        pot: pot.id,
    })
}

async fn stranger(app: &TestApp) -> anyhow::Result<Stranger> {
    let customer = app
        .ledger
        .create_customer(NewCustomer {
            legal_name: "Alan Turing".into(),
            date_of_birth: date!(1980 - 06 - 23),
            email: "alan@example.com".into(),
            phone: "+447700900078".into(),
            address: address(),
        })
        .await?;
    let account = app
        .ledger
        .open_current_account(NewCurrentAccount {
            customer: customer.id.clone(),
            account_type: AccountType::Personal,
            nickname: None,
            overdraft_limit: Pence(0),
            product: None,
        })
        .await?;
    let identification = account
        .identification
        .context("a current account has a sort code and number")?
        .to_string();
    Ok(Stranger {
        id: customer.id,
        account: account.id,
        identification,
    })
}

async fn register(app: &TestApp, organisation_name: &str) -> anyhow::Result<Tpp> {
    let directory = app
        .state()
        .directory
        .clone()
        .context("the test app runs in sandbox mode")?;
    let enrolment = directory
        .enrol(&EnrolRequest {
            organisation_name: organisation_name.into(),
            software_name: format!("{organisation_name} app"),
            roles: Role::ALL.to_vec(),
            redirect_uris: vec![REDIRECT.into()],
            ..EnrolRequest::default()
        })
        .await?;
    let dir = tempfile::tempdir()?;
    enrolment.write_to(dir.path(), &app.ca_pem, &app.base_url)?;
    let files = TppFiles::load(dir.path()).context("loading the enrolment")?;
    let sdk = TppClient::new(&files)?;
    let registration = sdk
        .register(
            &app.url("/register"),
            &app.state().config.bank.organisation_id,
            &RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth),
            app.clock.now().unix_timestamp(),
        )
        .await?;
    Ok(Tpp {
        client_id: registration.client_id,
        files,
        sdk,
        dir,
    })
}
