//! The bank's customers in the tests: Grace Hopper (the customer who consents) and Alan Turing
//! (another customer: the payee of on-us payments, the owner of foreign accounts), opened in the
//! built-in ledger, and the arrangements an account can be given (payees, mandates, orders, an
//! offer).

use bascule_domain::{
    Account, AccountId, AccountKind, AccountType, Counterparty, Customer, CustomerId, Frequency,
    OfferKind, Pence, PostalAddress, ProprietaryCode, SortCodeAccountNumber,
};
use bascule_ledger::{
    Ledger, NewBeneficiary, NewCurrentAccount, NewCustomer, NewDirectDebit, NewOffer, NewPot,
    NewProduct, NewScheduledPayment, NewStandingOrder,
};
use rust_decimal::Decimal;
use time::macros::{date, datetime};

pub fn address() -> PostalAddress {
    PostalAddress {
        lines: vec!["2 High Street".into()],
        town: "Bristol".into(),
        postcode: "BS1 4DJ".into(),
        country: "GB".into(),
    }
}

pub fn grace_hopper() -> NewCustomer {
    NewCustomer {
        legal_name: "Grace Hopper".into(),
        date_of_birth: date!(1986 - 12 - 09),
        email: "grace@example.com".into(),
        phone: "+447700900077".into(),
        address: address(),
    }
}

pub fn alan_turing() -> NewCustomer {
    NewCustomer {
        legal_name: "Alan Turing".into(),
        date_of_birth: date!(1980 - 06 - 23),
        email: "alan@example.com".into(),
        phone: "+447700900078".into(),
        address: address(),
    }
}

/// Opens a personal current account of `customer` without a product.
pub async fn open_current_account(
    ledger: &Ledger,
    customer: &CustomerId,
    nickname: Option<&str>,
    overdraft_limit: Pence,
) -> anyhow::Result<Account> {
    Ok(ledger
        .open_current_account(NewCurrentAccount {
            customer: customer.clone(),
            account_type: AccountType::Personal,
            nickname: nickname.map(str::to_owned),
            overdraft_limit,
            product: None,
        })
        .await?)
}

/// Credits `account` with `amount` from outside the bank: Acme Payroll paying a salary.
pub async fn pay_in(
    ledger: &Ledger,
    account: &AccountId,
    amount: Pence,
    reference: &str,
) -> anyhow::Result<()> {
    ledger
        .receive_payment(
            account,
            amount,
            Counterparty {
                name: "Acme Payroll".into(),
                sort_code: None,
                account_number: None,
            },
            Some(reference.into()),
            ProprietaryCode::Salary,
            None,
        )
        .await?;
    Ok(())
}

/// Grace and her accounts.
pub struct Grace {
    pub customer: Customer,
    /// `Everyday`: £500 arranged overdraft, £1,000 salary paid in (less £200 moved to the pot
    /// when there is one).
    pub everyday: Account,
    /// `Bills`: no overdraft, empty.
    pub bills: Account,
    /// `Holiday`, under Everyday, earning 4% gross on its own `Easy Saver` product, £200
    /// moved in.
    pub pot: Option<Account>,
}

/// Opens Grace with Everyday and Bills, and the Holiday pot when `with_pot`.
pub async fn grace(ledger: &Ledger, with_pot: bool) -> anyhow::Result<Grace> {
    let customer = ledger.create_customer(grace_hopper()).await?;
    let everyday =
        open_current_account(ledger, &customer.id, Some("Everyday"), Pence(50_000)).await?;
    let bills = open_current_account(ledger, &customer.id, Some("Bills"), Pence(0)).await?;
    let pot = if with_pot {
        let saver = ledger
            .create_product(NewProduct {
                name: "Easy Saver".into(),
                kind: AccountKind::Savings,
                interest_rate: Some(Decimal::new(3, 2)),
                monthly_fee: Pence(0),
                overdraft_rate: None,
            })
            .await?;
        Some(
            ledger
                .open_pot(NewPot {
                    parent: everyday.id.clone(),
                    name: "Holiday".into(),
                    goal: Some(Pence(100_000)),
                    interest_rate: Some(Decimal::new(4, 2)),
                    product: Some(saver),
                })
                .await?,
        )
    } else {
        None
    };
    pay_in(ledger, &everyday.id, Pence(100_000), "SALARY").await?;
    if let Some(pot) = &pot {
        ledger
            .move_between_pot(&everyday.id, &pot.id, Pence(20_000), true, None)
            .await?;
    }
    Ok(Grace {
        customer,
        everyday,
        bills,
        pot,
    })
}

