//! `/scheduled-payments` and `/accounts/{AccountId}/scheduled-payments` (v3.1.11,
//! `OBReadScheduledPayment3`, needs `ReadScheduledPaymentsBasic|Detail`): the payments still
//! to be made (the ledger keeps executed ones out of this list). Basic shows when and how
//! much; Detail adds the payee's `CreditorAccount` (RES/aisp/scheduled-payments §Permission
//! Codes). `ScheduledType` is `Execution`: the date is when the bank sends the money.

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::Uri;
use axum::routing::get;
use bascule_domain::aisp::Level;
use bascule_domain::{AccountId, Currency, ScheduledPayment};
use bascule_http::Error;
use serde::Serialize;

use super::standing_orders::day;
use super::transactions::{currencies, currency_of};
use super::wire::{Amount, CashAccount, DateTime, Envelope};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/scheduled-payments", get(bulk))
        .route("/accounts/{AccountId}/scheduled-payments", get(of_account))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduledPaymentData {
    scheduled_payment: Vec<ObScheduledPayment3>,
}

/// `OBScheduledPayment3`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObScheduledPayment3 {
    account_id: String,
    scheduled_payment_id: String,
    scheduled_payment_date_time: DateTime,
    scheduled_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    instructed_amount: Amount,
    /// Only with ReadScheduledPaymentsDetail.
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_account: Option<CashAccount>,
}

fn map(sp: &ScheduledPayment, level: Level, currency: Currency) -> ObScheduledPayment3 {
    ObScheduledPayment3 {
        account_id: sp.account_id.to_string(),
        scheduled_payment_id: sp.id.to_string(),
        scheduled_payment_date_time: day(sp.execute_on),
        scheduled_type: "Execution",
        reference: Some(sp.reference.chars().take(35).collect::<String>())
            .filter(|r| !r.trim().is_empty()),
        instructed_amount: Amount::of(sp.amount, currency),
        creditor_account: (level == Level::Detail).then(|| {
            let name = Some(sp.creditor_name.chars().take(350).collect::<String>())
                .filter(|n| !n.trim().is_empty());
            CashAccount::sort_code_account_number(&sp.creditor, name)
        }),
    }
}

fn level(access: &Access) -> Result<Level, Error> {
    access.require(
        access.permissions.scheduled_payments(),
        "ReadScheduledPaymentsBasic or ReadScheduledPaymentsDetail",
    )
}

async fn respond(
    aisp: &Aisp,
    uri: &Uri,
    level: Level,
    accounts: &[AccountId],
) -> Result<Json<Envelope<ScheduledPaymentData>>, Error> {
    let found = aisp
        .core_banking()
        .scheduled_payments(accounts)
        .await
        .map_err(core_error)?;
    let currencies = currencies(aisp, accounts).await?;
    let scheduled_payment = found
        .iter()
        .map(|sp| map(sp, level, currency_of(&currencies, &sp.account_id)))
        .collect();
    Ok(Json(Envelope::single(
        aisp,
        uri,
        ScheduledPaymentData { scheduled_payment },
    )))
}

async fn bulk(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
) -> Result<Json<Envelope<ScheduledPaymentData>>, Error> {
    let level = level(&access)?;
    respond(&aisp, &uri, level, access.accounts()).await
}

async fn of_account(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<ScheduledPaymentData>>, Error> {
    let level = level(&access)?;
    let account = access.account(&aisp, &account_id).await?;
    respond(&aisp, &uri, level, std::slice::from_ref(&account.id)).await
}
