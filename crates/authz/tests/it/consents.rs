//! The consent service: revocation kills a consent's tokens in its own transaction, a
//! re-authorisation keeps the ConsentId, a customer's consents are listed, and a change that
//! loses a race to another is `LostRace` (a spec error), never a store failure.

use bascule_authz::{Authorisation, ConsentError, RevokedBy};
use bascule_domain::{
    AccountId, Consent, ConsentEvent, ConsentId, ConsentKind, ConsentStatus, CustomerId,
};
use bascule_store::Backend;
use serde_json::Value;
use time::Duration;

use crate::support::Bank;

/// An account-access consent the fixture's customer authorised through the real flow, and the
/// token response the fixture's client got for it.
async fn authorised(bank: &Bank) -> (Consent, Value) {
    let consent = bank.consent(ConsentKind::AccountAccess).await;
    let tokens = bank.tokens(&bank.tpp, &bank.request(&consent)).await;
    (consent, tokens)
}

/// The fixture's customer authorises consent `id` (`which` time) for `accounts`.
async fn authorise(
    bank: &Bank,
    id: &ConsentId,
    which: Authorisation,
    accounts: &[AccountId],
) -> Result<Consent, ConsentError> {
    let consents = bank.app.state().authz.consents();
    consents
        .authorise(id, which, &bank.customer.id, accounts)
        .await
}

/// A domestic-payment consent the fixture's customer authorised for their first account.
async fn authorised_payment(bank: &Bank) -> Consent {
    let consent = bank.consent(ConsentKind::DomesticPayment).await;
    let debtor = &bank.customer.accounts[..1];
    authorise(bank, &consent.id, Authorisation::First, debtor)
        .await
        .unwrap()
}

fn token<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name}: {tokens}"))
}

async fn access_token_works(bank: &Bank, tokens: &Value) -> bool {
    bank.app
        .state()
        .authz
        .check_access_token(token(tokens, "access_token"), &bank.tpp.x5t())
        .await
        .is_ok()
}

#[tokio::test]
async fn revoking_a_consent_kills_its_tokens_in_the_same_transaction() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start_on(backend).await;
        let state = bank.app.state();
        let consents = state.authz.consents();
        let (consent, tokens) = authorised(&bank).await;

        // Rolled back: neither the revocation nor the tokens' death happened.
        let mut tx = state.store.begin().await.unwrap();
        let revocation = consents
            .revoke_in(&mut tx, &consent.id, RevokedBy::Customer)
            .await
            .unwrap();
        assert!(revocation.revoked_now);
        assert_eq!(revocation.consent.status, ConsentStatus::Revoked);
        assert_eq!(revocation.tokens_revoked, 2, "access and refresh token");
        drop(tx);
        assert_eq!(
            bank.consent_status(&consent).await,
            ConsentStatus::Authorised
        );
        assert!(access_token_works(&bank, &tokens).await, "{backend:?}");

        // Committed: both at once.
        let revocation = consents
            .revoke(&consent.id, RevokedBy::Customer)
            .await
            .unwrap();
        assert!(revocation.revoked_now);
        assert_eq!(revocation.by, RevokedBy::Customer);
        assert_eq!(bank.consent_status(&consent).await, ConsentStatus::Revoked);
        assert!(!access_token_works(&bank, &tokens).await, "{backend:?}");
        let (status, _) = bank
            .token(
                &bank.tpp,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token(&tokens, "refresh_token")),
                ],
            )
            .await;
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn revoking_a_closed_consent_only_confirms_it() {
    let bank = Bank::start().await;
    let consents = bank.app.state().authz.consents();
    let (consent, _) = authorised(&bank).await;
    consents.revoke(&consent.id, RevokedBy::Tpp).await.unwrap();

    let again = consents.revoke(&consent.id, RevokedBy::Bank).await.unwrap();
    assert!(!again.revoked_now);
    assert_eq!(again.tokens_revoked, 0);
    assert_eq!(again.consent.status, ConsentStatus::Revoked);
}

