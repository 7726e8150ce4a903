//! The web flow. `/authorize` validates the TPP's request (the authorisation server's job) and
//! starts a journey in this browser; the customer gives full name, sort code and account
//! number; only when all three match one customer does the bank send the push; the page then
//! waits for the app and takes the decision back to the TPP.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bascule_api_kit::summary::ConsentSummary;
use bascule_authz::{AuthorizationRequest, AuthorizeOutcome, Decision};
use bascule_domain::{Consent, ConsentStatus, SortCodeAccountNumber};
use serde_json::json;

use crate::approvals::{ApprovalRequest, ApprovalStatus, Journey};
use crate::limits::Target;
use crate::pages::{
    Action, Identify, Message, SummaryView, TppView, Wait, clock_time, csp_with_logo, render,
};
use crate::session::{Browser, FormFields, check_csrf};
use crate::{CustomerPages, PageError, summary};

/// What a journey's pages show: the request, its consent and who is asking.
pub(crate) struct Context {
    pub request: AuthorizationRequest,
    pub consent: Consent,
    pub summary: ConsentSummary,
    pub tpp: TppView,
}

/// A 303 to `to`, setting the session cookie when one was just made.
pub(crate) fn see_other(to: &str, cookie: Option<HeaderValue>) -> Result<Response, PageError> {
    let location = HeaderValue::from_str(to)
        .map_err(|_| PageError::Internal("a redirect that is not a header value".into()))?;
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    if let Some(c) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, c);
    }
    Ok(response)
}

/// A page allowed to show the TPP's logo.
pub(crate) fn with_logo(mut response: Response, tpp: &TppView) -> Response {
    if let Ok(v) = HeaderValue::from_str(&csp_with_logo(tpp.logo.as_deref())) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, v);
    }
    response
}

fn gone() -> PageError {
    PageError::Gone(
        "This request has finished or expired. Go back to the app you came from and start again."
            .into(),
    )
}

/// People type names their own way: case, spaces and full stops do not matter.
fn same_name(typed: &str, held: &str) -> bool {
    let norm = |s: &str| {
        s.split(|c: char| c.is_whitespace() || c == '.')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect::<Vec<_>>()
    };
    let typed = norm(typed);
    !typed.is_empty() && typed == norm(held)
}

impl CustomerPages {
    pub(crate) async fn context(&self, authz_session: &str) -> Result<Context, PageError> {
        let authz = &self.inner.authz;
        let request = authz
            .session_request(authz_session)
            .await?
            .ok_or_else(gone)?;
        let consent = authz
            .consents()
            .get(&request.consent_id)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .ok_or_else(gone)?;
        let client = authz
            .registrar()
            .client(&request.client_id)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?
            .ok_or_else(gone)?;
        Ok(Context {
            summary: summary(&consent)?,
            tpp: TppView {
                name: client.display_name().to_owned(),
                logo: client.logo_uri().map(str::to_owned),
            },
            request,
            consent,
        })
    }

    /// `/authorize` (and the app's `/app/authorize`): the TPP's request checked, then the
    /// customer's journey in this browser — straight to the approval screen when the browser
    /// is the bank app (signed in, or opened through the app's link).
    pub(crate) async fn begin(
        &self,
        params: &HashMap<String, String>,
        headers: &HeaderMap,
        in_app: bool,
    ) -> Result<Response, PageError> {
        let session = match self.inner.authz.authorize(params).await? {
            AuthorizeOutcome::Redirect(to) => return see_other(&to, None),
            AuthorizeOutcome::Journey(session) => session,
        };
        let (browser, cookie) = self.browser_or_new(headers).await?;
        let expires = self.now() + self.inner.authz.config().session_lifetime;
        let journey = self.start_journey(&session, &browser, expires).await?;
        let next = if in_app || browser.customer.is_some() {
            format!("/app/journeys/{}", journey.id)
        } else {
            format!("/consent/{}", journey.id)
        };
        see_other(&next, cookie)
    }

    /// The browser's session and its journey, for a journey page.
    async fn journey_of(
        &self,
        headers: &HeaderMap,
        id: &str,
    ) -> Result<(Browser, Journey), PageError> {
        let browser = self.browser(headers).await?.ok_or_else(gone)?;
        let journey = self.journey(id, &browser).await?;
        Ok((browser, journey))
    }

    async fn live_approval(&self, journey: &Journey) -> Result<Option<ApprovalRequest>, PageError> {
        match &journey.approval_id {
            Some(id) => Ok(self.approval(id).await?),
            None => Ok(None),
        }
    }

