use serde::{Deserialize, Serialize};

use crate::{JoseError, b64::sha256_base64url};

/// A public JSON Web Key (RFC 7517) as published in a JWKS. Only the members Bascule uses;
/// unknown members are ignored when parsing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// `"RSA"` or `"EC"`.
    pub kty: String,
    /// Key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `"sig"` or `"enc"`.
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Intended algorithm, e.g. `"PS256"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// RSA modulus (base64url, big-endian).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent (base64url, big-endian).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// EC curve, `"P-256"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate (base64url, 32 bytes for P-256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate (base64url, 32 bytes for P-256).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Certificate chain, standard base64 DER, leaf first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x5c: Option<Vec<String>>,
    /// base64url SHA-256 of the leaf certificate's DER.
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none")]
    pub x5t_s256: Option<String>,
}

impl Jwk {
    /// The RFC 7638 JWK thumbprint: base64url(SHA-256) of the required members in lexicographic
    /// order with no whitespace. Errors if `kty` is not RSA/EC or a required member is missing.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        fn req<'a>(v: &'a Option<String>, name: &str) -> Result<&'a str, JoseError> {
            v.as_deref()
                .ok_or_else(|| JoseError::Key(format!("JWK is missing `{name}`")))
        }
        fn js(s: &str) -> Result<String, JoseError> {
            serde_json::to_string(s).map_err(|e| JoseError::Key(e.to_string()))
        }
        let canonical = match self.kty.as_str() {
            "RSA" => format!(
                r#"{{"e":{},"kty":"RSA","n":{}}}"#,
                js(req(&self.e, "e")?)?,
                js(req(&self.n, "n")?)?
            ),
            "EC" => format!(
                r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
                js(req(&self.crv, "crv")?)?,
                js(req(&self.x, "x")?)?,
                js(req(&self.y, "y")?)?
            ),
            other => {
                return Err(JoseError::Key(format!(
                    "unsupported kty `{}`",
                    crate::printable(other)
                )));
            }
        };
        Ok(sha256_base64url(canonical.as_bytes()))
    }
}

/// A JWK Set (RFC 7517 §5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    /// The keys, in publication order.
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// The first key with this `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}

impl From<Vec<Jwk>> for Jwks {
    fn from(keys: Vec<Jwk>) -> Self {
        Jwks { keys }
    }
}
