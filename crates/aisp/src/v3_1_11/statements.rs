//! `/statements`, `/accounts/{AccountId}/statements[/{StatementId}]` and
//! `/accounts/{AccountId}/statements/{StatementId}/file` (v3.1.11, `OBReadStatement2`, needs
//! `ReadStatementsBasic|Detail`). The statement's transactions are listed by `transactions`.
//!
//! - The ledger issues one `RegularPeriodic` statement per calendar month and account.
//! - Detail adds `StatementAmount`: the previous closing (opening) and closing booked balances
//!   and the month's total credits and debits (RES/aisp/statements §Permission Codes).
//! - A statement is shown only if it lies completely inside the consent's transaction window
//!   (AISP §Consent Elements) and, with `fromStatementDateTime`/`toStatementDateTime`, only if
//!   both its start and its end lie between them (RES/aisp/statements §Filtering).
//! - Statement files (an Optional endpoint) are not offered: after the same checks as any
//!   statement read (`ReadStatementsDetail`, the file needs it), the answer is 404, which RW
//!   §HTTP Status Codes gives to an endpoint an ASPSP has not implemented.

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::Uri;
use axum::routing::get;
use bascule_domain::aisp::{Level, Permission};
use bascule_domain::{AccountId, Currency, Pence, Statement, StatementId};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::wire::{Amount, DateTime, Links, Meta, credit_debit};
use crate::currencies::{currencies, currency_of};
use crate::transactions::parse_query_datetime;
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/statements", get(bulk))
        .route("/accounts/{AccountId}/statements", get(of_account))
        .route("/accounts/{AccountId}/statements/{StatementId}", get(one))
        .route(
            "/accounts/{AccountId}/statements/{StatementId}/file",
            get(file),
        )
}

