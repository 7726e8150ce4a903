//! An enrolment directory built from scratch (a CA, a transport certificate with an Open Banking
//! subject, a signing key and certificate, an SSA) and a tiny mTLS HTTPS server.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use bascule_jose::{Algorithm, SigningKey};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

pub const ORG_ID: &str = "0015800001041REAAY";
pub const ORG_NAME: &str = "Acme Budgeting, Ltd";
pub const SOFTWARE_ID: &str = "AcmeBudgetApp01";
pub const KID: &str = "signing-kid-1";

pub struct Ca {
    pub pem: String,
    pub der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// (certificate PEM, key PEM (PKCS#8))
    pub fn issue(&self, params: CertificateParams, key: KeyPair) -> (String, String) {
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    pub fn server_cert(&self) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            cert.der().clone(),
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }
}

/// The Open Banking transport certificate subject Bascule's sandbox CA issues:
/// `C=GB, O=<org name>, OU=<org id>, organizationIdentifier=PSDGB-OB-<org id>, CN=<software id>`.
pub fn transport_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    // The default holds a CN; start empty so the RDNs are in exactly this order.
    params.distinguished_name = rcgen::DistinguishedName::new();
    let dn = &mut params.distinguished_name;
    dn.push(
        DnType::CountryName,
        DnValue::PrintableString("GB".try_into().unwrap()),
    );
    dn.push(DnType::OrganizationName, ORG_NAME);
    dn.push(DnType::OrganizationalUnitName, ORG_ID);
    dn.push(
        DnType::CustomDnType(vec![2, 5, 4, 97]),
        format!("PSDGB-OB-{ORG_ID}"),
    );
    dn.push(DnType::CommonName, SOFTWARE_ID);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

pub fn expected_subject_dn() -> String {
    format!("CN={SOFTWARE_ID},2.5.4.97=PSDGB-OB-{ORG_ID},OU={ORG_ID},O=Acme Budgeting\\, Ltd,C=GB")
}

pub struct Enrolment {
    pub dir: TempDir,
    pub ca: Ca,
    pub signing_key: SigningKey,
    pub ssa: String,
    pub transport_cert_pem: String,
}

/// Writes a complete enrolment directory with the given roles and signing algorithm.
pub fn enrol(alg: Algorithm, roles: &[&str]) -> Enrolment {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("Test Directory CA");
    let (transport_cert_pem, transport_key_pem) =
        ca.issue(transport_params(), KeyPair::generate().unwrap());

    let signing_key = SigningKey::generate(alg).unwrap().with_kid(KID);
    let signing_key_pem = signing_key.to_pkcs8_pem().unwrap();
    let mut signing_params = CertificateParams::default();
    signing_params
        .distinguished_name
        .push(DnType::CommonName, SOFTWARE_ID);
    signing_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let (signing_cert_pem, _) =
        ca.issue(signing_params, KeyPair::from_pem(&signing_key_pem).unwrap());

    let directory_key = SigningKey::generate(Algorithm::ES256).unwrap();
    let ssa = directory_key
        .sign_jwt(
            &serde_json::json!({
                "iss": "Bascule Sandbox Directory",
                "iat": 1_700_000_000,
                "jti": "3f1e4a5c-0000-4000-8000-000000000000",
                "software_id": SOFTWARE_ID,
                "software_client_name": "Acme Budget",
                "software_roles": roles,
                "software_redirect_uris": ["https://acme.example/callback"],
                "org_id": ORG_ID,
                "org_name": ORG_NAME,
            }),
            Some("JWT"),
        )
        .unwrap();

    let manifest = serde_json::json!({
        "organisation_id": ORG_ID,
        "organisation_name": ORG_NAME,
        "software_id": SOFTWARE_ID,
        "software_client_name": "Acme Budget",
        "roles": roles,
        "redirect_uris": ["https://acme.example/callback"],
        "transport_certificate": "transport.pem",
        "transport_key": "transport.key",
        "signing_key": "signing.key",
        "signing_certificate": "signing.pem",
        "signing_kid": KID,
        "signing_algorithm": alg.as_str(),
        "software_statement": "ssa.jwt",
        "ca_bundle": "ca.pem",
        "directory_url": "https://localhost:8443",
        "software_jwks_endpoint": format!("https://localhost:8443/directory/software/{SOFTWARE_ID}/jwks"),
    });
    write(
        dir.path(),
        "tpp.json",
        &serde_json::to_string_pretty(&manifest).unwrap(),
    );
    write(dir.path(), "transport.pem", &transport_cert_pem);
    write(dir.path(), "transport.key", &transport_key_pem);
    write(dir.path(), "signing.key", &signing_key_pem);
    write(dir.path(), "signing.pem", &signing_cert_pem);
    write(dir.path(), "ssa.jwt", &format!("{ssa}\n"));
    write(dir.path(), "ca.pem", &ca.pem);

    Enrolment {
        dir,
        ca,
        signing_key,
        ssa,
        transport_cert_pem,
    }
}

pub fn write(dir: &Path, name: &str, content: &str) {
    std::fs::write(dir.join(name), content).unwrap();
}

/// What the test server saw of one request.
#[derive(Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: String,
    pub client_cert: Option<CertificateDer<'static>>,
}

/// A one-request-per-connection HTTPS server on 127.0.0.1 with a certificate from `server_ca`
/// that requires a client certificate issued by `client_ca`, answers each request with the
/// next queued `(status, body)` (`Connection: close`) and reports what it saw.
pub struct Server {
    pub addr: SocketAddr,
    responses: Arc<Mutex<VecDeque<(u16, String)>>>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Server {
    pub async fn start(server_ca: &Ca, client_ca: &Ca) -> Server {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(client_ca.der.clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .unwrap();
        let (cert, key) = server_ca.server_cert();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![cert], key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let responses: Arc<Mutex<VecDeque<(u16, String)>>> = Arc::default();
        let (tx, seen) = mpsc::unbounded_channel();
        let queue = responses.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let tx = tx.clone();
                let queue = queue.clone();
                tokio::spawn(async move {
                    // A failed handshake (e.g. an untrusted server certificate) is the test's
                    // business, not the server's.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let client_cert = tls
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first().cloned());
                    let Some(mut seen) = read_request(&mut tls).await else {
                        return;
                    };
                    seen.client_cert = client_cert;
                    let (status, body) = queue
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or((500, "no response queued".into()));
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                    let _ = tx.send(seen);
                });
            }
        });
        Server {
            addr,
            responses,
            seen,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    pub fn respond(&self, status: u16, body: impl Into<String>) {
        self.responses
            .lock()
            .unwrap()
            .push_back((status, body.into()));
    }

    pub async fn seen(&mut self) -> Seen {
        self.seen.recv().await.unwrap()
    }
}

async fn read_request<S: AsyncReadExt + Unpin>(stream: &mut S) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8(buf[..header_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let path = request_line.next()?.to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[header_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
        client_cert: None,
    })
}
