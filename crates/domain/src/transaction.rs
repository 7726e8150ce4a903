//! The lines a customer sees on an account. A line's `TransactionId` is stable: a pending card
//! authorisation keeps its id when it settles, even for a different amount.

use time::OffsetDateTime;

use crate::account::{AccountNumber, SortCode};
use crate::ids::{AccountId, TransactionId};
use crate::money::Pence;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionStatus {
    Pending,
    Booked,
    /// A pending authorisation that was released without settling: kept, never shown as money moved.
    Released,
}

impl TransactionStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Booked => "Booked",
            Self::Released => "Released",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Pending" => Some(Self::Pending),
            "Booked" => Some(Self::Booked),
            "Released" => Some(Self::Released),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreditDebit {
    Credit,
    Debit,
}

impl CreditDebit {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Credit => "Credit",
            Self::Debit => "Debit",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Credit" => Some(Self::Credit),
            "Debit" => Some(Self::Debit),
            _ => None,
        }
    }

    /// Direction of a signed ledger movement; zero counts as a credit (OB `OBCreditDebitCode`).
    pub fn of(amount: Pence) -> Self {
        if amount.is_negative() {
            Self::Debit
        } else {
            Self::Credit
        }
    }
}

/// The bank's own transaction code (OB `ProprietaryBankTransactionCode.Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProprietaryCode {
    Salary,
    CardPurchase,
    CardRefund,
    Transfer,
    PotTransfer,
    Interest,
    StandingOrder,
    DirectDebit,
    FasterPayment,
    Fee,
}

impl ProprietaryCode {
    pub const ALL: [ProprietaryCode; 10] = [
        Self::Salary,
        Self::CardPurchase,
        Self::CardRefund,
        Self::Transfer,
        Self::PotTransfer,
        Self::Interest,
        Self::StandingOrder,
        Self::DirectDebit,
        Self::FasterPayment,
        Self::Fee,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Salary => "SALARY",
            Self::CardPurchase => "CARD_PURCHASE",
            Self::CardRefund => "CARD_REFUND",
            Self::Transfer => "TRANSFER",
            Self::PotTransfer => "POT_TRANSFER",
            Self::Interest => "INTEREST",
            Self::StandingOrder => "STANDING_ORDER",
            Self::DirectDebit => "DIRECT_DEBIT",
            Self::FasterPayment => "FASTER_PAYMENT",
            Self::Fee => "FEE",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == raw)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merchant {
    pub name: String,
    /// ISO 18245 merchant category code, four digits.
    pub category_code: String,
}

/// The other side of a transfer as the customer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counterparty {
    pub name: String,
    pub sort_code: Option<SortCode>,
    pub account_number: Option<AccountNumber>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: TransactionId,
    pub account_id: AccountId,
    pub status: TransactionStatus,
    pub credit_debit: CreditDebit,
    /// Unsigned; the direction is `credit_debit`.
    pub amount: Pence,
    pub booked_at: OffsetDateTime,
    pub value_at: OffsetDateTime,
    pub description: String,
    pub reference: Option<String>,
    pub code: ProprietaryCode,
    pub merchant: Option<Merchant>,
    pub counterparty: Option<Counterparty>,
    /// The booked balance right after this line; only booked lines have one.
    pub balance_after: Option<Pence>,
}
