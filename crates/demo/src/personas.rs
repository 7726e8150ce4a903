//! The demo bank's products and its five personas, one table each. Customer `i` of the demo is
//! `CAST[i % 5]`.

use bascule_domain::{AccountKind, Pence};
use time::Month;

use crate::content::{
    BIG_SHOP, BUSINESS_CLIENTS, CHRISTMAS, COFFEE, EMPLOYERS, FIRST_NAMES, FUEL, GARDEN, HEALTH,
    HOLIDAY, LEISURE, LUNCH, NETFLIX, OLDER_FIRST_NAMES, ONLINE, PAYDAYS, PENSION_PROVIDERS, PUB,
    RESTAURANT, SPOTIFY, TAKEAWAY, TAXI, TOP_UP_SHOP, TRADE_COUNTER, TRADES,
};
use crate::persona::{
    Amount, Bill, BillPattern, Biller, CurrentAccount, Day, GoalSpend, Home, Income, Payee,
    Persona, Pot, Product, ProductKey, Purpose, Reference, Shops, StandingOrder, Upcoming, habit,
    pounds, rate,
};

use Shops::{At, Commute};

/// The bank's product range, created in this order.
pub const PRODUCTS: &[Product] = &[
    Product {
        key: ProductKey::PersonalCurrent,
        name: "Bascule Current Account",
        kind: AccountKind::CurrentAccount,
        interest_rate: None,
        overdraft_rate: Some(rate(3990)),
    },
    Product {
        key: ProductKey::BusinessCurrent,
        name: "Bascule Business Account",
        kind: AccountKind::CurrentAccount,
        interest_rate: None,
        overdraft_rate: Some(rate(1490)),
    },
    Product {
        key: ProductKey::InstantAccess,
        name: "Instant Access Pot",
        kind: AccountKind::Savings,
        interest_rate: None,
        overdraft_rate: None,
    },
    Product {
        key: ProductKey::Saver,
        name: "Savings Pot",
        kind: AccountKind::Savings,
        interest_rate: Some(rate(375)),
        overdraft_rate: None,
    },
    Product {
        key: ProductKey::FixedRate,
        name: "Fixed Rate Pot 1 Year",
        kind: AccountKind::Savings,
        interest_rate: Some(rate(440)),
        overdraft_rate: None,
    },
    Product {
        key: ProductKey::BusinessSaver,
        name: "Business Saver Pot",
        kind: AccountKind::Savings,
        interest_rate: Some(rate(250)),
        overdraft_rate: None,
    },
];

pub const CAST: [&Persona; 5] = [&RENTER, &SOLE_TRADER, &HOMEOWNER, &GRADUATE, &RETIREE];

// The bills most households pay, in the order their mandates are set up.
const COUNCIL_TAX: Bill = Bill {
    biller: Biller::Council,
    mandate_prefix: "CTAX",
    day: Day::On(1),
    amount: Amount::Pence(12_500, 21_000),
    pattern: BillPattern::CouncilTax,
};
const ENERGY: Bill = Bill {
    biller: Biller::Energy,
    mandate_prefix: "ENERGY",
    day: Day::Between(3, 20),
    amount: Amount::Pounds(70, 120),
    pattern: BillPattern::Energy,
};
const BROADBAND: Bill = Bill {
    biller: Biller::Broadband,
    mandate_prefix: "BB",
    day: Day::Between(8, 24),
    amount: Amount::Pence(2_500, 5_500),
    pattern: BillPattern::Monthly,
};
const MOBILE: Bill = Bill {
    biller: Biller::Mobile,
    mandate_prefix: "MOB",
    day: Day::Between(10, 27),
    amount: Amount::Pence(1_000, 3_500),
    pattern: BillPattern::Monthly,
};
const WATER: Bill = Bill {
    biller: Biller::Water,
    mandate_prefix: "WATER",
    day: Day::Between(1, 15),
    amount: Amount::Pence(3_200, 5_200),
    pattern: BillPattern::Monthly,
};
const GYM: Bill = Bill {
    biller: Biller::Gym,
    mandate_prefix: "GYM",
    day: Day::Between(1, 28),
    amount: Amount::OneOf(&[Pence(2_299), Pence(2_499), Pence(2_999)]),
    pattern: BillPattern::Monthly,
};

