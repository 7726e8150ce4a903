//! The `CoreBanking` trait: everything Bascule's APIs need from a bank's core — customers,
//! accounts, balances, transactions and the other account data, funds checks, posting a
//! payment, and a feed of changes. Bascule's built-in ledger implements it; a bank connects its
//! own core by implementing it too. The APIs above never see anything but this trait.

use std::sync::Arc;

use async_trait::async_trait;
use bascule_domain::{
    Account, AccountId, Beneficiary, CreditDebit, Currency, Customer, CustomerId,
    DirectDebitMandate, Frequency, LedgerTransactionId, Offer, Pence, Product, ProprietaryCode,
    ScheduledPayment, ScheduledPaymentId, SortCodeAccountNumber, StandingOrder, StandingOrderId,
    Statement, StatementId, Transaction, TransactionId,
};
use time::{Date, OffsetDateTime};
use tokio::sync::broadcast;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum CoreBankingError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("insufficient funds")]
    InsufficientFunds,
    #[error("account {0} does not accept postings (disabled or closed)")]
    AccountNotEnabled(AccountId),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("ledger rule broken: {0}")]
    Rule(#[from] bascule_domain::LedgerRuleError),
    /// The idempotency key was already used for a different payment; nothing was posted.
    #[error("idempotency key already used for a different payment")]
    IdempotencyConflict,
    /// The core could not be reached or failed; the message is for logs, never for clients.
    #[error("core banking unavailable: {0}")]
    Unavailable(String),
}

pub type Result<T, E = CoreBankingError> = std::result::Result<T, E>;

/// Balances of one account at one instant. `available` = booked − pending debits + arranged overdraft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountBalance {
    pub account_id: AccountId,
    pub currency: Currency,
    pub booked: Pence,
    pub pending_debits: Pence,
    pub pending_credits: Pence,
    pub overdraft_limit: Pence,
    pub available: Pence,
    pub at: OffsetDateTime,
}

/// A position in an account's transaction list, which is ordered by (booking time, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionCursor {
    pub booked_at: OffsetDateTime,
    pub id: TransactionId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageDirection {
    /// Rows after the cursor (or from the start).
    #[default]
    Forward,
    /// Rows before the cursor (or up to the end), still returned in ascending order.
    Backward,
}

#[derive(Debug, Clone, Default)]
pub struct TransactionQuery {
    /// Inclusive lower bound on booking time.
    pub from: Option<OffsetDateTime>,
    /// Inclusive upper bound on booking time.
    pub to: Option<OffsetDateTime>,
    pub credit_debit: Option<CreditDebit>,
    pub cursor: Option<TransactionCursor>,
    pub direction: PageDirection,
    pub limit: u32,
}

#[derive(Debug, Clone)]
pub struct TransactionPage {
    /// In ascending (booking time, id) order.
    pub transactions: Vec<Transaction>,
    /// Rows matching the query's filters, ignoring the cursor.
    pub total: u64,
    pub has_before: bool,
    pub has_after: bool,
}

/// Who receives a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creditor {
    pub name: String,
    pub identification: SortCodeAccountNumber,
}

/// Money between a current account and one of its pots, both the customer's own.
#[derive(Debug, Clone)]
pub struct OwnMovement {
    pub from: AccountId,
    pub to: AccountId,
    pub amount: Pence,
    pub idempotency_key: String,
}

/// A payment for the core to settle exactly once per `idempotency_key`.
#[derive(Debug, Clone)]
pub struct PaymentInstruction {
    /// Settles the payment once: sending the same key again replays the first result, and the
    /// same key with a different payment is refused (`IdempotencyConflict`). Keys are one
    /// namespace for every caller of the core, so callers scope them (e.g. prefix the TPP's
    /// client id: `{client_id}:{x-idempotency-key}`) so that two TPPs never share one. The
    /// built-in ledger additionally keeps these apart from its own jobs' keys.
    pub idempotency_key: String,
    pub debtor: AccountId,
    pub creditor: Creditor,
    pub amount: Pence,
    pub reference: String,
    pub code: ProprietaryCode,
}

/// A single payment for the core to make on a future day (its own schedule executes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledPaymentInstruction {
    /// The caller's unique id for this instruction: sending it again returns the scheduled
    /// payment the first call created and creates nothing (the same id with a different
    /// payment → `IdempotencyConflict`). A UUID, so that callers never collide.
    pub request_id: Uuid,
    pub debtor: AccountId,
    pub creditor: Creditor,
    pub amount: Pence,
    pub reference: String,
    /// The day (the core's calendar) the payment is made.
    pub execute_on: Date,
}

