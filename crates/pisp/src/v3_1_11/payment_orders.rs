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
use axum::http::StatusCode;
use bascule_domain::{AccountId, Consent, ScheduleStatus};
use bascule_http::{Error, ObErrorCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Date;

use super::terms::{risk_of, risk_value, yes_no, yes_no_text};
use super::wire::{DateTime, JsonWithStatus, Links, Meta, consent_status, debtor, to_json};
use crate::consents::SCOPE;
use crate::initiation::{CashAccount, Risk};
use crate::jws::Unsigned;
use crate::order::{ConsentTerms, PaymentKind, Terms};
use crate::pipeline::Step;
use crate::schedules::{DomesticOrder, OrderStatus, OrderTerms};
use crate::{Pisp, PispRequest, core_error};
use bascule_api_kit::body;

/// A payment-order Initiation with its v3.1.11 names, and its mapping to the bank's terms.
pub(super) trait WireOrder: Serialize + DeserializeOwned + Send + Sync + 'static {
    type Terms: OrderTerms + Step<Payment = DomesticOrder<Self::Terms>>;
    /// The schema's rules and the bank's; `today` when dates must not be past.
    fn check(&self, today: Option<Date>) -> Result<(), Error>;
    fn to_terms(&self) -> Result<Self::Terms, Error>;
    fn from_terms(terms: &Self::Terms) -> Self;
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

/// An Initiation as its payment consent renders it.
pub(super) trait WireConsent: Serialize + Sized {
    type Of: Terms;
    /// e.g. `/domestic-payment-consents`.
    const PATH: &'static str;
    /// `Data.Permission`: `Create` for payment orders; domestic payment consents have none.
    const PERMISSION: Option<&'static str>;
    fn initiation_of(terms: &Self::Of) -> Self;
}

impl<I: WireOrder> WireConsent for I {
    type Of = I::Terms;
    const PATH: &'static str = I::CONSENTS;
    const PERMISSION: Option<&'static str> = Some("Create");
    fn initiation_of(terms: &I::Terms) -> Self {
        I::from_terms(terms)
    }
}

#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "PascalCase",
    deny_unknown_fields,
    bound(deserialize = "D: DeserializeOwned")
)]
pub(super) struct Request<D> {
    pub data: D,
    pub risk: Risk,
}

#[derive(Debug, Deserialize)]
#[serde(
    rename_all = "PascalCase",
    deny_unknown_fields,
    bound(deserialize = "I: DeserializeOwned")
)]
struct ConsentData<I> {
    // Required by the schema: a missing one is refused by the parser.
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

/// Every payment consent's response `Data` (domestic consents have no `Permission`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ConsentResponseData<'a, I> {
    consent_id: String,
    creation_date_time: DateTime,
    status: &'static str,
    status_update_date_time: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    permission: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_refund_account: Option<&'static str>,
    initiation: &'a I,
    #[serde(skip_serializing_if = "Option::is_none")]
    authorisation: Option<&'a Value>,
    #[serde(rename = "SCASupportData", skip_serializing_if = "Option::is_none")]
    sca_support_data: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor: Option<CashAccount>,
}

/// A payment consent's response body, its Initiation rendered from `details`.
pub(super) fn render_consent<I: WireConsent>(
    pisp: &Pisp,
    consent: &Consent,
    details: &ConsentTerms<I::Of>,
    debtor: Option<CashAccount>,
) -> Result<String, Error> {
    to_json(&ConsentResponse {
        data: ConsentResponseData {
            consent_id: consent.id.to_string(),
            creation_date_time: consent.created_at.into(),
            status: consent_status(consent.status),
            status_update_date_time: consent.status_updated_at.into(),
            permission: I::PERMISSION,
            read_refund_account: yes_no_text(details.read_refund_account),
            initiation: &I::initiation_of(&details.terms),
            authorisation: details.authorisation.as_ref(),
            sca_support_data: details.sca_support_data.as_ref(),
            debtor,
        },
        risk: &risk_of(&details.risk)?,
        links: Links::to(pisp, &format!("{}/{}", I::PATH, consent.id)),
        meta: Meta::default(),
    })
}

/// The `Debtor` of a consent: the account the customer chose, once they have.
pub(super) async fn chosen_debtor(
    pisp: &Pisp,
    consent: &Consent,
) -> Result<Option<CashAccount>, Error> {
    match consent.accounts.first() {
        Some(id) => account_as_debtor(pisp, id).await,
        None => Ok(None),
    }
}

/// `OBCashAccountDebtor4` of an account, when it has a sort code and number.
pub(super) async fn account_as_debtor(
    pisp: &Pisp,
    id: &AccountId,
) -> Result<Option<CashAccount>, Error> {
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
    req.token.client_credentials(SCOPE)?;
    let request: Request<ConsentData<I>> = body::parse(&req.body, I::CONSENT_SCHEMA)?;
    let data = request.data;
    if data.permission != "Create" {
        return Err(body::field_error(
            ObErrorCode::FieldInvalid,
            "Permission must be Create",
            "Data.Permission",
        ));
    }
    super::terms::check_read_refund_account(data.read_refund_account.as_deref())?;
    // The bank's limits are refused at the consent (PIS §4 Rules).
    data.initiation.check(Some(pisp.today()))?;
    let details = ConsentTerms {
        terms: data.initiation.to_terms()?,
        risk: risk_value(&request.risk)?,
        read_refund_account: yes_no(data.read_refund_account.as_deref()),
        authorisation: data.authorisation,
        sca_support_data: data.sca_support_data,
    };
    let key = req.idempotency(kind::<I>().consent_resource_type());
    let body = pisp
        .create_consent(&key, &details, |c| {
            render_consent::<I>(&pisp, c, &details, None)
        })
        .await?;
    Ok(JsonWithStatus(StatusCode::CREATED, body))
}

