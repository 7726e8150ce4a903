//! A person's browser over plain HTTP, for the customer pages' tests that need no rendering:
//! it keeps the bank's session cookie, follows no redirects (each hop is asserted), and reads
//! the CSRF token out of a page's form. Tests that need a real browser use [`crate::browser`].

use std::sync::Mutex;

use crate::TestServer;

const SESSION_COOKIE: &str = "__Host-bascule_session";

/// One browser: its own cookie.
pub struct WebClient {
    http: reqwest::Client,
    base: String,
    cookie: Mutex<Option<String>>,
}

/// A page as the browser got it.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Page {
    /// The `csrf` field of the page's first form.
    #[track_caller]
    pub fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no CSRF field in the page: {}", self.body))
            + marker.len();
        let end = self.body[start..]
            .find('"')
            .map(|e| start + e)
            .unwrap_or(start);
        self.body[start..end].to_owned()
    }

    /// The redirect's target, asserting a 303.
    #[track_caller]
    pub fn redirect(&self) -> &str {
        assert_eq!(
            self.status, 303,
            "expected a redirect: {} {}",
            self.status, self.body
        );
        self.location.as_deref().unwrap_or_default()
    }

    #[track_caller]
    pub fn assert_says(&self, text: &str) {
        assert!(
            self.body.contains(text),
            "expected {text:?} in the page ({}): {}",
            self.status,
            self.body
        );
    }
}

impl WebClient {
    pub fn new(app: &TestServer) -> WebClient {
        WebClient {
            http: app.browser.clone(),
            base: app.base_url.clone(),
            cookie: Mutex::new(None),
        }
    }

    /// A browser for a bank running elsewhere (the demo binary), trusting `ca_pem`.
    pub fn at(base_url: &str, ca_pem: &str) -> anyhow::Result<WebClient> {
        Ok(WebClient {
            http: crate::https_browser(ca_pem)?,
            base: base_url.trim_end_matches('/').to_owned(),
            cookie: Mutex::new(None),
        })
    }

    fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("https://") {
            path_or_url.to_owned()
        } else {
            format!("{}{path_or_url}", self.base)
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self.cookie.lock().map(|c| c.clone()).unwrap_or_default();
        let request = match cookie {
            Some(c) => request.header(reqwest::header::COOKIE, format!("{SESSION_COOKIE}={c}")),
            None => request,
        };
        let response = request.send().await.expect("a page request");
        for set in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let set = set.to_str().unwrap_or_default();
            if let Some(rest) = set.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let value = rest.split(';').next().unwrap_or_default().to_owned();
                if let Ok(mut c) = self.cookie.lock() {
                    *c = (!value.is_empty()).then_some(value);
                }
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(str::to_owned);
        let body = response.text().await.unwrap_or_default();
        Page {
            status,
            location,
            body,
            headers,
        }
    }

    pub async fn get(&self, path_or_url: &str) -> Page {
        self.send(self.http.get(self.url(path_or_url))).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    /// Follows `page`'s redirect while it stays at the bank; returns the first page that is
    /// not a redirect to the bank (a page, or the redirect to the TPP).
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            match page.location.clone() {
                Some(to)
                    if page.status == 303
                        && (to.starts_with('/') || to.starts_with(&self.base)) =>
                {
                    page = self.get(&to).await;
                }
                _ => return page,
            }
        }
        panic!("too many redirects")
    }

    /// Signs this browser into the bank app (`/app`) as `customer` with `passcode`.
    pub async fn sign_into_app(&self, customer: &str, passcode: &str, next: &str) -> Page {
        let page = self.get(next).await;
        let csrf = page.csrf();
        let signed = self
            .post(
                "/app/sign-in",
                &[
                    ("csrf", &csrf),
                    ("customer", customer),
                    ("passcode", passcode),
                    ("next", next),
                ],
            )
            .await;
        self.follow(signed).await
    }
}
