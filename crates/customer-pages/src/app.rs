//! The bank app: sign-in, the inbox of approval requests, and the approval screen where the
//! customer strongly authenticates (approving is the SCA: `acr` sca and `auth_time` come
//! from it). App-to-app journeys come here straight from `/app/authorize` and go back to the
//! TPP from here; web journeys continue in the browser that started them.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bascule_api_kit::summary::AccountChoice;
use bascule_domain::{Account, AccountId, AccountKind, ConsentStatus, CustomerId};

use crate::approvals::{ApprovalRequest, ApprovalStatus};
use crate::journey::{Context, see_other, with_logo};
use crate::limits::Target;
use crate::pages::{
    AccountOption, Action, Approval, Choice, Inbox, InboxItem, Message, SignIn, SummaryView,
    clock_time, render,
};
use crate::session::{Browser, FormFields, check_csrf};
use crate::{CustomerPages, PageError};

/// Where sign-in may send the browser next: the app's own pages only.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/app") && !n.starts_with("//") && !n.contains("://") => {
            n.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

fn instead(page: Response) -> PageError {
    PageError::Instead(Box::new(page))
}

fn not_yours() -> PageError {
    PageError::Gone("This request is not waiting for you any more.".into())
}

/// What the customer may choose from, and whether they may pick several.
enum Offer {
    Choose {
        several: bool,
        accounts: Vec<Account>,
    },
    Named(Box<Account>),
    /// The TPP named an account this customer does not hold (or that is closed).
    NotHeld,
}

fn account_label(a: &Account) -> (String, String) {
    match (&a.pot, a.identification) {
        (Some(pot), _) => (format!("{} pot", pot.name), "Savings pot".into()),
        (None, Some(id)) => (
            a.nickname
                .clone()
                .unwrap_or_else(|| "Current account".into()),
            format!("{} {}", id.sort_code.dashed(), id.account_number.as_str()),
        ),
        (None, None) => (
            a.nickname.clone().unwrap_or_else(|| "Account".into()),
            String::new(),
        ),
    }
}

impl CustomerPages {
    fn sign_in_page(
        &self,
        browser: &Browser,
        next: &str,
        choices: Vec<Choice>,
        error: Option<String>,
        status: StatusCode,
    ) -> Response {
        let page = SignIn {
            bank: self.inner.config.bank_name.clone(),
            csrf: browser.csrf.clone(),
            next: next.to_owned(),
            choices,
            error,
        };
        (status, render(&page)).into_response()
    }

    async fn sign_in_choices(&self) -> Result<Vec<Choice>, PageError> {
        Ok(self
            .inner
            .sign_in
            .choices()
            .await?
            .into_iter()
            .map(|c| Choice {
                customer: c.customer.as_str().to_owned(),
                name: c.name,
            })
            .collect())
    }

    /// The signed-in customer, or the sign-in page that comes back to `next`.
    async fn signed_in(
        &self,
        headers: &HeaderMap,
        next: &str,
    ) -> Result<(Browser, CustomerId), PageError> {
        let (browser, cookie) = self.browser_or_new(headers).await?;
        if let Some(customer) = browser.customer.clone() {
            return Ok((browser, customer));
        }
        let mut page = self.sign_in_page(
            &browser,
            next,
            self.sign_in_choices().await?,
            None,
            StatusCode::OK,
        );
        if let Some(c) = cookie {
            page.headers_mut().insert(axum::http::header::SET_COOKIE, c);
        }
        Err(instead(page))
    }

    async fn offer(
        &self,
        customer: &CustomerId,
        choice: &AccountChoice,
    ) -> Result<Offer, PageError> {
        let accounts: Vec<Account> = self
            .inner
            .core_banking
            .accounts_of_customer(customer)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .into_iter()
            .filter(Account::is_open)
            .collect();
        Ok(match choice {
            AccountChoice::Several => Offer::Choose {
                several: true,
                accounts,
            },
            AccountChoice::OneCurrentAccount => Offer::Choose {
                several: false,
                accounts: accounts
                    .into_iter()
                    .filter(|a| a.kind == AccountKind::CurrentAccount)
                    .collect(),
            },
            AccountChoice::Named(named) => {
                match accounts
                    .into_iter()
                    .find(|a| a.identification == Some(*named))
                {
                    Some(a) => Offer::Named(Box::new(a)),
                    None => Offer::NotHeld,
                }
            }
        })
    }

