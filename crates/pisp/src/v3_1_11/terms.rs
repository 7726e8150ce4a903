//! v3.1.11 wire ↔ the bank's terms ([`crate::order`]), both ways: a request's Initiation
//! (already through its `validate`) becomes terms; stored terms render back as the
//! Initiation the TPP sent, byte for byte.

use bascule_domain::SortCodeAccountNumber;
use bascule_http::Error;
use serde_json::Value;

use crate::initiation::{
    CashAccount, DomesticInitiation, InstructedAmount, RemittanceInformation, Risk,
    SORT_CODE_ACCOUNT_NUMBER,
};
use crate::order::{
    Account, DomesticTerms, Instant, Money, Remittance, ScheduledTerms, StandingOrderTerms,
    Transfer,
};
use crate::schedule_initiation::{ScheduledInitiation, StandingOrderInitiation};

fn account(a: &CashAccount) -> Result<Account, Error> {
    // `validate` has refused every other scheme.
    if a.scheme_name != SORT_CODE_ACCOUNT_NUMBER {
        return Err(Error::internal(format!(
            "unvalidated scheme {}",
            a.scheme_name
        )));
    }
    Ok(Account {
        identification: SortCodeAccountNumber::parse(&a.identification)
            .map_err(|e| Error::internal(format!("unvalidated identification: {e}")))?,
        name: a.name.clone(),
        secondary_identification: a.secondary_identification.clone(),
    })
}

fn cash_account(a: &Account) -> CashAccount {
    CashAccount {
        scheme_name: SORT_CODE_ACCOUNT_NUMBER.into(),
        identification: a.identification.to_string(),
        name: a.name.clone(),
        secondary_identification: a.secondary_identification.clone(),
    }
}

fn money(a: &InstructedAmount) -> Result<Money, Error> {
    Money::parse(&a.amount, &a.currency)
}

fn instructed(m: &Money) -> InstructedAmount {
    InstructedAmount {
        amount: m.text(),
        currency: m.currency.clone(),
    }
}

fn remittance(r: &RemittanceInformation) -> Remittance {
    Remittance {
        unstructured: r.unstructured.clone(),
        reference: r.reference.clone(),
    }
}

fn remittance_information(r: &Remittance) -> RemittanceInformation {
    RemittanceInformation {
        unstructured: r.unstructured.clone(),
        reference: r.reference.clone(),
    }
}

/// `OBRisk1` as the opaque value the terms keep.
pub fn risk_value(risk: &Risk) -> Result<Value, Error> {
    serde_json::to_value(risk).map_err(Error::internal)
}

/// The stored Risk as `OBRisk1` again (rendered in the schema's field order, as sent).
pub fn risk_of(value: &Value) -> Result<Risk, Error> {
    serde_json::from_value(value.clone()).map_err(|e| Error::internal(format!("stored Risk: {e}")))
}

/// `ReadRefundAccount` as the consent schemas allow it: absent, `Yes` or `No`.
pub fn check_read_refund_account(raw: Option<&str>) -> Result<(), Error> {
    match raw {
        None | Some("Yes" | "No") => Ok(()),
        Some(_) => Err(bascule_api_kit::body::field_error(
            bascule_http::ObErrorCode::FieldInvalid,
            "ReadRefundAccount is Yes or No",
            "Data.ReadRefundAccount",
        )),
    }
}

/// `Yes` / `No`.
pub fn yes_no(raw: Option<&str>) -> Option<bool> {
    raw.map(|r| r == "Yes")
}

pub fn yes_no_text(v: Option<bool>) -> Option<&'static str> {
    v.map(|b| if b { "Yes" } else { "No" })
}

impl DomesticInitiation {
    pub fn to_terms(&self) -> Result<DomesticTerms, Error> {
        Ok(DomesticTerms {
            end_to_end_id: self.end_to_end_identification.clone(),
            transfer: Transfer {
                instruction_id: self.instruction_identification.clone(),
                local_instrument: self.local_instrument.clone(),
                amount: money(&self.instructed_amount)?,
                debtor: self.debtor_account.as_ref().map(account).transpose()?,
                creditor: account(&self.creditor_account)?,
                creditor_postal_address: self.creditor_postal_address.clone(),
                remittance: self.remittance_information.as_ref().map(remittance),
                supplementary_data: self.supplementary_data.clone(),
            },
        })
    }

