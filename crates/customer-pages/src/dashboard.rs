//! The customer's Open Banking connections (`/app/connections`, CEG access dashboards): every
//! connection the customer authorised, grouped by TPP, in cluster language, with its accounts,
//! dates and status; revoke (with a confirmation step and the CEG's advice), change the
//! accounts shared, and refresh — one connection or all due ones with one passcode, each
//! re-authorised on its own ConsentId so the TPP's refresh token carries on. Whether and when a
//! connection is suspended — the 90-day rule, or the bank's own suspension for a security event
//! or a joint holder's request — is the domain's rule (`Reauthentication::suspended_at`); these
//! pages only show it. Standing orders and scheduled payments TPPs set up are listed with their
//! TPP and what is left to pay (`bascule_pisp::customer_orders`); they are shown, not changed
//! here.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bascule_authz::{Authorisation, RevokedBy};
use bascule_domain::{
    AccountId, Consent, ConsentKind, ConsentStatus, CustomerId, Reauthentication, SuspensionReason,
};
use time::OffsetDateTime;

use crate::app::account_label;
use crate::limits::Target;
use crate::pages::{
    AccountOption, Action, AnswerView, ChangeAccounts, ConnectionView, Connections, Message,
    PaymentView, Refresh, RevokeConfirm, SummaryView, TppGroup, clock_time, render,
};
use crate::reminders::REMINDER_NOTICE;
use crate::session::{Browser, FormFields};
use crate::{CustomerPages, PageError, summary};

fn day(at: OffsetDateTime) -> String {
    bascule_api_kit::summary::day(at)
}

fn not_found() -> PageError {
    PageError::Gone("This connection is not one of yours, or it has ended.".into())
}

impl CustomerPages {
    fn policy(&self) -> Reauthentication {
        self.inner.authz.config().reauthentication
    }

    /// The customer's lasting connections (account access, funds confirmation) that still give
    /// (or, suspended, will again give) access. A payment consent authorised and not yet used
    /// is not a connection: it is consumed by its one payment and cannot be revoked (PSD2
    /// Art. 80).
    async fn live_connections(&self, customer: &CustomerId) -> Result<Vec<Consent>, PageError> {
        Ok(self
            .inner
            .authz
            .consents()
            .list_for_customer(customer)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .into_iter()
            .filter(|c| c.status == ConsentStatus::Authorised && !c.kind.is_single_use())
            .collect())
    }

    /// One of the customer's live connections.
    async fn connection(&self, customer: &CustomerId, id: &str) -> Result<Consent, PageError> {
        self.live_connections(customer)
            .await?
            .into_iter()
            .find(|c| c.id.as_str() == id)
            .ok_or_else(not_found)
    }

    /// Whether the customer can refresh the connection at `now`: account access the bank has
    /// suspended (its 90-day rule or its own suspension), or will suspend under its 90-day
    /// rule within the reminder notice. Under `tpp_reconfirms` only the bank's own suspension
    /// is ever refreshed: the TPP reconfirms everything else.
    fn refreshable(&self, c: &Consent, now: OffsetDateTime) -> bool {
        let policy = self.policy();
        policy.suspended_at(c, now)
            || (policy
                .due_at(c)
                .is_some_and(|due| now >= due - REMINDER_NOTICE)
                && c.expires_at.is_none_or(|e| now < e))
    }

    /// The signed-in customer and their connection `id` (`page` is where sign-in returns).
    async fn their_connection(
        &self,
        headers: &HeaderMap,
        id: &str,
        page: &str,
    ) -> Result<(Browser, CustomerId, Consent), PageError> {
        let (browser, customer) = self
            .signed_in(headers, &format!("/app/connections/{id}/{page}"))
            .await?;
        let consent = self.connection(&customer, id).await?;
        Ok((browser, customer, consent))
    }

    /// [`Self::their_connection`] for a form posted there, its CSRF token checked.
    async fn their_connection_form(
        &self,
        headers: &HeaderMap,
        id: &str,
        page: &str,
        body: &[u8],
    ) -> Result<(Browser, CustomerId, Consent, FormFields), PageError> {
        let (browser, customer, form) = self
            .signed_in_form(headers, &format!("/app/connections/{id}/{page}"), body)
            .await?;
        let consent = self.connection(&customer, id).await?;
        Ok((browser, customer, consent, form))
    }

