//! Registrations that must be refused, each with the RFC 7591 error the DCR spec names. Run on
//! SQLite; revocation runs on both databases.

use bascule_directory::Role;
use bascule_jose::{Algorithm, SigningKey, base64url_encode, decode_unverified};
use bascule_store::Backend;
use bascule_testkit::{BACKENDS, TestApp, spawn_app};
use bascule_tpp::{TokenEndpointAuthMethod, TppClient, TppError, TppFiles};
use rustls_pki_types::PrivateKeyDer;
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};

use crate::common::{Tpp, assert_refused, aud, directory, enrol, now, post, unsigned};

const TLS: TokenEndpointAuthMethod = TokenEndpointAuthMethod::TlsClientAuth;

async fn app_and_tpp(roles: &[Role]) -> (TestApp, Tpp) {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None, roles).await.unwrap();
    (app, tpp)
}

/// The SDK's default tls_client_auth request, signed by the TPP, with `ssa` as its statement.
fn request_with_ssa(app: &TestApp, tpp: &Tpp, ssa: String) -> String {
    let mut request = tpp.request(TLS);
    request.software_statement = ssa;
    request
        .signed_jwt(tpp.files.signing_key(), &aud(app), now(app))
        .unwrap()
}

// --- the software statement ---------------------------------------------------------------

#[tokio::test]
async fn a_software_statement_older_than_the_maximum_age_is_an_invalid_software_statement() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let max_age = app.state().config.ssa_max_age_seconds;
    app.clock.advance(time::Duration::seconds(max_age + 3600));
    // The request itself is fresh: only the SSA is stale.
    let jwt = tpp
        .request(TLS)
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    assert_refused(&tpp.post(&app, jwt).await, "invalid_software_statement");
    // A freshly issued SSA for the same software is accepted again.
    let fresh = directory(&app)
        .issue_ssa(&tpp.enrolment.software.id)
        .await
        .unwrap();
    let (status, body) = tpp.post(&app, request_with_ssa(&app, &tpp, fresh)).await;
    assert_eq!(status, 201, "{body}");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unsigned_software_statement_is_an_invalid_software_statement() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let (_, claims) = decode_unverified(&tpp.enrolment.software_statement).unwrap();
    let ssa = unsigned(&json!({"alg": "none", "typ": "JWT"}), &claims);
    let answer = tpp.post(&app, request_with_ssa(&app, &tpp, ssa)).await;
    assert_refused(&answer, "invalid_software_statement");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_software_statement_signed_by_a_foreign_key_is_an_invalid_software_statement() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let (header, claims) = decode_unverified(&tpp.enrolment.software_statement).unwrap();
    // Same claims, same kid as the directory's key, another key.
    let forger = SigningKey::generate(Algorithm::PS256)
        .unwrap()
        .with_kid(header.kid.unwrap());
    let ssa = forger.sign_jwt(&claims, Some("JWT")).unwrap();
    let answer = tpp.post(&app, request_with_ssa(&app, &tpp, ssa)).await;
    assert_refused(&answer, "invalid_software_statement");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_missing_software_statement_is_an_invalid_software_statement() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut claims = tpp.request(TLS).claims(&aud(&app), now(&app));
    claims.remove("software_statement");
    assert_refused(
        &tpp.post(&app, tpp.sign(&claims)).await,
        "invalid_software_statement",
    );
    app.shutdown().await.unwrap();
}

// --- the request's signature ----------------------------------------------------------------

