//! PKCE (RFC 7636) with the only method FAPI allows, `S256` (FAPI1A §5.2.2-18 with PAR).

use bascule_jose::sha256_base64url;

use super::random_base64url;
use crate::TppError;

/// `code_challenge_method` value.
pub const PKCE_METHOD_S256: &str = "S256";

/// A code verifier and its S256 challenge. The challenge goes into the request object, the
/// verifier to the token endpoint. `Debug` hides the verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &"[redacted]")
            .field("challenge", &self.challenge)
            .finish()
    }
}

impl Pkce {
    /// A fresh verifier: base64url of 32 random bytes (43 characters, 256 bits; RFC 7636 §4.1
    /// asks for 43 to 128 characters).
    pub fn generate() -> Result<Self, TppError> {
        Ok(Self::from_verifier(random_base64url(32)?))
    }

    /// The pair for a given verifier (for tests and negative cases: a verifier is not checked
    /// here for length or alphabet).
    pub fn from_verifier(verifier: impl Into<String>) -> Self {
        let verifier = verifier.into();
        let challenge = s256_challenge(&verifier);
        Self {
            verifier,
            challenge,
        }
    }

    /// `code_verifier`, sent to the token endpoint.
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// `code_challenge`, sent in the request object.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2).
pub fn s256_challenge(verifier: &str) -> String {
    sha256_base64url(verifier.as_bytes())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn s256_matches_rfc7636_appendix_b() {
        // The verifier is base64url of Appendix B's 32 octets [116, 24, 223, ...].
        let pkce = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(
            pkce.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn generated_verifiers_are_43_unreserved_chars_and_fresh() {
        let a = Pkce::generate().unwrap();
        let b = Pkce::generate().unwrap();
        assert_eq!(a.verifier().len(), 43);
        assert!(
            a.verifier()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(a.verifier(), b.verifier());
        assert_eq!(a.challenge(), s256_challenge(a.verifier()));
        assert!(!format!("{a:?}").contains(a.verifier()));
    }
}
