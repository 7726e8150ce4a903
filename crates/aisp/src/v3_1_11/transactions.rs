//! `/transactions`, `/accounts/{AccountId}/transactions` and
//! `/accounts/{AccountId}/statements/{StatementId}/transactions` (v3.1.11, `OBReadTransaction6`,
//! needs `ReadTransactionsBasic|Detail` with `ReadTransactionsCredits` and/or `Debits`).
//!
//! - Basic shows the movement itself (id, status, times, amount, code); Detail adds
//!   `TransactionInformation`, `MerchantDetails`, the counterparty's `CreditorAccount` or
//!   `DebtorAccount`, and the running `Balance` after each booked line (RES/aisp/transactions
//!   §Permission Codes).
//! - Only one of Credits/Debits granted filters to that direction.
//! - `fromBookingDateTime`/`toBookingDateTime` narrow, never widen, the consent's
//!   `TransactionFromDateTime`/`ToDateTime` (and the bank's history rule).
//! - Pages are keyset pages (`crate::transactions`) behind an opaque `page` parameter, with
//!   absolute `Links` (`Self`, `First`, `Prev`, `Next`, `Last`), `Meta.TotalPages`, and the
//!   range of booking times the consent makes available in `Meta.First/LastAvailableDateTime`.
//! - The ledger holds no card numbers, so no `CardInstrument` (and nothing for `ReadPAN` to
//!   unmask) appears here.

use std::collections::HashMap;

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::Uri;
use axum::routing::get;
use bascule_api_kit::LinkBase;
use bascule_domain::aisp::Level;
use bascule_domain::{AccountId, CreditDebit, Currency, Transaction, TransactionStatus};
use bascule_http::Error;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::wire::{Amount, DateTime, Links, Meta, credit_debit};
use crate::currencies::currency_of;
use crate::transactions::{
    self as listing, Next, PAGE_PARAM, PageToken, TransactionFilter, TransactionListing, page_size,
    parse_query_datetime,
};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/transactions", get(bulk))
        .route("/accounts/{AccountId}/transactions", get(of_account))
        .route(
            "/accounts/{AccountId}/statements/{StatementId}/transactions",
            get(of_statement),
        )
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct TransactionParams {
    #[serde(rename = "fromBookingDateTime")]
    from: Option<String>,
    #[serde(rename = "toBookingDateTime")]
    to: Option<String>,
    page: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ReadTransaction {
    data: TransactionData,
    links: Links,
    meta: Meta,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TransactionData {
    transaction: Vec<ObTransaction6>,
}

/// `OBTransaction6`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObTransaction6 {
    account_id: String,
    transaction_id: String,
    credit_debit_indicator: &'static str,
    status: &'static str,
    transaction_mutability: &'static str,
    booking_date_time: DateTime,
    value_date_time: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_information: Option<String>,
    amount: Amount,
    proprietary_bank_transaction_code: ProprietaryBankTransactionCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<TransactionCashBalance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant_details: Option<MerchantDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_account: Option<CounterpartyAccount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor_account: Option<CounterpartyAccount>,
}

/// `ProprietaryBankTransactionCodeStructure1`: the ledger's own code for the movement.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProprietaryBankTransactionCode {
    code: &'static str,
}

/// `OBTransactionCashBalance`: the booked balance right after the line.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TransactionCashBalance {
    credit_debit_indicator: &'static str,
    #[serde(rename = "Type")]
    kind: &'static str,
    amount: Amount,
}

/// `OBMerchantDetails1`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct MerchantDetails {
    merchant_name: String,
    merchant_category_code: String,
}

/// `OBCashAccount6_0`/`_1`: every field optional, so a counterparty known only by name (a
/// direct debit originator) is still shown.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CounterpartyAccount {
    #[serde(skip_serializing_if = "Option::is_none")]
    scheme_name: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    identification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

