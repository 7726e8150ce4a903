//! Ledger-owned arrangements: standing orders, direct debit mandates, scheduled payments,
//! beneficiaries, statements, products and the offers the bank makes on an account.

use rust_decimal::Decimal;
use time::{Date, Duration, Month, OffsetDateTime, Weekday};

use crate::account::SortCodeAccountNumber;
use crate::ids::{
    AccountId, BeneficiaryId, DirectDebitId, OfferId, ProductId, ScheduledPaymentId,
    StandingOrderId, StatementId,
};
use crate::money::Pence;

/// When a standing order falls due, in the Open Banking frequency coding
/// (`EvryDay`, `IntrvlWkDay:NN:DD`, `IntrvlMnthDay:NN:DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    EveryDay,
    /// Every `weeks` weeks on `weekday`.
    Weekly {
        weeks: u8,
        weekday: Weekday,
    },
    /// Every `months` months on `day` (clamped to the month's last day).
    Monthly {
        months: u8,
        day: u8,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("frequency must be EvryDay, IntrvlWkDay:NN:DD or IntrvlMnthDay:NN:DD")]
pub struct InvalidFrequency;

impl Frequency {
    pub fn parse(raw: &str) -> Result<Self, InvalidFrequency> {
        let num = |s: &str, lo: u8, hi: u8| {
            (s.len() == 2 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u8>().ok())
                .flatten()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or(InvalidFrequency)
        };
        let parts: Vec<&str> = raw.split(':').collect();
        match parts.as_slice() {
            ["EvryDay"] => Ok(Self::EveryDay),
            ["IntrvlWkDay", n, d] => {
                let weekday = match num(d, 1, 7)? {
                    1 => Weekday::Monday,
                    2 => Weekday::Tuesday,
                    3 => Weekday::Wednesday,
                    4 => Weekday::Thursday,
                    5 => Weekday::Friday,
                    6 => Weekday::Saturday,
                    _ => Weekday::Sunday,
                };
                Ok(Self::Weekly {
                    weeks: num(n, 1, 9)?,
                    weekday,
                })
            }
            ["IntrvlMnthDay", n, d] => {
                let months = num(n, 1, 24)?;
                if !matches!(months, 1..=6 | 12 | 24) {
                    return Err(InvalidFrequency);
                }
                Ok(Self::Monthly {
                    months,
                    day: num(d, 1, 31)?,
                })
            }
            _ => Err(InvalidFrequency),
        }
    }

    pub fn to_ob_code(&self) -> String {
        match self {
            Self::EveryDay => "EvryDay".to_owned(),
            Self::Weekly { weeks, weekday } => {
                format!("IntrvlWkDay:{weeks:02}:{:02}", weekday.number_from_monday())
            }
            Self::Monthly { months, day } => format!("IntrvlMnthDay:{months:02}:{day:02}"),
        }
    }

    /// The first due date strictly after `after`.
    pub fn next_after(&self, after: Date) -> Date {
        match *self {
            Self::EveryDay => after.next_day().unwrap_or(after),
            Self::Weekly { weeks, weekday } => {
                let mut d = after.next_day().unwrap_or(after);
                while d.weekday() != weekday {
                    d = d.next_day().unwrap_or(d);
                }
                // `after` is normally itself a due date: step the remaining interval weeks.
                d + Duration::weeks(i64::from(weeks.saturating_sub(1)))
            }
            Self::Monthly { months, day } => {
                let this_month = clamp_day(after.year(), after.month(), day);
                if this_month > after && months == 1 {
                    return this_month;
                }
                let (mut y, mut m) = (after.year(), after.month());
                for _ in 0..months {
                    if m == Month::December {
                        y += 1;
                    }
                    m = m.next();
                }
                clamp_day(y, m, day)
            }
        }
    }
}

fn clamp_day(year: i32, month: Month, day: u8) -> Date {
    let last = month.length(year);
    Date::from_calendar_date(year, month, day.min(last)).unwrap_or(Date::MIN)
}

