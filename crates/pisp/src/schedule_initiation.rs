//! The `Initiation` of domestic scheduled payments (`OBWriteDomesticScheduled2Data.Initiation`)
//! and of domestic standing orders (`OBWriteDomesticStandingOrder3Data.Initiation`) as the
//! v3.1.11 schemas define them (closed objects, kept as the TPP sent them so responses replay
//! them exactly), the bank's rules for them, the "same meaning" comparison a payment order must
//! pass against its consent, and what the core is asked to do: a
//! [`ScheduledPaymentInstruction`] or a [`StandingOrderInstruction`].
//!
//! The bank's rules (documented limits, checked at the consent and again at the order):
//! - GBP only, creditor and debtor by `UK.OBIE.SortCodeAccountNumber` (as domestic payments);
//! - a scheduled payment executes on the UTC calendar day of `RequestedExecutionDateTime`,
//!   which must not be before today (400 `UK.OBIE.Field.InvalidDate`);
//! - standing-order frequencies: `EvryDay`, `IntrvlWkDay:NN:DD`, `IntrvlMnthDay:NN:DD` with a
//!   positive day; every other code of the schema's pattern → 400 `UK.OBIE.Unsupported.Frequency`;
//! - a standing order pays one amount: `RecurringPaymentAmount` and `FinalPaymentAmount`, when
//!   sent, must equal `FirstPaymentAmount`;
//! - `RecurringPaymentDateTime`, when sent, must be the frequency's first due day after the
//!   first payment; `NumberOfPayments` and `FinalPaymentDateTime` both bound the order (when
//!   both are sent they must agree);
//! - `FinalPaymentAmount` is "the amount of the final Standing Order" (PIS
//!   `OBWriteDomesticStandingOrderConsent5`): an order bounded by neither `FinalPaymentDateTime`
//!   nor `NumberOfPayments` has no final payment, so the field is refused there (400
//!   `UK.OBIE.Field.Unexpected`; CONFORMANCE.md, OB-301-DOP-1015002).

use bascule_api_kit::body::field_error;
use bascule_core_banking::{Creditor, ScheduledPaymentInstruction, StandingOrderInstruction};
use bascule_domain::{AccountId, Amount, Frequency, Pence, SortCodeAccountNumber};
use bascule_http::{Error, ObErrorCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

use crate::initiation::{
    CashAccount, DomesticInitiation, InstructedAmount, RemittanceInformation, gbp_pence,
};

const P: &str = "Data.Initiation";

/// The domestic scheduled payment `Initiation`: the domestic one with an optional
/// `EndToEndIdentification` and a required `RequestedExecutionDateTime`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ScheduledInitiation {
    pub instruction_identification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_identification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_instrument: Option<String>,
    pub requested_execution_date_time: String,
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

/// The domestic standing order `Initiation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StandingOrderInitiation {
    pub frequency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_payments: Option<String>,
    pub first_payment_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_payment_date_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_payment_date_time: Option<String>,
    pub first_payment_amount: InstructedAmount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurring_payment_amount: Option<InstructedAmount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_payment_amount: Option<InstructedAmount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debtor_account: Option<CashAccount>,
    pub creditor_account: CashAccount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supplementary_data: Option<Value>,
}

/// A scheduled payment the bank can make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledExecutable {
    pub amount: Pence,
    pub creditor: Creditor,
    pub debtor: Option<SortCodeAccountNumber>,
    pub reference: String,
    pub execute_on: Date,
}

impl ScheduledExecutable {
    pub fn instruction(&self, request_id: Uuid, debtor: AccountId) -> ScheduledPaymentInstruction {
        ScheduledPaymentInstruction {
            request_id,
            debtor,
            creditor: self.creditor.clone(),
            amount: self.amount,
            reference: self.reference.clone(),
            execute_on: self.execute_on,
        }
    }
}

/// A standing order the bank can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingOrderExecutable {
    pub amount: Pence,
    pub creditor: Creditor,
    pub debtor: Option<SortCodeAccountNumber>,
    pub reference: String,
    pub frequency: Frequency,
    pub first_payment_on: Date,
    pub final_payment_on: Option<Date>,
}

