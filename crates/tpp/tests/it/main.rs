//! Integration tests for bascule-tpp: loading an enrolment directory, the registration request
//! JWT, registration calls and the OAuth client calls over real mTLS against a local HTTPS
//! server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod fixture;
mod oauth;

use bascule_jose::{Algorithm, VerifyingKeys, decode_unverified, verify_jwt};
use bascule_tpp::{
    Registration, RegistrationRequest, Role, TokenEndpointAuthMethod, TppClient, TppError, TppFiles,
};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

use fixture::{Ca, KID, ORG_ID, SOFTWARE_ID, Server, enrol, expected_subject_dn, write};

const NOW: i64 = 1_760_000_000;
const BANK: &str = "0015800000jfwxXAAQ";

fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            14 => c == '4',
            19 => matches!(c, '8' | '9' | 'a' | 'b' | 'A' | 'B'),
            _ => c.is_ascii_hexdigit(),
        })
}

#[test]
fn load_reads_every_file() {
    for alg in [Algorithm::ES256, Algorithm::PS256] {
        let e = enrol(alg, &["AISP", "PISP"]);
        let files = TppFiles::load(e.dir.path()).unwrap();
        assert_eq!(files.organisation_id(), ORG_ID);
        assert_eq!(files.software_id(), SOFTWARE_ID);
        assert_eq!(files.software_client_name(), "Acme Budget");
        assert_eq!(files.roles(), &[Role::Aisp, Role::Pisp]);
        assert_eq!(files.redirect_uris(), &["https://acme.example/callback"]);
        assert_eq!(files.directory_url(), "https://localhost:8443");
        assert!(files.software_jwks_endpoint().ends_with("/jwks"));
        assert_eq!(files.software_statement(), e.ssa, "SSA is trimmed");
        assert_eq!(files.transport_certificate_pem(), e.transport_cert_pem);
        assert_eq!(files.ca_bundle_pem(), e.ca.pem);
        assert!(
            files
                .signing_certificate_pem()
                .contains("BEGIN CERTIFICATE")
        );
        assert_eq!(files.signing_key().kid(), KID);
        assert_eq!(files.signing_key().algorithm(), alg);
        assert_eq!(files.signing_key().public_jwk(), e.signing_key.public_jwk());
        assert_eq!(files.transport_subject_dn(), expected_subject_dn());
        assert_eq!(files.manifest().signing_algorithm, alg.as_str());
    }
}

