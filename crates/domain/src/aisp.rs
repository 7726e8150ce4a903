//! Account information access: the permissions a customer grants a TPP (AISP §Permissions),
//! the rules that say which combinations a consent may ask for (AISP §Consent Elements), and
//! the version-neutral details of an account-access consent. Every wire version (v3.1.11,
//! v4.0) maps to and from these; the rules live only here.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// One data cluster a customer can share (`OBExternalPermissions1Code`, the same names in
/// v3.1.11 and v4.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Permission {
    ReadAccountsBasic,
    ReadAccountsDetail,
    ReadBalances,
    ReadBeneficiariesBasic,
    ReadBeneficiariesDetail,
    ReadDirectDebits,
    ReadOffers,
    #[serde(rename = "ReadPAN")]
    ReadPan,
    ReadParty,
    #[serde(rename = "ReadPartyPSU")]
    ReadPartyPsu,
    ReadProducts,
    ReadScheduledPaymentsBasic,
    ReadScheduledPaymentsDetail,
    ReadStandingOrdersBasic,
    ReadStandingOrdersDetail,
    ReadStatementsBasic,
    ReadStatementsDetail,
    ReadTransactionsBasic,
    ReadTransactionsCredits,
    ReadTransactionsDebits,
    ReadTransactionsDetail,
}

impl Permission {
    pub const ALL: [Permission; 21] = [
        Self::ReadAccountsBasic,
        Self::ReadAccountsDetail,
        Self::ReadBalances,
        Self::ReadBeneficiariesBasic,
        Self::ReadBeneficiariesDetail,
        Self::ReadDirectDebits,
        Self::ReadOffers,
        Self::ReadPan,
        Self::ReadParty,
        Self::ReadPartyPsu,
        Self::ReadProducts,
        Self::ReadScheduledPaymentsBasic,
        Self::ReadScheduledPaymentsDetail,
        Self::ReadStandingOrdersBasic,
        Self::ReadStandingOrdersDetail,
        Self::ReadStatementsBasic,
        Self::ReadStatementsDetail,
        Self::ReadTransactionsBasic,
        Self::ReadTransactionsCredits,
        Self::ReadTransactionsDebits,
        Self::ReadTransactionsDetail,
    ];

    /// The code as the specifications spell it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ReadAccountsBasic => "ReadAccountsBasic",
            Self::ReadAccountsDetail => "ReadAccountsDetail",
            Self::ReadBalances => "ReadBalances",
            Self::ReadBeneficiariesBasic => "ReadBeneficiariesBasic",
            Self::ReadBeneficiariesDetail => "ReadBeneficiariesDetail",
            Self::ReadDirectDebits => "ReadDirectDebits",
            Self::ReadOffers => "ReadOffers",
            Self::ReadPan => "ReadPAN",
            Self::ReadParty => "ReadParty",
            Self::ReadPartyPsu => "ReadPartyPSU",
            Self::ReadProducts => "ReadProducts",
            Self::ReadScheduledPaymentsBasic => "ReadScheduledPaymentsBasic",
            Self::ReadScheduledPaymentsDetail => "ReadScheduledPaymentsDetail",
            Self::ReadStandingOrdersBasic => "ReadStandingOrdersBasic",
            Self::ReadStandingOrdersDetail => "ReadStandingOrdersDetail",
            Self::ReadStatementsBasic => "ReadStatementsBasic",
            Self::ReadStatementsDetail => "ReadStatementsDetail",
            Self::ReadTransactionsBasic => "ReadTransactionsBasic",
            Self::ReadTransactionsCredits => "ReadTransactionsCredits",
            Self::ReadTransactionsDebits => "ReadTransactionsDebits",
            Self::ReadTransactionsDetail => "ReadTransactionsDetail",
        }
    }

    /// Exact, case-sensitive: the spec's enum is.
    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == raw)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a set of permissions cannot make a consent (each is a 400 `UK.OBIE.Field.Invalid` on
/// `Data.Permissions`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PermissionRuleError {
    #[error("Permissions must not be empty")]
    Empty,
    #[error("Permissions must include ReadAccountsBasic or ReadAccountsDetail")]
    NoAccounts,
    #[error(
        "ReadTransactionsBasic or ReadTransactionsDetail needs ReadTransactionsCredits and/or ReadTransactionsDebits"
    )]
    TransactionsWithoutDirection,
    #[error(
        "ReadTransactionsCredits or ReadTransactionsDebits needs ReadTransactionsBasic or ReadTransactionsDetail"
    )]
    DirectionWithoutTransactions,
}