/// Whether a standing order (or a direct debit mandate) is still in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleStatus {
    Active,
    Inactive,
}

impl ScheduleStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Inactive => "Inactive",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "Active" => Some(Self::Active),
            "Inactive" => Some(Self::Inactive),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingOrder {
    pub id: StandingOrderId,
    pub account_id: AccountId,
    pub frequency: Frequency,
    pub reference: String,
    pub creditor_name: String,
    pub creditor: SortCodeAccountNumber,
    pub amount: Pence,
    pub first_payment_on: Date,
    pub next_payment_on: Option<Date>,
    pub last_payment_on: Option<Date>,
    pub final_payment_on: Option<Date>,
    pub status: ScheduleStatus,
}

impl StandingOrder {
    /// How many payments are still to be made: every due day from the next payment to the
    /// final one, as the core pays them (`None`: the order has no end date). An order no longer
    /// in force has none left.
    pub fn payments_left(&self) -> Option<u32> {
        let (Some(next), ScheduleStatus::Active) = (self.next_payment_on, self.status) else {
            return Some(0);
        };
        let last = self.final_payment_on?;
        let mut left = 0;
        let mut day = next;
        while day <= last {
            left += 1;
            let following = self.frequency.next_after(day);
            // At the calendar's end `next_after` cannot move on.
            if following <= day {
                break;
            }
            day = following;
        }
        Some(left)
    }
}

/// A direct debit mandate is active or not, in the same two states (and the same words) as a
/// standing order.
pub type MandateStatus = ScheduleStatus;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectDebitMandate {
    pub id: DirectDebitId,
    pub account_id: AccountId,
    /// The originator's reference for the mandate (OB `MandateIdentification`).
    pub mandate_reference: String,
    pub originator_name: String,
    pub status: MandateStatus,
    pub last_collected_at: Option<OffsetDateTime>,
    pub last_amount: Option<Pence>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledPayment {
    pub id: ScheduledPaymentId,
    pub account_id: AccountId,
    pub execute_on: Date,
    pub amount: Pence,
    pub reference: String,
    pub creditor_name: String,
    pub creditor: SortCodeAccountNumber,
    pub status: ScheduleStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Beneficiary {
    pub id: BeneficiaryId,
    pub account_id: AccountId,
    pub name: String,
    pub creditor: SortCodeAccountNumber,
    pub reference: Option<String>,
    pub trusted: bool,
}

/// A monthly statement: the opening and closing booked balances of one calendar month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub id: StatementId,
    pub account_id: AccountId,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub opening_balance: Pence,
    pub closing_balance: Pence,
    pub total_credits: Pence,
    pub total_debits: Pence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    /// `CurrentAccount` or `Savings` products.
    pub kind: crate::account::AccountKind,
    /// Gross annual interest rate as a fraction; AER derives from it.
    pub interest_rate: Option<Decimal>,
    pub monthly_fee: Pence,
    /// Annual rate charged on an arranged overdraft, as a fraction.
    pub overdraft_rate: Option<Decimal>,
}

/// What an offer is for (the kinds of `OBReadOffer1`'s `OfferType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferKind {
    BalanceTransfer,
    LimitIncrease,
    MoneyTransfer,
    PromotionalRate,
    Other,
}

