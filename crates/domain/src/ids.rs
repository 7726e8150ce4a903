//! Stable identifiers. Each is an opaque string that, once issued, never changes and is never reused.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} must be 1 to {max} characters of A-Z, a-z, 0-9, '-', '_' or '.'")]
pub struct InvalidId {
    pub kind: &'static str,
    pub max: usize,
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The longest id the wire format allows for this kind.
            pub const MAX_LEN: usize = $max;

            pub fn parse(raw: impl Into<String>) -> Result<Self, InvalidId> {
                let raw = raw.into();
                let valid = !raw.is_empty()
                    && raw.len() <= $max
                    && raw
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
                if valid {
                    Ok(Self(raw))
                } else {
                    Err(InvalidId { kind: stringify!($name), max: $max })
                }
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id.hyphenated().to_string())
            }

            pub fn generate(ids: &dyn IdSource) -> Self {
                Self::from_uuid(ids.next_uuid())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(raw: String) -> Result<Self, InvalidId> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// A customer (an OB party). Also the PartyId.
    CustomerId, 40
);
string_id!(
    /// An account: current account, pot or bank-internal account (OB `AccountId`, max 40).
    AccountId, 40
);
string_id!(
    /// A line on a customer's account (OB `TransactionId`). Pending → Booked keeps it.
    TransactionId, 210
);
string_id!(
    /// One balanced set of postings in the ledger.
    LedgerTransactionId, 40
);
string_id!(
    /// A consent (intent), shared by account access, payment and funds confirmation (OB max 128).
    ConsentId, 128
);
string_id!(BeneficiaryId, 40);
string_id!(StandingOrderId, 40);
string_id!(DirectDebitId, 40);
string_id!(ScheduledPaymentId, 40);
string_id!(StatementId, 40);
string_id!(ProductId, 40);
string_id!(OfferId, 40);

/// Where new identifiers come from: random in production, seeded for the deterministic demo bank.
pub trait IdSource: Send + Sync {
    fn next_uuid(&self) -> Uuid;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

impl IdSource for RandomIds {
    fn next_uuid(&self) -> Uuid {
        Uuid::new_v4()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_empty_overlong_and_odd_characters() {
        assert!(AccountId::parse("").is_err());
        assert!(AccountId::parse("a".repeat(41)).is_err());
        assert!(AccountId::parse("abc def").is_err());
        assert!(AccountId::parse("abc/def").is_err());
        assert!(AccountId::parse("a".repeat(40)).is_ok());
        assert!(TransactionId::parse("t".repeat(210)).is_ok());
    }

    #[test]
    fn ids_from_uuid_are_valid_and_stable() {
        let uuid = Uuid::from_u128(7);
        let a = AccountId::from_uuid(uuid);
        assert_eq!(a, AccountId::parse(a.as_str()).unwrap());
        assert_eq!(a.as_str(), "00000000-0000-0000-0000-000000000007");
    }
}