    fn view(
        &self,
        c: &Consent,
        labels: &HashMap<&AccountId, String>,
        answers: &[bascule_cbpii::GivenAnswer],
        usage: &HashMap<String, bascule_authz::Usage>,
        now: OffsetDateTime,
    ) -> Result<ConnectionView, PageError> {
        let used = usage.get(c.id.as_str());
        let policy = self.policy();
        let suspended = policy.suspended_at(c, now);
        let due = policy.due_at(c);
        let ends = match (due, c.expires_at) {
            (Some(due), expiry) if expiry.is_none_or(|e| due < e) => {
                Some(("Refresh by".to_owned(), day(due)))
            }
            (_, Some(expiry)) => Some(("Active until".to_owned(), day(expiry))),
            _ => None,
        };
        let by_bank = c.suspended_by_bank().filter(|_| suspended);
        let status = if by_bank.is_some() {
            "Paused by the bank: refresh to continue"
        } else if suspended {
            "Paused: refresh to continue"
        } else if self.refreshable(c, now) {
            "Active: refresh soon"
        } else {
            "Active"
        };
        Ok(ConnectionView {
            id: c.id.as_str().to_owned(),
            summary: SummaryView::from(&summary(c)?),
            accounts: c
                .accounts
                .iter()
                .map(|a| {
                    labels
                        .get(a)
                        .cloned()
                        .unwrap_or_else(|| "A closed account".into())
                })
                .collect(),
            granted: c.authorised_at.map(day).unwrap_or_default(),
            ends,
            status: status.into(),
            suspended,
            paused_because: by_bank.map(|s| paused_because(s.reason)),
            refreshable: self.refreshable(c, now),
            accounts_changeable: c.kind == ConsentKind::AccountAccess,
            answers: (c.kind == ConsentKind::FundsConfirmation).then(|| {
                answers
                    .iter()
                    .filter(|a| a.consent_id == c.id.as_str())
                    .map(|a| AnswerView {
                        when: clock_time(a.at.unix_timestamp()),
                        amount: a
                            .amount
                            .parse()
                            .map(|v| bascule_api_kit::summary::money(v, &a.currency))
                            .unwrap_or_else(|_| format!("{} {}", a.amount, a.currency)),
                        reference: a.reference.clone(),
                        answer: if a.funds_available {
                            "Yes, enough money"
                        } else {
                            "No, not enough money"
                        },
                    })
                    .collect()
            }),
            last_used: used.map(|u| clock_time(u.last_used_at)),
            calls_last_day: used.map_or(0, |u| u.calls_since),
        })
    }

    /// The passcode typed as the strong authentication, with the sign-in's limits.
    pub(crate) async fn passcode_ok(
        &self,
        peer: &SocketAddr,
        customer: &CustomerId,
        passcode: Option<&str>,
    ) -> Result<Result<(), String>, PageError> {
        let address = peer.ip().to_string();
        let target = Target::SignIn(customer.as_str());
        if self.limited(&address, &target).await? {
            return Ok(Err(
                "Too many wrong passcodes. Please wait 15 minutes and try again.".into(),
            ));
        }
        let verified = self
            .inner
            .sign_in
            .verify(customer.as_str(), passcode.unwrap_or_default())
            .await?;
        if verified.as_ref() != Some(customer) {
            self.record_attempt(&address, &target, false).await?;
            return Ok(Err("That passcode is not right. Try again.".into()));
        }
        Ok(Ok(()))
    }

    /// Re-authorises `consent` on its own ConsentId for `accounts`: a new authorisation time,
    /// the TPP's refresh token unchanged.
    async fn reauthorise(
        &self,
        customer: &CustomerId,
        consent: &Consent,
        accounts: &[AccountId],
    ) -> Result<(), PageError> {
        self.inner
            .authz
            .consents()
            .authorise(&consent.id, Authorisation::Again, customer, accounts)
            .await
            .map_err(|e| PageError::Gone(format!("This connection cannot be refreshed: {e}.")))?;
        tracing::info!(consent_id = %consent.id, "the customer re-authorised a connection");
        Ok(())
    }

