//! Helpers shared by the ledger's integration tests: customers and funded accounts in one call,
//! row counts to prove that a refused operation wrote nothing, and balance snapshots.

use bascule_core_banking::{AccountBalance, CoreBanking};
use bascule_domain::{
    Account, AccountId, AccountType, Counterparty, Pence, PostalAddress, ProprietaryCode,
    SortCodeAccountNumber,
};
use bascule_ledger::{Ledger, NewCurrentAccount, NewCustomer, NewPot, Posted};
use rust_decimal::Decimal;
use time::macros::date;

/// Opens a customer with one current account.
pub async fn open_account(
    ledger: &Ledger,
    name: &str,
    overdraft_limit: Pence,
) -> anyhow::Result<Account> {
    let customer = ledger
        .create_customer(NewCustomer {
            legal_name: name.to_owned(),
            date_of_birth: date!(1985 - 03 - 14),
            email: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
            phone: "+447700900123".into(),
            address: PostalAddress {
                lines: vec!["1 High Street".into()],
                town: "London".into(),
                postcode: "EC1A 1BB".into(),
                country: "GB".into(),
            },
        })
        .await?;
    Ok(ledger
        .open_current_account(NewCurrentAccount {
            customer: customer.id,
            account_type: AccountType::Personal,
            nickname: Some(name.to_owned()),
            overdraft_limit,
            product: None,
        })
        .await?)
}

pub async fn open_pot(
    ledger: &Ledger,
    parent: &AccountId,
    name: &str,
    rate: Option<Decimal>,
) -> anyhow::Result<Account> {
    Ok(ledger
        .open_pot(NewPot {
            parent: parent.clone(),
            name: name.to_owned(),
            goal: None,
            interest_rate: rate,
            product: None,
        })
        .await?)
}

/// Someone at another bank.
pub fn outsider() -> Counterparty {
    Counterparty {
        name: "Another Bank Customer".into(),
        sort_code: None,
        account_number: None,
    }
}

/// A creditor at another bank (not a sort code this ledger issues).
pub fn external_creditor() -> anyhow::Result<SortCodeAccountNumber> {
    Ok(SortCodeAccountNumber::parse("20000012345678")?)
}

/// Money arriving from another bank.
pub async fn fund(ledger: &Ledger, account: &AccountId, pence: i64) -> anyhow::Result<Posted> {
    Ok(ledger
        .receive_payment(
            account,
            Pence(pence),
            outsider(),
            Some("FUNDING".into()),
            ProprietaryCode::FasterPayment,
            None,
        )
        .await?)
}

pub async fn balance(ledger: &Ledger, account: &AccountId) -> anyhow::Result<AccountBalance> {
    ledger
        .balances(std::slice::from_ref(account))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no balance for {account}"))
}

/// Row counts of every table a money movement writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub ledger_transactions: i64,
    pub postings: i64,
    pub lines: i64,
    pub events: i64,
}

pub async fn counts(ledger: &Ledger) -> anyhow::Result<Counts> {
    let (ledger_transactions, postings, lines, events): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM ledger_transactions), (SELECT COUNT(*) FROM postings), \
         (SELECT COUNT(*) FROM transactions), (SELECT COUNT(*) FROM ledger_events)",
    )
    .fetch_one(ledger.store().pool())
    .await?;
    Ok(Counts {
        ledger_transactions,
        postings,
        lines,
        events,
    })
}

/// Fails with the audit's findings unless the ledger balances.
pub async fn assert_clean(ledger: &Ledger, context: &str) -> anyhow::Result<()> {
    let audit = ledger.audit().await?;
    anyhow::ensure!(
        audit.is_clean(),
        "{context}: ledger audit failed: {audit:?}"
    );
    Ok(())
}
