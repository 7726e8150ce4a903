//! Money. Amounts are decimals, never floats: `Amount` is the unsigned wire amount (OB
//! `OBActiveCurrencyAndAmount_SimpleType`, up to 13 integer digits and 5 decimals) and `Pence`
//! is the signed integer the ledger posts (GBP minor units).

use std::fmt;
use std::ops::{Add, Neg, Sub};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidAmount {
    #[error("amount must not be negative; the direction is given by CreditDebitIndicator")]
    Negative,
    #[error("amount may have at most 13 integer digits and {max_decimals} decimal places")]
    OutOfRange { max_decimals: u32 },
    #[error("amount must be digits with an optional decimal point, like 10.50")]
    Malformed,
    #[error("currency must be three upper-case letters (ISO 4217)")]
    Currency,
    #[error("amount is too large for the ledger")]
    Overflow,
}

/// An unsigned amount as Open Banking carries it: at most 13 integer digits and 5 decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(Decimal);

impl Amount {
    pub const MAX_DECIMALS: u32 = 5;

    pub fn new(value: Decimal) -> Result<Self, InvalidAmount> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(InvalidAmount::Negative);
        }
        let value = value.normalize();
        let limit = Decimal::from(10_000_000_000_000_i64);
        if value.scale() > Self::MAX_DECIMALS || value >= limit {
            return Err(InvalidAmount::OutOfRange {
                max_decimals: Self::MAX_DECIMALS,
            });
        }
        Ok(Self(value.abs()))
    }

    /// Parses the wire form `^\d{1,13}$|^\d{1,13}\.\d{1,5}$` (ASCII digits only).
    pub fn parse(raw: &str) -> Result<Self, InvalidAmount> {
        let (int, frac) = match raw.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (raw, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(int) || frac.is_some_and(|f| !digits(f)) {
            return Err(InvalidAmount::Malformed);
        }
        if int.len() > 13 || frac.is_some_and(|f| f.len() > Self::MAX_DECIMALS as usize) {
            return Err(InvalidAmount::OutOfRange {
                max_decimals: Self::MAX_DECIMALS,
            });
        }
        let value: Decimal = raw.parse().map_err(|_| InvalidAmount::Malformed)?;
        Self::new(value)
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    /// The amount in pence, if it is a whole number of pence.
    pub fn to_pence(self) -> Result<Pence, InvalidAmount> {
        let pence = self.0 * Decimal::ONE_HUNDRED;
        if pence.fract() != Decimal::ZERO {
            return Err(InvalidAmount::OutOfRange { max_decimals: 2 });
        }
        i64::try_from(pence)
            .map(Pence)
            .map_err(|_| InvalidAmount::Overflow)
    }
}

impl fmt::Display for Amount {
    /// The wire form: no exponent, no sign, and always at least two decimals for readability.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = self.0;
        if v.scale() < 2 {
            v.rescale(2);
        }
        write!(f, "{v}")
    }
}

impl Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Amount::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const GBP: Currency = Currency(*b"GBP");

    pub fn parse(raw: &str) -> Result<Self, InvalidAmount> {
        match raw.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => Ok(Self([*a, *b, *c])),
            _ => Err(InvalidAmount::Currency),
        }
    }

    pub fn as_str(&self) -> &str {
        // The bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signed sum of GBP minor units: what the ledger posts and sums. Positive is a credit to the
/// account (money in), negative a debit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Pence(pub i64);

impl Pence {
    pub const ZERO: Pence = Pence(0);

    pub fn from_pounds(pounds: i64) -> Pence {
        Pence(pounds * 100)
    }

    pub fn checked_add(self, other: Pence) -> Option<Pence> {
        self.0.checked_add(other.0).map(Pence)
    }

    pub fn abs(self) -> Pence {
        Pence(self.0.abs())
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    /// The unsigned wire amount; direction must travel separately.
    pub fn to_amount(self) -> Amount {
        Amount(Decimal::new(self.0.abs(), 2))
    }
}

impl Add for Pence {
    type Output = Pence;
    fn add(self, rhs: Pence) -> Pence {
        Pence(self.0.saturating_add(rhs.0))
    }
}

impl Sub for Pence {
    type Output = Pence;
    fn sub(self, rhs: Pence) -> Pence {
        Pence(self.0.saturating_sub(rhs.0))
    }
}

impl Neg for Pence {
    type Output = Pence;
    fn neg(self) -> Pence {
        Pence(-self.0)
    }
}

impl fmt::Display for Pence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn amount_parses_the_ob_pattern_only() {
        assert_eq!(Amount::parse("10").unwrap().to_string(), "10.00");
        assert_eq!(Amount::parse("10.5").unwrap().to_string(), "10.50");
        assert_eq!(Amount::parse("0.12345").unwrap().to_string(), "0.12345");
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            "1e3",
            "1.123456",
            "12345678901234",
            "١٢",
        ] {
            assert!(Amount::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn amount_to_pence_requires_whole_pence() {
        assert_eq!(
            Amount::parse("12.34").unwrap().to_pence().unwrap(),
            Pence(1234)
        );
        assert!(Amount::parse("12.345").unwrap().to_pence().is_err());
    }

    #[test]
    fn currency_is_three_upper_case_letters() {
        assert_eq!(Currency::parse("GBP").unwrap(), Currency::GBP);
        assert!(Currency::parse("gbp").is_err());
        assert!(Currency::parse("GB").is_err());
    }

    proptest! {
        #[test]
        fn pence_round_trip_through_the_wire_amount(p in 0i64..1_000_000_000_000) {
            let amount = Pence(p).to_amount();
            let parsed = Amount::parse(&amount.to_string()).unwrap();
            prop_assert_eq!(parsed.to_pence().unwrap(), Pence(p));
        }
    }
}
