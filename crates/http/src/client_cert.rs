//! The extractor for mTLS routes: the request must have come over a connection that presented
//! a client certificate chaining to a trusted root (the TLS layer verified the chain).

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bascule_tls::{ClientCertificate, ConnectionInfo};

use crate::Error;

/// The verified client certificate of the connection.
#[derive(Debug, Clone)]
pub struct MutualTls(pub Arc<ClientCertificate>);

impl<S: Send + Sync> FromRequestParts<S> for MutualTls {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        parts
            .extensions
            .get::<ConnectionInfo>()
            .and_then(|c| c.client_certificate.clone())
            .map(MutualTls)
            .ok_or(Error::ClientCertificateRequired)
    }
}
