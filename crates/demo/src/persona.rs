//! What a persona is: the table one kind of demo customer is generated from. The generator knows
//! no persona by name; everything that tells a renter from a retiree is a value in these tables.

use bascule_domain::{AccountKind, Pence};
use rust_decimal::Decimal;
use time::Month;

use crate::content::Shop;

/// A sum the generator draws for each customer (or each time the thing happens).
#[derive(Debug, Clone, Copy)]
pub enum Amount {
    Fixed(Pence),
    /// Any number of pence in the range, both ends included.
    Pence(i64, i64),
    /// Whole pounds in the range, both ends included: what people type for transfers and what
    /// bills usually are.
    Pounds(i64, i64),
    OneOf(&'static [Pence]),
}

/// Pounds as pence, for writing the tables.
pub const fn pounds(n: i64) -> Pence {
    Pence(n * 100)
}

/// A gross annual rate or overdraft rate given in basis points of a whole (3990 is 39.90%).
pub const fn rate(basis_points: u32) -> Decimal {
    Decimal::from_parts(basis_points, 0, 0, false, 4)
}

/// The bank's products a persona's accounts are opened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProductKey {
    PersonalCurrent,
    BusinessCurrent,
    InstantAccess,
    Saver,
    FixedRate,
    BusinessSaver,
}

pub struct Product {
    pub key: ProductKey,
    pub name: &'static str,
    pub kind: AccountKind,
    /// Gross annual rate a pot on this product earns.
    pub interest_rate: Option<Decimal>,
    pub overdraft_rate: Option<Decimal>,
}

/// One kind of customer: who they are, what they bank with us, and how money comes and goes.
pub struct Persona {
    pub first_names: &'static [&'static str],
    /// Youngest and oldest age, in years.
    pub age: (i32, i32),
    pub home: Home,
    pub current_account: CurrentAccount,
    /// The balance switched in from the customer's old bank (Current Account Switch Service).
    pub switched_in: Amount,
    pub pots: &'static [Pot],
    pub income: Income,
    /// Rent, or a regular payment to family, or a workshop's rent: paid every month from the
    /// month after joining, and the payee kept as a trusted beneficiary.
    pub standing_order: StandingOrder,
    /// Direct debits, each collected on its day (the next working day if that is a weekend).
    pub bills: &'static [Bill],
    /// Card payments taken on the same day every month.
    pub subscriptions: &'static [&'static Shop],
    /// Everyday card spending.
    pub spending: &'static [Habit],
    /// The payment booked ahead that the history ends before (beside any one-off in the past).
    pub upcoming: Option<Upcoming>,
}

pub struct Home {
    /// Lives in one of the London towns, else in any town (London included).
    pub london_only: bool,
    /// The address starts with a flat number.
    pub flat: bool,
}

pub struct CurrentAccount {
    pub product: ProductKey,
    pub overdraft_limit: Pence,
    /// A business account, named "<surname> <trade>" after one of these trades.
    pub trading_as: Option<&'static [&'static str]>,
}

pub struct Pot {
    pub name: &'static str,
    /// The pot earns its product's rate.
    pub product: ProductKey,
    pub goal: Option<Pence>,
    pub purpose: Purpose,
    /// Moved in from the current account on the day the pot is opened (nothing if zero).
    pub opening: Amount,
}

/// What a pot is for, which decides when money goes in and out.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Payday saving; also where the customer goes when money runs short.
    Save { monthly: Amount },
    /// Saving on payday towards the goal, and spent in one go if `spend` says when.
    Goal {
        monthly: Amount,
        spend: Option<GoalSpend>,
    },
    /// Weekly round-ups of card spending.
    RoundUps,
    /// Funded once at the start and left alone.
    Fixed,
    /// A share of a sole trader's takings, for the self assessment bill.
    Tax,
}

/// When a goal pot is emptied, and where the money is spent.
#[derive(Debug, Clone, Copy)]
pub struct GoalSpend {
    pub month: Month,
    pub at: &'static [Shop],
}

pub enum Income {
    /// Net pay from an employer, with a 3% rise every April.
    Salary {
        employers: &'static [&'static str],
        net: Amount,
        paydays: &'static [Option<u8>],
    },
    /// The state pension every four weeks and a private pension on the first of the month.
    Pension {
        state: &'static str,
        four_weekly: Pence,
        providers: &'static [&'static str],
        monthly: Amount,
    },
    /// Invoices paid on working days by the named clients and a few private ones; a share of
    /// each goes to the tax pot and 70% of that pot pays HMRC in January and July.
    Trade {
        clients: &'static [&'static str],
        private_clients: usize,
        /// Chance that an invoice is paid on a working day.
        invoice_chance: f64,
        takings: Amount,
        set_aside_percent: i64,
    },
}

pub struct StandingOrder {
    pub payee: Payee,
    pub reference: Reference,
    pub amount: Amount,
    pub day: u8,
}

pub enum Payee {
    Named(&'static str),
    OneOf(&'static [&'static str]),
    /// A private landlord: "<title> <initial> <surname>".
    Person {
        title: &'static str,
        initials: &'static [&'static str],
    },
    /// Someone in the family: another first name and the customer's surname.
    Relative,
}

pub enum Reference {
    Fixed(&'static str),
    /// The prefix and a three-digit number, like a letting agent's tenancy reference.
    Numbered(&'static str),
}

pub struct Bill {
    pub biller: Biller,
    /// The mandate reference starts with this; eight digits follow.
    pub mandate_prefix: &'static str,
    pub day: Day,
    pub amount: Amount,
    pub pattern: BillPattern,
}

/// Who collects a bill: the town's council or water company, one of the household's providers
/// (picked once per customer), or a named company.
#[derive(Debug, Clone, Copy)]
pub enum Biller {
    Council,
    Water,
    Energy,
    Broadband,
    Mobile,
    Gym,
    Mortgage,
    Named(&'static str),
}

#[derive(Debug, Clone, Copy)]
pub enum Day {
    On(u8),
    Between(u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillPattern {
    /// The same sum every month.
    Monthly,
    /// Ten instalments, April to January.
    CouncilTax,
    /// Higher in winter, with a small wobble each month.
    Energy,
}

/// A kind of purchase and how often it happens: the chance on any weekday or weekend day.
#[derive(Debug, Clone, Copy)]
pub struct Habit {
    pub shops: Shops,
    pub weekday: f64,
    pub weekend: f64,
    /// Hours of the day the purchase happens in.
    pub hours: (i64, i64),
    /// Paid even from the overdraft; the rest waits until there is money.
    pub essential: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum Shops {
    At(&'static [Shop]),
    /// The town's commute (TfL in London, buses and trains elsewhere).
    Commute,
}

pub const fn habit(
    shops: Shops,
    weekday: f64,
    weekend: f64,
    hours: (i64, i64),
    essential: bool,
) -> Habit {
    Habit {
        shops,
        weekday,
        weekend,
        hours,
        essential,
    }
}

pub enum Upcoming {
    /// The next self assessment payment to HMRC (31 January or 31 July), from the sole
    /// trader's `Trade` income's tax reference.
    SelfAssessment { amount: Amount },
    /// A payment five to forty days after the history ends.
    Payment {
        to: &'static str,
        reference: &'static str,
        amount: Amount,
    },
}
