//! `PispRequest`: what every idempotent, signed PIS POST handler takes. In order: the
//! certificate-bound access token (401) with the `payments` scope (403), the detached JWS over
//! the exact body bytes (400 `UK.OBIE.Signature.*`), and a well-formed `x-idempotency-key`
//! (400 `UK.OBIE.Header.Missing`/`Invalid`). The body stays raw `Bytes`: the handler parses it
//! after, and idempotency hashes exactly what was signed.

use axum::body::{Bytes, to_bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use bascule_authz::AccessToken;
use bascule_http::Error;

use crate::idempotency::IdempotencyKey;
use crate::{Pisp, headers, jws};

/// Request bodies larger than this are refused (an Initiation is a few KiB).
const MAX_BODY: usize = 256 * 1024;

#[derive(Debug)]
pub struct PispRequest {
    pub token: AccessToken,
    pub headers: HeaderMap,
    pub idempotency_key: String,
    pub body: Bytes,
}

impl PispRequest {
    pub fn client_id(&self) -> &str {
        self.token.client_id()
    }

    /// The idempotency identity of this request for `resource_type`.
    pub fn idempotency(&self, resource_type: &'static str) -> IdempotencyKey {
        IdempotencyKey::new(
            self.client_id(),
            resource_type,
            &self.idempotency_key,
            &self.body,
        )
    }
}

impl FromRequest<Pisp> for PispRequest {
    type Rejection = Error;

    async fn from_request(request: Request, pisp: &Pisp) -> Result<Self, Error> {
        let (mut parts, body) = request.into_parts();
        let token = AccessToken::from_request_parts(&mut parts, pisp).await?;
        token.require_scope("payments")?;
        let body = to_bytes(body, MAX_BODY)
            .await
            .map_err(|_| Error::ClientError(axum::http::StatusCode::PAYLOAD_TOO_LARGE))?;
        jws::verify_request(
            pisp.registrar(),
            token.client_id(),
            &parts.headers,
            &body,
            &pisp.config().jws,
            pisp.now().unix_timestamp(),
        )
        .await?;
        let idempotency_key = headers::idempotency_key(&parts.headers)?;
        Ok(PispRequest {
            token,
            headers: parts.headers,
            idempotency_key,
            body,
        })
    }
}
