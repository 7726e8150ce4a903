//! Loading a TPP's enrolment directory (what `bascule directory enrol --out DIR` writes).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bascule_jose::{Algorithm, SigningKey};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TppError;

/// The manifest file inside an enrolment directory.
pub const MANIFEST_FILE: &str = "tpp.json";

/// An Open Banking role, as in the SSA's `software_roles`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Account information.
    #[serde(rename = "AISP")]
    Aisp,
    /// Payment initiation.
    #[serde(rename = "PISP")]
    Pisp,
    /// Card-based payment instrument issuer (confirmation of funds).
    #[serde(rename = "CBPII")]
    Cbpii,
}

impl Role {
    /// The OAuth scope this role grants: `accounts`, `payments` or `fundsconfirmations`.
    pub fn scope(self) -> &'static str {
        match self {
            Role::Aisp => "accounts",
            Role::Pisp => "payments",
            Role::Cbpii => "fundsconfirmations",
        }
    }
}

/// `DIR/tpp.json` as written by `bascule directory enrol --out DIR`. File names are relative to
/// `DIR` (absolute paths are accepted too); every file is PEM except the software statement,
/// which is the compact JWT. Unknown fields are ignored so the writer can add more.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TppManifest {
    pub organisation_id: String,
    pub organisation_name: String,
    pub software_id: String,
    pub software_client_name: String,
    pub roles: Vec<Role>,
    pub redirect_uris: Vec<String>,
    /// Transport (mTLS) certificate, PEM, leaf first (a chain may follow).
    pub transport_certificate: String,
    /// Transport private key, PEM (PKCS#8 `BEGIN PRIVATE KEY`).
    pub transport_key: String,
    /// Signing private key, PEM (PKCS#8 `BEGIN PRIVATE KEY`).
    pub signing_key: String,
    /// Signing certificate, PEM.
    pub signing_certificate: String,
    /// `kid` of the signing key, as published at `software_jwks_endpoint`.
    pub signing_kid: String,
    /// `PS256` or `ES256`.
    pub signing_algorithm: String,
    /// Software statement assertion (compact JWT).
    pub software_statement: String,
    /// The CA certificates to trust for servers (bank and directory), PEM.
    pub ca_bundle: String,
    pub directory_url: String,
    pub software_jwks_endpoint: String,
}

/// A TPP's identity and credentials, loaded from an enrolment directory. `Debug` prints no
/// private key.
pub struct TppFiles {
    dir: PathBuf,
    manifest: TppManifest,
    transport_certificate_pem: String,
    transport_key_pem: String,
    transport_subject_dn: String,
    signing_key: Arc<SigningKey>,
    signing_certificate_pem: String,
    software_statement: String,
    ca_bundle_pem: String,
}

impl fmt::Debug for TppFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TppFiles")
            .field("dir", &self.dir)
            .field("manifest", &self.manifest)
            .field("transport_subject_dn", &self.transport_subject_dn)
            .field("transport_certificate_pem", &self.transport_certificate_pem)
            .field("transport_key_pem", &"[redacted]")
            .field("signing_key", &"[redacted]")
            .field("signing_certificate_pem", &self.signing_certificate_pem)
            .field("software_statement", &self.software_statement)
            .field("ca_bundle_pem", &self.ca_bundle_pem)
            .finish()
    }
}

impl TppFiles {
    /// Loads and checks `dir/tpp.json` and every file it names: the certificates and keys must
    /// parse, the CA bundle must hold at least one certificate, the signing algorithm must be
    /// PS256 or ES256 and match the key, and the software statement must be a JWT.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, TppError> {
        let dir = dir.as_ref().to_path_buf();
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest_text = read(&manifest_path)?;
        let manifest: TppManifest =
            serde_json::from_str(&manifest_text).map_err(|source| TppError::Manifest {
                path: manifest_path.clone(),
                source,
            })?;
        let invalid = |path: &Path, reason: String| TppError::InvalidFile {
            path: path.to_path_buf(),
            reason,
        };

        if manifest.roles.is_empty() {
            return Err(invalid(&manifest_path, "roles must not be empty".into()));
        }
        if manifest.signing_kid.trim().is_empty() {
            return Err(invalid(
                &manifest_path,
                "signing_kid must not be empty".into(),
            ));
        }
        if manifest.redirect_uris.is_empty() {
            return Err(invalid(
                &manifest_path,
                "redirect_uris must not be empty".into(),
            ));
        }

        let transport_path = dir.join(&manifest.transport_certificate);
        let transport_certificate_pem = read(&transport_path)?;
        let transport_chain = certificates(&transport_certificate_pem)
            .map_err(|reason| invalid(&transport_path, reason))?;
        let Some(leaf) = transport_chain.first() else {
            return Err(invalid(
                &transport_path,
                "no certificate in the file".into(),
            ));
        };
        let (_, parsed) =
            X509Certificate::from_der(leaf).map_err(|e| invalid(&transport_path, e.to_string()))?;
        let transport_subject_dn = bascule_dn::rfc4514(parsed.subject());

