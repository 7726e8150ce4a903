//! `/products` and `/accounts/{AccountId}/product` (v3.1.11, `OBReadProduct2`, needs
//! `ReadProducts`). Current accounts are `PersonalCurrentAccount`/`BusinessCurrentAccount`;
//! pots are `Other` products whose `CreditInterest` shows the pot's rate (gross and AER), the
//! pot's own rate winning over its product's.

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::routing::get;
use bascule_domain::aisp::Permission;
use bascule_domain::interest::aer_from_gross;
use bascule_domain::{Account, AccountId, AccountKind, AccountType, Product};
use bascule_http::Error;
use rust_decimal::Decimal;
use serde::Serialize;

use super::wire::Envelope;
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/products", get(bulk))
        .route("/accounts/{AccountId}/product", get(of_account))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ProductData {
    product: Vec<ObProduct>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObProduct {
    product_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    product_id: Option<String>,
    account_id: String,
    product_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    other_product_type: Option<OtherProductType>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OtherProductType {
    name: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    credit_interest: Option<CreditInterest>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreditInterest {
    tier_band_set: Vec<TierBandSet>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TierBandSet {
    /// INBA: the whole balance earns the rate.
    tier_band_method: &'static str,
    calculation_method: &'static str,
    /// INPA: paid into the account itself.
    destination: &'static str,
    tier_band: Vec<TierBand>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct TierBand {
    tier_value_minimum: String,
    calculation_frequency: &'static str,
    application_frequency: &'static str,
    fixed_variable_interest_rate_type: &'static str,
    #[serde(rename = "AER")]
    aer: String,
    bank_interest_rate_type: &'static str,
    bank_interest_rate: String,
}

/// A fraction (0.04) as the spec's percentage string (`4`, `4.07`): at most 4 decimals.
fn percent(fraction: Decimal) -> String {
    (fraction * Decimal::from(100))
        .round_dp(4)
        .normalize()
        .to_string()
}

/// Interest as built into the ledger (domain::interest): accrued daily on the balance at the
/// gross rate, paid monthly into the pot, a variable rate.
fn credit_interest(gross: Decimal) -> CreditInterest {
    CreditInterest {
        tier_band_set: vec![TierBandSet {
            tier_band_method: "INBA",
            calculation_method: "ITSI",
            destination: "INPA",
            tier_band: vec![TierBand {
                tier_value_minimum: "0".into(),
                calculation_frequency: "FQDY",
                application_frequency: "FQMY",
                fixed_variable_interest_rate_type: "INVA",
                aer: percent(aer_from_gross(gross)),
                bank_interest_rate_type: "INGR",
                bank_interest_rate: percent(gross),
            }],
        }],
    }
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// The product an account shows: its product if it has one, a pot's own rate winning; a pot
/// without a product but with a rate still shows that rate.
fn map(account: &Account, product: Option<&Product>) -> Option<ObProduct> {
    let rate = account
        .interest_rate
        .or_else(|| product.and_then(|p| p.interest_rate))
        .filter(|r| *r > Decimal::ZERO);
    let name = product
        .map(|p| p.name.clone())
        .or_else(|| (account.kind == AccountKind::Savings).then(|| "Savings pot".to_owned()))?;
    let product_type = match (account.kind, account.account_type) {
        (AccountKind::CurrentAccount, AccountType::Personal) => "PersonalCurrentAccount",
        (AccountKind::CurrentAccount, AccountType::Business) => "BusinessCurrentAccount",
        _ => "Other",
    };
    let other = (product_type == "Other").then(|| OtherProductType {
        name: cut(&name, 350),
        description: cut(
            &match (&account.pot, rate) {
                (Some(pot), Some(_)) => format!("Interest-bearing savings pot \"{}\"", pot.name),
                (Some(pot), None) => format!("Savings pot \"{}\"", pot.name),
                (None, _) => name.clone(),
            },
            350,
        ),
        credit_interest: rate.map(credit_interest),
    });
    Some(ObProduct {
        product_name: cut(&name, 350),
        product_id: product.map(|p| p.id.to_string()),
        account_id: account.id.to_string(),
        product_type,
        other_product_type: other,
    })
}

async fn products(aisp: &Aisp, ids: &[AccountId]) -> Result<Vec<ObProduct>, Error> {
    let accounts = aisp
        .core_banking()
        .accounts(ids)
        .await
        .map_err(core_error)?;
    let products = aisp
        .core_banking()
        .products(ids)
        .await
        .map_err(core_error)?;
    Ok(accounts
        .iter()
        .filter_map(|a| {
            let product = products.iter().find(|(id, _)| *id == a.id).map(|(_, p)| p);
            map(a, product)
        })
        .collect())
}

async fn bulk(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
) -> Result<Json<Envelope<ProductData>>, Error> {
    access.require_that(
        access.permissions.contains(Permission::ReadProducts),
        "ReadProducts",
    )?;
    let product = products(&aisp, access.accounts()).await?;
    Ok(Json(Envelope::single(&aisp, &uri, ProductData { product })))
}

async fn of_account(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<ProductData>>, Error> {
    access.require_that(
        access.permissions.contains(Permission::ReadProducts),
        "ReadProducts",
    )?;
    let account = access.account(&aisp, &account_id).await?;
    let product = products(&aisp, std::slice::from_ref(&account.id)).await?;
    Ok(Json(Envelope::single(&aisp, &uri, ProductData { product })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_render_as_percentages_within_the_pattern() {
        assert_eq!(percent(Decimal::new(4, 2)), "4");
        assert_eq!(percent(Decimal::new(365, 4)), "3.65");
        assert_eq!(percent(aer_from_gross(Decimal::new(4, 2))), "4.07");
    }
}
