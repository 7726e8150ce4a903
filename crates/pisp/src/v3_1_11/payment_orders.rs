//! What `domestic-scheduled-payment*` and `domestic-standing-order*` share on the v3.1.11
//! wire: their consents (`OBWriteDomesticScheduledConsent4` / `…StandingOrderConsent5` →
//! `…ConsentResponse5` / `…ConsentResponse6`), their orders (`OBWriteDomesticScheduled2` /
//! `OBWriteDomesticStandingOrder3` → `…Response5` / `…Response6`) and `payment-details`
//! (`OBWritePaymentDetailsResponse1`). The shapes differ only by the Initiation and the name of
//! the order's id, so each handler here is generic over the Initiation ([`WireOrder`]); the
//! resource modules only name their paths and register routes.
//!
//! Handler order as everywhere in the crate: token rules (401/403), the signature, then
//! idempotency, then the body, then the service.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bascule_authz::AccessToken;
use bascule_domain::{AccountId, Consent, ScheduleStatus};
use bascule_http::{Error, ObErrorCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::wire::{DateTime, JsonWithStatus, Links, Meta, consent_status, debtor, to_json};
use crate::consents::{bound_consent, client_credentials};
use crate::initiation::{CashAccount, Risk, field_error, parse_strict};
use crate::schedules::{
    DomesticOrder, OrderConsentDetails, OrderInitiation, OrderKind, OrderStatus,
};
use crate::{Pisp, PispRequest, core_error, jws};

/// A payment-order Initiation with its v3.1.11 names.
pub(super) trait WireOrder: OrderInitiation + 'static {
    /// e.g. `/domestic-scheduled-payment-consents`.
    const CONSENTS: &'static str;
    /// e.g. `/domestic-scheduled-payments`.
    const ORDERS: &'static str;
    /// e.g. `DomesticScheduledPaymentId`.
    const ID_FIELD: &'static str;
    /// The request schema names, for error messages.
    const CONSENT_SCHEMA: &'static str;
    const ORDER_SCHEMA: &'static str;
}

#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "PascalCase",
    deny_unknown_fields,
    bound(deserialize = "I: DeserializeOwned")
)]
struct ConsentRequest<I> {
    data: ConsentData<I>,
    risk: Risk,
}

#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "PascalCase",
    deny_unknown_fields,
    bound(deserialize = "I: DeserializeOwned")
)]
struct ConsentData<I> {
    permission: String,
    read_refund_account: Option<String>,
    initiation: I,
    authorisation: Option<Value>,
    #[serde(rename = "SCASupportData")]
    sca_support_data: Option<Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponse<'a, I> {
    data: ConsentResponseData<'a, I>,
    risk: &'a Risk,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponseData<'a, I> {
    consent_id: String,
    creation_date_time: DateTime,
    status: &'static str,
    status_update_date_time: DateTime,
    permission: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_refund_account: Option<&'a str>,
    initiation: &'a I,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorisation: Option<&'a Value>,
    #[serde(rename = "SCASupportData", skip_serializing_if = "Option::is_none")]
    sca_support_data: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor: Option<CashAccount>,
}

fn render_consent<I: WireOrder>(
    pisp: &Pisp,
    consent: &Consent,
    details: &OrderConsentDetails<I>,
    debtor: Option<CashAccount>,
) -> Result<String, Error> {
    to_json(&ConsentResponse {
        data: ConsentResponseData {
            consent_id: consent.id.to_string(),
            creation_date_time: consent.created_at.into(),
            status: consent_status(consent.status),
            status_update_date_time: consent.status_updated_at.into(),
            permission: &details.permission,
            read_refund_account: details.read_refund_account.as_deref(),
            initiation: &details.initiation,
            authorisation: details.authorisation.as_ref(),
            sca_support_data: details.sca_support_data.as_ref(),
            debtor,
        },
        risk: &details.risk,
        links: Links::to(pisp, &format!("{}/{}", I::CONSENTS, consent.id)),
        meta: Meta::default(),
    })
}

/// `OBCashAccountDebtor4` of an account, when it has a sort code and number.
async fn account_as_debtor(pisp: &Pisp, id: &AccountId) -> Result<Option<CashAccount>, Error> {
    let account = pisp
        .core_banking()
        .accounts(std::slice::from_ref(id))
        .await
        .map_err(core_error)?
        .into_iter()
        .next();
    Ok(account.and_then(|a| a.identification.map(|i| debtor(&i, None))))
}

/// `POST {CONSENTS}`: client-credentials token, signed, idempotent → 201.
pub(super) async fn create_consent<I: WireOrder>(
    State(pisp): State<Pisp>,
    req: PispRequest,
) -> Result<JsonWithStatus, Error> {
    client_credentials(&req.token)?;
    let request: ConsentRequest<I> = parse_strict(&req.body, I::CONSENT_SCHEMA)?;
    let data = request.data;
    if data.permission != "Create" {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Permission must be Create",
            "Data.Permission",
        ));
    }
    if let Some(r) = &data.read_refund_account
        && !matches!(r.as_str(), "Yes" | "No")
    {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "ReadRefundAccount is Yes or No",
            "Data.ReadRefundAccount",
        ));
    }
    // The bank's limits are refused at the consent (PIS §4 Rules).
    data.initiation.check(Some(pisp.today()))?;
    let details = OrderConsentDetails {
        permission: data.permission,
        initiation: data.initiation,
        risk: request.risk,
        read_refund_account: data.read_refund_account,
        authorisation: data.authorisation,
        sca_support_data: data.sca_support_data,
    };
    let key = req.idempotency(I::KIND.consent_resource_type());
    let body = pisp
        .create_order_consent(&key, &details, |c| render_consent(&pisp, c, &details, None))
        .await?;
    Ok(JsonWithStatus(StatusCode::CREATED, body))
}