    fn back_to_connections(&self, page: Message, browser: &Browser) -> Response {
        render(&page.bank(&self.inner.config.bank_name).action(
            Action::link("/app/connections", "Back to connections", true),
            &browser.csrf,
        ))
    }

    fn refresh_page(
        &self,
        browser: &Browser,
        action: String,
        names: Vec<String>,
        error: Option<String>,
    ) -> Response {
        render(&Refresh {
            bank: self.inner.config.bank_name.clone(),
            csrf: browser.csrf.clone(),
            action,
            names,
            error,
        })
    }

    async fn tpp_names(&self, consents: &[&Consent]) -> Result<HashMap<String, String>, PageError> {
        let ids: Vec<&str> = consents.iter().map(|c| c.client_id.as_str()).collect();
        self.client_names(&ids).await
    }

    /// Each client's name as the customer knows it (one lookup for them all).
    async fn client_names(&self, ids: &[&str]) -> Result<HashMap<String, String>, PageError> {
        Ok(self
            .inner
            .authz
            .registrar()
            .clients(ids)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .into_iter()
            .map(|(id, c)| (id, c.display_name().to_owned()))
            .collect())
    }
}

fn name_of(names: &HashMap<String, String>, c: &Consent) -> String {
    client_name(names, &c.client_id)
}

fn client_name(names: &HashMap<String, String>, client_id: &str) -> String {
    names
        .get(client_id)
        .cloned()
        .unwrap_or_else(|| "An app no longer registered".into())
}

/// Why the bank paused a connection, as the customer reads it.
fn paused_because(reason: SuspensionReason) -> &'static str {
    match reason {
        SuspensionReason::SecurityEvent => {
            "We paused it to keep your accounts safe after a security check. Refresh it if you \
             still want this app to see your accounts."
        }
        SuspensionReason::JointHolderRequest => {
            "We paused it because someone who holds a shared account with you asked us to. \
             Refresh it if you still want this app to see your accounts."
        }
    }
}

fn group_of(groups: &mut Vec<TppGroup>, name: String) -> &mut TppGroup {
    let at = match groups.iter().position(|g| g.name == name) {
        Some(at) => at,
        None => {
            groups.push(TppGroup {
                name,
                connections: Vec::new(),
                payments: Vec::new(),
            });
            groups.len() - 1
        }
    };
    &mut groups[at]
}

pub(crate) async fn list(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (_, customer) = pages.signed_in(&headers, "/app/connections").await?;
    let now = pages.inner.clock.now();
    let connections = pages.live_connections(&customer).await?;
    let accounts = pages.customer_accounts(&customer).await?;
    let labels: HashMap<&AccountId, String> = accounts
        .iter()
        .map(|a| {
            let (label, detail) = account_label(a);
            let text = if detail.is_empty() {
                label
            } else {
                format!("{label} ({detail})")
            };
            (&a.id, text)
        })
        .collect();
    let orders = bascule_pisp::customer_orders::orders_in_force(
        &pages.inner.store,
        pages.inner.core_banking.as_ref(),
        &customer,
    )
    .await
    .map_err(|e| PageError::Internal(format!("reading payment orders: {e:?}")))?;
    let clients: Vec<&str> = connections
        .iter()
        .map(|c| c.client_id.as_str())
        .chain(orders.iter().map(|o| o.client_id.as_str()))
        .collect();
    let names = pages.client_names(&clients).await?;
    let usage = pages
        .inner
        .authz
        .consent_usage(&customer, (now - time::Duration::days(1)).unix_timestamp())
        .await?;
    let answers = if connections
        .iter()
        .any(|c| c.kind == ConsentKind::FundsConfirmation)
    {
        bascule_cbpii::answers_for_customer(&pages.inner.store, &customer).await?
    } else {
        Vec::new()
    };
    let mut groups: Vec<TppGroup> = Vec::new();
    for c in &connections {
        let view = pages.view(c, &labels, &answers, &usage, now)?;
        group_of(&mut groups, name_of(&names, c))
            .connections
            .push(view);
    }
    for o in &orders {
        let described = o.describe();
        let view = PaymentView {
            id: o.id.clone(),
            title: described.title,
            status: described.status,
            from: labels
                .get(&o.debtor_account_id)
                .cloned()
                .unwrap_or_else(|| "A closed account".into()),
            facts: described.facts,
        };
        group_of(&mut groups, client_name(&names, &o.client_id))
            .payments
            .push(view);
    }
    groups.sort_by_key(|g| g.name.to_lowercase());
    let refresh_all = connections
        .iter()
        .filter(|c| pages.refreshable(c, now))
        .count();
    Ok(render(&Connections {
        bank: pages.inner.config.bank_name.clone(),
        groups,
        refresh_all,
    }))
}

