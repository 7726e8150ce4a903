//! Enrolment refuses what the directory could not stand behind, and writes files a TPP can use.

use bascule_directory::{DirectoryError, EnrolRequest, Role, TppManifest};
use bascule_store::Backend;
use bascule_testkit::spawn_app;

use crate::{directory, enrol, request};

fn assert_invalid(result: Result<bascule_directory::Enrolment, DirectoryError>, what: &str) {
    match result {
        Err(DirectoryError::Invalid(_)) => {}
        other => panic!("{what}: expected DirectoryError::Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn enrol_refuses_incomplete_or_unsafe_requests() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let d = directory(&app);
    let cases: Vec<(&str, EnrolRequest)> = vec![
        (
            "empty software name",
            EnrolRequest {
                software_name: "   ".into(),
                ..request(None)
            },
        ),
        (
            "software name over 40 characters",
            EnrolRequest {
                software_name: "x".repeat(41),
                ..request(None)
            },
        ),
        (
            "empty organisation name",
            EnrolRequest {
                organisation_name: String::new(),
                ..request(None)
            },
        ),
        (
            "no roles",
            EnrolRequest {
                roles: vec![],
                ..request(None)
            },
        ),
        (
            "no redirect URI",
            EnrolRequest {
                redirect_uris: vec![],
                ..request(None)
            },
        ),
        (
            "http redirect URI",
            EnrolRequest {
                redirect_uris: vec!["http://tpp.example/callback".into()],
                ..request(None)
            },
        ),
        (
            "redirect URI with a fragment",
            EnrolRequest {
                redirect_uris: vec!["https://tpp.example/callback#x".into()],
                ..request(None)
            },
        ),
    ];
    for (what, req) in cases {
        assert_invalid(d.enrol(&req).await, what);
    }
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn enrol_adds_software_to_active_organisations_only() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let d = directory(&app);
    assert!(matches!(
        d.enrol(&request(Some("000000000000000000"))).await,
        Err(DirectoryError::NotFound(_))
    ));
    let first = enrol(&app, None).await;
    let second = enrol(&app, Some(&first.organisation.id)).await;
    assert_eq!(second.organisation, first.organisation);
    assert_ne!(second.software.id, first.software.id);
    d.revoke_organisation(&first.organisation.id).await.unwrap();
    assert_invalid(
        d.enrol(&request(Some(&first.organisation.id))).await,
        "revoked organisation",
    );
    app.shutdown().await.unwrap();
}

#[tokio::test]
async fn enrolment_has_directory_shaped_ids_and_writes_a_usable_manifest() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();
    let e = directory(&app)
        .enrol(&EnrolRequest {
            roles: vec![Role::PISP, Role::AISP, Role::PISP],
            ..request(None)
        })
        .await
        .unwrap();
    assert_eq!(e.organisation.id.len(), 18);
    assert_eq!(e.software.id.len(), 22);
    assert!(
        (e.organisation.id.clone() + &e.software.id)
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
    );
    assert_eq!(
        e.software.roles,
        [Role::AISP, Role::PISP],
        "sorted, deduplicated"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = e.write_to(dir.path(), &app.ca_pem, &app.base_url).unwrap();
    let manifest: TppManifest =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(manifest.software_id, e.software.id);
    assert_eq!(manifest.signing_kid, e.signing_key.kid());
    assert_eq!(manifest.software_jwks_endpoint, e.software_jwks_endpoint);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&manifest.software_statement)).unwrap(),
        e.software_statement
    );
    #[cfg(unix)]
    for key in [&manifest.transport_key, &manifest.signing_key] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{key} is readable by others: {mode:o}");
    }
    app.shutdown().await.unwrap();
}
