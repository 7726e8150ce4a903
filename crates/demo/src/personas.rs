//! The demo's data, embedded and parsed once: the bank (`data/bank.toml`) and its five personas
//! (`data/personas/*.toml`, one table each). Customer `i` of the demo is `cast[i % 5]`. Every
//! name a table uses (a product, a group of shops, a usual bill) is checked when the data loads.

use std::sync::LazyLock;

use bascule_domain::{AccountKind, OfferKind};

use crate::DemoError;
use crate::content::{Bank, Product, Shop};
use crate::persona::{Bill, BillRef, NamePool, Persona, ProductKey, Purpose, Upcoming};

const BANK: &str = include_str!("../data/bank.toml");

/// In the order customers are dealt them.
const CAST: [(&str, &str); 5] = [
    ("renter", include_str!("../data/personas/renter.toml")),
    (
        "sole_trader",
        include_str!("../data/personas/sole_trader.toml"),
    ),
    ("homeowner", include_str!("../data/personas/homeowner.toml")),
    ("graduate", include_str!("../data/personas/graduate.toml")),
    ("retiree", include_str!("../data/personas/retiree.toml")),
];

/// The habit `shops` that means the customer's town's commute.
pub const COMMUTE: &str = "commute";

pub struct Data {
    pub bank: Bank,
    pub cast: Vec<Persona>,
}

static DATA: LazyLock<Result<Data, String>> = LazyLock::new(load);

/// The parsed and checked data; an error names the file and what is wrong in it.
pub fn data() -> Result<&'static Data, DemoError> {
    DATA.as_ref().map_err(|e| DemoError::Invalid(e.clone()))
}

fn load() -> Result<Data, String> {
    let bank: Bank = toml::from_str(BANK).map_err(|e| format!("bank.toml: {e}"))?;
    let mut cast = Vec::new();
    for (name, text) in CAST {
        cast.push(toml::from_str(text).map_err(|e| format!("personas/{name}.toml: {e}"))?);
    }
    let data = Data { bank, cast };
    for town in &data.bank.towns {
        data.shops(&town.commute).map_err(|e| e.to_string())?;
    }
    for ((name, _), persona) in CAST.iter().zip(&data.cast) {
        data.check(persona)
            .map_err(|e| format!("personas/{name}.toml: {e}"))?;
    }
    Ok(data)
}

impl Data {
    pub fn shops(&self, name: &str) -> Result<&[Shop], DemoError> {
        self.bank
            .shops
            .get(name)
            .filter(|shops| !shops.is_empty())
            .map(Vec::as_slice)
            .ok_or_else(|| DemoError::Invalid(format!("no shops `{name}`")))
    }

    pub fn subscription(&self, name: &str) -> Result<&Shop, DemoError> {
        self.bank
            .subscriptions
            .get(name)
            .ok_or_else(|| DemoError::Invalid(format!("no subscription `{name}`")))
    }

    pub fn bill<'a>(&'a self, bill: &'a BillRef) -> Result<&'a Bill, DemoError> {
        match bill {
            BillRef::Own(bill) => Ok(bill),
            BillRef::Usual(name) => self
                .bank
                .bills
                .get(name)
                .ok_or_else(|| DemoError::Invalid(format!("no usual bill `{name}`"))),
        }
    }

    pub fn product(&self, key: ProductKey) -> Result<&Product, DemoError> {
        self.bank
            .products
            .iter()
            .find(|p| p.key == key)
            .ok_or_else(|| DemoError::Invalid(format!("no product {key:?}")))
    }

    pub fn first_names(&self, pool: NamePool) -> &[String] {
        match pool {
            NamePool::First => &self.bank.names.first,
            NamePool::OlderFirst => &self.bank.names.older_first,
        }
    }

    fn check(&self, persona: &Persona) -> Result<(), DemoError> {
        let current = self.product(persona.current_account.product)?;
        if current.kind.account_kind() != AccountKind::CurrentAccount {
            return Err(DemoError::Invalid(
                "the current account is not on one".into(),
            ));
        }
        for pot in &persona.pots {
            if self.product(pot.product)?.kind.account_kind() != AccountKind::Savings {
                return Err(DemoError::Invalid(format!(
                    "pot {} is not on savings",
                    pot.name
                )));
            }
            if let Purpose::Goal {
                spend: Some(spend), ..
            } = &pot.purpose
            {
                self.shops(&spend.at)?;
                time::Month::try_from(spend.month)
                    .map_err(|e| DemoError::Invalid(e.to_string()))?;
            }
        }
        for habit in &persona.spending {
            if habit.shops != COMMUTE {
                self.shops(&habit.shops)?;
            }
        }
        for name in &persona.subscriptions {
            self.subscription(name)?;
        }
        for bill in &persona.bills {
            self.bill(bill)?;
        }
        if let Some(offer) = &persona.offer {
            offer_kind(offer)?;
            if !(1..=500).contains(&offer.description.chars().count())
                || offer.open_days_after_history < 1
            {
                return Err(DemoError::Invalid(
                    "an offer needs a description of 1 to 500 characters and open days".into(),
                ));
            }
        }
        if matches!(persona.upcoming, Some(Upcoming::SelfAssessment { .. }))
            && !matches!(persona.income, crate::persona::Income::Trade { .. })
        {
            return Err(DemoError::Invalid(
                "a self assessment payment needs trade income".into(),
            ));
        }
        Ok(())
    }
}

/// The ledger's kind of a persona's offer.
pub(crate) fn offer_kind(offer: &crate::persona::Offer) -> Result<OfferKind, DemoError> {
    OfferKind::parse(&offer.kind)
        .ok_or_else(|| DemoError::Invalid(format!("unknown offer kind {}", offer.kind)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_files_parse_and_every_name_they_use_resolves() {
        let data = data();
        assert!(data.is_ok(), "{:?}", data.err());
    }

    #[test]
    fn every_persona_has_two_to_four_pots() {
        for persona in &data().unwrap().cast {
            assert!((2..=4).contains(&persona.pots.len()));
        }
    }

    #[test]
    fn the_cast_has_one_business_customer() {
        let cast = &data().unwrap().cast;
        let business = cast.iter().filter(|p| p.current_account.business).count();
        assert_eq!(cast.len(), 5);
        assert_eq!(business, 1);
    }
}
