/// Everything that can go wrong signing, parsing or verifying.
///
/// Messages never contain key material; strings taken from tokens are truncated and sanitised.
#[derive(Debug, thiserror::Error)]
pub enum JoseError {
    /// Not a compact JWS/JWT, or bad base64url/JSON.
    #[error("malformed JOSE object: {0}")]
    Malformed(String),
    /// `none`, `HS*`, `RS256`, anything outside the caller's allow-list, or an `alg` that does
    /// not match the key.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// No usable key with that `kid` (or no `kid` and not exactly one key).
    #[error("unknown key: {}", .0.as_deref().unwrap_or("(no kid)"))]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// A header that is refused outright: `jku`/`x5u` (key-by-URL injection), `b64`, or a `crit`
    /// naming an extension that is not understood.
    #[error("forbidden header: {0}")]
    ForbiddenHeader(&'static str),
    /// Key parsing or generation failed (never carries key material).
    #[error("key error: {0}")]
    Key(String),
    /// A registered claim check failed.
    #[error("claim check failed: {0}")]
    Claim(#[from] ClaimError),
}

/// Why a claim set was refused by [`crate::check_claims`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClaimError {
    /// A required claim is absent.
    #[error("missing claim `{0}`")]
    Missing(&'static str),
    /// `exp` has passed (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is still in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `iat` is older than the allowed maximum age.
    #[error("token too old")]
    TooOld,
    /// `aud` does not contain the expected audience.
    #[error("wrong audience")]
    WrongAudience,
    /// `iss` is not the expected issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// A claim has the wrong type, or the claim set is not a JSON object.
    #[error("invalid claim `{0}`")]
    Invalid(&'static str),
}
