//! `/funds-confirmations` (v3.1.11): POST with the customer-authorised token of a
//! funds-confirmation consent and an `OBFundsConfirmation1` body → 201
//! `OBFundsConfirmationResponse1` with `FundsAvailable` true or false
//! (RES/cbpii/funds-confirmation). The spec defines no GET: `Links.Self` names the
//! confirmation as the OB examples do.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use bascule_api_kit::body::{self, field_error, text};
use bascule_api_kit::{Amount as WireAmount, DateTime, Links, Meta};
use bascule_domain::{Amount, Currency};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};

use super::BASE;
use crate::{Cbpii, FundsAccess, FundsCheck, FundsConfirmation};

pub(super) fn routes() -> Router<Cbpii> {
    Router::new().route("/funds-confirmations", post(create))
}

/// `OBFundsConfirmation1`, every object closed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObFundsConfirmation1 {
    data: ConfirmationRequestData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConfirmationRequestData {
    consent_id: String,
    reference: String,
    instructed_amount: WireAmount,
}

/// `OBFundsConfirmationResponse1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmationResponse {
    data: ConfirmationData,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConfirmationData {
    funds_confirmation_id: String,
    consent_id: String,
    creation_date_time: DateTime,
    funds_available: bool,
    reference: String,
    instructed_amount: WireAmount,
}

fn response(cbpii: &Cbpii, c: &FundsConfirmation) -> ConfirmationResponse {
    ConfirmationResponse {
        data: ConfirmationData {
            funds_confirmation_id: c.id.clone(),
            consent_id: c.consent_id.clone(),
            creation_date_time: c.created_at.into(),
            funds_available: c.funds_available,
            reference: c.reference.clone(),
            instructed_amount: WireAmount {
                amount: c.amount.to_string(),
                currency: c.currency.as_str().to_owned(),
            },
        },
        links: Links::to(cbpii, &format!("{BASE}/funds-confirmations/{}", c.id)),
        meta: Meta::default(),
    }
}

/// `OBFundsConfirmation1` as (ConsentId, the service's request), or 400 with the OB code and
/// path of the first problem.
fn parse_request(raw: &[u8]) -> Result<(String, FundsCheck), Error> {
    let request: ObFundsConfirmation1 = body::parse(raw, "OBFundsConfirmation1")?;
    let data = request.data;
    text(&data.consent_id, 128, "Data.ConsentId")?;
    text(&data.reference, 35, "Data.Reference")?;
    fn invalid(path: &'static str) -> impl Fn(bascule_domain::InvalidAmount) -> Error {
        move |e| field_error(ObErrorCode::FieldInvalid, e.to_string(), path)
    }
    const AMOUNT: &str = "Data.InstructedAmount.Amount";
    let amount = Amount::parse(text(&data.instructed_amount.amount, usize::MAX, AMOUNT)?)
        .map_err(invalid(AMOUNT))?;
    const CURRENCY: &str = "Data.InstructedAmount.Currency";
    let currency = Currency::parse(text(
        &data.instructed_amount.currency,
        usize::MAX,
        CURRENCY,
    )?)
    .map_err(invalid(CURRENCY))?;
    Ok((
        data.consent_id,
        FundsCheck {
            reference: data.reference,
            amount,
            currency,
        },
    ))
}

async fn create(
    State(cbpii): State<Cbpii>,
    access: FundsAccess,
    body: Bytes,
) -> Result<impl IntoResponse, Error> {
    let (consent_id, check) = parse_request(&body)?;
    if consent_id != access.consent.id.as_str() {
        // Another client's consent is 403 (RW §403); any other id is not this token's consent.
        cbpii
            .consent_of_client(access.token.client_id(), &consent_id)
            .await
            .map(|_| ())
            .or_else(|e| match e {
                Error::Forbidden(_) => Err(e),
                _ => Ok(()),
            })?;
        return Err(field_error(
            ObErrorCode::ResourceConsentMismatch,
            "Data.ConsentId is not the consent the access token was issued for",
            "Data.ConsentId",
        ));
    }
    let confirmation = cbpii
        .confirm_funds(&access.consent, &access.details, &check)
        .await?;
    Ok((StatusCode::CREATED, Json(response(&cbpii, &confirmation))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(e: Error) -> (&'static str, Option<String>) {
        match e {
            Error::BadRequest(d) => (d[0].code.as_str(), d[0].path.clone()),
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_parses() {
        let (id, check) = parse_request(
            br#"{"Data":{"ConsentId":"c-1","Reference":"Purchase01",
                "InstructedAmount":{"Amount":"20.5","Currency":"GBP"}}}"#,
        )
        .unwrap();
        assert_eq!(id, "c-1");
        assert_eq!(check.reference, "Purchase01");
        assert_eq!(check.amount.to_string(), "20.50");
        assert_eq!(check.currency, Currency::GBP);
    }

    #[test]
    fn each_defect_gets_its_code_and_path() {
        let cases: [(&str, &str, Option<&str>); 9] = [
            ("nope", "UK.OBIE.Resource.InvalidFormat", None),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"r","InstructedAmount":{"Amount":"1","Currency":"GBP"}},"Risk":{}}"#,
                "UK.OBIE.Field.Unexpected",
                Some("Risk"),
            ),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"r","InstructedAmount":{"Amount":"1","Currency":"GBP","X":1}}}"#,
                "UK.OBIE.Field.Unexpected",
                Some("Data.InstructedAmount.X"),
            ),
            (
                r#"{"Data":{"Reference":"r","InstructedAmount":{"Amount":"1","Currency":"GBP"}}}"#,
                "UK.OBIE.Field.Missing",
                Some("Data.ConsentId"),
            ),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"r","InstructedAmount":{"Currency":"GBP"}}}"#,
                "UK.OBIE.Field.Missing",
                Some("Data.InstructedAmount.Amount"),
            ),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"0123456789012345678901234567890123456","InstructedAmount":{"Amount":"1","Currency":"GBP"}}}"#,
                "UK.OBIE.Field.Invalid",
                Some("Data.Reference"),
            ),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"r","InstructedAmount":{"Amount":"-1","Currency":"GBP"}}}"#,
                "UK.OBIE.Field.Invalid",
                Some("Data.InstructedAmount.Amount"),
            ),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"r","InstructedAmount":{"Amount":1,"Currency":"GBP"}}}"#,
                "UK.OBIE.Field.Invalid",
                Some("Data.InstructedAmount.Amount"),
            ),
            (
                r#"{"Data":{"ConsentId":"c","Reference":"r","InstructedAmount":{"Amount":"1","Currency":"gbp"}}}"#,
                "UK.OBIE.Field.Invalid",
                Some("Data.InstructedAmount.Currency"),
            ),
        ];
        for (body, code, path) in cases {
            let e = parse_request(body.as_bytes()).unwrap_err();
            assert_eq!(code_of(e), (code, path.map(str::to_owned)), "{body}");
        }
    }
}
