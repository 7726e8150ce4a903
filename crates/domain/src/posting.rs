//! Double entry: every ledger transaction is a set of legs that sums to zero.

use crate::ids::AccountId;
use crate::money::Pence;

/// One posting: `amount` is added to the account's balance (positive credits it, negative debits it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leg {
    pub account: AccountId,
    pub amount: Pence,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerRuleError {
    #[error("a ledger transaction needs at least two postings")]
    TooFewLegs,
    #[error("a posting of zero moves nothing")]
    ZeroLeg,
    #[error("postings must sum to zero, these sum to {0}")]
    Unbalanced(Pence),
    #[error("postings overflow the ledger's range")]
    Overflow,
}

/// The rule every ledger transaction obeys before it is written: two or more non-zero legs that
/// balance exactly.
pub fn validate_legs(legs: &[Leg]) -> Result<(), LedgerRuleError> {
    if legs.len() < 2 {
        return Err(LedgerRuleError::TooFewLegs);
    }
    let mut sum = Pence::ZERO;
    for leg in legs {
        if leg.amount == Pence::ZERO {
            return Err(LedgerRuleError::ZeroLeg);
        }
        sum = sum
            .checked_add(leg.amount)
            .ok_or(LedgerRuleError::Overflow)?;
    }
    if sum != Pence::ZERO {
        return Err(LedgerRuleError::Unbalanced(sum));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leg(account: &str, pence: i64) -> Leg {
        Leg {
            account: AccountId::parse(account).unwrap(),
            amount: Pence(pence),
        }
    }

    #[test]
    fn balanced_legs_pass_and_the_rest_fail() {
        assert!(validate_legs(&[leg("a", -500), leg("b", 500)]).is_ok());
        assert_eq!(
            validate_legs(&[leg("a", 1)]),
            Err(LedgerRuleError::TooFewLegs)
        );
        assert_eq!(
            validate_legs(&[leg("a", -500), leg("b", 499)]),
            Err(LedgerRuleError::Unbalanced(Pence(-1)))
        );
        assert_eq!(
            validate_legs(&[leg("a", 0), leg("b", 0)]),
            Err(LedgerRuleError::ZeroLeg)
        );
        assert_eq!(
            validate_legs(&[leg("a", i64::MAX), leg("b", 1), leg("c", 1)]),
            Err(LedgerRuleError::Overflow)
        );
    }

    proptest! {
        #[test]
        fn any_split_of_a_debit_balances(parts in proptest::collection::vec(1i64..1_000_000, 1..8)) {
            let total: i64 = parts.iter().sum();
            let mut legs = vec![leg("source", -total)];
            legs.extend(parts.iter().enumerate().map(|(i, p)| leg(&format!("dest{i}"), *p)));
            prop_assert!(validate_legs(&legs).is_ok());
        }
    }
}
