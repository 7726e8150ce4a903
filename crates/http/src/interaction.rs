//! `x-fapi-interaction-id` on every response (echoed, or generated when the client sent none:
//! RW §Response Headers, FAPI1B §6.2.1-11), carried by the request's log span, plus one access
//! log line and the request metrics — all in one pass around the request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub const INTERACTION_ID: &str = "x-fapi-interaction-id";

/// The request's interaction id, available to handlers as an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InteractionId(HeaderValue);

impl InteractionId {
    pub fn as_str(&self) -> &str {
        self.0.to_str().unwrap_or("")
    }

    /// A client's id is echoed when it is a sane token; anything else is replaced, so a
    /// hostile value never reaches logs or headers.
    fn from_client(value: Option<&HeaderValue>) -> Self {
        let sane = value.filter(|v| {
            let b = v.as_bytes();
            !b.is_empty() && b.len() <= 100 && b.iter().all(|c| c.is_ascii_graphic())
        });
        match sane {
            Some(v) => InteractionId(v.clone()),
            None => {
                let id = uuid::Uuid::new_v4().hyphenated().to_string();
                InteractionId(
                    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("unknown")),
                )
            }
        }
    }
}

pub async fn interaction_layer(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = InteractionId::from_client(request.headers().get(INTERACTION_ID));
    request.extensions_mut().insert(id.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let span = tracing::info_span!(
        "request",
        interaction_id = %id.as_str(),
        method = %method,
        route = %route,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    response.headers_mut().insert(INTERACTION_ID, id.0);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    span.in_scope(|| {
        tracing::info!(
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            "request served"
        );
    });
    crate::metrics::record_request(method.as_str(), &route, status, elapsed);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_client_ids_are_echoed_and_others_replaced() {
        let given = HeaderValue::from_static("93bac548-d2de-4546-b106-880a5018460d");
        assert_eq!(
            InteractionId::from_client(Some(&given)).as_str(),
            given.to_str().unwrap_or("")
        );
        let hostile = HeaderValue::from_static("a b\tc");
        assert_ne!(
            InteractionId::from_client(Some(&hostile)).as_str(),
            "a b\tc"
        );
        let generated = InteractionId::from_client(None);
        assert!(uuid::Uuid::parse_str(generated.as_str()).is_ok());
    }
}