/// What a consent may see: a valid set of permissions. Detail implies Basic (AISP §Permissions:
/// asking for both is allowed and the Detail view is served).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions(BTreeSet<Permission>);

impl Permissions {
    /// The set `requested` makes, if the AISP rules allow it (AISP §Consent Elements, "the
    /// ASPSP must reject ... with 400"). Duplicates collapse.
    pub fn new(
        requested: impl IntoIterator<Item = Permission>,
    ) -> Result<Self, PermissionRuleError> {
        use Permission as P;
        let set: BTreeSet<Permission> = requested.into_iter().collect();
        if set.is_empty() {
            return Err(PermissionRuleError::Empty);
        }
        if !set.contains(&P::ReadAccountsBasic) && !set.contains(&P::ReadAccountsDetail) {
            return Err(PermissionRuleError::NoAccounts);
        }
        let transactions =
            set.contains(&P::ReadTransactionsBasic) || set.contains(&P::ReadTransactionsDetail);
        let direction =
            set.contains(&P::ReadTransactionsCredits) || set.contains(&P::ReadTransactionsDebits);
        match (transactions, direction) {
            (true, false) => Err(PermissionRuleError::TransactionsWithoutDirection),
            (false, true) => Err(PermissionRuleError::DirectionWithoutTransactions),
            _ => Ok(Self(set)),
        }
    }

    /// Exactly what was granted, in the specs' order (for echoing back in responses).
    pub fn iter(&self) -> impl Iterator<Item = Permission> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, p: Permission) -> bool {
        self.0.contains(&p)
    }

    fn level(&self, basic: Permission, detail: Permission) -> Option<Level> {
        if self.contains(detail) {
            Some(Level::Detail)
        } else if self.contains(basic) {
            Some(Level::Basic)
        } else {
            None
        }
    }

    pub fn accounts(&self) -> Option<Level> {
        self.level(
            Permission::ReadAccountsBasic,
            Permission::ReadAccountsDetail,
        )
    }

    pub fn beneficiaries(&self) -> Option<Level> {
        self.level(
            Permission::ReadBeneficiariesBasic,
            Permission::ReadBeneficiariesDetail,
        )
    }

    pub fn standing_orders(&self) -> Option<Level> {
        self.level(
            Permission::ReadStandingOrdersBasic,
            Permission::ReadStandingOrdersDetail,
        )
    }

    pub fn scheduled_payments(&self) -> Option<Level> {
        self.level(
            Permission::ReadScheduledPaymentsBasic,
            Permission::ReadScheduledPaymentsDetail,
        )
    }

    pub fn statements(&self) -> Option<Level> {
        self.level(
            Permission::ReadStatementsBasic,
            Permission::ReadStatementsDetail,
        )
    }

    /// The transaction view and which directions it covers; `None` without transactions.
    pub fn transactions(&self) -> Option<TransactionAccess> {
        let level = self.level(
            Permission::ReadTransactionsBasic,
            Permission::ReadTransactionsDetail,
        )?;
        Some(TransactionAccess {
            level,
            credits: self.contains(Permission::ReadTransactionsCredits),
            debits: self.contains(Permission::ReadTransactionsDebits),
        })
    }

    /// Whether PANs may be shown in clear (the bank may still mask them).
    pub fn pan(&self) -> bool {
        self.contains(Permission::ReadPan)
    }
}

/// Basic shows the minimum; Detail adds identifications, counterparties, narratives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Basic,
    Detail,
}

/// What `ReadTransactions*` grant together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionAccess {
    pub level: Level,
    /// Credits, debit reversals included (AISP §Permissions).
    pub credits: bool,
    /// Debits, credit reversals included.
    pub debits: bool,
}

