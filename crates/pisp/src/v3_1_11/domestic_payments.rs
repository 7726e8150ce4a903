//! `/domestic-payments` (v3.1.11): POST `OBWriteDomestic2` with the customer's
//! authorization-code token for an Authorised domestic payment consent, signed and idempotent
//! → 201 `OBWriteDomesticResponse5`; GET of one payment and its `payment-details`
//! (`OBWritePaymentDetailsResponse1`) with a client-credentials token of the same client
//! (RES/pisp/domestic-payments).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use bascule_domain::ConsentKind;
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};

use super::payment_orders::{
    DetailsData, DetailsResponse, PaymentStatusEntry, Request, StatusDetail, account_as_debtor,
};
use super::terms::risk_value;
use super::wire::{DateTime, JsonWithStatus, Links, Meta, to_json};
use crate::initiation::{CashAccount, DomesticInitiation};
use crate::jws::Unsigned;
use crate::order::DomesticTerms;
use crate::payments::{DomesticPayment, PaymentStatus, RESOURCE_TYPE};
use crate::{Pisp, PispRequest};
use bascule_api_kit::body;

pub(super) fn routes() -> Router<Pisp> {
    Router::new()
        .route("/domestic-payments", post(create))
        .route("/domestic-payments/{DomesticPaymentId}", get(read))
        .route(
            "/domestic-payments/{DomesticPaymentId}/payment-details",
            get(details),
        )
}

/// `OBWriteDomestic2`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PaymentData {
    consent_id: String,
    initiation: DomesticInitiation,
}

/// `OBWriteDomesticResponse5`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PaymentResponse<'a> {
    data: PaymentResponseData<'a>,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PaymentResponseData<'a> {
    domestic_payment_id: &'a str,
    consent_id: &'a str,
    creation_date_time: DateTime,
    status: &'static str,
    status_update_date_time: DateTime,
    initiation: DomesticInitiation,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor: Option<CashAccount>,
}

async fn render(pisp: &Pisp, p: &DomesticPayment) -> Result<String, Error> {
    let debtor = account_as_debtor(pisp, &p.record.debtor_account_id).await?;
    to_json(&PaymentResponse {
        data: PaymentResponseData {
            domestic_payment_id: &p.record.id,
            consent_id: &p.record.consent_id,
            creation_date_time: p.record.created_at.into(),
            status: p.status.as_str(),
            status_update_date_time: p.record.status_updated_at.into(),
            initiation: DomesticInitiation::from_terms(&p.record.terms),
            debtor,
        },
        links: Links::to(pisp, &format!("/domestic-payments/{}", p.record.id)),
        meta: Meta::default(),
    })
}

async fn create(State(pisp): State<Pisp>, req: PispRequest) -> Result<JsonWithStatus, Error> {
    let consent = req
        .token
        .bound_consent(ConsentKind::DomesticPayment)?
        .clone();
    let request: Request<PaymentData> = body::parse(&req.body, "OBWriteDomestic2")?;
    request.data.initiation.validate()?;
    if request.data.consent_id != consent.id.as_str() {
        return Err(Error::bad_request(
            ObErrorCode::ResourceConsentMismatch,
            "Data.ConsentId is not the consent the access token was issued for",
        ));
    }
    let key = req.idempotency(RESOURCE_TYPE);
    let payment = pisp
        .create_payment(
            &key,
            &consent,
            &request.data.initiation.to_terms()?,
            &risk_value(&request.risk)?,
            |_| Ok(()),
        )
        .await?;
    Ok(JsonWithStatus(
        StatusCode::CREATED,
        render(&pisp, &payment).await?,
    ))
}

async fn read(
    State(pisp): State<Pisp>,
    Unsigned(token): Unsigned,
    Path(id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    let payment = pisp.payment_of_client::<DomesticTerms>(&token, &id).await?;
    Ok(JsonWithStatus(
        StatusCode::OK,
        render(&pisp, &payment).await?,
    ))
}

async fn details(
    State(pisp): State<Pisp>,
    Unsigned(token): Unsigned,
    Path(id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    let p = pisp.payment_of_client::<DomesticTerms>(&token, &id).await?;
    let (status_reason, scheme_status) = match p.status {
        PaymentStatus::Pending => (Some("PendingSettlement"), "Pending"),
        PaymentStatus::AcceptedSettlementCompleted => (None, "Settled"),
        PaymentStatus::Rejected => (Some("ProprietaryRejection"), "Rejected"),
    };
    let body = to_json(&DetailsResponse {
        data: DetailsData {
            payment_status: vec![PaymentStatusEntry {
                payment_transaction_id: p
                    .ledger_transaction_id
                    .clone()
                    .unwrap_or(p.record.id.clone()),
                status: p.status.as_str(),
                status_update_date_time: p.record.status_updated_at.into(),
                status_detail: StatusDetail {
                    local_instrument: Some(
                        p.record
                            .terms
                            .transfer
                            .local_instrument
                            .clone()
                            .unwrap_or_else(|| "UK.OBIE.FPS".into()),
                    ),
                    status: scheme_status.into(),
                    status_reason,
                    status_reason_description: p.status_reason.clone(),
                },
            }],
        },
        links: Links::to(&pisp, &format!("/domestic-payments/{id}/payment-details")),
        meta: Meta::default(),
    })?;
    Ok(JsonWithStatus(StatusCode::OK, body))
}