        let transport_key_path = dir.join(&manifest.transport_key);
        let transport_key_pem = read(&transport_key_path)?;
        PrivateKeyDer::from_pem_slice(transport_key_pem.as_bytes())
            .map_err(|e| invalid(&transport_key_path, format!("no private key: {e}")))?;

        let algorithm_error = || {
            invalid(
                &manifest_path,
                format!(
                    "unsupported signing_algorithm {:?} (PS256 or ES256)",
                    manifest.signing_algorithm
                ),
            )
        };
        let algorithm =
            Algorithm::parse(&manifest.signing_algorithm).map_err(|_| algorithm_error())?;
        let signing_key_path = dir.join(&manifest.signing_key);
        let signing_key_pem = read(&signing_key_path)?;
        let signing_key = SigningKey::from_pkcs8_pem(&signing_key_pem, algorithm)
            .map_err(|e| invalid(&signing_key_path, e.to_string()))?
            .with_kid(manifest.signing_kid.clone());

        let signing_certificate_path = dir.join(&manifest.signing_certificate);
        let signing_certificate_pem = read(&signing_certificate_path)?;
        if certificates(&signing_certificate_pem)
            .map_err(|reason| invalid(&signing_certificate_path, reason))?
            .is_empty()
        {
            return Err(invalid(
                &signing_certificate_path,
                "no certificate in the file".into(),
            ));
        }

        let ssa_path = dir.join(&manifest.software_statement);
        let software_statement = read(&ssa_path)?.trim().to_owned();
        bascule_jose::decode_unverified(&software_statement)
            .map_err(|e| invalid(&ssa_path, format!("not a JWT: {e}")))?;

        let ca_path = dir.join(&manifest.ca_bundle);
        let ca_bundle_pem = read(&ca_path)?;
        if certificates(&ca_bundle_pem)
            .map_err(|reason| invalid(&ca_path, reason))?
            .is_empty()
        {
            return Err(invalid(&ca_path, "no certificate in the file".into()));
        }

        Ok(Self {
            dir,
            manifest,
            transport_certificate_pem,
            transport_key_pem,
            transport_subject_dn,
            signing_key: Arc::new(signing_key),
            signing_certificate_pem,
            software_statement,
            ca_bundle_pem,
        })
    }

    /// The directory this was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The parsed `tpp.json`.
    pub fn manifest(&self) -> &TppManifest {
        &self.manifest
    }

    pub fn organisation_id(&self) -> &str {
        &self.manifest.organisation_id
    }

    pub fn organisation_name(&self) -> &str {
        &self.manifest.organisation_name
    }

    pub fn software_id(&self) -> &str {
        &self.manifest.software_id
    }

    pub fn software_client_name(&self) -> &str {
        &self.manifest.software_client_name
    }

    pub fn roles(&self) -> &[Role] {
        &self.manifest.roles
    }

    pub fn redirect_uris(&self) -> &[String] {
        &self.manifest.redirect_uris
    }

    pub fn directory_url(&self) -> &str {
        &self.manifest.directory_url
    }

    pub fn software_jwks_endpoint(&self) -> &str {
        &self.manifest.software_jwks_endpoint
    }

    /// The transport certificate (chain), PEM.
    pub fn transport_certificate_pem(&self) -> &str {
        &self.transport_certificate_pem
    }

    /// The transport certificate's subject as an RFC 4514 string, most-specific RDN first,
    /// e.g. `CN=<software id>,2.5.4.97=PSDGB-OB-<org id>,OU=<org id>,O=<org name>,C=GB`
    /// (organizationIdentifier has no RFC 4514 short name, so it is written as its OID). This
    /// is what [`RegistrationRequest::from_files`](crate::RegistrationRequest::from_files)
    /// sends as `tls_client_auth_subject_dn`.
    pub fn transport_subject_dn(&self) -> &str {
        &self.transport_subject_dn
    }

    /// The request-signing key, with the `kid` from `tpp.json`.
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    pub(crate) fn signing_key_arc(&self) -> Arc<SigningKey> {
        Arc::clone(&self.signing_key)
    }

    /// The signing certificate, PEM.
    pub fn signing_certificate_pem(&self) -> &str {
        &self.signing_certificate_pem
    }

    /// The software statement assertion (compact JWT, whitespace trimmed).
    pub fn software_statement(&self) -> &str {
        &self.software_statement
    }

    /// The CA bundle trusted for servers, PEM.
    pub fn ca_bundle_pem(&self) -> &str {
        &self.ca_bundle_pem
    }

    /// Certificate chain then key, the form `reqwest::Identity::from_pem` takes.
    pub(crate) fn transport_identity_pem(&self) -> String {
        let mut pem = self.transport_certificate_pem.clone();
        if !pem.ends_with('\n') {
            pem.push('\n');
        }
        pem.push_str(&self.transport_key_pem);
        pem
    }
}

fn read(path: &Path) -> Result<String, TppError> {
    std::fs::read_to_string(path).map_err(|source| TppError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Every certificate in a PEM text (other sections are skipped).
pub(crate) fn certificates(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("invalid PEM: {e}"))
}
