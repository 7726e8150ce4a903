//! The shared fixture of the authorisation server's integration tests.
//!
//! [`Bank::start`] runs the real server (`bascule_testkit::spawn_app`: TLS, sandbox mode, SQLite,
//! a `ManualClock` at 2026-01-05 09:00 UTC that only the test moves) and sets up what nearly
//! every FAPI test module needs:
//!
//! - [`Bank::customer`]: a customer with two open current accounts, for the sandbox's headless
//!   approval (`bascule_sandbox` in the request object, see [`approve`]);
//! - [`Bank::tpp`]: a TPP enrolled with the sandbox directory (all roles, redirect URI
//!   [`REDIRECT`]) and registered by DCR with `tls_client_auth`. [`Bank::second_client`] is
//!   another organisation's client (cross-client tests), [`Bank::private_key_jwt_client`] a
//!   client of yet another organisation registered with `private_key_jwt`.
//!
//! Then, for one test:
//!
//! - [`Bank::consent`] / [`Bank::consent_for`]: an account-access (or any kind) consent
//!   `AwaitingAuthorisation`, created directly in the consent store as the APIs would;
//! - [`Bank::request`] / [`Bank::request_for`]: a valid hybrid-flow request object (the TPP SDK's
//!   [`RequestObject`], with the Open Banking intent and acr claims and a sandbox approval); use
//!   its `.claim(..)`, `.without(..)`, `.audience(..)`, `.state(..)`, `.nonce(..)`,
//!   `.response_type(..)` and `.pkce(..)` to bend it, and [`Tpp::sign`] to sign it;
//! - [`Bank::authorize`] (any query) and [`Bank::authorize_with`] (the usual query for a
//!   request object): `GET /authorize` from a browser (no client certificate) that does **not**
//!   follow redirects, returning an [`Authorize`] with the status, the `Location` and the body;
//!   [`Authorize::fragment`], [`Authorize::query`] and [`Bank::jarm`] read the response;
//! - [`Bank::par`] / [`Bank::push`]: `POST /par` over the client's mTLS connection;
//! - [`Bank::post_form`]: any form POST (the token endpoint, revocation) over a client's mTLS;
//! - [`Bank::server_keys`]: the server's `/jwks`, to verify ID tokens and JARM responses.
//!
//! Times in tokens come from the server's clock ([`Bank::now`]); move it with
//! `bank.app.clock.advance(..)`.

// Shared by two sets of test modules: not every helper is used by each.
#![allow(dead_code)]

use std::collections::HashMap;

use bascule_domain::{AccountId, Clock, Consent, ConsentKind, ConsentStatus, CustomerId, Pence};
use bascule_jose::VerifyingKeys;
use bascule_store::Backend;
use bascule_testkit::TestApp;
use bascule_testkit::people::{grace_hopper, open_current_account};
use bascule_tpp::TokenEndpointAuthMethod;
use bascule_tpp::oauth::RequestObject;
use reqwest::Url;
use serde_json::{Map, Value, json};
use time::Duration;

pub use bascule_testkit::Tpp;
pub use bascule_testkit::tpp::{REDIRECT, fragment_params, query_params};

/// A redirect URI no client registered.
pub const UNREGISTERED_REDIRECT: &str = "https://attacker.example/cb";
/// The scope of an account-access authorisation.
pub const SCOPE: &str = "openid accounts";
/// `urn:ietf:params:oauth:request_uri:` (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// A customer of the bank with two open current accounts.
pub struct Customer {
    pub id: CustomerId,
    pub accounts: Vec<AccountId>,
}

/// The bank, one customer and one registered TPP client.
pub struct Bank {
    pub app: TestApp,
    pub customer: Customer,
    /// A `tls_client_auth` client with redirect URI [`REDIRECT`].
    pub tpp: Tpp,
    /// A browser: trusts the bank, presents no client certificate, follows no redirects.
    pub browser: reqwest::Client,
}

