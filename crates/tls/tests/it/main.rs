//! Integration tests for bascule-tls: the CA on disk, issued certificates, and `serve` over
//! real TCP with real TLS clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::routing::get;
use axum::{Extension, Router};
use bascule_tls::{
    CertificateAuthority, ClientCertificate, ClientSubject, ConnectionInfo, IssuedCertificate,
    RevokedCertificates, client_config, fapi_crypto_provider, server_config,
};
use rustls::ClientConfig;
use rustls::crypto::aws_lc_rs::cipher_suite;
use rustls_pki_types::{CertificateDer, ServerName};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

fn subject() -> ClientSubject {
    ClientSubject {
        organisation_id: "0015800001041REAAY".into(),
        organisation_name: "Acme, Payments Ltd".into(),
        software_id: "5Ch1iLAOH8cSmsT8nKj0Md".into(),
    }
}

fn hosts() -> Vec<String> {
    ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec()
}

fn leaf(issued: &IssuedCertificate) -> CertificateDer<'static> {
    issued.certificate_chain().unwrap().remove(0)
}

/// Independent of the crate: base64url-no-pad of SHA-256, via a different encoder loop.
fn expected_thumbprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der);
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        .chars()
        .collect();
    let bits: String = digest.as_ref().iter().map(|b| format!("{b:08b}")).collect();
    bits.as_bytes()
        .chunks(6)
        .map(|c| {
            let mut s = String::from_utf8(c.to_vec()).unwrap();
            while s.len() < 6 {
                s.push('0');
            }
            alphabet[usize::from_str_radix(&s, 2).unwrap()]
        })
        .collect()
}

#[test]
fn ca_is_created_then_reloaded_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let created = CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    let reloaded = CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    assert_eq!(created.certificate_pem(), reloaded.certificate_pem());
    assert_eq!(created.certificate_der(), reloaded.certificate_der());

    let der = created.certificate_der();
    let (_, parsed) = X509Certificate::from_der(&der).unwrap();
    assert!(parsed.is_ca());
    assert_eq!(
        parsed.subject().to_string(),
        "O=Bascule Sandbox, CN=Bascule Sandbox Root CA"
    );
    let lifetime = parsed.validity().not_after.to_datetime() - now();
    assert!(lifetime > time::Duration::days(3640) && lifetime < time::Duration::days(3660));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ca.key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // A certificate issued by the reloaded CA chains to the original CA certificate.
    let server = reloaded.issue_server_certificate(&hosts(), now()).unwrap();
    let server_der = leaf(&server);
    let (_, cert) = X509Certificate::from_der(&server_der).unwrap();
    let (_, ca) = X509Certificate::from_der(&der).unwrap();
    cert.verify_signature(Some(ca.public_key())).unwrap();
}

#[test]
fn half_a_ca_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    std::fs::remove_file(dir.path().join("ca.key.pem")).unwrap();
    let err = CertificateAuthority::load_or_create(dir.path(), now()).unwrap_err();
    assert!(err.to_string().contains("ca.key.pem"), "{err}");
}

#[test]
fn server_certificate_has_the_sans_and_server_auth() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    let server = ca.issue_server_certificate(&hosts(), now()).unwrap();
    let der = leaf(&server);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let san = cert.subject_alternative_name().unwrap().unwrap();
    let names: Vec<String> = san
        .value
        .general_names
        .iter()
        .map(|n| match n {
            GeneralName::DNSName(d) => format!("dns:{d}"),
            GeneralName::IPAddress(ip) => format!("ip:{ip:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "dns:localhost".to_string(),
            format!("ip:{:?}", &[127u8, 0, 0, 1][..]),
            format!("ip:{:?}", &std::net::Ipv6Addr::LOCALHOST.octets()[..]),
        ]
    );
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.server_auth && !eku.client_auth);
    // RSA: FAPI's TLS 1.2 suites are all ECDHE_RSA.
    assert_eq!(
        cert.public_key().algorithm.algorithm,
        x509_parser::oid_registry::OID_PKCS1_RSAENCRYPTION
    );
    let lifetime = server.not_after().unwrap() - now();
    assert!(lifetime > time::Duration::days(360) && lifetime < time::Duration::days(370));
    assert!(
        ca.issue_server_certificate(&[], now()).is_err(),
        "no hosts must be refused"
    );
}

