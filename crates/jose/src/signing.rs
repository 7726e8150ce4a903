use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _, RSA_PSS_SHA256, RsaKeyPair,
};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::b64::{base64url_encode, std_decode, std_encode};
use crate::{Algorithm, JoseError, Jwk};

/// Smallest RSA modulus accepted for signing and verification (2048 bits).
pub(crate) const MIN_RSA_MODULUS_BYTES: usize = 256;

enum Inner {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key that signs, parsed once; clone-free and `Send + Sync`, so share it behind an
/// `Arc`. `Debug` shows the `kid` and algorithm only, never key material.
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    inner: Inner,
    /// Public JWK without `kid` (the `kid` is filled in by [`SigningKey::public_jwk`]).
    jwk: Jwk,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn key_err(what: &str) -> JoseError {
    JoseError::Key(what.to_owned())
}

/// Best-effort wipe of a buffer that held private key material.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    std::hint::black_box(buf);
}

impl SigningKey {
    fn from_inner(alg: Algorithm, inner: Inner) -> Result<Self, JoseError> {
        let jwk = match &inner {
            Inner::Rsa(kp) => {
                if kp.public_modulus_len() < MIN_RSA_MODULUS_BYTES {
                    return Err(key_err("RSA key is smaller than 2048 bits"));
                }
                let pk = kp.public_key();
                Jwk {
                    kty: "RSA".into(),
                    kid: None,
                    use_: Some("sig".into()),
                    alg: Some(alg.as_str().into()),
                    n: Some(base64url_encode(
                        pk.modulus().big_endian_without_leading_zero(),
                    )),
                    e: Some(base64url_encode(
                        pk.exponent().big_endian_without_leading_zero(),
                    )),
                    crv: None,
                    x: None,
                    y: None,
                    x5c: None,
                    x5t_s256: None,
                }
            }
            Inner::Ec(kp) => {
                // Uncompressed SEC1 point: 0x04 || x (32) || y (32).
                let point = kp.public_key().as_ref();
                if point.len() != 65 || point[0] != 4 {
                    return Err(key_err("unexpected P-256 public key encoding"));
                }
                Jwk {
                    kty: "EC".into(),
                    kid: None,
                    use_: Some("sig".into()),
                    alg: Some(alg.as_str().into()),
                    n: None,
                    e: None,
                    crv: Some("P-256".into()),
                    x: Some(base64url_encode(&point[1..33])),
                    y: Some(base64url_encode(&point[33..65])),
                    x5c: None,
                    x5t_s256: None,
                }
            }
        };
        let kid = jwk.thumbprint()?;
        Ok(SigningKey {
            kid,
            alg,
            inner,
            jwk,
        })
    }

