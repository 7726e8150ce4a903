//! Registrations that succeed, on both databases.

use bascule_directory::Role;
use bascule_registration::TokenEndpointAuthMethod as Method;
use bascule_testkit::{BACKENDS, openapi, spawn_app};
use bascule_tpp::TokenEndpointAuthMethod;
use serde_json::json;

use crate::common::{DCR, OTHER_REDIRECT, REDIRECT, aud, enrol, now};

#[tokio::test]
async fn tls_client_auth_registration_returns_a_spec_valid_registration_with_ssa_claims_flattened()
{
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let tpp = enrol(&app, None, &[Role::AISP, Role::PISP]).await.unwrap();
        let request = tpp.request(TokenEndpointAuthMethod::TlsClientAuth);
        let registration = tpp
            .client
            .register(&app.url("/register"), &aud(&app), &request, now(&app))
            .await
            .unwrap();
        let body = &registration.body;

        openapi::validate_response(DCR, "/register", "post", 201, body).unwrap();
        openapi::validate(DCR, "OBClientRegistration1", body).unwrap();
        assert_eq!(body["client_id"], registration.client_id.as_str());
        assert_eq!(registration.client_id_issued_at, Some(now(&app)));

        // The SSA's claims come back at the top level (DCR §Response).
        let software = &tpp.enrolment.software;
        assert_eq!(body["software_id"], software.id.as_str());
        assert_eq!(body["org_id"], tpp.enrolment.organisation.id.as_str());
        assert_eq!(body["org_name"], "Acme Budgeting Ltd");
        assert_eq!(body["software_roles"], json!(["AISP", "PISP"]));
        assert_eq!(body["software_client_name"], "Acme Budget");
        assert_eq!(
            body["software_jwks_endpoint"],
            tpp.enrolment.software_jwks_endpoint.as_str()
        );
        assert_eq!(
            body["software_redirect_uris"],
            json!([REDIRECT, OTHER_REDIRECT])
        );
        // ...and the request's own metadata is echoed.
        assert_eq!(body["token_endpoint_auth_method"], "tls_client_auth");
        assert_eq!(
            body["tls_client_auth_subject_dn"],
            tpp.files.transport_subject_dn()
        );
        assert_eq!(body["aud"], aud(&app).as_str());
        assert_eq!(body["iss"], software.id.as_str());

        let client = app
            .state()
            .registrar
            .client(&registration.client_id)
            .await
            .unwrap()
            .expect("the registered client is stored");
        assert_eq!(client.scopes, ["openid", "accounts", "payments"]);
        assert_eq!(client.redirect_uris, [REDIRECT, OTHER_REDIRECT]);
        assert_eq!(client.software_id, software.id);
        assert_eq!(client.organisation_id, tpp.enrolment.organisation.id);
        assert_eq!(client.token_endpoint_auth_method, Method::TlsClientAuth);
        assert_eq!(
            client.tls_client_auth_subject_dn.as_deref(),
            Some(tpp.files.transport_subject_dn())
        );
        assert_eq!(client.roles, ["AISP", "PISP"]);
        assert_eq!(client.jwks_uri, tpp.enrolment.software_jwks_endpoint);
        assert!(client.sandbox);
        assert_eq!(client.registration, *body);
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn private_key_jwt_registration_records_the_signing_algorithm() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let tpp = enrol(&app, None, &[Role::CBPII]).await.unwrap();
        let request = tpp.request(TokenEndpointAuthMethod::PrivateKeyJwt);
        let registration = tpp
            .client
            .register(&app.url("/register"), &aud(&app), &request, now(&app))
            .await
            .unwrap();
        let body = &registration.body;
        openapi::validate_response(DCR, "/register", "post", 201, body).unwrap();
        assert_eq!(body["token_endpoint_auth_method"], "private_key_jwt");
        assert_eq!(body["token_endpoint_auth_signing_alg"], "PS256");
        assert!(body.get("tls_client_auth_subject_dn").is_none());

        let client = app
            .state()
            .registrar
            .client(&registration.client_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.token_endpoint_auth_method, Method::PrivateKeyJwt);
        assert_eq!(
            client.token_endpoint_auth_signing_alg.as_deref(),
            Some("PS256")
        );
        assert_eq!(client.tls_client_auth_subject_dn, None);
        assert_eq!(client.scopes, ["openid", "fundsconfirmations"]);
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn one_software_may_register_several_clients_with_distinct_ids() {
    let app = spawn_app(bascule_store::Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None, &[Role::AISP]).await.unwrap();
    let first = tpp
        .register(&app, TokenEndpointAuthMethod::TlsClientAuth)
        .await;
    let second = tpp
        .register(&app, TokenEndpointAuthMethod::PrivateKeyJwt)
        .await;
    assert_ne!(first, second);
    app.shutdown().await.unwrap();
}
