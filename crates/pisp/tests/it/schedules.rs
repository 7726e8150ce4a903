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

/// Grace's standing orders on the ledger with `reference`.
async fn standing_orders_on_core(
    bank: &Bank,
    reference: &str,
) -> Vec<bascule_domain::StandingOrder> {
    bank.app
        .state()
        .core_banking
        .standing_orders(std::slice::from_ref(&bank.customer.everyday))
        .await
        .unwrap()
        .into_iter()
        .filter(|s| s.reference == reference)
        .collect()
}

/// OB-301-DOP-100800
/// OB-301-DOP-100900
/// OB-301-DOP-101000
/// OB-301-DOP-101100
/// OB-301-DOP-101101
/// The scheduled payment of [`scheduled`] (reference INVOICE-77) on Grace's Everyday.
async fn scheduled_on_core(bank: &Bank) -> bascule_domain::ScheduledPayment {
    bank.app
        .state()
        .core_banking
        .scheduled_payments(std::slice::from_ref(&bank.customer.everyday))
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.reference == "INVOICE-77")
        .expect("the scheduled payment on the ledger")
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
    let sp = scheduled_on_core(&bank).await;
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

/// OB-301-DOP-101200
/// OB-301-DOP-101300
/// OB-301-DOP-101401
/// OB-301-DOP-101500
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
        standing_orders_on_core(&bank, "RENT")
            .await
            .pop()
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
    assert_eq!(standing_orders_on_core(&bank, "RENT").await.len(), 1);
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

/// A scheduled payment consent whose `RequestedExecutionDateTime` is spelt `when`: 201
/// AwaitingAuthorisation with the interaction id, the date-time echoed as sent; authorised,
/// its order is made (InitiationCompleted) for the same instant, and the ledger pays on
/// `day` (UTC).
async fn scheduled_consent_accepts(when: &str, day: time::Date) {
    let bank = Bank::start(Backend::Sqlite).await;
    let initiation = scheduled(&bank, "7.00", when);
    let reply = post_consent(&bank, SP_CONSENTS, &initiation).await;
    assert_eq!(reply.status, 201, "{when}: {:#}", reply.body);
    assert_eq!(
        reply.header("x-fapi-interaction-id"),
        Some(bascule_testkit::api::INTERACTION_ID)
    );
    assert_eq!(reply.body["Data"]["Status"], "AwaitingAuthorisation");
    assert!(reply.body["Data"]["ConsentId"].is_string());
    assert_eq!(
        reply.body["Data"]["Initiation"]["RequestedExecutionDateTime"],
        when
    );
    let (consent_id, token) = authorised(&bank, SP_CONSENTS, &initiation).await;
    let made = post_order(
        &bank,
        SP_ORDERS,
        &token,
        &order_body(&consent_id, &initiation),
    )
    .await;
    assert_eq!(made.status, 201, "{:#}", made.body);
    assert_eq!(made.body["Data"]["Status"], "InitiationCompleted");
    let sp = scheduled_on_core(&bank).await;
    assert_eq!(sp.execute_on, day);
}

/// OB-301-DOP-100810
///
/// `RequestedExecutionDateTime` with a negative offset (`2006-01-02T15:04:05-07:00`).
#[tokio::test]
async fn a_scheduled_consent_accepts_an_execution_time_with_an_offset() {
    // 20:00 at -07:00 is 03:00 UTC the next day: the bank's day is the UTC one.
    scheduled_consent_accepts("2026-01-10T20:00:00-07:00", date!(2026 - 01 - 11)).await;
}

/// OB-301-DOP-100820
///
/// `RequestedExecutionDateTime` in UTC written with `Z` (`2006-01-02T15:04:05Z`).
#[tokio::test]
async fn a_scheduled_consent_accepts_an_execution_time_ending_in_z() {
    scheduled_consent_accepts("2026-01-10T10:00:00Z", date!(2026 - 01 - 10)).await;
}

