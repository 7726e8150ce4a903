//! The personal API's routes (`/personal/v1/...`). Every resource is the calling customer's
//! own: an id that is not theirs answers 404, exactly as one that does not exist.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use bascule_core_banking::{
    CoreBankingError, OwnMovement, PageDirection, TransactionCursor, TransactionQuery,
};
use bascule_domain::{Account, AccountId, Amount, CustomerId, TransactionId};
use bascule_http::{Error, ObErrorCode, ObErrorDetail};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::tokens::Caller;
use crate::wire::{
    AccountJson, BalanceJson, MoveJson, PotJson, TransactionJson, WebhookJson, datetime,
};
use crate::{BASE, OPENAPI, PersonalApi};

/// Transactions per page when the caller names no `limit`, and the most it may ask for.
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 100;

pub(crate) fn routes() -> Router<PersonalApi> {
    Router::new()
        .route(&format!("{BASE}/openapi.json"), get(openapi))
        .route(&format!("{BASE}/accounts"), get(accounts))
        .route(&format!("{BASE}/accounts/{{account_id}}"), get(account))
        .route(
            &format!("{BASE}/accounts/{{account_id}}/balance"),
            get(balance),
        )
        .route(
            &format!("{BASE}/accounts/{{account_id}}/transactions"),
            get(transactions),
        )
        .route(&format!("{BASE}/pots"), get(pots))
        .route(&format!("{BASE}/moves"), post(create_move))
        .route(
            &format!("{BASE}/webhooks"),
            get(list_webhooks).post(create_webhook),
        )
        .route(
            &format!("{BASE}/webhooks/{{webhook_id}}"),
            delete(delete_webhook),
        )
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::BadRequest(vec![
        ObErrorDetail::new(ObErrorCode::FieldInvalid, message).at(field),
    ])
}

/// The core's refusals in the personal API's words.
pub(crate) fn core_error(e: CoreBankingError) -> Error {
    match e {
        CoreBankingError::NotFound(_) => Error::NotFound,
        CoreBankingError::InsufficientFunds => {
            invalid("amount", "There is not enough money in the account")
        }
        CoreBankingError::AccountNotEnabled(_) => {
            invalid("from_account_id", "The account does not accept payments")
        }
        CoreBankingError::Invalid(m) => invalid("to_account_id", m),
        CoreBankingError::IdempotencyConflict => Error::ClientError(StatusCode::CONFLICT),
        CoreBankingError::Rule(r) => Error::internal(r),
        CoreBankingError::Unavailable(m) => Error::Unavailable(m),
    }
}

/// A JSON body of exactly the fields `T` has: the API kit's strict parser (a missing,
/// unexpected, repeated or mistyped field is named in `error.field`).
fn parse_body<T: DeserializeOwned>(raw: &[u8], schema: &str) -> Result<T, Error> {
    bascule_api_kit::body::parse(raw, schema)
}

impl PersonalApi {
    async fn accounts_of(&self, customer: &CustomerId) -> Result<Vec<Account>, Error> {
        self.core()
            .accounts_of_customer(customer)
            .await
            .map_err(core_error)
    }

