//! The authorize endpoint and the customer's decision.
//!
//! A valid request becomes an authorisation session awaiting the customer. The consent journey
//! (the customer's pages, the bank app) completes it through `Authz::complete`; for sandbox
//! clients a `bascule_sandbox` claim in the request object completes it at once, without a
//! browser, as Open Banking's model bank does for conformance runs.

use std::collections::HashMap;

use bascule_domain::{
    AccountId, AccountKind, ConsentEvent, ConsentKind, ConsentStatus, CustomerId,
};
use bascule_store::sqlx::{self, Row};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::id_token::IdTokenClaims;
use crate::request::{ACR_SCA, AuthorizationRequest, RequestError, ResponseMode, ResponseType};
use crate::{Authorisation, Authz, AuthzError, random_token, token_hash};

/// The customer's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approved after strong customer authentication at `authenticated_at` (the ID token's
    /// `auth_time`), sharing these accounts.
    Approve {
        customer: CustomerId,
        accounts: Vec<AccountId>,
        authenticated_at: time::OffsetDateTime,
    },
    Reject,
}

/// The sandbox's headless approval, as a request object claim:
/// `"bascule_sandbox": {"decision": "Authorised" | "Rejected", "customer": "...", "accounts": [...]}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxDecision {
    pub decision: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub accounts: Option<Vec<String>>,
}

/// Where the browser goes next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Back to the TPP (success or error), via its redirect URI.
    Redirect(String),
    /// To the customer's journey for this session.
    Journey(String),
}