/// OB-301-DOP-1015001
///
/// Both `NumberOfPayments` and `FinalPaymentDateTime`: the suite expects a refusal, the spec
/// allows both (neither excludes the other in `OBWriteDomesticStandingOrderConsent5`); the
/// bank takes them when they name the same last payment and refuses them when they do not
/// (CONFORMANCE.md).
#[tokio::test]
async fn a_standing_order_with_a_count_and_a_final_date_needs_them_to_agree() {
    let bank = Bank::start(Backend::Sqlite).await;
    // 15 Jan, 15 Feb, 15 Mar: three payments, the last on FinalPaymentDateTime.
    let mut agreeing = monthly(&bank, "100.00");
    agreeing["NumberOfPayments"] = json!("3");
    let (consent_id, token) = authorised(&bank, SO_CONSENTS, &agreeing).await;
    let made = post_order(
        &bank,
        SO_ORDERS,
        &token,
        &order_body(&consent_id, &agreeing),
    )
    .await;
    assert_eq!(made.status, 201, "{:#}", made.body);
    assert_eq!(made.body["Data"]["Initiation"]["NumberOfPayments"], "3");
    let id = made.body["Data"]["DomesticStandingOrderId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (got, _) = read_order(&bank, SO_ORDERS, "DomesticStandingOrderId", &id).await;
    assert_eq!(got.body["Data"], made.body["Data"]);
    let so = standing_orders_on_core(&bank, "RENT").await;
    assert_eq!(so.len(), 1);
    assert_eq!(so[0].final_payment_on, Some(date!(2026 - 03 - 15)));

    let mut disagreeing = monthly(&bank, "100.00");
    disagreeing["NumberOfPayments"] = json!("4");
    let reply = post_consent(&bank, SO_CONSENTS, &disagreeing).await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Field.Invalid");
    assert_eq!(
        reply.body["Errors"][0]["Path"],
        "Data.Initiation.NumberOfPayments"
    );
}

/// OB-301-DOP-1015002
///
/// `FinalPaymentAmount` on a standing order bounded by neither `FinalPaymentDateTime` nor
/// `NumberOfPayments`: the order has no final payment for the amount to be the amount of, so
/// the consent is refused (400 `UK.OBIE.Field.Unexpected`); with a count it is taken.
#[tokio::test]
async fn a_final_payment_amount_without_a_final_payment_is_refused() {
    let bank = Bank::start(Backend::Sqlite).await;
    let mut open_ended = monthly(&bank, "100.00");
    open_ended
        .as_object_mut()
        .unwrap()
        .remove("FinalPaymentDateTime");
    open_ended["FinalPaymentAmount"] = json!({"Amount": "100.00", "Currency": "GBP"});
    let reply = post_consent(&bank, SO_CONSENTS, &open_ended).await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Field.Unexpected");
    assert_eq!(
        reply.body["Errors"][0]["Path"],
        "Data.Initiation.FinalPaymentAmount"
    );
    let mut counted = open_ended.clone();
    counted["NumberOfPayments"] = json!("2");
    let reply = post_consent(&bank, SO_CONSENTS, &counted).await;
    assert_eq!(reply.status, 201, "{:#}", reply.body);
}

/// OB-301-DOP-101400
///
/// `POST /domestic-standing-orders` whose Frequency is no Open Banking code, against an
/// authorised consent: 400 `UK.OBIE.Field.Invalid` at `Data.Initiation.Frequency` (the
/// order's Initiation is checked by the same rules as the consent's before it is compared),
/// and no standing order is made.
#[tokio::test]
async fn a_standing_order_with_an_invalid_frequency_is_400() {
    let bank = Bank::start(Backend::Sqlite).await;
    let initiation = monthly(&bank, "100.00");
    let (consent_id, token) = authorised(&bank, SO_CONSENTS, &initiation).await;
    let mut invalid = initiation.clone();
    invalid["Frequency"] = json!("Fortnightly");
    let reply = post_order(&bank, SO_ORDERS, &token, &order_body(&consent_id, &invalid)).await;
    assert_eq!(reply.status, 400, "{:#}", reply.body);
    assert_eq!(reply.error_code(), "UK.OBIE.Field.Invalid");
    assert_eq!(reply.body["Errors"][0]["Path"], "Data.Initiation.Frequency");
    assert!(standing_orders_on_core(&bank, "RENT").await.is_empty());
}
