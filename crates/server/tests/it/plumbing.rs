use bascule_store::Backend;
use bascule_testkit::{BACKENDS, spawn_app};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

const INTERACTION_ID: &str = "x-fapi-interaction-id";

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

#[tokio::test]
async fn readiness_over_tls_is_200_and_names_the_database() -> anyhow::Result<()> {
    for backend in BACKENDS {
        let app = spawn_app(backend).await?;
        let r = app.client.get(app.url("/health/ready")).send().await?;
        assert_eq!(r.status(), 200, "{backend:?}");
        assert!(r.headers().contains_key(INTERACTION_ID));
        let body: serde_json::Value = r.json().await?;
        assert_eq!(body["database"], backend.as_str());
        let live = app.client.get(app.url("/health/live")).send().await?;
        assert_eq!(live.status(), 200);
        app.shutdown().await?;
    }
    Ok(())
}

#[tokio::test]
async fn an_mtls_route_refuses_a_request_without_a_client_certificate() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    let r = app
        .client
        .get(app.url("/sandbox/tls/client-certificate"))
        .send()
        .await?;
    assert_eq!(r.status(), 401);
    assert!(
        r.headers().contains_key(INTERACTION_ID),
        "errors carry the interaction id too"
    );
    let body: serde_json::Value = r.json().await?;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("client certificate")
    );
    Ok(())
}

#[tokio::test]
async fn the_handler_sees_the_client_certificate_and_its_thumbprint() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    let leaf = CertificateDer::from_pem_slice(app.tpp_certificate.certificate_pem.as_bytes())?;
    let expected =
        base64url(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf.as_ref()).as_ref());
    let r = app
        .tpp_client
        .get(app.url("/sandbox/tls/client-certificate"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["x5t#S256"], expected);
    let dn = body["subject_dn"].as_str().unwrap_or("");
    assert!(
        dn.contains("CN=test-software") && dn.contains("OU=0015800001041RHAAY"),
        "{dn}"
    );

    // Another certificate from the same CA is seen as itself, not as the first.
    let other = app.issue_tpp_certificate("0015800001041RHAAZ", "other-software")?;
    let r = app
        .client_with(Some(&other))?
        .get(app.url("/sandbox/tls/client-certificate"))
        .send()
        .await?;
    let body: serde_json::Value = r.json().await?;
    assert_ne!(body["x5t#S256"], expected);
    Ok(())
}

#[tokio::test]
async fn every_response_carries_an_interaction_id_echoed_when_given() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    let given = "93bac548-d2de-4546-b106-880a5018460d";
    for path in [
        "/",
        "/health/ready",
        "/no-such-page",
        "/open-banking/v3.1/aisp/nothing",
        "/token",
        "/sandbox/tls/client-certificate",
    ] {
        let r = app
            .client
            .get(app.url(path))
            .header(INTERACTION_ID, given)
            .send()
            .await?;
        assert_eq!(
            r.headers()
                .get(INTERACTION_ID)
                .and_then(|v| v.to_str().ok()),
            Some(given),
            "{path}"
        );
        let r = app.client.get(app.url(path)).send().await?;
        let generated = r
            .headers()
            .get(INTERACTION_ID)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert!(uuid_like(generated), "{path}: {generated}");
    }
    Ok(())
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().filter(|b| *b == b'-').count() == 4
}

#[tokio::test]
async fn errors_come_in_the_format_of_their_area() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    // Open Banking: 404 has no body in the spec (components/responses/404Error).
    let r = app
        .client
        .get(app.url("/open-banking/v3.1/aisp/unknown"))
        .send()
        .await?;
    assert_eq!(r.status(), 404);
    assert!(r.bytes().await?.is_empty());
    // OAuth endpoints: RFC 6749 JSON — the token endpoint without a client certificate, and an
    // unknown path under an OAuth prefix.
    let r = app.client.post(app.url("/token")).send().await?;
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["error"], "invalid_client");
    let r = app.client.get(app.url("/token/nothing")).send().await?;
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await?;
    assert_eq!(body["error"], "invalid_request");
    // People: a readable page that escapes what it echoes.
    let r = app.client.get(app.url("/<script>")).send().await?;
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()[reqwest::header::CONTENT_TYPE]
            .to_str()?
            .starts_with("text/html")
    );
    let html = r.text().await?;
    assert!(html.contains("<h1>Not Found</h1>") && !html.contains("<script>"));
    // A wrong method on a known route.
    let r = app.client.post(app.url("/health/ready")).send().await?;
    assert_eq!(r.status(), 405);
    Ok(())
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    app.client.get(app.url("/health/live")).send().await?;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await?
        .text()
        .await?;
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("route=\"/health/live\""));
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("db_pool_connections"));
    Ok(())
}

#[tokio::test]
async fn shutdown_stops_accepting_connections() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Sqlite).await?;
    let url = app.url("/health/live");
    let client = app.client.clone();
    assert_eq!(client.get(&url).send().await?.status(), 200);
    app.shutdown().await?;
    assert!(client.get(&url).send().await.is_err());
    Ok(())
}

#[tokio::test]
async fn a_postgres_outage_makes_the_server_unready_not_broken() -> anyhow::Result<()> {
    let app = spawn_app(Backend::Postgres).await?;
    assert_eq!(
        app.client
            .get(app.url("/health/ready"))
            .send()
            .await?
            .status(),
        200
    );
    app.ledger.store().close().await;
    let r = app.client.get(app.url("/health/ready")).send().await?;
    assert_eq!(r.status(), 503);
    assert_eq!(
        app.client
            .get(app.url("/health/live"))
            .send()
            .await?
            .status(),
        200
    );
    Ok(())
}
