//! A bank's own core plugged in (issue 10, item 6): the account-API happy path through the real
//! server over TLS, against a second `CoreBanking` implementation held in memory here, with no
//! built-in ledger opened at all.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use bascule_core_banking::{
    AccountBalance, CoreBanking, CoreBankingError, LedgerEvent, PaymentInstruction, PaymentOutcome,
    Result, ScheduledPaymentInstruction, StandingOrderInstruction, TransactionPage,
    TransactionQuery,
};
use bascule_domain::{
    Account, AccountId, AccountKind, AccountStatus, AccountType, Beneficiary, CreditDebit,
    Currency, Customer, CustomerId, DirectDebitMandate, Pence, PostalAddress, Product,
    ProprietaryCode, ScheduledPayment, ScheduledPaymentId, SortCodeAccountNumber, StandingOrder,
    StandingOrderId, Statement, StatementId, Transaction, TransactionId, TransactionStatus,
};
use bascule_testkit::api::{Api, Call};
use bascule_testkit::tpp::{access_token, approve};
use bascule_testkit::{BACKENDS, Tpp};
use serde_json::json;
use time::macros::{date, datetime};
use tokio::sync::broadcast;

const AISP: Api = Api::new(
    "/open-banking/v3.1/aisp",
    "v3.1.11/account-info-openapi.json",
    true,
);

/// A core that keeps one customer, her accounts and their booked lines in memory: what a bank's
/// adapter to its own core looks like from Bascule's side. It reads; it does not move money.
struct MemoryCore {
    customer: Customer,
    accounts: Vec<Account>,
    transactions: HashMap<AccountId, Vec<Transaction>>,
    changes: broadcast::Sender<i64>,
}

fn id<T, E: std::fmt::Debug>(parsed: std::result::Result<T, E>) -> T {
    parsed.expect("a valid id")
}

impl MemoryCore {
    fn new() -> MemoryCore {
        let customer = Customer {
            id: id(CustomerId::parse("ada-lovelace")),
            legal_name: "Ada Lovelace".into(),
            date_of_birth: date!(1985 - 12 - 10),
            email: "ada@example.com".into(),
            phone: "+447700900100".into(),
            address: PostalAddress {
                lines: vec!["12 St James's Square".into()],
                town: "London".into(),
                postcode: "SW1Y 4JH".into(),
                country: "GB".into(),
            },
        };
        let account = Account {
            id: id(AccountId::parse("mem-current-1")),
            customer_id: Some(customer.id.clone()),
            kind: AccountKind::CurrentAccount,
            account_type: AccountType::Personal,
            currency: Currency::GBP,
            identification: Some(id(SortCodeAccountNumber::parse("20000087654321"))),
            nickname: Some("Household".into()),
            opened_on: date!(2025 - 11 - 01),
            status: AccountStatus::Enabled,
            closed_at: None,
            pot: None,
            interest_rate: None,
            overdraft_limit: Pence(10_000),
            product_id: None,
        };
        let line = |n: &str, credit_debit, amount, at, balance, code| Transaction {
            id: id(TransactionId::parse(n)),
            account_id: account.id.clone(),
            status: TransactionStatus::Booked,
            credit_debit,
            amount: Pence(amount),
            booked_at: at,
            value_at: at,
            description: format!("line {n}"),
            reference: Some(n.to_uppercase()),
            code,
            merchant: None,
            counterparty: None,
            balance_after: Some(Pence(balance)),
        };
        let lines = vec![
            line(
                "mem-tx-1",
                CreditDebit::Credit,
                250_000,
                datetime!(2025-12-01 08:00 UTC),
                250_000,
                ProprietaryCode::Salary,
            ),
            line(
                "mem-tx-2",
                CreditDebit::Debit,
                4_599,
                datetime!(2025-12-03 12:30 UTC),
                245_401,
                ProprietaryCode::CardPurchase,
            ),
            line(
                "mem-tx-3",
                CreditDebit::Debit,
                95_000,
                datetime!(2026-01-02 09:00 UTC),
                150_401,
                ProprietaryCode::StandingOrder,
            ),
        ];
        MemoryCore {
            transactions: HashMap::from([(account.id.clone(), lines)]),
            accounts: vec![account],
            customer,
            changes: broadcast::channel(16).0,
        }
    }

