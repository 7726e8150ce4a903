//! `/domestic-payment-consents` (v3.1.11): POST `OBWriteDomesticConsent4` with a
//! client-credentials token, signed and idempotent → 201 `OBWriteDomesticConsentResponse5`;
//! GET of one consent by the client that created it; GET `…/funds-confirmation` with the
//! customer's authorization-code token for that consent → `OBWriteFundsConfirmationResponse1`
//! (RES/pisp/domestic-payment-consents).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use bascule_authz::AccessToken;
use bascule_domain::{Consent, ConsentKind};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{DateTime, JsonWithStatus, Links, Meta, consent_status, debtor, to_json};
use crate::consents::{ConsentDetails, bound_consent, client_credentials};
use crate::initiation::{CashAccount, DomesticInitiation, Risk, parse_strict};
use crate::{Pisp, PispRequest, core_error, jws};

pub(super) const RESOURCE_TYPE: &str = "domestic-payment-consents";

pub(super) fn routes() -> Router<Pisp> {
    Router::new()
        .route("/domestic-payment-consents", post(create))
        .route("/domestic-payment-consents/{ConsentId}", get(read))
        .route(
            "/domestic-payment-consents/{ConsentId}/funds-confirmation",
            get(funds_confirmation),
        )
}

/// `OBWriteDomesticConsent4`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ObWriteDomesticConsent4 {
    data: ConsentData,
    risk: Risk,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConsentData {
    read_refund_account: Option<String>,
    initiation: DomesticInitiation,
    authorisation: Option<Value>,
    #[serde(rename = "SCASupportData")]
    sca_support_data: Option<Value>,
}

/// `OBWriteDomesticConsentResponse5`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponse<'a> {
    data: ConsentResponseData<'a>,
    risk: &'a Risk,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponseData<'a> {
    consent_id: String,
    creation_date_time: DateTime,
    status: &'static str,
    status_update_date_time: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_refund_account: Option<&'a str>,
    initiation: &'a DomesticInitiation,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorisation: Option<&'a Value>,
    #[serde(rename = "SCASupportData", skip_serializing_if = "Option::is_none")]
    sca_support_data: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor: Option<CashAccount>,
}

fn render(
    pisp: &Pisp,
    consent: &Consent,
    details: &ConsentDetails,
    debtor: Option<CashAccount>,
) -> Result<String, Error> {
    to_json(&ConsentResponse {
        data: ConsentResponseData {
            consent_id: consent.id.to_string(),
            creation_date_time: consent.created_at.into(),
            status: consent_status(consent.status),
            status_update_date_time: consent.status_updated_at.into(),
            read_refund_account: details.read_refund_account.as_deref(),
            initiation: &details.initiation,
            authorisation: details.authorisation.as_ref(),
            sca_support_data: details.sca_support_data.as_ref(),
            debtor,
        },
        risk: &details.risk,
        links: Links::to(pisp, &format!("/domestic-payment-consents/{}", consent.id)),
        meta: Meta::default(),
    })
}

/// The account the customer chose, as `Debtor`, once the consent is authorised.
async fn chosen_debtor(pisp: &Pisp, consent: &Consent) -> Result<Option<CashAccount>, Error> {
    let Some(id) = consent.accounts.first() else {
        return Ok(None);
    };
    let account = pisp
        .core_banking()
        .accounts(std::slice::from_ref(id))
        .await
        .map_err(core_error)?
        .into_iter()
        .next();
    Ok(account.and_then(|a| a.identification.map(|i| debtor(&i, None))))
}

fn validate_choices(data: &ConsentData) -> Result<(), Error> {
    if let Some(r) = &data.read_refund_account
        && !matches!(r.as_str(), "Yes" | "No")
    {
        return Err(crate::initiation::field_error(
            ObErrorCode::FieldInvalid,
            "ReadRefundAccount is Yes or No",
            "Data.ReadRefundAccount",
        ));
    }
    Ok(())
}

async fn create(State(pisp): State<Pisp>, req: PispRequest) -> Result<JsonWithStatus, Error> {
    client_credentials(&req.token)?;
    let request: ObWriteDomesticConsent4 = parse_strict(&req.body, "OBWriteDomesticConsent4")?;
    validate_choices(&request.data)?;
    request.data.initiation.validate()?;
    let details = ConsentDetails {
        initiation: request.data.initiation,
        risk: request.risk,
        read_refund_account: request.data.read_refund_account,
        authorisation: request.data.authorisation,
        sca_support_data: request.data.sca_support_data,
    };
    let key = req.idempotency(RESOURCE_TYPE);
    let body = pisp
        .create_consent_idempotent(ConsentKind::DomesticPayment, &key, &details, |c, d| {
            render(&pisp, c, d, None)
        })
        .await?;
    Ok(JsonWithStatus(StatusCode::CREATED, body))
}

async fn read(
    State(pisp): State<Pisp>,
    token: AccessToken,
    headers: HeaderMap,
    Path(consent_id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    jws::refuse_unexpected(&headers)?;
    let client_id = client_credentials(&token)?;
    let (consent, details) = pisp
        .consent_of_client(ConsentKind::DomesticPayment, client_id, &consent_id)
        .await?;
    let debtor = chosen_debtor(&pisp, &consent).await?;
    Ok(JsonWithStatus(
        StatusCode::OK,
        render(&pisp, &consent, &details, debtor)?,
    ))
}

/// `OBWriteFundsConfirmationResponse1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct FundsResponse {
    data: FundsData,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct FundsData {
    funds_available_result: FundsAvailableResult,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct FundsAvailableResult {
    funds_available_date_time: DateTime,
    funds_available: bool,
}

async fn funds_confirmation(
    State(pisp): State<Pisp>,
    token: AccessToken,
    headers: HeaderMap,
    Path(consent_id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    jws::refuse_unexpected(&headers)?;
    let consent = bound_consent(&token, ConsentKind::DomesticPayment)?;
    if consent.id.as_str() != consent_id {
        return Err(Error::forbidden(
            ObErrorCode::ResourceConsentMismatch,
            "The access token is for another consent",
        ));
    }
    let details = ConsentDetails::from_json(&consent.details)?;
    let executable = details.initiation.validate()?;
    let available = pisp.funds_available(consent, &executable).await?;
    let body = to_json(&FundsResponse {
        data: FundsData {
            funds_available_result: FundsAvailableResult {
                funds_available_date_time: pisp.now().into(),
                funds_available: available,
            },
        },
        links: Links::to(
            &pisp,
            &format!("/domestic-payment-consents/{consent_id}/funds-confirmation"),
        ),
        meta: Meta::default(),
    })?;
    Ok(JsonWithStatus(StatusCode::OK, body))
}