/// Rents a flat in London, commutes, eats out, saves for a summer holiday.
pub const RENTER: Persona = Persona {
    first_names: FIRST_NAMES,
    age: (26, 38),
    home: Home {
        london_only: true,
        flat: true,
    },
    current_account: CurrentAccount {
        product: ProductKey::PersonalCurrent,
        overdraft_limit: pounds(500),
        trading_as: None,
    },
    switched_in: Amount::Pounds(2_500, 4_000),
    pots: &[
        Pot {
            name: "Rainy Day",
            product: ProductKey::Saver,
            goal: Some(pounds(15_000)),
            purpose: Purpose::Save {
                monthly: Amount::Pounds(150, 300),
            },
            opening: Amount::Pounds(600, 1_500),
        },
        Pot {
            name: "Holiday",
            product: ProductKey::InstantAccess,
            goal: Some(pounds(1_500)),
            purpose: Purpose::Goal {
                monthly: Amount::Pounds(100, 180),
                spend: Some(GoalSpend {
                    month: Month::August,
                    at: HOLIDAY,
                }),
            },
            opening: Amount::Fixed(pounds(200)),
        },
        Pot {
            name: "Round-ups",
            product: ProductKey::InstantAccess,
            goal: None,
            purpose: Purpose::RoundUps,
            opening: Amount::Fixed(Pence::ZERO),
        },
    ],
    income: Income::Salary {
        employers: EMPLOYERS,
        net: Amount::Pounds(3_050, 3_500),
        paydays: PAYDAYS,
    },
    standing_order: StandingOrder {
        payee: Payee::OneOf(&["Harlow & Finch Lettings", "Greenleaf Property Mgmt"]),
        reference: Reference::Numbered("RENT"),
        amount: Amount::Pounds(1_150, 1_400),
        day: 1,
    },
    bills: &[COUNCIL_TAX, ENERGY, BROADBAND, MOBILE, WATER, GYM],
    subscriptions: &[&NETFLIX, &SPOTIFY],
    spending: &[
        habit(At(BIG_SHOP), 0.10, 0.30, (10, 20), true),
        habit(At(TOP_UP_SHOP), 0.25, 0.20, (17, 21), true),
        habit(At(COFFEE), 0.40, 0.15, (7, 10), false),
        habit(At(LUNCH), 0.25, 0.05, (12, 14), false),
        habit(Commute, 0.75, 0.20, (7, 9), true),
        habit(At(RESTAURANT), 0.04, 0.15, (18, 22), false),
        habit(At(PUB), 0.06, 0.25, (17, 23), false),
        habit(At(TAKEAWAY), 0.04, 0.10, (19, 22), false),
        habit(At(ONLINE), 0.06, 0.06, (19, 23), false),
        habit(At(HEALTH), 0.05, 0.05, (9, 19), false),
        habit(At(LEISURE), 0.02, 0.06, (11, 21), false),
        habit(At(TAXI), 0.01, 0.06, (21, 23), false),
    ],
    upcoming: Some(Upcoming::Payment {
        to: "Harlow & Finch Lettings",
        reference: "HOLDING DEPOSIT",
        amount: Amount::Pounds(120, 650),
    }),
};

