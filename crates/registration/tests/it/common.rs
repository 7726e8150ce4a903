//! A TPP enrolled with the sandbox directory, and helpers to send registration requests and
//! check the answers against the DCR OpenAPI specification.

use anyhow::Context;
use bascule_directory::{Directory, EnrolRequest, Enrolment, Role};
use bascule_domain::Clock;
use bascule_testkit::TestApp;
use bascule_testkit::openapi;
use bascule_tls::ClientCertificate;
use bascule_tpp::{RegistrationRequest, TokenEndpointAuthMethod, TppClient, TppFiles};
use serde_json::{Map, Value};
use tempfile::TempDir;

/// The vendored DCR v3.4 specification.
pub const DCR: &str = "v4.0/client-registration-openapi.json";

pub const REDIRECT: &str = "https://tpp.example/callback";
pub const OTHER_REDIRECT: &str = "https://tpp.example/other";

/// An enrolled TPP: what the directory issued, written out and loaded as the TPP SDK does.
pub struct Tpp {
    pub enrolment: Enrolment,
    pub dir: TempDir,
    pub files: TppFiles,
    pub client: TppClient,
}

impl Tpp {
    pub fn request(&self, method: TokenEndpointAuthMethod) -> RegistrationRequest {
        RegistrationRequest::from_files(&self.files, method)
    }

    /// The transport certificate as the server sees it after the handshake.
    pub fn certificate(&self) -> ClientCertificate {
        ClientCertificate::from_chain(self.enrolment.transport.certificate_chain().unwrap())
            .unwrap()
    }

    /// Signs arbitrary claims with the software's key (the kid its JWKS publishes).
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        self.files
            .signing_key()
            .sign_jwt(claims, Some("JWT"))
            .unwrap()
    }

    /// POSTs `body` to /register as `application/jose` over this TPP's mTLS client.
    pub async fn post(&self, app: &TestApp, body: String) -> (u16, Value) {
        post(self.client.http(), app, body, "application/jose").await
    }

    /// Registers with the SDK's defaults and returns the client id.
    pub async fn register(&self, app: &TestApp, method: TokenEndpointAuthMethod) -> String {
        self.client
            .register(
                &app.url("/register"),
                &aud(app),
                &self.request(method),
                now(app),
            )
            .await
            .unwrap()
            .client_id
    }
}

pub fn directory(app: &TestApp) -> &Directory {
    app.state()
        .directory
        .as_ref()
        .expect("the test app runs in sandbox mode")
}

/// The bank's organisation id: the `aud` of registration requests.
pub fn aud(app: &TestApp) -> String {
    app.state().config.bank.organisation_id.clone()
}

/// The server's clock (the TPP SDK takes the time explicitly).
pub fn now(app: &TestApp) -> i64 {
    app.clock.now().unix_timestamp()
}

/// Enrols software with `roles` (in a new organisation, or in `organisation_id`).
pub async fn enrol(
    app: &TestApp,
    organisation_id: Option<&str>,
    roles: &[Role],
) -> anyhow::Result<Tpp> {
    let enrolment = directory(app)
        .enrol(&EnrolRequest {
            organisation_name: "Acme Budgeting Ltd".into(),
            organisation_id: organisation_id.map(str::to_owned),
            software_name: "Acme Budget".into(),
            roles: roles.to_vec(),
            redirect_uris: vec![REDIRECT.into(), OTHER_REDIRECT.into()],
            ..EnrolRequest::default()
        })
        .await?;
    let dir = tempfile::tempdir()?;
    enrolment.write_to(dir.path(), &app.ca_pem, &app.base_url)?;
    let files = TppFiles::load(dir.path()).context("loading the enrolment directory")?;
    let client = TppClient::new(&files)?;
    Ok(Tpp {
        enrolment,
        dir,
        files,
        client,
    })
}

/// POSTs `body` to /register with `content_type` over `http`; status and JSON body.
pub async fn post(
    http: &reqwest::Client,
    app: &TestApp,
    body: String,
    content_type: &str,
) -> (u16, Value) {
    let response = http
        .post(app.url("/register"))
        .header("content-type", content_type)
        .header("accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}

/// A 400 carrying exactly the RFC 7591 `error`, in the spec's `RegistrationError` shape.
#[track_caller]
pub fn assert_refused(answer: &(u16, Value), error: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    assert_eq!(body["error"], error, "{body}");
    openapi::validate(DCR, "RegistrationError", body).unwrap();
    openapi::validate_response(DCR, "/register", "post", 400, body).unwrap();
}

/// A compact JWS with `header` and `claims` and an empty signature (`alg: none`).
pub fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        bascule_jose::base64url_encode(&serde_json::to_vec(header).unwrap()),
        bascule_jose::base64url_encode(&serde_json::to_vec(claims).unwrap())
    )
}
