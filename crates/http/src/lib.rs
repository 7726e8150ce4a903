//! Bascule's HTTP edge: the one error type every handler returns and its single rendering
//! (OBErrorResponse1 for the Open Banking APIs, RFC 6749 JSON for OAuth endpoints, a readable
//! page for people); the `x-fapi-interaction-id` layer that also logs and measures every
//! request; and the extractor that demands a client certificate on mTLS routes.

mod client_cert;
mod error;
mod interaction;
pub mod metrics;
pub mod ob_headers;

pub use client_cert::MutualTls;
pub use error::{
    Error, ErrorFormat, OAuthErrorCode, ObErrorCode, ObErrorDetail, error_format,
    error_format_by_path, keep_as_rendered,
};
pub use interaction::{INTERACTION_ID, InteractionId, interaction_layer};
