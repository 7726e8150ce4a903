//! Consents ("intents"): what a TPP asked the customer for, and where that request stands.
//! One lifecycle serves account access, payments and funds confirmation: the API that creates a
//! consent gives it its details; the authorisation server moves it through its states.

use std::fmt;

use time::OffsetDateTime;

use crate::ids::{AccountId, CustomerId};

pub use crate::ids::ConsentId;

/// What a consent is for, and so which OAuth scope reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentKind {
    AccountAccess,
    DomesticPayment,
    DomesticScheduledPayment,
    DomesticStandingOrder,
    FundsConfirmation,
}

impl ConsentKind {
    pub const ALL: [ConsentKind; 5] = [
        Self::AccountAccess,
        Self::DomesticPayment,
        Self::DomesticScheduledPayment,
        Self::DomesticStandingOrder,
        Self::FundsConfirmation,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AccountAccess => "AccountAccess",
            Self::DomesticPayment => "DomesticPayment",
            Self::DomesticScheduledPayment => "DomesticScheduledPayment",
            Self::DomesticStandingOrder => "DomesticStandingOrder",
            Self::FundsConfirmation => "FundsConfirmation",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The OAuth scope a token needs to act on this consent (RW §Scopes).
    pub fn scope(&self) -> &'static str {
        match self {
            Self::AccountAccess => "accounts",
            Self::DomesticPayment
            | Self::DomesticScheduledPayment
            | Self::DomesticStandingOrder => "payments",
            Self::FundsConfirmation => "fundsconfirmations",
        }
    }

    /// Payments are authorised once and consumed; the others give lasting access.
    pub fn is_single_use(&self) -> bool {
        matches!(
            self,
            Self::DomesticPayment | Self::DomesticScheduledPayment | Self::DomesticStandingOrder
        )
    }
}

/// The version-neutral states; each wire version names them its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentStatus {
    AwaitingAuthorisation,
    Authorised,
    Rejected,
    /// A payment consent whose payment was made.
    Consumed,
    Revoked,
    Expired,
}

impl ConsentStatus {
    pub const ALL: [ConsentStatus; 6] = [
        Self::AwaitingAuthorisation,
        Self::Authorised,
        Self::Rejected,
        Self::Consumed,
        Self::Revoked,
        Self::Expired,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AwaitingAuthorisation => "AwaitingAuthorisation",
            Self::Authorised => "Authorised",
            Self::Rejected => "Rejected",
            Self::Consumed => "Consumed",
            Self::Revoked => "Revoked",
            Self::Expired => "Expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::Consumed | Self::Revoked | Self::Expired
        )
    }
}

impl fmt::Display for ConsentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A move in the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentEvent {
    Authorise,
    /// The customer confirms an authorised consent again (the dashboard's refresh), on the same
    /// ConsentId, possibly with other accounts (AISP §Consent Re-authentication).
    Reauthorise,
    Reject,
    Consume,
    Revoke,
    Expire,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a consent that is {from} cannot be {event:?}d")]
pub struct InvalidTransition {
    pub from: ConsentStatus,
    pub event: ConsentEvent,
}

impl ConsentStatus {
    /// The one place the lifecycle is written down.
    pub fn apply(self, event: ConsentEvent) -> Result<ConsentStatus, InvalidTransition> {
        use ConsentEvent as E;
        use ConsentStatus as S;
        match (self, event) {
            (S::AwaitingAuthorisation, E::Authorise) => Ok(S::Authorised),
            (S::Authorised, E::Reauthorise) => Ok(S::Authorised),
            (S::AwaitingAuthorisation, E::Reject) => Ok(S::Rejected),
            (S::Authorised, E::Consume) => Ok(S::Consumed),
            (S::AwaitingAuthorisation | S::Authorised, E::Revoke) => Ok(S::Revoked),
            (S::AwaitingAuthorisation | S::Authorised, E::Expire) => Ok(S::Expired),
            (from, event) => Err(InvalidTransition { from, event }),
        }
    }
}

/// A consent as the authorisation server sees it. Kind-specific details (permissions, the
/// payment initiation) belong to the API that created it and travel as opaque JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub id: ConsentId,
    pub kind: ConsentKind,
    pub client_id: String,
    pub status: ConsentStatus,
    pub created_at: OffsetDateTime,
    pub status_updated_at: OffsetDateTime,
    /// When access ends, as the TPP asked (`ExpirationDateTime`); never changed by the bank.
    pub expires_at: Option<OffsetDateTime>,
    /// Set at authorisation.
    pub customer_id: Option<CustomerId>,
    /// The accounts the customer selected (or the debtor account of a payment).
    pub accounts: Vec<AccountId>,
    /// When the customer strongly authenticated to authorise it.
    pub authorised_at: Option<OffsetDateTime>,
    /// Set when the bank itself suspended the consent's access until the customer
    /// authenticates again (see [`BankSuspension`]); cleared by that authentication.
    pub bank_suspension: Option<BankSuspension>,
    pub details: String,
}

