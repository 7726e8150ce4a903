use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::JoseError;

/// base64url without padding (RFC 7515 §2).
pub fn base64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Strict base64url decoding: URL-safe alphabet, no padding, no whitespace, canonical trailing
/// bits. Anything else is [`JoseError::Malformed`].
pub fn base64url_decode(s: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JoseError::Malformed("invalid base64url".into()))
}

/// base64url(SHA-256(bytes)): `x5t#S256`, JWK thumbprints, `at_hash`-style helpers.
pub fn sha256_base64url(bytes: &[u8]) -> String {
    base64url_encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// Standard base64 (with padding), used for PEM bodies and `x5c`.
pub(crate) fn std_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Standard base64 decoding; the error never echoes the input (it may be key material).
pub(crate) fn std_decode(s: &str) -> Option<Vec<u8>> {
    STANDARD.decode(s).ok()
}
