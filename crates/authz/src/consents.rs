//! The consent service: every consent the APIs create lives here and moves through the domain's
//! lifecycle (`bascule_domain::ConsentStatus::apply`) only here. Each state change is also a step
//! inside a caller's transaction (the `*_in` methods), so a change and the rows that go with it (a
//! payment, an event) commit together; the plain methods run the step in a transaction of their
//! own. What it refuses is a [`ConsentError`], mapped once to the Open Banking answers.

use std::sync::Arc;

use bascule_domain::{
    AccountId, BankSuspension, Clock, Consent, ConsentEvent, ConsentId, ConsentKind, ConsentStatus,
    CustomerId, RandomIds, SuspensionReason,
};
use bascule_http::{Error, ObErrorCode};
use bascule_store::sqlx::{self, Any, Row, any::AnyArguments, any::AnyRow, query::Query};
use bascule_store::{Store, StoreError, WriteTx};
use time::OffsetDateTime;

use crate::AuthzError;
use crate::outbox::{self, EventType, Subject};

/// Why a consent cannot be found, used or changed as asked.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// No consent with this id, or not of the kind asked for (`kind`, when known).
    #[error("No {} consent with this ConsentId", label(*kind))]
    NotFound { kind: Option<ConsentKind> },
    #[error("The consent belongs to another client")]
    OtherClient,
    /// The consent is of a kind this call does not accept (e.g. an access token bound to a
    /// payment consent presented to the account API).
    #[error("A {} consent cannot be used for this call", label(Some(*kind)))]
    WrongKind { kind: ConsentKind },
    /// The lifecycle does not allow the change from the consent's status.
    #[error("The consent is {status}")]
    WrongStatus { status: ConsentStatus },
    /// Another change to the consent committed first (a compare-and-set on its status lost).
    #[error("The consent changed meanwhile")]
    LostRace,
    /// A client-credentials token where the call needs one the customer authorised.
    #[error("This call needs an access token the customer authorised")]
    NotBound,
    /// A token the customer authorised where the call needs a client-credentials token.
    #[error("This call needs a client-credentials token")]
    NotClientCredentials,
    #[error("The access token does not carry the {scope} scope")]
    MissingScope { scope: String },
    /// The token's consent no longer gives access (expired, revoked) since the token was checked.
    #[error("The consent is no longer usable")]
    NotUsable,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

fn label(kind: Option<ConsentKind>) -> &'static str {
    match kind {
        None => "such",
        Some(ConsentKind::AccountAccess) => "account-access",
        Some(ConsentKind::DomesticPayment) => "domestic-payment",
        Some(ConsentKind::DomesticScheduledPayment) => "domestic-scheduled-payment",
        Some(ConsentKind::DomesticStandingOrder) => "domestic-standing-order",
        Some(ConsentKind::FundsConfirmation) => "funds-confirmation",
    }
}

impl From<sqlx::Error> for ConsentError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

/// The Open Banking answers (RW §HTTP Status Codes, §403): an unknown, other-kind or deleted
/// consent is 400 `Resource.NotFound` (ids are not paths, so not 404); another client's is 403;
/// a status the change does not allow, or a change that lost a race, is 400
/// `Resource.InvalidConsentStatus` — an expected outcome, never a 500.
impl From<ConsentError> for Error {
    fn from(e: ConsentError) -> Self {
        let message = e.to_string();
        match e {
            ConsentError::NotFound { .. } => {
                Error::bad_request(ObErrorCode::ResourceNotFound, message)
            }
            ConsentError::OtherClient
            | ConsentError::WrongKind { .. }
            | ConsentError::NotBound
            | ConsentError::NotClientCredentials
            | ConsentError::MissingScope { .. } => {
                Error::forbidden(ObErrorCode::ResourceConsentMismatch, message)
            }
            ConsentError::WrongStatus { .. } | ConsentError::LostRace => {
                Error::bad_request(ObErrorCode::ResourceInvalidConsentStatus, message)
            }
            ConsentError::NotUsable => Error::Unauthorised("consent no longer usable".into()),
            ConsentError::Store(e) => Error::internal(e),
            ConsentError::Internal(m) => Error::Internal(m),
        }
    }
}

