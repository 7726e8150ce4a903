//! Domestic scheduled payments and domestic standing orders: consent → headless approval →
//! order (InitiationCompleted) → the ledger's daily jobs pay it on its dates, exactly once,
//! as the test moves the clock. Both backends for the main paths; every body validated.

use bascule_domain::{Pence, ScheduleStatus};
use bascule_store::Backend;
use serde_json::{Value, json};
use time::Duration;
use time::macros::{date, datetime};

use crate::support::{Bank, Call, Reply, risk, valid};

const SP_CONSENTS: &str = "/domestic-scheduled-payment-consents";
const SP_ORDERS: &str = "/domestic-scheduled-payments";
const SO_CONSENTS: &str = "/domestic-standing-order-consents";
const SO_ORDERS: &str = "/domestic-standing-orders";

/// A scheduled payment to Alan of `amount` on `when` (RFC 3339).
fn scheduled(bank: &Bank, amount: &str, when: &str) -> Value {
    json!({
        "InstructionIdentification": "SCHED-1",
        "EndToEndIdentification": "E2E-SCHED-1",
        "LocalInstrument": "UK.OBIE.FPS",
        "RequestedExecutionDateTime": when,
        "InstructedAmount": {"Amount": amount, "Currency": "GBP"},
        "CreditorAccount": {
            "SchemeName": "UK.OBIE.SortCodeAccountNumber",
            "Identification": bank.stranger.identification,
            "Name": "Alan Turing"
        },
        "RemittanceInformation": {"Reference": "INVOICE-77"}
    })
}

/// A monthly standing order to Alan of `amount` on the 15th, Jan to Mar 2026.
fn monthly(bank: &Bank, amount: &str) -> Value {
    json!({
        "Frequency": "IntrvlMnthDay:01:15",
        "Reference": "RENT",
        "FirstPaymentDateTime": "2026-01-15T06:00:00+00:00",
        "FinalPaymentDateTime": "2026-03-15T06:00:00+00:00",
        "FirstPaymentAmount": {"Amount": amount, "Currency": "GBP"},
        "CreditorAccount": {
            "SchemeName": "UK.OBIE.SortCodeAccountNumber",
            "Identification": bank.stranger.identification,
            "Name": "Alan Turing"
        }
    })
}

fn consent_body(initiation: &Value) -> Value {
    json!({"Data": {"Permission": "Create", "Initiation": initiation}, "Risk": risk()})
}

fn order_body(consent_id: &str, initiation: &Value) -> Value {
    json!({"Data": {"ConsentId": consent_id, "Initiation": initiation}, "Risk": risk()})
}

fn path_of(collection: &str, id_param: &str, rest: &str) -> String {
    format!("{collection}/{{{id_param}}}{rest}")
}

/// `POST {consents}`: the raw reply, validated.
async fn post_consent(bank: &Bank, consents: &str, initiation: &Value) -> Reply {
    let cc = bank.cc_token().await;
    let reply = bank
        .call(Call::post(consents, &cc, &consent_body(initiation)))
        .await;
    valid("POST", consents, &reply);
    bank.verify_response(&reply);
    reply
}

/// A consent created (201) and authorised from Grace's Everyday: (ConsentId, token).
async fn authorised(bank: &Bank, consents: &str, initiation: &Value) -> (String, String) {
    let reply = post_consent(bank, consents, initiation).await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
    assert_eq!(reply.body["Data"]["Status"], "AwaitingAuthorisation");
    assert_eq!(reply.body["Data"]["Permission"], "Create");
    assert_eq!(&reply.body["Data"]["Initiation"], initiation);
    let id = reply.body["Data"]["ConsentId"].as_str().unwrap().to_owned();
    let token = bank.authorise(&id, &bank.customer.everyday).await;
    let cc = bank.cc_token().await;
    let read = bank.get(&format!("{consents}/{id}"), &cc).await;
    assert_eq!(read.status, 200, "{:#}", read.body);
    valid("GET", &path_of(consents, "ConsentId", ""), &read);
    bank.verify_response(&read);
    assert_eq!(read.body["Data"]["Status"], "Authorised");
    assert!(read.body["Data"]["Debtor"]["Identification"].is_string());
    (id, token)
}

async fn post_order(bank: &Bank, orders: &str, token: &str, body: &Value) -> Reply {
    let reply = bank.call(Call::post(orders, token, body)).await;
    valid("POST", orders, &reply);
    bank.verify_response(&reply);
    reply
}

