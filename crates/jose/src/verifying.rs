use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PSS_2048_8192_SHA256, RsaParameters,
    RsaPublicKeyComponents,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::b64::base64url_decode;
use crate::jws::{Header, parse_header, split};
use crate::signing::MIN_RSA_MODULUS_BYTES;
use crate::{Algorithm, JoseError, Jwk, Jwks, SigningKey};

static PS256_PARAMS: RsaParameters = RSA_PSS_2048_8192_SHA256;

struct Entry {
    alg: Algorithm,
    key: ParsedPublicKey,
}

/// Public keys ready to verify, parsed once from a [`Jwks`]; reuse across requests
/// (`Send + Sync`).
#[derive(Default)]
pub struct VerifyingKeys {
    by_kid: HashMap<String, Entry>,
    /// Usable keys published without a `kid`.
    anonymous: Vec<Entry>,
}

impl fmt::Debug for VerifyingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kids: Vec<_> = self.by_kid.keys().collect();
        kids.sort();
        f.debug_struct("VerifyingKeys")
            .field("kids", &kids)
            .field("without_kid", &self.anonymous.len())
            .finish()
    }
}

fn decode_member(v: &Option<String>, name: &str) -> Result<Vec<u8>, JoseError> {
    let s = v
        .as_deref()
        .ok_or_else(|| JoseError::Key(format!("JWK is missing `{name}`")))?;
    base64url_decode(s).map_err(|_| JoseError::Key(format!("JWK `{name}` is not base64url")))
}

/// Parses one JWK: `Ok(None)` if it is not a PS256/ES256 signing key (skipped), `Err` if it
/// claims to be one but is malformed.
fn parse_jwk(jwk: &Jwk) -> Result<Option<Entry>, JoseError> {
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    let declared = match jwk.alg.as_deref() {
        None => None,
        Some(a) => match Algorithm::parse(a) {
            Ok(a) => Some(a),
            Err(_) => return Ok(None),
        },
    };
    match jwk.kty.as_str() {
        "RSA" => {
            if declared.is_some_and(|a| a != Algorithm::PS256) {
                return Ok(None);
            }
            let n = decode_member(&jwk.n, "n")?;
            let e = decode_member(&jwk.e, "e")?;
            if n.first() == Some(&0) || e.first() == Some(&0) || e.is_empty() {
                return Err(JoseError::Key(
                    "JWK `n`/`e` is not minimal big-endian".into(),
                ));
            }
            if n.len() < MIN_RSA_MODULUS_BYTES {
                // Too weak for FAPI: not usable, but not malformed either.
                return Ok(None);
            }
            let key = RsaPublicKeyComponents { n: &n, e: &e }
                .to_parsed_public_key(&PS256_PARAMS)
                .map_err(|e| JoseError::Key(format!("RSA JWK rejected: {e}")))?;
            Ok(Some(Entry {
                alg: Algorithm::PS256,
                key,
            }))
        }
        "EC" => {
            if jwk.crv.as_deref() != Some("P-256")
                || declared.is_some_and(|a| a != Algorithm::ES256)
            {
                return Ok(None);
            }
            let x = decode_member(&jwk.x, "x")?;
            let y = decode_member(&jwk.y, "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err(JoseError::Key("P-256 JWK `x`/`y` must be 32 bytes".into()));
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .map_err(|e| JoseError::Key(format!("P-256 JWK rejected: {e}")))?;
            Ok(Some(Entry {
                alg: Algorithm::ES256,
                key,
            }))
        }
        _ => Ok(None),
    }
}

impl VerifyingKeys {
    /// Parses every PS256/ES256 signing key in `jwks`. Keys for encryption, other key types or
    /// curves, other algorithms, or RSA keys under 2048 bits are skipped; a malformed candidate
    /// key (bad base64, point not on the curve, …) or a duplicated `kid` is an error.
    pub fn from_jwks(jwks: &Jwks) -> Result<Self, JoseError> {
        let mut out = VerifyingKeys::default();
        for jwk in &jwks.keys {
            let Some(entry) = parse_jwk(jwk)? else {
                continue;
            };
            match &jwk.kid {
                Some(kid) => {
                    if out.by_kid.insert(kid.clone(), entry).is_some() {
                        return Err(JoseError::Key(format!(
                            "duplicate signing kid `{}`",
                            crate::printable(kid)
                        )));
                    }
                }
                None => out.anonymous.push(entry),
            }
        }
        Ok(out)
    }

    /// The verifying key for one signing key (handy in tests and for self-issued tokens).
    pub fn from_signing_key(key: &SigningKey) -> Result<Self, JoseError> {
        Self::from_jwks(&Jwks {
            keys: vec![key.public_jwk()],
        })
    }

    /// True if no usable key was found.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.by_kid.len() + self.anonymous.len()
    }

    /// Whether a usable key with this `kid` exists.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    fn select(&self, kid: Option<&str>) -> Result<&Entry, JoseError> {
        match kid {
            Some(kid) => self
                .by_kid
                .get(kid)
                .ok_or_else(|| JoseError::UnknownKey(Some(crate::printable(kid)))),
            None => {
                let mut all = self.by_kid.values().chain(self.anonymous.iter());
                match (all.next(), all.next()) {
                    (Some(only), None) => Ok(only),
                    _ => Err(JoseError::UnknownKey(None)),
                }
            }
        }
    }
}

/// Header members defined by RFC 7515/7519 that must never appear in `crit`.
const REGISTERED: [&str; 11] = [
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit",
];

