//! What a payment consent and a payment of each kind are for, in the bank's own terms and
//! whatever version the TPP spoke: amounts as decimals, accounts as sort code and account
//! number, dates as `time` values. This is what is stored (`Consent.details`, the `terms`
//! column of payments and payment orders), serialised with its own stable snake_case names;
//! each wire version maps its Initiation to and from these types.
//!
//! Three kinds of value are kept opaque (`serde_json::Value`) because the bank never
//! interprets them and must echo them verbatim: `Risk`, `SupplementaryData`,
//! `CreditorPostalAddress` and the consent's `Authorisation` / `SCASupportData`. Their shape
//! differs between versions (v4.0's `OBRisk1` and postal address are not v3.1.11's), so a
//! typed copy would be one version's schema under another name.
//!
//! A TPP may spell one amount or instant several ways (`7.50`, `007.50`; `Z`, `+00:00`).
//! The meaning is the value; responses echo the Initiation as sent (the PIS specifications'
//! resources repeat the request's Initiation), so a spelling other than the canonical one is
//! kept beside the value ([`Money::spelling`], [`Instant::spelling`]) and ignored by equality.

use bascule_core_banking::{
    Creditor, PaymentInstruction, ScheduledPaymentInstruction, StandingOrderInstruction,
};
use bascule_domain::{
    AccountId, Amount, ConsentKind, Frequency, Pence, ProprietaryCode, SortCodeAccountNumber,
};
use bascule_http::Error;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use time::format_description::FormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, UtcOffset};
use uuid::Uuid;

/// The canonical spelling of an instant: seconds precision, explicit numeric offset.
const INSTANT_FORMAT: &[FormatItem<'static>] = format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
);

/// An amount of a currency.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Money {
    /// The value as a decimal, its scale kept (`10.50` stays `10.50`).
    // A string on the wire of storage (rust_decimal's `serde-str`): no float on the way.
    pub amount: Decimal,
    pub currency: String,
    /// How the TPP wrote the amount, when not as `amount` renders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spelling: Option<String>,
}

impl PartialEq for Money {
    fn eq(&self, other: &Self) -> bool {
        self.amount == other.amount && self.currency == other.currency
    }
}

impl Money {
    /// From a wire amount that already passed the schema's pattern.
    pub fn parse(raw: &str, currency: &str) -> Result<Self, Error> {
        let amount: Decimal = raw
            .parse()
            .map_err(|_| Error::internal(format!("unparsed amount {raw}")))?;
        let spelling = (amount.to_string() != raw).then(|| raw.to_owned());
        Ok(Self {
            amount,
            currency: currency.to_owned(),
            spelling,
        })
    }

    /// The amount as the TPP wrote it.
    pub fn text(&self) -> String {
        self.spelling
            .clone()
            .unwrap_or_else(|| self.amount.to_string())
    }

    /// In pence (the bank's rules allow GBP in whole pence only).
    pub fn pence(&self) -> Result<Pence, Error> {
        Amount::new(self.amount)
            .and_then(Amount::to_pence)
            .map_err(|e| Error::internal(format!("stored amount {}: {e}", self.amount)))
    }
}

/// A point in time with the offset the TPP gave.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instant {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// How the TPP wrote it, when not in the canonical `…T06:06:06+00:00` form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spelling: Option<String>,
}

impl PartialEq for Instant {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at
    }
}

impl Instant {
    /// From a wire date-time that already parsed as RFC 3339.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let at = OffsetDateTime::parse(raw, &Rfc3339)
            .map_err(|_| Error::internal(format!("unparsed date-time {raw}")))?;
        let canonical = at.format(INSTANT_FORMAT).ok();
        let spelling = (canonical.as_deref() != Some(raw)).then(|| raw.to_owned());
        Ok(Self { at, spelling })
    }

    pub fn text(&self) -> String {
        match &self.spelling {
            Some(s) => s.clone(),
            None => self.at.format(INSTANT_FORMAT).unwrap_or_default(),
        }
    }

    /// The bank's calendar day (UTC) of the instant.
    pub fn day(&self) -> Date {
        self.at.to_offset(UtcOffset::UTC).date()
    }
}

/// A sort code and account number, with the names the TPP gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    #[serde(with = "sort_code_account_number")]
    pub identification: SortCodeAccountNumber,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_identification: Option<String>,
}

mod sort_code_account_number {
    use super::*;