    /// The approval request `id` if it is this customer's and still waiting; otherwise the
    /// page that says why not.
    async fn waiting_approval(
        &self,
        id: &str,
        customer: &CustomerId,
        browser: &Browser,
    ) -> Result<(ApprovalRequest, Context), PageError> {
        let approval = self
            .approval(id)
            .await?
            .filter(|a| &a.customer == customer)
            .ok_or_else(not_yours)?;
        // Every way this ends is a page with a way back to the app's home.
        let ended = |title: &str, text: String| {
            instead(render(
                &Message::new(title, text)
                    .bank(&self.inner.config.bank_name)
                    .action(Action::link("/app", "Back to the app", true), &browser.csrf),
            ))
        };
        if approval.status != ApprovalStatus::Pending {
            return Err(ended(
                "Already decided",
                "You have already answered this request. Nothing more to do here.".into(),
            ));
        }
        if approval.expired_at(self.now()) {
            return Err(ended(
                "This request expired",
                "Nothing was approved. If you still want to connect, start again from the app \
                 that asked."
                    .into(),
            ));
        }
        let withdrawn = match self.context(&approval.authz_session).await {
            Ok(ctx) if ctx.consent.status == ConsentStatus::AwaitingAuthorisation => {
                return Ok((approval, ctx));
            }
            // Revoked or expired while the customer was deciding: nothing left to approve.
            Ok(ctx) => format!(
                "{} withdrew this request, or it expired. Nothing was approved.",
                ctx.tpp.name
            ),
            Err(PageError::Gone(_)) => "The app's request has ended. Nothing was approved.".into(),
            Err(e) => return Err(e),
        };
        self.move_approval(
            &approval.id,
            ApprovalStatus::Pending,
            ApprovalStatus::Cancelled,
        )
        .await?;
        Err(ended("This request can no longer be approved", withdrawn))
    }

    fn approval_page(
        &self,
        approval: &ApprovalRequest,
        ctx: &Context,
        browser: &Browser,
        offer: &Offer,
        error: Option<String>,
    ) -> Response {
        let (named, several, accounts) = match offer {
            Offer::Named(a) => {
                let (label, detail) = account_label(a);
                (Some(format!("{label} ({detail})")), false, Vec::new())
            }
            Offer::Choose { several, accounts } => (
                None,
                *several,
                accounts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let (label, detail) = account_label(a);
                        AccountOption {
                            id: a.id.as_str().to_owned(),
                            label,
                            detail,
                            // One account to pay from: the first is preselected.
                            checked: !*several && i == 0,
                        }
                    })
                    .collect(),
            ),
            Offer::NotHeld => (None, false, Vec::new()),
        };
        let page = Approval {
            bank: self.inner.config.bank_name.clone(),
            tpp: ctx.tpp.clone(),
            summary: SummaryView::from(&ctx.summary),
            approval: approval.id.clone(),
            csrf: browser.csrf.clone(),
            named,
            several,
            accounts,
            error,
        };
        with_logo(render(&page), &ctx.tpp)
    }
}

pub(crate) async fn home(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (browser, customer) = pages.signed_in(&headers, "/app").await?;
    let name = pages
        .inner
        .core_banking
        .customer(&customer)
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .legal_name;
    let mut requests = Vec::new();
    for a in pages.inbox(&customer).await? {
        // A request whose authorisation already ended is not shown.
        let Ok(ctx) = pages.context(&a.authz_session).await else {
            continue;
        };
        if ctx.consent.status != ConsentStatus::AwaitingAuthorisation {
            continue;
        }
        requests.push(InboxItem {
            id: a.id,
            tpp_name: ctx.tpp.name,
            purpose: ctx.summary.purpose,
            expires: clock_time(a.expires_at),
        });
    }
    Ok(render(&Inbox {
        bank: pages.inner.config.bank_name.clone(),
        csrf: browser.csrf,
        first_name: name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
        requests,
    }))
}