/// Why a consent request's dates cannot make a consent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentWindowError {
    #[error("ExpirationDateTime must be in the future")]
    ExpiryNotInFuture,
    #[error("TransactionFromDateTime must not be after TransactionToDateTime")]
    TransactionWindowReversed,
}

/// The version-neutral details of an account-access consent, stored as JSON in
/// `Consent.details`. Times are unix seconds so the stored form never depends on a wire format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountAccessConsent {
    pub permissions: Vec<Permission>,
    #[serde(default, with = "time::serde::timestamp::option")]
    pub expiration: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::timestamp::option")]
    pub transaction_from: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::timestamp::option")]
    pub transaction_to: Option<OffsetDateTime>,
}

/// Why a consent request is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsentRequestError {
    #[error(transparent)]
    Permissions(#[from] PermissionRuleError),
    #[error(transparent)]
    Window(#[from] ConsentWindowError),
}

impl AccountAccessConsent {
    /// A consent request checked against every rule at `now`.
    pub fn new(
        permissions: impl IntoIterator<Item = Permission>,
        expiration: Option<OffsetDateTime>,
        transaction_from: Option<OffsetDateTime>,
        transaction_to: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Result<Self, ConsentRequestError> {
        let permissions = Permissions::new(permissions)?;
        if expiration.is_some_and(|e| e <= now) {
            return Err(ConsentWindowError::ExpiryNotInFuture.into());
        }
        if let (Some(from), Some(to)) = (transaction_from, transaction_to)
            && from > to
        {
            return Err(ConsentWindowError::TransactionWindowReversed.into());
        }
        Ok(Self {
            permissions: permissions.iter().collect(),
            expiration,
            transaction_from,
            transaction_to,
        })
    }

    /// The granted permissions. Stored details were checked when created; should they have been
    /// tampered with, the rules are applied again rather than trusted.
    pub fn permission_set(&self) -> Result<Permissions, PermissionRuleError> {
        Permissions::new(self.permissions.iter().copied())
    }
}

/// The Open Banking data clusters (CEG §Permissions and data clusters): how a customer is told,
/// in the same words by every bank and every TPP, what an account-access consent shares. The
/// bank's approval screen and its dashboard show these headings, each with its permissions'
/// plain-English lines beneath.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cluster {
    AccountDetails,
    RegularPayments,
    AccountTransactions,
    Statements,
    FeaturesAndBenefits,
    ContactAndPartyDetails,
}

impl Cluster {
    /// The heading the guidelines give the cluster.
    pub fn title(&self) -> &'static str {
        match self {
            Self::AccountDetails => "Your Account Details",
            Self::RegularPayments => "Your Regular Payments",
            Self::AccountTransactions => "Your Account Transactions",
            Self::Statements => "Your Statements",
            Self::FeaturesAndBenefits => "Your Account Features and Benefits",
            Self::ContactAndPartyDetails => "Contact and party details",
        }
    }
}

impl Permission {
    /// The cluster the permission is shown under.
    pub fn cluster(&self) -> Cluster {
        match self {
            Self::ReadAccountsBasic
            | Self::ReadAccountsDetail
            | Self::ReadBalances
            | Self::ReadPan => Cluster::AccountDetails,
            Self::ReadBeneficiariesBasic
            | Self::ReadBeneficiariesDetail
            | Self::ReadStandingOrdersBasic
            | Self::ReadStandingOrdersDetail
            | Self::ReadDirectDebits
            | Self::ReadScheduledPaymentsBasic
            | Self::ReadScheduledPaymentsDetail => Cluster::RegularPayments,
            Self::ReadTransactionsBasic
            | Self::ReadTransactionsDetail
            | Self::ReadTransactionsCredits
            | Self::ReadTransactionsDebits => Cluster::AccountTransactions,
            Self::ReadStatementsBasic | Self::ReadStatementsDetail => Cluster::Statements,
            Self::ReadProducts | Self::ReadOffers => Cluster::FeaturesAndBenefits,
            Self::ReadParty | Self::ReadPartyPsu => Cluster::ContactAndPartyDetails,
        }
    }