/// Why the bank itself suspended account access, whatever its reauthentication policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuspensionReason {
    /// The bank saw something suspicious (fraud, a compromised device or credentials).
    SecurityEvent,
    /// A joint holder of a shared account asked the bank to stop the sharing.
    JointHolderRequest,
}

impl SuspensionReason {
    pub const ALL: [SuspensionReason; 2] = [Self::SecurityEvent, Self::JointHolderRequest];

    /// The stored name, which is also the operator's (`bascule admin suspend --reason`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::SecurityEvent => "security-event",
            Self::JointHolderRequest => "joint-holder",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == raw)
    }
}

impl fmt::Display for SuspensionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The bank suspended an authorised account-access consent (CEG: a security event, a joint
/// holder's request). Unlike the 90-day rule this is a decision, so it is stored; the consent
/// keeps its id, its status (`Authorised`) and its `ExpirationDateTime`, and the customer's
/// next strong authentication on it (the dashboard's refresh) lifts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BankSuspension {
    pub reason: SuspensionReason,
    pub at: OffsetDateTime,
}

impl Consent {
    /// Whether the consent gives access at `now`: authorised and not past its expiry.
    pub fn is_usable_at(&self, now: OffsetDateTime) -> bool {
        self.status == ConsentStatus::Authorised && self.expires_at.is_none_or(|e| now < e)
    }

    /// The bank's own suspension, where it applies: only account access is ever suspended
    /// (a stored suspension on another kind would be a bug, and is not honoured).
    pub fn suspended_by_bank(&self) -> Option<&BankSuspension> {
        self.bank_suspension
            .as_ref()
            .filter(|_| self.kind == ConsentKind::AccountAccess)
    }
}

/// Who keeps account access going past 90 days, as the bank chooses it.
///
/// - [`Self::BankScaEvery90Days`] (PSD2 RTS Art. 10 as first written): account access that has
///   not seen the customer's strong authentication for 90 days is suspended until the customer
///   authenticates again (the dashboard's refresh, on the same ConsentId). The TPP meanwhile
///   gets 403 `UK.OBIE.Reauthenticate` (RW §403, U028). The consent stays `Authorised`: the
///   suspension is worked out from `authorised_at`, never stored, so a refresh lifts it with no
///   second write and every node agrees.
/// - [`Self::TppReconfirms`] (UK SCA-RTS Art. 10A, since 2022): the bank never suspends at 90
///   days; the AISP reconfirms with the customer, and access ends at `ExpirationDateTime` only.
///
/// Under either policy the bank may also suspend account access itself ([`BankSuspension`]);
/// [`Self::suspended_at`] is the one answer to "does this consent give access now".
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Reauthentication {
    #[serde(rename = "bank_sca_every_90_days")]
    BankScaEvery90Days,
    #[default]
    TppReconfirms,
}

/// How long a strong authentication keeps account access going under
/// [`Reauthentication::BankScaEvery90Days`].
pub const SCA_VALIDITY: time::Duration = time::Duration::days(90);

