//! Resource calls with an access token (Open Banking APIs): `Authorization: Bearer` over the
//! mTLS connection the token is bound to, and a fresh `x-fapi-interaction-id`.

use reqwest::header::{ACCEPT, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::client::{interaction_id, parse_url};
use crate::{INTERACTION_ID, TppClient, TppError};

/// Any answer of a resource server, whatever its status: the caller decides what a 4xx means.
#[derive(Clone, Debug)]
pub struct ResourceResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The body parsed as JSON; `Null` when empty or not JSON (see `text`).
    pub body: Value,
    /// The raw body.
    pub text: String,
}

impl ResourceResponse {
    /// A response header as text, e.g. `x-fapi-interaction-id` or `x-jws-signature`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TppClient {
    /// `GET url` with the access token.
    pub async fn get(&self, url: &str, access_token: &str) -> Result<ResourceResponse, TppError> {
        self.resource_request(Method::GET, url, access_token, None, &[])
            .await
    }

    /// `POST url` with a JSON body and extra headers (`x-idempotency-key`, `x-jws-signature`,
    /// `x-fapi-customer-ip-address`, ...).
    pub async fn post_json(
        &self,
        url: &str,
        access_token: &str,
        body: &Value,
        extra_headers: &[(&str, &str)],
    ) -> Result<ResourceResponse, TppError> {
        self.resource_request(Method::POST, url, access_token, Some(body), extra_headers)
            .await
    }

    /// `DELETE url` with the access token (e.g. deleting an account access consent).
    pub async fn delete(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<ResourceResponse, TppError> {
        self.resource_request(Method::DELETE, url, access_token, None, &[])
            .await
    }

    /// Any resource request: `Authorization: Bearer <access_token>`, `Accept:
    /// application/json`, a fresh `x-fapi-interaction-id` (unless `extra_headers` sets one),
    /// the JSON body if any, then `extra_headers`. Only transport failures are errors; every
    /// status is returned.
    pub async fn resource_request(
        &self,
        method: Method,
        url: &str,
        access_token: &str,
        body: Option<&Value>,
        extra_headers: &[(&str, &str)],
    ) -> Result<ResourceResponse, TppError> {
        let url = parse_url(url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in extra_headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad_header(name, e))?;
            let value = HeaderValue::from_str(value).map_err(|e| bad_header(name.as_str(), e))?;
            headers.append(name, value);
        }
        if !headers.contains_key(INTERACTION_ID) {
            let id = HeaderValue::from_str(&interaction_id())
                .map_err(|e| bad_header(INTERACTION_ID, e))?;
            headers.insert(INTERACTION_ID, id);
        }
        let mut request = self
            .http()
            .request(method, url)
            .bearer_auth(access_token)
            .headers(headers);
        if let Some(body) = body {
            // Sets `Content-Type: application/json`.
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(ResourceResponse {
            status,
            headers,
            body,
            text,
        })
    }
}

fn bad_header(name: &str, e: impl std::fmt::Display) -> TppError {
    TppError::InvalidHeader {
        name: name.to_owned(),
        reason: e.to_string(),
    }
}
