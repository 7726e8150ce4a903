use std::time::Duration;

use bascule_events::admin::{StuckEvent, redrive, stuck};

use crate::support::{Bank, RESOURCE_UPDATE, Receiver, rid};

/// The client's stuck events once `done(events)` holds, waiting up to 2 s.
async fn stuck_when(bank: &Bank, done: impl Fn(&[StuckEvent]) -> bool) -> Vec<StuckEvent> {
    let store = &bank.app.state().store;
    for _ in 0..40 {
        let events = stuck(store, &bank.tpp.client_id).await.unwrap();
        if done(&events) {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the stuck events never reached the expected state");
}

#[tokio::test]
async fn an_event_whose_retries_ended_is_listed_and_re_driven_with_its_jti() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let receiver = Receiver::start(&bank.app, 2).await;
    bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
    let payment = bank.pay(&bank.tpp, "2.00").await;
    let first = receiver.next(Duration::from_secs(1)).await;
    assert_eq!(first.answered, 503);
    // The failure is recorded (and its retry scheduled) before the clock moves.
    stuck_when(&bank, |e| e.len() == 1 && e[0].last_error.is_some()).await;
    // Past the retry period (24 h by default): one more failure and it waits for polling.
    bank.app.clock.advance(time::Duration::hours(25));
    assert_eq!(receiver.next(Duration::from_secs(1)).await.answered, 503);
    let listed = stuck_when(&bank, |e| e.len() == 1 && e[0].status == "poll").await;
    assert_eq!(listed[0].attempts, 2);
    assert!(
        listed[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("503")),
        "{listed:?}"
    );
    assert!(receiver.next_within(Duration::from_secs(1)).await.is_none());

    let now = bascule_events::unix_ms(bascule_domain::Clock::now(bank.app.clock.as_ref()));
    let store = &bank.app.state().store;
    assert_eq!(redrive(store, &bank.tpp.client_id, now).await.unwrap(), 1);
    let again = receiver.next(Duration::from_secs(1)).await;
    assert_eq!(again.answered, 202);
    let claims = bank.verify_resource_update(&bank.tpp, &again.jwt).await;
    assert_eq!(claims["jti"], serde_json::json!(listed[0].jti));
    assert_eq!(rid(&claims, RESOURCE_UPDATE), payment);
    stuck_when(&bank, <[StuckEvent]>::is_empty).await;
    bank.shutdown().await;
}
