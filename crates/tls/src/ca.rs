use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, PKCS_RSA_SHA256, RsaKeySize,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use time::{Duration, OffsetDateTime, UtcOffset};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TlsError;

const CA_CERT_FILE: &str = "ca.crt.pem";
const CA_KEY_FILE: &str = "ca.key.pem";
const CA_COMMON_NAME: &str = "Bascule Sandbox Root CA";
const ORGANISATION: &str = "Bascule Sandbox";
/// OID of X.520 `organizationIdentifier`.
const ORGANIZATION_IDENTIFIER: &[u64] = &[2, 5, 4, 97];
/// Certificates are valid from slightly before `now` so that peers whose clocks lag ours
/// do not reject a certificate issued a moment ago.
const CLOCK_SKEW: Duration = Duration::minutes(5);

/// The sandbox CA, kept in a directory: `ca.crt.pem` and `ca.key.pem` (key file mode 0600 on
/// unix).
pub struct CertificateAuthority {
    certificate_pem: String,
    certificate_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("certificate_pem", &self.certificate_pem)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl CertificateAuthority {
    /// Loads the CA from `dir` or creates it (EC P-256, 10-year validity from `now`,
    /// CN "Bascule Sandbox Root CA", O "Bascule Sandbox") on first run.
    ///
    /// A directory holding only one of the two files is an error rather than being
    /// overwritten, since replacing a CA invalidates every certificate it issued.
    pub fn load_or_create(dir: &Path, now: OffsetDateTime) -> Result<Self, TlsError> {
        let cert_path = dir.join(CA_CERT_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        match (cert_path.exists(), key_path.exists()) {
            (true, true) => Self::load(&cert_path, &key_path),
            (false, false) => Self::create(dir, &cert_path, &key_path, now),
            (true, false) => Err(TlsError::IncompleteCa {
                dir: dir.to_path_buf(),
                missing: CA_KEY_FILE,
            }),
            (false, true) => Err(TlsError::IncompleteCa {
                dir: dir.to_path_buf(),
                missing: CA_CERT_FILE,
            }),
        }
    }

    fn load(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let issued = IssuedCertificate::read_from(cert_path, key_path)?;
        let certificate_der = issued.leaf_der()?;
        let (_, parsed) = X509Certificate::from_der(&certificate_der)
            .map_err(|e| TlsError::InvalidCertificate(format!("CA certificate: {e}")))?;
        if !parsed.is_ca() {
            return Err(TlsError::InvalidCertificate(
                "CA certificate lacks basicConstraints cA=true".into(),
            ));
        }
        let key = key_pair_from_pem(&issued.key_pem)?;
        let issuer = Issuer::from_ca_cert_der(&certificate_der, key)?;
        Ok(Self {
            certificate_pem: issued.certificate_pem,
            certificate_der,
            issuer,
        })
    }

    fn create(
        dir: &Path,
        cert_path: &Path,
        key_path: &Path,
        now: OffsetDateTime,
    ) -> Result<Self, TlsError> {
        create_private_dir(dir)?;
        let now = utc_seconds(now);
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, ORGANISATION);
        params
            .distinguished_name
            .push(DnType::CommonName, CA_COMMON_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = now - CLOCK_SKEW;
        params.not_after = add_years(now, 10);
        let certificate = params.self_signed(&key)?;
        let certificate_pem = certificate.pem();

        // Key first and create_new for both: a concurrent first run fails instead of
        // silently pairing one process's certificate with another's key.
        write_file(key_path, key.serialize_pem().as_bytes(), true, true)?;
        write_file(cert_path, certificate_pem.as_bytes(), false, true)?;

        Ok(Self {
            certificate_pem,
            certificate_der: certificate.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA certificate, PEM.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The CA certificate, DER (e.g. as the trust anchor for [`crate::server_config`]).
    pub fn certificate_der(&self) -> CertificateDer<'static> {
        self.certificate_der.clone()
    }

    /// Server cert for the given DNS names / IP addresses (e.g. `["localhost","127.0.0.1","::1"]`),
    /// 1-year validity, EKU serverAuth, RSA 2048 key (FAPI's TLS 1.2 suites are all `_RSA_`).
    /// The first host is also the subject CN.
    pub fn issue_server_certificate(
        &self,
        hosts: &[String],
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, TlsError> {
        let Some(first) = hosts.first() else {
            return Err(TlsError::InvalidInput(
                "a server certificate needs at least one host".into(),
            ));
        };
        let mut params = CertificateParams::new(hosts.to_vec())?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::OrganizationName, ORGANISATION);
        params.distinguished_name.push(DnType::CommonName, first);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
        self.issue(params, key, now)
    }

    /// Client (TPP transport) cert, EKU clientAuth, RSA 2048 key, subject in the Open Banking
    /// form: `C=GB, O=<organisation name>, OU=<organisation id>,
    /// organizationIdentifier=PSDGB-OB-<organisation id>, CN=<software id>`.
    pub fn issue_client_certificate(
        &self,
        subject: &ClientSubject,
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, TlsError> {
        check_subject(subject)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = ob_subject(subject)?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate_rsa_for(&PKCS_RSA_SHA256, RsaKeySize::_2048)?;
        self.issue(params, key, now)
    }

    /// A TPP's signing certificate for a key it already holds (PKCS#8 PEM): same Open Banking
    /// subject as its transport certificate, usage digitalSignature only. The directory
    /// publishes it in the software's JWKS (`x5c`).
    pub fn issue_signing_certificate(
        &self,
        subject: &ClientSubject,
        key_pkcs8_pem: &str,
        now: OffsetDateTime,
    ) -> Result<String, TlsError> {
        check_subject(subject)?;
        let key = KeyPair::from_pem(key_pkcs8_pem).map_err(|_| TlsError::InvalidKey)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = ob_subject(subject)?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let issued = self.issue(params, key, now)?;
        Ok(issued.certificate_pem)
    }

    fn issue(
        &self,
        mut params: CertificateParams,
        key: KeyPair,
        now: OffsetDateTime,
    ) -> Result<IssuedCertificate, TlsError> {
        let now = utc_seconds(now);
        params.not_before = now - CLOCK_SKEW;
        params.not_after = add_years(now, 1);
        params.use_authority_key_identifier_extension = true;
        let certificate = params.signed_by(&key, &self.issuer)?;
        Ok(IssuedCertificate {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}

fn check_subject(subject: &ClientSubject) -> Result<(), TlsError> {
    for (name, value) in [
        ("organisation_id", &subject.organisation_id),
        ("organisation_name", &subject.organisation_name),
        ("software_id", &subject.software_id),
    ] {
        if value.trim().is_empty() {
            return Err(TlsError::InvalidInput(format!("{name} must not be empty")));
        }
    }
    Ok(())
}

/// The Open Banking subject: `C=GB, O=<organisation name>, OU=<organisation id>,
/// organizationIdentifier=PSDGB-OB-<organisation id>, CN=<software id>`.
fn ob_subject(subject: &ClientSubject) -> Result<rcgen::DistinguishedName, TlsError> {
    let mut dn = rcgen::DistinguishedName::new();
    // X.520 requires countryName to be a PrintableString.
    let country = "GB"
        .try_into()
        .map_err(|_| TlsError::InvalidInput("country".into()))?;
    dn.push(DnType::CountryName, DnValue::PrintableString(country));
    dn.push(DnType::OrganizationName, subject.organisation_name.as_str());
    dn.push(
        DnType::OrganizationalUnitName,
        subject.organisation_id.as_str(),
    );
    dn.push(
        DnType::CustomDnType(ORGANIZATION_IDENTIFIER.to_vec()),
        format!("PSDGB-OB-{}", subject.organisation_id),
    );
    dn.push(DnType::CommonName, subject.software_id.as_str());
    Ok(dn)
}

/// Who a client (TPP transport) certificate is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientSubject {
    pub organisation_id: String,
    pub organisation_name: String,
    pub software_id: String,
}

/// A certificate and its private key, both PEM. `Debug` does not print the key.
#[derive(Clone)]
pub struct IssuedCertificate {
    /// The certificate (leaf first if it holds a chain), PEM.
    pub certificate_pem: String,
    key_pem: String,
}

impl fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("certificate_pem", &self.certificate_pem)
            .field("key_pem", &"[redacted]")
            .finish()
    }
}

impl IssuedCertificate {
    /// Pairs an existing certificate (chain) and private key, checking that both parse and
    /// that the key belongs to the leaf.
    pub fn from_pem(
        certificate_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Result<Self, TlsError> {
        let issued = Self {
            certificate_pem: certificate_pem.into(),
            key_pem: key_pem.into(),
        };
        let leaf = issued.leaf_der()?;
        let key = key_pair_from_pem(&issued.key_pem)?;
        let (_, parsed) = X509Certificate::from_der(&leaf)
            .map_err(|e| TlsError::InvalidCertificate(e.to_string()))?;
        if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(TlsError::KeyMismatch);
        }
        Ok(issued)
    }

    /// The private key, PEM (PKCS#8).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The certificates in `certificate_pem`, leaf first.
    pub fn certificate_chain(&self) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let chain = CertificateDer::pem_slice_iter(self.certificate_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem {
                what: "certificate",
                detail: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::Pem {
                what: "certificate",
                detail: "no CERTIFICATE block".into(),
            });
        }
        Ok(chain)
    }

    /// The private key, DER.
    pub fn private_key_der(&self) -> Result<PrivateKeyDer<'static>, TlsError> {
        private_key_der(&self.key_pem)
    }

    /// The leaf certificate's notAfter.
    /// `x5t#S256` of the leaf certificate.
    pub fn thumbprint_s256(&self) -> Result<String, TlsError> {
        let chain = self.certificate_chain()?;
        let leaf = chain
            .first()
            .ok_or_else(|| TlsError::InvalidCertificate("no certificate".into()))?;
        Ok(crate::thumbprint_s256(leaf.as_ref()))
    }

    pub fn not_after(&self) -> Result<OffsetDateTime, TlsError> {
        let leaf = self.leaf_der()?;
        let (_, parsed) = X509Certificate::from_der(&leaf)
            .map_err(|e| TlsError::InvalidCertificate(e.to_string()))?;
        Ok(parsed.validity().not_after.to_datetime())
    }

    /// Writes the certificate and key (the key with mode 0600 on unix), replacing existing files.
    pub fn write_to(&self, cert_path: &Path, key_path: &Path) -> Result<(), TlsError> {
        write_file(key_path, self.key_pem.as_bytes(), true, false)?;
        write_file(cert_path, self.certificate_pem.as_bytes(), false, false)
    }

    /// Reads a certificate and key written by [`Self::write_to`] (or any PEM pair).
    pub fn read_from(cert_path: &Path, key_path: &Path) -> Result<Self, TlsError> {
        let certificate_pem =
            fs::read_to_string(cert_path).map_err(TlsError::io("read", cert_path))?;
        let key_pem = fs::read_to_string(key_path).map_err(TlsError::io("read", key_path))?;
        Self::from_pem(certificate_pem, key_pem)
    }

    fn leaf_der(&self) -> Result<CertificateDer<'static>, TlsError> {
        let mut chain = self.certificate_chain()?;
        Ok(chain.swap_remove(0))
    }
}

fn private_key_der(pem: &str) -> Result<PrivateKeyDer<'static>, TlsError> {
    // The decoder's detail is dropped on purpose: it may quote key material.
    PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| TlsError::Pem {
        what: "private key",
        detail: "no decodable private key block".into(),
    })
}

fn key_pair_from_pem(pem: &str) -> Result<KeyPair, TlsError> {
    let der = private_key_der(pem)?;
    KeyPair::try_from(&der).map_err(|_| TlsError::InvalidKey)
}

fn utc_seconds(now: OffsetDateTime) -> OffsetDateTime {
    let now = now.to_offset(UtcOffset::UTC);
    now - Duration::nanoseconds(i64::from(now.nanosecond()))
}

fn add_years(at: OffsetDateTime, years: i32) -> OffsetDateTime {
    // replace_year fails only for 29 February landing in a non-leap year.
    at.replace_year(at.year() + years)
        .unwrap_or_else(|_| at + Duration::days(365 * i64::from(years)))
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(TlsError::io("create", dir))
}

fn write_file(
    path: &Path,
    contents: &[u8],
    private: bool,
    create_new: bool,
) -> Result<(), TlsError> {
    let mut options = OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true).truncate(true);
    }
    #[cfg(unix)]
    if private {
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    }
    let mut file = options.open(path).map_err(TlsError::io("create", path))?;
    // The open mode only applies to new files; tighten a pre-existing one before writing.
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))
            .map_err(TlsError::io("set permissions on", path))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(TlsError::io("write", path))
}
