//! The domestic `Initiation` and `OBRisk1` as the v3.1.11 schemas define them (closed objects:
//! unknown fields are refused), the checks the bank adds (GBP, `UK.OBIE.SortCodeAccountNumber`
//! creditor and debtor), the "same meaning" comparison a payment's Initiation must pass against
//! its consent's. Bodies are parsed by the API kit's strict parser (`bascule_api_kit::body`).
//!
//! The Initiation is kept as the TPP sent it (strings as given) so responses replay it exactly;
//! meaning-level values (pence, identifications) are derived from it.

use bascule_api_kit::body::field_error;
pub use bascule_api_kit::{CashAccount, SORT_CODE_ACCOUNT_NUMBER};
use bascule_domain::{Amount, Pence, SortCodeAccountNumber};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct InstructedAmount {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct RemittanceInformation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unstructured: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The domestic payment `Initiation` (OBWriteDomesticConsent4 / OBWriteDomestic2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct DomesticInitiation {
    pub instruction_identification: String,
    pub end_to_end_identification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_instrument: Option<String>,
    pub instructed_amount: InstructedAmount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debtor_account: Option<CashAccount>,
    pub creditor_account: CashAccount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creditor_postal_address: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remittance_information: Option<RemittanceInformation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplementary_data: Option<Value>,
}

/// `OBRisk1`: closed at the top level; nested objects are kept as sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Risk {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_context_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_category_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_customer_identification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_present_inidicator: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary_prepopulated_indicator: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_purpose_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beneficiary_account_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_address: Option<Value>,
}

/// What the bank can execute, derived from a valid Initiation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executable {
    pub amount: Pence,
    pub creditor: SortCodeAccountNumber,
    pub creditor_name: String,
    pub debtor: Option<SortCodeAccountNumber>,
    /// The reference the creditor sees (Reference, else EndToEndIdentification), ≤ 35.
    pub reference: String,
}

fn len_ok(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.chars().count())
}

const P: &str = "Data.Initiation";

fn account(acc: &CashAccount, path: &str) -> Result<SortCodeAccountNumber, Error> {
    if acc.scheme_name != SORT_CODE_ACCOUNT_NUMBER {
        return Err(field_error(
            ObErrorCode::UnsupportedScheme,
            format!("Only {SORT_CODE_ACCOUNT_NUMBER} is supported"),
            &format!("{path}.SchemeName"),
        ));
    }
    if let Some(name) = &acc.name
        && !len_ok(name, 350)
    {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Name must be 1 to 350 characters",
            &format!("{path}.Name"),
        ));
    }
    if let Some(s) = &acc.secondary_identification
        && !len_ok(s, 34)
    {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "SecondaryIdentification must be 1 to 34 characters",
            &format!("{path}.SecondaryIdentification"),
        ));
    }
    SortCodeAccountNumber::parse(&acc.identification).map_err(|_| {
        field_error(
            ObErrorCode::FieldInvalid,
            "A SortCodeAccountNumber identification is 14 digits: sort code then account number",
            &format!("{path}.Identification"),
        )
    })
}

impl DomesticInitiation {
    /// The schema's field rules and the bank's (GBP, sort code and account number, amount
    /// > 0 in whole pence).
    pub fn validate(&self) -> Result<Executable, Error> {
        for (value, max, name) in [
            (
                &self.instruction_identification,
                35,
                "InstructionIdentification",
            ),
            (
                &self.end_to_end_identification,
                35,
                "EndToEndIdentification",
            ),
        ] {
            if !len_ok(value, max) {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    format!("{name} must be 1 to {max} characters"),
                    &format!("{P}.{name}"),
                ));
            }
        }
        if let Some(li) = &self.local_instrument
            && li != "UK.OBIE.FPS"
        {
            return Err(field_error(
                ObErrorCode::UnsupportedLocalInstrument,
                "Only UK.OBIE.FPS is supported",
                &format!("{P}.LocalInstrument"),
            ));
        }
        let pence = gbp_pence(
            &self.instructed_amount,
            &format!("{P}.InstructedAmount"),
            "Domestic payments",
        )?;
        let creditor = account(&self.creditor_account, &format!("{P}.CreditorAccount"))?;
        let creditor_name = self.creditor_account.name.clone().ok_or_else(|| {
            field_error(
                ObErrorCode::FieldMissing,
                "CreditorAccount.Name is required",
                &format!("{P}.CreditorAccount.Name"),
            )
        })?;
        let debtor = self
            .debtor_account
            .as_ref()
            .map(|d| account(d, &format!("{P}.DebtorAccount")))
            .transpose()?;
        if let Some(r) = &self.remittance_information {
            if let Some(u) = &r.unstructured
                && !len_ok(u, 140)
            {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    "Unstructured must be 1 to 140 characters",
                    &format!("{P}.RemittanceInformation.Unstructured"),
                ));
            }
            if let Some(r) = &r.reference
                && !len_ok(r, 35)
            {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    "Reference must be 1 to 35 characters",
                    &format!("{P}.RemittanceInformation.Reference"),
                ));
            }
        }
        let reference = self
            .remittance_information
            .as_ref()
            .and_then(|r| r.reference.clone())
            .unwrap_or_else(|| self.end_to_end_identification.clone());
        Ok(Executable {
            amount: pence,
            creditor,
            creditor_name,
            debtor,
            reference,
        })
    }

    /// Whether `other` asks for the same payment: every field equal, amounts compared as
    /// numbers ("10.5" = "10.50"), identifications compared without spaces.
    pub fn same_meaning(&self, other: &DomesticInitiation) -> bool {
        let amount_eq = match (
            Amount::parse(&self.instructed_amount.amount),
            Amount::parse(&other.instructed_amount.amount),
        ) {
            (Ok(a), Ok(b)) => a.value() == b.value(),
            _ => self.instructed_amount.amount == other.instructed_amount.amount,
        };
        let acc_eq = |a: &CashAccount, b: &CashAccount| {
            let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
            a.scheme_name == b.scheme_name
                && norm(&a.identification) == norm(&b.identification)
                && a.name == b.name
                && a.secondary_identification == b.secondary_identification
        };
        amount_eq
            && self.instructed_amount.currency == other.instructed_amount.currency
            && self.instruction_identification == other.instruction_identification
            && self.end_to_end_identification == other.end_to_end_identification
            && self.local_instrument == other.local_instrument
            && acc_eq(&self.creditor_account, &other.creditor_account)
            && match (&self.debtor_account, &other.debtor_account) {
                (None, None) => true,
                (Some(a), Some(b)) => acc_eq(a, b),
                _ => false,
            }
            && self.creditor_postal_address == other.creditor_postal_address
            && self.remittance_information == other.remittance_information
            && self.supplementary_data == other.supplementary_data
    }
}