/// `GET {CONSENTS}/{ConsentId}` of every payment kind: client-credentials token of the
/// creating client.
pub(super) async fn read_consent<I: WireConsent>(
    State(pisp): State<Pisp>,
    Unsigned(token): Unsigned,
    Path(consent_id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    let client_id = token.client_credentials(SCOPE)?;
    let (consent, details) = pisp
        .consent_of_client::<I::Of>(client_id, &consent_id)
        .await?;
    let debtor = chosen_debtor(&pisp, &consent).await?;
    Ok(JsonWithStatus(
        StatusCode::OK,
        render_consent::<I>(&pisp, &consent, &details, debtor)?,
    ))
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

async fn render_order<I: WireOrder>(
    pisp: &Pisp,
    o: &DomesticOrder<I::Terms>,
) -> Result<String, Error> {
    let initiation = I::from_terms(&o.record.terms);
    let debtor = account_as_debtor(pisp, &o.record.debtor_account_id).await?;
    to_json(&OrderResponse {
        data: OrderResponseData {
            id: BTreeMap::from([(I::ID_FIELD, o.record.id.as_str())]),
            consent_id: &o.record.consent_id,
            creation_date_time: o.record.created_at.into(),
            status: o.status.as_str(),
            status_update_date_time: o.record.status_updated_at.into(),
            initiation: &initiation,
            debtor,
        },
        links: Links::to(pisp, &format!("{}/{}", I::ORDERS, o.record.id)),
        meta: Meta::default(),
    })
}

/// `POST {ORDERS}`: the customer's authorization-code token for an Authorised consent of this
/// kind, signed, idempotent → 201.
pub(super) async fn create_order<I: WireOrder>(
    State(pisp): State<Pisp>,
    req: PispRequest,
) -> Result<JsonWithStatus, Error> {
    let consent = req.token.bound_consent(kind::<I>().consent_kind())?.clone();
    let request: Request<OrderData<I>> = body::parse(&req.body, I::ORDER_SCHEMA)?;
    if request.data.consent_id != consent.id.as_str() {
        return Err(Error::bad_request(
            ObErrorCode::ResourceConsentMismatch,
            "Data.ConsentId is not the consent the access token was issued for",
        ));
    }
    let key = req.idempotency(kind::<I>().resource_type());
    // The schema's rules here; the day's (dates not past) once a replay has been ruled out.
    let initiation = request.data.initiation;
    initiation.check(None)?;
    let order = pisp
        .create_payment(
            &key,
            &consent,
            &initiation.to_terms()?,
            &risk_value(&request.risk)?,
            |today| initiation.check(Some(today)),
        )
        .await?;
    Ok(JsonWithStatus(
        StatusCode::CREATED,
        render_order::<I>(&pisp, &order).await?,
    ))
}

/// `GET {ORDERS}/{id}`: client-credentials token of the same client.
pub(super) async fn read_order<I: WireOrder>(
    State(pisp): State<Pisp>,
    Unsigned(token): Unsigned,
    Path(id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    let order = pisp.payment_of_client::<I::Terms>(&token, &id).await?;
    Ok(JsonWithStatus(
        StatusCode::OK,
        render_order::<I>(&pisp, &order).await?,
    ))
}

/// `OBWritePaymentDetailsResponse1`, every payment kind's `payment-details`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DetailsResponse {
    pub data: DetailsData,
    pub links: Links,
    pub meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct DetailsData {
    pub payment_status: Vec<PaymentStatusEntry>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct PaymentStatusEntry {
    pub payment_transaction_id: String,
    pub status: &'static str,
    pub status_update_date_time: DateTime,
    pub status_detail: StatusDetail,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct StatusDetail {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_instrument: Option<String>,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason_description: Option<String>,
}

/// The order's state on the core's schedule: (Status, StatusDetail.Status, StatusReason).
async fn schedule_state<T>(
    pisp: &Pisp,
    o: &DomesticOrder<T>,
    kind: PaymentKind,
    core_id: &str,
) -> Result<(&'static str, String, Option<&'static str>), Error> {
    let accounts = std::slice::from_ref(&o.record.debtor_account_id);
    Ok(match kind {
        PaymentKind::Scheduled | PaymentKind::Domestic => {
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
        PaymentKind::StandingOrder => {
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
    Unsigned(token): Unsigned,
    Path(id): Path<String>,
) -> Result<JsonWithStatus, Error> {
    let o = pisp.payment_of_client::<I::Terms>(&token, &id).await?;
    let (status, detail, reason, description) = match (o.status, o.core_id.as_deref()) {
        (OrderStatus::InitiationCompleted, Some(core_id)) => {
            let (s, d, r) = schedule_state(&pisp, &o, kind::<I>(), core_id).await?;
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
                payment_transaction_id: o.core_id.clone().unwrap_or_else(|| o.record.id.clone()),
                status,
                status_update_date_time: o.record.status_updated_at.into(),
                status_detail: StatusDetail {
                    local_instrument: None,
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

fn kind<I: WireOrder>() -> PaymentKind {
    <I::Terms as crate::order::Terms>::KIND
}
