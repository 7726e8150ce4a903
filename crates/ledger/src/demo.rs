//! The deterministic demo bank: a handful of realistic UK customers with current accounts,
//! pots and a year or more of history, built by driving the real ledger through time on a
//! `ManualClock`. It owns nothing in the ledger's tables beyond what it creates through the
//! public `Ledger` API, so everything it shows (standing orders, interest, statements) is what
//! the ledger itself produced.
//!
//! Same seed and same `end` give the same bank: names, ids, amounts, times. All randomness comes
//! from one seeded generator for content and `SeededIds` for identifiers.

use std::collections::BTreeMap;
use std::sync::Arc;

use bascule_core_banking::{CoreBanking, Creditor};
use bascule_domain::{
    AccountId, AccountNumber, AccountType, Counterparty, CustomerId, DirectDebitId, Frequency,
    ManualClock, Merchant, Pence, PostalAddress, ProprietaryCode, SortCode, SortCodeAccountNumber,
    TransactionId,
};
use bascule_domain::{AccountKind, Clock, ProductId};
use bascule_store::Store;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rust_decimal::Decimal;
use time::{Date, Duration, Month, OffsetDateTime, UtcOffset, Weekday};

use crate::{
    Ledger, LedgerConfig, LedgerError, NewBeneficiary, NewCurrentAccount, NewCustomer,
    NewDirectDebit, NewPot, NewProduct, NewScheduledPayment, NewStandingOrder, SeededIds,
};

/// What to build.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub seed: u64,
    /// Months of history before `end` (13 gives a full year of statements plus the current month).
    pub months: u32,
    /// Number of customers; five or more gives one of each kind (renter, sole trader,
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
pub async fn is_built(store: &Store) -> Result<bool, LedgerError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customers")
        .fetch_one(store.pool())
        .await?;
    Ok(n > 0)
}

/// Reads back what `build_demo_bank` made (or any bank's customers), in the order they joined,
/// so a later run of the demo can print the same summary without rebuilding.
pub async fn load_demo_bank(ledger: &Ledger) -> Result<DemoBank, LedgerError> {
    let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM customers ORDER BY created_at, id")
        .fetch_all(ledger.store().pool())
        .await?;
    let mut customers = Vec::with_capacity(ids.len());
    for id in ids {
        let id = CustomerId::parse(id).map_err(|e| LedgerError::Invalid(e.to_string()))?;
        let customer = ledger.customer(&id).await.map_err(core_error)?;
        let accounts = ledger.accounts_of_customer(&id).await.map_err(core_error)?;
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
) -> Result<DemoBank, LedgerError> {
    if options.customers == 0 {
        return Err(LedgerError::Invalid("the demo needs customers".into()));
    }
    if is_built(&store).await? {
        return Err(LedgerError::Invalid(
            "the store already has customers; the demo bank builds only on an empty one".into(),
        ));
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
    // A stream of its own, so content and identifiers do not perturb each other.
    let rng = StdRng::seed_from_u64(options.seed ^ 0x6261_7363_756c_6521);
    let mut demo = Builder {
        ledger,
        clock,
        rng,
        start,
        end,
        sims: Vec::new(),
        queue: BTreeMap::new(),
        seq: 0,
    };
    demo.setup(options.customers).await?;
    demo.run().await?;
    let audit = demo.ledger.audit().await?;
    if !audit.is_clean() {
        return Err(LedgerError::Invalid(format!(
            "the demo bank failed the ledger audit: {audit:?}"
        )));
    }
    Ok(DemoBank {
        customers: demo.sims.into_iter().map(|s| s.summary).collect(),
    })
}

fn core_error(e: bascule_core_banking::CoreBankingError) -> LedgerError {
    LedgerError::Invalid(e.to_string())
}

fn invalid(e: impl std::fmt::Display) -> LedgerError {
    LedgerError::Invalid(e.to_string())
}

/// `Ok(None)` when the customer simply could not afford it: the demo skips, as a person would.
fn afford<T>(r: Result<T, LedgerError>) -> Result<Option<T>, LedgerError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(LedgerError::InsufficientFunds) => Ok(None),
        Err(e) => Err(e),
    }
}

fn months_before(d: Date, n: u32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - i32::try_from(n).unwrap_or(0);
    clamp_day(total.div_euclid(12), total.rem_euclid(12) + 1, d.day())
}

fn clamp_day(year: i32, month: i32, day: u8) -> Date {
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::January);
    let day = day.min(month.length(year)).max(1);
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Employers pay early when payday falls on a weekend.
fn working_day_before(mut d: Date) -> Date {
    while is_weekend(d) {
        d = d.previous_day().unwrap_or(d);
    }
    d
}

/// Bacs collects on the next working day when the due day falls on a weekend.
fn working_day_after(mut d: Date) -> Date {
    while is_weekend(d) {
        d = d.next_day().unwrap_or(d);
    }
    d
}

fn at(day: Date, seconds: i64) -> OffsetDateTime {
    day.midnight().assume_utc() + Duration::seconds(seconds)
}

fn pct(amount: Pence, percent: i64) -> Pence {
    Pence(amount.0 * percent / 100)
}

// ---------------------------------------------------------------------------------------------
// The content: people, places, shops, bills. Fictional people; real-looking UK places and brands.

const FIRST_NAMES: &[&str] = &[
    "Amelia", "Oliver", "Priya", "James", "Aisha", "Thomas", "Sophie", "Daniel", "Chloe",
    "Mohammed", "Grace", "Samuel", "Hannah", "Kwame", "Eleanor", "Rhys", "Isla", "Connor", "Zara",
    "Harriet", "Nikhil", "Megan", "Tomasz", "Fiona", "Ayodele", "Callum", "Bethan", "Yusuf",
    "Lucy", "Arjun",
];
const OLDER_FIRST_NAMES: &[&str] = &[
    "Margaret", "Brian", "Patricia", "Keith", "Barbara", "Derek", "Sandra", "Graham", "Maureen",
    "Clive",
];
const SURNAMES: &[&str] = &[
    "Thompson", "Patel", "Walker", "Okafor", "Hughes", "Khan", "Evans", "Clarke", "Nowak",
    "Davies", "Robinson", "Begum", "Wright", "Murphy", "Shah", "Campbell", "Adeyemi", "Fletcher",
    "Kaur", "Morgan", "Baxter", "Lewis", "Chen", "Sullivan", "Ahmed",
];

struct Town {
    name: &'static str,
    district: &'static str,
    streets: &'static [&'static str],
    council: &'static str,
    water: &'static str,
    london: bool,
}

const TOWNS: &[Town] = &[
    Town {
        name: "London",
        district: "SE15",
        streets: &["Bellenden Road", "Choumert Grove", "Lyndhurst Way"],
        council: "Southwark Council",
        water: "Thames Water",
        london: true,
    },
    Town {
        name: "London",
        district: "E8",
        streets: &["Navarino Road", "Richmond Road", "Greenwood Road"],
        council: "Hackney Council",
        water: "Thames Water",
        london: true,
    },
    Town {
        name: "London",
        district: "SW9",
        streets: &["Stockwell Park Road", "Landor Road", "Hackford Road"],
        council: "Lambeth Council",
        water: "Thames Water",
        london: true,
    },
    Town {
        name: "Manchester",
        district: "M20",
        streets: &["Burton Road", "Lapwing Lane", "Palatine Road"],
        council: "Manchester City Council",
        water: "United Utilities",
        london: false,
    },
    Town {
        name: "Bristol",
        district: "BS7",
        streets: &["Berkeley Road", "Egerton Road", "Longmead Avenue"],
        council: "Bristol City Council",
        water: "Bristol Water",
        london: false,
    },
    Town {
        name: "Leeds",
        district: "LS6",
        streets: &["Cardigan Road", "Headingley Avenue", "Ash Road"],
        council: "Leeds City Council",
        water: "Yorkshire Water",
        london: false,
    },
    Town {
        name: "Birmingham",
        district: "B13",
        streets: &["Wake Green Road", "School Road", "Oxford Road"],
        council: "Birmingham City Council",
        water: "Severn Trent Water",
        london: false,
    },
    Town {
        name: "Norwich",
        district: "NR2",
        streets: &["Unthank Road", "Trinity Street", "Park Lane"],
        council: "Norwich City Council",
        water: "Anglian Water",
        london: false,
    },
    Town {
        name: "Brighton",
        district: "BN1",
        streets: &["Ditchling Road", "Preston Drove", "Stanford Avenue"],
        council: "Brighton & Hove City Council",
        water: "Southern Water",
        london: false,
    },
    Town {
        name: "Cardiff",
        district: "CF11",
        streets: &["Cathedral Road", "Kings Road", "Pontcanna Street"],
        council: "Cardiff Council",
        water: "Dwr Cymru Welsh Water",
        london: false,
    },
];