/// `GET {CONSENTS}/{ConsentId}`: client-credentials token of the creating client.
pub(super) async fn read_consent<I: WireOrder>(
    State(pisp): State<Pisp>,
    token: AccessToken,
    headers: HeaderMap,
    Path(consent_id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    jws::refuse_unexpected(&headers)?;
    let client_id = client_credentials(&token)?;
    let (consent, details) = pisp
        .order_consent_of_client::<I>(client_id, &consent_id)
        .await?;
    let debtor = match consent.accounts.first() {
        Some(id) => account_as_debtor(&pisp, id).await?,
        None => None,
    };
    Ok(JsonWithStatus(
        StatusCode::OK,
        render_consent(&pisp, &consent, &details, debtor)?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "PascalCase",
    deny_unknown_fields,
    bound(deserialize = "I: DeserializeOwned")
)]
struct OrderRequest<I> {
    data: OrderData<I>,
    risk: Risk,
}

#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "PascalCase",
    deny_unknown_fields,
    bound(deserialize = "I: DeserializeOwned")
)]
struct OrderData<I> {
    consent_id: String,
    initiation: I,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderResponse<'a, I> {
    data: OrderResponseData<'a, I>,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OrderResponseData<'a, I> {
    /// `DomesticScheduledPaymentId` or `DomesticStandingOrderId`.
    #[serde(flatten)]
    id: BTreeMap<&'static str, &'a str>,
    consent_id: &'a str,
    creation_date_time: DateTime,
    status: &'static str,
    status_update_date_time: DateTime,
    initiation: &'a I,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor: Option<CashAccount>,
}

async fn render_order<I: WireOrder>(pisp: &Pisp, o: &DomesticOrder) -> Result<String, Error> {
    let initiation: I = o.initiation()?;
    let debtor = account_as_debtor(pisp, &o.debtor_account_id).await?;
    to_json(&OrderResponse {
        data: OrderResponseData {
            id: BTreeMap::from([(I::ID_FIELD, o.id.as_str())]),
            consent_id: &o.consent_id,
            creation_date_time: o.created_at.into(),
            status: o.status.as_str(),
            status_update_date_time: o.status_updated_at.into(),
            initiation: &initiation,
            debtor,
        },
        links: Links::to(pisp, &format!("{}/{}", I::ORDERS, o.id)),
        meta: Meta::default(),
    })
}

/// `POST {ORDERS}`: the customer's authorization-code token for an Authorised consent of this
/// kind, signed, idempotent → 201.
pub(super) async fn create_order<I: WireOrder>(
    State(pisp): State<Pisp>,
    req: PispRequest,
) -> Result<JsonWithStatus, Error> {
    let consent = bound_consent(&req.token, I::KIND.consent_kind())?.clone();
    let request: OrderRequest<I> = parse_strict(&req.body, I::ORDER_SCHEMA)?;
    if request.data.consent_id != consent.id.as_str() {
        return Err(Error::bad_request(
            ObErrorCode::ResourceConsentMismatch,
            "Data.ConsentId is not the consent the access token was issued for",
        ));
    }
    let key = req.idempotency(I::KIND.resource_type());
    let order = pisp
        .create_order(&key, &consent, &request.data.initiation, &request.risk)
        .await?;
    Ok(JsonWithStatus(
        StatusCode::CREATED,
        render_order::<I>(&pisp, &order).await?,
    ))
}

/// `GET {ORDERS}/{id}`: client-credentials token of the same client.
pub(super) async fn read_order<I: WireOrder>(
    State(pisp): State<Pisp>,
    token: AccessToken,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    jws::refuse_unexpected(&headers)?;
    let order = pisp.order_of_client(I::KIND, &token, &id).await?;
    Ok(JsonWithStatus(
        StatusCode::OK,
        render_order::<I>(&pisp, &order).await?,
    ))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DetailsResponse {
    data: DetailsData,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DetailsData {
    payment_status: Vec<PaymentStatusEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct PaymentStatusEntry {
    payment_transaction_id: String,
    status: &'static str,
    status_update_date_time: DateTime,
    status_detail: StatusDetail,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatusDetail {
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_reason_description: Option<String>,
}

/// The order's state on the core's schedule: (Status, StatusDetail.Status, StatusReason).
async fn schedule_state(
    pisp: &Pisp,
    o: &DomesticOrder,
    core_id: &str,
) -> Result<(&'static str, String, Option<&'static str>), Error> {
    let accounts = std::slice::from_ref(&o.debtor_account_id);
    Ok(match o.kind {
        OrderKind::ScheduledPayment => {
            let sp = pisp
                .core_banking()
                .scheduled_payments(accounts)
                .await
                .map_err(core_error)?
                .into_iter()
                .find(|s| s.id.as_str() == core_id);
            match sp {
                Some(s) if s.status == ScheduleStatus::Active => (
                    "Pending",
                    format!("Scheduled for {}", s.execute_on),
                    Some("PendingSettlement"),
                ),
                Some(s) => ("Accepted", format!("Processed on {}", s.execute_on), None),
                None => ("Accepted", "Processed".to_owned(), None),
            }
        }
        OrderKind::StandingOrder => {
            let so = pisp
                .core_banking()
                .standing_orders(accounts)
                .await
                .map_err(core_error)?
                .into_iter()
                .find(|s| s.id.as_str() == core_id);
            match so {
                Some(s) if s.status == ScheduleStatus::Active => (
                    "Accepted",
                    match s.next_payment_on {
                        Some(next) => format!("Active; next payment on {next}"),
                        None => "Active".to_owned(),
                    },
                    None,
                ),
                Some(s) => (
                    "Accepted",
                    match s.last_payment_on {
                        Some(last) => format!("Completed; last payment on {last}"),
                        None => "Completed".to_owned(),
                    },
                    None,
                ),
                None => ("Accepted", "Completed".to_owned(), None),
            }
        }
    })
}

/// `GET {ORDERS}/{id}/payment-details`: the order's state on the core's schedule.
pub(super) async fn order_details<I: WireOrder>(
    State(pisp): State<Pisp>,
    token: AccessToken,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    jws::refuse_unexpected(&headers)?;
    let o = pisp.order_of_client(I::KIND, &token, &id).await?;
    let (status, detail, reason, description) = match (o.status, o.core_id.as_deref()) {
        (OrderStatus::InitiationCompleted, Some(core_id)) => {
            let (s, d, r) = schedule_state(&pisp, &o, core_id).await?;
            (s, d, r, None)
        }
        (OrderStatus::InitiationFailed, _) => (
            "Rejected",
            o.status.as_str().to_owned(),
            Some("ProprietaryRejection"),
            o.status_reason.clone(),
        ),
        _ => (
            "Pending",
            o.status.as_str().to_owned(),
            Some("PendingSettlement"),
            None,
        ),
    };
    let body = to_json(&DetailsResponse {
        data: DetailsData {
            payment_status: vec![PaymentStatusEntry {
                payment_transaction_id: o.core_id.clone().unwrap_or_else(|| o.id.clone()),
                status,
                status_update_date_time: o.status_updated_at.into(),
                status_detail: StatusDetail {
                    status: detail,
                    status_reason: reason,
                    status_reason_description: description,
                },
            }],
        },
        links: Links::to(&pisp, &format!("{}/{id}/payment-details", I::ORDERS)),
        meta: Meta::default(),
    })?;
    Ok(JsonWithStatus(StatusCode::OK, body))
}
