//! `/accounts` and `/accounts/{AccountId}` (v3.1.11, `OBReadAccount6`). Every selected account
//! is listed, pots as `AccountSubType: Savings` named by the pot, closed accounts kept with
//! `Status: Deleted` (an account never vanishes from a consent). The identification block
//! (`Account`) only with `ReadAccountsDetail` (RES/aisp/accounts §Permission Codes).

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::routing::get;
use bascule_domain::aisp::Level;
use bascule_domain::{Account, AccountKind, AccountStatus, AccountType, Customer};
use bascule_http::Error;
use serde::Serialize;
use time::Time;

use super::wire::{CashAccount, DateTime, Envelope};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/accounts", get(accounts))
        .route("/accounts/{AccountId}", get(account))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct AccountData {
    pub account: Vec<ObAccount6>,
}

/// `OBAccount6`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ObAccount6 {
    pub account_id: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_update_date_time: Option<DateTime>,
    pub currency: String,
    pub account_type: &'static str,
    pub account_sub_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nickname: Option<String>,
    pub opening_date: DateTime,
    /// Only with ReadAccountsDetail; absent for accounts without their own identification
    /// (pots are reached through their parent's sort code and account number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Vec<CashAccount>>,
}

/// `OBAccountStatus1Code`: a closed account stays visible as Deleted.
pub(super) fn status(status: AccountStatus) -> &'static str {
    match status {
        AccountStatus::Enabled => "Enabled",
        AccountStatus::Disabled => "Disabled",
        AccountStatus::Closed => "Deleted",
    }
}

/// `OBExternalAccountSubType1Code`.
pub(super) fn sub_type(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::CurrentAccount => "CurrentAccount",
        AccountKind::Savings => "Savings",
        AccountKind::CreditCard => "CreditCard",
        // Never in a consent; the closest honest code if one ever were.
        AccountKind::Internal => "CurrentAccount",
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

pub(super) fn map_account(
    account: &Account,
    level: Level,
    holder: Option<&Customer>,
) -> ObAccount6 {
    let nickname = account
        .pot
        .as_ref()
        .map(|p| p.name.clone())
        .or_else(|| account.nickname.clone())
        .map(|n| truncate(&n, 70));
    let identification = match (level, &account.identification) {
        (Level::Detail, Some(id)) => Some(vec![CashAccount::sort_code_account_number(
            id,
            holder.map(|c| truncate(&c.legal_name, 350)),
        )]),
        _ => None,
    };
    ObAccount6 {
        account_id: account.id.to_string(),
        status: status(account.status),
        status_update_date_time: account.closed_at.map(DateTime),
        currency: account.currency.as_str().to_owned(),
        account_type: match account.account_type {
            AccountType::Personal => "Personal",
            AccountType::Business => "Business",
        },
        account_sub_type: sub_type(account.kind),
        nickname,
        opening_date: DateTime(account.opened_on.with_time(Time::MIDNIGHT).assume_utc()),
        account: identification,
    }
}

async fn holder(aisp: &Aisp, access: &Access, level: Level) -> Result<Option<Customer>, Error> {
    match (level, &access.consent.customer_id) {
        (Level::Detail, Some(id)) => Ok(Some(
            aisp.core_banking().customer(id).await.map_err(core_error)?,
        )),
        _ => Ok(None),
    }
}

async fn accounts(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
) -> Result<Json<Envelope<AccountData>>, Error> {
    let level = access.require(
        access.permissions.accounts(),
        "ReadAccountsBasic or ReadAccountsDetail",
    )?;
    let holder = holder(&aisp, &access, level).await?;
    let found = aisp
        .core_banking()
        .accounts(access.accounts())
        .await
        .map_err(core_error)?;
    let account = found
        .iter()
        .filter(|a| a.kind != AccountKind::Internal)
        .map(|a| map_account(a, level, holder.as_ref()))
        .collect();
    Ok(Json(Envelope::single(&aisp, &uri, AccountData { account })))
}

async fn account(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<AccountData>>, Error> {
    let level = access.require(
        access.permissions.accounts(),
        "ReadAccountsBasic or ReadAccountsDetail",
    )?;
    let found = access.account(&aisp, &account_id).await?;
    let holder = holder(&aisp, &access, level).await?;
    Ok(Json(Envelope::single(
        &aisp,
        &uri,
        AccountData {
            account: vec![map_account(&found, level, holder.as_ref())],
        },
    )))
}
