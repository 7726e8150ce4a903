//! The personal API's JSON, written once for the API's answers and the webhooks' payloads
//! (a webhook carries exactly what `GET …/transactions` shows for that transaction). Amounts
//! are decimal strings in the account's currency, negative for money out; times RFC 3339 UTC.

use bascule_core_banking::AccountBalance;
use bascule_domain::{
    Account, AccountKind, AccountStatus, CreditDebit, Currency, Pence, SortCode, Transaction,
    TransactionStatus,
};
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub fn datetime(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(at)
        .format(&Rfc3339)
        .unwrap_or_default()
}

fn money(p: Pence) -> String {
    p.to_string()
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccountJson {
    pub id: String,
    /// `current_account`, `savings`, `credit_card` or `pot`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub currency: String,
    /// `open`, `disabled` or `closed`.
    pub status: &'static str,
    pub sort_code: Option<String>,
    pub account_number: Option<String>,
    /// A pot's current account.
    pub parent_account_id: Option<String>,
    pub opened_on: String,
}

impl AccountJson {
    pub fn of(a: &Account) -> AccountJson {
        let kind = match (&a.pot, a.kind) {
            (Some(_), _) => "pot",
            (None, AccountKind::CurrentAccount) => "current_account",
            (None, AccountKind::CreditCard) => "credit_card",
            (None, _) => "savings",
        };
        let name = a
            .pot
            .as_ref()
            .map(|p| p.name.clone())
            .or_else(|| a.nickname.clone())
            .unwrap_or_else(|| kind.replace('_', " "));
        AccountJson {
            id: a.id.to_string(),
            kind,
            name,
            currency: a.currency.as_str().to_owned(),
            status: match a.status {
                AccountStatus::Enabled => "open",
                AccountStatus::Closed => "closed",
                _ => "disabled",
            },
            sort_code: a.identification.map(|i| i.sort_code.dashed()),
            account_number: a.identification.map(|i| i.account_number.to_string()),
            parent_account_id: a.pot.as_ref().map(|p| p.parent.to_string()),
            opened_on: a.opened_on.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BalanceJson {
    pub account_id: String,
    pub currency: String,
    /// What has been booked.
    pub balance: String,
    /// What can be spent now: booked, less pending card payments, plus any arranged overdraft.
    pub available: String,
    /// Card payments authorised and not yet settled (positive).
    pub pending: String,
}

impl BalanceJson {
    pub fn of(b: &AccountBalance) -> BalanceJson {
        BalanceJson {
            account_id: b.account_id.to_string(),
            currency: b.currency.as_str().to_owned(),
            balance: money(b.booked),
            available: money(b.available),
            pending: money(b.pending_debits),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MerchantJson {
    pub name: String,
    pub category_code: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CounterpartyJson {
    pub name: String,
    pub sort_code: Option<String>,
    pub account_number: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TransactionJson {
    pub id: String,
    pub account_id: String,
    /// Negative for money out.
    pub amount: String,
    pub currency: String,
    /// `pending` (a card payment authorised, not settled), `booked` or `released`.
    pub status: &'static str,
    pub description: String,
    pub reference: Option<String>,
    pub merchant: Option<MerchantJson>,
    pub counterparty: Option<CounterpartyJson>,
    /// When it was booked (for a pending one, authorised).
    pub created: String,
    /// The balance right after it, once booked.
    pub balance_after: Option<String>,
}

impl TransactionJson {
    pub fn of(t: &Transaction, currency: Currency) -> TransactionJson {
        let signed = match t.credit_debit {
            CreditDebit::Credit => t.amount,
            CreditDebit::Debit => -t.amount,
        };
        TransactionJson {
            id: t.id.to_string(),
            account_id: t.account_id.to_string(),
            amount: money(signed),
            currency: currency.as_str().to_owned(),
            status: match t.status {
                TransactionStatus::Pending => "pending",
                TransactionStatus::Booked => "booked",
                TransactionStatus::Released => "released",
            },
            description: t.description.clone(),
            reference: t.reference.clone(),
            merchant: t.merchant.as_ref().map(|m| MerchantJson {
                name: m.name.clone(),
                category_code: m.category_code.clone(),
            }),
            counterparty: t.counterparty.as_ref().map(|c| CounterpartyJson {
                name: c.name.clone(),
                sort_code: c.sort_code.as_ref().map(SortCode::dashed),
                account_number: c.account_number.map(|n| n.to_string()),
            }),
            created: datetime(t.booked_at),
            balance_after: t.balance_after.map(money),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PotJson {
    pub id: String,
    pub name: String,
    pub parent_account_id: String,
    pub currency: String,
    pub balance: String,
    pub goal: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MoveJson {
    /// The transaction on the account the money left.
    pub transaction_id: String,
    pub from_account_id: String,
    pub to_account_id: String,
    pub amount: String,
    pub currency: String,
    pub dedupe_id: String,
    pub created: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookJson {
    pub id: String,
    pub account_id: String,
    pub url: String,
    pub created: String,
}

/// A webhook's body (Standard Webhooks' `{type, timestamp, data}`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WebhookPayload {
    /// `transaction.created` or `transaction.updated`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub timestamp: String,
    pub data: TransactionJson,
}