#[tokio::test]
async fn a_request_signed_by_another_key_with_the_same_kid_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let impostor = SigningKey::generate(Algorithm::PS256)
        .unwrap()
        .with_kid(tpp.files.signing_key().kid());
    let jwt = tpp
        .request(TLS)
        .signed_jwt(&impostor, &aud(&app), now(&app))
        .unwrap();
    assert_refused(&tpp.post(&app, jwt).await, "invalid_client_metadata");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_request_signed_rs256_with_the_software_key_is_invalid_client_metadata() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    // The very key the JWKS publishes, but PKCS#1 v1.5 (RS256), which FAPI forbids.
    let pem = std::fs::read(tpp.dir.path().join("signing.key")).unwrap();
    let PrivateKeyDer::Pkcs8(der) = PrivateKeyDer::from_pem_slice(&pem).unwrap() else {
        panic!("the signing key is PKCS#8");
    };
    let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    let header = json!({"alg": "RS256", "kid": tpp.files.signing_key().kid(), "typ": "JWT"});
    let claims = tpp.request(TLS).claims(&aud(&app), now(&app));
    let input = format!(
        "{}.{}",
        base64url_encode(&serde_json::to_vec(&header).unwrap()),
        base64url_encode(&serde_json::to_vec(&claims).unwrap())
    );
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let jwt = format!("{input}.{}", base64url_encode(&signature));

    let answer = tpp.post(&app, jwt).await;
    assert_refused(&answer, "invalid_client_metadata");
    assert!(
        answer.1["error_description"]
            .as_str()
            .unwrap()
            .contains("PS256 or ES256"),
        "{}",
        answer.1
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unsigned_request_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let claims = Value::Object(tpp.request(TLS).claims(&aud(&app), now(&app)));
    let jwt = unsigned(&json!({"alg": "none", "typ": "JWT"}), &claims);
    assert_refused(&tpp.post(&app, jwt).await, "invalid_client_metadata");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_replayed_request_is_invalid_client_metadata_after_the_first_succeeds() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let jwt = tpp
        .request(TLS)
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    let (status, body) = tpp.post(&app, jwt.clone()).await;
    assert_eq!(status, 201, "{body}");
    let answer = tpp.post(&app, jwt).await;
    assert_refused(&answer, "invalid_client_metadata");
    assert!(
        answer.1["error_description"]
            .as_str()
            .unwrap()
            .contains("jti")
    );
    app.shutdown().await.unwrap();
}

// --- redirect URIs --------------------------------------------------------------------------

#[tokio::test]
async fn a_redirect_uri_outside_the_software_statement_is_an_invalid_redirect_uri() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut request = tpp.request(TLS);
    request
        .redirect_uris
        .push("https://elsewhere.example/callback".into());
    let jwt = request
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    assert_refused(&tpp.post(&app, jwt).await, "invalid_redirect_uri");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_http_redirect_uri_is_an_invalid_redirect_uri() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut request = tpp.request(TLS);
    request.redirect_uris = vec!["http://tpp.example/callback".into()];
    let jwt = request
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    assert_refused(&tpp.post(&app, jwt).await, "invalid_redirect_uri");
    app.shutdown().await.unwrap();
}

// --- who presents the request ---------------------------------------------------------------

