use std::path::PathBuf;

/// Everything that can go wrong in the TPP SDK.
#[derive(Debug, thiserror::Error)]
pub enum TppError {
    /// A file of the enrolment directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// `tpp.json` is not valid JSON or lacks a field.
    #[error("invalid {}: {source}", path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    /// A file of the enrolment directory was read but its content is unusable (no certificate
    /// in a PEM file, a malformed software statement, an unsupported algorithm...).
    #[error("invalid {}: {reason}", path.display())]
    InvalidFile { path: PathBuf, reason: String },

    /// Signing or decoding a JWT failed.
    #[error("JOSE: {0}")]
    Jose(#[from] bascule_jose::JoseError),

    /// The HTTPS client could not be built from the certificates, or a request failed at the
    /// transport level (DNS, TCP, TLS handshake, timeout...).
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),

    /// A URL passed to the SDK could not be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The bank refused a registration with an RFC 7591 §3.2.2 error body
    /// (`invalid_redirect_uri`, `invalid_client_metadata`, `invalid_software_statement`,
    /// `unapproved_software_statement`).
    #[error("registration refused ({status}): {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Registration {
        status: u16,
        error: String,
        description: Option<String>,
    },

    /// An OAuth endpoint (token, PAR, revocation) refused the request with an RFC 6749 §5.2
    /// error body (`invalid_client`, `invalid_grant`, `invalid_request`, ...), with a 400 or 401.
    #[error("OAuth error ({status}): {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        status: u16,
        error: String,
        description: Option<String>,
    },

    /// A signed token from the bank (an ID token, a JARM response) verified but fails an
    /// OpenID/FAPI check (`nonce`, `c_hash`, `s_hash`, `at_hash`, `sub`, `azp`, a missing
    /// `code`...). Signature and registered-claim failures (`iss`, `aud`, `exp`) are
    /// [`TppError::Jose`].
    #[error("invalid {token}: {reason}")]
    InvalidToken { token: &'static str, reason: String },

    /// An authorization redirect carried neither a code, an error nor a JARM response.
    #[error("invalid authorization response: {0}")]
    InvalidAuthorizationResponse(String),

    /// A header name or value given to the SDK is not valid HTTP.
    #[error("invalid header {name:?}: {reason}")]
    InvalidHeader { name: String, reason: String },

    /// The system random number generator failed.
    #[error("random number generator failed")]
    Random,

    /// The bank answered with a status the call does not expect (and, for a 400, without an
    /// RFC 7591 error body). `body` is the response body as text, truncated to 4 KiB.
    #[error("unexpected HTTP status {status}: {body}")]
    Status { status: u16, body: String },

    /// The bank answered with the expected status but a body the SDK cannot use.
    #[error("invalid response ({status}): {reason}")]
    InvalidResponse { status: u16, reason: String },
}
