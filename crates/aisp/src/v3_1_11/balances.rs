//! `/balances` and `/accounts/{AccountId}/balances` (v3.1.11, `OBReadBalance1`, needs
//! `ReadBalances`). Each account shows its `InterimBooked` and `InterimAvailable` balances; an
//! arranged overdraft is a `Pre-Agreed` credit line included in the available balance.

use axum::Router;
use bascule_core_banking::AccountBalance;
use bascule_domain::AccountId;
use bascule_domain::aisp::Permission;
use bascule_http::Error;
use serde::Serialize;

use super::per_account::{self, AccountResource};
use super::wire::{Amount, DateTime, credit_debit};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    per_account::routes::<Balances>()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct BalanceData {
    balance: Vec<ObBalance>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObBalance {
    account_id: String,
    credit_debit_indicator: &'static str,
    #[serde(rename = "Type")]
    kind: &'static str,
    date_time: DateTime,
    amount: Amount,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    credit_line: Vec<CreditLine>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreditLine {
    included: bool,
    #[serde(rename = "Type")]
    kind: &'static str,
    amount: Amount,
}

fn map(balance: &AccountBalance) -> [ObBalance; 2] {
    let overdraft = (balance.overdraft_limit.0 > 0).then(|| CreditLine {
        included: true,
        kind: "Pre-Agreed",
        amount: Amount::of(balance.overdraft_limit, balance.currency),
    });
    let at = DateTime(balance.at);
    [
        ObBalance {
            account_id: balance.account_id.to_string(),
            credit_debit_indicator: credit_debit(balance.booked),
            kind: "InterimBooked",
            date_time: at,
            amount: Amount::of(balance.booked, balance.currency),
            credit_line: Vec::new(),
        },
        ObBalance {
            account_id: balance.account_id.to_string(),
            credit_debit_indicator: credit_debit(balance.available),
            kind: "InterimAvailable",
            date_time: at,
            amount: Amount::of(balance.available, balance.currency),
            credit_line: overdraft.into_iter().collect(),
        },
    ]
}

/// `OBReadBalance1`.
struct Balances;

impl AccountResource for Balances {
    const PATH: &'static str = "/balances";
    type Grant = ();
    type Data = BalanceData;

    fn grant(access: &Access) -> Result<(), Error> {
        access.require_that(
            access.permissions.contains(Permission::ReadBalances),
            "ReadBalances",
        )
    }

    async fn read(aisp: &Aisp, (): (), accounts: &[AccountId]) -> Result<BalanceData, Error> {
        let found = aisp
            .core_banking()
            .balances(accounts)
            .await
            .map_err(core_error)?;
        let balance = found.iter().flat_map(map).collect();
        Ok(BalanceData { balance })
    }
}
