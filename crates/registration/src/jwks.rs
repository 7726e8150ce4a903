//! Software JWKS, fetched over TLS from the `software_jwks_endpoint` of a TPP's SSA and cached,
//! so a registration or client assertion costs no network round trip once the keys are known.
//! An unknown `kid` triggers one refetch (key rotation), at most every few seconds per URL.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bascule_jose::{Jwks, VerifyingKeys};
use tokio::sync::Mutex;

use crate::RegistrationError;

const TTL: Duration = Duration::from_secs(300);
const REFETCH_FLOOR: Duration = Duration::from_secs(5);
const MAX_BODY: usize = 256 * 1024;

struct Entry {
    fetched: Instant,
    jwks: Jwks,
    keys: Arc<VerifyingKeys>,
}

pub struct JwksCache {
    http: reqwest::Client,
    entries: Mutex<HashMap<String, Entry>>,
}

impl JwksCache {
    pub fn new(http: reqwest::Client) -> Self {
        Self {
            http,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Keys for `url`, refetched when stale or when `kid` is not among them.
    pub async fn keys(
        &self,
        url: &str,
        kid: Option<&str>,
    ) -> Result<Arc<VerifyingKeys>, RegistrationError> {
        {
            let entries = self.entries.lock().await;
            if let Some(e) = entries.get(url) {
                let has_kid = kid.is_none_or(|k| e.jwks.find(k).is_some());
                let fresh = e.fetched.elapsed() < TTL;
                if fresh && (has_kid || e.fetched.elapsed() < REFETCH_FLOOR) {
                    return Ok(e.keys.clone());
                }
            }
        }
        let jwks = self.fetch(url).await?;
        let keys = Arc::new(VerifyingKeys::from_jwks(&jwks).map_err(|e| {
            RegistrationError::metadata(format!("the software JWKS is not usable: {e}"))
        })?);
        self.entries.lock().await.insert(
            url.to_owned(),
            Entry {
                fetched: Instant::now(),
                jwks,
                keys: keys.clone(),
            },
        );
        Ok(keys)
    }

    async fn fetch(&self, url: &str) -> Result<Jwks, RegistrationError> {
        if !url.starts_with("https://") {
            return Err(RegistrationError::software_statement(
                "software_jwks_endpoint must be https",
            ));
        }
        let unreachable = |e: reqwest::Error| {
            tracing::warn!(%url, error = %e, "software JWKS fetch failed");
            RegistrationError::metadata("the software JWKS endpoint could not be read")
        };
        let response = self.http.get(url).send().await.map_err(unreachable)?;
        if !response.status().is_success() {
            return Err(RegistrationError::metadata(format!(
                "the software JWKS endpoint answered {}",
                response.status()
            )));
        }
        let body = response.bytes().await.map_err(unreachable)?;
        if body.len() > MAX_BODY {
            return Err(RegistrationError::metadata(
                "the software JWKS is too large",
            ));
        }
        serde_json::from_slice(&body)
            .map_err(|_| RegistrationError::metadata("the software JWKS is not a JWK set"))
    }
}

/// An HTTPS client for JWKS: trusting only `root` when given (the sandbox), else the platform's roots.
pub fn jwks_http_client(
    root: Option<&rustls_pki_types::CertificateDer<'static>>,
) -> Result<reqwest::Client, RegistrationError> {
    outbound_https_client(root, None)
}

/// The bank's client for calls out to TPPs (JWKS, event callbacks): FAPI TLS, short timeouts,
/// https only, no redirects followed; trusting `root` (the sandbox CA) when given, and
/// resolving names through `resolver` when given (e.g. one that refuses private addresses).
pub fn outbound_https_client(
    root: Option<&rustls_pki_types::CertificateDer<'static>>,
    resolver: Option<Arc<dyn reqwest::dns::Resolve>>,
) -> Result<reqwest::Client, RegistrationError> {
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true);
    if let Some(resolver) = resolver {
        builder = builder.dns_resolver(resolver);
    }
    let builder = match root {
        Some(root) => {
            let tls = bascule_tls::client_config(root, None)
                .map_err(|e| RegistrationError::Internal(e.to_string()))?;
            builder.use_preconfigured_tls(Arc::unwrap_or_clone(tls))
        }
        None => builder,
    };
    builder
        .build()
        .map_err(|e| RegistrationError::Internal(e.to_string()))
}
