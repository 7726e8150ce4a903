//! JOSE for Bascule and its TPP SDK: JWS and JWT under FAPI 1.0 Advanced and UK Open Banking.
//!
//! * Only **PS256** and **ES256** exist here ([`Algorithm`]). `none`, `HS*`, `RS256` and anything
//!   else are refused before any key is looked at ([`JoseError::AlgorithmNotAllowed`]).
//! * All cryptography is [`aws_lc_rs`]. The compact JWS framing, base64url and the JSON handling
//!   are this crate's own small code.
//! * Keys are parsed once: a [`SigningKey`] caches its aws-lc-rs key pair and public [`Jwk`]; a
//!   [`VerifyingKeys`] caches parsed public keys by `kid`. Build them once and share them
//!   (both are `Send + Sync`).
//! * Verification ([`verify`], [`verify_jwt`]) refuses key-by-URL headers (`jku`, `x5u`), any
//!   `crit` it was not told it understands, `b64` (unencoded payloads), duplicate header members,
//!   and a header `alg` that differs from the selected key's algorithm.
//! * [`webhooks`]: Standard Webhooks HMAC-SHA256 signatures for the personal API's webhooks.
//! * Registered claims are checked by [`check_claims`] against an explicit `now`: there is no
//!   system clock inside this crate.
//!
//! ```
//! use bascule_jose::{Algorithm, Jwks, SigningKey, VerifyingKeys, verify_jwt};
//!
//! let key = SigningKey::generate(Algorithm::ES256)?;
//! let token = key.sign_jwt(&serde_json::json!({"iss": "tpp", "aud": "bank"}), Some("JWT"))?;
//!
//! let jwks = Jwks { keys: vec![key.public_jwk()] };
//! let keys = VerifyingKeys::from_jwks(&jwks)?;
//! let (header, claims): (_, serde_json::Value) = verify_jwt(&token, &keys, &[Algorithm::ES256])?;
//! assert_eq!(header.kid.as_deref(), Some(key.kid()));
//! assert_eq!(claims["iss"], "tpp");
//! # Ok::<(), bascule_jose::JoseError>(())
//! ```

mod b64;
mod claims;
mod error;
mod jwk;
mod jws;
mod signing;
mod verifying;
pub mod webhooks;

pub use b64::{base64url_decode, base64url_encode, sha256_base64url};
pub use claims::{ClaimChecks, check_claims};
pub use error::{ClaimError, JoseError};
pub use jwk::{Jwk, Jwks};
pub use jws::{Header, decode_unverified};
pub use signing::SigningKey;
pub use verifying::{VerifyingKeys, verify, verify_detached, verify_jwt, verify_with_crit};

use serde::{Deserialize, Serialize};

/// The JWS algorithms FAPI 1.0 Advanced allows. Nothing else can be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// RSASSA-PSS with SHA-256 and MGF1-SHA-256 (RSA keys of at least 2048 bits).
    PS256,
    /// ECDSA on P-256 with SHA-256, fixed-length `r || s` signatures.
    ES256,
}

impl Algorithm {
    /// The JOSE name (`"PS256"` / `"ES256"`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::PS256 => "PS256",
            Algorithm::ES256 => "ES256",
        }
    }

    /// Parses a JOSE `alg` name; anything but `PS256`/`ES256` (exact case) is
    /// [`JoseError::AlgorithmNotAllowed`].
    pub fn parse(s: &str) -> Result<Self, JoseError> {
        match s {
            "PS256" => Ok(Algorithm::PS256),
            "ES256" => Ok(Algorithm::ES256),
            other => Err(JoseError::AlgorithmNotAllowed(printable(other))),
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A short, log-safe rendering of an attacker-supplied string for error messages.
pub(crate) fn printable(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().count() > 32 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn printable_truncates_and_sanitises() {
        assert_eq!(printable("HS256"), "HS256");
        assert_eq!(printable("a\nb\u{0}"), "a?b?");
        let long = "x".repeat(100);
        assert_eq!(printable(&long).chars().count(), 33);
    }

    #[test]
    fn header_rejects_duplicates_and_non_strings() {
        let dup = base64url_encode(br#"{"alg":"ES256","kid":"a","kid":"b"}"#);
        assert!(matches!(
            jws::parse_header(&dup),
            Err(JoseError::Malformed(_))
        ));
        let num_kid = base64url_encode(br#"{"alg":"ES256","kid":1}"#);
        assert!(matches!(
            jws::parse_header(&num_kid),
            Err(JoseError::Malformed(_))
        ));
        let ok = base64url_encode(br#"{"alg":"ES256","kid":"a","typ":"JWT","x":[1]}"#);
        let h = jws::parse_header(&ok).unwrap();
        assert_eq!(h.kid.as_deref(), Some("a"));
        assert_eq!(h.other.len(), 1);
    }

    #[test]
    fn header_serde_derive_matches_manual_parse() {
        let json = r#"{"alg":"PS256","kid":"k","cty":"json","crit":["x"],"x":1}"#;
        let derived: Header = serde_json::from_str(json).unwrap();
        let manual = jws::parse_header(&base64url_encode(json.as_bytes())).unwrap();
        assert_eq!(derived, manual);
    }

    #[test]
    fn split_needs_exactly_three_parts() {
        assert!(jws::split("a.b.c").is_ok());
        assert!(jws::split("a.b").is_err());
        assert!(jws::split("a.b.c.d").is_err());
        assert!(jws::split("a.b.c.d.e").is_err());
    }
}
