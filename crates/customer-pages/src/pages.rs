//! The pages' templates (askama, escaped by default), their shared views, and the headers every
//! page carries: a strict Content-Security-Policy (no inline script, never framed), no caching
//! of anything personal, no referrer leaking a journey's URL.

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use bascule_api_kit::summary::{ConsentSummary, PaymentSummary, Section};

/// The policy of a page that shows no TPP logo.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self'; connect-src 'self'; form-action 'self' https:; base-uri 'none'; \
     frame-ancestors 'none'";

/// The policy of a page showing the TPP's logo (its software statement's https URL; the
/// registration accepts only URLs without quotes, spaces or semicolons).
pub(crate) fn csp_with_logo(logo: Option<&str>) -> String {
    match logo {
        Some(url) => CSP.replace("img-src 'self'", &format!("img-src 'self' {url}")),
        None => CSP.to_owned(),
    }
}

pub(crate) async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// A template as a page; a template that fails to render is a bug, shown as a plain apology.
pub(crate) fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => {
            let mut response = Html(html).into_response();
            // Whatever its status, the page is what the person reads: no outer layer replaces it.
            bascule_http::keep_as_rendered(&mut response);
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong. Nothing was approved.",
            )
                .into_response()
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub(crate) struct TppView {
    pub name: String,
    pub logo: Option<String>,
}

/// A consent's summary as the templates read it.
#[derive(Debug, Clone)]
pub(crate) struct SummaryView {
    pub purpose: String,
    pub sections: Vec<Section>,
    pub payment: Option<PaymentSummary>,
    pub until: Option<String>,
}

impl From<&ConsentSummary> for SummaryView {
    fn from(s: &ConsentSummary) -> Self {
        Self {
            purpose: s.purpose.clone(),
            sections: s.sections.clone(),
            payment: s.payment.clone(),
            until: s.until.map(bascule_api_kit::summary::day),
        }
    }
}

/// A button: a POST form (with the session's CSRF token) or a link.
#[derive(Debug, Clone)]
pub(crate) struct Action {
    pub href: String,
    pub label: String,
    pub post: bool,
    pub primary: bool,
}

impl Action {
    pub fn post(href: impl Into<String>, label: impl Into<String>, primary: bool) -> Self {
        Self {
            href: href.into(),
            label: label.into(),
            post: true,
            primary,
        }
    }

    pub fn link(href: impl Into<String>, label: impl Into<String>, primary: bool) -> Self {
        Self {
            href: href.into(),
            label: label.into(),
            post: false,
            primary,
        }
    }
}

/// A page of a title, a few paragraphs and buttons: outcomes, errors, limits.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message {
    pub bank: String,
    pub title: String,
    pub paragraphs: Vec<String>,
    pub actions: Vec<Action>,
    pub csrf: String,
}

impl Message {
    pub fn new(title: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            bank: "Online banking".into(),
            title: title.into(),
            paragraphs: vec![text.into()],
            actions: Vec::new(),
            csrf: String::new(),
        }
    }

    pub fn bank(mut self, bank: &str) -> Self {
        bank.clone_into(&mut self.bank);
        self
    }

    pub fn paragraph(mut self, text: impl Into<String>) -> Self {
        self.paragraphs.push(text.into());
        self
    }

    pub fn action(mut self, action: Action, csrf: &str) -> Self {
        self.actions.push(action);
        csrf.clone_into(&mut self.csrf);
        self
    }
}

#[derive(Template)]
#[template(path = "identify.html")]
pub(crate) struct Identify {
    pub bank: String,
    pub tpp: TppView,
    pub summary: SummaryView,
    pub journey: String,
    pub csrf: String,
    pub full_name: String,
    pub sort_code: String,
    pub account_number: String,
    pub locked: bool,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "wait.html")]
pub(crate) struct Wait {
    pub bank: String,
    pub tpp_name: String,
    pub journey: String,
    pub csrf: String,
    pub expires: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub customer: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "sign_in.html")]
