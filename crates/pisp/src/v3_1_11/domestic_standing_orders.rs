//! `/domestic-standing-orders` (v3.1.11): POST `OBWriteDomesticStandingOrder3` with the customer's authorization-code token for an
//! Authorised consent, signed and idempotent → 201 (status `InitiationCompleted` once the
//! order is on the core's schedule; the core pays it on its day); GET of one order and its
//! `payment-details` with a client-credentials token of the same client
//! (RES/pisp/domestic-standing-orders). The Initiation's rules are in [`crate::schedule_initiation`], the
//! service in [`crate::schedules`], the shared handlers in [`super::payment_orders`].

use axum::Router;
use axum::routing::{get, post};

use super::payment_orders::{WireOrder, create_order, order_details, read_order};
use crate::Pisp;
use crate::order::StandingOrderTerms;
use crate::schedule_initiation::StandingOrderInitiation;

impl WireOrder for StandingOrderInitiation {
    type Terms = StandingOrderTerms;

    fn check(&self, today: Option<time::Date>) -> Result<(), bascule_http::Error> {
        self.validate(today).map(drop)
    }

    fn to_terms(&self) -> Result<StandingOrderTerms, bascule_http::Error> {
        StandingOrderInitiation::to_terms(self)
    }

    fn from_terms(terms: &StandingOrderTerms) -> Self {
        StandingOrderInitiation::from_terms(terms)
    }

    const CONSENTS: &'static str = "/domestic-standing-order-consents";
    const ORDERS: &'static str = "/domestic-standing-orders";
    const ID_FIELD: &'static str = "DomesticStandingOrderId";
    const CONSENT_SCHEMA: &'static str = "OBWriteDomesticStandingOrderConsent5";
    const ORDER_SCHEMA: &'static str = "OBWriteDomesticStandingOrder3";
}

pub(super) fn routes() -> Router<Pisp> {
    type I = StandingOrderInitiation;
    Router::new()
        .route(I::ORDERS, post(create_order::<I>))
        .route(
            &format!("{}/{{DomesticStandingOrderId}}", I::ORDERS),
            get(read_order::<I>),
        )
        .route(
            &format!("{}/{{DomesticStandingOrderId}}/payment-details", I::ORDERS),
            get(order_details::<I>),
        )
}
