//! Enrolment: an organisation and its software get their certificates, signing key and SSA in
//! one step, written out as the files a TPP needs. Also reading and revoking them.

use std::io::Write;
use std::path::{Path, PathBuf};

use bascule_jose::{Algorithm, Jwk, Jwks, SigningKey};
use bascule_store::sqlx::{self, Row};
use bascule_tls::{ClientSubject, IssuedCertificate};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::model::{Organisation, Role, Software, Status, base62_id, is_https_uri};
use crate::{Directory, DirectoryError};

#[derive(Debug, Clone, Default)]
pub struct EnrolRequest {
    pub organisation_name: String,
    /// Enrol more software for an organisation that already exists.
    pub organisation_id: Option<String>,
    pub software_name: String,
    pub roles: Vec<Role>,
    pub redirect_uris: Vec<String>,
    pub description: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub policy_uri: Option<String>,
    pub tos_uri: Option<String>,
}

/// Everything enrolment produced. Debug leaves the keys out.
pub struct Enrolment {
    pub organisation: Organisation,
    pub software: Software,
    pub transport: IssuedCertificate,
    pub signing_key: SigningKey,
    pub signing_certificate_pem: String,
    pub software_statement: String,
    pub software_jwks_endpoint: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Enrolment")
            .field("organisation", &self.organisation)
            .field("software", &self.software)
            .field("signing_kid", &self.signing_key.kid())
            .finish_non_exhaustive()
    }
}

/// `tpp.json`: what the files in an enrolment directory are. Paths are relative to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TppManifest {
    pub organisation_id: String,
    pub organisation_name: String,
    pub software_id: String,
    pub software_client_name: String,
    pub roles: Vec<Role>,
    pub redirect_uris: Vec<String>,
    pub transport_certificate: String,
    pub transport_key: String,
    pub signing_key: String,
    pub signing_certificate: String,
    pub signing_kid: String,
    pub signing_algorithm: Algorithm,
    pub software_statement: String,
    pub ca_bundle: String,
    pub directory_url: String,
    pub software_jwks_endpoint: String,
}

/// Writes a file only its owner can read: private keys.
pub(crate) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

impl Enrolment {
    /// Writes the TPP's files into `dir` (keys readable by the owner only) and `tpp.json`.
    pub fn write_to(
        &self,
        dir: &Path,
        ca_pem: &str,
        directory_url: &str,
    ) -> Result<PathBuf, DirectoryError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| DirectoryError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        self.transport
            .write_to(&dir.join("transport.pem"), &dir.join("transport.key"))?;
        write_private(&dir.join("signing.key"), &self.signing_key.to_pkcs8_pem()?)
            .map_err(io(dir))?;
        for (name, contents) in [
            ("signing.pem", self.signing_certificate_pem.as_str()),
            ("ssa.jwt", self.software_statement.as_str()),
            ("ca.pem", ca_pem),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, contents).map_err(io(&path))?;
        }
        let manifest = TppManifest {
            organisation_id: self.organisation.id.clone(),
            organisation_name: self.organisation.name.clone(),
            software_id: self.software.id.clone(),
            software_client_name: self.software.client_name.clone(),
            roles: self.software.roles.clone(),
            redirect_uris: self.software.redirect_uris.clone(),
            transport_certificate: "transport.pem".into(),
            transport_key: "transport.key".into(),
            signing_key: "signing.key".into(),
            signing_certificate: "signing.pem".into(),
            signing_kid: self.signing_key.kid().to_owned(),
            signing_algorithm: self.signing_key.algorithm(),
            software_statement: "ssa.jwt".into(),
            ca_bundle: "ca.pem".into(),
            directory_url: directory_url.to_owned(),
            software_jwks_endpoint: self.software_jwks_endpoint.clone(),
        };
        let path = dir.join("tpp.json");
        let json = serde_json::to_string_pretty(&manifest)
            .map_err(|e| DirectoryError::Invalid(e.to_string()))?;
        std::fs::write(&path, json).map_err(io(&path))?;
        Ok(path)
    }
}

