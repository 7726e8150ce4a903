//! The bank every persona banks with (`data/bank.toml`): its products, and the content they
//! draw from — people's names, towns, shops and the companies that send bills.

use std::collections::BTreeMap;

use bascule_domain::AccountKind;
use rust_decimal::Decimal;
use serde::Deserialize;

use crate::persona::{Bill, ProductKey};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bank {
    /// Created in this order.
    pub products: Vec<Product>,
    pub names: Names,
    pub towns: Vec<Town>,
    /// Card spending by kind of shop.
    pub shops: BTreeMap<String, Vec<Shop>>,
    pub subscriptions: BTreeMap<String, Shop>,
    pub lists: Lists,
    pub other: Other,
    /// The bills most households pay, which a persona names.
    pub bills: BTreeMap<String, Bill>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub key: ProductKey,
    pub name: String,
    pub kind: ProductKind,
    /// Gross annual rate a pot on this product earns.
    #[serde(default)]
    pub interest_rate: Option<Decimal>,
    #[serde(default)]
    pub overdraft_rate: Option<Decimal>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    CurrentAccount,
    Savings,
}

impl ProductKind {
    pub fn account_kind(self) -> AccountKind {
        match self {
            Self::CurrentAccount => AccountKind::CurrentAccount,
            Self::Savings => AccountKind::Savings,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    pub first: Vec<String>,
    pub older_first: Vec<String>,
    pub surnames: Vec<String>,
}

/// Where a customer lives: the address, the council and water company that bill them, and the
/// shops of their commute.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Town {
    pub name: String,
    pub district: String,
    pub streets: Vec<String>,
    pub council: String,
    pub water: String,
    pub london: bool,
    pub commute: String,
}

/// A merchant and what a purchase there costs (in pence).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shop {
    pub name: String,
    /// ISO 18245 merchant category code.
    pub mcc: String,
    pub min: i64,
    pub max: i64,
    pub settle: Settle,
}

/// How a card authorisation turns into a settlement.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settle {
    Exact,
    /// Restaurants: the tip is added after the authorisation.
    Tip,
    /// Taxis: the fare is estimated up front.
    Estimate,
    /// Fuel pumps and hotels hold a round sum and settle for what was used.
    Hold(i64),
    /// Online orders are now and then cancelled before dispatch.
    Cancellable,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    pub energy_suppliers: Vec<String>,
    pub broadband_providers: Vec<String>,
    pub mobile_networks: Vec<String>,
    pub gyms: Vec<String>,
    pub mortgage_lenders: Vec<String>,
    pub employers: Vec<String>,
    pub pension_providers: Vec<String>,
    pub trades: Vec<String>,
    pub business_clients: Vec<String>,
    pub titles: Vec<String>,
    pub to_friend: Vec<String>,
    pub from_friend: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Other {
    /// Days of the month salaries are paid (31: the last day).
    pub paydays: Vec<u8>,
    pub initials: String,
    /// Payee and reference of one-off payments booked ahead.
    pub one_off_payees: Vec<(String, String)>,
    pub other_bank_prefixes: Vec<u32>,
    pub postcode_unit_letters: String,
    pub ni_prefix_letters: String,
    pub ni_suffixes: String,
}
