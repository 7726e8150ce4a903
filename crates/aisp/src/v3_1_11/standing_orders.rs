//! `/standing-orders` and `/accounts/{AccountId}/standing-orders` (v3.1.11,
//! `OBReadStandingOrder6`, needs `ReadStandingOrdersBasic|Detail`). Basic shows the schedule
//! and amounts; Detail adds the payee's `CreditorAccount` (RES/aisp/standing-orders
//! §Permission Codes). A standing order pays the same amount every time, so each of
//! First/Next/Last/Final amount is that amount, shown beside the date it goes with.

use axum::Router;
use bascule_domain::aisp::Level;
use bascule_domain::{AccountId, Currency, ScheduleStatus, StandingOrder};
use bascule_http::Error;
use serde::Serialize;
use time::Date;

use super::per_account::{self, AccountResource};
use super::wire::{Amount, CashAccount, DateTime};
use crate::currencies::{currencies, currency_of};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    per_account::routes::<StandingOrders>()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StandingOrderData {
    standing_order: Vec<ObStandingOrder6>,
}

/// `OBStandingOrder6`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObStandingOrder6 {
    account_id: String,
    standing_order_id: String,
    frequency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    first_payment_date_time: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_payment_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_payment_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_payment_date_time: Option<DateTime>,
    standing_order_status_code: &'static str,
    first_payment_amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_payment_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_payment_amount: Option<Amount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    final_payment_amount: Option<Amount>,
    /// Only with ReadStandingOrdersDetail.
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_account: Option<CashAccount>,
}

/// Payment days are calendar dates; on the wire they are that day's midnight, UTC.
pub(super) fn day(d: Date) -> DateTime {
    DateTime(d.midnight().assume_utc())
}

pub(super) fn status(s: ScheduleStatus) -> &'static str {
    match s {
        ScheduleStatus::Active => "Active",
        ScheduleStatus::Inactive => "Inactive",
    }
}

fn map(so: &StandingOrder, level: Level, currency: Currency) -> ObStandingOrder6 {
    let amount = || Amount::of(so.amount, currency);
    ObStandingOrder6 {
        account_id: so.account_id.to_string(),
        standing_order_id: so.id.to_string(),
        frequency: so.frequency.to_ob_code(),
        reference: Some(so.reference.chars().take(35).collect::<String>())
            .filter(|r| !r.trim().is_empty()),
        first_payment_date_time: day(so.first_payment_on),
        next_payment_date_time: so.next_payment_on.map(day),
        last_payment_date_time: so.last_payment_on.map(day),
        final_payment_date_time: so.final_payment_on.map(day),
        standing_order_status_code: status(so.status),
        first_payment_amount: amount(),
        next_payment_amount: so.next_payment_on.map(|_| amount()),
        last_payment_amount: so.last_payment_on.map(|_| amount()),
        final_payment_amount: so.final_payment_on.map(|_| amount()),
        creditor_account: (level == Level::Detail).then(|| {
            let name = Some(so.creditor_name.chars().take(350).collect::<String>())
                .filter(|n| !n.trim().is_empty());
            CashAccount::sort_code_account_number(&so.creditor, name)
        }),
    }
}

/// `OBReadStandingOrder6`.
struct StandingOrders;

impl AccountResource for StandingOrders {
    const PATH: &'static str = "/standing-orders";
    type Grant = Level;
    type Data = StandingOrderData;

    fn grant(access: &Access) -> Result<Level, Error> {
        access.require(
            access.permissions.standing_orders(),
            "ReadStandingOrdersBasic or ReadStandingOrdersDetail",
        )
    }

    async fn read(
        aisp: &Aisp,
        level: Level,
        accounts: &[AccountId],
    ) -> Result<StandingOrderData, Error> {
        let found = aisp
            .core_banking()
            .standing_orders(accounts)
            .await
            .map_err(core_error)?;
        let currencies = currencies(aisp, accounts).await?;
        let standing_order = found
            .iter()
            .map(|so| map(so, level, currency_of(&currencies, &so.account_id)))
            .collect();
        Ok(StandingOrderData { standing_order })
    }
}
