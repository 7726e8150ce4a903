//! `/offers` and `/accounts/{AccountId}/offers` (v3.1.11, `OBReadOffer1`, needs `ReadOffers`):
//! the offers the bank makes on the consented accounts (a higher overdraft, a promotional
//! rate ...), from the core; none is the empty list the spec asks for when there is no data
//! (RW §HTTP Status Codes: 200 with an empty array).

use axum::Router;
use bascule_domain::aisp::Permission;
use bascule_domain::{AccountId, Offer, OfferKind};
use bascule_http::Error;
use serde::Serialize;

use super::per_account::{self, AccountResource};
use super::wire::{Amount, DateTime};
use crate::currencies::{currencies, currency_of};
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    per_account::routes::<Offers>()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OfferData {
    /// `OBReadOffer1.Data.Offer[]`: always present, maybe empty.
    offer: Vec<ObOffer1>,
}

/// `OBReadOffer1.Data.Offer[]`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObOffer1 {
    account_id: String,
    offer_id: String,
    offer_type: &'static str,
    description: String,
    start_date_time: DateTime,
    end_date_time: DateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount: Option<Amount>,
}

/// The schema's `OfferType` code.
fn offer_type(kind: OfferKind) -> &'static str {
    match kind {
        OfferKind::BalanceTransfer => "BalanceTransfer",
        OfferKind::LimitIncrease => "LimitIncrease",
        OfferKind::MoneyTransfer => "MoneyTransfer",
        OfferKind::PromotionalRate => "PromotionalRate",
        OfferKind::Other => "Other",
    }
}

fn map(o: &Offer, currency: bascule_domain::Currency) -> ObOffer1 {
    ObOffer1 {
        account_id: o.account_id.to_string(),
        offer_id: o.id.to_string(),
        offer_type: offer_type(o.kind),
        description: o.description.clone(),
        start_date_time: DateTime(o.starts_at),
        end_date_time: DateTime(o.ends_at),
        amount: o.amount.map(|p| Amount::of(p, currency)),
    }
}

struct Offers;

impl AccountResource for Offers {
    const PATH: &'static str = "/offers";
    type Grant = ();
    type Data = OfferData;

    fn grant(access: &Access) -> Result<(), Error> {
        access.require_that(
            access.permissions.contains(Permission::ReadOffers),
            "ReadOffers",
        )
    }

    async fn read(aisp: &Aisp, _: (), accounts: &[AccountId]) -> Result<OfferData, Error> {
        let found = aisp
            .core_banking()
            .offers(accounts)
            .await
            .map_err(core_error)?;
        let currencies = currencies(aisp, accounts).await?;
        let offer = found
            .iter()
            .map(|o| map(o, currency_of(&currencies, &o.account_id)))
            .collect();
        Ok(OfferData { offer })
    }
}