    /// Generates a fresh key: RSA 2048 for PS256, P-256 for ES256.
    pub fn generate(alg: Algorithm) -> Result<Self, JoseError> {
        let inner = match alg {
            Algorithm::PS256 => Inner::Rsa(
                RsaKeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| key_err("RSA key generation failed"))?,
            ),
            Algorithm::ES256 => Inner::Ec(
                EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| key_err("P-256 key generation failed"))?,
            ),
        };
        Self::from_inner(alg, inner)
    }

    /// Parses a PEM private key: `-----BEGIN PRIVATE KEY-----` (PKCS#8). For convenience also
    /// `RSA PRIVATE KEY` (PKCS#1, PS256 only) and `EC PRIVATE KEY` (SEC1, ES256 only).
    pub fn from_pkcs8_pem(pem: &str, alg: Algorithm) -> Result<Self, JoseError> {
        let (label, mut der) = pem_decode(pem)?;
        let result = match (label, alg) {
            ("PRIVATE KEY", _) => Self::from_pkcs8_der(&der, alg),
            ("RSA PRIVATE KEY", Algorithm::PS256) => RsaKeyPair::from_der(&der)
                .map_err(|e| JoseError::Key(format!("not a usable RSA private key: {e}")))
                .and_then(|kp| Self::from_inner(alg, Inner::Rsa(kp))),
            ("EC PRIVATE KEY", Algorithm::ES256) => {
                EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|e| JoseError::Key(format!("not a usable P-256 private key: {e}")))
                    .and_then(|kp| Self::from_inner(alg, Inner::Ec(kp)))
            }
            _ => Err(JoseError::Key(format!(
                "PEM `{label}` block cannot be used for {alg}"
            ))),
        };
        wipe(&mut der);
        result
    }

    /// Parses a PKCS#8 v1/v2 DER private key of the algorithm's type.
    pub fn from_pkcs8_der(der: &[u8], alg: Algorithm) -> Result<Self, JoseError> {
        let inner = match alg {
            Algorithm::PS256 => Inner::Rsa(
                RsaKeyPair::from_pkcs8(der)
                    .map_err(|e| JoseError::Key(format!("not a usable RSA PKCS#8 key: {e}")))?,
            ),
            Algorithm::ES256 => Inner::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                    .map_err(|e| JoseError::Key(format!("not a usable P-256 PKCS#8 key: {e}")))?,
            ),
        };
        Self::from_inner(alg, inner)
    }

    /// Replaces the default `kid` (the RFC 7638 thumbprint of the public JWK).
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The private key as a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Handle with care.
    pub fn to_pkcs8_pem(&self) -> Result<String, JoseError> {
        let mut der: Vec<u8> = match &self.inner {
            Inner::Rsa(kp) => kp
                .as_der()
                .map_err(|_| key_err("RSA PKCS#8 export failed"))?
                .as_ref()
                .to_vec(),
            Inner::Ec(kp) => kp
                .to_pkcs8v1()
                .map_err(|_| key_err("P-256 PKCS#8 export failed"))?
                .as_ref()
                .to_vec(),
        };
        let mut b64 = std_encode(&der);
        wipe(&mut der);
        let mut pem = String::with_capacity(b64.len() + b64.len() / 64 + 64);
        pem.push_str("-----BEGIN PRIVATE KEY-----\n");
        for line in b64.as_bytes().chunks(64) {
            // base64 output is ASCII, so every chunk is valid UTF-8.
            pem.push_str(std::str::from_utf8(line).map_err(|_| key_err("PEM encoding failed"))?);
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        // Best-effort wipe of the intermediate base64 copy.
        let mut bytes = std::mem::take(&mut b64).into_bytes();
        wipe(&mut bytes);
        Ok(pem)
    }

    /// The `kid` put in every header this key signs.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// PS256 or ES256.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public JWK to publish: `kty`, `kid`, `use: "sig"`, `alg`, and `n`,`e` or `crv`,`x`,`y`.
    pub fn public_jwk(&self) -> Jwk {
        let mut jwk = self.jwk.clone();
        jwk.kid = Some(self.kid.clone());
        jwk
    }

    /// Signs `claims` (serialised as JSON) as a compact JWS with header
    /// `{"alg", "kid", "typ"?}`.
    pub fn sign_jwt<C: Serialize>(
        &self,
        claims: &C,
        typ: Option<&str>,
    ) -> Result<String, JoseError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|e| JoseError::Malformed(format!("claims do not serialise: {e}")))?;
        let mut header = Map::new();
        if let Some(typ) = typ {
            header.insert("typ".into(), Value::String(typ.into()));
        }
        self.sign_jws(header, &payload)
    }

    /// Signs raw payload bytes as a compact JWS with a caller-built header; `alg` and `kid` are
    /// always set from this key, overriding whatever the map held.
    pub fn sign_jws(
        &self,
        header: Map<String, Value>,
        payload: &[u8],
    ) -> Result<String, JoseError> {
        let mut out = self.signing_input(header, payload)?;
        let sig = self.sign_raw(out.as_bytes())?;
        out.push('.');
        out.push_str(&base64url_encode(&sig));
        Ok(out)
    }

    /// A JWS with a detached payload (RFC 7515 Appendix F), as in Open Banking's
    /// `x-jws-signature`: `header..signature`. Verify with [`crate::verify_detached`].
    pub fn sign_detached(
        &self,
        header: Map<String, Value>,
        payload: &[u8],
    ) -> Result<String, JoseError> {
        let input = self.signing_input(header, payload)?;
        let sig = self.sign_raw(input.as_bytes())?;
        let header_b64 = input.split('.').next().unwrap_or_default();
        Ok(format!("{header_b64}..{}", base64url_encode(&sig)))
    }

    fn signing_input(
        &self,
        mut header: Map<String, Value>,
        payload: &[u8],
    ) -> Result<String, JoseError> {
        header.insert("alg".into(), Value::String(self.alg.as_str().into()));
        header.insert("kid".into(), Value::String(self.kid.clone()));
        let header_json = serde_json::to_vec(&header)
            .map_err(|e| JoseError::Malformed(format!("header does not serialise: {e}")))?;
        let mut out = base64url_encode(&header_json);
        out.push('.');
        out.push_str(&base64url_encode(payload));
        Ok(out)
    }

    /// Signs arbitrary bytes with this key's algorithm (JWS signature encoding for ES256).
    pub fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&RSA_PSS_SHA256, &rng, message, &mut sig)
                    .map_err(|_| key_err("RSA signing failed"))?;
                Ok(sig)
            }
            Inner::Ec(kp) => Ok(kp
                .sign(&rng, message)
                .map_err(|_| key_err("ECDSA signing failed"))?
                .as_ref()
                .to_vec()),
        }
    }
}

/// Extracts the single PEM block: (label, DER). Errors never echo the input.
fn pem_decode(pem: &str) -> Result<(&'static str, Vec<u8>), JoseError> {
    const LABELS: [&str; 3] = ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"];
    for label in LABELS {
        let begin = format!("-----BEGIN {label}-----");
        let end = format!("-----END {label}-----");
        if let Some(start) = pem.find(&begin) {
            let body_start = start + begin.len();
            let body_len = pem[body_start..]
                .find(&end)
                .ok_or_else(|| key_err("PEM block has no END line"))?;
            let body: String = pem[body_start..body_start + body_len]
                .chars()
                .filter(|c| !c.is_ascii_whitespace())
                .collect();
            let der = std_decode(&body).ok_or_else(|| key_err("PEM body is not base64"))?;
            let mut body = body.into_bytes();
            wipe(&mut body);
            return Ok((label, der));
        }
    }
    if pem.contains("ENCRYPTED PRIVATE KEY") {
        return Err(key_err("encrypted PKCS#8 keys are not supported"));
    }
    Err(key_err("no `-----BEGIN PRIVATE KEY-----` PEM block"))
}
