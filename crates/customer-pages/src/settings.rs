//! The customer's display settings: hiding balances on every customer screen until tapped
//! (on a bus, on a train). Only what the customer's own screens show changes; TPPs still
//! receive exactly what their consent allows.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use bascule_domain::CustomerId;
use bascule_store::sqlx::{self, Row};

use crate::journey::see_other;
use crate::{CustomerPages, PageError};

impl CustomerPages {
    /// Whether `customer` hides balances (off until they turn it on).
    pub async fn hides_balances(&self, customer: &CustomerId) -> Result<bool, PageError> {
        let row = sqlx::query("SELECT hide_balances FROM customer_settings WHERE customer_id = $1")
            .bind(customer.as_str())
            .fetch_optional(self.inner.store.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get::<i64, _>("hide_balances")? != 0,
            None => false,
        })
    }

    pub async fn set_hide_balances(
        &self,
        customer: &CustomerId,
        hide: bool,
    ) -> Result<(), PageError> {
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO customer_settings (customer_id, hide_balances, updated_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (customer_id) \
                     DO UPDATE SET hide_balances = excluded.hide_balances, \
                     updated_at = excluded.updated_at",
                )
                .bind(customer.as_str())
                .bind(i64::from(hide))
                .bind(self.now()),
            )
            .await?;
        Ok(())
    }
}

pub(crate) async fn balances(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (_, customer, form) = pages.signed_in_form(&headers, "/app", &body).await?;
    let hide = match form.get("hide") {
        Some("yes") => true,
        Some("no") => false,
        _ => {
            return Err(PageError::BadRequest(
                "choose to hide or show balances".into(),
            ));
        }
    };
    pages.set_hide_balances(&customer, hide).await?;
    see_other("/app", None)
}
