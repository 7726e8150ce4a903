//! The mTLS HTTPS client and the registration calls.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bascule_jose::SigningKey;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Certificate, Identity, StatusCode, Url};
use serde_json::Value;

use crate::files::certificates;
use crate::{Registration, RegistrationRequest, TppError, TppFiles};

/// Content type of a registration request body (a compact JWS).
pub const APPLICATION_JOSE: &str = "application/jose";
/// FAPI interaction id header, sent (fresh UUID v4) with every request.
pub const INTERACTION_ID: &str = "x-fapi-interaction-id";

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTPS client for talking to Open Banking banks as a TPP: it presents the transport
/// certificate on every connection, trusts only the configured CA certificates (no built-in or
/// system roots), speaks only HTTPS and does not follow redirects. Cheap to clone.
#[derive(Clone)]
pub struct TppClient {
    http: reqwest::Client,
    signing_key: Arc<SigningKey>,
}

impl std::fmt::Debug for TppClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TppClient")
            .field("http", &self.http)
            .field("signing_key", &"[redacted]")
            .finish()
    }
}

impl TppClient {
    /// A client that trusts only the enrolment directory's CA bundle.
    pub fn new(files: &TppFiles) -> Result<Self, TppError> {
        Self::with_roots(files, &[])
    }

    /// A client that trusts the CA bundle plus each PEM in `extra_ca_pems` (each may hold
    /// several certificates), e.g. the CA of a bank whose server certificate the directory did
    /// not issue.
    pub fn with_roots(files: &TppFiles, extra_ca_pems: &[&str]) -> Result<Self, TppError> {
        let mut roots = Vec::new();
        let bundle = (
            files.dir().join(&files.manifest().ca_bundle),
            files.ca_bundle_pem(),
        );
        let extras = extra_ca_pems
            .iter()
            .enumerate()
            .map(|(i, pem)| (PathBuf::from(format!("<extra CA PEM #{i}>")), *pem));
        for (path, pem) in std::iter::once(bundle).chain(extras) {
            let certs = certificates(pem).map_err(|reason| TppError::InvalidFile {
                path: path.clone(),
                reason,
            })?;
            if certs.is_empty() {
                return Err(TppError::InvalidFile {
                    path,
                    reason: "no certificate in the PEM".into(),
                });
            }
            for der in certs {
                roots.push(Certificate::from_der(&der)?);
            }
        }
        let identity = Identity::from_pem(files.transport_identity_pem().as_bytes())?;
        let http = reqwest::Client::builder()
            .tls_certs_only(roots)
            .identity(identity)
            .https_only(true)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Self {
            http,
            signing_key: files.signing_key_arc(),
        })
    }

    /// The underlying reqwest client (mTLS configured), for calls this SDK does not wrap yet.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The key request JWTs are signed with.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// `POST registration_endpoint` (DCR): signs `request` for `audience` (the bank's
    /// organisation id, or whatever its discovery says) at `now_unix`, sends it as
    /// `application/jose` and expects `201` with the registration.
    pub async fn register(
        &self,
        registration_endpoint: &str,
        audience: &str,
        request: &RegistrationRequest,
        now_unix: i64,
    ) -> Result<Registration, TppError> {
        let url = parse_url(registration_endpoint)?;
        let post = self.http.post(url);
        self.send_request_jwt(post, audience, request, now_unix, StatusCode::CREATED)
            .await
    }

    /// `GET registration_endpoint/{client_id}` with a client-credentials access token;
    /// expects `200` with the registration.
    pub async fn get_registration(
        &self,
        registration_endpoint: &str,
        client_id: &str,
        access_token: &str,
    ) -> Result<Registration, TppError> {
        let url = client_url(registration_endpoint, client_id)?;
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .header(ACCEPT, "application/json")
            .header(INTERACTION_ID, interaction_id())
            .send()
            .await?;
        registration_response(response, StatusCode::OK).await
    }

    /// `PUT registration_endpoint/{client_id}` with a client-credentials access token and a
    /// freshly signed request JWT carrying all the metadata; expects `200` with the
    /// registration.
    pub async fn update_registration(
        &self,
        registration_endpoint: &str,
        client_id: &str,
        access_token: &str,
        audience: &str,
        request: &RegistrationRequest,
        now_unix: i64,
    ) -> Result<Registration, TppError> {
        let url = client_url(registration_endpoint, client_id)?;
        let put = self.http.put(url).bearer_auth(access_token);
        self.send_request_jwt(put, audience, request, now_unix, StatusCode::OK)
            .await
    }

    /// Sends `request` as a freshly signed request JWT and reads the registration back.
    async fn send_request_jwt(
        &self,
        builder: reqwest::RequestBuilder,
        audience: &str,
        request: &RegistrationRequest,
        now_unix: i64,
        expect: StatusCode,
    ) -> Result<Registration, TppError> {
        let jwt = request.signed_jwt(&self.signing_key, audience, now_unix)?;
        let response = builder
            .header(CONTENT_TYPE, APPLICATION_JOSE)
            .header(ACCEPT, "application/json")
            .header(INTERACTION_ID, interaction_id())
            .body(jwt)
            .send()
            .await?;
        registration_response(response, expect).await
    }

    /// `DELETE registration_endpoint/{client_id}` with a client-credentials access token;
    /// expects `204`.
    pub async fn delete_registration(
        &self,
        registration_endpoint: &str,
        client_id: &str,
        access_token: &str,
    ) -> Result<(), TppError> {
        let url = client_url(registration_endpoint, client_id)?;
        let response = self
            .http
            .delete(url)
            .bearer_auth(access_token)
            .header(INTERACTION_ID, interaction_id())
            .send()
            .await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok(());
        }
        Err(error_response(response).await)
    }
}

