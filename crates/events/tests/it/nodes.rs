use std::collections::HashMap;
use std::time::{Duration, Instant};

use bascule_authz::outbox::{self, EventType, Subject};
use bascule_store::Backend;
use bascule_store::sqlx;

use crate::support::{Bank, Receiver};

const EVENTS: usize = 1_000;

#[tokio::test]
async fn two_servers_on_one_postgres_deliver_every_event_once_with_no_attempt_made_by_both() {
    let bank = Bank::start(Backend::Postgres).await;
    // A second node: the same database and data directory (CA, signing keys), its own workers.
    let url = bank.app.db.url.clone();
    let data_dir = bank.app.data_dir.path().to_path_buf();
    let public_url = bank.app.base_url.clone();
    let other = bascule_testkit::spawn_app_with(Backend::Postgres, move |c| {
        c.database_url = Some(url);
        c.data_dir = data_dir;
        c.public_url = Some(public_url);
    })
    .await
    .unwrap();
    let receiver = Receiver::start(&bank.app, 0).await;
    bank.subscribe(&bank.tpp, Some(&receiver.url)).await;

    let store = &bank.app.state().store;
    let now = bascule_domain::Clock::now(bank.app.clock.as_ref());
    // Short transactions: a long one would hold back PostgreSQL's xid horizon, which the
    // ledger feed of every other test on this server waits for.
    for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(50) {
        let mut tx = store.begin().await.unwrap();
        for i in chunk {
            let subject = Subject::account(&format!("account-{i}"));
            outbox::record_in(
                &mut tx,
                now,
                &bank.tpp.client_id,
                EventType::ResourceUpdate,
                &subject,
            )
            .await
            .unwrap()
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    let started = Instant::now();
    let mut received: HashMap<String, usize> = HashMap::new();
    while received.len() < EVENTS {
        let n = receiver.next(Duration::from_secs(10)).await;
        let claims = bank.verify(&bank.tpp, &n.jwt).await;
        *received
            .entry(claims["jti"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    // Anything late would be a second attempt.
    while let Some(n) = receiver.next_within(Duration::from_secs(1)).await {
        let claims = bank.verify(&bank.tpp, &n.jwt).await;
        *received
            .entry(claims["jti"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    let twice: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");

    // Every row was claimed once (attempts counts claims) and is done.
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, attempts FROM event_outbox")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), EVENTS);
    assert!(
        rows.iter().all(|(s, a)| s == "done" && *a == 1),
        "{:?}",
        rows.iter()
            .filter(|(s, a)| s != "done" || *a != 1)
            .take(5)
            .collect::<Vec<_>>()
    );
    // Both nodes delivered some (each claims at most one batch per round).
    let owners: i64 = sqlx::query_scalar("SELECT COUNT(DISTINCT lease_owner) FROM event_outbox")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(owners, 2, "both nodes delivered");
    eprintln!(
        "{EVENTS} events delivered in {:?} by two nodes",
        started.elapsed()
    );
    other.shutdown().await.unwrap();
    bank.shutdown().await;
}

#[tokio::test]
async fn an_event_claimed_by_a_node_that_died_is_delivered_once_its_lease_ends() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let receiver = Receiver::start(&bank.app, 0).await;
        bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
        let store = &bank.app.state().store;
        let now = bascule_domain::Clock::now(bank.app.clock.as_ref());
        // Written and, in the same commit, claimed by a node that then died mid-push (its lease
        // runs a minute).
        let mut tx = store.begin().await.unwrap();
        let jti = outbox::record_in(
            &mut tx,
            now,
            &bank.tpp.client_id,
            EventType::ResourceUpdate,
            &Subject::account("account-1"),
        )
        .await
        .unwrap()
        .unwrap();
        let lease_until = outbox::unix_ms(now) + 60_000;
        tx.execute(
            sqlx::query(
                "UPDATE event_outbox SET lease_owner = 'dead-node', lease_until_ms = $1, \
                 attempts = 1 WHERE jti = $2",
            )
            .bind(lease_until)
            .bind(jti.as_str()),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        assert!(
            receiver.next_within(Duration::from_secs(1)).await.is_none(),
            "{backend:?}: another node pushed while the lease held"
        );
        bank.app.clock.advance(time::Duration::seconds(61));
        let n = receiver.next(Duration::from_secs(1)).await;
        let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
        assert_eq!(claims["jti"], serde_json::json!(jti), "{backend:?}");
        // The push records its outcome just after the receiver answered.
        let mut row = (String::new(), 0, String::new());
        for _ in 0..20 {
            row = sqlx::query_as(
                "SELECT status, attempts, lease_owner FROM event_outbox WHERE jti = $1",
            )
            .bind(jti.as_str())
            .fetch_one(store.pool())
            .await
            .unwrap();
            if row.0 == "done" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (status, attempts, owner): (String, i64, String) = row;
        assert_eq!((status.as_str(), attempts), ("done", 2), "{backend:?}");
        assert_ne!(owner, "dead-node");
        bank.shutdown().await;
    }
}
