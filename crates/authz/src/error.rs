use axum::http::StatusCode;
use bascule_http::{Error, OAuthErrorCode};
use bascule_store::StoreError;

/// What the authorisation server refuses, as RFC 6749 describes it.
#[derive(Debug, thiserror::Error)]
pub enum AuthzError {
    #[error("{code:?}: {description}")]
    OAuth {
        status: StatusCode,
        code: OAuthErrorCode,
        description: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl AuthzError {
    pub fn request(description: impl Into<String>) -> Self {
        Self::oauth(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidRequest,
            description,
        )
    }
    pub fn request_object(description: impl Into<String>) -> Self {
        Self::oauth(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidRequestObject,
            description,
        )
    }
    pub fn client(description: impl Into<String>) -> Self {
        Self::oauth(
            StatusCode::UNAUTHORIZED,
            OAuthErrorCode::InvalidClient,
            description,
        )
    }
    pub fn grant(description: impl Into<String>) -> Self {
        Self::oauth(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidGrant,
            description,
        )
    }
    pub fn scope(description: impl Into<String>) -> Self {
        Self::oauth(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::InvalidScope,
            description,
        )
    }
    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::oauth(
            StatusCode::BAD_REQUEST,
            OAuthErrorCode::UnauthorizedClient,
            description,
        )
    }
    pub fn oauth(status: StatusCode, code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self::OAuth {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn code(&self) -> OAuthErrorCode {
        match self {
            Self::OAuth { code, .. } => *code,
            _ => OAuthErrorCode::ServerError,
        }
    }

    pub fn description(&self) -> String {
        match self {
            Self::OAuth { description, .. } => description.clone(),
            _ => "the authorisation server failed".into(),
        }
    }
}

impl From<bascule_store::sqlx::Error> for AuthzError {
    fn from(e: bascule_store::sqlx::Error) -> Self {
        Self::Store(StoreError::Database(e))
    }
}

impl From<AuthzError> for Error {
    fn from(e: AuthzError) -> Self {
        match e {
            AuthzError::OAuth {
                status,
                code,
                description,
            } => Error::OAuth {
                status,
                code,
                description,
            },
            AuthzError::Store(e) => Error::internal(e),
            AuthzError::Internal(m) => Error::Internal(m),
        }
    }
}
