//! What a consent asks of the customer, in words a person reads. Each API describes its own
//! consents (their details are its own); the bank's approval screen and dashboard only lay the
//! summary out, so a new consent kind or wire version never touches a page.

use bascule_domain::SortCodeAccountNumber;
use bascule_domain::aisp::Permission;
use bascule_domain::aisp::clusters;
use rust_decimal::Decimal;
use time::OffsetDateTime;

/// A consent as the customer is shown it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentSummary {
    /// One line after the TPP's name: "wants to see information about your accounts".
    pub purpose: String,
    /// Headed lists (the data clusters of an account-access consent).
    pub sections: Vec<Section>,
    pub payment: Option<PaymentSummary>,
    /// Which accounts the customer may choose from.
    pub accounts: AccountChoice,
    /// When access ends, if it does.
    pub until: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub lines: Vec<String>,
}

/// What a payment consent will pay (CEG: amount, currency and payee on the approval screen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSummary {
    pub payee_name: String,
    pub payee_account: SortCodeAccountNumber,
    /// Amount with its currency, as a person writes it: "£12.50".
    pub amount: String,
    pub reference: Option<String>,
    /// When the money goes: "Now", "On 5 January 2027", "Monthly ...".
    pub when: String,
}

/// The accounts a consent may be given over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChoice {
    /// Any of the customer's open accounts, pots included (CEG Checklist 14: everything online
    /// banking shows), as many as they pick.
    Several,
    /// Exactly one current account (payments, funds confirmation without a named account).
    OneCurrentAccount,
    /// The account the TPP named (`DebtorAccount`): nothing to choose.
    Named(SortCodeAccountNumber),
}

impl AccountChoice {
    pub fn named(&self) -> Option<&SortCodeAccountNumber> {
        match self {
            Self::Named(a) => Some(a),
            _ => None,
        }
    }
}

/// An account-access consent's summary: its permissions in cluster language.
pub fn account_access(permissions: &[Permission], until: Option<OffsetDateTime>) -> ConsentSummary {
    ConsentSummary {
        purpose: "wants to see information about your accounts".into(),
        sections: clusters(permissions)
            .into_iter()
            .map(|(cluster, lines)| Section {
                title: cluster.title().into(),
                lines: lines.into_iter().map(str::to_owned).collect(),
            })
            .collect(),
        payment: None,
        accounts: AccountChoice::Several,
        until,
    }
}

/// An amount as a person writes it: `£1,234.50` in pounds, `12.00 EUR` otherwise.
pub fn money(amount: Decimal, currency: &str) -> String {
    let rounded = amount.round_dp(2);
    let text = format!("{rounded:.2}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, "00"));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match currency {
        "GBP" => format!("{sign}£{grouped}.{fraction}"),
        other => format!("{sign}{grouped}.{fraction} {other}"),
    }
}

/// A day as a person reads it: `5 January 2027`.
pub fn day(at: OffsetDateTime) -> String {
    format!("{} {} {}", at.day(), at.month(), at.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_like_money() {
        assert_eq!(money(Decimal::new(1050, 2), "GBP"), "£10.50");
        assert_eq!(money(Decimal::new(123456789, 2), "GBP"), "£1,234,567.89");
        assert_eq!(money(Decimal::new(5, 0), "EUR"), "5.00 EUR");
        assert_eq!(money(Decimal::new(-100000, 2), "GBP"), "-£1,000.00");
    }

    #[test]
    fn days_read_like_days() {
        let at = time::macros::datetime!(2027-01-05 10:00 UTC);
        assert_eq!(day(at), "5 January 2027");
    }
}