    /// The journey's approval request, withdrawn first when its consent can no longer be
    /// authorised (the TPP deleted it, it expired) so that nobody waits for nothing.
    async fn current_approval(
        &self,
        journey: &Journey,
    ) -> Result<Option<ApprovalRequest>, PageError> {
        let Some(mut approval) = self.live_approval(journey).await? else {
            return Ok(None);
        };
        if approval.status == ApprovalStatus::Pending {
            let awaiting = match self.context(&journey.authz_session).await {
                Ok(ctx) => ctx.consent.status == ConsentStatus::AwaitingAuthorisation,
                Err(PageError::Gone(_)) => false,
                Err(e) => return Err(e),
            };
            if !awaiting
                && self
                    .move_approval(
                        &approval.id,
                        ApprovalStatus::Pending,
                        ApprovalStatus::Cancelled,
                    )
                    .await?
            {
                approval.status = ApprovalStatus::Cancelled;
            }
        }
        Ok(Some(approval))
    }

    fn identify_page(
        &self,
        ctx: &Context,
        journey: &Journey,
        browser: &Browser,
        full_name: &str,
        error: Option<String>,
    ) -> Response {
        let named = ctx.summary.accounts.named();
        let page = Identify {
            bank: self.inner.config.bank_name.clone(),
            tpp: ctx.tpp.clone(),
            summary: SummaryView::from(&ctx.summary),
            journey: journey.id.clone(),
            csrf: browser.csrf.clone(),
            full_name: full_name.to_owned(),
            sort_code: named.map(|a| a.sort_code.dashed()).unwrap_or_default(),
            account_number: named
                .map(|a| a.account_number.as_str().to_owned())
                .unwrap_or_default(),
            locked: named.is_some(),
            error,
        };
        with_logo(render(&page), &ctx.tpp)
    }

    /// Takes the app's decision back to the TPP, once: the redirect with the code (or
    /// `access_denied`).
    pub(crate) async fn finish(&self, approval: &ApprovalRequest) -> Result<Response, PageError> {
        let decision = match approval.status {
            ApprovalStatus::Approved => Decision::Approve {
                customer: approval.customer.clone(),
                accounts: approval.accounts.clone(),
                authenticated_at: approval
                    .decided_at
                    .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
                    .ok_or_else(|| PageError::Internal("an approval without its time".into()))?,
            },
            ApprovalStatus::Rejected => Decision::Reject,
            _ => return Err(gone()),
        };
        if !self
            .move_approval(&approval.id, approval.status, ApprovalStatus::Completed)
            .await?
        {
            return Err(gone());
        }
        let to = self
            .inner
            .authz
            .complete(&approval.authz_session, decision)
            .await
            .map_err(|_| gone())?;
        tracing::info!(approval = %approval.id, "consent journey returned to the TPP");
        see_other(&to, None)
    }

    /// Cancel at any step: `access_denied` to the TPP.
    pub(crate) async fn cancel_journey(&self, journey: &Journey) -> Result<Response, PageError> {
        if let Some(a) = self.live_approval(journey).await?
            && a.status == ApprovalStatus::Pending
        {
            self.move_approval(&a.id, ApprovalStatus::Pending, ApprovalStatus::Cancelled)
                .await?;
        }
        let to = self
            .inner
            .authz
            .complete(&journey.authz_session, Decision::Reject)
            .await
            .map_err(|_| gone())?;
        see_other(&to, None)
    }

    fn rate_limited(&self) -> Response {
        let page = Message::new(
            "Too many attempts",
            "For your security we have paused sending requests from here. Please wait 15 \
             minutes and try again.",
        )
        .bank(&self.inner.config.bank_name)
        .paragraph(
            "If this is your account, you can still approve requests in your banking app as \
             usual.",
        );
        (StatusCode::TOO_MANY_REQUESTS, render(&page)).into_response()
    }
}

pub(crate) async fn authorize_get(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    pages.begin(&params, &headers, false).await
}

pub(crate) async fn authorize_post(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Form(params): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    pages.begin(&params, &headers, false).await
}

pub(crate) async fn identify_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, journey) = pages.journey_of(&headers, &id).await?;
    if let Some(a) = pages.live_approval(&journey).await?
        && a.status == ApprovalStatus::Pending
        && !a.expired_at(pages.now())
    {
        return see_other(&format!("/consent/{id}/wait"), None);
    }
    let ctx = pages.context(&journey.authz_session).await?;
    Ok(pages.identify_page(&ctx, &journey, &browser, "", None))
}

