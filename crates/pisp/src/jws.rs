//! Detached JWS on the payment API: the profile's checks and response signing are the API
//! kit's ([`bascule_api_kit::jws`], re-exported here); what is the payment API's own is
//! [`Unsigned`], the extractor of its GETs.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use bascule_authz::AccessToken;
use bascule_http::Error;

pub use bascule_api_kit::jws::*;

/// The access token of a request that takes no signature (the GETs), once it is known to
/// carry none: 401 first, then 400 `UK.OBIE.Signature.Unexpected`.
pub struct Unsigned(pub AccessToken);

impl FromRequestParts<crate::Pisp> for Unsigned {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, pisp: &crate::Pisp) -> Result<Self, Error> {
        let token = AccessToken::from_request_parts(parts, pisp).await?;
        refuse_unexpected(&parts.headers)?;
        Ok(Unsigned(token))
    }
}
