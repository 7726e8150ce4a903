//! Developer tokens in the bank app (`/app/developer`): the customer's personal API tokens —
//! listed with what they allow, when made, last used and when they end; made with a name, an
//! access level and a lifetime of at most 90 days (a token that can move money needs the
//! passcode, the app's strong authentication); shown once; revoked at once. The tokens
//! themselves are the personal API's (`bascule_personal_api::tokens`).

use std::net::SocketAddr;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, Uri, header};
use axum::response::Response;
use bascule_domain::CustomerId;
use bascule_personal_api::{PersonalApi, Scope, TokenError, TokenInfo};

use crate::journey::see_other;
use crate::pages::{clock_time, render};
use crate::{CustomerPages, PageError};

#[derive(Debug, Clone)]
pub(crate) struct WebhookView {
    pub id: String,
    pub account: String,
    pub url: String,
}

#[derive(Debug, Clone)]
pub(crate) struct TokenView {
    pub id: String,
    pub name: String,
    pub access: &'static str,
    pub created: String,
    pub last_used: String,
    pub ends: String,
    pub status: &'static str,
    pub active: bool,
    /// The webhooks this token registered: they stop with it.
    pub webhooks: Vec<WebhookView>,
}

#[derive(Template)]
#[template(path = "developer.html")]
pub(crate) struct Developer {
    pub bank: String,
    pub csrf: String,
    pub tokens: Vec<TokenView>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "token_created.html")]
pub(crate) struct TokenCreated {
    pub bank: String,
    pub name: String,
    pub access: &'static str,
    pub expires: String,
    pub secret: String,
    pub base: String,
}

impl CustomerPages {
    fn personal(&self) -> Result<&PersonalApi, PageError> {
        self.inner
            .personal
            .as_ref()
            .ok_or_else(|| PageError::Gone("This bank does not offer a personal API.".into()))
    }

    async fn developer_page(
        &self,
        csrf: String,
        customer: &CustomerId,
        error: Option<String>,
    ) -> Result<Response, PageError> {
        let now = self.inner.clock.now();
        let personal = self.personal()?;
        let webhooks = personal.webhooks_by_token(customer).await?;
        let accounts = self.customer_accounts(customer).await?;
        let account_name = |id: &str| {
            accounts
                .iter()
                .find(|a| a.id.as_str() == id)
                .map_or_else(|| id.to_owned(), |a| crate::app::account_label(a).0)
        };
        let tokens = personal
            .tokens_of(customer)
            .await?
            .iter()
            .map(|t: &TokenInfo| {
                let active = t.is_active_at(now);
                TokenView {
                    id: t.id.clone(),
                    name: t.name.clone(),
                    access: t.scope.label(),
                    created: clock_time(t.created_at.unix_timestamp()),
                    last_used: t
                        .last_used_at
                        .map_or_else(|| "Never".to_owned(), |u| clock_time(u.unix_timestamp())),
                    ends: clock_time(t.revoked_at.unwrap_or(t.expires_at).unix_timestamp()),
                    status: match (t.revoked_at, active) {
                        (Some(_), _) => "Revoked",
                        (None, true) => "Active",
                        (None, false) => "Expired",
                    },
                    active,
                    webhooks: webhooks
                        .iter()
                        .filter(|(token, _)| *token == t.id)
                        .map(|(_, w)| WebhookView {
                            id: w.id.clone(),
                            account: account_name(&w.account_id),
                            url: w.url.clone(),
                        })
                        .collect(),
                }
            })
            .collect();
        Ok(render(&Developer {
            bank: self.inner.config.bank_name.clone(),
            csrf,
            tokens,
            error,
        }))
    }
}

pub(crate) async fn page(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (browser, customer) = pages.signed_in(&headers, "/app/developer").await?;
    pages.developer_page(browser.csrf, &customer, None).await
}

pub(crate) async fn create(
    State(pages): State<CustomerPages>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, PageError> {
    let (browser, customer, form) = pages
        .signed_in_form(&headers, "/app/developer", &body)
        .await?;
    let Some(scope) = form.get("scope").and_then(Scope::parse) else {
        return Err(PageError::BadRequest("choose what the token can do".into()));
    };
    let days: u32 = form
        .get("days")
        .and_then(|d| d.parse().ok())
        .ok_or_else(|| PageError::BadRequest("choose when the token expires".into()))?;
    if scope.moves_money()
        && let Err(message) = pages
            .passcode_ok(&peer, &customer, form.get("passcode"))
            .await?
    {
        return pages
            .developer_page(browser.csrf, &customer, Some(message))
            .await;
    }
    let issued = match pages
        .personal()?
        .issue_token(&customer, form.get("name").unwrap_or_default(), scope, days)
        .await
    {
        Ok(issued) => issued,
        Err(e @ (TokenError::Name | TokenError::Lifetime)) => {
            return pages
                .developer_page(browser.csrf, &customer, Some(format!("{e}.")))
                .await;
        }
        Err(TokenError::Store(e)) => return Err(e.into()),
    };
    // HTTP/1.1 names the host in a header, HTTP/2 in the request's authority.
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .unwrap_or("this-bank");
    Ok(render(&TokenCreated {
        bank: pages.inner.config.bank_name.clone(),
        name: issued.info.name,
        access: issued.info.scope.label(),
        expires: clock_time(issued.info.expires_at.unix_timestamp()),
        secret: issued.secret,
        base: format!("https://{host}"),
    }))
}

pub(crate) async fn revoke(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (_, customer, _) = pages
        .signed_in_form(&headers, "/app/developer", &body)
        .await?;
    pages.personal()?.revoke_token(&customer, &id).await?;
    see_other("/app/developer", None)
}

pub(crate) async fn delete_webhook(
    State(pages): State<CustomerPages>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let (_, customer, _) = pages
        .signed_in_form(&headers, "/app/developer", &body)
        .await?;
    pages.personal()?.remove_webhook(&customer, &id).await?;
    see_other("/app/developer", None)
}