    pub fn serialize<S: Serializer>(v: &SortCodeAccountNumber, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SortCodeAccountNumber, D::Error> {
        let raw = String::deserialize(d)?;
        SortCodeAccountNumber::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remittance {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unstructured: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// What a single payment moves: how much, from and to which account, with what reference.
/// Domestic and scheduled payments share it (flattened into their own terms).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transfer {
    pub instruction_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_instrument: Option<String>,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor: Option<Account>,
    pub creditor: Account,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creditor_postal_address: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance: Option<Remittance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_data: Option<Value>,
}

/// A single immediate domestic payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomesticTerms {
    pub end_to_end_id: String,
    #[serde(flatten)]
    pub transfer: Transfer,
}

/// A single domestic payment on a future day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledTerms {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_to_end_id: Option<String>,
    pub requested_execution: Instant,
    #[serde(flatten)]
    pub transfer: Transfer,
}

/// A recurring domestic payment of one amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandingOrderTerms {
    /// The Open Banking frequency code (`IntrvlMnthDay:01:15`): v3.1.11 and v4.0 share it,
    /// and the core runs what [`Frequency::parse`] makes of it.
    pub frequency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// `Max35Text` in the schemas: kept as text, compared as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_payments: Option<String>,
    pub first_payment: Instant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_payment: Option<Instant>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_payment: Option<Instant>,
    pub first_amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurring_amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debtor: Option<Account>,
    pub creditor: Account,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplementary_data: Option<Value>,
}

/// Which kind of payment a set of terms asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    Domestic,
    Scheduled,
    StandingOrder,
}

impl PaymentKind {
    pub fn consent_kind(self) -> ConsentKind {
        match self {
            Self::Domestic => ConsentKind::DomesticPayment,
            Self::Scheduled => ConsentKind::DomesticScheduledPayment,
            Self::StandingOrder => ConsentKind::DomesticStandingOrder,
        }
    }

    /// The idempotency scope of the payment POST.
    pub fn resource_type(self) -> &'static str {
        match self {
            Self::Domestic => "domestic-payments",
            Self::Scheduled => "domestic-scheduled-payments",
            Self::StandingOrder => "domestic-standing-orders",
        }
    }

    /// The idempotency scope of the consent POST.
    pub fn consent_resource_type(self) -> &'static str {
        match self {
            Self::Domestic => "domestic-payment-consents",
            Self::Scheduled => "domestic-scheduled-payment-consents",
            Self::StandingOrder => "domestic-standing-order-consents",
        }
    }

    /// For messages: "domestic payment".
    pub fn name(self) -> &'static str {
        match self {
            Self::Domestic => "domestic payment",
            Self::Scheduled => "domestic scheduled payment",
            Self::StandingOrder => "domestic standing order",
        }
    }
}

/// The terms of one kind of payment: what every kind answers the shared pipeline.
pub trait Terms:
    Serialize + DeserializeOwned + Clone + PartialEq + Send + Sync + std::fmt::Debug + 'static
{
    const KIND: PaymentKind;
    /// The debtor account the TPP named, if any.
    fn debtor(&self) -> Option<&Account>;
}

impl Terms for DomesticTerms {
    const KIND: PaymentKind = PaymentKind::Domestic;
    fn debtor(&self) -> Option<&Account> {
        self.transfer.debtor.as_ref()
    }
}

impl Terms for ScheduledTerms {
    const KIND: PaymentKind = PaymentKind::Scheduled;
    fn debtor(&self) -> Option<&Account> {
        self.transfer.debtor.as_ref()
    }
}

impl Terms for StandingOrderTerms {
    const KIND: PaymentKind = PaymentKind::StandingOrder;
    fn debtor(&self) -> Option<&Account> {
        self.debtor.as_ref()
    }
}

fn creditor(account: &Account) -> Result<Creditor, Error> {
    Ok(Creditor {
        name: account
            .name
            .clone()
            .ok_or_else(|| Error::internal("stored creditor without a name"))?,
        identification: account.identification,
    })
}

impl Transfer {
    /// The reference the creditor sees: Reference, else `end_to_end_id`, else
    /// InstructionIdentification.
    pub fn reference(&self, end_to_end_id: Option<&str>) -> String {
        self.remittance
            .as_ref()
            .and_then(|r| r.reference.as_deref())
            .or(end_to_end_id)
            .unwrap_or(&self.instruction_id)
            .to_owned()
    }
}