impl StandingOrderExecutable {
    pub fn instruction(&self, request_id: Uuid, debtor: AccountId) -> StandingOrderInstruction {
        StandingOrderInstruction {
            request_id,
            debtor,
            creditor: self.creditor.clone(),
            amount: self.amount,
            reference: self.reference.clone(),
            frequency: self.frequency,
            first_payment_on: self.first_payment_on,
            final_payment_on: self.final_payment_on,
        }
    }
}

/// An ISO 8601 date-time with an offset (RFC 3339), as an instant.
pub fn parse_date_time(raw: &str, path: &str) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::parse(raw, &Rfc3339).map_err(|_| {
        field_error(
            ObErrorCode::FieldInvalidDate,
            "Expected an ISO 8601 date-time with a time zone, e.g. 2026-02-01T06:06:06+00:00",
            path,
        )
    })
}

/// The bank's calendar day (UTC) of a date-time.
fn day_of(raw: &str, path: &str) -> Result<Date, Error> {
    Ok(parse_date_time(raw, path)?.to_offset(UtcOffset::UTC).date())
}

fn not_before_today(day: Date, today: Option<Date>, path: &str) -> Result<(), Error> {
    match today {
        Some(t) if day < t => Err(field_error(
            ObErrorCode::FieldInvalidDate,
            "The date is in the past",
            path,
        )),
        _ => Ok(()),
    }
}