#[derive(Debug, Default, Deserialize)]
struct StatementParams {
    #[serde(rename = "fromStatementDateTime")]
    from: Option<String>,
    #[serde(rename = "toStatementDateTime")]
    to: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReadStatement {
    data: StatementData,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementData {
    statement: Vec<ObStatement2>,
}

/// `OBStatement2`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObStatement2 {
    account_id: String,
    statement_id: String,
    #[serde(rename = "Type")]
    kind: &'static str,
    start_date_time: DateTime,
    end_date_time: DateTime,
    creation_date_time: DateTime,
    /// Only with ReadStatementsDetail.
    #[serde(skip_serializing_if = "Option::is_none")]
    statement_amount: Option<Vec<StatementAmount>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct StatementAmount {
    credit_debit_indicator: &'static str,
    /// `OBExternalStatementAmountType1Code` (namespaced `UK.OBIE.*`).
    #[serde(rename = "Type")]
    kind: &'static str,
    amount: Amount,
}

fn map(s: &Statement, level: Level, currency: Currency) -> ObStatement2 {
    let amount = |kind, pence: Pence| StatementAmount {
        credit_debit_indicator: credit_debit(pence),
        kind,
        amount: Amount::of(pence, currency),
    };
    let statement_amount = (level == Level::Detail).then(|| {
        vec![
            amount("UK.OBIE.PreviousClosingBalance", s.opening_balance),
            amount("UK.OBIE.ClosingBalance", s.closing_balance),
            amount("UK.OBIE.TotalCredits", s.total_credits.abs()),
            StatementAmount {
                credit_debit_indicator: "Debit",
                ..amount("UK.OBIE.TotalDebits", s.total_debits.abs())
            },
        ]
    });
    ObStatement2 {
        account_id: s.account_id.to_string(),
        statement_id: s.id.to_string(),
        kind: "RegularPeriodic",
        start_date_time: DateTime(s.starts_at),
        end_date_time: DateTime(s.ends_at),
        creation_date_time: DateTime(s.created_at),
        statement_amount,
    }
}

fn level(access: &Access) -> Result<Level, Error> {
    access.require(
        access.permissions.statements(),
        "ReadStatementsBasic or ReadStatementsDetail",
    )
}

/// Whether the whole statement lies inside `[from, to]` (either end open).
fn inside(s: &Statement, from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> bool {
    from.is_none_or(|f| s.starts_at >= f) && to.is_none_or(|t| s.ends_at <= t)
}

/// The statement `raw` names, if it is one of `account`'s (400 `UK.OBIE.Resource.NotFound`
/// otherwise, as for any unknown id: RW §HTTP Status Codes).
pub(super) async fn statement_of(
    aisp: &Aisp,
    account: &AccountId,
    raw: &str,
) -> Result<Statement, Error> {
    let not_found = || Error::bad_request(ObErrorCode::ResourceNotFound, "No such statement");
    let id = StatementId::parse(raw).map_err(|_| not_found())?;
    let statement = aisp
        .core_banking()
        .statement(&id)
        .await
        .map_err(core_error)?;
    if statement.account_id != *account {
        return Err(not_found());
    }
    Ok(statement)
}

async fn bulk(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Query(params): Query<StatementParams>,
) -> Result<Json<ReadStatement>, Error> {
    let level = level(&access)?;
    list(&aisp, &access, &uri, level, params, access.accounts()).await
}

async fn of_account(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
    Query(params): Query<StatementParams>,
) -> Result<Json<ReadStatement>, Error> {
    let level = level(&access)?;
    let account = access.account(&aisp, &account_id).await?;
    list(
        &aisp,
        &access,
        &uri,
        level,
        params,
        std::slice::from_ref(&account.id),
    )
    .await
}

async fn one(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path((account_id, statement_id)): Path<(String, String)>,
) -> Result<Json<ReadStatement>, Error> {
    let level = level(&access)?;
    let account = access.account(&aisp, &account_id).await?;
    let statement = statement_of(&aisp, &account.id, &statement_id).await?;
    let (from, to) = access.transaction_window(&aisp);
    if !inside(&statement, from, to) {
        return Err(Error::forbidden(
            ObErrorCode::ResourceConsentMismatch,
            "The statement is outside the consent's transaction window",
        ));
    }
    Ok(Json(ReadStatement {
        data: StatementData {
            statement: vec![map(&statement, level, account.currency)],
        },
        links: Links::of_request(&aisp, &uri),
        meta: Meta {
            total_pages: Some(1),
            first_available_date_time: Some(DateTime(statement.starts_at)),
            last_available_date_time: Some(DateTime(statement.ends_at)),
        },
    }))
}

async fn file(
    State(aisp): State<Aisp>,
    access: Access,
    Path((account_id, statement_id)): Path<(String, String)>,
) -> Result<Json<ReadStatement>, Error> {
    access.require_that(
        access
            .permissions
            .contains(Permission::ReadStatementsDetail),
        "ReadStatementsDetail",
    )?;
    let account = access.account(&aisp, &account_id).await?;
    statement_of(&aisp, &account.id, &statement_id).await?;
    // No statement documents are produced (see the module note): not implemented, 404.
    Err(Error::NotFound)
}

async fn list(
    aisp: &Aisp,
    access: &Access,
    uri: &Uri,
    level: Level,
    params: StatementParams,
    accounts: &[AccountId],
) -> Result<Json<ReadStatement>, Error> {
    let requested_from = params
        .from
        .as_deref()
        .map(|raw| parse_query_datetime(raw, "fromStatementDateTime"))
        .transpose()?;
    let requested_to = params
        .to
        .as_deref()
        .map(|raw| parse_query_datetime(raw, "toStatementDateTime"))
        .transpose()?;
    let (from, to) = access.transaction_window(aisp);
    let core = aisp.core_banking();
    let currencies = currencies(aisp, accounts).await?;
    let mut available: Vec<Statement> = core
        .statements(accounts)
        .await
        .map_err(core_error)?
        .into_iter()
        .filter(|s| inside(s, from, to))
        .collect();
    // The customer's order of accounts, then oldest first.
    available.sort_by_key(|s| {
        (
            accounts.iter().position(|a| *a == s.account_id),
            s.starts_at,
        )
    });
    let first_available = available.iter().map(|s| s.starts_at).min();
    let last_available = available.iter().map(|s| s.ends_at).max();
    let statement = available
        .iter()
        .filter(|s| inside(s, requested_from, requested_to))
        .map(|s| map(s, level, currency_of(&currencies, &s.account_id)))
        .collect();
    Ok(Json(ReadStatement {
        data: StatementData { statement },
        links: Links::of_request(aisp, uri),
        meta: Meta {
            total_pages: Some(1),
            first_available_date_time: first_available.map(DateTime),
            last_available_date_time: last_available.map(DateTime),
        },
    }))
}