fn encode(params: &[(&str, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Authz {
    fn respond(
        &self,
        client_id: &str,
        redirect_uri: &str,
        mode: ResponseMode,
        params: Vec<(&str, String)>,
    ) -> Result<String, AuthzError> {
        let sep = |q: char| if redirect_uri.contains(q) { '&' } else { q };
        Ok(match mode {
            ResponseMode::Fragment => format!("{redirect_uri}#{}", encode(&params)),
            ResponseMode::QueryJwt => {
                let jwt = self.sign_jarm(client_id, &params)?;
                format!("{redirect_uri}{}response={jwt}", sep('?'))
            }
            ResponseMode::FragmentJwt => {
                let jwt = self.sign_jarm(client_id, &params)?;
                format!("{redirect_uri}#response={jwt}")
            }
        })
    }

    /// An OAuth error for the client, through its redirect URI in the request's response mode.
    pub(crate) fn error_redirect(
        &self,
        client_id: &str,
        redirect_uri: &str,
        state: Option<&str>,
        mode: ResponseMode,
        error: &AuthzError,
    ) -> Result<String, AuthzError> {
        let mut params = vec![("error", error.code().as_str().to_owned())];
        params.push(("error_description", error.description()));
        if let Some(s) = state {
            params.push(("state", s.to_owned()));
        }
        self.respond(client_id, redirect_uri, mode, params)
    }

    /// Handles `/authorize` (query or form parameters). `Err` is shown to the person as a page:
    /// it happens only when the client cannot be trusted with a redirect.
    pub async fn authorize(&self, params: &HashMap<String, String>) -> Result<Outcome, AuthzError> {
        let client_id = params
            .get("client_id")
            .ok_or_else(|| AuthzError::request("client_id is missing"))?;
        let client = self
            .inner
            .registrar
            .client(client_id)
            .await
            .map_err(|e| AuthzError::Internal(e.to_string()))?
            .ok_or_else(|| AuthzError::request("unknown client"))?;
        let (request, request_uri) = match (params.get("request_uri"), params.get("request")) {
            (Some(_), Some(_)) => {
                return Err(AuthzError::request("send request or request_uri, not both"));
            }
            (Some(uri), None) => (self.pushed_request(&client, uri).await?, Some(uri.clone())),
            (None, Some(jwt)) => match self
                .validate_request_object(&client, jwt, params, false)
                .await
            {
                Ok(r) => (r, None),
                Err(RequestError {
                    error,
                    redirect: Some((uri, state, mode)),
                }) => {
                    return Ok(Outcome::Redirect(self.error_redirect(
                        &client.client_id,
                        &uri,
                        state.as_deref(),
                        mode,
                        &error,
                    )?));
                }
                Err(RequestError {
                    error,
                    redirect: None,
                }) => return Err(error),
            },
            (None, None) => {
                return Err(AuthzError::request(
                    "FAPI: the authorisation request must be a signed request object",
                ));
            }
        };
        let fail = |e: AuthzError| -> Result<Outcome, AuthzError> {
            Ok(Outcome::Redirect(self.error_redirect(
                &client.client_id,
                &request.redirect_uri,
                request.state.as_deref(),
                request.response_mode,
                &e,
            )?))
        };
        // Open Banking: the intent exists, is this client's, awaits authorisation, and the
        // scope reaches it.
        let consent = match self.inner.consents.get(&request.consent_id).await? {
            Some(c) if c.client_id == client.client_id => c,
            _ => {
                return fail(AuthzError::request(
                    "openbanking_intent_id does not name a consent of this client",
                ));
            }
        };
        if consent.status != ConsentStatus::AwaitingAuthorisation {
            return fail(AuthzError::request(format!(
                "the consent is {}, not awaiting authorisation",
                consent.status
            )));
        }
        if !request.scopes.iter().any(|s| s == consent.kind.scope()) {
            return fail(AuthzError::scope(format!(
                "a {} consent needs the {} scope",
                consent.kind.as_str(),
                consent.kind.scope()
            )));
        }

        let session = random_token()?;
        let now = self.now();
        let stored =
            serde_json::to_string(&request).map_err(|e| AuthzError::Internal(e.to_string()))?;
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO authorization_sessions (id, client_id, consent_id, request, request_uri, \
                     status, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, 'Pending', $6, $7)",
                )
                .bind(&session)
                .bind(&client.client_id)
                .bind(consent.id.as_str())
                .bind(stored)
                .bind(request_uri.as_deref())
                .bind(now)
                .bind(now + self.inner.config.session_lifetime),
            )
            .await?;

        // The server's mode now decides, not what was stored when the client registered: a
        // bank that left sandbox mode refuses headless approval from every client.
        match (
            &request.sandbox,
            self.inner.config.sandbox && client.sandbox,
        ) {
            (Some(claim), true) => {
                let decision = match self.sandbox_decision(claim, consent.kind).await {
                    Ok(d) => d,
                    Err(e) => return fail(e),
                };
                Ok(Outcome::Redirect(self.complete(&session, decision).await?))
            }
            (Some(_), false) => fail(AuthzError::request(
                "headless approval is for sandbox clients of a bank in sandbox mode only",
            )),
            (None, _) => Ok(Outcome::Journey(session)),
        }
    }

    async fn sandbox_decision(
        &self,
        claim: &Value,
        kind: ConsentKind,
    ) -> Result<Decision, AuthzError> {
        let d: SandboxDecision = serde_json::from_value(claim.clone()).map_err(|_| {
            AuthzError::request("bascule_sandbox must be {decision, customer?, accounts?}")
        })?;
        match d.decision.as_str() {
            "Rejected" => return Ok(Decision::Reject),
            "Authorised" => {}
            _ => {
                return Err(AuthzError::request(
                    "bascule_sandbox.decision must be Authorised or Rejected",
                ));
            }
        }
        let customer = match d.customer {
            Some(c) => CustomerId::parse(c)
                .map_err(|_| AuthzError::request("bascule_sandbox.customer is not an id"))?,
            None => self.inner.config.sandbox_customer.clone().ok_or_else(|| {
                AuthzError::request(
                    "bascule_sandbox.customer is needed (no sandbox customer configured)",
                )
            })?,
        };
        let owned = self
            .inner
            .core_banking
            .accounts_of_customer(&customer)
            .await
            .map_err(|e| AuthzError::request(format!("sandbox customer: {e}")))?;
        let accounts = match d.accounts {
            Some(ids) => ids
                .into_iter()
                .map(|a| {
                    AccountId::parse(a)
                        .map_err(|_| AuthzError::request("bascule_sandbox.accounts holds a bad id"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            None => owned
                .iter()
                .filter(|a| {
                    a.is_open()
                        && (kind == ConsentKind::AccountAccess
                            || a.kind == AccountKind::CurrentAccount)
                })
                .map(|a| a.id.clone())
                .take(if kind == ConsentKind::AccountAccess {
                    usize::MAX
                } else {
                    1
                })
                .collect(),
        };
        Ok(Decision::Approve {
            customer,
            accounts,
            authenticated_at: self.inner.clock.now(),
        })
    }

    /// Completes an authorisation session with the customer's decision; returns where the
    /// browser goes (the TPP's redirect URI with the response). A session completes once.
    pub async fn complete(&self, session: &str, decision: Decision) -> Result<String, AuthzError> {
        let now = self.now();
        let row = sqlx::query(
            "SELECT client_id, consent_id, request, request_uri, expires_at FROM authorization_sessions \
             WHERE id = $1 AND status = 'Pending'",
        )
        .bind(session)
        .fetch_optional(self.inner.store.pool())
        .await?
        .ok_or_else(|| AuthzError::request("this authorisation is unknown or already finished"))?;
        let request: AuthorizationRequest =
            serde_json::from_str(&row.try_get::<String, _>("request")?)
                .map_err(|e| AuthzError::Internal(e.to_string()))?;
        let request_uri: Option<String> = row.try_get("request_uri")?;
        let expired = row.try_get::<i64, _>("expires_at")? <= now;
        let taken = self
            .inner
            .store
            .write(
                sqlx::query("UPDATE authorization_sessions SET status = $1 WHERE id = $2 AND status = 'Pending'")
                    .bind(if expired { "Expired" } else { "Completed" })
                    .bind(session),
            )
            .await?;
        if taken != 1 {
            return Err(AuthzError::request(
                "this authorisation is already finished",
            ));
        }
        let redirect_error = |e: AuthzError| {
            self.error_redirect(
                &request.client_id,
                &request.redirect_uri,
                request.state.as_deref(),
                request.response_mode,
                &e,
            )
        };
        if expired {
            return redirect_error(AuthzError::oauth(
                axum::http::StatusCode::BAD_REQUEST,
                bascule_http::OAuthErrorCode::AccessDenied,
                "the customer did not decide in time",
            ));
        }
        let consent_id = bascule_domain::ConsentId::parse(request.consent_id.clone())
            .map_err(|_| AuthzError::Internal("stored consent id".into()))?;
        let (customer, accounts, auth_time) = match decision {
            Decision::Reject => {
                self.inner
                    .consents
                    .transition(&consent_id, ConsentEvent::Reject)
                    .await?;
                self.mark_pushed_used(request_uri.as_deref()).await?;
                return redirect_error(AuthzError::oauth(
                    axum::http::StatusCode::BAD_REQUEST,
                    bascule_http::OAuthErrorCode::AccessDenied,
                    "the customer declined",
                ));
            }
            Decision::Approve {
                customer,
                accounts,
                authenticated_at,
            } => (customer, accounts, authenticated_at.unix_timestamp()),
        };
        if accounts.is_empty() {
            return redirect_error(AuthzError::request("no account was selected"));
        }
        let owned = self
            .inner
            .core_banking
            .accounts_of_customer(&customer)
            .await
            .map_err(|e| AuthzError::Internal(e.to_string()))?;
        if !accounts
            .iter()
            .all(|a| owned.iter().any(|o| &o.id == a && o.is_open()))
        {
            return redirect_error(AuthzError::request(
                "the selected accounts are not the customer's",
            ));
        }
        // Revoked or expired while the customer was deciding: the TPP hears it was not
        // authorised, the customer's page says so.
        match self
            .inner
            .consents
            .authorise(&consent_id, Authorisation::First, &customer, &accounts)
            .await
        {
            Ok(_) => {}
            Err(e @ (crate::ConsentError::Store(_) | crate::ConsentError::Internal(_))) => {
                return Err(e.into());
            }
            Err(e) => {
                tracing::info!(consent = %consent_id.as_str(), error = %e, "consent could not be authorised");
                return redirect_error(AuthzError::oauth(
                    axum::http::StatusCode::BAD_REQUEST,
                    bascule_http::OAuthErrorCode::AccessDenied,
                    "the consent can no longer be authorised",
                ));
            }
        }
        self.mark_pushed_used(request_uri.as_deref()).await?;

        let code = random_token()?;
        self.inner
            .store
            .write(
                sqlx::query(
                    "INSERT INTO authorization_codes (code_hash, client_id, consent_id, customer_id, \
                     redirect_uri, scopes, nonce, acr, auth_time, code_challenge, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(token_hash(&code))
                .bind(&request.client_id)
                .bind(&request.consent_id)
                .bind(customer.as_str())
                .bind(&request.redirect_uri)
                .bind(request.scopes.join(" "))
                .bind(request.nonce.as_deref())
                .bind(ACR_SCA)
                .bind(auth_time)
                .bind(request.code_challenge.as_deref())
                .bind(now)
                .bind(now + self.inner.config.code_lifetime),
            )
            .await?;
        let mut params = vec![("code", code.clone())];
        if request.response_type == ResponseType::CodeIdToken {
            let id_token = self.sign_id_token(&IdTokenClaims {
                client_id: &request.client_id,
                consent_id: &request.consent_id,
                nonce: request.nonce.as_deref(),
                acr: ACR_SCA,
                auth_time,
                code: Some(&code),
                state: request.state.as_deref(),
                access_token: None,
                refresh_token_expires_at: None,
            })?;
            params.push(("id_token", id_token));
        }
        if let Some(s) = &request.state {
            params.push(("state", s.clone()));
        }
        self.respond(
            &request.client_id,
            &request.redirect_uri,
            request.response_mode,
            params,
        )
    }

    /// The pending session's request, for the journey pages to show.
    pub async fn session_request(
        &self,
        session: &str,
    ) -> Result<Option<AuthorizationRequest>, AuthzError> {
        let row = sqlx::query(
            "SELECT request FROM authorization_sessions WHERE id = $1 AND status = 'Pending' AND expires_at > $2",
        )
        .bind(session)
        .bind(self.now())
        .fetch_optional(self.inner.store.pool())
        .await?;
        match row {
            Some(r) => Ok(Some(
                serde_json::from_str(&r.try_get::<String, _>("request")?)
                    .map_err(|e| AuthzError::Internal(e.to_string()))?,
            )),
            None => Ok(None),
        }
    }
}
