//! The personal API's test fixture: the real server with Grace (Everyday, Bills and the
//! Holiday pot under Everyday) and Alan, tokens issued as the bank app issues them, and calls
//! whose replies are validated against `crates/personal-api/openapi.json`.

#![allow(dead_code)]

use std::sync::OnceLock;

use bascule_personal_api::{IssuedToken, Scope};
use bascule_server::Config;
use bascule_store::Backend;
use bascule_testkit::TestApp;
use bascule_testkit::people::{Alan, Grace, alan, grace};
use serde_json::Value;

pub struct Bank {
    pub app: TestApp,
    pub grace: Grace,
    pub alan: Alan,
}

/// One reply: status, headers, JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(bascule_personal_api::OPENAPI).unwrap())
}

/// `path` as the spec writes it for a concrete request path.
fn spec_path(path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let templated: Vec<String> = match parts.as_slice() {
        ["accounts", _] => vec!["accounts".into(), "{account_id}".into()],
        ["accounts", _, rest] => vec!["accounts".into(), "{account_id}".into(), (*rest).into()],
        ["webhooks", _] => vec!["webhooks".into(), "{webhook_id}".into()],
        other => other.iter().map(|s| (*s).to_owned()).collect(),
    };
    format!("/{}", templated.join("/"))
}

impl Bank {
    pub async fn start(backend: Backend) -> Bank {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Bank {
        let app = bascule_testkit::spawn_app_with(backend, configure)
            .await
            .unwrap();
        let grace = grace(&app.ledger, true).await.unwrap();
        let alan = alan(&app.ledger).await.unwrap();
        Bank { app, grace, alan }
    }

    pub async fn shutdown(self) {
        self.app.shutdown().await.unwrap();
    }

    pub async fn token(&self, scope: Scope, days: u32) -> IssuedToken {
        self.app
            .state()
            .personal
            .issue_token(&self.grace.customer.id, "tests", scope, days)
            .await
            .unwrap()
    }

    pub async fn reader(&self) -> String {
        self.token(Scope::Read, 30).await.secret
    }

    pub async fn mover(&self) -> String {
        self.token(Scope::ReadMove, 30).await.secret
    }

    pub fn pot(&self) -> String {
        self.grace.pot.as_ref().unwrap().id.to_string()
    }

    /// `method /personal/v1{path}` with `token` and a JSON `body`; the reply validated.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .app
            .client
            .request(method.clone(), self.app.url(&format!("/personal/v1{path}")));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await.unwrap();
        let body = if raw.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&raw)
                .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&raw)))
        };
        if let Err(e) = bascule_testkit::openapi::validate_response_in(
            spec(),
            &spec_path(path),
            method.as_str(),
            status,
            &body,
        ) {
            panic!("{method} {path}: {e}\n{body:#}");
        }
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// The booked balance of `account` in pence, straight from the ledger.
    pub async fn booked(&self, account: &bascule_domain::AccountId) -> i64 {
        use bascule_core_banking::CoreBanking;
        self.app
            .ledger
            .balances(std::slice::from_ref(account))
            .await
            .unwrap()[0]
            .booked
            .0
    }
}

impl Reply {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}
