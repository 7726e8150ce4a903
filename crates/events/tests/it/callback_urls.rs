//! The legacy Callback URL API (v3.1.6 `/callback-urls`): CRUD validated against its official
//! file, resource-update SETs pushed to the URL and nothing else, and an event subscription
//! superseding it.

use std::time::Duration;

use bascule_testkit::Tpp;
use bascule_testkit::api::{Call, Jws, Reply, assert_valid};
use serde_json::{Value, json};

use crate::support::{Bank, RESOURCE_UPDATE, Receiver, rid, valid};

const SPEC: &str = "v3.1.6/callback-urls-openapi.json";
const SECOND: Duration = Duration::from_secs(1);

impl Bank {
    async fn callback_call(
        &self,
        tpp: &Tpp,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let token = self.cc(tpp, "payments").await;
        let mut call = Call::new(method, path, &token).via(tpp);
        if let Some(body) = body {
            call = call.json(body).jws(Jws::Sign);
        }
        self.call(call).await
    }

    /// `POST /callback-urls` with `url`, asserting 201, the schema and the signature → its id.
    async fn register_callback(&self, tpp: &Tpp, url: &str) -> String {
        let reply = self
            .callback_call(
                tpp,
                reqwest::Method::POST,
                "/callback-urls",
                Some(json!({"Data": {"Url": url, "Version": "3.1"}})),
            )
            .await;
        assert_eq!(reply.status, 201, "{:#}", reply.body);
        assert_valid(SPEC, "POST", "/callback-urls", &reply);
        self.verify_response(&reply);
        assert_eq!(reply.body["Data"]["Url"], json!(url));
        reply.body["Data"]["CallbackUrlId"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn callback_urls(&self, tpp: &Tpp) -> Value {
        let reply = self
            .callback_call(tpp, reqwest::Method::GET, "/callback-urls", None)
            .await;
        assert_eq!(reply.status, 200, "{:#}", reply.body);
        assert_valid(SPEC, "GET", "/callback-urls", &reply);
        self.verify_response(&reply);
        reply.body["Data"]["CallbackUrl"].clone()
    }
}

#[tokio::test]
async fn a_client_has_one_callback_url_it_can_read_change_and_delete() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let tpp = &bank.tpp;
        let id = bank.register_callback(tpp, "https://tpp.example/cb").await;

        // RES/event-notifications/callback-url §POST: 409 if the TPP has one (the v3.1.6 file
        // declares no 409; see CONFORMANCE.md).
        let again = bank
            .callback_call(
                tpp,
                reqwest::Method::POST,
                "/callback-urls",
                Some(json!({"Data": {"Url": "https://tpp.example/other", "Version": "3.1"}})),
            )
            .await;
        assert_eq!(again.status, 409, "{:#}", again.body);
        assert!(again.raw.is_empty());

        let listed = bank.callback_urls(tpp).await;
        assert_eq!(
            listed,
            json!([{"CallbackUrlId": id, "Url": "https://tpp.example/cb", "Version": "3.1"}])
        );

        let path = format!("/callback-urls/{id}");
        let changed = bank
            .callback_call(
                tpp,
                reqwest::Method::PUT,
                &path,
                Some(json!({"Data": {"Url": "https://tpp.example/v2", "Version": "3.1.6"}})),
            )
            .await;
        assert_eq!(changed.status, 200, "{:#}", changed.body);
        assert_valid(SPEC, "PUT", "/callback-urls/{CallbackUrlId}", &changed);
        bank.verify_response(&changed);
        assert_eq!(changed.body["Data"]["Url"], json!("https://tpp.example/v2"));
        assert_eq!(bank.callback_urls(tpp).await[0]["Version"], json!("3.1.6"));

        // Not an event subscription, whatever the table.
        let token = bank.cc(tpp, "accounts").await;
        let subscriptions = bank.call(Call::get("/event-subscriptions", &token)).await;
        valid("GET", "/event-subscriptions", &subscriptions);
        assert_eq!(subscriptions.body["Data"]["EventSubscription"], json!([]));

        let deleted = bank
            .callback_call(tpp, reqwest::Method::DELETE, &path, None)
            .await;
        assert_eq!(deleted.status, 204);
        assert_eq!(bank.callback_urls(tpp).await, json!([]));
        let gone = bank
            .callback_call(tpp, reqwest::Method::DELETE, &path, None)
            .await;
        assert_eq!(gone.status, 400, "{:#}", gone.body);
        assert_eq!(gone.error_code(), "UK.OBIE.Resource.NotFound");
        assert_valid(SPEC, "DELETE", "/callback-urls/{CallbackUrlId}", &gone);
        bank.shutdown().await;
    }
}

