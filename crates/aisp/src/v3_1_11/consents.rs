//! `/account-access-consents` (v3.1.11): POST with a client-credentials token and an
//! `OBReadConsent1` body → 201 `OBReadConsentResponse1`; GET and DELETE of one consent by the
//! client that created it (RES/aisp/account-access-consents).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bascule_authz::AccessToken;
use bascule_domain::aisp::{AccountAccessConsent, ConsentRequestError, Permission};
use bascule_domain::{Consent, ConsentKind, ConsentStatus};
use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use serde::{Deserialize, Serialize};

use super::BASE;
use super::wire::{DateTime, Links, Meta, parse_body_datetime};
use crate::Aisp;

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/account-access-consents", post(create))
        .route(
            "/account-access-consents/{ConsentId}",
            get(read).delete(delete),
        )
}

/// `OBReadConsent1`. The schema closes the top level and `Risk`; `Data` is closed here too, so
/// a misspelt `ExpirationDateTime` is refused rather than silently making an open-ended
/// consent.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObReadConsent1 {
    data: ConsentRequestData,
    #[allow(dead_code)]
    risk: ObRisk2,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConsentRequestData {
    permissions: Vec<String>,
    expiration_date_time: Option<String>,
    transaction_from_date_time: Option<String>,
    transaction_to_date_time: Option<String>,
}

/// `OBRisk2`: an empty object, nothing else allowed.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct ObRisk2 {}

/// `OBReadConsentResponse1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObReadConsentResponse1 {
    data: ConsentResponseData,
    risk: ObRisk2,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponseData {
    consent_id: String,
    creation_date_time: DateTime,
    status: &'static str,
    status_update_date_time: DateTime,
    permissions: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_from_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_to_date_time: Option<DateTime>,
}

/// v3.1.11's four statuses. It has no Expired: a consent that expired after authorisation still
/// reads Authorised (its ExpirationDateTime tells), one that expired waiting reads Rejected.
fn status(consent: &Consent) -> &'static str {
    match consent.status {
        ConsentStatus::AwaitingAuthorisation => "AwaitingAuthorisation",
        ConsentStatus::Authorised => "Authorised",
        ConsentStatus::Rejected => "Rejected",
        ConsentStatus::Revoked | ConsentStatus::Consumed => "Revoked",
        ConsentStatus::Expired if consent.authorised_at.is_some() => "Authorised",
        ConsentStatus::Expired => "Rejected",
    }
}

fn response(
    aisp: &Aisp,
    consent: &Consent,
    details: &AccountAccessConsent,
) -> ObReadConsentResponse1 {
    let self_url = aisp.url(&format!("{BASE}/account-access-consents/{}", consent.id));
    ObReadConsentResponse1 {
        data: ConsentResponseData {
            consent_id: consent.id.to_string(),
            creation_date_time: consent.created_at.into(),
            status: status(consent),
            status_update_date_time: consent.status_updated_at.into(),
            permissions: details.permissions.iter().map(Permission::as_str).collect(),
            expiration_date_time: details.expiration.map(DateTime),
            transaction_from_date_time: details.transaction_from.map(DateTime),
            transaction_to_date_time: details.transaction_to.map(DateTime),
        },
        risk: ObRisk2::default(),
        links: Links {
            self_: self_url,
            first: None,
            prev: None,
            next: None,
            last: None,
        },
        meta: Meta::default(),
    }
}

fn field_error(code: ObErrorCode, message: impl Into<String>, path: &str) -> Error {
    Error::BadRequest(vec![ObErrorDetail::new(code, message).at(path)])
}

