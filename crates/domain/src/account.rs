//! Accounts and pots. An `AccountId` is issued once and never changes or disappears: a closed
//! account keeps its id and its history.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::ids::{AccountId, CustomerId, ProductId};
use crate::money::{Currency, Pence};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidIdentification {
    #[error("sort code must be 6 digits, optionally written as 12-34-56")]
    SortCode,
    #[error("account number must be 8 digits")]
    AccountNumber,
    #[error("a sort code and account number is 14 digits")]
    Combined,
}

/// A UK sort code: six ASCII digits (the separators people type are accepted and dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SortCode([u8; 6]);

impl SortCode {
    pub fn parse(raw: &str) -> Result<Self, InvalidIdentification> {
        let digits: Vec<u8> = raw.bytes().filter(|b| !matches!(b, b'-' | b' ')).collect();
        let ok = digits.len() == 6 && digits.iter().all(u8::is_ascii_digit);
        // 00-00-00 is not a clearing code any bank holds.
        if !ok || digits.iter().all(|d| *d == b'0') {
            return Err(InvalidIdentification::SortCode);
        }
        let mut out = [0u8; 6];
        out.copy_from_slice(&digits);
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("000000")
    }

    /// The form people read: 12-34-56.
    pub fn dashed(&self) -> String {
        let s = self.as_str();
        format!("{}-{}-{}", &s[0..2], &s[2..4], &s[4..6])
    }
}

impl fmt::Display for SortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A UK account number: eight ASCII digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountNumber([u8; 8]);

impl AccountNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidIdentification> {
        let digits: Vec<u8> = raw.bytes().filter(|b| *b != b' ').collect();
        if digits.len() != 8 || !digits.iter().all(u8::is_ascii_digit) {
            return Err(InvalidIdentification::AccountNumber);
        }
        let mut out = [0u8; 8];
        out.copy_from_slice(&digits);
        Ok(Self(out))
    }

    /// The account number Bascule issues for its `serial`-th account: seven serial digits and a
    /// Luhn check digit, so a mistyped number of ours is caught before any lookup.
    pub fn issue(serial: u32) -> Result<Self, InvalidIdentification> {
        if serial >= 10_000_000 {
            return Err(InvalidIdentification::AccountNumber);
        }
        let body = format!("{serial:07}");
        let check = luhn_check_digit(body.as_bytes());
        Self::parse(&format!("{body}{check}"))
    }

    /// Whether this number carries a valid check digit of Bascule's own numbering.
    pub fn is_own_numbering(&self) -> bool {
        luhn_check_digit(&self.0[..7]) == self.0[7] - b'0'
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("00000000")
    }
}

impl fmt::Display for AccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn luhn_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    ((10 - (sum % 10)) % 10) as u8
}

/// `UK.OBIE.SortCodeAccountNumber` identification: 14 digits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCodeAccountNumber {
    pub sort_code: SortCode,
    pub account_number: AccountNumber,
}

impl SortCodeAccountNumber {
    pub fn parse(raw: &str) -> Result<Self, InvalidIdentification> {
        // ASCII first: the split below is by byte index, which must fall on a char boundary.
        if raw.len() != 14 || !raw.is_ascii() {
            return Err(InvalidIdentification::Combined);
        }
        Ok(Self {
            sort_code: SortCode::parse(&raw[..6]).map_err(|_| InvalidIdentification::Combined)?,
            account_number: AccountNumber::parse(&raw[6..])
                .map_err(|_| InvalidIdentification::Combined)?,
        })
    }
}

impl fmt::Display for SortCodeAccountNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.sort_code, self.account_number)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountKind {
    CurrentAccount,
    Savings,
    CreditCard,
    /// A bank-internal ledger account (interest expense, payments clearing, ...): never a customer's.
    Internal,
}

impl AccountKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::CurrentAccount => "CurrentAccount",
            Self::Savings => "Savings",
            Self::CreditCard => "CreditCard",
            Self::Internal => "Internal",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::CurrentAccount,
            Self::Savings,
            Self::CreditCard,
            Self::Internal,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountType {
    Personal,
    Business,
}

impl AccountType {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Personal => "Personal",
            Self::Business => "Business",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Personal" => Some(Self::Personal),
            "Business" => Some(Self::Business),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AccountStatus {
    Enabled,
    Disabled,
    /// Closed for good: the id and history stay readable, nothing new posts to it.
    Closed,
}

impl AccountStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::Closed => "Closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Enabled" => Some(Self::Enabled),
            "Disabled" => Some(Self::Disabled),
            "Closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// What makes a Savings account a pot: its parent current account, its name and goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pot {
    pub parent: AccountId,
    pub name: String,
    pub goal: Option<Pence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// `None` only for the bank's internal accounts.
    pub customer_id: Option<CustomerId>,
    pub kind: AccountKind,
    pub account_type: AccountType,
    pub currency: Currency,
    /// Current accounts have one; pots are reached through their parent and have none.
    pub identification: Option<SortCodeAccountNumber>,
    pub nickname: Option<String>,
    pub opened_on: Date,
    pub status: AccountStatus,
    pub closed_at: Option<OffsetDateTime>,
    pub pot: Option<Pot>,
    /// Gross annual interest rate as a fraction (0.0365 = 3.65%), for interest-bearing pots.
    pub interest_rate: Option<Decimal>,
    pub overdraft_limit: Pence,
    pub product_id: Option<ProductId>,
}

impl Account {
    pub fn is_open(&self) -> bool {
        self.status != AccountStatus::Closed
    }

    pub fn accepts_postings(&self) -> bool {
        self.status == AccountStatus::Enabled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_codes_accept_dashes_and_reject_everything_else() {
        assert_eq!(SortCode::parse("12-34-56").unwrap().as_str(), "123456");
        assert_eq!(SortCode::parse("123456").unwrap().dashed(), "12-34-56");
        for bad in ["12345", "1234567", "12-34-5a", "00-00-00", "١٢٣٤٥٦"] {
            assert!(SortCode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn issued_account_numbers_are_unique_and_check_digit_valid() {
        let a = AccountNumber::issue(1).unwrap();
        let b = AccountNumber::issue(2).unwrap();
        assert_ne!(a, b);
        assert!(a.is_own_numbering() && b.is_own_numbering());
        let mut typo = *a.as_str().as_bytes().first().unwrap_or(&b'0');
        typo = if typo == b'9' { b'8' } else { typo + 1 };
        let mistyped = format!("{}{}", typo as char, &a.as_str()[1..]);
        assert!(!AccountNumber::parse(&mistyped).unwrap().is_own_numbering());
        assert!(AccountNumber::issue(10_000_000).is_err());
    }

    #[test]
    fn combined_identification_is_fourteen_digits() {
        let id = SortCodeAccountNumber::parse("12345612345678").unwrap();
        assert_eq!(id.to_string(), "12345612345678");
        assert!(SortCodeAccountNumber::parse("1234561234567").is_err());
        // 14 bytes, but 'é' straddles the sort code / account number split.
        assert!(SortCodeAccountNumber::parse("12345é1234567").is_err());
        assert!(SortCodeAccountNumber::parse("123456é123456").is_err());
    }
}
