//! The v3.1.11 wire mapping of the Account and Transaction API (`account-info-openapi.json`,
//! server base `/open-banking/v3.1/aisp`). Each resource module owns its routes and the serde
//! structs of exactly the schemas it serves (PascalCase, optional fields omitted, arrays always
//! present); `wire` holds the pieces they share.

mod accounts;
mod balances;
mod beneficiaries;
mod consents;
mod direct_debits;
mod offers;
mod parties;
mod per_account;
mod products;
mod scheduled_payments;
mod standing_orders;
mod statements;
mod transactions;
pub mod wire;

use axum::Router;

use crate::Aisp;

/// The server base of v3.1.11 (`servers[0].url`).
pub const BASE: &str = "/open-banking/v3.1/aisp";

/// Every v3.1.11 route, under [`BASE`].
pub(crate) fn router() -> Router<Aisp> {
    let routes = Router::new()
        .merge(consents::routes())
        .merge(accounts::routes())
        .merge(balances::routes())
        .merge(parties::routes())
        .merge(products::routes())
        .merge(transactions::routes())
        .merge(statements::routes())
        .merge(beneficiaries::routes())
        .merge(direct_debits::routes())
        .merge(standing_orders::routes())
        .merge(scheduled_payments::routes())
        .merge(offers::routes());
    Router::new().nest(BASE, routes)
}
