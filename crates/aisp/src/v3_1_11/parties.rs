//! `/party` (the customer who authorised, `ReadPartyPSU`) and `/accounts/{AccountId}/party` /
//! `/parties` (the account's holders, `ReadParty`) in v3.1.11 (`OBReadParty2`, `OBReadParty3`).

use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::routing::get;
use bascule_domain::aisp::Permission;
use bascule_domain::{Customer, CustomerId};
use bascule_http::{Error, ObErrorCode};
use serde::Serialize;

use super::wire::Envelope;
use crate::{Access, Aisp, core_error};

pub(super) fn routes() -> Router<Aisp> {
    Router::new()
        .route("/party", get(psu))
        .route("/accounts/{AccountId}/party", get(account_party))
        .route("/accounts/{AccountId}/parties", get(account_parties))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OneParty {
    party: ObParty2,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Parties {
    party: Vec<ObParty2>,
}

/// `OBParty2`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObParty2 {
    party_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    party_type: Option<&'static str>,
    name: String,
    full_legal_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile: Option<String>,
    address: Vec<Address>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct Address {
    address_type: &'static str,
    address_line: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    post_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    town_name: Option<String>,
    country: String,
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// `PhoneNumber`: `+{country}-{number}` (pattern `\+[0-9]{1,3}-[0-9()+\-]{1,30}`). Only UK
/// numbers are stored in E.164 form we can split; others are left out rather than guessed.
fn phone(e164: &str) -> Option<String> {
    let rest = e164.strip_prefix("+44")?;
    let ok = !rest.is_empty() && rest.len() <= 30 && rest.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("+44-{rest}"))
}

/// The party as v3.1.11 shows it; `holder` adds the account-holder fields of `/accounts/../party`.
fn map(customer: &Customer, holder: bool) -> ObParty2 {
    let a = &customer.address;
    ObParty2 {
        party_id: customer.id.to_string(),
        party_type: holder.then_some("Sole"),
        name: cut(&customer.legal_name, 350),
        full_legal_name: cut(&customer.legal_name, 350),
        account_role: holder.then_some("UK.OBIE.Principal"),
        email_address: Some(cut(&customer.email, 256)).filter(|e| !e.is_empty()),
        mobile: phone(&customer.phone),
        address: vec![Address {
            address_type: "Residential",
            address_line: a.lines.iter().take(7).map(|l| cut(l, 70)).collect(),
            post_code: Some(cut(&a.postcode, 16)).filter(|p| !p.is_empty()),
            town_name: Some(cut(&a.town, 35)).filter(|t| !t.is_empty()),
            country: a.country.clone(),
        }],
    }
}

async fn customer(aisp: &Aisp, id: Option<&CustomerId>) -> Result<Customer, Error> {
    let id = id.ok_or_else(|| {
        Error::bad_request(ObErrorCode::ResourceNotFound, "The account has no holder")
    })?;
    aisp.core_banking().customer(id).await.map_err(core_error)
}

async fn psu(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
) -> Result<Json<Envelope<OneParty>>, Error> {
    access.require_that(
        access.permissions.contains(Permission::ReadPartyPsu),
        "ReadPartyPSU",
    )?;
    let customer = customer(&aisp, access.consent.customer_id.as_ref()).await?;
    Ok(Json(Envelope::single(
        &aisp,
        &uri,
        OneParty {
            party: map(&customer, false),
        },
    )))
}

async fn account_holder(aisp: &Aisp, access: &Access, account_id: &str) -> Result<Customer, Error> {
    access.require_that(
        access.permissions.contains(Permission::ReadParty),
        "ReadParty",
    )?;
    let account = access.account(aisp, account_id).await?;
    customer(aisp, account.customer_id.as_ref()).await
}

async fn account_party(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<OneParty>>, Error> {
    let holder = account_holder(&aisp, &access, &account_id).await?;
    Ok(Json(Envelope::single(
        &aisp,
        &uri,
        OneParty {
            party: map(&holder, true),
        },
    )))
}

async fn account_parties(
    State(aisp): State<Aisp>,
    OriginalUri(uri): OriginalUri,
    access: Access,
    Path(account_id): Path<String>,
) -> Result<Json<Envelope<Parties>>, Error> {
    let holder = account_holder(&aisp, &access, &account_id).await?;
    Ok(Json(Envelope::single(
        &aisp,
        &uri,
        Parties {
            party: vec![map(&holder, true)],
        },
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uk_numbers_take_the_spec_form() {
        assert_eq!(phone("+447700900077").as_deref(), Some("+44-7700900077"));
        assert_eq!(phone("+15551234567"), None);
        assert_eq!(phone("07700900077"), None);
    }
}