pub(crate) async fn revoke_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, _, consent) = pages.their_connection(&headers, &id, "revoke").await?;
    let names = pages.tpp_names(&[&consent]).await?;
    Ok(render(&RevokeConfirm {
        bank: pages.inner.config.bank_name.clone(),
        csrf: browser.csrf,
        id,
        tpp_name: name_of(&names, &consent),
        summary: SummaryView::from(&summary(&consent)?),
        funds: consent.kind == ConsentKind::FundsConfirmation,
    }))
}

pub(crate) async fn revoke(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, _, consent, _) = pages
        .their_connection_form(&headers, &id, "revoke", &body)
        .await?;
    let names = pages.tpp_names(&[&consent]).await?;
    pages
        .inner
        .authz
        .consents()
        .revoke(&consent.id, RevokedBy::Customer)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?;
    tracing::info!(consent_id = %consent.id, "the customer revoked a connection");
    let name = name_of(&names, &consent);
    Ok(pages.back_to_connections(
        Message::new(
            "Connection stopped",
            format!("{name} can no longer use this connection. Nothing more will be shared."),
        )
        .paragraph(format!(
            "Contact {name} if you want to know what this means for the service they give you."
        )),
        &browser,
    ))
}

pub(crate) async fn accounts_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, customer, consent) = pages.their_connection(&headers, &id, "accounts").await?;
    pages
        .change_accounts_page(&browser, &customer, &consent, None)
        .await
}

impl CustomerPages {
    async fn change_accounts_page(
        &self,
        browser: &Browser,
        customer: &CustomerId,
        consent: &Consent,
        error: Option<String>,
    ) -> Result<Response, PageError> {
        if consent.kind != ConsentKind::AccountAccess {
            return Err(PageError::Gone(
                "Only connections that see your accounts can change the accounts shared.".into(),
            ));
        }
        let names = self.tpp_names(&[consent]).await?;
        let accounts = self
            .customer_accounts(customer)
            .await?
            .iter()
            .map(|a| {
                let (label, detail) = account_label(a);
                AccountOption {
                    id: a.id.as_str().to_owned(),
                    label,
                    detail,
                    checked: consent.accounts.contains(&a.id),
                }
            })
            .collect();
        Ok(render(&ChangeAccounts {
            bank: self.inner.config.bank_name.clone(),
            csrf: browser.csrf.clone(),
            id: consent.id.as_str().to_owned(),
            tpp_name: name_of(&names, consent),
            accounts,
            error,
        }))
    }
}

pub(crate) async fn change_accounts(
    State(pages): State<CustomerPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, customer, consent, form) = pages
        .their_connection_form(&headers, &id, "accounts", &body)
        .await?;
    let held = pages.customer_accounts(&customer).await?;
    let picked: Vec<AccountId> = form
        .all("account")
        .into_iter()
        .filter_map(|raw| held.iter().find(|a| a.id.as_str() == raw))
        .map(|a| a.id.clone())
        .collect();
    if picked.is_empty() || picked.len() != form.all("account").len() {
        let error = "Choose at least one account. To share none, stop the connection instead.";
        return pages
            .change_accounts_page(&browser, &customer, &consent, Some(error.into()))
            .await;
    }
    if let Err(error) = pages
        .passcode_ok(&peer, &customer, form.get("passcode"))
        .await?
    {
        return pages
            .change_accounts_page(&browser, &customer, &consent, Some(error))
            .await;
    }
    pages.reauthorise(&customer, &consent, &picked).await?;
    let names = pages.tpp_names(&[&consent]).await?;
    Ok(pages.back_to_connections(
        Message::new(
            "Accounts changed",
            format!(
                "{} now sees only the accounts you chose.",
                name_of(&names, &consent)
            ),
        ),
        &browser,
    ))
}

