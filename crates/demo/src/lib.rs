//! The deterministic demo bank: a handful of realistic UK customers with current accounts, pots
//! and a year or more of history, built by driving the built-in ledger through time on a
//! `ManualClock`. Each kind of customer is a table of data (`personas.rs`: products, pots,
//! salary, rent, bills, spending); one generator turns any of them into a customer and lives
//! their months. It writes nothing but what it asks of the ledger's public API, so everything
//! it shows (standing orders, interest, statements) is what the ledger itself produced.
//!
//! Same seed and same `end` give the same bank: names, ids, amounts, times. All randomness comes
//! from one seeded generator for content and `SeededIds` for identifiers.

mod calendar;
mod content;
mod generator;
mod history;
mod persona;
mod personas;

use std::sync::Arc;

use bascule_core_banking::{CoreBanking, CoreBankingError};
use bascule_domain::{
    AccountId, AccountKind, AccountNumber, AccountType, CustomerId, ManualClock, Pence, SortCode,
};
use bascule_ledger::{Ledger, LedgerConfig, LedgerError, SeededIds};
use bascule_store::Store;
use rust_decimal::Decimal;
use time::{OffsetDateTime, UtcOffset};

use crate::calendar::months_before;
use crate::generator::Builder;

/// Why the demo bank could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    CoreBanking(#[from] CoreBankingError),
    #[error("the demo needs customers")]
    NoCustomers,
    #[error("the store already has customers; the demo bank builds only on an empty one")]
    AlreadyBuilt,
    #[error("the demo bank failed the ledger audit: {0}")]
    Audit(String),
    #[error("invalid demo data: {0}")]
    Invalid(String),
}

/// What to build.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    /// Months of history before `end` (13 gives a full year of statements plus the current month).
    pub months: u32,
    /// Number of customers; five or more gives one of each persona (renter, sole trader,
    /// homeowner, graduate, retiree).
    pub customers: usize,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            seed: 20_240_601,
            months: 13,
            customers: 6,
        }
    }
}

/// A pot as created, for printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPot {
    pub id: AccountId,
    pub name: String,
    /// Gross annual rate as a fraction; `None` for a pot that earns nothing.
    pub interest_rate: Option<Decimal>,
    pub goal: Option<Pence>,
}

/// A customer as created, for printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCustomer {
    pub name: String,
    pub customer_id: CustomerId,
    pub email: String,
    pub phone: String,
    pub account_type: AccountType,
    /// The trading name of a sole trader's business account.
    pub business_name: Option<String>,
    pub current_account: AccountId,
    pub sort_code: SortCode,
    pub account_number: AccountNumber,
    pub overdraft_limit: Pence,
    pub pots: Vec<DemoPot>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoBank {
    pub customers: Vec<DemoCustomer>,
}

/// Whether the store already holds customers: the demo builds once and reuses its data dir.
pub async fn is_built(store: &Store) -> Result<bool, DemoError> {
    Ok(Ledger::has_customers(store).await?)
}

/// Reads back what `build_demo_bank` made (or any bank's customers), in the order they joined,
/// so a later run of the demo can print the same summary without rebuilding.
pub async fn load_demo_bank(ledger: &Ledger) -> Result<DemoBank, DemoError> {
    let mut customers = Vec::new();
    for id in ledger.customer_ids().await? {
        let customer = ledger.customer(&id).await?;
        let accounts = ledger.accounts_of_customer(&id).await?;
        let Some(current) = accounts
            .iter()
            .find(|a| a.kind == AccountKind::CurrentAccount)
        else {
            continue;
        };
        let Some(ident) = current.identification else {
            continue;
        };
        let pots = accounts
            .iter()
            .filter_map(|a| {
                let pot = a.pot.as_ref().filter(|p| p.parent == current.id)?;
                Some(DemoPot {
                    id: a.id.clone(),
                    name: pot.name.clone(),
                    interest_rate: a.interest_rate,
                    goal: pot.goal,
                })
            })
            .collect();
        customers.push(DemoCustomer {
            name: customer.legal_name,
            customer_id: customer.id,
            email: customer.email,
            phone: customer.phone,
            account_type: current.account_type,
            business_name: (current.account_type == AccountType::Business)
                .then(|| current.nickname.clone())
                .flatten(),
            current_account: current.id.clone(),
            sort_code: ident.sort_code,
            account_number: ident.account_number,
            overdraft_limit: current.overdraft_limit,
            pots,
        });
    }
    Ok(DemoBank { customers })
}

/// Builds the demo bank on an empty store: `options.months` months of history ending at `end`.
/// Refuses a store that already has customers (see `is_built`).
pub async fn build_demo_bank(
    store: Store,
    sort_code: SortCode,
    end: OffsetDateTime,
    options: &DemoOptions,
) -> Result<DemoBank, DemoError> {
    if options.customers == 0 {
        return Err(DemoError::NoCustomers);
    }
    if is_built(&store).await? {
        return Err(DemoError::AlreadyBuilt);
    }
    let end = end.to_offset(UtcOffset::UTC);
    let start = months_before(end.date(), options.months)
        .with_time(end.time())
        .assume_utc();
    let clock = Arc::new(ManualClock::new(start));
    let ledger = Ledger::open(
        store,
        clock.clone(),
        Arc::new(SeededIds::new(options.seed)),
        LedgerConfig { sort_code },
    )
    .await?;
    let mut demo = Builder::new(personas::data()?, ledger, clock, options.seed, start, end);
    demo.setup(options.customers).await?;
    demo.run().await?;
    let audit = demo.ledger.audit().await?;
    if !audit.is_clean() {
        return Err(DemoError::Audit(format!("{audit:?}")));
    }
    Ok(DemoBank {
        customers: demo.sims.into_iter().map(|s| s.summary).collect(),
    })
}