pub(crate) async fn sign_in(
    State(pages): State<CustomerPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let browser = pages.browser(&headers).await?.ok_or_else(|| {
        PageError::Forbidden("Your session has ended. Open the app again to sign in.".into())
    })?;
    let form = FormFields::parse(&body);
    check_csrf(&browser, form.get("csrf"))?;
    let next = safe_next(form.get("next"));
    let who = form.get("customer").unwrap_or_default();
    let target = Target::SignIn(who);
    let address = peer.ip().to_string();
    if pages.limited(&address, &target).await? {
        return Ok(pages.sign_in_page(
            &browser,
            &next,
            pages.sign_in_choices().await?,
            Some("Too many wrong passcodes. Please wait 15 minutes and try again.".into()),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let verified = pages
        .inner
        .sign_in
        .verify(who, form.get("passcode").unwrap_or_default())
        .await?;
    let Some(customer) = verified else {
        pages.record_attempt(&address, &target, false).await?;
        tracing::info!(%address, outcome = "wrong_passcode", "app sign-in");
        return Ok(pages.sign_in_page(
            &browser,
            &next,
            pages.sign_in_choices().await?,
            Some("That passcode is not right. Try again.".into()),
            StatusCode::OK,
        ));
    };
    let (_, cookie) = pages.sign_in_browser(&browser, &customer).await?;
    tracing::info!(customer = %customer.as_str(), "signed into the app");
    see_other(&next, Some(cookie))
}

pub(crate) async fn sign_out(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let Some(browser) = pages.browser(&headers).await? else {
        return see_other("/app", None);
    };
    check_csrf(&browser, FormFields::parse(&body).get("csrf"))?;
    let cookie = pages.sign_out_browser(&browser).await?;
    see_other("/app", Some(cookie))
}

/// The app's universal link: the TPP's authorisation URL opened in the bank's app.
pub(crate) async fn authorize_in_app(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    pages.begin(&params, &headers, true).await
}

/// An app-to-app journey: the signed-in customer goes straight to the approval screen.
pub(crate) async fn journey_in_app(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, customer) = pages
        .signed_in(&headers, &format!("/app/journeys/{id}"))
        .await?;
    let journey = pages.journey(&id, &browser).await?;
    let ctx = pages.context(&journey.authz_session).await?;
    let approval = pages
        .request_approval(
            &journey,
            &customer,
            &ctx.request.consent_id,
            &ctx.request.client_id,
        )
        .await?;
    see_other(&format!("/app/approvals/{}", approval.id), None)
}

pub(crate) async fn approval_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, customer) = pages
        .signed_in(&headers, &format!("/app/approvals/{id}"))
        .await?;
    let (approval, ctx) = pages.waiting_approval(&id, &customer, &browser).await?;
    let offer = pages.offer(&customer, &ctx.summary.accounts).await?;
    let error = matches!(offer, Offer::NotHeld).then(|| {
        format!(
            "{} asked to use an account that is not yours or is closed. You can only decline.",
            ctx.tpp.name
        )
    });
    Ok(pages.approval_page(&approval, &ctx, &browser, &offer, error))
}

pub(crate) async fn decide(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, customer) = pages
        .signed_in(&headers, &format!("/app/approvals/{id}"))
        .await?;
    let form = FormFields::parse(&body);
    check_csrf(&browser, form.get("csrf"))?;
    let (approval, ctx) = pages.waiting_approval(&id, &customer, &browser).await?;
    let approve = match form.get("decision") {
        Some("approve") => true,
        Some("reject") => false,
        _ => return Err(PageError::BadRequest("choose Approve or Decline".into())),
    };
    let offer = pages.offer(&customer, &ctx.summary.accounts).await?;
    let accounts: Vec<AccountId> = if approve {
        let chosen = match &offer {
            Offer::Named(a) => vec![a.id.clone()],
            Offer::NotHeld => Vec::new(),
            Offer::Choose { several, accounts } => {
                let picked: Vec<AccountId> = form
                    .all("account")
                    .into_iter()
                    .filter_map(|raw| accounts.iter().find(|a| a.id.as_str() == raw))
                    .map(|a| a.id.clone())
                    .collect();
                if picked.len() != form.all("account").len() || (!several && picked.len() > 1) {
                    Vec::new()
                } else {
                    picked
                }
            }
        };
        if chosen.is_empty() {
            let message = match offer {
                Offer::NotHeld => "This request can only be declined.",
                _ => "Choose an account to continue.",
            };
            return Ok(pages.approval_page(
                &approval,
                &ctx,
                &browser,
                &offer,
                Some(message.into()),
            ));
        }
        chosen
    } else {
        Vec::new()
    };
    let decision = if approve {
        ApprovalStatus::Approved
    } else {
        ApprovalStatus::Rejected
    };
    if !pages
        .record_decision(&approval.id, &customer, decision, &accounts)
        .await?
    {
        return Err(not_yours());
    }
    tracing::info!(approval = %approval.id, approved = approve, "the customer decided in the app");
    // App-to-app: the journey is this browser's, so it goes back to the TPP from here.
    if pages.journey(&approval.journey_id, &browser).await.is_ok() {
        let decided = pages.approval(&approval.id).await?.ok_or_else(not_yours)?;
        return pages.finish(&decided).await;
    }
    let page = if approve {
        Message::new(
            "Approved",
            format!(
                "You approved {}. Go back to your browser: it is taking you back to {} now.",
                ctx.tpp.name, ctx.tpp.name
            ),
        )
    } else {
        Message::new(
            "Declined",
            format!(
                "You declined {}. Nothing was shared and no payment was made.",
                ctx.tpp.name
            ),
        )
    }
    .bank(&pages.inner.config.bank_name)
    .action(Action::link("/app", "Back to the app", true), &browser.csrf);
    Ok(render(&page))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn sign_in_only_goes_on_to_the_apps_own_pages() {
        assert_eq!(safe_next(Some("/app/approvals/x")), "/app/approvals/x");
        assert_eq!(safe_next(Some("https://evil.example/app")), "/app");
        assert_eq!(safe_next(Some("//evil.example")), "/app");
        assert_eq!(safe_next(None), "/app");
    }
}
