//! The amount and account-identification blocks the APIs share.

use bascule_domain::{Currency, Pence, SortCodeAccountNumber};
use serde::{Deserialize, Serialize};

/// The one account scheme Bascule's accounts carry.
pub const SORT_CODE_ACCOUNT_NUMBER: &str = "UK.OBIE.SortCodeAccountNumber";

/// `OBActiveOrHistoricCurrencyAndAmount`: an unsigned decimal string and a currency, as sent
/// (the caller parses them: a request's values are checked where their rules live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Amount {
    pub amount: String,
    pub currency: String,
}

impl Amount {
    /// `pence` without its sign (the sign travels in a `CreditDebitIndicator` beside it).
    pub fn of(pence: Pence, currency: Currency) -> Self {
        Amount {
            amount: pence.abs().to_amount().to_string(),
            currency: currency.as_str().to_owned(),
        }
    }
}

/// `OBCashAccount*`: an account's scheme, identification and optional name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct CashAccount {
    pub scheme_name: String,
    pub identification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary_identification: Option<String>,
}

impl CashAccount {
    pub fn sort_code_account_number(id: &SortCodeAccountNumber, name: Option<String>) -> Self {
        CashAccount {
            scheme_name: SORT_CODE_ACCOUNT_NUMBER.into(),
            identification: id.to_string(),
            name,
            secondary_identification: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_unsigned() {
        let gbp = Currency::parse("GBP").unwrap();
        assert_eq!(Amount::of(Pence(-1234), gbp).amount, "12.34");
        assert_eq!(
            serde_json::to_string(&Amount::of(Pence(5), gbp)).unwrap(),
            r#"{"Amount":"0.05","Currency":"GBP"}"#
        );
    }
}
