//! What a persona is: the table (`data/personas/*.toml`) one kind of demo customer is generated
//! from. The generator knows no persona by name; everything that tells a renter from a retiree
//! is a value in these tables.

use bascule_domain::Pence;
use serde::Deserialize;

/// A sum the generator draws for each customer (or each time the thing happens).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    Fixed(Pence),
    FixedPounds(i64),
    /// Any number of pence in the range, both ends included.
    Pence(i64, i64),
    /// Whole pounds in the range, both ends included: what people type for transfers and what
    /// bills usually are.
    Pounds(i64, i64),
    OneOf(Vec<Pence>),
}

/// One kind of customer: who they are, what they bank with us, and how money comes and goes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub first_names: NamePool,
    /// Youngest and oldest age, in years.
    pub age: (i32, i32),
    /// Lives in one of the London towns, else in any town (London included).
    pub london_only: bool,
    /// The address starts with a flat number.
    pub flat: bool,
    /// The balance switched in from the customer's old bank (Current Account Switch Service).
    pub switched_in: Amount,
    /// Card payments taken on the same day every month (names in the bank's `subscriptions`).
    pub subscriptions: Vec<String>,
    /// Direct debits, each collected on its day (the next working day if that is a weekend).
    pub bills: Vec<BillRef>,
    /// Everyday card spending.
    pub spending: Vec<Habit>,
    pub current_account: CurrentAccount,
    pub pots: Vec<Pot>,
    pub income: Income,
    /// Rent, or a regular payment to family, or a workshop's rent: paid every month from the
    /// month after joining, and the payee kept as a trusted beneficiary.
    pub standing_order: StandingOrder,
    /// The payment booked ahead that the history ends before (beside any one-off in the past).
    #[serde(default)]
    pub upcoming: Option<Upcoming>,
    /// An offer the bank makes on the current account (what AIS `/offers` shows).
    #[serde(default)]
    pub offer: Option<Offer>,
}

/// An offer on the current account, made when the customer joins.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// The offer's kind as the ledger spells it (`limit_increase`, `promotional_rate` ...).
    pub kind: String,
    /// What the customer reads, up to 500 characters.
    pub description: String,
    /// The sum on offer (a new limit, a transfer), when there is one.
    #[serde(default)]
    pub amount_pounds: Option<i64>,
    /// Still open this many days after the history's last day, so the demo shows it live.
    pub open_days_after_history: i64,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamePool {
    First,
    OlderFirst,
}

/// The bank's products a persona's accounts are opened on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKey {
    PersonalCurrent,
    BusinessCurrent,
    InstantAccess,
    Saver,
    FixedRate,
    BusinessSaver,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrentAccount {
    pub product: ProductKey,
    pub overdraft_limit_pounds: i64,
    /// A business account, named "<surname> <trade>" after one of the bank's trades.
    #[serde(default)]
    pub business: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pot {
    pub name: String,
    /// The pot earns its product's rate.
    pub product: ProductKey,
    #[serde(default)]
    pub goal_pounds: Option<i64>,
    pub purpose: Purpose,
    /// Moved in from the current account on the day the pot is opened (nothing if zero).
    pub opening: Amount,
}

/// What a pot is for, which decides when money goes in and out.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Payday saving; also where the customer goes when money runs short.
    Save { monthly: Amount },
    /// Saving on payday towards the goal, and spent in one go if `spend` says when.
    Goal {
        monthly: Amount,
        #[serde(default)]
        spend: Option<GoalSpend>,
    },
    /// Weekly round-ups of card spending.
    RoundUps,
    /// Funded once at the start and left alone.
    Fixed,
    /// A share of a sole trader's takings, for the self assessment bill.
    Tax,
}

/// When a goal pot is emptied (on the 9th of `month`), and in which shops it is spent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalSpend {
    pub month: u8,
    pub at: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Income {
    /// Net pay from one of the bank's employers, with a 3% rise every April.
    Salary { net: Amount },
    /// The state pension every four weeks and a private pension (from one of the bank's
    /// pension providers) on the first of the month.
    Pension {
        state: String,
        four_weekly: Pence,
        monthly: Amount,
    },
    /// Invoices paid on working days by the bank's business clients and a few private ones; a
    /// share of each goes to the tax pot and 70% of that pot pays HMRC in January and July.
    Trade {
        private_clients: usize,
        /// Chance that an invoice is paid on a working day.
        invoice_chance: f64,
        takings: Amount,
        set_aside_percent: i64,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandingOrder {
    pub payee: Payee,
    pub reference: Reference,
    pub amount: Amount,
    pub day: u8,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payee {
    Named(String),
    OneOf(Vec<String>),
    /// A private landlord: "<title> <initial> <surname>".
    Person {
        title: String,
        initials: Vec<String>,
    },
    /// Someone in the family: another first name and the customer's surname.
    Relative,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reference {
    Fixed(String),
    /// The prefix and a three-digit number, like a letting agent's tenancy reference.
    Numbered(String),
}

/// One of the bank's usual bills by name, or one of the persona's own.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum BillRef {
    Usual(String),
    Own(Bill),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bill {
    pub biller: Biller,
    /// The mandate reference starts with this; eight digits follow.
    pub mandate_prefix: String,
    pub day: Day,
    pub amount: Amount,
    #[serde(default)]
    pub pattern: BillPattern,
}

/// Who collects a bill: the town's council or water company, one of the household's providers
/// (picked once per customer), or a named company.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Biller {
    Council,
    Water,
    Energy,
    Broadband,
    Mobile,
    Gym,
    Mortgage,
    Named(String),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Day {
    On(u8),
    Between(u8, u8),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillPattern {
    /// The same sum every month.
    #[default]
    Monthly,
    /// Ten instalments, April to January.
    CouncilTax,
    /// Higher in winter, with a small wobble each month.
    Energy,
}

/// A kind of purchase and how often it happens: the chance on any weekday or weekend day.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Habit {
    /// A group of the bank's shops, or `commute`: the town's (TfL in London, buses and trains
    /// elsewhere).
    pub shops: String,
    pub weekday: f64,
    pub weekend: f64,
    /// Hours of the day the purchase happens in.
    pub hours: (i64, i64),
    /// Paid even from the overdraft; the rest waits until there is money.
    pub essential: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upcoming {
    /// The next self assessment payment to HMRC (31 January or 31 July), from the sole
    /// trader's `trade` income's tax reference.
    SelfAssessment { amount: Amount },
    /// A payment five to forty days after the history ends.
    Payment {
        to: String,
        reference: String,
        amount: Amount,
    },
}
