//! A TPP's event receiver for tests and benches: `POST {url}/event-notifications` over one-way
//! TLS on loopback (ENT; EVNP §Transport), with a `localhost` certificate from the bank's
//! sandbox CA (which the bank trusts for callbacks in sandbox mode). It records every
//! notification and can be told to fail some.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::sync::{Mutex, mpsc, watch};

use crate::TestServer;

/// One notification as the receiver got it.
#[derive(Debug, Clone)]
pub struct Notification {
    pub jwt: String,
    pub content_type: Option<String>,
    pub interaction_id: Option<String>,
    pub financial_id: Option<String>,
    /// The status the receiver answered.
    pub answered: u16,
    /// When it arrived.
    pub received_at: std::time::Instant,
    /// Every header, for schemes that sign in headers (Standard Webhooks).
    pub headers: HeaderMap,
}

struct ReceiverState {
    sent: mpsc::UnboundedSender<Notification>,
    fails: Box<dyn Fn(usize) -> bool + Send + Sync>,
    seen: AtomicUsize,
}

/// A TPP's `POST /event-notifications` endpoint over one-way TLS (ENT; EVNP §Transport).
pub struct Receiver {
    /// The callback URL to subscribe with.
    pub url: String,
    received: Mutex<mpsc::UnboundedReceiver<Notification>>,
    _stop: watch::Sender<bool>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn notification(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, HeaderMap) {
    let n = state.seen.fetch_add(1, Ordering::SeqCst);
    let status = if (state.fails)(n) {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::ACCEPTED
    };
    let _ = state.sent.send(Notification {
        jwt: String::from_utf8_lossy(&body).into_owned(),
        content_type: header(&headers, "content-type"),
        interaction_id: header(&headers, "x-fapi-interaction-id"),
        financial_id: header(&headers, "x-fapi-financial-id"),
        answered: status.as_u16(),
        received_at: std::time::Instant::now(),
        headers: headers.clone(),
    });
    let mut reply = HeaderMap::new();
    if let Some(id) = headers.get("x-fapi-interaction-id") {
        reply.insert("x-fapi-interaction-id", id.clone());
    }
    (status, reply)
}

impl Receiver {
    /// Serves on 127.0.0.1 with a `localhost` certificate from the bank's sandbox CA; answers
    /// 503 to the first `fail_first` notifications, 202 after.
    pub async fn start(app: &TestServer, fail_first: usize) -> Receiver {
        Self::failing(app, move |n| n < fail_first).await
    }

    /// [`Receiver::start`], answering 503 to the `n`th notification (from 0) when `fails(n)`.
    pub async fn failing(
        app: &TestServer,
        fails: impl Fn(usize) -> bool + Send + Sync + 'static,
    ) -> Receiver {
        let now = bascule_domain::Clock::now(app.clock.as_ref());
        Self::with_ca(&app.state().ca, now, fails).await
    }

    /// A receiver whose certificate `ca` issues at `now`: for a bank running in another
    /// process, whose sandbox CA the test loads from the bank's data directory.
    pub async fn with_ca(
        ca: &bascule_tls::CertificateAuthority,
        now: time::OffsetDateTime,
        fails: impl Fn(usize) -> bool + Send + Sync + 'static,
    ) -> Receiver {
        let cert = ca
            .issue_server_certificate(&["localhost".to_owned()], now)
            .expect("a receiver certificate");
        let tls = bascule_tls::server_config(
            &cert,
            &[ca.certificate_der()],
            Arc::new(bascule_tls::RevokedCertificates::default()),
        )
        .expect("a receiver TLS configuration");
        let (sent, received) = mpsc::unbounded_channel();
        let state = Arc::new(ReceiverState {
            sent,
            fails: Box::new(fails),
            seen: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/tpp/event-notifications", post(notification))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a receiver port");
        let port = listener.local_addr().expect("its address").port();
        let (stop, mut stopped) = watch::channel(false);
        tokio::spawn(bascule_tls::serve(
            listener,
            tls,
            router,
            async move {
                let _ = stopped.wait_for(|s| *s).await;
            },
            Duration::from_millis(100),
        ));
        Receiver {
            url: format!("https://localhost:{port}/tpp"),
            received: Mutex::new(received),
            _stop: stop,
        }
    }

    /// The next notification within `within`, or `None`.
    pub async fn next_within(&self, within: Duration) -> Option<Notification> {
        let mut received = self.received.lock().await;
        tokio::time::timeout(within, received.recv())
            .await
            .ok()
            .flatten()
    }

    /// The next notification, failing the test if none arrives within `within`.
    pub async fn next(&self, within: Duration) -> Notification {
        self.next_within(within)
            .await
            .unwrap_or_else(|| panic!("no notification within {within:?}"))
    }
}
