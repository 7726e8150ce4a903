//! What a payment consent asks of the customer (CEG: amount, currency, payee and the paying
//! account on the approval screen), from its version-neutral terms.

use bascule_api_kit::summary::{self, AccountChoice, ConsentSummary, PaymentSummary};
use bascule_domain::{Consent, ConsentKind, Frequency};
use bascule_http::Error;

use crate::order::{
    Account, ConsentTerms, DomesticTerms, Money, ScheduledTerms, StandingOrderTerms, Terms,
    Transfer,
};

fn payee(account: &Account) -> String {
    account.name.clone().unwrap_or_else(|| "the payee".into())
}

fn amount(money: &Money) -> String {
    summary::money(money.amount, &money.currency)
}

fn transfer(t: &Transfer, reference: Option<&str>, when: String) -> PaymentSummary {
    PaymentSummary {
        payee_name: payee(&t.creditor),
        payee_account: t.creditor.identification,
        amount: amount(&t.amount),
        reference: t
            .remittance
            .as_ref()
            .and_then(|r| r.reference.clone())
            .or_else(|| reference.map(str::to_owned)),
        when,
    }
}

pub(crate) fn every(frequency: &str) -> String {
    match Frequency::parse(frequency) {
        Ok(Frequency::EveryDay) => "Every day".into(),
        Ok(Frequency::Weekly { weeks: 1, weekday }) => format!("Every week on {weekday}"),
        Ok(Frequency::Weekly { weeks, weekday }) => format!("Every {weeks} weeks on {weekday}"),
        Ok(Frequency::Monthly { months: 1, day }) => format!("Every month on day {day}"),
        Ok(Frequency::Monthly { months, day }) => format!("Every {months} months on day {day}"),
        Err(_) => format!("On the schedule {frequency}"),
    }
}

fn standing_order(t: &StandingOrderTerms) -> PaymentSummary {
    let mut when = format!(
        "{}, from {}",
        every(&t.frequency),
        summary::day(t.first_payment.at)
    );
    if let Some(n) = &t.number_of_payments {
        when.push_str(&format!(", {n} payments"));
    }
    if let Some(last) = &t.final_payment {
        when.push_str(&format!(", until {}", summary::day(last.at)));
    }
    let mut shown = amount(&t.first_amount);
    if let Some(recurring) = &t.recurring_amount
        && recurring != &t.first_amount
    {
        shown = format!("{shown} first, then {}", amount(recurring));
    }
    if let Some(last) = &t.final_amount {
        shown = format!("{shown}, last payment {}", amount(last));
    }
    PaymentSummary {
        payee_name: payee(&t.creditor),
        payee_account: t.creditor.identification,
        amount: shown,
        reference: t.reference.clone(),
        when,
    }
}

fn of<T: Terms>(
    consent: &Consent,
    purpose: &str,
    describe: impl Fn(&T) -> PaymentSummary,
) -> Result<ConsentSummary, Error> {
    let stored = ConsentTerms::<T>::from_json(&consent.details)?;
    let payment = describe(&stored.terms);
    Ok(ConsentSummary {
        purpose: format!(
            "wants to {purpose} {} to {}",
            payment.amount, payment.payee_name
        ),
        sections: Vec::new(),
        accounts: match stored.terms.debtor() {
            Some(debtor) => AccountChoice::Named(debtor.identification),
            None => AccountChoice::OneCurrentAccount,
        },
        payment: Some(payment),
        until: None,
    })
}

/// The summary of a payment consent of any kind.
pub fn summary(consent: &Consent) -> Result<ConsentSummary, Error> {
    match consent.kind {
        ConsentKind::DomesticPayment => of(consent, "pay", |t: &DomesticTerms| {
            transfer(&t.transfer, Some(&t.end_to_end_id), "Now".into())
        }),
        ConsentKind::DomesticScheduledPayment => {
            of(consent, "schedule a payment of", |t: &ScheduledTerms| {
                transfer(
                    &t.transfer,
                    t.end_to_end_id.as_deref(),
                    format!("On {}", summary::day(t.requested_execution.at)),
                )
            })
        }
        ConsentKind::DomesticStandingOrder => {
            of(consent, "set up a standing order of", standing_order)
        }
        other => Err(Error::internal(format!(
            "not a payment consent: {}",
            other.as_str()
        ))),
    }
}