    /// The Initiation of a transfer with `end_to_end_identification`: the domestic one, and
    /// the domestic part of a scheduled one.
    fn of_transfer(t: &Transfer, end_to_end_identification: String) -> Self {
        Self {
            instruction_identification: t.instruction_id.clone(),
            end_to_end_identification,
            local_instrument: t.local_instrument.clone(),
            instructed_amount: instructed(&t.amount),
            debtor_account: t.debtor.as_ref().map(cash_account),
            creditor_account: cash_account(&t.creditor),
            creditor_postal_address: t.creditor_postal_address.clone(),
            remittance_information: t.remittance.as_ref().map(remittance_information),
            supplementary_data: t.supplementary_data.clone(),
        }
    }

    pub fn from_terms(t: &DomesticTerms) -> Self {
        Self::of_transfer(&t.transfer, t.end_to_end_id.clone())
    }
}

impl ScheduledInitiation {
    pub fn to_terms(&self) -> Result<ScheduledTerms, Error> {
        Ok(ScheduledTerms {
            end_to_end_id: self.end_to_end_identification.clone(),
            requested_execution: Instant::parse(&self.requested_execution_date_time)?,
            // The domestic fields map as the domestic Initiation's do.
            transfer: self.as_domestic().to_terms()?.transfer,
        })
    }

    pub fn from_terms(t: &ScheduledTerms) -> Self {
        let d = DomesticInitiation::of_transfer(&t.transfer, String::new());
        Self {
            instruction_identification: d.instruction_identification,
            end_to_end_identification: t.end_to_end_id.clone(),
            local_instrument: d.local_instrument,
            requested_execution_date_time: t.requested_execution.text(),
            instructed_amount: d.instructed_amount,
            debtor_account: d.debtor_account,
            creditor_account: d.creditor_account,
            creditor_postal_address: d.creditor_postal_address,
            remittance_information: d.remittance_information,
            supplementary_data: d.supplementary_data,
        }
    }
}

impl StandingOrderInitiation {
    pub fn to_terms(&self) -> Result<StandingOrderTerms, Error> {
        let instant = |raw: &Option<String>| raw.as_deref().map(Instant::parse).transpose();
        let amount = |a: &Option<InstructedAmount>| a.as_ref().map(money).transpose();
        Ok(StandingOrderTerms {
            frequency: self.frequency.clone(),
            reference: self.reference.clone(),
            number_of_payments: self.number_of_payments.clone(),
            first_payment: Instant::parse(&self.first_payment_date_time)?,
            recurring_payment: instant(&self.recurring_payment_date_time)?,
            final_payment: instant(&self.final_payment_date_time)?,
            first_amount: money(&self.first_payment_amount)?,
            recurring_amount: amount(&self.recurring_payment_amount)?,
            final_amount: amount(&self.final_payment_amount)?,
            debtor: self.debtor_account.as_ref().map(account).transpose()?,
            creditor: account(&self.creditor_account)?,
            supplementary_data: self.supplementary_data.clone(),
        })
    }

    pub fn from_terms(t: &StandingOrderTerms) -> Self {
        Self {
            frequency: t.frequency.clone(),
            reference: t.reference.clone(),
            number_of_payments: t.number_of_payments.clone(),
            first_payment_date_time: t.first_payment.text(),
            recurring_payment_date_time: t.recurring_payment.as_ref().map(Instant::text),
            final_payment_date_time: t.final_payment.as_ref().map(Instant::text),
            first_payment_amount: instructed(&t.first_amount),
            recurring_payment_amount: t.recurring_amount.as_ref().map(instructed),
            final_payment_amount: t.final_amount.as_ref().map(instructed),
            debtor_account: t.debtor.as_ref().map(cash_account),
            creditor_account: cash_account(&t.creditor),
            supplementary_data: t.supplementary_data.clone(),
        }
    }
}
