//! Column encodings shared by every query: times as UTC microseconds, dates as ISO strings,
//! rates as decimal strings.

use bascule_domain::{
    Account, AccountId, AccountKind, AccountNumber, AccountStatus, AccountType, Counterparty,
    CreditDebit, Currency, CustomerId, Merchant, Pence, Pot, ProductId, ProprietaryCode, SortCode,
    SortCodeAccountNumber, Transaction, TransactionId, TransactionStatus,
};
use bascule_store::StoreError;
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::{Date, OffsetDateTime, format_description::well_known::Iso8601};

pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_micros(us: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1_000)
        .map_err(|_| StoreError::corrupt("timestamp out of range"))
}

pub(crate) fn date_str(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

pub(crate) fn parse_date(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, &Iso8601::DATE).map_err(|_| StoreError::corrupt(format!("date {s}")))
}

pub(crate) fn parse_rate(s: Option<String>) -> Result<Option<Decimal>, StoreError> {
    s.map(|r| {
        r.parse::<Decimal>()
            .map_err(|_| StoreError::corrupt(format!("rate {r}")))
    })
    .transpose()
}

pub(crate) fn get<'r, T>(row: &'r AnyRow, col: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(col).map_err(StoreError::Database)
}

fn corrupt<E>(what: &str) -> impl FnOnce(E) -> StoreError + '_ {
    move |_| StoreError::corrupt(what.to_owned())
}

pub(crate) fn id<T>(
    row: &AnyRow,
    col: &str,
    parse: fn(String) -> Result<T, bascule_domain::InvalidId>,
) -> Result<T, StoreError> {
    let raw: String = get(row, col)?;
    parse(raw).map_err(|_| StoreError::corrupt(col))
}

pub(crate) fn identification(
    sort_code: Option<String>,
    number: Option<String>,
) -> Result<Option<SortCodeAccountNumber>, StoreError> {
    match (sort_code, number) {
        (Some(s), Some(n)) => Ok(Some(SortCodeAccountNumber {
            sort_code: SortCode::parse(&s).map_err(corrupt("sort code"))?,
            account_number: AccountNumber::parse(&n).map_err(corrupt("account number"))?,
        })),
        _ => Ok(None),
    }
}

macro_rules! account_columns {
    () => {
        "id, customer_id, kind, account_type, currency, sort_code, \
     account_number, nickname, opened_on, status, closed_at, parent_account_id, pot_name, pot_goal, \
     interest_rate, overdraft_limit, product_id"
    };
}
pub(crate) use account_columns;

pub(crate) fn account(row: &AnyRow) -> Result<Account, StoreError> {
    let kind: String = get(row, "kind")?;
    let kind = AccountKind::parse(&kind).ok_or_else(|| StoreError::corrupt("account kind"))?;
    let parent: Option<String> = get(row, "parent_account_id")?;
    let pot = match parent {
        Some(p) => Some(Pot {
            parent: AccountId::parse(p).map_err(corrupt("parent"))?,
            name: get::<Option<String>>(row, "pot_name")?.unwrap_or_default(),
            goal: get::<Option<i64>>(row, "pot_goal")?.map(Pence),
        }),
        None => None,
    };
    let status: String = get(row, "status")?;
    let account_type: String = get(row, "account_type")?;
    let currency: String = get(row, "currency")?;
    Ok(Account {
        id: id(row, "id", AccountId::parse)?,
        customer_id: get::<Option<String>>(row, "customer_id")?
            .map(CustomerId::parse)
            .transpose()
            .map_err(corrupt("customer id"))?,
        kind,
        account_type: AccountType::parse(&account_type)
            .ok_or_else(|| StoreError::corrupt("account type"))?,
        currency: Currency::parse(&currency).map_err(corrupt("currency"))?,
        identification: identification(get(row, "sort_code")?, get(row, "account_number")?)?,
        nickname: get(row, "nickname")?,
        opened_on: parse_date(&get::<String>(row, "opened_on")?)?,
        status: AccountStatus::parse(&status).ok_or_else(|| StoreError::corrupt("status"))?,
        closed_at: get::<Option<i64>>(row, "closed_at")?
            .map(from_micros)
            .transpose()?,
        pot,
        interest_rate: parse_rate(get(row, "interest_rate")?)?,
        overdraft_limit: Pence(get(row, "overdraft_limit")?),
        product_id: get::<Option<String>>(row, "product_id")?
            .map(ProductId::parse)
            .transpose()
            .map_err(corrupt("product id"))?,
    })
}

/// An account's booked balance as a column expression over `accounts`: the cached column for
/// customer accounts, the sum of postings for the bank's internal accounts (never cached, so
/// no payment waits on their rows).
macro_rules! booked_balance_column {
    () => {
        "(CASE WHEN accounts.kind = 'Internal' THEN (SELECT CAST(COALESCE(SUM(p.amount), 0) AS BIGINT) \
         FROM postings p WHERE p.account_id = accounts.id) ELSE accounts.booked_balance END)"
    };
}
pub(crate) use booked_balance_column;

macro_rules! transaction_columns {
    () => {
        "id, account_id, status, credit_debit, amount, \
     booked_at, value_at, description, reference, code, merchant_name, merchant_category_code, \
     counterparty_name, counterparty_sort_code, counterparty_account_number, balance_after"
    };
}
pub(crate) use transaction_columns;

pub(crate) fn transaction(row: &AnyRow) -> Result<Transaction, StoreError> {
    let status: String = get(row, "status")?;
    let cd: String = get(row, "credit_debit")?;
    let code: String = get(row, "code")?;
    let merchant = match get::<Option<String>>(row, "merchant_name")? {
        Some(name) => Some(Merchant {
            name,
            category_code: get::<Option<String>>(row, "merchant_category_code")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    let counterparty = match get::<Option<String>>(row, "counterparty_name")? {
        Some(name) => Some(Counterparty {
            name,
            sort_code: get::<Option<String>>(row, "counterparty_sort_code")?
                .map(|s| SortCode::parse(&s))
                .transpose()
                .map_err(corrupt("counterparty sort code"))?,
            account_number: get::<Option<String>>(row, "counterparty_account_number")?
                .map(|s| AccountNumber::parse(&s))
                .transpose()
                .map_err(corrupt("counterparty account number"))?,
        }),
        None => None,
    };
    Ok(Transaction {
        id: id(row, "id", TransactionId::parse)?,
        account_id: id(row, "account_id", AccountId::parse)?,
        status: TransactionStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt("transaction status"))?,
        credit_debit: CreditDebit::parse(&cd).ok_or_else(|| StoreError::corrupt("direction"))?,
        amount: Pence(get(row, "amount")?),
        booked_at: from_micros(get(row, "booked_at")?)?,
        value_at: from_micros(get(row, "value_at")?)?,
        description: get(row, "description")?,
        reference: get(row, "reference")?,
        code: ProprietaryCode::parse(&code).ok_or_else(|| StoreError::corrupt("code"))?,
        merchant,
        counterparty,
        balance_after: get::<Option<i64>>(row, "balance_after")?.map(Pence),
    })
}