/// A tradesperson with a business account: invoices in, trade counters and fuel out, a pot for
/// the tax bill.
pub const SOLE_TRADER: Persona = Persona {
    first_names: FIRST_NAMES,
    age: (33, 55),
    home: Home {
        london_only: false,
        flat: false,
    },
    current_account: CurrentAccount {
        product: ProductKey::BusinessCurrent,
        overdraft_limit: pounds(1_500),
        trading_as: Some(TRADES),
    },
    switched_in: Amount::Pounds(4_000, 6_500),
    pots: &[
        Pot {
            name: "Tax",
            product: ProductKey::BusinessSaver,
            goal: None,
            purpose: Purpose::Tax,
            opening: Amount::Pounds(1_500, 2_500),
        },
        Pot {
            name: "New Van",
            product: ProductKey::InstantAccess,
            goal: Some(pounds(12_000)),
            purpose: Purpose::Goal {
                monthly: Amount::Pounds(200, 400),
                spend: None,
            },
            opening: Amount::Fixed(pounds(1_000)),
        },
    ],
    income: Income::Trade {
        clients: BUSINESS_CLIENTS,
        private_clients: 4,
        invoice_chance: 0.30,
        takings: Amount::Pence(18_000, 160_000),
        set_aside_percent: 25,
    },
    standing_order: StandingOrder {
        payee: Payee::Named("Canal Street Workshops"),
        reference: Reference::Fixed("UNIT 4 RENT"),
        amount: Amount::Fixed(pounds(450)),
        day: 1,
    },
    bills: &[
        COUNCIL_TAX,
        ENERGY,
        BROADBAND,
        MOBILE,
        WATER,
        Bill {
            biller: Biller::Named("Simply Business"),
            mandate_prefix: "INS",
            day: Day::On(12),
            amount: Amount::Pence(3_800, 6_500),
            pattern: BillPattern::Monthly,
        },
        Bill {
            biller: Biller::Named("Lex Autolease"),
            mandate_prefix: "VAN LEASE",
            day: Day::On(3),
            amount: Amount::Pounds(290, 380),
            pattern: BillPattern::Monthly,
        },
    ],
    subscriptions: &[&SPOTIFY],
    spending: &[
        habit(At(TRADE_COUNTER), 0.30, 0.05, (7, 16), true),
        habit(At(FUEL), 0.12, 0.04, (7, 18), true),
        habit(At(LUNCH), 0.35, 0.05, (11, 14), false),
        habit(At(COFFEE), 0.30, 0.05, (6, 9), false),
        habit(At(BIG_SHOP), 0.05, 0.35, (10, 19), true),
        habit(At(ONLINE), 0.05, 0.05, (19, 23), false),
        habit(At(PUB), 0.03, 0.15, (18, 23), false),
    ],
    upcoming: Some(Upcoming::SelfAssessment {
        amount: Amount::Pounds(1_200, 2_400),
    }),
};

/// A salaried family with a mortgage, a car, an emergency fund and a Christmas pot.
pub const HOMEOWNER: Persona = Persona {
    first_names: FIRST_NAMES,
    age: (33, 55),
    home: Home {
        london_only: false,
        flat: false,
    },
    current_account: CurrentAccount {
        product: ProductKey::PersonalCurrent,
        overdraft_limit: Pence::ZERO,
        trading_as: None,
    },
    switched_in: Amount::Pounds(8_500, 12_000),
    pots: &[
        Pot {
            name: "Emergency Fund",
            product: ProductKey::Saver,
            goal: Some(pounds(30_000)),
            purpose: Purpose::Save {
                monthly: Amount::Pounds(200, 350),
            },
            opening: Amount::Pounds(2_000, 4_000),
        },
        Pot {
            name: "Christmas",
            product: ProductKey::InstantAccess,
            goal: Some(pounds(600)),
            purpose: Purpose::Goal {
                monthly: Amount::Fixed(pounds(50)),
                spend: Some(GoalSpend {
                    month: Month::December,
                    at: CHRISTMAS,
                }),
            },
            opening: Amount::Fixed(Pence::ZERO),
        },
        Pot {
            name: "Fixed 1 Year",
            product: ProductKey::FixedRate,
            goal: None,
            purpose: Purpose::Fixed,
            opening: Amount::Fixed(pounds(5_000)),
        },
        Pot {
            name: "Home Improvements",
            product: ProductKey::InstantAccess,
            goal: Some(pounds(4_000)),
            purpose: Purpose::Goal {
                monthly: Amount::Pounds(80, 150),
                spend: None,
            },
            opening: Amount::Fixed(pounds(300)),
        },
    ],
    income: Income::Salary {
        employers: EMPLOYERS,
        net: Amount::Pounds(3_900, 4_600),
        paydays: PAYDAYS,
    },
    standing_order: StandingOrder {
        payee: Payee::Relative,
        reference: Reference::Fixed("POCKET MONEY"),
        amount: Amount::Fixed(pounds(40)),
        day: 5,
    },
    bills: &[
        COUNCIL_TAX,
        ENERGY,
        BROADBAND,
        MOBILE,
        WATER,
        Bill {
            biller: Biller::Mortgage,
            mandate_prefix: "MORTGAGE",
            day: Day::On(1),
            amount: Amount::Pounds(950, 1_350),
            pattern: BillPattern::Monthly,
        },
        Bill {
            biller: Biller::Named("TV Licensing"),
            mandate_prefix: "TVL",
            day: Day::Between(1, 28),
            amount: Amount::Fixed(Pence(1_454)),
            pattern: BillPattern::Monthly,
        },
    ],
    subscriptions: &[&NETFLIX],
    spending: &[
        habit(At(BIG_SHOP), 0.10, 0.45, (9, 20), true),
        habit(At(TOP_UP_SHOP), 0.20, 0.15, (17, 21), true),
        habit(At(COFFEE), 0.25, 0.20, (8, 11), false),
        habit(Commute, 0.40, 0.10, (7, 9), true),
        habit(At(FUEL), 0.06, 0.10, (8, 19), true),
        habit(At(RESTAURANT), 0.03, 0.12, (18, 21), false),
        habit(At(TAKEAWAY), 0.03, 0.10, (18, 21), false),
        habit(At(ONLINE), 0.08, 0.08, (20, 23), false),
        habit(At(HEALTH), 0.06, 0.06, (9, 18), false),
        habit(At(LEISURE), 0.02, 0.08, (10, 18), false),
    ],
    upcoming: Some(Upcoming::Payment {
        to: "Little Acorns Nursery",
        reference: "TERM FEES",
        amount: Amount::Pounds(120, 650),
    }),
};

