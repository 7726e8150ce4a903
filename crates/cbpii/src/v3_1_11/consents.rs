//! `/funds-confirmation-consents` (v3.1.11): POST with a client-credentials token and an
//! `OBFundsConfirmationConsent1` body → 201 `OBFundsConfirmationConsentResponse1`; GET and
//! DELETE of one consent by the client that created it (RES/cbpii/funds-confirmation-consent).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use bascule_authz::AccessToken;
use bascule_domain::{Consent, ConsentKind, ConsentStatus, SortCodeAccountNumber};
use bascule_http::{Error, ObErrorCode};
use serde::Serialize;
use time::OffsetDateTime;

use super::BASE;
use super::wire::{DateTime, Links, Meta, parse_body_datetime};
use crate::Cbpii;
use crate::body::{self, Object, field_error};
use crate::consents::{DebtorAccount, FundsConfirmationConsent};

pub(super) fn routes() -> Router<Cbpii> {
    Router::new()
        .route("/funds-confirmation-consents", post(create))
        .route(
            "/funds-confirmation-consents/{ConsentId}",
            get(read).delete(delete),
        )
}

const SCAN: &str = "UK.OBIE.SortCodeAccountNumber";
/// The other schemes `OBFundsConfirmationConsent1` names: valid, but no Bascule account has one.
const OTHER_SCHEMES: [&str; 5] = [
    "UK.OBIE.BBAN",
    "UK.OBIE.IBAN",
    "UK.OBIE.PAN",
    "UK.OBIE.Paym",
    "UK.OBIE.Wallet",
];

/// `OBFundsConfirmationConsentResponse1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponse {
    data: ConsentResponseData,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_date_time: Option<DateTime>,
    debtor_account: WireDebtorAccount,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct WireDebtorAccount {
    scheme_name: &'static str,
    identification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
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
    cbpii: &Cbpii,
    consent: &Consent,
    details: &FundsConfirmationConsent,
) -> ConsentResponse {
    ConsentResponse {
        data: ConsentResponseData {
            consent_id: consent.id.to_string(),
            creation_date_time: consent.created_at.into(),
            status: status(consent),
            status_update_date_time: consent.status_updated_at.into(),
            expiration_date_time: details.expiration.map(DateTime),
            debtor_account: WireDebtorAccount {
                scheme_name: SCAN,
                identification: details.debtor_account.identification.to_string(),
                name: details.debtor_account.name.clone(),
            },
        },
        links: Links::to(
            cbpii,
            &format!("{BASE}/funds-confirmation-consents/{}", consent.id),
        ),
        meta: Meta::default(),
    }
}

/// `OBFundsConfirmationConsent1` as the service's request, or 400 with the OB code and path of
/// the first problem.
fn parse_request(raw: &[u8], now: OffsetDateTime) -> Result<FundsConfirmationConsent, Error> {
    let map = body::parse(raw, "OBFundsConfirmationConsent1")?;
    let top = Object::closed(&map, "", &["Data"], &["Data"])?;
    let data = top.required_object(
        "Data",
        &["DebtorAccount", "ExpirationDateTime"],
        &["DebtorAccount"],
    )?;
    let account = data.required_object(
        "DebtorAccount",
        &[
            "SchemeName",
            "Identification",
            "Name",
            "SecondaryIdentification",
        ],
        &["SchemeName", "Identification"],
    )?;
    let scheme = account.required_string("SchemeName", 1, usize::MAX)?;
    let identification = account.required_string("Identification", 1, 256)?;
    let name = account.string("Name", 1, 350)?;
    let secondary = account.string("SecondaryIdentification", 1, 34)?;
    if scheme != SCAN {
        let known = OTHER_SCHEMES.contains(&scheme);
        return Err(Error::BadRequest(vec![
            bascule_http::ObErrorDetail::new(
                ObErrorCode::UnsupportedScheme,
                if known {
                    format!("{scheme} is not supported: accounts here are identified by {SCAN}")
                } else {
                    format!("Unknown scheme {scheme}: accounts here are identified by {SCAN}")
                },
            )
            .at(account.path_of("SchemeName")),
        ]));
    }
    let identification = SortCodeAccountNumber::parse(identification).map_err(|_| {
        field_error(
            ObErrorCode::UnsupportedAccountIdentifier,
            "A UK.OBIE.SortCodeAccountNumber identification is 14 digits: the 6-digit sort code \
             then the 8-digit account number",
            &account.path_of("Identification"),
        )
    })?;
    if secondary.is_some() {
        // No Bascule account has a roll number: a consent naming one names no account here.
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Accounts here have no secondary identification",
            &account.path_of("SecondaryIdentification"),
        ));
    }
    let expiration = match data.string("ExpirationDateTime", 1, usize::MAX)? {
        Some(raw) => {
            let path = data.path_of("ExpirationDateTime");
            let at = parse_body_datetime(raw, &path)?;
            if at <= now {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    "ExpirationDateTime must be in the future",
                    &path,
                ));
            }
            Some(at)
        }
        None => None,
    };
    Ok(FundsConfirmationConsent {
        debtor_account: DebtorAccount {
            identification,
            name: name.map(str::to_owned),
        },
        expiration,
    })
}