/// What `/authorize` answered.
#[derive(Debug)]
pub struct Authorize {
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    pub body: String,
}

impl Authorize {
    /// The redirect target, asserting the answer was a redirect (303/302/307).
    #[track_caller]
    pub fn location(&self) -> &str {
        assert!(
            (300..400).contains(&self.status),
            "expected a redirect, got {} {}",
            self.status,
            self.body
        );
        self.location.as_deref().expect("a Location header")
    }

    /// The redirect's fragment parameters (hybrid flow responses and errors), asserting it went
    /// to `redirect` (the registered redirect URI).
    #[track_caller]
    pub fn fragment(&self) -> HashMap<String, String> {
        let location = self.location();
        assert!(
            location.starts_with(&format!("{REDIRECT}#")),
            "expected a fragment response at {REDIRECT}, got {location}"
        );
        fragment_params(location)
    }

    /// The redirect's query parameters (JARM `response=` in `query.jwt` mode).
    #[track_caller]
    pub fn query(&self) -> HashMap<String, String> {
        let location = self.location();
        assert!(
            location.starts_with(&format!("{REDIRECT}?")),
            "expected a query response at {REDIRECT}, got {location}"
        );
        query_params(location)
    }

    /// Asserts the answer is the bank's own error page (HTML, status 400): the request was not
    /// trusted with a redirect to the client (unknown client, unverifiable request object,
    /// unregistered redirect URI...). Returns the body.
    #[track_caller]
    pub fn assert_error_page(&self) -> &str {
        assert_eq!(
            self.status, 400,
            "expected the error page, got {} {:?} {}",
            self.status, self.location, self.body
        );
        assert!(self.location.is_none(), "{:?}", self.location);
        assert!(
            self.body.contains("<html") || self.body.contains("<!doctype html"),
            "not an HTML page: {}",
            self.body
        );
        &self.body
    }

    /// [`Authorize::assert_error_page`], whose message contains `reason`.
    #[track_caller]
    pub fn assert_error_page_saying(&self, reason: &str) {
        let body = self.assert_error_page();
        assert!(body.contains(reason), "expected {reason:?} in {body}");
    }

    /// Asserts the answer is an OAuth error redirected to the client in the fragment, with
    /// `error` and (when given) `state`. Returns the parameters.
    #[track_caller]
    pub fn assert_error_redirect(&self, error: &str) -> HashMap<String, String> {
        let params = self.fragment();
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{params:?}"
        );
        assert!(!params.contains_key("code"), "{params:?}");
        params
    }

    /// Asserts a successful hybrid response (code and id_token in the fragment) and returns the
    /// parameters.
    #[track_caller]
    pub fn assert_code(&self) -> HashMap<String, String> {
        let params = self.fragment();
        assert!(
            params.contains_key("code") && params.contains_key("id_token"),
            "expected code and id_token: {params:?}"
        );
        assert!(!params.contains_key("error"), "{params:?}");
        params
    }
}

/// The sandbox's headless approval: `customer` shares `accounts`.
pub fn approve(customer: &Customer) -> Value {
    bascule_testkit::tpp::approve(&customer.id, &customer.accounts)
}

/// The sandbox's headless rejection.
pub fn reject() -> Value {
    json!({"decision": "Rejected"})
}

/// A compact JWS with `alg: none` and an empty signature.
pub fn unsigned(claims: &Map<String, Value>) -> String {
    let b64 = |v: &Value| bascule_jose::base64url_encode(&serde_json::to_vec(v).unwrap());
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&Value::Object(claims.clone()))
    )
}

impl Bank {
    /// A fresh bank on SQLite with the customer and the `tls_client_auth` client.
    pub async fn start() -> Self {
        Self::start_on(Backend::Sqlite).await
    }

    /// The same on a chosen database (the happy paths run on both).
    pub async fn start_on(backend: Backend) -> Self {
        Self::try_start(backend)
            .await
            .expect("starting the bank fixture")
    }

