//! The one generator: turns any persona's table into a customer with a current account, pots,
//! income, a standing order, direct debits, friends and booked-ahead payments, all through the
//! ledger's public API. `history.rs` then lives their months.

use std::collections::BTreeMap;
use std::sync::Arc;

use bascule_core_banking::Creditor;
use bascule_domain::{
    AccountId, AccountNumber, AccountType, Clock, Counterparty, DirectDebitId, Frequency,
    ManualClock, Pence, PostalAddress, ProductId, ProprietaryCode, SortCode, SortCodeAccountNumber,
};
use bascule_ledger::{
    Ledger, NewBeneficiary, NewCurrentAccount, NewCustomer, NewDirectDebit, NewOffer, NewPot,
    NewProduct, NewStandingOrder,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rust_decimal::Decimal;
use time::{Duration, Month, OffsetDateTime};

use crate::calendar::{at, clamp_day, working_day_before};
use crate::content::{Shop, Town};
use crate::history::{Booking, Event};
use crate::persona::{
    Amount, BillPattern, Biller, Day, Habit, Income, Payee, Persona, ProductKey, Purpose,
    Reference, Upcoming,
};
use crate::personas::{COMMUTE, Data};
use crate::{DemoCustomer, DemoError, DemoPot};

/// Builds the bank: the ledger it drives, the clock it moves, and the people it simulates.
pub(crate) struct Builder {
    pub data: &'static Data,
    pub ledger: Ledger,
    pub clock: Arc<ManualClock>,
    pub rng: StdRng,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub sims: Vec<Sim>,
    pub queue: BTreeMap<(OffsetDateTime, u64), Event>,
    pub seq: u64,
}

/// A customer being simulated: their persona resolved into accounts, parties and sums.
pub(crate) struct Sim {
    pub account: AccountId,
    /// Each habit with the shops it buys in.
    pub spending: Vec<(&'static Habit, &'static [Shop])>,
    pub subscriptions: Vec<(&'static Shop, u8)>,
    pub income: Earnings,
    pub bills: Vec<Bill>,
    pub pots: Vec<SimPot>,
    pub friends: Vec<Party>,
    pub summary: DemoCustomer,
}

/// A persona's income with its parties and sums drawn.
pub(crate) enum Earnings {
    Salary {
        employer: Party,
        reference: String,
        net: Pence,
        /// Clamped to the month's length; the working day before if a weekend.
        day: u8,
    },
    Pension {
        state: Party,
        reference: String,
        four_weekly: Pence,
        anchor: time::Date,
        private: Party,
        monthly: Pence,
    },
    Trade {
        clients: Vec<Party>,
        next_invoice: u32,
        hmrc: Party,
        utr: String,
        invoice_chance: f64,
        takings: &'static Amount,
        set_aside_percent: i64,
    },
}

pub(crate) struct Bill {
    pub mandate: DirectDebitId,
    pub day: u8,
    pub base: Pence,
    pub pattern: BillPattern,
}

/// A pot's purpose with its monthly sum drawn.
#[derive(Clone, Copy)]
pub(crate) enum PotRole {
    Save {
        monthly: Pence,
    },
    Goal {
        monthly: Pence,
        /// The month it is spent in, and the shops.
        spend: Option<(Month, &'static [Shop])>,
    },
    RoundUps,
    Fixed,
    Tax,
}

pub(crate) struct SimPot {
    pub id: AccountId,
    pub role: PotRole,
    pub goal: Option<Pence>,
}

/// Someone at another bank.
#[derive(Clone)]
pub(crate) struct Party {
    pub name: String,
    pub ident: SortCodeAccountNumber,
}

impl Party {
    pub fn counterparty(&self) -> Counterparty {
        Counterparty {
            name: self.name.clone(),
            sort_code: Some(self.ident.sort_code),
            account_number: Some(self.ident.account_number),
        }
    }

    pub fn creditor(&self) -> Creditor {
        Creditor {
            name: self.name.clone(),
            identification: self.ident,
        }
    }
}

/// The bank's products as created: id and the rate a pot on it earns.
struct Products(BTreeMap<ProductKey, (ProductId, Option<Decimal>)>);

impl Products {
    fn get(&self, key: ProductKey) -> Result<&(ProductId, Option<Decimal>), DemoError> {
        self.0
            .get(&key)
            .ok_or_else(|| DemoError::Invalid(format!("no product {key:?} in the product range")))
    }
}

pub(crate) fn invalid(e: impl std::fmt::Display) -> DemoError {
    DemoError::Invalid(e.to_string())
}

impl Builder {
    pub fn new(
        data: &'static Data,
        ledger: Ledger,
        clock: Arc<ManualClock>,
        seed: u64,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Self {
        Builder {
            data,
            ledger,
            clock,
            // A stream of its own, so content and identifiers do not perturb each other.
            rng: StdRng::seed_from_u64(seed ^ 0x6261_7363_756c_6521),
            start,
            end,
            sims: Vec::new(),
            queue: BTreeMap::new(),
            seq: 0,
        }
    }

    pub fn push(&mut self, when: OffsetDateTime, event: Event) {
        if when > self.start && when <= self.end {
            self.seq += 1;
            self.queue.insert((when, self.seq), event);
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.rng.random_range(0..items.len())]
    }

    pub fn pence(&mut self, min: i64, max: i64) -> Pence {
        Pence(self.rng.random_range(min..=max.max(min)))
    }

    /// Whole pounds: what people actually type for transfers and what bills usually are.
    pub fn pounds(&mut self, min: i64, max: i64) -> Pence {
        Pence::from_pounds(self.rng.random_range(min..=max.max(min)))
    }

    pub fn amount(&mut self, amount: &Amount) -> Pence {
        match amount {
            Amount::Fixed(p) => *p,
            Amount::FixedPounds(pounds) => Pence::from_pounds(*pounds),
            Amount::Pence(min, max) => self.pence(*min, *max),
            Amount::Pounds(min, max) => self.pounds(*min, *max),
            Amount::OneOf(sums) => *self.pick(sums),
        }
    }

    /// A byte of `letters`, as a character.
    fn letter(&mut self, letters: &str) -> char {
        char::from(*self.pick(letters.as_bytes()))
    }

    fn other_bank(&mut self) -> Result<SortCodeAccountNumber, DemoError> {
        let own = self.ledger.sort_code();
        loop {
            let data = self.data;
            let prefix = *self.pick(&data.bank.other.other_bank_prefixes);
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

    fn party(&mut self, name: impl Into<String>) -> Result<Party, DemoError> {
        Ok(Party {
            name: name.into(),
            ident: self.other_bank()?,
        })
    }

    fn person_name(&mut self, pool: &[String]) -> String {
        let data = self.data;
        format!(
            "{} {}",
            self.pick(pool),
            self.pick(&data.bank.names.surnames)
        )
    }

    async fn create_products(&mut self) -> Result<Products, DemoError> {
        let mut products = BTreeMap::new();
        for p in &self.data.bank.products {
            let id = self
                .ledger
                .create_product(NewProduct {
                    name: p.name.clone(),
                    kind: p.kind.account_kind(),
                    interest_rate: p.interest_rate,
                    monthly_fee: Pence::ZERO,
                    overdraft_rate: p.overdraft_rate,
                })
                .await?;
            products.insert(p.key, (id, p.interest_rate));
        }
        Ok(Products(products))
    }

    /// Opens the bank's products and `customers` customers, customer `i` played by persona
    /// `i % 5` of the cast.
    pub async fn setup(&mut self, customers: usize) -> Result<(), DemoError> {
        let data = self.data;
        let products = self.create_products().await?;
        // Distinct first names can be promised only up to the smallest pool's size.
        let smallest_pool = data
            .cast
            .iter()
            .map(|p| data.first_names(p.first_names).len())
            .min()
            .unwrap_or(0);
        let mut used_names = Vec::new();
        let mut used_phones = Vec::new();
        for index in 0..customers {
            // Customers join a few minutes apart, so their order is the order they joined.
            self.clock.advance(Duration::minutes(7));
            let persona = &data.cast[index % data.cast.len()];
            let name = loop {
                let n = self.person_name(data.first_names(persona.first_names));
                let first = n.split(' ').next().unwrap_or_default().to_owned();
                // Distinct first names too, so the people are easy to tell apart in a demo.
                let clash = used_names
                    .iter()
                    .any(|u: &String| u == &n || u.split(' ').next() == Some(first.as_str()));
                if !clash || used_names.len() >= smallest_pool {
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
            self.setup_customer(persona, name, phone, &products).await?;
        }
        Ok(())
    }

    async fn setup_customer(
        &mut self,
        persona: &'static Persona,
        name: String,
        phone: String,
        products: &Products,
    ) -> Result<(), DemoError> {
        let data = self.data;
        let today = self.clock.now().date();
        let age: i32 = self.rng.random_range(persona.age.0..=persona.age.1);
        let date_of_birth = clamp_day(
            today.year() - age,
            self.rng.random_range(1..=12),
            self.rng.random_range(1..=28),
        );
        let towns: Vec<&'static Town> = data
            .bank
            .towns
            .iter()
            .filter(|t| t.london || !persona.london_only)
            .collect();
        let town = *self.pick(&towns);
        let letters = &data.bank.other.postcode_unit_letters;
        let postcode = format!(
            "{} {}{}{}",
            town.district,
            self.rng.random_range(1..=9u8),
            self.letter(letters),
            self.letter(letters),
        );
        let street = self.pick(&town.streets);
        let mut lines = vec![format!("{} {street}", self.rng.random_range(2..=148i32))];
        if persona.flat {
            lines.insert(0, format!("Flat {}", self.rng.random_range(1..=12i32)));
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
                    town: town.name.clone(),
                    postcode,
                    country: "GB".to_owned(),
                },
            })
            .await?;

        let surname = name.rsplit(' ').next().unwrap_or("Smith").to_owned();
        let plan = &persona.current_account;
        let overdraft_limit = Pence::from_pounds(plan.overdraft_limit_pounds);
        let business_name = plan
            .business
            .then(|| format!("{surname} {}", self.pick(&data.bank.lists.trades)));
        let account_type = if plan.business {
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
                product: Some(products.get(plan.product)?.0.clone()),
            })
            .await?;
        let ident = account
            .identification
            .ok_or_else(|| DemoError::Invalid("current account without a number".into()))?;

        let switched = self.amount(&persona.switched_in);
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

        if let Some(offer) = &persona.offer {
            self.ledger
                .add_offer(NewOffer {
                    account: account.id.clone(),
                    kind: crate::personas::offer_kind(offer)?,
                    description: offer.description.clone(),
                    starts_at: self.clock.now(),
                    ends_at: self.end + Duration::days(offer.open_days_after_history),
                    amount: offer.amount_pounds.map(Pence::from_pounds),
                })
                .await?;
        }

        let (pots, demo_pots) = self.open_pots(persona, &account.id, products).await?;
        let income = self.income(persona, today)?;
        self.standing_order(persona, &account.id, &surname, today)
            .await?;
        let bills = self.bills(persona, town, &account.id).await?;

        let mut friends = Vec::new();
        for i in 0..self.rng.random_range(3..=4i32) {
            let friend_name = self.person_name(&data.bank.names.first);
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
        for name in &persona.subscriptions {
            let shop = data.subscription(name)?;
            subscriptions.push((shop, self.rng.random_range(1..=28u8)));
        }
        let commute = data.shops(&town.commute)?;
        let mut spending = Vec::new();
        for habit in &persona.spending {
            let shops = if habit.shops == COMMUTE {
                commute
            } else {
                data.shops(&habit.shops)?
            };
            spending.push((habit, shops));
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
            spending,
            subscriptions,
            income,
            bills,
            pots,
            friends,
            summary,
        });
        self.plan_one_offs(c, persona)?;
        Ok(())
    }

    async fn open_pots(
        &mut self,
        persona: &'static Persona,
        account: &AccountId,
        products: &Products,
    ) -> Result<(Vec<SimPot>, Vec<DemoPot>), DemoError> {
        let data = self.data;
        // Every sum is drawn before any pot is opened, in the table's order.
        let mut drawn = Vec::new();
        for pot in &persona.pots {
            let role = match &pot.purpose {
                Purpose::Save { monthly } => PotRole::Save {
                    monthly: self.amount(monthly),
                },
                Purpose::Goal { monthly, spend } => PotRole::Goal {
                    monthly: self.amount(monthly),
                    spend: match spend {
                        Some(spend) => Some((
                            Month::try_from(spend.month).map_err(invalid)?,
                            data.shops(&spend.at)?,
                        )),
                        None => None,
                    },
                },
                Purpose::RoundUps => PotRole::RoundUps,
                Purpose::Fixed => PotRole::Fixed,
                Purpose::Tax => PotRole::Tax,
            };
            drawn.push((pot, role, self.amount(&pot.opening)));
        }
        let mut pots = Vec::new();
        let mut demo_pots = Vec::new();
        for (plan, role, opening) in drawn {
            let (product, rate) = products.get(plan.product)?;
            let goal = plan.goal_pounds.map(Pence::from_pounds);
            let pot = self
                .ledger
                .open_pot(NewPot {
                    parent: account.clone(),
                    name: plan.name.clone(),
                    goal,
                    interest_rate: *rate,
                    product: Some(product.clone()),
                })
                .await?;
            if opening.0 > 0 {
                self.ledger
                    .move_between_pot(account, &pot.id, opening, true, None)
                    .await?;
            }
            demo_pots.push(DemoPot {
                id: pot.id.clone(),
                name: plan.name.clone(),
                interest_rate: *rate,
                goal,
            });
            pots.push(SimPot {
                id: pot.id,
                role,
                goal,
            });
        }
        Ok((pots, demo_pots))
    }

    fn income(
        &mut self,
        persona: &'static Persona,
        today: time::Date,
    ) -> Result<Earnings, DemoError> {
        let data = self.data;
        let lists = &data.bank.lists;
        let other = &data.bank.other;
        Ok(match &persona.income {
            Income::Pension {
                state,
                four_weekly,
                monthly,
            } => {
                let ni = format!(
                    "{}{}{:06}{}",
                    self.letter(&other.ni_prefix_letters),
                    self.letter(&other.ni_prefix_letters),
                    self.rng.random_range(0..1_000_000u32),
                    self.letter(&other.ni_suffixes)
                );
                let private = self.pick(&lists.pension_providers);
                Earnings::Pension {
                    state: self.party(state)?,
                    reference: format!("{ni} {state}"),
                    four_weekly: *four_weekly,
                    anchor: today + Duration::days(self.rng.random_range(1..=28)),
                    private: self.party(private)?,
                    monthly: self.amount(monthly),
                }
            }
            Income::Trade {
                private_clients,
                invoice_chance,
                takings,
                set_aside_percent,
            } => {
                let mut clients = Vec::new();
                for client in &lists.business_clients {
                    clients.push(self.party(client)?);
                }
                for _ in 0..*private_clients {
                    let title = self.pick(&lists.titles);
                    let initial = self.letter(&other.initials);
                    let who = format!("{title} {initial} {}", self.pick(&data.bank.names.surnames));
                    clients.push(self.party(who)?);
                }
                Earnings::Trade {
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
                    invoice_chance: *invoice_chance,
                    takings,
                    set_aside_percent: *set_aside_percent,
                }
            }
            Income::Salary { net } => {
                let employer = self.pick(&lists.employers);
                let net = self.amount(net);
                let day = *self.pick(&other.paydays);
                let short: String = employer
                    .split(' ')
                    .next()
                    .unwrap_or(employer)
                    .to_uppercase();
                Earnings::Salary {
                    employer: self.party(employer.as_str())?,
                    reference: format!("{short} SALARY"),
                    net,
                    day,
                }
            }
        })
    }

    async fn standing_order(
        &mut self,
        persona: &'static Persona,
        account: &AccountId,
        surname: &str,
        today: time::Date,
    ) -> Result<(), DemoError> {
        let plan = &persona.standing_order;
        let next_month = today
            + Duration::days(i64::from(
                today.month().length(today.year()) - today.day() + 1,
            ));
        let data = self.data;
        let names = &data.bank.names;
        let name = match &plan.payee {
            Payee::Named(name) => name.clone(),
            Payee::OneOf(names) => self.pick(names).clone(),
            Payee::Person { title, initials } => {
                format!(
                    "{title} {} {}",
                    self.pick(initials),
                    self.pick(&names.surnames)
                )
            }
            Payee::Relative => format!("{} {surname}", self.pick(&names.first)),
        };
        let reference = match &plan.reference {
            Reference::Fixed(reference) => reference.clone(),
            Reference::Numbered(prefix) => {
                format!("{prefix} {}", self.rng.random_range(100..999i32))
            }
        };
        let amount = self.amount(&plan.amount);
        let payee = self.party(name.clone())?;
        self.ledger
            .add_standing_order(NewStandingOrder {
                account: account.clone(),
                frequency: Frequency::Monthly {
                    months: 1,
                    day: plan.day,
                },
                reference: reference.clone(),
                creditor_name: name.clone(),
                creditor: payee.ident,
                amount,
                first_payment_on: clamp_day(
                    next_month.year(),
                    i32::from(u8::from(next_month.month())),
                    plan.day,
                ),
                final_payment_on: None,
            })
            .await?;
        self.ledger
            .add_beneficiary(NewBeneficiary {
                account: account.clone(),
                name,
                creditor: payee.ident,
                reference: Some(reference),
                trusted: true,
            })
            .await?;
        Ok(())
    }

    async fn bills(
        &mut self,
        persona: &'static Persona,
        town: &'static Town,
        account: &AccountId,
    ) -> Result<Vec<Bill>, DemoError> {
        let data = self.data;
        let lists = &data.bank.lists;
        // The household's providers, whichever of them its bills name.
        let energy = self.pick(&lists.energy_suppliers);
        let broadband = self.pick(&lists.broadband_providers);
        let mobile = self.pick(&lists.mobile_networks);
        let gym = self.pick(&lists.gyms);
        let mortgage = self.pick(&lists.mortgage_lenders);
        // Every day and sum is drawn before any mandate is set up, in the table's order.
        let mut drawn = Vec::new();
        for bill in &persona.bills {
            let bill = data.bill(bill)?;
            let originator = match &bill.biller {
                Biller::Council => &town.council,
                Biller::Water => &town.water,
                Biller::Energy => energy,
                Biller::Broadband => broadband,
                Biller::Mobile => mobile,
                Biller::Gym => gym,
                Biller::Mortgage => mortgage,
                Biller::Named(name) => name,
            };
            let day = match bill.day {
                Day::On(day) => day,
                Day::Between(first, last) => self.rng.random_range(first..=last),
            };
            drawn.push((originator, bill, day, self.amount(&bill.amount)));
        }
        let mut bills = Vec::new();
        for (originator, plan, day, base) in drawn {
            let mandate = self
                .ledger
                .add_direct_debit(NewDirectDebit {
                    account: account.clone(),
                    mandate_reference: format!(
                        "{} {:08}",
                        plan.mandate_prefix,
                        self.rng.random_range(0..100_000_000u32)
                    ),
                    originator_name: originator.clone(),
                })
                .await?;
            bills.push(Bill {
                mandate: mandate.id,
                day,
                base,
                pattern: plan.pattern,
            });
        }
        Ok(bills)
    }

    /// Scheduled payments: one in the past that the daily jobs paid, and one still to come.
    fn plan_one_offs(&mut self, c: usize, persona: &'static Persona) -> Result<(), DemoError> {
        let span = (self.end - self.start).whole_days();
        if span > 60 && self.rng.random_bool(0.6) {
            let execute_on =
                self.start.date() + Duration::days(self.rng.random_range(40..span - 20));
            let made = at(
                execute_on - Duration::days(self.rng.random_range(5..=20)),
                self.rng.random_range(19 * 3600..22 * 3600),
            );
            let data = self.data;
            let (who, reference) = self.pick(&data.bank.other.one_off_payees);
            let to = self.party(who.as_str())?;
            let amount = self.pounds(60, 350);
            let payment = Booking {
                execute_on,
                amount,
                reference: reference.clone(),
                to,
            };
            self.push(made, Event::Schedule { c, payment });
        }
        let made = self.end
            - Duration::days(self.rng.random_range(2..=6))
            - Duration::hours(self.rng.random_range(1..=9));
        let payment = match &persona.upcoming {
            None => return Ok(()),
            Some(Upcoming::SelfAssessment { amount }) => {
                let Earnings::Trade { hmrc, utr, .. } = &self.sims[c].income else {
                    return Err(DemoError::Invalid(
                        "a self assessment payment needs trade income".into(),
                    ));
                };
                let (to, reference) = (hmrc.clone(), utr.clone());
                let end = self.end.date();
                let mut due = clamp_day(end.year(), 1, 31);
                while due <= end + Duration::days(3) {
                    due = if due.month() == Month::January {
                        clamp_day(due.year(), 7, 31)
                    } else {
                        clamp_day(due.year() + 1, 1, 31)
                    };
                }
                Booking {
                    execute_on: working_day_before(due),
                    amount: self.amount(amount),
                    reference,
                    to,
                }
            }
            Some(Upcoming::Payment {
                to,
                reference,
                amount,
            }) => {
                let to = self.party(to.as_str())?;
                let execute_on = self.end.date() + Duration::days(self.rng.random_range(5..=40));
                Booking {
                    execute_on,
                    amount: self.amount(amount),
                    reference: reference.clone(),
                    to,
                }
            }
        };
        self.push(made, Event::Schedule { c, payment });
        Ok(())
    }
}
