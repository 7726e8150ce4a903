//! One error type for every handler, rendered once, in the format of the area that served the
//! request: each router declares its format with `error_format`, and every error (including
//! axum's own 404/405 and extractor rejections) passes through `render` on the way out.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::interaction::InteractionId;

/// How an area speaks errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// `OBErrorResponse1` bodies where the spec defines one, bare statuses where it does not.
    OpenBanking,
    /// RFC 6749 §5.2 `{"error", "error_description"}`.
    OAuth,
    /// A short HTML page a person can read.
    Page,
    /// Small JSON bodies for operational endpoints.
    Json,
    /// The personal developer API: `{"error": {"code", "message", "field"?}}` with a stable
    /// snake_case code a customer's script can match on.
    Personal,
}

/// `OBError1.ErrorCode` values (RW §Error Codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObErrorCode {
    FieldExpected,
    FieldInvalid,
    FieldInvalidDate,
    FieldMissing,
    FieldUnexpected,
    HeaderInvalid,
    HeaderMissing,
    Reauthenticate,
    ResourceConsentMismatch,
    ResourceInvalidConsentStatus,
    ResourceInvalidFormat,
    ResourceNotFound,
    RulesAfterCutOffDateTime,
    RulesDuplicateReference,
    SignatureInvalid,
    SignatureInvalidClaim,
    SignatureMalformed,
    SignatureMissing,
    SignatureMissingClaim,
    SignatureUnexpected,
    UnexpectedError,
    UnsupportedAccountIdentifier,
    UnsupportedCurrency,
    UnsupportedFrequency,
    UnsupportedLocalInstrument,
    UnsupportedScheme,
}

impl ObErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::FieldExpected => "UK.OBIE.Field.Expected",
            Self::FieldInvalid => "UK.OBIE.Field.Invalid",
            Self::FieldInvalidDate => "UK.OBIE.Field.InvalidDate",
            Self::FieldMissing => "UK.OBIE.Field.Missing",
            Self::FieldUnexpected => "UK.OBIE.Field.Unexpected",
            Self::HeaderInvalid => "UK.OBIE.Header.Invalid",
            Self::HeaderMissing => "UK.OBIE.Header.Missing",
            Self::Reauthenticate => "UK.OBIE.Reauthenticate",
            Self::ResourceConsentMismatch => "UK.OBIE.Resource.ConsentMismatch",
            Self::ResourceInvalidConsentStatus => "UK.OBIE.Resource.InvalidConsentStatus",
            Self::ResourceInvalidFormat => "UK.OBIE.Resource.InvalidFormat",
            Self::ResourceNotFound => "UK.OBIE.Resource.NotFound",
            Self::RulesAfterCutOffDateTime => "UK.OBIE.Rules.AfterCutOffDateTime",
            Self::RulesDuplicateReference => "UK.OBIE.Rules.DuplicateReference",
            Self::SignatureInvalid => "UK.OBIE.Signature.Invalid",
            Self::SignatureInvalidClaim => "UK.OBIE.Signature.InvalidClaim",
            Self::SignatureMalformed => "UK.OBIE.Signature.Malformed",
            Self::SignatureMissing => "UK.OBIE.Signature.Missing",
            Self::SignatureMissingClaim => "UK.OBIE.Signature.MissingClaim",
            Self::SignatureUnexpected => "UK.OBIE.Signature.Unexpected",
            Self::UnexpectedError => "UK.OBIE.UnexpectedError",
            Self::UnsupportedAccountIdentifier => "UK.OBIE.Unsupported.AccountIdentifier",
            Self::UnsupportedCurrency => "UK.OBIE.Unsupported.Currency",
            Self::UnsupportedFrequency => "UK.OBIE.Unsupported.Frequency",
            Self::UnsupportedLocalInstrument => "UK.OBIE.Unsupported.LocalInstrument",
            Self::UnsupportedScheme => "UK.OBIE.Unsupported.Scheme",
        }
    }
}

/// One entry of `OBErrorResponse1.Errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObErrorDetail {
    pub code: ObErrorCode,
    pub message: String,
    /// JSON path or header name the error is about.
    pub path: Option<String>,
}