/// An `InstructedAmount` at `path` the bank can pay: the schema's pattern, an ISO 4217
/// currency, GBP (`what` "are in GBP"), more than zero in whole pence.
pub(crate) fn gbp_pence(a: &InstructedAmount, path: &str, what: &str) -> Result<Pence, Error> {
    let amount_path = format!("{path}.Amount");
    if !is_amount(&a.amount) {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Amount must match ^\\d{1,13}$|^\\d{1,13}\\.\\d{1,5}$",
            &amount_path,
        ));
    }
    if a.currency.len() != 3 || !a.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(field_error(
            ObErrorCode::FieldInvalid,
            "Currency must be an ISO 4217 code",
            &format!("{path}.Currency"),
        ));
    }
    if a.currency != "GBP" {
        return Err(field_error(
            ObErrorCode::UnsupportedCurrency,
            format!("{what} are in GBP"),
            &format!("{path}.Currency"),
        ));
    }
    pence_of(&a.amount).ok_or_else(|| {
        field_error(
            ObErrorCode::FieldInvalid,
            "Amount must be more than zero, in whole pence",
            &amount_path,
        )
    })
}

/// `OBActiveCurrencyAndAmount_SimpleType`: `^\d{1,13}$|^\d{1,13}\.\d{1,5}$`.
fn is_amount(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits =
        |x: &str, max: usize| (1..=max).contains(&x.len()) && x.bytes().all(|b| b.is_ascii_digit());
    digits(int, 13) && frac.is_none_or(|f| digits(f, 5))
}

/// The amount in pence when it is positive and has no fraction of a penny.
fn pence_of(s: &str) -> Option<Pence> {
    let amount = Amount::parse(s).ok()?;
    let pence = amount.to_pence().ok()?;
    (pence.0 > 0).then_some(pence)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn initiation(v: Value) -> DomesticInitiation {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({
            "InstructionIdentification": "I1",
            "EndToEndIdentification": "E1",
            "InstructedAmount": {"Amount": "10.50", "Currency": "GBP"},
            "CreditorAccount": {"SchemeName": SORT_CODE_ACCOUNT_NUMBER,
                "Identification": "04000412345678", "Name": "ACME"},
            "RemittanceInformation": {"Reference": "INV-1"}
        })
    }

    #[test]
    fn a_valid_initiation_is_executable() {
        let e = initiation(base()).validate().unwrap();
        assert_eq!(e.amount, Pence(1050));
        assert_eq!(e.reference, "INV-1");
        assert_eq!(e.creditor_name, "ACME");
    }

    #[test]
    fn amounts_compare_by_value() {
        let mut other = base();
        other["InstructedAmount"]["Amount"] = json!("10.5");
        assert!(initiation(base()).same_meaning(&initiation(other.clone())));
        other["InstructedAmount"]["Amount"] = json!("10.51");
        assert!(!initiation(base()).same_meaning(&initiation(other)));
        let mut other = base();
        other["CreditorAccount"]["Name"] = json!("ACME LTD");
        assert!(!initiation(base()).same_meaning(&initiation(other)));
    }

    #[test]
    fn bank_rules_have_their_codes() {
        let code = |v: Value| match initiation(v).validate().unwrap_err() {
            Error::BadRequest(d) => d[0].code,
            other => panic!("{other:?}"),
        };
        let mut v = base();
        v["InstructedAmount"]["Currency"] = json!("EUR");
        assert_eq!(code(v), ObErrorCode::UnsupportedCurrency);
        let mut v = base();
        v["InstructedAmount"]["Amount"] = json!("0.001");
        assert_eq!(code(v), ObErrorCode::FieldInvalid);
        let mut v = base();
        v["InstructedAmount"]["Amount"] = json!("0");
        assert_eq!(code(v), ObErrorCode::FieldInvalid);
        let mut v = base();
        v["CreditorAccount"]["SchemeName"] = json!("UK.OBIE.IBAN");
        assert_eq!(code(v), ObErrorCode::UnsupportedScheme);
        let mut v = base();
        v["CreditorAccount"]["Identification"] = json!("1234");
        assert_eq!(code(v), ObErrorCode::FieldInvalid);
    }

    #[test]
    fn amount_pattern() {
        for ok in ["1", "1.5", "1234567890123", "1.12345"] {
            assert!(is_amount(ok), "{ok}");
        }
        for bad in ["", ".5", "1.", "1.123456", "-1", "1e3", "12345678901234"] {
            assert!(!is_amount(bad), "{bad}");
        }
    }
}
