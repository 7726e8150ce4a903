//! The v3.1.11 wire mapping of the Confirmation of Funds API (`confirmation-funds-openapi.json`,
//! server base `/open-banking/v3.1/cbpii`). Each resource module owns its routes and the serde
//! structs of exactly the schemas it serves (PascalCase, optional fields omitted); the pieces
//! every API shares come from `bascule_api_kit`.

mod consents;
mod funds_confirmations;

use axum::Router;

use crate::Cbpii;

/// The server base of v3.1.11 (`servers[0].url`).
pub const BASE: &str = "/open-banking/v3.1/cbpii";

/// Every v3.1.11 route, under [`BASE`].
pub(crate) fn router() -> Router<Cbpii> {
    let routes = Router::new()
        .merge(consents::routes())
        .merge(funds_confirmations::routes());
    Router::new().nest(BASE, routes)
}
