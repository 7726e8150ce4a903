//! Integration tests for bascule-directory over the real server: revocation reaching the TLS
//! handshake (also from another node through the database), the JWKS endpoints, and enrolment's
//! input checks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod enrol;
mod jwks;
mod revocation;

use bascule_directory::{Directory, EnrolRequest, Enrolment, Role};
use bascule_testkit::TestApp;

pub fn directory(app: &TestApp) -> &Directory {
    app.state()
        .directory
        .as_ref()
        .expect("the test app runs in sandbox mode")
}

pub fn request(organisation_id: Option<&str>) -> EnrolRequest {
    EnrolRequest {
        organisation_name: "Acme Budgeting Ltd".into(),
        organisation_id: organisation_id.map(str::to_owned),
        software_name: "Acme Budget".into(),
        roles: vec![Role::AISP, Role::PISP],
        redirect_uris: vec!["https://tpp.example/callback".into()],
        ..EnrolRequest::default()
    }
}

pub async fn enrol(app: &TestApp, organisation_id: Option<&str>) -> Enrolment {
    directory(app)
        .enrol(&request(organisation_id))
        .await
        .unwrap()
}