    fn booked(&self, account: &AccountId) -> Pence {
        self.transactions
            .get(account)
            .and_then(|lines| lines.last())
            .and_then(|t| t.balance_after)
            .unwrap_or(Pence(0))
    }

    fn not_here<T>(&self) -> Result<T> {
        Err(CoreBankingError::Unavailable(
            "this in-memory core only reads".into(),
        ))
    }
}

#[async_trait]
impl CoreBanking for MemoryCore {
    async fn customer(&self, id: &CustomerId) -> Result<Customer> {
        if *id == self.customer.id {
            Ok(self.customer.clone())
        } else {
            Err(CoreBankingError::NotFound("customer"))
        }
    }

    async fn find_by_identification(
        &self,
        identification: &SortCodeAccountNumber,
    ) -> Result<Option<(Customer, Account)>> {
        Ok(self
            .accounts
            .iter()
            .find(|a| a.identification.as_ref() == Some(identification))
            .map(|a| (self.customer.clone(), a.clone())))
    }

    async fn accounts_of_customer(&self, id: &CustomerId) -> Result<Vec<Account>> {
        Ok(self
            .accounts
            .iter()
            .filter(|a| a.customer_id.as_ref() == Some(id))
            .cloned()
            .collect())
    }

    async fn accounts(&self, ids: &[AccountId]) -> Result<Vec<Account>> {
        Ok(ids
            .iter()
            .filter_map(|id| self.accounts.iter().find(|a| &a.id == id).cloned())
            .collect())
    }

    async fn balances(&self, ids: &[AccountId]) -> Result<Vec<AccountBalance>> {
        Ok(self
            .accounts(ids)
            .await?
            .into_iter()
            .map(|a| {
                let booked = self.booked(&a.id);
                AccountBalance {
                    currency: a.currency,
                    booked,
                    pending_debits: Pence(0),
                    pending_credits: Pence(0),
                    overdraft_limit: a.overdraft_limit,
                    available: Pence(booked.0 + a.overdraft_limit.0),
                    at: datetime!(2026-01-05 09:00 UTC),
                    account_id: a.id,
                }
            })
            .collect())
    }

    async fn transactions(
        &self,
        account: &AccountId,
        query: &TransactionQuery,
    ) -> Result<TransactionPage> {
        let lines: Vec<Transaction> = self
            .transactions
            .get(account)
            .ok_or(CoreBankingError::NotFound("account"))?
            .iter()
            .filter(|t| query.from.is_none_or(|from| t.booked_at >= from))
            .filter(|t| query.to.is_none_or(|to| t.booked_at <= to))
            .filter(|t| query.credit_debit.is_none_or(|cd| t.credit_debit == cd))
            .cloned()
            .collect();
        let total = lines.len() as u64;
        // Three lines: one page whatever the cursor, so no page before or after it.
        Ok(TransactionPage {
            transactions: lines.into_iter().take(query.limit as usize).collect(),
            total,
            has_before: false,
            has_after: false,
        })
    }

    async fn beneficiaries(&self, _: &[AccountId]) -> Result<Vec<Beneficiary>> {
        Ok(Vec::new())
    }

    async fn standing_orders(&self, _: &[AccountId]) -> Result<Vec<StandingOrder>> {
        Ok(Vec::new())
    }

    async fn direct_debits(&self, _: &[AccountId]) -> Result<Vec<DirectDebitMandate>> {
        Ok(Vec::new())
    }

    async fn scheduled_payments(&self, _: &[AccountId]) -> Result<Vec<ScheduledPayment>> {
        Ok(Vec::new())
    }

    async fn statements(&self, _: &[AccountId]) -> Result<Vec<Statement>> {
        Ok(Vec::new())
    }

    async fn statement(&self, _: &StatementId) -> Result<Statement> {
        Err(CoreBankingError::NotFound("statement"))
    }

    async fn products(&self, _: &[AccountId]) -> Result<Vec<(AccountId, Product)>> {
        Ok(Vec::new())
    }

