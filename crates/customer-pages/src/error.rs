//! What goes wrong on a customer's page, and the readable page it becomes. People never see
//! an error code or a stack trace; internal failures are logged with the request's interaction
//! id and shown as "something went wrong".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bascule_authz::AuthzError;
use bascule_store::StoreError;

use crate::pages::{Message, render};

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// An unknown, finished or expired journey, approval or page.
    #[error("{0}")]
    Gone(String),
    /// The request cannot be understood (a malformed authorisation request, a form without
    /// its fields).
    #[error("{0}")]
    BadRequest(String),
    /// A form whose CSRF token is missing or not this session's, or a page of another
    /// customer's.
    #[error("{0}")]
    Forbidden(String),
    /// Not an error: the page a step shows instead of going on (sign in first, "already
    /// decided"), returned early like one.
    #[error("a page instead")]
    Instead(Box<Response>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl From<bascule_store::sqlx::Error> for PageError {
    fn from(e: bascule_store::sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

/// The authorisation server answers a page with an error only when the client cannot be
/// trusted with a redirect (FAPI: show an error, do not redirect).
impl From<AuthzError> for PageError {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::OAuth { .. } => Self::BadRequest(e.description()),
            AuthzError::Store(e) => Self::Store(e),
            AuthzError::Internal(m) => Self::Internal(m),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match &self {
            Self::Instead(_) => {
                return match self {
                    Self::Instead(page) => *page,
                    _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                };
            }
            Self::Gone(m) => (StatusCode::NOT_FOUND, "This request has ended", m.clone()),
            Self::BadRequest(m) => (
                StatusCode::BAD_REQUEST,
                "This request cannot be completed",
                format!(
                    "The app that sent you here made a request the bank cannot accept: {m}. \
                     Go back to the app and try again."
                ),
            ),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, "This page cannot be used", m.clone()),
            Self::Store(_) | Self::Internal(_) => {
                tracing::error!(error = %self, "customer page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Nothing was approved. Please go back to the app and try again in a few \
                     minutes."
                        .into(),
                )
            }
        };
        (status, render(&Message::new(title, text))).into_response()
    }
}