pub(crate) fn interaction_id() -> String {
    uuid::Uuid::new_v4().hyphenated().to_string()
}

pub(crate) fn parse_url(url: &str) -> Result<Url, TppError> {
    Url::parse(url).map_err(|e| TppError::InvalidUrl {
        url: url.to_owned(),
        reason: e.to_string(),
    })
}

/// `registration_endpoint/{client_id}`, the client id percent-encoded as one path segment.
fn client_url(registration_endpoint: &str, client_id: &str) -> Result<Url, TppError> {
    let mut url = parse_url(registration_endpoint)?;
    if client_id.is_empty() {
        return Err(TppError::InvalidUrl {
            url: registration_endpoint.to_owned(),
            reason: "empty client id".into(),
        });
    }
    url.path_segments_mut()
        .map_err(|()| TppError::InvalidUrl {
            url: registration_endpoint.to_owned(),
            reason: "cannot be a base".into(),
        })?
        .pop_if_empty()
        .push(client_id);
    Ok(url)
}

async fn registration_response(
    response: reqwest::Response,
    expected: StatusCode,
) -> Result<Registration, TppError> {
    let status = response.status();
    if status != expected {
        return Err(error_response(response).await);
    }
    let body: Value = response
        .json()
        .await
        .map_err(|e| TppError::InvalidResponse {
            status: status.as_u16(),
            reason: format!("body is not JSON: {e}"),
        })?;
    Registration::from_json(body).map_err(|reason| TppError::InvalidResponse {
        status: status.as_u16(),
        reason,
    })
}

/// A 400 with an RFC 7591 error body becomes [`TppError::Registration`]; anything else
/// [`TppError::Status`].
async fn error_response(response: reqwest::Response) -> TppError {
    match crate::oauth::error_answer(response, &[400]).await {
        crate::oauth::ErrorAnswer::Coded(status, error, description) => TppError::Registration {
            status,
            error,
            description,
        },
        crate::oauth::ErrorAnswer::Other(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_url_appends_one_encoded_segment() {
        let url = client_url("https://bank.example/register", "abc").unwrap();
        assert_eq!(url.as_str(), "https://bank.example/register/abc");
        let url = client_url("https://bank.example/register/", "a b/c").unwrap();
        assert_eq!(url.as_str(), "https://bank.example/register/a%20b%2Fc");
        assert!(client_url("https://bank.example/register", "").is_err());
        assert!(client_url("not a url", "abc").is_err());
    }
}

#[cfg(test)]
mod send_sync {
    use super::*;

    fn send_sync<T: Send + Sync>(_: &T) {}

    #[allow(dead_code)]
    fn futures_are_send(client: &TppClient, request: &RegistrationRequest) {
        send_sync(client);
        let future = client.register("https://bank.example/register", "aud", request, 0);
        fn send<T: Send>(_: &T) {}
        send(&future);
        send(&client.get_registration("https://bank.example/register", "id", "tok"));
        send(&client.delete_registration("https://bank.example/register", "id", "tok"));
        let auth = crate::oauth::ClientAuth::tls("id");
        send(&client.discover("https://bank.example"));
        send(&client.provider_keys("https://bank.example/jwks"));
        send(&client.token_client_credentials("https://bank.example/token", &auth, "accounts"));
        send(&client.push_authorization_request("https://bank.example/par", &auth, "jwt"));
        send(&client.revoke("https://bank.example/revoke", &auth, "tok"));
        send(&client.post_json("https://bank.example/x", "tok", &Value::Null, &[]));
    }
}