/// Inside the authorisation server a refused consent change is the request's fault, as
/// RFC 6749 words it (`invalid_request`).
impl From<ConsentError> for AuthzError {
    fn from(e: ConsentError) -> Self {
        match e {
            ConsentError::Store(e) => AuthzError::Store(e),
            ConsentError::Internal(m) => AuthzError::Internal(m),
            other => AuthzError::request(other.to_string()),
        }
    }
}

/// Who revoked a consent: the TPP (`DELETE`), the customer (the bank's dashboard), or the bank.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokedBy {
    Tpp,
    Customer,
    Bank,
}

impl RevokedBy {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Tpp => "tpp",
            Self::Customer => "customer",
            Self::Bank => "bank",
        }
    }
}

/// What a revocation did.
#[derive(Debug, Clone)]
pub struct Revocation {
    /// The consent afterwards.
    pub consent: Consent,
    /// False when the consent was already closed (rejected, consumed, expired or revoked by an
    /// earlier or a concurrent call): then only its remaining tokens died.
    pub revoked_now: bool,
    pub by: RevokedBy,
    pub tokens_revoked: u64,
}

/// What an API asks the service to store: a consent of `kind` for `client_id`, awaiting the
/// customer's authorisation, with the API's own `details` (JSON).
#[derive(Debug, Clone)]
pub struct NewConsent<'a> {
    pub kind: ConsentKind,
    pub client_id: &'a str,
    /// `ExpirationDateTime`, as the TPP asked.
    pub expires_at: Option<OffsetDateTime>,
    pub details: String,
}

/// Which authorisation the customer gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorisation {
    /// Of a consent awaiting it (the authorize endpoint).
    First,
    /// Of an Authorised consent again, on the same ConsentId: a new authorisation time and,
    /// possibly, other accounts (the dashboard's refresh; AISP §Consent Re-authentication). The
    /// caller checks the accounts are the customer's, as the authorize endpoint does. Another
    /// customer's consent is NotFound, an expired one WrongStatus, and a payment consent
    /// WrongKind: payment consents are not re-authorised (PISP §Consent Re-authentication).
    Again,
}

/// How a client's lookup treats a revoked consent: the Account API's deleted consent is gone
/// (later GETs are 400 `Resource.NotFound`, AISP §Consent Revocation); funds-confirmation and
/// payment consents stay readable as `Revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenRevoked {
    Readable,
    Gone,
}

#[derive(Clone)]
pub struct ConsentStore {
    store: Store,
    clock: Arc<dyn Clock>,
}

/// What the service's methods answer.
pub type Outcome<T> = Result<T, ConsentError>;

/// The service's other name: what the APIs call it.
pub type Consents = ConsentStore;

fn ts(us: i64) -> Result<OffsetDateTime, ConsentError> {
    OffsetDateTime::from_unix_timestamp(us)
        .map_err(|_| ConsentError::Internal("stored time out of range".into()))
}

fn consent(row: &AnyRow) -> Result<Consent, ConsentError> {
    let id: String = row.try_get("id")?;
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let accounts: String = row.try_get("accounts")?;
    let corrupt = |what: &str| ConsentError::Internal(format!("stored consent {what}"));
    Ok(Consent {
        id: ConsentId::parse(id).map_err(|_| corrupt("id"))?,
        kind: ConsentKind::parse(&kind).ok_or_else(|| corrupt("kind"))?,
        client_id: row.try_get("client_id")?,
        status: ConsentStatus::parse(&status).ok_or_else(|| corrupt("status"))?,
        created_at: ts(row.try_get("created_at")?)?,
        status_updated_at: ts(row.try_get("status_updated_at")?)?,
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")?
            .map(ts)
            .transpose()?,
        customer_id: row
            .try_get::<Option<String>, _>("customer_id")?
            .map(CustomerId::parse)
            .transpose()
            .map_err(|_| corrupt("customer"))?,
        accounts: accounts
            .split(',')
            .filter(|a| !a.is_empty())
            .map(AccountId::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| corrupt("accounts"))?,
        authorised_at: row
            .try_get::<Option<i64>, _>("authorised_at")?
            .map(ts)
            .transpose()?,
        bank_suspension: match (
            row.try_get::<Option<String>, _>("suspended_reason")?,
            row.try_get::<Option<i64>, _>("suspended_at")?,
        ) {
            (Some(reason), Some(at)) => Some(BankSuspension {
                reason: SuspensionReason::parse(&reason)
                    .ok_or_else(|| corrupt("suspension reason"))?,
                at: ts(at)?,
            }),
            _ => None,
        },
        details: row.try_get("details")?,
    })
}