/// In a first job, renting a room in London, saving for a deposit, out most weekends.
pub const GRADUATE: Persona = Persona {
    first_names: FIRST_NAMES,
    age: (22, 27),
    home: Home {
        london_only: true,
        flat: true,
    },
    current_account: CurrentAccount {
        product: ProductKey::PersonalCurrent,
        overdraft_limit: pounds(1_000),
        trading_as: None,
    },
    switched_in: Amount::Pounds(600, 1_200),
    pots: &[
        Pot {
            name: "House Deposit",
            product: ProductKey::Saver,
            goal: Some(pounds(25_000)),
            purpose: Purpose::Save {
                monthly: Amount::Pounds(80, 150),
            },
            opening: Amount::Pounds(300, 800),
        },
        Pot {
            name: "Round-ups",
            product: ProductKey::InstantAccess,
            goal: None,
            purpose: Purpose::RoundUps,
            opening: Amount::Fixed(Pence::ZERO),
        },
    ],
    income: Income::Salary {
        employers: EMPLOYERS,
        net: Amount::Pounds(2_050, 2_350),
        paydays: PAYDAYS,
    },
    standing_order: StandingOrder {
        payee: Payee::Person {
            title: "Mr",
            initials: &["D", "A", "R", "J"],
        },
        reference: Reference::Fixed("RENT ROOM 2"),
        amount: Amount::Pounds(720, 880),
        day: 1,
    },
    bills: &[COUNCIL_TAX, ENERGY, BROADBAND, MOBILE, GYM],
    subscriptions: &[&NETFLIX, &SPOTIFY],
    spending: &[
        habit(At(TOP_UP_SHOP), 0.35, 0.30, (17, 22), true),
        habit(At(BIG_SHOP), 0.04, 0.20, (11, 19), true),
        habit(At(COFFEE), 0.45, 0.25, (8, 10), false),
        habit(At(LUNCH), 0.30, 0.05, (12, 14), false),
        habit(Commute, 0.80, 0.30, (7, 9), true),
        habit(At(PUB), 0.10, 0.35, (18, 23), false),
        habit(At(TAKEAWAY), 0.06, 0.15, (19, 23), false),
        habit(At(TAXI), 0.02, 0.08, (22, 23), false),
        habit(At(ONLINE), 0.04, 0.04, (20, 23), false),
        habit(At(LEISURE), 0.02, 0.06, (12, 21), false),
    ],
    upcoming: None,
};