    /// What the permission shares, in a customer's words. A Detail permission includes its
    /// Basic one, so when both are granted only the Detail line is shown ([`clusters`]).
    pub fn plain_english(&self) -> &'static str {
        match self {
            Self::ReadAccountsBasic => "Your account names, types and currencies",
            Self::ReadAccountsDetail => {
                "Your account names, types, currencies, sort codes and account numbers"
            }
            Self::ReadBalances => "Your account balances",
            Self::ReadPan => "Your card numbers",
            Self::ReadBeneficiariesBasic => "The payees you have set up",
            Self::ReadBeneficiariesDetail => {
                "The payees you have set up, with their account details"
            }
            Self::ReadStandingOrdersBasic => "Your standing orders",
            Self::ReadStandingOrdersDetail => {
                "Your standing orders, with the payees' account details"
            }
            Self::ReadDirectDebits => "Your direct debits",
            Self::ReadScheduledPaymentsBasic => "Payments you have scheduled",
            Self::ReadScheduledPaymentsDetail => {
                "Payments you have scheduled, with the payees' account details"
            }
            Self::ReadTransactionsBasic => "Your transactions",
            Self::ReadTransactionsDetail => "Your transactions, with their full details",
            Self::ReadTransactionsCredits => "Money coming into your account",
            Self::ReadTransactionsDebits => "Money going out of your account",
            Self::ReadStatementsBasic => "Your statements",
            Self::ReadStatementsDetail => "Your statements, with their full details",
            Self::ReadProducts => "The features and charges of your accounts",
            Self::ReadOffers => "Offers available to you",
            Self::ReadParty => "The account holders' names and contact details",
            Self::ReadPartyPsu => "Your name and contact details",
        }
    }

    /// The Basic permission a Detail one includes.
    fn included_basic(&self) -> Option<Permission> {
        Some(match self {
            Self::ReadAccountsDetail => Self::ReadAccountsBasic,
            Self::ReadBeneficiariesDetail => Self::ReadBeneficiariesBasic,
            Self::ReadStandingOrdersDetail => Self::ReadStandingOrdersBasic,
            Self::ReadScheduledPaymentsDetail => Self::ReadScheduledPaymentsBasic,
            Self::ReadTransactionsDetail => Self::ReadTransactionsBasic,
            Self::ReadStatementsDetail => Self::ReadStatementsBasic,
            _ => return None,
        })
    }
}

