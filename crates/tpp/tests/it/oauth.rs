//! The OAuth client calls over real mTLS against the local HTTPS server: discovery, the bank's
//! keys, PAR, the token endpoint with both client authentication methods, revocation, and
//! resource calls.

use std::collections::HashMap;

use bascule_jose::{Algorithm, Jwks, SigningKey, VerifyingKeys, decode_unverified, verify_jwt};
use bascule_tpp::oauth::{
    CLIENT_ASSERTION_TYPE_JWT_BEARER, ClientAuth, Pkce, RequestObject, par_authorization_url,
};
use bascule_tpp::{TppClient, TppError, TppFiles};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Value, json};

use super::{NOW, is_uuid_v4};
use crate::fixture::{Server, enrol};

fn form(body: &str) -> HashMap<String, String> {
    let mut url = reqwest::Url::parse("https://x.invalid/").unwrap();
    url.set_query(Some(body));
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn metadata(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "pushed_authorization_request_endpoint": format!("{issuer}/par"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "tls_client_certificate_bound_access_tokens": true,
    })
}

#[tokio::test]
async fn discovery_and_provider_keys_over_tls() {
    let e = enrol(Algorithm::ES256, &["AISP"]);
    let client = TppClient::new(&TppFiles::load(e.dir.path()).unwrap()).unwrap();
    let mut server = Server::start(&e.ca, &e.ca).await;
    let issuer = server.url("");

    server.respond(200, metadata(&issuer).to_string());
    let bank = client.discover(&format!("{issuer}/")).await.unwrap();
    assert_eq!(bank.issuer, issuer);
    assert_eq!(bank.token_endpoint, format!("{issuer}/token"));
    assert_eq!(
        bank.pushed_authorization_request_endpoint,
        Some(format!("{issuer}/par"))
    );
    assert_eq!(
        bank.other["tls_client_certificate_bound_access_tokens"],
        true
    );
    let seen = server.seen().await;
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("GET", "/.well-known/openid-configuration")
    );

    // An issuer other than the one asked for is refused (OIDD §4.3).
    server.respond(200, metadata("https://other.example").to_string());
    let err = client.discover(&issuer).await.unwrap_err();
    assert!(
        matches!(&err, TppError::InvalidResponse { reason, .. } if reason.contains("other.example")),
        "{err:?}"
    );
    server.seen().await;
    server.respond(200, r#"{"issuer":"x"}"#);
    let err = client.discover(&issuer).await.unwrap_err();
    assert!(
        matches!(err, TppError::InvalidResponse { status: 200, .. }),
        "{err:?}"
    );
    server.seen().await;
    server.respond(404, "gone");
    let err = client.discover(&issuer).await.unwrap_err();
    assert!(
        matches!(err, TppError::Status { status: 404, .. }),
        "{err:?}"
    );
    server.seen().await;

    let bank_key = SigningKey::generate(Algorithm::PS256)
        .unwrap()
        .with_kid("bank-1");
    let jwks = Jwks {
        keys: vec![bank_key.public_jwk()],
    };
    server.respond(200, serde_json::to_string(&jwks).unwrap());
    let keys = client.provider_keys(&bank.jwks_uri).await.unwrap();
    assert!(keys.contains_kid("bank-1"));
    assert_eq!(server.seen().await.path, "/jwks");
}