#[tokio::test]
async fn revoking_a_lapsed_consent_records_it_expired() {
    let bank = Bank::start().await;
    let consents = bank.app.state().authz.consents();
    let (consent, tokens) = authorised(&bank).await;
    bank.app
        .clock
        .set(consent.expires_at.unwrap() + Duration::seconds(1));

    let revocation = consents.revoke(&consent.id, RevokedBy::Bank).await.unwrap();
    assert!(!revocation.revoked_now);
    assert_eq!(revocation.consent.status, ConsentStatus::Expired);
    assert_eq!(bank.consent_status(&consent).await, ConsentStatus::Expired);
    assert_eq!(revocation.tokens_revoked, 2, "{tokens}");
}

#[tokio::test]
async fn reauthorising_keeps_the_consent_id_and_records_the_new_authorisation() {
    let bank = Bank::start().await;
    let consents = bank.app.state().authz.consents();
    let (consent, tokens) = authorised(&bank).await;
    let before = consents.get(consent.id.as_str()).await.unwrap().unwrap();
    bank.app.clock.advance(Duration::hours(1));
    let only_second = [bank.customer.accounts[1].clone()];

    let again = authorise(&bank, &consent.id, Authorisation::Again, &only_second)
        .await
        .unwrap();
    assert_eq!(again.id, consent.id);
    assert_eq!(again.status, ConsentStatus::Authorised);
    assert_eq!(again.accounts, only_second);
    assert_eq!(
        again.authorised_at.map(|t| t.unix_timestamp()),
        Some(bank.now())
    );
    assert!(again.authorised_at > before.authorised_at);
    // The status did not change, so neither does its time.
    assert_eq!(again.status_updated_at, before.status_updated_at);
    assert_eq!(
        consents.get(consent.id.as_str()).await.unwrap(),
        Some(again)
    );
    assert!(access_token_works(&bank, &tokens).await);
}

