//! Two DELETEs of one funds-confirmation consent at once. A revoked funds-confirmation consent
//! stays readable and deleting it again only confirms it (204, see `consents`), so the two end
//! as two DELETEs one after the other would: both 204, the consent Revoked, its token dead —
//! never a 500 from the lost compare-and-set. Repeated so the two really overlap on both
//! databases.

use bascule_domain::ConsentStatus;

use crate::support::Bank;

const ROUNDS: usize = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_concurrent_deletes_of_one_consent_both_confirm_the_revocation() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let cc = bank.cc_token().await;
        for round in 0..ROUNDS {
            let (id, token) = bank.consented_token(&bank.customer.everyday).await;
            let path = format!("/funds-confirmation-consents/{id}");
            let (a, b) = tokio::join!(bank.delete(&path, &cc), bank.delete(&path, &cc));

            assert_eq!(
                [a.status, b.status],
                [204, 204],
                "{backend:?} round {round}: {:#} / {:#}",
                a.body,
                b.body
            );
            let read = bank.get(&path, &cc).await;
            assert_eq!(read.body["Data"]["Status"], "Revoked");
            let consent = bank.app.state().authz.consents().get(&id).await.unwrap();
            assert_eq!(consent.unwrap().status, ConsentStatus::Revoked);
            let after = bank.confirm(&token, &id, "after", "10.00").await;
            assert_eq!(after.status, 401, "{:#}", after.body);
        }
    }
}
