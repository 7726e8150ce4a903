//! Wire pieces every v3.1.11 PIS resource shares: from the API kit date-times (RW §Date
//! Formats), `Links`, `Meta` and the consent status names; here the debtor block and JSON
//! responses with a status.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bascule_domain::SortCodeAccountNumber;
use serde::Serialize;

pub use bascule_api_kit::v3_1_11::payment_consent_status as consent_status;
pub use bascule_api_kit::{DateTime, Links, Meta};

use crate::Pisp;
use crate::initiation::{CashAccount, SORT_CODE_ACCOUNT_NUMBER};

/// PIS handlers name their resources under the served version's base
/// (`Links::to(pisp, "/domestic-payments/{id}")`).
impl bascule_api_kit::LinkBase for Pisp {
    fn public_url(&self) -> &str {
        &self.config().public_url
    }

    fn link_base(&self) -> &str {
        super::BASE
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