/// How a card authorisation turns into a settlement.
#[derive(Debug, Clone, Copy)]
enum Settle {
    Exact,
    /// Restaurants: the tip is added after the authorisation.
    Tip,
    /// Taxis: the fare is estimated up front.
    Estimate,
    /// Fuel pumps and hotels hold a round sum and settle for what was used.
    Hold {
        hold: i64,
    },
    /// Online orders are now and then cancelled before dispatch.
    Cancellable,
}

struct Shop {
    name: &'static str,
    /// ISO 18245 merchant category code.
    mcc: &'static str,
    min: i64,
    max: i64,
    settle: Settle,
}

const fn shop(name: &'static str, mcc: &'static str, min: i64, max: i64, settle: Settle) -> Shop {
    Shop {
        name,
        mcc,
        min,
        max,
        settle,
    }
}

use Settle::{Cancellable, Estimate, Exact, Hold, Tip};

const BIG_SHOP: &[Shop] = &[
    shop("Tesco", "5411", 2200, 9500, Exact),
    shop("Sainsbury's", "5411", 2000, 9000, Exact),
    shop("Asda", "5411", 1800, 8500, Exact),
    shop("Aldi", "5411", 1500, 6500, Exact),
    shop("Lidl", "5411", 1500, 6000, Exact),
    shop("Waitrose & Partners", "5411", 2500, 9800, Exact),
];
const TOP_UP_SHOP: &[Shop] = &[
    shop("Tesco Express", "5411", 250, 2200, Exact),
    shop("Sainsbury's Local", "5411", 250, 2000, Exact),
    shop("Co-op Food", "5411", 200, 1800, Exact),
    shop("M&S Simply Food", "5411", 400, 2500, Exact),
];
const COFFEE: &[Shop] = &[
    shop("Pret A Manger", "5814", 280, 650, Exact),
    shop("Costa Coffee", "5814", 300, 620, Exact),
    shop("Caffe Nero", "5814", 290, 590, Exact),
    shop("Greggs", "5814", 150, 420, Exact),
];
const LUNCH: &[Shop] = &[
    shop("Greggs", "5814", 250, 750, Exact),
    shop("Pret A Manger", "5814", 450, 1100, Exact),
    shop("Leon", "5814", 650, 1200, Exact),
    shop("itsu", "5814", 550, 1150, Exact),
    shop("Tesco Express", "5411", 350, 600, Exact),
];
const RESTAURANT: &[Shop] = &[
    shop("Nando's", "5812", 1600, 4800, Tip),
    shop("Wagamama", "5812", 1800, 5200, Tip),
    shop("Dishoom", "5812", 2500, 7500, Tip),
    shop("PizzaExpress", "5812", 1900, 5600, Tip),
    shop("Franco Manca", "5812", 1500, 4200, Tip),
];
const PUB: &[Shop] = &[
    shop("J D Wetherspoon", "5813", 450, 2400, Exact),
    shop("The Crown & Anchor", "5813", 600, 3800, Exact),
    shop("Brewdog", "5813", 700, 3200, Exact),
];
const TAKEAWAY: &[Shop] = &[
    shop("Deliveroo", "5812", 1400, 3800, Exact),
    shop("Just Eat", "5812", 1300, 3400, Exact),
    shop("Uber Eats", "5812", 1500, 3600, Exact),
];
const TFL: &[Shop] = &[shop("TfL Travel Charge", "4111", 280, 890, Exact)];
const LOCAL_TRANSPORT: &[Shop] = &[
    shop("First Bus", "4131", 250, 550, Exact),
    shop("Stagecoach", "4131", 250, 600, Exact),
    shop("Trainline", "4112", 900, 6500, Exact),
];
const TAXI: &[Shop] = &[
    shop("Uber", "4121", 800, 2800, Estimate),
    shop("Bolt", "4121", 700, 2200, Estimate),
];
const FUEL: &[Shop] = &[
    shop("Shell", "5542", 0, 0, Hold { hold: 9900 }),
    shop("BP", "5542", 0, 0, Hold { hold: 9900 }),
    shop("Esso", "5542", 0, 0, Hold { hold: 9900 }),
];
const ONLINE: &[Shop] = &[
    shop("Amazon UK", "5942", 600, 6000, Cancellable),
    shop("Amazon Marketplace", "5999", 500, 4500, Cancellable),
    shop("ASOS", "5691", 1500, 8000, Cancellable),
    shop("Argos", "5311", 800, 9000, Cancellable),
];
const HEALTH: &[Shop] = &[
    shop("Boots", "5912", 300, 2500, Exact),
    shop("Superdrug", "5912", 300, 1800, Exact),
];
const LEISURE: &[Shop] = &[
    shop("Odeon", "7832", 900, 2800, Exact),
    shop("Waterstones", "5942", 800, 2500, Exact),
    shop("Majestic Wine", "5921", 1200, 6000, Exact),
    shop("John Lewis", "5311", 1500, 12000, Exact),
];
const TRADE: &[Shop] = &[
    shop("Screwfix", "5251", 1200, 18000, Exact),
    shop("Toolstation", "5251", 900, 12000, Exact),
    shop("Wickes", "5211", 1500, 22000, Exact),
    shop("Travis Perkins", "5211", 2500, 35000, Exact),
];
const GARDEN: &[Shop] = &[
    shop("Dobbies Garden Centre", "5261", 800, 6000, Exact),
    shop("Boots", "5912", 300, 2000, Exact),
    shop("National Trust", "8398", 800, 3000, Exact),
];
const HOLIDAY: &[Shop] = &[
    shop("easyJet", "4511", 9000, 32000, Exact),
    shop("Premier Inn", "7011", 0, 0, Hold { hold: 15000 }),
    shop("Airbnb", "4722", 12000, 45000, Exact),
];
const CHRISTMAS: &[Shop] = &[
    shop("John Lewis", "5311", 2500, 15000, Exact),
    shop("Amazon UK", "5942", 1500, 9000, Exact),
    shop("Marks & Spencer", "5311", 2000, 12000, Exact),
];
const NETFLIX: Shop = shop("Netflix", "4899", 1099, 1099, Exact);
const SPOTIFY: Shop = shop("Spotify", "5815", 1199, 1199, Exact);

#[derive(Clone, Copy)]
struct Habit {
    shops: &'static [Shop],
    weekday: f64,
    weekend: f64,
    /// Hours of the day the purchase happens in.
    hours: (i64, i64),
    /// Paid even from the overdraft; the rest waits until there is money.
    essential: bool,
}

