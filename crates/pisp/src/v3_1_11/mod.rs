//! The v3.1.11 wire mapping of the Payment Initiation API (`payment-initiation-openapi.json`,
//! server base `/open-banking/v3.1/pisp`). Each resource module owns its routes and the serde
//! structs of the schemas it serves; `wire` holds the pieces they share.

mod domestic_payment_consents;
mod domestic_payments;
mod domestic_scheduled_payment_consents;
mod domestic_scheduled_payments;
mod domestic_standing_order_consents;
mod domestic_standing_orders;
pub(crate) mod legacy;
mod payment_orders;
pub mod terms;
pub mod wire;

use axum::Router;

use crate::Pisp;

/// The server base of v3.1.11 (`servers[0].url`).
pub const BASE: &str = "/open-banking/v3.1/pisp";

/// Every v3.1.11 route, under [`BASE`].
pub(crate) fn router() -> Router<Pisp> {
    let routes = Router::new()
        .merge(domestic_payment_consents::routes())
        .merge(domestic_payments::routes())
        .merge(domestic_scheduled_payment_consents::routes())
        .merge(domestic_scheduled_payments::routes())
        .merge(domestic_standing_order_consents::routes())
        .merge(domestic_standing_orders::routes());
    Router::new().nest(BASE, routes)
}