    /// The customer's account `id`, or 404.
    async fn own_account(&self, customer: &CustomerId, id: &str) -> Result<Account, Error> {
        self.accounts_of(customer)
            .await?
            .into_iter()
            .find(|a| a.id.as_str() == id)
            .ok_or(Error::NotFound)
    }
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn accounts(
    State(api): State<PersonalApi>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, Error> {
    let accounts: Vec<AccountJson> = api
        .accounts_of(&caller.customer_id)
        .await?
        .iter()
        .map(AccountJson::of)
        .collect();
    Ok(Json(json!({ "accounts": accounts })))
}

async fn account(
    State(api): State<PersonalApi>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, Error> {
    let account = api.own_account(&caller.customer_id, &id).await?;
    Ok(Json(json!({ "account": AccountJson::of(&account) })))
}

async fn balance(
    State(api): State<PersonalApi>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<BalanceJson>, Error> {
    let account = api.own_account(&caller.customer_id, &id).await?;
    let balances = api
        .core()
        .balances(std::slice::from_ref(&account.id))
        .await
        .map_err(core_error)?;
    let balance = balances.first().ok_or(Error::NotFound)?;
    Ok(Json(BalanceJson::of(balance)))
}

fn time_param(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<OffsetDateTime>, Error> {
    params
        .get(name)
        .map(|raw| {
            OffsetDateTime::parse(raw, &Rfc3339)
                .map_err(|_| invalid(name, format!("{name} must be an RFC 3339 date-time")))
        })
        .transpose()
}

/// A page cursor: where the last page ended, opaque to the caller.
fn encode_cursor(booked_at: OffsetDateTime, id: &TransactionId) -> String {
    let micros = booked_at.unix_timestamp_nanos() / 1_000;
    URL_SAFE_NO_PAD.encode(format!("{micros}:{id}"))
}

fn decode_cursor(raw: &str) -> Result<TransactionCursor, Error> {
    let refused = || invalid("cursor", "cursor is not one this API gave out");
    let text = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(refused)?;
    let (micros, id) = text.split_once(':').ok_or_else(refused)?;
    let micros: i128 = micros.parse().map_err(|_| refused())?;
    Ok(TransactionCursor {
        booked_at: OffsetDateTime::from_unix_timestamp_nanos(micros.saturating_mul(1_000))
            .map_err(|_| refused())?,
        id: TransactionId::parse(id.to_owned()).map_err(|_| refused())?,
    })
}

/// Newest first; `since` and `until` bound the booking time (both inclusive); `next_cursor`
/// fetches the older page that follows.
async fn transactions(
    State(api): State<PersonalApi>,
    caller: Caller,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<serde_json::Value>, Error> {
    if let Some(unknown) = params
        .keys()
        .find(|k| !["since", "until", "limit", "cursor"].contains(&k.as_str()))
    {
        return Err(invalid(
            unknown,
            format!("{unknown} is not a parameter here"),
        ));
    }
    let account = api.own_account(&caller.customer_id, &id).await?;
    let limit = match params.get("limit") {
        None => DEFAULT_PAGE,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|l| (1..=MAX_PAGE).contains(l))
            .ok_or_else(|| invalid("limit", format!("limit must be 1 to {MAX_PAGE}")))?,
    };
    let cursor = params.get("cursor").map(|c| decode_cursor(c)).transpose()?;
    let query = TransactionQuery {
        from: time_param(&params, "since")?,
        to: time_param(&params, "until")?,
        cursor,
        direction: PageDirection::Backward,
        limit,
        ..Default::default()
    };
    let page = api
        .core()
        .transactions(&account.id, &query)
        .await
        .map_err(core_error)?;
    let next_cursor = page
        .transactions
        .first()
        .filter(|_| page.has_before)
        .map(|t| encode_cursor(t.booked_at, &t.id));
    let transactions: Vec<TransactionJson> = page
        .transactions
        .iter()
        .rev()
        .map(|t| TransactionJson::of(t, account.currency))
        .collect();
    Ok(Json(
        json!({ "transactions": transactions, "next_cursor": next_cursor }),
    ))
}

async fn pots(
    State(api): State<PersonalApi>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, Error> {
    let pots: Vec<Account> = api
        .accounts_of(&caller.customer_id)
        .await?
        .into_iter()
        .filter(|a| a.pot.is_some() && a.is_open())
        .collect();
    let ids: Vec<AccountId> = pots.iter().map(|p| p.id.clone()).collect();
    let balances = api.core().balances(&ids).await.map_err(core_error)?;
    let mut out = Vec::with_capacity(pots.len());
    for pot in &pots {
        let Some(p) = &pot.pot else { continue };
        let balance = balances
            .iter()
            .find(|b| b.account_id == pot.id)
            .map(|b| b.booked.to_string())
            .unwrap_or_else(|| "0.00".into());
        out.push(PotJson {
            id: pot.id.to_string(),
            name: p.name.clone(),
            parent_account_id: p.parent.to_string(),
            currency: pot.currency.as_str().to_owned(),
            balance,
            goal: p.goal.map(|g| g.to_string()),
        });
    }
    Ok(Json(json!({ "pots": out })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveRequest {
    from_account_id: String,
    to_account_id: String,
    amount: String,
    dedupe_id: String,
}

/// Money between the customer's current account and one of its pots. The `dedupe_id` is the
/// ledger's idempotency key (per customer): a repeat moves nothing and answers the first move
/// (200 instead of 201); the same id for a different move is 409.
async fn create_move(
    State(api): State<PersonalApi>,
    caller: Caller,
    raw: Bytes,
) -> Result<impl IntoResponse, Error> {
    caller.may_move_money()?;
    let request: MoveRequest = parse_body(&raw, "MoveRequest")?;
    let dedupe = request.dedupe_id.as_str();
    if dedupe.is_empty() || dedupe.len() > 64 || !dedupe.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "dedupe_id",
            "dedupe_id must be 1 to 64 visible ASCII characters",
        ));
    }
    let amount = Amount::parse(&request.amount)
        .ok()
        .and_then(|a| a.to_pence().ok())
        .filter(|p| p.0 > 0)
        .ok_or_else(|| {
            invalid(
                "amount",
                "amount must be a positive sum in pounds and pence",
            )
        })?;
    let accounts = api.accounts_of(&caller.customer_id).await?;
    let own = |id: &str| accounts.iter().find(|a| a.id.as_str() == id);
    let (Some(from), Some(to)) = (own(&request.from_account_id), own(&request.to_account_id))
    else {
        return Err(Error::NotFound);
    };
    let movement = OwnMovement {
        from: from.id.clone(),
        to: to.id.clone(),
        amount,
        idempotency_key: format!("{}:{dedupe}", caller.customer_id),
    };
    let outcome = api
        .core()
        .move_own_money(&movement)
        .await
        .map_err(core_error)?;
    let body = json!({ "move": MoveJson {
        transaction_id: outcome.debtor_transaction_id.to_string(),
        from_account_id: from.id.to_string(),
        to_account_id: to.id.to_string(),
        amount: amount.to_string(),
        currency: from.currency.as_str().to_owned(),
        dedupe_id: request.dedupe_id.clone(),
        created: datetime(outcome.booked_at),
    }});
    let status = if outcome.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(body)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookRequest {
    account_id: String,
    url: String,
}

async fn create_webhook(
    State(api): State<PersonalApi>,
    caller: Caller,
    raw: Bytes,
) -> Result<impl IntoResponse, Error> {
    let request: WebhookRequest = parse_body(&raw, "WebhookRequest")?;
    let account = api
        .own_account(&caller.customer_id, &request.account_id)
        .await?;
    api.check_webhook_url(&request.url)?;
    let (webhook, secret) = api
        .add_webhook(
            &caller.customer_id,
            &caller.token_id,
            &account.id,
            &request.url,
        )
        .await?;
    // The secret is in this answer only: no cache keeps it.
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({ "webhook": webhook, "secret": secret })),
    ))
}

async fn list_webhooks(
    State(api): State<PersonalApi>,
    caller: Caller,
) -> Result<Json<serde_json::Value>, Error> {
    let webhooks: Vec<WebhookJson> = api.webhooks_of(&caller.customer_id).await?;
    Ok(Json(json!({ "webhooks": webhooks })))
}

async fn delete_webhook(
    State(api): State<PersonalApi>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    if api
        .remove_webhook(&caller.customer_id, &id)
        .await
        .map_err(Error::internal)?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_and_a_forged_one_is_refused() {
        let at = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_000).unwrap();
        let id = TransactionId::parse("tx-1".to_owned()).unwrap();
        let cursor = decode_cursor(&encode_cursor(at, &id)).unwrap();
        assert_eq!((cursor.booked_at, cursor.id), (at, id));
        for forged in ["", "!!", "bm90LWEtY3Vyc29y", "MTIzOg"] {
            assert!(decode_cursor(forged).is_err(), "{forged}");
        }
    }
}
