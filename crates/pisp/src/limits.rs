//! Payment limits: how much one customer may pay out through the Payment Initiation API per
//! day, by customer type (the seed's Monzo: £10,000 per day for personal customers). The
//! customer type is the debtor account's `AccountType`. A payment over the limit is accepted as
//! a resource and `Rejected` with a reason, as the order lifecycle allows.
//!
//! Days are UTC calendar days. The running total lives in `pisp_daily_totals` and is reserved
//! by a conditional UPDATE inside the payment's own transaction, so concurrent payments never
//! exceed the limit together; a payment rejected later (insufficient funds) releases its share.

use bascule_domain::{AccountType, Pence};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentLimits {
    pub personal_daily: Pence,
    pub business_daily: Pence,
}

impl Default for PaymentLimits {
    fn default() -> Self {
        Self {
            personal_daily: Pence::from_pounds(10_000),
            business_daily: Pence::from_pounds(25_000),
        }
    }
}

impl PaymentLimits {
    pub fn daily(&self, account_type: AccountType) -> Pence {
        match account_type {
            AccountType::Personal => self.personal_daily,
            AccountType::Business => self.business_daily,
        }
    }
}

/// The day a payment made at `at` counts against: days since 1970-01-01 (UTC).
pub fn day_of(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn days_are_utc_calendar_days() {
        assert_eq!(
            day_of(datetime!(2026-01-05 00:00 UTC)),
            day_of(datetime!(2026-01-05 23:59:59 UTC))
        );
        assert_eq!(
            day_of(datetime!(2026-01-05 23:59:59 UTC)) + 1,
            day_of(datetime!(2026-01-06 00:00 UTC))
        );
        assert_eq!(
            PaymentLimits::default().daily(AccountType::Personal),
            Pence(1_000_000)
        );
    }
}
