//! `/funds-confirmation-consents` (v3.1.11): POST with a client-credentials token and an
//! `OBFundsConfirmationConsent1` body → 201 `OBFundsConfirmationConsentResponse1`; GET and
//! DELETE of one consent by the client that created it (RES/cbpii/funds-confirmation-consent).

use axum::Router;
use bascule_api_kit::body::{self, field_error, text};
use bascule_api_kit::v3_1_11::access_consent_status;
use bascule_api_kit::{
    CashAccount, ConsentEndpoints, DateTime, Links, Meta, SORT_CODE_ACCOUNT_NUMBER as SCAN,
    consent_routes, parse_body_datetime,
};
use bascule_authz::AccessToken;
use bascule_domain::{Consent, ConsentKind, SortCodeAccountNumber};
use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::BASE;
use crate::Cbpii;
use crate::consents::{DebtorAccount, FundsConfirmationConsent};

pub(super) fn routes() -> Router<Cbpii> {
    consent_routes::<Consents>("/funds-confirmation-consents")
}

/// The other schemes `OBFundsConfirmationConsent1` names: valid, but no Bascule account has one.
const OTHER_SCHEMES: [&str; 5] = [
    "UK.OBIE.BBAN",
    "UK.OBIE.IBAN",
    "UK.OBIE.PAN",
    "UK.OBIE.Paym",
    "UK.OBIE.Wallet",
];

/// `OBFundsConfirmationConsent1`. The schema closes only its top level; Bascule closes every
/// object, so a misspelt optional field (`ExpirationDatetime`) is refused, not ignored.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObFundsConfirmationConsent1 {
    data: ConsentRequestData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConsentRequestData {
    debtor_account: CashAccount,
    expiration_date_time: Option<String>,
}

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
    debtor_account: CashAccount,
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
            status: access_consent_status(consent),
            status_update_date_time: consent.status_updated_at.into(),
            expiration_date_time: details.expiration.map(DateTime),
            debtor_account: CashAccount::sort_code_account_number(
                &details.debtor_account.identification,
                details.debtor_account.name.clone(),
            ),
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
    let request: ObFundsConfirmationConsent1 = body::parse(raw, "OBFundsConfirmationConsent1")?;
    let data = request.data;
    let account = &data.debtor_account;
    const AT: &str = "Data.DebtorAccount";
    let scheme = text(
        &account.scheme_name,
        usize::MAX,
        &format!("{AT}.SchemeName"),
    )?;
    let identification = text(
        &account.identification,
        256,
        &format!("{AT}.Identification"),
    )?;
    if let Some(name) = &account.name {
        text(name, 350, &format!("{AT}.Name"))?;
    }
    if let Some(secondary) = &account.secondary_identification {
        text(secondary, 34, &format!("{AT}.SecondaryIdentification"))?;
    }
    if scheme != SCAN {
        let known = OTHER_SCHEMES.contains(&scheme);
        return Err(Error::BadRequest(vec![
            ObErrorDetail::new(
                ObErrorCode::UnsupportedScheme,
                if known {
                    format!("{scheme} is not supported: accounts here are identified by {SCAN}")
                } else {
                    format!("Unknown scheme {scheme}: accounts here are identified by {SCAN}")
                },
            )
            .at(format!("{AT}.SchemeName")),
        ]));
    }
    let identification = SortCodeAccountNumber::parse(identification).map_err(|_| {
        field_error(
            ObErrorCode::UnsupportedAccountIdentifier,
            "A UK.OBIE.SortCodeAccountNumber identification is 14 digits: the 6-digit sort code \
             then the 8-digit account number",
            &format!("{AT}.Identification"),
        )
    })?;
    if account.secondary_identification.is_some() {
        // No Bascule account has a roll number: a consent naming one names no account here.
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Accounts here have no secondary identification",
            &format!("{AT}.SecondaryIdentification"),
        ));
    }
    let expiration = match &data.expiration_date_time {
        Some(raw) => {
            const PATH: &str = "Data.ExpirationDateTime";
            let at = parse_body_datetime(text(raw, usize::MAX, PATH)?, PATH)?;
            if at <= now {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    "ExpirationDateTime must be in the future",
                    PATH,
                ));
            }
            Some(at)
        }
        None => None,
    };
    Ok(FundsConfirmationConsent {
        debtor_account: DebtorAccount {
            identification,
            name: account.name.clone(),
        },
        expiration,
    })
}

/// `/funds-confirmation-consents` of v3.1.11.
struct Consents;

impl ConsentEndpoints for Consents {
    type State = Cbpii;
    type Client = AccessToken;
    type Details = FundsConfirmationConsent;
    type Response = ConsentResponse;

    fn client_id(token: &AccessToken) -> Result<&str, Error> {
        Ok(token.client_credentials(ConsentKind::FundsConfirmation.scope())?)
    }

    fn parse(cbpii: &Cbpii, body: &[u8]) -> Result<FundsConfirmationConsent, Error> {
        parse_request(body, cbpii.now())
    }

    async fn create(
        cbpii: &Cbpii,
        client_id: &str,
        details: &FundsConfirmationConsent,
    ) -> Result<Consent, Error> {
        cbpii.create_consent(client_id, details).await
    }

    async fn read(
        cbpii: &Cbpii,
        client_id: &str,
        consent_id: &str,
    ) -> Result<(Consent, FundsConfirmationConsent), Error> {
        cbpii.consent_of_client(client_id, consent_id).await
    }

    async fn delete(cbpii: &Cbpii, client_id: &str, consent_id: &str) -> Result<(), Error> {
        cbpii.delete_consent(client_id, consent_id).await
    }

    fn render(
        cbpii: &Cbpii,
        consent: &Consent,
        details: &FundsConfirmationConsent,
    ) -> ConsentResponse {
        response(cbpii, consent, details)
    }
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