/// GET of the order and its payment-details, validated: (order, details).
async fn read_order(bank: &Bank, orders: &str, id_param: &str, id: &str) -> (Reply, Reply) {
    let cc = bank.cc_token().await;
    let got = bank.get(&format!("{orders}/{id}"), &cc).await;
    assert_eq!(got.status, 200, "{:#}", got.body);
    valid("GET", &path_of(orders, id_param, ""), &got);
    bank.verify_response(&got);
    let details = bank
        .get(&format!("{orders}/{id}/payment-details"), &cc)
        .await;
    assert_eq!(details.status, 200, "{:#}", details.body);
    valid(
        "GET",
        &path_of(orders, id_param, "/payment-details"),
        &details,
    );
    bank.verify_response(&details);
    (got, details)
}

/// Runs the ledger's daily jobs at the clock's now.
async fn run_jobs(bank: &Bank) -> bascule_ledger::JobReport {
    bank.app.ledger.run_daily_jobs().await.expect("daily jobs")
}

async fn scheduled_main_path(backend: Backend) {
    let bank = Bank::start(backend).await;
    let grace = bank.customer.everyday.clone();
    let alan = bank.stranger.account.clone();
    let (grace0, alan0) = (bank.booked(&grace).await, bank.booked(&alan).await);
    let initiation = scheduled(&bank, "25.00", "2026-01-10T10:00:00+00:00");
    let (consent_id, token) = authorised(&bank, SP_CONSENTS, &initiation).await;

    let paid = post_order(
        &bank,
        SP_ORDERS,
        &token,
        &order_body(&consent_id, &initiation),
    )
    .await;
    assert_eq!(paid.status, 201, "{:#}", paid.body);
    let data = &paid.body["Data"];
    assert_eq!(data["Status"], "InitiationCompleted");
    assert_eq!(data["ConsentId"], consent_id.as_str());
    assert_eq!(data["Initiation"], initiation);
    let id = data["DomesticScheduledPaymentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (got, details) = read_order(&bank, SP_ORDERS, "DomesticScheduledPaymentId", &id).await;
    assert_eq!(got.body["Data"], paid.body["Data"]);
    assert_eq!(
        details.body["Data"]["PaymentStatus"][0]["Status"],
        "Pending"
    );

    // The consent was consumed: it makes one order.
    let cc = bank.cc_token().await;
    let consent = bank.get(&format!("{SP_CONSENTS}/{consent_id}"), &cc).await;
    assert_eq!(consent.body["Data"]["Status"], "Consumed");
    let again = post_order(
        &bank,
        SP_ORDERS,
        &token,
        &order_body(&consent_id, &initiation),
    )
    .await;
    assert_eq!(again.status, 400, "{:#}", again.body);
    assert_eq!(again.error_code(), "UK.OBIE.Resource.InvalidConsentStatus");

    // On the ledger's schedule, not paid before its day.
    let on_core = bank
        .app
        .state()
        .core_banking
        .scheduled_payments(std::slice::from_ref(&grace))
        .await
        .unwrap();
    let sp = on_core
        .iter()
        .find(|s| s.reference == "INVOICE-77")
        .expect("the scheduled payment on the ledger");
    assert_eq!(sp.execute_on, date!(2026 - 01 - 10));
    assert_eq!(sp.amount, Pence(2500));
    assert_eq!(sp.status, ScheduleStatus::Active);
    bank.app.clock.set(datetime!(2026-01-09 23:00 UTC));
    assert_eq!(run_jobs(&bank).await.scheduled_payments_paid, 0);
    assert_eq!(bank.booked(&grace).await, grace0);

    // On its day: paid once; another run pays nothing.
    bank.app.clock.set(datetime!(2026-01-10 00:30 UTC));
    assert_eq!(run_jobs(&bank).await.scheduled_payments_paid, 1);
    assert_eq!(run_jobs(&bank).await.scheduled_payments_paid, 0);
    bank.app.clock.advance(Duration::days(3));
    assert_eq!(run_jobs(&bank).await.scheduled_payments_paid, 0);
    assert_eq!(bank.booked(&grace).await, Pence(grace0.0 - 2500));
    assert_eq!(bank.booked(&alan).await, Pence(alan0.0 + 2500));

    let (got, details) = read_order(&bank, SP_ORDERS, "DomesticScheduledPaymentId", &id).await;
    assert_eq!(got.body["Data"]["Status"], "InitiationCompleted");
    assert_eq!(
        details.body["Data"]["PaymentStatus"][0]["Status"],
        "Accepted"
    );
}

#[tokio::test]
async fn a_scheduled_payment_is_paid_once_on_its_day_on_sqlite() {
    scheduled_main_path(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_scheduled_payment_is_paid_once_on_its_day_on_postgres() {
    scheduled_main_path(Backend::Postgres).await;
}

async fn standing_order_main_path(backend: Backend) {
    let bank = Bank::start(backend).await;
    let grace = bank.customer.everyday.clone();
    let alan = bank.stranger.account.clone();
    let (grace0, alan0) = (bank.booked(&grace).await, bank.booked(&alan).await);
    let initiation = monthly(&bank, "100.00");
    let (consent_id, token) = authorised(&bank, SO_CONSENTS, &initiation).await;
    let made = post_order(
        &bank,
        SO_ORDERS,
        &token,
        &order_body(&consent_id, &initiation),
    )
    .await;
    assert_eq!(made.status, 201, "{:#}", made.body);
    assert_eq!(made.body["Data"]["Status"], "InitiationCompleted");
    let id = made.body["Data"]["DomesticStandingOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (got, _) = read_order(&bank, SO_ORDERS, "DomesticStandingOrderId", &id).await;
    assert_eq!(got.body["Data"], made.body["Data"]);

    let standing_order = || async {
        bank.app
            .state()
            .core_banking
            .standing_orders(std::slice::from_ref(&grace))
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.reference == "RENT")
            .expect("the standing order on the ledger")
    };
    let so = standing_order().await;
    assert_eq!(so.next_payment_on, Some(date!(2026 - 01 - 15)));
    assert_eq!(so.final_payment_on, Some(date!(2026 - 03 - 15)));
    assert_eq!(so.amount, Pence(10_000));

    // Before the first date: nothing.
    bank.app.clock.set(datetime!(2026-01-14 12:00 UTC));
    assert_eq!(run_jobs(&bank).await.standing_orders_paid, 0);
    // The first date: one payment, once.
    bank.app.clock.set(datetime!(2026-01-15 01:00 UTC));
    assert_eq!(run_jobs(&bank).await.standing_orders_paid, 1);
    assert_eq!(run_jobs(&bank).await.standing_orders_paid, 0);
    assert_eq!(bank.booked(&grace).await, Pence(grace0.0 - 10_000));
    // A jump over the next two dates (Feb 15, Mar 15): two payments.
    bank.app.clock.set(datetime!(2026-03-20 08:00 UTC));
    assert_eq!(run_jobs(&bank).await.standing_orders_paid, 2);
    assert_eq!(run_jobs(&bank).await.standing_orders_paid, 0);
    // Finished after its final payment.
    bank.app.clock.set(datetime!(2026-05-20 08:00 UTC));
    assert_eq!(run_jobs(&bank).await.standing_orders_paid, 0);
    assert_eq!(bank.booked(&grace).await, Pence(grace0.0 - 30_000));
    assert_eq!(bank.booked(&alan).await, Pence(alan0.0 + 30_000));
    let so = standing_order().await;
    assert_eq!(so.status, ScheduleStatus::Inactive);
    assert_eq!(so.last_payment_on, Some(date!(2026 - 03 - 15)));

    let (_, details) = read_order(&bank, SO_ORDERS, "DomesticStandingOrderId", &id).await;
    assert_eq!(
        details.body["Data"]["PaymentStatus"][0]["Status"],
        "Accepted"
    );
}

#[tokio::test]
async fn a_monthly_standing_order_pays_each_date_once_on_sqlite() {
    standing_order_main_path(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_monthly_standing_order_pays_each_date_once_on_postgres() {
    standing_order_main_path(Backend::Postgres).await;
}

#[tokio::test]
async fn an_order_must_match_its_consent() {
    let bank = Bank::start(Backend::Sqlite).await;
    let initiation = scheduled(&bank, "25.00", "2026-01-10T10:00:00+00:00");
    let (consent_id, token) = authorised(&bank, SP_CONSENTS, &initiation).await;
    for changed in [
        scheduled(&bank, "25.01", "2026-01-10T10:00:00+00:00"),
        scheduled(&bank, "25.00", "2026-01-11T10:00:00+00:00"),
    ] {
        let reply = post_order(&bank, SP_ORDERS, &token, &order_body(&consent_id, &changed)).await;
        assert_eq!(reply.status, 400, "{:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    }
    // Same meaning, other spelling: accepted.
    let respelled = scheduled(&bank, "25", "2026-01-10T11:00:00+01:00");
    let ok = post_order(
        &bank,
        SP_ORDERS,
        &token,
        &order_body(&consent_id, &respelled),
    )
    .await;
    assert_eq!(ok.status, 201, "{:#}", ok.body);

    let so = monthly(&bank, "100.00");
    let (so_consent, so_token) = authorised(&bank, SO_CONSENTS, &so).await;
    let mut changed = so.clone();
    changed["Frequency"] = json!("IntrvlMnthDay:01:16");
    let reply = post_order(
        &bank,
        SO_ORDERS,
        &so_token,
        &order_body(&so_consent, &changed),
    )
    .await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    // A token of another consent kind is refused.
    let reply = post_order(
        &bank,
        SP_ORDERS,
        &so_token,
        &order_body(&so_consent, &initiation),
    )
    .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
}

#[tokio::test]
async fn unsupported_frequencies_and_past_dates_are_refused_at_the_consent() {
    let bank = Bank::start(Backend::Sqlite).await;
    for frequency in [
        "EvryWorkgDay",
        "IntrvlDay:14",
        "QtrDay:ENGLISH",
        "WkInMnthDay:02:03",
    ] {
        let mut so = monthly(&bank, "100.00");
        so["Frequency"] = json!(frequency);
        let reply = post_consent(&bank, SO_CONSENTS, &so).await;
        assert_eq!(reply.status, 400, "{frequency}: {:#}", reply.body);
        assert_eq!(reply.error_code(), "UK.OBIE.Unsupported.Frequency");
    }
    for frequency in ["EvryDay", "IntrvlWkDay:01:05", "IntrvlMnthDay:03:28"] {
        let mut so = monthly(&bank, "100.00");
        so["Frequency"] = json!(frequency);
        so.as_object_mut().unwrap().remove("FinalPaymentDateTime");
        let reply = post_consent(&bank, SO_CONSENTS, &so).await;
        assert_eq!(reply.status, 201, "{frequency}: {:#}", reply.body);
    }
    let mut so = monthly(&bank, "100.00");
    so["RecurringPaymentAmount"] = json!({"Amount": "50.00", "Currency": "GBP"});
    let reply = post_consent(&bank, SO_CONSENTS, &so).await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Field.Invalid");

    let past = scheduled(&bank, "25.00", "2026-01-04T10:00:00+00:00");
    let reply = post_consent(&bank, SP_CONSENTS, &past).await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Field.InvalidDate");

    let mut no_permission = consent_body(&scheduled(&bank, "1.00", "2026-02-01T10:00:00+00:00"));
    no_permission["Data"]
        .as_object_mut()
        .unwrap()
        .remove("Permission");
    let cc = bank.cc_token().await;
    let reply = bank
        .call(Call::post(SP_CONSENTS, &cc, &no_permission))
        .await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    valid("POST", SP_CONSENTS, &reply);
    assert_eq!(reply.error_code(), "UK.OBIE.Field.Missing");
}

#[tokio::test]
async fn a_replayed_order_makes_one_schedule() {
    let bank = Bank::start(Backend::Sqlite).await;
    let initiation = monthly(&bank, "100.00");
    let (consent_id, token) = authorised(&bank, SO_CONSENTS, &initiation).await;
    let body = order_body(&consent_id, &initiation);
    let first = bank
        .call(Call::post(SO_ORDERS, &token, &body).key("so-replay-1"))
        .await;
    assert_eq!(first.status, 201, "{:#}", first.body);
    let second = bank
        .call(Call::post(SO_ORDERS, &token, &body).key("so-replay-1"))
        .await;
    assert_eq!(second.status, 201, "{:#}", second.body);
    valid("POST", SO_ORDERS, &second);
    assert_eq!(second.body["Data"], first.body["Data"]);
    let count = bank
        .app
        .state()
        .core_banking
        .standing_orders(std::slice::from_ref(&bank.customer.everyday))
        .await
        .unwrap()
        .iter()
        .filter(|s| s.reference == "RENT")
        .count();
    assert_eq!(count, 1);
    let cc = bank.cc_token().await;
    let unknown = bank.get(&format!("{SO_ORDERS}/no-such-order"), &cc).await;
    assert_eq!(unknown.status, 400);
    valid(
        "GET",
        "/domestic-standing-orders/{DomesticStandingOrderId}",
        &unknown,
    );
    assert_eq!(unknown.error_code(), "UK.OBIE.Resource.NotFound");
}

#[tokio::test]
async fn the_core_schedules_once_per_request_id() {
    use bascule_core_banking::{Creditor, ScheduledPaymentInstruction};
    let bank = Bank::start(Backend::Sqlite).await;
    let core = &bank.app.state().core_banking;
    let instruction = ScheduledPaymentInstruction {
        request_id: uuid::Uuid::new_v4(),
        debtor: bank.customer.everyday.clone(),
        creditor: Creditor {
            name: "Alan Turing".into(),
            identification: bascule_domain::SortCodeAccountNumber::parse(
                &bank.stranger.identification,
            )
            .unwrap(),
        },
        amount: Pence(700),
        reference: "ONCE".into(),
        execute_on: date!(2026 - 01 - 20),
    };
    let first = core.schedule_payment(&instruction).await.unwrap();
    let again = core.schedule_payment(&instruction).await.unwrap();
    assert_eq!(first, again);
    let other = ScheduledPaymentInstruction {
        amount: Pence(701),
        ..instruction.clone()
    };
    assert!(matches!(
        core.schedule_payment(&other).await,
        Err(bascule_core_banking::CoreBankingError::IdempotencyConflict)
    ));
    let listed = core
        .scheduled_payments(std::slice::from_ref(&bank.customer.everyday))
        .await
        .unwrap();
    assert_eq!(listed.iter().filter(|s| s.reference == "ONCE").count(), 1);
}