#[test]
fn debug_prints_no_private_key() {
    let e = enrol(Algorithm::ES256, &["AISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let debug = format!("{files:?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    let key_pem = std::fs::read_to_string(e.dir.path().join("transport.key")).unwrap();
    let key_body: String = key_pem.lines().nth(1).unwrap().to_owned();
    assert!(!debug.contains(&key_body));
    assert!(debug.contains("[redacted]"));
    assert!(debug.contains(SOFTWARE_ID));

    let client = TppClient::new(&files).unwrap();
    assert!(!format!("{client:?}").contains("PRIVATE KEY"));
}

#[test]
fn load_reports_what_is_wrong() {
    let e = enrol(Algorithm::ES256, &["AISP"]);
    let dir = e.dir.path();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("tpp.json")).unwrap()).unwrap();
    let with = |key: &str, value: Value| {
        let mut m = manifest.clone();
        m[key] = value;
        write(dir, "tpp.json", &m.to_string());
        TppFiles::load(dir).unwrap_err()
    };

    let err = with("signing_algorithm", json!("RS256"));
    assert!(
        matches!(&err, TppError::InvalidFile { reason, .. } if reason.contains("RS256")),
        "{err}"
    );
    let err = with("signing_algorithm", json!("PS256"));
    assert!(
        matches!(&err, TppError::InvalidFile { path, .. } if path.ends_with("signing.key")),
        "an ES256 key is not a PS256 key: {err}"
    );
    let err = with("roles", json!(["AISP", "BANKER"]));
    assert!(matches!(err, TppError::Manifest { .. }), "{err}");
    let err = with("roles", json!([]));
    assert!(matches!(err, TppError::InvalidFile { .. }), "{err}");
    let err = with("transport_key", json!("nope.key"));
    assert!(
        matches!(&err, TppError::Io { path, .. } if path.ends_with("nope.key")),
        "{err}"
    );
    let err = with("ca_bundle", json!("transport.key"));
    assert!(
        matches!(&err, TppError::InvalidFile { reason, .. } if reason.contains("no certificate")),
        "{err}"
    );
    let err = with("transport_key", json!("ca.pem"));
    assert!(
        matches!(&err, TppError::InvalidFile { path, .. } if path.ends_with("ca.pem")),
        "{err}"
    );
    write(dir, "not-a-jwt", "hello");
    let err = with("software_statement", json!("not-a-jwt"));
    assert!(
        matches!(&err, TppError::InvalidFile { reason, .. } if reason.contains("JWT")),
        "{err}"
    );

    let mut m = manifest.clone();
    m.as_object_mut().unwrap().remove("signing_kid");
    write(dir, "tpp.json", &m.to_string());
    assert!(matches!(
        TppFiles::load(dir).unwrap_err(),
        TppError::Manifest { .. }
    ));

    // Back to the good manifest, with an extra field the writer may add later.
    let mut m = manifest.clone();
    m["written_by"] = json!("bascule 9.9");
    write(dir, "tpp.json", &m.to_string());
    TppFiles::load(dir).unwrap();

    std::fs::remove_file(dir.join("tpp.json")).unwrap();
    assert!(matches!(
        TppFiles::load(dir).unwrap_err(),
        TppError::Io { .. }
    ));
}

#[test]
fn request_defaults_follow_roles_and_method() {
    for (roles, scope) in [
        (
            &["AISP", "PISP", "CBPII"][..],
            "openid accounts payments fundsconfirmations",
        ),
        (&["AISP"][..], "openid accounts"),
        (&["CBPII", "PISP"][..], "openid payments fundsconfirmations"),
    ] {
        let e = enrol(Algorithm::ES256, roles);
        let files = TppFiles::load(e.dir.path()).unwrap();
        let request =
            RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth);
        assert_eq!(request.scope, scope);
    }

    let e = enrol(Algorithm::PS256, &["AISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let tls = serde_json::to_value(RegistrationRequest::from_files(
        &files,
        TokenEndpointAuthMethod::TlsClientAuth,
    ))
    .unwrap();
    assert_eq!(
        tls,
        json!({
            "redirect_uris": ["https://acme.example/callback"],
            "token_endpoint_auth_method": "tls_client_auth",
            "grant_types": ["client_credentials", "authorization_code", "refresh_token"],
            "response_types": ["code id_token", "code"],
            "scope": "openid accounts",
            "application_type": "web",
            "id_token_signed_response_alg": "PS256",
            "request_object_signing_alg": "PS256",
            "tls_client_auth_subject_dn": expected_subject_dn(),
            "software_id": SOFTWARE_ID,
            "software_statement": e.ssa,
        })
    );

    let pkj = serde_json::to_value(RegistrationRequest::from_files(
        &files,
        TokenEndpointAuthMethod::PrivateKeyJwt,
    ))
    .unwrap();
    assert_eq!(pkj["token_endpoint_auth_method"], "private_key_jwt");
    assert_eq!(pkj["token_endpoint_auth_signing_alg"], "PS256");
    assert!(pkj.get("tls_client_auth_subject_dn").is_none());

    // Round trip through serde, including unknown metadata.
    let mut with_extra: Value = pkj.clone();
    with_extra["backchannel_user_code_parameter_supported"] = json!(false);
    let parsed: RegistrationRequest = serde_json::from_value(with_extra.clone()).unwrap();
    assert_eq!(
        parsed.extra["backchannel_user_code_parameter_supported"],
        json!(false)
    );
    assert_eq!(serde_json::to_value(&parsed).unwrap(), with_extra);
}