#[tokio::test]
async fn token_par_and_revocation_calls_authenticate_the_client() {
    let e = enrol(Algorithm::PS256, &["AISP"]);
    let files = TppFiles::load(e.dir.path()).unwrap();
    let client = TppClient::new(&files).unwrap();
    let mut server = Server::start(&e.ca, &e.ca).await;
    let issuer = server.url("");
    let token_endpoint = server.url("/token");
    let transport_der = CertificateDer::from_pem_slice(e.transport_cert_pem.as_bytes()).unwrap();
    let tls = ClientAuth::tls("client-1");

    // client_credentials with tls_client_auth.
    server.respond(
        200,
        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":300,"scope":"accounts"}"#,
    );
    let token = client
        .token_client_credentials(&token_endpoint, &tls, "accounts")
        .await
        .unwrap();
    assert_eq!(token.access_token, "at-1");
    assert_eq!(token.expires_in, Some(300));
    assert_eq!(token.scope.as_deref(), Some("accounts"));
    let seen = server.seen().await;
    assert_eq!(
        (seen.method.as_str(), seen.path.as_str()),
        ("POST", "/token")
    );
    assert_eq!(
        seen.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(is_uuid_v4(&seen.headers["x-fapi-interaction-id"]));
    assert_eq!(seen.client_cert.as_ref(), Some(&transport_der));
    let body = form(&seen.body);
    assert_eq!(
        body,
        HashMap::from([
            ("grant_type".into(), "client_credentials".into()),
            ("scope".into(), "accounts".into()),
            ("client_id".into(), "client-1".into()),
        ])
    );

    // authorization_code with private_key_jwt and PKCE.
    let pkce = Pkce::generate().unwrap();
    let pkj = ClientAuth::private_key_jwt("client-1", files.signing_key(), NOW);
    server.respond(
        200,
        r#"{"access_token":"at-2","token_type":"bearer","expires_in":300,"refresh_token":"rt-2","id_token":"a.b.c"}"#,
    );
    let token = client
        .token_authorization_code(
            &token_endpoint,
            &pkj,
            "code-1",
            "https://acme.example/callback",
            Some(pkce.verifier()),
        )
        .await
        .unwrap();
    assert_eq!(token.refresh_token.as_deref(), Some("rt-2"));
    assert_eq!(token.id_token.as_deref(), Some("a.b.c"));
    let body = form(&server.seen().await.body);
    assert_eq!(body["grant_type"], "authorization_code");
    assert_eq!(body["code"], "code-1");
    assert_eq!(body["redirect_uri"], "https://acme.example/callback");
    assert_eq!(body["code_verifier"], pkce.verifier());
    assert!(!body.contains_key("client_id"));
    assert_eq!(
        body["client_assertion_type"],
        CLIENT_ASSERTION_TYPE_JWT_BEARER
    );
    let keys = VerifyingKeys::from_signing_key(&e.signing_key).unwrap();
    let (_, assertion): (_, Value) =
        verify_jwt(&body["client_assertion"], &keys, &[Algorithm::PS256]).unwrap();
    assert_eq!(assertion["iss"], "client-1");
    assert_eq!(assertion["sub"], "client-1");
    assert_eq!(assertion["aud"], token_endpoint.as_str());
    assert_eq!(assertion["exp"], NOW + 60);

    // refresh; an OAuth error body becomes TppError::OAuth.
    server.respond(
        400,
        r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
    );
    let err = client
        .token_refresh(&token_endpoint, &tls, "rt-2")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TppError::OAuth { status: 400, error, description: Some(d) }
            if error == "invalid_grant" && d == "refresh token revoked"),
        "{err:?}"
    );
    let body = form(&server.seen().await.body);
    assert_eq!(body["grant_type"], "refresh_token");
    assert_eq!(body["refresh_token"], "rt-2");
    server.respond(401, r#"{"error":"invalid_client"}"#);
    let err = client
        .token_client_credentials(&token_endpoint, &tls, "accounts")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TppError::OAuth { status: 401, error, description: None } if error == "invalid_client"),
        "{err:?}"
    );
    server.seen().await;
    server.respond(500, r#"{"error":"server_error"}"#);
    let err = client
        .token_client_credentials(&token_endpoint, &tls, "accounts")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TppError::Status { status: 500, .. }),
        "{err:?}"
    );
    server.seen().await;
    server.respond(200, r#"{"token_type":"Bearer"}"#);
    let err = client
        .token_client_credentials(&token_endpoint, &tls, "accounts")
        .await
        .unwrap_err();
    assert!(
        matches!(err, TppError::InvalidResponse { status: 200, .. }),
        "{err:?}"
    );
    server.seen().await;

    // PAR: the signed request object, the assertion's aud set to the issuer, 201.
    let par_endpoint = server.url("/par");
    let request = RequestObject::new(
        "client-1",
        &issuer,
        "https://acme.example/callback",
        "openid accounts",
        NOW,
    )
    .unwrap()
    .intent("aac-1")
    .pkce(&pkce);
    let jwt = request.sign(files.signing_key()).unwrap();
    server.respond(
        201,
        r#"{"request_uri":"urn:ietf:params:oauth:request_uri:r1","expires_in":60}"#,
    );
    let pushed = client
        .push_authorization_request(
            &par_endpoint,
            &pkj.clone()
                .with_audience(issuer.as_str())
                .with_client_id_field(true),
            &jwt,
        )
        .await
        .unwrap();
    assert_eq!(pushed.request_uri, "urn:ietf:params:oauth:request_uri:r1");
    assert_eq!(pushed.expires_in, 60);
    let seen = server.seen().await;
    assert_eq!(seen.path, "/par");
    let body = form(&seen.body);
    assert_eq!(body["request"], jwt);
    assert_eq!(body["client_id"], "client-1");
    let (_, assertion) = decode_unverified(&body["client_assertion"]).unwrap();
    assert_eq!(assertion["aud"], issuer.as_str());
    let url = par_authorization_url(
        &format!("{issuer}/authorize"),
        "client-1",
        &pushed.request_uri,
    )
    .unwrap();
    assert_eq!(
        url.query(),
        Some("client_id=client-1&request_uri=urn%3Aietf%3Aparams%3Aoauth%3Arequest_uri%3Ar1")
    );
    // PAR answers 201, not 200.
    server.respond(
        200,
        r#"{"request_uri":"urn:ietf:params:oauth:request_uri:r1","expires_in":60}"#,
    );
    let err = client
        .push_authorization_request(&par_endpoint, &tls, &jwt)
        .await
        .unwrap_err();
    assert!(
        matches!(err, TppError::Status { status: 200, .. }),
        "{err:?}"
    );
    server.seen().await;

    // Revocation.
    server.respond(200, "");
    client
        .revoke(&server.url("/revoke"), &tls, "rt-2")
        .await
        .unwrap();
    let seen = server.seen().await;
    assert_eq!(seen.path, "/revoke");
    assert_eq!(
        form(&seen.body),
        HashMap::from([
            ("token".into(), "rt-2".into()),
            ("client_id".into(), "client-1".into()),
        ])
    );
}

