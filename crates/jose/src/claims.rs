use serde_json::Value;

use crate::ClaimError;

/// Which registered claims [`check_claims`] enforces. `now` is unix seconds supplied by the
/// caller (there is no clock in this crate); `leeway` (seconds, negative treated as 0) absorbs
/// clock skew on every time comparison.
#[derive(Debug, Clone, Copy)]
pub struct ClaimChecks<'a> {
    /// Current time, unix seconds.
    pub now: i64,
    /// Allowed clock skew in seconds.
    pub leeway: i64,
    /// Expected `iss`; `None` skips the check.
    pub issuer: Option<&'a str>,
    /// Audience that `aud` (string or array) must contain; `None` skips the check.
    pub audience: Option<&'a str>,
    /// Fail with [`ClaimError::Missing`] if `exp` is absent.
    pub require_exp: bool,
    /// Fail with [`ClaimError::Missing`] if `iat` is absent.
    pub require_iat: bool,
    /// Maximum `now - iat` in seconds (implies `iat` is required).
    pub max_age: Option<i64>,
}

impl ClaimChecks<'_> {
    /// Checks with `now` and everything else off / zero.
    pub fn at(now: i64) -> Self {
        ClaimChecks {
            now,
            leeway: 0,
            issuer: None,
            audience: None,
            require_exp: false,
            require_iat: false,
            max_age: None,
        }
    }
}

/// A NumericDate: integer or fractional seconds (fractions truncated toward -∞).
fn numeric_date(
    claims: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, ClaimError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if let Some(f) = n.as_f64() {
                // `as` saturates for out-of-range floats.
                Ok(Some(f.floor() as i64))
            } else {
                Err(ClaimError::Invalid(name))
            }
        }
        Some(_) => Err(ClaimError::Invalid(name)),
    }
}

/// Checks the registered claims of a decoded claim set: `exp`, `nbf`, `iat` (future and
/// `max_age`), `iss` and `aud` (a string or an array of strings).
pub fn check_claims(claims: &Value, checks: &ClaimChecks<'_>) -> Result<(), ClaimError> {
    let Value::Object(claims) = claims else {
        return Err(ClaimError::Invalid("claims"));
    };
    let now = checks.now;
    let leeway = checks.leeway.max(0);

    match numeric_date(claims, "exp")? {
        // Valid only while now < exp (RFC 7519 §4.1.4), with leeway.
        Some(exp) if now >= exp.saturating_add(leeway) => return Err(ClaimError::Expired),
        Some(_) => {}
        None if checks.require_exp => return Err(ClaimError::Missing("exp")),
        None => {}
    }

    if let Some(nbf) = numeric_date(claims, "nbf")?
        && now.saturating_add(leeway) < nbf
    {
        return Err(ClaimError::NotYetValid);
    }

    match numeric_date(claims, "iat")? {
        Some(iat) => {
            if iat > now.saturating_add(leeway) {
                return Err(ClaimError::IssuedInFuture);
            }
            if let Some(max_age) = checks.max_age
                && now.saturating_sub(iat) > max_age.saturating_add(leeway)
            {
                return Err(ClaimError::TooOld);
            }
        }
        None if checks.require_iat || checks.max_age.is_some() => {
            return Err(ClaimError::Missing("iat"));
        }
        None => {}
    }

    if let Some(expected) = checks.issuer {
        match claims.get("iss") {
            None => return Err(ClaimError::Missing("iss")),
            Some(Value::String(iss)) if iss == expected => {}
            Some(Value::String(_)) => return Err(ClaimError::WrongIssuer),
            Some(_) => return Err(ClaimError::Invalid("iss")),
        }
    }

    if let Some(expected) = checks.audience {
        match claims.get("aud") {
            None => return Err(ClaimError::Missing("aud")),
            Some(Value::String(aud)) => {
                if aud != expected {
                    return Err(ClaimError::WrongAudience);
                }
            }
            Some(Value::Array(auds)) => {
                let mut found = false;
                for aud in auds {
                    match aud {
                        Value::String(a) => found |= a == expected,
                        _ => return Err(ClaimError::Invalid("aud")),
                    }
                }
                if !found {
                    return Err(ClaimError::WrongAudience);
                }
            }
            Some(_) => return Err(ClaimError::Invalid("aud")),
        }
    }
    Ok(())
}