const fn habit(
    shops: &'static [Shop],
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Persona {
    Renter,
    SoleTrader,
    Homeowner,
    Graduate,
    Retiree,
}

impl Persona {
    fn of(index: usize) -> Self {
        [
            Self::Renter,
            Self::SoleTrader,
            Self::Homeowner,
            Self::Graduate,
            Self::Retiree,
        ][index % 5]
    }

    fn habits(self, london: bool) -> Vec<Habit> {
        let commute = if london { TFL } else { LOCAL_TRANSPORT };
        match self {
            Self::Renter => vec![
                habit(BIG_SHOP, 0.10, 0.30, (10, 20), true),
                habit(TOP_UP_SHOP, 0.25, 0.20, (17, 21), true),
                habit(COFFEE, 0.40, 0.15, (7, 10), false),
                habit(LUNCH, 0.25, 0.05, (12, 14), false),
                habit(commute, 0.75, 0.20, (7, 9), true),
                habit(RESTAURANT, 0.04, 0.15, (18, 22), false),
                habit(PUB, 0.06, 0.25, (17, 23), false),
                habit(TAKEAWAY, 0.04, 0.10, (19, 22), false),
                habit(ONLINE, 0.06, 0.06, (19, 23), false),
                habit(HEALTH, 0.05, 0.05, (9, 19), false),
                habit(LEISURE, 0.02, 0.06, (11, 21), false),
                habit(TAXI, 0.01, 0.06, (21, 23), false),
            ],
            Self::SoleTrader => vec![
                habit(TRADE, 0.30, 0.05, (7, 16), true),
                habit(FUEL, 0.12, 0.04, (7, 18), true),
                habit(LUNCH, 0.35, 0.05, (11, 14), false),
                habit(COFFEE, 0.30, 0.05, (6, 9), false),
                habit(BIG_SHOP, 0.05, 0.35, (10, 19), true),
                habit(ONLINE, 0.05, 0.05, (19, 23), false),
                habit(PUB, 0.03, 0.15, (18, 23), false),
            ],
            Self::Homeowner => vec![
                habit(BIG_SHOP, 0.10, 0.45, (9, 20), true),
                habit(TOP_UP_SHOP, 0.20, 0.15, (17, 21), true),
                habit(COFFEE, 0.25, 0.20, (8, 11), false),
                habit(commute, 0.40, 0.10, (7, 9), true),
                habit(FUEL, 0.06, 0.10, (8, 19), true),
                habit(RESTAURANT, 0.03, 0.12, (18, 21), false),
                habit(TAKEAWAY, 0.03, 0.10, (18, 21), false),
                habit(ONLINE, 0.08, 0.08, (20, 23), false),
                habit(HEALTH, 0.06, 0.06, (9, 18), false),
                habit(LEISURE, 0.02, 0.08, (10, 18), false),
            ],
            Self::Graduate => vec![
                habit(TOP_UP_SHOP, 0.35, 0.30, (17, 22), true),
                habit(BIG_SHOP, 0.04, 0.20, (11, 19), true),
                habit(COFFEE, 0.45, 0.25, (8, 10), false),
                habit(LUNCH, 0.30, 0.05, (12, 14), false),
                habit(commute, 0.80, 0.30, (7, 9), true),
                habit(PUB, 0.10, 0.35, (18, 23), false),
                habit(TAKEAWAY, 0.06, 0.15, (19, 23), false),
                habit(TAXI, 0.02, 0.08, (22, 23), false),
                habit(ONLINE, 0.04, 0.04, (20, 23), false),
                habit(LEISURE, 0.02, 0.06, (12, 21), false),
            ],
            Self::Retiree => vec![
                habit(BIG_SHOP, 0.15, 0.10, (9, 12), true),
                habit(TOP_UP_SHOP, 0.20, 0.10, (9, 16), true),
                habit(GARDEN, 0.06, 0.12, (10, 16), false),
                habit(COFFEE, 0.10, 0.10, (10, 15), false),
                habit(FUEL, 0.05, 0.03, (9, 16), true),
                habit(LEISURE, 0.04, 0.04, (10, 17), false),
                habit(RESTAURANT, 0.02, 0.06, (12, 14), false),
            ],
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BillKind {
    CouncilTax,
    Energy,
    Flat,
}

struct Bill {
    mandate: DirectDebitId,
    day: u8,
    base: Pence,
    kind: BillKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PotRole {
    /// Payday saving; also where the customer goes when money runs short.
    Save {
        monthly: Pence,
    },
    /// Saving towards a goal, spent in `spend` month if any.
    Goal {
        monthly: Pence,
        spend: Option<Month>,
        christmas: bool,
    },
    RoundUps,
    /// Funded once at the start and left alone.
    Fixed,
    /// A quarter of a sole trader's takings, for the self assessment bill.
    Tax,
}

/// A pot to open: name, product, rate, goal and opening balance in pounds, and what it is for.
type PotTemplate<'a> = (
    &'static str,
    &'a ProductId,
    Option<Decimal>,
    Option<i64>,
    PotRole,
    i64,
);

struct SimPot {
    id: AccountId,
    role: PotRole,
    goal: Option<Pence>,
}

#[derive(Clone)]
struct Party {
    name: String,
    ident: SortCodeAccountNumber,
}

impl Party {
    fn counterparty(&self) -> Counterparty {
        Counterparty {
            name: self.name.clone(),
            sort_code: Some(self.ident.sort_code),
            account_number: Some(self.ident.account_number),
        }
    }

    fn creditor(&self) -> Creditor {
        Creditor {
            name: self.name.clone(),
            identification: self.ident,
        }
    }
}

enum Income {
    Salary {
        employer: Party,
        reference: String,
        net: Pence,
        /// `None`: the last working day of the month.
        day: Option<u8>,
    },
    Pension {
        state: Party,
        reference: String,
        four_weekly: Pence,
        anchor: Date,
        private: Party,
        monthly: Pence,
    },
    Trade {
        clients: Vec<Party>,
        next_invoice: u32,
        hmrc: Party,
        utr: String,
    },
}

struct Sim {
    account: AccountId,
    habits: Vec<Habit>,
    subscriptions: Vec<(&'static Shop, u8)>,
    income: Income,
    bills: Vec<Bill>,
    pots: Vec<SimPot>,
    friends: Vec<Party>,
    summary: DemoCustomer,
}

enum Event {
    Jobs,
    Income {
        c: usize,
        amount: Pence,
        from: Party,
        reference: String,
        code: ProprietaryCode,
    },
    PaydaySaving {
        c: usize,
    },
    DirectDebit {
        c: usize,
        bill: usize,
        amount: Pence,
    },
    Card {
        c: usize,
        shop: &'static Shop,
        amount: Pence,
        essential: bool,
    },
    Settle {
        txn: TransactionId,
        amount: Pence,
    },
    Release {
        txn: TransactionId,
    },
    RoundUps {
        c: usize,
    },
    TopUp {
        c: usize,
    },
    GoalSpend {
        c: usize,
        pot: usize,
    },
    TaxSave {
        c: usize,
        amount: Pence,
    },
    TaxPayment {
        c: usize,
    },
    PayFriend {
        c: usize,
        friend: usize,
        amount: Pence,
        reference: &'static str,
    },
    FromFriend {
        c: usize,
        friend: usize,
        amount: Pence,
        reference: &'static str,
    },
    Schedule {
        c: usize,
        execute_on: Date,
        amount: Pence,
        reference: String,
        to: Party,
    },
}

const TO_FRIEND: &[&str] = &[
    "Dinner",
    "Drinks",
    "Taxi",
    "Gig tickets",
    "Birthday present",
    "Cinema",
    "Football",
    "Pizza",
    "Festival",
    "Petrol",
];
const FROM_FRIEND: &[&str] = &[
    "Thanks!",
    "My share",
    "Dinner",
    "Cinema",
    "Petrol money",
    "Tickets",
    "Brunch",
];

struct Builder {
    ledger: Ledger,
    clock: Arc<ManualClock>,
    rng: StdRng,
    start: OffsetDateTime,
    end: OffsetDateTime,
    sims: Vec<Sim>,
    queue: BTreeMap<(OffsetDateTime, u64), Event>,
    seq: u64,
}

struct Products {
    personal: ProductId,
    business: ProductId,
    instant: ProductId,
    saver: ProductId,
    fixed: ProductId,
    business_saver: ProductId,
}

const SAVER_RATE: Decimal = Decimal::from_parts(375, 0, 0, false, 4);
const FIXED_RATE: Decimal = Decimal::from_parts(440, 0, 0, false, 4);
const BUSINESS_SAVER_RATE: Decimal = Decimal::from_parts(250, 0, 0, false, 4);

impl Builder {
    fn push(&mut self, when: OffsetDateTime, event: Event) {
        if when > self.start && when <= self.end {
            self.seq += 1;
            self.queue.insert((when, self.seq), event);
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    fn pence(&mut self, min: i64, max: i64) -> Pence {
        Pence(self.rng.random_range(min..=max.max(min)))
    }

    /// Whole pounds: what people actually type for transfers and what bills usually are.
    fn pounds(&mut self, min: i64, max: i64) -> Pence {
        Pence::from_pounds(self.rng.random_range(min..=max.max(min)))
    }

    fn other_bank(&mut self) -> Result<SortCodeAccountNumber, LedgerError> {
        // Sort code ranges of the big UK clearers, so the numbers look like real accounts.
        const PREFIXES: &[u32] = &[20, 40, 30, 60, 77, 83, 9, 11, 16, 23];
        let own = self.ledger.sort_code();
        loop {
            let prefix = *self.pick(PREFIXES);
            let sort = format!("{prefix:02}{:04}", self.rng.random_range(0..10_000u32));
            let number = format!("{:08}", self.rng.random_range(10_000_000..100_000_000u32));
            let sort_code = SortCode::parse(&sort).map_err(invalid)?;
            if sort_code != own {
                return Ok(SortCodeAccountNumber {
                    sort_code,
                    account_number: AccountNumber::parse(&number).map_err(invalid)?,
                });
            }
        }
    }

    fn party(&mut self, name: impl Into<String>) -> Result<Party, LedgerError> {
        Ok(Party {
            name: name.into(),
            ident: self.other_bank()?,
        })
    }

    fn person_name(&mut self, pool: &[&str]) -> String {
        format!("{} {}", self.pick(pool), self.pick(SURNAMES))
    }

    async fn create_products(&mut self) -> Result<Products, LedgerError> {
        let l = &self.ledger;
        let product = |name: &str, kind, interest_rate, overdraft_rate| NewProduct {
            name: name.to_owned(),
            kind,
            interest_rate,
            monthly_fee: Pence::ZERO,
            overdraft_rate,
        };
        Ok(Products {
            personal: l
                .create_product(product(
                    "Bascule Current Account",
                    AccountKind::CurrentAccount,
                    None,
                    Some(Decimal::new(3990, 4)),
                ))
                .await?,
            business: l
                .create_product(product(
                    "Bascule Business Account",
                    AccountKind::CurrentAccount,
                    None,
                    Some(Decimal::new(1490, 4)),
                ))
                .await?,
            instant: l
                .create_product(product(
                    "Instant Access Pot",
                    AccountKind::Savings,
                    None,
                    None,
                ))
                .await?,
            saver: l
                .create_product(product(
                    "Savings Pot",
                    AccountKind::Savings,
                    Some(SAVER_RATE),
                    None,
                ))
                .await?,
            fixed: l
                .create_product(product(
                    "Fixed Rate Pot 1 Year",
                    AccountKind::Savings,
                    Some(FIXED_RATE),
                    None,
                ))
                .await?,
            business_saver: l
                .create_product(product(
                    "Business Saver Pot",
                    AccountKind::Savings,
                    Some(BUSINESS_SAVER_RATE),
                    None,
                ))
                .await?,
        })
    }

    async fn setup(&mut self, customers: usize) -> Result<(), LedgerError> {
        let products = self.create_products().await?;
        let mut used_names = Vec::new();
        let mut used_phones = Vec::new();
        for index in 0..customers {
            // Customers join a few minutes apart, so their order is the order they joined.
            self.clock.advance(Duration::minutes(7));
            let persona = Persona::of(index);
            let name = loop {
                let pool = if persona == Persona::Retiree {
                    OLDER_FIRST_NAMES
                } else {
                    FIRST_NAMES
                };
                let n = self.person_name(pool);
                let first = n.split(' ').next().unwrap_or_default().to_owned();
                // Distinct first names too, so the people are easy to tell apart in a demo.
                let clash = used_names
                    .iter()
                    .any(|u: &String| u == &n || u.split(' ').next() == Some(first.as_str()));
                if !clash || used_names.len() >= OLDER_FIRST_NAMES.len() {
                    break n;
                }
            };
            used_names.push(name.clone());
            let phone = loop {
                let n = self.rng.random_range(0..1000u32);
                if !used_phones.contains(&n) || used_phones.len() >= 1000 {
                    used_phones.push(n);
                    break format!("+447700900{n:03}");
                }
            };
            self.setup_customer(index, persona, name, phone, &products)
                .await?;
        }
        Ok(())
    }

    async fn setup_customer(
        &mut self,
        index: usize,
        persona: Persona,
        name: String,
        phone: String,
        products: &Products,
    ) -> Result<(), LedgerError> {
        let today = self.clock.now().date();
        let age_range = match persona {
            Persona::Graduate => (22, 27),
            Persona::Retiree => (67, 79),
            Persona::Renter => (26, 38),
            _ => (33, 55),
        };
        let age = self.rng.random_range(age_range.0..=age_range.1);
        let date_of_birth = clamp_day(
            today.year() - age,
            self.rng.random_range(1..=12),
            self.rng.random_range(1..=28),
        );
        let town = if matches!(persona, Persona::Renter | Persona::Graduate) {
            self.pick(&TOWNS[..3])
        } else {
            self.pick(TOWNS)
        };
        const UNIT_LETTERS: &[u8] = b"ABDEFGHJLNPQRSTUWXYZ";
        let postcode = format!(
            "{} {}{}{}",
            town.district,
            self.rng.random_range(1..=9u8),
            char::from(*self.pick(UNIT_LETTERS)),
            char::from(*self.pick(UNIT_LETTERS)),
        );
        let street = *self.pick(town.streets);
        let mut lines = vec![format!("{} {street}", self.rng.random_range(2..=148))];
        if matches!(persona, Persona::Renter | Persona::Graduate) {
            lines.insert(0, format!("Flat {}", self.rng.random_range(1..=12)));
        }
        let local: String = name
            .to_lowercase()
            .chars()
            .filter_map(|c| match c {
                ' ' => Some('.'),
                c if c.is_ascii_alphanumeric() => Some(c),
                _ => None,
            })
            .collect();
        let email = format!("{local}@example.com");
        let customer = self
            .ledger
            .create_customer(NewCustomer {
                legal_name: name.clone(),
                date_of_birth,
                email: email.clone(),
                phone: phone.clone(),
                address: PostalAddress {
                    lines,
                    town: town.name.to_owned(),
                    postcode,
                    country: "GB".to_owned(),
                },
            })
            .await?;

        let surname = name.rsplit(' ').next().unwrap_or("Smith").to_owned();
        let business_name = (persona == Persona::SoleTrader).then(|| {
            let trade = *self.pick(&[
                "Plumbing & Heating",
                "Electrical",
                "Joinery",
                "Decorating",
                "Roofing",
            ]);
            format!("{surname} {trade}")
        });
        let overdraft_limit = match persona {
            Persona::Renter => Pence::from_pounds(500),
            Persona::Graduate => Pence::from_pounds(1000),
            Persona::SoleTrader => Pence::from_pounds(1500),
            Persona::Homeowner | Persona::Retiree => Pence::ZERO,
        };
        let account_type = if persona == Persona::SoleTrader {
            AccountType::Business
        } else {
            AccountType::Personal
        };
        let account = self
            .ledger
            .open_current_account(NewCurrentAccount {
                customer: customer.id.clone(),
                account_type,
                nickname: business_name.clone(),
                overdraft_limit,
                product: Some(if persona == Persona::SoleTrader {
                    products.business.clone()
                } else {
                    products.personal.clone()
                }),
            })
            .await?;
        let ident = account
            .identification
            .ok_or_else(|| LedgerError::Invalid("current account without a number".into()))?;

        // The balance switched in from the customer's old bank (Current Account Switch Service).
        let switched = match persona {
            Persona::Retiree => self.pounds(26_000, 34_000),
            Persona::Homeowner => self.pounds(8_500, 12_000),
            Persona::SoleTrader => self.pounds(4_000, 6_500),
            Persona::Renter => self.pounds(2_500, 4_000),
            Persona::Graduate => self.pounds(600, 1_200),
        };
        let old_bank = self.party(name.clone())?;
        self.ledger
            .receive_payment(
                &account.id,
                switched,
                old_bank.counterparty(),
                Some("CASS SWITCH".into()),
                ProprietaryCode::FasterPayment,
                None,
            )
            .await?;

        let templates: Vec<PotTemplate> = match persona {
            Persona::Renter => vec![
                (
                    "Rainy Day",
                    &products.saver,
                    Some(SAVER_RATE),
                    Some(15_000),
                    PotRole::Save {
                        monthly: self.pounds(150, 300),
                    },
                    self.rng.random_range(600..=1_500),
                ),
                (
                    "Holiday",
                    &products.instant,
                    None,
                    Some(1_500),
                    PotRole::Goal {
                        monthly: self.pounds(100, 180),
                        spend: Some(Month::August),
                        christmas: false,
                    },
                    200,
                ),
                (
                    "Round-ups",
                    &products.instant,
                    None,
                    None,
                    PotRole::RoundUps,
                    0,
                ),
            ],
            Persona::SoleTrader => vec![
                (
                    "Tax",
                    &products.business_saver,
                    Some(BUSINESS_SAVER_RATE),
                    None,
                    PotRole::Tax,
                    self.rng.random_range(1_500..=2_500),
                ),
                (
                    "New Van",
                    &products.instant,
                    None,
                    Some(12_000),
                    PotRole::Goal {
                        monthly: self.pounds(200, 400),
                        spend: None,
                        christmas: false,
                    },
                    1_000,
                ),
            ],
            Persona::Homeowner => vec![
                (
                    "Emergency Fund",
                    &products.saver,
                    Some(SAVER_RATE),
                    Some(30_000),
                    PotRole::Save {
                        monthly: self.pounds(200, 350),
                    },
                    self.rng.random_range(2_000..=4_000),
                ),
                (
                    "Christmas",
                    &products.instant,
                    None,
                    Some(600),
                    PotRole::Goal {
                        monthly: Pence::from_pounds(50),
                        spend: Some(Month::December),
                        christmas: true,
                    },
                    0,
                ),
                (
                    "Fixed 1 Year",
                    &products.fixed,
                    Some(FIXED_RATE),
                    None,
                    PotRole::Fixed,
                    5_000,
                ),
                (
                    "Home Improvements",
                    &products.instant,
                    None,
                    Some(4_000),
                    PotRole::Goal {
                        monthly: self.pounds(80, 150),
                        spend: None,
                        christmas: false,
                    },
                    300,
                ),
            ],
            Persona::Graduate => vec![
                (
                    "House Deposit",
                    &products.saver,
                    Some(SAVER_RATE),
                    Some(25_000),
                    PotRole::Save {
                        monthly: self.pounds(80, 150),
                    },
                    self.rng.random_range(300..=800),
                ),
                (
                    "Round-ups",
                    &products.instant,
                    None,
                    None,
                    PotRole::RoundUps,
                    0,
                ),
            ],
            Persona::Retiree => vec![
                (
                    "Fixed 1 Year",
                    &products.fixed,
                    Some(FIXED_RATE),
                    None,
                    PotRole::Fixed,
                    20_000,
                ),
                (
                    "Savings",
                    &products.saver,
                    Some(SAVER_RATE),
                    None,
                    PotRole::Save {
                        monthly: self.pounds(100, 200),
                    },
                    self.rng.random_range(3_000..=5_000),
                ),
                (
                    "Grandchildren",
                    &products.instant,
                    None,
                    Some(500),
                    PotRole::Goal {
                        monthly: Pence::from_pounds(40),
                        spend: Some(Month::December),
                        christmas: true,
                    },
                    100,
                ),
            ],
        };
        let mut pots = Vec::new();
        let mut demo_pots = Vec::new();
        for (pot_name, product, rate, goal, role, opening) in templates {
            let pot = self
                .ledger
                .open_pot(NewPot {
                    parent: account.id.clone(),
                    name: pot_name.to_owned(),
                    goal: goal.map(Pence::from_pounds),
                    interest_rate: rate,
                    product: Some(product.clone()),
                })
                .await?;
            if opening > 0 {
                self.ledger
                    .move_between_pot(
                        &account.id,
                        &pot.id,
                        Pence::from_pounds(opening),
                        true,
                        None,
                    )
                    .await?;
            }
            demo_pots.push(DemoPot {
                id: pot.id.clone(),
                name: pot_name.to_owned(),
                interest_rate: rate,
                goal: goal.map(Pence::from_pounds),
            });
            pots.push(SimPot {
                id: pot.id,
                role,
                goal: goal.map(Pence::from_pounds),
            });
        }

        let income = match persona {
            Persona::Retiree => {
                let ni = format!(
                    "{}{}{:06}{}",
                    char::from(*self.pick(b"ABCEGHJKLMNPRSTWXYZ")),
                    char::from(*self.pick(b"ABCEGHJKLMNPRSTWXYZ")),
                    self.rng.random_range(0..1_000_000u32),
                    char::from(*self.pick(b"ABCD"))
                );
                let private = *self.pick(&["Aviva Annuity", "Legal & General", "Scottish Widows"]);
                Income::Pension {
                    state: self.party("DWP SP")?,
                    reference: format!("{ni} DWP SP"),
                    four_weekly: Pence(92_100),
                    anchor: today + Duration::days(self.rng.random_range(1..=28)),
                    private: self.party(private)?,
                    monthly: self.pounds(700, 1_300),
                }
            }
            Persona::SoleTrader => {
                let mut clients = Vec::new();
                for client in [
                    "Hillside Lettings Ltd",
                    "Gorman Property Services",
                    "Riverside Dental Practice",
                ] {
                    clients.push(self.party(client)?);
                }
                for _ in 0..4 {
                    let title = *self.pick(&["Mr", "Mrs", "Ms", "Dr"]);
                    let initial = char::from(*self.pick(b"ABCDEFGHJKLMNPRSTW"));
                    let who = format!("{title} {initial} {}", self.pick(SURNAMES));
                    clients.push(self.party(who)?);
                }
                Income::Trade {
                    clients,
                    next_invoice: self.rng.random_range(1_040..1_400),
                    // HMRC's published account for Self Assessment payments.
                    hmrc: Party {
                        name: "HMRC Self Assessment".into(),
                        ident: SortCodeAccountNumber {
                            sort_code: SortCode::parse("083210").map_err(invalid)?,
                            account_number: AccountNumber::parse("12001039").map_err(invalid)?,
                        },
                    },
                    utr: format!(
                        "{:010}K",
                        self.rng.random_range(1_000_000_000..10_000_000_000u64)
                    ),
                }
            }
            _ => {
                let employer = *self.pick(&[
                    "Northwind Logistics Ltd",
                    "Harbour & Vale LLP",
                    "Kestrel Software Ltd",
                    "Meridian Retail plc",
                    "Oakfield Academy Trust",
                    "Fenwick Engineering Ltd",
                    "Lumen Health Partners",
                ]);
                let net = match persona {
                    Persona::Graduate => self.pounds(2_050, 2_350),
                    Persona::Renter => self.pounds(3_050, 3_500),
                    _ => self.pounds(3_900, 4_600),
                };
                let day = *self.pick(&[None, Some(25), Some(28), Some(15)]);
                let short: String = employer
                    .split(' ')
                    .next()
                    .unwrap_or(employer)
                    .to_uppercase();
                Income::Salary {
                    employer: self.party(employer)?,
                    reference: format!("{short} SALARY"),
                    net,
                    day,
                }
            }
        };

        // Standing orders: rent, or a regular payment to family, or workshop rent.
        let next_month = today
            + Duration::days(i64::from(
                today.month().length(today.year()) - today.day() + 1,
            ));
        let (so_name, so_reference, so_amount, so_day) = match persona {
            Persona::Renter => (
                (*self.pick(&["Harlow & Finch Lettings", "Greenleaf Property Mgmt"])).to_owned(),
                format!("RENT {}", self.rng.random_range(100..999)),
                self.pounds(1_150, 1_400),
                1,
            ),
            Persona::Graduate => (
                format!(
                    "Mr {} {}",
                    self.pick(&["D", "A", "R", "J"]),
                    self.pick(SURNAMES)
                ),
                "RENT ROOM 2".to_owned(),
                self.pounds(720, 880),
                1,
            ),
            Persona::SoleTrader => (
                "Canal Street Workshops".to_owned(),
                "UNIT 4 RENT".to_owned(),
                Pence::from_pounds(450),
                1,
            ),
            Persona::Homeowner => (
                format!("{} {surname}", self.pick(FIRST_NAMES)),
                "POCKET MONEY".to_owned(),
                Pence::from_pounds(40),
                5,
            ),
            Persona::Retiree => (
                format!("{} {surname}", self.pick(FIRST_NAMES)),
                "JUNIOR ISA".to_owned(),
                Pence::from_pounds(25),
                15,
            ),
        };
        let so_party = self.party(so_name.clone())?;
        self.ledger
            .add_standing_order(NewStandingOrder {
                account: account.id.clone(),
                frequency: Frequency::Monthly {
                    months: 1,
                    day: so_day,
                },
                reference: so_reference.clone(),
                creditor_name: so_name.clone(),
                creditor: so_party.ident,
                amount: so_amount,
                first_payment_on: clamp_day(
                    next_month.year(),
                    i32::from(u8::from(next_month.month())),
                    so_day,
                ),
                final_payment_on: None,
            })
            .await?;
        self.ledger
            .add_beneficiary(NewBeneficiary {
                account: account.id.clone(),
                name: so_name,
                creditor: so_party.ident,
                reference: Some(so_reference),
                trusted: true,
            })
            .await?;

        // Direct debits.
        let energy = *self.pick(&["Octopus Energy", "British Gas", "EDF Energy", "E.ON Next"]);
        let broadband = *self.pick(&["BT", "Virgin Media", "Sky Broadband", "Hyperoptic"]);
        let mobile = *self.pick(&["Vodafone UK", "EE", "O2", "Three", "giffgaff"]);
        let gym = *self.pick(&["PureGym", "The Gym Group", "Better Leisure"]);
        let mortgage = *self.pick(&["Nationwide BS", "Halifax Mortgages", "Santander Mortgages"]);
        let mut dd: Vec<(String, &str, u8, Pence, BillKind)> = vec![
            (
                town.council.to_owned(),
                "CTAX",
                1,
                self.pence(12_500, 21_000),
                BillKind::CouncilTax,
            ),
            (
                energy.to_owned(),
                "ENERGY",
                self.rng.random_range(3..=20),
                self.pounds(70, 120),
                BillKind::Energy,
            ),
            (
                broadband.to_owned(),
                "BB",
                self.rng.random_range(8..=24),
                self.pence(2_500, 5_500),
                BillKind::Flat,
            ),
            (
                mobile.to_owned(),
                "MOB",
                self.rng.random_range(10..=27),
                self.pence(1_000, 3_500),
                BillKind::Flat,
            ),
        ];
        if persona != Persona::Graduate {
            dd.push((
                town.water.to_owned(),
                "WATER",
                self.rng.random_range(1..=15),
                self.pence(3_200, 5_200),
                BillKind::Flat,
            ));
        }
        if matches!(persona, Persona::Renter | Persona::Graduate) {
            dd.push((
                gym.to_owned(),
                "GYM",
                self.rng.random_range(1..=28),
                Pence(*self.pick(&[2_299, 2_499, 2_999])),
                BillKind::Flat,
            ));
        }
        if persona == Persona::Homeowner {
            dd.push((
                mortgage.to_owned(),
                "MORTGAGE",
                1,
                self.pounds(950, 1_350),
                BillKind::Flat,
            ));
            dd.push((
                "TV Licensing".to_owned(),
                "TVL",
                self.rng.random_range(1..=28),
                Pence(1_454),
                BillKind::Flat,
            ));
        }
        if persona == Persona::SoleTrader {
            dd.push((
                "Simply Business".to_owned(),
                "INS",
                12,
                self.pence(3_800, 6_500),
                BillKind::Flat,
            ));
            dd.push((
                "Lex Autolease".to_owned(),
                "VAN LEASE",
                3,
                self.pounds(290, 380),
                BillKind::Flat,
            ));
        }
        if persona == Persona::Retiree {
            dd.push((
                "RSPB".to_owned(),
                "MEMBER",
                self.rng.random_range(1..=28),
                Pence(600),
                BillKind::Flat,
            ));
        }
        let mut bills = Vec::new();
        for (originator, prefix, day, base, kind) in dd {
            let mandate = self
                .ledger
                .add_direct_debit(NewDirectDebit {
                    account: account.id.clone(),
                    mandate_reference: format!(
                        "{prefix} {:08}",
                        self.rng.random_range(0..100_000_000u32)
                    ),
                    originator_name: originator,
                })
                .await?;
            bills.push(Bill {
                mandate: mandate.id,
                day,
                base,
                kind,
            });
        }

        let mut friends = Vec::new();
        for i in 0..self.rng.random_range(3..=4) {
            let friend_name = self.person_name(FIRST_NAMES);
            let friend = self.party(friend_name)?;
            self.ledger
                .add_beneficiary(NewBeneficiary {
                    account: account.id.clone(),
                    name: friend.name.clone(),
                    creditor: friend.ident,
                    reference: None,
                    trusted: i < 2,
                })
                .await?;
            friends.push(friend);
        }

        let mut subscriptions = Vec::new();
        if !matches!(persona, Persona::Retiree | Persona::SoleTrader) {
            subscriptions.push((&NETFLIX, self.rng.random_range(1..=28)));
        }
        if matches!(
            persona,
            Persona::Renter | Persona::Graduate | Persona::SoleTrader
        ) {
            subscriptions.push((&SPOTIFY, self.rng.random_range(1..=28)));
        }

        let c = self.sims.len();
        let summary = DemoCustomer {
            name,
            customer_id: customer.id,
            email,
            phone,
            account_type,
            business_name,
            current_account: account.id.clone(),
            sort_code: ident.sort_code,
            account_number: ident.account_number,
            overdraft_limit,
            pots: demo_pots,
        };
        self.sims.push(Sim {
            account: account.id,
            habits: persona.habits(town.london),
            subscriptions,
            income,
            bills,
            pots,
            friends,
            summary,
        });
        self.plan_one_offs(c, index)?;
        Ok(())
    }

    /// Scheduled payments: one in the past that the daily jobs paid, and one still to come.
    fn plan_one_offs(&mut self, c: usize, index: usize) -> Result<(), LedgerError> {
        let span = (self.end - self.start).whole_days();
        if span > 60 && self.rng.random_bool(0.6) {
            let execute_on =
                self.start.date() + Duration::days(self.rng.random_range(40..span - 20));
            let made = at(
                execute_on - Duration::days(self.rng.random_range(5..=20)),
                self.rng.random_range(19 * 3600..22 * 3600),
            );
            let (who, reference) = *self.pick(&[
                ("Howdens Joinery", "KITCHEN DEPOSIT"),
                ("Riverside Vets", "INV 20931"),
                ("St Mary's Church Hall", "PARTY HIRE"),
                ("Kwik Fit", "TYRES"),
            ]);
            let to = self.party(who)?;
            let amount = self.pounds(60, 350);
            self.push(
                made,
                Event::Schedule {
                    c,
                    execute_on,
                    amount,
                    reference: reference.to_owned(),
                    to,
                },
            );
        }
        // Most customers, and always the sole trader, have a payment still to come.
        let sim = &self.sims[c];
        let trader = match &sim.income {
            Income::Trade { hmrc, utr, .. } => Some((hmrc.clone(), utr.clone())),
            _ => None,
        };
        let made = self.end
            - Duration::days(self.rng.random_range(2..=6))
            - Duration::hours(self.rng.random_range(1..=9));
        if let Some((hmrc, utr)) = trader {
            let end = self.end.date();
            let mut due = clamp_day(end.year(), 1, 31);
            while due <= end + Duration::days(3) {
                due = if due.month() == Month::January {
                    clamp_day(due.year(), 7, 31)
                } else {
                    clamp_day(due.year() + 1, 1, 31)
                };
            }
            let amount = self.pounds(1_200, 2_400);
            self.push(
                made,
                Event::Schedule {
                    c,
                    execute_on: working_day_before(due),
                    amount,
                    reference: utr,
                    to: hmrc,
                },
            );
        } else if let Some((who, reference)) = match Persona::of(index) {
            Persona::Renter => Some(("Harlow & Finch Lettings", "HOLDING DEPOSIT")),
            Persona::Homeowner => Some(("Little Acorns Nursery", "TERM FEES")),
            Persona::Retiree => Some(("The Old Barn Weddings", "BALANCE")),
            _ => None,
        } {
            let to = self.party(who)?;
            let execute_on = self.end.date() + Duration::days(self.rng.random_range(5..=40));
            let amount = self.pounds(120, 650);
            self.push(
                made,
                Event::Schedule {
                    c,
                    execute_on,
                    amount,
                    reference: reference.to_owned(),
                    to,
                },
            );
        }
        Ok(())
    }

    async fn run(&mut self) -> Result<(), LedgerError> {
        let mut day = self.start.date();
        let last = self.end.date();
        while day <= last {
            self.plan_day(day)?;
            let midnight = at(day, 86_400);
            while let Some(entry) = self.queue.first_entry() {
                if entry.key().0 >= midnight {
                    break;
                }
                let ((when, _), event) = entry.remove_entry();
                self.clock.set(when);
                self.execute(event).await?;
            }
            day += Duration::days(1);
        }
        // The history ends at `end`: whatever is still queued (settlements, mostly) is the
        // future, and those authorisations stay pending.
        self.clock.set(self.end);
        self.ledger.run_daily_jobs().await?;
        Ok(())
    }

    fn plan_day(&mut self, day: Date) -> Result<(), LedgerError> {
        // The bank's batch runs before anyone is up; salaries land just after midnight.
        self.push(at(day, 4 * 3600), Event::Jobs);
        let weekend = is_weekend(day);
        let month = day.month();
        for c in 0..self.sims.len() {
            self.plan_income(c, day)?;
            self.plan_bills(c, day, month);
            let habits = self.sims[c].habits.clone();
            for h in habits {
                let p = if weekend { h.weekend } else { h.weekday };
                if self.rng.random_bool(p) {
                    let shop = self.pick(h.shops);
                    let amount = match shop.settle {
                        Hold { hold } => Pence(hold),
                        _ => self.pence(shop.min, shop.max),
                    };
                    let when = at(
                        day,
                        self.rng.random_range(h.hours.0 * 3600..=h.hours.1 * 3600),
                    );
                    self.push(
                        when,
                        Event::Card {
                            c,
                            shop,
                            amount,
                            essential: h.essential,
                        },
                    );
                }
            }
            for (shop, sub_day) in self.sims[c].subscriptions.clone() {
                if day.day() == sub_day {
                    let when = at(day, self.rng.random_range(3 * 3600..6 * 3600));
                    self.push(
                        when,
                        Event::Card {
                            c,
                            shop,
                            amount: Pence(shop.min),
                            essential: true,
                        },
                    );
                }
            }
            if day.weekday() == Weekday::Sunday {
                self.push(at(day, 20 * 3600 + 30 * 60), Event::RoundUps { c });
            }
            self.push(at(day, 22 * 3600 + 15 * 60), Event::TopUp { c });
            let friends = self.sims[c].friends.len();
            if self.rng.random_bool(if weekend { 0.16 } else { 0.07 }) {
                let friend = self.rng.random_range(0..friends);
                let reference = *self.pick(TO_FRIEND);
                let amount = self.pounds(5, 60);
                let when = at(day, self.rng.random_range(10 * 3600..23 * 3600));
                self.push(
                    when,
                    Event::PayFriend {
                        c,
                        friend,
                        amount,
                        reference,
                    },
                );
            }
            if self.rng.random_bool(0.06) {
                let friend = self.rng.random_range(0..friends);
                let reference = *self.pick(FROM_FRIEND);
                let amount = self.pounds(5, 45);
                let when = at(day, self.rng.random_range(9 * 3600..23 * 3600));
                self.push(
                    when,
                    Event::FromFriend {
                        c,
                        friend,
                        amount,
                        reference,
                    },
                );
            }
            for pot in 0..self.sims[c].pots.len() {
                if let PotRole::Goal { spend: Some(m), .. } = self.sims[c].pots[pot].role
                    && m == month
                    && day.day() == 9
                {
                    self.push(at(day, 9 * 3600), Event::GoalSpend { c, pot });
                }
            }
            if matches!(self.sims[c].income, Income::Trade { .. })
                && matches!(month, Month::January | Month::July)
                && day == working_day_before(clamp_day(day.year(), i32::from(u8::from(month)), 31))
            {
                self.push(at(day, 10 * 3600), Event::TaxPayment { c });
            }
        }
        Ok(())
    }

    fn plan_income(&mut self, c: usize, day: Date) -> Result<(), LedgerError> {
        let month_num = i32::from(u8::from(day.month()));
        let mut credits = Vec::new();
        let mut payday = false;
        match &mut self.sims[c].income {
            Income::Salary {
                employer,
                reference,
                net,
                day: pay_day,
            } => {
                let nominal = match pay_day {
                    Some(d) => clamp_day(day.year(), month_num, *d),
                    None => clamp_day(day.year(), month_num, 31),
                };
                if day == working_day_before(nominal) {
                    payday = true;
                    // Annual pay rise with the new tax year.
                    if day.month() == Month::April {
                        *net = pct(*net, 103);
                    }
                    credits.push((
                        *net,
                        employer.clone(),
                        reference.clone(),
                        ProprietaryCode::Salary,
                    ));
                }
            }
            Income::Pension {
                state,
                reference,
                four_weekly,
                anchor,
                private,
                monthly,
            } => {
                if (day - *anchor).whole_days().rem_euclid(28) == 0 {
                    credits.push((
                        *four_weekly,
                        state.clone(),
                        reference.clone(),
                        ProprietaryCode::FasterPayment,
                    ));
                }
                if day == working_day_before(clamp_day(day.year(), month_num, 1)) {
                    payday = true;
                    credits.push((
                        *monthly,
                        private.clone(),
                        "PENSION".to_owned(),
                        ProprietaryCode::FasterPayment,
                    ));
                }
            }
            Income::Trade { .. } => {
                // A sole trader pays themselves nothing; month end is when they tidy up.
                payday = day == working_day_before(clamp_day(day.year(), month_num, 31));
            }
        }
        if matches!(self.sims[c].income, Income::Trade { .. })
            && !is_weekend(day)
            && self.rng.random_bool(0.30)
        {
            let amount = self.pence(18_000, 160_000);
            let when = at(day, self.rng.random_range(9 * 3600..18 * 3600));
            let mut from = None;
            let n = self.rng.random_range(0..7usize);
            if let Income::Trade {
                clients,
                next_invoice,
                ..
            } = &mut self.sims[c].income
            {
                *next_invoice += 1;
                from = clients
                    .get(n % clients.len().max(1))
                    .cloned()
                    .map(|p| (p, format!("INV-{next_invoice}")));
            }
            if let Some((from, reference)) = from {
                self.push(
                    when,
                    Event::Income {
                        c,
                        amount,
                        from,
                        reference,
                        code: ProprietaryCode::FasterPayment,
                    },
                );
            }
        }
        for (amount, from, reference, code) in credits {
            let when = at(day, self.rng.random_range(3600..2 * 3600 + 1800));
            self.push(
                when,
                Event::Income {
                    c,
                    amount,
                    from,
                    reference,
                    code,
                },
            );
        }
        if payday {
            self.push(at(day, 7 * 3600 + 45 * 60), Event::PaydaySaving { c });
        }
        Ok(())
    }

    fn plan_bills(&mut self, c: usize, day: Date, month: Month) {
        let month_num = i32::from(u8::from(month));
        for b in 0..self.sims[c].bills.len() {
            let (due_day, base, kind) = {
                let bill = &self.sims[c].bills[b];
                (bill.day, bill.base, bill.kind)
            };
            if day != working_day_after(clamp_day(day.year(), month_num, due_day)) {
                continue;
            }
            let amount = match kind {
                // Ten instalments, April to January.
                BillKind::CouncilTax if matches!(month, Month::February | Month::March) => {
                    continue;
                }
                BillKind::CouncilTax | BillKind::Flat => base,
                BillKind::Energy => {
                    let season = match month {
                        Month::January => 150,
                        Month::February => 140,
                        Month::March => 120,
                        Month::April => 100,
                        Month::May => 80,
                        Month::June | Month::September => 70,
                        Month::July | Month::August => 65,
                        Month::October => 95,
                        Month::November => 120,
                        Month::December => 145,
                    };
                    let wobble = self.rng.random_range(92..=108);
                    Pence(base.0 * season * wobble / 10_000)
                }
            };
            let when = at(day, self.rng.random_range(5 * 3600..6 * 3600 + 1800));
            self.push(when, Event::DirectDebit { c, bill: b, amount });
        }
    }

    /// What the customer has of their own: booked balance less holds, overdraft not counted.
    async fn own_money(&self, account: &AccountId) -> Result<Pence, LedgerError> {
        let b = self
            .ledger
            .balances(std::slice::from_ref(account))
            .await
            .map_err(core_error)?;
        Ok(b.first()
            .map(|b| b.booked - b.pending_debits)
            .unwrap_or(Pence::ZERO))
    }

    async fn save(
        &mut self,
        c: usize,
        pot: usize,
        amount: Pence,
        keep: Pence,
    ) -> Result<(), LedgerError> {
        let account = self.sims[c].account.clone();
        let pot_id = self.sims[c].pots[pot].id.clone();
        if amount.0 <= 0 || self.own_money(&account).await? < amount + keep {
            return Ok(());
        }
        afford(
            self.ledger
                .move_between_pot(&account, &pot_id, amount, true, None)
                .await,
        )?;
        Ok(())
    }

    async fn withdraw(
        &mut self,
        c: usize,
        pot: usize,
        at_most: Pence,
    ) -> Result<Pence, LedgerError> {
        let account = self.sims[c].account.clone();
        let pot_id = self.sims[c].pots[pot].id.clone();
        let amount = self.ledger.booked_balance(&pot_id).await?.min(at_most);
        if amount.0 <= 0 {
            return Ok(Pence::ZERO);
        }
        self.ledger
            .move_between_pot(&account, &pot_id, amount, false, None)
            .await?;
        Ok(amount)
    }

    async fn execute(&mut self, event: Event) -> Result<(), LedgerError> {
        match event {
            Event::Jobs => {
                self.ledger.run_daily_jobs().await?;
            }
            Event::Income {
                c,
                amount,
                from,
                reference,
                code,
            } => {
                let account = self.sims[c].account.clone();
                self.ledger
                    .receive_payment(
                        &account,
                        amount,
                        from.counterparty(),
                        Some(reference),
                        code,
                        None,
                    )
                    .await?;
                if matches!(self.sims[c].income, Income::Trade { .. }) {
                    let when = self.clock.now() + Duration::minutes(2);
                    self.push(
                        when,
                        Event::TaxSave {
                            c,
                            amount: pct(amount, 25),
                        },
                    );
                }
            }
            Event::PaydaySaving { c } => {
                for pot in 0..self.sims[c].pots.len() {
                    let (role, goal, id) = {
                        let p = &self.sims[c].pots[pot];
                        (p.role, p.goal, p.id.clone())
                    };
                    let monthly = match role {
                        PotRole::Save { monthly } | PotRole::Goal { monthly, .. } => monthly,
                        _ => continue,
                    };
                    if let Some(goal) = goal {
                        let have = self.ledger.booked_balance(&id).await?;
                        if have >= goal {
                            continue;
                        }
                    }
                    self.save(c, pot, monthly, Pence::from_pounds(400)).await?;
                }
                self.sweep_surplus(c).await?;
            }
            Event::DirectDebit { c, bill, amount } => {
                let mandate = self.sims[c].bills[bill].mandate.clone();
                // An unpaid direct debit is returned to the originator; the demo just skips it.
                afford(
                    self.ledger
                        .collect_direct_debit(&mandate, amount, None)
                        .await,
                )?;
            }
            Event::Card {
                c,
                shop,
                amount,
                essential,
            } => self.card(c, shop, amount, essential).await?,
            Event::Settle { txn, amount } => {
                self.ledger.settle_card(&txn, amount).await?;
            }
            Event::Release { txn } => self.ledger.release_card(&txn).await?,
            Event::RoundUps { c } => {
                if let Some(pot) = self.pot_with(c, |r| r == PotRole::RoundUps) {
                    let amount = self.pence(300, 1_500);
                    self.save(c, pot, amount, Pence::from_pounds(150)).await?;
                }
            }
            Event::TopUp { c } => {
                let account = self.sims[c].account.clone();
                let own = self.own_money(&account).await?;
                if own.0 < 0 {
                    let need = -own + self.pounds(50, 200);
                    let mut left = need;
                    for pot in 0..self.sims[c].pots.len() {
                        if left.0 <= 0 {
                            break;
                        }
                        if matches!(
                            self.sims[c].pots[pot].role,
                            PotRole::Save { .. } | PotRole::RoundUps
                        ) {
                            left = left - self.withdraw(c, pot, left).await?;
                        }
                    }
                }
            }
            Event::GoalSpend { c, pot } => {
                let christmas = matches!(
                    self.sims[c].pots[pot].role,
                    PotRole::Goal {
                        christmas: true,
                        ..
                    }
                );
                let got = self.withdraw(c, pot, Pence(i64::MAX)).await?;
                if got.0 > 0 {
                    let shops = if christmas { CHRISTMAS } else { HOLIDAY };
                    let now = self.clock.now();
                    for _ in 0..self.rng.random_range(2..=4) {
                        let shop = self.pick(shops);
                        let amount = match shop.settle {
                            Hold { hold } => Pence(hold),
                            _ => self.pence(shop.min, shop.max),
                        };
                        let when = now
                            + Duration::days(self.rng.random_range(0..=6))
                            + Duration::minutes(self.rng.random_range(30..600));
                        self.push(
                            when,
                            Event::Card {
                                c,
                                shop,
                                amount,
                                essential: false,
                            },
                        );
                    }
                }
            }
            Event::TaxSave { c, amount } => {
                if let Some(pot) = self.pot_with(c, |r| r == PotRole::Tax) {
                    self.save(c, pot, amount, Pence::from_pounds(100)).await?;
                }
            }
            Event::TaxPayment { c } => {
                let (Some(pot), Income::Trade { hmrc, utr, .. }) = (
                    self.pot_with(c, |r| r == PotRole::Tax),
                    &self.sims[c].income,
                ) else {
                    return Ok(());
                };
                let (hmrc, utr) = (hmrc.clone(), utr.clone());
                let pot_id = self.sims[c].pots[pot].id.clone();
                let saved = self.ledger.booked_balance(&pot_id).await?;
                let bill = Pence::from_pounds(pct(saved, 70).0 / 100);
                let got = self.withdraw(c, pot, bill).await?;
                if got.0 > 0 {
                    let account = self.sims[c].account.clone();
                    afford(
                        self.ledger
                            .send_payment(
                                &account,
                                &hmrc.creditor(),
                                got,
                                &utr,
                                ProprietaryCode::FasterPayment,
                                None,
                            )
                            .await,
                    )?;
                }
            }
            Event::PayFriend {
                c,
                friend,
                amount,
                reference,
            } => {
                let account = self.sims[c].account.clone();
                if self.own_money(&account).await? >= amount + Pence::from_pounds(50) {
                    let to = self.sims[c].friends[friend].creditor();
                    afford(
                        self.ledger
                            .send_payment(
                                &account,
                                &to,
                                amount,
                                reference,
                                ProprietaryCode::FasterPayment,
                                None,
                            )
                            .await,
                    )?;
                }
            }
            Event::FromFriend {
                c,
                friend,
                amount,
                reference,
            } => {
                let account = self.sims[c].account.clone();
                let from = self.sims[c].friends[friend].counterparty();
                self.ledger
                    .receive_payment(
                        &account,
                        amount,
                        from,
                        Some(reference.to_owned()),
                        ProprietaryCode::FasterPayment,
                        None,
                    )
                    .await?;
            }
            Event::Schedule {
                c,
                execute_on,
                amount,
                reference,
                to,
            } => {
                let account = self.sims[c].account.clone();
                self.ledger
                    .add_scheduled_payment(NewScheduledPayment {
                        account,
                        execute_on,
                        amount,
                        reference,
                        creditor_name: to.name.clone(),
                        creditor: to.ident,
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// Whatever is left over beyond a month's needs goes to savings, as a careful person
    /// (or an app's "save the rest" rule) would do; otherwise current accounts balloon.
    async fn sweep_surplus(&mut self, c: usize) -> Result<(), LedgerError> {
        let keep = match &self.sims[c].income {
            Income::Salary { net, .. } => *net + Pence::from_pounds(700),
            Income::Pension { .. } => Pence::from_pounds(3_000),
            Income::Trade { .. } => Pence::from_pounds(6_000),
        };
        let Some(pot) = self.pot_with(c, |r| {
            matches!(r, PotRole::Save { .. } | PotRole::Goal { spend: None, .. })
        }) else {
            return Ok(());
        };
        let account = self.sims[c].account.clone();
        let spare = self.own_money(&account).await? - keep;
        // Round pounds, like a person moving money by hand.
        let spare = Pence::from_pounds(spare.0 / 10_000 * 100);
        if spare.0 > 0 {
            self.save(c, pot, spare, keep).await?;
        }
        Ok(())
    }

    fn pot_with(&self, c: usize, want: impl Fn(PotRole) -> bool) -> Option<usize> {
        self.sims[c].pots.iter().position(|p| want(p.role))
    }

    async fn card(
        &mut self,
        c: usize,
        shop: &'static Shop,
        amount: Pence,
        essential: bool,
    ) -> Result<(), LedgerError> {
        let account = self.sims[c].account.clone();
        // Treats wait for payday; groceries and the commute go on the overdraft if they must.
        if !essential && self.own_money(&account).await? < amount + Pence::from_pounds(20) {
            return Ok(());
        }
        let merchant = Merchant {
            name: shop.name.to_owned(),
            category_code: shop.mcc.to_owned(),
        };
        let Some(txn) = afford(self.ledger.authorise_card(&account, amount, merchant).await)?
        else {
            return Ok(());
        };
        let settled = match shop.settle {
            Exact | Cancellable => amount,
            Tip => {
                let tip = *self.pick(&[0, 0, 10, 10, 12]);
                amount + pct(amount, tip)
            }
            Estimate => pct(amount, self.rng.random_range(88..=115)),
            Hold { hold } => self.pence(hold * 35 / 100, hold * 90 / 100),
        };
        let now = self.clock.now();
        let when = at(
            now.date() + Duration::days(self.rng.random_range(1..=3)),
            self.rng.random_range(2 * 3600..7 * 3600),
        );
        let cancelled = matches!(shop.settle, Cancellable) && self.rng.random_bool(0.04);
        if cancelled {
            self.push(when, Event::Release { txn });
        } else {
            self.push(
                when,
                Event::Settle {
                    txn,
                    amount: settled.max(Pence(1)),
                },
            );
        }
        Ok(())
    }
}