#[tokio::test]
async fn a_callback_url_is_refused_http_unsigned_bodies_and_another_clients_id() {
    let bank = Bank::start(bascule_store::Backend::Sqlite).await;
    let tpp = &bank.tpp;
    for (data, path) in [
        (
            json!({"Url": "http://tpp.example/cb", "Version": "3.1"}),
            "Data.Url",
        ),
        (json!({"Url": "nowhere", "Version": "3.1"}), "Data.Url"),
        (
            json!({"Url": "https://tpp.example/cb", "Version": "3.1.11.1234"}),
            "Data.Version",
        ),
        (
            json!({"Url": "https://tpp.example/cb", "Version": "3.1", "EventTypes": []}),
            "Data.EventTypes",
        ),
    ] {
        let reply = bank
            .callback_call(
                tpp,
                reqwest::Method::POST,
                "/callback-urls",
                Some(json!({ "Data": data })),
            )
            .await;
        assert_eq!(reply.status, 400, "{data}: {:#}", reply.body);
        assert_valid(SPEC, "POST", "/callback-urls", &reply);
        assert_eq!(reply.body["Errors"][0]["Path"], json!(path), "{data}");
    }
    let token = bank.cc(tpp, "accounts").await;
    let unsigned = bank
        .call(
            Call::new(reqwest::Method::POST, "/callback-urls", &token)
                .json(json!({"Data": {"Url": "https://tpp.example/cb", "Version": "3.1"}})),
        )
        .await;
    assert_eq!(unsigned.status, 400, "{:#}", unsigned.body);
    assert_eq!(unsigned.error_code(), "UK.OBIE.Signature.Missing");
    assert_eq!(bank.callback_urls(tpp).await, json!([]), "nothing created");

    let id = bank.register_callback(tpp, "https://tpp.example/cb").await;
    let other = bank.other_tpp().await;
    let stolen = bank
        .callback_call(
            &other,
            reqwest::Method::DELETE,
            &format!("/callback-urls/{id}"),
            None,
        )
        .await;
    assert_eq!(stolen.status, 403, "{:#}", stolen.body);
    // The v3.1.6 file declares this 403 without content; the bank still says why, in RW's
    // error format.
    bascule_testkit::openapi::validate(SPEC, "OBErrorResponse1", &stolen.body).unwrap();
    assert_eq!(stolen.error_code(), "UK.OBIE.Resource.ConsentMismatch");
    assert_eq!(
        bank.callback_urls(tpp).await.as_array().map(Vec::len),
        Some(1)
    );
    bank.shutdown().await;
}

#[tokio::test]
async fn a_callback_url_hears_resource_updates_only_until_an_event_subscription_supersedes_it() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let receiver = Receiver::start(&bank.app, 0).await;
        bank.register_callback(&bank.tpp, &receiver.url).await;

        let payment = bank.pay(&bank.tpp, "12.00").await;
        let n = receiver.next(SECOND).await;
        let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
        assert_eq!(rid(&claims, RESOURCE_UPDATE), payment);

        // A revocation raises consent-authorization-revoked and a resource-update of the
        // consent: a callback URL hears only the second.
        let everyday = bank.customer.everyday.clone();
        let (consent, _) = bank
            .account_consent(&bank.tpp, std::slice::from_ref(&everyday))
            .await;
        bank.delete_account_consent(&bank.tpp, &consent).await;
        let n = receiver.next(SECOND).await;
        let claims = bank.verify_resource_update(&bank.tpp, &n.jwt).await;
        assert_eq!(rid(&claims, RESOURCE_UPDATE), consent);
        assert!(receiver.next_within(SECOND / 2).await.is_none());

        // EVNP: an event subscription supersedes the callback URL.
        let subscription = bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
        assert_eq!(bank.callback_urls(&bank.tpp).await, json!([]));
        let token = bank.cc(&bank.tpp, "accounts").await;
        let listed = bank.call(Call::get("/event-subscriptions", &token)).await;
        assert_eq!(
            listed.body["Data"]["EventSubscription"][0]["EventSubscriptionId"],
            json!(subscription)
        );
        bank.shutdown().await;
    }
}
