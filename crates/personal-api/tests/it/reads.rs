use bascule_domain::Pence;
use bascule_testkit::people::pay_in;
use serde_json::json;

use crate::support::Bank;

#[tokio::test]
async fn balances_and_pots_are_the_ledgers() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let token = bank.reader().await;
        let everyday = bank.grace.everyday.id.to_string();
        let balance = bank
            .get(&format!("/accounts/{everyday}/balance"), &token)
            .await;
        assert_eq!(balance.status, 200, "{:#}", balance.body);
        // £1,000 salary less £200 moved to the pot; £500 arranged overdraft.
        assert_eq!(balance.body["balance"], json!("800.00"), "{backend:?}");
        assert_eq!(balance.body["available"], json!("1300.00"));
        assert_eq!(balance.body["pending"], json!("0.00"));
        let pots = bank.get("/pots", &token).await;
        assert_eq!(
            pots.body["pots"],
            json!([{"id": bank.pot(), "name": "Holiday", "parent_account_id": everyday,
                    "currency": "GBP", "balance": "200.00", "goal": "1000.00"}])
        );
        let one = bank.get(&format!("/accounts/{everyday}"), &token).await;
        assert_eq!(one.body["account"]["name"], json!("Everyday"));
        assert_eq!(one.body["account"]["type"], json!("current_account"));
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn transactions_come_newest_first_in_pages_with_a_cursor_and_date_filters() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let token = bank.reader().await;
        let everyday = bank.grace.everyday.id.clone();
        let start = bascule_domain::Clock::now(bank.app.clock.as_ref());
        for i in 1..=5 {
            bank.app.clock.advance(time::Duration::minutes(1));
            pay_in(
                &bank.app.ledger,
                &everyday,
                Pence(i * 100),
                &format!("REF{i}"),
            )
            .await
            .unwrap();
        }
        // 7 lines: the salary, the move to the pot, REF1..REF5.
        let path = format!("/accounts/{everyday}/transactions");
        let mut seen = Vec::new();
        let mut next = format!("{path}?limit=3");
        loop {
            let page = bank.get(&next, &token).await;
            assert_eq!(page.status, 200, "{:#}", page.body);
            let items = page.body["transactions"].as_array().unwrap();
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|t| t["reference"].clone()));
            match page.body["next_cursor"].as_str() {
                Some(c) => next = format!("{path}?limit=3&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 7, "{backend:?}: {seen:?}");
        assert_eq!(
            &seen[..5],
            &[
                json!("REF5"),
                json!("REF4"),
                json!("REF3"),
                json!("REF2"),
                json!("REF1")
            ]
        );

        let since = (start + time::Duration::seconds(150))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let recent = bank
            .get(
                &format!("{path}?since={}", since.replace('+', "%2B")),
                &token,
            )
            .await;
        let refs: Vec<_> = recent.body["transactions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["reference"].clone())
            .collect();
        assert_eq!(refs, vec![json!("REF5"), json!("REF4"), json!("REF3")]);
        let first = &recent.body["transactions"][0];
        assert_eq!(first["amount"], json!("5.00"));
        assert_eq!(first["status"], json!("booked"));
        assert_eq!(first["currency"], json!("GBP"));

        for bad in [
            "limit=0",
            "limit=101",
            "since=yesterday",
            "cursor=forged",
            "page=2",
        ] {
            let reply = bank.get(&format!("{path}?{bad}"), &token).await;
            assert_eq!(reply.status, 400, "{bad}: {:#}", reply.body);
            assert_eq!(reply.code(), "invalid_field", "{bad}");
        }
        bank.shutdown().await;
    }
}