/// A standing order for the core to pay on each due day from `first_payment_on` to
/// `final_payment_on` (open-ended when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingOrderInstruction {
    /// As [`ScheduledPaymentInstruction::request_id`]: one standing order per id.
    pub request_id: Uuid,
    pub debtor: AccountId,
    pub creditor: Creditor,
    /// Paid on every due day.
    pub amount: Pence,
    pub reference: String,
    pub frequency: Frequency,
    pub first_payment_on: Date,
    pub final_payment_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOutcome {
    pub ledger_transaction_id: LedgerTransactionId,
    pub debtor_transaction_id: TransactionId,
    pub booked_at: OffsetDateTime,
    /// True when this key had already been settled and nothing new was posted.
    pub replayed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerEventKind {
    AccountOpened,
    AccountStatusChanged,
    TransactionPending,
    TransactionBooked,
    TransactionReleased,
}

impl LedgerEventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AccountOpened => "AccountOpened",
            Self::AccountStatusChanged => "AccountStatusChanged",
            Self::TransactionPending => "TransactionPending",
            Self::TransactionBooked => "TransactionBooked",
            Self::TransactionReleased => "TransactionReleased",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::AccountOpened,
            Self::AccountStatusChanged,
            Self::TransactionPending,
            Self::TransactionBooked,
            Self::TransactionReleased,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// A committed change. `seq` identifies it; `events_since` returns changes in feed order (on
/// PostgreSQL only once every transaction that could still add an earlier one has finished),
/// so a consumer resumes by passing back the last `seq` it received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEvent {
    pub seq: i64,
    pub kind: LedgerEventKind,
    pub account_id: AccountId,
    pub transaction_id: Option<TransactionId>,
    pub occurred_at: OffsetDateTime,
}

#[async_trait]
pub trait CoreBanking: Send + Sync {
    async fn customer(&self, id: &CustomerId) -> Result<Customer>;
    /// The customer holding the account with this sort code and number, with that account.
    async fn find_by_identification(
        &self,
        identification: &SortCodeAccountNumber,
    ) -> Result<Option<(Customer, Account)>>;
    /// Every account of a customer, pots and closed accounts included, in opening order.
    async fn accounts_of_customer(&self, id: &CustomerId) -> Result<Vec<Account>>;
    /// The named accounts that exist, in the order asked; unknown ids are left out.
    async fn accounts(&self, ids: &[AccountId]) -> Result<Vec<Account>>;
    async fn balances(&self, ids: &[AccountId]) -> Result<Vec<AccountBalance>>;
    async fn transactions(
        &self,
        account: &AccountId,
        query: &TransactionQuery,
    ) -> Result<TransactionPage>;
    async fn beneficiaries(&self, accounts: &[AccountId]) -> Result<Vec<Beneficiary>>;
    async fn standing_orders(&self, accounts: &[AccountId]) -> Result<Vec<StandingOrder>>;
    async fn direct_debits(&self, accounts: &[AccountId]) -> Result<Vec<DirectDebitMandate>>;
    async fn scheduled_payments(&self, accounts: &[AccountId]) -> Result<Vec<ScheduledPayment>>;
    async fn statements(&self, accounts: &[AccountId]) -> Result<Vec<Statement>>;
    async fn statement(&self, id: &StatementId) -> Result<Statement>;
    /// Each account's product, for the accounts that have one.
    async fn products(&self, accounts: &[AccountId]) -> Result<Vec<(AccountId, Product)>>;
    /// The offers made on the accounts, by account. A core that makes none keeps this default.
    async fn offers(&self, _accounts: &[AccountId]) -> Result<Vec<Offer>> {
        Ok(Vec::new())
    }
    /// The named transactions that exist (pending and released ones too), in no set order. A
    /// core that cannot look transactions up by id keeps this default, and then sends no
    /// personal webhooks.
    async fn transactions_by_id(&self, _ids: &[TransactionId]) -> Result<Vec<Transaction>> {
        Ok(Vec::new())
    }
    /// Moves `amount` between a customer's current account and one of its pots, either way,
    /// once per `idempotency_key` (a repeat answers the first move, `replayed`). A core without
    /// pots keeps this default.
    async fn move_own_money(&self, _movement: &OwnMovement) -> Result<PaymentOutcome> {
        Err(CoreBankingError::Invalid(
            "this bank does not move money between pots".into(),
        ))
    }
    /// Whether `amount` could be paid from the account now (available balance).
    async fn check_funds(&self, account: &AccountId, amount: Pence) -> Result<bool>;
    /// Settles a payment wholly or not at all, once per idempotency key.
    async fn post_payment(&self, payment: &PaymentInstruction) -> Result<PaymentOutcome>;
    /// Schedules a payment for a future day, once per `request_id`; the core executes it on
    /// that day (it then appears in `scheduled_payments` and, once paid, in `transactions`).
    async fn schedule_payment(
        &self,
        instruction: &ScheduledPaymentInstruction,
    ) -> Result<ScheduledPaymentId>;
    /// Sets up a standing order, once per `request_id`; the core pays each due day (it then
    /// appears in `standing_orders`).
    async fn create_standing_order(
        &self,
        instruction: &StandingOrderInstruction,
    ) -> Result<StandingOrderId>;
    /// Committed changes after the one numbered `after_seq` (0: from the start), in feed order.
    /// A change is never delivered before one that precedes it in that order.
    async fn events_since(&self, after_seq: i64, limit: u32) -> Result<Vec<LedgerEvent>>;
    /// Wakes when this node commits a change; read `events_since` for the changes themselves
    /// (other nodes' changes arrive through it too, on the next read).
    fn subscribe(&self) -> broadcast::Receiver<i64>;
}

pub type SharedCoreBanking = Arc<dyn CoreBanking>;
