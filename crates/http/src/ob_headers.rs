//! The Open Banking request headers every API route checks before its handler runs
//! (RW §Request Headers): `x-fapi-auth-date` and `x-fapi-customer-ip-address` must be well
//! formed when present (400 `UK.OBIE.Header.Invalid`), `Accept` must allow JSON (406) and a
//! body must be JSON (415); and the `x-idempotency-key` rule of the idempotent POSTs. One copy
//! for the Account, Payment and Funds-Confirmation APIs.

use std::net::IpAddr;

use crate::{Error, ObErrorCode, ObErrorDetail};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const FAPI_AUTH_DATE: &str = "x-fapi-auth-date";
pub const FAPI_CUSTOMER_IP_ADDRESS: &str = "x-fapi-customer-ip-address";
pub const IDEMPOTENCY_KEY: &str = "x-idempotency-key";

pub async fn check_request_headers(request: Request, next: Next) -> Response {
    if let Err(e) = check(request.method(), request.uri().path(), request.headers()) {
        return e.into_response();
    }
    next.run(request).await
}

fn check(method: &Method, path: &str, headers: &HeaderMap) -> Result<(), Error> {
    if let Some(value) = headers.get(FAPI_AUTH_DATE)
        && !value.to_str().is_ok_and(is_fapi_auth_date)
    {
        return Err(header_invalid(
            FAPI_AUTH_DATE,
            "x-fapi-auth-date must be an RFC 7231 date, e.g. Sun, 10 Sep 2017 19:43:31 GMT",
        ));
    }
    customer_ip_address(headers)?;
    // The AIS statement file is served in the format the bank chooses (RES/aisp/statements).
    if !path.ends_with("/file") && !accepts_json(headers) {
        return Err(Error::NotAcceptable);
    }
    if matches!(*method, Method::POST | Method::PUT | Method::PATCH) && !is_json_body(headers) {
        return Err(Error::UnsupportedMediaType);
    }
    Ok(())
}

fn header_invalid(name: &str, message: &str) -> Error {
    Error::BadRequest(vec![
        ObErrorDetail::new(ObErrorCode::HeaderInvalid, message).at(name),
    ])
}

/// The customer's IP address when they are present; `Ok(None)` for an unattended call.
/// The spec's `x-idempotency-key` rule: required, at most 40 characters, matching
/// `^(?!\s)(.*)(\S)$` (no leading or trailing white space, not empty).
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, Error> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Err(Error::BadRequest(vec![
            ObErrorDetail::new(ObErrorCode::HeaderMissing, "x-idempotency-key is required")
                .at(IDEMPOTENCY_KEY),
        ]));
    };
    let key = value.to_str().ok().filter(|k| is_idempotency_key(k));
    key.map(str::to_owned).ok_or_else(|| {
        header_invalid(
            IDEMPOTENCY_KEY,
            "x-idempotency-key must be 1 to 40 characters without leading or trailing white space",
        )
    })
}

fn is_idempotency_key(k: &str) -> bool {
    let n = k.chars().count();
    (1..=40).contains(&n)
        && !k.starts_with(char::is_whitespace)
        && !k.ends_with(char::is_whitespace)
        && !k.contains(['\n', '\r'])
}

pub fn customer_ip_address(headers: &HeaderMap) -> Result<Option<IpAddr>, Error> {
    let Some(value) = headers.get(FAPI_CUSTOMER_IP_ADDRESS) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<IpAddr>().ok())
        .map(Some)
        .ok_or_else(|| {
            header_invalid(
                FAPI_CUSTOMER_IP_ADDRESS,
                "x-fapi-customer-ip-address must be an IPv4 or IPv6 address",
            )
        })
}

/// The spec's pattern: `^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|...|Dec) \d{4}
/// \d{2}:\d{2}:\d{2} (GMT|UTC)$`.
fn is_fapi_auth_date(v: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let Some((day, rest)) = v.split_once(", ") else {
        return false;
    };
    let parts: Vec<&str> = rest.split(' ').collect();
    let [dd, month, year, hms, zone] = parts.as_slice() else {
        return false;
    };
    let clock: Vec<&str> = hms.split(':').collect();
    DAYS.contains(&day)
        && digits(dd, 2)
        && MONTHS.contains(month)
        && digits(year, 4)
        && clock.len() == 3
        && clock.iter().all(|c| digits(c, 2))
        && matches!(*zone, "GMT" | "UTC")
}

/// Whether `Accept` (absent = anything) allows `application/json` (RW §Request Headers).
fn accepts_json(headers: &HeaderMap) -> bool {
    let values: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if values.is_empty() {
        return true;
    }
    values.iter().flat_map(|v| v.split(',')).any(|range| {
        let mut params = range.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let refused = params.any(|p| {
            let p = p.trim().to_ascii_lowercase();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        !refused && matches!(media.as_str(), "application/json" | "application/*" | "*/*")
    })
}

fn is_json_body(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn auth_dates_follow_the_spec_pattern() {
        assert!(is_fapi_auth_date("Sun, 10 Sep 2017 19:43:31 GMT"));
        assert!(is_fapi_auth_date("Mon, 05 Jan 2026 09:00:00 UTC"));
        for bad in [
            "Sun, 10 Sep 2017 19:43:31 BST",
            "Sunday, 10 Sep 2017 19:43:31 GMT",
            "Sun, 1 Sep 2017 19:43:31 GMT",
            "2017-09-10T19:43:31Z",
            "",
        ] {
            assert!(!is_fapi_auth_date(bad), "{bad}");
        }
    }

    #[test]
    fn accept_must_allow_json() {
        assert!(accepts_json(&headers(&[])));
        assert!(accepts_json(&headers(&[("accept", "application/json")])));
        assert!(accepts_json(&headers(&[(
            "accept",
            "text/html, application/json;q=0.5"
        )])));
        assert!(accepts_json(&headers(&[("accept", "*/*")])));
        assert!(!accepts_json(&headers(&[("accept", "application/xml")])));
        assert!(!accepts_json(&headers(&[(
            "accept",
            "application/json;q=0"
        )])));
    }

    #[test]
    fn bodies_must_be_json() {
        assert!(is_json_body(&headers(&[(
            "content-type",
            "application/json; charset=utf-8"
        )])));
        assert!(!is_json_body(&headers(&[("content-type", "text/plain")])));
        assert!(!is_json_body(&headers(&[])));
    }

    #[test]
    fn idempotency_keys_follow_the_spec_pattern() {
        assert!(is_idempotency_key("abc-123"));
        assert!(is_idempotency_key("a b"));
        assert!(is_idempotency_key(&"x".repeat(40)));
        assert!(!is_idempotency_key(&"x".repeat(41)));
        assert!(!is_idempotency_key(" a"));
        assert!(!is_idempotency_key("a "));
        assert!(!is_idempotency_key(""));
        assert!(idempotency_key(&headers(&[])).is_err());
    }

    #[test]
    fn customer_ip_addresses_must_parse() {
        assert!(customer_ip_address(&headers(&[])).is_ok_and(|ip| ip.is_none()));
        assert!(
            customer_ip_address(&headers(&[("x-fapi-customer-ip-address", "2001:db8::1")]))
                .is_ok_and(|ip| ip.is_some())
        );
        assert!(customer_ip_address(&headers(&[("x-fapi-customer-ip-address", "nope")])).is_err());
    }
}
