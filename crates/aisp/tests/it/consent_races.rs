//! Two DELETEs of one account-access consent at once: one revokes it (204), the other finds it
//! gone, as a DELETE after the first would (400 `UK.OBIE.Resource.NotFound`) — never a 500 from
//! the lost compare-and-set. Repeated so the two really overlap on both databases.

use bascule_domain::ConsentStatus;

use crate::support::{Bank, valid};

const ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_deletes_of_one_consent_give_one_204_and_one_not_found() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let cc = bank.cc_token().await;
        for round in 0..ROUNDS {
            let (id, token) = bank
                .consented_token(
                    &["ReadAccountsBasic"],
                    std::slice::from_ref(&bank.customer.everyday),
                )
                .await;
            let path = format!("/account-access-consents/{id}");
            let (a, b) = tokio::join!(bank.delete(&path, &cc), bank.delete(&path, &cc));

            let mut statuses = [a.status, b.status];
            statuses.sort_unstable();
            assert_eq!(
                statuses,
                [204, 400],
                "{backend:?} round {round}: {:#} / {:#}",
                a.body,
                b.body
            );
            let refused = if a.status == 400 { &a } else { &b };
            assert_eq!(refused.error_code(), "UK.OBIE.Resource.NotFound");
            valid("DELETE", "/account-access-consents/{ConsentId}", refused);
            let consent = bank.app.state().authz.consents().get(&id).await.unwrap();
            assert_eq!(consent.unwrap().status, ConsentStatus::Revoked);
            assert_eq!(bank.get("/accounts", &token).await.status, 401);
        }
    }
}
