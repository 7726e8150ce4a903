//! Bascule's built-in core banking: a double-entry ledger on the store. It owns customers,
//! accounts and pots, postings and the transactions customers see, balances, interest, standing
//! orders, direct debits, scheduled payments, beneficiaries, statements, products and the offers
//! the bank makes on an account; and it runs the clock-driven daily jobs. It implements the `CoreBanking` trait, which is all the APIs
//! above ever see of it. (The demo bank that drives it lives in `bascule-demo`.)

mod accounts;
mod arrangements;
mod core_banking;
mod error;
mod ids;
mod jobs;
mod payments;
mod posting;
mod rows;

use std::sync::Arc;

use bascule_domain::{AccountId, Clock, IdSource, SortCode};
use bascule_store::Store;
use tokio::sync::broadcast;

pub use accounts::{LedgerAudit, NewCurrentAccount, NewCustomer, NewPot, NewProduct};
pub use arrangements::{
    NewBeneficiary, NewDirectDebit, NewOffer, NewScheduledPayment, NewStandingOrder,
};
pub use error::LedgerError;
pub use ids::SeededIds;
pub use jobs::JobReport;
pub use posting::{Entry, EntryLine, LineDetails, Posted};

/// The bank's own ledger accounts, on the other side of every customer posting.
pub mod internal {
    use bascule_domain::AccountId;

    pub const PAYMENTS_CLEARING: &str = "internal-payments-clearing";
    pub const INTEREST_EXPENSE: &str = "internal-interest-expense";
    pub const CARD_SETTLEMENT: &str = "internal-card-settlement";
    pub const FEE_INCOME: &str = "internal-fee-income";

    pub const ALL: [&str; 4] = [
        PAYMENTS_CLEARING,
        INTEREST_EXPENSE,
        CARD_SETTLEMENT,
        FEE_INCOME,
    ];

    pub fn account(code: &'static str) -> AccountId {
        // The codes above are valid ids by construction (checked by a unit test).
        AccountId::parse(code).unwrap_or_else(|_| AccountId::from_uuid(uuid::Uuid::nil()))
    }
}

/// Settings of the bank the ledger keeps.
#[derive(Debug, Clone)]
pub struct LedgerConfig {
    /// The sort code of every current account this bank opens.
    pub sort_code: SortCode,
}

/// The built-in ledger. Cheap to clone; all clones share the store, clock and change feed.
#[derive(Clone)]
pub struct Ledger {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    config: Arc<LedgerConfig>,
    changes: broadcast::Sender<i64>,
}

impl Ledger {
    /// Opens the ledger on a migrated store, creating the bank's internal accounts if missing.
    pub async fn open(
        store: Store,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        config: LedgerConfig,
    ) -> Result<Ledger, LedgerError> {
        let (changes, _) = broadcast::channel(1024);
        let ledger = Ledger {
            store,
            clock,
            ids,
            config: Arc::new(config),
            changes,
        };
        ledger.ensure_internal_accounts().await?;
        Ok(ledger)
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn sort_code(&self) -> SortCode {
        self.config.sort_code
    }

    fn notify(&self, seq: Option<i64>) {
        if let Some(seq) = seq {
            // No subscriber is not an error: the events stay in the table.
            let _ = self.changes.send(seq);
        }
    }

    pub fn internal_account(code: &'static str) -> AccountId {
        internal::account(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_account_codes_are_valid_ids() {
        for code in internal::ALL {
            assert_eq!(
                AccountId::parse(code).map(|a| a.to_string()).ok(),
                Some(code.to_owned())
            );
        }
    }
}
