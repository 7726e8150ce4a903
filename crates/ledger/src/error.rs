use bascule_core_banking::CoreBankingError;
use bascule_domain::{AccountId, LedgerRuleError};
use bascule_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("account {0} does not accept postings (disabled or closed)")]
    AccountNotEnabled(AccountId),
    #[error(transparent)]
    Rule(#[from] LedgerRuleError),
    #[error("invalid: {0}")]
    Invalid(String),
    /// The idempotency key was already used for a different entry (other accounts, amounts or
    /// code): nothing was posted.
    #[error("idempotency key already used for a different entry")]
    IdempotencyConflict,
}

impl From<sqlx::Error> for LedgerError {
    fn from(e: sqlx::Error) -> Self {
        LedgerError::Store(StoreError::Database(e))
    }
}

impl From<LedgerError> for CoreBankingError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::NotFound(what) => CoreBankingError::NotFound(what),
            LedgerError::InsufficientFunds => CoreBankingError::InsufficientFunds,
            LedgerError::AccountNotEnabled(id) => CoreBankingError::AccountNotEnabled(id),
            LedgerError::Rule(r) => CoreBankingError::Rule(r),
            LedgerError::Invalid(m) => CoreBankingError::Invalid(m),
            LedgerError::IdempotencyConflict => CoreBankingError::IdempotencyConflict,
            LedgerError::Store(s) => CoreBankingError::Unavailable(s.to_string()),
        }
    }
}