#[test]
fn client_certificate_has_the_open_banking_subject() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    let client = ca.issue_client_certificate(&subject(), now()).unwrap();
    let der = leaf(&client);
    let (_, cert) = X509Certificate::from_der(&der).unwrap();
    let eku = cert.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert_eq!(
        cert.public_key().algorithm.algorithm.to_id_string(),
        "1.2.840.113549.1.1.1",
        "RSA key"
    );
    let org_id = x509_parser::der_parser::oid!(2.5.4.97);
    let values: Vec<&str> = cert
        .subject()
        .iter_by_oid(&org_id)
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(values, ["PSDGB-OB-0015800001041REAAY"]);

    let parsed = ClientCertificate::from_chain(vec![der.clone()]).unwrap();
    assert_eq!(
        parsed.subject_dn,
        "CN=5Ch1iLAOH8cSmsT8nKj0Md,2.5.4.97=PSDGB-OB-0015800001041REAAY,\
         OU=0015800001041REAAY,O=Acme\\, Payments Ltd,C=GB"
    );
    assert_eq!(parsed.thumbprint_s256, expected_thumbprint(&der));
    assert_eq!(parsed.not_after, client.not_after().unwrap());

    let mut bad = subject();
    bad.software_id = " ".into();
    assert!(ca.issue_client_certificate(&bad, now()).is_err());
}

#[test]
fn issued_certificate_round_trips_through_files_and_hides_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    let server = ca
        .issue_server_certificate(&["localhost".into()], now())
        .unwrap();
    let (cert_path, key_path) = (dir.path().join("s.crt"), dir.path().join("s.key"));
    server.write_to(&cert_path, &key_path).unwrap();
    let back = IssuedCertificate::read_from(&cert_path, &key_path).unwrap();
    assert_eq!(back.certificate_pem, server.certificate_pem);
    assert_eq!(back.key_pem(), server.key_pem());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let debug = format!("{server:?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");

    let other = ca
        .issue_server_certificate(&["localhost".into()], now())
        .unwrap();
    assert!(
        IssuedCertificate::from_pem(server.certificate_pem.clone(), other.key_pem()).is_err(),
        "mismatched key must be refused"
    );
}

struct Server {
    addr: SocketAddr,
    ca: CertificateAuthority,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), bascule_tls::TlsError>>,
    _dir: tempfile::TempDir,
}

async fn start_server() -> Server {
    start_server_with(Default::default()).await
}

async fn start_server_with(revoked: Arc<RevokedCertificates>) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path(), now()).unwrap();
    let server_cert = ca.issue_server_certificate(&hosts(), now()).unwrap();
    let config = server_config(&server_cert, &[ca.certificate_der()], revoked).unwrap();
    let app = Router::new()
        .route(
            "/",
            get(|Extension(info): Extension<ConnectionInfo>| async move {
                match info.client_certificate {
                    Some(cert) => cert.thumbprint_s256.clone(),
                    None => "none".to_string(),
                }
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "slow done"
            }),
        );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(bascule_tls::serve(
        listener,
        config,
        app,
        async move {
            let _ = rx.await;
        },
        Duration::from_secs(5),
    ));
    Server {
        addr,
        ca,
        shutdown: Some(tx),
        task,
        _dir: dir,
    }
}

/// One HTTP/1.1 GET over TLS; returns the response body for a 200, an error otherwise.
async fn get_body(addr: SocketAddr, config: Arc<ClientConfig>, path: &str) -> Result<String> {
    let tcp = TcpStream::connect(addr).await?;
    let mut tls = TlsConnector::from(config)
        .connect(ServerName::try_from("localhost")?, tcp)
        .await
        .context("handshake")?;
    tls.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut response = Vec::new();
    if let Err(error) = tls.read_to_end(&mut response).await {
        // A peer closing without close_notify after a full response is fine; anything
        // else (e.g. a fatal alert) is the failure the caller looks for.
        if error.kind() != std::io::ErrorKind::UnexpectedEof || response.is_empty() {
            return Err(error).context("read");
        }
    }
    let response = String::from_utf8(response)?;
    let Some((head, body)) = response.split_once("\r\n\r\n") else {
        bail!("no HTTP response: {response:?}");
    };
    if !head.starts_with("HTTP/1.1 200") {
        bail!("unexpected response: {head}");
    }
    Ok(body.to_string())
}

fn client_with(
    ca: &CertificateAuthority,
    identity: Option<&IssuedCertificate>,
) -> Arc<ClientConfig> {
    client_config(&ca.certificate_der(), identity).unwrap()
}

#[tokio::test]
async fn client_with_certificate_sees_its_thumbprint() {
    let server = start_server().await;
    let identity = server
        .ca
        .issue_client_certificate(&subject(), now())
        .unwrap();
    let body = get_body(server.addr, client_with(&server.ca, Some(&identity)), "/")
        .await
        .unwrap();
    assert_eq!(body, expected_thumbprint(&leaf(&identity)));
}

#[tokio::test]
async fn client_without_certificate_is_served_with_none() {
    let server = start_server().await;
    let body = get_body(server.addr, client_with(&server.ca, None), "/")
        .await
        .unwrap();
    assert_eq!(body, "none");
}

