//! The directory's JWKS endpoints: its own key verifies the SSAs it signs; each software's
//! signing key is published with its certificate, and moves to the revoked set on revocation.

use bascule_directory::{SSA_ISSUER, SoftwareStatementClaims};
use bascule_jose::{Algorithm, Jwks, VerifyingKeys, verify_jwt};
use bascule_store::Backend;
use bascule_testkit::{BACKENDS, TestApp, spawn_app};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::{directory, enrol};

async fn get_jwks(app: &TestApp, url: &str) -> Jwks {
    let response = app.client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let cache = response.headers()["cache-control"].to_str().unwrap();
    assert!(cache.contains("max-age"), "{cache}");
    response.json().await.unwrap()
}

fn kids(jwks: &Jwks) -> Vec<&str> {
    jwks.keys.iter().filter_map(|k| k.kid.as_deref()).collect()
}

#[tokio::test]
async fn the_directory_jwks_verifies_the_software_statements_it_signs() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None).await;
    let jwks = get_jwks(&app, &app.url("/directory/jwks")).await;
    assert_eq!(jwks, directory(&app).jwks());
    let keys = VerifyingKeys::from_jwks(&jwks).unwrap();

    let (header, claims): (_, SoftwareStatementClaims) = verify_jwt(
        &tpp.software_statement,
        &keys,
        &[Algorithm::PS256, Algorithm::ES256],
    )
    .unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims.iss, SSA_ISSUER);
    assert_eq!(claims.software_id, tpp.software.id);
    assert_eq!(claims.org_id, tpp.organisation.id);
    assert_eq!(claims.software_roles, ["AISP", "PISP"]);
    assert_eq!(claims.software_jwks_endpoint, tpp.software_jwks_endpoint);
    assert_eq!(claims.org_status.as_deref(), Some("Active"));
    assert!(claims.software_jwks_endpoint.starts_with(&app.base_url));

    // A key the directory does not hold verifies nothing it signed.
    let stranger = bascule_jose::SigningKey::generate(Algorithm::PS256).unwrap();
    let foreign = VerifyingKeys::from_signing_key(&stranger).unwrap();
    assert!(verify_jwt::<Value>(&tpp.software_statement, &foreign, &[Algorithm::PS256]).is_err());
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn the_software_jwks_publishes_the_signing_key_with_its_certificate_until_revoked() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let tpp = enrol(&app, None).await;
        let sibling = enrol(&app, Some(&tpp.organisation.id)).await;
        let active_url = tpp.software_jwks_endpoint.clone();
        let revoked_url = format!("{active_url}/revoked");
        let org_url = app.url(&format!(
            "/directory/organisations/{}/jwks",
            tpp.organisation.id
        ));
        let kid = tpp.signing_key.kid();

        let active = get_jwks(&app, &active_url).await;
        assert_eq!(kids(&active), [kid]);
        let jwk = &active.keys[0];
        assert_eq!(jwk.kty, "RSA");
        assert_eq!(jwk.alg.as_deref(), Some("PS256"));
        assert_eq!(jwk.use_.as_deref(), Some("sig"));
        // x5c: the signing certificate, standard base64 DER; x5t#S256 its thumbprint.
        let x5c = jwk.x5c.as_ref().expect("x5c");
        let der = STANDARD.decode(&x5c[0]).unwrap();
        let signing = bascule_tls::IssuedCertificate::from_pem(
            tpp.signing_certificate_pem.clone(),
            tpp.signing_key.to_pkcs8_pem().unwrap(),
        )
        .unwrap();
        assert_eq!(der, signing.certificate_chain().unwrap()[0].as_ref());
        assert_eq!(
            jwk.x5t_s256.as_deref(),
            Some(bascule_tls::thumbprint_s256(&der).as_str())
        );
        // The published key verifies what the software signs.
        let keys = VerifyingKeys::from_jwks(&active).unwrap();
        let token = tpp
            .signing_key
            .sign_jwt(&serde_json::json!({"iss": tpp.software.id}), Some("JWT"))
            .unwrap();
        verify_jwt::<Value>(&token, &keys, &[Algorithm::PS256]).unwrap();
        assert!(get_jwks(&app, &revoked_url).await.keys.is_empty());
        let mut org_kids = kids(&get_jwks(&app, &org_url).await)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>();
        org_kids.sort();
        let mut expected_kids = vec![kid.to_owned(), sibling.signing_key.kid().to_owned()];
        expected_kids.sort();
        assert_eq!(org_kids, expected_kids);

        directory(&app)
            .revoke_software(&tpp.software.id)
            .await
            .unwrap();
        assert!(get_jwks(&app, &active_url).await.keys.is_empty());
        assert_eq!(kids(&get_jwks(&app, &revoked_url).await), [kid]);
        assert_eq!(
            kids(&get_jwks(&app, &org_url).await),
            [sibling.signing_key.kid()]
        );
        assert_eq!(
            kids(&get_jwks(&app, &format!("{org_url}/revoked")).await),
            [kid]
        );
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn unknown_organisations_and_software_are_json_404s() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let tpp = enrol(&app, None).await;
    let other = enrol(&app, None).await;
    let org = &tpp.organisation.id;
    for path in [
        "/directory/organisations/000000000000000000/jwks".to_owned(),
        "/directory/organisations/000000000000000000/jwks/revoked".to_owned(),
        format!("/directory/organisations/{org}/software/0000000000000000000000/jwks"),
        format!("/directory/organisations/{org}/software/0000000000000000000000/jwks/revoked"),
        // Real software, but under another organisation.
        format!(
            "/directory/organisations/{org}/software/{}/jwks",
            other.software.id
        ),
        format!(
            "/directory/organisations/{org}/software/{}/jwks/revoked",
            other.software.id
        ),
    ] {
        let response = app.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 404, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("application/json"),
            "{path}: {content_type}"
        );
        let body: Value = response.json().await.unwrap();
        assert!(body.is_object(), "{path}: {body}");
    }
    app.shutdown().await.unwrap();
}
