//! The TPP every crate's tests play: enrolled with the sandbox directory, registered by DCR,
//! then asking for client-credentials tokens, having a consent approved headlessly by the
//! sandbox, and signing request objects and detached JWS bodies with its own key.

use std::collections::HashMap;

use anyhow::Context;
use bascule_directory::{EnrolRequest, Enrolment, Role};
use bascule_domain::{AccountId, Clock, CustomerId};
use bascule_jose::SigningKey;
use bascule_tpp::oauth::{ClientAuth, RequestObject};
use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
use reqwest::Url;
use serde_json::{Map, Value, json};
use tempfile::TempDir;

use crate::TestServer;

/// The redirect URI every fixture TPP registers (the only one).
pub const REDIRECT: &str = "https://tpp.example/cb";
/// The JOSE header claims of an Open Banking detached signature (RW §Message Signing).
pub const IAT: &str = "http://openbanking.org.uk/iat";
pub const ISS: &str = "http://openbanking.org.uk/iss";
pub const TAN: &str = "http://openbanking.org.uk/tan";

/// A registered TPP client: the enrolment files, an mTLS client (`sdk.http()` presents the
/// transport certificate, trusts only the sandbox CA and does not follow redirects) and the
/// client id the bank assigned.
pub struct Tpp {
    pub client_id: String,
    pub method: TokenEndpointAuthMethod,
    pub enrolment: Enrolment,
    pub files: TppFiles,
    pub sdk: TppClient,
    /// Keeps the enrolment directory (certificates, keys) alive.
    pub dir: TempDir,
}

impl Tpp {
    /// Enrols a new organisation's software with every role and [`REDIRECT`], writes and loads
    /// its files as the SDK does, and registers it by DCR with `method`.
    pub async fn register(
        app: &TestServer,
        organisation_name: &str,
        method: TokenEndpointAuthMethod,
    ) -> anyhow::Result<Tpp> {
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
        let files = TppFiles::load(dir.path()).context("loading the enrolment directory")?;
        let sdk = TppClient::new(&files)?;
        let registration = sdk
            .register(
                &app.url("/register"),
                &app.state().config.bank.organisation_id,
                &RegistrationRequest::from_files(&files, method),
                app.clock.now().unix_timestamp(),
            )
            .await?;
        Ok(Tpp {
            client_id: registration.client_id,
            method,
            enrolment,
            files,
            sdk,
            dir,
        })
    }

    /// [`Tpp::register`] with `tls_client_auth`, panicking on failure (test set-up).
    pub async fn tls(app: &TestServer, organisation_name: &str) -> Tpp {
        match Self::register(
            app,
            organisation_name,
            TokenEndpointAuthMethod::TlsClientAuth,
        )
        .await
        {
            Ok(tpp) => tpp,
            Err(e) => panic!("registering {organisation_name}: {e:#}"),
        }
    }

    /// The software's signing key (PS256, its `kid` published in the software JWKS).
    pub fn key(&self) -> &SigningKey {
        self.files.signing_key()
    }

    /// The mTLS HTTP client (transport certificate, no redirects).
    pub fn http(&self) -> &reqwest::Client {
        self.sdk.http()
    }

    /// The `iss` of its detached signatures: `{org_id}/{software_id}`.
    pub fn iss(&self) -> String {
        format!(
            "{}/{}",
            self.files.organisation_id(),
            self.files.software_id()
        )
    }

    /// Signs `request` with this client's key (header `typ: JWT`).
    pub fn sign(&self, request: &RequestObject) -> String {
        request.sign(self.key()).expect("signing a request object")
    }

    /// Signs arbitrary claims with this client's key.
    pub fn sign_claims(&self, claims: &Map<String, Value>) -> String {
        self.key()
            .sign_jwt(claims, Some("JWT"))
            .expect("signing claims")
    }

    /// The valid Open Banking JOSE header of a detached signature made at `now` (unix
    /// seconds; `alg`/`kid` are set by the key).
    pub fn jose_header(&self, now: i64) -> Map<String, Value> {
        let mut h = Map::new();
        h.insert("typ".into(), json!("JOSE"));
        h.insert(IAT.into(), json!(now - 1));
        h.insert(ISS.into(), json!(self.iss()));
        h.insert(TAN.into(), json!("openbanking.org.uk"));
        h.insert("crit".into(), json!([IAT, ISS, TAN]));
        h
    }

    /// The detached JWS (`x-jws-signature`) of `bytes` with `header`.
    pub fn sign_detached(&self, header: Map<String, Value>, bytes: &[u8]) -> String {
        self.key()
            .sign_detached(header, bytes)
            .expect("signing a detached JWS")
    }

