//! `/scheduled-payments` and `/accounts/{AccountId}/scheduled-payments` (v3.1.11,
//! `OBReadScheduledPayment3`, needs `ReadScheduledPaymentsBasic|Detail`): the payments still
//! to be made (the ledger keeps executed ones out of this list). Basic shows when and how
//! much; Detail adds the payee's `CreditorAccount` (RES/aisp/scheduled-payments §Permission
//! Codes). `ScheduledType` is `Execution`: the date is when the bank sends the money.

use axum::Router;
use bascule_domain::aisp::Level;
use bascule_domain::{AccountId, Currency, ScheduledPayment};
use bascule_http::Error;
use serde::Serialize;

use super::per_account::{self, AccountResource};
use super::standing_orders::day;
use super::wire::{Amount, CashAccount, DateTime};
use crate::currencies::{currencies, currency_of};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    per_account::routes::<ScheduledPayments>()
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

/// `OBReadScheduledPayment3`.
struct ScheduledPayments;

impl AccountResource for ScheduledPayments {
    const PATH: &'static str = "/scheduled-payments";
    type Grant = Level;
    type Data = ScheduledPaymentData;

    fn grant(access: &Access) -> Result<Level, Error> {
        access.require(
            access.permissions.scheduled_payments(),
            "ReadScheduledPaymentsBasic or ReadScheduledPaymentsDetail",
        )
    }

    async fn read(
        aisp: &Aisp,
        level: Level,
        accounts: &[AccountId],
    ) -> Result<ScheduledPaymentData, Error> {
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
        Ok(ScheduledPaymentData { scheduled_payment })
    }
}
