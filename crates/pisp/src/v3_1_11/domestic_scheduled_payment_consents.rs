//! `/domestic-scheduled-payment-consents` (v3.1.11): POST `OBWriteDomesticScheduledConsent4` with a client-credentials token, signed and idempotent → 201;
//! GET of one consent by the client that created it (RES/pisp/domestic-scheduled-payment-consents). The shared shapes and
//! handlers are in [`super::payment_orders`].

use axum::Router;
use axum::routing::{get, post};

use super::payment_orders::{WireOrder, create_consent, read_consent};
use crate::Pisp;
use crate::schedule_initiation::ScheduledInitiation;

pub(super) fn routes() -> Router<Pisp> {
    type I = ScheduledInitiation;
    Router::new()
        .route(I::CONSENTS, post(create_consent::<I>))
        .route(
            &format!("{}/{{ConsentId}}", I::CONSENTS),
            get(read_consent::<I>),
        )
}