/// The refresh page of one connection (where a reminder links).
pub(crate) async fn refresh_one_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, _, consent) = pages.their_connection(&headers, &id, "refresh").await?;
    if !pages.refreshable(&consent, pages.inner.clock.now()) {
        return Ok(nothing_to_refresh(&pages, &browser));
    }
    let action = format!("/app/connections/{id}/refresh");
    let names = pages.tpp_names(&[&consent]).await?;
    Ok(pages.refresh_page(&browser, action, vec![name_of(&names, &consent)], None))
}

pub(crate) async fn refresh_all_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let action = "/app/connections/refresh".to_owned();
    let (browser, customer) = pages.signed_in(&headers, &action).await?;
    let due = pages.due(&customer).await?;
    if due.is_empty() {
        return Ok(nothing_to_refresh(&pages, &browser));
    }
    let names = pages.tpp_names(&due.iter().collect::<Vec<_>>()).await?;
    let shown = due.iter().map(|c| name_of(&names, c)).collect();
    Ok(pages.refresh_page(&browser, action, shown, None))
}

fn nothing_to_refresh(pages: &CustomerPages, browser: &Browser) -> Response {
    pages.back_to_connections(
        Message::new(
            "Nothing to refresh",
            "Your connections keep working without a refresh. Each one ends on the date shown.",
        ),
        browser,
    )
}

impl CustomerPages {
    async fn due(&self, customer: &CustomerId) -> Result<Vec<Consent>, PageError> {
        let now = self.inner.clock.now();
        Ok(self
            .live_connections(customer)
            .await?
            .into_iter()
            .filter(|c| self.refreshable(c, now))
            .collect())
    }

    /// Refreshes `consents` after the passcode: each on its own ConsentId, same accounts.
    async fn refresh(
        &self,
        peer: &SocketAddr,
        browser: &Browser,
        customer: &CustomerId,
        consents: Vec<Consent>,
        form: &FormFields,
        action: String,
    ) -> Result<Response, PageError> {
        let names = self.tpp_names(&consents.iter().collect::<Vec<_>>()).await?;
        let shown: Vec<String> = consents.iter().map(|c| name_of(&names, c)).collect();
        if let Err(error) = self
            .passcode_ok(peer, customer, form.get("passcode"))
            .await?
        {
            return Ok(self.refresh_page(browser, action, shown, Some(error)));
        }
        for c in &consents {
            self.reauthorise(customer, c, &c.accounts).await?;
        }
        let text = match shown.as_slice() {
            [one] => format!("{one} can carry on using your connection. Nothing to do in {one}."),
            many => format!(
                "{} connections refreshed: {}. Nothing to do in those apps.",
                many.len(),
                many.join(", ")
            ),
        };
        Ok(self.back_to_connections(Message::new("Refreshed", text), browser))
    }
}

pub(crate) async fn refresh_one(
    State(pages): State<CustomerPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, customer, consent, form) = pages
        .their_connection_form(&headers, &id, "refresh", &body)
        .await?;
    let action = format!("/app/connections/{id}/refresh");
    if !pages.refreshable(&consent, pages.inner.clock.now()) {
        return Ok(nothing_to_refresh(&pages, &browser));
    }
    pages
        .refresh(&peer, &browser, &customer, vec![consent], &form, action)
        .await
}

pub(crate) async fn refresh_all(
    State(pages): State<CustomerPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let action = "/app/connections/refresh".to_owned();
    let (browser, customer, form) = pages.signed_in_form(&headers, &action, &body).await?;
    let due = pages.due(&customer).await?;
    if due.is_empty() {
        return Ok(nothing_to_refresh(&pages, &browser));
    }
    pages
        .refresh(&peer, &browser, &customer, due, &form, action)
        .await
}
