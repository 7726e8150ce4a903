//! `/domestic-payment-consents` (v3.1.11): POST `OBWriteDomesticConsent4` with a
//! client-credentials token, signed and idempotent → 201 `OBWriteDomesticConsentResponse5`;
//! GET of one consent by the client that created it; GET `…/funds-confirmation` with the
//! customer's authorization-code token for that consent → `OBWriteFundsConfirmationResponse1`
//! (RES/pisp/domestic-payment-consents).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bascule_domain::ConsentKind;
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::payment_orders::{Request, WireConsent, read_consent, render_consent};
use super::terms::{risk_value, yes_no};
use super::wire::{DateTime, JsonWithStatus, Links, Meta, to_json};
use crate::consents::SCOPE;
use crate::initiation::DomesticInitiation;
use crate::jws::Unsigned;
use crate::order::{ConsentTerms, DomesticTerms, PaymentKind};
use crate::{Pisp, PispRequest};
use bascule_api_kit::body;

pub(super) fn routes() -> Router<Pisp> {
    Router::new()
        .route("/domestic-payment-consents", post(create))
        .route(
            "/domestic-payment-consents/{ConsentId}",
            get(read_consent::<DomesticInitiation>),
        )
        .route(
            "/domestic-payment-consents/{ConsentId}/funds-confirmation",
            get(funds_confirmation),
        )
}

/// `OBWriteDomesticConsent4.Data`.
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
impl WireConsent for DomesticInitiation {
    type Of = DomesticTerms;
    const PATH: &'static str = "/domestic-payment-consents";
    const PERMISSION: Option<&'static str> = None;
    fn initiation_of(terms: &DomesticTerms) -> Self {
        DomesticInitiation::from_terms(terms)
    }
}

fn validate_choices(data: &ConsentData) -> Result<(), Error> {
    super::terms::check_read_refund_account(data.read_refund_account.as_deref())
}

async fn create(State(pisp): State<Pisp>, req: PispRequest) -> Result<JsonWithStatus, Error> {
    req.token.client_credentials(SCOPE)?;
    let request: Request<ConsentData> = body::parse(&req.body, "OBWriteDomesticConsent4")?;
    validate_choices(&request.data)?;
    request.data.initiation.validate()?;
    let details = ConsentTerms {
        terms: request.data.initiation.to_terms()?,
        risk: risk_value(&request.risk)?,
        read_refund_account: yes_no(request.data.read_refund_account.as_deref()),
        authorisation: request.data.authorisation,
        sca_support_data: request.data.sca_support_data,
    };
    let key = req.idempotency(PaymentKind::Domestic.consent_resource_type());
    let body = pisp
        .create_consent(&key, &details, |c| {
            render_consent::<DomesticInitiation>(&pisp, c, &details, None)
        })
        .await?;
    Ok(JsonWithStatus(StatusCode::CREATED, body))
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
    Unsigned(token): Unsigned,
    Path(consent_id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    let consent = token.bound_consent(ConsentKind::DomesticPayment)?;
    if consent.id.as_str() != consent_id {
        return Err(Error::forbidden(
            ObErrorCode::ResourceConsentMismatch,
            "The access token is for another consent",
        ));
    }
    let details = pisp.terms_of::<DomesticTerms>(consent).await?;
    let available = pisp
        .funds_available(consent, details.terms.transfer.amount.pence()?)
        .await?;
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