/// On the state pension and a private one, with savings, a fixed-rate pot and grandchildren.
pub const RETIREE: Persona = Persona {
    first_names: OLDER_FIRST_NAMES,
    age: (67, 79),
    home: Home {
        london_only: false,
        flat: false,
    },
    current_account: CurrentAccount {
        product: ProductKey::PersonalCurrent,
        overdraft_limit: Pence::ZERO,
        trading_as: None,
    },
    switched_in: Amount::Pounds(26_000, 34_000),
    pots: &[
        Pot {
            name: "Fixed 1 Year",
            product: ProductKey::FixedRate,
            goal: None,
            purpose: Purpose::Fixed,
            opening: Amount::Fixed(pounds(20_000)),
        },
        Pot {
            name: "Savings",
            product: ProductKey::Saver,
            goal: None,
            purpose: Purpose::Save {
                monthly: Amount::Pounds(100, 200),
            },
            opening: Amount::Pounds(3_000, 5_000),
        },
        Pot {
            name: "Grandchildren",
            product: ProductKey::InstantAccess,
            goal: Some(pounds(500)),
            purpose: Purpose::Goal {
                monthly: Amount::Fixed(pounds(40)),
                spend: Some(GoalSpend {
                    month: Month::December,
                    at: CHRISTMAS,
                }),
            },
            opening: Amount::Fixed(pounds(100)),
        },
    ],
    income: Income::Pension {
        state: "DWP SP",
        four_weekly: Pence(92_100),
        providers: PENSION_PROVIDERS,
        monthly: Amount::Pounds(700, 1_300),
    },
    standing_order: StandingOrder {
        payee: Payee::Relative,
        reference: Reference::Fixed("JUNIOR ISA"),
        amount: Amount::Fixed(pounds(25)),
        day: 15,
    },
    bills: &[
        COUNCIL_TAX,
        ENERGY,
        BROADBAND,
        MOBILE,
        WATER,
        Bill {
            biller: Biller::Named("RSPB"),
            mandate_prefix: "MEMBER",
            day: Day::Between(1, 28),
            amount: Amount::Fixed(Pence(600)),
            pattern: BillPattern::Monthly,
        },
    ],
    subscriptions: &[],
    spending: &[
        habit(At(BIG_SHOP), 0.15, 0.10, (9, 12), true),
        habit(At(TOP_UP_SHOP), 0.20, 0.10, (9, 16), true),
        habit(At(GARDEN), 0.06, 0.12, (10, 16), false),
        habit(At(COFFEE), 0.10, 0.10, (10, 15), false),
        habit(At(FUEL), 0.05, 0.03, (9, 16), true),
        habit(At(LEISURE), 0.04, 0.04, (10, 17), false),
        habit(At(RESTAURANT), 0.02, 0.06, (12, 14), false),
    ],
    upcoming: Some(Upcoming::Payment {
        to: "The Old Barn Weddings",
        reference: "BALANCE",
        amount: Amount::Pounds(120, 650),
    }),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_persona_banks_on_products_the_bank_sells() {
        let sold = |key: ProductKey, kind: AccountKind| {
            PRODUCTS.iter().any(|p| p.key == key && p.kind == kind)
        };
        for persona in CAST {
            assert!(sold(
                persona.current_account.product,
                AccountKind::CurrentAccount
            ));
            assert!((2..=4).contains(&persona.pots.len()));
            for pot in persona.pots {
                assert!(sold(pot.product, AccountKind::Savings), "{}", pot.name);
            }
        }
    }

    #[test]
    fn only_trade_income_books_a_self_assessment_payment() {
        for persona in CAST {
            if let Some(Upcoming::SelfAssessment { .. }) = persona.upcoming {
                assert!(matches!(persona.income, Income::Trade { .. }));
            }
        }
    }

    #[test]
    fn the_cast_has_one_business_customer() {
        let business = CAST
            .iter()
            .filter(|p| p.current_account.trading_as.is_some())
            .count();
        assert_eq!(business, 1);
    }
}
