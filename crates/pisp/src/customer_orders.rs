//! A customer's payment orders still to be paid, for the bank's dashboard: the domestic
//! standing orders and scheduled payments TPPs set up (rows of `pisp_domestic_schedules` the
//! core accepted), joined with the core's own schedule — the next payment day, whether it is
//! still in force — and described in plain words from the stored, version-neutral terms. One
//! query for the customer's orders, then one batched core call per kind over all their debtor
//! accounts: never a query per order.
//!
//! Their consents were consumed when the order was made, so the consent service does not list
//! them as connections; what is left to pay is the core's to say.

use std::collections::HashMap;

use bascule_api_kit::summary;
use bascule_core_banking::CoreBanking;
use bascule_domain::{
    AccountId, CustomerId, ScheduleStatus, ScheduledPayment, SortCodeAccountNumber, StandingOrder,
};
use bascule_http::Error;
use bascule_store::Store;
use bascule_store::sqlx::{self, Row};
use time::{Date, OffsetDateTime, Time};

use crate::order::{Money, PaymentKind, ScheduledTerms, StandingOrderTerms};
use crate::schedules::{DomesticOrder, OrderStatus, kind_column, order};
use crate::summary::every;
use crate::{core_error, db_error};

/// What is left to pay on one order: its stored terms and the core's schedule of it.
#[derive(Debug, Clone)]
pub enum Remaining {
    StandingOrder {
        terms: StandingOrderTerms,
        core: StandingOrder,
    },
    ScheduledPayment {
        terms: ScheduledTerms,
        core: ScheduledPayment,
    },
}

/// A standing order or scheduled payment a TPP set up that still has payments to make.
#[derive(Debug, Clone)]
pub struct OrderInForce {
    /// The order's id (`DomesticStandingOrderId` / `DomesticScheduledPaymentId`).
    pub id: String,
    pub client_id: String,
    pub consent_id: String,
    pub debtor_account_id: AccountId,
    pub set_up_at: OffsetDateTime,
    pub remaining: Remaining,
}

/// An order in the customer's words (CEG: payee, amount, when).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDescription {
    /// "Standing order to Alan Turing".
    pub title: String,
    pub status: &'static str,
    /// Label and value, in the order shown.
    pub facts: Vec<(&'static str, String)>,
}

/// The customer's orders that the core still has payments to make on, oldest first.
pub async fn orders_in_force(
    store: &Store,
    core: &dyn CoreBanking,
    customer: &CustomerId,
) -> Result<Vec<OrderInForce>, Error> {
    let rows = sqlx::query(
        "SELECT * FROM pisp_domestic_schedules WHERE customer_id = $1 AND status = $2 \
         ORDER BY created_at, id",
    )
    .bind(customer.as_str())
    .bind(OrderStatus::InitiationCompleted.as_str())
    .fetch_all(store.pool())
    .await
    .map_err(db_error)?;
    let standing_kind = kind_column(PaymentKind::StandingOrder);
    let (mut standing, mut scheduled) = (Vec::new(), Vec::new());
    for row in &rows {
        let kind: String = row.try_get("kind").map_err(db_error)?;
        if kind == standing_kind {
            standing.push(order::<StandingOrderTerms>(row)?);
        } else {
            scheduled.push(order::<ScheduledTerms>(row)?);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    if !standing.is_empty() {
        let on_core = core.standing_orders(&debtors(&standing)).await;
        let in_force =
            |s: &StandingOrder| (s.status == ScheduleStatus::Active).then(|| s.id.to_string());
        join(
            standing,
            on_core.map_err(core_error)?,
            in_force,
            &mut out,
            |terms, core| Remaining::StandingOrder { terms, core },
        );
    }
    if !scheduled.is_empty() {
        // The core lists only scheduled payments not yet made.
        let on_core = core.scheduled_payments(&debtors(&scheduled)).await;
        let in_force =
            |s: &ScheduledPayment| (s.status == ScheduleStatus::Active).then(|| s.id.to_string());
        join(
            scheduled,
            on_core.map_err(core_error)?,
            in_force,
            &mut out,
            |terms, core| Remaining::ScheduledPayment { terms, core },
        );
    }
    out.sort_by_key(|o| o.set_up_at);
    Ok(out)
}

/// Every debtor account of `orders`, once each: what one core call is asked about.
fn debtors<T>(orders: &[DomesticOrder<T>]) -> Vec<AccountId> {
    let mut ids: Vec<AccountId> = orders
        .iter()
        .map(|o| o.record.debtor_account_id.clone())
        .collect();
    ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    ids.dedup();
    ids
}

/// Adds to `out` each order the core still has in force: `in_force` gives the core's id of a
/// schedule still to pay, `None` for one finished.
fn join<T, C>(
    orders: Vec<DomesticOrder<T>>,
    on_core: Vec<C>,
    in_force: impl Fn(&C) -> Option<String>,
    out: &mut Vec<OrderInForce>,
    remaining: impl Fn(T, C) -> Remaining,
) {
    let mut on_core: HashMap<String, C> = on_core
        .into_iter()
        .filter_map(|c| in_force(&c).map(|id| (id, c)))
        .collect();
    for o in orders {
        if let Some(core) = o.core_id.as_ref().and_then(|id| on_core.remove(id)) {
            out.push(OrderInForce {
                id: o.record.id,
                client_id: o.record.client_id,
                consent_id: o.record.consent_id,
                debtor_account_id: o.record.debtor_account_id,
                set_up_at: o.record.created_at,
                remaining: remaining(o.record.terms, core),
            });
        }
    }
}

fn on(day: Date) -> String {
    summary::day(day.with_time(Time::MIDNIGHT).assume_utc())
}

fn amount(money: &Money) -> String {
    summary::money(money.amount, &money.currency)
}

fn payee(name: &str, account: &SortCodeAccountNumber) -> String {
    format!(
        "{name}, {} {}",
        account.sort_code.dashed(),
        account.account_number.as_str()
    )
}

impl OrderInForce {
    /// What the customer reads about the order: payee, amount, when, and what is left.
    pub fn describe(&self) -> OrderDescription {
        let set_up = ("Set up on", summary::day(self.set_up_at));
        match &self.remaining {
            Remaining::StandingOrder { terms, core } => {
                let mut facts = vec![
                    ("Pays", payee(&core.creditor_name, &core.creditor)),
                    ("Each payment", amount(&terms.first_amount)),
                    ("How often", every(&terms.frequency)),
                ];
                if let Some(next) = core.next_payment_on {
                    facts.push(("Next payment", on(next)));
                }
                let left = match (core.payments_left(), core.final_payment_on) {
                    (Some(1), Some(last)) => format!("1 payment, on {}", on(last)),
                    (Some(n), Some(last)) => format!("{n} payments, until {}", on(last)),
                    _ => "No end date".to_owned(),
                };
                facts.push(("Payments left", left));
                facts.push(("Reference", core.reference.clone()));
                facts.push(set_up);
                OrderDescription {
                    title: format!("Standing order to {}", core.creditor_name),
                    status: "Active",
                    facts,
                }
            }
            Remaining::ScheduledPayment { terms, core } => OrderDescription {
                title: format!("Scheduled payment to {}", core.creditor_name),
                status: "Not paid yet",
                facts: vec![
                    ("Pays", payee(&core.creditor_name, &core.creditor)),
                    ("Amount", amount(&terms.transfer.amount)),
                    ("Payment date", on(core.execute_on)),
                    ("Reference", core.reference.clone()),
                    set_up,
                ],
            },
        }
    }
}