fn same_instant(a: &str, b: &str) -> bool {
    match (
        OffsetDateTime::parse(a, &Rfc3339),
        OffsetDateTime::parse(b, &Rfc3339),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn same_amount(a: &InstructedAmount, b: &InstructedAmount) -> bool {
    let value_eq = match (Amount::parse(&a.amount), Amount::parse(&b.amount)) {
        (Ok(x), Ok(y)) => x.value() == y.value(),
        _ => a.amount == b.amount,
    };
    value_eq && a.currency == b.currency
}

fn norm(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn same_account(a: &CashAccount, b: &CashAccount) -> bool {
    a.scheme_name == b.scheme_name
        && norm(&a.identification) == norm(&b.identification)
        && a.name == b.name
        && a.secondary_identification == b.secondary_identification
}

impl ScheduledInitiation {
    /// The domestic Initiation with the same fields (`EndToEndIdentification` defaulting to
    /// `InstructionIdentification`): its rules are the domestic ones.
    pub(crate) fn as_domestic(&self) -> DomesticInitiation {
        DomesticInitiation {
            instruction_identification: self.instruction_identification.clone(),
            end_to_end_identification: self
                .end_to_end_identification
                .clone()
                .unwrap_or_else(|| self.instruction_identification.clone()),
            local_instrument: self.local_instrument.clone(),
            instructed_amount: self.instructed_amount.clone(),
            debtor_account: self.debtor_account.clone(),
            creditor_account: self.creditor_account.clone(),
            creditor_postal_address: self.creditor_postal_address.clone(),
            remittance_information: self.remittance_information.clone(),
            supplementary_data: self.supplementary_data.clone(),
        }
    }

    /// The schema's rules and the bank's; `today` (the bank's day) when the execution date
    /// must not be past (at the consent and the order, not when re-driving a stored order).
    pub fn validate(&self, today: Option<Date>) -> Result<ScheduledExecutable, Error> {
        if let Some(e2e) = &self.end_to_end_identification
            && !(1..=35).contains(&e2e.chars().count())
        {
            return Err(field_error(
                ObErrorCode::FieldInvalid,
                "EndToEndIdentification must be 1 to 35 characters",
                &format!("{P}.EndToEndIdentification"),
            ));
        }
        let exec = self.as_domestic().validate()?;
        let path = format!("{P}.RequestedExecutionDateTime");
        let execute_on = day_of(&self.requested_execution_date_time, &path)?;
        not_before_today(execute_on, today, &path)?;
        Ok(ScheduledExecutable {
            amount: exec.amount,
            creditor: Creditor {
                name: exec.creditor_name,
                identification: exec.creditor,
            },
            debtor: exec.debtor,
            reference: exec.reference,
            execute_on,
        })
    }

    /// Whether `other` asks for the same payment (amounts by value, date-times by instant).
    pub fn same_meaning(&self, other: &ScheduledInitiation) -> bool {
        self.end_to_end_identification == other.end_to_end_identification
            && same_instant(
                &self.requested_execution_date_time,
                &other.requested_execution_date_time,
            )
            && self.as_domestic().same_meaning(&other.as_domestic())
    }
}

/// Whether `raw` is one of the schema's frequency codes that this bank does not run.
fn known_but_unsupported(raw: &str) -> bool {
    [
        "EvryWorkgDay",
        "IntrvlDay:",
        "WkInMnthDay:",
        "QtrDay:",
        "IntrvlMnthDay:",
        "IntrvlWkDay:",
    ]
    .iter()
    .any(|p| raw.starts_with(p))
}

/// The OB frequency code as the core's [`Frequency`]: 400 `UK.OBIE.Unsupported.Frequency` for
/// the codes the bank does not run, `UK.OBIE.Field.Invalid` for what is no code at all.
pub fn parse_frequency(raw: &str) -> Result<Frequency, Error> {
    let path = format!("{P}.Frequency");
    Frequency::parse(raw).map_err(|_| {
        if known_but_unsupported(raw) {
            field_error(
                ObErrorCode::UnsupportedFrequency,
                "Supported frequencies: EvryDay, IntrvlWkDay:NN:DD, IntrvlMnthDay:NN:DD (positive day)",
                &path,
            )
        } else {
            field_error(
                ObErrorCode::FieldInvalid,
                "Frequency is not an Open Banking frequency code",
                &path,
            )
        }
    })
}

fn amount(a: &InstructedAmount, path: &str) -> Result<Pence, Error> {
    gbp_pence(a, path, "Domestic standing orders")
}

impl StandingOrderInitiation {
    /// The schema's rules and the bank's (module doc); `today` as for scheduled payments.
    pub fn validate(&self, today: Option<Date>) -> Result<StandingOrderExecutable, Error> {
        let frequency = parse_frequency(&self.frequency)?;
        let pence = amount(
            &self.first_payment_amount,
            &format!("{P}.FirstPaymentAmount"),
        )?;
        for (other, name) in [
            (&self.recurring_payment_amount, "RecurringPaymentAmount"),
            (&self.final_payment_amount, "FinalPaymentAmount"),
        ] {
            if let Some(other) = other {
                let path = format!("{P}.{name}");
                if amount(other, &path)? != pence {
                    return Err(field_error(
                        ObErrorCode::FieldInvalid,
                        format!(
                            "{name} must equal FirstPaymentAmount: this bank's standing orders pay one amount"
                        ),
                        &format!("{path}.Amount"),
                    ));
                }
            }
        }
        if let Some(r) = &self.reference
            && !(1..=35).contains(&r.chars().count())
        {
            return Err(field_error(
                ObErrorCode::FieldInvalid,
                "Reference must be 1 to 35 characters",
                &format!("{P}.Reference"),
            ));
        }
        // The accounts' rules are the domestic ones: check them through a domestic Initiation.
        let accounts = DomesticInitiation {
            instruction_identification: "SO".into(),
            end_to_end_identification: "SO".into(),
            local_instrument: None,
            instructed_amount: self.first_payment_amount.clone(),
            debtor_account: self.debtor_account.clone(),
            creditor_account: self.creditor_account.clone(),
            creditor_postal_address: None,
            remittance_information: None,
            supplementary_data: None,
        }
        .validate()?;

        let first_path = format!("{P}.FirstPaymentDateTime");
        let first = day_of(&self.first_payment_date_time, &first_path)?;
        not_before_today(first, today, &first_path)?;
        if let Some(raw) = &self.recurring_payment_date_time {
            let path = format!("{P}.RecurringPaymentDateTime");
            if day_of(raw, &path)? != frequency.next_after(first) {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    "RecurringPaymentDateTime must be the first due day after FirstPaymentDateTime",
                    &path,
                ));
            }
        }
        let final_from_date = self
            .final_payment_date_time
            .as_deref()
            .map(|raw| {
                let path = format!("{P}.FinalPaymentDateTime");
                let day = day_of(raw, &path)?;
                if day < first {
                    return Err(field_error(
                        ObErrorCode::FieldInvalidDate,
                        "FinalPaymentDateTime is before FirstPaymentDateTime",
                        &path,
                    ));
                }
                Ok(day)
            })
            .transpose()?;
        let final_from_count = self
            .number_of_payments
            .as_deref()
            .map(|raw| {
                let path = format!("{P}.NumberOfPayments");
                let n: u32 = raw
                    .parse()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| {
                        field_error(
                            ObErrorCode::FieldInvalid,
                            "NumberOfPayments must be a whole number from 1 to 10000",
                            &path,
                        )
                    })?;
                Ok::<Date, Error>(crate::order::nth_due_day(frequency, first, n))
            })
            .transpose()?;
        let final_payment_on = match (final_from_date, final_from_count) {
            (Some(a), Some(b)) if a != b => {
                return Err(field_error(
                    ObErrorCode::FieldInvalid,
                    "NumberOfPayments and FinalPaymentDateTime disagree",
                    &format!("{P}.NumberOfPayments"),
                ));
            }
            (a, b) => a.or(b),
        };
        if self.final_payment_amount.is_some() && final_payment_on.is_none() {
            return Err(field_error(
                ObErrorCode::FieldUnexpected,
                "FinalPaymentAmount needs a final payment: send FinalPaymentDateTime or NumberOfPayments",
                &format!("{P}.FinalPaymentAmount"),
            ));
        }
        Ok(StandingOrderExecutable {
            amount: pence,
            creditor: Creditor {
                name: accounts.creditor_name,
                identification: accounts.creditor,
            },
            debtor: accounts.debtor,
            reference: self
                .reference
                .clone()
                .unwrap_or_else(|| "STANDING ORDER".to_owned()),
            frequency,
            first_payment_on: first,
            final_payment_on,
        })
    }

    /// Whether `other` asks for the same standing order (amounts by value, date-times by
    /// instant, identifications without spaces, everything else equal).
    pub fn same_meaning(&self, other: &StandingOrderInitiation) -> bool {
        let opt_amount = |a: &Option<InstructedAmount>, b: &Option<InstructedAmount>| match (a, b) {
            (None, None) => true,
            (Some(x), Some(y)) => same_amount(x, y),
            _ => false,
        };
        let opt_instant = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (None, None) => true,
            (Some(x), Some(y)) => same_instant(x, y),
            _ => false,
        };
        self.frequency == other.frequency
            && self.reference == other.reference
            && self.number_of_payments == other.number_of_payments
            && same_instant(
                &self.first_payment_date_time,
                &other.first_payment_date_time,
            )
            && opt_instant(
                &self.recurring_payment_date_time,
                &other.recurring_payment_date_time,
            )
            && opt_instant(
                &self.final_payment_date_time,
                &other.final_payment_date_time,
            )
            && same_amount(&self.first_payment_amount, &other.first_payment_amount)
            && opt_amount(
                &self.recurring_payment_amount,
                &other.recurring_payment_amount,
            )
            && opt_amount(&self.final_payment_amount, &other.final_payment_amount)
            && match (&self.debtor_account, &other.debtor_account) {
                (None, None) => true,
                (Some(a), Some(b)) => same_account(a, b),
                _ => false,
            }
            && same_account(&self.creditor_account, &other.creditor_account)
            && self.supplementary_data == other.supplementary_data
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use serde_json::json;
    use time::macros::date;

    fn so(v: Value) -> StandingOrderInitiation {
        serde_json::from_value(v).unwrap()
    }

    fn base() -> Value {
        json!({
            "Frequency": "IntrvlMnthDay:01:15",
            "Reference": "RENT",
            "FirstPaymentDateTime": "2026-01-15T06:00:00+00:00",
            "FinalPaymentDateTime": "2026-03-15T06:00:00+00:00",
            "FirstPaymentAmount": {"Amount": "100.00", "Currency": "GBP"},
            "CreditorAccount": {"SchemeName": "UK.OBIE.SortCodeAccountNumber",
                "Identification": "04000412345678", "Name": "Landlord"}
        })
    }

    fn code(r: Result<StandingOrderExecutable, Error>) -> ObErrorCode {
        match r.unwrap_err() {
            Error::BadRequest(d) => d[0].code,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_monthly_order_is_executable() {
        let e = so(base()).validate(Some(date!(2026 - 01 - 05))).unwrap();
        assert_eq!(e.amount, Pence(10_000));
        assert_eq!(e.first_payment_on, date!(2026 - 01 - 15));
        assert_eq!(e.final_payment_on, Some(date!(2026 - 03 - 15)));
        assert_eq!(e.frequency, Frequency::Monthly { months: 1, day: 15 });
    }

    #[test]
    fn number_of_payments_sets_the_final_day() {
        let mut v = base();
        v.as_object_mut().unwrap().remove("FinalPaymentDateTime");
        v["NumberOfPayments"] = json!("3");
        let e = so(v.clone()).validate(None).unwrap();
        assert_eq!(e.final_payment_on, Some(date!(2026 - 03 - 15)));
        v["FinalPaymentDateTime"] = json!("2026-04-15T06:00:00+00:00");
        assert_eq!(code(so(v).validate(None)), ObErrorCode::FieldInvalid);
    }

    #[test]
    fn a_final_amount_needs_a_final_payment() {
        let mut v = base();
        v["FinalPaymentAmount"] = json!({"Amount": "100.00", "Currency": "GBP"});
        assert!(so(v.clone()).validate(None).is_ok());
        v.as_object_mut().unwrap().remove("FinalPaymentDateTime");
        assert_eq!(
            code(so(v.clone()).validate(None)),
            ObErrorCode::FieldUnexpected
        );
        v["NumberOfPayments"] = json!("3");
        assert!(so(v).validate(None).is_ok());
    }

    #[test]
    fn unsupported_frequencies_and_amounts_are_refused() {
        for f in [
            "EvryWorkgDay",
            "IntrvlDay:02",
            "QtrDay:ENGLISH",
            "IntrvlMnthDay:01:-01",
        ] {
            let mut v = base();
            v["Frequency"] = json!(f);
            assert_eq!(
                code(so(v).validate(None)),
                ObErrorCode::UnsupportedFrequency,
                "{f}"
            );
        }
        let mut v = base();
        v["Frequency"] = json!("Fortnightly");
        assert_eq!(code(so(v).validate(None)), ObErrorCode::FieldInvalid);
        let mut v = base();
        v["RecurringPaymentAmount"] = json!({"Amount": "90.00", "Currency": "GBP"});
        assert_eq!(code(so(v).validate(None)), ObErrorCode::FieldInvalid);
        let mut v = base();
        v["RecurringPaymentAmount"] = json!({"Amount": "100", "Currency": "GBP"});
        assert!(so(v).validate(None).is_ok());
    }

    #[test]
    fn the_first_payment_cannot_be_past() {
        assert_eq!(
            code(so(base()).validate(Some(date!(2026 - 01 - 16)))),
            ObErrorCode::FieldInvalidDate
        );
    }

    #[test]
    fn meaning_compares_values_not_spelling() {
        let mut other = base();
        other["FirstPaymentAmount"]["Amount"] = json!("100");
        other["FirstPaymentDateTime"] = json!("2026-01-15T07:00:00+01:00");
        assert!(so(base()).same_meaning(&so(other.clone())));
        other["Frequency"] = json!("IntrvlMnthDay:01:16");
        assert!(!so(base()).same_meaning(&so(other)));
    }
}
