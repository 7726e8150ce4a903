//! Bascule's domain: the pure types and rules every other crate speaks — money, identifiers,
//! customers, accounts and pots, postings, the transactions a customer sees, schedules, interest,
//! and the clock. Nothing here does I/O; everything here can be unit-tested in isolation.

pub mod account;
pub mod aisp;
pub mod clock;
pub mod consent;
pub mod customer;
pub mod ids;
pub mod interest;
pub mod money;
pub mod posting;
pub mod schedule;
pub mod transaction;

pub use account::{
    Account, AccountKind, AccountNumber, AccountStatus, AccountType, Pot, SortCode,
    SortCodeAccountNumber,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use consent::{
    BankSuspension, Consent, ConsentEvent, ConsentKind, ConsentStatus, InvalidTransition,
    Reauthentication, SCA_VALIDITY, SuspensionReason,
};
pub use customer::{Customer, PostalAddress};
pub use ids::{
    AccountId, BeneficiaryId, ConsentId, CustomerId, DirectDebitId, IdSource, InvalidId,
    LedgerTransactionId, OfferId, ProductId, RandomIds, ScheduledPaymentId, StandingOrderId,
    StatementId, TransactionId,
};
pub use money::{Amount, Currency, InvalidAmount, Pence};
pub use posting::{LedgerRuleError, Leg, validate_legs};
pub use schedule::{
    Beneficiary, DirectDebitMandate, Frequency, MandateStatus, Offer, OfferKind, Product,
    ScheduleStatus, ScheduledPayment, StandingOrder, Statement,
};
pub use transaction::{
    Counterparty, CreditDebit, Merchant, ProprietaryCode, Transaction, TransactionStatus,
};

#[cfg(test)]
mod parser_tests {
    //! Every parser in the domain takes untrusted input from the wire or the database: none
    //! may panic, whatever the string (multi-byte characters, separators, lengths near the
    //! limits).

    use proptest::prelude::*;

    use super::*;

    fn parse_everything(s: &str) {
        let _ = SortCode::parse(s);
        let _ = AccountNumber::parse(s);
        let _ = SortCodeAccountNumber::parse(s);
        let _ = Amount::parse(s);
        let _ = Currency::parse(s);
        let _ = Frequency::parse(s);
        let _ = AccountKind::parse(s);
        let _ = OfferKind::parse(s);
        let _ = OfferId::parse(s);
        let _ = AccountType::parse(s);
        let _ = AccountStatus::parse(s);
        let _ = CreditDebit::parse(s);
        let _ = ProprietaryCode::parse(s);
        let _ = TransactionStatus::parse(s);
        let _ = MandateStatus::parse(s);
        let _ = ScheduleStatus::parse(s);
        let _ = CustomerId::parse(s);
        let _ = AccountId::parse(s);
        let _ = TransactionId::parse(s);
        let _ = LedgerTransactionId::parse(s);
        let _ = BeneficiaryId::parse(s);
        let _ = StandingOrderId::parse(s);
        let _ = DirectDebitId::parse(s);
        let _ = ScheduledPaymentId::parse(s);
        let _ = StatementId::parse(s);
        let _ = ProductId::parse(s);
    }

    #[test]
    fn known_panic_inputs_are_refused() {
        for s in [
            "12345é1234567",
            "é",
            "12-34-5é",
            "1.é",
            "IntrvlMnthDay:é:01",
            "GB\u{e9}",
        ] {
            parse_everything(s);
        }
        assert!(SortCodeAccountNumber::parse("12345é1234567").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn no_string_panics_any_parser(s in any::<String>()) {
            parse_everything(&s);
        }

        #[test]
        fn no_near_miss_panics_any_parser(
            s in "[0-9é٣\\-. :a-zA-Z\u{1F600}]{0,20}",
        ) {
            parse_everything(&s);
        }
    }
}
