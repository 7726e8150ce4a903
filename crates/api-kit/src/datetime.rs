//! Date-times on the wire (RW §Date Formats): rendered in UTC with an explicit `+00:00`
//! offset, read from request bodies in any ISO 8601 variant.

use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use serde::{Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

const WIRE_FORMAT: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);

/// A date-time rendered in UTC with an explicit `+00:00` offset, seconds precision
/// (`2017-04-05T10:43:07+00:00`).
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

fn invalid_date(message: String, path: &str) -> Error {
    Error::BadRequest(vec![
        ObErrorDetail::new(ObErrorCode::FieldInvalidDate, message).at(path),
    ])
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
    Err(invalid_date(
        format!("{path} must be an ISO 8601 date-time"),
        path,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn date_times_carry_an_explicit_utc_offset() {
        let t = datetime!(2026-01-05 09:00:07.123 +01:00);
        assert_eq!(DateTime(t).render(), "2026-01-05T08:00:07+00:00");
        assert_eq!(
            serde_json::to_string(&DateTime(t)).unwrap(),
            "\"2026-01-05T08:00:07+00:00\""
        );
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
            match parse_body_datetime(bad, "Data.X") {
                Err(Error::BadRequest(d)) => {
                    assert_eq!(d[0].code, ObErrorCode::FieldInvalidDate, "{bad}");
                    assert_eq!(d[0].path.as_deref(), Some("Data.X"), "{bad}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