#[tokio::test]
async fn resource_calls_send_the_bearer_token_and_interaction_id() {
    let e = enrol(Algorithm::ES256, &["AISP", "PISP"]);
    let client = TppClient::new(&TppFiles::load(e.dir.path()).unwrap()).unwrap();
    let mut server = Server::start(&e.ca, &e.ca).await;

    server.respond(200, r#"{"Data":{"Account":[]}}"#);
    let got = client
        .get(&server.url("/open-banking/v4.0/aisp/accounts"), "at-1")
        .await
        .unwrap();
    assert_eq!(got.status, 200);
    assert_eq!(got.body["Data"]["Account"], json!([]));
    assert_eq!(got.header("content-type"), Some("application/json"));
    let seen = server.seen().await;
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.headers["authorization"], "Bearer at-1");
    assert_eq!(seen.headers["accept"], "application/json");
    assert!(is_uuid_v4(&seen.headers["x-fapi-interaction-id"]));
    assert!(!seen.headers.contains_key("x-fapi-financial-id"));

    // POST with a JSON body and extra headers; a 4xx is returned, not an error.
    server.respond(400, r#"{"Code":"400 BadRequest","Errors":[]}"#);
    let body = json!({"Data": {"Permissions": ["ReadAccountsBasic"]}, "Risk": {}});
    let posted = client
        .post_json(
            &server.url("/open-banking/v4.0/aisp/account-access-consents"),
            "at-1",
            &body,
            &[
                ("x-idempotency-key", "idem-1"),
                ("x-fapi-interaction-id", "my-id"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 400);
    assert_eq!(posted.body["Code"], "400 BadRequest");
    let seen = server.seen().await;
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.headers["content-type"], "application/json");
    assert_eq!(seen.headers["x-idempotency-key"], "idem-1");
    assert_eq!(seen.headers["x-fapi-interaction-id"], "my-id");
    assert_eq!(serde_json::from_str::<Value>(&seen.body).unwrap(), body);

    // DELETE → 204 with an empty body.
    server.respond(204, "");
    let deleted = client
        .delete(
            &server.url("/open-banking/v4.0/aisp/account-access-consents/aac-1"),
            "at-1",
        )
        .await
        .unwrap();
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
    assert_eq!(server.seen().await.method, "DELETE");

    let err = client
        .post_json(&server.url("/x"), "at-1", &body, &[("bad header", "v")])
        .await
        .unwrap_err();
    assert!(matches!(err, TppError::InvalidHeader { .. }), "{err:?}");
}
