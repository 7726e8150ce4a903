//! `/account-access-consents` (v3.1.11): POST with a client-credentials token and an
//! `OBReadConsent1` body → 201 `OBReadConsentResponse1`; GET and DELETE of one consent by the
//! client that created it (RES/aisp/account-access-consents).

use axum::Router;
use bascule_api_kit::body::{self, field_error};
use bascule_api_kit::v3_1_11::access_consent_status;
use bascule_api_kit::{ConsentEndpoints, consent_routes};
use bascule_authz::AccessToken;
use bascule_domain::aisp::{AccountAccessConsent, ConsentRequestError, Permission};
use bascule_domain::{Consent, ConsentKind};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};

use super::BASE;
use super::wire::{DateTime, Links, Meta, parse_body_datetime};
use crate::Aisp;

pub(super) fn routes() -> Router<Aisp> {
    consent_routes::<Consents>("/account-access-consents")
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

fn response(
    aisp: &Aisp,
    consent: &Consent,
    details: &AccountAccessConsent,
) -> ObReadConsentResponse1 {
    ObReadConsentResponse1 {
        data: ConsentResponseData {
            consent_id: consent.id.to_string(),
            creation_date_time: consent.created_at.into(),
            status: access_consent_status(consent),
            status_update_date_time: consent.status_updated_at.into(),
            permissions: details.permissions.iter().map(Permission::as_str).collect(),
            expiration_date_time: details.expiration.map(DateTime),
            transaction_from_date_time: details.transaction_from.map(DateTime),
            transaction_to_date_time: details.transaction_to.map(DateTime),
        },
        risk: ObRisk2::default(),
        links: Links::to(
            aisp,
            &format!("{BASE}/account-access-consents/{}", consent.id),
        ),
        meta: Meta::default(),
    }
}

/// The body as the domain's consent request, or 400 with the OB code of the first problem.
fn parse_request(body: &[u8], now: time::OffsetDateTime) -> Result<AccountAccessConsent, Error> {
    let request: ObReadConsent1 = body::parse(body, "OBReadConsent1")?;
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

/// `/account-access-consents` of v3.1.11.
struct Consents;

impl ConsentEndpoints for Consents {
    type State = Aisp;
    type Client = AccessToken;
    type Details = AccountAccessConsent;
    type Response = ObReadConsentResponse1;

    fn client_id(token: &AccessToken) -> Result<&str, Error> {
        Ok(token.client_credentials(ConsentKind::AccountAccess.scope())?)
    }

    fn parse(aisp: &Aisp, body: &[u8]) -> Result<AccountAccessConsent, Error> {
        parse_request(body, aisp.now())
    }

    async fn create(
        aisp: &Aisp,
        client_id: &str,
        details: &AccountAccessConsent,
    ) -> Result<Consent, Error> {
        aisp.create_consent(client_id, details).await
    }

    async fn read(
        aisp: &Aisp,
        client_id: &str,
        consent_id: &str,
    ) -> Result<(Consent, AccountAccessConsent), Error> {
        aisp.consent_of_client(client_id, consent_id).await
    }

    async fn delete(aisp: &Aisp, client_id: &str, consent_id: &str) -> Result<(), Error> {
        aisp.delete_consent(client_id, consent_id).await
    }

    fn render(
        aisp: &Aisp,
        consent: &Consent,
        details: &AccountAccessConsent,
    ) -> ObReadConsentResponse1 {
        response(aisp, consent, details)
    }
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
