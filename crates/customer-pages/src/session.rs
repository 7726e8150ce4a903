//! Browser sessions, server-side in the database so any node continues a journey. The cookie
//! carries a random token; the database keeps only its hash, the session's CSRF token and,
//! once the customer signs into the bank app, who they are. Signing in replaces the session
//! (a new token), so a token planted before sign-in is worth nothing after.

use axum::http::{HeaderMap, HeaderValue, header};
use bascule_domain::CustomerId;
use bascule_store::sqlx::{self, Row};

use crate::{CustomerPages, PageError, hash, random_token};

/// `__Host-`: the browser accepts it only Secure, for the whole origin, with no Domain.
const COOKIE: &str = "__Host-bascule_session";

/// A browser's session.
#[derive(Debug, Clone)]
pub(crate) struct Browser {
    pub id_hash: String,
    pub csrf: String,
    /// Signed into the bank app as this customer.
    pub customer: Option<CustomerId>,
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// The Set-Cookie header of a session: script cannot read it, it travels only over TLS, and
/// only top-level navigations from other sites carry it (a TPP's redirect to `/authorize`).
fn set_cookie(token: &str, max_age: i64) -> Result<HeaderValue, PageError> {
    HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age}"
    ))
    .map_err(|e| PageError::Internal(format!("session cookie: {e}")))
}

impl CustomerPages {
    /// The browser's live session, if its cookie names one.
    pub(crate) async fn browser(&self, headers: &HeaderMap) -> Result<Option<Browser>, PageError> {
        let Some(token) = cookie_token(headers) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT id_hash, csrf, customer_id FROM web_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(hash(&token))
        .bind(self.now())
        .fetch_optional(self.inner.store.pool())
        .await?;
        row.map(|r| -> Result<Browser, PageError> {
            let customer: Option<String> = r.try_get("customer_id")?;
            Ok(Browser {
                id_hash: r.try_get("id_hash")?,
                csrf: r.try_get("csrf")?,
                customer: customer
                    .map(CustomerId::parse)
                    .transpose()
                    .map_err(|_| PageError::Internal("stored customer id".into()))?,
            })
        })
        .transpose()
    }

    async fn new_browser(
        &self,
        customer: Option<&CustomerId>,
    ) -> Result<(Browser, HeaderValue), PageError> {
        let token = random_token()?;
        let browser = Browser {
            id_hash: hash(&token),
            csrf: random_token()?,
            customer: customer.cloned(),
        };
        let now = self.now();
        let lifetime = self.inner.config.session_lifetime;
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO web_sessions (id_hash, csrf, customer_id, signed_in_at, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&browser.id_hash)
                .bind(&browser.csrf)
                .bind(customer.map(CustomerId::as_str))
                .bind(customer.map(|_| now))
                .bind(now)
                .bind(now + lifetime),
            )
            .await?;
        Ok((browser, set_cookie(&token, lifetime)?))
    }

    /// The browser's session, started when it has none (with the cookie to set).
    pub(crate) async fn browser_or_new(
        &self,
        headers: &HeaderMap,
    ) -> Result<(Browser, Option<HeaderValue>), PageError> {
        match self.browser(headers).await? {
            Some(b) => Ok((b, None)),
            None => {
                let (b, cookie) = self.new_browser(None).await?;
                Ok((b, Some(cookie)))
            }
        }
    }

    /// Signs the browser into the app as `customer`: a new session replaces the old one, and
    /// the journeys the old one had started move with it.
    pub(crate) async fn sign_in_browser(
        &self,
        old: &Browser,
        customer: &CustomerId,
    ) -> Result<(Browser, HeaderValue), PageError> {
        let (browser, cookie) = self.new_browser(Some(customer)).await?;
        let mut tx = self.inner.store.begin().await?;
        tx.execute(
            sqlx::query("UPDATE journeys SET browser = $1 WHERE browser = $2")
                .bind(&browser.id_hash)
                .bind(&old.id_hash),
        )
        .await?;
        tx.execute(sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(&old.id_hash))
            .await?;
        tx.commit().await?;
        Ok((browser, cookie))
    }

    pub(crate) async fn sign_out_browser(
        &self,
        browser: &Browser,
    ) -> Result<HeaderValue, PageError> {
        self.inner
            .store
            .write(
                sqlx::query("DELETE FROM web_sessions WHERE id_hash = $1").bind(&browser.id_hash),
            )
            .await?;
        set_cookie("", 0)
    }
}

/// A form's CSRF token against its session's, compared in constant time.
pub(crate) fn check_csrf(browser: &Browser, presented: Option<&str>) -> Result<(), PageError> {
    let ok = presented.is_some_and(|p| {
        aws_lc_rs::constant_time::verify_slices_are_equal(p.as_bytes(), browser.csrf.as_bytes())
            .is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PageError::Forbidden(
            "This form has expired. Go back, reload the page and try again.".into(),
        ))
    }
}

/// A form body's fields, repeated names kept (`account=a&account=b`).
pub(crate) struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub fn parse(body: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
