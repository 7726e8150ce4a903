//! Bascule's domain: the pure types and rules every other crate speaks — money, identifiers,
//! customers, accounts and pots, postings, the transactions a customer sees, schedules, interest,
//! and the clock. Nothing here does I/O; everything here can be unit-tested in isolation.

pub mod account;
pub mod clock;
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
pub use customer::{Customer, PostalAddress};
pub use ids::{
    AccountId, BeneficiaryId, CustomerId, DirectDebitId, IdSource, InvalidId, LedgerTransactionId,
    ProductId, RandomIds, ScheduledPaymentId, StandingOrderId, StatementId, TransactionId,
};
pub use money::{Amount, Currency, InvalidAmount, Pence};
pub use posting::{LedgerRuleError, Leg, validate_legs};
pub use schedule::{
    Beneficiary, DirectDebitMandate, Frequency, MandateStatus, Product, ScheduleStatus,
    ScheduledPayment, StandingOrder, Statement,
};
pub use transaction::{
    Counterparty, CreditDebit, Merchant, ProprietaryCode, Transaction, TransactionStatus,
};