pub(crate) struct SignIn {
    pub bank: String,
    pub csrf: String,
    pub next: String,
    pub choices: Vec<Choice>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct InboxItem {
    pub id: String,
    pub tpp_name: String,
    pub purpose: String,
    pub expires: String,
}

/// An account on the app's home, its balance shown or hidden behind a tap.
#[derive(Debug, Clone)]
pub(crate) struct AccountLine {
    pub label: String,
    pub detail: String,
    pub balance: String,
}

#[derive(Template)]
#[template(path = "inbox.html")]
pub(crate) struct Inbox {
    pub bank: String,
    pub csrf: String,
    pub first_name: String,
    pub requests: Vec<InboxItem>,
    pub accounts: Vec<AccountLine>,
    pub hide_balances: bool,
    pub messages: Vec<crate::reminders::AppMessage>,
}

/// One connection on the dashboard.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionView {
    pub id: String,
    pub summary: SummaryView,
    pub accounts: Vec<String>,
    pub granted: String,
    /// "Refresh by" or "Active until", and the day.
    pub ends: Option<(String, String)>,
    pub status: String,
    pub suspended: bool,
    /// Why the bank itself paused the connection, in plain words.
    pub paused_because: Option<&'static str>,
    pub refreshable: bool,
    pub accounts_changeable: bool,
    /// A funds-confirmation connection: every answer the bank gave its TPP, newest first.
    pub answers: Option<Vec<AnswerView>>,
    /// "10:04 on 5 January 2027", or none when never used.
    pub last_used: Option<String>,
    pub calls_last_day: i64,
}

/// One yes/no the bank gave a funds-confirmation TPP.
#[derive(Debug, Clone)]
pub(crate) struct AnswerView {
    pub when: String,
    pub amount: String,
    pub reference: String,
    pub answer: &'static str,
}

/// A standing order or scheduled payment a TPP set up that still has payments to make.
#[derive(Debug, Clone)]
pub(crate) struct PaymentView {
    /// The order's id (for the heading's anchor).
    pub id: String,
    pub title: String,
    pub status: &'static str,
    /// The paying account, as the customer knows it.
    pub from: String,
    pub facts: Vec<(&'static str, String)>,
}

/// A TPP's connections.
#[derive(Debug, Clone)]
pub(crate) struct TppGroup {
    pub name: String,
    pub connections: Vec<ConnectionView>,
    pub payments: Vec<PaymentView>,
}

#[derive(Template)]
#[template(path = "connections.html")]
pub(crate) struct Connections {
    pub bank: String,
    pub groups: Vec<TppGroup>,
    /// How many connections "Refresh all" would refresh.
    pub refresh_all: usize,
}

#[derive(Template)]
#[template(path = "revoke.html")]
pub(crate) struct RevokeConfirm {
    pub bank: String,
    pub csrf: String,
    pub id: String,
    pub tpp_name: String,
    pub summary: SummaryView,
    /// A funds-confirmation connection (card payments may be declined once it stops).
    pub funds: bool,
}

#[derive(Template)]
#[template(path = "change_accounts.html")]
pub(crate) struct ChangeAccounts {
    pub bank: String,
    pub csrf: String,
    pub id: String,
    pub tpp_name: String,
    pub accounts: Vec<AccountOption>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "refresh.html")]
pub(crate) struct Refresh {
    pub bank: String,
    pub csrf: String,
    pub action: String,
    /// The TPPs whose connections this refreshes.
    pub names: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct AccountOption {
    pub id: String,
    pub label: String,
    pub detail: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "approval.html")]
pub(crate) struct Approval {
    pub bank: String,
    pub tpp: TppView,
    pub summary: SummaryView,
    pub approval: String,
    pub csrf: String,
    /// The account a TPP named, described; no choice then.
    pub named: Option<String>,
    pub several: bool,
    pub accounts: Vec<AccountOption>,
    pub error: Option<String>,
}

/// A time of day and date as the pages print it (UTC).
pub(crate) fn clock_time(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .map(|t| {
            format!(
                "{:02}:{:02} on {}",
                t.hour(),
                t.minute(),
                bascule_api_kit::summary::day(t)
            )
        })
        .unwrap_or_default()
}