impl Reauthentication {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::BankScaEvery90Days => "bank_sca_every_90_days",
            Self::TppReconfirms => "tpp_reconfirms",
        }
    }

    /// When the customer must authenticate again for the consent to keep giving access: only
    /// account access under the bank's 90-day rule.
    pub fn due_at(&self, consent: &Consent) -> Option<OffsetDateTime> {
        match self {
            Self::BankScaEvery90Days if consent.kind == ConsentKind::AccountAccess => {
                consent.authorised_at.map(|at| at + SCA_VALIDITY)
            }
            _ => None,
        }
    }

    /// Whether the bank suspends the (authorised, unexpired) consent's access at `now` until
    /// the customer authenticates again: the 90-day rule, or the bank's own suspension.
    pub fn suspended_at(&self, consent: &Consent, now: OffsetDateTime) -> bool {
        consent.is_usable_at(now)
            && (self.due_at(consent).is_some_and(|due| now >= due)
                || consent.suspended_by_bank().is_some())
    }

    /// When access stops unless something is done: the reauthentication due date or the
    /// consent's expiry, whichever comes first (what the dashboard shows and reminders count
    /// down to).
    pub fn access_ends_at(&self, consent: &Consent) -> Option<OffsetDateTime> {
        match (self.due_at(consent), consent.expires_at) {
            (Some(due), Some(expiry)) => Some(due.min(expiry)),
            (due, expiry) => due.or(expiry),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_moves() {
        use ConsentEvent as E;
        use ConsentStatus as S;
        assert_eq!(
            S::AwaitingAuthorisation.apply(E::Authorise),
            Ok(S::Authorised)
        );
        assert_eq!(S::AwaitingAuthorisation.apply(E::Reject), Ok(S::Rejected));
        assert_eq!(S::Authorised.apply(E::Consume), Ok(S::Consumed));
        assert_eq!(S::Authorised.apply(E::Revoke), Ok(S::Revoked));
        assert_eq!(S::Authorised.apply(E::Expire), Ok(S::Expired));
        assert_eq!(S::Authorised.apply(E::Reauthorise), Ok(S::Authorised));
        assert!(S::AwaitingAuthorisation.apply(E::Reauthorise).is_err());
        for from in [S::Rejected, S::Consumed, S::Revoked, S::Expired] {
            for event in [
                E::Authorise,
                E::Reauthorise,
                E::Reject,
                E::Consume,
                E::Revoke,
                E::Expire,
            ] {
                assert!(from.apply(event).is_err(), "{from} {event:?}");
            }
        }
        assert!(S::Authorised.apply(E::Authorise).is_err());
        assert!(S::AwaitingAuthorisation.apply(E::Consume).is_err());
    }

    #[test]
    fn kinds_map_to_their_scopes() {
        assert_eq!(ConsentKind::AccountAccess.scope(), "accounts");
        assert_eq!(ConsentKind::DomesticStandingOrder.scope(), "payments");
        assert_eq!(ConsentKind::FundsConfirmation.scope(), "fundsconfirmations");
        for k in ConsentKind::ALL {
            assert_eq!(ConsentKind::parse(k.as_str()), Some(k));
        }
    }

    /// A consent of `kind` authorised at `granted` for a year.
    fn authorised_for_a_year(
        kind: ConsentKind,
        granted: OffsetDateTime,
        bank_suspension: Option<BankSuspension>,
    ) -> Consent {
        Consent {
            id: ConsentId::parse("aac-1".to_owned()).unwrap(),
            kind,
            client_id: "tpp".into(),
            status: ConsentStatus::Authorised,
            created_at: granted,
            status_updated_at: granted,
            expires_at: Some(granted + time::Duration::days(365)),
            customer_id: None,
            accounts: Vec::new(),
            authorised_at: Some(granted),
            bank_suspension,
            details: String::new(),
        }
    }

    #[test]
    fn the_bank_suspends_account_access_90_days_after_the_last_strong_authentication() {
        use time::macros::datetime;
        let granted = datetime!(2026-01-05 09:00 UTC);
        let consent = |kind| authorised_for_a_year(kind, granted, None);
        let access = consent(ConsentKind::AccountAccess);
        let bank = Reauthentication::BankScaEvery90Days;
        let day = |n| granted + time::Duration::days(n);
        assert!(!bank.suspended_at(&access, day(89)));
        assert!(bank.suspended_at(&access, day(90)));
        assert_eq!(bank.access_ends_at(&access), Some(day(90)));
        let tpp = Reauthentication::TppReconfirms;
        assert!(!tpp.suspended_at(&access, day(364)));
        assert_eq!(tpp.access_ends_at(&access), Some(day(365)));
        // Funds confirmation is not account access: only its expiry ends it.
        let funds = consent(ConsentKind::FundsConfirmation);
        assert!(!bank.suspended_at(&funds, day(200)));
        assert_eq!(bank.access_ends_at(&funds), Some(day(365)));
    }

    #[test]
    fn the_banks_own_suspension_holds_under_either_policy_for_account_access_only() {
        use time::macros::datetime;
        let granted = datetime!(2026-01-05 09:00 UTC);
        let suspension = Some(BankSuspension {
            reason: SuspensionReason::JointHolderRequest,
            at: granted + time::Duration::days(3),
        });
        let consent = |kind| authorised_for_a_year(kind, granted, suspension);
        let access = consent(ConsentKind::AccountAccess);
        let day = |n| granted + time::Duration::days(n);
        for policy in [
            Reauthentication::TppReconfirms,
            Reauthentication::BankScaEvery90Days,
        ] {
            assert!(policy.suspended_at(&access, day(4)), "{policy:?}");
            // Past its expiry the consent gives no access at all: nothing left to suspend.
            assert!(!policy.suspended_at(&access, day(365)), "{policy:?}");
            assert!(!policy.suspended_at(&consent(ConsentKind::FundsConfirmation), day(4)));
        }
        // The suspension does not move when access ends.
        let tpp = Reauthentication::TppReconfirms;
        assert_eq!(tpp.access_ends_at(&access), Some(day(365)));
        for reason in SuspensionReason::ALL {
            assert_eq!(SuspensionReason::parse(reason.as_str()), Some(reason));
        }
    }
}
