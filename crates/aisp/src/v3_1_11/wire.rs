//! The AIS wire vocabulary of v3.1.11: the pieces every Open Banking API shares come from
//! the API kit (`Links`, `Meta`, the envelope, date-times, amounts, account identifications);
//! `OBCreditDebitCode` is the Account API's own.

use bascule_domain::Pence;

pub use bascule_api_kit::{
    Amount, CashAccount, DateTime, Envelope, Links, Meta, parse_body_datetime,
};

/// `OBCreditDebitCode`: a zero amount is a credit (AIS `OBCreditDebitCode_0`).
pub fn credit_debit(pence: Pence) -> &'static str {
    if pence.is_negative() {
        "Debit"
    } else {
        "Credit"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_is_credit() {
        assert_eq!(credit_debit(Pence(0)), "Credit");
        assert_eq!(credit_debit(Pence(-1)), "Debit");
    }
}
