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
    pub details: String,
}

impl Consent {
    /// Whether the consent gives access at `now`: authorised and not past its expiry.
    pub fn is_usable_at(&self, now: OffsetDateTime) -> bool {
        self.status == ConsentStatus::Authorised && self.expires_at.is_none_or(|e| now < e)
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
}