#[tokio::test]
async fn reauthorising_is_refused_for_another_customer_a_waiting_and_a_payment_consent() {
    let bank = Bank::start().await;
    let consents = bank.app.state().authz.consents();
    let (consent, _) = authorised(&bank).await;
    let accounts = bank.customer.accounts.clone();
    let stranger = CustomerId::parse("CUST-someone-else".to_owned()).unwrap();

    let other = consents
        .authorise(&consent.id, Authorisation::Again, &stranger, &accounts)
        .await
        .unwrap_err();
    assert!(matches!(other, ConsentError::NotFound { .. }), "{other:?}");

    let waiting = bank.consent(ConsentKind::FundsConfirmation).await;
    let refused = authorise(&bank, &waiting.id, Authorisation::Again, &accounts)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ConsentError::NotFound { .. }),
        "{refused:?}"
    );
    authorise(&bank, &waiting.id, Authorisation::First, &accounts)
        .await
        .unwrap();
    authorise(&bank, &waiting.id, Authorisation::Again, &accounts)
        .await
        .unwrap();

    let payment = bank.consent(ConsentKind::DomesticPayment).await;
    authorise(&bank, &payment.id, Authorisation::First, &accounts[..1])
        .await
        .unwrap();
    let refused = authorise(&bank, &payment.id, Authorisation::Again, &accounts[..1])
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            ConsentError::WrongKind {
                kind: ConsentKind::DomesticPayment
            }
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn reauthorising_an_expired_consent_is_wrong_status() {
    let bank = Bank::start().await;
    let (consent, _) = authorised(&bank).await;
    bank.app
        .clock
        .set(consent.expires_at.unwrap() + Duration::seconds(1));
    let refused = authorise(
        &bank,
        &consent.id,
        Authorisation::Again,
        &bank.customer.accounts,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            refused,
            ConsentError::WrongStatus {
                status: ConsentStatus::Expired
            }
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_customers_consents_are_listed_newest_first_and_only_theirs() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start_on(backend).await;
        let consents = bank.app.state().authz.consents();
        let accounts = &bank.customer.accounts;
        let (first, _) = authorised(&bank).await;
        bank.app.clock.advance(Duration::seconds(5));
        let second = bank.consent(ConsentKind::FundsConfirmation).await;
        authorise(&bank, &second.id, Authorisation::First, &accounts[..1])
            .await
            .unwrap();
        consents.revoke(&second.id, RevokedBy::Tpp).await.unwrap();
        // Never authorised: not the customer's.
        bank.consent(ConsentKind::AccountAccess).await;

        let listed = consents.list_for_customer(&bank.customer.id).await.unwrap();
        let ids: Vec<_> = listed.iter().map(|c| c.id.clone()).collect();
        assert_eq!(
            ids,
            vec![second.id.clone(), first.id.clone()],
            "{backend:?}"
        );
        assert_eq!(listed[0].status, ConsentStatus::Revoked);
        assert_eq!(listed[1].status, ConsentStatus::Authorised);

        bank.app
            .clock
            .set(first.expires_at.unwrap() + Duration::seconds(1));
        let listed = consents.list_for_customer(&bank.customer.id).await.unwrap();
        assert_eq!(listed[1].status, ConsentStatus::Expired);

        let stranger = CustomerId::parse("CUST-someone-else".to_owned()).unwrap();
        assert!(
            consents
                .list_for_customer(&stranger)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn a_payment_consent_is_consumed_inside_the_callers_transaction() {
    for backend in bascule_testkit::BACKENDS {
        let bank = Bank::start_on(backend).await;
        let state = bank.app.state();
        let consents = state.authz.consents();
        let consent = authorised_payment(&bank).await;

        let mut tx = state.store.begin().await.unwrap();
        consents.consume_in(&mut tx, &consent.id).await.unwrap();
        drop(tx);
        assert_eq!(
            bank.consent_status(&consent).await,
            ConsentStatus::Authorised
        );

        let mut tx = state.store.begin().await.unwrap();
        let consumed = consents.consume_in(&mut tx, &consent.id).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(consumed.status, ConsentStatus::Consumed);
        assert_eq!(bank.consent_status(&consent).await, ConsentStatus::Consumed);

        let mut tx = state.store.begin().await.unwrap();
        let again = consents.consume_in(&mut tx, &consent.id).await.unwrap_err();
        assert!(
            matches!(
                again,
                ConsentError::WrongStatus {
                    status: ConsentStatus::Consumed
                }
            ),
            "{again:?}"
        );
    }
}

/// Two transactions decide the same consent: the second read it before the first committed, so
/// its compare-and-set finds the status changed. PostgreSQL, where writers do run concurrently:
/// the second waits on the first's row lock (seen in `pg_stat_activity`) before the first commits.
#[tokio::test]
async fn a_transition_that_loses_the_race_is_lost_race() {
    let bank = Bank::start_on(Backend::Postgres).await;
    let state = bank.app.state();
    let consent = authorised_payment(&bank).await;

    let mut first = state.store.begin().await.unwrap();
    state
        .authz
        .consents()
        .consume_in(&mut first, &consent.id)
        .await
        .unwrap();

    let authz = state.authz.clone();
    let store = state.store.clone();
    let id = consent.id.clone();
    let second = tokio::spawn(async move {
        let mut tx = store.begin().await.unwrap();
        authz
            .consents()
            .transition_in(&mut tx, &id, ConsentEvent::Revoke)
            .await
    });
    let mut waited = 0;
    loop {
        let waiting: i64 = bascule_store::sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(state.store.pool())
        .await
        .unwrap();
        if waiting > 0 {
            break;
        }
        waited += 1;
        assert!(waited < 500, "the second transaction never waited");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.commit().await.unwrap();

    let lost = second.await.unwrap().unwrap_err();
    assert!(matches!(lost, ConsentError::LostRace), "{lost:?}");
    assert_eq!(bank.consent_status(&consent).await, ConsentStatus::Consumed);
    let answer = bascule_http::Error::from(lost);
    assert_eq!(answer.status(), 400);
}
