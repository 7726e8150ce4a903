use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::{JoseError, b64::base64url_decode};

/// A JOSE header. `other` holds every member besides `alg`, `kid`, `typ` and `cty`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Header {
    /// The algorithm named by the token (only trustworthy after [`crate::verify`]).
    pub alg: String,
    /// Key id.
    pub kid: Option<String>,
    /// Media type of the whole object, e.g. `"JWT"`.
    pub typ: Option<String>,
    /// Media type of the payload.
    pub cty: Option<String>,
    /// All other members.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The three base64url parts of a compact JWS, still encoded.
pub(crate) struct Compact<'a> {
    pub header_b64: &'a str,
    pub payload_b64: &'a str,
    pub signature_b64: &'a str,
}

/// Splits a compact serialization into exactly three parts.
pub(crate) fn split(token: &str) -> Result<Compact<'_>, JoseError> {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok(Compact {
            header_b64: h,
            payload_b64: p,
            signature_b64: s,
        }),
        _ => Err(JoseError::Malformed(
            "compact JWS must have exactly three parts".into(),
        )),
    }
}

/// A JSON object whose parsing fails on duplicate member names (RFC 7515 §5.2 allows
/// rejecting them; accepting "last wins" invites parser-differential attacks).
struct StrictObject(Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<StrictObject, A::Error> {
                let mut out = Map::new();
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    if out.contains_key(&k) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                    out.insert(k, v);
                }
                Ok(StrictObject(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// Parses a header (already base64url-decoded) into a [`Header`].
pub(crate) fn parse_header(header_b64: &str) -> Result<Header, JoseError> {
    let bytes = base64url_decode(header_b64)
        .map_err(|_| JoseError::Malformed("header is not base64url".into()))?;
    let StrictObject(mut map) = serde_json::from_slice(&bytes).map_err(|_| {
        JoseError::Malformed("header is not a JSON object without duplicates".into())
    })?;
    fn take_str(
        map: &mut Map<String, Value>,
        name: &'static str,
    ) -> Result<Option<String>, JoseError> {
        match map.remove(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(JoseError::Malformed(format!(
                "header `{name}` is not a string"
            ))),
        }
    }
    let alg = take_str(&mut map, "alg")?
        .ok_or_else(|| JoseError::Malformed("header has no `alg`".into()))?;
    Ok(Header {
        alg,
        kid: take_str(&mut map, "kid")?,
        typ: take_str(&mut map, "typ")?,
        cty: take_str(&mut map, "cty")?,
        other: map,
    })
}

/// Parses a token without verifying it (e.g. to read `kid` or `iss` to pick keys).
/// **Never trust the result**: anyone can write any header and payload.
/// The payload must be JSON.
pub fn decode_unverified(token: &str) -> Result<(Header, Value), JoseError> {
    let parts = split(token)?;
    let header = parse_header(parts.header_b64)?;
    let payload = base64url_decode(parts.payload_b64)
        .map_err(|_| JoseError::Malformed("payload is not base64url".into()))?;
    let value = serde_json::from_slice(&payload)
        .map_err(|_| JoseError::Malformed("payload is not JSON".into()))?;
    Ok((header, value))
}
