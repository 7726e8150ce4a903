//! The token endpoint's client authentication primitives, called directly on the server's
//! registrar: `tls_client_auth` by subject DN, `private_key_jwt` by a client assertion signed
//! with the software's published key.

use bascule_directory::Role;
use bascule_jose::{Algorithm, SigningKey};
use bascule_registration::ClientAuthError;
use bascule_store::Backend;
use bascule_testkit::{BACKENDS, TestApp, spawn_app};
use bascule_tpp::TokenEndpointAuthMethod;
use serde_json::{Value, json};

use crate::common::{Tpp, aud, enrol, now};

/// A client assertion (RFC 7523) for `client_id`, valid for a minute from the server's now.
fn assertion_claims(app: &TestApp, client_id: &str) -> Value {
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": app.url("/token"),
        "iat": now(app),
        "exp": now(app) + 60,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

fn sign(key: &SigningKey, claims: &Value) -> String {
    key.sign_jwt(claims, Some("JWT")).unwrap()
}

async fn private_key_jwt_client(app: &TestApp) -> (Tpp, String) {
    let tpp = enrol(app, None, &[Role::AISP]).await.unwrap();
    let client_id = tpp
        .register(app, TokenEndpointAuthMethod::PrivateKeyJwt)
        .await;
    (tpp, client_id)
}

#[tokio::test]
async fn tls_client_auth_accepts_the_registered_certificate_and_refuses_others() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let client_id = tpp
        .register(&app, TokenEndpointAuthMethod::TlsClientAuth)
        .await;
    let registrar = &app.state().registrar;

    let client = registrar
        .authenticate_tls_client(&client_id, &tpp.certificate())
        .await
        .unwrap();
    assert_eq!(client.client_id, client_id);

    // Another organisation's certificate, and another software's of the same organisation.
    let stranger = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let sibling = enrol(&app, Some(&tpp.enrolment.organisation.id), &[Role::AISP])
        .await
        .unwrap();
    for other in [&stranger, &sibling] {
        assert_eq!(
            registrar
                .authenticate_tls_client(&client_id, &other.certificate())
                .await,
            Err(ClientAuthError::CertificateMismatch)
        );
    }
    assert_eq!(
        registrar
            .authenticate_tls_client("no-such-client", &tpp.certificate())
            .await,
        Err(ClientAuthError::UnknownClient)
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_client_auth_matches_the_organization_identifier_spelling_of_the_subject_dn() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let dn = tpp.files.transport_subject_dn();
    assert!(dn.contains("2.5.4.97="), "{dn}");
    let mut request = tpp.request(TokenEndpointAuthMethod::TlsClientAuth);
    request.tls_client_auth_subject_dn = Some(dn.replace("2.5.4.97=", "organizationIdentifier="));
    let registration = tpp
        .client
        .register(&app.url("/register"), &aud(&app), &request, now(&app))
        .await
        .unwrap();
    let client = app
        .state()
        .registrar
        .authenticate_tls_client(&registration.client_id, &tpp.certificate())
        .await
        .unwrap();
    assert_eq!(
        client.tls_client_auth_subject_dn.as_deref(),
        request.tls_client_auth_subject_dn.as_deref()
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_client_auth_refuses_a_client_registered_for_private_key_jwt() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (tpp, client_id) = private_key_jwt_client(&app).await;
    assert_eq!(
        app.state()
            .registrar
            .authenticate_tls_client(&client_id, &tpp.certificate())
            .await,
        Err(ClientAuthError::WrongMethod("private_key_jwt"))
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn private_key_jwt_accepts_a_fresh_assertion_once() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let (tpp, client_id) = private_key_jwt_client(&app).await;
        let registrar = &app.state().registrar;
        let token_url = app.url("/token");
        let assertion = sign(tpp.files.signing_key(), &assertion_claims(&app, &client_id));

        let client = registrar
            .authenticate_private_key_jwt(&assertion, &[&token_url], &tpp.certificate())
            .await
            .unwrap();
        assert_eq!(client.client_id, client_id);
        // The same assertion again is a replay.
        assert_eq!(
            registrar
                .authenticate_private_key_jwt(&assertion, &[&token_url], &tpp.certificate())
                .await,
            Err(ClientAuthError::Replayed)
        );
        // A fresh one is fine.
        let next = sign(tpp.files.signing_key(), &assertion_claims(&app, &client_id));
        registrar
            .authenticate_private_key_jwt(&next, &[&token_url], &tpp.certificate())
            .await
            .unwrap();
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn private_key_jwt_refuses_an_assertion_for_another_audience() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (tpp, client_id) = private_key_jwt_client(&app).await;
    let mut claims = assertion_claims(&app, &client_id);
    claims["aud"] = json!("https://other-bank.example/token");
    let result = app
        .state()
        .registrar
        .authenticate_private_key_jwt(
            &sign(tpp.files.signing_key(), &claims),
            &[&app.url("/token")],
            &tpp.certificate(),
        )
        .await;
    assert!(
        matches!(result, Err(ClientAuthError::InvalidAssertion(_))),
        "{result:?}"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn private_key_jwt_refuses_an_expired_assertion() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (tpp, client_id) = private_key_jwt_client(&app).await;
    let mut claims = assertion_claims(&app, &client_id);
    claims["iat"] = json!(now(&app) - 600);
    claims["exp"] = json!(now(&app) - 300);
    let result = app
        .state()
        .registrar
        .authenticate_private_key_jwt(
            &sign(tpp.files.signing_key(), &claims),
            &[&app.url("/token")],
            &tpp.certificate(),
        )
        .await;
    assert_eq!(result, Err(ClientAuthError::InvalidAssertion("expired")));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn private_key_jwt_refuses_an_assertion_signed_by_another_key() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (tpp, client_id) = private_key_jwt_client(&app).await;
    let impostor = SigningKey::generate(Algorithm::PS256)
        .unwrap()
        .with_kid(tpp.files.signing_key().kid());
    let result = app
        .state()
        .registrar
        .authenticate_private_key_jwt(
            &sign(&impostor, &assertion_claims(&app, &client_id)),
            &[&app.url("/token")],
            &tpp.certificate(),
        )
        .await;
    assert!(
        matches!(result, Err(ClientAuthError::InvalidAssertion(_))),
        "{result:?}"
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn private_key_jwt_refuses_a_client_registered_for_tls_client_auth() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let client_id = tpp
        .register(&app, TokenEndpointAuthMethod::TlsClientAuth)
        .await;
    let result = app
        .state()
        .registrar
        .authenticate_private_key_jwt(
            &sign(tpp.files.signing_key(), &assertion_claims(&app, &client_id)),
            &[&app.url("/token")],
            &tpp.certificate(),
        )
        .await;
    assert_eq!(result, Err(ClientAuthError::WrongMethod("tls_client_auth")));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn private_key_jwt_refuses_a_connection_with_another_organisations_certificate() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (tpp, client_id) = private_key_jwt_client(&app).await;
    let stranger = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let result = app
        .state()
        .registrar
        .authenticate_private_key_jwt(
            &sign(tpp.files.signing_key(), &assertion_claims(&app, &client_id)),
            &[&app.url("/token")],
            &stranger.certificate(),
        )
        .await;
    assert_eq!(result, Err(ClientAuthError::CertificateMismatch));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn private_key_jwt_refuses_the_client_of_revoked_software_over_a_sibling_certificate() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let (tpp, client_id) = private_key_jwt_client(&app).await;
    let sibling = enrol(&app, Some(&tpp.enrolment.organisation.id), &[Role::AISP])
        .await
        .unwrap();
    let registrar = &app.state().registrar;
    let token_url = app.url("/token");
    // Authenticated once, so the software's keys are in the registrar's JWKS cache.
    let assertion = sign(tpp.files.signing_key(), &assertion_claims(&app, &client_id));
    registrar
        .authenticate_private_key_jwt(&assertion, &[&token_url], &sibling.certificate())
        .await
        .unwrap();

    crate::common::directory(&app)
        .revoke_software(&tpp.enrolment.software.id)
        .await
        .unwrap();
    // The software's own certificate now fails the handshake; a sibling software's
    // certificate (same organisation) must not let the revoked software's client in.
    let assertion = sign(tpp.files.signing_key(), &assertion_claims(&app, &client_id));
    let result = registrar
        .authenticate_private_key_jwt(&assertion, &[&token_url], &sibling.certificate())
        .await;
    assert_eq!(result, Err(ClientAuthError::UnknownClient));
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn tls_client_auth_refuses_the_client_of_a_revoked_organisation() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let client_id = tpp
        .register(&app, TokenEndpointAuthMethod::TlsClientAuth)
        .await;
    crate::common::directory(&app)
        .revoke_organisation(&tpp.enrolment.organisation.id)
        .await
        .unwrap();
    // The handshake refuses the certificate on this node; the primitive must not rely on that
    // alone (another node's revocation list may lag the database).
    assert_eq!(
        app.state()
            .registrar
            .authenticate_tls_client(&client_id, &tpp.certificate())
            .await,
        Err(ClientAuthError::UnknownClient)
    );
    app.shutdown().await.unwrap();
}