fn map(t: &Transaction, level: Level, currency: Currency) -> ObTransaction6 {
    let detail = level == Level::Detail;
    let booked = t.status == TransactionStatus::Booked;
    let information = detail
        .then(|| match &t.reference {
            Some(r) if !r.is_empty() && *r != t.description => {
                format!("{} {r}", t.description)
            }
            _ => t.description.clone(),
        })
        .map(|s| truncate(&s, 500))
        .and_then(non_empty);
    let merchant = t.merchant.as_ref().filter(|_| detail).and_then(|m| {
        let code_ok = (3..=4).contains(&m.category_code.len());
        non_empty(truncate(&m.name, 350)).map(|name| MerchantDetails {
            merchant_name: name,
            merchant_category_code: if code_ok {
                m.category_code.clone()
            } else {
                "0000".into()
            },
        })
    });
    let counterparty = t.counterparty.as_ref().filter(|_| detail).map(|c| {
        let identification = match (c.sort_code, c.account_number) {
            (Some(s), Some(n)) => Some(format!("{s}{n}")),
            _ => None,
        };
        CounterpartyAccount {
            scheme_name: identification
                .as_ref()
                .map(|_| "UK.OBIE.SortCodeAccountNumber"),
            identification,
            name: non_empty(truncate(&c.name, 350)),
        }
    });
    let (creditor_account, debtor_account) = match t.credit_debit {
        // Money out: the counterparty was paid (the creditor); money in: they paid.
        CreditDebit::Debit => (counterparty, None),
        CreditDebit::Credit => (None, counterparty),
    };
    let balance = t
        .balance_after
        .filter(|_| detail && booked)
        .map(|b| TransactionCashBalance {
            credit_debit_indicator: credit_debit(b),
            kind: "InterimBooked",
            amount: Amount::of(b, currency),
        });
    ObTransaction6 {
        account_id: t.account_id.to_string(),
        transaction_id: t.id.to_string(),
        credit_debit_indicator: t.credit_debit.as_str(),
        status: match t.status {
            TransactionStatus::Booked => "Booked",
            TransactionStatus::Pending => "Pending",
            // Released authorisations are never listed; if one were, it did not happen.
            TransactionStatus::Released => "Rejected",
        },
        // A pending line may still change (amount, time); a booked one never does.
        transaction_mutability: if booked { "Immutable" } else { "Mutable" },
        booking_date_time: DateTime(t.booked_at),
        value_date_time: DateTime(t.value_at),
        transaction_information: information,
        amount: Amount::of(t.amount, currency),
        proprietary_bank_transaction_code: ProprietaryBankTransactionCode {
            code: t.code.as_str(),
        },
        balance,
        merchant_details: merchant,
        creditor_account,
        debtor_account,
    }
}

async fn bulk(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Query(params): Query<TransactionParams>,
) -> Result<Json<impl Serialize>, Error> {
    respond(&aisp, &access, &uri, params, access.accounts(), None).await
}

async fn of_account(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
    Query(params): Query<TransactionParams>,
) -> Result<Json<impl Serialize>, Error> {
    of_one_account(&aisp, &access, &uri, params, &account_id, None).await
}

async fn of_statement(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path((account_id, statement_id)): Path<(String, String)>,
    Query(params): Query<TransactionParams>,
) -> Result<Json<impl Serialize>, Error> {
    of_one_account(
        &aisp,
        &access,
        &uri,
        params,
        &account_id,
        Some(&statement_id),
    )
    .await
}

/// One account's transactions, within one of its statements' periods if `statement_id` is
/// given. The permission is checked before the account, the account before the statement.
async fn of_one_account(
    aisp: &Aisp,
    access: &Access,
    uri: &Uri,
    params: TransactionParams,
    account_id: &str,
    statement_id: Option<&str>,
) -> Result<Json<ReadTransaction>, Error> {
    require(access)?;
    let account = access.account(aisp, account_id).await?;
    let period = match statement_id {
        Some(id) => {
            let statement = super::statements::statement_of(aisp, &account.id, id).await?;
            Some((statement.starts_at, statement.ends_at))
        }
        None => None,
    };
    let accounts = std::slice::from_ref(&account.id);
    respond(aisp, access, uri, params, accounts, period).await
}

