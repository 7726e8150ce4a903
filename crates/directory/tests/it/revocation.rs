//! Revocation reaches the TLS handshake: every mTLS route refuses a revoked certificate, other
//! organisations are unaffected, and a revocation written by another node is picked up by
//! `refresh_revocations`.

use bascule_store::sqlx;
use bascule_testkit::{BACKENDS, TestApp, spawn_app};
use bascule_tls::IssuedCertificate;
use serde_json::Value;

use crate::{directory, enrol};

const MTLS_ROUTE: &str = "/sandbox/tls/client-certificate";

/// What an mTLS route answers over a fresh connection presenting `identity`: the subject DN it
/// saw, or the transport error.
async fn handshake(app: &TestApp, identity: &IssuedCertificate) -> Result<String, String> {
    // A new client each time: a pooled connection would predate the revocation.
    let client = app.client_with(Some(identity)).unwrap();
    let response = client
        .get(app.url(MTLS_ROUTE))
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    Ok(body["subject_dn"].as_str().unwrap().to_owned())
}

/// The server refuses the certificate with TLS's `certificate_revoked` alert.
async fn refused_at_handshake(app: &TestApp, identity: &IssuedCertificate) {
    let error = handshake(app, identity).await.unwrap_err();
    assert!(error.contains("CertificateRevoked"), "{error}");
}

#[tokio::test]
async fn a_revoked_organisations_certificates_fail_the_handshake_on_every_mtls_route() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let revoked = enrol(&app, None).await;
        let sibling = enrol(&app, Some(&revoked.organisation.id)).await;
        let other = enrol(&app, None).await;
        for e in [&revoked, &sibling, &other] {
            let dn = handshake(&app, &e.transport).await.unwrap();
            assert!(dn.contains(&e.software.id), "{dn}");
        }

        let certificates = directory(&app)
            .revoke_organisation(&revoked.organisation.id)
            .await
            .unwrap();
        assert_eq!(certificates, 4, "transport and signing, for both software");

        for e in [&revoked, &sibling] {
            refused_at_handshake(&app, &e.transport).await;
            // Register is refused at the handshake too, before any HTTP status.
            let client = app.client_with(Some(&e.transport)).unwrap();
            let error = client.post(app.url("/register")).send().await.unwrap_err();
            assert!(
                format!("{error:?}").contains("CertificateRevoked"),
                "{error:?}"
            );
        }
        handshake(&app, &other.transport).await.unwrap();
        // Without a client certificate the listener still serves.
        let page = app
            .client
            .get(app.url("/health/live"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);

        let d = directory(&app);
        assert!(!d.is_active(&revoked.software.id).await.unwrap());
        assert!(!d.is_active(&sibling.software.id).await.unwrap());
        assert!(d.is_active(&other.software.id).await.unwrap());
        assert!(d.issue_ssa(&sibling.software.id).await.is_err());
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn revoking_software_spares_its_organisations_other_software() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let revoked = enrol(&app, None).await;
        let sibling = enrol(&app, Some(&revoked.organisation.id)).await;
        assert_eq!(
            directory(&app)
                .revoke_software(&revoked.software.id)
                .await
                .unwrap(),
            2
        );
        refused_at_handshake(&app, &revoked.transport).await;
        handshake(&app, &sibling.transport).await.unwrap();
        let thumbprint = revoked.transport.thumbprint_s256().unwrap();
        assert_eq!(
            directory(&app).certificate(&thumbprint).await.unwrap(),
            Some((
                revoked.software.id.clone(),
                bascule_directory::Status::Revoked
            ))
        );
        assert!(
            directory(&app)
                .revoke_software("no-such-software")
                .await
                .is_err()
        );
        app.shutdown().await.unwrap();
    }
}

#[tokio::test]
async fn refresh_revocations_picks_up_a_revocation_written_by_another_node() {
    for backend in BACKENDS {
        let app = spawn_app(backend).await.unwrap();
        let tpp = enrol(&app, None).await;
        handshake(&app, &tpp.transport).await.unwrap();

        // Another node revokes the certificate in the shared database.
        let thumbprint = tpp.transport.thumbprint_s256().unwrap();
        let updated = sqlx::query(
            "UPDATE directory_certificates SET status = 'Revoked' WHERE thumbprint = $1",
        )
        .bind(&thumbprint)
        .execute(app.state().store.pool())
        .await
        .unwrap()
        .rows_affected();
        assert_eq!(updated, 1);
        // This node has not heard of it yet.
        handshake(&app, &tpp.transport).await.unwrap();

        assert_eq!(directory(&app).refresh_revocations().await.unwrap(), 1);
        assert!(app.state().revoked.is_revoked(&thumbprint));
        refused_at_handshake(&app, &tpp.transport).await;
        app.shutdown().await.unwrap();
    }
}
