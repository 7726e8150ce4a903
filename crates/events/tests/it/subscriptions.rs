use bascule_testkit::api::{Call, Jws};
use serde_json::json;

use crate::support::{Bank, EVENTS, valid};

#[tokio::test]
async fn a_client_has_one_subscription_it_can_read_change_and_delete() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let tpp = &bank.tpp;
        let id = bank
            .subscribe(tpp, Some("https://tpp.example/events"))
            .await;

        let again = bank.post_subscription(tpp, json!({"Version": "3.1"})).await;
        assert_eq!(again.status, 409, "one subscription per client");
        valid("POST", "/event-subscriptions", &again);

        let token = bank.cc(tpp, "payments").await;
        let list = bank.call(Call::get("/event-subscriptions", &token)).await;
        assert_eq!(list.status, 200, "{:#}", list.body);
        valid("GET", "/event-subscriptions", &list);
        bank.verify_response(&list);
        let listed = &list.body["Data"]["EventSubscription"];
        assert_eq!(listed.as_array().map(Vec::len), Some(1));
        assert_eq!(listed[0]["EventSubscriptionId"], json!(id));
        assert_eq!(
            listed[0]["CallbackUrl"],
            json!("https://tpp.example/events")
        );

        let path = format!("/event-subscriptions/{id}");
        let changed = bank
            .call(
                Call::new(reqwest::Method::PUT, &path, &token)
                    .json(json!({"Data": {
                        "EventSubscriptionId": id,
                        "Version": "3.1",
                        "EventTypes": ["UK.OBIE.Consent-Authorization-Revoked"]
                    }}))
                    .jws(Jws::Sign),
            )
            .await;
        assert_eq!(changed.status, 200, "{:#}", changed.body);
        valid(
            "PUT",
            "/event-subscriptions/{EventSubscriptionId}",
            &changed,
        );
        assert!(changed.body["Data"].get("CallbackUrl").is_none());
        assert_eq!(
            changed.body["Data"]["EventTypes"],
            json!(["UK.OBIE.Consent-Authorization-Revoked"])
        );

        let deleted = bank
            .call(Call::new(reqwest::Method::DELETE, &path, &token))
            .await;
        assert_eq!(deleted.status, 204);
        let list = bank.call(Call::get("/event-subscriptions", &token)).await;
        valid("GET", "/event-subscriptions", &list);
        assert_eq!(list.body["Data"]["EventSubscription"], json!([]));
        let gone = bank
            .call(Call::new(reqwest::Method::DELETE, &path, &token))
            .await;
        assert_eq!(gone.status, 400);
        assert_eq!(gone.error_code(), "UK.OBIE.Resource.NotFound");
        valid(
            "DELETE",
            "/event-subscriptions/{EventSubscriptionId}",
            &gone,
        );
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn a_subscription_is_refused_an_http_callback_unknown_types_and_another_clients_id() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let tpp = &bank.tpp;
    for (data, path) in [
        (
            json!({"Version": "3.1", "CallbackUrl": "http://tpp.example/events"}),
            "Data.CallbackUrl",
        ),
        (
            json!({"Version": "3.1", "CallbackUrl": "not a url"}),
            "Data.CallbackUrl",
        ),
        (
            json!({"Version": "3.1", "EventTypes": ["UK.OBIE.Nothing"]}),
            "Data.EventTypes[0]",
        ),
        (json!({"Version": "3.1.11.1234"}), "Data.Version"),
        (json!({"Version": "3.1", "Callback": "x"}), "Data.Callback"),
    ] {
        let reply = bank.post_subscription(tpp, data.clone()).await;
        assert_eq!(reply.status, 400, "{data}: {:#}", reply.body);
        valid("POST", "/event-subscriptions", &reply);
        assert_eq!(
            reply.body["Errors"][0]["Path"],
            json!(path),
            "{data}: {:#}",
            reply.body
        );
    }

    let id = bank.subscribe(tpp, None).await;
    let other = bank.other_tpp().await;
    let token = bank.cc(&other, "accounts").await;
    let reply = EVENTS
        .send(
            &bank.app,
            &other,
            Call::new(
                reqwest::Method::DELETE,
                &format!("/event-subscriptions/{id}"),
                &token,
            ),
        )
        .await;
    assert_eq!(reply.status, 403, "{:#}", reply.body);
    valid(
        "DELETE",
        "/event-subscriptions/{EventSubscriptionId}",
        &reply,
    );
    bank.shutdown().await;
}

#[tokio::test]
async fn an_unsigned_or_wrongly_signed_subscription_is_refused() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let token = bank.cc(&bank.tpp, "accounts").await;
    let body = json!({"Data": {"Version": "3.1"}});
    for (jws, code) in [
        (Jws::None, "UK.OBIE.Signature.Missing"),
        (
            Jws::Raw("e30..c2ln".into()),
            "UK.OBIE.Signature.MissingClaim",
        ),
    ] {
        let reply = bank
            .call(
                Call::new(reqwest::Method::POST, "/event-subscriptions", &token)
                    .json(body.clone())
                    .jws(jws),
            )
            .await;
        assert_eq!(reply.status, 400, "{:#}", reply.body);
        assert_eq!(reply.error_code(), code);
        valid("POST", "/event-subscriptions", &reply);
        bank.verify_response(&reply);
    }
    let list = bank.call(Call::get("/event-subscriptions", &token)).await;
    assert_eq!(
        list.body["Data"]["EventSubscription"],
        json!([]),
        "nothing was created"
    );
    bank.shutdown().await;
}