fn check_header(
    header: &Header,
    allowed: &[Algorithm],
    understood: &[&str],
) -> Result<Algorithm, JoseError> {
    let alg = Algorithm::parse(&header.alg)?;
    if !allowed.contains(&alg) {
        return Err(JoseError::AlgorithmNotAllowed(alg.as_str().into()));
    }
    if header.other.contains_key("jku") {
        return Err(JoseError::ForbiddenHeader("jku"));
    }
    if header.other.contains_key("x5u") {
        return Err(JoseError::ForbiddenHeader("x5u"));
    }
    // Unencoded payloads (RFC 7797) are not supported: refuse rather than mis-verify.
    if header.other.contains_key("b64") {
        return Err(JoseError::ForbiddenHeader("b64"));
    }
    if let Some(crit) = header.other.get("crit") {
        let Value::Array(names) = crit else {
            return Err(JoseError::Malformed("`crit` is not an array".into()));
        };
        if names.is_empty() {
            return Err(JoseError::Malformed("`crit` is empty".into()));
        }
        for name in names {
            let Value::String(name) = name else {
                return Err(JoseError::Malformed("`crit` entry is not a string".into()));
            };
            if REGISTERED.contains(&name.as_str()) {
                return Err(JoseError::Malformed(
                    "`crit` names a registered header".into(),
                ));
            }
            if !understood.contains(&name.as_str()) {
                return Err(JoseError::ForbiddenHeader("crit"));
            }
            if !header.other.contains_key(name) {
                return Err(JoseError::Malformed("`crit` names an absent header".into()));
            }
        }
    }
    Ok(alg)
}

fn verify_parts(
    header_b64: &str,
    payload_b64: &str,
    signature_b64: &str,
    keys: &VerifyingKeys,
    allowed: &[Algorithm],
    understood_crit: &[&str],
) -> Result<Header, JoseError> {
    let header = parse_header(header_b64)?;
    let alg = check_header(&header, allowed, understood_crit)?;
    let entry = keys.select(header.kid.as_deref())?;
    if entry.alg != alg {
        return Err(JoseError::AlgorithmNotAllowed(format!(
            "{alg} does not match the key's {}",
            entry.alg
        )));
    }
    let signature = base64url_decode(signature_b64)
        .map_err(|_| JoseError::Malformed("signature is not base64url".into()))?;
    let mut input = Vec::with_capacity(header_b64.len() + 1 + payload_b64.len());
    input.extend_from_slice(header_b64.as_bytes());
    input.push(b'.');
    input.extend_from_slice(payload_b64.as_bytes());
    entry
        .key
        .verify_sig(&input, &signature)
        .map_err(|_| JoseError::BadSignature)?;
    Ok(header)
}

/// Verifies a compact JWS and returns its header and payload bytes.
///
/// The header `alg` must be in `allowed` and equal the key's algorithm; `jku`, `x5u`, `b64` and
/// any `crit` are refused (see [`verify_with_crit`]); the key is found by `kid`, or is the only
/// key when the header has no `kid`. PS256 is RSASSA-PSS/SHA-256 (RSA ≥ 2048 bits), ES256 is
/// ECDSA P-256/SHA-256 with a 64-byte `r || s` signature.
pub fn verify(
    token: &str,
    keys: &VerifyingKeys,
    allowed: &[Algorithm],
) -> Result<(Header, Vec<u8>), JoseError> {
    verify_with_crit(token, keys, allowed, &[])
}

/// [`verify`], accepting `crit` extensions named in `understood_crit` (e.g. Open Banking's
/// `http://openbanking.org.uk/iat`). The caller must then check those header members itself.
pub fn verify_with_crit(
    token: &str,
    keys: &VerifyingKeys,
    allowed: &[Algorithm],
    understood_crit: &[&str],
) -> Result<(Header, Vec<u8>), JoseError> {
    let parts = split(token)?;
    let header = verify_parts(
        parts.header_b64,
        parts.payload_b64,
        parts.signature_b64,
        keys,
        allowed,
        understood_crit,
    )?;
    let payload = base64url_decode(parts.payload_b64)
        .map_err(|_| JoseError::Malformed("payload is not base64url".into()))?;
    Ok((header, payload))
}

/// Verifies a detached JWS (`header..signature`, as in Open Banking's `x-jws-signature`) over
/// `payload`, with the same rules as [`verify_with_crit`].
pub fn verify_detached(
    token: &str,
    payload: &[u8],
    keys: &VerifyingKeys,
    allowed: &[Algorithm],
    understood_crit: &[&str],
) -> Result<Header, JoseError> {
    let parts = split(token)?;
    if !parts.payload_b64.is_empty() {
        return Err(JoseError::Malformed("detached JWS has a payload".into()));
    }
    let payload_b64 = crate::base64url_encode(payload);
    verify_parts(
        parts.header_b64,
        &payload_b64,
        parts.signature_b64,
        keys,
        allowed,
        understood_crit,
    )
}

/// [`verify`], then JSON-decode the payload into `T`.
pub fn verify_jwt<T: DeserializeOwned>(
    token: &str,
    keys: &VerifyingKeys,
    allowed: &[Algorithm],
) -> Result<(Header, T), JoseError> {
    let (header, payload) = verify(token, keys, allowed)?;
    let claims = serde_json::from_slice(&payload)
        .map_err(|e| JoseError::Malformed(format!("payload does not decode: {e}")))?;
    Ok((header, claims))
}