/// The granted permissions by cluster, in the guidelines' order, each cluster with the lines
/// of its permissions (a Basic line left out when its Detail is granted).
pub fn clusters(permissions: &[Permission]) -> Vec<(Cluster, Vec<&'static str>)> {
    let granted: BTreeSet<Permission> = permissions.iter().copied().collect();
    let covered: BTreeSet<Permission> = granted.iter().filter_map(|p| p.included_basic()).collect();
    let mut out: Vec<(Cluster, Vec<&'static str>)> = Vec::new();
    let mut ordered: Vec<Permission> = granted.difference(&covered).copied().collect();
    // Within a cluster: the guidelines' order, a transaction direction after what it qualifies.
    ordered.sort_by_key(|p| {
        (
            p.cluster(),
            matches!(
                p,
                Permission::ReadTransactionsCredits | Permission::ReadTransactionsDebits
            ),
            Permission::ALL.iter().position(|q| q == p),
        )
    });
    for p in ordered {
        match out.last_mut() {
            Some((c, lines)) if *c == p.cluster() => lines.push(p.plain_english()),
            _ => out.push((p.cluster(), vec![p.plain_english()])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    use Permission as P;

    #[test]
    fn clusters_follow_the_guidelines_and_a_detail_line_replaces_its_basic_one() {
        let shown = clusters(&[
            P::ReadTransactionsDebits,
            P::ReadAccountsBasic,
            P::ReadAccountsDetail,
            P::ReadTransactionsDetail,
            P::ReadBalances,
            P::ReadParty,
        ]);
        let titles: Vec<&str> = shown.iter().map(|(c, _)| c.title()).collect();
        assert_eq!(
            titles,
            [
                "Your Account Details",
                "Your Account Transactions",
                "Contact and party details"
            ]
        );
        assert_eq!(
            shown[0].1,
            [
                P::ReadAccountsDetail.plain_english(),
                P::ReadBalances.plain_english()
            ]
        );
        assert_eq!(
            shown[1].1,
            [
                P::ReadTransactionsDetail.plain_english(),
                P::ReadTransactionsDebits.plain_english()
            ]
        );
        for p in Permission::ALL {
            assert!(!p.plain_english().is_empty());
        }
    }

    #[test]
    fn every_code_round_trips_its_spec_spelling() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("ReadPAN"), Some(P::ReadPan));
        assert_eq!(Permission::parse("ReadPartyPSU"), Some(P::ReadPartyPsu));
        assert_eq!(Permission::parse("readaccountsbasic"), None);
        assert_eq!(Permission::parse("ReadPan"), None);
    }

    #[test]
    fn empty_permissions_are_refused() {
        assert_eq!(Permissions::new([]), Err(PermissionRuleError::Empty));
    }

    #[test]
    fn a_consent_must_ask_for_accounts() {
        assert_eq!(
            Permissions::new([P::ReadBalances]),
            Err(PermissionRuleError::NoAccounts)
        );
        assert!(Permissions::new([P::ReadAccountsBasic, P::ReadBalances]).is_ok());
    }

    #[test]
    fn transactions_need_a_direction_and_directions_need_transactions() {
        for t in [P::ReadTransactionsBasic, P::ReadTransactionsDetail] {
            assert_eq!(
                Permissions::new([P::ReadAccountsBasic, t]),
                Err(PermissionRuleError::TransactionsWithoutDirection)
            );
            for d in [P::ReadTransactionsCredits, P::ReadTransactionsDebits] {
                assert!(Permissions::new([P::ReadAccountsBasic, t, d]).is_ok());
            }
        }
        for d in [P::ReadTransactionsCredits, P::ReadTransactionsDebits] {
            assert_eq!(
                Permissions::new([P::ReadAccountsBasic, d]),
                Err(PermissionRuleError::DirectionWithoutTransactions)
            );
        }
    }

    #[test]
    fn detail_implies_basic_and_both_together_serve_detail() {
        let p = Permissions::new([P::ReadAccountsBasic, P::ReadAccountsDetail]).unwrap();
        assert_eq!(p.accounts(), Some(Level::Detail));
        let p = Permissions::new([P::ReadAccountsBasic]).unwrap();
        assert_eq!(p.accounts(), Some(Level::Basic));
        assert_eq!(p.beneficiaries(), None);
        let p = Permissions::new([
            P::ReadAccountsDetail,
            P::ReadTransactionsBasic,
            P::ReadTransactionsDebits,
        ])
        .unwrap();
        assert_eq!(
            p.transactions(),
            Some(TransactionAccess {
                level: Level::Basic,
                credits: false,
                debits: true
            })
        );
    }

    #[test]
    fn duplicates_collapse() {
        let p = Permissions::new([P::ReadAccountsBasic, P::ReadAccountsBasic]).unwrap();
        assert_eq!(p.iter().count(), 1);
    }

    #[test]
    fn consent_windows_are_checked() {
        let now = datetime!(2026-01-05 09:00 UTC);
        let ok = AccountAccessConsent::new(
            [P::ReadAccountsBasic],
            Some(now + time::Duration::days(90)),
            Some(now - time::Duration::days(365)),
            Some(now),
            now,
        )
        .unwrap();
        assert_eq!(ok.permission_set().unwrap().accounts(), Some(Level::Basic));
        assert_eq!(
            AccountAccessConsent::new([P::ReadAccountsBasic], Some(now), None, None, now),
            Err(ConsentWindowError::ExpiryNotInFuture.into())
        );
        assert_eq!(
            AccountAccessConsent::new(
                [P::ReadAccountsBasic],
                None,
                Some(now),
                Some(now - time::Duration::seconds(1)),
                now
            ),
            Err(ConsentWindowError::TransactionWindowReversed.into())
        );
        assert!(AccountAccessConsent::new([P::ReadAccountsBasic], None, None, None, now).is_ok());
    }
}
