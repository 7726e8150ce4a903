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
use serde_json::{Value, json};
use tempfile::TempDir;
use time::macros::date;

pub const SPEC: &str = "v3.1.11/account-info-openapi.json";
pub const BASE: &str = "/open-banking/v3.1/aisp";
pub const REDIRECT: &str = "https://tpp.example/cb";
pub const CUSTOMER_IP: &str = "198.51.100.7";

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

pub struct Customer {
    pub id: CustomerId,
    pub everyday: AccountId,
    pub bills: AccountId,
    pub pot: AccountId,
}

impl Customer {
    pub fn all_accounts(&self) -> Vec<AccountId> {
        vec![self.everyday.clone(), self.bills.clone(), self.pot.clone()]
    }
}

pub struct Stranger {
    pub id: CustomerId,
    pub account: AccountId,
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

/// An AIS response: status, headers, JSON body (`Null` when empty, a string when not JSON).
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

/// One AIS request, built up then sent with [`Bank::call`].
pub struct Call<'a> {
    pub method: reqwest::Method,
    pub path: String,
    pub token: &'a str,
    pub body: Option<Value>,
    pub headers: Vec<(String, String)>,
    pub customer_present: bool,
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
            customer_present: true,
            tpp: None,
        }
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
        self.body = Some(body);
        self
    }

    pub fn via(mut self, tpp: &'a Tpp) -> Self {
        self.tpp = Some(tpp);
        self
    }
}

/// Asserts `body` validates against what the spec declares for `status` of `method path`
/// (`path` as the spec writes it, e.g. `/accounts/{AccountId}`).
#[track_caller]
pub fn valid(method: &str, path: &str, reply: &Reply) {
    if let Err(e) =
        bascule_testkit::openapi::validate_response(SPEC, path, method, reply.status, &reply.body)
    {
        panic!("{method} {path} {}: {e}\n{:#}", reply.status, reply.body);
    }
}

impl Bank {
    pub async fn start(backend: Backend) -> Bank {
        Self::try_start(backend)
            .await
            .expect("starting the AIS fixture")
    }

    async fn try_start(backend: Backend) -> anyhow::Result<Bank> {
        let app = bascule_testkit::spawn_app(backend).await?;
        let customer = grace(&app).await?;
        let stranger = stranger(&app).await?;
        let tpp = register(&app, "Acme Budgeting Ltd").await?;
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
        register(&self.app, "Other Insights Ltd")
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

    /// A client-credentials token of the fixture TPP.
    pub async fn cc_token(&self) -> String {
        self.cc_token_for(&self.tpp).await
    }

    pub async fn cc_token_for(&self, tpp: &Tpp) -> String {
        let body = self
            .token_request(
                tpp,
                &[("grant_type", "client_credentials"), ("scope", "accounts")],
            )
            .await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
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
        let body = self.authorise_tokens(consent_id, accounts).await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// [`Bank::authorise`], returning the whole token response (`refresh_token` too).
    pub async fn authorise_tokens(&self, consent_id: &str, accounts: &[AccountId]) -> Value {
        let tpp = &self.tpp;
        let request = RequestObject::new(
            &tpp.client_id,
            &self.issuer(),
            REDIRECT,
            "openid accounts",
            self.now(),
        )
        .expect("a request object")
        .intent(consent_id)
        .claim(
            "bascule_sandbox",
            json!({
                "decision": "Authorised",
                "customer": self.customer.id.as_str(),
                "accounts": accounts.iter().map(AccountId::as_str).collect::<Vec<_>>(),
            }),
        );
        let jwt = request
            .sign(tpp.files.signing_key())
            .expect("signing the request object");
        let mut url = Url::parse(&self.app.url("/authorize")).expect("authorize URL");
        url.query_pairs_mut()
            .append_pair("client_id", &tpp.client_id)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", "openid accounts")
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
        self.token_request(
            tpp,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await
    }

    /// A new access token from `refresh_token` (same consent).
    pub async fn refresh(&self, refresh_token: &str) -> String {
        let body = self
            .token_request(
                &self.tpp,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token),
                ],
            )
            .await;
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// A consent with `permissions`, authorised for `accounts`: (ConsentId, access token).
    pub async fn consented_token(
        &self,
        permissions: &[&str],
        accounts: &[AccountId],
    ) -> (String, String) {
        let consent = self.create_consent(permissions, json!({})).await;
        let id = consent["Data"]["ConsentId"]
            .as_str()
            .expect("ConsentId")
            .to_owned();
        let token = self.authorise(&id, accounts).await;
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
            .header(
                "x-fapi-interaction-id",
                "93bac548-d2de-4546-b106-880a5018460d",
            );
        if call.customer_present {
            request = request.header("x-fapi-customer-ip-address", CUSTOMER_IP);
        }
        for (k, v) in &call.headers {
            request = request.header(k, v);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        let response = request.send().await.expect("an AIS request");
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
    Ok(Stranger {
        id: customer.id,
        account: account.id,
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