impl DomesticTerms {
    /// What the core is asked to pay, under the core's idempotency key `key`.
    pub fn instruction(&self, key: String, debtor: AccountId) -> Result<PaymentInstruction, Error> {
        let t = &self.transfer;
        Ok(PaymentInstruction {
            idempotency_key: key,
            debtor,
            creditor: creditor(&t.creditor)?,
            amount: t.amount.pence()?,
            reference: t.reference(Some(&self.end_to_end_id)),
            code: ProprietaryCode::FasterPayment,
        })
    }
}

impl ScheduledTerms {
    pub fn instruction(
        &self,
        request_id: Uuid,
        debtor: AccountId,
    ) -> Result<ScheduledPaymentInstruction, Error> {
        let t = &self.transfer;
        Ok(ScheduledPaymentInstruction {
            request_id,
            debtor,
            creditor: creditor(&t.creditor)?,
            amount: t.amount.pence()?,
            reference: t.reference(self.end_to_end_id.as_deref()),
            execute_on: self.requested_execution.day(),
        })
    }
}

impl StandingOrderTerms {
    pub fn frequency(&self) -> Result<Frequency, Error> {
        Frequency::parse(&self.frequency)
            .map_err(|_| Error::internal(format!("stored frequency {}", self.frequency)))
    }

    /// The day of the last payment: FinalPaymentDateTime's, else the NumberOfPayments-th due
    /// day (the wire's rules made both agree when both were sent).
    pub fn final_payment_on(&self) -> Result<Option<Date>, Error> {
        if let Some(last) = &self.final_payment {
            return Ok(Some(last.day()));
        }
        let Some(raw) = &self.number_of_payments else {
            return Ok(None);
        };
        let n: u32 = raw
            .parse()
            .map_err(|_| Error::internal(format!("stored NumberOfPayments {raw}")))?;
        Ok(Some(nth_due_day(
            self.frequency()?,
            self.first_payment.day(),
            n,
        )))
    }

    pub fn instruction(
        &self,
        request_id: Uuid,
        debtor: AccountId,
    ) -> Result<StandingOrderInstruction, Error> {
        Ok(StandingOrderInstruction {
            request_id,
            debtor,
            creditor: creditor(&self.creditor)?,
            amount: self.first_amount.pence()?,
            reference: self
                .reference
                .clone()
                .unwrap_or_else(|| "STANDING ORDER".to_owned()),
            frequency: self.frequency()?,
            first_payment_on: self.first_payment.day(),
            final_payment_on: self.final_payment_on()?,
        })
    }
}

/// The `n`-th due day of a schedule starting on `first` (the first is the 1st).
pub fn nth_due_day(frequency: Frequency, first: Date, n: u32) -> Date {
    let mut day = first;
    for _ in 1..n {
        day = frequency.next_after(day);
    }
    day
}

/// What a payment consent holds besides its lifecycle: the terms of its kind and what the TPP
/// sent with them (stored as JSON in `Consent.details`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: DeserializeOwned"))]
pub struct ConsentTerms<T> {
    pub terms: T,
    /// The Risk block as the TPP sent it (opaque: see the module doc).
    pub risk: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_refund_account: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorisation: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sca_support_data: Option<Value>,
}

impl<T: Terms> ConsentTerms<T> {
    pub fn from_json(raw: &str) -> Result<Self, Error> {
        serde_json::from_str(raw)
            .map_err(|e| Error::internal(format!("stored payment consent details: {e}")))
    }

    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(Error::internal)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn spellings_are_kept_only_when_not_canonical_and_never_change_the_meaning() {
        let plain = Money::parse("10.50", "GBP").unwrap();
        assert_eq!(plain.spelling, None);
        assert_eq!(plain.text(), "10.50");
        let padded = Money::parse("010.5", "GBP").unwrap();
        assert_eq!(padded.text(), "010.5");
        assert_eq!(plain, padded);
        assert_eq!(padded.pence().unwrap(), Pence(1050));

        let utc = Instant::parse("2026-01-15T06:00:00+00:00").unwrap();
        assert_eq!(utc.spelling, None);
        let zulu = Instant::parse("2026-01-15T06:00:00Z").unwrap();
        assert_eq!(zulu.text(), "2026-01-15T06:00:00Z");
        let paris = Instant::parse("2026-01-15T07:00:00+01:00").unwrap();
        assert_eq!(paris.spelling, None);
        assert_eq!(paris.text(), "2026-01-15T07:00:00+01:00");
        assert!(utc == zulu && zulu == paris);
    }
}