fn status(row: &sqlx::any::AnyRow) -> Result<Status, DirectoryError> {
    let raw: String = row.try_get("status")?;
    Status::parse(&raw).ok_or_else(|| DirectoryError::Invalid(format!("stored status {raw}")))
}

fn optional_text(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl Directory {
    fn random_id(&self, len: usize) -> String {
        base62_id(self.inner.ids.next_uuid().as_u128(), len)
    }

    /// Enrols software (and its organisation, unless it names an existing one).
    pub async fn enrol(&self, request: &EnrolRequest) -> Result<Enrolment, DirectoryError> {
        let software_name = request.software_name.trim();
        if software_name.is_empty() || software_name.chars().count() > 40 {
            return Err(DirectoryError::Invalid(
                "software name must be 1 to 40 characters".into(),
            ));
        }
        if request.roles.is_empty() {
            return Err(DirectoryError::Invalid(
                "at least one role (AISP, PISP, CBPII) is needed".into(),
            ));
        }
        if request.redirect_uris.is_empty()
            || !request.redirect_uris.iter().all(|u| is_https_uri(u))
        {
            return Err(DirectoryError::Invalid(
                "redirect URIs must be absolute https URLs without fragments (at least one)".into(),
            ));
        }
        let organisation = match &request.organisation_id {
            Some(id) => {
                let org = self.organisation(id).await?;
                if org.status != Status::Active {
                    return Err(DirectoryError::Invalid("organisation is revoked".into()));
                }
                org
            }
            None => {
                let name = request.organisation_name.trim();
                if name.is_empty() {
                    return Err(DirectoryError::Invalid(
                        "organisation name is needed".into(),
                    ));
                }
                Organisation {
                    id: self.random_id(18),
                    name: name.to_owned(),
                    status: Status::Active,
                }
            }
        };
        let mut roles = request.roles.clone();
        roles.sort_by_key(|r| r.as_str());
        roles.dedup();
        let software = Software {
            id: self.random_id(22),
            organisation_id: organisation.id.clone(),
            client_name: software_name.to_owned(),
            description: optional_text(request.description.clone()),
            roles,
            redirect_uris: request.redirect_uris.clone(),
            client_uri: optional_text(request.client_uri.clone()),
            logo_uri: optional_text(request.logo_uri.clone()),
            policy_uri: optional_text(request.policy_uri.clone()),
            tos_uri: optional_text(request.tos_uri.clone()),
            status: Status::Active,
        };

        let now = self.inner.clock.now();
        let subject = ClientSubject {
            organisation_id: organisation.id.clone(),
            organisation_name: organisation.name.clone(),
            software_id: software.id.clone(),
        };
        let transport = self.inner.ca.issue_client_certificate(&subject, now)?;
        let signing_key = SigningKey::generate(Algorithm::PS256)?;
        let signing_certificate_pem =
            self.inner
                .ca
                .issue_signing_certificate(&subject, &signing_key.to_pkcs8_pem()?, now)?;
        let signing = IssuedCertificate::from_pem(
            signing_certificate_pem.clone(),
            signing_key.to_pkcs8_pem()?,
        )?;
        let signing_der = signing
            .certificate_chain()?
            .into_iter()
            .next()
            .ok_or_else(|| DirectoryError::Invalid("signing certificate missing".into()))?;
        let mut jwk: Jwk = signing_key.public_jwk();
        // RFC 7517 §4.7: x5c holds standard (not URL-safe) base64 DER.
        jwk.x5c = Some(vec![STANDARD.encode(signing_der.as_ref())]);
        jwk.x5t_s256 = Some(bascule_tls::thumbprint_s256(signing_der.as_ref()));
        let jwk_json =
            serde_json::to_string(&jwk).map_err(|e| DirectoryError::Invalid(e.to_string()))?;

        let at = now.unix_timestamp();
        let mut tx = self.inner.store.begin().await?;
        if request.organisation_id.is_none() {
            sqlx::query(
                "INSERT INTO directory_organisations (id, name, status, created_at) VALUES ($1, $2, 'Active', $3)",
            )
            .bind(&organisation.id)
            .bind(&organisation.name)
            .bind(at)
            .execute(tx.conn())
            .await?;
        }
        sqlx::query(
            "INSERT INTO directory_software (id, organisation_id, client_name, description, roles, \
             redirect_uris, client_uri, logo_uri, policy_uri, tos_uri, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'Active', $11)",
        )
        .bind(&software.id)
        .bind(&software.organisation_id)
        .bind(&software.client_name)
        .bind(software.description.as_deref())
        .bind(
            software
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
        )
        .bind(software.redirect_uris.join("\n"))
        .bind(software.client_uri.as_deref())
        .bind(software.logo_uri.as_deref())
        .bind(software.policy_uri.as_deref())
        .bind(software.tos_uri.as_deref())
        .bind(at)
        .execute(tx.conn())
        .await?;
        for (thumbprint, purpose, kid, pem, jwk, not_after) in [
            (
                transport.thumbprint_s256()?,
                "transport",
                None,
                transport.certificate_pem.clone(),
                None,
                transport.not_after()?,
            ),
            (
                signing.thumbprint_s256()?,
                "signing",
                Some(signing_key.kid().to_owned()),
                signing_certificate_pem.clone(),
                Some(jwk_json.clone()),
                signing.not_after()?,
            ),
        ] {
            sqlx::query(
                "INSERT INTO directory_certificates (thumbprint, software_id, purpose, kid, \
                 certificate_pem, public_jwk, not_after, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'Active', $8)",
            )
            .bind(thumbprint)
            .bind(&software.id)
            .bind(purpose)
            .bind(kid)
            .bind(pem)
            .bind(jwk)
            .bind(not_after.unix_timestamp())
            .bind(at)
            .execute(tx.conn())
            .await?;
        }
        tx.commit().await?;

        let software_statement = self.issue_ssa(&software.id).await?;
        tracing::info!(organisation = %organisation.id, software = %software.id, "software enrolled");
        Ok(Enrolment {
            software_jwks_endpoint: self.jwks_endpoint(&organisation.id, &software.id),
            organisation,
            software,
            transport,
            signing_key,
            signing_certificate_pem,
            software_statement,
        })
    }

    pub async fn organisation(&self, id: &str) -> Result<Organisation, DirectoryError> {
        let row = sqlx::query("SELECT id, name, status FROM directory_organisations WHERE id = $1")
            .bind(id)
            .fetch_optional(self.inner.store.pool())
            .await?
            .ok_or(DirectoryError::NotFound("organisation"))?;
        Ok(Organisation {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            status: status(&row)?,
        })
    }

    pub async fn software(&self, id: &str) -> Result<Software, DirectoryError> {
        let row = sqlx::query("SELECT * FROM directory_software WHERE id = $1")
            .bind(id)
            .fetch_optional(self.inner.store.pool())
            .await?
            .ok_or(DirectoryError::NotFound("software"))?;
        let roles: String = row.try_get("roles")?;
        let uris: String = row.try_get("redirect_uris")?;
        Ok(Software {
            id: row.try_get("id")?,
            organisation_id: row.try_get("organisation_id")?,
            client_name: row.try_get("client_name")?,
            description: row.try_get("description")?,
            roles: roles.split(',').filter_map(Role::parse).collect(),
            redirect_uris: uris.lines().map(str::to_owned).collect(),
            client_uri: row.try_get("client_uri")?,
            logo_uri: row.try_get("logo_uri")?,
            policy_uri: row.try_get("policy_uri")?,
            tos_uri: row.try_get("tos_uri")?,
            status: status(&row)?,
        })
    }

    /// Whether the software and its organisation are both active.
    pub async fn is_active(&self, software_id: &str) -> Result<bool, DirectoryError> {
        let software = match self.software(software_id).await {
            Ok(s) => s,
            Err(DirectoryError::NotFound(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        let organisation = self.organisation(&software.organisation_id).await?;
        Ok(software.status == Status::Active && organisation.status == Status::Active)
    }

    /// Revokes software: its SSA is no longer approved and its certificates fail every later
    /// handshake. Returns how many certificates were revoked.
    pub async fn revoke_software(&self, id: &str) -> Result<u64, DirectoryError> {
        let at = self.inner.clock.now().unix_timestamp();
        let mut tx = self.inner.store.begin().await?;
        let revoke =
            "UPDATE directory_software SET status = 'Revoked', revoked_at = $1 WHERE id = $2";
        if revoke_rows(&mut tx, revoke, at, id).await? == 0 {
            return Err(DirectoryError::NotFound("software"));
        }
        let certs = revoke_rows(
            &mut tx,
            "UPDATE directory_certificates SET status = 'Revoked', revoked_at = $1 \
             WHERE software_id = $2 AND status = 'Active'",
            at,
            id,
        )
        .await?;
        tx.commit().await?;
        self.refresh_revocations().await?;
        tracing::warn!(software = %id, certificates = certs, "software revoked");
        Ok(certs)
    }

    /// Revokes an organisation and everything it holds.
    pub async fn revoke_organisation(&self, id: &str) -> Result<u64, DirectoryError> {
        let at = self.inner.clock.now().unix_timestamp();
        let mut tx = self.inner.store.begin().await?;
        let revoke =
            "UPDATE directory_organisations SET status = 'Revoked', revoked_at = $1 WHERE id = $2";
        if revoke_rows(&mut tx, revoke, at, id).await? == 0 {
            return Err(DirectoryError::NotFound("organisation"));
        }
        revoke_rows(
            &mut tx,
            "UPDATE directory_software SET status = 'Revoked', revoked_at = $1 \
             WHERE organisation_id = $2 AND status = 'Active'",
            at,
            id,
        )
        .await?;
        let certs = revoke_rows(
            &mut tx,
            "UPDATE directory_certificates SET status = 'Revoked', revoked_at = $1 \
             WHERE status = 'Active' AND software_id IN \
               (SELECT id FROM directory_software WHERE organisation_id = $2)",
            at,
            id,
        )
        .await?;
        tx.commit().await?;
        self.refresh_revocations().await?;
        tracing::warn!(organisation = %id, certificates = certs, "organisation revoked");
        Ok(certs)
    }

    /// The signing keys of software (`revoked` picks the revoked ones), with their certificates.
    pub async fn software_jwks(
        &self,
        organisation_id: &str,
        software_id: Option<&str>,
        revoked: bool,
    ) -> Result<Jwks, DirectoryError> {
        let rows = sqlx::query(
            "SELECT c.public_jwk FROM directory_certificates c \
             JOIN directory_software s ON s.id = c.software_id \
             WHERE s.organisation_id = $1 AND ($2 = '' OR s.id = $2) AND c.purpose = 'signing' \
               AND c.status = $3 ORDER BY c.created_at, c.thumbprint",
        )
        .bind(organisation_id)
        .bind(software_id.unwrap_or(""))
        .bind(if revoked { "Revoked" } else { "Active" })
        .fetch_all(self.inner.store.pool())
        .await?;
        let mut keys = Vec::with_capacity(rows.len());
        for row in rows {
            let jwk: Option<String> = row.try_get("public_jwk")?;
            if let Some(jwk) = jwk {
                keys.push(
                    serde_json::from_str(&jwk)
                        .map_err(|e| DirectoryError::Invalid(e.to_string()))?,
                );
            }
        }
        Ok(Jwks { keys })
    }

    /// The directory's record of a certificate it issued: (software id, status).
    pub async fn certificate(
        &self,
        thumbprint: &str,
    ) -> Result<Option<(String, Status)>, DirectoryError> {
        let row = sqlx::query(
            "SELECT software_id, status FROM directory_certificates WHERE thumbprint = $1",
        )
        .bind(thumbprint)
        .fetch_optional(self.inner.store.pool())
        .await?;
        match row {
            Some(row) => Ok(Some((row.try_get("software_id")?, status(&row)?))),
            None => Ok(None),
        }
    }
}

/// Runs one revocation `UPDATE` (`$1` the time, `$2` the id) in `tx`: how many rows it revoked.
async fn revoke_rows(
    tx: &mut bascule_store::WriteTx,
    sql: &'static str,
    at: i64,
    id: &str,
) -> Result<u64, DirectoryError> {
    Ok(sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected())
}
