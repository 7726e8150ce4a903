//! Wire pieces every v3.1.11 PIS resource shares: date-times with an explicit offset (RW §Date
//! Formats), `Links`, `Meta`, the debtor block, status names, and JSON responses with a status.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bascule_domain::{ConsentStatus, SortCodeAccountNumber};
use serde::{Serialize, Serializer};
use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

use crate::Pisp;
use crate::initiation::{CashAccount, SORT_CODE_ACCOUNT_NUMBER};

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

/// `Links`: `Self` only, absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Links {
    #[serde(rename = "Self")]
    pub self_: String,
}

impl Links {
    pub fn to(pisp: &Pisp, path_under_base: &str) -> Self {
        Links {
            self_: pisp.url(&format!("{}{path_under_base}", super::BASE)),
        }
    }
}

/// `Meta`: empty for PIS resources.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Meta {}

/// v3.1.11 consent statuses (`AwaitingAuthorisation|Authorised|Rejected|Consumed`): a consent
/// that expired waiting, or was revoked, reads Rejected; one that expired authorised but
/// unused reads Rejected too (it can no longer be used).
pub fn consent_status(status: ConsentStatus) -> &'static str {
    match status {
        ConsentStatus::AwaitingAuthorisation => "AwaitingAuthorisation",
        ConsentStatus::Authorised => "Authorised",
        ConsentStatus::Consumed => "Consumed",
        ConsentStatus::Rejected | ConsentStatus::Revoked | ConsentStatus::Expired => "Rejected",
    }
}

/// `OBCashAccountDebtor4` for the account the customer chose.
pub fn debtor(id: &SortCodeAccountNumber, name: Option<String>) -> CashAccount {
    CashAccount {
        scheme_name: SORT_CODE_ACCOUNT_NUMBER.into(),
        identification: id.to_string(),
        name,
        secondary_identification: None,
    }
}

/// A JSON body with a status, serialised once (the bytes that get signed).
pub struct JsonWithStatus(pub StatusCode, pub String);

impl IntoResponse for JsonWithStatus {
    fn into_response(self) -> Response {
        (self.0, [(header::CONTENT_TYPE, "application/json")], self.1).into_response()
    }
}

pub fn to_json<T: Serialize>(value: &T) -> Result<String, bascule_http::Error> {
    serde_json::to_string(value).map_err(bascule_http::Error::internal)
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
}