    /// How this client authenticates at `/token`, `/par`, `/revoke`: `tls_client_auth` sends
    /// `client_id`; `private_key_jwt` a fresh assertion (aud = the endpoint) made at `now`.
    pub fn auth(&self, now: i64) -> ClientAuth<'_> {
        match self.method {
            TokenEndpointAuthMethod::TlsClientAuth => ClientAuth::tls(&self.client_id),
            TokenEndpointAuthMethod::PrivateKeyJwt => {
                ClientAuth::private_key_jwt(&self.client_id, self.key(), now)
            }
        }
    }

    /// The form fields of [`Tpp::auth`] for `endpoint`.
    pub fn auth_fields(&self, endpoint: &str, now: i64) -> Vec<(&'static str, String)> {
        self.auth(now)
            .form_fields(endpoint)
            .expect("client authentication fields")
    }

    /// The `x5t#S256` of this client's transport certificate, as the bank computes it after the
    /// handshake: what the client's tokens are bound to.
    pub fn x5t(&self) -> String {
        let chain = self
            .enrolment
            .transport
            .certificate_chain()
            .expect("the transport certificate chain");
        bascule_tls::ClientCertificate::from_chain(chain)
            .expect("the transport certificate")
            .thumbprint_s256
    }

    /// `POST /token` over this client's mTLS connection with its client authentication and
    /// `form`: the status and the JSON body (or the text as a string).
    pub async fn token(&self, app: &TestServer, form: &[(&str, &str)]) -> (u16, Value) {
        let url = app.url("/token");
        let auth = self.auth_fields(&url, app.clock.now().unix_timestamp());
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.extend(auth.iter().map(|(k, v)| (*k, v.as_str())));
        post_form(self.http(), &url, &fields).await
    }

    /// [`Tpp::token`], asserting `200`: the token response.
    pub async fn token_ok(&self, app: &TestServer, form: &[(&str, &str)]) -> Value {
        let (status, body) = self.token(app, form).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A client-credentials access token for `scope`, asserting `200`.
    pub async fn client_credentials(&self, app: &TestServer, scope: &str) -> String {
        let body = self
            .token_ok(
                app,
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
        access_token(&body)
    }

    /// The authorisation URL a TPP sends the customer to for `consent_id` (scope `openid
    /// {scope}`, `code id_token`, a signed request object by value); with `approval` as the
    /// sandbox's headless `bascule_sandbox` claim when given, else for a person to decide.
    pub fn authorization_url(
        &self,
        app: &TestServer,
        path: &str,
        consent_id: &str,
        scope: &str,
        approval: Option<Value>,
    ) -> Url {
        let scope = format!("openid {scope}");
        let mut request = RequestObject::new(
            &self.client_id,
            &app.state().authz.config().issuer,
            REDIRECT,
            &scope,
            app.clock.now().unix_timestamp(),
        )
        .expect("a request object")
        .intent(consent_id);
        if let Some(approval) = approval {
            request = request.claim("bascule_sandbox", approval);
        }
        let jwt = self.sign(&request);
        let mut url = Url::parse(&app.url(path)).expect("the authorize URL");
        url.query_pairs_mut()
            .append_pair("client_id", &self.client_id)
            .append_pair("response_type", "code id_token")
            .append_pair("scope", &scope)
            .append_pair("redirect_uri", REDIRECT)
            .append_pair("request", &jwt);
        url
    }

    /// The access token (and the rest of the token response) for the code in the fragment of
    /// `redirect`, the TPP's redirect URI as the bank sent the browser there.
    pub async fn redeem(&self, app: &TestServer, redirect: &str) -> Value {
        let code = fragment_params(redirect)
            .remove("code")
            .unwrap_or_else(|| panic!("no code in {redirect}"));
        self.token_ok(
            app,
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
            ],
        )
        .await
    }

    /// The sandbox's headless approval of `consent_id` (scope `openid {scope}`, `approval` as
    /// the `bascule_sandbox` claim, see [`approve`]) from a browser, then the code redeemed:
    /// the token response (`access_token`, `refresh_token` ...).
    pub async fn authorise(
        &self,
        app: &TestServer,
        consent_id: &str,
        scope: &str,
        approval: Value,
    ) -> Value {
        let url = self.authorization_url(app, "/authorize", consent_id, scope, Some(approval));
        let response = app.browser.get(url).send().await.expect("GET /authorize");
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no redirect from /authorize: {}", response.status()));
        self.redeem(app, &location).await
    }

    /// A new token response from `refresh_token` (same consent).
    pub async fn refresh(&self, app: &TestServer, refresh_token: &str) -> Value {
        self.token_ok(
            app,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }
}

/// The `access_token` of a token response.
#[track_caller]
pub fn access_token(body: &Value) -> String {
    body["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no access_token in {body}"))
        .to_owned()
}

/// The sandbox's headless approval: `customer` shares `accounts`.
pub fn approve(customer: &CustomerId, accounts: &[AccountId]) -> Value {
    json!({
        "decision": "Authorised",
        "customer": customer.as_str(),
        "accounts": accounts.iter().map(AccountId::as_str).collect::<Vec<_>>(),
    })
}

/// `POST url` with `form` over `http`; status and JSON body (or the text as a string).
pub async fn post_form(http: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = http
        .post(url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    let text = response.text().await.expect("the body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// `application/x-www-form-urlencoded` parameters of `url`'s fragment.
pub fn fragment_params(url: &str) -> HashMap<String, String> {
    let url = Url::parse(url).expect("a URL");
    decode_form(url.fragment().unwrap_or_default())
}

/// The query parameters of `url`.
pub fn query_params(url: &str) -> HashMap<String, String> {
    let url = Url::parse(url).expect("a URL");
    decode_form(url.query().unwrap_or_default())
}

fn decode_form(encoded: &str) -> HashMap<String, String> {
    let mut base = Url::parse("https://x.invalid/").expect("a URL");
    base.set_query(Some(encoded));
    base.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
