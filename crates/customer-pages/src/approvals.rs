//! Journeys and approval requests. A journey is one authorisation request in one browser (its
//! id is useless in another). An approval request is "the push": the customer's app shows it
//! until they decide or it expires. Every status change is a compare-and-set, so a reload, the
//! back button or a double click never decides twice.

use bascule_domain::{AccountId, CustomerId};
use bascule_store::sqlx::{self, Row, any::AnyRow};

use crate::session::Browser;
use crate::{CustomerPages, PageError, random_token};

#[derive(Debug, Clone)]
pub(crate) struct Journey {
    pub id: String,
    pub authz_session: String,
    pub approval_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApprovalStatus {
    /// Waiting for the app.
    Pending,
    Approved,
    Rejected,
    /// The journey took the decision back to the TPP.
    Completed,
    /// The journey was cancelled, or the consent could no longer be approved.
    Cancelled,
}

impl ApprovalStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Approved => "Approved",
            Self::Rejected => "Rejected",
            Self::Completed => "Completed",
            Self::Cancelled => "Cancelled",
        }
    }

    fn parse(raw: &str) -> Result<Self, PageError> {
        Ok(match raw {
            "Pending" => Self::Pending,
            "Approved" => Self::Approved,
            "Rejected" => Self::Rejected,
            "Completed" => Self::Completed,
            "Cancelled" => Self::Cancelled,
            other => return Err(PageError::Internal(format!("approval status {other}"))),
        })
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ApprovalRequest {
    pub id: String,
    pub journey_id: String,
    pub authz_session: String,
    pub customer: CustomerId,
    pub status: ApprovalStatus,
    pub accounts: Vec<AccountId>,
    pub decided_at: Option<i64>,
    pub expires_at: i64,
}

impl ApprovalRequest {
    pub fn expired_at(&self, now: i64) -> bool {
        self.status == ApprovalStatus::Pending && self.expires_at <= now
    }
}

macro_rules! approval_columns {
    () => {
        "id, journey_id, authz_session, customer_id, status, accounts, decided_at, expires_at"
    };
}

fn approval(row: &AnyRow) -> Result<ApprovalRequest, PageError> {
    let accounts: Option<String> = row.try_get("accounts")?;
    let accounts: Vec<String> = match accounts {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| PageError::Internal(format!("stored approval accounts: {e}")))?,
        None => Vec::new(),
    };
    Ok(ApprovalRequest {
        id: row.try_get("id")?,
        journey_id: row.try_get("journey_id")?,
        authz_session: row.try_get("authz_session")?,
        customer: CustomerId::parse(row.try_get::<String, _>("customer_id")?)
            .map_err(|_| PageError::Internal("stored customer id".into()))?,
        status: ApprovalStatus::parse(&row.try_get::<String, _>("status")?)?,
        accounts: accounts
            .into_iter()
            .map(AccountId::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| PageError::Internal("stored account id".into()))?,
        decided_at: row.try_get("decided_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

impl CustomerPages {
    /// A journey for an authorisation session, in this browser.
    pub(crate) async fn start_journey(
        &self,
        authz_session: &str,
        browser: &Browser,
        expires_at: i64,
    ) -> Result<Journey, PageError> {
        let journey = Journey {
            id: random_token()?,
            authz_session: authz_session.to_owned(),
            approval_id: None,
        };
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO journeys (id, authz_session, browser, approval_id, created_at, expires_at) \
                     VALUES ($1, $2, $3, NULL, $4, $5)",
                )
                .bind(&journey.id)
                .bind(authz_session)
                .bind(&browser.id_hash)
                .bind(self.now())
                .bind(expires_at),
            )
            .await?;
        Ok(journey)
    }

    /// This browser's journey `id`; another browser's, or an unknown one, is gone.
    pub(crate) async fn journey(&self, id: &str, browser: &Browser) -> Result<Journey, PageError> {
        let row = sqlx::query(
            "SELECT id, authz_session, approval_id FROM journeys WHERE id = $1 AND browser = $2 AND expires_at > $3",
        )
        .bind(id)
        .bind(&browser.id_hash)
        .bind(self.now())
        .fetch_optional(self.inner.store.pool())
        .await?
        .ok_or_else(|| {
            PageError::Gone(
                "This request has finished or expired. Go back to the app you came from and start again."
                    .into(),
            )
        })?;
        Ok(Journey {
            id: row.try_get("id")?,
            authz_session: row.try_get("authz_session")?,
            approval_id: row.try_get("approval_id")?,
        })
    }

    /// Sends the push: a new approval request for `customer`, unless the journey already has
    /// one pending (then that one). One transaction: the journey points at its request.
    pub(crate) async fn request_approval(
        &self,
        journey: &Journey,
        customer: &CustomerId,
        consent_id: &str,
        client_id: &str,
    ) -> Result<ApprovalRequest, PageError> {
        if let Some(existing) = &journey.approval_id
            && let Some(a) = self.approval(existing).await?
            && a.status == ApprovalStatus::Pending
            && !a.expired_at(self.now())
        {
            return Ok(a);
        }
        let now = self.now();
        let id = random_token()?;
        let mut tx = self.inner.store.begin().await?;
        tx.execute(
            sqlx::query(
                "INSERT INTO approval_requests (id, journey_id, authz_session, customer_id, consent_id, \
                 client_id, status, accounts, decided_at, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'Pending', NULL, NULL, $7, $8)",
            )
            .bind(&id)
            .bind(&journey.id)
            .bind(&journey.authz_session)
            .bind(customer.as_str())
            .bind(consent_id)
            .bind(client_id)
            .bind(now)
            .bind(now + self.inner.config.approval_lifetime),
        )
        .await?;
        // Any earlier request of the journey (expired, say) stops showing in the app.
        tx.execute(
            sqlx::query(
                "UPDATE approval_requests SET status = 'Cancelled' WHERE journey_id = $1 AND id <> $2 AND status = 'Pending'",
            )
            .bind(&journey.id)
            .bind(&id),
        )
        .await?;
        tx.execute(
            sqlx::query("UPDATE journeys SET approval_id = $1 WHERE id = $2")
                .bind(&id)
                .bind(&journey.id),
        )
        .await?;
        tx.commit().await?;
        self.approval(&id)
            .await?
            .ok_or_else(|| PageError::Internal("the approval request just written".into()))
    }

    pub(crate) async fn approval(&self, id: &str) -> Result<Option<ApprovalRequest>, PageError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approval_requests WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.inner.store.pool())
        .await?;
        row.as_ref().map(approval).transpose()
    }

    /// The customer's pending, unexpired requests, newest first.
    pub(crate) async fn inbox(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<ApprovalRequest>, PageError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approval_requests WHERE customer_id = $1 AND status = 'Pending' \
             AND expires_at > $2 ORDER BY created_at DESC, id"
        ))
        .bind(customer.as_str())
        .bind(self.now())
        .fetch_all(self.inner.store.pool())
        .await?;
        rows.iter().map(approval).collect()
    }

    /// The app's decision on a pending, unexpired request; false when it was no longer
    /// pending (decided already, expired, cancelled).
    pub(crate) async fn record_decision(
        &self,
        id: &str,
        customer: &CustomerId,
        decision: ApprovalStatus,
        accounts: &[AccountId],
    ) -> Result<bool, PageError> {
        let accounts: Vec<&str> = accounts.iter().map(AccountId::as_str).collect();
        let accounts = serde_json::to_string(&accounts)
            .map_err(|e| PageError::Internal(format!("accounts: {e}")))?;
        let now = self.now();
        let changed = self
            .inner
            .store
            .write(
                sqlx::query(
                    "UPDATE approval_requests SET status = $1, accounts = $2, decided_at = $3 \
                     WHERE id = $4 AND customer_id = $5 AND status = 'Pending' AND expires_at > $3",
                )
                .bind(decision.as_str())
                .bind(accounts)
                .bind(now)
                .bind(id)
                .bind(customer.as_str()),
            )
            .await?;
        Ok(changed == 1)
    }

    /// Moves a request from `from` to `to`; false when another change came first.
    pub(crate) async fn move_approval(
        &self,
        id: &str,
        from: ApprovalStatus,
        to: ApprovalStatus,
    ) -> Result<bool, PageError> {
        let changed = self
            .inner
            .store
            .write(
                sqlx::query(
                    "UPDATE approval_requests SET status = $1 WHERE id = $2 AND status = $3",
                )
                .bind(to.as_str())
                .bind(id)
                .bind(from.as_str()),
            )
            .await?;
        Ok(changed == 1)
    }
}