    async fn try_start(backend: Backend) -> anyhow::Result<Self> {
        let app = bascule_testkit::spawn_app(backend).await?;
        let customer = create_customer(&app).await?;
        let tpp = Tpp::register(
            &app,
            "Acme Budgeting Ltd",
            TokenEndpointAuthMethod::TlsClientAuth,
        )
        .await?;
        let browser = app.browser.clone();
        Ok(Self {
            app,
            customer,
            tpp,
            browser,
        })
    }

    /// The server's time, unix seconds (the `ManualClock`).
    pub fn now(&self) -> i64 {
        self.app.clock.now().unix_timestamp()
    }

    /// The issuer: the audience of request objects, `iss` of ID tokens and JARM responses.
    pub fn issuer(&self) -> String {
        self.app.state().authz.config().issuer.clone()
    }

    /// Another organisation's `tls_client_auth` client, same redirect URI.
    pub async fn second_client(&self) -> Tpp {
        Tpp::register(
            &self.app,
            "Other Payments Ltd",
            TokenEndpointAuthMethod::TlsClientAuth,
        )
        .await
        .expect("registering the second client")
    }

    /// A `private_key_jwt` client of another organisation, same redirect URI.
    pub async fn private_key_jwt_client(&self) -> Tpp {
        Tpp::register(
            &self.app,
            "Assertive Apps Ltd",
            TokenEndpointAuthMethod::PrivateKeyJwt,
        )
        .await
        .expect("registering the private_key_jwt client")
    }

    /// A consent of `kind` for the fixture's client, awaiting authorisation, expiring in 90
    /// days.
    pub async fn consent(&self, kind: ConsentKind) -> Consent {
        self.consent_for(&self.tpp, kind).await
    }

    /// A consent of `kind` for `tpp`.
    pub async fn consent_for(&self, tpp: &Tpp, kind: ConsentKind) -> Consent {
        self.app
            .state()
            .authz
            .consents()
            .create(
                kind,
                &tpp.client_id,
                Some(self.app.clock.now() + Duration::days(90)),
                "{}".into(),
            )
            .await
            .expect("creating a consent")
    }

    /// The consent's current status.
    pub async fn consent_status(&self, consent: &Consent) -> ConsentStatus {
        self.app
            .state()
            .authz
            .consents()
            .get(consent.id.as_str())
            .await
            .expect("reading a consent")
            .expect("the consent exists")
            .status
    }

    /// A valid hybrid-flow request object for the fixture's client and `consent`, approved
    /// headlessly for the fixture's customer and both accounts. Claims: `iss` = `client_id`,
    /// `aud` = the issuer, `response_type` `code id_token`, `redirect_uri` [`REDIRECT`],
    /// `scope` [`SCOPE`], random `state` and `nonce`, `iat` = `nbf` = now, `exp` = now + 300,
    /// `jti`, `claims.id_token.openbanking_intent_id` {value, essential} and an essential `acr`
    /// (SCA or CA), and `bascule_sandbox`.
    pub fn request(&self, consent: &Consent) -> RequestObject {
        self.request_for(&self.tpp, consent)
    }

    /// [`Bank::request`] for `tpp`.
    pub fn request_for(&self, tpp: &Tpp, consent: &Consent) -> RequestObject {
        RequestObject::new(&tpp.client_id, &self.issuer(), REDIRECT, SCOPE, self.now())
            .expect("a request object")
            .intent(consent.id.as_str())
            .claim("bascule_sandbox", approve(&self.customer))
    }

    /// `GET /authorize?{query}` from the browser, not following redirects.
    pub async fn authorize(&self, query: &[(&str, &str)]) -> Authorize {
        let mut url = Url::parse(&self.app.url("/authorize")).expect("the authorize URL");
        url.query_pairs_mut().extend_pairs(query);
        let response = self.browser.get(url).send().await.expect("GET /authorize");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .map(|l| l.to_str().expect("an ASCII Location").to_owned());
        let body = response.text().await.expect("the body");
        Authorize {
            status,
            location,
            body,
        }
    }