/// A waiting or authorised consent past its expiry is Expired, whether or not that is recorded.
fn lapsed(c: &Consent, now: OffsetDateTime) -> bool {
    !c.status.is_final() && c.expires_at.is_some_and(|e| now >= e)
}

fn joined(accounts: &[AccountId]) -> String {
    accounts
        .iter()
        .map(|a| a.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn insert(consent: &Consent) -> Query<'_, Any, AnyArguments> {
    sqlx::query(
        "INSERT INTO consents (id, kind, client_id, status, created_at, \
         status_updated_at, expires_at, accounts, details) \
         VALUES ($1, $2, $3, $4, $5, $5, $6, '', $7)",
    )
    .bind(consent.id.as_str())
    .bind(consent.kind.as_str())
    .bind(consent.client_id.as_str())
    .bind(consent.status.as_str())
    .bind(consent.created_at.unix_timestamp())
    .bind(consent.expires_at.map(|e| e.unix_timestamp()))
    .bind(consent.details.as_str())
}

impl ConsentStore {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// Runs one step in a transaction of its own.
    async fn in_own_tx<T>(&self, step: impl AsyncFnOnce(&mut WriteTx) -> Outcome<T>) -> Outcome<T> {
        let mut tx = self.store.begin().await?;
        let done = step(&mut tx).await?;
        tx.commit().await?;
        Ok(done)
    }

    fn awaiting(&self, new: NewConsent<'_>) -> Consent {
        let now = self.clock.now();
        Consent {
            id: ConsentId::generate(&RandomIds),
            kind: new.kind,
            client_id: new.client_id.to_owned(),
            status: ConsentStatus::AwaitingAuthorisation,
            created_at: now,
            status_updated_at: now,
            expires_at: new.expires_at,
            customer_id: None,
            accounts: Vec::new(),
            authorised_at: None,
            bank_suspension: None,
            details: new.details,
        }
    }

    /// A new consent awaiting the customer's authorisation.
    pub async fn create(
        &self,
        kind: ConsentKind,
        client_id: &str,
        expires_at: Option<OffsetDateTime>,
        details: String,
    ) -> Outcome<Consent> {
        let consent = self.awaiting(NewConsent {
            kind,
            client_id,
            expires_at,
            details,
        });
        self.store.write(insert(&consent)).await?;
        Ok(consent)
    }

    /// [`Self::create`] as a step of the caller's transaction.
    pub async fn create_in(&self, tx: &mut WriteTx, new: NewConsent<'_>) -> Outcome<Consent> {
        let consent = self.awaiting(new);
        tx.execute(insert(&consent)).await?;
        Ok(consent)
    }

    /// The consent, with an authorised or waiting consent past its expiry reported (and
    /// recorded) as Expired.
    pub async fn get(&self, id: &str) -> Outcome<Option<Consent>> {
        let row = sqlx::query("SELECT * FROM consents WHERE id = $1")
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
        let Some(mut c) = row.as_ref().map(consent).transpose()? else {
            return Ok(None);
        };
        let now = self.clock.now();
        if lapsed(&c, now) {
            self.transition(&c.id, ConsentEvent::Expire).await.ok();
            c.status = ConsentStatus::Expired;
            c.status_updated_at = now;
        }
        Ok(Some(c))
    }

    /// The client's `kind` consent `raw_id`: NotFound when unknown or of another kind (and, with
    /// [`WhenRevoked::Gone`], when revoked), OtherClient when another client's.
    pub async fn of_client(
        &self,
        kind: ConsentKind,
        client_id: &str,
        raw_id: &str,
        when_revoked: WhenRevoked,
    ) -> Outcome<Consent> {
        let not_found = || ConsentError::NotFound { kind: Some(kind) };
        let consent = self
            .get(raw_id)
            .await?
            .filter(|c| c.kind == kind)
            .ok_or_else(not_found)?;
        if consent.client_id != client_id {
            return Err(ConsentError::OtherClient);
        }
        if when_revoked == WhenRevoked::Gone && consent.status == ConsentStatus::Revoked {
            return Err(not_found());
        }
        Ok(consent)
    }

    /// Every consent the customer authorised (whatever became of it since), newest first, in one
    /// query. A consent past its expiry is reported Expired.
    pub async fn list_for_customer(&self, customer: &CustomerId) -> Outcome<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT * FROM consents WHERE customer_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(customer.as_str())
        .fetch_all(self.store.pool())
        .await?;
        let now = self.clock.now();
        rows.iter()
            .map(|row| {
                let mut c = consent(row)?;
                if lapsed(&c, now) {
                    c.status = ConsentStatus::Expired;
                }
                Ok(c)
            })
            .collect()
    }

    /// Every authorised consent that gives lasting access (account access, funds confirmation)
    /// and is not past its expiry at `now`, in one query: what the reminder job looks through.
    pub async fn authorised_lasting(&self) -> Outcome<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT * FROM consents WHERE status = $1 AND customer_id IS NOT NULL \
             AND (kind = $2 OR kind = $3) AND (expires_at IS NULL OR expires_at > $4) \
             ORDER BY id",
        )
        .bind(ConsentStatus::Authorised.as_str())
        .bind(ConsentKind::AccountAccess.as_str())
        .bind(ConsentKind::FundsConfirmation.as_str())
        .bind(self.clock.now().unix_timestamp())
        .fetch_all(self.store.pool())
        .await?;
        rows.iter().map(consent).collect()
    }

    /// Revokes every consent of `client_id` not already closed, each with its tokens in its own
    /// transaction (a compromised TPP: `bascule admin revoke-tpp`). Consents already closed only
    /// lose any tokens left.
    pub async fn revoke_all_of_client(
        &self,
        client_id: &str,
        by: RevokedBy,
    ) -> Outcome<Vec<Revocation>> {
        let rows = sqlx::query("SELECT id FROM consents WHERE client_id = $1 ORDER BY id")
            .bind(client_id)
            .fetch_all(self.store.pool())
            .await?;
        let mut done = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = ConsentId::parse(row.try_get::<String, _>("id")?)
                .map_err(|_| ConsentError::Internal("stored consent id".into()))?;
            done.push(self.revoke(&id, by).await?);
        }
        Ok(done)
    }

    /// The authorised, unexpired account-access consents of clients with an event
    /// subscription, each covering at least one of `accounts`: who may hear about them.
    pub async fn subscribed_access_to(&self, accounts: &[&str]) -> Outcome<Vec<Consent>> {
        let rows = sqlx::query(
            "SELECT * FROM consents WHERE kind = $1 AND status = $2 \
             AND client_id IN (SELECT client_id FROM event_subscriptions)",
        )
        .bind(ConsentKind::AccountAccess.as_str())
        .bind(ConsentStatus::Authorised.as_str())
        .fetch_all(self.store.pool())
        .await?;
        let now = self.clock.now();
        let mut out = Vec::new();
        for row in &rows {
            let c = consent(row)?;
            if !lapsed(&c, now) && c.accounts.iter().any(|a| accounts.contains(&a.as_str())) {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// The consent as stored, read inside the caller's transaction.
    pub async fn read_in(&self, tx: &mut WriteTx, id: &ConsentId) -> Outcome<Option<Consent>> {
        let row = sqlx::query("SELECT * FROM consents WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(tx.conn())
            .await?;
        row.as_ref().map(consent).transpose()
    }

    async fn stored_in(&self, tx: &mut WriteTx, id: &ConsentId) -> Outcome<Consent> {
        self.read_in(tx, id)
            .await?
            .ok_or(ConsentError::NotFound { kind: None })
    }

    /// Applies a lifecycle event; refused if the lifecycle does not allow it from the stored state.
    pub async fn transition(&self, id: &ConsentId, event: ConsentEvent) -> Outcome<Consent> {
        self.in_own_tx(async |tx| self.transition_in(tx, id, event).await)
            .await
    }

    /// [`Self::transition`] as a step of the caller's transaction. A lost compare-and-set is
    /// [`ConsentError::LostRace`]; the caller then drops (rolls back) its transaction.
    pub async fn transition_in(
        &self,
        tx: &mut WriteTx,
        id: &ConsentId,
        event: ConsentEvent,
    ) -> Outcome<Consent> {
        let current = self.stored_in(tx, id).await?;
        self.apply_in(tx, &current, event, None).await
    }

    /// Marks a payment consent consumed, in the payment's own transaction.
    pub async fn consume_in(&self, tx: &mut WriteTx, id: &ConsentId) -> Outcome<Consent> {
        self.transition_in(tx, id, ConsentEvent::Consume).await
    }

    /// The customer authorises a consent (the first time, or again: see [`Authorisation`]) for
    /// the accounts they chose.
    pub async fn authorise(
        &self,
        id: &ConsentId,
        which: Authorisation,
        customer: &CustomerId,
        accounts: &[AccountId],
    ) -> Outcome<Consent> {
        self.in_own_tx(async |tx| self.authorise_in(tx, id, which, customer, accounts).await)
            .await
    }

    /// [`Self::authorise`] as a step of the caller's transaction.
    pub async fn authorise_in(
        &self,
        tx: &mut WriteTx,
        id: &ConsentId,
        which: Authorisation,
        customer: &CustomerId,
        accounts: &[AccountId],
    ) -> Outcome<Consent> {
        let current = self.stored_in(tx, id).await?;
        let event = match which {
            Authorisation::First => ConsentEvent::Authorise,
            Authorisation::Again => {
                if current.customer_id.as_ref() != Some(customer) {
                    return Err(ConsentError::NotFound {
                        kind: Some(current.kind),
                    });
                }
                if current.kind.is_single_use() {
                    return Err(ConsentError::WrongKind { kind: current.kind });
                }
                if lapsed(&current, self.clock.now()) {
                    return Err(ConsentError::WrongStatus {
                        status: ConsentStatus::Expired,
                    });
                }
                ConsentEvent::Reauthorise
            }
        };
        self.apply_in(tx, &current, event, Some((customer, accounts)))
            .await
    }

    /// The bank suspends an authorised, unexpired account-access consent for `reason` until the
    /// customer authenticates again (the dashboard's refresh lifts it). Nothing else changes:
    /// status, id, tokens and `ExpirationDateTime` stay, so the TPP's refresh token works again
    /// afterwards. Suspending a suspended consent records the newer reason and time. Another
    /// kind is WrongKind (a payment order or a funds check is not account access); a closed or
    /// lapsed consent is WrongStatus.
    pub async fn suspend(&self, id: &ConsentId, reason: SuspensionReason) -> Outcome<Consent> {
        let now = self.clock.now();
        self.in_own_tx(async |tx| {
            let current = self.stored_in(tx, id).await?;
            if current.kind != ConsentKind::AccountAccess {
                return Err(ConsentError::WrongKind { kind: current.kind });
            }
            if lapsed(&current, now) {
                return Err(ConsentError::WrongStatus {
                    status: ConsentStatus::Expired,
                });
            }
            let changed = tx
                .execute(
                    sqlx::query(
                        "UPDATE consents SET suspended_reason = $1, suspended_at = $2 \
                         WHERE id = $3 AND status = $4",
                    )
                    .bind(reason.as_str())
                    .bind(now.unix_timestamp())
                    .bind(id.as_str())
                    .bind(ConsentStatus::Authorised.as_str()),
                )
                .await?;
            if changed != 1 {
                return Err(ConsentError::WrongStatus {
                    status: current.status,
                });
            }
            tracing::info!(consent_id = %id, reason = reason.as_str(), "the bank suspended a consent");
            self.stored_in(tx, id).await
        })
        .await
    }

    /// Revokes the consent and, in the same transaction, every token tied to it. A consent
    /// already closed (or past its expiry, which is then recorded) only loses its tokens.
    pub async fn revoke(&self, id: &ConsentId, by: RevokedBy) -> Outcome<Revocation> {
        self.in_own_tx(async |tx| self.revoke_in(tx, id, by).await)
            .await
    }

    /// [`Self::revoke`] as a step of the caller's transaction.
    pub async fn revoke_in(
        &self,
        tx: &mut WriteTx,
        id: &ConsentId,
        by: RevokedBy,
    ) -> Outcome<Revocation> {
        let now = self.clock.now();
        let mut current = self.stored_in(tx, id).await?;
        let mut revoked_now = false;
        // A change committed meanwhile (authorised, revoked, expired by another call) makes the
        // compare-and-set lose; the consent is read again and decided from its new state. Under
        // PostgreSQL's read-committed isolation the second read sees that change.
        let mut attempts = 0;
        while !current.status.is_final() {
            if attempts == 2 {
                return Err(ConsentError::LostRace);
            }
            attempts += 1;
            let event = if lapsed(&current, now) {
                ConsentEvent::Expire
            } else {
                ConsentEvent::Revoke
            };
            match self.apply_in(tx, &current, event, None).await {
                Ok(changed) => {
                    revoked_now = event == ConsentEvent::Revoke;
                    current = changed;
                }
                Err(ConsentError::LostRace) => current = self.stored_in(tx, id).await?,
                Err(e) => return Err(e),
            }
        }
        if revoked_now {
            // The TPP learns of it in the same transaction (EVNP §Consent Authorisation
            // Revoked); resource-update too, since v3.1.11's OBEvent1 carries only that one.
            let subject = Subject::consent(current.kind, &current.id);
            for event in [
                EventType::ConsentAuthorizationRevoked,
                EventType::ResourceUpdate,
            ] {
                outbox::record_in(tx, now, &current.client_id, event, &subject).await?;
            }
        }
        let tokens_revoked = tx
            .execute(crate::tokens::revoke_of_consent(
                now.unix_timestamp(),
                id.as_str(),
            ))
            .await?;
        tracing::info!(
            consent_id = %id,
            by = by.as_str(),
            revoked_now,
            tokens_revoked,
            "consent revoked"
        );
        Ok(Revocation {
            consent: current,
            revoked_now,
            by,
            tokens_revoked,
        })
    }

    /// The one write of a lifecycle move: a compare-and-set on the status read in the same
    /// transaction, so two racing decisions cannot both win; then the consent as it now is.
    async fn apply_in(
        &self,
        tx: &mut WriteTx,
        current: &Consent,
        event: ConsentEvent,
        authorisation: Option<(&CustomerId, &[AccountId])>,
    ) -> Outcome<Consent> {
        let next = current
            .status
            .apply(event)
            .map_err(|e| ConsentError::WrongStatus { status: e.from })?;
        let now = self.clock.now().unix_timestamp();
        // The status's time moves only when the status does (a re-authorisation keeps it).
        let status_updated_at = if next == current.status {
            current.status_updated_at.unix_timestamp()
        } else {
            now
        };
        let id = current.id.as_str();
        let expected = current.status.as_str();
        let changed = match authorisation {
            None => {
                tx.execute(
                    sqlx::query(
                        "UPDATE consents SET status = $1, status_updated_at = $2 \
                         WHERE id = $3 AND status = $4",
                    )
                    .bind(next.as_str())
                    .bind(status_updated_at)
                    .bind(id)
                    .bind(expected),
                )
                .await?
            }
            Some((customer, accounts)) => {
                tx.execute(
                    // The customer's strong authentication lifts a suspension by the bank.
                    sqlx::query(
                        "UPDATE consents SET status = $1, status_updated_at = $2, \
                         customer_id = $3, accounts = $4, authorised_at = $5, \
                         suspended_reason = NULL, suspended_at = NULL \
                         WHERE id = $6 AND status = $7",
                    )
                    .bind(next.as_str())
                    .bind(status_updated_at)
                    .bind(customer.as_str())
                    .bind(joined(accounts))
                    .bind(now)
                    .bind(id)
                    .bind(expected),
                )
                .await?
            }
        };
        if changed != 1 {
            return Err(ConsentError::LostRace);
        }
        self.read_in(tx, &current.id)
            .await?
            .ok_or_else(|| ConsentError::Internal("consent vanished".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bascule_domain::ManualClock;
    use bascule_store::StoreOptions;
    use time::macros::datetime;

    fn answer(e: ConsentError) -> (u16, Option<&'static str>) {
        let e = Error::from(e);
        let code = match &e {
            Error::BadRequest(d) | Error::Forbidden(d) => d.first().map(|d| d.code.as_str()),
            _ => None,
        };
        (e.status().as_u16(), code)
    }

    #[test]
    fn each_refusal_has_the_open_banking_answer() {
        let not_found = Some("UK.OBIE.Resource.NotFound");
        let mismatch = Some("UK.OBIE.Resource.ConsentMismatch");
        let status = Some("UK.OBIE.Resource.InvalidConsentStatus");
        let kind = ConsentKind::AccountAccess;
        assert_eq!(
            answer(ConsentError::NotFound { kind: Some(kind) }),
            (400, not_found)
        );
        assert_eq!(
            answer(ConsentError::NotFound { kind: None }),
            (400, not_found)
        );
        assert_eq!(answer(ConsentError::OtherClient), (403, mismatch));
        assert_eq!(answer(ConsentError::WrongKind { kind }), (403, mismatch));
        assert_eq!(answer(ConsentError::NotBound), (403, mismatch));
        assert_eq!(answer(ConsentError::NotClientCredentials), (403, mismatch));
        let scope = "accounts".to_owned();
        assert_eq!(
            answer(ConsentError::MissingScope { scope }),
            (403, mismatch)
        );
        let revoked = ConsentStatus::Revoked;
        assert_eq!(
            answer(ConsentError::WrongStatus { status: revoked }),
            (400, status)
        );
        assert_eq!(answer(ConsentError::LostRace), (400, status));
        assert_eq!(answer(ConsentError::NotUsable), (401, None));
        assert_eq!(answer(ConsentError::Internal("bug".into())), (500, None));
    }

    #[tokio::test]
    async fn a_compare_and_set_on_a_stale_status_is_lost_race() {
        let dir = tempfile::tempdir().unwrap();
        let url = bascule_store::sqlite_url(&dir.path().join("consents.db"));
        let store = Store::connect(&url, &StoreOptions::default())
            .await
            .unwrap();
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-05 09:00 UTC)));
        let consents = ConsentStore::new(store.clone(), clock);
        let kind = ConsentKind::AccountAccess;
        let stale = consents
            .create(kind, "client", None, "{}".into())
            .await
            .unwrap();
        consents
            .transition(&stale.id, ConsentEvent::Reject)
            .await
            .unwrap();

        // Decided from the status read before the rejection committed.
        let mut tx = store.begin().await.unwrap();
        let lost = consents
            .apply_in(&mut tx, &stale, ConsentEvent::Revoke, None)
            .await
            .unwrap_err();
        assert!(matches!(lost, ConsentError::LostRace), "{lost:?}");
        drop(tx);
        let now = consents.get(stale.id.as_str()).await.unwrap().unwrap();
        assert_eq!(now.status, ConsentStatus::Rejected);
    }
}
