use std::time::Duration;

use serde_json::json;

use crate::support::{Bank, RESOURCE_UPDATE, REVOKED, Receiver, rid};

#[tokio::test]
async fn revoking_a_consent_emits_consent_authorization_revoked() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start(backend).await;
        let receiver = Receiver::start(&bank.app, 0).await;
        bank.subscribe(&bank.tpp, Some(&receiver.url)).await;
        let everyday = bank.customer.everyday.clone();
        let (consent, _) = bank
            .account_consent(&bank.tpp, std::slice::from_ref(&everyday))
            .await;

        bank.delete_account_consent(&bank.tpp, &consent).await;

        let mut revoked = None;
        let mut updated = None;
        for _ in 0..2 {
            let n = receiver.next(Duration::from_secs(1)).await;
            let claims = bank.verify(&bank.tpp, &n.jwt).await;
            if claims["events"].get(REVOKED).is_some() {
                revoked = Some(claims);
            } else {
                updated = Some(bank.verify_resource_update(&bank.tpp, &n.jwt).await);
            }
        }
        let revoked = revoked.expect("a consent-authorization-revoked SET");
        assert_eq!(rid(&revoked, REVOKED), consent);
        assert_eq!(
            revoked["events"][REVOKED]["subject"]["http://openbanking.org.uk/rty"],
            json!("account-access-consent")
        );
        assert_eq!(
            revoked["sub"],
            json!(bank.app.url(&format!(
                "/open-banking/v3.1/aisp/account-access-consents/{consent}"
            )))
        );
        let updated = updated.expect("a resource-update SET of the consent");
        assert_eq!(rid(&updated, RESOURCE_UPDATE), consent);
        assert_ne!(revoked["jti"], updated["jti"]);
        bank.shutdown().await;
    }
}