    /// `GET /authorize` with the query a FAPI client sends for `request`: `client_id`,
    /// `response_type`, `scope` and `redirect_uri` from its claims (when strings), and
    /// `request` = the signed `jwt`.
    pub async fn authorize_with(&self, tpp: &Tpp, request: &RequestObject, jwt: &str) -> Authorize {
        let mut query: Vec<(&str, &str)> = vec![("client_id", &tpp.client_id)];
        for name in ["response_type", "scope", "redirect_uri"] {
            if let Some(v) = request.get_str(name) {
                query.push((name, v));
            }
        }
        query.push(("request", jwt));
        self.authorize(&query).await
    }

    /// Signs `request` with the fixture client's key and sends it to `/authorize`.
    pub async fn authorize_request(&self, request: &RequestObject) -> Authorize {
        let jwt = self.tpp.sign(request);
        self.authorize_with(&self.tpp, request, &jwt).await
    }

    /// `POST url` with `form` over `http`; status and JSON body (or the text as a string).
    pub async fn post_form(
        &self,
        http: &reqwest::Client,
        url: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        bascule_testkit::tpp::post_form(http, url, form).await
    }

    /// `POST /par` over `tpp`'s mTLS connection with exactly `form` (add client
    /// authentication yourself, e.g. with [`Tpp::auth_fields`]).
    pub async fn par(&self, tpp: &Tpp, form: &[(&str, &str)]) -> (u16, Value) {
        self.post_form(tpp.http(), &self.app.url("/par"), form)
            .await
    }

    /// Pushes the signed `jwt` for `tpp` with its client authentication: `request=` plus
    /// `client_id` (tls_client_auth) or an assertion (private_key_jwt).
    pub async fn push(&self, tpp: &Tpp, jwt: &str) -> (u16, Value) {
        let url = self.app.url("/par");
        let auth = tpp.auth_fields(&url, self.now());
        let mut form: Vec<(&str, &str)> = vec![("request", jwt)];
        form.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
        self.par(tpp, &form).await
    }

    /// Pushes and returns the `request_uri`, asserting `201`.
    pub async fn push_ok(&self, tpp: &Tpp, jwt: &str) -> String {
        let (status, body) = self.push(tpp, jwt).await;
        assert_eq!(status, 201, "{body}");
        body["request_uri"]
            .as_str()
            .expect("a request_uri")
            .to_owned()
    }

    /// The server's signing keys from `/jwks` (no client certificate needed).
    pub async fn server_keys(&self) -> VerifyingKeys {
        let jwks: bascule_jose::Jwks = self
            .browser
            .get(self.app.url("/jwks"))
            .send()
            .await
            .expect("GET /jwks")
            .json()
            .await
            .expect("a JWK set");
        VerifyingKeys::from_jwks(&jwks).expect("the server's keys")
    }

    /// Verifies a JARM response JWT (signature with `/jwks`, `iss`, `aud` = `client_id`,
    /// `exp`) and returns its claims.
    pub async fn jarm(&self, response_jwt: &str, client_id: &str) -> Map<String, Value> {
        let keys = self.server_keys().await;
        bascule_tpp::oauth::parse_jarm(response_jwt, &keys, client_id, &self.issuer(), self.now())
            .expect("a valid JARM response");
        let (_, claims): (_, Value) = bascule_jose::verify_jwt(
            response_jwt,
            &keys,
            &[
                bascule_jose::Algorithm::PS256,
                bascule_jose::Algorithm::ES256,
            ],
        )
        .expect("JARM signature");
        match claims {
            Value::Object(m) => m,
            other => panic!("JARM claims are not an object: {other}"),
        }
    }
}

async fn create_customer(app: &TestApp) -> anyhow::Result<Customer> {
    let customer = app.ledger.create_customer(grace_hopper()).await?;
    let mut accounts = Vec::new();
    for nickname in ["Everyday", "Bills"] {
        let account =
            open_current_account(&app.ledger, &customer.id, Some(nickname), Pence(0)).await?;
        accounts.push(account.id);
    }
    Ok(Customer {
        id: customer.id,
        accounts,
    })
}

