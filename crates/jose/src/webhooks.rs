//! Standard Webhooks signatures (the `webhook-id`, `webhook-timestamp` and `webhook-signature`
//! headers): HMAC-SHA256 over `{id}.{timestamp}.{body}` with the secret's bytes, sent as
//! `v1,{base64}`. Secrets are `whsec_` and standard base64 of 32 random bytes. The bank signs
//! its personal webhooks with [`sign`]; a receiver (and the tests) check them with [`verify`].

use aws_lc_rs::{constant_time, hmac, rand};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

const PREFIX: &str = "whsec_";

/// Why a webhook signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookSignatureError {
    #[error("the secret is not a whsec_ base64 secret")]
    Secret,
    #[error("no v1 signature matches")]
    Mismatch,
    #[error("the timestamp is more than {tolerance} s from now")]
    Stale { tolerance: i64 },
}

/// A fresh signing secret, shown to its owner once.
pub fn new_secret() -> Result<String, crate::JoseError> {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes).map_err(|_| crate::JoseError::Key("no randomness".into()))?;
    Ok(format!("{PREFIX}{}", STANDARD.encode(bytes)))
}

fn key(secret: &str) -> Result<hmac::Key, WebhookSignatureError> {
    let raw = secret
        .strip_prefix(PREFIX)
        .ok_or(WebhookSignatureError::Secret)?;
    let bytes = STANDARD
        .decode(raw)
        .map_err(|_| WebhookSignatureError::Secret)?;
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` header value for message `id` sent at `timestamp` (unix seconds).
pub fn sign(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookSignatureError> {
    let tag = hmac::sign(&key(secret)?, &signed_content(id, timestamp, body));
    Ok(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

/// Checks a `webhook-signature` header (space-separated `v1,…` signatures, any may match)
/// and that `timestamp` is within `tolerance` seconds of `now`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), WebhookSignatureError> {
    if now.abs_diff(timestamp) > tolerance.unsigned_abs() {
        return Err(WebhookSignatureError::Stale { tolerance });
    }
    let expected = hmac::sign(&key(secret)?, &signed_content(id, timestamp, body));
    let matches = header.split_whitespace().any(|candidate| {
        candidate
            .strip_prefix("v1,")
            .and_then(|b| STANDARD.decode(b).ok())
            .is_some_and(|given| {
                constant_time::verify_slices_are_equal(&given, expected.as_ref()).is_ok()
            })
    });
    if matches {
        Ok(())
    } else {
        Err(WebhookSignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scheme's published example: secret, id, timestamp and body give this signature.
    #[test]
    fn the_standard_webhooks_example_signature() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = sign(secret, id, 1614265330, body).unwrap();
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        verify(secret, id, 1614265330, body, &signature, 1614265330, 300).unwrap();
    }

    #[test]
    fn a_changed_body_another_secret_or_an_old_timestamp_is_refused() {
        let secret = new_secret().unwrap();
        let other = new_secret().unwrap();
        let signature = sign(&secret, "msg_1", 1000, b"{}").unwrap();
        verify(&secret, "msg_1", 1000, b"{}", &signature, 1010, 300).unwrap();
        assert_eq!(
            verify(&secret, "msg_1", 1000, b"{ }", &signature, 1000, 300),
            Err(WebhookSignatureError::Mismatch)
        );
        assert_eq!(
            verify(&other, "msg_1", 1000, b"{}", &signature, 1000, 300),
            Err(WebhookSignatureError::Mismatch)
        );
        assert_eq!(
            verify(&secret, "msg_1", 1000, b"{}", &signature, 2000, 300),
            Err(WebhookSignatureError::Stale { tolerance: 300 })
        );
        assert_eq!(
            sign("nope", "msg_1", 1000, b"{}"),
            Err(WebhookSignatureError::Secret)
        );
    }
}
