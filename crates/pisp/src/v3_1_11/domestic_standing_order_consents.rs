//! `/domestic-standing-order-consents` (v3.1.11): POST `OBWriteDomesticStandingOrderConsent5` with a client-credentials token, signed and idempotent → 201;
//! GET of one consent by the client that created it (RES/pisp/domestic-standing-order-consents). The shared shapes and
//! handlers are in [`super::payment_orders`].

use axum::Router;
use axum::routing::{get, post};

use super::payment_orders::{WireOrder, create_consent, read_consent};
use crate::Pisp;
use crate::schedule_initiation::StandingOrderInitiation;

pub(super) fn routes() -> Router<Pisp> {
    type I = StandingOrderInitiation;
    Router::new()
        .route(I::CONSENTS, post(create_consent::<I>))
        .route(
            &format!("{}/{{ConsentId}}", I::CONSENTS),
            get(read_consent::<I>),
        )
}