#[test]
fn request_jwt_carries_the_claims_and_verifies() {
    let e = enrol(Algorithm::PS256, &["AISP", "PISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let mut request =
        RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth);
    request.extra.insert("iss".into(), json!("someone-else"));
    let jwt = request.signed_jwt(files.signing_key(), BANK, NOW).unwrap();

    let (header, claims) = decode_unverified(&jwt).unwrap();
    assert_eq!(header.alg, "PS256");
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(header.kid.as_deref(), Some(KID));
    assert_eq!(claims["iss"], SOFTWARE_ID, "extra cannot override iss");
    assert_eq!(claims["aud"], BANK);
    assert_eq!(claims["iat"], NOW);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    let jti = claims["jti"].as_str().unwrap();
    assert!(is_uuid_v4(jti), "{jti}");
    assert_eq!(claims["software_id"], SOFTWARE_ID);
    assert_eq!(claims["software_statement"], e.ssa.as_str());
    assert_eq!(
        claims["redirect_uris"],
        json!(["https://acme.example/callback"])
    );
    assert_eq!(claims["token_endpoint_auth_method"], "tls_client_auth");
    assert_eq!(claims["scope"], "openid accounts payments");
    assert_eq!(claims["tls_client_auth_subject_dn"], expected_subject_dn());
    assert_eq!(claims["request_object_signing_alg"], "PS256");
    assert_eq!(claims["id_token_signed_response_alg"], "PS256");
    assert_eq!(claims["application_type"], "web");

    // A bank holding the public key from software_jwks_endpoint verifies it.
    let keys = VerifyingKeys::from_jwks(&bascule_jose::Jwks {
        keys: vec![e.signing_key.public_jwk()],
    })
    .unwrap();
    let (_, verified): (_, Value) = verify_jwt(&jwt, &keys, &[Algorithm::PS256]).unwrap();
    assert_eq!(verified, claims);

    // claims() alone: every call gets a fresh jti.
    let a = request.claims(BANK, NOW);
    let b = request.claims(BANK, NOW);
    assert_ne!(a["jti"], b["jti"]);
    assert!(is_uuid_v4(a["jti"].as_str().unwrap()));
}

#[test]
fn registration_response_parsing() {
    let r = Registration::from_json(
        json!({"client_id": "abc", "client_id_issued_at": 5, "scope": "openid"}),
    )
    .unwrap();
    assert_eq!(r.client_id, "abc");
    assert_eq!(r.client_id_issued_at, Some(5));
    assert_eq!(r.str_field("scope"), Some("openid"));
    assert!(Registration::from_json(json!({"client_id_issued_at": 5})).is_err());
    assert!(Registration::from_json(json!({"client_id": ""})).is_err());
    assert!(
        Registration::from_json(json!({"client_id": "a", "client_id_issued_at": "x"})).is_err()
    );
    assert_eq!(
        Registration::from_json(json!({"client_id": "a"}))
            .unwrap()
            .client_id_issued_at,
        None
    );
}

#[tokio::test]
async fn registration_calls_over_mtls() {
    let e = enrol(Algorithm::ES256, &["AISP", "PISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let client = TppClient::new(&files).unwrap();
    let mut server = Server::start(&e.ca, &e.ca).await;
    let endpoint = server.url("/register");
    let request = RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth);
    let transport_der = CertificateDer::from_pem_slice(e.transport_cert_pem.as_bytes()).unwrap();

    // 201: registered.
    server.respond(
        201,
        json!({"client_id": "c-123", "client_id_issued_at": NOW, "scope": "openid accounts payments",
               "token_endpoint_auth_method": "tls_client_auth", "software_id": SOFTWARE_ID})
        .to_string(),
    );
    let registration = client
        .register(&endpoint, BANK, &request, NOW)
        .await
        .unwrap();
    assert_eq!(registration.client_id, "c-123");
    assert_eq!(registration.client_id_issued_at, Some(NOW));
    assert_eq!(
        registration.str_field("token_endpoint_auth_method"),
        Some("tls_client_auth")
    );
    let seen = server.seen().await;
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/register");
    assert_eq!(seen.headers["content-type"], "application/jose");
    assert!(!seen.headers.contains_key("authorization"));
    assert!(is_uuid_v4(&seen.headers["x-fapi-interaction-id"]));
    assert_eq!(
        seen.client_cert.as_ref(),
        Some(&transport_der),
        "mTLS with the transport cert"
    );
    let (header, claims) = decode_unverified(&seen.body).unwrap();
    assert_eq!(header.typ.as_deref(), Some("JWT"));
    assert_eq!(claims["aud"], BANK);
    assert_eq!(claims["iss"], SOFTWARE_ID);
    assert_eq!(claims["exp"], NOW + 300);
    let keys = VerifyingKeys::from_signing_key(&e.signing_key).unwrap();
    verify_jwt::<Value>(&seen.body, &keys, &[Algorithm::ES256]).unwrap();

    // 400 with an RFC 7591 error body.
    server.respond(400, r#"{"error":"invalid_redirect_uri"}"#);
    let err = client
        .register(&endpoint, BANK, &request, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TppError::Registration { status: 400, error, description: None } if error == "invalid_redirect_uri"),
        "{err:?}"
    );
    server.seen().await;
    server.respond(
        400,
        r#"{"error":"invalid_software_statement","error_description":"SSA expired"}"#,
    );
    let err = client
        .register(&endpoint, BANK, &request, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TppError::Registration { description: Some(d), .. } if d == "SSA expired"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "registration refused (400): invalid_software_statement: SSA expired"
    );
    server.seen().await;

    // Anything else is a status error, body kept.
    for (status, body) in [
        (500, "boom"),
        (400, "not json"),
        (200, r#"{"client_id":"x"}"#),
    ] {
        server.respond(status, body);
        let err = client
            .register(&endpoint, BANK, &request, NOW)
            .await
            .unwrap_err();
        assert!(
            matches!(&err, TppError::Status { status: s, body: b } if *s == status && b == body),
            "{err:?}"
        );
        server.seen().await;
    }
    // 201 without a client_id.
    server.respond(201, "{}");
    let err = client
        .register(&endpoint, BANK, &request, NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TppError::InvalidResponse { status: 201, .. }),
        "{err:?}"
    );
    server.seen().await;

    // GET /register/{id} with the access token.
    server.respond(200, json!({"client_id": "c-123"}).to_string());
    let got = client
        .get_registration(&endpoint, "c-123", "tok-1")
        .await
        .unwrap();
    assert_eq!(got.client_id, "c-123");
    let seen = server.seen().await;
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/register/c-123")
    );
    assert_eq!(seen.headers["authorization"], "Bearer tok-1");

    // PUT with a fresh JWT.
    server.respond(
        200,
        json!({"client_id": "c-123", "scope": "openid accounts"}).to_string(),
    );
    let updated = client
        .update_registration(&endpoint, "c-123", "tok-1", BANK, &request, NOW + 60)
        .await
        .unwrap();
    assert_eq!(updated.str_field("scope"), Some("openid accounts"));
    let seen = server.seen().await;
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("PUT", "/register/c-123")
    );
    assert_eq!(seen.headers["authorization"], "Bearer tok-1");
    assert_eq!(seen.headers["content-type"], "application/jose");
    let (_, claims) = decode_unverified(&seen.body).unwrap();
    assert_eq!(claims["iat"], NOW + 60);

    // DELETE → 204; a 401 is a status error.
    server.respond(204, "");
    client
        .delete_registration(&endpoint, "c-123", "tok-1")
        .await
        .unwrap();
    let seen = server.seen().await;
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("DELETE", "/register/c-123")
    );
    server.respond(401, "");
    let err = client
        .delete_registration(&endpoint, "c-123", "tok-1")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TppError::Status { status: 401, .. }),
        "{err:?}"
    );
    server.seen().await;
}

