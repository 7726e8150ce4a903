//! Reminders before a connection's access ends: a clock-driven job finds every connection
//! within 30 days of its suspension (the bank's 90-day rule) or expiry and sends one reminder
//! per connection per cycle through a [`Notifier`] (the demo's is [`AppInbox`], the bank app's
//! inbox; a bank adds email, SMS or push behind the same trait).
//!
//! One reminder however many nodes run the job and however often it restarts: a reminder is
//! first claimed by inserting its `(consent, cycle)` row, whose primary key lets only one
//! insert win; the loser's insert does nothing and it sends nothing. The cycle is the moment
//! access ends, so a refresh (a new `authorised_at`) starts a new cycle. A node that dies
//! between the claim and the delivery loses that reminder (at most once, never twice).

use std::sync::Arc;

use async_trait::async_trait;
use bascule_domain::{Clock, Consent, ConsentId, CustomerId, Reauthentication};
use bascule_store::Store;
use bascule_store::sqlx::{self, Row};
use time::OffsetDateTime;

use crate::{CustomerPages, PageError, random_token};

/// How long before access ends the customer is reminded.
pub const REMINDER_NOTICE: time::Duration = time::Duration::days(30);

/// What a reminder tells the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub customer: CustomerId,
    pub consent_id: ConsentId,
    /// The TPP's name, as the customer knows it.
    pub tpp_name: String,
    /// When access stops unless the customer acts.
    pub ends_at: OffsetDateTime,
    /// The bank suspends access then (a refresh in the app continues it); otherwise the
    /// consent expires (the TPP asks again).
    pub suspension: bool,
    /// Where the customer goes to act: the app's refresh page.
    pub link: String,
}

/// How a reminder reaches the customer.
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn notify(&self, reminder: &Reminder) -> Result<(), PageError>;
}

/// The demo's notifier: a message in the bank app's inbox.
#[derive(Clone)]
pub struct AppInbox {
    store: Store,
    clock: Arc<dyn Clock>,
}

impl AppInbox {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }
}

#[async_trait]
impl Notifier for AppInbox {
    async fn notify(&self, r: &Reminder) -> Result<(), PageError> {
        let day = bascule_api_kit::summary::day(r.ends_at);
        let (title, body) = if r.suspension {
            (
                format!("Refresh {} by {day}", r.tpp_name),
                format!(
                    "{} can use your accounts until {day}. Refresh the connection before then \
                     to keep it working.",
                    r.tpp_name
                ),
            )
        } else {
            (
                format!("{} stops on {day}", r.tpp_name),
                format!(
                    "Your connection to {} ends on {day}. To keep using it, reconnect from {}.",
                    r.tpp_name, r.tpp_name
                ),
            )
        };
        self.store
            .write(
                sqlx::query(
                    "INSERT INTO app_messages (id, customer_id, title, body, link, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(random_token()?)
                .bind(r.customer.as_str())
                .bind(title)
                .bind(body)
                .bind(&r.link)
                .bind(self.clock.now().unix_timestamp()),
            )
            .await?;
        Ok(())
    }
}

/// A message in the app's inbox.
#[derive(Debug, Clone)]
pub(crate) struct AppMessage {
    pub title: String,
    pub body: String,
    pub link: String,
}

/// Whether the consent is due a reminder at `now`: its access ends within the notice period.
fn due_a_reminder(
    policy: Reauthentication,
    consent: &Consent,
    now: OffsetDateTime,
) -> Option<OffsetDateTime> {
    policy
        .access_ends_at(consent)
        .filter(|ends| now >= *ends - REMINDER_NOTICE && now < *ends)
}

impl CustomerPages {
    /// The reminder job's one run: how many reminders this run sent.
    pub async fn send_reminders(&self) -> Result<u64, PageError> {
        let authz = &self.inner.authz;
        let policy = authz.config().reauthentication;
        let now = self.inner.clock.now();
        let due: Vec<(Consent, OffsetDateTime)> = authz
            .consents()
            .authorised_lasting()
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .into_iter()
            .filter_map(|c| due_a_reminder(policy, &c, now).map(|ends| (c, ends)))
            .collect();
        if due.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = due.iter().map(|(c, _)| c.client_id.as_str()).collect();
        let clients = authz
            .registrar()
            .clients(&ids)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?;
        let mut sent = 0;
        for (consent, ends_at) in due {
            let Some(customer) = consent.customer_id.clone() else {
                continue;
            };
            let claimed = self
                .inner
                .store
                .write(
                    sqlx::query(
                        "INSERT INTO consent_reminders (consent_id, ends_at, customer_id, sent_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    )
                    .bind(consent.id.as_str())
                    .bind(ends_at.unix_timestamp())
                    .bind(customer.as_str())
                    .bind(now.unix_timestamp()),
                )
                .await?;
            if claimed != 1 {
                continue;
            }
            let tpp_name = clients
                .get(&consent.client_id)
                .map_or("An app you connected", |c| c.display_name())
                .to_owned();
            let suspension = policy.due_at(&consent) == Some(ends_at);
            let reminder = Reminder {
                customer,
                tpp_name,
                ends_at,
                suspension,
                // Straight to the refresh page where a refresh continues access.
                link: if suspension {
                    format!("/app/connections/{}/refresh", consent.id.as_str())
                } else {
                    "/app/connections".to_owned()
                },
                consent_id: consent.id,
            };
            self.inner.notifier.notify(&reminder).await?;
            tracing::info!(consent_id = %reminder.consent_id, "reminder sent");
            sent += 1;
        }
        Ok(sent)
    }

    /// The app inbox's messages for `customer`, newest first.
    pub(crate) async fn messages(
        &self,
        customer: &CustomerId,
    ) -> Result<Vec<AppMessage>, PageError> {
        let rows = sqlx::query(
            "SELECT title, body, link FROM app_messages WHERE customer_id = $1 \
             ORDER BY created_at DESC, id LIMIT 20",
        )
        .bind(customer.as_str())
        .fetch_all(self.inner.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AppMessage {
                    title: r.try_get("title")?,
                    body: r.try_get("body")?,
                    link: r.try_get("link")?,
                })
            })
            .collect()
    }
}
