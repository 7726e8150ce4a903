//! `/direct-debits` and `/accounts/{AccountId}/direct-debits` (v3.1.11, `OBReadDirectDebit2`,
//! needs `ReadDirectDebits`): each mandate with its originator, status and the last collection.

use axum::Router;
use bascule_domain::aisp::Permission;
use bascule_domain::{AccountId, DirectDebitMandate, MandateStatus};
use bascule_http::Error;
use serde::Serialize;

use super::per_account::{self, AccountResource};
use super::wire::{Amount, DateTime};
use crate::currencies::{currencies, currency_of};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    per_account::routes::<DirectDebits>()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct DirectDebitData {
    direct_debit: Vec<ObDirectDebit2>,
}

/// `OBReadDirectDebit2.Data.DirectDebit[]`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObDirectDebit2 {
    account_id: String,
    direct_debit_id: String,
    mandate_identification: String,
    direct_debit_status_code: &'static str,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_payment_date_time: Option<DateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_payment_amount: Option<Amount>,
}

fn map(d: &DirectDebitMandate, currency: bascule_domain::Currency) -> ObDirectDebit2 {
    ObDirectDebit2 {
        account_id: d.account_id.to_string(),
        direct_debit_id: d.id.to_string(),
        mandate_identification: d.mandate_reference.chars().take(35).collect(),
        direct_debit_status_code: match d.status {
            MandateStatus::Active => "Active",
            MandateStatus::Inactive => "Inactive",
        },
        name: d.originator_name.chars().take(70).collect(),
        previous_payment_date_time: d.last_collected_at.map(DateTime),
        previous_payment_amount: d.last_amount.map(|a| Amount::of(a, currency)),
    }
}

/// `OBReadDirectDebit2`.
struct DirectDebits;

impl AccountResource for DirectDebits {
    const PATH: &'static str = "/direct-debits";
    type Grant = ();
    type Data = DirectDebitData;

    fn grant(access: &Access) -> Result<(), Error> {
        access.require_that(
            access.permissions.contains(Permission::ReadDirectDebits),
            "ReadDirectDebits",
        )
    }

    async fn read(aisp: &Aisp, (): (), accounts: &[AccountId]) -> Result<DirectDebitData, Error> {
        let found = aisp
            .core_banking()
            .direct_debits(accounts)
            .await
            .map_err(core_error)?;
        let currencies = currencies(aisp, accounts).await?;
        let direct_debit = found
            .iter()
            .map(|d| map(d, currency_of(&currencies, &d.account_id)))
            .collect();
        Ok(DirectDebitData { direct_debit })
    }
}
