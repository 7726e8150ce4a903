//! Interest on pots: accrued daily on the end-of-day booked balance at the gross annual rate
//! over 365 days, paid monthly, rounded down to the penny (the bank never pays a fraction it
//! does not owe; the fraction is not carried).

use rust_decimal::Decimal;

use crate::money::Pence;

/// One day's interest in pence, unrounded. Negative balances earn nothing.
pub fn daily_accrual(balance: Pence, gross_annual_rate: Decimal) -> Decimal {
    if balance.0 <= 0 || gross_annual_rate <= Decimal::ZERO {
        return Decimal::ZERO;
    }
    Decimal::from(balance.0) * gross_annual_rate / Decimal::from(365)
}

/// What a month's accruals pay: whole pence, rounded down.
pub fn monthly_payment(accrued_pence: Decimal) -> Pence {
    let whole = accrued_pence.floor();
    Pence(i64::try_from(whole).unwrap_or(0).max(0))
}

/// The AER of a gross rate compounded monthly: (1 + r/12)^12 − 1, to 4 decimal places of a
/// fraction (two of a percentage), as products display it.
pub fn aer_from_gross(gross_annual_rate: Decimal) -> Decimal {
    let monthly = Decimal::ONE + gross_annual_rate / Decimal::from(12);
    let mut acc = Decimal::ONE;
    for _ in 0..12 {
        acc *= monthly;
    }
    (acc - Decimal::ONE).round_dp(4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn a_thousand_pounds_at_3_65_percent_earns_ten_pence_a_day() {
        let rate = Decimal::new(365, 4);
        assert_eq!(daily_accrual(Pence(100_000), rate), Decimal::from(10));
    }

    #[test]
    fn monthly_payment_rounds_down_and_never_goes_negative() {
        assert_eq!(monthly_payment(Decimal::new(30999, 2)), Pence(309));
        assert_eq!(monthly_payment(Decimal::new(-5, 0)), Pence(0));
        assert_eq!(
            daily_accrual(Pence(-100), Decimal::new(5, 2)),
            Decimal::ZERO
        );
    }

    #[test]
    fn aer_exceeds_the_gross_rate_when_compounded() {
        assert_eq!(aer_from_gross(Decimal::new(4, 2)), Decimal::new(407, 4));
    }
}