/// The body as the domain's consent request, or 400 with the OB code of the first problem.
fn parse_request(body: &[u8], now: time::OffsetDateTime) -> Result<AccountAccessConsent, Error> {
    let request: ObReadConsent1 = serde_json::from_slice(body).map_err(|e| {
        let message = e.to_string();
        if e.is_syntax() || e.is_eof() {
            Error::bad_request(
                ObErrorCode::ResourceInvalidFormat,
                "The body is not valid JSON",
            )
        } else if let Some(rest) = message.strip_prefix("unknown field `") {
            let field = rest.split('`').next().unwrap_or("");
            field_error(
                ObErrorCode::FieldUnexpected,
                format!("Unexpected field {field}"),
                field,
            )
        } else if let Some(rest) = message.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or("");
            field_error(
                ObErrorCode::FieldMissing,
                format!("Missing field {field}"),
                field,
            )
        } else {
            Error::bad_request(
                ObErrorCode::FieldInvalid,
                "The body does not match OBReadConsent1",
            )
        }
    })?;
    let data = request.data;
    let mut permissions = Vec::with_capacity(data.permissions.len());
    for raw in &data.permissions {
        permissions.push(Permission::parse(raw).ok_or_else(|| {
            field_error(
                ObErrorCode::FieldInvalid,
                format!("Unknown permission {raw}"),
                "Data.Permissions",
            )
        })?);
    }
    let date = |raw: &Option<String>, path: &str| {
        raw.as_deref()
            .map(|r| parse_body_datetime(r, path))
            .transpose()
    };
    let expiration = date(&data.expiration_date_time, "Data.ExpirationDateTime")?;
    let from = date(
        &data.transaction_from_date_time,
        "Data.TransactionFromDateTime",
    )?;
    let to = date(&data.transaction_to_date_time, "Data.TransactionToDateTime")?;
    AccountAccessConsent::new(permissions, expiration, from, to, now).map_err(|e| {
        let path = match &e {
            ConsentRequestError::Permissions(_) => "Data.Permissions",
            ConsentRequestError::Window(w) => match w {
                bascule_domain::aisp::ConsentWindowError::ExpiryNotInFuture => {
                    "Data.ExpirationDateTime"
                }
                bascule_domain::aisp::ConsentWindowError::TransactionWindowReversed => {
                    "Data.TransactionFromDateTime"
                }
            },
        };
        field_error(ObErrorCode::FieldInvalid, e.to_string(), path)
    })
}

async fn create(
    State(aisp): State<Aisp>,
    token: AccessToken,
    body: Bytes,
) -> Result<impl IntoResponse, Error> {
    let client_id = token.client_credentials(ConsentKind::AccountAccess.scope())?;
    let details = parse_request(&body, aisp.now())?;
    let consent = aisp.create_consent(client_id, &details).await?;
    Ok((
        StatusCode::CREATED,
        Json(response(&aisp, &consent, &details)),
    ))
}

async fn read(
    State(aisp): State<Aisp>,
    token: AccessToken,
    Path(consent_id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let client_id = token.client_credentials(ConsentKind::AccountAccess.scope())?;
    let (consent, details) = aisp.consent_of_client(client_id, &consent_id).await?;
    Ok(Json(response(&aisp, &consent, &details)))
}

async fn delete(
    State(aisp): State<Aisp>,
    token: AccessToken,
    Path(consent_id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let client_id = token.client_credentials(ConsentKind::AccountAccess.scope())?;
    aisp.delete_consent(client_id, &consent_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: time::OffsetDateTime = datetime!(2026-01-05 09:00 UTC);

    fn code_of(e: Error) -> (&'static str, Option<String>) {
        match e {
            Error::BadRequest(d) => (d[0].code.as_str(), d[0].path.clone()),
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_becomes_a_consent() {
        let c = parse_request(
            br#"{"Data":{"Permissions":["ReadAccountsDetail","ReadBalances"],
                "ExpirationDateTime":"2026-04-05T09:00:00+00:00"},"Risk":{}}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(c.expiration, Some(datetime!(2026-04-05 09:00 UTC)));
        assert_eq!(c.permissions.len(), 2);
    }

    #[test]
    fn each_defect_gets_its_code() {
        let cases: [(&[u8], &str); 7] = [
            (b"{", "UK.OBIE.Resource.InvalidFormat"),
            (
                br#"{"Data":{"Permissions":["ReadAccountsBasic"]},"Risk":{},"Extra":1}"#,
                "UK.OBIE.Field.Unexpected",
            ),
            (
                br#"{"Data":{"Permissions":["ReadAccountsBasic"]},"Risk":{"X":1}}"#,
                "UK.OBIE.Field.Unexpected",
            ),
            (br#"{"Data":{"Permissions":["ReadAccountsBasic"]}}"#, "UK.OBIE.Field.Missing"),
            (
                br#"{"Data":{"Permissions":["ReadEverything"]},"Risk":{}}"#,
                "UK.OBIE.Field.Invalid",
            ),
            (
                br#"{"Data":{"Permissions":["ReadAccountsBasic","ReadTransactionsBasic"]},"Risk":{}}"#,
                "UK.OBIE.Field.Invalid",
            ),
            (
                br#"{"Data":{"Permissions":["ReadAccountsBasic"],"ExpirationDateTime":"soon"},"Risk":{}}"#,
                "UK.OBIE.Field.InvalidDate",
            ),
        ];
        for (body, code) in cases {
            let e = parse_request(body, NOW).unwrap_err();
            assert_eq!(code_of(e).0, code, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn an_expiry_in_the_past_is_refused_on_its_field() {
        let e = parse_request(
            br#"{"Data":{"Permissions":["ReadAccountsBasic"],"ExpirationDateTime":"2026-01-05T08:59:59Z"},"Risk":{}}"#,
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            code_of(e),
            (
                "UK.OBIE.Field.Invalid",
                Some("Data.ExpirationDateTime".into())
            )
        );
    }
}
