//! `/domestic-scheduled-payments` (v3.1.11): POST `OBWriteDomesticScheduled2` with the customer's authorization-code token for an
//! Authorised consent, signed and idempotent → 201 (status `InitiationCompleted` once the
//! order is on the core's schedule; the core pays it on its day); GET of one order and its
//! `payment-details` with a client-credentials token of the same client
//! (RES/pisp/domestic-scheduled-payments). The Initiation's rules are in [`crate::schedule_initiation`], the
//! service in [`crate::schedules`], the shared handlers in [`super::payment_orders`].

use axum::Router;
use axum::routing::{get, post};

use super::payment_orders::{WireOrder, create_order, order_details, read_order};
use crate::Pisp;
use crate::order::ScheduledTerms;
use crate::schedule_initiation::ScheduledInitiation;

impl WireOrder for ScheduledInitiation {
    type Terms = ScheduledTerms;

    fn check(&self, today: Option<time::Date>) -> Result<(), bascule_http::Error> {
        self.validate(today).map(drop)
    }

    fn to_terms(&self) -> Result<ScheduledTerms, bascule_http::Error> {
        ScheduledInitiation::to_terms(self)
    }

    fn from_terms(terms: &ScheduledTerms) -> Self {
        ScheduledInitiation::from_terms(terms)
    }

    const CONSENTS: &'static str = "/domestic-scheduled-payment-consents";
    const ORDERS: &'static str = "/domestic-scheduled-payments";
    const ID_FIELD: &'static str = "DomesticScheduledPaymentId";
    const CONSENT_SCHEMA: &'static str = "OBWriteDomesticScheduledConsent4";
    const ORDER_SCHEMA: &'static str = "OBWriteDomesticScheduled2";
}

pub(super) fn routes() -> Router<Pisp> {
    type I = ScheduledInitiation;
    Router::new()
        .route(I::ORDERS, post(create_order::<I>))
        .route(
            &format!("{}/{{DomesticScheduledPaymentId}}", I::ORDERS),
            get(read_order::<I>),
        )
        .route(
            &format!(
                "{}/{{DomesticScheduledPaymentId}}/payment-details",
                I::ORDERS
            ),
            get(order_details::<I>),
        )
}