impl ObErrorDetail {
    pub fn new(code: ObErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            path: None,
        }
    }

    pub fn at(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// RFC 6749 / RFC 7591 / RFC 9126 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidToken,
    InsufficientScope,
    InvalidScope,
    AccessDenied,
    ServerError,
    InvalidRequestObject,
    InvalidRequestUri,
    InvalidRedirectUri,
    InvalidClientMetadata,
    InvalidSoftwareStatement,
    UnapprovedSoftwareStatement,
}

impl OAuthErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::InvalidRequestObject => "invalid_request_object",
            Self::InvalidRequestUri => "invalid_request_uri",
            Self::InvalidRedirectUri => "invalid_redirect_uri",
            Self::InvalidClientMetadata => "invalid_client_metadata",
            Self::InvalidSoftwareStatement => "invalid_software_statement",
            Self::UnapprovedSoftwareStatement => "unapproved_software_statement",
        }
    }
}

/// Everything that can go wrong in a request, independent of how the area renders it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong: malformed, missing or invalid fields, unknown resource ids
    /// (400, not 404: RW §HTTP Status Codes).
    #[error("bad request: {0:?}")]
    BadRequest(Vec<ObErrorDetail>),
    /// No or invalid credentials (401, no body on the Open Banking APIs).
    #[error("unauthorised: {0}")]
    Unauthorised(String),
    /// An mTLS route was called without a client certificate.
    #[error("a client certificate is required")]
    ClientCertificateRequired,
    /// Authenticated but not allowed: wrong scope, another TPP's resource, outside the consent.
    #[error("forbidden: {0:?}")]
    Forbidden(Vec<ObErrorDetail>),
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("not acceptable")]
    NotAcceptable,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    TooManyRequests { retry_after_seconds: u64 },
    /// Any other client error status (408, 411, 413 ...) that keeps its status and has no body
    /// on the Open Banking APIs.
    #[error("client error {0}")]
    ClientError(StatusCode),
    /// An OAuth endpoint's error, with the status RFC 6749 gives it.
    #[error("oauth error {code:?}: {description}")]
    OAuth {
        status: StatusCode,
        code: OAuthErrorCode,
        description: String,
    },
    /// A dependency (database, core banking) is unavailable.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure. The message goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn bad_request(code: ObErrorCode, message: impl Into<String>) -> Self {
        Error::BadRequest(vec![ObErrorDetail::new(code, message)])
    }

    pub fn forbidden(code: ObErrorCode, message: impl Into<String>) -> Self {
        Error::Forbidden(vec![ObErrorDetail::new(code, message)])
    }

    pub fn oauth(status: StatusCode, code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Error::OAuth {
            status,
            code,
            description: description.into(),
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorised(_) | Error::ClientCertificateRequired => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::ClientError(status) => *status,
            Error::OAuth { status, .. } => *status,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What may be said to the client. Internal detail never leaves the server.
    fn public_message(&self) -> String {
        match self {
            Error::BadRequest(d) | Error::Forbidden(d) => d
                .first()
                .map(|d| d.message.clone())
                .unwrap_or_else(|| "The request was refused".into()),
            Error::Unauthorised(_) => "Authentication is required".into(),
            Error::ClientCertificateRequired => {
                "This endpoint requires a TLS client certificate (mutual TLS)".into()
            }
            Error::NotFound => "There is nothing at this address".into(),
            Error::MethodNotAllowed => "This method is not allowed here".into(),
            Error::NotAcceptable => "The requested representation is not available".into(),
            Error::UnsupportedMediaType => "The request body's media type is not supported".into(),
            Error::TooManyRequests { .. } => "Too many requests; try again later".into(),
            Error::ClientError(status) => status
                .canonical_reason()
                .unwrap_or("The request was refused")
                .to_owned(),
            Error::OAuth { description, .. } => description.clone(),
            Error::Unavailable(_) => "The service is temporarily unavailable".into(),
            Error::Internal(_) => "Something went wrong on our side".into(),
        }
    }

    fn from_status(status: StatusCode) -> Error {
        match status {
            StatusCode::NOT_FOUND => Error::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
            StatusCode::NOT_ACCEPTABLE => Error::NotAcceptable,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => Error::Unauthorised("rejected".into()),
            StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::BAD_REQUEST
            | StatusCode::UNPROCESSABLE_ENTITY => {
                Error::bad_request(ObErrorCode::FieldInvalid, "The request could not be read")
            }
            StatusCode::TOO_MANY_REQUESTS => Error::TooManyRequests {
                retry_after_seconds: 1,
            },
            StatusCode::SERVICE_UNAVAILABLE => Error::Unavailable("upstream".into()),
            s if s.is_client_error() => Error::ClientError(s),
            _ => Error::Internal(format!("unrendered status {status}")),
        }
    }
}

/// Carries an `Error` from a handler to the rendering layer.
#[derive(Clone)]
struct Unrendered(Arc<Error>);

/// Marks a response whose error body is final, so an outer layer leaves it alone.
#[derive(Clone, Copy)]
struct Rendered;

/// Marks `response` as final: an area that renders its own error pages (the customer's pages)
/// keeps them, whatever its status.
pub fn keep_as_rendered(response: &mut Response) {
    response.extensions_mut().insert(Rendered);
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(Unrendered(Arc::new(self)));
        response
    }
}