/// Alan and his one current account (no overdraft, empty).
pub struct Alan {
    pub customer: Customer,
    pub account: Account,
}

pub async fn alan(ledger: &Ledger) -> anyhow::Result<Alan> {
    let customer = ledger.create_customer(alan_turing()).await?;
    let account = open_current_account(ledger, &customer.id, None, Pence(0)).await?;
    Ok(Alan { customer, account })
}

/// Grace by her ids: how the AIS and PIS fixtures name her and her accounts.
pub struct CustomerIds {
    pub id: CustomerId,
    pub everyday: AccountId,
    pub bills: AccountId,
    pub pot: AccountId,
}

impl CustomerIds {
    pub fn all_accounts(&self) -> Vec<AccountId> {
        vec![self.everyday.clone(), self.bills.clone(), self.pot.clone()]
    }
}

impl Grace {
    /// Her ids; she must have been opened with her pot.
    pub fn ids(&self) -> anyhow::Result<CustomerIds> {
        let pot = self
            .pot
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("Grace was opened without her pot"))?;
        Ok(CustomerIds {
            id: self.customer.id.clone(),
            everyday: self.everyday.id.clone(),
            bills: self.bills.id.clone(),
            pot: pot.id.clone(),
        })
    }
}

/// The payee of [`arrangements`]: another bank's sort code and account number.
pub fn payee() -> anyhow::Result<SortCodeAccountNumber> {
    Ok(SortCodeAccountNumber::parse("40123412345678")?)
}

/// `account`'s arrangements: a trusted beneficiary "Mum" (BIRTHDAY), the PureGym direct debit
/// (GYM-000123) collected once (£24.99), a monthly rent standing order (£650 on the 28th, Jan
/// to Dec 2026), an offer to raise the overdraft to £1,000 (H1 2026) and a council-tax
/// payment scheduled for 1 March 2026 (£120) — all to [`payee`].
pub async fn arrangements(ledger: &Ledger, account: &AccountId) -> anyhow::Result<()> {
    let payee = payee()?;
    ledger
        .add_beneficiary(NewBeneficiary {
            account: account.clone(),
            name: "Mum".into(),
            creditor: payee,
            reference: Some("BIRTHDAY".into()),
            trusted: true,
        })
        .await?;
    let dd = ledger
        .add_direct_debit(NewDirectDebit {
            account: account.clone(),
            mandate_reference: "GYM-000123".into(),
            originator_name: "PureGym Ltd".into(),
        })
        .await?;
    ledger
        .collect_direct_debit(&dd.id, Pence(2_499), None)
        .await?;
    ledger
        .add_standing_order(NewStandingOrder {
            account: account.clone(),
            frequency: Frequency::Monthly { months: 1, day: 28 },
            reference: "RENT".into(),
            creditor_name: "Landlord".into(),
            creditor: payee,
            amount: Pence(65_000),
            first_payment_on: date!(2026 - 01 - 28),
            final_payment_on: Some(date!(2026 - 12 - 28)),
        })
        .await?;
    ledger
        .add_offer(NewOffer {
            account: account.clone(),
            kind: OfferKind::LimitIncrease,
            description: "Raise your arranged overdraft to £1,000".into(),
            starts_at: datetime!(2026-01-01 00:00 UTC),
            ends_at: datetime!(2026-06-30 23:59:59 UTC),
            amount: Some(Pence(100_000)),
        })
        .await?;
    ledger
        .add_scheduled_payment(NewScheduledPayment {
            account: account.clone(),
            execute_on: date!(2026 - 03 - 01),
            amount: Pence(12_000),
            reference: "COUNCIL TAX".into(),
            creditor_name: "Bristol City Council".into(),
            creditor: payee,
        })
        .await?;
    Ok(())
}