async fn create(
    State(cbpii): State<Cbpii>,
    token: AccessToken,
    body: Bytes,
) -> Result<impl IntoResponse, Error> {
    let client_id = token.client_credentials(ConsentKind::FundsConfirmation.scope())?;
    let request = parse_request(&body, cbpii.now())?;
    let consent = cbpii.create_consent(client_id, &request).await?;
    Ok((
        StatusCode::CREATED,
        Json(response(&cbpii, &consent, &request)),
    ))
}

async fn read(
    State(cbpii): State<Cbpii>,
    token: AccessToken,
    Path(consent_id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let client_id = token.client_credentials(ConsentKind::FundsConfirmation.scope())?;
    let (consent, details) = cbpii.consent_of_client(client_id, &consent_id).await?;
    Ok(Json(response(&cbpii, &consent, &details)))
}

async fn delete(
    State(cbpii): State<Cbpii>,
    token: AccessToken,
    Path(consent_id): Path<String>,
) -> Result<impl IntoResponse, Error> {
    let client_id = token.client_credentials(ConsentKind::FundsConfirmation.scope())?;
    cbpii.delete_consent(client_id, &consent_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-05 09:00 UTC);

    fn code_of(e: Error) -> (&'static str, Option<String>) {
        match e {
            Error::BadRequest(d) => (d[0].code.as_str(), d[0].path.clone()),
            other => panic!("not a 400: {other:?}"),
        }
    }

    #[test]
    fn a_valid_request_becomes_a_consent() {
        let c = parse_request(
            br#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber",
                "Identification":"04999912345678","Name":"G Hopper"},
                "ExpirationDateTime":"2026-04-05T09:00:00+00:00"}}"#,
            NOW,
        )
        .unwrap();
        assert_eq!(c.expiration, Some(datetime!(2026-04-05 09:00 UTC)));
        assert_eq!(
            c.debtor_account.identification.to_string(),
            "04999912345678"
        );
        assert_eq!(c.debtor_account.name.as_deref(), Some("G Hopper"));
    }

    #[test]
    fn each_defect_gets_its_code_and_path() {
        let account = r#""DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"04999912345678"}"#;
        let cases: Vec<(String, &str, Option<&str>)> = vec![
            ("{".into(), "UK.OBIE.Resource.InvalidFormat", None),
            ("[]".into(), "UK.OBIE.Resource.InvalidFormat", None),
            (
                format!(r#"{{"Data":{{{account}}},"Risk":{{}}}}"#),
                "UK.OBIE.Field.Unexpected",
                Some("Risk"),
            ),
            (
                format!(r#"{{"Data":{{{account},"ExpirationDatetime":"2027-01-01T00:00:00Z"}}}}"#),
                "UK.OBIE.Field.Unexpected",
                Some("Data.ExpirationDatetime"),
            ),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"04999912345678","Extra":1}}}"#.into(),
                "UK.OBIE.Field.Unexpected",
                Some("Data.DebtorAccount.Extra"),
            ),
            (r#"{}"#.into(), "UK.OBIE.Field.Missing", Some("Data")),
            (r#"{"Data":{}}"#.into(), "UK.OBIE.Field.Missing", Some("Data.DebtorAccount")),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber"}}}"#.into(),
                "UK.OBIE.Field.Missing",
                Some("Data.DebtorAccount.Identification"),
            ),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.IBAN","Identification":"GB29NWBK60161331926819"}}}"#.into(),
                "UK.OBIE.Unsupported.Scheme",
                Some("Data.DebtorAccount.SchemeName"),
            ),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"0499991234567"}}}"#.into(),
                "UK.OBIE.Unsupported.AccountIdentifier",
                Some("Data.DebtorAccount.Identification"),
            ),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":1}}}"#.into(),
                "UK.OBIE.Field.Invalid",
                Some("Data.DebtorAccount.Identification"),
            ),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"04999912345678","Name":""}}}"#.into(),
                "UK.OBIE.Field.Invalid",
                Some("Data.DebtorAccount.Name"),
            ),
            (
                r#"{"Data":{"DebtorAccount":{"SchemeName":"UK.OBIE.SortCodeAccountNumber","Identification":"04999912345678","SecondaryIdentification":"ROLL1"}}}"#.into(),
                "UK.OBIE.Field.Invalid",
                Some("Data.DebtorAccount.SecondaryIdentification"),
            ),
            (
                format!(r#"{{"Data":{{{account},"ExpirationDateTime":"soon"}}}}"#),
                "UK.OBIE.Field.InvalidDate",
                Some("Data.ExpirationDateTime"),
            ),
            (
                format!(r#"{{"Data":{{{account},"ExpirationDateTime":"2026-01-05T08:59:59Z"}}}}"#),
                "UK.OBIE.Field.Invalid",
                Some("Data.ExpirationDateTime"),
            ),
        ];
        for (body, code, path) in cases {
            let e = parse_request(body.as_bytes(), NOW).unwrap_err();
            assert_eq!(code_of(e), (code, path.map(str::to_owned)), "{body}");
        }
    }
}