/// The layer an area adds to speak errors in `format`.
pub async fn error_format(
    State(format): State<ErrorFormat>,
    request: Request,
    next: Next,
) -> Response {
    let interaction = request.extensions().get::<InteractionId>().cloned();
    let response = next.run(request).await;
    render(format, interaction, response)
}

fn render(format: ErrorFormat, interaction: Option<InteractionId>, response: Response) -> Response {
    if response.extensions().get::<Rendered>().is_some() {
        return response;
    }
    let unrendered = response.extensions().get::<Unrendered>().cloned();
    let error = match unrendered {
        Some(Unrendered(e)) => e,
        // axum's own rejections (unknown route, wrong method, unreadable body) come as bare
        // statuses with text bodies: give them the area's format too.
        None if response.status().is_client_error() || response.status().is_server_error() => {
            Arc::new(Error::from_status(response.status()))
        }
        None => return response,
    };
    match &*error {
        Error::Internal(detail) => tracing::error!(error = %detail, "request failed"),
        Error::Unavailable(detail) => tracing::warn!(error = %detail, "dependency unavailable"),
        other => tracing::debug!(error = %other, "request refused"),
    }
    let status = error.status();
    let (content_type, body) = match format {
        ErrorFormat::OpenBanking => open_banking_body(&error, interaction.as_ref()),
        ErrorFormat::OAuth => oauth_body(&error),
        ErrorFormat::Page => (
            Some("text/html; charset=utf-8"),
            page_body(&error, interaction.as_ref()),
        ),
        ErrorFormat::Json => json_body(&error),
        ErrorFormat::Personal => personal_body(&error),
    };
    let mut out = Response::builder().status(status);
    if let Some(ct) = content_type {
        out = out.header(header::CONTENT_TYPE, ct);
    }
    if let Error::TooManyRequests {
        retry_after_seconds,
    } = &*error
    {
        out = out.header(header::RETRY_AFTER, retry_after_seconds.to_string());
    }
    if matches!(format, ErrorFormat::OAuth) {
        out = out.header(header::CACHE_CONTROL, "no-store");
    }
    // RFC 6750 §3: a refused bearer token says so in WWW-Authenticate.
    if status == StatusCode::UNAUTHORIZED
        && matches!(
            format,
            ErrorFormat::OAuth | ErrorFormat::OpenBanking | ErrorFormat::Personal
        )
    {
        let challenge = if matches!(&*error, Error::Unauthorised(_)) {
            "Bearer error=\"invalid_token\""
        } else {
            "Bearer"
        };
        out = out.header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
    }
    let mut response = out
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response());
    response.extensions_mut().insert(Rendered);
    response
}

/// The outermost rendering: errors no area rendered (unknown paths above all) get the format
/// their path belongs to.
pub async fn error_format_by_path(
    State(formats): State<fn(&str) -> ErrorFormat>,
    request: Request,
    next: Next,
) -> Response {
    let format = formats(request.uri().path());
    error_format(State(format), request, next).await
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObErrorResponse<'a> {
    code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    message: String,
    errors: Vec<ObError<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ObError<'a> {
    error_code: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The spec gives bodies to 400, 403 and 500 only (components/responses); other statuses are bare.
fn open_banking_body(
    error: &Error,
    interaction: Option<&InteractionId>,
) -> (Option<&'static str>, Body) {
    let status = error.status();
    let fallback;
    let details: &[ObErrorDetail] = match error {
        Error::BadRequest(d) | Error::Forbidden(d) if !d.is_empty() => d,
        Error::BadRequest(_) | Error::Forbidden(_) | Error::Internal(_) | Error::Unavailable(_) => {
            fallback = [ObErrorDetail::new(
                ObErrorCode::UnexpectedError,
                error.public_message(),
            )];
            &fallback
        }
        _ => return (None, Body::empty()),
    };
    let body = ObErrorResponse {
        code: truncate(
            &format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("Error")
            ),
            40,
        )
        .to_owned(),
        id: interaction.map(|i| truncate(i.as_str(), 40)),
        message: truncate(&error.public_message(), 500).to_owned(),
        errors: details
            .iter()
            .map(|d| ObError {
                error_code: d.code.as_str(),
                message: if d.message.is_empty() {
                    "Invalid"
                } else {
                    truncate(&d.message, 500)
                },
                path: d
                    .path
                    .as_deref()
                    .filter(|p| !p.is_empty())
                    .map(|p| truncate(p, 500)),
            })
            .collect(),
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => (Some("application/json"), Body::from(bytes)),
        Err(_) => (None, Body::empty()),
    }
}