#[tokio::test]
async fn the_transport_certificate_of_another_organisation_is_an_unapproved_software_statement() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let other = enrol(&app, None, &[Role::AISP]).await.unwrap();
    // The first software's files, with the other organisation's transport certificate.
    other
        .enrolment
        .transport
        .write_to(
            &tpp.dir.path().join("transport.pem"),
            &tpp.dir.path().join("transport.key"),
        )
        .unwrap();
    let files = TppFiles::load(tpp.dir.path()).unwrap();
    assert_eq!(files.software_id(), tpp.enrolment.software.id);
    let client = TppClient::new(&files).unwrap();
    let jwt = tpp
        .request(TLS)
        .signed_jwt(files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    let answer = post(client.http(), &app, jwt, "application/jose").await;
    assert_refused(&answer, "unapproved_software_statement");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_revoked_softwares_transport_certificate_fails_the_tls_handshake() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let tpp = enrol(&app, None, &[Role::AISP]).await.unwrap();
        directory(&app)
            .revoke_software(&tpp.enrolment.software.id)
            .await
            .unwrap();
        // A new connection (the SDK's pooled one would predate the revocation).
        let client = TppClient::new(&tpp.files).unwrap();
        let result = client
            .register(
                &app.url("/register"),
                &aud(&app),
                &tpp.request(TLS),
                now(&app),
            )
            .await;
        assert!(
            matches!(&result, Err(TppError::Http(e)) if format!("{e:?}").contains("CertificateRevoked")),
            "expected the certificate_revoked TLS alert, got {result:?}"
        );
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_revoked_softwares_statement_is_unapproved_even_with_a_valid_transport_certificate() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let revoked = enrol(&app, None, &[Role::AISP]).await.unwrap();
        let sibling = enrol(
            &app,
            Some(&revoked.enrolment.organisation.id),
            &[Role::AISP],
        )
        .await
        .unwrap();
        directory(&app)
            .revoke_software(&revoked.enrolment.software.id)
            .await
            .unwrap();
        // The sibling's certificate (same organisation, still active) carrying the revoked
        // software's SSA and request signed by the revoked software's key.
        let jwt = revoked
            .request(TLS)
            .signed_jwt(revoked.files.signing_key(), &aud(&app), now(&app))
            .unwrap();
        let answer = sibling.post(&app, jwt).await;
        assert_refused(&answer, "unapproved_software_statement");
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn a_request_without_a_client_certificate_is_unauthorised() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let jwt = tpp
        .request(TLS)
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    let (status, body) = post(&app.client, &app, jwt, "application/jose").await;
    assert_eq!(status, 401, "{body}");
    app.shutdown().await.unwrap();
}

// --- the metadata ---------------------------------------------------------------------------

#[tokio::test]
async fn a_scope_beyond_the_softwares_roles_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut request = tpp.request(TLS);
    request.scope = "openid accounts payments".into();
    let jwt = request
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    let answer = tpp.post(&app, jwt).await;
    assert_refused(&answer, "invalid_client_metadata");
    assert!(
        answer.1["error_description"]
            .as_str()
            .unwrap()
            .contains("payments")
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn client_secret_basic_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut claims = tpp.request(TLS).claims(&aud(&app), now(&app));
    claims.insert(
        "token_endpoint_auth_method".into(),
        json!("client_secret_basic"),
    );
    claims.remove("tls_client_auth_subject_dn");
    assert_refused(
        &tpp.post(&app, tpp.sign(&claims)).await,
        "invalid_client_metadata",
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_subject_dn_other_than_the_transport_certificates_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut request = tpp.request(TLS);
    let org = &tpp.enrolment.organisation.id;
    request.tls_client_auth_subject_dn = Some(format!(
        "CN=someone-else,organizationIdentifier=PSDGB-OB-{org},OU={org},O=Acme Budgeting Ltd,C=GB"
    ));
    let jwt = request
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    assert_refused(&tpp.post(&app, jwt).await, "invalid_client_metadata");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_request_for_another_bank_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let jwt = tpp
        .request(TLS)
        .signed_jwt(tpp.files.signing_key(), "0015800000OTHERBNK", now(&app))
        .unwrap();
    assert_refused(&tpp.post(&app, jwt).await, "invalid_client_metadata");
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_expired_request_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let mut claims = tpp.request(TLS).claims(&aud(&app), now(&app));
    claims.insert("iat".into(), json!(now(&app) - 900));
    claims.insert("exp".into(), json!(now(&app) - 600));
    let answer = tpp.post(&app, tpp.sign(&claims)).await;
    assert_refused(&answer, "invalid_client_metadata");
    assert!(
        answer.1["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_json_content_type_is_invalid_client_metadata() {
    let (app, tpp) = app_and_tpp(&[Role::AISP]).await;
    let jwt = tpp
        .request(TLS)
        .signed_jwt(tpp.files.signing_key(), &aud(&app), now(&app))
        .unwrap();
    let answer = post(tpp.client.http(), &app, jwt, "application/json").await;
    assert_refused(&answer, "invalid_client_metadata");
    app.shutdown().await.unwrap();
}
