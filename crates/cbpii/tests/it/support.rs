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
use bascule_directory::{EnrolRequest, Role};
use bascule_domain::{
    AccountId, AccountType, Clock, Counterparty, CustomerId, Pence, PostalAddress, ProprietaryCode,
};
use bascule_ledger::{NewCurrentAccount, NewCustomer};
use bascule_store::Backend;
use bascule_testkit::TestApp;
use bascule_tpp::oauth::{ClientAuth, RequestObject};
use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
use reqwest::Url;
use serde_json::{Value, json};
use tempfile::TempDir;
use time::macros::date;

pub const SPEC: &str = "v3.1.11/confirmation-funds-openapi.json";
pub const BASE: &str = "/open-banking/v3.1/cbpii";
pub const REDIRECT: &str = "https://tpp.example/cb";
pub const INTERACTION_ID: &str = "93bac548-d2de-4546-b106-880a5018460d";

/// An account and its 14-digit `UK.OBIE.SortCodeAccountNumber` identification.
#[derive(Debug, Clone)]
pub struct Acct {
    pub id: AccountId,
    pub identification: String,
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
}

pub struct Bank {
    pub app: TestApp,
    pub customer: Customer,
    pub stranger: Stranger,
    pub tpp: Tpp,
    browser: reqwest::Client,
}

/// A CBPII response: status, headers, JSON body (`Null` when empty, a string when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
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

/// One CBPII request, built up then sent with [`Bank::call`].
pub struct Call<'a> {
    pub method: reqwest::Method,
    pub path: String,
    pub token: &'a str,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    pub tpp: Option<&'a Tpp>,
}

impl<'a> Call<'a> {
    pub fn new(method: reqwest::Method, path: &str, token: &'a str) -> Self {
        Call {
            method,
            path: path.to_owned(),
            token,
            body: None,
            headers: Vec::new(),
            tpp: None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn via(mut self, tpp: &'a Tpp) -> Self {
        self.tpp = Some(tpp);
        self
    }
}

/// Asserts `body` validates against what the spec declares for `status` of `method path`
/// (`path` as the spec writes it, e.g. `/funds-confirmation-consents/{ConsentId}`).
#[track_caller]
pub fn valid(method: &str, path: &str, reply: &Reply) {
    if let Err(e) =
        bascule_testkit::openapi::validate_response(SPEC, path, method, reply.status, &reply.body)
    {
        panic!("{method} {path} {}: {e}\n{:#}", reply.status, reply.body);
    }
}

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
    pub async fn start(backend: Backend) -> Bank {
        Self::try_start(backend)
            .await
            .expect("starting the CBPII fixture")
    }

    async fn try_start(backend: Backend) -> anyhow::Result<Bank> {
        let app = bascule_testkit::spawn_app(backend).await?;
        let customer = grace(&app).await?;
        let stranger = stranger(&app).await?;
        let tpp = register(&app, "Acme Cards Ltd").await?;
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
        register(&self.app, "Other Cards Ltd")
            .await
            .expect("registering another TPP")
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

    /// A client-credentials token of the fixture TPP (`fundsconfirmations`).
    pub async fn cc_token(&self) -> String {
        self.cc_token_for(&self.tpp, "fundsconfirmations").await
    }

    pub async fn cc_token_for(&self, tpp: &Tpp, scope: &str) -> String {
        let body = self
            .token_request(
                tpp,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
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
        let request = RequestObject::new(
            &tpp.client_id,
            &self.issuer(),
            REDIRECT,
            "openid fundsconfirmations",
            self.now(),
        )
        .expect("a request object")
        .intent(consent_id)
        .claim(
            "bascule_sandbox",
            json!({
                "decision": "Authorised",
                "customer": customer.as_str(),
                "accounts": [account.as_str()],
            }),
        );
        let jwt = request
            .sign(tpp.files.signing_key())
            .expect("signing the request object");
        let mut url = Url::parse(&self.app.url("/authorize")).expect("authorize URL");
        url.query_pairs_mut()
            .append_pair("client_id", &tpp.client_id)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", "openid fundsconfirmations")
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

    /// Grace approves `consent_id` for `account` (fixture TPP).
    pub async fn authorise(&self, consent_id: &str, account: &Acct) -> String {
        self.authorise_by(&self.tpp, consent_id, &self.customer.id, &account.id)
            .await
    }

    /// A consent on `account`, authorised by Grace for it: (ConsentId, access token).
    pub async fn consented_token(&self, account: &Acct) -> (String, String) {
        let consent = self
            .create_consent(&account.identification, json!({}))
            .await;
        let id = consent["Data"]["ConsentId"]
            .as_str()
            .expect("ConsentId")
            .to_owned();
        let token = self.authorise(&id, account).await;
        (id, token)
    }

    pub async fn call(&self, call: Call<'_>) -> Reply {
        let http = call.tpp.unwrap_or(&self.tpp).http();
        let mut request = http
            .request(
                call.method.clone(),
                self.app.url(&format!("{BASE}{}", call.path)),
            )
            .bearer_auth(call.token)
            .header("x-fapi-interaction-id", INTERACTION_ID);
        for (k, v) in &call.headers {
            request = request.header(k, v);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request.send().await.expect("a CBPII request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Call::new(reqwest::Method::GET, path, token))
            .await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Call::new(reqwest::Method::DELETE, path, token))
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Call::new(reqwest::Method::POST, path, token).json(body))
            .await
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

fn address() -> PostalAddress {
    PostalAddress {
        lines: vec!["2 High Street".into()],
        town: "Bristol".into(),
        postcode: "BS1 4DJ".into(),
        country: "GB".into(),
    }
}

async fn acct(app: &TestApp, id: AccountId) -> anyhow::Result<Acct> {
    let account = app
        .state()
        .core_banking
        .accounts(std::slice::from_ref(&id))
        .await?
        .into_iter()
        .next()
        .context("the account just opened")?;
    let identification = account
        .identification
        .context("a current account has a sort code and number")?
        .to_string();
    Ok(Acct { id, identification })
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
    Ok(Customer {
        id: customer.id,
        everyday: acct(app, everyday.id).await?,
        bills: acct(app, bills.id).await?,
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
    Ok(Stranger {
        id: customer.id,
        account: acct(app, account.id).await?,
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