fn oauth_body(error: &Error) -> (Option<&'static str>, Body) {
    let code = match error {
        Error::OAuth { code, .. } => *code,
        Error::ClientCertificateRequired | Error::Unauthorised(_) => OAuthErrorCode::InvalidClient,
        Error::Internal(_) | Error::Unavailable(_) => OAuthErrorCode::ServerError,
        _ => OAuthErrorCode::InvalidRequest,
    };
    let body = serde_json::json!({
        "error": code.as_str(),
        "error_description": error.public_message(),
    });
    (Some("application/json"), Body::from(body.to_string()))
}

fn json_body(error: &Error) -> (Option<&'static str>, Body) {
    let body =
        serde_json::json!({ "status": error.status().as_u16(), "message": error.public_message() });
    (Some("application/json"), Body::from(body.to_string()))
}

/// The personal API's error codes: stable names for each kind of refusal.
fn personal_code(error: &Error) -> &'static str {
    match error {
        Error::BadRequest(d) => match d.first().map(|d| d.code) {
            Some(ObErrorCode::FieldMissing) => "missing_field",
            Some(ObErrorCode::FieldUnexpected) => "unexpected_field",
            Some(ObErrorCode::ResourceInvalidFormat) => "invalid_body",
            _ => "invalid_field",
        },
        Error::Unauthorised(_) | Error::ClientCertificateRequired => "unauthorized",
        Error::Forbidden(_) => "forbidden",
        Error::NotFound => "not_found",
        Error::MethodNotAllowed => "method_not_allowed",
        Error::NotAcceptable => "not_acceptable",
        Error::UnsupportedMediaType => "unsupported_media_type",
        Error::TooManyRequests { .. } => "rate_limited",
        Error::ClientError(StatusCode::CONFLICT) => "conflict",
        Error::ClientError(StatusCode::PAYLOAD_TOO_LARGE) => "body_too_large",
        Error::ClientError(_) => "refused",
        Error::OAuth { .. } => "unauthorized",
        Error::Unavailable(_) => "unavailable",
        Error::Internal(_) => "internal_error",
    }
}

fn personal_body(error: &Error) -> (Option<&'static str>, Body) {
    let field = match error {
        Error::BadRequest(d) | Error::Forbidden(d) => d.first().and_then(|d| d.path.clone()),
        _ => None,
    };
    let mut inner = serde_json::json!({
        "code": personal_code(error),
        "message": error.public_message(),
    });
    if let Some(field) = field {
        inner["field"] = serde_json::Value::String(field);
    }
    let body = serde_json::json!({ "error": inner });
    (Some("application/json"), Body::from(body.to_string()))
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn page_body(error: &Error, interaction: Option<&InteractionId>) -> Body {
    let status = error.status();
    let title = status.canonical_reason().unwrap_or("Error");
    let reference = interaction
        .map(|i| {
            format!(
                "<p class=\"ref\">Reference: <code>{}</code></p>",
                escape_html(i.as_str())
            )
        })
        .unwrap_or_default();
    Body::from(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Bascule</title></head>\
         <body><main><h1>{title}</h1><p>{message}</p>{reference}\
         <p><a href=\"/\">Back to the start</a></p></main></body></html>\n",
        title = escape_html(title),
        message = escape_html(&error.public_message()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href='x'>&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn internal_detail_never_reaches_the_client() {
        let e = Error::Internal("password=hunter2 at db".into());
        assert!(!e.public_message().contains("hunter2"));
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate("ééé", 2), "éé");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
