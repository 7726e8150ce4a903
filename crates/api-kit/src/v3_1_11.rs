//! The v3.1.11 codings of version-neutral values: consent statuses. v3.1.11 has no Expired and
//! two status sets; each maps every `ConsentStatus` so no state can go unanswered.

use bascule_domain::{Consent, ConsentStatus};

/// The status of a consent that grants access (account-access and funds-confirmation:
/// `AwaitingAuthorisation|Authorised|Rejected|Revoked`). A consent that expired after
/// authorisation still reads Authorised (its ExpirationDateTime tells), one that expired
/// waiting reads Rejected; one consumed (not a state these kinds reach) reads Revoked.
pub fn access_consent_status(consent: &Consent) -> &'static str {
    match consent.status {
        ConsentStatus::AwaitingAuthorisation => "AwaitingAuthorisation",
        ConsentStatus::Authorised => "Authorised",
        ConsentStatus::Rejected => "Rejected",
        ConsentStatus::Revoked | ConsentStatus::Consumed => "Revoked",
        ConsentStatus::Expired if consent.authorised_at.is_some() => "Authorised",
        ConsentStatus::Expired => "Rejected",
    }
}

/// The status of a payment consent (`AwaitingAuthorisation|Authorised|Rejected|Consumed`): a
/// consent that expired waiting, or was revoked, reads Rejected; one that expired authorised
/// but unused reads Rejected too (it can no longer be used).
pub fn payment_consent_status(status: ConsentStatus) -> &'static str {
    match status {
        ConsentStatus::AwaitingAuthorisation => "AwaitingAuthorisation",
        ConsentStatus::Authorised => "Authorised",
        ConsentStatus::Consumed => "Consumed",
        ConsentStatus::Rejected | ConsentStatus::Revoked | ConsentStatus::Expired => "Rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_domain::ConsentKind;
    use time::macros::datetime;

    fn consent(status: ConsentStatus, authorised: bool) -> Consent {
        let at = datetime!(2026-01-05 09:00 UTC);
        Consent {
            id: bascule_domain::ConsentId::parse("consent-1".to_owned()).unwrap(),
            kind: ConsentKind::AccountAccess,
            client_id: "c".into(),
            status,
            created_at: at,
            status_updated_at: at,
            expires_at: None,
            customer_id: None,
            accounts: vec![],
            authorised_at: authorised.then_some(at),
            bank_suspension: None,
            details: String::new(),
        }
    }

    #[test]
    fn every_status_reads_as_one_of_the_spec_codes() {
        for status in ConsentStatus::ALL {
            for authorised in [false, true] {
                let access = access_consent_status(&consent(status, authorised));
                assert!(
                    ["AwaitingAuthorisation", "Authorised", "Rejected", "Revoked"]
                        .contains(&access),
                    "{status} → {access}"
                );
            }
            let payment = payment_consent_status(status);
            assert!(
                [
                    "AwaitingAuthorisation",
                    "Authorised",
                    "Rejected",
                    "Consumed"
                ]
                .contains(&payment),
                "{status} → {payment}"
            );
        }
    }

    #[test]
    fn an_expired_access_consent_reads_as_it_last_stood() {
        let expired =
            |authorised| access_consent_status(&consent(ConsentStatus::Expired, authorised));
        assert_eq!(expired(true), "Authorised");
        assert_eq!(expired(false), "Rejected");
        assert_eq!(payment_consent_status(ConsentStatus::Revoked), "Rejected");
    }
}