pub(crate) async fn identify(
    State(pages): State<CustomerPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, journey) = pages.journey_of(&headers, &id).await?;
    let form = FormFields::parse(&body);
    check_csrf(&browser, form.get("csrf"))?;
    let ctx = pages.context(&journey.authz_session).await?;
    let full_name = form.get("full_name").unwrap_or_default().trim().to_owned();
    // A named debtor account is locked: what the form sends for it is ignored.
    let typed = match ctx.summary.accounts.named() {
        Some(named) => Some(*named),
        None => {
            let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
            SortCodeAccountNumber::parse(&format!(
                "{}{}",
                digits(form.get("sort_code").unwrap_or_default()),
                digits(form.get("account_number").unwrap_or_default())
            ))
            .ok()
        }
    };
    let target_key = typed.map(|t| t.to_string()).unwrap_or_default();
    let target = Target::Account(&target_key);
    let address = peer.ip().to_string();
    if pages.limited(&address, &target).await? {
        tracing::warn!(journey = %journey.id, %address, outcome = "rate_limited", "identification refused");
        return Ok(pages.rate_limited());
    }
    let found = match typed {
        Some(t) => pages
            .inner
            .core_banking
            .find_by_identification(&t)
            .await
            .map_err(|e| PageError::Internal(e.to_string()))?,
        None => None,
    };
    let customer = found
        .filter(|(customer, account)| {
            account.is_open() && same_name(&full_name, &customer.legal_name)
        })
        .map(|(customer, _)| customer.id);
    pages
        .record_attempt(&address, &target, customer.is_some())
        .await?;
    // Logged without anything typed: the outcome is enough to investigate abuse.
    tracing::info!(
        journey = %journey.id,
        %address,
        outcome = if customer.is_some() { "matched" } else { "no_match" },
        "identification attempt"
    );
    let Some(customer) = customer else {
        return Ok(pages.identify_page(
            &ctx,
            &journey,
            &browser,
            &full_name,
            Some(
                "We couldn't match those details to an account. Check your full name, sort \
                 code and account number, then try again."
                    .into(),
            ),
        ));
    };
    if ctx.consent.status != ConsentStatus::AwaitingAuthorisation {
        return Err(gone());
    }
    pages
        .request_approval(
            &journey,
            &customer,
            &ctx.request.consent_id,
            &ctx.request.client_id,
        )
        .await?;
    see_other(&format!("/consent/{id}/wait"), None)
}

pub(crate) async fn wait_page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, journey) = pages.journey_of(&headers, &id).await?;
    let Some(approval) = pages.live_approval(&journey).await? else {
        return see_other(&format!("/consent/{id}"), None);
    };
    let ctx = pages.context(&journey.authz_session).await?;
    Ok(render(&Wait {
        bank: pages.inner.config.bank_name.clone(),
        tpp_name: ctx.tpp.name,
        journey: journey.id,
        csrf: browser.csrf,
        expires: clock_time(approval.expires_at),
    }))
}

/// What the waiting page's script polls: `waiting` until the app decides or the request
/// expires, then `decided`.
pub(crate) async fn status(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (_, journey) = pages.journey_of(&headers, &id).await?;
    let state = match pages.current_approval(&journey).await? {
        Some(a) if a.status == ApprovalStatus::Pending && !a.expired_at(pages.now()) => "waiting",
        Some(_) => "decided",
        None => "none",
    };
    Ok(Json(json!({ "state": state })).into_response())
}

/// Where the waiting page goes once the app decided (or the customer says they did).
pub(crate) async fn resume(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (browser, journey) = pages.journey_of(&headers, &id).await?;
    let Some(approval) = pages.current_approval(&journey).await? else {
        return see_other(&format!("/consent/{id}"), None);
    };
    let bank = &pages.inner.config.bank_name;
    let cancel = Action::post(
        format!("/consent/{id}/cancel"),
        "Go back to the app you came from",
        false,
    );
    match approval.status {
        ApprovalStatus::Pending if approval.expired_at(pages.now()) => {
            let page = Message::new(
                "The request to your app expired",
                "Nothing was approved. You can send a new request to your banking app, or go back.",
            )
            .bank(bank)
            .action(
                Action::link(format!("/consent/{id}"), "Send a new request", true),
                &browser.csrf,
            )
            .action(cancel, &browser.csrf);
            Ok(render(&page))
        }
        ApprovalStatus::Pending => see_other(&format!("/consent/{id}/wait"), None),
        ApprovalStatus::Approved | ApprovalStatus::Rejected => pages.finish(&approval).await,
        ApprovalStatus::Cancelled => {
            let page = Message::new(
                "This request can no longer be approved",
                "The app's request was withdrawn or has already ended. Nothing was approved.",
            )
            .bank(bank)
            .action(cancel, &browser.csrf);
            Ok(render(&page))
        }
        ApprovalStatus::Completed => Err(gone()),
    }
}

pub(crate) async fn cancel(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, journey) = pages.journey_of(&headers, &id).await?;
    check_csrf(&browser, FormFields::parse(&body).get("csrf"))?;
    pages.cancel_journey(&journey).await
}

#[cfg(test)]
mod tests {
    use super::same_name;

    #[test]
    fn names_match_whatever_the_case_spaces_or_full_stops() {
        assert!(same_name("grace  hopper", "Grace Hopper"));
        assert!(same_name(" Grace B. Hopper", "Grace B Hopper"));
        assert!(!same_name("Grace", "Grace Hopper"));
        assert!(!same_name("", ""));
    }
}