// The token endpoint, for the `token`, `client_assertion` and `flow` modules.

impl Bank {
    /// `POST /token` over `tpp`'s mTLS connection with its client authentication
    /// ([`Tpp::auth_fields`]) and `form`.
    pub async fn token(&self, tpp: &Tpp, form: &[(&str, &str)]) -> (u16, Value) {
        tpp.token(&self.app, form).await
    }

    /// A client-credentials access token for `tpp` with its registered scopes, asserting `200`.
    pub async fn client_credentials(&self, tpp: &Tpp) -> String {
        let (status, body) = self
            .token(tpp, &[("grant_type", "client_credentials")])
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"]
            .as_str()
            .expect("an access_token")
            .to_owned()
    }

    /// Signs `request` with `tpp`'s key, sends it to `/authorize` (the sandbox approves it
    /// headlessly) and returns the code of the hybrid response.
    pub async fn code(&self, tpp: &Tpp, request: &RequestObject) -> String {
        let jwt = tpp.sign(request);
        self.authorize_with(tpp, request, &jwt).await.assert_code()["code"].clone()
    }

    /// Redeems `code` at `/token` for `tpp` (`authorization_code`, `redirect_uri` [`REDIRECT`])
    /// with `extra` fields (`code_verifier`...).
    pub async fn redeem(&self, tpp: &Tpp, code: &str, extra: &[(&str, &str)]) -> (u16, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        form.extend_from_slice(extra);
        self.token(tpp, &form).await
    }

    /// The whole authorisation for `tpp` with `request`: code, then tokens, asserting `200`.
    pub async fn tokens(&self, tpp: &Tpp, request: &RequestObject) -> Value {
        let code = self.code(tpp, request).await;
        let (status, body) = self.redeem(tpp, &code, &[]).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// `GET /register/{client_id}` over `http` with `Authorization: {authorization}` (e.g.
    /// `Bearer TOKEN`); status and JSON body (or the text as a string).
    pub async fn get_registration(
        &self,
        http: &reqwest::Client,
        client_id: &str,
        authorization: &str,
    ) -> (u16, Value) {
        let response = http
            .get(self.app.url(&format!("/register/{client_id}")))
            .header(reqwest::header::AUTHORIZATION, authorization)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .expect("GET /register/{client_id}");
        let status = response.status().as_u16();
        let text = response.text().await.expect("the body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }
}

/// The OAuth errors RFC 6749 §5.2 (token endpoint), RFC 6750 and RFC 7009 define.
const OAUTH_ERRORS: [&str; 7] = [
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_token_type",
];

/// Asserts an OAuth error answer in the RFC 6749 §5.2 shape: `status`, a JSON object with
/// exactly `error` (= `error`, a code RFC 6749 defines) and a printable `error_description`
/// (and at most `error_uri`).
#[track_caller]
pub fn assert_oauth_error(answer: &(u16, Value), status: u16, error: &str) {
    let (got, body) = answer;
    assert_eq!(*got, status, "{body}");
    let object = body.as_object().expect("a JSON object");
    assert!(
        OAUTH_ERRORS.contains(&error),
        "{error} is not an RFC 6749 error"
    );
    assert_eq!(
        object.get("error").and_then(Value::as_str),
        Some(error),
        "{body}"
    );
    let description = object
        .get("error_description")
        .and_then(Value::as_str)
        .expect("an error_description");
    // RFC 6749 §5.2: %x20-21 / %x23-5B / %x5D-7E.
    assert!(
        description
            .chars()
            .all(|c| matches!(c, ' '..='!' | '#'..='[' | ']'..='~')),
        "error_description has characters RFC 6749 forbids: {description:?}"
    );
    assert!(
        object
            .keys()
            .all(|k| ["error", "error_description", "error_uri"].contains(&k.as_str())),
        "{body}"
    );
}
