//! Wire pieces every v3.1.11 resource shares: `Links`, `Meta`, date-times with an explicit
//! offset (RW §Date Formats: `2017-04-05T10:43:07+00:00`), amounts, account identifications,
//! and the `{Data, Links, Meta}` envelope.

use axum::http::Uri;
use bascule_domain::{Currency, Pence, SortCodeAccountNumber};
use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use serde::{Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::Aisp;

const WIRE_FORMAT: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);

/// A date-time rendered in UTC with an explicit `+00:00` offset, seconds precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub OffsetDateTime);

impl DateTime {
    pub fn render(&self) -> String {
        self.0
            .to_offset(UtcOffset::UTC)
            .format(WIRE_FORMAT)
            .unwrap_or_default()
    }
}

impl From<OffsetDateTime> for DateTime {
    fn from(t: OffsetDateTime) -> Self {
        DateTime(t)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.render())
    }
}

/// An ISO 8601 date-time from a request body (RW §Date Formats: accept all variants): RFC 3339,
/// or without an offset (read as UTC). Anything else is 400 `UK.OBIE.Field.InvalidDate` at
/// `path`.
pub fn parse_body_datetime(raw: &str, path: &str) -> Result<OffsetDateTime, Error> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t);
    }
    if let Ok(t) = OffsetDateTime::parse(raw, &Iso8601::DEFAULT) {
        return Ok(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(raw, &Iso8601::DEFAULT) {
        return Ok(t.assume_utc());
    }
    Err(Error::BadRequest(vec![
        ObErrorDetail::new(
            ObErrorCode::FieldInvalidDate,
            format!("{path} must be an ISO 8601 date-time"),
        )
        .at(path),
    ]))
}

/// A query-string date-time (RW §Date Formats: no timezone; one sent is ignored and the time
/// read as the bank's, UTC). 400 `UK.OBIE.Field.InvalidDate` otherwise.
pub fn parse_query_datetime(raw: &str, name: &str) -> Result<OffsetDateTime, Error> {
    use time::format_description::well_known::Iso8601;
    let local = raw
        .get(..19)
        .filter(|_| raw.len() >= 19)
        .and_then(|s| PrimitiveDateTime::parse(s, &Iso8601::DEFAULT).ok());
    local.map(PrimitiveDateTime::assume_utc).ok_or_else(|| {
        Error::BadRequest(vec![
            ObErrorDetail::new(
                ObErrorCode::FieldInvalidDate,
                format!("{name} must be an ISO 8601 date-time, e.g. 2017-04-05T10:43:07"),
            )
            .at(name),
        ])
    })
}

/// `OBActiveOrHistoricCurrencyAndAmount`: an unsigned decimal string and a currency; the sign
/// travels in a `CreditDebitIndicator` beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Amount {
    pub amount: String,
    pub currency: String,
}

impl Amount {
    pub fn of(pence: Pence, currency: Currency) -> Self {
        Amount {
            amount: pence.abs().to_amount().to_string(),
            currency: currency.as_str().to_owned(),
        }
    }
}

/// `OBCreditDebitCode`: a zero amount is a credit (AIS `OBCreditDebitCode_0`).
pub fn credit_debit(pence: Pence) -> &'static str {
    if pence.is_negative() {
        "Debit"
    } else {
        "Credit"
    }
}

/// `OBCashAccount` as the AIS resources show an account's identification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CashAccount {
    pub scheme_name: String,
    pub identification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_identification: Option<String>,
}

impl CashAccount {
    pub fn sort_code_account_number(id: &SortCodeAccountNumber, name: Option<String>) -> Self {
        CashAccount {
            scheme_name: "UK.OBIE.SortCodeAccountNumber".into(),
            identification: id.to_string(),
            name,
            secondary_identification: None,
        }
    }
}

/// `Links` (RW §Links): `Self` always, absolute; the others for pagination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Links {
    #[serde(rename = "Self")]
    pub self_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
}

impl Links {
    /// Only `Self`: the absolute URL of the request as made.
    pub fn to_self(aisp: &Aisp, uri: &Uri) -> Self {
        let path = uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or_else(|| uri.path());
        Links {
            self_: aisp.url(path),
            first: None,
            prev: None,
            next: None,
            last: None,
        }
    }
}

/// `Meta` (AISP §Using Meta). Empty (`{}`) unless a resource has pages or a date range.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_pages: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_available_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_available_date_time: Option<DateTime>,
}

/// The response envelope `{Data, Links, Meta}` every AIS read returns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope<T: Serialize> {
    pub data: T,
    pub links: Links,
    pub meta: Meta,
}

impl<T: Serialize> Envelope<T> {
    /// A one-page answer to the request `uri`.
    pub fn single(aisp: &Aisp, uri: &Uri, data: T) -> Self {
        Envelope {
            data,
            links: Links::to_self(aisp, uri),
            meta: Meta::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn date_times_carry_an_explicit_utc_offset() {
        let t = datetime!(2026-01-05 09:00:07.123 +01:00);
        assert_eq!(DateTime(t).render(), "2026-01-05T08:00:07+00:00");
    }

    #[test]
    fn body_date_times_accept_iso_variants() {
        for ok in [
            "2026-01-05T09:00:00+00:00",
            "2026-01-05T09:00:00Z",
            "2026-01-05T09:00:00.123+01:00",
            "2026-01-05T09:00:00",
        ] {
            assert!(parse_body_datetime(ok, "Data.X").is_ok(), "{ok}");
        }
        for bad in ["2026-01-05", "yesterday", "2026-13-05T09:00:00Z"] {
            assert!(parse_body_datetime(bad, "Data.X").is_err(), "{bad}");
        }
    }

    #[test]
    fn query_date_times_ignore_any_offset() {
        let expected = datetime!(2026-01-05 09:00 UTC);
        assert_eq!(
            parse_query_datetime("2026-01-05T09:00:00", "fromBookingDateTime").ok(),
            Some(expected)
        );
        assert_eq!(
            parse_query_datetime("2026-01-05T09:00:00+05:00", "fromBookingDateTime").ok(),
            Some(expected)
        );
        assert!(parse_query_datetime("2026-01-05", "fromBookingDateTime").is_err());
    }

    #[test]
    fn amounts_are_unsigned_and_zero_is_credit() {
        let gbp = Currency::parse("GBP").unwrap();
        assert_eq!(Amount::of(Pence(-1234), gbp).amount, "12.34");
        assert_eq!(credit_debit(Pence(0)), "Credit");
        assert_eq!(credit_debit(Pence(-1)), "Debit");
    }
}