#[tokio::test]
async fn trusts_only_the_ca_bundle_and_extra_roots() {
    let e = enrol(Algorithm::ES256, &["AISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let bank_ca = Ca::new("Some Bank's Server CA");
    let mut server = Server::start(&bank_ca, &e.ca).await;
    let endpoint = server.url("/register");
    let request = RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::PrivateKeyJwt);

    // The bank's server certificate is not from the directory CA: refused.
    let client = TppClient::new(&files).unwrap();
    let err = client
        .register(&endpoint, BANK, &request, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, TppError::Http(_)), "{err:?}");

    // Trusting the bank's CA as well works.
    let client = TppClient::with_roots(&files, &[bank_ca.pem.as_str()]).unwrap();
    server.respond(201, json!({"client_id": "c-9"}).to_string());
    let registration = client
        .register(&endpoint, BANK, &request, NOW)
        .await
        .unwrap();
    assert_eq!(registration.client_id, "c-9");
    assert!(server.seen().await.client_cert.is_some());

    // An extra root that holds no certificate is an error, not silently ignored.
    let err = TppClient::with_roots(&files, &["not a pem"]).unwrap_err();
    assert!(matches!(err, TppError::InvalidFile { .. }), "{err:?}");

    // Plain HTTP is refused outright.
    let err = client
        .register("http://127.0.0.1:1/register", BANK, &request, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, TppError::Http(_)), "{err:?}");
}

#[tokio::test]
async fn server_refuses_a_client_from_another_ca() {
    // A TPP whose transport certificate the bank does not trust cannot register.
    let e = enrol(Algorithm::ES256, &["AISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let other_directory = Ca::new("Other Directory");
    let server = Server::start(&e.ca, &other_directory).await;
    let request = RegistrationRequest::from_files(&files, TokenEndpointAuthMethod::TlsClientAuth);
    let err = TppClient::new(&files)
        .unwrap()
        .register(&server.url("/register"), BANK, &request, NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, TppError::Http(_)), "{err:?}");
}