impl OfferKind {
    /// The stored and configured spelling (`limit_increase`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BalanceTransfer => "balance_transfer",
            Self::LimitIncrease => "limit_increase",
            Self::MoneyTransfer => "money_transfer",
            Self::PromotionalRate => "promotional_rate",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::BalanceTransfer,
            Self::LimitIncrease,
            Self::MoneyTransfer,
            Self::PromotionalRate,
            Self::Other,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// An offer the bank makes to an account's holder, open from `starts_at` to `ends_at`:
/// e.g. a higher arranged overdraft (`amount` the new limit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub id: OfferId,
    pub account_id: AccountId,
    pub kind: OfferKind,
    pub description: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    pub amount: Option<Pence>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn a_standing_order_counts_the_payments_it_has_left() {
        let mut so = StandingOrder {
            id: StandingOrderId::parse("so-1".to_owned()).unwrap(),
            account_id: AccountId::parse("acc-1".to_owned()).unwrap(),
            frequency: Frequency::Monthly { months: 1, day: 15 },
            reference: "RENT".into(),
            creditor_name: "Alan Turing".into(),
            creditor: SortCodeAccountNumber::parse("04999900000002").unwrap(),
            amount: Pence(1000),
            first_payment_on: date!(2026 - 01 - 15),
            next_payment_on: Some(date!(2026 - 01 - 15)),
            last_payment_on: None,
            final_payment_on: Some(date!(2026 - 03 - 15)),
            status: ScheduleStatus::Active,
        };
        assert_eq!(so.payments_left(), Some(3));
        so.next_payment_on = Some(date!(2026 - 03 - 15));
        assert_eq!(so.payments_left(), Some(1));
        so.final_payment_on = None;
        assert_eq!(so.payments_left(), None, "no end date");
        so.status = ScheduleStatus::Inactive;
        so.next_payment_on = None;
        assert_eq!(so.payments_left(), Some(0));
        // Every day up to the calendar's last day ends.
        let last = so.clone();
        let mut daily = StandingOrder {
            frequency: Frequency::EveryDay,
            next_payment_on: Some(Date::MAX),
            final_payment_on: Some(Date::MAX),
            status: ScheduleStatus::Active,
            ..last
        };
        assert_eq!(daily.payments_left(), Some(1));
        daily.next_payment_on = Some(Date::MAX - Duration::days(1));
        assert_eq!(daily.payments_left(), Some(2));
    }

    #[test]
    fn offer_kinds_round_trip() {
        for kind in [
            OfferKind::BalanceTransfer,
            OfferKind::LimitIncrease,
            OfferKind::MoneyTransfer,
            OfferKind::PromotionalRate,
            OfferKind::Other,
        ] {
            assert_eq!(OfferKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(OfferKind::parse("LimitIncrease"), None);
    }

    #[test]
    fn frequencies_round_trip_their_ob_codes() {
        for code in [
            "EvryDay",
            "IntrvlWkDay:01:05",
            "IntrvlMnthDay:01:28",
            "IntrvlMnthDay:12:01",
        ] {
            assert_eq!(Frequency::parse(code).unwrap().to_ob_code(), code);
        }
        for bad in [
            "",
            "EvryWeek",
            "IntrvlWkDay:01:08",
            "IntrvlMnthDay:07:01",
            "IntrvlMnthDay:1:1",
        ] {
            assert!(Frequency::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn monthly_dates_clamp_to_the_end_of_short_months() {
        let f = Frequency::Monthly { months: 1, day: 31 };
        assert_eq!(f.next_after(date!(2026 - 01 - 31)), date!(2026 - 02 - 28));
        assert_eq!(f.next_after(date!(2026 - 02 - 28)), date!(2026 - 03 - 31));
        let f = Frequency::Monthly { months: 1, day: 15 };
        assert_eq!(f.next_after(date!(2026 - 01 - 10)), date!(2026 - 01 - 15));
        assert_eq!(f.next_after(date!(2026 - 12 - 15)), date!(2027 - 01 - 15));
    }

    #[test]
    fn weekly_dates_land_on_the_weekday() {
        let f = Frequency::Weekly {
            weeks: 1,
            weekday: Weekday::Friday,
        };
        assert_eq!(f.next_after(date!(2026 - 11 - 25)), date!(2026 - 11 - 27));
        assert_eq!(f.next_after(date!(2026 - 11 - 27)), date!(2026 - 12 - 04));
    }
}