fn require(access: &Access) -> Result<Level, Error> {
    access
        .require(
            access.permissions.transactions(),
            "ReadTransactionsBasic or ReadTransactionsDetail",
        )
        .map(|t| t.level)
}

async fn respond(
    aisp: &Aisp,
    access: &Access,
    uri: &Uri,
    params: TransactionParams,
    accounts: &[AccountId],
    period: Option<(OffsetDateTime, OffsetDateTime)>,
) -> Result<Json<ReadTransaction>, Error> {
    let grant = access.require(
        access.permissions.transactions(),
        "ReadTransactionsBasic or ReadTransactionsDetail",
    )?;
    let requested = (
        params
            .from
            .as_deref()
            .map(|raw| parse_query_datetime(raw, "fromBookingDateTime"))
            .transpose()?,
        params
            .to
            .as_deref()
            .map(|raw| parse_query_datetime(raw, "toBookingDateTime"))
            .transpose()?,
    );
    let window = access.transaction_window(aisp);
    let mut filter = TransactionFilter::new(requested, window, grant);
    if let Some((from, to)) = period {
        filter = filter.within(from, to);
    }
    let page = params.page.as_deref().map(PageToken::decode).transpose()?;
    let listing = listing::list(
        aisp.core_banking().as_ref(),
        accounts,
        filter,
        page.as_ref(),
        page_size(aisp.config().page_size),
    )
    .await?;

    let found = aisp
        .core_banking()
        .accounts(accounts)
        .await
        .map_err(core_error)?;
    let currencies: HashMap<AccountId, Currency> =
        found.iter().map(|a| (a.id.clone(), a.currency)).collect();
    let transaction = listing
        .transactions
        .iter()
        .map(|t| map(t, grant.level, currency_of(&currencies, &t.account_id)))
        .collect();
    // What the consent makes available: from the earliest opening (or the window's start) to
    // now (or the window's end); for a statement, its period within that.
    let opened = found
        .iter()
        .map(|a| a.opened_on.midnight().assume_utc())
        .min();
    let mut first_available = [window.0, opened].into_iter().flatten().max();
    let mut last_available = [window.1, Some(aisp.now())].into_iter().flatten().min();
    if let Some((from, to)) = period {
        first_available = first_available.max(Some(from));
        last_available = last_available.min(Some(to));
    }
    Ok(Json(ReadTransaction {
        data: TransactionData { transaction },
        links: links(aisp, uri, &listing),
        meta: Meta {
            total_pages: Some(i32::try_from(listing.total_pages()).unwrap_or(i32::MAX)),
            first_available_date_time: first_available.map(DateTime),
            last_available_date_time: last_available.map(DateTime),
        },
    }))
}

/// `Links` of one page: `Self` as requested; the others are the same request (its filters as
/// sent) with the `page` parameter replaced.
fn links(aisp: &Aisp, uri: &Uri, listing: &TransactionListing) -> Links {
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && p.split('=').next() != Some(PAGE_PARAM))
        .collect();
    let with_page = |token: Option<&PageToken>| {
        let mut params = kept.clone();
        let page = token.map(|t| format!("{PAGE_PARAM}={}", t.encode()));
        if let Some(p) = &page {
            params.push(p);
        }
        if params.is_empty() {
            aisp.url(uri.path())
        } else {
            aisp.url(&format!("{}?{}", uri.path(), params.join("&")))
        }
    };
    let neighbour = |n: &Next| match n {
        Next::First => with_page(None),
        Next::Token(t) => with_page(Some(t)),
    };
    Links {
        first: Some(with_page(None)),
        prev: listing.prev.as_ref().map(neighbour),
        next: listing.next.as_ref().map(neighbour),
        last: Some(with_page(listing.last.as_ref())),
        ..Links::of_request(aisp, uri)
    }
}