    async fn check_funds(&self, account: &AccountId, amount: Pence) -> Result<bool> {
        let balance = self.balances(std::slice::from_ref(account)).await?;
        Ok(balance.first().is_some_and(|b| b.available.0 >= amount.0))
    }

    async fn post_payment(&self, _: &PaymentInstruction) -> Result<PaymentOutcome> {
        self.not_here()
    }

    async fn schedule_payment(
        &self,
        _: &ScheduledPaymentInstruction,
    ) -> Result<ScheduledPaymentId> {
        self.not_here()
    }

    async fn create_standing_order(&self, _: &StandingOrderInstruction) -> Result<StandingOrderId> {
        self.not_here()
    }

    async fn events_since(&self, _: i64, _: u32) -> Result<Vec<LedgerEvent>> {
        Ok(Vec::new())
    }

    fn subscribe(&self) -> broadcast::Receiver<i64> {
        self.changes.subscribe()
    }
}

#[tokio::test]
async fn the_account_api_serves_a_bank_s_own_core_through_the_real_server() {
    for backend in BACKENDS {
        let core = Arc::new(MemoryCore::new());
        let customer = core.customer.id.clone();
        let account = core.accounts[0].id.clone();
        let server = bascule_testkit::spawn_server_on_core(backend, core)
            .await
            .unwrap();
        assert!(
            server.state().ledger.is_none(),
            "the built-in ledger stays closed when the bank brings its own core"
        );
        let tpp = Tpp::tls(&server, "Own Core Insights Ltd").await;

        let cc = tpp.client_credentials(&server, "accounts").await;
        let body = json!({"Data": {"Permissions": [
            "ReadAccountsDetail", "ReadBalances", "ReadTransactionsDetail",
            "ReadTransactionsCredits", "ReadTransactionsDebits",
        ]}, "Risk": {}});
        let consent = AISP
            .send(
                &server,
                &tpp,
                Call::new(reqwest::Method::POST, "/account-access-consents", &cc).json(body),
            )
            .await;
        assert_eq!(consent.status, 201, "{:#}", consent.body);
        AISP.assert_valid("POST", "/account-access-consents", &consent);
        let consent_id = consent.body["Data"]["ConsentId"].as_str().unwrap();

        let approval = approve(&customer, std::slice::from_ref(&account));
        let tokens = tpp
            .authorise(&server, consent_id, "accounts", approval)
            .await;
        let token = access_token(&tokens);

        let accounts = AISP
            .send(&server, &tpp, Call::get("/accounts", &token))
            .await;
        assert_eq!(accounts.status, 200, "{:#}", accounts.body);
        AISP.assert_valid("GET", "/accounts", &accounts);
        let listed = &accounts.body["Data"]["Account"];
        assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed:#}");
        assert_eq!(listed[0]["AccountId"], json!(account.as_str()));
        assert_eq!(listed[0]["Nickname"], json!("Household"));
        assert_eq!(
            listed[0]["Account"][0]["Identification"],
            json!("20000087654321")
        );

        let path = format!("/accounts/{account}/balances");
        let balances = AISP.send(&server, &tpp, Call::get(&path, &token)).await;
        assert_eq!(balances.status, 200, "{:#}", balances.body);
        AISP.assert_valid("GET", "/accounts/{AccountId}/balances", &balances);
        let amounts: Vec<_> = balances.body["Data"]["Balance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["Amount"]["Amount"].clone())
            .collect();
        assert!(
            amounts.contains(&json!("1504.01")),
            "the core's booked balance: {:#}",
            balances.body
        );

        let path = format!("/accounts/{account}/transactions");
        let transactions = AISP.send(&server, &tpp, Call::get(&path, &token)).await;
        assert_eq!(transactions.status, 200, "{:#}", transactions.body);
        AISP.assert_valid("GET", "/accounts/{AccountId}/transactions", &transactions);
        let mut ids: Vec<_> = transactions.body["Data"]["Transaction"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["TransactionId"].as_str().unwrap_or_default().to_owned())
            .collect();
        ids.sort();
        assert_eq!(ids, ["mem-tx-1", "mem-tx-2", "mem-tx-3"], "{backend:?}");

        server.shutdown().await.unwrap();
    }
}