#[tokio::test]
async fn client_certificate_from_another_ca_is_refused_and_server_survives() {
    let server = start_server().await;
    let other_dir = tempfile::tempdir().unwrap();
    let other_ca = CertificateAuthority::load_or_create(other_dir.path(), now()).unwrap();
    let foreign = other_ca
        .issue_client_certificate(&subject(), now())
        .unwrap();
    // Trusts the right server CA, but presents a client cert from the wrong one.
    let result = get_body(server.addr, client_with(&server.ca, Some(&foreign)), "/").await;
    let error = result.expect_err("foreign client cert accepted");
    // Same CA name, different key: rustls reports the bad signature with a fatal alert.
    assert!(format!("{error:#}").contains("alert"), "{error:#}");

    let body = get_body(server.addr, client_with(&server.ca, None), "/")
        .await
        .unwrap();
    assert_eq!(body, "none");
}

/// FAPI 1.0 Advanced §8.5: on TLS 1.2 only the (DHE|ECDHE)_RSA AES-GCM suites; rustls has
/// no DHE, so the two ECDHE_RSA ones work and everything else (ECDSA, ChaCha20) is refused.
#[tokio::test]
async fn tls12_with_non_fapi_suite_is_refused_but_fapi_suite_works() {
    let server = start_server().await;
    let tls12_client = |suite| {
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        provider.cipher_suites = vec![suite];
        let mut roots = rustls::RootCertStore::empty();
        roots.add(server.ca.certificate_der()).unwrap();
        Arc::new(
            ClientConfig::builder_with_provider(Arc::new(provider))
                .with_protocol_versions(&[&rustls::version::TLS12])
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth(),
        )
    };
    for refused in [
        cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ] {
        let result = get_body(server.addr, tls12_client(refused), "/").await;
        let error = result.expect_err(&format!("{refused:?} over TLS 1.2 must be refused"));
        assert!(format!("{error:#}").contains("handshake"), "{error:#}");
    }
    for allowed in [
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ] {
        let body = get_body(server.addr, tls12_client(allowed), "/")
            .await
            .unwrap_or_else(|e| panic!("{allowed:?}: {e:#}"));
        assert_eq!(body, "none");
    }
    // The provider the server and clients use offers nothing else on TLS 1.2.
    let tls12: Vec<_> = fapi_crypto_provider()
        .cipher_suites
        .iter()
        .filter(|s| s.version() == &rustls::version::TLS12)
        .map(|s| s.suite())
        .collect();
    assert_eq!(
        tls12,
        vec![
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            rustls::CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ]
    );
}

/// A client certificate on the revocation list fails the handshake, however good its chain;
/// another from the same CA still works, and so does the revoked one once the list is reloaded
/// without it.
#[tokio::test]
async fn a_revoked_client_certificate_is_refused_and_an_unrevoked_one_passes() {
    let revoked = Arc::new(RevokedCertificates::default());
    let server = start_server_with(revoked.clone()).await;
    let bad = server
        .ca
        .issue_client_certificate(&subject(), now())
        .unwrap();
    let good = server
        .ca
        .issue_client_certificate(&subject(), now())
        .unwrap();
    let bad_thumbprint = expected_thumbprint(&leaf(&bad));
    // Before revocation both pass.
    let body = get_body(server.addr, client_with(&server.ca, Some(&bad)), "/")
        .await
        .unwrap();
    assert_eq!(body, bad_thumbprint);

    revoked.revoke(bad_thumbprint.clone());
    let result = get_body(server.addr, client_with(&server.ca, Some(&bad)), "/").await;
    let error = result.expect_err("revoked client certificate accepted");
    assert!(format!("{error:#}").contains("alert"), "{error:#}");
    let body = get_body(server.addr, client_with(&server.ca, Some(&good)), "/")
        .await
        .unwrap();
    assert_eq!(body, expected_thumbprint(&leaf(&good)));
    // Without a certificate nothing is revoked.
    let body = get_body(server.addr, client_with(&server.ca, None), "/")
        .await
        .unwrap();
    assert_eq!(body, "none");

    revoked.replace(Default::default());
    let body = get_body(server.addr, client_with(&server.ca, Some(&bad)), "/")
        .await
        .unwrap();
    assert_eq!(body, bad_thumbprint);
}

#[tokio::test]
async fn shutdown_drains_in_flight_requests_then_stops() {
    let mut server = start_server().await;
    let config = client_with(&server.ca, None);
    let in_flight = tokio::spawn(get_body(server.addr, config.clone(), "/slow"));
    tokio::time::sleep(Duration::from_millis(100)).await;

    server.shutdown.take().unwrap().send(()).unwrap();
    assert_eq!(in_flight.await.unwrap().unwrap(), "slow done");
    tokio::time::timeout(Duration::from_secs(5), &mut server.task)
        .await
        .expect("serve did not return")
        .unwrap()
        .unwrap();
    assert!(get_body(server.addr, config, "/").await.is_err());
}
